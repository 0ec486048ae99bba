// RestMapper over a recording fake that serves legacy discovery documents:
// kinds -> resources with subresources, preferred versions first, a CRD
// added later found by a refresh on a miss (rate-limited on the clock), and
// a failing aggregated API making a miss kUnavailable rather than kNotFound.
#include <catch2/catch.hpp>

#include "k8sclient/discovery.h"

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

Json Resource(const std::string& name, const std::string& kind, bool namespaced) {
  return {{"name", name}, {"kind", kind}, {"namespaced", namespaced}, {"verbs", {"get", "list", "watch"}}};
}

void ServeCluster(DiscoveryServer& s) {
  s.paths.emplace("/api", Json{{"kind", "APIVersions"}, {"versions", {"v1"}}});
  s.paths.emplace("/api/v1", Json{{"kind", "APIResourceList"},
                                  {"groupVersion", "v1"},
                                  {"resources",
                                   {Resource("pods", "Pod", true), Resource("pods/status", "Pod", true),
                                    Resource("namespaces", "Namespace", false),
                                    Resource("replicationcontrollers", "ReplicationController", true),
                                    Resource("replicationcontrollers/scale", "Scale", true)}}});
  s.paths.emplace("/apis", Json{{"kind", "APIGroupList"},
                                {"groups",
                                 {{{"name", "apps"},
                                   {"versions", {{{"groupVersion", "apps/v1"}, {"version", "v1"}}}},
                                   {"preferredVersion", {{"groupVersion", "apps/v1"}, {"version", "v1"}}}},
                                  {{"name", "autoscaling"},
                                   {"versions",
                                    {{{"groupVersion", "autoscaling/v1"}, {"version", "v1"}},
                                     {{"groupVersion", "autoscaling/v2"}, {"version", "v2"}}}},
                                   {"preferredVersion", {{"groupVersion", "autoscaling/v2"}, {"version", "v2"}}}}}}});
  s.paths.emplace("/apis/apps/v1",
                  Json{{"resources",
                        {Resource("deployments", "Deployment", true), Resource("deployments/scale", "Scale", true),
                         Resource("deployments/status", "Deployment", true),
                         Resource("statefulsets", "StatefulSet", true), Resource("statefulsets/scale", "Scale", true),
                         Resource("daemonsets", "DaemonSet", true)}}});
  s.paths.emplace("/apis/autoscaling/v1",
                  Json{{"resources", {Resource("horizontalpodautoscalers", "HorizontalPodAutoscaler", true)}}});
  s.paths.emplace("/apis/autoscaling/v2",
                  Json{{"resources", {Resource("horizontalpodautoscalers", "HorizontalPodAutoscaler", true),
                                      Resource("horizontalpodautoscalers/status", "HorizontalPodAutoscaler", true)}}});
}

void AddCrd(DiscoveryServer& s) {
  Json& groups = s.paths.at("/apis").value()["groups"];
  groups.push_back({{"name", "example.com"},
                    {"versions", {{{"groupVersion", "example.com/v1alpha1"}, {"version", "v1alpha1"}}}},
                    {"preferredVersion", {{"groupVersion", "example.com/v1alpha1"}, {"version", "v1alpha1"}}}});
  s.paths.emplace("/apis/example.com/v1alpha1",
                  Json{{"resources", {Resource("workers", "Worker", true), Resource("workers/scale", "Scale", true),
                                      Resource("workers/status", "Worker", true)}}});
}

}  // namespace

