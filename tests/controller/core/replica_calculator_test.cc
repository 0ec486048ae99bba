// Tables for the pure replica calculator (hpa-semantics.md sections 6, 8, 9).
#include <catch2/catch.hpp>

#include <limits>
#include <random>

#include "controller/core/replica_calculator.h"
#include "tests/controller/controller_test_util.h"

using namespace hpad::ctrl;
using namespace hpad::ctrl::testing;
using hpad::Time;

namespace {

const ReadinessTuning kTuning{std::chrono::minutes(5), std::chrono::seconds(30)};

struct UtilCase {
  std::string name;
  int32_t current;
  int32_t target;
  PodList pods;
  PodMetricsInfo metrics;
  Tolerances tol;
  int32_t want_replicas;
  int32_t want_util;
  int64_t want_avg;
  std::string want_error;  // "" = success
};

}  // namespace

TEST_CASE("C2-C7 resource utilization proposals", "[calculator]") {
  const Tolerances def{0.1, 0.1};
  std::vector<UtilCase> cases = {
      // C4: upstream TestReplicaCalcScaleUp: 1500m of 3000m = 50% vs 30% -> ceil(1.667 * 3).
      {"C4 scale up", 3, 30, {Pod("a"), Pod("b"), Pod("c")}, Metrics({{"a", 300}, {"b", 500}, {"c", 700}}), def, 5,
       50, 500, ""},
      // C4: scale down over ready pods only.
      {"C4 scale down", 5, 50, {Pod("a"), Pod("b"), Pod("c"), Pod("d"), Pod("e")},
       Metrics({{"a", 100}, {"b", 100}, {"c", 100}, {"d", 100}, {"e", 100}}), def, 1, 10, 100, ""},
      // C1 upper boundary inclusive: 110% of 100% is inside [0.9, 1.1].
      {"C1 ratio exactly 1+up is within", 4, 100, {Pod("a")}, Metrics({{"a", 1100}}), def, 4, 110, 1100, ""},
      {"C1 just above the band", 4, 100, {Pod("a")}, Metrics({{"a", 1110}}), def, 2, 111, 1110, ""},
      // C1 lower boundary inclusive: 90% of 100% stays.
      {"C1 ratio exactly 1-down is within", 7, 100, {Pod("a")}, Metrics({{"a", 900}}), def, 7, 90, 900, ""},
      {"C1 just below the band", 10, 100,
       {Pod("a"), Pod("b"), Pod("c"), Pod("d"), Pod("e"), Pod("f"), Pod("g"), Pod("h"), Pod("i"), Pod("j")},
       Metrics({{"a", 890}, {"b", 890}, {"c", 890}, {"d", 890}, {"e", 890}, {"f", 890}, {"g", 890}, {"h", 890},
                {"i", 890}, {"j", 890}}),
       def, 9, 89, 890, ""},
      // C1 per-HPA tolerance (behavior.scaleDown/scaleUp.tolerance).
      {"C1 per-HPA down tolerance 0.25 keeps 80%", 3, 100, {Pod("a")}, Metrics({{"a", 800}}), {0.25, 0.1}, 3, 80, 800,
       ""},
      {"C1 per-HPA up tolerance 0.5 keeps 140%", 3, 100, {Pod("a")}, Metrics({{"a", 1400}}), {0.1, 0.5}, 3, 140, 1400,
       ""},
      {"C1 per-HPA up tolerance 0.01 scales at 102%", 1, 100, {Pod("a")}, Metrics({{"a", 1020}}), {0.1, 0.01}, 2, 102,
       1020, ""},
      // 16.2: 995m of 1000m truncates to 99%.
      {"16.2 utilization truncates", 1, 90, {Pod("a")}, Metrics({{"a", 995}}), def, 1, 99, 995, ""},
      // C5b: one unready pod on a scale-up counts as 0: 1200/2000 = 60% -> ratio 2; 1200/3000 = 40% -> ceil(1.33*3).
      {"C5b unready pods count as idle on scale-up", 3, 30, {Pod("a", "Running", "False"), Pod("b"), Pod("c")},
       Metrics({{"a", 300}, {"b", 500}, {"c", 700}}), def, 4, 60, 600, ""},
      // C6: unready pods during a scale-down are just excluded (C4 path, ready count 2).
      {"C6 unready excluded on scale-down", 3, 50, {Pod("a", "Pending"), Pod("b"), Pod("c")},
       Metrics({{"b", 100}, {"c", 100}}), def, 1, 10, 100, ""},
      // C5a/C6: missing pod counts as 100% of its request on a scale-down: 10% -> (300+1000)/4000 = 32% -> ceil(0.64*4).
      {"C5a missing pod at 100% on scale-down", 4, 50, {Pod("a"), Pod("b"), Pod("c"), Pod("d")},
       Metrics({{"a", 100}, {"b", 100}, {"c", 100}}), def, 3, 10, 100, ""},
      // C6: with U > 100 the missing pod counts as U percent: (300+1500)/4000 = 45% / 150 -> ceil(0.3*4) = 2.
      {"C6 missing pod at U% when U > 100", 4, 150, {Pod("a"), Pod("b"), Pod("c"), Pod("d")},
       Metrics({{"a", 100}, {"b", 100}, {"c", 100}}), def, 2, 10, 100, ""},
      // C5d: the fill flips the direction: 120% -> missing at 0 -> 60%: keep S.
      {"C5d direction flip on scale-up keeps S", 2, 100, {Pod("a"), Pod("b")}, Metrics({{"a", 1200}}), def, 2, 120,
       1200, ""},
      // C5d: the fill flips the direction the other way: 40%/50% -> missing at 100% -> 80%/50%: keep S.
      {"C5d direction flip on scale-down keeps S", 3, 50, {Pod("a"), Pod("b"), Pod("c")}, Metrics({{"a", 400}}), def, 3,
       40, 400, ""},
      // C5e/16.6: superfluous values (pod c is not in the list) count in len(values): ceil(1.5 * 3) = 5, not 3.
      {"C5e superfluous entries counted in len(values)", 2, 100, {Pod("a"), Pod("b")},
       Metrics({{"a", 3000}, {"c", 500}}), def, 5, 300, 3000, ""},
      // C5e: rebalanced proposal that would move against the direction keeps S.
      // C5e: 10% -> missing b at 100% -> 55%; n2 = ceil(0.55 * 7 values) = 4 > S = 3 -> keep S (2 without the
      // five superfluous entries).
      {"C5e n2 against direction keeps S", 3, 100, {Pod("a"), Pod("b")}, Metrics({{"a", 100}, {"x", 0}, {"y", 0},
       {"z", 0}, {"w", 0}, {"v", 0}}), def, 3, 10, 100, ""},
      {"C5e without superfluous entries", 3, 100, {Pod("a"), Pod("b")}, Metrics({{"a", 100}}), def, 2, 10, 100, ""},
      // P1: failed, succeeded and deleted pods are dropped with their values.
      {"P1 ignored pods", 4, 50,
       {Pod("a"), Pod("b", "Failed"), Pod("c", "Succeeded"),
        MakePod({.name = "d", .deleting = true})},
       Metrics({{"a", 1000}, {"b", 5000}, {"c", 5000}, {"d", 5000}}), def, 2, 100, 1000, ""},
      // P7 / P8 / C3 / RQ1 errors.
      {"P8 no pods", 1, 50, {}, Metrics({{"a", 1}}), def, 0, 0, 0,
       "no pods returned by selector while calculating replica count"},
      {"P7 every value dropped", 1, 50, {Pod("a", "Pending"), Pod("b", "Running", std::nullopt)},
       Metrics({{"a", 100}, {"b", 100}}), def, 0, 0, 0,
       "did not receive metrics for targeted pods (pods might be unready)"},
      {"C3 only superfluous values", 1, 50, {Pod("a")}, Metrics({{"zz", 100}}), def, 0, 0, 0,
       "no metrics returned matched known pods"},
      {"RQ1 missing request", 1, 50, {Pod("a"), MakePod({.name = "b", .requests = {{"memory", 1}}})},
       Metrics({{"a", 100}, {"b", 100}}), def, 0, 0, 0, "missing request for cpu in container app of Pod b"},
      // RQ4: a terminated pod without requests still breaks the computation.
      {"RQ4 failed pod without request breaks", 1, 50,
       {Pod("a"), MakePod({.name = "b", .phase = "Failed", .requests = {}})}, Metrics({{"a", 100}}), def, 0, 0, 0,
       "missing request for cpu in container app of Pod b"},
  };
  for (const auto& c : cases) {
    SECTION(c.name) {
      auto r = CalcResourceUtilizationReplicas(c.current, c.target, "cpu", "", c.tol, c.metrics, c.pods, kTuning, T0());
      if (!c.want_error.empty()) {
        REQUIRE_FALSE(r.ok());
        CHECK(r.status().message() == c.want_error);
      } else {
        REQUIRE(r.ok());
        CHECK(r->replicas == c.want_replicas);
        CHECK(r->utilization == c.want_util);
        CHECK(r->usage == c.want_avg);
      }
    }
  }
}

