// MetricsCache (issue 5 "Must do": Resource and Pods metrics fetched once per
// namespace per sync period, shared by the HPAs there) over a counting fake
// MetricsClient: one fetch per namespace per period, expiry at exactly one
// period, failed fetches cached with their text (M1/M4), per-HPA filtering
// by PodMetrics labels with the pod-label fallback, by described-pod labels
// for Pods metrics (M4), M3 timestamps, M7 selectors, and the wire path of
// RestMetricsClient's namespace-wide lists.
#include <catch2/catch.hpp>

#include <algorithm>
#include <atomic>
#include <random>
#include <thread>

#include "controller/metrics_cache.h"
#include "tests/controller/controller_test_util.h"
#include "tests/fakes/fake_api_client.h"

using namespace hpad::ctrl;
using namespace hpad::ctrl::testing;
using hpad::Result;
using hpad::Status;
using hpad::StatusCode;
using hpad::Time;
namespace k8s = hpad::k8s;
using Json = nlohmann::json;

namespace {

constexpr std::chrono::seconds kPeriod{15};

// Records every call; answers from the tables set by the test.
class CountingMetricsClient : public MetricsClient {
 public:
  Result<PodMetricsResult> GetResourceMetric(const std::string&, const std::string&, const k8s::Selector&,
                                             const std::string&) override {
    per_hpa_calls++;  // MetricsCache must never fetch per HPA
    return Status(StatusCode::kInternal, "per-HPA resource fetch");
  }
  Result<PodMetricsResult> GetRawMetric(const std::string&, const std::string&, const k8s::Selector&,
                                        const k8s::Selector&) override {
    per_hpa_calls++;
    return Status(StatusCode::kInternal, "per-HPA custom fetch");
  }
  Result<ObjectMetricResult> GetObjectMetric(const std::string&, const std::string&,
                                             const k8s::CrossVersionObjectReference&, const k8s::Selector&) override {
    object_calls++;
    return ObjectMetricResult{42, T0()};
  }
  Result<ExternalMetricResult> GetExternalMetric(const std::string&, const std::string&,
                                                 const k8s::Selector&) override {
    external_calls++;
    return ExternalMetricResult{{1, 2}, T0()};
  }
  Result<std::vector<k8s::PodMetrics>> ListResourceMetrics(const std::string& ns) override {
    std::lock_guard<std::mutex> l(mu);
    resource_lists[ns]++;
    auto it = resource.find(ns);
    if (it == resource.end()) return std::vector<k8s::PodMetrics>{};
    return it->second;
  }
  Result<std::vector<k8s::CustomMetricValue>> ListPodsMetric(const std::string& ns, const std::string& metric,
                                                             const k8s::Selector& metric_selector) override {
    std::lock_guard<std::mutex> l(mu);
    const std::string key = ns + "|" + metric + "|" + (metric_selector.IsNothing() ? "" : metric_selector.ToString());
    custom_lists[key]++;
    auto it = custom.find(ns + "|" + metric);
    if (it == custom.end()) return std::vector<k8s::CustomMetricValue>{};
    return it->second;
  }
  int ResourceLists() {
    std::lock_guard<std::mutex> l(mu);
    int n = 0;
    for (const auto& [ns, c] : resource_lists) n += c;
    return n;
  }

  std::mutex mu;
  std::map<std::string, Result<std::vector<k8s::PodMetrics>>> resource;         // ns -> list
  std::map<std::string, Result<std::vector<k8s::CustomMetricValue>>> custom;     // "ns|metric" -> list
  std::map<std::string, int> resource_lists;
  std::map<std::string, int> custom_lists;  // "ns|metric|metric selector"
  std::atomic<int> per_hpa_calls{0}, object_calls{0}, external_calls{0};
};

k8s::PodMetrics PM(const std::string& name, int64_t cpu, std::map<std::string, std::string> labels,
                   Time ts = T0(), const std::string& ns = "default") {
  k8s::PodMetrics m;
  m.name = name;
  m.ns = ns;
  m.labels = std::move(labels);
  m.timestamp = ts;
  m.window = std::chrono::seconds(30);
  // memory = cpu x 1000, saturated: the overflow tests pass cpu near INT64_MAX.
  int64_t memory = 0;
  if (__builtin_mul_overflow(cpu, int64_t{1000}, &memory)) memory = cpu < 0 ? INT64_MIN : INT64_MAX;
  m.containers.push_back(k8s::ContainerMetrics{"app", {{"cpu", cpu}, {"memory", memory}}});
  return m;
}

k8s::CustomMetricValue MV(const std::string& pod, int64_t milli, Time ts = T0()) {
  k8s::CustomMetricValue v;
  v.described_object = {"v1", "Pod", "default", pod};
  v.metric_name = "rps";
  v.timestamp = ts;
  v.value_milli = milli;
  return v;
}

std::shared_ptr<const k8s::Pod> PodWith(const std::string& name, std::map<std::string, std::string> labels) {
  PodSpec s;
  s.name = name;
  s.labels = std::move(labels);
  return MakePod(s);
}

k8s::Selector Sel(const std::string& s) { return *k8s::Selector::Parse(s); }

struct Fixture {
  Fixture() : clock(T0()), cache(source, pods, clock, kPeriod) {}
  hpad::SimulatedClock clock;
  CountingMetricsClient source;
  k8s::ObjectStore<k8s::Pod> pods;
  MetricsCache cache;
};

}  // namespace

