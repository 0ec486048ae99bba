// LeaderElector on a coordination.k8s.io/v1 Lease in FakeApiClient:
// single steps on a SimulatedClock (acquire, renew, expiry judged by the
// observer's clock, takeover with leaseTransitions, release), then two
// candidates running on threads on a ManualClock, stepped so that every
// thread has reacted before time moves: exactly one leads at a time, the
// standby takes over after the leader stops renewing and the lease expires,
// and release on shutdown hands over at once.
#include <catch2/catch.hpp>

#include <atomic>
#include <memory>

#include "k8sclient/leader_elector.h"
#include "k8sclient/api/time_format.h"
#include "tests/fakes/fake_api_client.h"
#include "tests/fakes/manual_clock.h"

namespace {

using hpad::SimulatedClock;
using hpad::Status;
using hpad::Time;
using hpad::k8s::ApiClient;
using hpad::k8s::FormatRfc3339Micro;
using hpad::k8s::GroupVersionResource;
using hpad::k8s::Json;
using hpad::k8s::LeaderElectionConfig;
using hpad::k8s::LeaderElectionRecordFromLease;
using hpad::k8s::LeaderElector;
using hpad::k8s::ListOptions;
using hpad::k8s::ObjectKey;
using hpad::k8s::PatchType;
using hpad::Result;
using hpad::k8s::WatchStream;
using hpad::k8s::testing::FakeApiClient;
using hpad::k8s::testing::ManualClock;
namespace resources = hpad::k8s::resources;
using namespace std::chrono_literals;

const Time kStart = Time(std::chrono::seconds(1767225600));  // 2026-01-01T00:00:00Z

LeaderElectionConfig Config(const std::string& id) {
  LeaderElectionConfig c;
  c.lease_namespace = "kube-system";
  c.lease_name = "hpad";
  c.identity = id;
  c.seed = 1;
  return c;
}

Json Lease(FakeApiClient& api) {
  auto l = api.Object(resources::kLeases, "kube-system", "hpad");
  REQUIRE(l.has_value());
  return *l;
}

// Forwards to another ApiClient unless cut off (a network partition of one candidate).
class PartitionableApi : public ApiClient {
 public:
  explicit PartitionableApi(ApiClient& inner) : inner_(inner) {}
  std::atomic<bool> partitioned{false};
  Result<Json> Get(const ObjectKey& k) override { return Cut() ? Down() : inner_.Get(k); }
  Result<Json> List(const GroupVersionResource& g, const std::string& ns, const ListOptions& o) override {
    return Cut() ? Down() : inner_.List(g, ns, o);
  }
  Result<std::unique_ptr<WatchStream>> Watch(const GroupVersionResource& g, const std::string& ns,
                                             const ListOptions& o) override {
    if (Cut()) return Down().status();
    return inner_.Watch(g, ns, o);
  }
  Result<Json> Create(const GroupVersionResource& g, const std::string& ns, const Json& obj) override {
    return Cut() ? Down() : inner_.Create(g, ns, obj);
  }
  Result<Json> Update(const ObjectKey& k, const Json& obj) override { return Cut() ? Down() : inner_.Update(k, obj); }
  Result<Json> Patch(const ObjectKey& k, PatchType t, const std::string& b) override {
    return Cut() ? Down() : inner_.Patch(k, t, b);
  }
  Status Delete(const ObjectKey& k) override { return Cut() ? Down().status() : inner_.Delete(k); }
  Result<Json> GetPath(const std::string& p) override { return Cut() ? Down() : inner_.GetPath(p); }

 private:
  bool Cut() const { return partitioned.load(); }
  static Result<Json> Down() { return hpad::UnavailableError("network partition"); }
  ApiClient& inner_;
};

}  // namespace

