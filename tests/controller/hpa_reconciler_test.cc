// HpaReconciler over FakeApiClient with the real RestScaleClient,
// DiscoveryRestMapper and RestMetricsClient: asserts writes, events and
// conditions (hpa-semantics.md R1-R14, T1-T5, S1-S4, X1-X6, W1-W5, Z1).
#include <catch2/catch.hpp>

#include "controller/hpa_reconciler.h"
#include "controller/core/hpa_status.h"
#include "controller/history_store.h"
#include "k8sclient/api/types/hpa.h"
#include "k8sclient/api/time_format.h"
#include "k8sclient/write_fence.h"
#include "tests/controller/controller_test_util.h"
#include "tests/fakes/fake_api_client.h"

using namespace hpad::ctrl;
using namespace hpad::ctrl::testing;
using hpad::Time;
namespace k8s = hpad::k8s;
using Json = nlohmann::json;

namespace {

// Records what the reconciler reports to its Monitor (15.1-15.6).
struct RecordingMonitor final : Monitor {
  struct Reconcile {
    ActionLabel action = ActionLabel::kNone;
    ErrorLabel error = ErrorLabel::kNone;
  };
  void ObserveReconciliationResult(ActionLabel action, ErrorLabel error, std::chrono::nanoseconds) override {
    reconciles.push_back({action, error});
  }
  void ObserveMetricComputationResult(ActionLabel action, ErrorLabel error, std::chrono::nanoseconds,
                                      const std::string& type) override {
    metrics.push_back({type, action, error});
  }
  void SetDesiredReplicas(const std::string&, const std::string& name, int32_t replicas) override {
    desired[name] = replicas;
  }
  void DeleteDesiredReplicas(const std::string&, const std::string& name) override { desired.erase(name); }
  void SetNumHpas(size_t n) override { num_hpas = n; }

  struct Metric {
    std::string type;
    ActionLabel action = ActionLabel::kNone;
    ErrorLabel error = ErrorLabel::kNone;
  };
  std::vector<Reconcile> reconciles;
  std::vector<Metric> metrics;
  std::map<std::string, int32_t> desired;
  size_t num_hpas = 0;
};

struct Harness {
  explicit Harness(ReconcilerOptions opts = {})
      : clock(T0()),
        api_ptr(&api, [](k8s::ApiClient*) {}),
        mapper(std::make_shared<k8s::DiscoveryRestMapper>(api_ptr, clock)),
        scales(api_ptr, mapper),
        metrics(api_ptr, MapperResourceResolver(mapper)),
        rec(opts, hpas, pods, metrics, scales, api, events, selectors, monitor, clock) {}

  void PutDeployment(const std::string& name, int replicas, bool with_selector = true) {
    Json d = {{"apiVersion", "apps/v1"},
              {"kind", "Deployment"},
              {"metadata", {{"name", name}, {"namespace", "default"}}},
              {"spec", {{"replicas", replicas}}},
              {"status", {{"replicas", replicas}}}};
    if (with_selector) d["spec"]["selector"] = {{"matchLabels", {{"app", "web"}}}};
    api.Put(k8s::resources::kDeployments, d);
  }
  int DeploymentReplicas(const std::string& name) {
    return (*api.Object(k8s::resources::kDeployments, "default", name))["spec"]["replicas"].get<int>();
  }
  void PutHpa(Json spec, const std::string& name = "web") {
    Json h = {{"apiVersion", "autoscaling/v2"},
              {"kind", "HorizontalPodAutoscaler"},
              {"metadata", {{"name", name}, {"namespace", "default"}}},
              {"spec", spec}};
    api.Put(k8s::resources::kHpaV2, h);
    selectors.Register("default", name);  // Q3
    Refresh(name);
  }
  // Sets (or with an empty value removes) one annotation of the HPA, as
  // `kubectl annotate` would, and refreshes the informer's copy.
  void Annotate(const std::string& annotation, const std::string& value, const std::string& name = "web") {
    Json obj = *api.Object(k8s::resources::kHpaV2, "default", name);
    if (value.empty()) {
      if (obj["metadata"].contains("annotations")) obj["metadata"]["annotations"].erase(annotation);
    } else {
      obj["metadata"]["annotations"][annotation] = value;
    }
    api.Put(k8s::resources::kHpaV2, obj);
    Refresh(name);
  }
  // What the informer would do after a write.
  void Refresh(const std::string& name = "web") {
    auto obj = api.Object(k8s::resources::kHpaV2, "default", name);
    REQUIRE(obj);
    auto hpa = k8s::HpaFromJson(*obj);
    REQUIRE(hpa.ok());
    hpas.Upsert(std::make_shared<const k8s::Hpa>(*hpa));
  }
  k8s::Hpa Read(const std::string& name = "web") {
    auto hpa = k8s::HpaFromJson(*api.Object(k8s::resources::kHpaV2, "default", name));
    REQUIRE(hpa.ok());
    return *hpa;
  }
  void AddPods(int n, int64_t cpu_request = 200) {
    for (int i = 0; i < n; i++) {
      PodSpec s;
      s.name = "web-" + std::to_string(i);
      s.requests = {{"cpu", cpu_request}};
      pods.Upsert(MakePod(s));
    }
  }
  void SetCpuUsage(int n, const std::string& usage) {
    Json items = Json::array();
    for (int i = 0; i < n; i++) {
      items.push_back({{"metadata", {{"name", "web-" + std::to_string(i)}, {"namespace", "default"},
                                     {"labels", {{"app", "web"}}}}},
                       {"timestamp", k8s::FormatRfc3339(T0())},
                       {"window", "60s"},
                       {"containers", {{{"name", "app"}, {"usage", {{"cpu", usage}}}}}}});
    }
    api.SetPathResponse(RestMetricsClient::ResourceMetricsPath("default", *k8s::Selector::Parse("app=web")),
                        Json{{"kind", "PodMetricsList"}, {"items", items}});
  }
  void FailCpuMetrics() {
    api.SetPathResponse(RestMetricsClient::ResourceMetricsPath("default", *k8s::Selector::Parse("app=web")),
                        hpad::UnavailableError("metrics-server is down"));
  }
  ReconcileResult Run(Time now, const std::string& name = "web") {
    clock.Set(now);
    auto r = rec.Reconcile("default/" + name, now);
    Refresh(name);
    return r;
  }
  size_t StatusWrites() const { return api.ActionsFor("update", "horizontalpodautoscalers").size(); }
  std::vector<std::string> Events() const { return events.Strings(); }

  hpad::SimulatedClock clock;
  k8s::testing::FakeApiClient api;
  std::shared_ptr<k8s::ApiClient> api_ptr;
  k8s::ObjectStore<k8s::Hpa> hpas;
  k8s::ObjectStore<k8s::Pod> pods;
  std::shared_ptr<k8s::DiscoveryRestMapper> mapper;
  RestScaleClient scales;
  RestMetricsClient metrics;
  k8s::RecordingEventRecorder events;
  SelectorRegistry selectors;
  RecordingMonitor monitor;
  HpaReconciler rec;
};

Json CpuSpec(int target, int min = 1, int max = 10, const std::string& target_name = "web") {
  return Json{{"scaleTargetRef", {{"apiVersion", "apps/v1"}, {"kind", "Deployment"}, {"name", target_name}}},
              {"minReplicas", min},
              {"maxReplicas", max},
              {"metrics",
               {{{"type", "Resource"},
                 {"resource", {{"name", "cpu"}, {"target", {{"type", "Utilization"}, {"averageUtilization", target}}}}}}}}};
}

std::string Cond(const k8s::Hpa& hpa, const std::string& type) {
  const auto* c = FindCondition(hpa.status.conditions, type);
  return c ? c->status + "/" + c->reason : "absent";
}

}  // namespace

TEST_CASE("R1-R13 cpu scale-up writes scale, status and event", "[reconciler]") {
  Harness h;
  h.PutDeployment("web", 2);
  h.AddPods(2);
  h.SetCpuUsage(2, "180m");  // 90% of 200m vs 60%: ceil(1.5 * 2) = 3
  h.PutHpa(CpuSpec(60));
  auto r = h.Run(T0());
  CHECK(r.error.ok());
  CHECK(h.DeploymentReplicas("web") == 3);
  k8s::Hpa hpa = h.Read();
  CHECK(hpa.status.current_replicas == 2);  // 16.5: the scale read at the start
  CHECK(hpa.status.desired_replicas == 3);
  REQUIRE(hpa.status.last_scale_time);
  CHECK(*hpa.status.last_scale_time == T0());
  REQUIRE(hpa.status.current_metrics.size() == 1);
  CHECK(hpa.status.current_metrics[0].type == "Resource");
  CHECK(*hpa.status.current_metrics[0].resource->second.average_utilization == 90);
  CHECK(hpa.status.current_metrics[0].resource->second.average_value->MilliValue() == 180);
  // W5: first-set order.
  REQUIRE(hpa.status.conditions.size() == 3);
  CHECK(hpa.status.conditions[0].type == "AbleToScale");
  CHECK(hpa.status.conditions[1].type == "ScalingActive");
  CHECK(hpa.status.conditions[2].type == "ScalingLimited");
  CHECK(Cond(hpa, "AbleToScale") == "True/SucceededRescale");
  CHECK(hpa.status.conditions[0].message == "the HPA controller was able to update the target scale to 3");
  CHECK(Cond(hpa, "ScalingActive") == "True/ValidMetricFound");
  CHECK(hpa.status.conditions[1].message ==
        "the HPA was able to successfully calculate a replica count from cpu resource utilization (percentage of "
        "request)");
  CHECK(Cond(hpa, "ScalingLimited") == "False/DesiredWithinRange");
  CHECK(h.Events() == std::vector<std::string>{"Normal SuccessfulRescale New size: 3; reason: cpu resource "
                                               "utilization (percentage of request) above target"});
  CHECK(*hpa.status.observed_generation == hpa.metadata.generation);  // W3 with HPAGeneration
  // Issue 11 item 10: the event's involvedObject carries the HPA's
  // resourceVersion as read by this reconcile (before its status write).
  auto recorded = h.events.Events();
  REQUIRE(recorded.size() == 1);
  CHECK_FALSE(recorded[0].object.resource_version.empty());
  CHECK(recorded[0].object.resource_version != hpa.metadata.resource_version);
}

