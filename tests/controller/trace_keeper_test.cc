// TraceKeeper (issue 16, memory): every HPA keeps its last trace; the pod
// tables only for the most recent ones, failed ones and the ones asked
// about; a trace served without them says so, in text and JSON, and the
// JSON parses back with the flag (`hpad explain --from`).
#include <catch2/catch.hpp>

#include <string>

#include "controller/core/decision_trace.h"
#include "controller/trace_keeper.h"

using namespace hpad::ctrl;

namespace {

DecisionTrace TraceWithPods(const std::string& name, int pods, bool failed = false) {
  DecisionTrace t;
  t.ns = "default";
  t.name = name;
  t.current_replicas = pods;
  t.desired_replicas = pods;
  MetricTrace m;
  m.type = "Resource";
  m.name = "cpu";
  m.target_type = "Utilization";
  m.ok = !failed;
  for (int i = 0; i < pods; i++) {
    PodTraceRow row;
    row.usage_milli = 100 + i;
    row.has_usage = true;
    m.pods.Add(name + "-pod-" + std::to_string(i), row);
  }
  t.metrics.push_back(std::move(m));
  MetricTrace object;  // a metric without a pod table beside it
  object.type = "Object";
  object.name = "hits";
  object.ok = true;
  t.metrics.push_back(std::move(object));
  t.conditions = {{"AbleToScale", "True", "ReadyForNewScale", "recommended size matches current size"},
                  {"ScalingActive", failed ? "False" : "True", failed ? "FailedGetResourceMetric" : "ValidMetricFound",
                   failed ? "the HPA was unable to compute the replica count" : "the HPA was able to compute it"}};
  if (failed) {
    t.metrics_failed = true;
    t.metrics_error = "invalid metrics (1 invalid out of 2)";
  }
  return t;
}

bool HasPods(const std::shared_ptr<const DecisionTrace>& t) {
  REQUIRE(t);
  REQUIRE(t->metrics.size() == 2);
  CHECK(t->metrics[1].pods.empty());
  if (t->metrics[0].pods.empty()) {
    CHECK(t->pod_tables_omitted);
    return false;
  }
  CHECK_FALSE(t->pod_tables_omitted);
  return true;
}

}  // namespace

TEST_CASE("TraceKeeper: pod tables kept for the most recent traces only, the rest say so", "[trace_keeper]") {
  TraceKeeper keeper(2);
  keeper.Keep("default/a", TraceWithPods("a", 3));
  keeper.Keep("default/b", TraceWithPods("b", 3));
  CHECK(keeper.WithPodTables() == 2);
  keeper.Keep("default/c", TraceWithPods("c", 3));
  CHECK(keeper.size() == 3);
  CHECK(keeper.WithPodTables() == 2);
  CHECK_FALSE(HasPods(keeper.Get("default/a")));
  REQUIRE(HasPods(keeper.Get("default/b")));
  REQUIRE(HasPods(keeper.Get("default/c")));
  auto c = keeper.Get("default/c");
  REQUIRE(c->metrics[0].pods.size() == 3);
  CHECK(c->metrics[0].pods.Name(c->metrics[0].pods.rows[2]) == "c-pod-2");
  CHECK(c->metrics[0].pods.rows[2].usage_milli == 102);
  // Everything but the tables is kept for every HPA.
  auto a = keeper.Get("default/a");
  CHECK(a->name == "a");
  CHECK(a->current_replicas == 3);
  CHECK(a->metrics[0].name == "cpu");
  CHECK(TraceSummary(*a) == TraceSummary(*c).replace(TraceSummary(*c).find("c:"), 2, "a:"));

  // Listings never carry tables.
  auto list = keeper.List();
  REQUIRE(list.size() == 3);
  for (const auto& t : list) CHECK(t->metrics[0].pods.empty());

  // Text and JSON say the table was not kept; the JSON parses back with it.
  const std::string text = RenderTraceText(*a);
  CHECK(text.find(kPodTablesOmittedNote) != std::string::npos);
  CHECK(RenderTraceText(*c).find(kPodTablesOmittedNote) == std::string::npos);
  const nlohmann::json j = TraceToJson(*a);
  CHECK(j.at("podTablesOmitted") == kPodTablesOmittedNote);
  CHECK_FALSE(TraceToJson(*c).contains("podTablesOmitted"));
  auto back = TraceFromJson(j);
  REQUIRE(back.ok());
  CHECK(back->pod_tables_omitted);
  auto back_c = TraceFromJson(TraceToJson(*c));
  REQUIRE(back_c.ok());
  CHECK_FALSE(back_c->pod_tables_omitted);
  CHECK(back_c->metrics[0].pods.size() == 3);

  // A later trace of a dropped HPA is complete again (it is the newest).
  keeper.Keep("default/a", TraceWithPods("a", 4));
  REQUIRE(HasPods(keeper.Get("default/a")));
  CHECK(keeper.Get("default/a")->metrics[0].pods.size() == 4);
  CHECK_FALSE(HasPods(keeper.Get("default/b")));
  CHECK(keeper.WithPodTables() == 2);
}

