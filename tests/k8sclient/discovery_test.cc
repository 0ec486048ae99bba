// DiscoveryRestMapper (the one REST mapper, T1-T3) over a recording fake that
// serves discovery documents: kinds -> resources with the scale subresource,
// preferred versions first, hits cached, a CRD added later found on a miss,
// apps workloads known when discovery fails, hostile documents skipped,
// entries refreshed after their TTL and dropped on a (rate-limited) 404.
#include <catch2/catch.hpp>

#include "k8sclient/discovery.h"
#include "k8sclient/base/text.h"

namespace hpad::k8s {
namespace {

// Serves GetPath from a table; every other verb is a test failure.
class DiscoveryServer final : public ApiClient {
 public:
  std::map<std::string, Result<Json>> paths;
  std::vector<std::string> calls;

  Result<Json> GetPath(const std::string& p) override {
    calls.push_back(p);
    auto it = paths.find(p);
    if (it == paths.end()) return NotFoundError("no " + p);
    return it->second;
  }
  Result<Json> Get(const ObjectKey&) override { return Unexpected(); }
  Result<Json> List(const GroupVersionResource&, const std::string&, const ListOptions&) override {
    return Unexpected();
  }
  Result<std::unique_ptr<WatchStream>> Watch(const GroupVersionResource&, const std::string&,
                                             const ListOptions&) override {
    return Unexpected();
  }
  Result<Json> Create(const GroupVersionResource&, const std::string&, const Json&) override { return Unexpected(); }
  Result<Json> Update(const ObjectKey&, const Json&) override { return Unexpected(); }
  Result<Json> Patch(const ObjectKey&, PatchType, const std::string&) override { return Unexpected(); }
  Status Delete(const ObjectKey&) override { return Unexpected(); }