TEST_CASE("W4/W5 status written only on change, lastTransitionTime only on a flip", "[reconciler]") {
  Harness h;
  h.PutDeployment("web", 3);
  h.AddPods(3);
  h.SetCpuUsage(3, "120m");  // 60% vs 60%: no change
  h.PutHpa(CpuSpec(60));
  h.Run(At(0));
  CHECK(h.StatusWrites() == 1);
  k8s::Hpa first = h.Read();
  CHECK(Cond(first, "AbleToScale") == "True/ReadyForNewScale");
  h.Run(At(15));
  CHECK(h.StatusWrites() == 1);  // nothing changed: no write
  // Metrics outage flips ScalingActive; AbleToScale keeps its time.
  h.FailCpuMetrics();
  h.Run(At(30));
  CHECK(h.StatusWrites() == 2);
  k8s::Hpa failed = h.Read();
  CHECK(Cond(failed, "ScalingActive") == "False/FailedGetResourceMetric");
  CHECK(*FindCondition(failed.status.conditions, "ScalingActive")->last_transition_time == At(30));
  // AbleToScale went ReadyForNewScale -> SucceededGetScale (same status): time kept.
  CHECK(Cond(failed, "AbleToScale") == "True/SucceededGetScale");
  CHECK(*FindCondition(failed.status.conditions, "AbleToScale")->last_transition_time == At(0));
}

TEST_CASE("R7/X1/X4 metrics outage: events and condition texts, no scale change", "[reconciler]") {
  Harness h;
  h.PutDeployment("web", 3);
  h.AddPods(3);
  h.PutHpa(CpuSpec(60));
  h.FailCpuMetrics();
  auto r = h.Run(At(0));
  CHECK_FALSE(r.error.ok());
  CHECK(h.DeploymentReplicas("web") == 3);
  CHECK(h.api.ActionsFor("update", "deployments").empty());
  const std::string inner =
      "unable to get metrics for resource cpu: unable to fetch metrics from resource metrics API: metrics-server is "
      "down";
  REQUIRE(h.Events().size() == 2);
  CHECK(h.Events()[0] == "Warning FailedGetResourceMetric failed to get cpu utilization: " + inner);
  CHECK(h.Events()[1] ==
        "Warning FailedComputeMetricsReplicas invalid metrics (1 invalid out of 1), first error is: failed to get cpu "
        "resource metric value: failed to get cpu utilization: " +
            inner);
  k8s::Hpa hpa = h.Read();
  const auto* c = FindCondition(hpa.status.conditions, "ScalingActive");
  REQUIRE(c);
  CHECK(c->message == "the HPA was unable to compute the replica count: failed to get cpu utilization: " + inner);
  CHECK(hpa.status.current_replicas == 3);
  CHECK(hpa.status.desired_replicas == 0);  // kept from before
  CHECK_FALSE(hpa.status.last_scale_time);
}

TEST_CASE("T1-T5 FailedGetScale", "[reconciler]") {
  SECTION("T5 missing target") {
    Harness h;
    h.PutHpa(CpuSpec(60));
    auto r = h.Run(At(0));
    CHECK_FALSE(r.error.ok());
    REQUIRE(h.Events().size() == 1);
    CHECK(h.Events()[0].rfind("Warning FailedGetScale ", 0) == 0);
    k8s::Hpa hpa = h.Read();
    CHECK(Cond(hpa, "AbleToScale") == "False/FailedGetScale");
    CHECK(FindCondition(hpa.status.conditions, "AbleToScale")->message.rfind(
              "the HPA controller was unable to get the target's current scale: ", 0) == 0);
    CHECK(FindCondition(hpa.status.conditions, "ScalingActive") == nullptr);
  }
  SECTION("T1 bad apiVersion is a spec error") {
    Harness h;
    ReconcileReport last;
    h.rec.SetObserver([&](const ReconcileReport& r) { last = r; });
    Json spec = CpuSpec(60);
    spec["scaleTargetRef"]["apiVersion"] = "apps/v1/extra";
    h.PutHpa(spec);
    h.Run(At(0));
    CHECK(h.Events() == std::vector<std::string>{"Warning FailedGetScale unexpected GroupVersion string: apps/v1/extra"});
    CHECK(last.error_label == ErrorLabel::kSpec);
  }
  SECTION("T2 unknown kind") {
    Harness h;
    Json spec = CpuSpec(60);
    spec["scaleTargetRef"]["apiVersion"] = "example.com/v1";
    spec["scaleTargetRef"]["kind"] = "Widget";
    h.PutHpa(spec);
    h.Run(At(0));
    CHECK(h.Events() == std::vector<std::string>{"Warning FailedGetScale no matches for kind \"Widget\" in group \"example.com\""});
  }
}

TEST_CASE("S1 missing selector and S4 ambiguous selector", "[reconciler]") {
  SECTION("S1") {
    Harness h;
    h.PutDeployment("web", 2, false);
    h.PutHpa(CpuSpec(60));
    h.Run(At(0));
    CHECK(h.Events() == std::vector<std::string>{"Warning SelectorRequired selector is required",
                                                 "Warning FailedComputeMetricsReplicas selector is required"});
    k8s::Hpa hpa = h.Read();
    CHECK(Cond(hpa, "ScalingActive") == "False/InvalidSelector");
    CHECK(FindCondition(hpa.status.conditions, "ScalingActive")->message ==
          "the HPA target's scale is missing a selector");
  }
  SECTION("S4: the first of an overlapping pair scales once, then both report") {
    Harness h;
    h.PutDeployment("web", 2);
    h.AddPods(2);
    h.SetCpuUsage(2, "180m");
    h.PutHpa(CpuSpec(60), "a");
    h.PutHpa(CpuSpec(60), "b");
    h.Run(At(0), "a");  // b's slot still matches nothing
    CHECK(h.DeploymentReplicas("web") == 3);
    h.events.Clear();
    h.Run(At(0), "b");
    const std::string msg = "pods by selector app=web are controlled by more than one HPA (e.g. [default/b default/a])";
    CHECK(h.Events() == std::vector<std::string>{"Warning AmbiguousSelector " + msg,
                                                 "Warning FailedComputeMetricsReplicas " + msg});
    k8s::Hpa b = h.Read("b");
    CHECK(Cond(b, "ScalingActive") == "False/AmbiguousSelector");
    CHECK(FindCondition(b.status.conditions, "ScalingActive")->message == msg);
    h.events.Clear();
    h.Run(At(15), "a");
    CHECK(Cond(h.Read("a"), "ScalingActive") == "False/AmbiguousSelector");
  }
}

TEST_CASE("R6 range branches and Z1 scaling disabled", "[reconciler]") {
  SECTION("R6b above max: no metrics read") {
    Harness h;
    h.PutDeployment("web", 12);
    h.PutHpa(CpuSpec(60));
    h.Run(At(0));
    CHECK(h.DeploymentReplicas("web") == 10);
    for (const auto& a : h.api.ActionsFor("getpath")) CHECK(a.name.find("metrics.k8s.io") == std::string::npos);
    CHECK(h.Events() ==
          std::vector<std::string>{"Normal SuccessfulRescale New size: 10; reason: Current number of replicas above "
                                   "Spec.MaxReplicas"});
    k8s::Hpa hpa = h.Read();
    CHECK(hpa.status.current_metrics.empty());
    CHECK(hpa.status.conditions.size() == 1);  // only AbleToScale is touched
  }
  SECTION("R6c below min") {
    Harness h;
    h.PutDeployment("web", 1);
    h.PutHpa(CpuSpec(60, 3));
    h.Run(At(0));
    CHECK(h.DeploymentReplicas("web") == 3);
    CHECK(h.Events()[0] == "Normal SuccessfulRescale New size: 3; reason: Current number of replicas below Spec.MinReplicas");
  }
  SECTION("Z1 zero replicas disables scaling") {
    Harness h;
    h.PutDeployment("web", 0);
    h.PutHpa(CpuSpec(60));
    h.Run(At(0));
    CHECK(h.api.ActionsFor("update", "deployments").empty());
    k8s::Hpa hpa = h.Read();
    CHECK(Cond(hpa, "ScalingActive") == "False/ScalingDisabled");
    CHECK(FindCondition(hpa.status.conditions, "ScalingActive")->message ==
          "scaling is disabled since the replica count of the target is zero");
    CHECK(hpa.status.desired_replicas == 0);
  }
}

