// Tables for the scale decision (hpa-semantics.md 11 and 16.1-16.3, 16.8, H2).
#include <catch2/catch.hpp>

#include "controller/core/normalization.h"
#include "tests/controller/controller_test_util.h"

using namespace hpad::ctrl;
using namespace hpad::ctrl::testing;
using hpad::Time;
namespace k8s = hpad::k8s;

namespace {

constexpr auto kWindow = std::chrono::minutes(5);

HpaHistory WithRecs(std::vector<std::pair<int32_t, Time>> recs) {
  HpaHistory h;
  for (auto& [v, t] : recs) h.recommendations.push_back({v, t});
  return h;
}

k8s::HpaBehavior Behavior(std::optional<int32_t> up_window, std::optional<int32_t> down_window,
                          std::vector<k8s::HpaScalingPolicy> up = {}, std::vector<k8s::HpaScalingPolicy> down = {},
                          std::string up_select = "Max", std::string down_select = "Max") {
  k8s::HpaBehavior b;
  k8s::HpaScalingRules u, d;
  u.stabilization_window_seconds = up_window;
  d.stabilization_window_seconds = down_window;
  if (!up.empty()) {
    u.policies = up;
    u.policies_set = true;
  }
  if (!down.empty()) {
    d.policies = down;
    d.policies_set = true;
  }
  u.select_policy = up_select;
  d.select_policy = down_select;
  b.scale_up = u;
  b.scale_down = d;
  return DefaultBehavior(b, kWindow);
}

}  // namespace

TEST_CASE("L1-L4 legacy normalisation", "[normalization][legacy]") {
  struct Case {
    std::string name;
    HpaHistory history{};
    int32_t current = 0, proposal = 0, min = 0, max = 0;
    int32_t want = 0;
    std::string want_able, want_limited_status, want_limited;
  };
  const Time now = At(600);
  const auto at = [&](int64_t seconds_before_now) { return now - std::chrono::seconds(seconds_before_now); };
  std::vector<Case> cases = {
      {.name = "L2 ready for new scale", .current = 3, .proposal = 5, .min = 1, .max = 10, .want = 5,
       .want_able = "ReadyForNewScale", .want_limited_status = "False", .want_limited = "DesiredWithinRange"},
      {.name = "L1 highest recent recommendation wins", .history = WithRecs({{8, at(100)}}), .current = 8,
       .proposal = 2, .min = 1, .max = 10, .want = 8, .want_able = "ScaleDownStabilized",
       .want_limited_status = "False", .want_limited = "DesiredWithinRange"},
      // 16.1: legacy keeps an entry exactly at the cutoff.
      {.name = "16.1 legacy keeps entry at cutoff", .history = WithRecs({{8, at(300)}}), .current = 8,
       .proposal = 2, .min = 1, .max = 10, .want = 8, .want_able = "ScaleDownStabilized",
       .want_limited_status = "False", .want_limited = "DesiredWithinRange"},
      {.name = "16.1 legacy drops entry before cutoff",
       .history = WithRecs({{8, at(300) - std::chrono::nanoseconds(1)}}), .current = 8, .proposal = 2, .min = 1,
       .max = 10, .want = 2, .want_able = "ReadyForNewScale", .want_limited_status = "False",
       .want_limited = "DesiredWithinRange"},
      // L3: upLimit = max(2*S, 4).
      {.name = "L3 scale-up limit 2*S", .current = 3, .proposal = 9, .min = 1, .max = 8, .want = 6,
       .want_able = "ReadyForNewScale", .want_limited_status = "True", .want_limited = "ScaleUpLimit"},
      {.name = "L3 too many replicas", .current = 6, .proposal = 9, .min = 1, .max = 8, .want = 8,
       .want_able = "ReadyForNewScale", .want_limited_status = "True", .want_limited = "TooManyReplicas"},
      {.name = "16.8 from 1 the first step is 4", .current = 1, .proposal = 10, .min = 1, .max = 10, .want = 4,
       .want_able = "ReadyForNewScale", .want_limited_status = "True", .want_limited = "ScaleUpLimit"},
      {.name = "16.8 from 0 the first step is 4", .current = 0, .proposal = 10, .min = 0, .max = 10, .want = 4,
       .want_able = "ReadyForNewScale", .want_limited_status = "True", .want_limited = "ScaleUpLimit"},
      {.name = "L3 too few replicas", .current = 3, .proposal = 0, .min = 2, .max = 10, .want = 2,
       .want_able = "ReadyForNewScale", .want_limited_status = "True", .want_limited = "TooFewReplicas"},
      {.name = "L3 minReplicas 0 allows 0 (Z6)", .current = 3, .proposal = 0, .min = 0, .max = 10, .want = 0,
       .want_able = "ReadyForNewScale", .want_limited_status = "False", .want_limited = "DesiredWithinRange"},
  };
  for (auto c : cases) {
    SECTION(c.name) {
      NormalizationResult r = NormalizeLegacy(c.history, c.current, c.proposal, c.min, c.max, kWindow, now);
      CHECK(r.desired == c.want);
      CHECK(r.able_to_scale.reason == c.want_able);
      CHECK(r.scaling_limited.status == c.want_limited_status);
      CHECK(r.scaling_limited.reason == c.want_limited);
      // L1: (P, now) is stored, P as proposed (even above maxReplicas).
      bool stored = false;
      for (const auto& rec : c.history.recommendations) stored |= rec.recommendation == c.proposal && rec.timestamp == now;
      CHECK(stored);
    }
  }
}