TEST_CASE("RestMapper maps kinds to resources with subresources", "[discovery]") {
  DiscoveryServer s;
  ServeCluster(s);
  SimulatedClock clock(Time{});
  RestMapper mapper(s, clock);

  auto dep = mapper.MappingsFor("apps", "Deployment");
  REQUIRE(dep.ok());
  REQUIRE(dep->size() == 1);
  CHECK((*dep)[0].gvr == resources::kDeployments);
  CHECK((*dep)[0].namespaced);
  CHECK((*dep)[0].HasSubresource("scale"));
  CHECK((*dep)[0].HasSubresource("status"));
  CHECK_FALSE(mapper.MappingsFor("apps", "DaemonSet")->at(0).HasSubresource("scale"));

  auto rc = mapper.MappingFor("v1", "ReplicationController");
  REQUIRE(rc.ok());
  CHECK(rc->gvr.BasePath() == "/api/v1");
  CHECK(rc->HasSubresource("scale"));
  CHECK_FALSE(mapper.MappingFor("v1", "Namespace")->namespaced);

  // Preferred version first.
  auto hpa = mapper.MappingsFor("autoscaling", "HorizontalPodAutoscaler");
  REQUIRE(hpa.ok());
  REQUIRE(hpa->size() == 2);
  CHECK((*hpa)[0].gvr.version == "v2");
  CHECK((*hpa)[1].gvr.version == "v1");
  CHECK(mapper.MappingFor("autoscaling/v1", "HorizontalPodAutoscaler")->gvr == resources::kHpaV1);

  // Everything above came from one discovery pass (cached).
  size_t after_first = s.calls.size();
  CHECK(after_first == 6);  // /api, /apis, /api/v1, apps/v1, autoscaling/v2, autoscaling/v1
  CHECK(mapper.MappingsFor("apps", "StatefulSet").ok());
  CHECK(s.calls.size() == after_first);

  // Kinds are per group: a Deployment is not in the core group.
  clock.Advance(std::chrono::minutes(1));
  auto wrong = mapper.MappingsFor("", "Deployment");
  REQUIRE_FALSE(wrong.ok());
  CHECK(wrong.status().code() == StatusCode::kNotFound);
  CHECK_THAT(wrong.status().message(), Catch::Contains("Deployment"));
  CHECK(SplitApiVersion("apps/v1") == std::make_pair(std::string("apps"), std::string("v1")));
  CHECK(SplitApiVersion("v1") == std::make_pair(std::string(""), std::string("v1")));
}

TEST_CASE("RestMapper finds a CRD added later by refreshing on a miss", "[discovery]") {
  DiscoveryServer s;
  ServeCluster(s);
  SimulatedClock clock(Time{});
  RestMapper mapper(s, clock, std::chrono::seconds(10));
  REQUIRE(mapper.MappingsFor("apps", "Deployment").ok());

  clock.Advance(std::chrono::seconds(30));
  auto miss = mapper.MappingsFor("example.com", "Worker");
  REQUIRE_FALSE(miss.ok());
  CHECK(miss.status().code() == StatusCode::kNotFound);
  size_t calls = s.calls.size();

  AddCrd(s);
  // A second miss within the refresh interval does not hit the server.
  clock.Advance(std::chrono::seconds(5));
  CHECK_FALSE(mapper.MappingsFor("example.com", "Worker").ok());
  CHECK(s.calls.size() == calls);
  // After the interval the miss refreshes and the CRD (with scale) is found.
  clock.Advance(std::chrono::seconds(5));
  auto w = mapper.MappingFor("example.com/v1alpha1", "Worker");
  REQUIRE(w.ok());
  CHECK(w->gvr == GroupVersionResource{"example.com", "v1alpha1", "workers"});
  CHECK(w->HasSubresource("scale"));
  CHECK(s.calls.size() > calls);
}

TEST_CASE("RestMapper: discovery failures are errors, never 'no such kind'", "[discovery]") {
  DiscoveryServer s;
  ServeCluster(s);
  SimulatedClock clock(Time{});

  SECTION("/apis down: the lookup fails with the API error") {
    s.paths.erase("/apis");
    s.paths.emplace("/apis", UnavailableError("connection refused"));
    RestMapper mapper(s, clock);
    auto r = mapper.MappingsFor("apps", "Deployment");
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().code() == StatusCode::kUnavailable);
    CHECK_THAT(r.status().message(), Catch::Contains("/apis"));
  }
  SECTION("one aggregated group-version down: other kinds work, misses are kUnavailable") {
    AddCrd(s);
    s.paths.erase("/apis/example.com/v1alpha1");
    s.paths.emplace("/apis/example.com/v1alpha1", UnavailableError("503 from the aggregated API"));
    RestMapper mapper(s, clock);
    CHECK(mapper.MappingsFor("apps", "Deployment").ok());
    auto r = mapper.MappingsFor("example.com", "Worker");
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().code() == StatusCode::kUnavailable);
    CHECK_THAT(r.status().message(), Catch::Contains("example.com/v1alpha1"));
  }
}

}  // namespace hpad::k8s
