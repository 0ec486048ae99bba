// ControllerWiring routes each part of the controller to its own client
// (issue 16, ControllerClients in controller/wiring.h), as
// kube-controller-manager does: informers list/watch on theirs, status
// writes, events and discovery on the HPA client, scale GET/PUT on the
// scale client, each metrics API on its own. With the daemon's clients
// (a RestApiClient each: tests/controller/daemon/client_limits_test.cc) that
// is what keeps a saturated bucket from delaying anything else.
#include <catch2/catch.hpp>

#include <algorithm>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "controller/wiring.h"
#include "tests/controller/controller_test_util.h"
#include "tests/fakes/fake_api_client.h"

using namespace hpad::ctrl;
using namespace hpad::ctrl::testing;
namespace k8s = hpad::k8s;
using Json = nlohmann::json;

namespace {

// Every call through one part's client, as "<verb> <resource or path>",
// with a "bg " prefix at background priority; forwards to the shared fake.
class PartLog final : public k8s::ApiClient {
 public:
  PartLog(std::shared_ptr<k8s::testing::FakeApiClient> inner, bool background = false)
      : inner_(std::move(inner)), background_(background) {
    if (!background_) bg_ = std::make_unique<PartLog>(inner_, true);
  }
  hpad::Result<Json> Get(const k8s::ObjectKey& k) override {
    Log("get " + Resource(k));
    return inner_->Get(k);
  }
  hpad::Result<Json> List(const k8s::GroupVersionResource& g, const std::string& ns,
                          const k8s::ListOptions& o) override {
    Log("list " + g.resource);
    return inner_->List(g, ns, o);
  }
  hpad::Result<std::unique_ptr<k8s::WatchStream>> Watch(const k8s::GroupVersionResource& g, const std::string& ns,
                                                        const k8s::ListOptions& o) override {
    Log("watch " + g.resource);
    return inner_->Watch(g, ns, o);
  }
  hpad::Result<Json> Create(const k8s::GroupVersionResource& g, const std::string& ns, const Json& obj) override {
    Log("create " + g.resource);
    return inner_->Create(g, ns, obj);
  }
  hpad::Result<Json> Update(const k8s::ObjectKey& k, const Json& obj) override {
    Log("update " + Resource(k));
    return inner_->Update(k, obj);
  }
  hpad::Result<Json> Patch(const k8s::ObjectKey& k, k8s::PatchType t, const std::string& b) override {
    Log("patch " + Resource(k));
    return inner_->Patch(k, t, b);
  }
  hpad::Status Delete(const k8s::ObjectKey& k) override {
    Log("delete " + Resource(k));
    return inner_->Delete(k);
  }
  hpad::Result<Json> GetPath(const std::string& p) override {
    Log("getpath " + p.substr(0, p.find('?')));
    return inner_->GetPath(p);
  }
  k8s::ApiClient& Background() override { return background_ ? *this : *bg_; }

  // This part's calls, background ones included.
  std::vector<std::string> Calls() const {
    std::vector<std::string> out;
    {
      std::lock_guard<std::mutex> l(mu_);
      out = calls_;
    }
    if (bg_) {
      auto bg = bg_->Calls();
      out.insert(out.end(), bg.begin(), bg.end());
    }
    return out;
  }

 private:
  static std::string Resource(const k8s::ObjectKey& k) {
    return k.gvr.resource + (k.subresource.empty() ? "" : "/" + k.subresource);
  }
  void Log(const std::string& call) {
    std::lock_guard<std::mutex> l(mu_);
    calls_.push_back((background_ ? "bg " : "") + call);
  }

  std::shared_ptr<k8s::testing::FakeApiClient> inner_;
  const bool background_;
  std::unique_ptr<PartLog> bg_;
  mutable std::mutex mu_;
  std::vector<std::string> calls_;
};

// Deployment web (2 ready pods, 200m cpu requested) and an HPA on three
// metrics: cpu at 90% of request against a 60% target (2 -> 3), a pods
// custom metric and an external metric, both well under target.
void SeedThreeMetricApp(k8s::testing::FakeApiClient& api) {
  api.Put(k8s::resources::kDeployments,
          Json{{"apiVersion", "apps/v1"},
               {"kind", "Deployment"},
               {"metadata", {{"name", "web"}, {"namespace", "default"}}},
               {"spec", {{"replicas", 2}, {"selector", {{"matchLabels", {{"app", "web"}}}}}}},
               {"status", {{"replicas", 2}}}});
  Json pod_metrics = Json::array();
  Json custom = Json::array();
  for (int i = 0; i < 2; i++) {
    const std::string name = "web-" + std::to_string(i);
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
    pod_metrics.push_back({{"metadata", {{"name", name}, {"namespace", "default"}, {"labels", {{"app", "web"}}}}},
                           {"timestamp", "2026-01-01T00:00:00Z"},
                           {"window", "60s"},
                           {"containers", {{{"name", "app"}, {"usage", {{"cpu", "180m"}}}}}}});
    custom.push_back({{"describedObject", {{"kind", "Pod"}, {"namespace", "default"}, {"name", name}, {"apiVersion", "/v1"}}},
                      {"metricName", "rps"},
                      {"timestamp", "2026-01-01T00:00:00Z"},
                      {"value", "1"}});
  }
  api.SetPathResponse(RestMetricsClient::ResourceMetricsPath("default", k8s::Selector()), Json{{"items", pod_metrics}});
  api.SetPathResponse(RestMetricsClient::PodsCustomMetricPath("default", "rps", k8s::Selector(), k8s::Selector()),
                      Json{{"items", custom}});
  api.SetPathResponse(RestMetricsClient::ExternalMetricPath("default", "queue", k8s::Selector()),
                      Json{{"items",
                            {{{"metricName", "queue"}, {"metricLabels", Json::object()},
                              {"timestamp", "2026-01-01T00:00:00Z"}, {"value", "1"}}}}});
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
                    {"resource", {{"name", "cpu"}, {"target", {{"type", "Utilization"}, {"averageUtilization", 60}}}}}},
                   {{"type", "Pods"},
                    {"pods", {{"metric", {{"name", "rps"}}}, {"target", {{"type", "AverageValue"}, {"averageValue", "100"}}}}}},
                   {{"type", "External"},
                    {"external",
                     {{"metric", {{"name", "queue"}}}, {"target", {{"type", "AverageValue"}, {"averageValue", "100"}}}}}}}}}}});
}

