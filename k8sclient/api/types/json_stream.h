// Shared pieces of the streaming (SAX) decoders - metrics_stream.cc and
// pod_list_stream.cc (issue 16): a SAX value, the fields::Get* semantics
// applied to one value, error texts that match the DOM decoders' (which
// describe values with DescribeJson / json::type_name), and DecodeText: the
// text-level checks ParseForeignJson makes before parsing, then the fast
// scanner (json_fast_sax.h), then nlohmann's parser where it gives up.
//
// Internal to k8sclient/api/types (like json_fields.h). Header-only, pure.
#pragma once

#include <chrono>
#include <cmath>
#include <cstdint>
#include <limits>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "k8sclient/api/json_fast_sax.h"
#include "k8sclient/api/json_parse.h"
#include "k8sclient/api/quantity.h"
#include "k8sclient/api/time_format.h"
#include "k8sclient/api/types/json_fields.h"
#include "k8sclient/base/text.h"

namespace hpad::k8s::json_stream {

using fields::FieldError;

// One value as the SAX parser reports it (containers only by kind).
struct Val {
  enum class T { kNull, kBool, kInt, kUint, kFloat, kString, kObject, kArray };
  T t = T::kNull;
  bool b = false;
  int64_t i = 0;
  uint64_t u = 0;
  double d = 0;
  std::string* s = nullptr;  // the lexer's buffer

  bool null() const { return t == T::kNull; }
  bool container() const { return t == T::kObject || t == T::kArray; }
};

// The scalar as the DOM would hold it, for error texts only.
inline nlohmann::json ScalarJson(const Val& v) {
  switch (v.t) {
    case Val::T::kBool:
      return nlohmann::json(v.b);
    case Val::T::kInt:
      return nlohmann::json(v.i);
    case Val::T::kUint:
      return nlohmann::json(v.u);
    case Val::T::kFloat:
      return nlohmann::json(v.d);
    case Val::T::kString:
      return nlohmann::json(*v.s);
    default:
      return nlohmann::json();
  }
}

// DescribeJson() of the value.
inline std::string Describe(const Val& v) {
  if (v.t == Val::T::kObject) return "an object";
  if (v.t == Val::T::kArray) return "a list";
  return DescribeJson(ScalarJson(v));
}

// json::type_name() of the value.
inline std::string TypeName(const Val& v) {
  if (v.t == Val::T::kObject) return "object";
  if (v.t == Val::T::kArray) return "array";
  return ScalarJson(v).type_name();
}

inline std::string Indexed(std::string_view base, size_t i) {
  std::string s(base);
  s += '[';
  s += std::to_string(i);
  s += ']';
  return s;
}

// The first error in the given (code) order, or Ok.
template <typename... S>
Status FirstError(const S&... s) {
  Status out;
  auto take = [&out](const Status& x) {
    if (out.ok() && !x.ok()) out = x;
  };
  (take(s), ...);
  return out;
}
inline Status FirstError(const std::map<std::string, Status>& errors) {
  return errors.empty() ? Status::Ok() : errors.begin()->second;
}

// ---- fields::Get* semantics for one non-null value; `path` builds the
// field's path only when an error needs it.

template <typename P>
Status StringValue(const Val& v, P path, std::string* out) {
  if (v.t != Val::T::kString) return FieldError(path(), "expected a string, got " + Describe(v));
  out->assign(*v.s);  // a copy: the lexer keeps its buffer's capacity for the next token
  return Status::Ok();
}

template <typename P>
Status TimeValue(const Val& v, P path, Time* out) {
  if (v.t != Val::T::kString) return FieldError(path(), "expected a timestamp string, got " + Describe(v));
  auto t = ParseRfc3339(*v.s);
  if (!t.ok()) return FieldError(path(), t.status().message());
  *out = *t;
  return Status::Ok();
}

template <typename P>
Status DurationValue(const Val& v, P path, std::chrono::milliseconds* out) {
  if (v.t != Val::T::kString) return FieldError(path(), "expected a duration string, got " + Describe(v));
  auto d = ParseGoDuration(*v.s);
  if (!d.ok()) return FieldError(path(), d.status().message());
  *out = std::chrono::duration_cast<std::chrono::milliseconds>(*d);
  return Status::Ok();
}

// fields::GetInt64.
template <typename P>
Status Int64Value(const Val& v, P path, int64_t* out) {
  if (v.t == Val::T::kInt) {
    *out = v.i;
    return Status::Ok();
  }
  if (v.t == Val::T::kUint) {
    if (v.u > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))
      return FieldError(path(), "integer out of range: " + Describe(v));
    *out = static_cast<int64_t>(v.u);
    return Status::Ok();
  }
  if (v.t == Val::T::kFloat) {
    double d = v.d;
    if (std::isfinite(d) && d >= -9223372036854775808.0 && d < 9223372036854775808.0 && std::trunc(d) == d) {
      *out = static_cast<int64_t>(d);
      return Status::Ok();
    }
  }
  return FieldError(path(), "expected an integer, got " + Describe(v));
}

