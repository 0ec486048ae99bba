// FastSaxParse: a strict JSON scanner that drives an nlohmann-style SAX
// handler, as a shortcut in front of nlohmann's own parser (issue 16: the
// nlohmann lexer, which handles every character through get() and keeps a
// copy of each token's text for error messages, was ~7% of hpad's CPU
// under the PodMetricsList decoder at 15,000 HPAs).
//
// Contract (the reason this is safe to put in front of every decoder):
// FastSaxParse returns true only for a text that nlohmann::json::sax_parse
// (strict, no comments) accepts, after delivering exactly the callbacks
// sax_parse would deliver, in the same order and with the same values. For
// anything else it returns false at the first doubt, having delivered some
// prefix of callbacks; the caller then discards the handler's state and
// runs nlohmann's parser, which gives the error text and byte offset users
// see. It gives up on (never guesses at):
//  - any syntax error, and text after the value (nlohmann treats a NUL byte
//    there as end of input; that case goes to nlohmann too);
//  - numbers with a fraction or an exponent, and integers of more than 18
//    digits (nlohmann's strtod/strtoull path decides those);
//  - a UTF-8 byte order mark before the value (nlohmann skips it);
//  - nesting deeper than kFastSaxMaxDepth, the callers' limit
//    (kMaxJsonDepth): so a text it accepts needs no nesting pre-scan, and
//    callers run JsonNestingExceeds only once it gave up;
//  - a callback returning false, so sax_parse reports that outcome itself.
// It does decode what real API servers send: escapes including \uXXXX and
// surrogate pairs (Go escapes <, > and & as \u003c...), and UTF-8 checked
// with the same byte ranges as nlohmann's lexer. A differential unit test
// and a libFuzzer harness (json_fast_sax_fuzz) hold it to the contract.
//
// Header-only and pure: no allocation beyond the handler's and one token
// buffer, no I/O, thread-compatible (each call is independent).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace hpad::k8s {

// Equal to kMaxJsonDepth (json_parse.h, which checks that).
inline constexpr size_t kFastSaxMaxDepth = 256;

