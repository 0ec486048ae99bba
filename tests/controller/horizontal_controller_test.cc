// ParseControllerOptions (13.2/13.3), status bookkeeping (W3-W5, 12.4) and
// HorizontalController built by ControllerWiring over FakeApiClient: the
// per-key ReconcileKey as the simulator's driver calls it, and Run (Q2-Q5, H1).
#include <catch2/catch.hpp>

#include <algorithm>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

#include "controller/horizontal_controller.h"
#include "controller/wiring.h"
#include "controller/core/hpa_status.h"
#include "k8sclient/api/time_format.h"
#include "tests/controller/controller_test_util.h"
#include "tests/fakes/fake_api_client.h"

using namespace hpad::ctrl;
using namespace hpad::ctrl::testing;
using hpad::Time;
namespace k8s = hpad::k8s;
using Json = nlohmann::json;

TEST_CASE("13.2 ParseControllerOptions", "[options]") {
  SECTION("defaults") {
    auto o = ParseControllerOptions({});
    REQUIRE(o.ok());
    CHECK(o->sync_period == std::chrono::seconds(15));
    CHECK(o->tolerance == 0.1);
    CHECK(o->concurrent_syncs == 5);
    CHECK(o->GateEnabled("HPAConfigurableTolerance"));
    CHECK(o->GateEnabled("HPAGeneration"));
    CHECK_FALSE(o->GateEnabled("HPAScaleToZero"));
  }
  SECTION("every flag") {
    auto o = ParseControllerOptions({{"horizontal-pod-autoscaler-sync-period", "30s"},
                                     {"horizontal-pod-autoscaler-tolerance", "0.2"},
                                     {"horizontal-pod-autoscaler-cpu-initialization-period", "2m"},
                                     {"horizontal-pod-autoscaler-initial-readiness-delay", "10s"},
                                     {"horizontal-pod-autoscaler-downscale-stabilization", "1m30s"},
                                     {"concurrent-horizontal-pod-autoscaler-syncs", "3"},
                                     {"horizontal-pod-autoscaler-upscale-delay", "3m"},
                                     {"--horizontal-pod-autoscaler-downscale-delay", "5m"},
                                     {"feature-gates", "HPAScaleToZero=true, HPAGeneration=false"}});
    REQUIRE(o.ok());
    CHECK(o->sync_period == std::chrono::seconds(30));
    CHECK(o->tolerance == 0.2);
    CHECK(o->cpu_initialization_period == std::chrono::minutes(2));
    CHECK(o->initial_readiness_delay == std::chrono::seconds(10));
    CHECK(o->downscale_stabilization == std::chrono::seconds(90));
    CHECK(o->concurrent_syncs == 3);
    CHECK(o->GateEnabled("HPAScaleToZero"));
    CHECK_FALSE(o->GateEnabled("HPAGeneration"));
  }
  SECTION("errors name the flag") {
    auto unknown = ParseControllerOptions({{"horizontal-pod-autoscaler-foo", "1"}});
    REQUIRE_FALSE(unknown.ok());
    CHECK(unknown.status().message().find("horizontal-pod-autoscaler-foo") != std::string::npos);
    auto bad = ParseControllerOptions({{"horizontal-pod-autoscaler-sync-period", "soon"}});
    REQUIRE_FALSE(bad.ok());
    CHECK(bad.status().message().find("horizontal-pod-autoscaler-sync-period") != std::string::npos);
    auto gate = ParseControllerOptions({{"feature-gates", "HPAScaleToZero=maybe"}});
    REQUIRE_FALSE(gate.ok());
    CHECK(gate.status().message().find("feature-gates") != std::string::npos);
    CHECK_FALSE(ParseControllerOptions({{"concurrent-horizontal-pod-autoscaler-syncs", "0"}}).ok());
    CHECK_FALSE(ParseControllerOptions({{"horizontal-pod-autoscaler-tolerance", "x"}}).ok());
    // issue 11 item 10: KCM does not validate the tolerance (pflag Float64Var):
    // anything strconv.ParseFloat reads is accepted, negative values too.
    for (const std::string v : {"-0.1", "0", "1e-2", "2.5"}) {
      auto t = ParseControllerOptions({{"horizontal-pod-autoscaler-tolerance", v}});
      REQUIRE(t.ok());
      CHECK(t->tolerance == Approx(std::stod(v)));
    }
    CHECK_FALSE(ParseControllerOptions({{"horizontal-pod-autoscaler-tolerance", ""}}).ok());
    CHECK_FALSE(ParseControllerOptions({{"horizontal-pod-autoscaler-tolerance", " 0.1"}}).ok());
  }
}

