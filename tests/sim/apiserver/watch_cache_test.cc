// WatchCache: fan-out, resume from history, replay, selector transitions,
// 410 Gone, events reaching only their resource and namespace, one
// serialization per event and version.
#include <catch2/catch.hpp>

#include "tests/sim/apiserver/test_objects.h"

namespace hpad::sim {
namespace {

using namespace hpad::sim::testing;

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

TEST_CASE("WatchCache alone: history, resume, snapshot state, compaction", "[watch_cache]") {
  WatchCache cache;
  ResourceRegistry registry;
  const ResourceInfo& pods = *registry.FindByGvr(kPods);
  auto obj = [](const std::string& name, int v) {
    return std::make_shared<const Json>(Json{{"apiVersion", "v1"}, {"kind", "Pod"},
                                              {"metadata", {{"name", name}, {"namespace", "ns"},
                                                            {"resourceVersion", std::to_string(v)}}}});
  };
  auto a1 = obj("a", 1), b2 = obj("b", 2), a3 = obj("a", 3);
  cache.Append(1, "/pods", "ns", "ns/a", EvType::kAdded, a1, nullptr);
  cache.Append(2, "/pods", "ns", "ns/b", EvType::kAdded, b2, nullptr);
  cache.Append(3, "/pods", "ns", "ns/a", EvType::kModified, a3, a1);

  // Resume after 1: the two later changes, in order.
  auto w = cache.Open(pods, "ns", Filter{}, false, int64_t{1}, {});
  REQUIRE(w.ok());
  k8s::WatchEvent ev;
  REQUIRE((*w)->Wait(std::chrono::milliseconds(0), &ev) == Watcher::Next::kEvent);
  CHECK(ev.object["metadata"]["name"] == "b");
  REQUIRE((*w)->Wait(std::chrono::milliseconds(0), &ev) == Watcher::Next::kEvent);
  CHECK(ev.type == EvType::kModified);
  CHECK((*w)->Wait(std::chrono::milliseconds(0), &ev) == Watcher::Next::kTimeout);

  // The state at rv 1 of what changed since: b absent, a as it was.
  auto before = cache.StateBefore(1, "/pods", "ns/", "");
  REQUIRE(before.ok());
  CHECK(before->at("ns/b") == nullptr);
  CHECK(before->at("ns/a") == a1);

  cache.Compact();
  CHECK(cache.Open(pods, "ns", Filter{}, false, int64_t{2}, {}).status().http_code() == 410);
  CHECK(cache.StateBefore(2, "/pods", "", "").status().http_code() == 410);
  CHECK(cache.Open(pods, "ns", Filter{}, false, int64_t{3}, {}).ok());
  // Open watchers still get new changes.
  cache.Append(4, "/pods", "ns", "ns/b", EvType::kDeleted, obj("b", 4), b2);
  REQUIRE((*w)->Wait(std::chrono::milliseconds(0), &ev) == Watcher::Next::kEvent);
  CHECK(ev.type == EvType::kDeleted);
  cache.CloseAll();
  CHECK((*w)->Wait(std::chrono::milliseconds(0), &ev) == Watcher::Next::kClosed);
}

}  // namespace
}  // namespace hpad::sim
