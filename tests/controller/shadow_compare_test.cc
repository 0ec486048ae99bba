// Shadow comparison (issue 12): what counts as a disagreement.
#include <catch2/catch.hpp>

#include "controller/shadow_compare.h"

using namespace hpad::ctrl;
namespace k8s = hpad::k8s;

namespace {

k8s::HpaStatus Written(int32_t current, int32_t desired, const std::string& limited_reason) {
  k8s::HpaStatus s;
  s.current_replicas = current;
  s.desired_replicas = desired;
  k8s::HpaCondition active;
  active.type = "ScalingActive";
  active.status = "True";
  active.reason = "ValidMetricFound";
  k8s::HpaCondition limited;
  limited.type = "ScalingLimited";
  limited.status = "False";
  limited.reason = limited_reason;
  s.conditions = {active, limited};
  return s;
}

DecisionTrace Decided(int32_t current, int32_t desired, const std::string& limited_reason) {
  DecisionTrace t;
  t.ns = "default";
  t.name = "web";
  t.current_replicas = current;
  t.desired_replicas = desired;
  t.conditions = {{"ScalingActive", "True", "ValidMetricFound", ""}, {"ScalingLimited", "False", limited_reason, ""}};
  return t;
}

}  // namespace

TEST_CASE("shadow compare: fields that differ on the same input", "[shadow]") {
  CHECK(CompareWithWritten(Decided(3, 3, "DesiredWithinRange"), Written(3, 3, "DesiredWithinRange")).empty());
  auto diffs = CompareWithWritten(Decided(3, 5, "ScaleUpLimit"), Written(3, 4, "DesiredWithinRange"));
  REQUIRE(diffs.size() == 2);
  CHECK(DescribeDisagreement(diffs[0]) == "desiredReplicas: controller in charge 4, hpad 5");
  CHECK(DescribeDisagreement(diffs[1]) == "ScalingLimited: controller in charge DesiredWithinRange, hpad ScaleUpLimit");
}

TEST_CASE("shadow compare: a never-written status or another current count is not compared", "[shadow]") {
  CHECK(CompareWithWritten(Decided(3, 5, "ScaleUpLimit"), k8s::HpaStatus{}).empty());
  CHECK_FALSE(StatusWasWritten(k8s::HpaStatus{}));
  // The controller in charge wrote its status when it scaled 3 -> 6; the shadow now sees 6.
  CHECK(CompareWithWritten(Decided(6, 6, "DesiredWithinRange"), Written(3, 6, "ScaleUpLimit")).empty());
}