TEST_CASE("W5 condition bookkeeping", "[status]") {
  std::vector<k8s::HpaCondition> cs;
  SetCondition(cs, "AbleToScale", "True", "SucceededGetScale", "m1", At(0));
  SetCondition(cs, "ScalingActive", "True", "ValidMetricFound", "m2", At(0));
  SetCondition(cs, "AbleToScale", "True", "ReadyForNewScale", "m3", At(15));
  REQUIRE(cs.size() == 2);
  CHECK(cs[0].type == "AbleToScale");
  CHECK(cs[0].reason == "ReadyForNewScale");
  CHECK(cs[0].message == "m3");
  CHECK(*cs[0].last_transition_time == At(0));  // same status: time kept
  SetCondition(cs, "AbleToScale", "False", "FailedGetScale", "m4", At(30));
  CHECK(*cs[0].last_transition_time == At(30));  // flip
  CHECK(cs[0].type == "AbleToScale");            // replaced in place
  RemoveCondition(cs, "AbleToScale");
  CHECK(cs.size() == 1);
}

TEST_CASE("W3 BuildStatus and W4 change detection", "[status]") {
  k8s::HpaStatus prev;
  prev.last_scale_time = At(0);
  prev.desired_replicas = 3;
  SetCondition(prev.conditions, "AbleToScale", "True", "ReadyForNewScale", "m", At(0));
  k8s::HpaStatus kept = BuildStatus(prev, 3, 3, {}, false, 7, At(60));
  CHECK(*kept.last_scale_time == At(0));
  CHECK(*kept.observed_generation == 7);
  CHECK(kept.conditions.size() == 1);
  k8s::HpaStatus scaled = BuildStatus(prev, 3, 5, {}, true, std::nullopt, At(60));
  CHECK(*scaled.last_scale_time == At(60));
  CHECK_FALSE(scaled.observed_generation);
  CHECK(StatusChanged(prev, scaled));
  k8s::HpaStatus same = prev;
  CHECK_FALSE(StatusChanged(prev, same));
}

TEST_CASE("12.4 descriptions and Go renderings", "[status]") {
  CHECK(ResourceUtilizationDescription("cpu", false) == "cpu resource utilization (percentage of request)");
  CHECK(ResourceUtilizationDescription("memory", true) == "memory container resource utilization (percentage of request)");
  CHECK(ResourceValueDescription("memory") == "memory resource");
  CHECK(PodsMetricDescription("rps") == "pods metric rps");
  CHECK(ObjectValueDescription("Ingress", "hits") == "Ingress metric hits");
  CHECK(GoLabelSelectorString(nullptr) == "nil");
  Json sel = {{"matchLabels", {{"b", "2"}, {"a", "1"}}},
              {"matchExpressions", {{{"key", "k"}, {"operator", "In"}, {"values", {"x", "y"}}}}}};
  CHECK(GoLabelSelectorString(sel) ==
        "&LabelSelector{MatchLabels:map[string]string{a: 1,b: 2,},MatchExpressions:[]LabelSelectorRequirement{"
        "LabelSelectorRequirement{Key:k,Operator:In,Values:[x y],},},}");
  CHECK(GoKeyList({"ns/a", "ns/b"}) == "[ns/a ns/b]");
}