TEST_CASE("TraceKeeper: a reader's copy outlives the drop of its tables", "[trace_keeper]") {
  TraceKeeper keeper(1);
  keeper.Keep("default/a", TraceWithPods("a", 2));
  auto held = keeper.Get("default/a");
  keeper.Keep("default/b", TraceWithPods("b", 2));
  CHECK_FALSE(HasPods(keeper.Get("default/a")));
  REQUIRE(HasPods(held));
  CHECK(held->metrics[0].pods.Name(held->metrics[0].pods.rows[1]) == "a-pod-1");
}

TEST_CASE("TraceKeeper: failed and asked-about HPAs keep their tables beyond the bound", "[trace_keeper]") {
  TraceKeeper keeper(1);
  keeper.Keep("default/failed", TraceWithPods("failed", 2, /*failed=*/true));
  keeper.Ask("default/asked");
  keeper.Keep("default/asked", TraceWithPods("asked", 2));
  for (int i = 0; i < 5; i++) keeper.Keep("default/x" + std::to_string(i), TraceWithPods("x", 2));
  REQUIRE(HasPods(keeper.Get("default/failed")));
  REQUIRE(HasPods(keeper.Get("default/asked")));
  REQUIRE(HasPods(keeper.Get("default/x4")));
  CHECK_FALSE(HasPods(keeper.Get("default/x3")));
  CHECK(keeper.WithPodTables() == 3);
  // An HPA asked about after its trace was kept gets its tables from its next reconcile on.
  keeper.Ask("default/x0");
  CHECK_FALSE(HasPods(keeper.Get("default/x0")));
  keeper.Keep("default/x0", TraceWithPods("x", 2));
  keeper.Keep("default/x1", TraceWithPods("x", 2));
  REQUIRE(HasPods(keeper.Get("default/x0")));
  // A recovered HPA is bounded again.
  keeper.Keep("default/failed", TraceWithPods("failed", 2));
  keeper.Keep("default/x2", TraceWithPods("x", 2));
  CHECK_FALSE(HasPods(keeper.Get("default/failed")));
  // The asked set is bounded: the oldest ask is forgotten.
  for (size_t i = 0; i < TraceKeeper::kAskedLimit; i++) keeper.Ask("default/other" + std::to_string(i));
  keeper.Keep("default/asked", TraceWithPods("asked", 2));
  keeper.Keep("default/x3", TraceWithPods("x", 2));
  CHECK_FALSE(HasPods(keeper.Get("default/asked")));
}

