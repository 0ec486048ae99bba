#include "k8sclient/base/strings.h"

#include <limits>

namespace hpad {

namespace {

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\v'; }

// The text for an error message: quoted, and cut so a hostile megabyte of
// digits does not end up in a log line (ASCII only matters here: a
// non-digit ends the number anyway, so cutting inside a UTF-8 sequence is
// avoided by cutting only at ASCII bytes).
std::string Quote(std::string_view text) {
  constexpr size_t kMax = 64;
  if (text.size() <= kMax) return "\"" + std::string(text) + "\"";
  size_t cut = kMax;
  while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;  // not inside a code point
  return "\"" + std::string(text.substr(0, cut)) + "...\"";
}

// Digits only, accumulated with an overflow check against `limit`.
Result<uint64_t> ParseDigits(std::string_view digits, uint64_t limit, std::string_view whole) {
  if (digits.empty()) return InvalidError("invalid integer " + Quote(whole));
  uint64_t v = 0;
  for (char c : digits) {
    if (c < '0' || c > '9') return InvalidError("invalid integer " + Quote(whole));
    const uint64_t d = static_cast<uint64_t>(c - '0');
    if (v > (limit - d) / 10) return InvalidError("integer out of range " + Quote(whole));
    v = v * 10 + d;
  }
  return v;
}

Result<int64_t> ParseSigned(std::string_view text, int64_t min, int64_t max) {
  std::string_view digits = text;
  bool negative = false;
  if (!digits.empty() && (digits[0] == '+' || digits[0] == '-')) {
    negative = digits[0] == '-';
    digits.remove_prefix(1);
  }
  // |min| = max + 1 for two's complement types.
  const uint64_t limit = negative ? static_cast<uint64_t>(max) + 1 : static_cast<uint64_t>(max);
  Result<uint64_t> magnitude = ParseDigits(digits, limit, text);
  if (!magnitude.ok()) return magnitude.status();
  if (!negative) return static_cast<int64_t>(*magnitude);
  if (*magnitude == static_cast<uint64_t>(max) + 1) return min;
  return -static_cast<int64_t>(*magnitude);
}

}  // namespace

std::string_view TrimView(std::string_view s) {
  while (!s.empty() && IsSpace(s.front())) s.remove_prefix(1);
  while (!s.empty() && IsSpace(s.back())) s.remove_suffix(1);
  return s;
}

std::string Trim(std::string_view s) { return std::string(TrimView(s)); }

namespace {
char AsciiLowerChar(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }
}  // namespace

std::string AsciiLower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = AsciiLowerChar(c);
  return out;
}

bool EqualsIgnoreAsciiCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (AsciiLowerChar(a[i]) != AsciiLowerChar(b[i])) return false;
  return true;
}

Result<bool> ParseBool(std::string_view text) {
  for (std::string_view t : {"1", "t", "T", "TRUE", "true", "True"})
    if (text == t) return true;
  for (std::string_view f : {"0", "f", "F", "FALSE", "false", "False"})
    if (text == f) return false;
  return InvalidError("invalid boolean " + Quote(text));
}

std::string Base64Encode(std::string_view in) {
  static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((in.size() + 2) / 3 * 4);
  size_t i = 0;
  auto byte = [&](size_t k) { return static_cast<uint32_t>(static_cast<uint8_t>(in[k])); };
  for (; i + 2 < in.size(); i += 3) {
    const uint32_t v = (byte(i) << 16) | (byte(i + 1) << 8) | byte(i + 2);
    for (int k = 3; k >= 0; --k) out.push_back(kAlphabet[(v >> (6 * k)) & 63]);
  }
  const size_t rest = in.size() - i;
  if (rest == 1) {
    const uint32_t v = byte(i) << 16;
    out.push_back(kAlphabet[(v >> 18) & 63]);
    out.push_back(kAlphabet[(v >> 12) & 63]);
    out += "==";
  } else if (rest == 2) {
    const uint32_t v = (byte(i) << 16) | (byte(i + 1) << 8);
    out.push_back(kAlphabet[(v >> 18) & 63]);
    out.push_back(kAlphabet[(v >> 12) & 63]);
    out.push_back(kAlphabet[(v >> 6) & 63]);
    out += "=";
  }
  return out;
}

Result<std::string> Base64Decode(std::string_view text) {
  auto value_of = [](char c) -> int {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
  };
  std::string out;
  out.reserve(text.size() / 4 * 3);
  uint32_t acc = 0;
  int bits = 0;
  size_t pad = 0;
  for (char c : text) {
    if (IsSpace(c)) continue;
    if (c == '=') {
      ++pad;
      continue;
    }
    if (pad > 0) return InvalidError("invalid base64: data after padding");
    const int v = value_of(c);
    if (v < 0) {
      const unsigned char u = static_cast<unsigned char>(c);
      // Printable ASCII is shown as itself; anything else as a byte value
      // (never half of a UTF-8 sequence in a message).
      return InvalidError(u >= 0x20 && u < 0x7F ? std::string("invalid base64 character '") + c + "'"
                                                : "invalid base64 byte " + std::to_string(u));
    }
    acc = ((acc << 6) | static_cast<uint32_t>(v)) & 0xFFFFFF;  // keep only what the next byte needs
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((acc >> bits) & 0xFF));
    }
  }
  if (pad > 2 || bits >= 6) return InvalidError("invalid base64: truncated");
  return out;
}

Result<int64_t> ParseInt64(std::string_view text) {
  return ParseSigned(text, std::numeric_limits<int64_t>::min(), std::numeric_limits<int64_t>::max());
}

Result<int32_t> ParseInt32(std::string_view text) {
  Result<int64_t> v = ParseSigned(text, std::numeric_limits<int32_t>::min(), std::numeric_limits<int32_t>::max());
  if (!v.ok()) return v.status();
  return static_cast<int32_t>(*v);
}

Result<uint64_t> ParseUint64(std::string_view text) {
  return ParseDigits(text, std::numeric_limits<uint64_t>::max(), text);
}

}  // namespace hpad