namespace {

void SeedCluster(k8s::testing::FakeApiClient& api, int replicas, const std::string& usage) {
  api.Put(k8s::resources::kDeployments,
          Json{{"apiVersion", "apps/v1"},
               {"kind", "Deployment"},
               {"metadata", {{"name", "web"}, {"namespace", "default"}}},
               {"spec", {{"replicas", replicas}, {"selector", {{"matchLabels", {{"app", "web"}}}}}}},
               {"status", {{"replicas", replicas}}}});
  Json items = Json::array();
  for (int i = 0; i < replicas; i++) {
    std::string name = "web-" + std::to_string(i);
    api.Put(k8s::resources::kPods,
            Json{{"apiVersion", "v1"},
                 {"kind", "Pod"},
                 {"metadata", {{"name", name}, {"namespace", "default"}, {"labels", {{"app", "web"}}}}},
                 {"spec", {{"containers", {{{"name", "app"}, {"resources", {{"requests", {{"cpu", "200m"}}}}}}}}}},
                 {"status",
                  {{"phase", "Running"},
                   {"startTime", "2025-12-31T23:00:00Z"},
                   {"conditions", {{{"type", "Ready"}, {"status", "True"},
                                    {"lastTransitionTime", "2025-12-31T23:00:20Z"}}}}}}});
    items.push_back({{"metadata", {{"name", name}, {"namespace", "default"}, {"labels", {{"app", "web"}}}}},
                     {"timestamp", "2026-01-01T00:00:00Z"},
                     {"window", "60s"},
                     {"containers", {{{"name", "app"}, {"usage", {{"cpu", usage}}}}}}});
  }
  // The controller lists the namespace's metrics once (MetricsCache), without a selector.
  api.SetPathResponse("/apis/metrics.k8s.io/v1beta1/namespaces/default/pods", Json{{"items", items}});
  api.Put(k8s::resources::kHpaV2,
          Json{{"apiVersion", "autoscaling/v2"},
               {"kind", "HorizontalPodAutoscaler"},
               {"metadata", {{"name", "web"}, {"namespace", "default"}}},
               {"spec",
                {{"scaleTargetRef", {{"apiVersion", "apps/v1"}, {"kind", "Deployment"}, {"name", "web"}}},
                 {"minReplicas", 1},
                 {"maxReplicas", 10},
                 {"metrics",
                  {{{"type", "Resource"},
                    {"resource",
                     {{"name", "cpu"}, {"target", {{"type", "Utilization"}, {"averageUtilization", 60}}}}}}}}}}});
}

// The controller driven as the simulator's driver does: no work queue.
ControllerOptions DrivenOptions() {
  ControllerOptions o = *ParseControllerOptions({});
  o.work_queue = false;
  return o;
}

// Relist, then reconcile every HPA in the cache once, at the clock's now.
void SyncAll(ControllerWiring& wiring, const hpad::Clock& clock) {
  REQUIRE(wiring.Relist().ok());
  const auto keys = wiring.hpa_informer().Store().Keys();
  const std::set<std::string> sorted(keys.begin(), keys.end());
  for (const auto& key : sorted) wiring.controller().ReconcileKey(key, clock.Now());
  wiring.FlushEvents();
}

int Replicas(k8s::testing::FakeApiClient& api) {
  return (*api.Object(k8s::resources::kDeployments, "default", "web"))["spec"]["replicas"].get<int>();
}

}  // namespace

TEST_CASE("ReconcileKey reconciles an HPA against the server state", "[controller]") {
  hpad::SimulatedClock clock(T0());
  auto api = std::make_shared<k8s::testing::FakeApiClient>(&clock);
  SeedCluster(*api, 2, "180m");
  NullMonitor monitor;
  ControllerWiring wiring(DrivenOptions(), api, monitor, clock);
  HorizontalController& c = wiring.controller();
  std::vector<ReconcileReport> reports;
  c.SetObserver([&](const ReconcileReport& r) { reports.push_back(r); });
  SyncAll(wiring, clock);
  CHECK(Replicas(*api) == 3);
  REQUIRE(reports.size() == 1);
  CHECK(reports[0].key == "default/web");
  CHECK(reports[0].action == ActionLabel::kScaleUp);
  CHECK(reports[0].desired_replicas == 3);
  CHECK(c.NumHpas() == 1);
  // The event went through the ApiEventRecorder into core/v1 Events.
  auto events = api->Objects(k8s::resources::kEvents, "default");
  REQUIRE(events.size() == 1);
  CHECK(events[0]["reason"] == "SuccessfulRescale");
  CHECK(events[0]["source"]["component"] == "horizontal-pod-autoscaler");

  // Q5/H1: deleting the HPA drops its slot and, when its key is reconciled
  // again, its history.
  api->Remove(k8s::resources::kHpaV2, "default", "web");
  clock.Advance(std::chrono::seconds(15));
  REQUIRE(wiring.Relist().ok());
  CHECK(c.NumHpas() == 0);
  CHECK(c.ReconcileKey("default/web", clock.Now()).deleted);
  REQUIRE(reports.size() == 2);
  CHECK(reports[1].deleted);
}