TEST_CASE("leader election: acquire, renew, and expiry judged by the observer's clock", "[leader]") {
  SimulatedClock clock(kStart);
  FakeApiClient api;
  LeaderElector a(api, clock, Config("a"));
  LeaderElector b(api, clock, Config("b"));

  REQUIRE(a.TryAcquireOrRenew());  // absent: create
  Json lease = Lease(api);
  CHECK(lease["apiVersion"] == "coordination.k8s.io/v1");
  CHECK(lease["kind"] == "Lease");
  CHECK(lease["spec"]["holderIdentity"] == "a");
  CHECK(lease["spec"]["leaseDurationSeconds"] == 15);
  CHECK(lease["spec"]["leaseTransitions"] == 0);
  CHECK(lease["spec"]["acquireTime"] == "2026-01-01T00:00:00.000000Z");  // MicroTime
  CHECK(lease["spec"]["renewTime"] == "2026-01-01T00:00:00.000000Z");
  CHECK(a.GetLeader() == "a");

  CHECK_FALSE(b.TryAcquireOrRenew());  // held and fresh
  CHECK(b.GetLeader() == "a");

  clock.Advance(2s);
  REQUIRE(a.TryAcquireOrRenew());  // renew keeps acquireTime and transitions
  lease = Lease(api);
  CHECK(lease["spec"]["renewTime"] == FormatRfc3339Micro(kStart + 2s));
  CHECK(lease["spec"]["acquireTime"] == FormatRfc3339Micro(kStart));
  CHECK(lease["spec"]["leaseTransitions"] == 0);
  CHECK_FALSE(b.TryAcquireOrRenew());  // b sees the change at t=2

  // a stops renewing. b counts 15 s from when IT saw the last change (t=2).
  clock.Set(kStart + 16s);
  CHECK_FALSE(b.TryAcquireOrRenew());
  clock.Set(kStart + 17s);
  REQUIRE(b.TryAcquireOrRenew());
  lease = Lease(api);
  CHECK(lease["spec"]["holderIdentity"] == "b");
  CHECK(lease["spec"]["leaseTransitions"] == 1);
  CHECK(lease["spec"]["acquireTime"] == FormatRfc3339Micro(kStart + 17s));
  CHECK_FALSE(a.TryAcquireOrRenew());  // a sees b's fresh record
  CHECK(a.GetLeader() == "b");
}

TEST_CASE("leader election ignores the remote renewTime (clock skew)", "[leader]") {
  SimulatedClock clock(kStart);
  FakeApiClient api;
  // Another holder's record with a renewTime far in the past (its clock is
  // behind ours): it still counts as fresh for 15 s after we first see it.
  api.Put(resources::kLeases, Json::parse(R"({"apiVersion":"coordination.k8s.io/v1","kind":"Lease",
      "metadata":{"namespace":"kube-system","name":"hpad"},
      "spec":{"holderIdentity":"old","leaseDurationSeconds":15,"leaseTransitions":4,
              "acquireTime":"2000-01-01T00:00:00.000000Z","renewTime":"2000-01-01T00:00:00.000000Z"}})"));
  LeaderElector b(api, clock, Config("b"));
  CHECK_FALSE(b.TryAcquireOrRenew());
  clock.Advance(14s);
  CHECK_FALSE(b.TryAcquireOrRenew());
  clock.Advance(1s);
  REQUIRE(b.TryAcquireOrRenew());
  Json lease = Lease(api);
  CHECK(lease["spec"]["leaseTransitions"] == 5);
  CHECK(lease["spec"]["holderIdentity"] == "b");
}

TEST_CASE("leader election: a conflicting write loses the round", "[leader]") {
  SimulatedClock clock(kStart);
  FakeApiClient api;
  LeaderElector a(api, clock, Config("a"));
  REQUIRE(a.TryAcquireOrRenew());
  api.FailNext(1, Status(hpad::StatusCode::kConflict, "modified", "Conflict", 409), "update", "leases");
  clock.Advance(2s);
  CHECK_FALSE(a.TryAcquireOrRenew());
  clock.Advance(2s);
  CHECK(a.TryAcquireOrRenew());
  // Writes are optimistic: every update carried the resourceVersion it read.
  for (const auto& act : api.ActionsFor("update", "leases"))
    CHECK_FALSE(act.object["metadata"].value("resourceVersion", "").empty());
}

