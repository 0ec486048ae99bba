// Reflector / Informer against FakeApiClient on a SimulatedClock: paged list,
// watch from the list's resourceVersion, convergence across forced
// disconnects, stream errors and 410 Gone, bookmarks moving the
// resourceVersion, watch-timeout renewal, synchronous Relist(), objects
// that fail conversion being skipped, and a 429 burst on the relist; the
// typed page path (issue 16: pods decoded from each list page's text) gives
// what the DOM path gives, across pages, skipped pods and a 410 on continue.
#include <catch2/catch.hpp>

#include <algorithm>
#include <atomic>
#include <thread>

#include "k8sclient/api/types/pod.h"
#include "k8sclient/base/klog.h"
#include "k8sclient/informer.h"
#include "tests/fakes/fake_api_client.h"
#include "tests/k8sclient/api/types/pod_list_reference.h"

namespace {

using hpad::SimulatedClock;
using hpad::Status;
using hpad::StatusCode;
using hpad::Time;
using hpad::k8s::Backoff;
using hpad::k8s::GroupVersionResource;
using hpad::k8s::Informer;
using hpad::k8s::InformerHandlers;
using hpad::k8s::Json;
using hpad::k8s::ReflectorOptions;
using hpad::Result;
using hpad::k8s::testing::FakeApiClient;
using namespace std::chrono_literals;

const Time kStart = Time(std::chrono::seconds(1767225600));  // 2026-01-01T00:00:00Z
const GroupVersionResource kThings{"example.com", "v1", "things"};
const GroupVersionResource kOther{"example.com", "v1", "others"};

struct Thing {
  std::string ns, name, rv;
  std::map<std::string, std::string> labels;
  int value = 0;
};

// A converter that rejects objects without an integer spec.value.
Result<Thing> ThingFromJson(const Json& j) {
  const Json& m = j.at("metadata");
  if (!j.contains("spec") || !j["spec"].contains("value") || !j["spec"]["value"].is_number_integer())
    return hpad::InvalidError("spec.value: must be an integer");
  Thing t{m.value("namespace", ""), m.value("name", ""), m.value("resourceVersion", ""), {}, j["spec"]["value"].get<int>()};
  if (m.contains("labels")) t.labels = m["labels"].get<std::map<std::string, std::string>>();
  return t;
}

Json MakeThing(const std::string& ns, const std::string& name, Json value) {
  return {{"apiVersion", "example.com/v1"},
          {"kind", "Thing"},
          {"metadata", {{"namespace", ns}, {"name", name}}},
          {"spec", {{"value", value}}}};
}

// The reflector thread is asleep on the clock whenever it has nothing left
// to do at the current virtual time: in a watch (FakeApiClient's streams
// wait on the clock) or in a backoff. So "wait for one sleeper" means "it
// has applied everything delivered so far"; no wall-clock polling.
// (AwaitSleepers' own wall-clock timeout is a safety net that fails the test.)

// `pred` once the reflector has settled at the current time.
template <typename Pred>
bool Settled(Pred pred, SimulatedClock& clock) {
  return clock.AwaitSleepers(1) && pred();
}

// Steps virtual time (settling after each step) until `pred` holds, so
// backoff waits on the clock elapse; false after `limit` of virtual time.
template <typename Pred>
bool Eventually(Pred pred, SimulatedClock& clock, hpad::Duration step = 100ms, hpad::Duration limit = 10min) {
  for (hpad::Duration waited{}; waited <= limit; waited += step) {
    if (!clock.AwaitSleepers(1)) return false;
    if (pred()) return true;
    clock.Advance(step);
  }
  return false;
}

// The store holds exactly the fake's objects with the same values.
bool Converged(const Informer<Thing>& inf, const FakeApiClient& api) {
  auto want = api.Objects(kThings);
  if (inf.Store().Size() != want.size()) return false;
  for (const auto& o : want) {
    auto got = inf.Store().Get(o["metadata"]["namespace"].get<std::string>(), o["metadata"]["name"].get<std::string>());
    if (!got || got->value != o["spec"]["value"].get<int>()) return false;
  }
  return true;
}

ReflectorOptions Options() {
  ReflectorOptions o;
  o.gvr = kThings;
  o.page_size = 3;
  o.seed = 42;
  return o;
}

struct Counts {
  std::atomic<int> adds{0}, updates{0}, deletes{0};
  InformerHandlers<Thing> Handlers() {
    InformerHandlers<Thing> h;
    h.on_add = [this](const auto&) { ++adds; };
    h.on_update = [this](const auto&, const auto&) { ++updates; };
    h.on_delete = [this](const auto&) { ++deletes; };
    return h;
  }
};

}  // namespace

