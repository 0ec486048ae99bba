// DecisionTrace (issue 12): filled by the pure core on the decision's own
// code path; rule ids refer to hpa-semantics.md.
#include <catch2/catch.hpp>

#include "controller/core/decide_scale.h"
#include "controller/core/decision_trace.h"
#include "controller/core/replica_calculator.h"
#include "tests/controller/controller_test_util.h"

using namespace hpad::ctrl;
using namespace hpad::ctrl::testing;
using hpad::Time;
namespace k8s = hpad::k8s;

namespace {

const ReadinessTuning kTuning{std::chrono::minutes(5), std::chrono::seconds(30)};

k8s::MetricSpec CpuUtilization(int32_t percent) {
  k8s::MetricSpec m;
  m.type = "Resource";
  k8s::MetricTarget t;
  t.type = "Utilization";
  t.average_utilization = percent;
  m.resource = k8s::ResourceMetricSource{"cpu", t};
  return m;
}

MetricResult CpuResult(int32_t proposal, int32_t utilization) {
  MetricResult r;
  r.ok = true;
  r.replicas = proposal;
  r.description = "cpu resource utilization (percentage of request)";
  r.status.type = "Resource";
  k8s::MetricValueStatus v;
  v.average_utilization = utilization;
  r.status.resource = std::make_pair(std::string("cpu"), v);
  return r;
}

struct Decided {
  ScaleDecision decision;
  DecisionTrace trace;
};

// One decision of HPA "web" with a single cpu metric (target 60%).
Decided Decide(const k8s::HpaSpec& spec, int32_t current, const MetricResult& result, HpaHistory& history, Time now,
               const Tolerances& tolerances = {0.1, 0.1}) {
  Decided out;
  out.trace.ns = "shop";
  out.trace.name = "web";
  out.trace.time = now;
  out.trace.metrics.push_back(DescribeMetric(CpuUtilization(60), result, tolerances, {}));
  MetricsFetch fetch;
  fetch.results.push_back(result);
  const std::vector<k8s::HpaCondition> conditions;
  out.decision = DecideScale(
      DecideInput{.spec = &spec, .conditions = &conditions, .current_replicas = current, .metrics = &fetch,
                  .trace = &out.trace},
      history, DecideOptions{}, now);
  return out;
}

k8s::HpaSpec Spec(int32_t min, int32_t max) {
  k8s::HpaSpec spec;
  spec.min_replicas = min;
  spec.max_replicas = max;
  spec.metrics.push_back(CpuUtilization(60));
  return spec;
}

}  // namespace

TEST_CASE("trace pod table: each pod's class with the P-rule that put it there", "[trace]") {
  PodSpec fresh_unknown{.name = "e"};
  fresh_unknown.ready = std::nullopt;  // P4a: no Ready condition
  PodList pods{Pod("a"), Pod("b", "Pending"), Pod("c"), MakePod({.name = "d", .deleting = true}),
               MakePod(fresh_unknown)};
  PodMetricsInfo metrics = Metrics({{"a", 500}, {"b", 100}, {"d", 900}, {"e", 300}});
  PodTable table = TracePodTable(pods, metrics, "cpu", "", true, kTuning, T0());
  const std::vector<PodTraceRow>& rows = table.rows;
  REQUIRE(rows.size() == 5);
  CHECK(table.Name(rows[0]) == "a");
  CHECK(table.Name(rows[4]) == "e");
  CHECK(TraceName(rows[0].pod_class) == "ready");
  CHECK(TraceName(rows[0].rule) == "P5");
  CHECK(TraceName(rows[0].phase) == "Running");
  CHECK(TraceName(rows[0].ready) == "True");
  CHECK(rows[0].has_usage);
  CHECK(rows[0].usage_milli == 500);
  CHECK(rows[0].has_request);
  CHECK(rows[0].request_milli == 1000);
  CHECK(TraceName(rows[1].pod_class) == "unready");
  CHECK(TraceName(rows[1].rule) == "P2");
  CHECK(TraceName(rows[1].phase) == "Pending");
  CHECK(TraceName(rows[2].pod_class) == "missing");
  CHECK(TraceName(rows[2].rule) == "P3");
  CHECK_FALSE(rows[2].has_usage);
  CHECK(TraceName(rows[3].pod_class) == "ignored");
  CHECK(TraceName(rows[3].rule) == "P1");
  CHECK(TraceName(rows[4].pod_class) == "unready");
  CHECK(TraceName(rows[4].rule) == "P4a");
  CHECK(rows[4].ready == TraceReady::kAbsent);
  // P4 only for cpu: the same pod is ready for a Pods metric.
  PodTable plain = TracePodTable(pods, metrics, "", "", false, kTuning, T0());
  CHECK(TraceName(plain.rows[4].pod_class) == "ready");
  CHECK(TraceName(plain.rows[4].rule) == "P5");
  CHECK_FALSE(plain.rows[0].has_request);
}

