// Legacy and behaviour normalisation; rule numbers refer to hpa-semantics.md 11 and 16.
#include "controller/core/normalization.h"

#include "controller/core/decision_trace.h"

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

// B1 for one direction, built in place in `out` (DefaultBehavior runs on
// every reconcile of an HPA with a behavior: no temporary rules object, no
// initializer-list policies to build and destroy).
void DefaultRulesInto(std::optional<k8s::HpaScalingRules>& out, const std::optional<k8s::HpaScalingRules>& in,
                      bool scale_up, Duration downscale_window) {
  if (in) {
    out.emplace(*in);
  } else {
    out.emplace();
  }
  k8s::HpaScalingRules& r = *out;
  if (scale_up) {
    if (!r.stabilization_window_seconds) r.stabilization_window_seconds = 0;
    if (!r.policies_set && r.policies.empty()) {
      r.policies.reserve(2);  // one allocation, elements built in place
      r.policies.push_back(k8s::HpaScalingPolicy{"Pods", 4, 15});
      r.policies.push_back(k8s::HpaScalingPolicy{"Percent", 100, 15});
      r.policies_set = true;
    }
  } else {
    // B1: a nil scaleDown window comes from --horizontal-pod-autoscaler-downscale-stabilization.
    if (!r.stabilization_window_seconds) {
      r.stabilization_window_seconds =
          static_cast<int32_t>(std::chrono::duration_cast<std::chrono::seconds>(downscale_window).count());
    }
    if (!r.policies_set && r.policies.empty()) {
      r.policies.reserve(1);
      r.policies.push_back(k8s::HpaScalingPolicy{"Percent", 100, 15});
      r.policies_set = true;
    }
  }
  if (!r.select_policy) r.select_policy.emplace("Max", 3);
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
                                    int32_t max_replicas, Duration downscale_window, Time now,
                                    NormalizationTrace* trace) {
  NormalizationResult out;
  if (trace != nullptr) {
    // L1 as StabilizeRecommendationLegacy sees it: entries at the cutoff count (16.1).
    const Duration window = downscale_window;
    const Time cutoff = now - std::chrono::duration_cast<Time::duration>(window);
    trace->behavior = false;
    trace->prenormalized = prenormalized;
    trace->window_seconds = static_cast<int32_t>(std::chrono::duration_cast<std::chrono::seconds>(window).count());
    trace->cutoff = cutoff;
    trace->entries.clear();
    for (const auto& rec : history.recommendations) {
      const bool in = !(rec.timestamp < cutoff);
      trace->entries.push_back({rec.timestamp, rec.recommendation, in});
      if (in && rec.recommendation > prenormalized) {
        const Time frees = rec.timestamp + std::chrono::duration_cast<Time::duration>(window);
        if (!trace->window_frees_at || frees > *trace->window_frees_at) trace->window_frees_at = frees;
      }
    }
  }
  out.stabilized = StabilizeRecommendationLegacy(history, prenormalized, downscale_window, now);
  if (out.stabilized != prenormalized) {
    out.able_to_scale = {"AbleToScale", "True", "ScaleDownStabilized", kScaleDownStabilizedMsg};  // L2
  } else {
    out.able_to_scale = {"AbleToScale", "True", "ReadyForNewScale", kReadyForNewScaleMsg};
  }
  Limit lim = RulesLimit(current, out.stabilized, min_replicas, max_replicas);
  out.desired = lim.desired;
  out.scaling_limited = LimitedCondition(lim, out.stabilized);
  if (trace != nullptr) {
    trace->stabilized = out.stabilized;
    trace->window_direction = out.stabilized != prenormalized ? "scaleDown" : "";
    if (out.stabilized == prenormalized) trace->window_frees_at.reset();
    trace->policy_direction = out.stabilized > current ? "scaleUp" : out.stabilized < current ? "scaleDown" : "";
    trace->rate_limit = static_cast<int32_t>(std::max(2.0 * static_cast<double>(current), 4.0));  // L3
    trace->min_replicas = min_replicas;
    trace->max_replicas = max_replicas;
    trace->desired = out.desired;
    trace->limit_reason = lim.reason;
  }
  return out;
}

k8s::HpaBehavior DefaultBehavior(const k8s::HpaBehavior& behavior, Duration downscale_window) {
  k8s::HpaBehavior b;
  DefaultRulesInto(b.scale_up, behavior.scale_up, true, downscale_window);
  DefaultRulesInto(b.scale_down, behavior.scale_down, false, downscale_window);
  return b;
}