TEST_CASE("P1-P5 pod grouping", "[calculator][grouping]") {
  const Time now = T0();
  auto metric_at = [&](Time ts) { return PodMetricsInfo{{"p", PodMetric{100, ts, std::chrono::seconds(30)}}}; };
  struct Case {
    std::string name;
    PodSpec pod;
    std::string resource;
    Time sample;
    std::string want;  // ready | unready | missing | ignored
  };
  const Time long_ago = now - std::chrono::hours(1);
  std::vector<Case> cases = {
      {"P5 ready", {.name = "p"}, "cpu", now, "ready"},
      {"P1 deleting", {.name = "p", .deleting = true}, "cpu", now, "ignored"},
      {"P1 failed", {.name = "p", .phase = "Failed"}, "cpu", now, "ignored"},
      {"P1 succeeded", {.name = "p", .phase = "Succeeded"}, "cpu", now, "ignored"},
      {"P2 pending", {.name = "p", .phase = "Pending"}, "memory", now, "unready"},
      {"P4a no Ready condition (cpu)", {.name = "p", .ready = std::nullopt}, "cpu", now, "unready"},
      {"P4a no start time (cpu)", {.name = "p", .no_start_time = true}, "cpu", now, "unready"},
      {"P4 memory ignores readiness", {.name = "p", .ready = std::nullopt}, "memory", now, "ready"},
      {"P4 pods metrics ignore readiness", {.name = "p", .ready = "False"}, "", now, "ready"},
      // P4b: started 60 s ago (initialising), ready since 20 s; the 30 s window is not yet covered.
      {"P4b sample before ready+window",
       {.name = "p", .start = now - std::chrono::seconds(60), .ready_since = now - std::chrono::seconds(20)}, "cpu",
       now, "unready"},
      {"P4b sample exactly at ready+window is ready",
       {.name = "p", .start = now - std::chrono::seconds(60), .ready_since = now - std::chrono::seconds(30)}, "cpu",
       now, "ready"},
      {"P4b initialising and Ready=False",
       {.name = "p", .ready = "False", .start = now - std::chrono::seconds(60),
        .ready_since = now - std::chrono::seconds(50)},
       "cpu", now, "unready"},
      {"P4b Ready=Unknown is not False",
       {.name = "p", .ready = "Unknown", .start = now - std::chrono::seconds(60),
        .ready_since = now - std::chrono::seconds(50)},
       "cpu", now, "ready"},
      // P4c: initialisation over. Unready only if it went unready within the delay after start.
      {"P4c never became ready", {.name = "p", .ready = "False", .start = long_ago, .ready_since = long_ago + std::chrono::seconds(10)},
       "cpu", now, "unready"},
      {"P4c was ready once, unready later counts as ready",
       {.name = "p", .ready = "False", .start = long_ago, .ready_since = long_ago + std::chrono::minutes(10)}, "cpu",
       now, "ready"},
      {"P4c boundary: transition exactly at start+delay is ready",
       {.name = "p", .ready = "False", .start = long_ago, .ready_since = long_ago + std::chrono::seconds(30)}, "cpu",
       now, "ready"},
  };
  for (const auto& c : cases) {
    SECTION(c.name) {
      PodList pods{MakePod(c.pod)};
      PodGroups g = GroupPods(pods, metric_at(c.sample), c.resource, kTuning, now);
      std::string got = g.ready_count == 1        ? "ready"
                        : g.unready.count("p")    ? "unready"
                        : g.missing.count("p")    ? "missing"
                        : g.ignored.count("p")    ? "ignored"
                                                  : "none";
      CHECK(got == c.want);
    }
  }
  SECTION("P3 missing") {
    PodGroups g = GroupPods({Pod("q")}, metric_at(now), "cpu", kTuning, now);
    CHECK(g.missing.count("q") == 1);
  }
}

