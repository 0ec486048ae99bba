// DecidePause: the pure part of hpad's pause (issue 13, beyond upstream; see
// docs/divergences.md). Given whether the HPA is paused by hpad.io/paused or
// hpad.io/paused-replicas, its conditions as read and the scale's replicas,
// it says what a paused reconcile writes instead of DecideScale's rescale:
//   - desiredReplicas = the current replicas (no scale write), or for
//     hpad.io/paused-replicas N: one scale write to exactly N (not clamped
//     to min/max), made when the pause at N begins, then held;
//   - ScalingActive False, reason ScalingPaused, with the annotation named;
//   - a Normal event ScalingPaused when a pause begins (or its mode changes)
//     and ScalingResumed when the HPA is no longer paused.
// Whether a pause "begins" is read from the ScalingActive condition as read
// (reason ScalingPaused and the same message), so it survives restarts and
// fail-overs without any state in the controller.
//
// Pure: no clock read, I/O, lock or log. Thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "controller/core/decide_scale.h"
#include "k8sclient/api/types/hpa.h"

namespace hpad::ctrl {

inline constexpr const char* kScalingPausedReason = "ScalingPaused";
inline constexpr const char* kScalingResumedReason = "ScalingResumed";

struct PauseInput {
  bool paused = false;                        // hpad.io/paused: "true"
  std::optional<int32_t> paused_replicas{};   // hpad.io/paused-replicas (wins over paused)
  const std::vector<k8s::HpaCondition>* conditions = nullptr;  // as read; required
  int32_t current_replicas = 0;               // scale.spec.replicas
};

struct PauseDecision {
  bool paused = false;
  int32_t desired_replicas = 0;  // current, or N when rescaling to paused-replicas
  bool rescale = false;          // write the scale to desired_replicas
  std::string reason{};          // the rescale's reason (SuccessfulRescale text)
  // Applied after the scale write succeeded (or when there is none); on a
  // failed write they are not, so the pause "begins" again next reconcile.
  std::vector<ConditionChange> conditions{};
  std::vector<ControllerEvent> events{};
};

// The ScalingActive message of a paused HPA.
std::string PausedMessage(const PauseInput& input);

PauseDecision DecidePause(const PauseInput& input);

}  // namespace hpad::ctrl