TEST_CASE("trace pod table vocabularies round-trip and unknown text maps to Other", "[trace]") {
  for (auto v : {TracePodPhase::kNone, TracePodPhase::kPending, TracePodPhase::kRunning, TracePodPhase::kSucceeded,
                 TracePodPhase::kFailed, TracePodPhase::kUnknown, TracePodPhase::kOther}) {
    CHECK(ParseTracePodPhase(TraceName(v)) == v);
  }
  CHECK(ParseTracePodPhase("Evicted-ish") == TracePodPhase::kOther);
  CHECK(ParseTraceReady("maybe") == TraceReady::kOther);
  CHECK(ParseTraceReady("") == TraceReady::kAbsent);
  CHECK(ParseTracePodRule("P4c") == TracePodRule::kP4c);
  CHECK(ParseTracePodRule("nonsense") == TracePodRule::kNone);
  CHECK(ParseTracePodClass("missing") == TracePodClass::kMissing);
  CHECK_FALSE(ParseTracePodClass("sideways").has_value());
}

// Issue 12's memory budget: a kept trace costs bytes per HPA at 10,000 HPAs
// (bench/README.md). The row is fixed-size and the names share one buffer,
// so a pod costs sizeof(PodTraceRow) plus its name, no allocation of its own.
TEST_CASE("trace memory: a pod row is compact and the names share one buffer", "[trace]") {
  STATIC_REQUIRE(sizeof(PodTraceRow) <= 40);
  PodList pods;
  PodMetricsInfo metrics;
  size_t name_bytes = 0;
  for (int i = 0; i < 10; i++) {
    const std::string name = "php-apache-7d8f9c6b5-" + std::to_string(10000 + i);  // a Deployment pod's name length
    name_bytes += name.size();
    pods.push_back(Pod(name));
    metrics.emplace(name, PodMetric{.value = 500});
  }
  PodTable table = TracePodTable(pods, metrics, "cpu", "", true, kTuning, T0());
  MetricTrace m = DescribeMetric(CpuUtilization(60), CpuResult(6, 93), Tolerances{0.1, 0.1}, std::move(table));
  DecisionTrace t;
  t.metrics.push_back(std::move(m));
  t.metrics.shrink_to_fit();
  const size_t bytes = TraceHeapBytes(t);
  const size_t pod_bytes = 10 * sizeof(PodTraceRow) + name_bytes + 1;
  CHECK(t.metrics[0].pods.rows.capacity() == 10);
  CHECK(t.metrics[0].pods.names.size() == name_bytes);
  CHECK(bytes == sizeof(MetricTrace) + pod_bytes);
  INFO("trace with one cpu metric and 10 pods: " << bytes << " heap bytes");
  CHECK(bytes < 1024);
}

TEST_CASE("trace tolerance band in the target's units (C1)", "[trace]") {
  MetricTrace m = DescribeMetric(CpuUtilization(60), CpuResult(6, 93), Tolerances{0.1, 0.1}, {});
  CHECK(m.target_type == "Utilization");
  CHECK(m.unit == "%");
  CHECK(m.current == 93);
  CHECK(m.scale_up_above == Approx(66));
  CHECK(m.scale_down_below == Approx(54));
  CHECK(m.proposal == 6);
  // Per-HPA tolerances (behavior.scaleUp/scaleDown.tolerance) move each edge on its own.
  MetricTrace asym = DescribeMetric(CpuUtilization(50), CpuResult(2, 50), Tolerances{0.2, 0.05}, {});
  CHECK(asym.scale_up_above == Approx(52.5));
  CHECK(asym.scale_down_below == Approx(40));
  // An invalid metric keeps its error.
  MetricResult failed;
  failed.failure_reason = "FailedGetResourceMetric";
  failed.failure_message = "failed to get cpu utilization: no metrics";
  MetricTrace bad = DescribeMetric(CpuUtilization(60), failed, Tolerances{}, {});
  CHECK_FALSE(bad.ok);
  CHECK(bad.error == "failed to get cpu utilization: no metrics");
}