 private:
  static Status Unexpected() {
    FAIL("discovery must only use GetPath");
    return InternalError("unexpected");
  }
};

Json Resource(const std::string& name, const std::string& kind) {
  return {{"name", name}, {"kind", kind}, {"namespaced", true}, {"verbs", {"get", "list", "watch"}}};
}

Json Group(const std::string& name, const std::vector<std::string>& versions, const std::string& preferred) {
  Json vs = Json::array();
  for (const auto& v : versions) vs.push_back({{"groupVersion", name + "/" + v}, {"version", v}});
  return {{"kind", "APIGroup"},
          {"name", name},
          {"versions", vs},
          {"preferredVersion", {{"groupVersion", name + "/" + preferred}, {"version", preferred}}}};
}

void ServeCluster(DiscoveryServer& s) {
  s.paths.emplace("/api", Json{{"kind", "APIVersions"}, {"versions", {"v1"}}});
  s.paths.emplace("/api/v1", Json{{"kind", "APIResourceList"},
                                  {"groupVersion", "v1"},
                                  {"resources",
                                   {Resource("pods", "Pod"), Resource("pods/status", "Pod"),
                                    Resource("replicationcontrollers", "ReplicationController"),
                                    Resource("replicationcontrollers/scale", "Scale")}}});
  s.paths.emplace("/apis/apps", Group("apps", {"v1"}, "v1"));
  s.paths.emplace("/apis/apps/v1",
                  Json{{"resources",
                        {Resource("deployments", "Deployment"), Resource("deployments/scale", "Scale"),
                         Resource("deployments/status", "Deployment"), Resource("daemonsets", "DaemonSet")}}});
  s.paths.emplace("/apis/autoscaling", Group("autoscaling", {"v1", "v2"}, "v2"));
  s.paths.emplace("/apis/autoscaling/v1",
                  Json{{"resources", {Resource("horizontalpodautoscalers", "HorizontalPodAutoscaler")}}});
  s.paths.emplace("/apis/autoscaling/v2",
                  Json{{"resources", {Resource("horizontalpodautoscalers", "HorizontalPodAutoscaler")}}});
}

}  // namespace

TEST_CASE("DiscoveryRestMapper maps kinds to resources, scale subresource and preferred version first (T2)",
          "[discovery]") {
  auto s = std::make_shared<DiscoveryServer>();
  ServeCluster(*s);
  hpad::SimulatedClock clock{hpad::Time{}};
  DiscoveryRestMapper mapper(s, clock);

  auto dep = mapper.RestMappings("apps", "Deployment");
  REQUIRE(dep.ok());
  REQUIRE(dep->size() == 1);
  CHECK((*dep)[0].gvr == resources::kDeployments);
  CHECK((*dep)[0].has_scale);
  auto ds = mapper.RestMappings("apps", "DaemonSet");
  REQUIRE(ds.ok());
  CHECK_FALSE(ds->at(0).has_scale);

  auto rc = mapper.RestMappings("", "ReplicationController");
  REQUIRE(rc.ok());
  CHECK(rc->at(0).gvr.BasePath() == "/api/v1");
  CHECK(rc->at(0).has_scale);

  auto hpa = mapper.RestMappings("autoscaling", "HorizontalPodAutoscaler");
  REQUIRE(hpa.ok());
  REQUIRE(hpa->size() == 2);
  CHECK((*hpa)[0].gvr.version == "v2");
  CHECK((*hpa)[1].gvr.version == "v1");

  // Hits are cached.
  const size_t calls = s->calls.size();
  CHECK(mapper.RestMappings("apps", "Deployment").ok());
  CHECK(s->calls.size() == calls);

  // Kinds are per group: a Deployment is not in the core group.
  auto wrong = mapper.RestMappings("", "Deployment");
  REQUIRE_FALSE(wrong.ok());
  CHECK(wrong.status().code() == StatusCode::kNotFound);
  CHECK(wrong.status().message() == "no matches for kind \"Deployment\" in group \"\"");
}

TEST_CASE("DiscoveryRestMapper finds a CRD added later (misses are not cached)", "[discovery]") {
  auto s = std::make_shared<DiscoveryServer>();
  ServeCluster(*s);
  hpad::SimulatedClock clock{hpad::Time{}};
  DiscoveryRestMapper mapper(s, clock);
  auto miss = mapper.RestMappings("example.com", "Worker");
  REQUIRE_FALSE(miss.ok());
  CHECK(miss.status().message() == "no matches for kind \"Worker\" in group \"example.com\"");

  s->paths.emplace("/apis/example.com", Group("example.com", {"v1alpha1"}, "v1alpha1"));
  s->paths.emplace("/apis/example.com/v1alpha1",
                   Json{{"resources", {Resource("workers", "Worker"), Resource("workers/scale", "Scale")}}});
  auto w = mapper.RestMappings("example.com", "Worker");
  REQUIRE(w.ok());
  CHECK(w->at(0).gvr == GroupVersionResource{"example.com", "v1alpha1", "workers"});
  CHECK(w->at(0).has_scale);
}

TEST_CASE("DiscoveryRestMapper: discovery failures", "[discovery]") {
  auto s = std::make_shared<DiscoveryServer>();
  ServeCluster(*s);
  SECTION("apps workloads are known without discovery") {
    s->paths.erase("/apis/apps");
    s->paths.emplace("/apis/apps", UnavailableError("connection refused"));
    hpad::SimulatedClock clock{hpad::Time{}};
    DiscoveryRestMapper mapper(s, clock);
    auto r = mapper.RestMappings("apps", "StatefulSet");
    REQUIRE(r.ok());
    CHECK(r->at(0).gvr == GroupVersionResource{"apps", "v1", "statefulsets"});
    CHECK(r->at(0).has_scale);
  }
  SECTION("another group: the API error, not 'no matches'") {
    s->paths.emplace("/apis/example.com", UnavailableError("503 from the aggregated API"));
    hpad::SimulatedClock clock{hpad::Time{}};
    DiscoveryRestMapper mapper(s, clock);
    auto r = mapper.RestMappings("example.com", "Worker");
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().code() == StatusCode::kUnavailable);
  }
  SECTION("hostile documents: entries of the wrong shape are skipped") {
    s->paths.erase("/apis/apps/v1");
    s->paths.emplace("/apis/apps/v1",
                     Json{{"resources", {42, "deployments", Json::array(), {{"name", 7}, {"kind", "Deployment"}},
                                         Resource("deployments", "Deployment")}}});
    s->paths.erase("/apis/autoscaling");
    s->paths.emplace("/apis/autoscaling", Json{{"versions", {1, {{"version", 2}}}}, {"preferredVersion", "v2"}});
    hpad::SimulatedClock clock{hpad::Time{}};
    DiscoveryRestMapper mapper(s, clock);
    auto r = mapper.RestMappings("apps", "Deployment");
    REQUIRE(r.ok());
    CHECK(r->at(0).gvr == resources::kDeployments);
    CHECK_FALSE(r->at(0).has_scale);
    auto h = mapper.RestMappings("autoscaling", "HorizontalPodAutoscaler");
    REQUIRE_FALSE(h.ok());
    CHECK(h.status().code() == StatusCode::kNotFound);
  }
}