TEST_CASE("backoff doubles to its cap, with up to 100% jitter", "[informer][backoff]") {
  Backoff plain(800ms, 30s, 2.0, 0.0);
  const hpad::Duration want[] = {800ms, 1600ms, 3200ms, 6400ms, 12800ms, 25600ms, 30s, 30s};
  for (auto w : want) CHECK(plain.Next() == w);
  plain.Reset();
  CHECK(plain.Next() == 800ms);

  Backoff jittered(800ms, 30s, 2.0, 1.0, 7);
  for (int i = 0; i < 10; ++i) {
    hpad::Duration base = jittered.PeekBase();
    hpad::Duration d = jittered.Next();
    CHECK(d >= base);
    CHECK(d < 2 * base);
  }
}

TEST_CASE("informer lists in pages, then watches from the list resourceVersion", "[informer]") {
  SimulatedClock clock(kStart);
  FakeApiClient api(&clock);
  for (int i = 0; i < 7; ++i) api.Put(kThings, MakeThing("ns", "t" + std::to_string(i), i));
  api.Put(kOther, MakeThing("ns", "unrelated", 0));
  const std::string list_rv = api.CurrentResourceVersion();

  Informer<Thing> inf(api, clock, Options(), ThingFromJson);
  Counts counts;
  inf.AddEventHandler(counts.Handlers());
  CHECK_FALSE(inf.HasSynced());
  inf.Start();
  REQUIRE(inf.WaitForSync(hpad::MonoTime::max()));
  REQUIRE(api.WaitForWatchesOpened(kThings, 1));

  CHECK(inf.Store().Size() == 7);
  CHECK(counts.adds == 7);
  CHECK(inf.LastSyncResourceVersion() == list_rv);

  auto lists = api.ActionsFor("list", "things");
  REQUIRE(lists.size() == 3);  // 3 + 3 + 1
  CHECK(lists[0].options.limit == 3);
  CHECK(lists[0].options.continue_token.empty());
  CHECK_FALSE(lists[1].options.continue_token.empty());
  CHECK_FALSE(lists[2].options.continue_token.empty());

  auto watches = api.ActionsFor("watch", "things");
  REQUIRE(watches.size() == 1);
  CHECK(watches[0].options.resource_version == list_rv);
  CHECK(watches[0].options.allow_watch_bookmarks);
  REQUIRE(watches[0].options.timeout_seconds.has_value());
  CHECK(*watches[0].options.timeout_seconds >= 300);
  CHECK(*watches[0].options.timeout_seconds < 600);

  SECTION("watch events reach the store and the handlers") {
    api.Put(kThings, MakeThing("ns", "t0", 100));
    api.Put(kThings, MakeThing("ns", "new", 5));
    api.Remove(kThings, "ns", "t6");
    REQUIRE(Settled([&] { return Converged(inf, api); }, clock));
    CHECK(Settled([&] { return counts.adds == 8 && counts.updates == 1 && counts.deletes == 1; }, clock));
    CHECK(inf.Store().Get("ns/t0")->value == 100);
    CHECK(inf.LastSyncResourceVersion() == api.CurrentResourceVersion());
  }

  SECTION("Stop cancels the open watch") {
    inf.Stop();
    CHECK(api.OpenWatches(kThings) == 0);
  }
}

