// Expectation matcher (scenario-format.md "Expectations"): partial maps,
// lists in any order with distinct elements, quantities by value, Events,
// expectAbsent.
#include <catch2/catch.hpp>

#include "sim/expectation.h"

using hpad::sim::CheckExpect;
using hpad::sim::CheckExpectAbsent;
using hpad::sim::LiveView;
using hpad::sim::MatchPartial;
using hpad::sim::Mismatch;
using nlohmann::json;

namespace {

json J(const char* text) { return json::parse(text); }

}  // namespace

TEST_CASE("expectation: partial matching table", "[expectation]") {
  struct Case {
    const char* name;
    const char* want;
    const char* got;
    bool match;
  };
  const Case cases[] = {
      {"map subset", R"({"a":1})", R"({"a":1,"b":2})", true},
      {"map value differs", R"({"a":1})", R"({"a":2})", false},
      {"map key absent", R"({"c":1})", R"({"a":1})", false},
      {"nested", R"({"s":{"r":3}})", R"({"s":{"r":3,"x":"y"}})", true},
      {"quantity equal by value", R"({"v":"500m"})", R"({"v":"0.5"})", true},
      {"quantity binary vs bytes", R"({"v":"1Ki"})", R"({"v":"1024"})", true},
      {"quantity differs", R"({"v":"500m"})", R"({"v":"501m"})", false},
      {"number vs quantity string", R"({"v":150})", R"({"v":"150"})", true},
      {"quantity string vs number", R"({"v":"72"})", R"({"v":72})", true},
      {"non-quantity strings exact", R"({"v":"True"})", R"({"v":"true"})", false},
      {"int vs float", R"({"v":2})", R"({"v":2.0})", true},
      {"bool exact", R"({"v":true})", R"({"v":"true"})", false},
      {"list any order", R"({"l":[{"t":"b"},{"t":"a"}]})", R"({"l":[{"t":"a","x":1},{"t":"b"}]})", true},
      {"list distinct elements", R"({"l":[{"t":"a"},{"t":"a"}]})", R"({"l":[{"t":"a"},{"t":"b"}]})", false},
      {"list element missing", R"({"l":[{"t":"c"}]})", R"({"l":[{"t":"a"},{"t":"b"}]})", false},
      {"list needs matching not greedy", R"({"l":[{"k":1},{"k":1,"v":2}]})", R"({"l":[{"k":1,"v":2},{"k":1,"v":3}]})",
       true},
      {"empty wanted list", R"({"l":[]})", R"({"l":[1,2]})", true},
      {"list vs absent", R"({"l":[1]})", R"({})", false},
      {"scalar list", R"({"l":["1Gi","500m"]})", R"({"l":["0.5","1024Mi"]})", true},
      {"wanted null is absent", R"({"a":null})", R"({"b":1})", true},
      {"wanted zero matches omitted field", R"({"s":{"currentReplicas":0}})", R"({"s":{"desiredReplicas":0}})", true},
      {"wanted false matches omitted field", R"({"a":false})", R"({})", true},
      {"wanted non-zero does not match omitted", R"({"a":1})", R"({})", false},
      {"wanted zero vs present non-zero", R"({"a":0})", R"({"a":2})", false},
      {"map vs scalar", R"({"a":{"b":1}})", R"({"a":3})", false},
      {"durations by value", R"({"window":"60s"})", R"({"window":"1m0s"})", true},
      {"durations differ", R"({"window":"30s"})", R"({"window":"1m0s"})", false},
      {"quantity 1m is not a duration against a quantity", R"({"v":"1m"})", R"({"v":"0.001"})", true},
      {"times by instant", R"({"t":"2026-01-01T02:00:00+02:00"})", R"({"t":"2026-01-01T00:00:00Z"})", true},
      {"times differ", R"({"t":"2026-01-01T00:00:01Z"})", R"({"t":"2026-01-01T00:00:00Z"})", false},
      {"plain strings with units stay exact", R"({"r":"ms"})", R"({"r":"s"})", false},
  };
  for (const auto& c : cases) {
    INFO(c.name);
    std::vector<Mismatch> mm;
    CHECK(MatchPartial(J(c.want), J(c.got), "", &mm) == c.match);
    CHECK(mm.empty() == c.match);
    CHECK(MatchPartial(J(c.want), J(c.got), "", nullptr) == c.match);
  }
}

TEST_CASE("expectation: mismatches carry path, wanted and got", "[expectation]") {
  std::vector<Mismatch> mm;
  MatchPartial(J(R"({"status":{"desiredReplicas":6}})"), J(R"({"status":{"desiredReplicas":5}})"), "", &mm);
  REQUIRE(mm.size() == 1);
  CHECK(mm[0].path == "status.desiredReplicas");
  CHECK(mm[0].wanted == "6");
  CHECK(mm[0].got == "5");

  mm.clear();
  MatchPartial(J(R"({"status":{"conditions":[{"type":"ScalingActive","status":"True"},
                                              {"type":"ScalingLimited","reason":"TooManyReplicas"}]}})"),
               J(R"({"status":{"conditions":[{"type":"AbleToScale","status":"True","reason":"SucceededRescale"},
                                             {"type":"ScalingActive","status":"True","reason":"ValidMetricFound"},
                                             {"type":"ScalingLimited","status":"False","reason":"DesiredWithinRange"}]}})"),
               "", &mm);
  // Explained against the closest live element: the ScalingLimited condition.
  REQUIRE(mm.size() == 1);
  CHECK(mm[0].path == "status.conditions[1].reason");
  CHECK(mm[0].wanted == "TooManyReplicas");
  CHECK(mm[0].got == "DesiredWithinRange");

  mm.clear();
  MatchPartial(J(R"({"spec":{"x":1}})"), J(R"({"spec":{}})"), "", &mm);
  REQUIRE(mm.size() == 1);
  CHECK(mm[0].path == "spec.x");
  CHECK(mm[0].got == "<absent>");
}