namespace {

Json HpaObject(const std::string& name, const std::string& target = "web") {
  return Json{{"apiVersion", "autoscaling/v2"},
              {"kind", "HorizontalPodAutoscaler"},
              {"metadata", {{"name", name}, {"namespace", "default"}}},
              {"spec",
               {{"scaleTargetRef", {{"apiVersion", "apps/v1"}, {"kind", "Deployment"}, {"name", target}}},
                {"minReplicas", 1},
                {"maxReplicas", 10},
                {"metrics",
                 {{{"type", "Resource"},
                   {"resource",
                    {{"name", "cpu"}, {"target", {{"type", "Utilization"}, {"averageUtilization", 60}}}}}}}}}}};
}

void PutApiDeployment(k8s::testing::FakeApiClient& api) {
  api.Put(k8s::resources::kDeployments,
          Json{{"apiVersion", "apps/v1"},
               {"kind", "Deployment"},
               {"metadata", {{"name", "api"}, {"namespace", "default"}}},
               {"spec", {{"replicas", 1}, {"selector", {{"matchLabels", {{"app", "api"}}}}}}},
               {"status", {{"replicas", 1}}}});
}

size_t MetricsFetches(k8s::testing::FakeApiClient& api) {
  size_t n = 0;
  for (const auto& a : api.ActionsFor("getpath"))
    if (a.name.find("/apis/metrics.k8s.io/") == 0) n++;
  return n;
}

}  // namespace

TEST_CASE("ControllerWiring: the HPAs of a namespace share one metrics fetch per pass (issue 5)", "[controller]") {
  hpad::SimulatedClock clock(T0());
  auto api = std::make_shared<k8s::testing::FakeApiClient>(&clock);
  SeedCluster(*api, 3, "120m");
  // A second HPA on a second Deployment.
  PutApiDeployment(*api);
  api->Put(k8s::resources::kHpaV2, HpaObject("api", "api"));
  NullMonitor monitor;
  ControllerWiring wiring(DrivenOptions(), api, monitor, clock);
  std::map<std::string, ReconcileReport> reports;
  wiring.controller().SetObserver([&](const ReconcileReport& r) { reports[r.key] = r; });
  SyncAll(wiring, clock);
  CHECK(MetricsFetches(*api) == 1);
  CHECK(reports.at("default/web").error.empty());
  CHECK(reports.at("default/web").desired_replicas == 3);
  // No metrics carry app=api: the api HPA's own filtered view is empty, as
  // the API's answer to its selector would be (M1).
  CHECK(reports.at("default/api").error.find("no metrics returned from resource metrics API") != std::string::npos);
  // Every pass (ticks and prompt Q3/Q4 passes alike) fetches afresh, once.
  SyncAll(wiring, clock);
  CHECK(MetricsFetches(*api) == 2);
  clock.Advance(std::chrono::seconds(15));
  SyncAll(wiring, clock);
  CHECK(MetricsFetches(*api) == 3);
  // The runner reads scales with GET (scale_from_cache is off by default).
  CHECK(api->ActionsFor("get", "deployments").size() == 6);
  CHECK(api->ActionsFor("list", "deployments").empty());
}

TEST_CASE("Run: start-up HPAs spread over the first period, new ones at once, every period after (Q2, Q3)",
          "[controller]") {
  hpad::SimulatedClock clock(T0());
  auto api = std::make_shared<k8s::testing::FakeApiClient>(&clock);
  SeedCluster(*api, 3, "120m");  // 60% of 60%: steady
  NullMonitor monitor;
  ControllerWiring wiring(*ParseControllerOptions({}), api, monitor, clock);
  HorizontalController& c = wiring.controller();
  std::mutex mu;
  std::condition_variable cv;
  std::map<std::string, int> reconciles;
  std::map<std::string, std::vector<hpad::Time>> reconciled_at;
  c.SetObserver([&](const ReconcileReport& r) {
    std::lock_guard<std::mutex> l(mu);
    reconciles[r.key]++;
    reconciled_at[r.key].push_back(clock.Now());
    cv.notify_all();
  });
  REQUIRE(wiring.StartWatching().ok());
  std::thread runner([&] { c.Run(); });
  auto wait_for = [&](const std::string& key, int n) {
    std::unique_lock<std::mutex> l(mu);
    return cv.wait_for(l, std::chrono::seconds(10), [&] { return reconciles[key] >= n; });
  };
  // Listed at start-up: queued with a delay below one period, not at once.
  clock.Advance(std::chrono::seconds(15) - std::chrono::nanoseconds(1));
  CHECK(wait_for("default/web", 1));
  // Q3: an HPA created after start-up is queued at once (the clock stays put).
  PutApiDeployment(*api);
  api->Put(k8s::resources::kHpaV2, HpaObject("late", "api"));
  CHECK(wait_for("default/late", 1));
  // Q2: both come back one period after their last pass. The observer runs
  // inside the reconcile, just before the worker re-adds the key, so move
  // the clock in 1 s steps (a re-add that lands after a step is due one step
  // later) and check the recorded virtual times instead of one big jump.
  auto both_twice = [&] {
    std::lock_guard<std::mutex> l(mu);
    return reconciles["default/web"] >= 2 && reconciles["default/late"] >= 2;
  };
  for (int step = 0; step < 20 && !both_twice(); ++step) {
    clock.Advance(std::chrono::seconds(1));
    std::unique_lock<std::mutex> l(mu);
    cv.wait_for(l, std::chrono::milliseconds(100),
                [&] { return reconciles["default/web"] >= 2 && reconciles["default/late"] >= 2; });
  }
  CHECK(wait_for("default/web", 2));
  CHECK(wait_for("default/late", 2));
  {
    std::lock_guard<std::mutex> l(mu);
    for (const char* key : {"default/web", "default/late"}) {
      INFO(key);
      REQUIRE(reconciled_at[key].size() >= 2);
      auto gap = reconciled_at[key][1] - reconciled_at[key][0];
      CHECK(gap >= std::chrono::seconds(15));
      CHECK(gap <= std::chrono::seconds(17));
    }
  }
  c.Stop();
  runner.join();
}