TEST_CASE("RQ1-RQ3 requests", "[calculator][requests]") {
  auto pod = std::make_shared<hpad::k8s::Pod>();
  pod->name = "p";
  pod->SetRequests({.containers = {{"app", {{"cpu", 200}}, false}, {"log", {{"cpu", 50}}, false}},
                    .init_containers = {{"init", {}, false}, {"sidecar", {{"cpu", 25}}, true}}});
  PodList pods{pod};
  SECTION("RQ1 whole pod includes sidecars, skips plain init containers") {
    auto r = CalculatePodRequests(pods, "", "cpu");
    REQUIRE(r.ok());
    CHECK(r->at("p") == 275);
  }
  SECTION("RQ3 container form") {
    auto r = CalculatePodRequests(pods, "log", "cpu");
    REQUIRE(r.ok());
    CHECK(r->at("p") == 50);
  }
  SECTION("RQ3 absent container") {
    auto r = CalculatePodRequests(pods, "nope", "cpu");
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().message() == "container nope not found in Pod p");
  }
  SECTION("RQ2 pod-level requests win with the gate") {
    auto p2 = std::make_shared<hpad::k8s::Pod>(*pod);
    hpad::k8s::PodRequests with_pod_level = pod->requests();
    with_pod_level.pod_level_requests_milli = {{"cpu", 1000}};
    p2->SetRequests(std::move(with_pod_level));
    auto r = CalculatePodRequests({p2}, "", "cpu", true);
    REQUIRE(r.ok());
    CHECK(r->at("p") == 1000);
    auto off = CalculatePodRequests({p2}, "", "cpu", false);
    CHECK(off->at("p") == 275);
    auto mem = CalculatePodRequests({p2}, "", "memory", true);
    REQUIRE_FALSE(mem.ok());
    CHECK(mem.status().message() == "missing pod-level request for memory in Pod p");
  }
}

