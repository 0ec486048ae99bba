// ObjectStore (through the ClusterState facade, as its callers use it):
// identity, resourceVersions, optimistic concurrency, selectors, snapshot
// paging, version conversion on one storage, the scale subresource for apps
// kinds and CRDs, change listeners.
#include <catch2/catch.hpp>

#include "tests/sim/apiserver/test_objects.h"

namespace hpad::sim {
namespace {

using namespace hpad::sim::testing;

TEST_CASE("ClusterState assigns identity, resourceVersion and generation", "[cluster_state]") {
  SimulatedClock clock(T0());
  ClusterState s(clock);
  auto a = s.Create(kPods, "default", Pod("a", "web"));
  REQUIRE(a.ok());
  CHECK((*a)["metadata"]["creationTimestamp"] == "2026-01-01T00:00:00Z");
  CHECK((*a)["metadata"]["generation"] == 1);
  CHECK(!(*a)["metadata"]["uid"].get<std::string>().empty());
  auto b = s.Create(kPods, "default", Pod("b", "web"));
  REQUIRE(b.ok());
  CHECK(Rv(*b) > Rv(*a));
  CHECK((*b)["metadata"]["uid"] != (*a)["metadata"]["uid"]);
  CHECK(s.ResourceVersion() == Rv(*b));

  SECTION("create of an existing name is 409 AlreadyExists") {
    auto dup = s.Create(kPods, "default", Pod("a", "web"));
    REQUIRE(!dup.ok());
    CHECK(dup.status().code() == StatusCode::kConflict);
    CHECK(dup.status().reason() == "AlreadyExists");
    CHECK(dup.status().message() == "pods \"a\" already exists");
  }
  SECTION("get of a missing name is 404 with the upstream message") {
    auto g = s.Get(kHpaV2, "default", "nope");
    REQUIRE(!g.ok());
    CHECK(g.status().http_code() == 404);
    CHECK(g.status().message() == "horizontalpodautoscalers.autoscaling \"nope\" not found");
  }
  SECTION("generateName") {
    Json p = Pod("", "web");
    p["metadata"].erase("name");
    p["metadata"]["generateName"] = "web-";
    auto c = s.Create(kPods, "default", p);
    REQUIRE(c.ok());
    CHECK((*c)["metadata"]["name"].get<std::string>().rfind("web-", 0) == 0);
    CHECK((*c)["metadata"]["name"].get<std::string>().size() == 9);
  }
}

TEST_CASE("ClusterState update: 409 on stale resourceVersion, generation on spec change only", "[cluster_state]") {
  SimulatedClock clock(T0());
  ClusterState s(clock);
  auto d = s.Create(kDeployments, "default", Deployment("web", 2));
  REQUIRE(d.ok());
  Json stale = *d;

  Json next = *d;
  next["spec"]["replicas"] = 3;
  auto u = s.Update(kDeployments, "default", next);
  REQUIRE(u.ok());
  CHECK((*u)["metadata"]["generation"] == 2);
  CHECK(Rv(*u) > Rv(*d));

  stale["spec"]["replicas"] = 5;
  auto conflict = s.Update(kDeployments, "default", stale);
  REQUIRE(!conflict.ok());
  CHECK(conflict.status().code() == StatusCode::kConflict);
  CHECK(conflict.status().reason() == "Conflict");

  // Without a resourceVersion the write is unconditional.
  stale["metadata"].erase("resourceVersion");
  REQUIRE(s.Update(kDeployments, "default", stale).ok());

  // A label change is not a spec change.
  Json labels = *s.Get(kDeployments, "default", "web");
  labels["metadata"]["labels"] = {{"x", "y"}};
  auto l = s.Update(kDeployments, "default", labels);
  REQUIRE(l.ok());
  CHECK((*l)["metadata"]["generation"] == 3);

  // PUT on the main resource keeps the status (status subresource kinds).
  Json st = *l;
  st["status"]["replicas"] = 99;
  auto kept = s.Update(kDeployments, "default", st);
  REQUIRE(kept.ok());
  CHECK((*kept)["status"]["replicas"] == 2);
  auto us = s.UpdateStatus(kDeployments, "default", st);
  REQUIRE(us.ok());
  CHECK((*us)["status"]["replicas"] == 99);
  CHECK((*us)["metadata"]["generation"] == 3);

  // A no-op update does not move the resourceVersion.
  auto again = s.UpdateStatus(kDeployments, "default", *us);
  REQUIRE(again.ok());
  CHECK(Rv(*again) == Rv(*us));
}

TEST_CASE("ClusterState list: label and field selectors, paging", "[cluster_state]") {
  SimulatedClock clock(T0());
  ClusterState s(clock);
  for (int i = 0; i < 5; ++i) REQUIRE(s.Create(kPods, "default", Pod("web-" + std::to_string(i), "web")).ok());
  REQUIRE(s.Create(kPods, "default", Pod("db-0", "db", "Pending")).ok());
  Json other = Pod("web-x", "web");
  other["metadata"]["namespace"] = "other";
  REQUIRE(s.Create(kPods, "other", other).ok());
  // The body's namespace must agree with the request's.
  CHECK(s.Create(kPods, "default", other).status().http_code() == 400);

  ListQuery q;
  q.label_selector = "app=web";
  auto l = s.List(kPods, "default", q);
  REQUIRE(l.ok());
  CHECK(l->items.size() == 5);
  CHECK(l->resource_version == std::to_string(s.ResourceVersion()));
  auto all = s.List(kPods, "", q);
  CHECK(all->items.size() == 6);

  ListQuery f;
  f.field_selector = "status.phase=Pending";
  CHECK(s.List(kPods, "default", f)->items.size() == 1);
  f.field_selector = "status.phase!=Pending,metadata.name=web-3";
  CHECK(s.List(kPods, "default", f)->items.size() == 1);

  ListQuery page;
  page.limit = 2;
  page.label_selector = "app in (web)";
  std::vector<std::string> names;
  int pages = 0;
  while (true) {
    auto p = s.List(kPods, "default", page);
    REQUIRE(p.ok());
    ++pages;
    for (auto& o : p->items) names.push_back(o["metadata"]["name"]);
    if (p->continue_token.empty()) break;
    CHECK(p->remaining == -1);  // not counted with a selector, as the real server
    page.continue_token = p->continue_token;
  }
  CHECK(pages == 3);
  CHECK(names == std::vector<std::string>{"web-0", "web-1", "web-2", "web-3", "web-4"});

  ListQuery bad;
  bad.label_selector = "app in (";
  CHECK(s.List(kPods, "default", bad).status().http_code() == 400);
}

TEST_CASE("ClusterState paging across many objects: every object once, in order, exact remainingItemCount",
          "[cluster_state][paging]") {
  SimulatedClock clock(T0());
  ClusterState s(clock);
  // Namespace names that share prefixes ("a", "a-b", "ab"): each is its own key range.
  const std::vector<std::string> namespaces = {"a", "a-b", "ab", "b"};
  std::vector<std::string> all;
  for (const std::string& ns : namespaces) {
    for (int i = 0; i < 250; ++i) {
      std::string name = "pod-" + std::to_string(i);
      REQUIRE(s.Create(kPods, ns, PodIn(ns, name, i % 2 == 0 ? "even" : "odd")).ok());
      all.push_back(ns + "/" + name);
    }
  }
  std::sort(all.begin(), all.end());

  ListQuery q;
  q.limit = 7;
  Paged every = PageAll(s, "", q);
  CHECK(every.keys == all);
  CHECK(every.pages == (1000 + 6) / 7);
  // After page k (k from 1) 1000 - 7k objects are left.
  for (size_t k = 0; k < every.remaining.size(); ++k) CHECK(every.remaining[k] == 1000 - 7 * int64_t(k + 1));

  for (const std::string& ns : namespaces) {
    Paged one = PageAll(s, ns, q);
    std::vector<std::string> want;
    for (const std::string& k : all)
      if (k.compare(0, ns.size() + 1, ns + "/") == 0) want.push_back(k);
    CHECK(one.keys == want);
    for (size_t k = 0; k < one.remaining.size(); ++k) CHECK(one.remaining[k] == 250 - 7 * int64_t(k + 1));
  }

  // A selector: pages hold `limit` matches; the count is left out (-1).
  q.label_selector = "app=even";
  Paged even = PageAll(s, "ab", q);
  CHECK(even.keys.size() == 125);
  for (int64_t r : even.remaining) CHECK(r == -1);
  // A limit the list fits exactly: one page, no continue token.
  ListQuery exact;
  exact.limit = 250;
  auto p = s.List(kPods, "a-b", exact);
  REQUIRE(p.ok());
  CHECK(p->items.size() == 250);
  CHECK(p->continue_token.empty());
}

TEST_CASE("ClusterState paging: a continued list is the first page's snapshot despite concurrent writes",
          "[cluster_state][paging]") {
  SimulatedClock clock(T0());
  ClusterState s(clock);
  for (int i = 0; i < 20; ++i) {
    char name[16];
    std::snprintf(name, sizeof name, "p%02d", i);
    REQUIRE(s.Create(kPods, "default", Pod(name, "web")).ok());
  }
  ListQuery q;
  q.limit = 5;
  auto first = s.List(kPods, "default", q);
  REQUIRE(first.ok());
  REQUIRE(first->items.size() == 5);
  CHECK(first->remaining == 15);
  const std::string snapshot_rv = first->resource_version;

  // Meanwhile: deletes before and after the cursor, a create after it (and
  // one inside the first page's range), a change to a later object, and a
  // delete + re-create of another.
  REQUIRE(s.Delete(kPods, "default", "p01").ok());
  REQUIRE(s.Delete(kPods, "default", "p10").ok());
  REQUIRE(s.Create(kPods, "default", Pod("p00a", "web")).ok());
  REQUIRE(s.Create(kPods, "default", Pod("p15a", "web")).ok());
  Json changed = *s.Get(kPods, "default", "p12");
  changed["metadata"]["labels"]["changed"] = "yes";
  REQUIRE(s.Update(kPods, "default", changed).ok());
  REQUIRE(s.Delete(kPods, "default", "p17").ok());
  REQUIRE(s.Create(kPods, "default", Pod("p17", "db")).ok());

  std::vector<std::string> names;
  for (const Json& o : first->items) names.push_back(o["metadata"]["name"]);
  q.continue_token = first->continue_token;
  int64_t expected_remaining = 10;
  while (!q.continue_token.empty()) {
    auto p = s.List(kPods, "default", q);
    REQUIRE(p.ok());
    CHECK(p->resource_version == snapshot_rv);
    for (const Json& o : p->items) {
      names.push_back(o["metadata"]["name"]);
      // Every object as it was at the snapshot.
      CHECK(std::stoll(o["metadata"]["resourceVersion"].get<std::string>()) <= std::stoll(snapshot_rv));
      CHECK(!o["metadata"]["labels"].contains("changed"));
      CHECK(o["metadata"]["labels"]["app"] == "web");
    }
    if (!p->continue_token.empty()) {
      CHECK(p->remaining == expected_remaining);
      expected_remaining -= 5;
    }
    q.continue_token = p->continue_token;
  }
  std::vector<std::string> want;
  for (int i = 0; i < 20; ++i) {
    char name[16];
    std::snprintf(name, sizeof name, "p%02d", i);
    want.push_back(name);
  }
  CHECK(names == want);  // no new object, every deleted one, none twice

  // A new list sees the current state.
  ListQuery fresh;
  auto now = s.List(kPods, "default", fresh);
  REQUIRE(now.ok());
  CHECK(now->items.size() == 20);  // -p01 -p10 +p00a +p15a
  CHECK(now->resource_version == std::to_string(s.ResourceVersion()));
}

TEST_CASE("ClusterState paging: expired and malformed continue tokens", "[cluster_state][paging]") {
  SimulatedClock clock(T0());
  ClusterState s(clock);
  for (int i = 0; i < 10; ++i) REQUIRE(s.Create(kPods, "default", Pod("p" + std::to_string(i), "web")).ok());
  s.SetHistoryLimit(3);
  ListQuery q;
  q.limit = 4;
  auto first = s.List(kPods, "default", q);
  REQUIRE(first.ok());
  q.continue_token = first->continue_token;
  // Three writes: the history still reaches back to the snapshot.
  for (int i = 0; i < 3; ++i) REQUIRE(s.Create(k8s::resources::kEvents, "default", Json{{"metadata", {{"name", "e" + std::to_string(i)}}}}).ok());
  CHECK(s.List(kPods, "default", q).ok());
  // One more: the snapshot is compacted away (as etcd's compaction upstream).
  REQUIRE(s.Create(k8s::resources::kEvents, "default", Json{{"metadata", {{"name", "e3"}}}}).ok());
  auto gone = s.List(kPods, "default", q);
  REQUIRE(!gone.ok());
  CHECK(gone.status().http_code() == 410);
  CHECK(gone.status().reason() == "Expired");

  for (const char* bad : {"nocolon", "x:default/p1", "-3:default/p1", "999999:default/p1"}) {
    ListQuery b;
    b.limit = 4;
    b.continue_token = bad;
    INFO(bad);
    CHECK(s.List(kPods, "default", b).status().http_code() == 400);
  }
}

TEST_CASE("ClusterState events: fieldSelector on involvedObject (kubectl describe)", "[cluster_state]") {
  SimulatedClock clock(T0());
  ClusterState s(clock);
  auto hpa = s.Apply(Hpa("web"));
  REQUIRE(hpa.ok());
  std::string uid = (*hpa)["metadata"]["uid"];
  for (const std::string& n : {std::string("web"), std::string("other")}) {
    Json ev = {{"apiVersion", "v1"},
               {"kind", "Event"},
               {"metadata", {{"name", n + ".1"}, {"namespace", "default"}}},
               {"involvedObject",
                {{"kind", "HorizontalPodAutoscaler"}, {"name", n}, {"namespace", "default"}, {"uid", n == "web" ? uid : "x"}}},
               {"reason", "SuccessfulRescale"},
               {"message", "New size: 3"}};
    REQUIRE(s.Create(k8s::resources::kEvents, "default", ev).ok());
  }
  ListQuery q;
  // Terms in any order (kubectl-compat 4).
  q.field_selector = "involvedObject.uid=" + uid +
                     ",involvedObject.kind=HorizontalPodAutoscaler,involvedObject.name=web,involvedObject.namespace=default";
  auto l = s.List(k8s::resources::kEvents, "default", q);
  REQUIRE(l.ok());
  REQUIRE(l->items.size() == 1);
  CHECK(l->items[0]["metadata"]["name"] == "web.1");
  // The events.k8s.io/v1 view of the same storage.
  auto v1 = s.List({"events.k8s.io", "v1", "events"}, "default", {});
  REQUIRE(v1.ok());
  REQUIRE(v1->items.size() == 2);
  CHECK(v1->items[0]["apiVersion"] == "events.k8s.io/v1");
  CHECK(v1->items[0]["note"] == "New size: 3");
  CHECK(v1->items[0]["regarding"]["kind"] == "HorizontalPodAutoscaler");
}

TEST_CASE("ClusterState serves HPAs in v1 and v2 from one storage", "[cluster_state]") {
  SimulatedClock clock(T0());
  ClusterState s(clock);
  Json v1 = {{"apiVersion", "autoscaling/v1"},
             {"kind", "HorizontalPodAutoscaler"},
             {"metadata", {{"name", "web"}}},
             {"spec",
              {{"scaleTargetRef", {{"apiVersion", "apps/v1"}, {"kind", "Deployment"}, {"name", "web"}}},
               {"minReplicas", 1},
               {"maxReplicas", 10},
               {"targetCPUUtilizationPercentage", 50}}}};
  REQUIRE(s.Create(kHpaV1, "default", v1).ok());
  auto v2 = s.Get(kHpaV2, "default", "web");
  REQUIRE(v2.ok());
  CHECK((*v2)["apiVersion"] == "autoscaling/v2");
  CHECK((*v2)["spec"]["metrics"][0]["resource"]["target"]["averageUtilization"] == 50);
  auto back = s.Get(kHpaV1, "default", "web");
  REQUIRE(back.ok());
  CHECK((*back)["apiVersion"] == "autoscaling/v1");
  CHECK((*back)["spec"]["targetCPUUtilizationPercentage"] == 50);
  auto beta = s.Get({"autoscaling", "v2beta2", "horizontalpodautoscalers"}, "default", "web");
  REQUIRE(beta.ok());
  CHECK((*beta)["apiVersion"] == "autoscaling/v2beta2");
}

TEST_CASE("ClusterState scale subresource for apps kinds and CRDs", "[cluster_state]") {
  SimulatedClock clock(T0());
  ClusterState s(clock);
  REQUIRE(s.Apply(Deployment("web", 2)).ok());
  auto sc = s.GetScale(kDeployments, "default", "web");
  REQUIRE(sc.ok());
  CHECK((*sc)["kind"] == "Scale");
  CHECK((*sc)["apiVersion"] == "autoscaling/v1");
  CHECK((*sc)["spec"]["replicas"] == 2);
  CHECK((*sc)["status"]["replicas"] == 2);
  CHECK((*sc)["status"]["selector"] == "app=web");

  Json up = *sc;
  up["spec"]["replicas"] = 4;
  auto r = s.UpdateScale(kDeployments, "default", "web", up);
  REQUIRE(r.ok());
  CHECK((*r)["spec"]["replicas"] == 4);
  CHECK((*s.Get(kDeployments, "default", "web"))["spec"]["replicas"] == 4);
  CHECK(s.UpdateScale(kDeployments, "default", "web", up).status().code() == StatusCode::kConflict);

  Json crd = Json::parse(R"({
    "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
    "metadata": {"name": "workers.example.com"},
    "spec": {"group": "example.com", "scope": "Namespaced",
      "names": {"plural": "workers", "singular": "worker", "kind": "Worker", "shortNames": ["wk"]},
      "versions": [{"name": "v1", "served": true, "storage": true,
        "subresources": {"status": {}, "scale": {"specReplicasPath": ".spec.size",
          "statusReplicasPath": ".status.size", "labelSelectorPath": ".status.selector"}}}]}})");
  REQUIRE(s.Apply(crd).ok());
  auto info = s.FindByKind("example.com/v1", "Worker");
  REQUIRE(info);
  CHECK(info->has_scale);
  CHECK(info->short_names == std::vector<std::string>{"wk"});
  REQUIRE(s.Apply(Json::parse(R"({"apiVersion": "example.com/v1", "kind": "Worker",
      "metadata": {"name": "w", "namespace": "default"}, "spec": {"size": 3},
      "status": {"size": 2, "selector": "app=w"}})")).ok());
  auto wsc = s.GetScale(info->gvr, "default", "w");
  REQUIRE(wsc.ok());
  CHECK((*wsc)["spec"]["replicas"] == 3);
  CHECK((*wsc)["status"]["replicas"] == 2);
  CHECK((*wsc)["status"]["selector"] == "app=w");
  Json set = {{"spec", {{"replicas", 6}}}};
  REQUIRE(s.UpdateScale(info->gvr, "default", "w", set).ok());
  CHECK((*s.Get(info->gvr, "default", "w"))["spec"]["size"] == 6);
}

TEST_CASE("ClusterState change listeners run in commit order and may write", "[cluster_state]") {
  SimulatedClock clock(T0());
  ClusterState s(clock);
  std::vector<std::string> seen;
  s.AddChangeListener([&](const StoreEvent& ev) {
    std::string what = ev.storage_resource + ":" + (*ev.object)["metadata"]["name"].get<std::string>();
    seen.push_back(what);
    // Act as a tiny ReplicaSet controller: a new deployment gets a pod.
    if (ev.type == EvType::kAdded && ev.storage_resource == "deployments")
      (void)s.Create(kPods, "default", Pod((*ev.object)["metadata"]["name"].get<std::string>() + "-0", "x"));
  });
  REQUIRE(s.Apply(Deployment("web", 1)).ok());
  CHECK(seen == std::vector<std::string>{"deployments:web", "pods:web-0"});
  CHECK(s.Get(kPods, "default", "web-0").ok());
}

}  // namespace
}  // namespace hpad::sim