TEST_CASE("Run with scale_from_cache: apps/v1 scales come from the watch, writes still PUT the scale", "[controller]") {
  hpad::SimulatedClock clock(T0());
  auto api = std::make_shared<k8s::testing::FakeApiClient>(&clock);
  SeedCluster(*api, 2, "180m");  // 90% of 60%: scale to 3
  ControllerOptions o = *ParseControllerOptions({});
  o.scale_from_cache = true;
  NullMonitor monitor;
  ControllerWiring wiring(o, api, monitor, clock);
  HorizontalController& c = wiring.controller();
  std::mutex mu;
  std::condition_variable cv;
  std::vector<ReconcileReport> reports;
  c.SetObserver([&](const ReconcileReport& r) {
    std::lock_guard<std::mutex> l(mu);
    reports.push_back(r);
    cv.notify_all();
  });
  REQUIRE(wiring.StartWatching().ok());
  // The workload informers list then watch; wait for their watches before the first pass.
  REQUIRE(api->WaitForWatchesOpened(k8s::resources::kDeployments, 1));
  REQUIRE(api->WaitForWatchesOpened(k8s::resources::kStatefulSets, 1));
  REQUIRE(api->WaitForWatchesOpened(k8s::resources::kReplicaSets, 1));
  std::thread runner([&] { c.Run(); });
  clock.Advance(std::chrono::seconds(15));
  {
    std::unique_lock<std::mutex> l(mu);
    REQUIRE(cv.wait_for(l, std::chrono::seconds(10), [&] { return !reports.empty(); }));
  }
  c.Stop();
  runner.join();
  CHECK(reports[0].action == ActionLabel::kScaleUp);
  CHECK(reports[0].desired_replicas == 3);
  CHECK(Replicas(*api) == 3);
  std::vector<std::string> scale_calls;
  for (const auto& a : api->Actions())
    if (a.subresource == "scale") scale_calls.push_back(a.ToString());
  CHECK(scale_calls == std::vector<std::string>{"update deployments/scale default/web"});
}

TEST_CASE("issue 11 item 8: an HPA deleted and re-created before its key fires keeps its history (Q5, H1)",
          "[controller]") {
  hpad::SimulatedClock clock(T0());
  auto api = std::make_shared<k8s::testing::FakeApiClient>(&clock);
  SeedCluster(*api, 2, "600m");  // 300% of 200m vs 60%: ceil(3 * 2) = 6 wanted
  Json hpa = HpaObject("web");
  hpa["spec"]["behavior"] = {
      {"scaleUp",
       {{"stabilizationWindowSeconds", 0},
        {"policies", {{{"type", "Pods"}, {"value", 1}, {"periodSeconds", 60}}}}}}};
  api->Put(k8s::resources::kHpaV2, hpa);
  NullMonitor monitor;
  ControllerWiring wiring(DrivenOptions(), api, monitor, clock);
  SyncAll(wiring, clock);
  CHECK(Replicas(*api) == 3);  // B: Pods 1 per 60 s allows 2 -> 3

  // Deleted, seen deleted, and re-created under the same name before its key
  // is reconciled again: upstream only forgets the key on delete and drops
  // the history when a reconcile finds no HPA, so the scale-up of 15 s ago
  // still counts against the policy.
  api->Remove(k8s::resources::kHpaV2, "default", "web");
  REQUIRE(wiring.Relist().ok());
  CHECK(wiring.controller().NumHpas() == 0);
  api->Put(k8s::resources::kHpaV2, hpa);
  clock.Advance(std::chrono::seconds(15));
  SyncAll(wiring, clock);
  CHECK(Replicas(*api) == 3);

  // Once the period has passed, the next step is allowed.
  clock.Advance(std::chrono::seconds(46));
  SyncAll(wiring, clock);
  CHECK(Replicas(*api) == 4);
}

