// HistoryStore (issue 13, --persist-history): format, shards, version
// mismatch, deleted HPAs, steady state without writes.
#include <catch2/catch.hpp>

#include "controller/history_store.h"
#include "tests/fakes/fake_api_client.h"

using namespace hpad::ctrl;
namespace k8s = hpad::k8s;
using Json = nlohmann::json;
using hpad::Time;

namespace {

const k8s::GroupVersionResource kCm{"", "v1", "configmaps"};

Time At(int64_t s) { return Time(std::chrono::seconds(1767225600 + s)); }

HpaHistory Sample() {
  HpaHistory h;
  h.recommendations = {{4, At(0)}, {6, At(15)}};
  h.scale_up_events = {{2, At(0), false}};
  h.scale_down_events = {{1, At(-100), true}};
  return h;
}

bool Same(const HpaHistory& a, const HpaHistory& b) {
  if (a.recommendations.size() != b.recommendations.size() || a.scale_up_events.size() != b.scale_up_events.size() ||
      a.scale_down_events.size() != b.scale_down_events.size())
    return false;
  for (size_t i = 0; i < a.recommendations.size(); i++)
    if (a.recommendations[i].recommendation != b.recommendations[i].recommendation ||
        a.recommendations[i].timestamp != b.recommendations[i].timestamp)
      return false;
  auto same_events = [](const auto& x, const auto& y) {
    for (size_t i = 0; i < x.size(); i++)
      if (x[i].replica_change != y[i].replica_change || x[i].timestamp != y[i].timestamp ||
          x[i].outdated != y[i].outdated)
        return false;
    return true;
  };
  return same_events(a.scale_up_events, b.scale_up_events) && same_events(a.scale_down_events, b.scale_down_events);
}

}  // namespace

TEST_CASE("history store: encode/decode round trip and hostile entries", "[history_store]") {
  auto back = DecodeHistory(EncodeHistory(Sample()));
  REQUIRE(back.ok());
  CHECK(Same(*back, Sample()));
  CHECK_FALSE(DecodeHistory("[]").ok());
  CHECK_FALSE(DecodeHistory("{\"r\": 3}").ok());
  CHECK_FALSE(DecodeHistory("{\"r\": [[1, -1]]}").ok());
  CHECK_FALSE(DecodeHistory("{\"u\": [[1, 1, 7]]}").ok());
  CHECK_FALSE(DecodeHistory("{\"r\": [[1, 99999999999]]}").ok());
  CHECK_FALSE(DecodeHistory(std::string(300 * 1024, ' ')).ok());
  CHECK(HistoryShardName(7) == "hpad-history-07");
  CHECK(HistoryShardOf("default/web") == 37);  // FNV-1a mod 64: part of the documented format
  CHECK(HistoryDataKey("default/web") == "default_web");
  CHECK(*HpaKeyOfDataKey("default_web") == "default/web");
  CHECK_FALSE(HpaKeyOfDataKey("format"));
  CHECK_FALSE(HpaKeyOfDataKey("a_b_c"));
}

TEST_CASE("history store: save, load in a new store, steady state writes nothing", "[history_store]") {
  k8s::testing::FakeApiClient api;
  HistoryStore store(api, "hpad-system");
  REQUIRE(store.Save({{"default/web", Sample()}, {"prod/api", Sample()}}).ok());
  const size_t writes = store.Writes();
  CHECK(writes == (HistoryShardOf("default/web") == HistoryShardOf("prod/api") ? 1u : 2u));
  auto cm = api.Object(kCm, "hpad-system", HistoryShardName(HistoryShardOf("default/web")));
  REQUIRE(cm);
  CHECK((*cm)["data"]["format"] == "hpad.io/history/v1");
  CHECK((*cm)["data"].contains("default_web"));
  // Unchanged content: no write.
  REQUIRE(store.Save({{"default/web", Sample()}}).ok());
  CHECK(store.Writes() == writes);

  HistoryStore fresh(api, "hpad-system");
  auto loaded = fresh.Load({"default/web"});  // prod/api was deleted meanwhile
  REQUIRE(loaded.ok());
  REQUIRE(loaded->size() == 1);
  CHECK(Same(loaded->at("default/web"), Sample()));
  // The deleted HPA's entry goes at the next save of its shard.
  REQUIRE(fresh.Save({}).ok());
  auto api_cm = api.Object(kCm, "hpad-system", HistoryShardName(HistoryShardOf("prod/api")));
  REQUIRE(api_cm);
  CHECK_FALSE((*api_cm)["data"].contains("prod_api"));
  // A removed key (deleted HPA seen by the reconciler) is dropped too.
  REQUIRE(fresh.Save({{"default/web", std::nullopt}}).ok());
  CHECK_FALSE((*api.Object(kCm, "hpad-system", HistoryShardName(37)))["data"].contains("default_web"));
}

TEST_CASE("history store: another format version is ignored, never a crash", "[history_store]") {
  k8s::testing::FakeApiClient api;
  api.Put(kCm, Json{{"apiVersion", "v1"},
                    {"kind", "ConfigMap"},
                    {"metadata", {{"name", HistoryShardName(37)}, {"namespace", "hpad-system"}}},
                    {"data", {{"format", "hpad.io/history/v2"}, {"default_web", "whatever"}}}});
  api.Put(kCm, Json{{"apiVersion", "v1"},
                    {"kind", "ConfigMap"},
                    {"metadata", {{"name", HistoryShardName(3)}, {"namespace", "hpad-system"}}},
                    {"data", {{"format", "hpad.io/history/v1"}, {"x_y", "{not json"}}}});
  HistoryStore store(api, "hpad-system");
  auto loaded = store.Load({"default/web", "x/y"});
  REQUIRE(loaded.ok());
  CHECK(loaded->empty());
  // Rewritten in this version at the next save (the foreign shard was marked).
  REQUIRE(store.Save({{"default/web", Sample()}}).ok());
  CHECK((*api.Object(kCm, "hpad-system", HistoryShardName(37)))["data"]["format"] == "hpad.io/history/v1");
}