TEST_CASE("RQ2 pod-level requests follow PodRequests", "[calculator][requests]") {
  using hpad::k8s::PodContainer;
  struct Case {
    std::string name;
    std::vector<PodContainer> containers{};
    std::vector<PodContainer> init_containers{};
    std::map<std::string, int64_t> pod_level{};
    std::map<std::string, int64_t> overhead{};
    std::string resource = "cpu";
    std::optional<int64_t> want{};  // nullopt: the missing pod-level request error
  };
  const std::vector<Case> cases = {
      // The spec's example: pod-level cpu 500m, two containers with memory
      // 100Mi each, overhead cpu 250m.
      {.name = "spec example cpu", .containers = {{"a", {{"memory", 100}}, false}, {"b", {{"memory", 100}}, false}},
       .pod_level = {{"cpu", 500}}, .overhead = {{"cpu", 250}}, .resource = "cpu", .want = 750},
      {.name = "spec example memory: a pod-level cpu request does not break a memory HPA",
       .containers = {{"a", {{"memory", 100}}, false}, {"b", {{"memory", 100}}, false}},
       .pod_level = {{"cpu", 500}}, .overhead = {{"cpu", 250}}, .resource = "memory", .want = 200},
      {.name = "overhead is added to the pod-level request",
       .containers = {{"a", {{"cpu", 100}}, false}}, .pod_level = {{"cpu", 200}}, .overhead = {{"cpu", 100}},
       .want = 300},
      {.name = "containers without a request contribute nothing",
       .containers = {{"a", {{"cpu", 100}}, false}, {"b", {}, false}}, .pod_level = {{"memory", 64}}, .want = 100},
      {.name = "sidecars are summed, a regular init container raises to its peak",
       .containers = {{"app", {{"cpu", 100}}, false}},
       .init_containers = {{"side", {{"cpu", 50}}, true}, {"init", {{"cpu", 400}}, false}},
       .pod_level = {{"memory", 64}}, .want = 450},  // max(100 + 50, 400 + 50)
      {.name = "an init container before the sidecar does not count it",
       .containers = {{"app", {{"cpu", 100}}, false}},
       .init_containers = {{"init", {{"cpu", 120}}, false}, {"side", {{"cpu", 50}}, true}},
       .pod_level = {{"memory", 64}}, .want = 150},  // max(100 + 50, 120)
      {.name = "an unsupported pod-level resource alone is not pod-level requests",
       .containers = {{"app", {{"cpu", 100}}, false}, {"b", {}, false}}, .pod_level = {{"hugepages-2Mi", 1}},
       .resource = "memory", .want = std::nullopt},
      {.name = "a resource absent everywhere is the pod-level error",
       .containers = {{"app", {{"cpu", 100}}, false}}, .pod_level = {{"cpu", 500}}, .resource = "memory",
       .want = std::nullopt},
  };
  for (const auto& c : cases) {
    SECTION(c.name) {
      auto pod = std::make_shared<hpad::k8s::Pod>();
      pod->name = "p";
      pod->SetRequests({.containers = c.containers,
                        .init_containers = c.init_containers,
                        .pod_level_requests_milli = c.pod_level,
                        .overhead_milli = c.overhead});
      auto r = CalculatePodRequests({pod}, "", c.resource, true);
      if (c.want) {
        REQUIRE(r.ok());
        CHECK(r->at("p") == *c.want);
      } else if (c.pod_level.count("cpu") || c.pod_level.count("memory")) {
        REQUIRE_FALSE(r.ok());
        CHECK(r.status().message() == "missing pod-level request for " + c.resource + " in Pod p");
      } else {
        // Not pod-level: RQ1 applies and names the container without a request.
        REQUIRE_FALSE(r.ok());
        CHECK(r.status().message() == "missing request for memory in container app of Pod p");
      }
    }
  }
}

