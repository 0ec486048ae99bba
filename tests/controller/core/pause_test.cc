// DecidePause (issue 13): pause begins/holds/ends from the conditions as read.
#include <catch2/catch.hpp>

#include "controller/core/hpa_status.h"
#include "controller/core/pause.h"

using namespace hpad::ctrl;
namespace k8s = hpad::k8s;

namespace {

std::vector<k8s::HpaCondition> Active(const std::string& reason, const std::string& message) {
  std::vector<k8s::HpaCondition> c;
  SetCondition(c, kScalingActive, reason == "ValidMetricFound" ? "True" : "False", reason, message, hpad::Time{});
  return c;
}

}  // namespace

TEST_CASE("pause: hpad.io/paused begins with an event, then holds silently", "[pause]") {
  auto read = Active("ValidMetricFound", "ok");
  PauseDecision d = DecidePause(PauseInput{.paused = true, .conditions = &read, .current_replicas = 4});
  CHECK(d.paused);
  CHECK_FALSE(d.rescale);
  CHECK(d.desired_replicas == 4);
  REQUIRE(d.conditions.size() == 1);
  CHECK(d.conditions[0].condition.type == "ScalingActive");
  CHECK(d.conditions[0].condition.status == "False");
  CHECK(d.conditions[0].condition.reason == "ScalingPaused");
  CHECK(d.conditions[0].condition.message == "autoscaling is paused by the hpad.io/paused annotation");
  REQUIRE(d.events.size() == 1);
  CHECK(d.events[0].type == "Normal");
  CHECK(d.events[0].reason == "ScalingPaused");

  auto held = Active("ScalingPaused", "autoscaling is paused by the hpad.io/paused annotation");
  PauseDecision again = DecidePause(PauseInput{.paused = true, .conditions = &held, .current_replicas = 4});
  CHECK(again.paused);
  CHECK(again.events.empty());
  CHECK(again.conditions.size() == 1);
}

TEST_CASE("pause: paused-replicas scales once to N unclamped, then does not fight a manual scale", "[pause]") {
  auto read = Active("ValidMetricFound", "ok");
  PauseDecision d = DecidePause(PauseInput{.paused_replicas = 0, .conditions = &read, .current_replicas = 3});
  CHECK(d.paused);
  CHECK(d.rescale);
  CHECK(d.desired_replicas == 0);
  CHECK(d.conditions[0].condition.message ==
        "autoscaling is paused by the hpad.io/paused-replicas annotation at 0 replicas");
  auto held = Active("ScalingPaused", d.conditions[0].condition.message);
  PauseDecision later = DecidePause(PauseInput{.paused_replicas = 0, .conditions = &held, .current_replicas = 2});
  CHECK_FALSE(later.rescale);
  CHECK(later.desired_replicas == 2);
  CHECK(later.events.empty());
  // A new N is a new pause: one more scale.
  PauseDecision moved = DecidePause(PauseInput{.paused_replicas = 7, .conditions = &held, .current_replicas = 2});
  CHECK(moved.rescale);
  CHECK(moved.desired_replicas == 7);
  CHECK(moved.events.size() == 1);
  // paused-replicas wins over paused.
  PauseDecision both =
      DecidePause(PauseInput{.paused = true, .paused_replicas = 2, .conditions = &read, .current_replicas = 2});
  CHECK_FALSE(both.rescale);
  CHECK(both.conditions[0].condition.message ==
        "autoscaling is paused by the hpad.io/paused-replicas annotation at 2 replicas");
}

TEST_CASE("pause: resume records ScalingResumed once", "[pause]") {
  auto held = Active("ScalingPaused", "autoscaling is paused by the hpad.io/paused annotation");
  PauseDecision d = DecidePause(PauseInput{.conditions = &held, .current_replicas = 4});
  CHECK_FALSE(d.paused);
  CHECK(d.conditions.empty());
  REQUIRE(d.events.size() == 1);
  CHECK(d.events[0].reason == "ScalingResumed");
  auto active = Active("ValidMetricFound", "ok");
  CHECK(DecidePause(PauseInput{.conditions = &active, .current_replicas = 4}).events.empty());
}
