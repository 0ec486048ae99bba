// Shadow comparison (issue 12): hpad's decision against what the
// controller in charge (KCM, or another hpad) last wrote into the HPA's
// status - status.desiredReplicas and the reasons of the ScalingActive and
// ScalingLimited conditions. Used by `hpad --dry-run` (metrics and one log
// line per disagreement) and `hpad explain --compare` (the agreement table).
//
// AbleToScale is not compared: its reason records the controller's own last
// write (SucceededRescale vs ReadyForNewScale), which a writer-less shadow
// never has. A status no controller has written yet (no conditions), or one
// written for another current count than the shadow saw (the controller in
// charge has rescaled since), is not compared.
//
// Pure functions over values; thread-safe.
#pragma once

#include <string>
#include <vector>

#include "controller/core/decision_trace.h"
#include "k8sclient/api/types/hpa.h"

namespace hpad::ctrl {

struct Disagreement {
  std::string field{};      // desiredReplicas | ScalingActive | ScalingLimited
  std::string in_charge{};  // what the controller in charge wrote
  std::string hpad{};       // what hpad decided
};

// False when the status was never written (nothing to compare with).
bool StatusWasWritten(const k8s::HpaStatus& status);

std::vector<Disagreement> CompareWithWritten(const DecisionTrace& trace, const k8s::HpaStatus& written);

// One line: `desiredReplicas: controller in charge 6, hpad 5`.
std::string DescribeDisagreement(const Disagreement& d);

}  // namespace hpad::ctrl
