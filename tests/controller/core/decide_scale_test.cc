// DecideScale / AfterRescale: the pure replica decision (hpa-semantics.md
// R4-R12, X2-X4, W1/W2, B10, Z5), rows with named fields.
#include <catch2/catch.hpp>

#include "controller/core/decide_scale.h"
#include "controller/core/hpa_status.h"

using namespace hpad::ctrl;
using hpad::Time;
namespace k8s = hpad::k8s;

namespace {

Time T0() { return Time(std::chrono::seconds(1767225600)); }

// A per-metric result: a proposal (ok) or a failure.
struct Proposal {
  int32_t replicas = 0;      // ignored when failed
  bool failed = false;
  bool spec_error = false;
  std::string name = "cpu";  // makes the <M> description and the failure texts
};

MetricResult ResultFor(const Proposal& p) {
  MetricResult r;
  if (p.failed) {
    r.failure_reason = "FailedGetResourceMetric";
    r.failure_message = p.name + " unavailable";
    r.aggregate_error = "failed to get " + p.name;
    r.spec_error = p.spec_error;
    return r;
  }
  r.ok = true;
  r.replicas = p.replicas;
  r.description = p.name + " resource utilization (percentage of request)";
  r.status.type = "Resource";
  return r;
}

struct Row {
  std::string name;
  int32_t current = 0;
  int32_t min = 1;
  int32_t max = 10;
  std::vector<Proposal> proposals{};
  bool scaled_to_zero_gate = false;
  // Expected.
  bool want_metrics = true;  // NeedsMetrics (R6)
  bool want_failed = false;  // R7
  bool want_rescale = false;
  int32_t want_desired = 0;
  std::string want_reason{};
  std::string want_error{};  // metrics_error
  size_t want_warning_events = 0;
};

k8s::HpaSpec Spec(const Row& row) {
  k8s::HpaSpec spec;
  spec.min_replicas = row.min;
  spec.max_replicas = row.max;
  return spec;
}

std::string ConditionText(const std::vector<k8s::HpaCondition>& conditions, const std::string& type) {
  const auto* c = FindCondition(conditions, type);
  return c ? c->status + "/" + c->reason : "absent";
}

}  // namespace