bool StartsWith(const std::string& s, const std::string& prefix) { return s.rfind(prefix, 0) == 0; }

}  // namespace

TEST_CASE("ControllerWiring: each part of the controller talks through its own client (issue 16)",
          "[controller][limits]") {
  hpad::SimulatedClock clock(T0());
  auto fake = std::make_shared<k8s::testing::FakeApiClient>(&clock);
  SeedThreeMetricApp(*fake);
  std::map<std::string, std::shared_ptr<PartLog>> part;
  for (const char* name : {"informers", "hpa", "scale", "resource", "custom", "external"}) {
    part[name] = std::make_shared<PartLog>(fake);
  }
  ControllerClients clients{.informers = part["informers"],
                            .hpa = part["hpa"],
                            .scale = part["scale"],
                            .resource_metrics = part["resource"],
                            .custom_metrics = part["custom"],
                            .external_metrics = part["external"]};
  NullMonitor monitor;
  ControllerOptions options = *ParseControllerOptions({});
  options.work_queue = false;  // driven as the simulator's driver does
  ControllerWiring wiring(options, clients, monitor, clock);
  REQUIRE(wiring.Relist().ok());
  wiring.controller().ReconcileKey("default/web", clock.Now());
  wiring.FlushEvents();
  REQUIRE((*fake->Object(k8s::resources::kDeployments, "default", "web"))["spec"]["replicas"] == 3);

  auto calls = [&](const std::string& name) {
    auto c = part[name]->Calls();
    CAPTURE(name, c);
    REQUIRE_FALSE(c.empty());
    return c;
  };
  auto has = [](const std::vector<std::string>& c, const std::string& call) {
    return std::find(c.begin(), c.end(), call) != c.end();
  };
  SECTION("informers: only HPA and pod lists") {
    for (const auto& c : calls("informers")) {
      CAPTURE(c);
      CHECK((c == "list horizontalpodautoscalers" || c == "list pods"));
    }
  }
  SECTION("HPA client: status writes, events (background priority), discovery") {
    const auto c = calls("hpa");
    CAPTURE(c);
    CHECK(has(c, "update horizontalpodautoscalers/status"));
    CHECK(has(c, "bg create events"));
    for (const auto& call : c) {
      CAPTURE(call);
      const bool status = call == "update horizontalpodautoscalers/status";
      const bool event = StartsWith(call, "bg create events") || StartsWith(call, "bg patch events");
      const bool discovery = StartsWith(call, "getpath /api");
      CHECK((status || event || discovery));
      CHECK(call.find("metrics.k8s.io") == std::string::npos);
    }
  }
  SECTION("scale client: the scale subresource only") {
    const auto c = calls("scale");
    CAPTURE(c);
    CHECK(has(c, "update deployments/scale"));
    for (const auto& call : c) {
      CAPTURE(call);
      CHECK((call == "get deployments/scale" || call == "update deployments/scale"));
    }
  }
  SECTION("each metrics API on its own client") {
    for (const auto& [name, prefix] : std::vector<std::pair<std::string, std::string>>{
             {"resource", "getpath /apis/metrics.k8s.io/"},
             {"custom", "getpath /apis/custom.metrics.k8s.io/"},
             {"external", "getpath /apis/external.metrics.k8s.io/"}}) {
      for (const auto& call : calls(name)) {
        CAPTURE(name, call);
        CHECK(StartsWith(call, prefix));
      }
    }
  }
}

TEST_CASE("ControllerClients: one client serves every part; null members fall back (issue 16)",
          "[controller][limits]") {
  auto fake = std::make_shared<k8s::testing::FakeApiClient>();
  const ControllerClients single = ControllerClients::Single(fake);
  for (const auto* c : {&single.informers, &single.hpa, &single.scale, &single.resource_metrics,
                        &single.custom_metrics, &single.external_metrics}) {
    CHECK(c->get() == fake.get());
  }
  auto other = std::make_shared<k8s::testing::FakeApiClient>();
  ControllerClients some;
  some.informers = other;
  some.hpa = fake;
  const ControllerClients filled = some.WithFallbacks();
  CHECK(filled.informers == other);
  for (const auto* c : {&filled.hpa, &filled.scale, &filled.resource_metrics, &filled.custom_metrics,
                        &filled.external_metrics}) {
    CHECK(c->get() == fake.get());
  }
  ControllerClients only_informers;
  only_informers.informers = other;
  CHECK(only_informers.WithFallbacks().hpa == other);
}
