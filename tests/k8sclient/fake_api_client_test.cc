// FakeApiClient's own contract, so tests built on it (informers, leader
// election, the controller) can trust it: optimistic concurrency, status and
// scale subresources, generation, paging, watch replay and 410, failure
// injection and the action log.
#include <catch2/catch.hpp>

#include "tests/fakes/fake_api_client.h"

namespace {

using hpad::StatusCode;
using hpad::k8s::Json;
using hpad::k8s::ListOptions;
using hpad::k8s::ObjectKey;
using hpad::k8s::PatchType;
using hpad::k8s::WatchEvent;
using hpad::k8s::testing::FakeApiClient;
namespace resources = hpad::k8s::resources;

Json Deployment(int replicas) {
  return Json::parse(R"({"apiVersion":"apps/v1","kind":"Deployment",
      "metadata":{"name":"web","namespace":"default","labels":{"app":"web"}},
      "spec":{"replicas":)" + std::to_string(replicas) + R"(,"selector":{"matchLabels":{"app":"web"}}},
      "status":{"replicas":)" + std::to_string(replicas) + "}}");
}

const ObjectKey kWeb{resources::kDeployments, "default", "web", ""};

}  // namespace

TEST_CASE("fake api: create, get, optimistic update, delete", "[fake_api]") {
  FakeApiClient api;
  auto created = api.Create(resources::kDeployments, "default", Deployment(2));
  REQUIRE(created.ok());
  const std::string rv = (*created)["metadata"]["resourceVersion"];
  CHECK((*created)["metadata"]["generation"] == 1);
  CHECK_FALSE((*created)["metadata"]["uid"].get<std::string>().empty());
  CHECK(api.Create(resources::kDeployments, "default", Deployment(2)).status().reason() == "AlreadyExists");

  Json stale = *created;
  Json next = *created;
  next["spec"]["replicas"] = 3;
  auto updated = api.Update(kWeb, next);
  REQUIRE(updated.ok());
  CHECK((*updated)["metadata"]["generation"] == 2);  // spec changed
  CHECK((*updated)["metadata"]["resourceVersion"] != rv);
  auto conflict = api.Update(kWeb, stale);
  CHECK(conflict.status().code() == StatusCode::kConflict);
  CHECK(conflict.status().http_code() == 409);

  CHECK(api.Delete(kWeb).ok());
  CHECK(api.Get(kWeb).status().code() == StatusCode::kNotFound);
  CHECK(api.Delete(kWeb).code() == StatusCode::kNotFound);
  CHECK(api.ActionStrings() == std::vector<std::string>{
                                   "create deployments default/web", "create deployments default/web",
                                   "update deployments default/web", "update deployments default/web",
                                   "delete deployments default/web", "get deployments default/web",
                                   "delete deployments default/web"});
}

TEST_CASE("fake api: status and scale subresources", "[fake_api]") {
  FakeApiClient api;
  api.Put(resources::kDeployments, Deployment(2));

  ObjectKey scale_key = kWeb;
  scale_key.subresource = "scale";
  auto scale = api.Get(scale_key);
  REQUIRE(scale.ok());
  CHECK((*scale)["kind"] == "Scale");
  CHECK((*scale)["spec"]["replicas"] == 2);
  CHECK((*scale)["status"]["selector"] == "app=web");

  Json s = *scale;
  s["spec"]["replicas"] = 5;
  REQUIRE(api.Update(scale_key, s).ok());
  CHECK((*api.Object(resources::kDeployments, "default", "web"))["spec"]["replicas"] == 5);
  REQUIRE(api.Patch(scale_key, PatchType::kMerge, R"({"spec":{"replicas":7}})").ok());
  CHECK((*api.Object(resources::kDeployments, "default", "web"))["spec"]["replicas"] == 7);

  ObjectKey status_key = kWeb;
  status_key.subresource = "status";
  Json body = *api.Object(resources::kDeployments, "default", "web");
  body["status"]["replicas"] = 7;
  body["spec"]["replicas"] = 100;  // ignored on the status subresource
  REQUIRE(api.Update(status_key, body).ok());
  Json now = *api.Object(resources::kDeployments, "default", "web");
  CHECK(now["status"]["replicas"] == 7);
  CHECK(now["spec"]["replicas"] == 7);
  CHECK(api.ActionsFor("update").back().ToString() == "update deployments/status default/web");
}

TEST_CASE("fake api: paged list and label selector", "[fake_api]") {
  FakeApiClient api;
  for (int i = 0; i < 5; ++i) {
    Json p = {{"metadata", {{"namespace", "ns"}, {"name", "p" + std::to_string(i)},
                            {"labels", {{"app", i % 2 ? "odd" : "even"}}}}}};
    api.Put(resources::kPods, p);
  }
  ListOptions o;
  o.limit = 2;
  std::vector<std::string> names;
  std::string rv;
  do {
    auto page = api.List(resources::kPods, "ns", o);
    REQUIRE(page.ok());
    CHECK((*page)["items"].size() <= 2);
    for (const auto& it : (*page)["items"]) names.push_back(it["metadata"]["name"]);
    if (rv.empty()) rv = (*page)["metadata"]["resourceVersion"];
    CHECK((*page)["metadata"]["resourceVersion"] == rv);
    o.continue_token = (*page)["metadata"].value("continue", "");
  } while (!o.continue_token.empty());
  CHECK(names == std::vector<std::string>{"p0", "p1", "p2", "p3", "p4"});

  ListOptions sel;
  sel.label_selector = "app=odd";
  CHECK((*api.List(resources::kPods, "", sel))["items"].size() == 2);
  CHECK((*api.List(resources::kPods, "other", {}))["items"].empty());
}

