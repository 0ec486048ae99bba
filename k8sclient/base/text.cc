// Safe foreign text and percent-encoding (see text.h).
#include "k8sclient/base/text.h"

#include <cstdint>

#include "k8sclient/base/klog.h"

namespace hpad::k8s {
namespace {

constexpr std::string_view kReplacement = "\xEF\xBF\xBD";  // U+FFFD
constexpr std::string_view kCutMarker = "...";

// Decodes one well-formed UTF-8 sequence at text[pos]; returns its length
// (1..4) and sets *cp, or 0 when the bytes there are not well-formed
// (RFC 3629 table: no overlongs, no surrogates, nothing above U+10FFFF).
size_t DecodeOne(std::string_view text, size_t pos, uint32_t* cp) {
  auto byte = [&](size_t i) { return static_cast<unsigned char>(text[i]); };
  unsigned char b0 = byte(pos);
  if (b0 < 0x80) {
    *cp = b0;
    return 1;
  }
  size_t len = 0;
  uint32_t value = 0;
  unsigned char lo = 0x80, hi = 0xBF;  // bounds of the second byte
  if (b0 >= 0xC2 && b0 <= 0xDF) {
    len = 2;
    value = b0 & 0x1F;
  } else if (b0 >= 0xE0 && b0 <= 0xEF) {
    len = 3;
    value = b0 & 0x0F;
    if (b0 == 0xE0) lo = 0xA0;  // overlong
    if (b0 == 0xED) hi = 0x9F;  // surrogates
  } else if (b0 >= 0xF0 && b0 <= 0xF4) {
    len = 4;
    value = b0 & 0x07;
    if (b0 == 0xF0) lo = 0x90;  // overlong
    if (b0 == 0xF4) hi = 0x8F;  // above U+10FFFF
  } else {
    return 0;
  }
  if (text.size() - pos < len) return 0;
  for (size_t i = 1; i < len; ++i) {
    unsigned char b = byte(pos + i);
    unsigned char min = i == 1 ? lo : 0x80, max = i == 1 ? hi : 0xBF;
    if (b < min || b > max) return 0;
    value = (value << 6) | (b & 0x3F);
  }
  *cp = value;
  return len;
}

bool IsDroppedControl(uint32_t cp) { return cp < 0x20 || cp == 0x7F || (cp >= 0x80 && cp <= 0x9F); }

bool IsUnreserved(unsigned char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
         c == '_' || c == '~';
}

std::string PercentEncode(std::string_view in) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(in.size());
  for (char ch : in) {
    auto c = static_cast<unsigned char>(ch);
    if (IsUnreserved(c)) {
      out.push_back(ch);
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 0xF]);
    }
  }
  return out;
}