TEST_CASE("MetricsCache: one resource metrics fetch per namespace per period, shared by its HPAs (issue 5, M1)",
          "[metrics_cache]") {
  Fixture f;
  f.source.resource.insert_or_assign("default", std::vector<k8s::PodMetrics>{PM("web-0", 100, {{"app", "web"}}),
                                                              PM("web-1", 300, {{"app", "web"}}),
                                                              PM("api-0", 50, {{"app", "api"}})});
  f.source.resource.insert_or_assign("other", std::vector<k8s::PodMetrics>{PM("web-0", 7, {{"app", "web"}}, T0(), "other")});

  auto web = f.cache.GetResourceMetric("default", "cpu", Sel("app=web"), "");
  auto api = f.cache.GetResourceMetric("default", "cpu", Sel("app=api"), "");
  auto mem = f.cache.GetResourceMetric("default", "memory", Sel("app=web"), "app");  // M2 container form
  auto other = f.cache.GetResourceMetric("other", "cpu", Sel("app=web"), "");
  REQUIRE(web.ok());
  REQUIRE(api.ok());
  REQUIRE(mem.ok());
  REQUIRE(other.ok());
  CHECK(web->metrics.size() == 2);
  CHECK(web->metrics.at("web-1").value == 300);
  CHECK(web->metrics.at("web-1").window == std::chrono::seconds(30));
  CHECK(api->metrics.size() == 1);
  CHECK(api->metrics.at("api-0").value == 50);
  CHECK(mem->metrics.at("web-0").value == 100000);
  CHECK(other->metrics.at("web-0").value == 7);  // namespaces never mix
  CHECK(f.source.resource_lists["default"] == 1);
  CHECK(f.source.resource_lists["other"] == 1);
  CHECK(f.source.per_hpa_calls == 0);
}

TEST_CASE("MetricsCache: an entry expires at exactly one sync period", "[metrics_cache]") {
  Fixture f;
  f.source.resource.insert_or_assign("default", std::vector<k8s::PodMetrics>{PM("web-0", 100, {{"app", "web"}})});
  REQUIRE(f.cache.GetResourceMetric("default", "cpu", Sel("app=web"), "").ok());
  f.source.resource.insert_or_assign("default", std::vector<k8s::PodMetrics>{PM("web-0", 900, {{"app", "web"}})});
  f.clock.Advance(kPeriod - std::chrono::nanoseconds(1));
  auto still = f.cache.GetResourceMetric("default", "cpu", Sel("app=web"), "");
  REQUIRE(still.ok());
  CHECK(still->metrics.at("web-0").value == 100);  // now - fetched_at < period: cached
  CHECK(f.source.resource_lists["default"] == 1);
  f.clock.Advance(std::chrono::nanoseconds(1));
  auto fresh = f.cache.GetResourceMetric("default", "cpu", Sel("app=web"), "");
  REQUIRE(fresh.ok());
  CHECK(fresh->metrics.at("web-0").value == 900);  // == period: fetched again
  CHECK(f.source.resource_lists["default"] == 2);
}

TEST_CASE("MetricsCache: Clear() forces a new fetch (SyncAllNow: one fetch per virtual instant)", "[metrics_cache]") {
  Fixture f;
  f.source.resource.insert_or_assign("default", std::vector<k8s::PodMetrics>{PM("web-0", 100, {{"app", "web"}})});
  REQUIRE(f.cache.GetResourceMetric("default", "cpu", Sel("app=web"), "").ok());
  CHECK(f.cache.Size() == 1);
  f.cache.Clear();
  CHECK(f.cache.Size() == 0);
  REQUIRE(f.cache.GetResourceMetric("default", "cpu", Sel("app=web"), "").ok());
  CHECK(f.source.resource_lists["default"] == 2);
}