TEST_CASE("C8-C10 plain metric proposals", "[calculator]") {
  const Tolerances def{0.1, 0.1};
  struct Case {
    std::string name;
    int32_t current;
    int64_t target;
    std::string resource;
    PodList pods;
    PodMetricsInfo metrics;
    int32_t want;
    int64_t want_usage;
  };
  std::vector<Case> cases = {
      // Conformance 04: four pods at 150 vs 100 -> ceil(1.5 * 4) = 6.
      {"C9 pods metric scale up", 4, 100000, "", {Pod("a"), Pod("b"), Pod("c"), Pod("d")},
       Metrics({{"a", 150000}, {"b", 150000}, {"c", 150000}, {"d", 150000}}), 6, 150000},
      {"C9 within tolerance", 4, 100000, "", {Pod("a"), Pod("b")}, Metrics({{"a", 105000}, {"b", 105000}}), 4, 105000},
      // C10: missing pod gets the target on a scale-down: (50+50+100)/3 = 66.6 -> ceil(0.667*3) = 2.
      {"C10 missing at target on scale-down", 3, 100, "", {Pod("a"), Pod("b"), Pod("c")},
       Metrics({{"a", 50}, {"b", 50}}), 2, 50},
      // C10: missing pod gets 0 on a scale-up: (300+0)/2 = 150 -> ceil(1.5*2) = 3.
      {"C10 missing at 0 on scale-up", 2, 100, "", {Pod("a"), Pod("b")}, Metrics({{"a", 300}}), 3, 300},
      // C10/C5d: flip keeps S.
      {"C10 flip keeps S", 2, 100, "", {Pod("a"), Pod("b"), Pod("c")}, Metrics({{"a", 120}}), 2, 120},
      // C8: cpu AverageValue gets P4 (the unready pod is dropped, then counts 0 on a scale-up).
      {"C8 cpu average value applies readiness", 2, 100, "cpu", {Pod("a"), Pod("b", "Running", "False")},
       Metrics({{"a", 400}, {"b", 400}}), 4, 400},
      // C8: memory AverageValue ignores readiness (conformance 03 shape).
      {"C8 memory average value", 3, 200, "memory",
       {Pod("a", "Running", "False"), Pod("b"), Pod("c")}, Metrics({{"a", 300}, {"b", 300}, {"c", 300}}), 5, 300},
  };
  for (const auto& c : cases) {
    SECTION(c.name) {
      auto r = CalcPlainMetricReplicas(c.current, c.target, c.resource, def, c.metrics, c.pods, kTuning, T0());
      REQUIRE(r.ok());
      CHECK(r->replicas == c.want);
      CHECK(r->usage == c.want_usage);
    }
  }
}

TEST_CASE("C11/C13 value targets on objects and external metrics", "[calculator]") {
  const Tolerances def{0.1, 0.1};
  PodList pods{Pod("a"), Pod("b"), Pod("c", "Pending", "False"), Pod("d", "Running", "False")};
  SECTION("C11 ready pods only") { CHECK(*UsageRatioReplicaCount(3, 1.5, def, pods) == 3); }
  SECTION("C11 within tolerance returns S without listing") { CHECK(*UsageRatioReplicaCount(3, 1.05, def, {}) == 3); }
  SECTION("C11 zero matching pods") {
    auto r = UsageRatioReplicaCount(3, 2.0, def, {});
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().message() ==
          "unable to calculate ready pods: no pods returned by selector while calculating replica count");
  }
  SECTION("C11 no ready pod proposes 0") {
    CHECK(*UsageRatioReplicaCount(3, 2.0, def, {Pod("x", "Pending", "False")}) == 0);
  }
  SECTION("C11 terminating but Running+Ready counts") {
    CHECK(*UsageRatioReplicaCount(3, 2.0, def, {MakePod({.name = "t", .deleting = true})}) == 2);
  }
  SECTION("C11 from zero: ceil(ratio), no tolerance") {
    CHECK(*UsageRatioReplicaCount(0, 1.05, def, {}) == 2);
    CHECK(*UsageRatioReplicaCount(0, 0.0, def, {}) == 0);
  }
  SECTION("16.7 cap at 2^31-1") {
    CHECK(*UsageRatioReplicaCount(1, 1e12, def, {Pod("a")}) == std::numeric_limits<int32_t>::max());
  }
}