TEST_CASE("ParseGroupVersion (T1)", "[discovery]") {
  CHECK(*ParseGroupVersion("apps/v1") == std::make_pair(std::string("apps"), std::string("v1")));
  CHECK(*ParseGroupVersion("v1") == std::make_pair(std::string(""), std::string("v1")));
  auto bad = ParseGroupVersion("a/b/c");
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.status().message() == "unexpected GroupVersion string: a/b/c");
}

TEST_CASE("ParseGroupVersion quotes a hostile string as bounded valid UTF-8 (tests/fuzz/discovery_fuzz)", "[discovery]") {
  std::string hostile = "a/b/\xff\xfe" + std::string(100000, 'x');
  auto bad = ParseGroupVersion(hostile);
  REQUIRE_FALSE(bad.ok());
  CHECK(IsValidUtf8(bad.status().message()));
  CHECK(bad.status().message().size() < 2048);
  CHECK(bad.status().message().rfind("unexpected GroupVersion string: a/b/", 0) == 0);
}

}  // namespace hpad::k8s

namespace hpad::k8s {

// Issue 10 item 7: a CRD that drops the cached version heals without a
// restart - through the TTL, and sooner through a 404 reported by a caller
// (at most one re-lookup per kind per 30 s).
TEST_CASE("DiscoveryRestMapper: TTL refresh and rate-limited invalidation on 404", "[discovery]") {
  auto s = std::make_shared<DiscoveryServer>();
  ServeCluster(*s);
  s->paths.emplace("/apis/example.com", Group("example.com", {"v1alpha1"}, "v1alpha1"));
  s->paths.emplace("/apis/example.com/v1alpha1",
                   Json{{"resources", {Resource("workers", "Worker"), Resource("workers/scale", "Scale")}}});
  hpad::SimulatedClock clock{hpad::Time{}};
  DiscoveryRestMapper mapper(s, clock);
  REQUIRE(mapper.RestMappings("example.com", "Worker")->at(0).gvr.version == "v1alpha1");

  // The CRD now serves v1 only.
  s->paths.erase("/apis/example.com");
  s->paths.erase("/apis/example.com/v1alpha1");
  s->paths.emplace("/apis/example.com", Group("example.com", {"v1"}, "v1"));
  s->paths.emplace("/apis/example.com/v1",
                   Json{{"resources", {Resource("workers", "Worker"), Resource("workers/scale", "Scale")}}});
  CHECK(mapper.RestMappings("example.com", "Worker")->at(0).gvr.version == "v1alpha1");  // cached

  SECTION("a 404 drops the entry at once, then at most once per 30 s") {
    CHECK_FALSE(mapper.ReportNotFound("example.com", "Other"));  // nothing cached
    REQUIRE(mapper.ReportNotFound("example.com", "Worker"));
    CHECK(mapper.RestMappings("example.com", "Worker")->at(0).gvr.version == "v1");
    const size_t calls = s->calls.size();
    CHECK_FALSE(mapper.ReportNotFound("example.com", "Worker"));  // rate-limited
    CHECK(mapper.RestMappings("example.com", "Worker").ok());
    CHECK(s->calls.size() == calls);  // still cached, no discovery
    clock.Advance(std::chrono::seconds(29));
    CHECK_FALSE(mapper.ReportNotFound("example.com", "Worker"));
    clock.Advance(std::chrono::seconds(1));
    CHECK(mapper.ReportNotFound("example.com", "Worker"));
  }
  SECTION("the TTL refreshes the entry after 10 minutes") {
    clock.Advance(std::chrono::minutes(10) - std::chrono::seconds(1));
    CHECK(mapper.RestMappings("example.com", "Worker")->at(0).gvr.version == "v1alpha1");
    clock.Advance(std::chrono::seconds(1));
    CHECK(mapper.RestMappings("example.com", "Worker")->at(0).gvr.version == "v1");
  }
  SECTION("a failed refresh keeps the old mapping, a kind that is gone is forgotten") {
    clock.Advance(std::chrono::minutes(10));
    s->paths.erase("/apis/example.com");
    s->paths.emplace("/apis/example.com", Result<Json>(UnavailableError("discovery down")));
    CHECK(mapper.RestMappings("example.com", "Worker")->at(0).gvr.version == "v1alpha1");
    s->paths.erase("/apis/example.com");
    auto gone = mapper.RestMappings("example.com", "Worker");
    REQUIRE_FALSE(gone.ok());
    CHECK(gone.status().code() == StatusCode::kNotFound);
  }
}

}  // namespace hpad::k8s