TEST_CASE("L1 stores over the last old entry", "[normalization][legacy]") {
  const Time now = At(1000);
  HpaHistory h = WithRecs({{4, At(0)}, {5, At(100)}, {6, At(900)}});
  StabilizeRecommendationLegacy(h, 3, kWindow, now);
  REQUIRE(h.recommendations.size() == 3);
  CHECK(h.recommendations[0].recommendation == 4);
  CHECK(h.recommendations[1].recommendation == 3);  // the last old one was overwritten
  CHECK(h.recommendations[1].timestamp == now);
}

TEST_CASE("H2 restart holds a scale-down for the full window", "[normalization][history]") {
  // Conformance 02: a fresh controller records (S=4, t0); the metric asks for 2.
  HpaHistory h;
  RecordInitialRecommendation(h, 4, At(0));
  RecordInitialRecommendation(h, 9, At(1));  // only the first call records
  REQUIRE(h.recommendations.size() == 1);
  for (int t = 0; t <= 300; t += 15) {
    auto r = NormalizeLegacy(h, 4, 2, 1, 10, kWindow, At(t));
    INFO("t=" << t);
    CHECK(r.desired == 4);
    CHECK(r.able_to_scale.reason == "ScaleDownStabilized");
  }
  auto r = NormalizeLegacy(h, 4, 2, 1, 10, kWindow, At(315));
  CHECK(r.desired == 2);
  CHECK(r.able_to_scale.reason == "ReadyForNewScale");
}

TEST_CASE("B1 defaulting", "[normalization][behavior]") {
  k8s::HpaBehavior empty;
  empty.scale_down = k8s::HpaScalingRules{};
  k8s::HpaBehavior b = DefaultBehavior(empty, std::chrono::seconds(120));
  REQUIRE(b.scale_up);
  CHECK(*b.scale_up->stabilization_window_seconds == 0);
  CHECK(b.scale_up->policies.size() == 2);
  CHECK(*b.scale_up->select_policy == "Max");
  CHECK(*b.scale_down->stabilization_window_seconds == 120);  // from the flag
  REQUIRE(b.scale_down->policies.size() == 1);
  CHECK(b.scale_down->policies[0].type == "Percent");
  CHECK(b.scale_down->policies[0].value == 100);
  // An explicit window of 0 is kept.
  k8s::HpaBehavior zero;
  zero.scale_down = k8s::HpaScalingRules{};
  zero.scale_down->stabilization_window_seconds = 0;
  CHECK(*DefaultBehavior(zero, kWindow).scale_down->stabilization_window_seconds == 0);
}