TEST_CASE("C12/C14 average value targets on objects and external metrics", "[calculator]") {
  const Tolerances def{0.1, 0.1};
  struct Case {
    std::string name;
    int32_t sr;
    int64_t v, a;
    int32_t want;
    int64_t want_usage;
  };
  std::vector<Case> cases = {
      // Conformance 05: 12 / (5 * 2) = 1.2 -> ceil(12 / 5) = 3; reported ceil(12 / 2) = 6.
      {"C14 scale out", 2, 12000, 5000, 3, 6000},
      {"C12 within tolerance proposes SR", 2, 10500, 5000, 2, 5250},
      {"C12 SR == 0: ratio +Inf, usage 0", 0, 12000, 5000, 3, 0},
      {"C12 SR == 0 and v == 0: NaN is never within", 0, 0, 5000, 0, 0},
      {"C12 scale in does not depend on pods", 10, 4000, 1000, 4, 400},
      // 16.7/C12: the overflow check comes before the zero-replica case,
      // and compares as float64 (values rounding to 2^63 count).
      {"C12 saturated usage with SR == 0 reports int64 max", 0, std::numeric_limits<int64_t>::max(), 1000,
       std::numeric_limits<int32_t>::max(), std::numeric_limits<int64_t>::max()},
      {"C12 usage within float rounding of 2^63 reports int64 max", 4, std::numeric_limits<int64_t>::max() - 100,
       1000, std::numeric_limits<int32_t>::max(), std::numeric_limits<int64_t>::max()},
  };
  for (const auto& c : cases) {
    SECTION(c.name) {
      PerPodProposal p = PerPodMetricReplicas(c.sr, c.v, c.a, def, true);
      CHECK(p.replicas == c.want);
      CHECK(p.usage == c.want_usage);
    }
  }
}

TEST_CASE("M6 external sums", "[calculator]") {
  const int64_t max = std::numeric_limits<int64_t>::max();
  CHECK(SumExternalValues({1000, 2000, 3000}, false) == 6000);
  CHECK(SumExternalValues({1000, -3000}, false) == -2000);
  CHECK(SumExternalValues({max, 5}, false) == max);
  // C13/M6: a positive overflow stops the sum (later series are not added).
  CHECK(SumExternalValues({max, 5, -1000}, false) == max);
  CHECK(SumExternalValues({max - 10, 20, -1000}, false) == max);
  CHECK(SumExternalValues({1000, -3000, 5000}, true) == max);  // negative running sum saturates and stops
  CHECK(SumExternalValues({max, 5}, true) == max);
  CHECK(SumExternalValues({7, 8}, true) == 15);
}

