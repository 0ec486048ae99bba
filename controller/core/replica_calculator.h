// Replica calculator: the pure per-metric math of the HPA controller
// (hpa-semantics.md sections 6, 8 and 9).
//
// Everything here is a function of its arguments: fetched metric values,
// the pods matching the target's selector, the tolerance band and `now`.
// No I/O, no clock reads, no locks; safe to call from any thread. The
// reconciler fetches metrics (MetricsClient) and pods (pod lister) and hands
// them in. Errors are returned as Status whose message is upstream's text
// byte for byte (X4a `<inner>`), because they end up in events and
// conditions.
#pragma once

#include <chrono>
#include <cstdint>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "k8sclient/base/clock.h"
#include "k8sclient/base/status.h"
#include "k8sclient/api/types/pod.h"

namespace hpad::ctrl {

// One metric sample for one pod (M3): milli value, the sample's timestamp and window.
struct PodMetric {
  int64_t value = 0;
  Time timestamp{};
  std::chrono::milliseconds window{0};
};
// Pod name -> sample. Ordered so that results never depend on hash order.
using PodMetricsInfo = std::map<std::string, PodMetric>;

// C1: tolerance band [1 - down, 1 + up], both ends inclusive.
struct Tolerances {
  double scale_down = 0.1;
  double scale_up = 0.1;
  bool IsWithin(double ratio) const { return (1.0 - scale_down) <= ratio && ratio <= (1.0 + scale_up); }
};

// P4 tuning (--horizontal-pod-autoscaler-cpu-initialization-period and
// --horizontal-pod-autoscaler-initial-readiness-delay).
struct ReadinessTuning {
  Duration cpu_initialization_period = std::chrono::minutes(5);
  Duration initial_readiness_delay = std::chrono::seconds(30);
};

using PodList = std::vector<std::shared_ptr<const k8s::Pod>>;

// Section 6 result. Every pod falls into exactly one class.
struct PodGroups {
  int ready_count = 0;
  std::set<std::string> unready;
  std::set<std::string> missing;
  std::set<std::string> ignored;
};

// P1-P5. `resource` is the resource name for Resource/ContainerResource
// metrics ("cpu" enables P4) and "" for Pods metrics.
PodGroups GroupPods(const PodList& pods, const PodMetricsInfo& metrics, const std::string& resource,
                    const ReadinessTuning& tuning, Time now);

// RQ1-RQ4: pod name -> summed request (milli) for every pod in the list.
// `container` "" = whole pod. `pod_level_resources`: the PodLevelResources gate (RQ2).
Result<std::map<std::string, int64_t>> CalculatePodRequests(const PodList& pods, const std::string& container,
                                                            const std::string& resource,
                                                            bool pod_level_resources = false);

// C3.
struct UtilizationRatio {
  double ratio = 0;
  int32_t utilization = 0;      // percent, truncated
  int64_t raw_average_value = 0;  // milli, sumV / n over pods with requests
};
Result<UtilizationRatio> GetResourceUtilizationRatio(const PodMetricsInfo& metrics,
                                                     const std::map<std::string, int64_t>& requests,
                                                     int32_t target_utilization);

// C9: usage = sum / len (all entries, superfluous included), ratio = usage / target.
struct UsageRatio {
  double ratio = 0;
  int64_t usage = 0;
};
UsageRatio GetMetricUsageRatio(const PodMetricsInfo& metrics, int64_t target_usage);

// Result of one per-pod metric computation (Resource, ContainerResource, Pods).
struct PodMetricProposal {
  int32_t replicas = 0;
  int32_t utilization = 0;  // utilization targets only
  int64_t usage = 0;        // milli: raw average value (C3) or usage (C9)
};

// C2-C7: Resource/ContainerResource with an averageUtilization target.
// `metrics` are the values fetched for the selector (M1/M2), `pods` the pods
// matching it (S4). `container` "" = whole pod. Pods in strictly increasing
// name order (the lister's order) take an allocation-free merge pass; any
// other order gives the same result the slower way (see the .cc).
Result<PodMetricProposal> CalcResourceUtilizationReplicas(int32_t current_replicas, int32_t target_utilization,
                                                          const std::string& resource, const std::string& container,
                                                          const Tolerances& tolerances, const PodMetricsInfo& metrics,
                                                          const PodList& pods, const ReadinessTuning& tuning, Time now,
                                                          bool pod_level_resources = false);

// C8-C10: Resource/ContainerResource averageValue targets (resource = the
// resource name, so cpu gets P4) and Pods metrics (resource = "").
Result<PodMetricProposal> CalcPlainMetricReplicas(int32_t current_replicas, int64_t target_usage,
                                                  const std::string& resource, const Tolerances& tolerances,
                                                  const PodMetricsInfo& metrics, const PodList& pods,
                                                  const ReadinessTuning& tuning, Time now);

// Issue 12: one row per pod with the class P1-P5 put it in and the rule id,
// from the classifier the calculations use (no second implementation).
// `with_requests` adds RQ1-RQ4 requests (utilization targets).
struct PodTable;
PodTable TracePodTable(const PodList& pods, const PodMetricsInfo& metrics, const std::string& resource,
                       const std::string& container, bool with_requests, const ReadinessTuning& tuning, Time now,
                       bool pod_level_resources = false);

// C11: pods matching the selector that are Running with Ready=True
// (deletionTimestamp deliberately not checked).
Result<int64_t> ReadyPodsCount(const PodList& pods);

// C11/C13 Value targets: `usage_ratio` = v / V. S != 0: tolerance, then
// ceil(ratio * readyPods) capped at 2^31-1 (pods listed only when outside the
// band); S == 0: int32(ceil(ratio)) with no tolerance and no cap.
Result<int32_t> UsageRatioReplicaCount(int32_t current_replicas, double usage_ratio, const Tolerances& tolerances,
                                       const PodList& pods);

// C12/C14 AverageValue targets for Object/External metrics.
struct PerPodProposal {
  int32_t replicas = 0;
  int64_t usage = 0;  // reported averageValue: ceil(v / SR) (16.11)
};
// `cap_int32` true for External (16.7), false for Object.
PerPodProposal PerPodMetricReplicas(int32_t status_replicas, int64_t usage, int64_t target_average,
                                    const Tolerances& tolerances, bool cap_int32);

// M6: sums external series. `average_value_target` selects the AverageValue
// overflow rule; otherwise positive overflow saturates at 2^63-1.
int64_t SumExternalValues(const std::vector<int64_t>& values, bool average_value_target);

// Go's int32(math.Ceil(x)) for the values the controller produces (finite,
// in range); out-of-range values saturate instead of being undefined.
int32_t CeilToInt32(double x);

}  // namespace hpad::ctrl