// Quantity::Parse(text)->MilliValue() for the forms metrics servers send
// ("250m", "1234567n", "52428Ki", "3"): digits without sign, leading zero
// or fraction, then a common suffix. Returns false for anything else, or
// when the milli value would not fit, and the caller parses in full: this
// is only a shortcut (issue 16: Quantity::Parse was a tenth of decoding a
// PodMetricsList, and allocates), never a second grammar; a test compares
// it with Quantity::Parse.
inline bool FastMilli(std::string_view text, int64_t* out) {
  size_t n = 0;
  uint64_t v = 0;
  while (n < text.size() && n < 18 && text[n] >= '0' && text[n] <= '9') v = v * 10 + static_cast<uint64_t>(text[n++] - '0');
  if (n == 0 || (text[0] == '0' && n > 1) || (n < text.size() && text[n] >= '0' && text[n] <= '9')) return false;
  const std::string_view suffix = text.substr(n);
  const auto value = static_cast<int64_t>(v);  // < 10^18
  auto scaled = [&](int64_t factor) { return !__builtin_mul_overflow(value, factor, out); };
  if (suffix.empty()) return scaled(1000);
  if (suffix.size() == 1) {
    switch (suffix[0]) {
      case 'n': *out = value / 1000000 + (value % 1000000 != 0); return true;  // rounded up, as MilliValue
      case 'u': *out = value / 1000 + (value % 1000 != 0); return true;
      case 'm': *out = value; return true;
      case 'k': return scaled(1000000);
      case 'M': return scaled(1000000000);
      case 'G': return scaled(1000000000000);
      default: return false;
    }
  }
  if (suffix.size() == 2 && suffix[1] == 'i') {
    switch (suffix[0]) {
      case 'K': return scaled(int64_t{1000} << 10);
      case 'M': return scaled(int64_t{1000} << 20);
      case 'G': return scaled(int64_t{1000} << 30);
      default: return false;
    }
  }
  return false;
}

// fields::QuantityFromJson, as milli-units.
template <typename P>
Status MilliValue(const Val& v, P path, int64_t* out) {
  if (v.t == Val::T::kString) {
    std::string_view text = *v.s;
    // Kubernetes' UnmarshalJSON trims surrounding spaces.
    size_t b = text.find_first_not_of(" \t\r\n");
    size_t e = text.find_last_not_of(" \t\r\n");
    text = b == std::string_view::npos ? std::string_view() : text.substr(b, e - b + 1);
    if (FastMilli(text, out)) return Status::Ok();
    auto q = Quantity::Parse(text);
    if (!q.ok()) return FieldError(path(), q.status().message());
    *out = q->MilliValue();
    return Status::Ok();
  }
  if (v.t == Val::T::kInt || v.t == Val::T::kUint || v.t == Val::T::kFloat) {
    auto q = fields::QuantityFromJson(ScalarJson(v), path());  // rare: the text of a JSON number
    if (!q.ok()) return q.status();
    *out = q->MilliValue();
    return Status::Ok();
  }
  return FieldError(path(), "expected a quantity, got " + Describe(v));
}

// Runs the SAX decoder `d` over `text` with ParseForeignJson's checks and
// texts (size limit, nesting, then syntax with the same byte
// offset); `*text_error` tells those failures from d.error(), the decoding
// result. D provides syntax_error() (set by its parse_error callback, see
// SyntaxErrorText), error() and Restart() (back to the state it was
// constructed in).
template <typename D>
Status DecodeText(D& d, std::string_view text, std::string_view what, size_t max_bytes, bool* text_error) {
  if (text_error) *text_error = false;
  const std::string source(what.empty() ? std::string_view("JSON input") : what);
  auto text_failure = [&](std::string message) {
    if (text_error) *text_error = true;
    return InvalidError(source + ": " + message);
  };
  if (text.size() > max_bytes) {
    return text_failure(std::to_string(text.size()) + " bytes exceed the limit of " + std::to_string(max_bytes) +
                        " bytes");
  }
  // The fast scanner decides valid texts; where it gives up (a syntax
  // error, a float, nesting past kMaxJsonDepth, ...) the nesting pre-scan
  // and then nlohmann's parser rerun on a fresh decoder and word the
  // outcome (json_fast_sax.h). A text the scanner accepts is within the
  // depth limit, so the pre-scan's verdict is the same as if it ran first.
  if (FastSaxParse(text, &d)) return d.error();
  d.Restart();
  if (JsonNestingExceeds(text, kMaxJsonDepth)) {
    return text_failure("JSON nested deeper than the limit of " + std::to_string(kMaxJsonDepth) + " levels");
  }
  try {
    if (!nlohmann::json::sax_parse(text.begin(), text.end(), &d)) {
      return text_failure(d.syntax_error().value_or("not valid JSON"));
    }
  } catch (const std::exception& e) {
    return text_failure("not valid JSON: " + SafeText(e.what(), 200));
  }
  return d.error();
}

// The text of a SAX parse_error callback's exception, as ParseForeignJson
// words it.
inline std::string SyntaxErrorText(const nlohmann::detail::exception& ex) {
  if (const auto* pe = dynamic_cast<const nlohmann::json::parse_error*>(&ex)) {
    return "not valid JSON (at byte " + std::to_string(pe->byte) + ")";
  }
  return "not valid JSON: " + SafeText(ex.what(), 200);
}

}  // namespace hpad::k8s::json_stream