namespace fast_sax_detail {

// Byte classes inside a string: 0 = copy as is, 1 = ends the plain run
// ('"', '\\', control characters, bytes >= 0x80 that need UTF-8 checks).
struct StringClass {
  bool special[256] = {};
  constexpr StringClass() {
    for (int c = 0; c < 0x20; c++) special[c] = true;
    special[static_cast<unsigned char>('"')] = true;
    special[static_cast<unsigned char>('\\')] = true;
    for (int c = 0x80; c < 0x100; c++) special[c] = true;
  }
};
inline constexpr StringClass kStringClass{};

inline bool IsSpace(char c) { return c == ' ' || c == '\n' || c == '\r' || c == '\t'; }

inline int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Four hex digits at p (p + 4 <= end checked by the caller); -1 if not hex.
inline int Hex4(const char* p) {
  int v = 0;
  for (int i = 0; i < 4; i++) {
    int d = HexDigit(p[i]);
    if (d < 0) return -1;
    v = v * 16 + d;
  }
  return v;
}

inline bool InRange(const char* p, const char* end, unsigned char lo, unsigned char hi) {
  if (p >= end) return false;
  auto c = static_cast<unsigned char>(*p);
  return c >= lo && c <= hi;
}

// One well-formed UTF-8 sequence starting at *p (a byte >= 0x80), with
// nlohmann's lexer's ranges (RFC 3629: no overlongs, no surrogates, nothing
// above U+10FFFF). Advances *p past it; false if ill-formed.
inline bool SkipUtf8(const char** pp, const char* end) {
  const char* p = *pp;
  auto c = static_cast<unsigned char>(*p++);
  bool ok;
  if (c >= 0xC2 && c <= 0xDF) {
    ok = InRange(p, end, 0x80, 0xBF);
    p += 1;
  } else if (c == 0xE0) {
    ok = InRange(p, end, 0xA0, 0xBF) && InRange(p + 1, end, 0x80, 0xBF);
    p += 2;
  } else if ((c >= 0xE1 && c <= 0xEC) || c == 0xEE || c == 0xEF) {
    ok = InRange(p, end, 0x80, 0xBF) && InRange(p + 1, end, 0x80, 0xBF);
    p += 2;
  } else if (c == 0xED) {
    ok = InRange(p, end, 0x80, 0x9F) && InRange(p + 1, end, 0x80, 0xBF);
    p += 2;
  } else if (c == 0xF0) {
    ok = InRange(p, end, 0x90, 0xBF) && InRange(p + 1, end, 0x80, 0xBF) && InRange(p + 2, end, 0x80, 0xBF);
    p += 3;
  } else if (c >= 0xF1 && c <= 0xF3) {
    ok = InRange(p, end, 0x80, 0xBF) && InRange(p + 1, end, 0x80, 0xBF) && InRange(p + 2, end, 0x80, 0xBF);
    p += 3;
  } else if (c == 0xF4) {
    ok = InRange(p, end, 0x80, 0x8F) && InRange(p + 1, end, 0x80, 0xBF) && InRange(p + 2, end, 0x80, 0xBF);
    p += 3;
  } else {
    return false;
  }
  if (!ok) return false;
  *pp = p;
  return true;
}

inline void AppendUtf8(std::string* out, uint32_t cp) {
  if (cp < 0x80) {
    out->push_back(static_cast<char>(cp));
  } else if (cp <= 0x7FF) {
    out->push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp <= 0xFFFF) {
    out->push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out->push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

// The string whose opening quote is at *pp, decoded into *out; *pp ends
// past the closing quote. False on anything nlohmann's lexer rejects.
inline bool ScanString(const char** pp, const char* end, std::string* out) {
  const char* p = *pp + 1;
  out->clear();
  while (true) {
    const char* run = p;
    while (p < end && !kStringClass.special[static_cast<unsigned char>(*p)]) ++p;
    if (p >= end) return false;  // no closing quote
    const auto c = static_cast<unsigned char>(*p);
    if (c == '"') {
      out->append(run, static_cast<size_t>(p - run));
      *pp = p + 1;
      return true;
    }
    if (c >= 0x80) {
      if (!SkipUtf8(&p, end)) return false;
      out->append(run, static_cast<size_t>(p - run));
      continue;
    }
    if (c != '\\') return false;  // a control character
    out->append(run, static_cast<size_t>(p - run));
    if (++p >= end) return false;
    switch (*p++) {
      case '"': out->push_back('"'); break;
      case '\\': out->push_back('\\'); break;
      case '/': out->push_back('/'); break;
      case 'b': out->push_back('\b'); break;
      case 'f': out->push_back('\f'); break;
      case 'n': out->push_back('\n'); break;
      case 'r': out->push_back('\r'); break;
      case 't': out->push_back('\t'); break;
      case 'u': {
        if (end - p < 4) return false;
        const int cp1 = Hex4(p);
        if (cp1 < 0) return false;
        p += 4;
        uint32_t cp = static_cast<uint32_t>(cp1);
        if (cp1 >= 0xD800 && cp1 <= 0xDBFF) {
          if (end - p < 6 || p[0] != '\\' || p[1] != 'u') return false;
          const int cp2 = Hex4(p + 2);
          if (cp2 < 0xDC00 || cp2 > 0xDFFF) return false;
          p += 6;
          cp = (static_cast<uint32_t>(cp1) << 10) + static_cast<uint32_t>(cp2) - 0x35FDC00u;
        } else if (cp1 >= 0xDC00 && cp1 <= 0xDFFF) {
          return false;  // a lone low surrogate
        }
        AppendUtf8(out, cp);
        break;
      }
      default:
        return false;
    }
  }
}

enum class Number { kUnsigned, kInteger, kGiveUp };

// An integer at *pp in JSON's grammar with at most 18 digits (exact in
// both int64 and uint64, as nlohmann's strtoull/strtoll would read it).
// A fraction, exponent, leading zero before a digit, or more digits gives up.
inline Number ScanInteger(const char** pp, const char* end, uint64_t* magnitude) {
  const char* p = *pp;
  const bool negative = *p == '-';
  if (negative) ++p;
  const char* digits = p;
  uint64_t v = 0;
  while (p < end && *p >= '0' && *p <= '9') {
    if (p - digits == 18) return Number::kGiveUp;
    v = v * 10 + static_cast<uint64_t>(*p - '0');
    ++p;
  }
  if (p == digits) return Number::kGiveUp;                  // "-" alone or "-x"
  if (*digits == '0' && p - digits > 1) return Number::kGiveUp;  // "01": nlohmann's error
  if (p < end && (*p == '.' || *p == 'e' || *p == 'E')) return Number::kGiveUp;
  *pp = p;
  *magnitude = v;
  return negative ? Number::kInteger : Number::kUnsigned;
}

}  // namespace fast_sax_detail

// See the file comment. `Sax` has nlohmann's SAX member functions
// (null, boolean, number_integer, number_unsigned, string, start_object,
// key, end_object, start_array, end_array; number_float, binary and
// parse_error are never called).
template <typename Sax>
bool FastSaxParse(std::string_view text, Sax* sax) {
  const char* p = text.data();
  const char* const end = p + text.size();
  bool in_object[kFastSaxMaxDepth];  // the open containers, innermost last
  size_t depth = 0;
  std::string token;
  constexpr auto kUnknownSize = static_cast<size_t>(-1);  // what nlohmann passes to start_*
  auto skip_space = [&] {
    while (p < end && fast_sax_detail::IsSpace(*p)) ++p;
  };
  // A member name and its ':' (spaces allowed around both).
  auto read_key = [&] {
    skip_space();
    if (p >= end || *p != '"' || !fast_sax_detail::ScanString(&p, end, &token) || !sax->key(token)) return false;
    skip_space();
    if (p >= end || *p != ':') return false;
    ++p;
    return true;
  };

  // Each turn reads one value; `continue` reads the next one at once (a
  // container was opened), `break` goes on to close what the value ends.
  while (true) {
    skip_space();
    if (p >= end) return false;
    switch (*p) {
      case '{':
      case '[': {
        // Past the depth limit even when empty: a text this returns true
        // for is within the callers' limit (see kFastSaxMaxDepth).
        if (depth == kFastSaxMaxDepth) return false;
        const bool object = *p++ == '{';
        if (!(object ? sax->start_object(kUnknownSize) : sax->start_array(kUnknownSize))) return false;
        skip_space();
        if (p < end && *p == (object ? '}' : ']')) {  // empty: complete at once
          ++p;
          if (!(object ? sax->end_object() : sax->end_array())) return false;
          break;
        }
        in_object[depth++] = object;
        if (object && !read_key()) return false;
        continue;
      }
      case '"':
        if (!fast_sax_detail::ScanString(&p, end, &token) || !sax->string(token)) return false;
        break;
      case 't':
        if (end - p < 4 || std::string_view(p, 4) != "true" || !sax->boolean(true)) return false;
        p += 4;
        break;
      case 'f':
        if (end - p < 5 || std::string_view(p, 5) != "false" || !sax->boolean(false)) return false;
        p += 5;
        break;
      case 'n':
        if (end - p < 4 || std::string_view(p, 4) != "null" || !sax->null()) return false;
        p += 4;
        break;
      default: {
        if (*p != '-' && (*p < '0' || *p > '9')) return false;
        uint64_t magnitude = 0;
        switch (fast_sax_detail::ScanInteger(&p, end, &magnitude)) {
          case fast_sax_detail::Number::kUnsigned:
            if (!sax->number_unsigned(magnitude)) return false;
            break;
          case fast_sax_detail::Number::kInteger:
            if (!sax->number_integer(-static_cast<int64_t>(magnitude))) return false;
            break;
          case fast_sax_detail::Number::kGiveUp:
            return false;
        }
        break;
      }
    }
    // A value is complete: close containers until one continues.
    while (true) {
      skip_space();
      if (depth == 0) return p == end;
      if (p >= end) return false;
      if (*p == ',') {
        ++p;
        if (in_object[depth - 1] && !read_key()) return false;
        break;  // the next value
      }
      if (in_object[depth - 1] ? *p != '}' : *p != ']') return false;
      ++p;
      --depth;
      if (!(in_object[depth] ? sax->end_object() : sax->end_array())) return false;
    }
  }
}

}  // namespace hpad::k8s