TEST_CASE("B2-B8 behaviour normalisation", "[normalization][behavior]") {
  const Time now = At(1000);
  const auto pods = [](int32_t v, int32_t p) { return k8s::HpaScalingPolicy{"Pods", v, p}; };
  const auto pct = [](int32_t v, int32_t p) { return k8s::HpaScalingPolicy{"Percent", v, p}; };
  struct Case {
    std::string name;
    HpaHistory history{};
    k8s::HpaBehavior behavior{};
    int32_t current = 0, proposal = 0, min = 0, max = 0;
    int32_t want = 0;
    std::string want_able, want_limited_status, want_limited;
  };
  std::vector<Case> cases = {
      {.name = "B2 both windows 0: P", .behavior = Behavior(0, 0), .current = 5, .proposal = 2, .min = 1, .max = 10,
       .want = 2, .want_able = "ReadyForNewScale", .want_limited_status = "False",
       .want_limited = "DesiredWithinRange"},
      {.name = "B2 scale-down window holds the max", .history = WithRecs({{8, now - std::chrono::seconds(60)}}),
       .behavior = Behavior(0, 300), .current = 8, .proposal = 2, .min = 1, .max = 10, .want = 8,
       .want_able = "ScaleDownStabilized", .want_limited_status = "False", .want_limited = "DesiredWithinRange"},
      // 16.1: behaviour drops an entry exactly at the cutoff.
      {.name = "16.1 behaviour drops entry at cutoff", .history = WithRecs({{8, now - std::chrono::seconds(300)}}),
       .behavior = Behavior(0, 300), .current = 8, .proposal = 2, .min = 1, .max = 10, .want = 2,
       .want_able = "ReadyForNewScale", .want_limited_status = "False", .want_limited = "DesiredWithinRange"},
      {.name = "B4 scale-up window holds the min", .history = WithRecs({{3, now - std::chrono::seconds(30)}}),
       .behavior = Behavior(60, 0), .current = 3, .proposal = 6, .min = 1, .max = 10, .want = 3,
       .want_able = "ScaleUpStabilized", .want_limited_status = "False", .want_limited = "DesiredWithinRange"},
      // B2: S clamped into [upRec, downRec]: recs 4 and 9 within both windows, P = 6, S = 5 -> [4, 9] keeps 5.
      {.name = "B2 clamp keeps S inside the band",
       .history = WithRecs({{4, now - std::chrono::seconds(10)}, {9, now - std::chrono::seconds(20)}}),
       .behavior = Behavior(60, 60), .current = 5, .proposal = 6, .min = 1, .max = 10, .want = 5,
       .want_able = "ScaleUpStabilized", .want_limited_status = "False", .want_limited = "DesiredWithinRange"},
      // B5 with defaults (Pods 4 / Percent 100 per 15 s, Max): from 1 -> max(5, 2) = 5.
      {.name = "B5 default scale-up policies", .behavior = Behavior(0, 0), .current = 1, .proposal = 10, .min = 1,
       .max = 10, .want = 5, .want_able = "ReadyForNewScale", .want_limited_status = "True",
       .want_limited = "ScaleUpLimit"},
      {.name = "B5 Percent policy rounds up", .behavior = Behavior(0, 0, {pct(10, 60)}), .current = 5, .proposal = 10,
       .min = 1, .max = 20, .want = 6, .want_able = "ReadyForNewScale", .want_limited_status = "True",
       .want_limited = "ScaleUpLimit"},
      {.name = "B5 Min picks the smaller limit", .behavior = Behavior(0, 0, {pods(1, 60), pct(100, 60)}, {}, "Min"),
       .current = 4, .proposal = 10, .min = 1, .max = 20, .want = 5, .want_able = "ReadyForNewScale",
       .want_limited_status = "True", .want_limited = "ScaleUpLimit"},
      {.name = "B5 maxReplicas binds first", .behavior = Behavior(0, 0), .current = 4, .proposal = 20, .min = 1,
       .max = 6, .want = 6, .want_able = "ReadyForNewScale", .want_limited_status = "True",
       .want_limited = "TooManyReplicas"},
      {.name = "B11 scale-up Disabled", .behavior = Behavior(0, 0, {pods(4, 60)}, {}, "Disabled"), .current = 4,
       .proposal = 10, .min = 1, .max = 20, .want = 4, .want_able = "ReadyForNewScale", .want_limited_status = "True",
       .want_limited = "ScaleUpLimit"},
      // B6: Percent 50 from 10 -> 5; Pods 3 -> 7; Max takes the smallest limit (largest change).
      {.name = "B6 scale-down Max", .behavior = Behavior(0, 0, {}, {pct(50, 60), pods(3, 60)}), .current = 10,
       .proposal = 1, .min = 1, .max = 20, .want = 5, .want_able = "ReadyForNewScale", .want_limited_status = "True",
       .want_limited = "ScaleDownLimit"},
      {.name = "B6 scale-down Min", .behavior = Behavior(0, 0, {}, {pct(50, 60), pods(3, 60)}, "Max", "Min"),
       .current = 10, .proposal = 1, .min = 1, .max = 20, .want = 7, .want_able = "ReadyForNewScale",
       .want_limited_status = "True", .want_limited = "ScaleDownLimit"},
      {.name = "B6 minReplicas binds", .behavior = Behavior(0, 0), .current = 10, .proposal = 1, .min = 3, .max = 20,
       .want = 3, .want_able = "ReadyForNewScale", .want_limited_status = "True", .want_limited = "TooFewReplicas"},
      {.name = "B11 scale-down Disabled", .behavior = Behavior(0, 0, {}, {pct(50, 60)}, "Max", "Disabled"),
       .current = 10, .proposal = 1, .min = 1, .max = 20, .want = 10, .want_able = "ReadyForNewScale",
       .want_limited_status = "True", .want_limited = "ScaleDownLimit"},
      {.name = "B7 D0 == S: no limits", .behavior = Behavior(0, 0), .current = 5, .proposal = 5, .min = 1, .max = 10,
       .want = 5, .want_able = "ReadyForNewScale", .want_limited_status = "False",
       .want_limited = "DesiredWithinRange"},
  };
  for (auto c : cases) {
    SECTION(c.name) {
      NormalizationResult r =
          NormalizeWithBehaviors(c.history, c.current, c.proposal, c.min, c.max, c.behavior, now);
      CHECK(r.desired == c.want);
      CHECK(r.able_to_scale.reason == c.want_able);
      CHECK(r.scaling_limited.status == c.want_limited_status);
      CHECK(r.scaling_limited.reason == c.want_limited);
    }
  }
}