TEST_CASE("W1/W2 scale update conflict retry and failure", "[reconciler]") {
  SECTION("W1 retries a 409") {
    Harness h;
    h.PutDeployment("web", 2);
    h.AddPods(2);
    h.SetCpuUsage(2, "180m");
    h.PutHpa(CpuSpec(60));
    h.api.FailNext(2, hpad::Status(hpad::StatusCode::kConflict, "conflict", "Conflict", 409), "update", "deployments");
    auto r = h.Run(At(0));
    CHECK(r.error.ok());
    CHECK(h.DeploymentReplicas("web") == 3);
  }
  SECTION("W2 update failure") {
    Harness h;
    h.PutDeployment("web", 2);
    h.AddPods(2);
    h.SetCpuUsage(2, "180m");
    h.PutHpa(CpuSpec(60));
    h.api.FailNext(1, hpad::Status(hpad::StatusCode::kForbidden, "forbidden", "Forbidden", 403), "update",
                   "deployments");
    auto r = h.Run(At(0));
    CHECK_FALSE(r.error.ok());
    CHECK(h.Events() == std::vector<std::string>{"Warning FailedRescale New size: 3; reason: cpu resource utilization "
                                                 "(percentage of request) above target; error: forbidden"});
    k8s::Hpa hpa = h.Read();
    CHECK(Cond(hpa, "AbleToScale") == "False/FailedUpdateScale");
    CHECK(hpa.status.current_replicas == 2);
    CHECK(hpa.status.desired_replicas == 0);
    CHECK(hpa.status.current_metrics.size() == 1);
  }
}

TEST_CASE("X3 partial metric failure", "[reconciler]") {
  auto two_metrics = [] {
    Json spec = CpuSpec(60);
    spec["metrics"].push_back(
        {{"type", "Pods"},
         {"pods", {{"metric", {{"name", "rps"}}}, {"target", {{"type", "AverageValue"}, {"averageValue", "100"}}}}}});
    return spec;
  };
  SECTION("scale-up proceeds and reports the error") {
    Harness h;
    h.PutDeployment("web", 2);
    h.AddPods(2);
    h.SetCpuUsage(2, "180m");  // proposes 3; the pods metric path is not served
    h.PutHpa(two_metrics());
    auto r = h.Run(At(0));
    CHECK_FALSE(r.error.ok());
    CHECK(h.DeploymentReplicas("web") == 3);
    k8s::Hpa hpa = h.Read();
    CHECK(Cond(hpa, "ScalingActive") == "True/ValidMetricFound");
    REQUIRE(hpa.status.current_metrics.size() == 2);
    CHECK(hpa.status.current_metrics[1].type.empty());  // X5
    CHECK(h.Events().front().rfind("Warning FailedGetPodsMetric unable to get metric rps: unable to fetch metrics from "
                                   "custom metrics API: ",
                                   0) == 0);
  }
  SECTION("scale-down refused on partial data") {
    Harness h;
    h.PutDeployment("web", 4);
    h.AddPods(4);
    h.SetCpuUsage(4, "20m");
    h.PutHpa(two_metrics());
    h.Run(At(0));
    CHECK(h.DeploymentReplicas("web") == 4);
    CHECK(Cond(h.Read(), "ScalingActive") == "False/FailedGetPodsMetric");
  }
}

TEST_CASE("C14 external AverageValue through the reconciler", "[reconciler]") {
  Harness h;
  h.PutDeployment("web", 2);
  Json selector = {{"matchLabels", {{"queue", "jobs"}}}};
  h.api.SetPathResponse(RestMetricsClient::ExternalMetricPath("default", "queue_messages",
                                                              *k8s::Selector::FromJson(selector)),
                        Json{{"items", {{{"metricName", "queue_messages"}, {"timestamp", k8s::FormatRfc3339(T0())},
                                         {"value", "12"}}}}});
  Json spec = CpuSpec(60);
  spec["metrics"] = {{{"type", "External"},
                      {"external",
                       {{"metric", {{"name", "queue_messages"}, {"selector", selector}}},
                        {"target", {{"type", "AverageValue"}, {"averageValue", "5"}}}}}}};
  h.PutHpa(spec);
  h.Run(At(0));
  CHECK(h.DeploymentReplicas("web") == 3);
  k8s::Hpa hpa = h.Read();
  REQUIRE(hpa.status.current_metrics.size() == 1);
  CHECK(hpa.status.current_metrics[0].external->current.average_value->MilliValue() == 6000);
  CHECK(h.Events() == std::vector<std::string>{
                          "Normal SuccessfulRescale New size: 3; reason: external metric "
                          "queue_messages(&LabelSelector{MatchLabels:map[string]string{queue: jobs,},MatchExpressions:[]"
                          "LabelSelectorRequirement{},}) above target"});
}

TEST_CASE("H1/R1 history dropped when the HPA is gone", "[reconciler]") {
  Harness h;
  h.PutDeployment("web", 3);
  h.AddPods(3);
  h.SetCpuUsage(3, "120m");
  h.PutHpa(CpuSpec(60));
  h.Run(At(0));
  CHECK(h.rec.HasHistory("default/web"));
  h.hpas.Delete("default/web");
  auto r = h.rec.Reconcile("default/web", At(15));
  CHECK(r.deleted);
  CHECK_FALSE(h.rec.HasHistory("default/web"));
}

TEST_CASE("W3 observedGeneration cleared with HPAGeneration off", "[reconciler]") {
  ReconcilerOptions opts;
  opts.generation = false;
  Harness h(opts);
  h.PutDeployment("web", 3);
  h.AddPods(3);
  h.SetCpuUsage(3, "120m");
  Json spec = CpuSpec(60);
  h.PutHpa(spec);
  Json obj = *h.api.Object(k8s::resources::kHpaV2, "default", "web");
  obj["status"] = {{"observedGeneration", 1}, {"desiredReplicas", 3}, {"currentReplicas", 3}};
  h.api.Put(k8s::resources::kHpaV2, obj);
  h.Refresh();
  h.Run(At(0));
  CHECK_FALSE(h.Read().status.observed_generation);
}

TEST_CASE("Z2-Z5 scale to zero and back with HPAScaleToZero", "[reconciler][zero]") {
  ReconcilerOptions opts;
  opts.scale_to_zero = true;
  Harness h(opts);
  h.PutDeployment("web", 2);
  h.AddPods(2);
  const std::string path = RestMetricsClient::ExternalMetricPath("default", "queue", k8s::Selector::Nothing());
  auto set_queue = [&](const std::string& v) {
    h.api.SetPathResponse(path, Json{{"items", {{{"metricName", "queue"}, {"timestamp", k8s::FormatRfc3339(T0())},
                                                 {"value", v}}}}});
  };
  Json spec = CpuSpec(60, 0);
  spec["metrics"] = {{{"type", "External"},
                      {"external", {{"metric", {{"name", "queue"}}}, {"target", {{"type", "Value"}, {"value", "5"}}}}}}};
  spec["behavior"] = {{"scaleDown", {{"stabilizationWindowSeconds", 0}}}};
  h.PutHpa(spec);
  set_queue("0");
  h.Run(At(0));
  CHECK(h.DeploymentReplicas("web") == 0);  // Z6: minReplicas 0 lets it go to zero
  CHECK(Cond(h.Read(), "ScaledToZero") == "True/ScaledToZero");
  // Z2/C13/Z3: from zero an External Value metric proposes ceil(v / V).
  set_queue("10");
  h.Run(At(15));
  CHECK(h.DeploymentReplicas("web") == 2);
  k8s::Hpa hpa = h.Read();
  CHECK(Cond(hpa, "ScaledToZero") == "False/NotScaledToZero");
  CHECK(FindCondition(hpa.status.conditions, "ScaledToZero")->message ==
        "the HPA controller did not scale the workload to zero");
}

TEST_CASE("Z1 without the gate a target at zero stays paused", "[reconciler][zero]") {
  Harness h;
  h.PutDeployment("web", 0);
  Json spec = CpuSpec(60, 0);
  h.PutHpa(spec);
  Json obj = *h.api.Object(k8s::resources::kHpaV2, "default", "web");
  obj["status"] = {{"desiredReplicas", 0},
                   {"conditions", {{{"type", "ScaledToZero"}, {"status", "True"}, {"reason", "ScaledToZero"},
                                    {"lastTransitionTime", "2026-01-01T00:00:00Z"}}}}};
  h.api.Put(k8s::resources::kHpaV2, obj);
  h.Refresh();
  h.Run(At(0));
  k8s::Hpa hpa = h.Read();
  CHECK(Cond(hpa, "ScalingActive") == "False/ScalingDisabled");
  CHECK(Cond(hpa, "ScaledToZero") == "absent");  // gate off removes it
}

