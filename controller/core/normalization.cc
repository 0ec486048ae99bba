// Legacy and behaviour normalisation; rule numbers refer to hpa-semantics.md 11 and 16.
#include "controller/core/normalization.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string_view>

namespace hpad::ctrl {
namespace {

constexpr const char* kScaleUpLimitMsg = "the desired replica count is increasing faster than the maximum scale rate";
constexpr const char* kScaleDownLimitMsg = "the desired replica count is decreasing faster than the maximum scale rate";
constexpr const char* kTooManyMsg = "the desired replica count is more than the maximum replica count";
constexpr const char* kTooFewMsg = "the desired replica count is less than the minimum replica count";
constexpr const char* kWithinRangeMsg = "the desired count is within the acceptable range";
constexpr const char* kScaleDownStabilizedMsg =
    "recent recommendations were higher than current one, applying the highest recent recommendation";
constexpr const char* kScaleUpStabilizedMsg =
    "recent recommendations were lower than current one, applying the lowest recent recommendation";
constexpr const char* kReadyForNewScaleMsg = "recommended size matches current size";

Duration Seconds(int64_t s) { return std::chrono::seconds(s); }

void StoreRecommendation(std::vector<TimestampedRecommendation>& recs, bool found_old, size_t old_index,
                         int32_t value, Time now) {
  if (found_old) {
    recs[old_index] = {value, now};
  } else {
    recs.push_back({value, now});
  }
}

// LimitResult with static texts: the normalisers run on every reconcile
// (issue 7: > 1M decisions/s/core), so reasons and messages are turned into
// strings once, where they land (NormalizationResult), not at every step.
struct Limit {
  int32_t desired = 0;
  const char* reason = "";
  const char* message = "";
};
LimitResult ToLimitResult(const Limit& l) { return {l.desired, l.reason, l.message}; }

ConditionUpdate LimitedCondition(const Limit& r, int32_t stabilized) {
  // L4/B8: False only when nothing was limited.
  return {"ScalingLimited", r.desired == stabilized ? "False" : "True", r.reason, r.message};
}

int32_t LongestPolicyPeriod(const k8s::HpaScalingRules& rules) {
  int32_t longest = 0;
  for (const auto& p : rules.policies) longest = std::max(longest, p.period_seconds);
  return longest;
}

k8s::HpaScalingRules DefaultRules(const std::optional<k8s::HpaScalingRules>& in, bool scale_up,
                                  Duration downscale_window) {
  k8s::HpaScalingRules r = in.value_or(k8s::HpaScalingRules{});
  if (scale_up) {
    if (!r.stabilization_window_seconds) r.stabilization_window_seconds = 0;
    if (!r.policies_set && r.policies.empty()) {
      r.policies = {{"Pods", 4, 15}, {"Percent", 100, 15}};
      r.policies_set = true;
    }
  } else {
    // B1: a nil scaleDown window comes from --horizontal-pod-autoscaler-downscale-stabilization.
    if (!r.stabilization_window_seconds) {
      r.stabilization_window_seconds =
          static_cast<int32_t>(std::chrono::duration_cast<std::chrono::seconds>(downscale_window).count());
    }
    if (!r.policies_set && r.policies.empty()) {
      r.policies = {{"Percent", 100, 15}};
      r.policies_set = true;
    }
  }
  if (!r.select_policy) r.select_policy = "Max";
  return r;
}

}  // namespace

void RecordInitialRecommendation(HpaHistory& history, int32_t current_replicas, Time now) {
  if (history.recommendations.empty()) history.recommendations.push_back({current_replicas, now});
}

int32_t StabilizeRecommendationLegacy(HpaHistory& history, int32_t prenormalized, Duration downscale_window,
                                      Time now) {
  int32_t max_rec = prenormalized;
  bool found_old = false;
  size_t old_index = 0;
  const Time cutoff = now - std::chrono::duration_cast<Time::duration>(downscale_window);
  for (size_t i = 0; i < history.recommendations.size(); i++) {
    const auto& rec = history.recommendations[i];
    if (rec.timestamp < cutoff) {  // 16.1: legacy keeps entries exactly at the cutoff
      found_old = true;
      old_index = i;
    } else if (rec.recommendation > max_rec) {
      max_rec = rec.recommendation;
    }
  }
  // L1: the raw proposal is remembered, even above maxReplicas (upstream
  // stores prenormalizedDesiredReplicas, so ScalingLimited stays
  // TooManyReplicas while such a proposal is inside the window).
  StoreRecommendation(history.recommendations, found_old, old_index, prenormalized, now);
  return max_rec;
}

namespace {

Limit RulesLimit(int32_t current, int32_t desired, int32_t min_replicas, int32_t max_replicas) {
  // L3: float math as upstream's math.Max(2*S, 4) (16.8).
  const int32_t scale_up_limit = static_cast<int32_t>(std::max(2.0 * static_cast<double>(current), 4.0));
  int32_t max_allowed;
  Limit r;
  if (max_replicas > scale_up_limit) {
    max_allowed = scale_up_limit;
    r.reason = "ScaleUpLimit";
    r.message = kScaleUpLimitMsg;
  } else {
    max_allowed = max_replicas;
    r.reason = "TooManyReplicas";
    r.message = kTooManyMsg;
  }
  if (desired < min_replicas) {
    return {min_replicas, "TooFewReplicas", kTooFewMsg};
  }
  if (desired > max_allowed) {
    r.desired = max_allowed;
    return r;
  }
  return {desired, "DesiredWithinRange", kWithinRangeMsg};
}

}  // namespace

LimitResult ConvertDesiredReplicasWithRules(int32_t current, int32_t desired, int32_t min_replicas,
                                            int32_t max_replicas) {
  return ToLimitResult(RulesLimit(current, desired, min_replicas, max_replicas));
}

NormalizationResult NormalizeLegacy(HpaHistory& history, int32_t current, int32_t prenormalized, int32_t min_replicas,
                                    int32_t max_replicas, Duration downscale_window, Time now) {
  NormalizationResult out;
  out.stabilized = StabilizeRecommendationLegacy(history, prenormalized, downscale_window, now);
  if (out.stabilized != prenormalized) {
    out.able_to_scale = {"AbleToScale", "True", "ScaleDownStabilized", kScaleDownStabilizedMsg};  // L2
  } else {
    out.able_to_scale = {"AbleToScale", "True", "ReadyForNewScale", kReadyForNewScaleMsg};
  }
  Limit lim = RulesLimit(current, out.stabilized, min_replicas, max_replicas);
  out.desired = lim.desired;
  out.scaling_limited = LimitedCondition(lim, out.stabilized);
  return out;
}

k8s::HpaBehavior DefaultBehavior(const k8s::HpaBehavior& behavior, Duration downscale_window) {
  k8s::HpaBehavior b;
  b.scale_up = DefaultRules(behavior.scale_up, true, downscale_window);
  b.scale_down = DefaultRules(behavior.scale_down, false, downscale_window);
  return b;
}

namespace {

struct Stabilized {
  int32_t recommendation = 0;
  const char* reason = "";
  const char* message = "";
};

Stabilized Stabilize(HpaHistory& history, int32_t current, int32_t prenormalized, const k8s::HpaBehavior& behavior,
                     Time now) {
  int32_t up_rec = prenormalized;
  int32_t down_rec = prenormalized;
  const Time up_cutoff = now - Seconds(behavior.scale_up->stabilization_window_seconds.value_or(0));
  const Time down_cutoff = now - Seconds(behavior.scale_down->stabilization_window_seconds.value_or(0));
  bool found_old = false;
  size_t old_index = 0;
  for (size_t i = 0; i < history.recommendations.size(); i++) {
    const auto& rec = history.recommendations[i];
    // 16.1: the behaviour path keeps only entries strictly after the cutoff.
    if (rec.timestamp > up_cutoff) up_rec = std::min(rec.recommendation, up_rec);
    if (rec.timestamp > down_cutoff) down_rec = std::max(rec.recommendation, down_rec);
    if (rec.timestamp < up_cutoff && rec.timestamp < down_cutoff) {  // B3
      found_old = true;
      old_index = i;
    }
  }
  // B2: clamp S into [upRec, downRec].
  int32_t rec = current;
  if (rec < up_rec) rec = up_rec;
  if (rec > down_rec) rec = down_rec;
  StoreRecommendation(history.recommendations, found_old, old_index, prenormalized, now);
  Stabilized out;
  out.recommendation = rec;
  if (prenormalized >= current) {  // B4
    out.reason = "ScaleUpStabilized";
    out.message = kScaleUpStabilizedMsg;
  } else {
    out.reason = "ScaleDownStabilized";
    out.message = kScaleDownStabilizedMsg;
  }
  return out;
}

}  // namespace

StabilizeResult StabilizeRecommendationWithBehaviors(HpaHistory& history, int32_t current, int32_t prenormalized,
                                                     const k8s::HpaBehavior& behavior, Time now) {
  Stabilized st = Stabilize(history, current, prenormalized, behavior, now);
  return {st.recommendation, st.reason, st.message};
}

int32_t GetReplicasChangePerPeriod(int32_t period_seconds, const std::vector<TimestampedScaleEvent>& events,
                                   Time now) {
  const Time cutoff = now - Seconds(period_seconds);
  int32_t replicas = 0;
  for (const auto& e : events) {
    if (e.timestamp > cutoff) replicas += e.replica_change;  // 16.1: strictly after
  }
  return replicas;
}

int32_t CalculateScaleUpLimitWithScalingRules(int32_t current, const std::vector<TimestampedScaleEvent>& up,
                                              const std::vector<TimestampedScaleEvent>& down,
                                              const k8s::HpaScalingRules& rules, Time now) {
  const std::string_view select = rules.select_policy ? std::string_view(*rules.select_policy) : "Max";
  if (select == "Disabled") return current;  // B11
  const bool min_change = select == "Min";
  int32_t result = min_change ? std::numeric_limits<int32_t>::max() : std::numeric_limits<int32_t>::min();
  for (const auto& p : rules.policies) {
    const int32_t added = GetReplicasChangePerPeriod(p.period_seconds, up, now);
    const int32_t removed = GetReplicasChangePerPeriod(p.period_seconds, down, now);
    const int32_t start = current - added + removed;  // B9
    int32_t proposed = 0;
    if (p.type == "Pods") {
      proposed = start + p.value;
    } else if (p.type == "Percent") {
      // Rounded up so that a small percentage still adds a pod.
      proposed = static_cast<int32_t>(
          std::ceil(static_cast<double>(start) * (1.0 + static_cast<double>(p.value) / 100.0)));
    }
    result = min_change ? std::min(result, proposed) : std::max(result, proposed);
  }
  return result;
}

int32_t CalculateScaleDownLimitWithBehaviors(int32_t current, const std::vector<TimestampedScaleEvent>& up,
                                             const std::vector<TimestampedScaleEvent>& down,
                                             const k8s::HpaScalingRules& rules, Time now) {
  const std::string_view select = rules.select_policy ? std::string_view(*rules.select_policy) : "Max";
  if (select == "Disabled") return current;
  const bool min_change = select == "Min";
  int32_t result = min_change ? std::numeric_limits<int32_t>::min() : std::numeric_limits<int32_t>::max();
  for (const auto& p : rules.policies) {
    const int32_t added = GetReplicasChangePerPeriod(p.period_seconds, up, now);
    const int32_t removed = GetReplicasChangePerPeriod(p.period_seconds, down, now);
    const int32_t start = current - added + removed;
    int32_t proposed = 0;
    if (p.type == "Pods") {
      proposed = start - p.value;
    } else if (p.type == "Percent") {
      // 16.3: float64 truncation; int32(20 * (1 - 0.9)) is 1.
      proposed = static_cast<int32_t>(static_cast<double>(start) * (1.0 - static_cast<double>(p.value) / 100.0));
    }
    result = min_change ? std::max(result, proposed) : std::min(result, proposed);
  }
  return result;
}

namespace {

Limit BehaviorRateLimit(const HpaHistory& history, int32_t current, int32_t stabilized, int32_t min_replicas,
                        int32_t max_replicas, const k8s::HpaBehavior& behavior, Time now) {
  Limit r;
  if (stabilized > current) {  // B5
    int32_t limit = CalculateScaleUpLimitWithScalingRules(current, history.scale_up_events,
                                                          history.scale_down_events, *behavior.scale_up, now);
    if (limit < current) limit = current;
    int32_t max_allowed = max_replicas;
    if (max_allowed > limit) {
      max_allowed = limit;
      r.reason = "ScaleUpLimit";
      r.message = kScaleUpLimitMsg;
    } else {
      r.reason = "TooManyReplicas";
      r.message = kTooManyMsg;
    }
    if (stabilized > max_allowed) {
      r.desired = max_allowed;
      return r;
    }
  } else if (stabilized < current) {  // B6
    int32_t limit = CalculateScaleDownLimitWithBehaviors(current, history.scale_up_events,
                                                         history.scale_down_events, *behavior.scale_down, now);
    if (limit > current) limit = current;
    int32_t min_allowed = min_replicas;
    if (min_allowed < limit) {
      min_allowed = limit;
      r.reason = "ScaleDownLimit";
      r.message = kScaleDownLimitMsg;
    } else {
      r.reason = "TooFewReplicas";
      r.message = kTooFewMsg;
    }
    if (stabilized < min_allowed) {
      r.desired = min_allowed;
      return r;
    }
  }
  return {stabilized, "DesiredWithinRange", kWithinRangeMsg};  // B7
}

}  // namespace

LimitResult ConvertDesiredReplicasWithBehaviorRate(const HpaHistory& history, int32_t current, int32_t stabilized,
                                                   int32_t min_replicas, int32_t max_replicas,
                                                   const k8s::HpaBehavior& behavior, Time now) {
  return ToLimitResult(
      BehaviorRateLimit(history, current, stabilized, min_replicas, max_replicas, behavior, now));
}

NormalizationResult NormalizeWithBehaviors(HpaHistory& history, int32_t current, int32_t prenormalized,
                                           int32_t min_replicas, int32_t max_replicas,
                                           const k8s::HpaBehavior& behavior, Time now) {
  NormalizationResult out;
  Stabilized st = Stabilize(history, current, prenormalized, behavior, now);
  out.stabilized = st.recommendation;
  if (st.recommendation != prenormalized) {
    out.able_to_scale = {"AbleToScale", "True", st.reason, st.message};
  } else {
    out.able_to_scale = {"AbleToScale", "True", "ReadyForNewScale", kReadyForNewScaleMsg};
  }
  Limit lim = BehaviorRateLimit(history, current, out.stabilized, min_replicas, max_replicas, behavior, now);
  out.desired = lim.desired;
  out.scaling_limited = LimitedCondition(lim, out.stabilized);
  return out;
}

void StoreScaleEvent(HpaHistory& history, const k8s::HpaBehavior& behavior, int32_t prev_replicas,
                     int32_t new_replicas, Time now) {
  const bool up = new_replicas > prev_replicas;
  auto& events = up ? history.scale_up_events : history.scale_down_events;
  const auto& rules = up ? behavior.scale_up : behavior.scale_down;
  const int32_t longest = rules ? LongestPolicyPeriod(*rules) : 0;
  const Time cutoff = now - Seconds(longest);
  bool found_old = false;
  size_t old_index = 0;
  for (size_t i = 0; i < events.size(); i++) {
    if (events[i].timestamp < cutoff) events[i].outdated = true;  // B10: reuse outdated slots
    if (events[i].outdated) {
      found_old = true;
      old_index = i;
    }
  }
  TimestampedScaleEvent e{up ? new_replicas - prev_replicas : prev_replicas - new_replicas, now, false};
  if (found_old) {
    events[old_index] = e;
  } else {
    events.push_back(e);
  }
}

}  // namespace hpad::ctrl