TEST_CASE("informer converges across forced disconnects, stream errors and 410 Gone", "[informer]") {
  SimulatedClock clock(kStart);
  FakeApiClient api(&clock);
  for (int i = 0; i < 4; ++i) api.Put(kThings, MakeThing("ns", "t" + std::to_string(i), i));
  Informer<Thing> inf(api, clock, Options(), ThingFromJson);
  Counts counts;
  inf.AddEventHandler(counts.Handlers());
  inf.Start();
  REQUIRE(api.WaitForWatchesOpened(kThings, 1));

  SECTION("clean disconnect: re-watch from the last resourceVersion, no relist") {
    api.Put(kThings, MakeThing("ns", "t0", 10));
    REQUIRE(Settled([&] { return Converged(inf, api); }, clock));
    api.DisconnectWatches(kThings);
    REQUIRE(api.WaitForWatchesOpened(kThings, 2));
    // Changes made while the informer was between watches are replayed.
    api.Put(kThings, MakeThing("ns", "t1", 11));
    api.Remove(kThings, "ns", "t2");
    REQUIRE(Settled([&] { return Converged(inf, api); }, clock));
    CHECK(inf.reflector().lists_done() == 1);
    auto watches = api.ActionsFor("watch", "things");
    REQUIRE(watches.size() >= 2);
    CHECK_FALSE(watches[1].options.resource_version.empty());
  }

  SECTION("disconnect with writes in between is replayed from history") {
    api.DisconnectWatches(kThings);
    // Written before the informer can reconnect: the next watch starts from
    // the old resourceVersion and the fake replays these from its history.
    api.Put(kThings, MakeThing("ns", "t3", 33));
    api.Put(kThings, MakeThing("ns", "late", 1));
    REQUIRE(Eventually([&] { return Converged(inf, api); }, clock));
    CHECK(inf.reflector().lists_done() == 1);
  }

  SECTION("stream error: back off on the clock, then re-watch") {
    api.FailWatches(kThings, hpad::UnavailableError("connection reset"));
    api.FailNext(2, hpad::UnavailableError("connection refused"), "watch");
    api.Put(kThings, MakeThing("ns", "t0", 20));
    // Backoff waits are on the simulated clock: without advancing it the informer stays away.
    REQUIRE(Eventually([&] { return Converged(inf, api); }, clock));
    auto watches = api.ActionsFor("watch", "things");
    CHECK(std::count_if(watches.begin(), watches.end(), [](const auto& a) { return a.failed; }) == 2);
    CHECK(inf.reflector().lists_done() == 1);
  }

  SECTION("410 Gone as an ERROR event: relist, deletions seen via Replace") {
    api.Compact();
    api.InjectGone(kThings);
    api.Remove(kThings, "ns", "t0");
    api.Put(kThings, MakeThing("ns", "t1", 50));
    REQUIRE(Eventually([&] { return Converged(inf, api) && inf.reflector().lists_done() >= 2; }, clock));
    CHECK(Settled([&] { return counts.deletes >= 1; }, clock));
  }

  SECTION("410 Gone when re-watching from a compacted resourceVersion") {
    api.DisconnectWatches(kThings);
    api.Put(kThings, MakeThing("ns", "t2", 77));
    api.Remove(kThings, "ns", "t3");
    api.Compact();  // history is gone: the re-watch gets ERROR 410
    REQUIRE(Eventually([&] { return Converged(inf, api); }, clock));
    CHECK(inf.reflector().lists_done() >= 2);
    CHECK(api.CurrentResourceVersion() == inf.LastSyncResourceVersion());
  }

  SECTION("a 429 burst on the relist: one attempt per backoff, never back to back, then converges") {
    // Issue 15's "429 bursts" at the reflector: RestApiClient has already
    // spent its own attempts (Retry-After) when a 429 reaches the reflector.
    api.FailNext(6, Status(StatusCode::kTooManyRequests, "the server has received too many requests", "TooManyRequests"),
                 "list");
    api.InjectGone(kThings);  // the watch ends with 410: a relist is due
    api.Put(kThings, MakeThing("ns", "after-429s", 1));
    auto failed_lists = [&] {
      auto lists = api.ActionsFor("list", "things");
      return std::count_if(lists.begin(), lists.end(), [](const auto& a) { return a.failed; });
    };
    // The relist comes after the 410's backoff; once the first 429 is back
    // the reflector settles at that instant without another attempt.
    REQUIRE(Eventually([&] { return failed_lists() >= 1; }, clock));
    CHECK(failed_lists() == 1);
    clock.Advance(10ms);  // far below the next backoff (>= 800 ms)
    REQUIRE(clock.AwaitSleepers(1));
    CHECK(failed_lists() == 1);
    REQUIRE(Eventually([&] { return Converged(inf, api); }, clock));
    CHECK(failed_lists() == 6);
  }

  SECTION("list failures during relist are retried with backoff") {
    api.FailNext(3, hpad::UnavailableError("apiserver down"), "list");
    api.InjectGone(kThings);
    api.Put(kThings, MakeThing("ns", "after-outage", 1));
    REQUIRE(Eventually([&] { return Converged(inf, api); }, clock));
    auto lists = api.ActionsFor("list", "things");
    CHECK(std::count_if(lists.begin(), lists.end(), [](const auto& a) { return a.failed; }) == 3);
  }
}