TEST_CASE("C11 Object Value metric through the reconciler", "[reconciler]") {
  Harness h;
  h.PutDeployment("web", 2);
  h.AddPods(2);
  // Issue 11 item 5: the path names the group-qualified resource of the REST
  // mapping, as upstream's custom metrics client does.
  h.api.SetPathResponse(
      "/apis/custom.metrics.k8s.io/v1beta2/namespaces/default/deployments.apps/main/hits",
      Json{{"items", {{{"describedObject", {{"kind", "Deployment"}, {"name", "main"}, {"namespace", "default"},
                                            {"apiVersion", "apps/v1"}}},
                       {"metric", {{"name", "hits"}}}, {"timestamp", k8s::FormatRfc3339(T0())}, {"value", "300"}}}}});
  Json spec = CpuSpec(60);
  spec["metrics"] = {{{"type", "Object"},
                      {"object",
                       {{"describedObject", {{"apiVersion", "apps/v1"}, {"kind", "Deployment"}, {"name", "main"}}},
                        {"metric", {{"name", "hits"}}},
                        {"target", {{"type", "Value"}, {"value", "100"}}}}}}};
  h.PutHpa(spec);
  h.Run(At(0));
  // ratio 3 * 2 ready pods proposes 6; L3 caps the step at max(2 * 2, 4) = 4.
  CHECK(h.DeploymentReplicas("web") == 4);
  CHECK(h.Events() == std::vector<std::string>{"Normal SuccessfulRescale New size: 4; reason: Deployment metric hits above target"});
  CHECK(Cond(h.Read(), "ScalingLimited") == "True/ScaleUpLimit");
  k8s::Hpa hpa = h.Read();
  CHECK(hpa.status.current_metrics[0].object->current.value->MilliValue() == 300000);
  // M5: a failing object metric names the object.
  h.events.Clear();
  h.api.SetPathResponse("/apis/custom.metrics.k8s.io/v1beta2/namespaces/default/deployments.apps/main/hits",
                        hpad::UnavailableError("adapter down"));
  h.Run(At(15));
  CHECK(h.Events().front() ==
        "Warning FailedGetObjectMetric unable to get metric hits on Deployment default/main: unable to fetch metrics "
        "from custom metrics API: adapter down");
}

TEST_CASE("issue 11 item 5: Object metric request paths are upstream's", "[reconciler][issue11]") {
  Harness h;
  h.PutDeployment("web", 2);
  h.AddPods(2);
  auto object_spec = [](const std::string& api_version, const std::string& kind) {
    Json spec = CpuSpec(60);
    spec["metrics"] = {{{"type", "Object"},
                        {"object",
                         {{"describedObject", {{"apiVersion", api_version}, {"kind", kind}, {"name", "main"}}},
                          {"metric", {{"name", "hits"}}},
                          {"target", {{"type", "Value"}, {"value", "100"}}}}}}};
    return spec;
  };
  auto last_path = [&]() {
    std::string path;
    for (const auto& a : h.api.ActionsFor("getpath"))
      if (a.name.find("/apis/custom.metrics.k8s.io/") == 0) path = a.name;
    return path;
  };
  SECTION("a core kind is named by its bare resource") {
    // Core discovery, as an API server serves it (the fake serves only what is set).
    h.api.SetPathResponse("/api", Json{{"kind", "APIVersions"}, {"versions", {"v1"}}});
    h.api.SetPathResponse("/api/v1", Json{{"kind", "APIResourceList"},
                                          {"groupVersion", "v1"},
                                          {"resources", {{{"name", "services"}, {"kind", "Service"}}}}});
    h.PutHpa(object_spec("v1", "Service"));
    h.Run(At(0));
    CHECK(last_path() == "/apis/custom.metrics.k8s.io/v1beta2/namespaces/default/services/main/hits");
  }
  SECTION("a Namespace of the core group uses the root-scoped form, whatever the version spelling") {
    h.PutHpa(object_spec("", "Namespace"));
    h.Run(At(0));
    CHECK(last_path() == "/apis/custom.metrics.k8s.io/v1beta2/namespaces/default/metrics/hits");
  }
  SECTION("an unknown kind fails to map, no plural is guessed") {
    h.PutHpa(object_spec("example.com/v1", "Widget"));
    h.Run(At(0));
    CHECK(last_path().empty());
    REQUIRE_FALSE(h.Events().empty());
    CHECK(h.Events().front() ==
          "Warning FailedGetObjectMetric unable to get metric hits on Widget default/main: unable to fetch metrics "
          "from custom metrics API: unable to map kind Widget.example.com to resource: no matches for kind "
          "\"Widget\" in group \"example.com\"");
  }
}

// ---------------------------------------------------------------------------
// Issue 11 (upstream fidelity, round two)

TEST_CASE("issue 11 item 1: W3 observedGeneration is written on the R7 and W2 failure paths", "[reconciler][issue11]") {
  // The fake API server keeps metadata.generation itself (1 at creation, +1
  // per spec change): change the spec twice so generation is 3.
  auto put_with_generation = [](Harness& h) -> int64_t {
    h.PutHpa(CpuSpec(60));
    h.PutHpa(CpuSpec(61));
    h.PutHpa(CpuSpec(60));
    const int64_t generation = h.Read().metadata.generation;
    REQUIRE(generation >= 1);
    return generation;
  };
  SECTION("metrics never worked (R7): observedGeneration is still written") {
    Harness h;
    h.PutDeployment("web", 2);
    h.AddPods(2);
    h.FailCpuMetrics();
    const int64_t generation = put_with_generation(h);
    auto r = h.Run(At(0));
    CHECK_FALSE(r.error.ok());
    k8s::Hpa hpa = h.Read();
    REQUIRE(hpa.status.observed_generation);
    CHECK(*hpa.status.observed_generation == generation);
    CHECK(hpa.status.current_replicas == 2);
  }
  SECTION("scale update failed (W2): observedGeneration is written") {
    Harness h;
    h.PutDeployment("web", 2);
    h.AddPods(2);
    h.SetCpuUsage(2, "180m");
    const int64_t generation = put_with_generation(h);
    h.api.FailNext(1, hpad::Status(hpad::StatusCode::kInternal, "etcd is sad"), "update", "deployments");
    auto r = h.Run(At(0));
    CHECK_FALSE(r.error.ok());
    CHECK(h.DeploymentReplicas("web") == 2);
    k8s::Hpa hpa = h.Read();
    CHECK(Cond(hpa, "AbleToScale") == "False/FailedUpdateScale");
    REQUIRE(hpa.status.observed_generation);
    CHECK(*hpa.status.observed_generation == generation);
  }
}

TEST_CASE("issue 11 item 4: a failed re-read after a 409 keeps the last scale and retries 5 times", "[reconciler][issue11]") {
  Harness h;
  h.PutDeployment("web", 2);
  h.AddPods(2);
  h.SetCpuUsage(2, "180m");
  h.PutHpa(CpuSpec(60));
  h.api.FailNext(5, hpad::Status(hpad::StatusCode::kConflict, "the object has been modified"), "update",
                 "deployments");
  // Every re-GET of the scale after a conflict fails too (the first GET, R2, succeeds).
  int scale_gets = 0;
  h.api.FailNextMatching(4, hpad::Status(hpad::StatusCode::kUnavailable, "apiserver flaked"),
                         [&](const k8s::testing::Action& a) {
                           if (a.verb != "get" || a.subresource != "scale") return false;
                           return ++scale_gets > 1;
                         });
  auto r = h.Run(At(0));
  REQUIRE_FALSE(r.error.ok());
  CHECK(r.error.code() == hpad::StatusCode::kConflict);
  size_t updates = 0;
  for (const auto& a : h.api.ActionsFor("update", "deployments")) updates += a.subresource == "scale" ? 1 : 0;
  CHECK(updates == 5);
  const auto events = h.Events();
  REQUIRE_FALSE(events.empty());
  CHECK(events.back().find("FailedRescale") != std::string::npos);
  CHECK(events.back().find("the object has been modified") != std::string::npos);
  CHECK(events.back().find("apiserver flaked") == std::string::npos);
}

TEST_CASE("issue 11 item 6: controller metrics labels (15.1, 15.3)", "[reconciler][issue11]") {
  Json spec = CpuSpec(60);
  spec["metrics"].push_back(
      {{"type", "Pods"},
       {"pods", {{"metric", {{"name", "rps"}}}, {"target", {{"type", "AverageValue"}, {"averageValue", "100"}}}}}});
  Harness h;
  h.PutDeployment("web", 2);
  h.AddPods(2);
  h.SetCpuUsage(2, "180m");  // cpu proposes 3; the pods metric fails
  h.PutHpa(spec);
  auto r = h.Run(At(0));
  CHECK_FALSE(r.error.ok());
  CHECK(h.DeploymentReplicas("web") == 3);
  // The reconcile rescaled and then returned the X3 error: it keeps scale_up.
  REQUIRE(h.monitor.reconciles.size() == 1);
  CHECK(h.monitor.reconciles[0].action == ActionLabel::kScaleUp);
  CHECK(h.monitor.reconciles[0].error == ErrorLabel::kInternal);
  // The failed metric computation is labelled action none (never an empty label).
  REQUIRE(h.monitor.metrics.size() == 2);
  CHECK(h.monitor.metrics[0].action == ActionLabel::kScaleUp);
  CHECK(h.monitor.metrics[1].type == "Pods");
  CHECK(h.monitor.metrics[1].action == ActionLabel::kNone);
  CHECK(h.monitor.metrics[1].error == ErrorLabel::kInternal);
  CHECK(LabelText(h.monitor.metrics[1].action) == "none");
  CHECK(h.monitor.desired.at("web") == 3);
}

TEST_CASE("issue 11 item 7: AmbiguousSelector text is the same with HPAOptimizedSelectorStore off", "[reconciler][issue11]") {
  ReconcilerOptions opts;
  opts.optimized_selector_store = false;
  Harness h(opts);
  h.PutDeployment("web", 2);
  h.AddPods(2);
  h.SetCpuUsage(2, "180m");
  h.PutHpa(CpuSpec(60), "a");
  h.PutHpa(CpuSpec(60), "b");
  h.Run(At(0), "a");
  h.events.Clear();
  h.Run(At(0), "b");
  const std::string msg = "pods by selector app=web are controlled by more than one HPA (e.g. [default/b default/a])";
  CHECK(h.Events() == std::vector<std::string>{"Warning AmbiguousSelector " + msg,
                                               "Warning FailedComputeMetricsReplicas " + msg});
}