TEST_CASE("leader election release lets another candidate take over at once", "[leader]") {
  SimulatedClock clock(kStart);
  FakeApiClient api;
  LeaderElector a(api, clock, Config("a"));
  LeaderElector b(api, clock, Config("b"));
  REQUIRE(a.TryAcquireOrRenew());
  CHECK_FALSE(b.TryAcquireOrRenew());
  clock.Advance(1s);
  REQUIRE(a.Release());
  Json lease = Lease(api);
  CHECK(lease["spec"]["holderIdentity"] == "");
  CHECK(lease["spec"]["leaseDurationSeconds"] == 1);
  CHECK(lease["spec"]["leaseTransitions"] == 0);
  REQUIRE(b.TryAcquireOrRenew());  // no waiting for expiry
  lease = Lease(api);
  CHECK(lease["spec"]["holderIdentity"] == "b");
  CHECK(lease["spec"]["leaseTransitions"] == 1);
  CHECK(lease["spec"]["leaseDurationSeconds"] == 15);
}

TEST_CASE("default leader identity is hostname_uuid", "[leader]") {
  std::string id = hpad::k8s::DefaultLeaderIdentity();
  auto us = id.rfind('_');
  REQUIRE(us != std::string::npos);
  CHECK(us > 0);
  std::string uuid = id.substr(us + 1);
  REQUIRE(uuid.size() == 36);
  CHECK(uuid[8] == '-');
  CHECK(uuid[14] == '4');  // version 4
  CHECK(hpad::k8s::RandomUuid() != hpad::k8s::RandomUuid());
}

namespace {

// Two candidates on threads; the test moves time only when every running
// candidate is asleep on the clock, checking "at most one leader" each step.
struct Candidate {
  std::unique_ptr<PartitionableApi> api;
  std::unique_ptr<LeaderElector> elector;
  std::atomic<bool> leading{false};
  std::atomic<bool> finished{false};
  std::atomic<int> started{0};
};

struct Election {
  ManualClock clock{kStart};
  FakeApiClient api;
  std::atomic<int> leaders{0};
  std::atomic<int> max_leaders{0};
  Candidate cands[2];

  explicit Election(bool release_on_cancel = true, hpad::Duration retry_period = 2s) {
    const char* ids[] = {"a", "b"};
    for (int i = 0; i < 2; ++i) {
      Candidate& c = cands[i];
      c.api = std::make_unique<PartitionableApi>(api);
      LeaderElectionConfig cfg = Config(ids[i]);
      cfg.seed = 10 + i;
      cfg.release_on_cancel = release_on_cancel;
      cfg.retry_period = retry_period;
      cfg.on_started_leading = [this, &c] {
        c.leading = true;
        ++c.started;
        int n = ++leaders;
        int m = max_leaders.load();
        while (n > m && !max_leaders.compare_exchange_weak(m, n)) {
        }
      };
      cfg.on_stopped_leading = [this, &c] {
        c.leading = false;
        --leaders;
        c.finished = true;  // Run() returns right after this callback
      };
      c.elector = std::make_unique<LeaderElector>(*c.api, clock, cfg);
    }
  }
  ~Election() {
    for (auto& c : cands) c.elector->Stop();
  }
  size_t Running() const {
    size_t n = 0;
    for (const auto& c : cands)
      if (!c.finished && !stopped_[&c - cands]) ++n;
    return n;
  }
  void MarkStopped(int i) { stopped_[i] = true; }
  // Moves virtual time in 100 ms steps until `pred` holds or `limit` passes.
  // Returns the virtual time it took, or nullopt.
  template <typename Pred>
  std::optional<hpad::Duration> StepUntil(Pred pred, hpad::Duration limit) {
    Time begin = clock.Now();
    while (true) {
      REQUIRE(AwaitQuiet());
      REQUIRE(leaders.load() <= 1);
      if (pred()) return clock.Now() - begin;
      if (clock.Now() - begin >= limit) return std::nullopt;
      clock.Advance(100ms);
    }
  }
  // Every running candidate asleep on the clock. Re-evaluates Running()
  // because a candidate may finish (lose the lease) while we wait.
  bool AwaitQuiet() {
    auto deadline = std::chrono::steady_clock::now() + 10s;
    while (!clock.AwaitSleepers(Running(), 5ms))
      if (std::chrono::steady_clock::now() > deadline) return false;
    return true;
  }
  int Leader() const {
    for (int i = 0; i < 2; ++i)
      if (cands[i].leading) return i;
    return -1;
  }

 private:
  bool stopped_[2] = {false, false};
};

}  // namespace

