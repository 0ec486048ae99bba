// The pure replica decision; see decide_scale.h. Rule ids refer to
// hpa-semantics.md (indexed in docs/hpa-rules.md).
#include "controller/core/decide_scale.h"

#include "controller/core/hpa_status.h"

#include <utility>

namespace hpad::ctrl {
namespace {

bool HasObjectOrExternal(const k8s::HpaSpec& spec) {
  for (const auto& m : spec.metrics)
    if (m.type == "Object" || m.type == "External") return true;
  return false;
}

bool WasScaledToZero(const std::vector<k8s::HpaCondition>& conditions) {
  const k8s::HpaCondition* stz = FindCondition(conditions, kScaledToZero);
  return stz && stz->status == "True";
}

ConditionChange Set(std::string type, std::string status, std::string reason, std::string message) {
  return ConditionChange{ConditionUpdate{std::move(type), std::move(status), std::move(reason), std::move(message)},
                         false};
}

ConditionChange Remove(std::string type) { return ConditionChange{ConditionUpdate{std::move(type), "", "", ""}, true}; }

// The combined outcome of the per-metric results (X2-X4, upstream
// computeReplicasForMetrics after its loop).
struct Combined {
  bool failed = true;
  int winner = -1;  // index of the metric that won X2
  int32_t replicas = 0;
  std::string description;  // <M> of the metric that won X2
};

Combined CombineMetrics(const MetricsFetch& fetch, int32_t current_replicas, ScaleDecision& d) {
  Combined out;
  // S1-S4: nothing was fetched.
  if (fetch.selector_failure) {
    const SelectorFailure& f = *fetch.selector_failure;
    if (!f.event_reason.empty()) d.events.push_back(ControllerEvent{"Warning", f.event_reason, f.event_message});
    if (!f.condition_reason.empty()) {
      d.conditions.push_back(Set(kScalingActive, "False", f.condition_reason, f.condition_message));
    }
    d.metrics_error = f.error;
    return out;
  }
  const size_t total = fetch.results.size();
  size_t invalid = 0;
  const MetricResult* first_invalid = nullptr;
  d.metric_statuses.reserve(total);
  for (size_t i = 0; i < fetch.results.size(); i++) {
    const MetricResult& r = fetch.results[i];
    d.metric_statuses.push_back(r.status);  // X5: a failed slot stays empty
    if (!r.ok) {
      // X1: each failed metric has its own Warning event, even when the
      // reconcile goes on to scale.
      d.events.push_back(ControllerEvent{"Warning", r.failure_reason, r.failure_message});
      if (first_invalid == nullptr) first_invalid = &r;
      invalid++;
      continue;
    }
    if (out.replicas == 0 || r.replicas > out.replicas) {  // X2: the highest proposal wins
      out.replicas = r.replicas;
      out.description = r.description;
      out.winner = static_cast<int>(i);
    }
  }
  if (first_invalid != nullptr) {  // X4
    d.metrics_error = "invalid metrics (" + std::to_string(invalid) + " invalid out of " + std::to_string(total) +
                      "), first error is: " + first_invalid->aggregate_error;
    d.metrics_error_spec = first_invalid->spec_error;
  }
  // X3: all failed, or some failed and the valid ones would scale down.
  if (invalid >= total || (invalid > 0 && out.replicas < current_replicas)) {
    if (first_invalid != nullptr) {
      d.conditions.push_back(Set(kScalingActive, "False", first_invalid->failure_reason,
                                 "the HPA was unable to compute the replica count: " + first_invalid->failure_message));
    }
    return out;
  }
  out.failed = false;
  d.conditions.push_back(Set(kScalingActive, "True", "ValidMetricFound",
                             "the HPA was able to successfully calculate a replica count from " +
                                 out.description));  // X6
  return out;
}

}  // namespace

bool NeedsMetrics(const k8s::HpaSpec& spec, const std::vector<k8s::HpaCondition>& conditions,
                  int32_t current_replicas, const DecideOptions& options) {
  const int32_t min_replicas = spec.min_replicas.value_or(1);
  if (current_replicas == 0) {
    // Z1/Z2: a target at zero is paused unless the gate woke it up.
    return options.scale_to_zero && WasScaledToZero(conditions) && (min_replicas != 0 || HasObjectOrExternal(spec));
  }
  return current_replicas <= spec.max_replicas && current_replicas >= min_replicas;  // R6 b/c otherwise
}

namespace {

// Copies the outcome into the trace (issue 12); the steps were filled on the way.
void FinishTrace(DecisionTrace* trace, const ScaleDecision& d) {
  if (trace == nullptr) return;
  trace->current_replicas = d.current_replicas;
  trace->desired_replicas = d.desired_replicas;
  trace->rescale = d.rescale;
  trace->reason = d.reason;
  trace->metrics_failed = d.metrics_failed;
  trace->metrics_error = d.metrics_error;
  trace->conditions.clear();
  for (const ConditionChange& c : d.conditions)
    if (!c.remove) trace->conditions.push_back(c.condition);
}

}  // namespace

ScaleDecision DecideScale(const DecideInput& input, HpaHistory& history, const DecideOptions& options, Time now) {
  ScaleDecision d = DecideScaleSteps(input, history, options, now);
  FinishTrace(input.trace, d);
  return d;
}

ScaleDecision DecideScaleSteps(const DecideInput& input, HpaHistory& history, const DecideOptions& options,
                               Time now) {
  const k8s::HpaSpec& spec = *input.spec;
  DecisionTrace* const trace = input.trace;
  const int32_t current = input.current_replicas;
  ScaleDecision d;
  d.current_replicas = current;

  RecordInitialRecommendation(history, current, now);  // R4 / H2

  // R5.
  const int32_t min_replicas = spec.min_replicas.value_or(1);
  const bool was_scaled_to_zero = WasScaledToZero(*input.conditions);
  int32_t desired = 0;
  bool rescale = true;

  // R6.
  const bool compute = NeedsMetrics(spec, *input.conditions, current, options);
  if (!compute) {
    if (current == 0) {
      // R6 a / Z1.
      rescale = false;
      d.conditions.push_back(Set(kScalingActive, "False", "ScalingDisabled",
                                 "scaling is disabled since the replica count of the target is zero"));
      if (!options.scale_to_zero) d.conditions.push_back(Remove(kScaledToZero));
    } else if (current > spec.max_replicas) {  // R6 b
      d.reason = "Current number of replicas above Spec.MaxReplicas";
      desired = spec.max_replicas;
    } else {  // R6 c
      d.reason = "Current number of replicas below Spec.MinReplicas";
      desired = min_replicas;
    }
    if (trace != nullptr) {
      trace->skipped = current == 0 ? "R6a: the target is at zero replicas, scaling is disabled"
                                    : "R6: the current count is outside [minReplicas, maxReplicas]; " + d.reason;
    }
  } else {
    // R7: combine the per-metric results.
    static const MetricsFetch kNothingFetched{
        SelectorFailure{"", "", "", "", "internal error: metrics were not fetched"}, {}};
    const MetricsFetch& fetch = input.metrics != nullptr ? *input.metrics : kNothingFetched;
    Combined combined = CombineMetrics(fetch, current, d);
    if (trace != nullptr) trace->winning_metric = combined.winner;
    if (combined.failed) {
      d.metrics_failed = true;
      d.failure_event = ControllerEvent{"Warning", "FailedComputeMetricsReplicas", d.metrics_error};
      d.desired_replicas = current;
      return d;
    }
    // R8.
    std::string rescale_metric;
    if (combined.replicas > desired) {
      desired = combined.replicas;
      rescale_metric = combined.description;
    }
    if (desired > current) d.reason = rescale_metric + " above target";
    if (desired < current) d.reason = "All metrics below target";
    // R9: legacy (L1-L4) or behaviour (B1-B8) normalisation.
    NormalizationResult norm;
    NormalizationTrace* norm_trace = trace != nullptr ? &trace->normalization : nullptr;
    if (trace != nullptr) trace->normalized = true;
    if (!spec.behavior) {
      norm = NormalizeLegacy(history, current, desired, min_replicas, spec.max_replicas,
                             options.downscale_stabilization, now, norm_trace);
    } else {
      k8s::HpaBehavior behavior = DefaultBehavior(*spec.behavior, options.downscale_stabilization);
      norm = NormalizeWithBehaviors(history, current, desired, min_replicas, spec.max_replicas, behavior, now,
                                    norm_trace);
    }
    // Moved, not copied: norm's texts are not read again (only norm.desired).
    d.conditions.push_back(ConditionChange{std::move(norm.able_to_scale), false});
    d.conditions.push_back(ConditionChange{std::move(norm.scaling_limited), false});
    desired = norm.desired;
    // R10 / Z4: waking from zero goes at least to minReplicas.
    if (current == 0 && min_replicas != 0 && was_scaled_to_zero && desired < min_replicas) {
      desired = min_replicas;
      if (d.reason.empty()) d.reason = "Current number of replicas below Spec.MinReplicas";
    }
    rescale = desired != current;
  }
  d.rescale = rescale;
  d.desired_replicas = rescale ? desired : current;  // R12
  return d;
}

RescaleOutcome AfterRescale(const ScaleDecision& decision, const k8s::HpaSpec& spec, const Status& update,
                            HpaHistory& history, const DecideOptions& options, Time now) {
  RescaleOutcome out;
  const int32_t current = decision.current_replicas;
  const int32_t desired = decision.desired_replicas;
  const std::string size = "New size: " + std::to_string(desired) + "; reason: " + decision.reason;
  if (!update.ok()) {
    // W2.
    out.events.push_back(ControllerEvent{"Warning", "FailedRescale", size + "; error: " + update.message()});
    out.conditions.push_back(Set(kAbleToScale, "False", "FailedUpdateScale",
                                 "the HPA controller was unable to update the target scale: " + update.message()));
    return out;
  }
  // W1.
  out.conditions.push_back(Set(kAbleToScale, "True", "SucceededRescale",
                               "the HPA controller was able to update the target scale to " + std::to_string(desired)));
  out.events.push_back(ControllerEvent{"Normal", "SuccessfulRescale", size});
  if (spec.behavior) {
    // B10 (also for R6 b/c rescales).
    StoreScaleEvent(history, DefaultBehavior(*spec.behavior, options.downscale_stabilization), current, desired, now);
  }
  // Z5.
  if (options.scale_to_zero) {
    const int32_t min_replicas = spec.min_replicas.value_or(1);
    if (current > 0 && desired == 0 && min_replicas == 0 && HasObjectOrExternal(spec)) {
      out.conditions.push_back(
          Set(kScaledToZero, "True", "ScaledToZero", "the HPA controller scaled the workload to zero"));
    } else {
      out.conditions.push_back(
          Set(kScaledToZero, "False", "NotScaledToZero", "the HPA controller did not scale the workload to zero"));
    }
  } else {
    out.conditions.push_back(Remove(kScaledToZero));
  }
  return out;
}

void ApplyConditionChanges(std::vector<k8s::HpaCondition>& conditions, const std::vector<ConditionChange>& changes,
                           Time now) {
  for (const ConditionChange& c : changes) {
    if (c.remove) {
      RemoveCondition(conditions, c.condition.type);
    } else {
      SetCondition(conditions, c.condition.type, c.condition.status, c.condition.reason, c.condition.message, now);
    }
  }
}

}  // namespace hpad::ctrl