namespace {

// A scale cache that is behind: GetScale serves `stale` (marked from_cache),
// GetScaleFresh and writes go to the real GET/PUT client, as ScaleCache does.
class StaleCacheScaleClient final : public ScaleClient {
 public:
  StaleCacheScaleClient(ScaleClient& rest, ScaleReadResult stale) : rest_(rest), stale_(std::move(stale)) {
    stale_.from_cache = true;
  }
  hpad::Result<ScaleReadResult> GetScale(const std::string&, const k8s::CrossVersionObjectReference&) override {
    return stale_;
  }
  hpad::Result<ScaleReadResult> GetScaleFresh(const std::string& ns,
                                              const k8s::CrossVersionObjectReference& ref) override {
    fresh_reads++;
    return rest_.GetScale(ns, ref);
  }
  hpad::Status UpdateScale(const std::string& ns, const ScaleReadResult& read, int32_t replicas) override {
    return read.from_cache ? rest_.TryUpdateScale(ns, read, replicas) : rest_.UpdateScale(ns, read, replicas);
  }
  int fresh_reads = 0;

 private:
  ScaleClient& rest_;
  ScaleReadResult stale_;
};

}  // namespace

TEST_CASE("issue 11 item 9: a 409 on a cached scale re-runs the reconcile from a fresh GET", "[reconciler][issue11]") {
  Harness h;
  h.PutDeployment("web", 2);
  h.AddPods(2);
  h.SetCpuUsage(2, "180m");  // from 2 replicas the metrics propose 3
  h.PutHpa(CpuSpec(60));
  auto stale = h.scales.GetScale("default", k8s::CrossVersionObjectReference{"Deployment", "web", "apps/v1"});
  REQUIRE(stale.ok());
  // `kubectl scale --replicas=12` after the cache saw 2 replicas; max is 10.
  h.PutDeployment("web", 12);
  StaleCacheScaleClient cache(h.scales, *stale);
  HpaReconciler rec(ReconcilerOptions{}, h.hpas, h.pods, h.metrics, cache, h.api, h.events, h.selectors, h.monitor,
                    h.clock);
  auto r = rec.Reconcile("default/web", At(0));
  CHECK(r.error.ok());
  CHECK(cache.fresh_reads == 1);
  CHECK(h.DeploymentReplicas("web") == 10);
  CHECK(h.Events() == std::vector<std::string>{"Normal SuccessfulRescale New size: 10; reason: Current number of "
                                               "replicas above Spec.MaxReplicas"});
  k8s::Hpa hpa = h.Read();
  CHECK(hpa.status.current_replicas == 12);
  CHECK(hpa.status.desired_replicas == 10);
  // The decision made from the stale read left nothing in the history.
  for (const auto& rec_entry : rec.HistoryFor("default/web").recommendations) CHECK(rec_entry.recommendation != 3);
}

// ---------------------------------------------------------------------------
// Issue 13: pause (hpad.io/paused, hpad.io/paused-replicas) and annotation
// validation through the reconciler (beyond upstream, docs/divergences.md 18).

namespace {

size_t ScaleWrites(const Harness& h) {
  size_t n = 0;
  for (const auto& a : h.api.ActionsFor("update", "deployments")) n += a.subresource == "scale" ? 1 : 0;
  return n;
}

size_t CountEvents(const Harness& h, const std::string& text) {
  size_t n = 0;
  for (const auto& e : h.Events()) n += e == text ? 1 : 0;
  return n;
}

std::string RecommendationsText(const HpaHistory& history) {
  std::string out;
  for (const auto& r : history.recommendations)
    out += std::to_string(r.recommendation) + "@" + k8s::FormatRfc3339(r.timestamp) + " ";
  return out;
}

const char* const kPausedEvent = "Normal ScalingPaused autoscaling is paused by the hpad.io/paused annotation";
const char* const kResumedEvent =
    "Normal ScalingResumed autoscaling resumed: the hpad.io/paused and hpad.io/paused-replicas annotations no "
    "longer pause it";

}  // namespace

TEST_CASE("issue 13 pause: a paused HPA writes status with desired = current and no scale", "[reconciler][pause]") {
  Harness h;
  h.PutDeployment("web", 2);
  h.AddPods(2);
  h.SetCpuUsage(2, "180m");  // 90% vs 60%: unpaused it would scale 2 -> 3
  h.PutHpa(CpuSpec(60));
  h.Annotate("hpad.io/paused", "true");
  auto r = h.Run(At(0));
  CHECK(r.error.ok());
  CHECK(ScaleWrites(h) == 0);
  CHECK(h.DeploymentReplicas("web") == 2);
  CHECK(h.StatusWrites() == 1);  // status as usual
  k8s::Hpa hpa = h.Read();
  CHECK(hpa.status.current_replicas == 2);
  CHECK(hpa.status.desired_replicas == 2);  // = current, not the 3 the metric asks for
  CHECK_FALSE(hpa.status.last_scale_time);
  REQUIRE(hpa.status.current_metrics.size() == 1);  // the metrics are still read and reported
  CHECK(*hpa.status.current_metrics[0].resource->second.average_utilization == 90);
  CHECK(Cond(hpa, "ScalingActive") == "False/ScalingPaused");
  CHECK(FindCondition(hpa.status.conditions, "ScalingActive")->message ==
        "autoscaling is paused by the hpad.io/paused annotation");
  CHECK(h.Events() == std::vector<std::string>{kPausedEvent});
}

TEST_CASE("issue 13 pause: ScalingPaused once when the pause begins, ScalingResumed when it ends",
          "[reconciler][pause]") {
  Harness h;
  h.PutDeployment("web", 2);
  h.AddPods(2);
  h.SetCpuUsage(2, "180m");
  h.PutHpa(CpuSpec(60));
  h.Annotate("hpad.io/paused", "true");
  h.Run(At(0));
  h.Run(At(15));
  h.Run(At(30));
  CHECK(h.Events() == std::vector<std::string>{kPausedEvent});  // once, not per reconcile
  CHECK(ScaleWrites(h) == 0);
  CHECK(h.StatusWrites() == 1);  // unchanged status: no further write (W4)

  // "false" resumes (and is not an InvalidAnnotation); the held scale-up happens at once.
  h.Annotate("hpad.io/paused", "false");
  h.Run(At(45));
  CHECK(h.Events() == std::vector<std::string>{
                          kPausedEvent, kResumedEvent,
                          "Normal SuccessfulRescale New size: 3; reason: cpu resource utilization (percentage of "
                          "request) above target"});
  CHECK(ScaleWrites(h) == 1);
  CHECK(h.DeploymentReplicas("web") == 3);
  k8s::Hpa hpa = h.Read();
  CHECK(Cond(hpa, "ScalingActive") == "True/ValidMetricFound");
  CHECK(hpa.status.desired_replicas == 3);
  h.Run(At(60));
  CHECK(CountEvents(h, kResumedEvent) == 1);  // once, not per reconcile

  // A new pause begins: one more ScalingPaused; removing the annotation resumes.
  h.Annotate("hpad.io/paused", "true");
  h.Run(At(75));
  h.Run(At(90));
  CHECK(CountEvents(h, kPausedEvent) == 2);
  h.Annotate("hpad.io/paused", "");
  h.Run(At(105));
  CHECK(CountEvents(h, kResumedEvent) == 2);
  CHECK(Cond(h.Read(), "ScalingActive") == "True/ValidMetricFound");
}

TEST_CASE("issue 13 pause: paused-replicas scales once to N unclamped and not again", "[reconciler][pause]") {
  Harness h;
  h.PutDeployment("web", 2);
  h.AddPods(2);
  h.SetCpuUsage(2, "120m");  // 60% vs 60%: unpaused, no change
  h.PutHpa(CpuSpec(60, /*min=*/1, /*max=*/10));
  h.Annotate("hpad.io/paused-replicas", "15");  // above maxReplicas: not clamped (the operator said so)
  const std::string message = "autoscaling is paused by the hpad.io/paused-replicas annotation at 15 replicas";
  auto r = h.Run(At(0));
  CHECK(r.error.ok());
  CHECK(ScaleWrites(h) == 1);
  CHECK(h.DeploymentReplicas("web") == 15);
  k8s::Hpa hpa = h.Read();
  CHECK(hpa.status.current_replicas == 2);  // 16.5: the scale as read at the start
  CHECK(hpa.status.desired_replicas == 15);
  REQUIRE(hpa.status.last_scale_time);
  CHECK(*hpa.status.last_scale_time == At(0));
  CHECK(Cond(hpa, "ScalingActive") == "False/ScalingPaused");
  CHECK(FindCondition(hpa.status.conditions, "ScalingActive")->message == message);
  CHECK(Cond(hpa, "ScalingLimited") != "True/TooManyReplicas");  // no min/max clamp on this path
  CHECK(CountEvents(h, "Normal ScalingPaused " + message) == 1);

  // Held at 15: no further scale write, desired = current.
  h.Run(At(15));
  h.Run(At(30));
  CHECK(ScaleWrites(h) == 1);
  CHECK(h.DeploymentReplicas("web") == 15);
  hpa = h.Read();
  CHECK(hpa.status.current_replicas == 15);
  CHECK(hpa.status.desired_replicas == 15);
  CHECK(CountEvents(h, "Normal ScalingPaused " + message) == 1);

  // The scale to N happened once: if the operator moves the scale by hand,
  // hpad does not fight it (controller/core/pause.h) while paused at N.
  h.PutDeployment("web", 4);
  h.Run(At(45));
  CHECK(ScaleWrites(h) == 1);
  CHECK(h.DeploymentReplicas("web") == 4);
  CHECK(h.Read().status.desired_replicas == 4);

  // A new N is a new pause: one scale write to it (below minReplicas here: not clamped either).
  h.PutHpa(CpuSpec(60, /*min=*/3, /*max=*/10));
  h.Annotate("hpad.io/paused-replicas", "1");
  h.Run(At(60));
  CHECK(ScaleWrites(h) == 2);
  CHECK(h.DeploymentReplicas("web") == 1);
  CHECK(FindCondition(h.Read().status.conditions, "ScalingActive")->message ==
        "autoscaling is paused by the hpad.io/paused-replicas annotation at 1 replicas");
  h.Run(At(75));
  CHECK(ScaleWrites(h) == 2);
}