TEST_CASE("B3 stores over an entry older than both windows", "[normalization][behavior]") {
  const Time now = At(1000);
  auto b = Behavior(60, 300);
  HpaHistory h = WithRecs({{4, At(100)}, {5, At(800)}, {6, At(990)}});
  StabilizeRecommendationWithBehaviors(h, 5, 3, b, now);
  REQUIRE(h.recommendations.size() == 3);
  CHECK(h.recommendations[0].recommendation == 3);  // older than both cutoffs
  CHECK(h.recommendations[1].recommendation == 5);  // within the down window: kept
}

TEST_CASE("16.3 percent scale-down float quirk", "[normalization][behavior]") {
  k8s::HpaScalingRules r;
  r.select_policy = "Max";
  r.policies = {{"Percent", 90, 15}};
  // int32(20 * (1 - 0.9)) is 1, not 2.
  CHECK(CalculateScaleDownLimitWithBehaviors(20, {}, {}, r, At(0)) == 1);
  r.policies = {{"Percent", 50, 15}};
  CHECK(CalculateScaleDownLimitWithBehaviors(7, {}, {}, r, At(0)) == 3);  // 3.5 truncates
}

TEST_CASE("B5/B9/16.1 policy periods and events", "[normalization][behavior]") {
  const Time now = At(1000);
  k8s::HpaScalingRules up;
  up.select_policy = "Max";
  up.policies = {{"Pods", 4, 60}};
  auto ev = [](int32_t n, Time t) { return TimestampedScaleEvent{n, t, false}; };
  SECTION("an event inside the period consumes the allowance") {
    // S = 8 after +4 at now-30: start = 4, limit = 8.
    CHECK(CalculateScaleUpLimitWithScalingRules(8, {ev(4, now - std::chrono::seconds(30))}, {}, up, now) == 8);
  }
  SECTION("16.1 an event exactly at the period boundary no longer counts") {
    CHECK(CalculateScaleUpLimitWithScalingRules(8, {ev(4, now - std::chrono::seconds(60))}, {}, up, now) == 12);
  }
  SECTION("B9 a recent scale-down raises the scale-up base") {
    CHECK(CalculateScaleUpLimitWithScalingRules(5, {}, {ev(3, now - std::chrono::seconds(10))}, up, now) == 12);
  }
  SECTION("B5 a limit below S is raised to S") {
    HpaHistory h;
    h.scale_up_events = {ev(10, now - std::chrono::seconds(5))};
    auto b = Behavior(0, 0, {{"Pods", 2, 60}});
    LimitResult r = ConvertDesiredReplicasWithBehaviorRate(h, 10, 15, 1, 20, b, now);
    CHECK(r.desired == 10);
    CHECK(r.reason == "ScaleUpLimit");
  }
}

