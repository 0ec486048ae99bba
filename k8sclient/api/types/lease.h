// coordination.k8s.io/v1 Lease, the leader-election lock. acquireTime and
// renewTime are metav1.MicroTime (written with microseconds). FromJson keeps
// the object in `raw`; ToJson starts from raw so unknown fields survive an
// update (the resourceVersion in metadata makes the write conditional).
// Plain value.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "k8sclient/base/clock.h"
#include "k8sclient/base/status.h"
#include "k8sclient/api/types/object_meta.h"

namespace hpad::k8s {

struct LeaseSpec {
  std::optional<std::string> holder_identity;
  std::optional<int32_t> lease_duration_seconds;
  std::optional<Time> acquire_time;
  std::optional<Time> renew_time;
  std::optional<int32_t> lease_transitions;
};

struct Lease {
  ObjectMeta metadata;
  LeaseSpec spec;
  nlohmann::json raw;
};

Result<Lease> LeaseFromJson(const nlohmann::json& j);
// apiVersion coordination.k8s.io/v1, kind Lease; unset spec fields are removed.
nlohmann::json LeaseToJson(const Lease& lease);

}  // namespace hpad::k8s