TEST_CASE("issue 13 annotations: InvalidAnnotation Warning for a bad value, the default applies",
          "[reconciler][pause]") {
  SECTION("hpad.io/paused other than true/false: not paused") {
    Harness h;
    h.PutDeployment("web", 2);
    h.AddPods(2);
    h.SetCpuUsage(2, "180m");
    h.PutHpa(CpuSpec(60));
    h.Annotate("hpad.io/paused", "yes");
    h.Run(At(0));
    CHECK(h.Events() == std::vector<std::string>{
                            "Warning InvalidAnnotation invalid value \"yes\" of annotation hpad.io/paused: must be "
                            "\"true\" or \"false\"; not paused",
                            "Normal SuccessfulRescale New size: 3; reason: cpu resource utilization (percentage of "
                            "request) above target"});
    CHECK(h.DeploymentReplicas("web") == 3);  // default: not paused, scales as usual
    CHECK(Cond(h.Read(), "ScalingActive") == "True/ValidMetricFound");
  }
  SECTION("hpad.io/paused-replicas negative or not a number: ignored") {
    for (const std::string bad : {"-1", "three", "2147483648"}) {
      Harness h;
      h.PutDeployment("web", 2);
      h.AddPods(2);
      h.SetCpuUsage(2, "180m");
      h.PutHpa(CpuSpec(60));
      h.Annotate("hpad.io/paused-replicas", bad);
      h.Run(At(0));
      INFO("value " << bad);
      REQUIRE_FALSE(h.Events().empty());
      CHECK(h.Events()[0] == "Warning InvalidAnnotation invalid value \"" + bad +
                                 "\" of annotation hpad.io/paused-replicas: must be a non-negative integer; ignored");
      CHECK(h.DeploymentReplicas("web") == 3);
      CHECK(Cond(h.Read(), "ScalingActive") == "True/ValidMetricFound");
    }
  }
  SECTION("hpad.io/sync-period out of range: the controller's period, the HPA reconciles as usual") {
    Harness h;
    h.PutDeployment("web", 2);
    h.AddPods(2);
    h.SetCpuUsage(2, "180m");
    h.PutHpa(CpuSpec(60));
    h.Annotate("hpad.io/sync-period", "2h");
    h.Run(At(0));
    REQUIRE_FALSE(h.Events().empty());
    CHECK(h.Events()[0] ==
          "Warning InvalidAnnotation invalid value \"2h\" of annotation hpad.io/sync-period: must be between 1s and "
          "1h; the controller's sync period applies");
    CHECK(h.DeploymentReplicas("web") == 3);
  }
  SECTION("a valid paused with a bad paused-replicas: paused by hpad.io/paused, the bad value reported") {
    Harness h;
    h.PutDeployment("web", 2);
    h.AddPods(2);
    h.SetCpuUsage(2, "180m");
    h.PutHpa(CpuSpec(60));
    h.Annotate("hpad.io/paused", "true");
    h.Annotate("hpad.io/paused-replicas", "-5");
    h.Run(At(0));
    CHECK(h.Events() == std::vector<std::string>{
                            "Warning InvalidAnnotation invalid value \"-5\" of annotation hpad.io/paused-replicas: "
                            "must be a non-negative integer; ignored",
                            kPausedEvent});
    CHECK(ScaleWrites(h) == 0);
    CHECK(FindCondition(h.Read().status.conditions, "ScalingActive")->message ==
          "autoscaling is paused by the hpad.io/paused annotation");
  }
}

TEST_CASE("issue 13 pause: a paused HPA's history is not advanced", "[reconciler][pause]") {
  Harness h;
  h.PutDeployment("web", 2);
  h.AddPods(2);
  h.SetCpuUsage(2, "180m");
  Json spec = CpuSpec(60);
  // Pods 1 per 60s: the t=0 scale-up spends the period's budget (B5-B7).
  spec["behavior"] = {{"scaleUp", {{"stabilizationWindowSeconds", 0},
                                   {"policies", {{{"type", "Pods"}, {"value", 1}, {"periodSeconds", 60}}}}}}};
  h.PutHpa(spec);
  h.Run(At(0));
  CHECK(h.DeploymentReplicas("web") == 3);
  (void)h.rec.TakeChangedHistories();
  const HpaHistory before = h.rec.HistoryFor("default/web");
  REQUIRE_FALSE(before.recommendations.empty());
  REQUIRE(before.scale_up_events.size() == 1);

  // Paused for a while, with the metric asking for more: nothing is recorded.
  h.AddPods(3);
  h.SetCpuUsage(3, "180m");
  h.Annotate("hpad.io/paused", "true");
  for (int t : {15, 30, 45}) h.Run(At(t));
  CHECK(ScaleWrites(h) == 1);
  const HpaHistory during = h.rec.HistoryFor("default/web");
  CHECK(RecommendationsText(during) == RecommendationsText(before));
  CHECK(during.scale_up_events.size() == 1);
  CHECK(during.scale_up_events[0].timestamp == At(0));
  CHECK(during.scale_down_events.empty());
  CHECK(h.rec.TakeChangedHistories().empty());  // nothing to persist (--persist-history)

  // paused-replicas scales, but as the operator's act, not the HPA's: the
  // policy budget is not spent by it.
  h.Annotate("hpad.io/paused", "");
  h.Annotate("hpad.io/paused-replicas", "5");
  h.Run(At(50));
  CHECK(h.DeploymentReplicas("web") == 5);
  const HpaHistory after_replicas = h.rec.HistoryFor("default/web");
  CHECK(RecommendationsText(after_replicas) == RecommendationsText(before));
  CHECK(after_replicas.scale_up_events.size() == 1);
  CHECK(h.rec.TakeChangedHistories().empty());
}

// ---------------------------------------------------------------------------
// Issue 15 (chaos soak findings): scale events (B10) are not lost to a scale
// write whose outcome is unknown, nor to a hand-over (--persist-history).

namespace {

// The real scale client, except that the next `fail_next` writes fail with
// `failure` after (apply = true) or instead of being applied: a PUT aborted
// client-side at the lease fence's deadline while the server went on.
class UnknownOutcomeScaleClient final : public ScaleClient {
 public:
  explicit UnknownOutcomeScaleClient(ScaleClient& rest) : rest_(rest) {}
  hpad::Result<ScaleReadResult> GetScale(const std::string& ns, const k8s::CrossVersionObjectReference& ref) override {
    return rest_.GetScale(ns, ref);
  }
  hpad::Result<ScaleReadResult> GetScaleFresh(const std::string& ns,
                                              const k8s::CrossVersionObjectReference& ref) override {
    fresh_reads++;
    return rest_.GetScale(ns, ref);
  }
  hpad::Status UpdateScale(const std::string& ns, const ScaleReadResult& read, int32_t replicas) override {
    if (fail_next == 0) return rest_.UpdateScale(ns, read, replicas);
    fail_next--;
    if (apply) (void)rest_.UpdateScale(ns, read, replicas);
    return failure;
  }
  int fail_next = 0;
  bool apply = false;
  hpad::Status failure{hpad::StatusCode::kTimeout, "PUT deployments/web/scale: request timed out (the lease fence's deadline)",
                       "Timeout"};
  int fresh_reads = 0;

 private:
  ScaleClient& rest_;
};

// cpu at 90% of requests against 60%: from 2 pods 3, from 3 pods 5. Scale-up
// policy: 1 pod per 60 s, no stabilisation (B2, B5).
Json OnePodPerMinuteSpec() {
  Json spec = CpuSpec(60);
  spec["behavior"] = {{"scaleUp", {{"stabilizationWindowSeconds", 0},
                                   {"policies", {{{"type", "Pods"}, {"value", 1}, {"periodSeconds", 60}}}}}}};
  return spec;
}

size_t IndexOfAction(const Harness& h, const std::string& prefix) {
  const auto actions = h.api.ActionStrings();
  for (size_t i = 0; i < actions.size(); i++)
    if (actions[i].rfind(prefix, 0) == 0) return i;
  return actions.size();
}

}  // namespace

