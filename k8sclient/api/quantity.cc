// Quantity and Go durations (see quantity.h).
//
// Parsing mirrors k8s.io/apimachinery/pkg/api/resource: the value is rounded
// away from zero to nano precision (`0.1n` -> 1n: "if you want some
// resources, you should get some resources") and its magnitude is capped at
// 2^63-1. After that every value fits an __int128 count of nano-units, so
// all arithmetic below is exact. Digit strings are used while parsing so that
// arbitrarily long inputs never overflow.
#include "k8sclient/api/quantity.h"

#include "k8sclient/base/text.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <limits>

namespace hpad::k8s {
namespace {

using i128 = __int128;

constexpr int64_t kInt64Max = std::numeric_limits<int64_t>::max();
constexpr int64_t kInt64Min = std::numeric_limits<int64_t>::min();

i128 Pow10(int n) {
  i128 r = 1;
  for (int i = 0; i < n; ++i) r *= 10;
  return r;
}

// Largest value Kubernetes keeps (maxAllowed = 2^63-1), in nano-units.
const i128 kMaxNano = static_cast<i128>(kInt64Max) * Pow10(9);

std::string I128ToString(i128 v) {
  if (v == 0) return "0";
  bool neg = v < 0;
  // |v| <= kMaxNano here, so negation cannot overflow.
  if (neg) v = -v;
  std::string s;
  while (v > 0) {
    s += static_cast<char>('0' + static_cast<int>(v % 10));
    v /= 10;
  }
  if (neg) s += '-';
  std::reverse(s.begin(), s.end());
  return s;
}

// Decimal digit string times 2.
void DoubleDigits(std::string* d) {
  int carry = 0;
  for (auto it = d->rbegin(); it != d->rend(); ++it) {
    int v = (*it - '0') * 2 + carry;
    *it = static_cast<char>('0' + v % 10);
    carry = v / 10;
  }
  if (carry) d->insert(d->begin(), static_cast<char>('0' + carry));
}

int64_t Saturate(i128 v) {
  if (v > kInt64Max) return kInt64Max;
  if (v < kInt64Min) return kInt64Min;
  return static_cast<int64_t>(v);
}

Status QuantityError(std::string_view text, const std::string& why) {
  return InvalidError("quantity \"" + SafeText(text, 64) + "\": " + SafeText(why, 256));
}

struct Suffix {
  int base;  // 10 or 2
  int exponent;
  Quantity::Format format;
};

bool InterpretSuffix(std::string_view s, Suffix* out) {
  static const std::pair<const char*, int> kDecimal[] = {{"n", -9}, {"u", -6}, {"m", -3}, {"", 0},  {"k", 3},
                                                          {"M", 6},  {"G", 9},  {"T", 12}, {"P", 15}, {"E", 18}};
  static const std::pair<const char*, int> kBinary[] = {{"Ki", 10}, {"Mi", 20}, {"Gi", 30},
                                                         {"Ti", 40}, {"Pi", 50}, {"Ei", 60}};
  for (const auto& [name, exp] : kDecimal) {
    if (s == name) {
      *out = {10, exp, Quantity::Format::kDecimalSI};
      return true;
    }
  }
  for (const auto& [name, exp] : kBinary) {
    if (s == name) {
      *out = {2, exp, Quantity::Format::kBinarySI};
      return true;
    }
  }
  if (s.size() > 1 && (s[0] == 'e' || s[0] == 'E')) {
    size_t i = 1;
    bool neg = false;
    if (s[i] == '+' || s[i] == '-') {
      neg = s[i] == '-';
      ++i;
    }
    if (i >= s.size()) return false;
    int64_t exp = 0;
    for (; i < s.size(); ++i) {
      if (!std::isdigit(static_cast<unsigned char>(s[i]))) return false;
      // Clamp: anything this large is capped or rounded to 1n anyway.
      exp = std::min<int64_t>(exp * 10 + (s[i] - '0'), 1000000);
    }
    *out = {10, static_cast<int>(neg ? -exp : exp), Quantity::Format::kDecimalExponent};
    return true;
  }
  return false;
}

}  // namespace

Result<Quantity> Quantity::Parse(std::string_view text) {
  if (text.empty()) return QuantityError(text, "empty quantity");
  size_t pos = 0;
  bool negative = false;
  if (text[0] == '+' || text[0] == '-') {
    negative = text[0] == '-';
    ++pos;
  }
  size_t int_start = pos;
  while (pos < text.size() && std::isdigit(static_cast<unsigned char>(text[pos]))) ++pos;
  std::string_view int_digits = text.substr(int_start, pos - int_start);
  std::string_view frac_digits;
  if (pos < text.size() && text[pos] == '.') {
    ++pos;
    size_t frac_start = pos;
    while (pos < text.size() && std::isdigit(static_cast<unsigned char>(text[pos]))) ++pos;
    frac_digits = text.substr(frac_start, pos - frac_start);
  }
  if (int_digits.empty() && frac_digits.empty()) {
    return QuantityError(text, "expected a number");
  }
  std::string_view suffix_text = text.substr(pos);
  Suffix suffix;
  if (!InterpretSuffix(suffix_text, &suffix)) {
    return QuantityError(text, "unknown suffix \"" + SafeText(suffix_text, 64) + "\"");
  }

  Quantity q;
  q.format_ = suffix.format;

  // value = digits * 10^e * 2^b
  std::string digits = std::string(int_digits) + std::string(frac_digits);
  size_t first = digits.find_first_not_of('0');
  if (first == std::string::npos) return q;  // zero
  digits = digits.substr(first);
  int64_t e = -static_cast<int64_t>(frac_digits.size());
  if (suffix.base == 10) {
    e += suffix.exponent;
  } else {
    for (int i = 0; i < suffix.exponent; ++i) DoubleDigits(&digits);
  }

  // Nano-units: digits * 10^(e+9), rounded away from zero.
  const int64_t len = static_cast<int64_t>(digits.size());
  i128 nano = 0;
  if (len + e + 9 > 30) {
    nano = kMaxNano;  // >= 10^29 nano-units: beyond 2^63-1, capped as Kubernetes does
  } else {
    std::string kept;
    bool round_up = false;
    if (e + 9 >= 0) {
      kept = digits + std::string(static_cast<size_t>(e + 9), '0');
    } else {
      int64_t drop = -(e + 9);
      if (drop >= len) {
        round_up = true;  // nonzero but below 1n
      } else {
        kept = digits.substr(0, static_cast<size_t>(len - drop));
        round_up = digits.find_first_not_of('0', static_cast<size_t>(len - drop)) != std::string::npos;
      }
    }
    for (char c : kept) nano = nano * 10 + (c - '0');  // at most 30 digits: fits
    if (round_up) nano += 1;
    nano = std::min(nano, kMaxNano);
  }
  q.mantissa_ = negative ? -nano : nano;
  q.exp10_ = -9;
  while (q.mantissa_ != 0 && q.mantissa_ % 10 == 0) {
    q.mantissa_ /= 10;
    ++q.exp10_;
  }
  return q;
}

Quantity Quantity::FromMilli(int64_t milli, Format format) {
  Quantity q;
  q.format_ = format;
  q.mantissa_ = milli;
  q.exp10_ = milli == 0 ? 0 : -3;
  while (q.mantissa_ != 0 && q.mantissa_ % 10 == 0) {
    q.mantissa_ /= 10;
    ++q.exp10_;
  }
  return q;
}

Quantity Quantity::FromInt(int64_t value, Format format) {
  Quantity q = FromMilli(0, format);
  q.mantissa_ = value;
  q.exp10_ = 0;
  while (q.mantissa_ != 0 && q.mantissa_ % 10 == 0) {
    q.mantissa_ /= 10;
    ++q.exp10_;
  }
  return q;
}

namespace {
// mantissa * 10^shift as int64, rounded away from zero (Kubernetes'
// negativeScaleInt64 rounds "up" in magnitude), saturating.
int64_t ScaleAwayFromZero(i128 mantissa, int shift) {
  if (mantissa == 0) return 0;
  if (shift >= 0) {
    i128 v = mantissa;
    for (int i = 0; i < shift; ++i) {
      v *= 10;
      if (v > kInt64Max || v < kInt64Min) return Saturate(v);
    }
    return Saturate(v);
  }
  i128 div = Pow10(-shift);
  i128 q = mantissa / div;
  if (mantissa % div != 0) q += mantissa > 0 ? 1 : -1;
  return Saturate(q);
}
}  // namespace

int64_t Quantity::MilliValue() const { return ScaleAwayFromZero(mantissa_, exp10_ + 3); }

int64_t Quantity::Value() const { return ScaleAwayFromZero(mantissa_, exp10_); }

double Quantity::AsDouble() const {
  return static_cast<double>(static_cast<long double>(mantissa_) * std::pow(10.0L, exp10_));
}

int Quantity::Compare(const Quantity& other) const {
  // Both fit in nano-units (exp10 >= -9, |value| <= 2^63-1).
  i128 a = mantissa_ * Pow10(exp10_ + 9);
  i128 b = other.mantissa_ * Pow10(other.exp10_ + 9);
  return a < b ? -1 : (a > b ? 1 : 0);
}

std::string Quantity::ToString() const {
  if (mantissa_ == 0) return "0";
  Format format = format_;
  if (format == Format::kBinarySI) {
    i128 nano = mantissa_ * Pow10(exp10_ + 9);
    i128 limit = static_cast<i128>(1024) * Pow10(9);
    // Small or fractional binary values print as decimal SI (no rounding).
    if ((nano > -limit && nano < limit) || exp10_ < 0) {
      format = Format::kDecimalSI;
    } else {
      i128 v = mantissa_ * Pow10(exp10_);
      int times = 0;
      while ((v >= 1024 || v <= -1024) && v % 1024 == 0) {
        v /= 1024;
        ++times;
      }
      static const char* kBinary[] = {"", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei"};
      return I128ToString(v) + kBinary[times];
    }
  }
  // Canonical decimal: mantissa without trailing zeros, exponent lowered to a
  // multiple of 3 (1.5 -> 1500m, 0.1m -> 100u).
  i128 m = mantissa_;
  int e = exp10_;
  int e3 = e >= 0 ? (e / 3) * 3 : -((-e + 2) / 3) * 3;
  m *= Pow10(e - e3);
  std::string suffix;
  if (format == Format::kDecimalExponent) {
    if (e3 != 0) suffix = "e" + std::to_string(e3);
  } else {
    switch (e3) {
      case -9: suffix = "n"; break;
      case -6: suffix = "u"; break;
      case -3: suffix = "m"; break;
      case 0: break;
      case 3: suffix = "k"; break;
      case 6: suffix = "M"; break;
      case 9: suffix = "G"; break;
      case 12: suffix = "T"; break;
      case 15: suffix = "P"; break;
      case 18: suffix = "E"; break;
      default: suffix = "e" + std::to_string(e3); break;  // unreachable given the caps
    }
  }
  return I128ToString(m) + suffix;
}

// ---- Go durations (time.ParseDuration / Duration.String) ----

namespace {
Status DurationError(std::string_view text, const std::string& why) {
  return InvalidError("time: " + SafeText(why, 256) + " \"" + SafeText(text, 64) + "\"");
}
}  // namespace

Result<std::chrono::nanoseconds> ParseGoDuration(std::string_view text) {
  std::string_view s = text;
  bool neg = false;
  if (!s.empty() && (s[0] == '-' || s[0] == '+')) {
    neg = s[0] == '-';
    s.remove_prefix(1);
  }
  if (s == "0") return std::chrono::nanoseconds(0);
  if (s.empty()) return DurationError(text, "invalid duration");
  constexpr uint64_t kLimit = uint64_t{1} << 63;
  uint64_t total = 0;
  while (!s.empty()) {
    // The next character must be [0-9.].
    if (!(s[0] == '.' || std::isdigit(static_cast<unsigned char>(s[0])))) {
      return DurationError(text, "invalid duration");
    }
    uint64_t v = 0;
    size_t i = 0;
    while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) {
      if (v > (kLimit - 1) / 10) return DurationError(text, "invalid duration");
      v = v * 10 + static_cast<uint64_t>(s[i] - '0');
      if (v > kLimit) return DurationError(text, "invalid duration");
      ++i;
    }
    bool pre = i > 0;
    s.remove_prefix(i);
    uint64_t f = 0;
    double scale = 1;
    bool post = false;
    if (!s.empty() && s[0] == '.') {
      s.remove_prefix(1);
      size_t j = 0;
      bool overflow = false;
      while (j < s.size() && std::isdigit(static_cast<unsigned char>(s[j]))) {
        if (!overflow) {
          if (f > (std::numeric_limits<uint64_t>::max() - 9) / 10) {
            overflow = true;  // ignore further digits, as Go's leadingFraction does
          } else {
            f = f * 10 + static_cast<uint64_t>(s[j] - '0');
            scale *= 10;
          }
        }
        ++j;
      }
      post = j > 0;
      s.remove_prefix(j);
    }
    if (!pre && !post) return DurationError(text, "invalid duration");
    size_t u = 0;
    while (u < s.size() && s[u] != '.' && !std::isdigit(static_cast<unsigned char>(s[u]))) ++u;
    if (u == 0) return DurationError(text, "missing unit in duration");
    std::string_view unit_text = s.substr(0, u);
    s.remove_prefix(u);
    uint64_t unit;
    if (unit_text == "ns") {
      unit = 1;
    } else if (unit_text == "us" || unit_text == "\xC2\xB5s" || unit_text == "\xCE\xBCs") {
      unit = 1000;
    } else if (unit_text == "ms") {
      unit = 1000000;
    } else if (unit_text == "s") {
      unit = 1000000000;
    } else if (unit_text == "m") {
      unit = 60ULL * 1000000000;
    } else if (unit_text == "h") {
      unit = 3600ULL * 1000000000;
    } else {
      return InvalidError("time: unknown unit \"" + SafeText(unit_text, 64) + "\" in duration \"" +
                          SafeText(text, 64) + "\"");
    }
    if (v > kLimit / unit) return DurationError(text, "invalid duration");
    v *= unit;
    if (f > 0) {
      // float64 is nanosecond-accurate for fractions of hours (as in Go).
      v += static_cast<uint64_t>(static_cast<double>(f) * (static_cast<double>(unit) / scale));
      if (v > kLimit) return DurationError(text, "invalid duration");
    }
    total += v;
    if (total > kLimit) return DurationError(text, "invalid duration");
  }
  if (neg) {
    return std::chrono::nanoseconds(total == kLimit ? std::numeric_limits<int64_t>::min()
                                                    : -static_cast<int64_t>(total));
  }
  if (total > kLimit - 1) return DurationError(text, "invalid duration");
  return std::chrono::nanoseconds(static_cast<int64_t>(total));
}

namespace {
// Go's fmtFrac: v with `prec` digits after a dot, trailing zeros dropped.
std::string FmtFrac(uint64_t* v, int prec) {
  std::string digits;
  bool print = false;
  for (int i = 0; i < prec; ++i) {
    int digit = static_cast<int>(*v % 10);
    print = print || digit != 0;
    if (print) digits += static_cast<char>('0' + digit);
    *v /= 10;
  }
  if (!print) return "";
  std::reverse(digits.begin(), digits.end());
  return "." + digits;
}
}  // namespace

std::string FormatGoDuration(std::chrono::nanoseconds d) {
  int64_t n = d.count();
  if (n == 0) return "0s";
  bool neg = n < 0;
  uint64_t u = neg ? 0 - static_cast<uint64_t>(n) : static_cast<uint64_t>(n);
  std::string out;
  if (u < 1000000000ULL) {
    // Sub-second: one unit with a fraction ("1.5µs", "250ms").
    int prec;
    std::string unit;
    if (u < 1000) {
      return (neg ? "-" : "") + std::to_string(u) + "ns";
    } else if (u < 1000000) {
      prec = 3;
      unit = "\xC2\xB5s";  // µs, as Go prints it
    } else {
      prec = 6;
      unit = "ms";
    }
    std::string frac = FmtFrac(&u, prec);
    out = std::to_string(u) + frac + unit;
  } else {
    std::string frac = FmtFrac(&u, 9);
    uint64_t secs = u % 60;
    u /= 60;
    out = std::to_string(secs) + frac + "s";
    if (u > 0) {
      uint64_t mins = u % 60;
      u /= 60;
      out = std::to_string(mins) + "m" + out;
      if (u > 0) out = std::to_string(u) + "h" + out;
    }
  }
  return (neg ? "-" : "") + out;
}

}  // namespace hpad::k8s
