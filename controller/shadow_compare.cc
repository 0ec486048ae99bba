// See shadow_compare.h.
#include "controller/shadow_compare.h"

#include "controller/core/hpa_status.h"

namespace hpad::ctrl {

bool StatusWasWritten(const k8s::HpaStatus& status) { return !status.conditions.empty(); }

std::vector<Disagreement> CompareWithWritten(const DecisionTrace& trace, const k8s::HpaStatus& written) {
  std::vector<Disagreement> out;
  if (!StatusWasWritten(written)) return out;
  // The controller in charge decided on another current count (it has
  // rescaled since, or the shadow read a newer scale): not the same input,
  // so nothing to compare until one of them reconciles again.
  if (written.current_replicas != trace.current_replicas) return out;
  if (written.desired_replicas != trace.desired_replicas) {
    out.push_back({"desiredReplicas", std::to_string(written.desired_replicas),
                   std::to_string(trace.desired_replicas)});
  }
  for (const char* type : {"ScalingActive", "ScalingLimited"}) {
    const k8s::HpaCondition* theirs = FindCondition(written.conditions, type);
    std::string ours;
    for (const auto& c : trace.conditions)
      if (c.type == type) ours = c.reason;
    if (ours.empty()) continue;  // this decision did not set it (R6 paths): nothing to compare
    const std::string their_reason = theirs ? theirs->reason : "";
    if (their_reason != ours) out.push_back({type, their_reason.empty() ? "(unset)" : their_reason, ours});
  }
  return out;
}

std::string DescribeDisagreement(const Disagreement& d) {
  return d.field + ": controller in charge " + d.in_charge + ", hpad " + d.hpad;
}

}  // namespace hpad::ctrl
