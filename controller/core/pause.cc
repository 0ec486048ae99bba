// The pure pause decision (issue 13).
#include "controller/core/pause.h"

#include "controller/core/hpa_status.h"

namespace hpad::ctrl {

std::string PausedMessage(const PauseInput& input) {
  if (input.paused_replicas) {
    return "autoscaling is paused by the hpad.io/paused-replicas annotation at " +
           std::to_string(*input.paused_replicas) + " replicas";
  }
  return "autoscaling is paused by the hpad.io/paused annotation";
}

PauseDecision DecidePause(const PauseInput& input) {
  PauseDecision d;
  const k8s::HpaCondition* active = FindCondition(*input.conditions, kScalingActive);
  const bool was_paused = active != nullptr && active->reason == kScalingPausedReason;
  d.desired_replicas = input.current_replicas;
  if (!input.paused && !input.paused_replicas) {
    if (was_paused) {
      d.events.push_back(ControllerEvent{"Normal", kScalingResumedReason,
                                         "autoscaling resumed: the hpad.io/paused and hpad.io/paused-replicas "
                                         "annotations no longer pause it"});
    }
    return d;
  }
  d.paused = true;
  const std::string message = PausedMessage(input);
  // Same reason and message as read: this pause (and for paused-replicas
  // its one scale to N) already happened; the operator may have moved the
  // scale since, and hpad does not fight that.
  const bool begins = !was_paused || active->message != message;
  if (input.paused_replicas && begins && *input.paused_replicas != input.current_replicas) {
    d.rescale = true;
    d.desired_replicas = *input.paused_replicas;
    d.reason = "paused by the hpad.io/paused-replicas annotation";
  }
  d.conditions.push_back(ConditionChange{ConditionUpdate{kScalingActive, "False", kScalingPausedReason, message}});
  if (begins) d.events.push_back(ControllerEvent{"Normal", kScalingPausedReason, message});
  return d;
}

}  // namespace hpad::ctrl