namespace {

// Forwards to a FakeApiClient and logs every write with the priority it
// was made at: "<fg|bg> <verb> <resource>[/<subresource>]".
class PriorityLoggingApi final : public k8s::ApiClient {
 public:
  explicit PriorityLoggingApi(std::shared_ptr<k8s::testing::FakeApiClient> inner)
      : inner_(std::move(inner)), background_(*this) {}
  hpad::Result<Json> Get(const k8s::ObjectKey& k) override { return inner_->Get(k); }
  hpad::Result<Json> List(const k8s::GroupVersionResource& g, const std::string& ns,
                          const k8s::ListOptions& o) override {
    return inner_->List(g, ns, o);
  }
  hpad::Result<std::unique_ptr<k8s::WatchStream>> Watch(const k8s::GroupVersionResource& g, const std::string& ns,
                                                        const k8s::ListOptions& o) override {
    return inner_->Watch(g, ns, o);
  }
  hpad::Result<Json> Create(const k8s::GroupVersionResource& g, const std::string& ns, const Json& obj) override {
    return Write("fg", "create", g.resource, [&] { return inner_->Create(g, ns, obj); });
  }
  hpad::Result<Json> Update(const k8s::ObjectKey& k, const Json& obj) override {
    return Write("fg", "update", Resource(k), [&] { return inner_->Update(k, obj); });
  }
  hpad::Result<Json> Patch(const k8s::ObjectKey& k, k8s::PatchType t, const std::string& b) override {
    return Write("fg", "patch", Resource(k), [&] { return inner_->Patch(k, t, b); });
  }
  hpad::Status Delete(const k8s::ObjectKey& k) override {
    Log("fg delete " + Resource(k));
    return inner_->Delete(k);
  }
  hpad::Result<Json> GetPath(const std::string& p) override { return inner_->GetPath(p); }
  k8s::ApiClient& Background() override { return background_; }

  std::vector<std::string> Writes() const {
    std::lock_guard<std::mutex> l(mu_);
    return writes_;
  }

 private:
  class BackgroundView final : public k8s::ApiClient {
   public:
    explicit BackgroundView(PriorityLoggingApi& owner) : o_(owner) {}
    hpad::Result<Json> Get(const k8s::ObjectKey& k) override { return o_.inner_->Get(k); }
    hpad::Result<Json> List(const k8s::GroupVersionResource& g, const std::string& ns,
                            const k8s::ListOptions& opts) override {
      return o_.inner_->List(g, ns, opts);
    }
    hpad::Result<std::unique_ptr<k8s::WatchStream>> Watch(const k8s::GroupVersionResource& g, const std::string& ns,
                                                          const k8s::ListOptions& opts) override {
      return o_.inner_->Watch(g, ns, opts);
    }
    hpad::Result<Json> Create(const k8s::GroupVersionResource& g, const std::string& ns, const Json& obj) override {
      return o_.Write("bg", "create", g.resource, [&] { return o_.inner_->Create(g, ns, obj); });
    }
    hpad::Result<Json> Update(const k8s::ObjectKey& k, const Json& obj) override {
      return o_.Write("bg", "update", Resource(k), [&] { return o_.inner_->Update(k, obj); });
    }
    hpad::Result<Json> Patch(const k8s::ObjectKey& k, k8s::PatchType t, const std::string& b) override {
      return o_.Write("bg", "patch", Resource(k), [&] { return o_.inner_->Patch(k, t, b); });
    }
    hpad::Status Delete(const k8s::ObjectKey& k) override {
      o_.Log("bg delete " + Resource(k));
      return o_.inner_->Delete(k);
    }
    hpad::Result<Json> GetPath(const std::string& p) override { return o_.inner_->GetPath(p); }
    k8s::ApiClient& Background() override { return *this; }

   private:
    PriorityLoggingApi& o_;
  };

  static std::string Resource(const k8s::ObjectKey& k) {
    return k.gvr.resource + (k.subresource.empty() ? "" : "/" + k.subresource);
  }
  void Log(std::string line) {
    std::lock_guard<std::mutex> l(mu_);
    writes_.push_back(std::move(line));
  }
  template <typename Fn>
  hpad::Result<Json> Write(const char* priority, const char* verb, const std::string& resource, Fn fn) {
    Log(std::string(priority) + " " + verb + " " + resource);
    return fn();
  }