// The calculator has two implementations (replica_calculator.cc): a merge
// pass for pods in strictly increasing name order (the lister's order) and
// upstream's set/map form for any other order. Same pods reversed take the
// general form, so on random inputs the two must agree exactly (C2-C10,
// P1-P8, RQ1-RQ4, 16.6). At most one pod lacks a request, so the RQ error
// names the same pod in either order.
TEST_CASE("fast path agrees with the general path on random inputs", "[calculator][fastpath]") {
  std::mt19937 rng(20260101);
  auto pick = [&](int n) { return static_cast<int>(rng() % static_cast<unsigned>(n)); };
  const Time now = T0();
  const std::vector<std::string> phases = {"Running", "Running", "Running", "Pending", "Failed", "Succeeded"};
  const std::vector<std::optional<std::string>> ready = {"True", "True", "False", "Unknown", std::nullopt};
  auto describe = [](const hpad::Result<PodMetricProposal>& r) {
    if (!r.ok()) return "error: " + r.status().message();
    return std::to_string(r->replicas) + "/" + std::to_string(r->utilization) + "/" + std::to_string(r->usage);
  };
  int fast_ok = 0, errors = 0, filled = 0;
  for (int iter = 0; iter < 4000; iter++) {
    const int n = 1 + pick(8);
    PodList sorted;
    PodMetricsInfo metrics;
    bool one_without_request = pick(10) == 0;
    int no_request_at = pick(n);
    for (int i = 0; i < n; i++) {
      PodSpec s;
      s.name = "pod-" + std::string(1, static_cast<char>('a' + i));
      s.phase = phases[static_cast<size_t>(pick(static_cast<int>(phases.size())))];
      s.ready = ready[static_cast<size_t>(pick(static_cast<int>(ready.size())))];
      s.start = now - std::chrono::seconds(pick(2) ? 3600 : 40 + pick(200));
      s.ready_since = s.start + std::chrono::seconds(pick(90));
      s.deleting = pick(12) == 0;
      s.no_start_time = pick(15) == 0;
      s.requests = {{"cpu", pick(8) == 0 ? 0 : 100 * (1 + pick(10))}, {"memory", 1000}};
      if (one_without_request && i == no_request_at) s.requests = {{"memory", 1000}};
      sorted.push_back(MakePod(s));
      if (pick(4) != 0) {  // P3: some pods have no sample
        metrics[s.name] = PodMetric{pick(1500), now - std::chrono::seconds(pick(120)), std::chrono::seconds(30 + pick(2) * 30)};
      }
    }
    for (int k = pick(3); k > 0; k--) metrics["zz-superfluous-" + std::to_string(k)] = PodMetric{pick(900), now, {}};
    if (pick(3) == 0) metrics["a-superfluous"] = PodMetric{pick(900), now, {}};  // sorts before every pod
    PodList reversed(sorted.rbegin(), sorted.rend());
    const int32_t current = 1 + pick(12);
    const int32_t target = 10 + 10 * pick(20);
    const std::string resource = pick(3) == 0 ? "memory" : "cpu";
    const Tolerances tol{0.1, 0.1};
    auto fast = CalcResourceUtilizationReplicas(current, target, resource, "", tol, metrics, sorted, kTuning, now);
    auto general = CalcResourceUtilizationReplicas(current, target, resource, "", tol, metrics, reversed, kTuning, now);
    INFO("iteration " << iter << " pods " << n << " resource " << resource);
    REQUIRE(describe(fast) == describe(general));
    auto fast_c = CalcResourceUtilizationReplicas(current, target, resource, "app", tol, metrics, sorted, kTuning, now);
    auto general_c = CalcResourceUtilizationReplicas(current, target, resource, "app", tol, metrics, reversed, kTuning,
                                                     now);
    REQUIRE(describe(fast_c) == describe(general_c));
    const int64_t target_usage = 100 + 50 * pick(20);
    auto fast_p = CalcPlainMetricReplicas(current, target_usage, resource, tol, metrics, sorted, kTuning, now);
    auto general_p = CalcPlainMetricReplicas(current, target_usage, resource, tol, metrics, reversed, kTuning, now);
    REQUIRE(describe(fast_p) == describe(general_p));
    if (fast.ok()) {
      fast_ok++;
      if (fast->replicas != current) filled++;
    } else {
      errors++;
    }
  }
  // The generator reaches both outcomes often enough to mean something.
  CHECK(fast_ok > 1000);
  CHECK(errors > 200);
  CHECK(filled > 300);
}

