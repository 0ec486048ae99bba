// ScaleCache (issue 7: scale reads from watches, not one GET per HPA per
// period): the scale of apps/v1 Deployments/StatefulSets/ReplicaSets comes
// from informers and equals what the scale subresource shows (T3); other
// kinds, unsynced informers and cache misses fall back to GET (T1-T4 texts
// unchanged); writes still PUT the scale subresource; a stale cached read's
// 409 is returned (the reconciler re-runs from a GET, issue 11 item 9).
#include <catch2/catch.hpp>

#include "controller/scale_cache.h"
#include "tests/controller/controller_test_util.h"
#include "tests/fakes/fake_api_client.h"

using namespace hpad::ctrl;
using namespace hpad::ctrl::testing;
using hpad::Result;
using hpad::Status;
using hpad::StatusCode;
namespace k8s = hpad::k8s;
using Json = nlohmann::json;

namespace {

Json Workload(const std::string& kind, const std::string& name, int spec, std::optional<int> status, Json selector) {
  Json o = {{"apiVersion", "apps/v1"},
            {"kind", kind},
            {"metadata", {{"name", name}, {"namespace", "default"}}},
            {"spec", {{"replicas", spec}}}};
  if (status) o["status"] = {{"replicas", *status}};
  if (!selector.is_null()) o["spec"]["selector"] = selector;
  return o;
}

// Records the reads and writes that reach the GET/PUT path.
class RecordingScaleClient : public ScaleClient {
 public:
  Result<ScaleReadResult> GetScale(const std::string& ns, const k8s::CrossVersionObjectReference& ref) override {
    gets.push_back(ns + "/" + ref.kind + "/" + ref.name);
    if (ref.name == "missing") return Status(StatusCode::kNotFound, "deployments.apps \"missing\" not found");
    ScaleReadResult r;
    r.scale.name = ref.name;
    r.scale.spec_replicas = 9;
    r.gvr = {"example.com", "v1", "queues"};
    return r;
  }
  Status UpdateScale(const std::string& ns, const ScaleReadResult& read, int32_t replicas) override {
    updates.push_back(ns + "/" + read.scale.name + "=" + std::to_string(replicas) + "@" + read.scale.resource_version);
    return Status::Ok();
  }
  std::vector<std::string> gets, updates;
};

k8s::CrossVersionObjectReference Ref(const std::string& kind, const std::string& name,
                                     const std::string& api_version = "apps/v1") {
  return k8s::CrossVersionObjectReference{kind, name, api_version};
}

}  // namespace

TEST_CASE("ScaleSourceFromJson: what the scale subresource of an apps/v1 workload shows", "[scale_cache]") {
  struct Case {
    const char* name;
    Json object;
    int32_t spec, status;
    std::string selector;
  };
  const std::vector<Case> cases = {
      {"replicas and matchLabels", Workload("Deployment", "web", 3, 2, {{"matchLabels", {{"app", "web"}}}}), 3, 2,
       "app=web"},
      {"no status yet: status.replicas 0", Workload("Deployment", "web", 1, std::nullopt, {{"matchLabels", {{"a", "b"}}}}),
       1, 0, "a=b"},
      {"expressions, canonical order",
       Workload("StatefulSet", "db", 2, 2,
                {{"matchLabels", {{"tier", "db"}}},
                 {"matchExpressions", {{{"key", "env"}, {"operator", "In"}, {"values", {"prod", "canary"}}}}}}),
       2, 2, "env in (canary,prod),tier=db"},
      {"no selector: none (S1 downstream)", Workload("ReplicaSet", "rs", 4, 4, nullptr), 4, 4, ""},
      {"invalid selector: none", Workload("ReplicaSet", "rs", 4, 4, {{"matchExpressions", {{{"key", "a"}, {"operator", "Nope"}}}}}),
       4, 4, ""},
  };
  for (const auto& c : cases) {
    INFO(c.name);
    auto s = ScaleSourceFromJson(c.object);
    REQUIRE(s.ok());
    CHECK(s->spec_replicas == c.spec);
    CHECK(s->status_replicas == c.status);
    CHECK(s->selector == c.selector);
    CHECK(s->ns == "default");
    CHECK(s->labels.empty());
  }
  CHECK_FALSE(ScaleSourceFromJson(Json::array()).ok());
  CHECK_FALSE(ScaleSourceFromJson(Json{{"metadata", {{"namespace", "default"}}}}).ok());
}

