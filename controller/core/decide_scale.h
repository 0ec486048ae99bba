// DecideScale: the replica decision of one reconcile as a pure function
// (hpa-semantics.md R4-R12 and X2-X4, upstream reconcileAutoscaler from
// "currentReplicas := scale.Spec.Replicas" to the rescale decision, plus the
// combination step of computeReplicasForMetrics).
//
// The reconciler reads the HPA and its scale, asks NeedsMetrics (R6) whether
// metrics are to be computed, fetches them (one MetricResult per metric, or a
// SelectorFailure for S1-S4), then calls DecideScale. Everything DecideScale
// wants written comes back as values: the desired count and its reason, the
// condition changes (applied in order with W5 bookkeeping) and the events (in
// the order upstream records them). After the scale write the reconciler
// calls AfterRescale (W1/W2, B10, Z5) with the write's result.
//
// Pure: no clock read, I/O, lock or log; `now` is an argument and the only
// state touched is the HpaHistory passed by reference, which the caller
// serialises (one worker per key, Q1). Not thread-safe on one history.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "controller/core/decision_trace.h"
#include "controller/core/normalization.h"
#include "k8sclient/api/types/hpa.h"
#include "k8sclient/base/clock.h"
#include "k8sclient/base/status.h"

namespace hpad::ctrl {

// Condition type names (12.2).
inline constexpr const char* kAbleToScale = "AbleToScale";
inline constexpr const char* kScalingActive = "ScalingActive";
inline constexpr const char* kScalingLimited = "ScalingLimited";
inline constexpr const char* kScaledToZero = "ScaledToZero";

// One spec.metrics[i] after fetching and its per-metric proposal (section
// 9): ComputeReplicasForMetric's output.
struct MetricResult {
  bool ok = false;
  int32_t replicas = 0;         // the proposal, when ok
  std::string description{};      // <M> (12.4), when ok
  k8s::MetricStatus status{};   // X5: stays empty when the metric failed
  // When !ok (X1): the reason of the Warning event and of the ScalingActive
  // condition, the event text (the condition adds its prefix), and the text
  // X4 aggregates.
  std::string failure_reason{};
  std::string failure_message{};
  std::string aggregate_error{};
  bool spec_error = false;      // 15.1 error label "spec" instead of "internal"
};

// S1-S4: the target's selector cannot be used, so no metric was fetched.
struct SelectorFailure {
  // The Warning event and the ScalingActive condition; an empty reason means
  // none (S3: the HPA was deleted meanwhile).
  std::string event_reason{};
  std::string event_message{};
  std::string condition_reason{};
  std::string condition_message{};
  std::string error{};              // the metrics error text (R7)
};

// What the fetch stage produced (R7): either a selector failure or one
// result per effective metric spec (D1 already applied).
struct MetricsFetch {
  std::optional<SelectorFailure> selector_failure{};
  std::vector<MetricResult> results{};
};

struct DecideOptions {
  bool scale_to_zero = false;  // HPAScaleToZero (13.3, Z rules)
  Duration downscale_stabilization = std::chrono::minutes(5);  // --horizontal-pod-autoscaler-downscale-stabilization
};

// An event to record on the HPA (12.3), as a value.
struct ControllerEvent {
  std::string type{};  // "Normal" | "Warning"
  std::string reason{};
  std::string message{};
};

// A change of one condition: set (W5 bookkeeping) or remove.
struct ConditionChange {
  ConditionUpdate condition{};
  bool remove = false;  // remove condition.type instead of setting it
};

struct DecideInput {
  const k8s::HpaSpec* spec = nullptr;                         // required
  const std::vector<k8s::HpaCondition>* conditions = nullptr; // the HPA's conditions as read (Z1: ScaledToZero); required
  int32_t current_replicas = 0;                               // scale.spec.replicas (R4)
  const MetricsFetch* metrics = nullptr;                      // set iff NeedsMetrics() held
  // Optional (issue 12): receives the winning metric, the normalisation
  // steps and the outcome. Null costs nothing; metrics[] rows are the
  // caller's (it knows the fetched values) and are only annotated here.
  DecisionTrace* trace = nullptr;
};

struct ScaleDecision {
  int32_t current_replicas = 0;
  int32_t desired_replicas = 0;   // R12: equals current when !rescale
  std::string reason{};             // R6 b/c or R8 text; "" when none
  bool rescale = false;           // R11: write the scale
  // R7: the metrics could not be combined; the reconciler writes the status
  // and fails with `metrics_error`, recording `failure_event` after the
  // status write (upstream's order).
  bool metrics_failed = false;
  std::string metrics_error{};      // X4 text (also set by X3's second case, R14)
  bool metrics_error_spec = false;
  std::optional<ControllerEvent> failure_event{};
  std::vector<k8s::MetricStatus> metric_statuses{};  // X5, one per metric
  std::vector<ConditionChange> conditions{};         // in order
  std::vector<ControllerEvent> events{};             // in order, recorded before any write
};

// R6: whether the metrics are computed at all for this scale and spec.
bool NeedsMetrics(const k8s::HpaSpec& spec, const std::vector<k8s::HpaCondition>& conditions,
                  int32_t current_replicas, const DecideOptions& options);

// R4-R12, X2-X4. Updates `history` (H2 initial recommendation, L1/B2
// recommendations) as upstream does; a scale event is stored only by
// AfterRescale, once the write succeeded (B10).
ScaleDecision DecideScale(const DecideInput& input, HpaHistory& history, const DecideOptions& options, Time now);
// DecideScale without copying the outcome into input.trace (internal step).
ScaleDecision DecideScaleSteps(const DecideInput& input, HpaHistory& history, const DecideOptions& options,
                               Time now);

// What follows the scale write (W1/W2, B10, Z5).
struct RescaleOutcome {
  std::vector<ConditionChange> conditions{};
  std::vector<ControllerEvent> events{};
};
// `update` is the scale write's result. On success stores the scale event
// (B10, behaviour path only) and sets AbleToScale/ScaledToZero (Z5); on
// failure the FailedRescale event and AbleToScale False (W2).
RescaleOutcome AfterRescale(const ScaleDecision& decision, const k8s::HpaSpec& spec, const Status& update,
                            HpaHistory& history, const DecideOptions& options, Time now);

// Applies condition changes in order to `conditions` (W5).
void ApplyConditionChanges(std::vector<k8s::HpaCondition>& conditions, const std::vector<ConditionChange>& changes,
                           Time now);

}  // namespace hpad::ctrl
