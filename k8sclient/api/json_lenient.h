// Lenient JSON lookups that never throw, for code that reads foreign JSON
// where a missing or mistyped field simply means "not there": the simulator's
// scenario validator and API server (request bodies from any client), table
// printers, expectation matching. nlohmann's `obj.value(key, fallback)`
// throws type_error.302 when the field exists with another type (and 306
// when obj is not an object): scenario_fuzz found that crash in the scenario
// loader (`apiVersion: 5` in a CRD-shaped document). These return the
// fallback instead; code that must report a wrong type uses the checked
// readers of k8sclient/api/types/json_fields.h. Header-only, pure,
// thread-compatible.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace hpad::k8s {

// obj[key] when obj is an object holding a string there; else fallback.
inline std::string StringOr(const nlohmann::json& obj, std::string_view key, std::string_view fallback = "") {
  if (!obj.is_object()) return std::string(fallback);
  auto it = obj.find(key);
  if (it == obj.end() || !it->is_string()) return std::string(fallback);
  return it->get_ref<const std::string&>();
}

// obj[key] when it is an integer that fits int64; else fallback.
inline int64_t IntOr(const nlohmann::json& obj, std::string_view key, int64_t fallback) {
  if (!obj.is_object()) return fallback;
  auto it = obj.find(key);
  if (it == obj.end()) return fallback;
  if (it->is_number_unsigned()) {
    const uint64_t u = it->get<uint64_t>();
    return u > static_cast<uint64_t>(INT64_MAX) ? fallback : static_cast<int64_t>(u);
  }
  if (it->is_number_integer()) return it->get<int64_t>();
  return fallback;
}

inline bool BoolOr(const nlohmann::json& obj, std::string_view key, bool fallback) {
  if (!obj.is_object()) return fallback;
  auto it = obj.find(key);
  if (it == obj.end() || !it->is_boolean()) return fallback;
  return it->get<bool>();
}

// A copy of obj[key] of any type when present; else fallback.
inline nlohmann::json ChildOr(const nlohmann::json& obj, std::string_view key, nlohmann::json fallback) {
  if (!obj.is_object()) return fallback;
  auto it = obj.find(key);
  if (it == obj.end()) return fallback;
  return *it;
}

}  // namespace hpad::k8s