TEST_CASE("ScaleCache serves apps/v1 scales from the informers, equal to the scale subresource (T3)",
          "[scale_cache]") {
  auto api = std::make_shared<k8s::testing::FakeApiClient>();
  hpad::SimulatedClock clock(T0());
  auto mapper = std::make_shared<k8s::DiscoveryRestMapper>(api, clock);
  RestScaleClient rest(api, mapper);
  api->Put(k8s::resources::kDeployments, Workload("Deployment", "web", 3, 2, {{"matchLabels", {{"app", "web"}}}}));
  api->Put(k8s::resources::kStatefulSets, Workload("StatefulSet", "db", 2, 2, {{"matchLabels", {{"app", "db"}}}}));
  api->Put(k8s::resources::kReplicaSets, Workload("ReplicaSet", "rs", 5, 4, {{"matchLabels", {{"app", "rs"}}}}));
  ScaleCache cache(rest, *api, clock);
  REQUIRE(cache.Relist().ok());
  REQUIRE(cache.HasSynced());

  struct Case {
    std::string kind, name, resource;
  };
  for (const Case& c : std::vector<Case>{{"Deployment", "web", "deployments"},
                                         {"StatefulSet", "db", "statefulsets"},
                                         {"ReplicaSet", "rs", "replicasets"}}) {
    INFO(c.kind);
    auto want = rest.GetScale("default", Ref(c.kind, c.name));  // the scale subresource, by GET
    REQUIRE(want.ok());
    api->ClearActions();
    auto got = cache.GetScale("default", Ref(c.kind, c.name));
    REQUIRE(got.ok());
    CHECK(api->Actions().empty());  // no request at all
    CHECK(got->gvr == k8s::GroupVersionResource{"apps", "v1", c.resource});
    CHECK(got->gvr == want->gvr);
    CHECK(got->scale.name == want->scale.name);
    CHECK(got->scale.ns == want->scale.ns);
    CHECK(got->scale.resource_version == want->scale.resource_version);
    CHECK(got->scale.spec_replicas == want->scale.spec_replicas);
    CHECK(got->scale.status_replicas == want->scale.status_replicas);
    CHECK(got->scale.selector == want->scale.selector);
  }
  // T2 maps (group, kind) whatever the version.
  REQUIRE(cache.GetScale("default", Ref("Deployment", "web", "apps/v1beta2")).ok());
  CHECK(cache.hits() == 4);
  CHECK(cache.misses() == 0);
}

TEST_CASE("ScaleCache falls back to GET for other kinds, misses and before sync (T1-T4)", "[scale_cache]") {
  hpad::SimulatedClock clock(T0());
  k8s::testing::FakeApiClient api;
  RecordingScaleClient fallback;
  api.Put(k8s::resources::kDeployments, Workload("Deployment", "web", 3, 3, {{"matchLabels", {{"app", "web"}}}}));
  ScaleCache cache(fallback, api, clock);

  // Not synced yet: GET.
  CHECK(cache.GetScale("default", Ref("Deployment", "web"))->scale.spec_replicas == 9);
  REQUIRE(cache.Relist().ok());
  CHECK(cache.GetScale("default", Ref("Deployment", "web"))->scale.spec_replicas == 3);
  // A custom resource with a scale subresource: GET.
  CHECK(cache.GetScale("default", Ref("Queue", "q", "example.com/v1"))->gvr.resource == "queues");
  // Same kind name in another group is not an apps workload.
  CHECK(cache.GetScale("default", Ref("Deployment", "x", "example.com/v1")).ok());
  // Not in the cache: the GET gives the real answer and its text (T4).
  auto missing = cache.GetScale("default", Ref("Deployment", "missing"));
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.status().message() == "deployments.apps \"missing\" not found");
  // A bad apiVersion goes to the GET path, which reports T1's error.
  CHECK(cache.GetScale("default", Ref("Deployment", "web", "a/b/c")).ok());
  CHECK(fallback.gets == std::vector<std::string>{"default/Deployment/web", "default/Queue/q", "default/Deployment/x",
                                                  "default/Deployment/missing", "default/Deployment/web"});
  CHECK(cache.hits() == 1);
  CHECK(cache.misses() == 5);

  // Writes always go to the scale subresource path, with the cached resourceVersion.
  auto read = cache.GetScale("default", Ref("Deployment", "web"));
  REQUIRE(read.ok());
  REQUIRE(cache.UpdateScale("default", *read, 6).ok());
  REQUIRE(fallback.updates.size() == 1);
  CHECK(fallback.updates[0] == "default/web=6@" + read->scale.resource_version);
}

TEST_CASE("ScaleCache: a stale cached read is written once, its 409 comes back (issue 11 item 9)", "[scale_cache]") {
  auto api = std::make_shared<k8s::testing::FakeApiClient>();
  hpad::SimulatedClock clock(T0());
  RestScaleClient rest(api, std::make_shared<k8s::DiscoveryRestMapper>(api, clock));
  api->Put(k8s::resources::kDeployments, Workload("Deployment", "web", 3, 3, {{"matchLabels", {{"app", "web"}}}}));
  ScaleCache cache(rest, *api, clock);
  REQUIRE(cache.Relist().ok());
  // The object moves on after the cache saw it (no watch running here).
  api->Put(k8s::resources::kDeployments, Workload("Deployment", "web", 4, 4, {{"matchLabels", {{"app", "web"}}}}));
  auto read = cache.GetScale("default", Ref("Deployment", "web"));
  REQUIRE(read.ok());
  CHECK(read->from_cache);
  CHECK(read->scale.spec_replicas == 3);  // stale
  api->ClearActions();
  // No W1 re-GET + retry: that would apply a count computed from 3 replicas.
  Status st = cache.UpdateScale("default", *read, 7);
  CHECK(st.code() == StatusCode::kConflict);
  CHECK(api->ActionStrings() == std::vector<std::string>{"update deployments/scale default/web"});
  CHECK((*api->Object(k8s::resources::kDeployments, "default", "web"))["spec"]["replicas"] == 4);
  // The reconciler's re-run reads with GET.
  auto fresh = cache.GetScaleFresh("default", Ref("Deployment", "web"));
  REQUIRE(fresh.ok());
  CHECK_FALSE(fresh->from_cache);
  CHECK(fresh->scale.spec_replicas == 4);
  // A GET read keeps W1's retry.
  api->Put(k8s::resources::kDeployments, Workload("Deployment", "web", 5, 5, {{"matchLabels", {{"app", "web"}}}}));
  api->ClearActions();
  REQUIRE(cache.UpdateScale("default", *fresh, 7).ok());
  CHECK(api->ActionStrings() == std::vector<std::string>{"update deployments/scale default/web",
                                                         "get deployments/scale default/web",
                                                         "update deployments/scale default/web"});
}