// Terminal escape sequences are dropped whole, not just their ESC / C1
// introducer: "\x1b[2J" would otherwise leave "[2J" behind, and an OSC
// "\x1b]8;;http://evil\x07" its payload (a hyperlink) in a log line.
// Returns how many bytes from `pos` (where ESC, or the UTF-8 form of C1 CSI
// U+009B / a C1 string introducer, starts) belong to the sequence (ECMA-48:
// CSI parameters 0x30-0x3F, intermediates 0x20-0x2F, final 0x40-0x7E;
// OSC/DCS/SOS/PM/APC strings end at BEL or ST, or run to the end of the
// text when unterminated, as a terminal would swallow them).
size_t EscapeSequenceLength(std::string_view text, size_t pos, size_t introducer_len, uint32_t introducer) {
  auto byte = [&](size_t i) { return static_cast<unsigned char>(text[i]); };
  size_t i = pos + introducer_len;
  enum class Kind { kCsi, kString, kEscape } kind = Kind::kEscape;
  if (introducer == 0x9B) {
    kind = Kind::kCsi;
  } else if (introducer == 0x90 || introducer == 0x98 || introducer == 0x9D || introducer == 0x9E ||
             introducer == 0x9F) {
    kind = Kind::kString;
  } else if (i < text.size()) {  // ESC: the next byte says which kind
    unsigned char c = byte(i);
    if (c == '[') {
      kind = Kind::kCsi;
      ++i;
    } else if (c == ']' || c == 'P' || c == 'X' || c == '^' || c == '_') {
      kind = Kind::kString;
      ++i;
    }
  }
  switch (kind) {
    case Kind::kCsi:
      while (i < text.size() && byte(i) >= 0x30 && byte(i) <= 0x3F) ++i;
      while (i < text.size() && byte(i) >= 0x20 && byte(i) <= 0x2F) ++i;
      if (i < text.size() && byte(i) >= 0x40 && byte(i) <= 0x7E) ++i;
      return i - pos;
    case Kind::kString:
      while (i < text.size()) {
        unsigned char c = byte(i);
        if (c == 0x07) return i + 1 - pos;                                         // BEL
        if (c == 0x1B && i + 1 < text.size() && byte(i + 1) == '\\') return i + 2 - pos;  // ESC '\'
        if (c == 0xC2 && i + 1 < text.size() && byte(i + 1) == 0x9C) return i + 2 - pos;  // C1 ST
        ++i;
      }
      return i - pos;
    case Kind::kEscape:
      while (i < text.size() && byte(i) >= 0x20 && byte(i) <= 0x2F) ++i;
      if (i < text.size() && byte(i) >= 0x30 && byte(i) <= 0x7E) ++i;
      return i - pos;
  }
  return introducer_len;
}

bool StartsEscapeSequence(uint32_t cp) {
  return cp == 0x1B || cp == 0x9B || cp == 0x90 || cp == 0x98 || cp == 0x9D || cp == 0x9E || cp == 0x9F;
}

// Removes the last code point of a valid UTF-8 string.
void PopCodePoint(std::string* s) {
  while (!s->empty() && (static_cast<unsigned char>(s->back()) & 0xC0) == 0x80) s->pop_back();
  if (!s->empty()) s->pop_back();
}

}  // namespace

std::string SafeText(std::string_view text, size_t max_bytes) {
  // Redaction scans the whole input; a body of megabytes is first cut well
  // past what can be kept (a secret cut here is still redacted: its value
  // then runs to the end of the cut text).
  constexpr size_t kSlack = 4096;
  if (max_bytes < (SIZE_MAX - kSlack) / 4 && text.size() > max_bytes * 4 + kSlack) {
    text = text.substr(0, max_bytes * 4 + kSlack);
  }
  const std::string redacted = RedactSecrets(text);
  std::string out;
  out.reserve(redacted.size() < max_bytes ? redacted.size() : max_bytes);
  size_t pos = 0;
  while (pos < redacted.size()) {
    uint32_t cp = 0;
    size_t len = DecodeOne(redacted, pos, &cp);
    std::string_view piece;
    if (len == 0) {
      piece = kReplacement;
      len = 1;
    } else if (cp == '\t' || cp == '\n' || cp == '\r') {
      piece = " ";
    } else if (StartsEscapeSequence(cp)) {
      pos += EscapeSequenceLength(redacted, pos, len, cp);
      continue;
    } else if (IsDroppedControl(cp)) {
      pos += len;
      continue;
    } else {
      piece = std::string_view(redacted).substr(pos, len);
    }
    if (out.size() + piece.size() > max_bytes) {
      // Cut: make room for the marker at a code-point boundary.
      if (max_bytes < kCutMarker.size()) return out;
      while (out.size() + kCutMarker.size() > max_bytes) PopCodePoint(&out);
      out.append(kCutMarker);
      return out;
    }
    out.append(piece);
    pos += len;
  }
  return out;
}

bool IsValidUtf8(std::string_view text) {
  size_t pos = 0;
  while (pos < text.size()) {
    uint32_t cp = 0;
    size_t len = DecodeOne(text, pos, &cp);
    if (len == 0) return false;
    pos += len;
  }
  return true;
}

std::string PercentEncodePathSegment(std::string_view segment) { return PercentEncode(segment); }
std::string PercentEncodeQueryValue(std::string_view value) { return PercentEncode(value); }

}  // namespace hpad::k8s