TEST_CASE("issue 15: ScaleWriteMayHaveApplied: refusals and unsent writes are not, the rest may be",
          "[reconciler][issue15]") {
  using hpad::Status;
  using hpad::StatusCode;
  CHECK_FALSE(ScaleWriteMayHaveApplied(Status(StatusCode::kConflict, "conflict", "Conflict", 409)));
  CHECK_FALSE(ScaleWriteMayHaveApplied(Status(StatusCode::kForbidden, "forbidden", "Forbidden", 403)));
  CHECK_FALSE(ScaleWriteMayHaveApplied(Status(StatusCode::kTooManyRequests, "slow down", "TooManyRequests", 429)));
  CHECK_FALSE(ScaleWriteMayHaveApplied(Status(StatusCode::kUnavailable, "lease not held", k8s::kLeaseNotHeldReason)));
  CHECK(ScaleWriteMayHaveApplied(Status(StatusCode::kTimeout, "timed out", "Timeout")));
  CHECK(ScaleWriteMayHaveApplied(Status(StatusCode::kCancelled, "cancelled", "Cancelled")));
  CHECK(ScaleWriteMayHaveApplied(Status(StatusCode::kUnavailable, "connection reset")));
  CHECK(ScaleWriteMayHaveApplied(Status(StatusCode::kUnavailable, "etcd timeout", "InternalError", 500)));
}

TEST_CASE("issue 15: a scale write with an unknown outcome counts as a rescale until a fresh read settles it",
          "[reconciler][issue15]") {
  Harness h;
  h.PutDeployment("web", 2);
  h.AddPods(2);
  h.SetCpuUsage(2, "180m");
  h.PutHpa(OnePodPerMinuteSpec());
  UnknownOutcomeScaleClient scales(h.scales);
  HpaReconciler rec(ReconcilerOptions{}, h.hpas, h.pods, h.metrics, scales, h.api, h.events, h.selectors, h.monitor,
                    h.clock);
  auto run = [&](int t) {
    h.clock.Set(At(t));
    auto r = rec.Reconcile("default/web", At(t));
    h.Refresh();
    return r;
  };
  scales.fail_next = 1;

  SECTION("applied: the event stays and B5 counts it (before issue 15 the next reconcile scaled 3 -> 4)") {
    scales.apply = true;
    CHECK_FALSE(run(0).error.ok());  // W2 path: the write reported failure
    CHECK(h.DeploymentReplicas("web") == 3);
    CHECK(rec.HasUnconfirmedRescale("default/web"));
    REQUIRE(rec.HistoryFor("default/web").scale_up_events.size() == 1);  // conservatively, B10
    CHECK(Cond(h.Read(), "AbleToScale") == "False/FailedUpdateScale");

    // The load grows: from 3 pods the metric asks for 5. The period's start
    // is 3 - 1 = 2 (B5), so the limit is 3: no scale-up before t = 60.
    h.AddPods(3);
    h.SetCpuUsage(3, "180m");
    CHECK(run(15).error.ok());
    CHECK(scales.fresh_reads == 1);  // settled against a fresh read, not a cache
    CHECK_FALSE(rec.HasUnconfirmedRescale("default/web"));
    CHECK(h.DeploymentReplicas("web") == 3);
    CHECK(Cond(h.Read(), "ScalingLimited") == "True/ScaleUpLimit");
    REQUIRE(rec.HistoryFor("default/web").scale_up_events.size() == 1);
    CHECK(rec.HistoryFor("default/web").scale_up_events[0].timestamp == At(0));
    // After the period the budget is back: one pod more.
    CHECK(run(61).error.ok());
    CHECK(scales.fresh_reads == 1);  // nothing left to settle
    CHECK(h.DeploymentReplicas("web") == 4);
  }
  SECTION("not applied: the event goes at the fresh read, and the rescale happens") {
    scales.apply = false;
    (void)rec.TakeChangedHistories();
    CHECK_FALSE(run(0).error.ok());
    CHECK(h.DeploymentReplicas("web") == 2);
    CHECK(rec.HasUnconfirmedRescale("default/web"));
    CHECK(rec.HistoryFor("default/web").scale_up_events.size() == 1);
    CHECK(run(15).error.ok());
    CHECK(scales.fresh_reads == 1);
    CHECK_FALSE(rec.HasUnconfirmedRescale("default/web"));
    CHECK(h.DeploymentReplicas("web") == 3);  // 2 -> 3 within the limit: the phantom event was removed
    const HpaHistory after = rec.HistoryFor("default/web");
    REQUIRE(after.scale_up_events.size() == 1);
    CHECK(after.scale_up_events[0].timestamp == At(15));
    CHECK(rec.TakeChangedHistories().count("default/web") == 1);  // persisted without it
  }
  SECTION("a refusal (403) is known not applied: no event, no fresh read") {
    scales.failure = hpad::Status(hpad::StatusCode::kForbidden, "forbidden", "Forbidden", 403);
    CHECK_FALSE(run(0).error.ok());
    CHECK_FALSE(rec.HasUnconfirmedRescale("default/web"));
    CHECK(rec.HistoryFor("default/web").scale_up_events.empty());
    CHECK(run(15).error.ok());
    CHECK(scales.fresh_reads == 0);
    CHECK(h.DeploymentReplicas("web") == 3);
  }
}

TEST_CASE("issue 15: scale events are persisted before the scale write, so a successor counts them",
          "[reconciler][issue15]") {
  Harness h;
  h.PutDeployment("web", 2);
  h.AddPods(2);
  h.SetCpuUsage(2, "180m");
  h.PutHpa(OnePodPerMinuteSpec());
  HistoryStore store(h.api, "hpad-system");
  const bool write_ahead = GENERATE(true, false);
  CAPTURE(write_ahead);
  if (write_ahead) {
    h.rec.SetScaleEventWriter([&](const std::string& key, const HpaHistory& history, const PendingScaleWrite& pending) {
      return store.SaveOne(key, history, pending);
    });
  }
  CHECK(h.Run(At(0)).error.ok());
  CHECK(h.DeploymentReplicas("web") == 3);
  if (write_ahead) {
    // The event reached the store before the scale write was sent.
    CHECK(IndexOfAction(h, "create configmaps") < IndexOfAction(h, "update deployments/scale"));
  }
  // The leader dies here: no flush, no graceful save. A successor loads the
  // store and the load has grown (from 3 pods the metric asks for 5).
  HistoryStore successor_store(h.api, "hpad-system");
  std::map<std::string, PendingScaleWrite> pending;
  auto loaded = successor_store.Load({"default/web"}, &pending);
  REQUIRE(loaded.ok());
  CHECK(pending.size() == (write_ahead ? 1u : 0u));
  HpaReconciler successor(ReconcilerOptions{}, h.hpas, h.pods, h.metrics, h.scales, h.api, h.events, h.selectors,
                          h.monitor, h.clock);
  successor.RestoreHistories(std::move(*loaded), std::move(pending));
  h.AddPods(3);
  h.SetCpuUsage(3, "180m");
  h.clock.Set(At(15));
  CHECK(successor.Reconcile("default/web", At(15)).error.ok());
  h.Refresh();
  if (write_ahead) {
    CHECK(h.DeploymentReplicas("web") == 3);  // B5: start 3 - 1 = 2, limit 3 until t = 60
    CHECK(Cond(h.Read(), "ScalingLimited") == "True/ScaleUpLimit");
  } else {
    CHECK(h.DeploymentReplicas("web") == 4);  // before issue 15: the event was lost, 2 pods in 15 s
  }
}

TEST_CASE("issue 15: a write-ahead that fails blocks the rescale unless the store refuses for good",
          "[reconciler][issue15]") {
  Harness h;
  h.PutDeployment("web", 2);
  h.AddPods(2);
  h.SetCpuUsage(2, "180m");
  h.PutHpa(OnePodPerMinuteSpec());
  HistoryStore store(h.api, "hpad-system");
  h.rec.SetScaleEventWriter([&](const std::string& key, const HpaHistory& history, const PendingScaleWrite& pending) {
    return store.SaveOne(key, history, pending);
  });
  SECTION("unavailable: no scale write, W2 path, the next period tries again") {
    h.api.FailNext(1, hpad::Status(hpad::StatusCode::kUnavailable, "etcd is down", "ServiceUnavailable", 503),
                   "create", "configmaps");
    auto r = h.Run(At(0));
    CHECK_FALSE(r.error.ok());
    CHECK(ScaleWrites(h) == 0);
    CHECK(h.DeploymentReplicas("web") == 2);
    CHECK(Cond(h.Read(), "AbleToScale") == "False/FailedUpdateScale");
    REQUIRE(h.Events().size() == 1);
    CHECK(h.Events()[0].find("Warning FailedRescale New size: 3;") == 0);
    CHECK(h.Events()[0].find("its scale event could not be persisted first") != std::string::npos);
    CHECK(h.rec.HistoryFor("default/web").scale_up_events.empty());
    CHECK(h.Run(At(15)).error.ok());
    CHECK(h.DeploymentReplicas("web") == 3);
  }
  SECTION("forbidden (RBAC): the rescale goes ahead without it") {
    h.api.FailNext(1, hpad::Status(hpad::StatusCode::kForbidden, "configmaps is forbidden", "Forbidden", 403),
                   "create", "configmaps");
    CHECK(h.Run(At(0)).error.ok());
    CHECK(h.DeploymentReplicas("web") == 3);
    CHECK(h.rec.HistoryFor("default/web").scale_up_events.size() == 1);
  }
  SECTION("a legacy HPA (no behavior) stores no events (L5): no write-ahead") {
    h.PutHpa(CpuSpec(60));
    CHECK(h.Run(At(0)).error.ok());
    CHECK(h.DeploymentReplicas("web") == 3);
    CHECK(h.api.ActionsFor("create", "configmaps").empty());
  }
}