TEST_CASE("DecideScale: rows over R6-R12 and X2-X4", "[decide_scale]") {
  const std::vector<Row> rows = {
      {.name = "R8: the one metric's proposal above current scales up with '<M> above target'",
       .current = 2, .proposals = {{.replicas = 4}},
       .want_rescale = true, .want_desired = 4,
       .want_reason = "cpu resource utilization (percentage of request) above target"},
      {.name = "X2: the highest of several proposals wins and names the reason",
       .current = 3, .proposals = {{.replicas = 2, .name = "cpu"}, {.replicas = 6, .name = "memory"}},
       .want_rescale = true, .want_desired = 6,
       .want_reason = "memory resource utilization (percentage of request) above target"},
      {.name = "R12: a proposal equal to current does not rescale",
       .current = 5, .proposals = {{.replicas = 5}}, .want_rescale = false, .want_desired = 5},
      {.name = "R6 b: above maxReplicas goes to max without metrics",
       .current = 12, .max = 10, .want_metrics = false, .want_rescale = true, .want_desired = 10,
       .want_reason = "Current number of replicas above Spec.MaxReplicas"},
      {.name = "R6 c: below minReplicas goes to min without metrics",
       .current = 1, .min = 3, .want_metrics = false, .want_rescale = true, .want_desired = 3,
       .want_reason = "Current number of replicas below Spec.MinReplicas"},
      {.name = "R6 a: a target at zero is not scaled (gate off)",
       .current = 0, .want_metrics = false, .want_rescale = false, .want_desired = 0},
      {.name = "X3: all metrics failed -> R7 failure with the X4 text",
       .current = 3, .proposals = {{.failed = true}},
       .want_failed = true, .want_desired = 3,
       .want_error = "invalid metrics (1 invalid out of 1), first error is: failed to get cpu",
       .want_warning_events = 2},
      {.name = "X3: one failed and the rest would scale down -> R7 failure",
       .current = 4, .proposals = {{.failed = true, .name = "cpu"}, {.replicas = 2, .name = "memory"}},
       .want_failed = true, .want_desired = 4,
       .want_error = "invalid metrics (1 invalid out of 2), first error is: failed to get cpu",
       .want_warning_events = 2},
      {.name = "X3: one failed but the rest scale up -> proceed, error reported (R14)",
       .current = 3, .proposals = {{.replicas = 5, .name = "memory"}, {.failed = true, .name = "pods"}},
       .want_rescale = true, .want_desired = 5,
       .want_reason = "memory resource utilization (percentage of request) above target",
       .want_error = "invalid metrics (1 invalid out of 2), first error is: failed to get pods",
       .want_warning_events = 1},
      {.name = "L3: a proposal above maxReplicas is capped (TooManyReplicas)",
       .current = 4, .max = 6, .proposals = {{.replicas = 9}}, .want_rescale = true, .want_desired = 6,
       .want_reason = "cpu resource utilization (percentage of request) above target"},
  };
  for (const Row& row : rows) {
    SECTION(row.name) {
      const k8s::HpaSpec spec = Spec(row);
      const std::vector<k8s::HpaCondition> conditions;
      const DecideOptions options{.scale_to_zero = row.scaled_to_zero_gate};
      CHECK(NeedsMetrics(spec, conditions, row.current, options) == row.want_metrics);
      MetricsFetch fetch;
      for (const auto& p : row.proposals) fetch.results.push_back(ResultFor(p));
      HpaHistory history;
      ScaleDecision d = DecideScale(DecideInput{.spec = &spec,
                                                .conditions = &conditions,
                                                .current_replicas = row.current,
                                                .metrics = row.want_metrics ? &fetch : nullptr},
                                    history, options, T0());
      CHECK(d.metrics_failed == row.want_failed);
      CHECK(d.rescale == row.want_rescale);
      CHECK(d.desired_replicas == row.want_desired);
      CHECK(d.reason == row.want_reason);
      CHECK(d.metrics_error == row.want_error);
      size_t warnings = 0;
      for (const auto& e : d.events) warnings += e.type == "Warning" ? 1 : 0;
      if (d.failure_event) warnings++;
      CHECK(warnings == row.want_warning_events);
      // H2: the first decision records the current count.
      REQUIRE_FALSE(history.recommendations.empty());
      if (row.want_metrics) CHECK(d.metric_statuses.size() == row.proposals.size());  // X5
    }
  }
}

TEST_CASE("DecideScale: conditions come back as values, in order", "[decide_scale]") {
  k8s::HpaSpec spec;
  spec.min_replicas = 1;
  spec.max_replicas = 10;
  std::vector<k8s::HpaCondition> conditions;
  MetricsFetch fetch;
  fetch.results.push_back(ResultFor({.replicas = 4}));
  HpaHistory history;
  ScaleDecision d = DecideScale(
      DecideInput{.spec = &spec, .conditions = &conditions, .current_replicas = 2, .metrics = &fetch}, history, {},
      T0());
  ApplyConditionChanges(conditions, d.conditions, T0());
  CHECK(ConditionText(conditions, kScalingActive) == "True/ValidMetricFound");  // X6
  CHECK(ConditionText(conditions, kAbleToScale) == "True/ReadyForNewScale");     // L2
  CHECK(ConditionText(conditions, kScalingLimited) == "False/DesiredWithinRange");
  CHECK(d.events.empty());  // no event before the write: SuccessfulRescale comes from AfterRescale
}