TEST_CASE("informer bookmarks move the resourceVersion", "[informer]") {
  SimulatedClock clock(kStart);
  FakeApiClient api(&clock);
  api.Put(kThings, MakeThing("ns", "a", 1));
  Informer<Thing> inf(api, clock, Options(), ThingFromJson);
  inf.Start();
  REQUIRE(api.WaitForWatchesOpened(kThings, 1));
  const std::string before = inf.LastSyncResourceVersion();
  for (int i = 0; i < 5; ++i) api.Put(kOther, MakeThing("ns", "o" + std::to_string(i), i));  // RV moves elsewhere
  const std::string now_rv = api.CurrentResourceVersion();
  REQUIRE(now_rv != before);
  api.SendBookmark(kThings);
  REQUIRE(Settled([&] { return inf.LastSyncResourceVersion() == now_rv; }, clock));

  // After a disconnect the next watch starts from the bookmark's resourceVersion.
  api.DisconnectWatches(kThings);
  REQUIRE(Eventually([&] { return api.WatchesOpened(kThings) >= 2; }, clock));
  auto watches = api.ActionsFor("watch", "things");
  CHECK(watches.back().options.resource_version == now_rv);
  CHECK(inf.Store().Size() == 1);
}

TEST_CASE("informer renews the watch when timeoutSeconds elapses", "[informer]") {
  SimulatedClock clock(kStart);
  FakeApiClient api(&clock);
  api.Put(kThings, MakeThing("ns", "a", 1));
  Informer<Thing> inf(api, clock, Options(), ThingFromJson);
  inf.Start();
  REQUIRE(api.WaitForWatchesOpened(kThings, 1));
  clock.Advance(10min);  // past any timeoutSeconds in [300, 600)
  REQUIRE(api.WaitForWatchesOpened(kThings, 2));
  auto watches = api.ActionsFor("watch", "things");
  CHECK(watches[1].options.resource_version == watches[0].options.resource_version);
  CHECK(inf.reflector().lists_done() == 1);  // a renewal, not a relist
  api.Put(kThings, MakeThing("ns", "a", 2));
  CHECK(Settled([&] { return Converged(inf, api); }, clock));
}

TEST_CASE("informer Relist() is a synchronous list + replace", "[informer]") {
  SimulatedClock clock(kStart);
  FakeApiClient api(&clock);
  api.Put(kThings, MakeThing("a", "x", 1));
  api.Put(kThings, MakeThing("a", "y", 2));
  Informer<Thing> inf(api, clock, Options(), ThingFromJson);
  Counts counts;
  inf.AddEventHandler(counts.Handlers());

  REQUIRE(inf.Relist().ok());  // no thread started
  CHECK(inf.HasSynced());
  CHECK(Converged(inf, api));
  CHECK(counts.adds == 2);

  api.Put(kThings, MakeThing("a", "x", 10));
  api.Remove(kThings, "a", "y");
  api.Put(kThings, MakeThing("b", "z", 3));
  REQUIRE(inf.Relist().ok());
  CHECK(Converged(inf, api));
  CHECK(counts.adds == 3);
  CHECK(counts.updates == 1);
  CHECK(counts.deletes == 1);
  CHECK(inf.LastSyncResourceVersion() == api.CurrentResourceVersion());

  SECTION("a failing list is reported and leaves the store alone") {
    api.FailNext(1, hpad::UnavailableError("down"), "list");
    Status s = inf.Relist();
    CHECK(s.code() == StatusCode::kUnavailable);
    CHECK(inf.Store().Size() == 2);
  }
  SECTION("an expired continue token falls back to an unpaged list") {
    for (int i = 0; i < 5; ++i) api.Put(kThings, MakeThing("c", "p" + std::to_string(i), i));
    api.ClearActions();
    api.FailNextMatching(1, Status(StatusCode::kGone, "continue expired", "Expired", 410),
                         [](const auto& a) { return a.verb == "list" && !a.options.continue_token.empty(); });
    REQUIRE(inf.Relist().ok());
    CHECK(Converged(inf, api));
    auto lists = api.ActionsFor("list", "things");
    REQUIRE(lists.size() == 3);  // page 1, page 2 (410), then everything at once
    CHECK(lists[1].failed);
    CHECK(lists[2].options.limit == 0);
    CHECK(lists[2].options.continue_token.empty());
  }
}

