// ClusterState: resourceVersions, optimistic concurrency, selectors, paging,
// watch fan-out / replay / 410, apply semantics, HPA defaulting (13.1
// D1-D3), scale subresource, CRDs, change listeners, metrics storage,
// faults and request accounting.
#include <catch2/catch.hpp>

#include "k8sclient/api/time_format.h"
#include "sim/apiserver/cluster_state.h"
#include "sim/apiserver/store_util.h"

namespace hpad::sim {
namespace {

using k8s::resources::kDeployments;
using k8s::resources::kHpaV1;
using k8s::resources::kHpaV2;
using k8s::resources::kPods;
using EvType = k8s::WatchEvent::Type;

Time T0() { return *k8s::ParseRfc3339("2026-01-01T00:00:00Z"); }

Json Pod(const std::string& name, const std::string& app, const std::string& phase = "Running") {
  return {{"apiVersion", "v1"},
          {"kind", "Pod"},
          {"metadata", {{"name", name}, {"namespace", "default"}, {"labels", {{"app", app}}}}},
          {"spec", {{"containers", {{{"name", "c"}, {"image", "i"}}}}}},
          {"status", {{"phase", phase}}}};
}

Json Deployment(const std::string& name, int replicas) {
  return {{"apiVersion", "apps/v1"},
          {"kind", "Deployment"},
          {"metadata", {{"name", name}, {"namespace", "default"}}},
          {"spec", {{"replicas", replicas}, {"selector", {{"matchLabels", {{"app", name}}}}}}},
          {"status", {{"replicas", replicas}}}};
}

Json Hpa(const std::string& name) {
  return {{"apiVersion", "autoscaling/v2"},
          {"kind", "HorizontalPodAutoscaler"},
          {"metadata", {{"name", name}, {"namespace", "default"}}},
          {"spec",
           {{"scaleTargetRef", {{"apiVersion", "apps/v1"}, {"kind", "Deployment"}, {"name", name}}},
            {"maxReplicas", 10},
            {"metrics",
             {{{"type", "Resource"},
               {"resource", {{"name", "cpu"}, {"target", {{"type", "Utilization"}, {"averageUtilization", 60}}}}}}}}}}};
}

int64_t Rv(const Json& obj) { return std::stoll(obj["metadata"]["resourceVersion"].get<std::string>()); }

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

Json PodIn(const std::string& ns, const std::string& name, const std::string& app = "web") {
  Json p = Pod(name, app);
  p["metadata"]["namespace"] = ns;
  return p;
}

std::string KeyOf(const Json& o) {
  return o["metadata"].value("namespace", "") + "/" + o["metadata"].value("name", "");
}

// Pages through a list; every page's items, resourceVersion and remaining.
struct Paged {
  std::vector<std::string> keys;
  std::vector<std::string> rvs;
  std::vector<int64_t> remaining;  // per page with a continue token
  int pages = 0;
};
Paged PageAll(const ClusterState& s, const std::string& ns, ListQuery q) {
  Paged out;
  while (true) {
    auto p = s.List(kPods, ns, q);
    REQUIRE(p.ok());
    ++out.pages;
    for (const Json& o : p->items) out.keys.push_back(KeyOf(o));
    out.rvs.push_back(p->resource_version);
    if (p->continue_token.empty()) break;
    out.remaining.push_back(p->remaining);
    q.continue_token = p->continue_token;
  }
  return out;
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

TEST_CASE("ClusterState watch: fan-out, resume, replay, selector transitions, 410", "[cluster_state]") {
  SimulatedClock clock(T0());
  ClusterState s(clock);
  auto a = s.Create(kPods, "default", Pod("a", "web"));
  REQUIRE(a.ok());
  const int64_t rv_after_a = Rv(*a);

  WatchOptions live;
  live.resource_version = std::to_string(rv_after_a);
  auto w1 = s.Watch(kPods, live);
  auto w2 = s.Watch(kPods, live);
  REQUIRE(w1.ok());
  REQUIRE(w2.ok());
  REQUIRE(s.Create(kPods, "default", Pod("b", "web")).ok());
  Json b = *s.Get(kPods, "default", "b");
  b["metadata"]["labels"]["app"] = "db";
  REQUIRE(s.Update(kPods, "default", b).ok());
  REQUIRE(s.Delete(kPods, "default", "a").ok());

  for (auto* w : {&*w1, &*w2}) {
    std::vector<std::pair<EvType, std::string>> got;
    k8s::WatchEvent ev;
    while ((*w)->Wait(std::chrono::milliseconds(0), &ev) == Watcher::Next::kEvent)
      got.emplace_back(ev.type, ev.object["metadata"]["name"]);
    CHECK(got == std::vector<std::pair<EvType, std::string>>{
                     {EvType::kAdded, "b"}, {EvType::kModified, "b"}, {EvType::kDeleted, "a"}});
  }

  SECTION("resourceVersion \"0\" replays ADDED for existing objects") {
    WatchOptions replay;
    replay.resource_version = "0";
    auto w = s.Watch(kPods, replay);
    REQUIRE(w.ok());
    k8s::WatchEvent ev;
    REQUIRE((*w)->Wait(std::chrono::milliseconds(0), &ev) == Watcher::Next::kEvent);
    CHECK(ev.type == EvType::kAdded);
    CHECK(ev.object["metadata"]["name"] == "b");
    CHECK((*w)->Wait(std::chrono::milliseconds(0), &ev) == Watcher::Next::kTimeout);
  }
  SECTION("a label selector turns MODIFIED into ADDED / DELETED at the boundary") {
    WatchOptions sel;
    sel.resource_version = std::to_string(rv_after_a);
    sel.label_selector = "app=web";
    auto w = s.Watch(kPods, sel);
    REQUIRE(w.ok());
    std::vector<EvType> types;
    k8s::WatchEvent ev;
    while ((*w)->Wait(std::chrono::milliseconds(0), &ev) == Watcher::Next::kEvent) types.push_back(ev.type);
    // b added (web), b relabelled to db (leaves: DELETED), a deleted.
    CHECK(types == std::vector<EvType>{EvType::kAdded, EvType::kDeleted, EvType::kDeleted});
  }
  SECTION("too old a resourceVersion is 410 Gone once history is compacted") {
    s.SetHistoryLimit(1);
    auto gone = s.Watch(kPods, live);
    REQUIRE(!gone.ok());
    CHECK(gone.status().code() == StatusCode::kGone);
    CHECK(gone.status().http_code() == 410);
    CHECK(gone.status().reason() == "Expired");
    WatchOptions recent;
    recent.resource_version = std::to_string(s.ResourceVersion() - 1);
    CHECK(s.Watch(kPods, recent).ok());
  }
  SECTION("bookmarks only for watchers that asked; close wakes a waiter") {
    WatchOptions bm;
    bm.resource_version = std::to_string(s.ResourceVersion());
    bm.allow_bookmarks = true;
    auto wb = s.Watch(kPods, bm);
    REQUIRE(wb.ok());
    s.BroadcastBookmarks();
    k8s::WatchEvent ev;
    REQUIRE((*wb)->Wait(std::chrono::milliseconds(0), &ev) == Watcher::Next::kEvent);
    CHECK(ev.type == EvType::kBookmark);
    CHECK(ev.object["metadata"]["resourceVersion"] == std::to_string(s.ResourceVersion()));
    CHECK((*w1)->Wait(std::chrono::milliseconds(0), &ev) == Watcher::Next::kTimeout);
    s.CloseAllWatchers();
    CHECK((*w1)->Wait(std::chrono::milliseconds(5000), &ev) == Watcher::Next::kClosed);
  }
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

TEST_CASE("HPA defaulting (13.1 D1-D3)", "[cluster_state]") {
  SECTION("D1: minReplicas 1 and cpu 80% when metrics are empty; D2: no behavior stays none") {
    Json h = Hpa("x");
    h["spec"].erase("metrics");
    DefaultHpaV2(h);
    CHECK(h["spec"]["minReplicas"] == 1);
    CHECK(h["spec"]["metrics"][0]["resource"]["name"] == "cpu");
    CHECK(h["spec"]["metrics"][0]["resource"]["target"]["averageUtilization"] == 80);
    CHECK(!h["spec"].contains("behavior"));
  }
  SECTION("D3: missing directions and fields are filled, given policies kept whole") {
    Json h = Hpa("x");
    h["spec"]["minReplicas"] = 2;
    h["spec"]["behavior"] = {{"scaleDown", {{"policies", {{{"type", "Pods"}, {"value", 1}, {"periodSeconds", 60}}}}}}};
    DefaultHpaV2(h);
    CHECK(h["spec"]["minReplicas"] == 2);
    const Json& up = h["spec"]["behavior"]["scaleUp"];
    CHECK(up["stabilizationWindowSeconds"] == 0);
    CHECK(up["selectPolicy"] == "Max");
    CHECK(up["policies"] == Json::parse(R"([{"type":"Pods","value":4,"periodSeconds":15},
                                             {"type":"Percent","value":100,"periodSeconds":15}])"));
    const Json& down = h["spec"]["behavior"]["scaleDown"];
    CHECK(!down.contains("stabilizationWindowSeconds"));  // the controller flag applies (B1)
    CHECK(down["selectPolicy"] == "Max");
    CHECK(down["policies"].size() == 1);
    CHECK(down["policies"][0]["type"] == "Pods");
  }
  SECTION("an empty behavior gets both defaults") {
    Json h = Hpa("x");
    h["spec"]["behavior"] = Json::object();
    DefaultHpaV2(h);
    CHECK(h["spec"]["behavior"]["scaleDown"]["policies"] ==
          Json::parse(R"([{"type":"Percent","value":100,"periodSeconds":15}])"));
  }
}

TEST_CASE("ClusterState apply: create or replace, keep live status when none is given", "[cluster_state]") {
  SimulatedClock clock(T0());
  ClusterState s(clock);
  auto first = s.Apply(Hpa("web"));
  REQUIRE(first.ok());
  CHECK((*first)["spec"]["minReplicas"] == 1);  // D1 on apply
  Json status = *first;
  status["status"] = {{"currentReplicas", 2}, {"desiredReplicas", 3}};
  REQUIRE(s.UpdateStatus(kHpaV2, "default", status).ok());

  Json again = Hpa("web");
  again["spec"]["maxReplicas"] = 7;
  again["metadata"]["resourceVersion"] = "1";  // ignored by apply
  auto second = s.Apply(again);
  REQUIRE(second.ok());
  CHECK((*second)["spec"]["maxReplicas"] == 7);
  CHECK((*second)["status"]["desiredReplicas"] == 3);
  CHECK((*second)["metadata"]["uid"] == (*first)["metadata"]["uid"]);
  CHECK((*second)["metadata"]["generation"] == 2);

  Json with_status = Hpa("web");
  with_status["status"] = {{"currentReplicas", 5}};
  auto third = s.Apply(with_status);
  REQUIRE(third.ok());
  CHECK((*third)["status"] == Json{{"currentReplicas", 5}});

  REQUIRE(s.DeleteObject({{"kind", "HorizontalPodAutoscaler"}, {"namespace", "default"}, {"name", "web"}}).ok());
  CHECK(s.Get(kHpaV2, "default", "web").status().code() == StatusCode::kNotFound);
  CHECK(!s.Apply({{"apiVersion", "v9"}, {"kind", "Nope"}, {"metadata", {{"name", "x"}}}}).ok());
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

TEST_CASE("ClusterState metrics storage", "[cluster_state]") {
  SimulatedClock clock(T0());
  ClusterState s(clock);
  Json pm = {{"apiVersion", "metrics.k8s.io/v1beta1"},
             {"kind", "PodMetrics"},
             {"metadata", {{"name", "web-0"}, {"namespace", "default"}, {"labels", {{"app", "web"}}}}},
             {"timestamp", "2026-01-01T00:00:00Z"},
             {"window", "60s"},
             {"containers", {{{"name", "c"}, {"usage", {{"cpu", "90m"}}}}}}};
  REQUIRE(s.Apply(pm).ok());
  CHECK(s.ListPodMetrics("default", "app=web")->size() == 1);
  CHECK(s.ListPodMetrics("default", "app=db")->empty());
  CHECK((*s.GetPodMetrics("default", "web-0"))["window"] == "60s");
  // Without labels of its own a PodMetrics is selected by its pod's labels.
  Json bare = pm;
  bare["metadata"] = {{"name", "db-0"}, {"namespace", "default"}};
  REQUIRE(s.Apply(bare).ok());
  CHECK(s.ListPodMetrics("default", "app=db")->empty());  // no pod db-0 yet
  REQUIRE(s.Apply({{"apiVersion", "v1"}, {"kind", "Pod"},
                   {"metadata", {{"name", "db-0"}, {"namespace", "default"}, {"labels", {{"app", "db"}}}}}})
              .ok());
  REQUIRE(s.ListPodMetrics("default", "app=db")->size() == 1);
  CHECK(!(*s.ListPodMetrics("default", "app=db"))[0]["metadata"].contains("labels"));  // served as written
  CHECK(s.ListPodMetrics("default", "")->size() == 2);

  Json mv = {{"describedObject", {{"kind", "Deployment"}, {"namespace", "default"}, {"name", "web"}}},
             {"metric", {{"name", "requests"}}},
             {"value", "10"}};
  REQUIRE(s.PutMetricValue(mv).ok());
  mv["value"] = "20";
  REQUIRE(s.PutMetricValue(mv).ok());  // same identity: replaced
  REQUIRE(s.ListMetricValues().size() == 1);
  Json other = mv;
  other["describedObject"]["name"] = "db";
  REQUIRE(s.PutMetricValue(other).ok());  // another identity: kept apart
  CHECK(s.ListMetricValues().size() == 2);
  REQUIRE(s.DeleteMetricValue(other));
  CHECK(s.ListMetricValues()[0]["value"] == "20");

  for (const char* q : {"a", "b"}) {
    Json ev = {{"apiVersion", "external.metrics.k8s.io/v1beta1"},
               {"kind", "ExternalMetricValue"},
               {"metadata", {{"name", std::string("queue-") + q}, {"namespace", "default"}}},
               {"metricName", "queue_length"},
               {"metricLabels", {{"queue", q}}},
               {"value", "5"}};
    REQUIRE(s.Apply(ev).ok());
  }
  CHECK(s.ListExternalMetricValues("default", "queue_length", "")->size() == 2);
  CHECK(s.ListExternalMetricValues("default", "queue_length", "queue=a")->size() == 1);
  CHECK(s.ListExternalMetricValues("other", "queue_length", "")->empty());
  REQUIRE(s.DeleteObject({{"kind", "ExternalMetricValue"}, {"namespace", "default"}, {"name", "queue-a"}}).ok());
  CHECK(s.ListExternalMetricValues("default", "queue_length", "")->size() == 1);
}

TEST_CASE("ClusterState metrics by namespace: lists see only their namespace", "[cluster_state][metrics]") {
  SimulatedClock clock(T0());
  ClusterState s(clock);
  // Prefix-sharing names: "a/..." must not pick up "a-b" or "ab".
  const std::vector<std::string> namespaces = {"a", "a-b", "ab"};
  for (size_t n = 0; n < namespaces.size(); ++n) {
    const std::string& ns = namespaces[n];
    for (size_t i = 0; i <= n; ++i) {
      std::string pod = "pod-" + std::to_string(i);
      REQUIRE(s.PutPodMetrics({{"metadata", {{"name", pod}, {"namespace", ns}, {"labels", {{"app", "web"}}}}},
                               {"containers", Json::array()}})
                  .ok());
      REQUIRE(s.PutMetricValue({{"describedObject", {{"kind", "Pod"}, {"namespace", ns}, {"name", pod}}},
                                {"metric", {{"name", "rps"}}},
                                {"value", "1"}})
                  .ok());
      REQUIRE(s.PutExternalMetricValue({{"metadata", {{"name", "q-" + std::to_string(i)}, {"namespace", ns}}},
                                        {"metricName", "Queue_Length"},
                                        {"metricLabels", {{"queue", std::to_string(i)}}},
                                        {"value", "5"}})
                  .ok());
    }
  }
  for (size_t n = 0; n < namespaces.size(); ++n) {
    const std::string& ns = namespaces[n];
    INFO(ns);
    auto pms = s.ListPodMetricsShared(ns, "");
    REQUIRE(pms.ok());
    CHECK(pms->size() == n + 1);
    for (const auto& pm : *pms) CHECK((*pm)["metadata"]["namespace"] == ns);
    CHECK(s.ListPodMetrics(ns, "app=web")->size() == n + 1);
    auto mvs = s.ListMetricValuesShared(ns);
    CHECK(mvs.size() == n + 1);
    for (const auto& mv : mvs) CHECK((*mv)["describedObject"]["namespace"] == ns);
    // Metric names match case-insensitively (clients lower-case them in URLs).
    CHECK(s.ListExternalMetricValues(ns, "queue_length", "")->size() == n + 1);
    CHECK(s.ListExternalMetricValues(ns, "queue_length", "queue=0")->size() == 1);
  }
  CHECK(s.ListPodMetricsShared("", "")->size() == 6);
  // Serialized lists: the same items as dump() gives, kept until replaced.
  {
    auto texts = s.ListPodMetricsSerialized("a-b", "app=web");
    auto objs = s.ListPodMetricsShared("a-b", "app=web");
    REQUIRE((texts.ok() && objs.ok()));
    REQUIRE(texts->size() == 2);
    for (size_t i = 0; i < texts->size(); ++i) CHECK(*(*texts)[i] == (*objs)[i]->dump());
    auto again = s.ListPodMetricsSerialized("a-b", "");
    REQUIRE(again->size() == 2);
    CHECK((*again)[0].get() == (*texts)[0].get());  // not serialized twice
    REQUIRE(s.PutPodMetrics({{"metadata", {{"name", "pod-0"}, {"namespace", "a-b"}, {"labels", {{"app", "web"}}}}},
                             {"containers", Json::array({{{"name", "c"}}})}})
                .ok());
    auto after_put = s.ListPodMetricsSerialized("a-b", "");
    CHECK(*(*after_put)[0] == s.GetPodMetrics("a-b", "pod-0")->dump());
    CHECK(*(*after_put)[1] == *(*texts)[1]);
    CHECK(s.ListPodMetricsSerialized("a-b", "app in (").status().http_code() == 400);
  }
  CHECK(s.ListMetricValuesShared("").size() == 6);
  CHECK(s.ListPodMetricsShared("nope", "")->empty());
  CHECK(s.ListMetricValuesShared("nope").empty());
  CHECK(s.ListExternalMetricValues("nope", "queue_length", "")->empty());

  // Deletes leave the namespace index too.
  REQUIRE(s.DeleteMetricValue({{"describedObject", {{"kind", "Pod"}, {"namespace", "ab"}, {"name", "pod-0"}}},
                               {"metric", {{"name", "rps"}}}}));
  CHECK(s.ListMetricValuesShared("ab").size() == 2);
  CHECK(s.ListMetricValues().size() == 5);
  REQUIRE(s.DeletePodMetrics("a", "pod-0"));
  CHECK(s.ListPodMetricsShared("a", "")->empty());
  CHECK(s.ListPodMetricsShared("a-b", "")->size() == 2);
  // Replacing a value keeps one entry in both views.
  REQUIRE(s.PutMetricValue({{"describedObject", {{"kind", "Pod"}, {"namespace", "a"}, {"name", "pod-0"}}},
                            {"metric", {{"name", "rps"}}},
                            {"value", "2"}})
              .ok());
  REQUIRE(s.ListMetricValuesShared("a").size() == 1);
  CHECK((*s.ListMetricValuesShared("a")[0])["value"] == "2");
  CHECK(s.ListMetricValues().size() == 5);
}

TEST_CASE("ClusterState watch: events reach their resource and namespace, serialized once", "[cluster_state]") {
  SimulatedClock clock(T0());
  ClusterState s(clock);
  WatchOptions all_ns, in_default, in_other;
  all_ns.resource_version = in_default.resource_version = in_other.resource_version = std::to_string(s.ResourceVersion());
  in_default.ns = "default";
  in_other.ns = "other";
  auto w1 = s.Watch(kPods, all_ns);
  auto w2 = s.Watch(kPods, in_default);
  auto w3 = s.Watch(kPods, in_other);
  auto wd = s.Watch(kDeployments, all_ns);
  REQUIRE((w1.ok() && w2.ok() && w3.ok() && wd.ok()));
  REQUIRE(s.Create(kPods, "default", Pod("web-0", "web")).ok());

  EvType t1 = EvType::kError, t2 = EvType::kError;
  std::shared_ptr<const std::string> j1, j2;
  REQUIRE((*w1)->WaitSerialized(std::chrono::milliseconds(1000), &t1, &j1) == Watcher::Next::kEvent);
  REQUIRE((*w2)->WaitSerialized(std::chrono::milliseconds(1000), &t2, &j2) == Watcher::Next::kEvent);
  CHECK(t1 == EvType::kAdded);
  CHECK(t2 == EvType::kAdded);
  CHECK(j1.get() == j2.get());  // one serialization for both watchers
  CHECK(*j1 == s.Get(kPods, "default", "web-0")->dump());
  k8s::WatchEvent ev;
  CHECK((*w3)->Wait(std::chrono::milliseconds(20), &ev) == Watcher::Next::kTimeout);
  CHECK((*wd)->Wait(std::chrono::milliseconds(20), &ev) == Watcher::Next::kTimeout);

  // A closed watcher is dropped from the fan-out; the others go on.
  (*w2)->Close();
  REQUIRE(s.Delete(kPods, "default", "web-0").ok());
  REQUIRE((*w1)->WaitSerialized(std::chrono::milliseconds(1000), &t1, &j1) == Watcher::Next::kEvent);
  CHECK(t1 == EvType::kDeleted);
  CHECK((*w2)->WaitSerialized(std::chrono::milliseconds(20), &t2, &j2) == Watcher::Next::kClosed);

  // The v1 view of HPAs serializes its own (converted) form.
  auto v1 = s.Watch(kHpaV1, all_ns);
  auto v2 = s.Watch(kHpaV2, all_ns);
  REQUIRE((v1.ok() && v2.ok()));
  REQUIRE(s.Apply(Hpa("web")).ok());
  REQUIRE((*v1)->WaitSerialized(std::chrono::milliseconds(1000), &t1, &j1) == Watcher::Next::kEvent);
  REQUIRE((*v2)->WaitSerialized(std::chrono::milliseconds(1000), &t2, &j2) == Watcher::Next::kEvent);
  CHECK(Json::parse(*j1)["apiVersion"] == "autoscaling/v1");
  CHECK(Json::parse(*j2)["apiVersion"] == "autoscaling/v2");
  CHECK(*j1 == s.Get(kHpaV1, "default", "web")->dump());
}

TEST_CASE("ClusterState faults and request accounting", "[cluster_state]") {
  SimulatedClock clock(T0());
  ClusterState s(clock);
  CHECK(ApiFault::Parse("slow:2s")->delay == std::chrono::milliseconds(2000));
  CHECK(ApiFault::Parse("error:500")->code == 500);
  CHECK(ApiFault::Parse("unavailable")->kind == ApiFault::Kind::kUnavailable);
  CHECK(!ApiFault::Parse("error:abc").ok());
  CHECK(!ApiFault::Parse("sometimes").ok());

  FaultSet f;
  f.resource_metrics = *ApiFault::Parse("unavailable");
  f.apiserver_rules.push_back({"patch", "deployments", "scale", 409, 1});
  s.SetFaults(f);
  CHECK(s.DecideFault("resourceMetrics", "list", "pods", "").fail_code == 503);
  CHECK(s.DecideFault("customMetrics", "get", "x", "").fail_code == 0);
  CHECK(s.DecideFault("apiserver", "get", "deployments", "scale").fail_code == 0);
  // "patch" and "update" both name a change of an existing object (the
  // contract's example fails the controller's PUT of the scale with verb patch).
  CHECK(s.DecideFault("apiserver", "update", "deployments", "scale").fail_code == 409);
  CHECK(s.DecideFault("apiserver", "patch", "deployments", "scale").fail_code == 0);  // count consumed

  int64_t since = s.RequestSeq();
  s.RecordRequest({0, "get", "horizontalpodautoscalers", "", "hpad/0.1", 200});
  s.RecordRequest({0, "update", "horizontalpodautoscalers", "status", "hpad/0.1", 200});
  s.RecordRequest({0, "update", "horizontalpodautoscalers", "status", "kubectl/v1.32", 200});
  s.RecordRequest({0, "patch", "deployments", "scale", "hpad/0.1", 200});
  CHECK(s.CountWrites("update", "horizontalpodautoscalers", "status", "hpad", since) == 1);
  CHECK(s.CountWrites("patch", "horizontalpodautoscalers", "status", "hpad", since) == 1);
  CHECK(s.CountWrites("update", "deployments", "scale", "hpad", since) == 1);
  CHECK(s.CountWrites("create", "deployments", "scale", "hpad", since) == 0);
  CHECK(s.CountWrites("update", "horizontalpodautoscalers", "status", "", since) == 2);
  CHECK(s.CountWrites("", "", "*", "hpad", since) == 2);
  CHECK(s.CountWrites("", "", "", "hpad", since) == 0);  // main resource only
  CHECK(s.CountWrites("", "", "*", "", s.RequestSeq()) == 0);
  CHECK(s.RequestCounts()["update horizontalpodautoscalers/status"] == 2);
}

TEST_CASE("Patch helpers: merge, strategic merge, json patch", "[cluster_state][patch]") {
  Json target = Json::parse(R"({"metadata":{"labels":{"a":"1","b":"2"}},
    "spec":{"replicas":1,"template":{"spec":{"containers":[{"name":"x","image":"i1"},{"name":"y","image":"i2"}]}},
            "metrics":[{"type":"Resource","resource":{"name":"cpu"}},{"type":"Pods"}]}})");
  Json merged = MergePatch(target, Json::parse(R"({"metadata":{"labels":{"a":null,"c":"3"}},"spec":{"replicas":3}})"));
  CHECK(merged["metadata"]["labels"] == Json{{"b", "2"}, {"c", "3"}});
  CHECK(merged["spec"]["replicas"] == 3);

  Json smp = StrategicMergePatch(target, Json::parse(R"({
    "$setElementOrder/containers":[{"name":"x"},{"name":"y"}],
    "spec":{"template":{"spec":{"containers":[{"name":"y","image":"i3"}]}},
            "metrics":[{"type":"Resource","resource":{"name":"memory"}}]}})"));
  CHECK(!smp.contains("$setElementOrder/containers"));
  CHECK(smp["spec"]["template"]["spec"]["containers"] ==
        Json::parse(R"([{"name":"x","image":"i1"},{"name":"y","image":"i3"}])"));
  // HPA metrics are an atomic list: replaced whole.
  CHECK(smp["spec"]["metrics"] == Json::parse(R"([{"type":"Resource","resource":{"name":"memory"}}])"));
  Json del = StrategicMergePatch(
      target, Json::parse(R"({"spec":{"template":{"spec":{"containers":[{"name":"x","$patch":"delete"}]}}}})"));
  CHECK(del["spec"]["template"]["spec"]["containers"].size() == 1);

  auto jp = JsonPatch(target, Json::parse(R"([{"op":"test","path":"/spec/replicas","value":1},
      {"op":"replace","path":"/spec/replicas","value":5},{"op":"add","path":"/metadata/labels/d","value":"4"},
      {"op":"remove","path":"/metadata/labels/a"}])"));
  REQUIRE(jp.ok());
  CHECK((*jp)["spec"]["replicas"] == 5);
  CHECK((*jp)["metadata"]["labels"] == Json{{"b", "2"}, {"d", "4"}});
  CHECK(!JsonPatch(target, Json::parse(R"([{"op":"test","path":"/spec/replicas","value":2}])")).ok());
  CHECK(!JsonPatch(target, Json::parse(R"([{"op":"remove","path":"/nope"}])")).ok());
}

}  // namespace
}  // namespace hpad::sim