TEST_CASE("trace summary names the scaleUp policy that limited the step (B5, B9)", "[trace]") {
  k8s::HpaSpec spec = Spec(1, 20);
  k8s::HpaBehavior behavior;
  k8s::HpaScalingRules up;
  up.select_policy = "Max";
  up.policies = {{"Pods", 2, 60}};
  up.policies_set = true;
  up.stabilization_window_seconds = 0;
  behavior.scale_up = up;
  spec.behavior = behavior;
  const Time now = T0();
  HpaHistory history;
  Decided d = Decide(spec, 4, CpuResult(10, 93), history, now);
  CHECK(d.decision.desired_replicas == 6);
  CHECK(d.trace.desired_replicas == 6);
  CHECK(d.trace.winning_metric == 0);
  CHECK(TraceSummary(d.trace) == "web: 4 -> 6 (cpu 93% of 60% target, limited by scaleUp policy Pods 2/60s)");
  const NormalizationTrace& n = d.trace.normalization;
  CHECK(n.behavior);
  CHECK(n.prenormalized == 10);
  CHECK(n.policy_direction == "scaleUp");
  CHECK(n.select_policy == "Max");
  REQUIRE(n.policies.size() == 1);
  CHECK(n.policies[0].period_start == 4);
  CHECK(n.policies[0].added == 0);
  CHECK(n.policies[0].limit == 6);
  CHECK(n.limit_reason == "ScaleUpLimit");

  // 30s later, after the rescale was stored (B10): the period holds +2, so
  // the policy allows nothing more until that event leaves the period.
  StoreScaleEvent(history, DefaultBehavior(behavior, std::chrono::minutes(5)), 4, 6, now);
  const Time later = now + std::chrono::seconds(30);
  Decided next = Decide(spec, 6, CpuResult(10, 93), history, later);
  CHECK(next.decision.desired_replicas == 6);
  REQUIRE(next.trace.normalization.policies.size() == 1);
  const PolicyTrace& p = next.trace.normalization.policies[0];
  CHECK(p.added == 2);
  CHECK(p.period_start == 4);
  CHECK(p.limit == 6);
  REQUIRE(p.frees_at.has_value());
  CHECK(*p.frees_at == now + std::chrono::seconds(60));
}

TEST_CASE("trace stabilization window: entries, cutoff, chosen and when it frees (L1)", "[trace]") {
  k8s::HpaSpec spec = Spec(1, 10);
  const Time now = T0();
  HpaHistory history;
  history.recommendations = {{9, now - std::chrono::seconds(400)}, {8, now - std::chrono::seconds(200)}};
  Decided d = Decide(spec, 8, CpuResult(3, 20), history, now);
  CHECK(d.decision.desired_replicas == 8);
  const NormalizationTrace& n = d.trace.normalization;
  CHECK_FALSE(n.behavior);
  CHECK(n.window_seconds == 300);
  CHECK(n.cutoff == now - std::chrono::seconds(300));
  REQUIRE(n.entries.size() == 2);
  CHECK_FALSE(n.entries[0].in_window);
  CHECK(n.entries[1].in_window);
  CHECK(n.stabilized == 8);
  CHECK(n.window_direction == "scaleDown");
  REQUIRE(n.window_frees_at.has_value());
  CHECK(*n.window_frees_at == now + std::chrono::seconds(100));
  CHECK(TraceSummary(d.trace) == "web: 8 -> 8 (cpu 20% of 60% target, held by the scaleDown stabilization window (300s))");
}