// Issue 7 memory: a 100k-pod list must never be held as JSON. Each page is
// converted when it arrives, before the next page is requested; the store
// changes only once the whole list arrived.
TEST_CASE("informer converts each list page before requesting the next", "[informer][memory]") {
  SimulatedClock clock(kStart);
  FakeApiClient api(&clock);
  for (int i = 0; i < 8; ++i) api.Put(kThings, MakeThing("ns", "t" + std::to_string(i), i));
  std::vector<size_t> lists_seen;  // list requests made when each object was converted
  auto counting = [&](const Json& j) {
    lists_seen.push_back(api.ActionsFor("list", "things").size());
    return ThingFromJson(j);
  };
  Informer<Thing> inf(api, clock, Options(), counting);  // pages of 3: 3 + 3 + 2
  REQUIRE(inf.Relist().ok());
  CHECK(lists_seen == std::vector<size_t>{1, 1, 1, 2, 2, 2, 3, 3});
  CHECK(inf.Store().Size() == 8);

  SECTION("a list failing on a later page changes nothing") {
    api.Put(kThings, MakeThing("ns", "t0", 100));
    api.Remove(kThings, "ns", "t7");
    api.ClearActions();
    api.FailNextMatching(1, hpad::UnavailableError("connection reset"),
                         [](const auto& a) { return a.verb == "list" && !a.options.continue_token.empty(); });
    Status s = inf.Relist();
    CHECK(s.code() == StatusCode::kUnavailable);
    CHECK(inf.Store().Size() == 8);
    CHECK(inf.Store().Get("ns/t0")->value == 0);
    REQUIRE(inf.Relist().ok());
    CHECK(Converged(inf, api));
  }
}

TEST_CASE("informer skips objects that fail conversion and keeps going", "[informer]") {
  SimulatedClock clock(kStart);
  FakeApiClient api(&clock);
  api.Put(kThings, MakeThing("ns", "good", 1));
  api.Put(kThings, MakeThing("ns", "bad", "not a number"));
  Informer<Thing> inf(api, clock, Options(), ThingFromJson);
  inf.Start();
  REQUIRE(inf.WaitForSync(hpad::MonoTime::max()));
  REQUIRE(api.WaitForWatchesOpened(kThings, 1));
  CHECK(inf.Store().Size() == 1);
  CHECK(inf.Store().Get("ns/bad") == nullptr);

  api.Put(kThings, MakeThing("ns", "good", "broken"));  // an update that fails: the last good state stays
  api.Put(kThings, MakeThing("ns", "bad", 7));          // fixed: now it appears
  REQUIRE(Settled([&] { return inf.Store().Get("ns/bad") != nullptr; }, clock));
  CHECK(inf.Store().Get("ns/bad")->value == 7);
  CHECK(inf.Store().Get("ns/good")->value == 1);
}

TEST_CASE("informer with a label selector and namespace only sees matching objects", "[informer]") {
  SimulatedClock clock(kStart);
  FakeApiClient api(&clock);
  Json a = MakeThing("ns", "a", 1);
  a["metadata"]["labels"] = {{"app", "web"}};
  Json b = MakeThing("ns", "b", 2);
  b["metadata"]["labels"] = {{"app", "db"}};
  Json c = MakeThing("other", "c", 3);
  c["metadata"]["labels"] = {{"app", "web"}};
  api.Put(kThings, a);
  api.Put(kThings, b);
  api.Put(kThings, c);
  ReflectorOptions o = Options();
  o.ns = "ns";
  o.label_selector = "app=web";
  Informer<Thing> inf(api, clock, o, ThingFromJson);
  REQUIRE(inf.Relist().ok());
  CHECK(inf.Store().Keys() == std::vector<std::string>{"ns/a"});
  CHECK(api.ActionsFor("list", "things").at(0).options.label_selector == "app=web");
}