  std::shared_ptr<k8s::testing::FakeApiClient> inner_;
  BackgroundView background_;
  mutable std::mutex mu_;
  std::vector<std::string> writes_;
};

}  // namespace

TEST_CASE("ControllerWiring: events are written at background priority, scale and status in the foreground "
          "(issue 15 item 3, divergence 24)",
          "[controller][priority]") {
  // What makes the starvation test of tests/k8sclient/event_recorder_test.cc
  // hold in the daemon: only the event recorder uses ApiClient::Background(),
  // so on RestApiClient event writes keep half the burst free for the
  // controller's scale and status writes, which never wait behind them.
  hpad::SimulatedClock clock(T0());
  auto fake = std::make_shared<k8s::testing::FakeApiClient>(&clock);
  SeedCluster(*fake, 2, "180m");
  auto api = std::make_shared<PriorityLoggingApi>(fake);
  NullMonitor monitor;
  ControllerWiring wiring(DrivenOptions(), api, monitor, clock);
  SyncAll(wiring, clock);  // 2 -> 3: scale, status, SuccessfulRescale
  REQUIRE(Replicas(*fake) == 3);
  const auto writes = api->Writes();
  CAPTURE(writes);
  auto has = [&](const std::string& w) { return std::find(writes.begin(), writes.end(), w) != writes.end(); };
  CHECK(has("fg update deployments/scale"));
  CHECK(has("fg update horizontalpodautoscalers/status"));
  CHECK(has("bg create events"));
  for (const auto& w : writes) {
    CAPTURE(w);
    const bool event = w.find(" events") != std::string::npos;
    CHECK(event == (w.rfind("bg ", 0) == 0));  // events and only events in the background
  }
}

namespace {

constexpr const char* kMetricsPath = "/apis/metrics.k8s.io/v1beta1/namespaces/default/pods";

// App `name`: a Deployment with `replicas` ready pods (200m cpu requested
// each) and an HPA on 60% cpu utilization, minReplicas 1.
void SeedApp(k8s::testing::FakeApiClient& api, const std::string& name, int replicas) {
  api.Put(k8s::resources::kDeployments,
          Json{{"apiVersion", "apps/v1"},
               {"kind", "Deployment"},
               {"metadata", {{"name", name}, {"namespace", "default"}}},
               {"spec", {{"replicas", replicas}, {"selector", {{"matchLabels", {{"app", name}}}}}}},
               {"status", {{"replicas", replicas}}}});
  for (int i = 0; i < replicas; i++) {
    api.Put(k8s::resources::kPods,
            Json{{"apiVersion", "v1"},
                 {"kind", "Pod"},
                 {"metadata", {{"name", name + "-" + std::to_string(i)}, {"namespace", "default"}, {"labels", {{"app", name}}}}},
                 {"spec", {{"containers", {{{"name", "app"}, {"resources", {{"requests", {{"cpu", "200m"}}}}}}}}}},
                 {"status",
                  {{"phase", "Running"},
                   {"startTime", "2025-12-31T23:00:00Z"},
                   {"conditions", {{{"type", "Ready"}, {"status", "True"},
                                    {"lastTransitionTime", "2025-12-31T23:00:20Z"}}}}}}});
  }
  Json hpa = HpaObject(name, name);
  api.Put(k8s::resources::kHpaV2, hpa);
}

// The namespace's PodMetrics: every pod of apps app-0..app-{n-1} (4 pods each) at `usage`.
Json PodMetricsList(int apps, const std::string& usage, Time now) {
  Json items = Json::array();
  for (int a = 0; a < apps; a++) {
    for (int i = 0; i < 4; i++) {
      const std::string app = "app-" + std::to_string(a);
      items.push_back({{"metadata", {{"name", app + "-" + std::to_string(i)}, {"namespace", "default"}, {"labels", {{"app", app}}}}},
                       {"timestamp", k8s::FormatRfc3339(now)},
                       {"window", "60s"},
                       {"containers", {{{"name", "app"}, {"usage", {{"cpu", usage}}}}}}});
    }
  }
  return Json{{"items", items}};
}

int Replicas(k8s::testing::FakeApiClient& api, const std::string& name) {
  return (*api.Object(k8s::resources::kDeployments, "default", name))["spec"]["replicas"].get<int>();
}

std::string ScalingActive(k8s::testing::FakeApiClient& api, const std::string& name) {
  auto hpa = api.Object(k8s::resources::kHpaV2, "default", name);
  if (!hpa) return "missing";
  for (const auto& c : (*hpa)["status"].value("conditions", Json::array()))
    if (c.value("type", "") == "ScalingActive") return c.value("status", "") + " " + c.value("reason", "");
  return "none";
}

}  // namespace