// The merge pass checks the name order while it walks (no separate pass) and
// reuses the request of the previous pod when both share one interned
// PodRequests. Against the general form (reversed lists, or any list with a
// duplicate name): names of mixed lengths that share long prefixes or differ
// only in their last byte, lists in random orders (sorted ones take the
// merge pass, others leave it at their first out-of-order pod), duplicates
// next to each other, and pods sharing request specs (null included).
TEST_CASE("merge pass order check and shared requests agree with the general path", "[calculator][fastpath]") {
  std::mt19937 rng(20260215);
  auto pick = [&](int n) { return static_cast<int>(rng() % static_cast<unsigned>(n)); };
  const Time now = T0();
  const std::vector<std::string> pool = {
      "a",        "b",        "web-1",    "web-10",   "web-2",    "web-7d9f8b6c5d-x2x4",  "web-7d9f8b6c5d-x2x4k",
      "web-7d9f8b6c5d-x2x4l", "web-7d9f8b6c5d-y2x4k", "pod-abcdefgh", "pod-abcdefgi", "pod-abcdefg", "pod-abcd",
      "pod-abce", "zz"};
  const std::vector<std::string> phases = {"Running", "Running", "Running", "Pending", "Failed"};
  const std::vector<std::optional<std::string>> ready = {"True", "True", "True", "False", std::nullopt};
  auto describe = [](const hpad::Result<PodMetricProposal>& r) {
    if (!r.ok()) return "error: " + r.status().message();
    return std::to_string(r->replicas) + "/" + std::to_string(r->utilization) + "/" + std::to_string(r->usage);
  };
  auto spec = [](std::map<std::string, int64_t> requests) {
    hpad::k8s::PodContainer c;
    c.name = "app";
    c.requests_milli = std::move(requests);
    return std::make_shared<const hpad::k8s::PodRequests>(hpad::k8s::PodRequests{.containers = {c}});
  };
  int merged = 0, general = 0, shared = 0;
  for (int iter = 0; iter < 3000; iter++) {
    // Shared specs: two with cpu, one with cpu and memory, and in half the
    // iterations none (null: fine for the whole pod, RQ3 for container
    // "app"). A spec without cpu (or null) goes to one pod at most, so that
    // at most one pod has an error and its text does not depend on the order.
    const bool shared_null = pick(2) == 0;
    const std::vector<std::shared_ptr<const hpad::k8s::PodRequests>> specs = {
        spec({{"cpu", 100 * (1 + pick(10))}}), spec({{"cpu", 250}}),
        spec({{"cpu", 300}, {"ephemeral-storage", 1}, {"memory", 1000}}), shared_null ? nullptr : spec({{"cpu", 90}})};
    const auto without_cpu = pick(2) == 0 ? spec({{"memory", 1000}}) : nullptr;
    std::vector<std::string> names = pool;
    std::shuffle(names.begin(), names.end(), rng);
    names.resize(static_cast<size_t>(1 + pick(static_cast<int>(pool.size()))));
    std::sort(names.begin(), names.end());
    const int no_cpu_at = pick(10) == 0 ? pick(static_cast<int>(names.size())) : -1;
    PodList sorted;
    PodMetricsInfo metrics;
    for (size_t i = 0; i < names.size(); i++) {
      auto p = std::make_shared<hpad::k8s::Pod>();
      p->name = names[i];
      p->ns = "default";
      p->phase = phases[static_cast<size_t>(pick(static_cast<int>(phases.size())))];
      p->ready_status = ready[static_cast<size_t>(pick(static_cast<int>(ready.size())))];
      p->start_time = now - std::chrono::hours(1);
      p->ready_last_transition = now - std::chrono::hours(1) + std::chrono::seconds(20);
      p->shared_requests = static_cast<int>(i) == no_cpu_at ? without_cpu : specs[static_cast<size_t>(pick(4))];
      if (i > 0 && sorted.back()->shared_requests == p->shared_requests) shared++;
      sorted.push_back(p);
      if (pick(5) != 0) metrics[names[i]] = PodMetric{pick(1500), now - std::chrono::seconds(pick(60)), {}};
      if (pick(6) == 0) metrics[names[i] + "-superfluous"] = PodMetric{pick(900), now, {}};  // between pod names
    }
    PodList reversed(sorted.rbegin(), sorted.rend());
    PodList shuffled = sorted;
    std::shuffle(shuffled.begin(), shuffled.end(), rng);
    PodList duplicated = sorted;  // a name twice in a row: never the merge pass
    const size_t dup = static_cast<size_t>(pick(static_cast<int>(sorted.size())));
    duplicated.insert(duplicated.begin() + static_cast<std::ptrdiff_t>(dup), sorted[dup]);
    PodList duplicated_reversed(duplicated.rbegin(), duplicated.rend());
    if (std::is_sorted(shuffled.begin(), shuffled.end(), [](const auto& x, const auto& y) { return x->name < y->name; })) {
      merged++;
    } else {
      general++;
    }
    const int32_t current = 1 + pick(12);
    const int32_t target = 10 + 10 * pick(20);
    const int64_t target_usage = 100 + 50 * pick(20);
    const Tolerances tol{0.1, 0.1};
    INFO("iteration " << iter << " pods " << names.size());
    for (const std::string container : {"", "app"}) {
      if (shared_null && !container.empty()) continue;
      auto util = [&](const PodList& pods) {
        return describe(
            CalcResourceUtilizationReplicas(current, target, "cpu", container, tol, metrics, pods, kTuning, now));
      };
      const std::string want = util(reversed);
      REQUIRE(util(sorted) == want);
      REQUIRE(util(shuffled) == want);
      REQUIRE(util(duplicated) == util(duplicated_reversed));
    }
    auto plain = [&](const PodList& pods) {
      return describe(CalcPlainMetricReplicas(current, target_usage, "cpu", tol, metrics, pods, kTuning, now));
    };
    const std::string want = plain(reversed);
    REQUIRE(plain(sorted) == want);
    REQUIRE(plain(shuffled) == want);
    REQUIRE(plain(duplicated) == plain(duplicated_reversed));
  }
  CHECK(merged > 100);
  CHECK(general > 1000);
  CHECK(shared > 1000);
}