namespace {

struct Stabilized {
  int32_t recommendation = 0;
  const char* reason = "";
  const char* message = "";
};

Stabilized Stabilize(HpaHistory& history, int32_t current, int32_t prenormalized, const k8s::HpaBehavior& behavior,
                     Time now, NormalizationTrace* trace = nullptr) {
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
  if (trace != nullptr) {
    // B2 as the loop above saw it (before this reconcile's entry is stored).
    const int64_t up_window = behavior.scale_up->stabilization_window_seconds.value_or(0);
    const int64_t down_window = behavior.scale_down->stabilization_window_seconds.value_or(0);
    trace->behavior = true;
    trace->prenormalized = prenormalized;
    trace->window_seconds = static_cast<int32_t>(down_window);
    trace->up_window_seconds = static_cast<int32_t>(up_window);
    const bool down = prenormalized < current;
    trace->cutoff = down ? down_cutoff : up_cutoff;
    trace->entries.clear();
    for (const auto& r : history.recommendations) {
      const bool in = r.timestamp > trace->cutoff;
      trace->entries.push_back({r.timestamp, r.recommendation, in});
      // The entries that keep the count away from the proposal, and when they leave.
      const bool holds = down ? r.recommendation > prenormalized : r.recommendation < prenormalized;
      if (in && holds) {
        const Time frees = r.timestamp + Seconds(down ? down_window : up_window);
        if (!trace->window_frees_at || frees > *trace->window_frees_at) trace->window_frees_at = frees;
      }
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

namespace {

// B9 for a trace row: when the oldest event still inside the period leaves it.
std::optional<Time> OldestExpiry(int32_t period_seconds, const std::vector<TimestampedScaleEvent>& events, Time now) {
  const Time cutoff = now - Seconds(period_seconds);
  std::optional<Time> out;
  for (const auto& e : events) {
    if (e.timestamp > cutoff) {
      const Time t = e.timestamp + Seconds(period_seconds);
      if (!out || t < *out) out = t;
    }
  }
  return out;
}

void TracePolicy(std::vector<PolicyTrace>* rows, const k8s::HpaScalingPolicy& p, int32_t start, int32_t added,
                 int32_t removed, int32_t limit, const std::vector<TimestampedScaleEvent>& own_events, Time now) {
  if (rows == nullptr) return;
  rows->push_back(PolicyTrace{.type = p.type,
                              .value = p.value,
                              .period_seconds = p.period_seconds,
                              .period_start = start,
                              .added = added,
                              .removed = removed,
                              .limit = limit,
                              .frees_at = OldestExpiry(p.period_seconds, own_events, now)});
}

}  // namespace

int32_t CalculateScaleUpLimitWithScalingRules(int32_t current, const std::vector<TimestampedScaleEvent>& up,
                                              const std::vector<TimestampedScaleEvent>& down,
                                              const k8s::HpaScalingRules& rules, Time now) {
  return CalculateScaleUpLimitTraced(current, up, down, rules, now, nullptr);
}

int32_t CalculateScaleUpLimitTraced(int32_t current, const std::vector<TimestampedScaleEvent>& up,
                                    const std::vector<TimestampedScaleEvent>& down, const k8s::HpaScalingRules& rules,
                                    Time now, std::vector<PolicyTrace>* rows) {
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
    TracePolicy(rows, p, start, added, removed, proposed, up, now);
    result = min_change ? std::min(result, proposed) : std::max(result, proposed);
  }
  return result;
}

int32_t CalculateScaleDownLimitWithBehaviors(int32_t current, const std::vector<TimestampedScaleEvent>& up,
                                             const std::vector<TimestampedScaleEvent>& down,
                                             const k8s::HpaScalingRules& rules, Time now) {
  return CalculateScaleDownLimitTraced(current, up, down, rules, now, nullptr);
}

int32_t CalculateScaleDownLimitTraced(int32_t current, const std::vector<TimestampedScaleEvent>& up,
                                      const std::vector<TimestampedScaleEvent>& down,
                                      const k8s::HpaScalingRules& rules, Time now, std::vector<PolicyTrace>* rows) {
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
    TracePolicy(rows, p, start, added, removed, proposed, down, now);
    result = min_change ? std::max(result, proposed) : std::min(result, proposed);
  }
  return result;
}

namespace {

Limit BehaviorRateLimit(const HpaHistory& history, int32_t current, int32_t stabilized, int32_t min_replicas,
                        int32_t max_replicas, const k8s::HpaBehavior& behavior, Time now,
                        NormalizationTrace* trace = nullptr) {
  Limit r;
  std::vector<PolicyTrace>* rows = trace != nullptr ? &trace->policies : nullptr;
  if (trace != nullptr) {
    trace->policies.clear();
    trace->policy_direction = stabilized > current ? "scaleUp" : stabilized < current ? "scaleDown" : "";
    const auto& rules = stabilized < current ? behavior.scale_down : behavior.scale_up;
    trace->select_policy = rules && rules->select_policy ? *rules->select_policy : "Max";
    trace->rate_limit = current;
  }
  if (stabilized > current) {  // B5
    int32_t limit = CalculateScaleUpLimitTraced(current, history.scale_up_events, history.scale_down_events,
                                                *behavior.scale_up, now, rows);
    if (trace != nullptr) trace->rate_limit = limit;
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
    int32_t limit = CalculateScaleDownLimitTraced(current, history.scale_up_events, history.scale_down_events,
                                                  *behavior.scale_down, now, rows);
    if (trace != nullptr) trace->rate_limit = limit;
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
                                           const k8s::HpaBehavior& behavior, Time now, NormalizationTrace* trace) {
  NormalizationResult out;
  Stabilized st = Stabilize(history, current, prenormalized, behavior, now, trace);
  out.stabilized = st.recommendation;
  if (st.recommendation != prenormalized) {
    out.able_to_scale = {"AbleToScale", "True", st.reason, st.message};
  } else {
    out.able_to_scale = {"AbleToScale", "True", "ReadyForNewScale", kReadyForNewScaleMsg};
  }
  Limit lim = BehaviorRateLimit(history, current, out.stabilized, min_replicas, max_replicas, behavior, now, trace);
  out.desired = lim.desired;
  out.scaling_limited = LimitedCondition(lim, out.stabilized);
  if (trace != nullptr) {
    trace->stabilized = out.stabilized;
    trace->window_direction =
        out.stabilized == prenormalized ? "" : (prenormalized < current ? "scaleDown" : "scaleUp");
    if (out.stabilized == prenormalized) trace->window_frees_at.reset();
    trace->min_replicas = min_replicas;
    trace->max_replicas = max_replicas;
    trace->desired = out.desired;
    trace->limit_reason = lim.reason;
  }
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