TEST_CASE("MetricsCache: a failed fetch is cached for the period with the same text for every HPA (M1, M4)",
          "[metrics_cache]") {
  Fixture f;
  const std::string text = "unable to fetch metrics from resource metrics API: the server is currently unable to "
                           "handle the request";
  f.source.resource.insert_or_assign("default", Status(StatusCode::kUnavailable, text));
  auto a = f.cache.GetResourceMetric("default", "cpu", Sel("app=web"), "");
  auto b = f.cache.GetResourceMetric("default", "memory", Sel("app=api"), "");
  REQUIRE_FALSE(a.ok());
  REQUIRE_FALSE(b.ok());
  CHECK(a.status().message() == text);
  CHECK(b.status().message() == text);
  CHECK(a.status().code() == StatusCode::kUnavailable);
  CHECK(f.source.resource_lists["default"] == 1);
  // Recovery is seen at the first fetch of the next period.
  f.source.resource.insert_or_assign("default", std::vector<k8s::PodMetrics>{PM("web-0", 100, {{"app", "web"}})});
  f.clock.Advance(kPeriod);
  CHECK(f.cache.GetResourceMetric("default", "cpu", Sel("app=web"), "").ok());
  CHECK(f.source.resource_lists["default"] == 2);

  const std::string custom_text = "unable to fetch metrics from custom metrics API: boom";
  f.source.custom.insert_or_assign("default|rps", Status(StatusCode::kUnavailable, custom_text));
  auto c = f.cache.GetRawMetric("default", "rps", Sel("app=web"), k8s::Selector::Nothing());
  auto d = f.cache.GetRawMetric("default", "rps", Sel("app=api"), k8s::Selector::Nothing());
  REQUIRE_FALSE(c.ok());
  REQUIRE_FALSE(d.ok());
  CHECK(c.status().message() == custom_text);
  CHECK(d.status().message() == custom_text);
  CHECK(f.source.custom_lists["default|rps|"] == 1);
}

TEST_CASE("MetricsCache: resource metrics filtered by PodMetrics labels, else the pod's labels", "[metrics_cache]") {
  Fixture f;
  f.pods.Upsert(PodWith("nolabels-web", {{"app", "web"}}));
  f.pods.Upsert(PodWith("mislabelled", {{"app", "web"}}));  // its PodMetrics says api: the PodMetrics wins
  f.source.resource.insert_or_assign("default", std::vector<k8s::PodMetrics>{
      PM("labelled-web", 100, {{"app", "web"}}, T0() + std::chrono::seconds(1)),
      PM("nolabels-web", 200, {}),
      PM("mislabelled", 300, {{"app", "api"}}),
      PM("nolabels-unknown", 400, {}),  // no labels and no pod: matches only label-free selectors
  });
  auto web = f.cache.GetResourceMetric("default", "cpu", Sel("app=web"), "");
  REQUIRE(web.ok());
  CHECK(web->metrics.size() == 2);
  CHECK(web->metrics.count("labelled-web") == 1);
  CHECK(web->metrics.count("nolabels-web") == 1);
  CHECK(web->timestamp == T0() + std::chrono::seconds(1));  // M3: the first selected item's
  auto api = f.cache.GetResourceMetric("default", "cpu", Sel("app=api"), "");
  REQUIRE(api.ok());
  CHECK(api->metrics.size() == 1);
  CHECK(api->metrics.count("mislabelled") == 1);
  CHECK(api->timestamp == T0());
  auto no_app = f.cache.GetResourceMetric("default", "cpu", Sel("!app"), "");
  REQUIRE(no_app.ok());
  CHECK(no_app->metrics.size() == 1);
  CHECK(no_app->metrics.count("nolabels-unknown") == 1);
  // M1: nothing selected is the "no metrics returned" error, as an empty list from the API.
  auto none = f.cache.GetResourceMetric("default", "cpu", Sel("app=db"), "");
  REQUIRE_FALSE(none.ok());
  CHECK(none.status().code() == StatusCode::kNotFound);
  CHECK(none.status().message() == "no metrics returned from resource metrics API");
  // M7: Nothing() sends no selector, so the API returns (and the cache keeps) every item.
  auto all = f.cache.GetResourceMetric("default", "cpu", k8s::Selector::Nothing(), "");
  REQUIRE(all.ok());
  CHECK(all->metrics.size() == 4);
  CHECK(f.source.resource_lists["default"] == 1);
}