TEST_CASE("B10 scale events reuse outdated slots", "[normalization][behavior]") {
  auto b = Behavior(0, 0, {{"Pods", 4, 60}});
  HpaHistory h;
  StoreScaleEvent(h, b, 1, 5, At(0));
  StoreScaleEvent(h, b, 5, 9, At(30));
  REQUIRE(h.scale_up_events.size() == 2);
  // At t=90 the first (t=0) is older than the longest period (60 s) and is overwritten.
  StoreScaleEvent(h, b, 9, 10, At(90));
  REQUIRE(h.scale_up_events.size() == 2);
  CHECK(h.scale_up_events[0].replica_change == 1);
  CHECK(h.scale_up_events[0].timestamp == At(90));
  CHECK(h.scale_up_events[1].replica_change == 4);
  // Scale-down events go to their own list.
  StoreScaleEvent(h, b, 10, 7, At(95));
  REQUIRE(h.scale_down_events.size() == 1);
  CHECK(h.scale_down_events[0].replica_change == 3);
}

TEST_CASE("L1 remembers a proposal above maxReplicas as proposed", "[normalization][legacy]") {
  // Conformance example 06: proposals of 9 against maxReplicas 8 at t=30/45,
  // then 8 from t=60. At t=300 the window (cutoff t=0) still holds the 9s, so
  // the stabilized 9 is clamped to 8: TooManyReplicas. At t=390 they are gone.
  HpaHistory h;
  RecordInitialRecommendation(h, 3, At(0));
  NormalizeLegacy(h, 3, 9, 1, 8, kWindow, At(30));
  auto at45 = NormalizeLegacy(h, 6, 9, 1, 8, kWindow, At(45));
  CHECK(at45.desired == 8);
  CHECK(at45.scaling_limited.reason == "TooManyReplicas");
  for (int t = 60; t <= 285; t += 15) NormalizeLegacy(h, 8, 8, 1, 8, kWindow, At(t));
  auto at300 = NormalizeLegacy(h, 8, 8, 1, 8, kWindow, At(300));
  CHECK(at300.stabilized == 9);
  CHECK(at300.desired == 8);
  CHECK(at300.scaling_limited.status == "True");
  CHECK(at300.scaling_limited.reason == "TooManyReplicas");
  for (int t = 315; t <= 375; t += 15) NormalizeLegacy(h, 8, 8, 1, 8, kWindow, At(t));
  auto at390 = NormalizeLegacy(h, 8, 8, 1, 8, kWindow, At(390));
  CHECK(at390.desired == 8);
  CHECK(at390.scaling_limited.status == "False");
  CHECK(at390.scaling_limited.reason == "DesiredWithinRange");
}