TEST_CASE("two candidates: exactly one leads, the other takes over when renewals stop", "[leader]") {
  Election e;
  e.cands[0].elector->Start();
  e.cands[1].elector->Start();
  REQUIRE(e.StepUntil([&] { return e.Leader() >= 0; }, 10s));
  const int first = e.Leader();
  const int second = 1 - first;

  // A minute of steady state: leadership never moves, the lease is renewed.
  REQUIRE_FALSE(e.StepUntil([&] { return e.Leader() != first; }, 60s));
  CHECK(e.cands[first].started == 1);
  CHECK(e.cands[second].started == 0);
  CHECK(e.max_leaders == 1);
  auto record = LeaderElectionRecordFromLease(Lease(e.api));
  REQUIRE(record.ok());
  REQUIRE(record->renew_time.has_value());
  CHECK(*record->renew_time >= e.clock.Now() - 3s);  // renewed every ~2 s

  // The leader is cut off: it cannot renew, gives up after the renew
  // deadline, and only then (lease expired) does the standby take over.
  e.cands[first].api->partitioned = true;
  auto lost = e.StepUntil([&] { return !e.cands[first].leading; }, 30s);
  REQUIRE(lost.has_value());
  CHECK(*lost >= 10s);  // the renew deadline
  CHECK(*lost <= 13s);
  auto took = e.StepUntil([&] { return e.cands[second].leading.load(); }, 30s);
  REQUIRE(took.has_value());
  CHECK(e.max_leaders == 1);
  Json lease = Lease(e.api);
  CHECK(lease["spec"]["holderIdentity"] == (second == 0 ? "a" : "b"));
  CHECK(lease["spec"]["leaseTransitions"] == 1);
}

TEST_CASE("a renewal round ends at its renew deadline, never a retry period later", "[leader]") {
  // Retry 3 s does not divide the 10 s renew deadline: attempts at +0, +3,
  // +6, +9 of the round; the round must end at +10, not sleep on to +12.
  Election e(true, 3s);
  e.MarkStopped(1);  // one candidate only: the other never starts
  e.cands[0].elector->Start();
  REQUIRE(e.StepUntil([&] { return e.Leader() == 0; }, 10s));
  REQUIRE_FALSE(e.StepUntil([&] { return e.Leader() != 0; }, 7s));
  e.cands[0].api->partitioned = true;
  auto record = LeaderElectionRecordFromLease(Lease(e.api));
  REQUIRE(record.ok());
  REQUIRE(record->renew_time.has_value());
  const Time last_renewal = *record->renew_time;
  REQUIRE(e.StepUntil([&] { return !e.cands[0].leading; }, 30s));
  // The round after the last renewal starts one retry period later and
  // lasts exactly the renew deadline (100 ms: the test's time step).
  CHECK(e.clock.Now() - last_renewal <= 3s + 10s + 100ms);
  CHECK(e.clock.Now() - last_renewal >= 3s + 10s);
}

TEST_CASE("two candidates: release on shutdown hands over without waiting for expiry", "[leader]") {
  for (bool release : {true, false}) {
    DYNAMIC_SECTION("release_on_cancel=" << release) {
      Election e(release);
      e.cands[0].elector->Start();
      e.cands[1].elector->Start();
      REQUIRE(e.StepUntil([&] { return e.Leader() >= 0; }, 10s));
      const int first = e.Leader();
      const int second = 1 - first;
      REQUIRE_FALSE(e.StepUntil([&] { return e.Leader() != first; }, 6s));

      e.cands[first].elector->Stop();  // SIGTERM
      e.MarkStopped(first);
      CHECK_FALSE(e.cands[first].leading);  // OnStoppedLeading ran before Stop returned
      Json lease = Lease(e.api);
      CHECK(lease["spec"]["holderIdentity"] == (release ? "" : (first == 0 ? "a" : "b")));
      auto took = e.StepUntil([&] { return e.cands[second].leading.load(); }, 30s);
      REQUIRE(took.has_value());
      if (release) {
        CHECK(*took <= 5s);  // next retry: 2 s * (1 + up to 1.2 jitter)
      } else {
        CHECK(*took >= 13s);  // waits out the 15 s lease (last renewal up to 2 s before)
      }
      CHECK(e.max_leaders == 1);
    }
  }
}