TEST_CASE("MetricsCache: Pods metrics filtered by the described pods' labels, metric selector keyed (M4, M7)",
          "[metrics_cache]") {
  Fixture f;
  f.pods.Upsert(PodWith("web-0", {{"app", "web"}}));
  f.pods.Upsert(PodWith("web-1", {{"app", "web"}}));
  f.pods.Upsert(PodWith("api-0", {{"app", "api"}}));
  auto mv = MV("web-1", 2000, T0() + std::chrono::seconds(5));
  mv.window_seconds = 30;
  f.source.custom.insert_or_assign("default|rps", std::vector<k8s::CustomMetricValue>{mv, MV("web-0", 1000), MV("api-0", 500), MV("gone-0", 9000)});

  auto web = f.cache.GetRawMetric("default", "rps", Sel("app=web"), k8s::Selector::Nothing());
  REQUIRE(web.ok());
  CHECK(web->metrics.size() == 2);
  CHECK(web->metrics.at("web-0").value == 1000);
  CHECK(web->metrics.at("web-0").window == std::chrono::seconds(60));  // M4 default window
  CHECK(web->metrics.at("web-1").window == std::chrono::seconds(30));
  CHECK(web->timestamp == T0() + std::chrono::seconds(5));
  auto api = f.cache.GetRawMetric("default", "rps", Sel("app=api"), k8s::Selector());
  REQUIRE(api.ok());
  CHECK(api->metrics.size() == 1);
  // Nothing and everything are the same request (no metricLabelSelector): one fetch.
  CHECK(f.source.custom_lists["default|rps|"] == 1);
  // A pod the cache does not know is dropped by a selector, kept without one.
  auto everything = f.cache.GetRawMetric("default", "rps", k8s::Selector(), k8s::Selector::Nothing());
  REQUIRE(everything.ok());
  CHECK(everything->metrics.count("gone-0") == 1);
  auto none = f.cache.GetRawMetric("default", "rps", Sel("app=db"), k8s::Selector::Nothing());
  REQUIRE_FALSE(none.ok());
  CHECK(none.status().message() == "no metrics returned from custom metrics API");
  // Another metric selector is another request to the adapter.
  REQUIRE(f.cache.GetRawMetric("default", "rps", Sel("app=web"), Sel("verb=GET")).ok());
  REQUIRE(f.cache.GetRawMetric("default", "rps", Sel("app=api"), Sel("verb=GET")).ok());
  CHECK(f.source.custom_lists["default|rps|verb=GET"] == 1);
  CHECK(f.source.custom_lists.size() == 2);
  CHECK(f.source.per_hpa_calls == 0);
}

TEST_CASE("MetricsCache: each Object and External query once per period, shared by the HPAs asking it (M5, M6)",
          "[metrics_cache]") {
  Fixture f;
  k8s::CrossVersionObjectReference ref{"Ingress", "main", "networking.k8s.io/v1"};
  for (int i = 0; i < 3; i++) {
    CHECK(f.cache.GetObjectMetric("default", "hits", ref, k8s::Selector::Nothing())->value == 42);
    CHECK(f.cache.GetExternalMetric("default", "queue", k8s::Selector::Nothing())->values.size() == 2);
  }
  CHECK(f.source.object_calls == 1);
  CHECK(f.source.external_calls == 1);
  // The version plays no part in the request (the resolver maps group and
  // kind), and Nothing and everything both send no selector (M7).
  k8s::CrossVersionObjectReference other_version{"Ingress", "main", "networking.k8s.io/v1beta1"};
  REQUIRE(f.cache.GetObjectMetric("default", "hits", other_version, k8s::Selector()).ok());
  REQUIRE(f.cache.GetExternalMetric("default", "queue", k8s::Selector()).ok());
  CHECK(f.source.object_calls == 1);
  CHECK(f.source.external_calls == 1);

  // Any part of the request that differs is another query.
  REQUIRE(f.cache.GetObjectMetric("default", "hits", {"Ingress", "other", "networking.k8s.io/v1"},
                                  k8s::Selector::Nothing()).ok());
  REQUIRE(f.cache.GetObjectMetric("default", "hits", {"Service", "main", "v1"}, k8s::Selector::Nothing()).ok());
  REQUIRE(f.cache.GetObjectMetric("default", "hits", {"Ingress", "main", "extensions/v1beta1"},
                                  k8s::Selector::Nothing()).ok());
  REQUIRE(f.cache.GetObjectMetric("other", "hits", ref, k8s::Selector::Nothing()).ok());
  REQUIRE(f.cache.GetObjectMetric("default", "misses", ref, k8s::Selector::Nothing()).ok());
  REQUIRE(f.cache.GetObjectMetric("default", "hits", ref, Sel("path=root")).ok());
  CHECK(f.source.object_calls == 7);
  // A core Namespace is asked by the HPA's namespace, whatever name it gives (M5).
  REQUIRE(f.cache.GetObjectMetric("default", "hits", {"Namespace", "default", "v1"}, k8s::Selector::Nothing()).ok());
  REQUIRE(f.cache.GetObjectMetric("default", "hits", {"Namespace", "other", "v1"}, k8s::Selector::Nothing()).ok());
  CHECK(f.source.object_calls == 8);
  REQUIRE(f.cache.GetExternalMetric("other", "queue", k8s::Selector::Nothing()).ok());
  REQUIRE(f.cache.GetExternalMetric("default", "queue", Sel("q=jobs")).ok());
  REQUIRE(f.cache.GetExternalMetric("default", "depth", k8s::Selector::Nothing()).ok());
  CHECK(f.source.external_calls == 4);

  // One period later every query is asked again.
  f.clock.Advance(kPeriod);
  REQUIRE(f.cache.GetObjectMetric("default", "hits", ref, k8s::Selector::Nothing()).ok());
  REQUIRE(f.cache.GetExternalMetric("default", "queue", k8s::Selector::Nothing()).ok());
  CHECK(f.source.object_calls == 9);
  CHECK(f.source.external_calls == 5);
  f.cache.Clear();
  REQUIRE(f.cache.GetExternalMetric("default", "queue", k8s::Selector::Nothing()).ok());
  CHECK(f.source.external_calls == 6);
}