TEST_CASE("a 6-minute metrics outage over 10 HPAs: no scale-down, the reason in status and events, "
          "each acts on the first good pass (issue 15 item 3, X1, X3, X4, E1)",
          "[controller][outage]") {
  constexpr int kApps = 10;
  hpad::SimulatedClock clock(T0());
  auto api = std::make_shared<k8s::testing::FakeApiClient>(&clock);
  for (int a = 0; a < kApps; a++) SeedApp(*api, "app-" + std::to_string(a), 4);
  api->SetPathResponse(kMetricsPath, PodMetricsList(kApps, "120m", clock.Now()));  // 60%: at target
  NullMonitor monitor;
  ControllerWiring wiring(DrivenOptions(), api, monitor, clock);
  SyncAll(wiring, clock);
  auto scale_writes = [&] { return api->ActionsFor("update", "deployments").size(); };
  auto status_writes = [&] { return api->ActionsFor("update", "horizontalpodautoscalers").size(); };
  REQUIRE(scale_writes() == 0);
  for (int a = 0; a < kApps; a++) CHECK(ScalingActive(*api, "app-" + std::to_string(a)) == "True ValidMetricFound");

  // The metrics API goes down while the load falls to 15% (would be 4 -> 1).
  const size_t status_before = status_writes();
  api->SetPathResponse(kMetricsPath, hpad::UnavailableError("the server is currently unable to handle the request"));
  for (int pass = 1; pass <= 24; pass++) {  // every 15 s for 6 minutes
    clock.Advance(std::chrono::seconds(15));
    SyncAll(wiring, clock);
  }
  CHECK(scale_writes() == 0);  // X3: no scale-down without metrics
  // W5: each HPA's status is written once, when ScalingActive flips; the
  // repeats change nothing.
  CHECK(status_writes() - status_before == static_cast<size_t>(kApps));
  for (int a = 0; a < kApps; a++) {
    const std::string name = "app-" + std::to_string(a);
    CAPTURE(name);
    CHECK(ScalingActive(*api, name) == "False FailedGetResourceMetric");  // X1
    CHECK(Replicas(*api, name) == 4);
  }
  // E1: 24 failing passes x 2 warnings per HPA; the spam filter lets 25 per
  // HPA through in the first minutes (then 1 per 5 min), every HPA alike.
  // Each HPA has its two Events (created once, then patched); the metric
  // one was written past the burst (the 25th token, then refills) and its
  // count includes the repeats the filter held back (E1 b).
  auto events = api->Objects(k8s::resources::kEvents, "default");
  std::map<std::string, std::map<std::string, int>> count_by_hpa_reason;
  for (const auto& ev : events) {
    CHECK(ev["type"] == "Warning");
    count_by_hpa_reason[ev["involvedObject"]["name"].get<std::string>()][ev["reason"].get<std::string>()] =
        ev["count"].get<int>();
  }
  REQUIRE(count_by_hpa_reason.size() == static_cast<size_t>(kApps));
  for (const auto& [name, counts] : count_by_hpa_reason) {
    CAPTURE(name);
    REQUIRE(counts.size() == 2);
    CHECK(counts.at("FailedComputeMetricsReplicas") == 12);  // passes 1-12 (the 24 burst writes are 2 per pass)
    CHECK(counts.at("FailedGetResourceMetric") >= 13);       // the 25th token at pass 13, more after refills
  }
  const size_t event_writes = api->ActionsFor("create", "events").size() + api->ActionsFor("patch", "events").size();
  CHECK(event_writes >= static_cast<size_t>(kApps) * 25);
  CHECK(event_writes <= static_cast<size_t>(kApps) * 27);  // of 48 each: 25 then 1 per 5 min per HPA

  // Recovery: the first good pass acts for every HPA. The last
  // recommendation before the outage (4) is 6 minutes old, outside the
  // 5-minute downscale window, and failed passes record none.
  clock.Advance(std::chrono::seconds(15));
  api->SetPathResponse(kMetricsPath, PodMetricsList(kApps, "30m", clock.Now()));
  SyncAll(wiring, clock);
  CHECK(scale_writes() == static_cast<size_t>(kApps));
  for (int a = 0; a < kApps; a++) {
    const std::string name = "app-" + std::to_string(a);
    CAPTURE(name);
    CHECK(Replicas(*api, name) == 1);  // 15% of 60% on 4 pods: ceil(4 x 0.25) = 1
    CHECK(ScalingActive(*api, name) == "True ValidMetricFound");
  }
}