// Issue 10 item 7: a watch answering 410 relists after the same jittered
// backoff as other errors, and a successful LIST does not reset it, so a
// 410 storm cannot become back-to-back LISTs.
TEST_CASE("informer: a 410 storm relists with a growing backoff, not back to back", "[informer][gone]") {
  SimulatedClock clock(kStart);
  FakeApiClient api(&clock);
  api.Put(kThings, MakeThing("ns", "a", 1));
  Informer<Thing> inf(api, clock, Options(), ThingFromJson);
  inf.Start();
  REQUIRE(api.WaitForWatchesOpened(kThings, 1));
  REQUIRE(inf.reflector().lists_done() == 1);

  constexpr int kStorm = 6;
  api.FailNext(kStorm, hpad::Status(StatusCode::kGone, "too old resource version", "Expired", 410), "watch");
  api.DisconnectWatches(kThings);
  // Nothing happens at this instant beyond the first 410: the relist waits.
  REQUIRE(clock.AwaitSleepers(1));
  CHECK(inf.reflector().lists_done() == 1);

  const Time storm_start = clock.Now();
  api.Put(kThings, MakeThing("ns", "a", 2));
  REQUIRE(Eventually([&] { return inf.reflector().lists_done() == 1 + kStorm && Converged(inf, api); }, clock,
                     100ms, 10min));
  // Base delays 0.8 s, 1.6 s, 3.2 s, ... (jitter only adds): with a reset
  // after each successful LIST every wait would be about 0.8-1.6 s.
  hpad::Duration min_total{};
  for (int i = 0; i < kStorm; ++i) min_total += std::chrono::milliseconds(800) * (1 << i);
  CHECK(clock.Now() - storm_start >= min_total);
  auto lists = api.ActionsFor("list", "things");
  CHECK(lists.size() == 1 + kStorm);
}

// Issue 10 item 7: an ERROR event with an odd code (999, 0, a server error,
// a Status of the wrong shape) must relist after a backoff, like an expired
// watch - re-watching from the same resourceVersion could repeat forever and
// leave the cache frozen.
TEST_CASE("informer: watch ERROR events with odd codes relist after a backoff", "[informer][gone]") {
  const Json object = GENERATE(Json{{"kind", "Status"}, {"code", 999}, {"message", "odd"}},
                               Json{{"kind", "Status"}, {"code", 0}},
                               Json{{"kind", "Status"}, {"code", 500}, {"reason", "InternalError"}},
                               Json{{"kind", nullptr}, {"code", "410"}}, Json("not a status"), Json());
  INFO(object.dump());
  SimulatedClock clock(kStart);
  FakeApiClient api(&clock);
  api.Put(kThings, MakeThing("ns", "a", 1));
  Informer<Thing> inf(api, clock, Options(), ThingFromJson);
  inf.Start();
  REQUIRE(api.WaitForWatchesOpened(kThings, 1));
  api.InjectWatchError(kThings, object);
  REQUIRE(clock.AwaitSleepers(1));
  CHECK(inf.reflector().lists_done() == 1);  // backing off, not relisting at once
  api.Put(kThings, MakeThing("ns", "b", 2));
  REQUIRE(Eventually([&] { return inf.reflector().lists_done() == 2 && Converged(inf, api); }, clock));
  CHECK(api.WatchesOpened(kThings) >= 2);
}

// The growing backoff of a 410 storm is not kept for ever: a watch that
// lived backoff_reset_after (2 min, client-go's backoff manager) resets it,
// so the next 410 relists after the initial delay again.
TEST_CASE("informer: a watch that lived 2 minutes resets the relist backoff", "[informer][gone]") {
  SimulatedClock clock(kStart);
  FakeApiClient api(&clock);
  api.Put(kThings, MakeThing("ns", "a", 1));
  Informer<Thing> inf(api, clock, Options(), ThingFromJson);
  inf.Start();
  REQUIRE(api.WaitForWatchesOpened(kThings, 1));
  api.FailNext(4, hpad::Status(StatusCode::kGone, "too old resource version", "Expired", 410), "watch");
  api.DisconnectWatches(kThings);
  // 4 relists with base delays 0.8 + 1.6 + 3.2 + 6.4 s, then a watch that works.
  REQUIRE(Eventually([&] { return inf.reflector().lists_done() == 5 && api.WatchesOpened(kThings) >= 2; }, clock));

  SECTION("after a long-lived watch the next 410 waits the initial delay (0.8-1.6 s)") {
    clock.Advance(std::chrono::minutes(2));
    REQUIRE(clock.AwaitSleepers(1));
    api.InjectGone(kThings);
    REQUIRE(Eventually([&] { return inf.reflector().lists_done() == 6; }, clock, 100ms, 1700ms));
  }
  SECTION("after a short-lived watch the backoff keeps growing (base 12800 ms)") {
    clock.Advance(std::chrono::seconds(10));
    REQUIRE(clock.AwaitSleepers(1));
    api.InjectGone(kThings);
    CHECK_FALSE(Eventually([&] { return inf.reflector().lists_done() == 6; }, clock, 100ms, 12s));
    CHECK(Eventually([&] { return inf.reflector().lists_done() == 6; }, clock, 100ms, 30s));
  }
}