TEST_CASE("MetricsCache: a failed Object or External query is shared for the period with its text (M5, M6)",
          "[metrics_cache]") {
  // Per-query failures from the real client over a fake API server.
  auto api = std::make_shared<k8s::testing::FakeApiClient>();
  RestMetricsClient rest(api, [](const std::string&, const std::string&) -> Result<std::string> {
    return std::string("ingresses.networking.k8s.io");
  });
  hpad::SimulatedClock clock(T0());
  k8s::ObjectStore<k8s::Pod> pods;
  MetricsCache cache(rest, pods, clock, kPeriod);
  api->SetPathResponse("/apis/external.metrics.k8s.io/v1beta1/namespaces/default/queue",
                       Status(StatusCode::kUnavailable, "adapter down"));
  k8s::CrossVersionObjectReference ref{"Ingress", "main", "networking.k8s.io/v1"};
  api->SetPathResponse("/apis/custom.metrics.k8s.io/v1beta2/namespaces/default/ingresses.networking.k8s.io/main/hits",
                       Json{{"kind", "MetricValueList"}, {"items", Json::array()}});
  for (int i = 0; i < 2; i++) {
    auto e = cache.GetExternalMetric("default", "queue", k8s::Selector::Nothing());
    REQUIRE_FALSE(e.ok());
    CHECK(e.status().message() == "unable to fetch metrics from external metrics API: adapter down");
    auto o = cache.GetObjectMetric("default", "hits", ref, k8s::Selector::Nothing());
    REQUIRE_FALSE(o.ok());
    CHECK(o.status().message() ==
          "unable to fetch metrics from custom metrics API: the custom metrics API server returned 0 results when "
          "we asked for exactly one");
  }
  CHECK(api->ActionsFor("getpath").size() == 2);  // one per query, not per call
}

TEST_CASE("MetricsCache: concurrent HPAs of one namespace share one fetch", "[metrics_cache]") {
  Fixture f;
  f.source.resource.insert_or_assign("default", std::vector<k8s::PodMetrics>{PM("web-0", 100, {{"app", "web"}})});
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < 8; t++) {
    threads.emplace_back([&] {
      for (int i = 0; i < 200; i++)
        if (!f.cache.GetResourceMetric("default", "cpu", Sel("app=web"), "").ok()) failures++;
    });
  }
  for (auto& t : threads) t.join();
  CHECK(failures == 0);
  CHECK(f.source.ResourceLists() == 1);
}

TEST_CASE("RestMetricsClient namespace-wide lists: no labelSelector, same error prefixes", "[metrics_cache]") {
  auto api = std::make_shared<k8s::testing::FakeApiClient>();
  RestMetricsClient client(api);
  api->SetPathResponse("/apis/metrics.k8s.io/v1beta1/namespaces/default/pods",
                       Json{{"kind", "PodMetricsList"},
                            {"items",
                             {{{"metadata", {{"name", "web-0"}, {"namespace", "default"}, {"labels", {{"app", "web"}}}}},
                               {"timestamp", "2026-01-01T00:00:00Z"},
                               {"window", "30s"},
                               {"containers", {{{"name", "app"}, {"usage", {{"cpu", "250m"}}}}}}}}}});
  auto list = client.ListResourceMetrics("default");
  REQUIRE(list.ok());
  REQUIRE(list->size() == 1);
  CHECK((*list)[0].labels.at("app") == "web");
  CHECK((*list)[0].containers[0].usage_milli.at("cpu") == 250);

  api->SetPathResponse("/apis/metrics.k8s.io/v1beta1/namespaces/down/pods",
                       Status(StatusCode::kUnavailable, "the server is currently unable to handle the request"));
  auto down = client.ListResourceMetrics("down");
  REQUIRE_FALSE(down.ok());
  CHECK(down.status().message() ==
        "unable to fetch metrics from resource metrics API: the server is currently unable to handle the request");

  api->SetPathResponse("/apis/custom.metrics.k8s.io/v1beta2/namespaces/default/pods/*/rps?metricLabelSelector=verb%3DGET",
                       Json{{"kind", "MetricValueList"}, {"items", Json::array()}});
  auto rps = client.ListPodsMetric("default", "rps", Sel("verb=GET"));
  REQUIRE(rps.ok());
  CHECK(rps->empty());  // not an error here: the cache filters first
  auto missing = client.ListPodsMetric("default", "latency", k8s::Selector::Nothing());
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.status().message().rfind("unable to fetch metrics from custom metrics API: ", 0) == 0);
}

