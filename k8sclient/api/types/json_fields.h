// Internal helpers for the typed-object parsers in k8sclient/types/: read one
// field of a JSON object with a type check, and report errors naming the
// field path ("spec.metrics[1].resource.target.averageValue: ...").
//
// Absent and null fields leave the output untouched (Kubernetes' omitempty);
// a present field of the wrong type is an error. Error texts describe the
// offending value with DescribeJson() (json_parse.h), never a raw dump(): the
// value is foreign and may be huge. Header-only, pure.
#pragma once

#include <cmath>
#include <cstdint>
#include <limits>
#include <map>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "k8sclient/base/clock.h"
#include "k8sclient/api/json_parse.h"
#include "k8sclient/api/quantity.h"
#include "k8sclient/base/status.h"
#include "k8sclient/api/time_format.h"

namespace hpad::k8s::fields {

inline std::string Join(const std::string& path, const char* key) {
  return path.empty() ? std::string(key) : path + "." + key;
}
inline std::string Index(const std::string& path, size_t i) { return path + "[" + std::to_string(i) + "]"; }

inline Status FieldError(const std::string& path, const std::string& why) {
  return InvalidError((path.empty() ? std::string("<root>") : path) + ": " + why);
}

// The child, or nullptr when absent or null.
inline const nlohmann::json* Child(const nlohmann::json& obj, const char* key) {
  if (!obj.is_object()) return nullptr;
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return nullptr;
  return &*it;
}

inline Status ExpectObject(const nlohmann::json& j, const std::string& path) {
  if (!j.is_object()) return FieldError(path, "expected an object, got " + std::string(j.type_name()));
  return Status::Ok();
}

inline Status GetString(const nlohmann::json& obj, const char* key, const std::string& path, std::string* out) {
  const nlohmann::json* c = Child(obj, key);
  if (!c) return Status::Ok();
  if (!c->is_string()) return FieldError(Join(path, key), "expected a string, got " + DescribeJson(*c));
  *out = c->get<std::string>();
  return Status::Ok();
}

inline Status GetOptString(const nlohmann::json& obj, const char* key, const std::string& path,
                           std::optional<std::string>* out) {
  const nlohmann::json* c = Child(obj, key);
  if (!c) return Status::Ok();
  std::string s;
  if (Status st = GetString(obj, key, path, &s); !st.ok()) return st;
  *out = std::move(s);
  return Status::Ok();
}

inline Status GetInt64(const nlohmann::json& obj, const char* key, const std::string& path, int64_t* out) {
  const nlohmann::json* c = Child(obj, key);
  if (!c) return Status::Ok();
  if (c->is_number_integer()) {
    if (c->is_number_unsigned() && c->get<uint64_t>() > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
      return FieldError(Join(path, key), "integer out of range: " + DescribeJson(*c));
    }
    *out = c->get<int64_t>();
    return Status::Ok();
  }
  // JSON from some clients writes 3.0 for 3.
  // Converted only when whole and in range: casting NaN, inf or 1e300 is UB.
  if (c->is_number_float()) {
    double d = c->get<double>();
    if (std::isfinite(d) && d >= -9223372036854775808.0 && d < 9223372036854775808.0 && std::trunc(d) == d) {
      *out = static_cast<int64_t>(d);
      return Status::Ok();
    }
  }
  return FieldError(Join(path, key), "expected an integer, got " + DescribeJson(*c));
}

inline Status GetInt32(const nlohmann::json& obj, const char* key, const std::string& path, int32_t* out) {
  int64_t v = *out;
  if (Status st = GetInt64(obj, key, path, &v); !st.ok()) return st;
  if (v < std::numeric_limits<int32_t>::min() || v > std::numeric_limits<int32_t>::max()) {
    return FieldError(Join(path, key), "integer out of int32 range: " + std::to_string(v));
  }
  *out = static_cast<int32_t>(v);
  return Status::Ok();
}

inline Status GetOptInt32(const nlohmann::json& obj, const char* key, const std::string& path,
                          std::optional<int32_t>* out) {
  if (!Child(obj, key)) return Status::Ok();
  int32_t v = 0;
  if (Status st = GetInt32(obj, key, path, &v); !st.ok()) return st;
  *out = v;
  return Status::Ok();
}

inline Status GetOptInt64(const nlohmann::json& obj, const char* key, const std::string& path,
                          std::optional<int64_t>* out) {
  if (!Child(obj, key)) return Status::Ok();
  int64_t v = 0;
  if (Status st = GetInt64(obj, key, path, &v); !st.ok()) return st;
  *out = v;
  return Status::Ok();
}

// A quantity given as a string ("500m") or a JSON number (as Kubernetes accepts).
inline Result<Quantity> QuantityFromJson(const nlohmann::json& j, const std::string& path) {
  std::string text;
  if (j.is_string()) {
    text = j.get<std::string>();
    // Kubernetes' UnmarshalJSON trims surrounding spaces.
    size_t b = text.find_first_not_of(" \t\r\n");
    size_t e = text.find_last_not_of(" \t\r\n");
    text = b == std::string::npos ? std::string() : text.substr(b, e - b + 1);
  } else if (j.is_number()) {
    text = j.dump();
  } else {
    return FieldError(path, "expected a quantity, got " + DescribeJson(j));
  }
  auto q = Quantity::Parse(text);
  if (!q.ok()) return FieldError(path, q.status().message());
  return q;
}

inline Status GetOptQuantity(const nlohmann::json& obj, const char* key, const std::string& path,
                             std::optional<Quantity>* out) {
  const nlohmann::json* c = Child(obj, key);
  if (!c) return Status::Ok();
  auto q = QuantityFromJson(*c, Join(path, key));
  if (!q.ok()) return q.status();
  *out = *q;
  return Status::Ok();
}

inline Status GetOptTime(const nlohmann::json& obj, const char* key, const std::string& path,
                         std::optional<Time>* out) {
  const nlohmann::json* c = Child(obj, key);
  if (!c) return Status::Ok();
  if (!c->is_string()) return FieldError(Join(path, key), "expected a timestamp string, got " + DescribeJson(*c));
  auto t = ParseRfc3339(c->get<std::string>());
  if (!t.ok()) return FieldError(Join(path, key), t.status().message());
  *out = *t;
  return Status::Ok();
}

inline Status GetStringMap(const nlohmann::json& obj, const char* key, const std::string& path,
                           std::map<std::string, std::string>* out) {
  const nlohmann::json* c = Child(obj, key);
  if (!c) return Status::Ok();
  if (!c->is_object()) return FieldError(Join(path, key), "expected an object, got " + DescribeJson(*c));
  for (const auto& [k, v] : c->items()) {
    if (!v.is_string()) return FieldError(Join(path, key) + "." + k, "expected a string, got " + DescribeJson(v));
    (*out)[k] = v.get<std::string>();
  }
  return Status::Ok();
}

// HPAD_RETURN_IF_ERROR comes from k8sclient/base/status.h.

// Writes t at key (seconds precision, or microseconds for MicroTime fields),
// or removes the key when t is unset.
inline void SetOrEraseTime(nlohmann::json* o, const char* key, const std::optional<Time>& t, bool micro) {
  if (!t) {
    o->erase(key);
  } else {
    (*o)[key] = micro ? FormatRfc3339Micro(*t) : FormatRfc3339(*t);
  }
}

}  // namespace hpad::k8s::fields