TEST_CASE("trace: min/max, the skipped path and invalid metrics", "[trace]") {
  const Time now = T0();
  {
    HpaHistory history;
    Decided d = Decide(Spec(1, 5), 4, CpuResult(9, 150), history, now);
    CHECK(d.decision.desired_replicas == 5);
    CHECK(TraceSummary(d.trace) == "web: 4 -> 5 (cpu 150% of 60% target, limited by maxReplicas 5)");
  }
  {
    // R6 c: below minReplicas, no metric is computed.
    k8s::HpaSpec spec = Spec(3, 5);
    HpaHistory history;
    DecisionTrace trace;
    trace.name = "web";
    const std::vector<k8s::HpaCondition> conditions;
    ScaleDecision d = DecideScale(
        DecideInput{.spec = &spec, .conditions = &conditions, .current_replicas = 1, .trace = &trace}, history,
        DecideOptions{}, now);
    CHECK(d.desired_replicas == 3);
    CHECK(trace.skipped.find("below Spec.MinReplicas") != std::string::npos);
    CHECK_FALSE(trace.normalized);
  }
  {
    // X3: the only metric failed; X4 text in the trace.
    k8s::HpaSpec spec = Spec(1, 5);
    HpaHistory history;
    DecisionTrace trace;
    trace.name = "web";
    MetricResult failed;
    failed.failure_reason = "FailedGetResourceMetric";
    failed.failure_message = "no metrics";
    failed.aggregate_error = "failed to get cpu";
    MetricsFetch fetch;
    fetch.results.push_back(failed);
    const std::vector<k8s::HpaCondition> conditions;
    DecideScale(DecideInput{.spec = &spec, .conditions = &conditions, .current_replicas = 2, .metrics = &fetch,
                            .trace = &trace},
                history, DecideOptions{}, now);
    CHECK(trace.metrics_failed);
    CHECK(trace.winning_metric == -1);
    CHECK(TraceSummary(trace) ==
          "web: 2 -> 2 (no decision: invalid metrics (1 invalid out of 1), first error is: failed to get cpu)");
  }
}

TEST_CASE("trace: a null trace decides exactly the same", "[trace]") {
  k8s::HpaSpec spec = Spec(1, 20);
  const Time now = T0();
  HpaHistory with_history, without_history;
  with_history.recommendations = without_history.recommendations = {{7, now - std::chrono::seconds(100)}};
  Decided traced = Decide(spec, 4, CpuResult(3, 30), with_history, now);
  MetricsFetch fetch;
  fetch.results.push_back(CpuResult(3, 30));
  const std::vector<k8s::HpaCondition> conditions;
  ScaleDecision plain = DecideScale(
      DecideInput{.spec = &spec, .conditions = &conditions, .current_replicas = 4, .metrics = &fetch}, without_history,
      DecideOptions{}, now);
  CHECK(plain.desired_replicas == traced.decision.desired_replicas);
  CHECK(plain.reason == traced.decision.reason);
  CHECK(without_history.recommendations.size() == with_history.recommendations.size());
}

TEST_CASE("trace JSON carries the sections", "[trace]") {
  k8s::HpaSpec spec = Spec(1, 20);
  HpaHistory history;
  Decided d = Decide(spec, 4, CpuResult(10, 93), history, T0());
  nlohmann::json j = TraceToJson(d.trace);
  CHECK(j["namespace"] == "shop");
  CHECK(j["name"] == "web");
  CHECK(j["currentReplicas"] == 4);
  CHECK(j["desiredReplicas"] == 8);  // L3: max(2 * 4, 4)
  CHECK(j["winningMetric"] == 0);
  CHECK(j["metrics"][0]["scalesUpAbove"].get<double>() == Approx(66));
  CHECK(j["normalization"]["rateLimit"] == 8);
  CHECK(j["normalization"]["limitReason"] == "ScaleUpLimit");
  CHECK(j["summary"] == "web: 4 -> 8 (cpu 93% of 60% target, limited by the scale-up rate max(2x current, 4) = 8)");
  CHECK(RenderTraceText(d.trace).rfind(TraceSummary(d.trace) + "\n", 0) == 0);
  CHECK(TraceHeapBytes(d.trace) > 0);
}