TEST_CASE("MetricsCache: indexed filtering equals the per-item definition (M1, M4)", "[metrics_cache]") {
  std::mt19937 rng(11);
  Fixture f;
  const std::vector<std::map<std::string, std::string>> label_sets = {
      {{"app", "a"}}, {{"app", "b"}, {"tier", "x"}}, {{"app", "a"}, {"tier", "y"}}, {{"tier", "x"}}, {}};
  std::vector<k8s::PodMetrics> resource;
  std::vector<k8s::CustomMetricValue> custom;
  for (int i = 0; i < 200; i++) {
    const std::string name = "p" + std::to_string(i);
    const auto& pod_labels = label_sets[rng() % label_sets.size()];
    if (i % 7 != 0) f.pods.Upsert(PodWith(name, pod_labels));  // some pods unknown to the cache
    // A third of the PodMetrics carry no labels (pod fallback); some carry other labels than the pod.
    std::map<std::string, std::string> own;
    if (i % 3 == 1) own = pod_labels;
    if (i % 3 == 2) own = label_sets[rng() % label_sets.size()];
    resource.push_back(PM(name, i, own, T0() + std::chrono::seconds(i)));
    custom.push_back(MV(name, i, T0() + std::chrono::seconds(i)));
  }
  // Unsorted names: server order is what must be kept, not name order.
  std::shuffle(resource.begin(), resource.end(), rng);
  std::shuffle(custom.begin(), custom.end(), rng);
  f.source.resource.insert_or_assign("default", resource);
  f.source.custom.insert_or_assign("default|rps", custom);
  for (const std::string sel : {"app=a", "app=b,tier=x", "tier in (x)", "app in (a,b)", "!tier", "app notin (a)",
                                "tier=y,app", "app=zzz", "app"}) {
    INFO(sel);
    const k8s::Selector s = Sel(sel);
    std::vector<std::string> want_resource, want_custom;
    for (const auto& pm : resource) {
      k8s::Labels labels = pm.labels;
      if (labels.empty()) {
        auto pod = f.pods.Get("default", pm.name);
        if (pod) labels = pod->labels();
      }
      if (s.Matches(labels)) want_resource.push_back(pm.name);
    }
    for (const auto& mv : custom) {
      auto pod = f.pods.Get("default", mv.described_object.name);
      if (pod && s.Matches(pod->labels())) want_custom.push_back(mv.described_object.name);
    }
    auto got = f.cache.GetResourceMetric("default", "cpu", s, "");
    auto got_custom = f.cache.GetRawMetric("default", "rps", s, k8s::Selector::Nothing());
    REQUIRE(got.ok() == !want_resource.empty());
    REQUIRE(got_custom.ok() == !want_custom.empty());
    if (got.ok()) {
      CHECK(got->metrics.size() == want_resource.size());
      for (const auto& n : want_resource) CHECK(got->metrics.count(n) == 1);
      // M3: the first selected item in server order.
      CHECK(got->timestamp == got->metrics.at(want_resource.front()).timestamp);
    }
    if (got_custom.ok()) {
      CHECK(got_custom->metrics.size() == want_custom.size());
      for (const auto& n : want_custom) CHECK(got_custom->metrics.count(n) == 1);
      CHECK(got_custom->timestamp == got_custom->metrics.at(want_custom.front()).timestamp);
    }
  }
  CHECK(f.source.resource_lists["default"] == 1);
  CHECK(f.source.custom_lists["default|rps|"] == 1);
}

