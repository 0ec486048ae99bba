// Pod, trimmed to what autoscaling needs (architecture.md step 1): 100k pods
// must fit in well under 512 MiB. Immutable once cached.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "k8sclient/base/clock.h"
#include "k8sclient/base/status.h"

namespace hpad::k8s {

struct PodContainer {
  std::string name;
  // milli values of requests by resource name ("cpu", "memory"); absent = no request.
  std::map<std::string, int64_t> requests_milli;
  bool restart_policy_always = false;  // init containers: sidecar (RQ1)
};

struct Pod {
  std::string name;
  std::string ns;
  std::string resource_version;
  std::map<std::string, std::string> labels;
  std::string phase;  // Pending, Running, Succeeded, Failed, Unknown
  std::optional<Time> deletion_timestamp;
  std::optional<Time> start_time;
  // The first Ready condition (as upstream's GetPodCondition): status
  // "True"/"False"/"Unknown"; absent when there is none.
  std::optional<std::string> ready_status;
  std::optional<Time> ready_last_transition;
  std::vector<PodContainer> containers;
  std::vector<PodContainer> init_containers;
  std::map<std::string, int64_t> pod_level_requests_milli;  // RQ2: spec.resources.requests
  std::map<std::string, int64_t> overhead_milli;            // RQ2: spec.overhead
};

Result<Pod> PodFromJson(const nlohmann::json& j);

}  // namespace hpad::k8s
