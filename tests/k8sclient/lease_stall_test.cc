// Issue 15 item 1, the fault "lease requests stalled past the renew
// deadline", in virtual time: the leader's lease requests stop being
// answered (the server holds them) while a standby's still work. What must
// hold - and what the chaos soak's "writers" check relies on:
//   * every stalled lease request carries a deadline (the elector's
//     RequestDeadlineScope; RestApiClient turns it into the transport's
//     hard timeout, tests/k8sclient/cancellation_test.cc), none later than
//     the round's renew deadline, so a stall cannot stretch a round;
//   * the leader stops leading and its write fence is closed within the
//     renew deadline of its last successful renewal - before the standby can
//     acquire the expired lease (lease duration): at no instant are both
//     fences open, i.e. never two writers.
// The stall is modelled by an ApiClient whose lease requests block on the
// simulated clock until the calling thread's request deadline (as a
// stalled HTTP exchange ends at its hard timeout) and then fail kTimeout;
// a request without a deadline would block until the test ends the stall,
// which the checks below catch.
#include <catch2/catch.hpp>

#include <atomic>
#include <memory>
#include <mutex>
#include <optional>
#include <vector>

#include "k8sclient/cancel_scope.h"
#include "k8sclient/leader_elector.h"
#include "k8sclient/write_fence.h"
#include "tests/fakes/fake_api_client.h"
#include "tests/fakes/manual_clock.h"

namespace {

using hpad::Duration;
using hpad::MonoTime;
using hpad::Result;
using hpad::Status;
using hpad::Time;
using hpad::k8s::ApiClient;
using hpad::k8s::GroupVersionResource;
using hpad::k8s::Json;
using hpad::k8s::LeaderElectionConfig;
using hpad::k8s::LeaderElector;
using hpad::k8s::ListOptions;
using hpad::k8s::ObjectKey;
using hpad::k8s::PatchType;
using hpad::k8s::WatchStream;
using hpad::k8s::WriteFence;
using hpad::k8s::testing::FakeApiClient;
using hpad::k8s::testing::ManualClock;
namespace resources = hpad::k8s::resources;
using namespace std::chrono_literals;

const Time kStart = Time(std::chrono::seconds(1767225600));  // 2026-01-01T00:00:00Z

// Forwards to `inner`; while `stalled`, a lease request is held until the
// calling thread's request deadline and then fails as a timed-out exchange.
class StallingLeaseApi final : public ApiClient {
 public:
  StallingLeaseApi(ApiClient& inner, const ManualClock& clock) : inner_(inner), clock_(clock) {}
  std::atomic<bool> stalled{false};

  Result<Json> Get(const ObjectKey& k) override {
    if (auto s = Stall(k.gvr)) return *s;
    return inner_.Get(k);
  }
  Result<Json> List(const GroupVersionResource& g, const std::string& ns, const ListOptions& o) override {
    return inner_.List(g, ns, o);
  }
  Result<std::unique_ptr<WatchStream>> Watch(const GroupVersionResource& g, const std::string& ns,
                                             const ListOptions& o) override {
    return inner_.Watch(g, ns, o);
  }
  Result<Json> Create(const GroupVersionResource& g, const std::string& ns, const Json& obj) override {
    if (auto s = Stall(g)) return *s;
    return inner_.Create(g, ns, obj);
  }
  Result<Json> Update(const ObjectKey& k, const Json& obj) override {
    if (auto s = Stall(k.gvr)) return *s;
    return inner_.Update(k, obj);
  }
  Result<Json> Patch(const ObjectKey& k, PatchType t, const std::string& b) override { return inner_.Patch(k, t, b); }
  Status Delete(const ObjectKey& k) override { return inner_.Delete(k); }
  Result<Json> GetPath(const std::string& p) override { return inner_.GetPath(p); }

  // The deadline of every stalled request (nullopt: it had none).
  std::vector<std::optional<MonoTime>> StalledDeadlines() const {
    std::lock_guard<std::mutex> l(mu_);
    return deadlines_;
  }

 private:
  std::optional<Status> Stall(const GroupVersionResource& gvr) {
    if (!stalled || !(gvr == resources::kLeases)) return std::nullopt;
    const std::optional<MonoTime> deadline = hpad::k8s::CurrentRequestDeadline();
    {
      std::lock_guard<std::mutex> l(mu_);
      deadlines_.push_back(deadline);
    }
    // Held until the hard timeout (or, without a deadline, until the stall ends).
    clock_.WaitUntil(deadline.value_or(MonoTime::max()), [this] { return !stalled.load(); });
    return Status(hpad::StatusCode::kTimeout, "lease request stalled on the server: hard timeout", "Timeout");
  }

  ApiClient& inner_;
  const ManualClock& clock_;
  mutable std::mutex mu_;
  std::vector<std::optional<MonoTime>> deadlines_;
};

LeaderElectionConfig Config(const std::string& id, std::shared_ptr<WriteFence> fence) {
  LeaderElectionConfig c;
  c.lease_namespace = "kube-system";
  c.lease_name = "hpad";
  c.identity = id;
  c.seed = id == "a" ? 1 : 2;
  c.fence = std::move(fence);  // lease 15 s, renew deadline 10 s, retry 2 s
  return c;
}

}  // namespace