// ---- the typed page path (issue 16): Informer<Pod> with PodListPageFromText

namespace {

using hpad::k8s::Pod;
using hpad::k8s::PodInterner;
using hpad::k8s::PodListPage;

// A resource of the test's own named "pods", so the fake stores pods with
// any fields (no defaulting or validation) and logs name them "pods".
const GroupVersionResource kTestPods{"example.com", "v1", "pods"};

Json MakePod(const std::string& ns, const std::string& name, const std::string& cpu, bool ready) {
  return {{"apiVersion", "example.com/v1"},
          {"kind", "Pod"},
          {"metadata", {{"namespace", ns}, {"name", name}, {"labels", {{"app", "web"}}}}},
          {"spec",
           {{"containers", {{{"name", "app"}, {"resources", {{"requests", {{"cpu", cpu}}}}}}}},
            {"initContainers", {{{"name", "proxy"}, {"restartPolicy", "Always"}}}}}},
          {"status",
           {{"phase", "Running"},
            {"startTime", "2026-01-01T00:00:00Z"},
            {"conditions", {{{"type", "Ready"}, {"status", ready ? "True" : "False"},
                             {"lastTransitionTime", "2026-01-01T00:00:05Z"}}}}}}};
}

ReflectorOptions PodOptions() {
  ReflectorOptions o = Options();
  o.gvr = kTestPods;
  o.name = "pods";
  return o;
}

// An informer on the typed page path (`typed`) or the DOM path, sharing
// `interner`.
std::unique_ptr<Informer<Pod>> PodInformer(FakeApiClient& api, SimulatedClock& clock, PodInterner& interner,
                                           bool typed) {
  Informer<Pod>::PageDecoder decoder;
  if (typed) {
    decoder = [&interner](std::string_view text, std::string_view what, PodListPage* page) {
      return hpad::k8s::PodListPageFromText(text, what, &interner, page);
    };
  }
  return std::make_unique<Informer<Pod>>(
      api, clock, PodOptions(), [&interner](const Json& j) { return hpad::k8s::PodFromJson(j, &interner); },
      std::move(decoder));
}

// Every cached pod shown in key order.
std::string ShowStore(const Informer<Pod>& inf) {
  std::string out;
  for (const auto& p : inf.Store().List()) out += hpad::k8s::testing::ShowPod(*p) + "\n";
  return out;
}

// Collects the "skipping" log lines (text after the klog header).
struct SkipLog {
  std::mutex mu;
  std::vector<std::string> lines;
  SkipLog() {
    hpad::k8s::SetLogSink([this](std::string_view l) {
      if (l.find("skipping") == std::string_view::npos) return;
      std::lock_guard<std::mutex> g(mu);
      lines.emplace_back(l.substr(l.find("] ") + 2));
    });
  }
  ~SkipLog() { hpad::k8s::SetLogSink(nullptr); }
  std::vector<std::string> Take() {
    std::lock_guard<std::mutex> g(mu);
    return std::exchange(lines, {});
  }
};

}  // namespace