TEST_CASE("TraceKeeper: one HPA kept again and again does not evict the others", "[trace_keeper]") {
  TraceKeeper keeper(2);
  keeper.Keep("default/a", TraceWithPods("a", 1));
  keeper.Keep("default/b", TraceWithPods("b", 1));
  for (int i = 0; i < 1000; i++) keeper.Keep("default/b", TraceWithPods("b", 1));
  REQUIRE(HasPods(keeper.Get("default/a")));
  REQUIRE(HasPods(keeper.Get("default/b")));
  CHECK(keeper.WithPodTables() == 2);
  keeper.Erase("default/a");
  CHECK(keeper.Get("default/a") == nullptr);
  keeper.Keep("default/c", TraceWithPods("c", 1));
  REQUIRE(HasPods(keeper.Get("default/b")));
  REQUIRE(HasPods(keeper.Get("default/c")));
  keeper.Keep("default/d", TraceWithPods("d", 1));
  CHECK_FALSE(HasPods(keeper.Get("default/b")));
  CHECK(keeper.size() == 3);
}

TEST_CASE("TraceKeeper: a trace without pod rows is complete as kept", "[trace_keeper]") {
  TraceKeeper keeper(1);
  DecisionTrace none = TraceWithPods("none", 0);
  keeper.Keep("default/none", none);
  keeper.Keep("default/b", TraceWithPods("b", 1));
  auto t = keeper.Get("default/none");
  REQUIRE(t);
  CHECK_FALSE(t->pod_tables_omitted);
  CHECK(RenderTraceText(*t).find(kPodTablesOmittedNote) == std::string::npos);
}

TEST_CASE("TraceKeeper: conditions come back as kept, one copy per distinct set", "[trace_keeper]") {
  TraceKeeper keeper(1);
  for (int i = 0; i < 50; i++) keeper.Keep("default/ok" + std::to_string(i), TraceWithPods("ok", 1));
  for (int i = 0; i < 20; i++) keeper.Keep("default/bad" + std::to_string(i), TraceWithPods("bad", 1, true));
  DecisionTrace other = TraceWithPods("other", 1);
  other.conditions[0].message = "something else";
  keeper.Keep("default/other", other);
  DecisionTrace none = TraceWithPods("none", 1);
  none.conditions.clear();
  keeper.Keep("default/none", none);
  CHECK(keeper.DistinctConditionSets() == 3);
  auto ok = keeper.Get("default/ok7");
  REQUIRE(ok);
  REQUIRE(ok->conditions.size() == 2);
  CHECK(ok->conditions[1].reason == "ValidMetricFound");
  CHECK(ok->conditions[1].message == "the HPA was able to compute it");
  auto bad = keeper.Get("default/bad3");
  REQUIRE(bad->conditions.size() == 2);
  CHECK(bad->conditions[1].status == "False");
  CHECK(bad->metrics[0].pods.size() == 1);  // failed: table kept beyond the bound
  CHECK(keeper.Get("default/other")->conditions[0].message == "something else");
  CHECK(keeper.Get("default/none")->conditions.empty());
  CHECK(TraceToJson(*keeper.Get("default/ok7")).at("conditions").size() == 2);
  // Listings carry neither tables nor conditions; the summary is unchanged.
  for (const auto& t : keeper.List()) CHECK(t->conditions.empty());
  size_t listed_ok = 0;
  for (const auto& t : keeper.List()) {
    if (t->name != "ok") continue;
    CHECK(TraceSummary(*t) == TraceSummary(*keeper.Get("default/ok7")));  // the "ok" traces are equal
    listed_ok++;
  }
  CHECK(listed_ok == 50);
  // Sets nobody holds any more are swept as the table grows.
  for (int i = 0; i < 20; i++) keeper.Erase("default/bad" + std::to_string(i));
  CHECK(keeper.DistinctConditionSets() == 2);
  for (int i = 0; i < 200; i++) {
    DecisionTrace t = TraceWithPods("v", 1);
    t.conditions[0].message = "variant " + std::to_string(i);
    keeper.Keep("default/v", t);  // each replaces the last: one set alive at a time
  }
  CHECK(keeper.DistinctConditionSets() == 3);
  CHECK(keeper.Get("default/v")->conditions[0].message == "variant 199");
}