TEST_CASE("a leader whose lease requests stall closes its fence before the standby can lead",
          "[leader][fence][stall]") {
  ManualClock clock(kStart);
  FakeApiClient server(&clock);
  StallingLeaseApi a_api(server, clock);
  auto a_fence = std::make_shared<WriteFence>();
  auto b_fence = std::make_shared<WriteFence>();

  std::atomic<bool> a_leading{false}, a_done{false}, b_leading{false};
  std::atomic<bool> both_fences_open{false};
  std::atomic<int64_t> a_lost_ns{-1}, b_started_ns{-1};
  int64_t a_fence_closed_ns = -1;  // first step at which a's fence was seen shut during the stall
  const MonoTime t0 = clock.MonoNow();
  auto since_start = [&] { return (clock.MonoNow() - t0).count(); };

  LeaderElectionConfig a_cfg = Config("a", a_fence);
  a_cfg.on_started_leading = [&] { a_leading = true; };
  a_cfg.on_stopped_leading = [&] {
    a_leading = false;
    a_lost_ns = since_start();
    a_done = true;
  };
  LeaderElectionConfig b_cfg = Config("b", b_fence);
  b_cfg.on_started_leading = [&] {
    b_leading = true;
    b_started_ns = since_start();
    // The moment the standby may write: the old leader's fence must be shut.
    if (a_fence->Check(clock.MonoNow(), "probe").ok()) both_fences_open = true;
  };
  b_cfg.on_stopped_leading = [&] { b_leading = false; };
  LeaderElector a(a_api, clock, a_cfg);
  LeaderElector b(server, clock, b_cfg);

  // Every running elector asleep on the clock (a's stalled request sleeps
  // there too); a stops running once it has lost the lease.
  bool b_started = false;
  auto quiet = [&] {
    for (int tries = 0; tries < 2000; ++tries) {
      const size_t running = (a_done ? 0 : 1) + (b_started ? 1 : 0);
      if (clock.AwaitSleepers(running, 5ms)) return true;
    }
    return false;
  };
  // 100 ms steps until `pred` or `limit`; checks the one-writer invariant
  // on the fences at every step.
  auto step_until = [&](auto pred, Duration limit) {
    const MonoTime begin = clock.MonoNow();
    while (true) {
      REQUIRE(quiet());
      const MonoTime now = clock.MonoNow();
      if (a_fence->Check(now, "probe").ok() && b_fence->Check(now, "probe").ok()) both_fences_open = true;
      if (a_api.stalled && a_fence_closed_ns < 0 && !a_fence->Check(now, "probe").ok())
        a_fence_closed_ns = (now - t0).count();
      if (pred()) return true;
      if (now - begin >= limit) return false;
      clock.Advance(100ms);
    }
  };

  a.Start();
  // a leads alone first (b is started once a holds the lease).
  REQUIRE(clock.AwaitSleepers(1));
  REQUIRE(step_until([&] { return a_leading.load(); }, 10s));
  b.Start();
  b_started = true;
  REQUIRE_FALSE(step_until([&] { return b_leading.load(); }, 20s));  // renewals keep b out
  REQUIRE(a_leading);
  CHECK(a_fence->Check(clock.MonoNow(), "probe").ok());

  const MonoTime stall_start = clock.MonoNow();
  a_api.stalled = true;
  REQUIRE(step_until([&] { return b_leading.load(); }, 40s));
  a_api.stalled = false;
  clock.Notify();

  // a's fence shut within the renew deadline of its last successful lease
  // request (which started before the stall): at most 10 s into the stall
  // (one 100 ms step of observation). Its elector gave up later, at the
  // end of the renewal round, which starts at most a retry period after
  // that request and ends at its renew deadline, never a retry sleep later
  // (2 s + 10 s) - harmless for fencing, as the fence was already shut.
  REQUIRE(a_done);
  CHECK_FALSE(a_leading);
  const int64_t stall_ns = (stall_start - t0).count();
  REQUIRE(a_fence_closed_ns >= 0);
  CHECK(a_fence_closed_ns - stall_ns <= std::chrono::nanoseconds(10s + 100ms).count());
  CHECK(a_lost_ns - stall_ns <= std::chrono::nanoseconds(12s + 100ms).count());
  CHECK_FALSE(a_fence->Check(clock.MonoNow(), "probe").ok());
  CHECK_FALSE(both_fences_open);
  // b could only take an expired lease: 15 s after a's last renewal as b
  // observed it, so later than a's fence closed (10 s after it).
  CHECK(b_started_ns > a_fence_closed_ns);

  // Every stalled lease request was bounded, and by the renew deadline of
  // the round it belonged to (no round starts later than a retry period
  // after the stall).
  const auto deadlines = a_api.StalledDeadlines();
  REQUIRE(!deadlines.empty());
  for (const auto& d : deadlines) {
    REQUIRE(d.has_value());
    CHECK(*d - stall_start <= 12s);
  }

  b.Stop();
  a.Stop();
}