// `hpad explain --from`: the JSON of another hpad's /debug/hpas parsed back
// into the trace renders the same text as the original.
TEST_CASE("trace JSON parses back into the same trace", "[trace]") {
  k8s::HpaSpec spec = Spec(1, 20);
  HpaHistory history;
  Decided d = Decide(spec, 4, CpuResult(10, 93), history, T0());
  PodSpec unready{.name = "web-1"};
  unready.ready = "False";
  PodList pods{Pod("web-0"), MakePod(unready), Pod("web-2", "Pending")};
  d.trace.metrics[0].pods = TracePodTable(pods, Metrics({{"web-0", 500}, {"web-1", 100}}), "cpu", "", true, kTuning,
                                          T0());
  d.trace.history_note = "live: this controller's in-memory history";
  const nlohmann::json j = TraceToJson(d.trace);
  auto parsed = TraceFromJson(nlohmann::json::parse(j.dump()));
  REQUIRE(parsed.ok());
  CHECK(TraceToJson(*parsed) == j);
  CHECK(RenderTraceText(*parsed) == RenderTraceText(d.trace));
  CHECK(parsed->metrics[0].pods.Name(parsed->metrics[0].pods.rows[1]) == "web-1");
}

TEST_CASE("trace JSON from elsewhere: errors name the field", "[trace]") {
  HpaHistory history;
  Decided d = Decide(Spec(1, 20), 4, CpuResult(10, 93), history, T0());
  PodList pods{Pod("web-0")};
  d.trace.metrics[0].pods = TracePodTable(pods, Metrics({{"web-0", 500}}), "cpu", "", true, kTuning, T0());
  const nlohmann::json good = TraceToJson(d.trace);
  struct Case {
    std::string what;
    nlohmann::json::json_pointer at;
    nlohmann::json value;
    std::string error;
  };
  const std::vector<Case> cases{
      {"desired not a number", nlohmann::json::json_pointer("/desiredReplicas"), "six", "desiredReplicas: "},
      {"metrics not an array", nlohmann::json::json_pointer("/metrics"), 7, "metrics: expected an array"},
      {"usage a string", nlohmann::json::json_pointer("/metrics/0/pods/0/usageMilli"), "500m",
       "metrics[0].pods[0].usageMilli: "},
      {"unknown pod class", nlohmann::json::json_pointer("/metrics/0/pods/0/class"), "sideways",
       "metrics[0].pods[0].class: unknown pod class \"sideways\""},
      {"bad time", nlohmann::json::json_pointer("/normalization/window/cutoff"), "yesterday",
       "normalization.window.cutoff: "},
      {"ok not a bool", nlohmann::json::json_pointer("/metrics/0/ok"), "yes", "metrics[0].ok: expected a boolean"},
      {"condition not an object", nlohmann::json::json_pointer("/conditions/0"), 1,
       "conditions[0]: expected an object"},
  };
  for (const auto& c : cases) {
    SECTION(c.what) {
      nlohmann::json bad = good;
      bad[c.at] = c.value;
      auto parsed = TraceFromJson(bad);
      REQUIRE_FALSE(parsed.ok());
      CHECK(parsed.status().message().rfind(c.error, 0) == 0);
    }
  }
  SECTION("not an object") { CHECK_FALSE(TraceFromJson(nlohmann::json::array()).ok()); }
  SECTION("too many pods") {
    nlohmann::json bad = good;
    bad["metrics"][0]["pods"] = nlohmann::json::array();
    for (int i = 0; i <= 100000; i++) bad["metrics"][0]["pods"].push_back(nullptr);
    auto parsed = TraceFromJson(bad);
    REQUIRE_FALSE(parsed.ok());
    CHECK(parsed.status().message().rfind("metrics[0].pods: 100001 items, at most 100000", 0) == 0);
  }
  SECTION("control characters in text are made safe") {
    nlohmann::json odd = good;
    odd["metrics"][0]["pods"][0]["pod"] = "web\x1b[2J-0";
    auto parsed = TraceFromJson(odd);
    REQUIRE(parsed.ok());
    CHECK(parsed->metrics[0].pods.Name(parsed->metrics[0].pods.rows[0]).find('\x1b') == std::string_view::npos);
  }
}