TEST_CASE("issue 15: after a write-ahead, a refused scale write's event leaves the store at the next flush, an "
          "unknown one's stays until settled",
          "[reconciler][issue15]") {
  Harness h;
  h.PutDeployment("web", 2);
  h.AddPods(2);
  h.SetCpuUsage(2, "180m");
  h.PutHpa(OnePodPerMinuteSpec());
  HistoryStore store(h.api, "hpad-system");
  UnknownOutcomeScaleClient scales(h.scales);
  HpaReconciler rec(ReconcilerOptions{}, h.hpas, h.pods, h.metrics, scales, h.api, h.events, h.selectors, h.monitor,
                    h.clock);
  rec.SetScaleEventWriter([&](const std::string& key, const HpaHistory& history, const PendingScaleWrite& pending) {
    return store.SaveOne(key, history, pending);
  });
  auto stored_up_events = [&] {
    auto cm = h.api.Object(k8s::GroupVersionResource{"", "v1", "configmaps"}, "hpad-system",
                           HistoryShardName(HistoryShardOf("default/web")));
    REQUIRE(cm);
    auto back = DecodeHistory((*cm)["data"]["default_web"].get<std::string>());
    REQUIRE(back.ok());
    return back->scale_up_events.size();
  };
  // What the daemon's history flusher does about once a second.
  auto flush = [&] {
    std::map<std::string, std::optional<HpaHistory>> changed;
    for (const auto& key : rec.TakeChangedHistories()) changed[key] = rec.HistoryFor(key);
    REQUIRE(store.Save(changed).ok());
  };
  scales.fail_next = 1;
  SECTION("refused: the lease fence closed between the history write and the scale write") {
    scales.failure = hpad::Status(hpad::StatusCode::kUnavailable, "not sent: the leader lease was not renewed in time",
                                  k8s::kLeaseNotHeldReason);
    h.clock.Set(At(0));
    CHECK_FALSE(rec.Reconcile("default/web", At(0)).error.ok());
    CHECK(h.DeploymentReplicas("web") == 2);
    CHECK_FALSE(rec.HasUnconfirmedRescale("default/web"));
    CHECK(rec.HistoryFor("default/web").scale_up_events.empty());
    CHECK(stored_up_events() == 1);  // written ahead
    flush();
    CHECK(stored_up_events() == 0);
  }
  SECTION("unknown and applied: stored ahead, kept, settled by the fresh read") {
    scales.apply = true;
    h.clock.Set(At(0));
    CHECK_FALSE(rec.Reconcile("default/web", At(0)).error.ok());
    CHECK(rec.HasUnconfirmedRescale("default/web"));
    flush();
    CHECK(stored_up_events() == 1);
    h.Refresh();
    h.clock.Set(At(15));
    CHECK(rec.Reconcile("default/web", At(15)).error.ok());
    CHECK(scales.fresh_reads == 1);
    CHECK_FALSE(rec.HasUnconfirmedRescale("default/web"));
    flush();
    CHECK(stored_up_events() == 1);
  }
}

TEST_CASE("issue 15: a successor settles the pending scale write it loads: not applied, its event goes",
          "[reconciler][issue15]") {
  Harness h;
  h.PutDeployment("web", 2);
  h.AddPods(2);
  h.SetCpuUsage(2, "180m");
  h.PutHpa(OnePodPerMinuteSpec());
  HistoryStore store(h.api, "hpad-system");
  UnknownOutcomeScaleClient scales(h.scales);
  HpaReconciler leader(ReconcilerOptions{}, h.hpas, h.pods, h.metrics, scales, h.api, h.events, h.selectors,
                       h.monitor, h.clock);
  leader.SetScaleEventWriter([&](const std::string& key, const HpaHistory& history, const PendingScaleWrite& pending) {
    return store.SaveOne(key, history, pending);
  });
  // The event is written ahead, then the lease fence closes before the
  // scale write is sent (a SIGSTOP in between, say): not applied, and the
  // leader cannot write any more (no flush removes the stored event).
  scales.fail_next = 1;
  scales.failure = hpad::Status(hpad::StatusCode::kUnavailable, "not sent: the leader lease was not renewed in time",
                                k8s::kLeaseNotHeldReason);
  h.clock.Set(At(0));
  CHECK_FALSE(leader.Reconcile("default/web", At(0)).error.ok());
  h.Refresh();
  CHECK(h.DeploymentReplicas("web") == 2);

  HistoryStore successor_store(h.api, "hpad-system");
  std::map<std::string, PendingScaleWrite> pending;
  auto loaded = successor_store.Load({"default/web"}, &pending);
  REQUIRE(loaded.ok());
  REQUIRE(loaded->at("default/web").scale_up_events.size() == 1);  // the event that did not happen
  REQUIRE(pending.count("default/web") == 1);
  CHECK(pending.at("default/web").from == 2);
  CHECK(pending.at("default/web").to == 3);
  CHECK(pending.at("default/web").at == At(0));
  UnknownOutcomeScaleClient successor_scales(h.scales);
  HpaReconciler successor(ReconcilerOptions{}, h.hpas, h.pods, h.metrics, successor_scales, h.api, h.events,
                          h.selectors, h.monitor, h.clock);
  successor.RestoreHistories(std::move(*loaded), std::move(pending));
  CHECK(successor.HasUnconfirmedRescale("default/web"));
  h.clock.Set(At(15));
  CHECK(successor.Reconcile("default/web", At(15)).error.ok());
  h.Refresh();
  CHECK(successor_scales.fresh_reads == 1);
  // The scale still reads 2: the event is removed, and the rescale the
  // policy allows (2 -> 3) happens. Counting the phantom would have held it.
  CHECK(h.DeploymentReplicas("web") == 3);
  const HpaHistory after = successor.HistoryFor("default/web");
  REQUIRE(after.scale_up_events.size() == 1);
  CHECK(after.scale_up_events[0].timestamp == At(15));
}

TEST_CASE("Issue 16: kept traces hold pod tables for the most recent and asked-about HPAs only", "[reconciler]") {
  ReconcilerOptions opts;
  opts.keep_traces = true;
  opts.trace_pod_tables = 1;
  Harness h(opts);
  h.PutDeployment("web", 2);
  h.AddPods(2);
  h.SetCpuUsage(2, "120m");
  h.api.Put(k8s::resources::kDeployments,
            Json{{"apiVersion", "apps/v1"},
                 {"kind", "Deployment"},
                 {"metadata", {{"name", "api"}, {"namespace", "default"}}},
                 {"spec", {{"replicas", 2}, {"selector", {{"matchLabels", {{"app", "api"}}}}}}},
                 {"status", {{"replicas", 2}}}});
  Json api_items = Json::array();
  for (int i = 0; i < 2; i++) {
    PodSpec s;
    s.name = "api-" + std::to_string(i);
    s.labels = {{"app", "api"}};
    s.requests = {{"cpu", 200}};
    h.pods.Upsert(MakePod(s));
    api_items.push_back({{"metadata", {{"name", s.name}, {"namespace", "default"}, {"labels", {{"app", "api"}}}}},
                         {"timestamp", k8s::FormatRfc3339(T0())},
                         {"window", "60s"},
                         {"containers", {{{"name", "app"}, {"usage", {{"cpu", "120m"}}}}}}});
  }
  h.api.SetPathResponse(RestMetricsClient::ResourceMetricsPath("default", *k8s::Selector::Parse("app=api")),
                        Json{{"kind", "PodMetricsList"}, {"items", api_items}});
  h.PutHpa(CpuSpec(60));
  h.PutHpa(CpuSpec(60, 1, 10, "api"), "api");

  REQUIRE(h.Run(T0()).error.ok());
  auto web = h.rec.TraceFor("default/web");
  REQUIRE(web);
  REQUIRE(web->metrics.size() == 1);
  CHECK(web->metrics[0].pods.size() == 2);
  CHECK_FALSE(web->pod_tables_omitted);
  REQUIRE(h.Run(T0(), "api").error.ok());
  auto api = h.rec.TraceFor("default/api");
  REQUIRE(api);
  CHECK(api->metrics[0].pods.size() == 2);
  // web's table is dropped (bound 1); the rest of its trace stays.
  web = h.rec.TraceFor("default/web");
  REQUIRE(web);
  CHECK(web->pod_tables_omitted);
  CHECK(web->metrics[0].pods.empty());
  CHECK(web->metrics[0].ok);
  CHECK(web->desired_replicas == 2);
  CHECK(h.rec.Traces().size() == 2);
  // Asked about: its next trace keeps the table, past newer reconciles.
  h.rec.AskPodTables("default/web");
  REQUIRE(h.Run(T0() + std::chrono::seconds(15)).error.ok());
  REQUIRE(h.Run(T0() + std::chrono::seconds(15), "api").error.ok());
  web = h.rec.TraceFor("default/web");
  REQUIRE(web);
  CHECK_FALSE(web->pod_tables_omitted);
  CHECK(web->metrics[0].pods.size() == 2);
  CHECK(h.rec.TraceFor("default/api")->metrics[0].pods.size() == 2);  // the most recent
  h.rec.DropHistory("default/web");
  CHECK(h.rec.TraceFor("default/web") == nullptr);
}