TEST_CASE("expectation: objects are picked by identity", "[expectation]") {
  json deploy = J(R"({"apiVersion":"apps/v1","kind":"Deployment",
                      "metadata":{"namespace":"default","name":"web","resourceVersion":"7"},
                      "spec":{"replicas":4}})");
  LiveView live;
  live.get = [&](const json& e) -> std::optional<json> {
    if (e["kind"] == "Deployment" && e["metadata"]["name"] == "web") return deploy;
    return std::nullopt;
  };
  auto held = CheckExpect(J(R"({"apiVersion":"apps/v1","kind":"Deployment",
                                "metadata":{"namespace":"default","name":"web"},"spec":{"replicas":4}})"),
                          live);
  CHECK(held.empty());
  auto wrong = CheckExpect(J(R"({"apiVersion":"apps/v1","kind":"Deployment",
                                 "metadata":{"namespace":"default","name":"web"},"spec":{"replicas":3}})"),
                           live);
  REQUIRE(wrong.size() == 1);
  CHECK(wrong[0].path == "spec.replicas");
  auto missing = CheckExpect(J(R"({"apiVersion":"apps/v1","kind":"Deployment",
                                   "metadata":{"namespace":"default","name":"nope"}})"),
                             live);
  REQUIRE(missing.size() == 1);
  CHECK(missing[0].got == "<absent>");

  // expectAbsent: an identity-only entry means "does not exist".
  CHECK(CheckExpectAbsent(J(R"({"apiVersion":"apps/v1","kind":"Deployment",
                                "metadata":{"namespace":"default","name":"nope"}})"),
                          live)
            .empty());
  CHECK(CheckExpectAbsent(J(R"({"apiVersion":"apps/v1","kind":"Deployment",
                                "metadata":{"namespace":"default","name":"web"}})"),
                          live)
            .size() == 1);
  // ... and with fields: no live object matching them.
  CHECK(CheckExpectAbsent(J(R"({"apiVersion":"apps/v1","kind":"Deployment",
                                "metadata":{"namespace":"default","name":"web"},"spec":{"replicas":9}})"),
                          live)
            .empty());
}

TEST_CASE("expectation: events by involvedObject, type, reason, message and count", "[expectation]") {
  LiveView live;
  live.get = [](const json&) { return std::nullopt; };
  live.events = {
      J(R"({"metadata":{"namespace":"default","name":"e1"},
            "involvedObject":{"kind":"HorizontalPodAutoscaler","namespace":"default","name":"web","uid":"u"},
            "type":"Normal","reason":"SuccessfulRescale","message":"New size: 3; reason: cpu above target","count":2})"),
      J(R"({"metadata":{"namespace":"default","name":"e2"},
            "involvedObject":{"kind":"HorizontalPodAutoscaler","namespace":"default","name":"web"},
            "type":"Warning","reason":"FailedGetExternalMetric","message":"unable to get external metric"})"),
  };
  struct Case {
    const char* name;
    const char* expect;
    bool held;
  };
  const Case cases[] = {
      {"exact message", R"({"involvedObject":{"kind":"HorizontalPodAutoscaler","namespace":"default","name":"web"},
                            "type":"Normal","reason":"SuccessfulRescale","message":"New size: 3; reason: cpu above target"})",
       true},
      {"message differs", R"({"involvedObject":{"name":"web"},"reason":"SuccessfulRescale","message":"New size: 4"})", false},
      {"contains", R"({"involvedObject":{"name":"web"},"reason":"SuccessfulRescale","message":{"contains":"New size: 3"}})",
       true},
      {"count at least (aggregated)", R"({"involvedObject":{"name":"web"},"reason":"SuccessfulRescale","count":2})", true},
      {"count too high", R"({"involvedObject":{"name":"web"},"reason":"SuccessfulRescale","count":3})", false},
      {"other object", R"({"involvedObject":{"name":"api"},"reason":"SuccessfulRescale"})", false},
      {"type differs", R"({"involvedObject":{"name":"web"},"type":"Warning","reason":"SuccessfulRescale"})", false},
      {"namespace in metadata", R"({"metadata":{"namespace":"default"},"involvedObject":{"name":"web"},
                                    "reason":"FailedGetExternalMetric","type":"Warning"})",
       true},
  };
  for (const auto& c : cases) {
    INFO(c.name);
    json e = J(c.expect);
    e["apiVersion"] = "v1";
    e["kind"] = "Event";
    auto mm = CheckExpect(e, live);
    CHECK(mm.empty() == c.held);
    // expectAbsent is the negation, count included ("fewer than count").
    CHECK(CheckExpectAbsent(e, live).empty() != c.held);
  }
  json miss = J(R"({"apiVersion":"v1","kind":"Event","involvedObject":{"name":"web"},"reason":"SuccessfulRescale",
                    "message":"New size: 9"})");
  auto mm = CheckExpect(miss, live);
  REQUIRE(mm.size() == 1);
  CHECK(mm[0].got.find("New size: 3") != std::string::npos);  // shows what was recorded
}
