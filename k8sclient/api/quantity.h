// Quantity: a Kubernetes resource quantity ("500m", "1.5Gi", "1e3", "-1").
//
// Parse accepts the whole Kubernetes grammar (decimal SI n u m "" k M G T P E,
// binary SI Ki Mi Gi Ti Pi Ei, decimal exponents e/E, signs). The value is
// held exactly as mantissa * 10^exponent10 (binary suffixes are folded into
// the mantissa), so MilliValue() rounds up exactly as Kubernetes'
// Quantity.MilliValue() does (`0.1m` -> 1). As in Kubernetes, parsing rounds
// away from zero to nano precision and caps the magnitude at 2^63-1.
// ToString() gives the canonical text Kubernetes would print ("0.1m" ->
// "100u", "1e3" -> "1e3", "1.5Gi" -> "1536Mi"). Plain value type,
// thread-compatible.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "k8sclient/base/status.h"

namespace hpad::k8s {

class Quantity {
 public:
  enum class Format { kDecimalSI, kBinarySI, kDecimalExponent };

  Quantity() = default;
  // Errors name the text: `quantity "12x": unknown suffix "x"`.
  static Result<Quantity> Parse(std::string_view text);
  // Builds a quantity from milli-units (cpu 250 -> "250m"; memory in the
  // binary format: FromMilli(1073741824000, kBinarySI) -> "1Gi").
  static Quantity FromMilli(int64_t milli, Format format = Format::kDecimalSI);
  static Quantity FromInt(int64_t value, Format format = Format::kDecimalSI);

  // value * 1000 rounded up in magnitude (away from zero, as Kubernetes'
  // ScaledValue does: 0.1m -> 1, -0.1m -> -1), saturating at int64 limits.
  int64_t MilliValue() const;
  // value rounded up in magnitude (away from zero), saturating.
  int64_t Value() const;
  double AsDouble() const;
  Format format() const { return format_; }
  bool IsZero() const { return mantissa_ == 0; }
  // Canonical Kubernetes text ("1500m" -> "1500m", "1.5" -> "1500m", "2048Ki" -> "2Mi").
  std::string ToString() const;

  // Compares by value.
  friend bool operator==(const Quantity& a, const Quantity& b) { return a.Compare(b) == 0; }
  int Compare(const Quantity& other) const;

 private:
  // value = mantissa_ * 10^exp10_ ; normalized so mantissa_ has no trailing zeros (unless 0).
  __int128 mantissa_ = 0;
  int32_t exp10_ = 0;
  Format format_ = Format::kDecimalSI;
};

// Go-style durations: "90s", "5m", "1h30m", "250ms", "1.5s", "0". Errors name the text.
Result<std::chrono::nanoseconds> ParseGoDuration(std::string_view text);
// Inverse for printing ("5m0s" style as Go prints: "1m30s", "250ms", "0s").
std::string FormatGoDuration(std::chrono::nanoseconds d);

}  // namespace hpad::k8s
