// autoscaling/v1 Scale (the scale subresource), with the rest of the JSON kept
// so it can be PUT back.
#pragma once

#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "k8sclient/base/status.h"

namespace hpad::k8s {

struct Scale {
  std::string name;
  std::string ns;
  std::string resource_version;
  int32_t spec_replicas = 0;
  int32_t status_replicas = 0;
  std::string selector;  // status.selector, string form
  nlohmann::json raw;
};

Result<Scale> ScaleFromJson(const nlohmann::json& j);
// raw with spec.replicas replaced.
nlohmann::json ScaleToJson(const Scale& s);

}  // namespace hpad::k8s
