// Typed autoscaling/v2 HorizontalPodAutoscaler, plus autoscaling/v1
// conversion.
//
// These structs are what the controller's pure core reads. FromJson keeps the
// original JSON (as text, without status) in `raw` so that ToJson(hpa) of a
// read object writes back
// every field hpad does not model (unknown fields survive a
// read-modify-write). Quantities are milli-int64 plus the original text.
// Plain values; immutable once cached (shared as shared_ptr<const Hpa>).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "k8sclient/base/clock.h"
#include "k8sclient/api/quantity.h"
#include "k8sclient/base/status.h"
#include "k8sclient/api/types/heap_optional.h"
#include "k8sclient/api/types/object_meta.h"

namespace hpad::k8s {

struct CrossVersionObjectReference {
  std::string kind;
  std::string name;
  std::string api_version;
};

// metav1.LabelSelector kept as JSON (null when absent): it is only matched
// or rendered, and its exact shape must round-trip.
using LabelSelectorJson = nlohmann::json;

struct MetricIdentifier {
  std::string name;
  LabelSelectorJson selector;  // null = absent
};

struct MetricTarget {
  std::string type;  // "Utilization", "Value", "AverageValue"
  std::optional<Quantity> value;
  std::optional<Quantity> average_value;
  std::optional<int32_t> average_utilization;
};

struct MetricValueStatus {
  std::optional<Quantity> value;
  std::optional<Quantity> average_value;
  std::optional<int32_t> average_utilization;
};

struct ResourceMetricSource { std::string name; MetricTarget target; };
struct ContainerResourceMetricSource { std::string name; std::string container; MetricTarget target; };
struct PodsMetricSource { MetricIdentifier metric; MetricTarget target; };
struct ObjectMetricSource { CrossVersionObjectReference described_object; MetricIdentifier metric; MetricTarget target; };
struct ExternalMetricSource { MetricIdentifier metric; MetricTarget target; };

// The per-source members are HeapOptional (heap_optional.h): at most one is
// set, and inline optionals made each MetricSpec/MetricStatus over 1 KB
// (issue 16).
struct MetricSpec {
  std::string type;  // "Resource", "ContainerResource", "Pods", "Object", "External", or anything (16.9)
  HeapOptional<ResourceMetricSource> resource;
  HeapOptional<ContainerResourceMetricSource> container_resource;
  HeapOptional<PodsMetricSource> pods;
  HeapOptional<ObjectMetricSource> object;
  HeapOptional<ExternalMetricSource> external;
};

struct MetricStatus {
  std::string type;  // "" for the empty entry of a failed metric (X5)
  // Exactly one of these is set, matching type.
  HeapOptional<std::pair<std::string, MetricValueStatus>> resource;  // name, current
  struct ContainerResource { std::string name; std::string container; MetricValueStatus current; };
  HeapOptional<ContainerResource> container_resource;
  struct PodsOrExternal { MetricIdentifier metric; MetricValueStatus current; };
  HeapOptional<PodsOrExternal> pods;
  HeapOptional<PodsOrExternal> external;
  struct Object { CrossVersionObjectReference described_object; MetricIdentifier metric; MetricValueStatus current; };
  HeapOptional<Object> object;
};

struct HpaScalingPolicy {
  std::string type;  // "Pods" or "Percent"
  int32_t value = 0;
  int32_t period_seconds = 0;
};

struct HpaScalingRules {
  std::optional<int32_t> stabilization_window_seconds;
  std::optional<std::string> select_policy;  // "Max", "Min", "Disabled"
  std::vector<HpaScalingPolicy> policies;
  bool policies_set = false;  // distinguishes an explicit [] from absent (B12)
  std::optional<Quantity> tolerance;
};

struct HpaBehavior {
  std::optional<HpaScalingRules> scale_up;
  std::optional<HpaScalingRules> scale_down;
};

struct HpaCondition {
  std::string type;
  std::string status;  // "True", "False", "Unknown"
  std::optional<Time> last_transition_time;
  std::string reason;
  std::string message;
};

struct HpaSpec {
  CrossVersionObjectReference scale_target_ref;
  std::optional<int32_t> min_replicas;
  int32_t max_replicas = 0;
  std::vector<MetricSpec> metrics;
  std::optional<HpaBehavior> behavior;
};

struct HpaStatus {
  std::optional<int64_t> observed_generation;
  std::optional<Time> last_scale_time;
  int32_t current_replicas = 0;
  int32_t desired_replicas = 0;
  std::vector<MetricStatus> current_metrics;
  std::vector<HpaCondition> conditions;
};

struct Hpa {
  ObjectMeta metadata;
  HpaSpec spec;
  HpaStatus status;
  // The object as read, without `status` (every write sends a whole new
  // status), as compact JSON text shared by the copies of this Hpa: only a
  // write-back reads it (unknown-field preservation), and a DOM of every
  // cached HPA cost ~7 KB each where the text costs ~1-2 KB (issue 16).
  std::shared_ptr<const std::string> raw;
};

// autoscaling/v2 JSON -> Hpa. Errors name the field path ("spec.metrics[1].resource.target.averageValue: ...").
Result<Hpa> HpaFromJson(const nlohmann::json& j);
// Hpa -> autoscaling/v2 JSON, starting from hpa.raw so unknown fields are kept.
nlohmann::json HpaToJson(const Hpa& hpa);
// The same object with `status` in place of hpa.status (the reconciler writes
// its working status without copying the informer's snapshot).
nlohmann::json HpaToJson(const Hpa& hpa, const HpaStatus& status);
nlohmann::json HpaStatusToJson(const HpaStatus& status);
nlohmann::json MetricStatusToJson(const MetricStatus& m);
// Semantic equality for W4 (times compared at second precision, quantities by value).
bool HpaStatusEqual(const HpaStatus& a, const HpaStatus& b);

// autoscaling/v1 <-> v2 conversion as the API server does it (targetCPUUtilizationPercentage
// <-> a Resource cpu Utilization metric; other metrics kept in the
// autoscaling.alpha.kubernetes.io/metrics annotation is NOT done: they are dropped).
nlohmann::json HpaV1ToV2(const nlohmann::json& v1);
nlohmann::json HpaV2ToV1(const nlohmann::json& v2);

}  // namespace hpad::k8s