TEST_CASE("typed page informer: pages with continue, a skipped pod, as the DOM path", "[informer][pod-stream]") {
  SimulatedClock clock(kStart);
  FakeApiClient api(&clock);
  for (int i = 0; i < 8; ++i)
    api.Put(kTestPods, MakePod("ns", "p" + std::to_string(i), std::to_string(100 + i) + "m", i % 2 == 0));
  Json bad = MakePod("ns", "bad", "1", true);
  bad["spec"]["containers"][0]["resources"]["requests"]["cpu"] = "lots";
  api.Put(kTestPods, bad);
  api.Put(kTestPods, MakePod("other", "y", "1", true));
  int rewrites = 0;
  api.SetListBodyRewriter([&rewrites](std::string body) {
    ++rewrites;
    return body;
  });
  PodInterner interner;
  SkipLog log;

  auto typed = PodInformer(api, clock, interner, true);
  REQUIRE(typed->Relist().ok());
  auto typed_log = log.Take();
  auto lists = api.ActionsFor("list", "pods");
  REQUIRE(lists.size() == 4);  // 10 pods in pages of 3
  CHECK(rewrites == 4);        // every page went through ListRaw
  CHECK(lists[0].options.continue_token.empty());
  for (size_t i = 1; i < lists.size(); ++i) CHECK_FALSE(lists[i].options.continue_token.empty());
  CHECK(typed->Store().Size() == 9);
  CHECK(typed->Store().Get("ns/bad") == nullptr);
  CHECK(typed->LastSyncResourceVersion() == api.CurrentResourceVersion());
  auto p1 = typed->Store().Get("ns/p1");
  REQUIRE(p1 != nullptr);
  CHECK(p1->ready_status == "False");
  CHECK(p1->requests().containers.at(0).requests_milli.at("cpu") == 101);
  CHECK(p1->requests().init_containers.at(0).restart_policy_always);
  REQUIRE(typed_log.size() == 1);
  CHECK(typed_log[0] ==
        "informer pods: skipping pods ns/bad: Invalid: spec.containers[0].resources.requests.cpu: "
        "quantity \"lots\": expected a number");

  api.ClearActions();
  auto dom = PodInformer(api, clock, interner, false);
  REQUIRE(dom->Relist().ok());
  CHECK(rewrites == 4);  // the DOM path lists with List()
  CHECK(api.ActionsFor("list", "pods").size() == 4);
  CHECK(log.Take() == typed_log);
  CHECK(ShowStore(*typed) == ShowStore(*dom));
  // Both through one interner: the same shared label set and requests.
  CHECK(typed->Store().Get("ns/p2")->shared_labels == dom->Store().Get("ns/p2")->shared_labels);
  CHECK(typed->Store().Get("ns/p2")->shared_requests == dom->Store().Get("ns/p2")->shared_requests);

  SECTION("a 410 on a continue token restarts the list without paging") {
    api.ClearActions();
    api.Remove(kTestPods, "ns", "p0");
    api.FailNextMatching(1, Status(StatusCode::kGone, "continue expired", "Expired", 410),
                         [](const auto& a) { return a.verb == "list" && !a.options.continue_token.empty(); });
    int removed = 0;
    InformerHandlers<Pod> h;
    h.on_delete = [&removed](const auto&) { ++removed; };
    typed->AddEventHandler(h);
    REQUIRE(typed->Relist().ok());
    auto l = api.ActionsFor("list", "pods");
    REQUIRE(l.size() == 3);  // page 1, page 2 (410), then everything at once
    CHECK(l[1].failed);
    CHECK(l[2].options.limit == 0);
    CHECK(l[2].options.continue_token.empty());
    CHECK(typed->Store().Size() == 8);
    CHECK(removed == 1);
    CHECK(log.Take().size() == 2);  // the bad pod on page 1 and again in the full list
    REQUIRE(dom->Relist().ok());
    CHECK(ShowStore(*typed) == ShowStore(*dom));
  }
  SECTION("a page that does not parse fails the list as List() would, the store stays") {
    api.SetListBodyRewriter([](std::string body) { return body.substr(0, body.size() / 2); });
    Status s = typed->Relist();
    CHECK(s.code() == StatusCode::kInternal);
    CHECK(s.message().find("LIST pods reply: not valid JSON (at byte ") != std::string::npos);
    CHECK(typed->Store().Size() == 9);
    CHECK(log.Take().empty());  // nothing from the page that failed
  }
  SECTION("odd pages: not an object, items not a list, an empty body") {
    for (const char* body : {"[1,2]", R"({"metadata":{"resourceVersion":5},"items":{"a":1}})", ""}) {
      api.SetListBodyRewriter([body](std::string) { return std::string(body); });
      REQUIRE(typed->Relist().ok());
      CHECK(typed->Store().Size() == 0);  // an empty list: everything deleted, as the DOM path would
      CHECK(typed->LastSyncResourceVersion().empty());
    }
  }
  SECTION("the reflector thread: synced through the typed path, then watch events by the converter") {
    auto live = PodInformer(api, clock, interner, true);
    live->Start();
    REQUIRE(live->WaitForSync(hpad::MonoTime::max()));
    REQUIRE(api.WaitForWatchesOpened(kTestPods, 1));
    CHECK(ShowStore(*live) == ShowStore(*dom));
    api.Put(kTestPods, MakePod("ns", "new", "7", true));
    REQUIRE(Settled([&] { return live->Store().Get("ns/new") != nullptr; }, clock));
    CHECK(live->Store().Get("ns/new")->requests().containers.at(0).requests_milli.at("cpu") == 7000);
    live->Stop();
  }
}
