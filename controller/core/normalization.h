// Scale decision after the metrics: per-HPA history (H1/H2), the legacy
// normalisation L1-L5 (spec.behavior nil) and the behaviour normalisation
// B1-B12 (stabilisation windows, rate-limit policies, scale events).
//
// Pure: history is passed in by reference and `now` is an argument. The
// reconciler owns one HpaHistory per HPA key and serialises access to it
// (one worker per key, Q1).
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <limits>
#include <string>
#include <vector>

#include "k8sclient/base/clock.h"
#include "k8sclient/api/types/hpa.h"

namespace hpad::ctrl {

struct TimestampedRecommendation {
  int32_t recommendation = 0;
  Time timestamp{};
};

struct TimestampedScaleEvent {
  int32_t replica_change = 0;  // absolute value of the change
  Time timestamp{};
  bool outdated = false;
};

// H1: in-memory, never persisted; dropped when the HPA is gone.
struct HpaHistory {
  std::vector<TimestampedRecommendation> recommendations;
  std::vector<TimestampedScaleEvent> scale_up_events;
  std::vector<TimestampedScaleEvent> scale_down_events;
};

// A condition to set (W5 does the bookkeeping).
struct ConditionUpdate {
  std::string type;
  std::string status;  // "True" / "False"
  std::string reason;
  std::string message;
};

struct NormalizationTrace;  // decision_trace.h

struct NormalizationResult {
  int32_t desired = 0;
  int32_t stabilized = 0;
  ConditionUpdate able_to_scale;    // L2 / B4
  ConditionUpdate scaling_limited;  // L4 / B8
};

// H2 / R4: the first reconcile of a key records (S, now).
void RecordInitialRecommendation(HpaHistory& history, int32_t current_replicas, Time now);

// L1: highest of P and all recommendations not older than the window (entries
// exactly at the cutoff are kept); stores (P, now) over the last old entry,
// P unclamped even above maxReplicas, as upstream does.
int32_t StabilizeRecommendationLegacy(HpaHistory& history, int32_t prenormalized, Duration downscale_window, Time now);

// L3: returns (desired, reason, message).
struct LimitResult {
  int32_t desired = 0;
  std::string reason;
  std::string message;
};
LimitResult ConvertDesiredReplicasWithRules(int32_t current, int32_t desired, int32_t min_replicas, int32_t max_replicas);

// L1-L4.
// `trace` (may be null) receives the window, its entries and the limit.
NormalizationResult NormalizeLegacy(HpaHistory& history, int32_t current, int32_t prenormalized, int32_t min_replicas,
                                    int32_t max_replicas, Duration downscale_window, Time now,
                                    NormalizationTrace* trace = nullptr);

// B1 + D3: fills the API defaults into a behaviour (idempotent; the API
// server has normally done it) and the scaleDown window from the flag.
k8s::HpaBehavior DefaultBehavior(const k8s::HpaBehavior& behavior, Duration downscale_window);

// B2/B3: returns the stabilised value and the B4 reason/message pair.
struct StabilizeResult {
  int32_t recommendation = 0;
  std::string reason;
  std::string message;
};
StabilizeResult StabilizeRecommendationWithBehaviors(HpaHistory& history, int32_t current, int32_t prenormalized,
                                                     const k8s::HpaBehavior& behavior, Time now);

// B5/B6 helpers.
int32_t GetReplicasChangePerPeriod(int32_t period_seconds, const std::vector<TimestampedScaleEvent>& events, Time now);
int32_t CalculateScaleUpLimitWithScalingRules(int32_t current, const std::vector<TimestampedScaleEvent>& up,
                                              const std::vector<TimestampedScaleEvent>& down,
                                              const k8s::HpaScalingRules& rules, Time now);
int32_t CalculateScaleDownLimitWithBehaviors(int32_t current, const std::vector<TimestampedScaleEvent>& up,
                                             const std::vector<TimestampedScaleEvent>& down,
                                             const k8s::HpaScalingRules& rules, Time now);
// The same, recording each policy evaluated into `rows` (may be null; decision_trace.h).
struct PolicyTrace;
int32_t CalculateScaleUpLimitTraced(int32_t current, const std::vector<TimestampedScaleEvent>& up,
                                    const std::vector<TimestampedScaleEvent>& down, const k8s::HpaScalingRules& rules,
                                    Time now, std::vector<PolicyTrace>* rows);
int32_t CalculateScaleDownLimitTraced(int32_t current, const std::vector<TimestampedScaleEvent>& up,
                                      const std::vector<TimestampedScaleEvent>& down,
                                      const k8s::HpaScalingRules& rules, Time now, std::vector<PolicyTrace>* rows);
// B5-B7 on the stabilised value.
LimitResult ConvertDesiredReplicasWithBehaviorRate(const HpaHistory& history, int32_t current, int32_t stabilized,
                                                   int32_t min_replicas, int32_t max_replicas,
                                                   const k8s::HpaBehavior& behavior, Time now);

// B1-B8. `behavior` must already be defaulted (DefaultBehavior).
// `trace` (may be null) receives the windows, entries and every policy evaluated.
NormalizationResult NormalizeWithBehaviors(HpaHistory& history, int32_t current, int32_t prenormalized,
                                           int32_t min_replicas, int32_t max_replicas,
                                           const k8s::HpaBehavior& behavior, Time now,
                                           NormalizationTrace* trace = nullptr);

// B10: after a successful rescale with a behaviour (defaulted).
void StoreScaleEvent(HpaHistory& history, const k8s::HpaBehavior& behavior, int32_t prev_replicas,
                     int32_t new_replicas, Time now);

}  // namespace hpad::ctrl