namespace {

// The reference for the compact lists (issue 16): the per-item definition of
// selection (own labels, else the pod's) applied to the PodMetrics as the
// source served them, then ResourceMetricResultFrom, the conversion the
// uncached client uses.
Result<PodMetricsResult> ReferenceResourceMetric(const std::vector<k8s::PodMetrics>& list,
                                                 const k8s::ObjectStore<k8s::Pod>& pods, const std::string& ns,
                                                 const std::string& resource, const k8s::Selector& selector,
                                                 const std::string& container) {
  std::vector<const k8s::PodMetrics*> selected;
  for (const auto& pm : list) {
    if (!selector.IsNothing() && !selector.Empty()) {
      k8s::Labels labels = pm.labels;
      if (labels.empty()) {
        auto pod = pods.Get(ns, pm.name);
        if (pod) labels = pod->labels();
      }
      if (!selector.Matches(labels)) continue;
    }
    selected.push_back(&pm);
  }
  return ResourceMetricResultFrom(selected, resource, container);
}

void CheckSameResult(const Result<PodMetricsResult>& got, const Result<PodMetricsResult>& want) {
  REQUIRE(got.ok() == want.ok());
  if (!want.ok()) {
    CHECK(got.status().code() == want.status().code());
    CHECK(got.status().message() == want.status().message());
    return;
  }
  CHECK(got->timestamp == want->timestamp);
  REQUIRE(got->metrics.size() == want->metrics.size());
  for (const auto& [name, m] : want->metrics) {
    INFO(name);
    auto it = got->metrics.find(name);
    REQUIRE(it != got->metrics.end());
    CHECK(it->second.value == m.value);
    CHECK(it->second.timestamp == m.timestamp);
    CHECK(it->second.window == m.window);
  }
}

void CheckSamePodMetrics(const std::vector<k8s::PodMetrics>& got, const std::vector<k8s::PodMetrics>& want) {
  REQUIRE(got.size() == want.size());
  for (size_t i = 0; i < want.size(); i++) {
    INFO("item " << i);
    CHECK(got[i].name == want[i].name);
    CHECK(got[i].ns == want[i].ns);
    CHECK(got[i].labels == want[i].labels);
    CHECK(got[i].timestamp == want[i].timestamp);
    CHECK(got[i].window == want[i].window);
    REQUIRE(got[i].containers.size() == want[i].containers.size());
    for (size_t c = 0; c < want[i].containers.size(); c++) {
      CHECK(got[i].containers[c].name == want[i].containers[c].name);
      CHECK(got[i].containers[c].usage_milli == want[i].containers[c].usage_milli);
    }
  }
}

}  // namespace