TEST_CASE("history store: a write conflict takes the current version and writes again", "[history_store]") {
  k8s::testing::FakeApiClient api;
  HistoryStore store(api, "hpad-system");
  REQUIRE(store.Save({{"default/web", Sample()}}).ok());
  // Another (former) leader wrote the shard meanwhile.
  auto cm = *api.Object(kCm, "hpad-system", HistoryShardName(37));
  cm["data"]["other_one"] = "{}";
  cm["metadata"].erase("resourceVersion");
  api.Put(kCm, cm);
  HpaHistory changed = Sample();
  changed.recommendations.push_back({9, At(30)});
  REQUIRE(store.Save({{"default/web", changed}}).ok());
  auto back = DecodeHistory((*api.Object(kCm, "hpad-system", HistoryShardName(37)))["data"]["default_web"].get<std::string>());
  REQUIRE(back.ok());
  CHECK(back->recommendations.size() == 3);
}

TEST_CASE("history store: SaveOne writes only its shard, and a failed one is undone at the next save",
          "[history_store][issue15]") {
  k8s::testing::FakeApiClient api;
  HistoryStore store(api, "hpad-system");
  REQUIRE(store.Save({{"default/web", Sample()}}).ok());
  const size_t writes = store.Writes();
  // Unchanged: no write.
  REQUIRE(store.SaveOne("default/web", Sample()).ok());
  CHECK(store.Writes() == writes);
  // The write-ahead of a scale event: one write, of that shard only.
  HpaHistory ahead = Sample();
  ahead.scale_up_events.push_back({3, At(30), false});
  REQUIRE(store.SaveOne("default/web", ahead).ok());
  CHECK(store.Writes() == writes + 1);
  auto stored = [&] {
    auto cm = api.Object(kCm, "hpad-system", HistoryShardName(37));
    REQUIRE(cm);
    auto back = DecodeHistory((*cm)["data"]["default_web"].get<std::string>());
    REQUIRE(back.ok());
    return *back;
  };
  CHECK(Same(stored(), ahead));

  // A write-ahead that fails (its outcome unknown to the store) leaves the
  // shard dirty with the entry as it was: the next Save writes that back.
  HpaHistory phantom = ahead;
  phantom.scale_up_events.push_back({1, At(45), false});
  api.FailNext(1, hpad::Status(hpad::StatusCode::kTimeout, "timed out", "Timeout"), "update", "configmaps");
  CHECK_FALSE(store.SaveOne("default/web", phantom).ok());
  // ... as if the server had applied it after all.
  auto cm = *api.Object(kCm, "hpad-system", HistoryShardName(37));
  cm["data"]["default_web"] = EncodeHistory(phantom);
  cm["metadata"].erase("resourceVersion");
  api.Put(kCm, cm);
  REQUIRE(Same(stored(), phantom));
  REQUIRE(store.Save({}).ok());
  CHECK(Same(stored(), ahead));
}

TEST_CASE("history store: the pending scale write (\"p\") round-trips, is optional and checked",
          "[history_store][issue15]") {
  std::optional<PendingScaleWrite> p;
  auto plain = DecodeHistory(EncodeHistory(Sample()), &p);
  REQUIRE(plain.ok());
  CHECK_FALSE(p);
  const PendingScaleWrite written{4, 6, At(30)};
  auto back = DecodeHistory(EncodeHistory(Sample(), written), &p);
  REQUIRE(back.ok());
  CHECK(Same(*back, Sample()));
  REQUIRE(p);
  CHECK(p->from == 4);
  CHECK(p->to == 6);
  CHECK(p->at == At(30));
  CHECK(DecodeHistory(EncodeHistory(Sample(), written)).ok());  // callers that do not ask ignore it
  CHECK_FALSE(DecodeHistory("{\"p\": [1, 2]}", &p).ok());
  CHECK_FALSE(DecodeHistory("{\"p\": [1, -2, 3]}", &p).ok());
  CHECK_FALSE(DecodeHistory("{\"p\": \"x\"}", &p).ok());

  k8s::testing::FakeApiClient api;
  HistoryStore store(api, "hpad-system");
  REQUIRE(store.SaveOne("default/web", Sample(), written).ok());
  REQUIRE(store.Save({{"prod/api", Sample()}}).ok());
  HistoryStore fresh(api, "hpad-system");
  std::map<std::string, PendingScaleWrite> pending;
  auto loaded = fresh.Load({"default/web", "prod/api"}, &pending);
  REQUIRE(loaded.ok());
  CHECK(loaded->size() == 2);
  REQUIRE(pending.size() == 1);
  CHECK(pending.at("default/web").to == 6);
  // The entry's next write (the flusher's) carries no mark.
  REQUIRE(fresh.Save({{"default/web", Sample()}}).ok());
  HistoryStore third(api, "hpad-system");
  REQUIRE(third.Load({"default/web"}, &pending).ok());
  CHECK(pending.empty());
}