TEST_CASE("DecideScale: a selector failure (S1-S4) fails R7 with its event and condition", "[decide_scale]") {
  k8s::HpaSpec spec;
  spec.max_replicas = 10;
  std::vector<k8s::HpaCondition> conditions;
  MetricsFetch fetch;
  fetch.selector_failure = SelectorFailure{.event_reason = "SelectorRequired",
                                           .event_message = "selector is required",
                                           .condition_reason = "InvalidSelector",
                                           .condition_message = "the HPA target's scale is missing a selector",
                                           .error = "selector is required"};
  HpaHistory history;
  ScaleDecision d = DecideScale(
      DecideInput{.spec = &spec, .conditions = &conditions, .current_replicas = 2, .metrics = &fetch}, history, {},
      T0());
  CHECK(d.metrics_failed);
  CHECK(d.metrics_error == "selector is required");
  REQUIRE(d.events.size() == 1);
  CHECK(d.events[0].reason == "SelectorRequired");
  REQUIRE(d.failure_event);
  CHECK(d.failure_event->reason == "FailedComputeMetricsReplicas");
  ApplyConditionChanges(conditions, d.conditions, T0());
  CHECK(ConditionText(conditions, kScalingActive) == "False/InvalidSelector");
  CHECK(d.metric_statuses.empty());
}

TEST_CASE("DecideScale: the legacy window (L1) holds a scale-down made within 5 minutes", "[decide_scale]") {
  k8s::HpaSpec spec;
  spec.min_replicas = 1;
  spec.max_replicas = 10;
  std::vector<k8s::HpaCondition> conditions;
  HpaHistory history;
  auto decide = [&](int32_t current, int32_t proposal, Time now) {
    MetricsFetch fetch;
    fetch.results.push_back(ResultFor({.replicas = proposal}));
    return DecideScale(
        DecideInput{.spec = &spec, .conditions = &conditions, .current_replicas = current, .metrics = &fetch}, history,
        {}, now);
  };
  ScaleDecision up = decide(3, 6, T0());
  CHECK(up.desired_replicas == 6);
  ScaleDecision held = decide(6, 2, T0() + std::chrono::minutes(2));
  CHECK_FALSE(held.rescale);  // the recommendation of 6 two minutes ago holds
  CHECK(held.desired_replicas == 6);
  ScaleDecision down = decide(6, 2, T0() + std::chrono::minutes(8));
  CHECK(down.rescale);
  CHECK(down.desired_replicas == 2);
  CHECK(down.reason == "All metrics below target");
}

TEST_CASE("AfterRescale: W1 success stores the B10 scale event, W2 failure reports it", "[decide_scale]") {
  k8s::HpaSpec spec;
  spec.min_replicas = 1;
  spec.max_replicas = 10;
  spec.behavior = k8s::HpaBehavior{};
  ScaleDecision d;
  d.current_replicas = 2;
  d.desired_replicas = 5;
  d.rescale = true;
  d.reason = "cpu above target";

  HpaHistory history;
  RescaleOutcome ok = AfterRescale(d, spec, hpad::Status::Ok(), history, {}, T0());
  REQUIRE(ok.events.size() == 1);
  CHECK(ok.events[0].reason == "SuccessfulRescale");
  CHECK(ok.events[0].message == "New size: 5; reason: cpu above target");
  REQUIRE(history.scale_up_events.size() == 1);  // B10
  CHECK(history.scale_up_events[0].replica_change == 3);
  std::vector<k8s::HpaCondition> conditions;
  ApplyConditionChanges(conditions, ok.conditions, T0());
  CHECK(ConditionText(conditions, kAbleToScale) == "True/SucceededRescale");
  CHECK(ConditionText(conditions, kScaledToZero) == "absent");  // Z5 gate off: removed

  HpaHistory untouched;
  RescaleOutcome failed =
      AfterRescale(d, spec, hpad::Status(hpad::StatusCode::kConflict, "conflict"), untouched, {}, T0());
  REQUIRE(failed.events.size() == 1);
  CHECK(failed.events[0].reason == "FailedRescale");
  CHECK(failed.events[0].message == "New size: 5; reason: cpu above target; error: conflict");
  CHECK(untouched.scale_up_events.empty());
  conditions.clear();
  ApplyConditionChanges(conditions, failed.conditions, T0());
  CHECK(ConditionText(conditions, kAbleToScale) == "False/FailedUpdateScale");
}