TEST_CASE("MetricsCache: the compact resource list gives what the PodMetrics gave (issue 16, M1-M3)",
          "[metrics_cache]") {
  std::mt19937 rng(16);
  Fixture f;
  const std::vector<std::map<std::string, std::string>> label_sets = {
      {{"app", "a"}}, {{"app", "b"}, {"tier", "x"}}, {{"app", "a"}, {"tier", "y"}}, {{"tier", "x"}}, {}, {{"", ""}}};
  const std::vector<std::string> container_names = {"app", "sidecar", "", "init"};
  const std::vector<std::string> resources = {"cpu", "memory", "ephemeral-storage", "nvidia.com/gpu"};
  std::vector<k8s::PodMetrics> list;
  for (int i = 0; i < 300; i++) {
    // Duplicate names (a later item wins), some pods unknown to the cache.
    const std::string name = "p" + std::to_string(rng() % 120);
    const auto& pod_labels = label_sets[rng() % label_sets.size()];
    if (rng() % 6 != 0) f.pods.Upsert(PodWith(name, pod_labels));
    k8s::PodMetrics pm;
    pm.name = name;
    pm.ns = rng() % 20 == 0 ? "elsewhere" : "default";  // kept as served
    if (rng() % 3 != 0) pm.labels = label_sets[rng() % label_sets.size()];
    pm.timestamp = T0() + std::chrono::milliseconds(static_cast<int64_t>(rng() % 100000));
    pm.window = std::chrono::milliseconds(static_cast<int64_t>(rng() % 90000));
    // 0-3 containers (a repeated name: the first one counts for the
    // container form), each with a random subset of the resources.
    const int containers = static_cast<int>(rng() % 4);
    for (int c = 0; c < containers; c++) {
      k8s::ContainerMetrics cm;
      cm.name = container_names[rng() % container_names.size()];
      for (const auto& r : resources)
        if (rng() % 4 != 0) cm.usage_milli[r] = static_cast<int64_t>(rng() % 5000) - 100;
      pm.containers.push_back(std::move(cm));
    }
    list.push_back(std::move(pm));
  }
  // The int64 ends: a whole-pod sum saturates, in both paths.
  k8s::PodMetrics big = PM("big", INT64_MAX - 5, {{"app", "big"}});
  big.containers.push_back(k8s::ContainerMetrics{"side", {{"cpu", 10}, {"memory", INT64_MIN}}});
  big.containers[0].usage_milli["memory"] = INT64_MIN + 3;
  list.push_back(big);
  f.source.resource.insert_or_assign("default", list);

  for (const std::string sel : {"", "app=a", "app=b,tier=x", "tier in (x)", "app in (a,b)", "!tier", "app notin (a)",
                                "tier=y,app", "app=zzz", "app", "app=big"}) {
    const k8s::Selector s = sel.empty() ? k8s::Selector() : Sel(sel);
    for (const std::string resource : {"cpu", "memory", "ephemeral-storage", "nvidia.com/gpu", "unknown"}) {
      for (const std::string container : {"", "app", "sidecar", "init", "missing", "side"}) {
        INFO(sel << " " << resource << " container '" << container << "'");
        CheckSameResult(f.cache.GetResourceMetric("default", resource, s, container),
                        ReferenceResourceMetric(list, f.pods, "default", resource, s, container));
      }
    }
  }
  CheckSameResult(f.cache.GetResourceMetric("default", "cpu", k8s::Selector::Nothing(), ""),
                  ReferenceResourceMetric(list, f.pods, "default", "cpu", k8s::Selector::Nothing(), ""));
  auto big_cpu = f.cache.GetResourceMetric("default", "cpu", Sel("app=big"), "");
  auto big_memory = f.cache.GetResourceMetric("default", "memory", Sel("app=big"), "");
  REQUIRE(big_cpu.ok());
  REQUIRE(big_memory.ok());
  CHECK(big_cpu->metrics.at("big").value == INT64_MAX);
  CHECK(big_memory->metrics.at("big").value == INT64_MIN);
  CHECK(PodMetricValue(big, "cpu", "")->value == INT64_MAX);

  // ListResourceMetrics rebuilds the items as served.
  auto restored = f.cache.ListResourceMetrics("default");
  REQUIRE(restored.ok());
  CheckSamePodMetrics(*restored, list);
  CHECK(f.source.resource_lists["default"] == 1);

  // An empty list and a failed fetch keep their answers.
  f.source.resource.insert_or_assign("empty", std::vector<k8s::PodMetrics>{});
  CheckSameResult(f.cache.GetResourceMetric("empty", "cpu", k8s::Selector(), ""),
                  ReferenceResourceMetric({}, f.pods, "empty", "cpu", k8s::Selector(), ""));
  auto empty = f.cache.ListResourceMetrics("empty");
  REQUIRE(empty.ok());
  CHECK(empty->empty());
  f.source.resource.insert_or_assign("down", Status(StatusCode::kUnavailable, "down"));
  auto down = f.cache.ListResourceMetrics("down");
  REQUIRE_FALSE(down.ok());
  CHECK(down.status().message() == "down");
}

TEST_CASE("MetricsCache: compact lists with empty names, labels and containers (issue 16)", "[metrics_cache]") {
  Fixture f;
  f.pods.Upsert(PodWith("", {{"app", "web"}}));
  k8s::PodMetrics no_containers = PM("none", 1, {{"app", "web"}});
  no_containers.containers.clear();
  k8s::PodMetrics unnamed = PM("", 7, {});  // no labels: the pod named "" gives app=web
  k8s::PodMetrics two = PM("two", 5, {{"app", "web"}});
  two.containers.push_back(k8s::ContainerMetrics{"app", {{"cpu", 99}}});  // a second "app": not read
  two.containers.push_back(k8s::ContainerMetrics{"", {{"cpu", 1}}});
  const std::vector<k8s::PodMetrics> list = {no_containers, unnamed, two};
  f.source.resource.insert_or_assign("default", list);
  auto whole = f.cache.GetResourceMetric("default", "cpu", Sel("app=web"), "");
  REQUIRE(whole.ok());
  CHECK(whole->metrics.size() == 2);  // "none" has no container: no value (M2)
  CHECK(whole->metrics.at("").value == 7);
  CHECK(whole->metrics.at("two").value == 5 + 99 + 1);
  auto app = f.cache.GetResourceMetric("default", "cpu", Sel("app=web"), "app");
  REQUIRE(app.ok());
  CHECK(app->metrics.at("two").value == 5);  // the first container of that name
  CHECK(app->metrics.count("none") == 0);
  for (const std::string container : {"", "app", "x"}) {
    for (const std::string resource : {"cpu", "memory", ""}) {
      INFO(resource << " '" << container << "'");
      CheckSameResult(f.cache.GetResourceMetric("default", resource, Sel("app=web"), container),
                      ReferenceResourceMetric(list, f.pods, "default", resource, Sel("app=web"), container));
    }
  }
  auto restored = f.cache.ListResourceMetrics("default");
  REQUIRE(restored.ok());
  CheckSamePodMetrics(*restored, list);
}