TEST_CASE("fake api: watch replays history and reports 410 after compaction", "[fake_api]") {
  FakeApiClient api;
  api.Put(resources::kPods, {{"metadata", {{"namespace", "ns"}, {"name", "a"}}}});
  const std::string rv = api.CurrentResourceVersion();
  api.Put(resources::kPods, {{"metadata", {{"namespace", "ns"}, {"name", "b"}}}});
  api.Remove(resources::kPods, "ns", "a");

  ListOptions o;
  o.resource_version = rv;
  auto w = api.Watch(resources::kPods, "ns", o);
  REQUIRE(w.ok());
  auto e1 = (*w)->Next();
  REQUIRE(e1.ok());
  REQUIRE(e1->has_value());
  CHECK((*e1)->type == WatchEvent::Type::kAdded);
  CHECK((*e1)->object["metadata"]["name"] == "b");
  auto e2 = (*w)->Next();
  REQUIRE((e2.ok() && e2->has_value()));
  CHECK((*e2)->type == WatchEvent::Type::kDeleted);
  api.DisconnectWatches(resources::kPods);
  auto end = (*w)->Next();
  REQUIRE(end.ok());
  CHECK_FALSE(end->has_value());

  api.Compact();
  auto old = api.Watch(resources::kPods, "ns", o);
  REQUIRE(old.ok());
  auto gone = (*old)->Next();
  REQUIRE((gone.ok() && gone->has_value()));
  CHECK((*gone)->type == WatchEvent::Type::kError);
  CHECK((*gone)->object["code"] == 410);
}

TEST_CASE("fake api: FailNext fails matching requests, in order, and records them", "[fake_api]") {
  FakeApiClient api;
  api.FailNext(2, hpad::UnavailableError("down"), "get");
  api.FailNext(1, hpad::Status(StatusCode::kForbidden, "no", "Forbidden", 403));
  CHECK(api.List(resources::kPods, "", {}).status().code() == StatusCode::kForbidden);
  CHECK(api.Get(kWeb).status().code() == StatusCode::kUnavailable);
  CHECK(api.Get(kWeb).status().code() == StatusCode::kUnavailable);
  CHECK(api.Get(kWeb).status().code() == StatusCode::kNotFound);
  auto acts = api.Actions();
  REQUIRE(acts.size() == 4);
  for (const auto& a : acts) CHECK(a.failed);

  api.SetPathResponse("/apis/custom.metrics.k8s.io/v1beta2/x", Json{{"items", Json::array()}});
  CHECK(api.GetPath("/apis/custom.metrics.k8s.io/v1beta2/x").ok());
  CHECK(api.GetPath("/nope").status().code() == StatusCode::kNotFound);
}

TEST_CASE("fake api: the simulator's storage semantics (one in-memory API server model)", "[fake_api]") {
  FakeApiClient api;
  // A main-resource write keeps .status of a kind with a status subresource.
  api.Put(resources::kDeployments, Deployment(2));
  Json body = *api.Object(resources::kDeployments, "default", "web");
  body["status"]["replicas"] = 40;
  REQUIRE(api.Update(kWeb, body).ok());
  CHECK((*api.Object(resources::kDeployments, "default", "web"))["status"]["replicas"] == 2);

  // A paged list is a snapshot: a pod created between pages does not appear.
  for (const char* name : {"a", "b", "c"})
    api.Put(resources::kPods, {{"metadata", {{"namespace", "ns"}, {"name", name}, {"labels", {{"app", "x"}}}}}});
  ListOptions page;
  page.limit = 2;
  auto first = api.List(resources::kPods, "ns", page);
  REQUIRE(first.ok());
  api.Put(resources::kPods, {{"metadata", {{"namespace", "ns"}, {"name", "bb"}}}});
  page.continue_token = (*first)["metadata"]["continue"];
  auto second = api.List(resources::kPods, "ns", page);
  REQUIRE(second.ok());
  REQUIRE((*second)["items"].size() == 1);
  CHECK((*second)["items"][0]["metadata"]["name"] == "c");

  // A watch with a label selector sees an object that stops matching as DELETED.
  ListOptions sel;
  sel.label_selector = "app=x";
  auto w = api.Watch(resources::kPods, "ns", sel);
  REQUIRE(w.ok());
  for (int i = 0; i < 3; ++i) REQUIRE(((*w)->Next().ok()));  // the replayed a, b, c
  Json a = *api.Object(resources::kPods, "ns", "a");
  a["metadata"]["labels"]["app"] = "y";
  api.Put(resources::kPods, a);
  auto ev = (*w)->Next();
  REQUIRE((ev.ok() && ev->has_value()));
  CHECK((*ev)->type == WatchEvent::Type::kDeleted);
  CHECK((*ev)->object["metadata"]["name"] == "a");

  // Field selectors apply.
  ListOptions by_name;
  by_name.field_selector = "metadata.name=b";
  CHECK((*api.List(resources::kPods, "ns", by_name))["items"].size() == 1);
}
