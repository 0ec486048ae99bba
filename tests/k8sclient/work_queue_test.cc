// WorkQueue: client-go semantics (hpa-semantics.md Q1: one worker per key;
// Q2: AddAfter for the sync period) on a SimulatedClock, and the
// per-item exponential rate limiter's delay table.
//
// Delays are driven with "advance, then wait for the delay thread to be
// asleep again" (SimulatedClock::AwaitSleepers): after that the queue's
// state is final for the current virtual time, so the tests check it
// directly - no wall-clock sleeps, no "did not happen within 50 ms" waits.
// Wall-clock timeouts remain only as safety nets that fail a broken test
// instead of hanging it.
#include <catch2/catch.hpp>

#include <atomic>
#include <future>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "k8sclient/work_queue.h"

namespace {

using hpad::SimulatedClock;
using hpad::Time;
using hpad::k8s::ItemExponentialRateLimiter;
using hpad::k8s::WorkQueue;
using hpad::k8s::WorkQueueObserver;
using namespace std::chrono_literals;

const Time kStart = Time(std::chrono::seconds(1767225600));  // 2026-01-01T00:00:00Z
// Safety net only: a correct queue answers in microseconds.
constexpr auto kWallTimeout = std::chrono::seconds(10);

// Moves virtual time and waits until the queue's delay thread has seen it.
void AdvanceAndSettle(SimulatedClock& clock, hpad::Duration d) {
  clock.Advance(d);
  REQUIRE(clock.AwaitSleepers(1));
}

std::future<std::optional<std::string>> AsyncGet(WorkQueue& q) {
  return std::async(std::launch::async, [&q] { return q.Get(); });
}

// The key Get() returns, failing the test (not hanging) if none comes.
std::string GetOrFail(WorkQueue& q) {
  auto f = AsyncGet(q);
  if (f.wait_for(kWallTimeout) != std::future_status::ready) {
    q.ShutDown();  // unblock the getter so the test can fail cleanly
    FAIL("Get() did not return");
  }
  auto k = f.get();
  REQUIRE(k.has_value());
  return *k;
}

}  // namespace

TEST_CASE("work queue dedups keys that are waiting", "[work_queue]") {
  SimulatedClock clock(kStart);
  WorkQueue q(clock, "test");
  q.Add("ns/a");
  q.Add("ns/b");
  q.Add("ns/a");
  CHECK(q.Len() == 2);
  CHECK(GetOrFail(q) == "ns/a");
  CHECK(GetOrFail(q) == "ns/b");
  CHECK(q.Len() == 0);
}

TEST_CASE("work queue hands a key to one worker at a time and re-queues it if dirtied (Q1)", "[work_queue]") {
  SimulatedClock clock(kStart);
  WorkQueue q(clock, "test");
  q.Add("ns/a");
  REQUIRE(GetOrFail(q) == "ns/a");
  // Re-added while processing: remembered, but not handed to a second worker.
  q.Add("ns/a");
  q.Add("ns/a");
  CHECK(q.Len() == 0);  // nothing for a second worker's Get() to take
  q.Done("ns/a");
  CHECK(q.Len() == 1);
  CHECK(GetOrFail(q) == "ns/a");
  q.Done("ns/a");
  CHECK(q.Len() == 0);  // processed once more, not twice more

  SECTION("Done without a re-add does not re-queue") {
    q.Add("ns/b");
    REQUIRE(GetOrFail(q) == "ns/b");
    q.Done("ns/b");
    CHECK(q.Len() == 0);
  }
}

TEST_CASE("work queue never runs one key on two workers concurrently", "[work_queue]") {
  SimulatedClock clock(kStart);
  WorkQueue q(clock, "test");
  std::mutex mu;
  std::map<std::string, int> active;
  std::atomic<bool> overlap{false};
  std::atomic<int> processed{0};
  std::vector<std::thread> workers;
  for (int w = 0; w < 4; ++w) {
    workers.emplace_back([&] {
      while (auto key = q.Get()) {
        {
          std::lock_guard<std::mutex> l(mu);
          if (++active[*key] > 1) overlap = true;
        }
        std::this_thread::yield();
        {
          std::lock_guard<std::mutex> l(mu);
          --active[*key];
        }
        ++processed;
        q.Done(*key);
      }
    });
  }
  for (int i = 0; i < 3000; ++i) q.Add("k" + std::to_string(i % 3));
  // Shutdown drains: workers take what is queued (and re-queued by Done)
  // before Get() returns nullopt.
  q.ShutDown();
  for (auto& t : workers) t.join();
  CHECK_FALSE(overlap);
  CHECK(processed > 0);
  CHECK(processed <= 3000);
}

TEST_CASE("work queue AddAfter waits for the simulated clock (Q2)", "[work_queue]") {
  SimulatedClock clock(kStart);
  WorkQueue q(clock, "test");
  q.AddAfter("ns/a", 15s);
  CHECK(q.Len() == 0);
  CHECK(q.DelayedLen() == 1);

  REQUIRE(clock.AwaitSleepers(1));
  AdvanceAndSettle(clock, 14s);
  CHECK(q.Len() == 0);
  CHECK(q.DelayedLen() == 1);
  AdvanceAndSettle(clock, 1s);
  CHECK(q.Len() == 1);
  CHECK(GetOrFail(q) == "ns/a");
  CHECK(q.DelayedLen() == 0);

  SECTION("an earlier AddAfter wins, a later one is ignored") {
    q.AddAfter("ns/b", 10s);
    q.AddAfter("ns/b", 2s);
    q.AddAfter("ns/b", 30s);
    CHECK(q.DelayedLen() == 1);
    REQUIRE(clock.AwaitSleepers(1));
    AdvanceAndSettle(clock, 2s);
    CHECK(GetOrFail(q) == "ns/b");
    CHECK(q.DelayedLen() == 0);
  }
  SECTION("a delayed key that is already queued is not queued twice") {
    q.Add("ns/c");
    q.AddAfter("ns/c", 1s);
    CHECK(GetOrFail(q) == "ns/c");
    REQUIRE(clock.AwaitSleepers(1));
    AdvanceAndSettle(clock, 1s);
    // The delayed add lands while ns/c is processing: it becomes dirty, and Done re-queues it once.
    CHECK(q.DelayedLen() == 0);
    CHECK(q.Len() == 0);
    q.Done("ns/c");
    CHECK(q.Len() == 1);
  }
  SECTION("non-positive delay adds at once") {
    q.AddAfter("ns/d", 0s);
    CHECK(q.Len() == 1);
  }
}

namespace {

// A Clock that forwards to a SimulatedClock and records what the queue asks
// of it: how often it is notified and the deadline of every wait.
class RecordingClock final : public hpad::Clock {
 public:
  explicit RecordingClock(SimulatedClock& inner) : inner_(inner) {}
  Time Now() const override { return inner_.Now(); }
  hpad::MonoTime MonoNow() const override { return inner_.MonoNow(); }
  using hpad::Clock::WaitUntil;
  bool WaitUntil(hpad::MonoTime deadline, const std::function<bool()>& wake) const override {
    {
      std::lock_guard<std::mutex> l(mu_);
      deadlines_.push_back(deadline);
    }
    return inner_.WaitUntil(deadline, wake);
  }
  void Notify() const override {
    notifies_.fetch_add(1);
    inner_.Notify();
  }
  int notifies() const { return notifies_.load(); }
  size_t waits() const {
    std::lock_guard<std::mutex> l(mu_);
    return deadlines_.size();
  }
  hpad::MonoTime last_deadline() const {
    std::lock_guard<std::mutex> l(mu_);
    return deadlines_.empty() ? hpad::MonoTime::min() : deadlines_.back();
  }

 private:
  SimulatedClock& inner_;
  mutable std::atomic<int> notifies_{0};
  mutable std::mutex mu_;
  mutable std::vector<hpad::MonoTime> deadlines_;
};

}  // namespace

// The delay thread sleeps until the earliest ready time and is woken only
// when an AddAfter brings that time forward: keys due later than the current
// earliest (the steady state of a controller's per-HPA resyncs) wake nothing.
TEST_CASE("work queue AddAfter wakes the delay thread only for a new earliest deadline", "[work_queue]") {
  SimulatedClock sim(kStart);
  RecordingClock clock(sim);
  WorkQueue q(clock, "test");
  const hpad::MonoTime t0 = sim.MonoNow();
  REQUIRE(sim.AwaitSleepers(1));
  CHECK(clock.last_deadline() == hpad::MonoTime::max());  // nothing delayed: sleeps until woken

  q.AddAfter("ns/first", 10s);  // the first delayed key is the earliest
  REQUIRE(sim.AwaitSleepers(1));
  CHECK(clock.notifies() == 1);
  CHECK(clock.last_deadline() == t0 + 10s);
  const size_t waits = clock.waits();

  for (int i = 0; i < 100; ++i) q.AddAfter("ns/later-" + std::to_string(i), 11s + i * 1s);
  q.AddAfter("ns/first", 20s);  // a later time for a waiting key is ignored
  q.AddAfter("ns/tie", 10s);    // due with the earliest: no earlier wake-up needed
  REQUIRE(sim.AwaitSleepers(1));
  CHECK(clock.notifies() == 1);
  CHECK(clock.waits() == waits);  // the delay thread never woke
  CHECK(q.DelayedLen() == 102);

  q.AddAfter("ns/sooner", 3s);  // a new earliest: one wake-up, a sleep until it
  REQUIRE(sim.AwaitSleepers(1));
  CHECK(clock.notifies() == 2);
  CHECK(clock.waits() == waits + 1);
  CHECK(clock.last_deadline() == t0 + 3s);

  q.AddAfter("ns/later-50", 1s);  // a waiting key moved to the front counts too
  REQUIRE(sim.AwaitSleepers(1));
  CHECK(clock.notifies() == 3);
  CHECK(clock.last_deadline() == t0 + 1s);

  // The later keys still fire when their time comes, in deadline order.
  sim.Advance(1s);
  REQUIRE(sim.AwaitSleepers(1));
  CHECK(q.Len() == 1);
  CHECK(clock.last_deadline() == t0 + 3s);
  sim.Advance(9s);
  REQUIRE(sim.AwaitSleepers(1));
  CHECK(q.Len() == 4);  // later-50, sooner, first, tie
  CHECK(clock.last_deadline() == t0 + 11s);
  sim.Advance(200s);
  REQUIRE(sim.AwaitSleepers(1));
  CHECK(q.Len() == 103);  // first, tie, sooner and the 100 later keys
  CHECK(q.DelayedLen() == 0);
  CHECK(clock.notifies() == 3);
}

TEST_CASE("work queue with a wake-up granularity fires delayed keys in batches at most that late", "[work_queue]") {
  SimulatedClock sim(kStart);
  RecordingClock clock(sim);
  WorkQueue q(clock, "test", nullptr, nullptr, 100ms);
  const hpad::MonoTime t0 = sim.MonoNow();
  REQUIRE(sim.AwaitSleepers(1));
  q.AddAfter("ns/a", 10ms);
  q.AddAfter("ns/b", 50ms);
  q.AddAfter("ns/c", 150ms);
  q.AddAfter("ns/d", 400ms);
  REQUIRE(sim.AwaitSleepers(1));
  // ns/a woke the thread (a new earliest key) for a pass at t0: the next
  // pass is a whole granularity later, though ns/a is due at 10 ms.
  CHECK(clock.last_deadline() == t0 + 100ms);
  AdvanceAndSettle(sim, 10ms);
  CHECK(q.Len() == 0);
  AdvanceAndSettle(sim, 90ms);
  CHECK(q.Len() == 2);  // a and b in one batch, 90 and 50 ms late
  CHECK(clock.last_deadline() == t0 + 200ms);  // c (150 ms) is within the granularity
  AdvanceAndSettle(sim, 100ms);
  CHECK(q.Len() == 3);
  CHECK(clock.last_deadline() == t0 + 400ms);  // d is further than the granularity: its own time
  AdvanceAndSettle(sim, 200ms);
  CHECK(q.Len() == 4);
  CHECK(q.DelayedLen() == 0);

  SECTION("a new earliest key still wakes the thread, which then keeps the granularity") {
    const int notifies = clock.notifies();
    q.AddAfter("ns/e", 30ms);  // due at 430 ms; the pass it wakes is at 400 ms
    REQUIRE(sim.AwaitSleepers(1));
    CHECK(clock.notifies() == notifies + 1);
    CHECK(clock.last_deadline() == t0 + 500ms);
    AdvanceAndSettle(sim, 30ms);
    CHECK(q.Len() == 4);
    AdvanceAndSettle(sim, 70ms);
    CHECK(q.Len() == 5);
  }
}

TEST_CASE("rate limiter delays: 5ms doubling to a 1000s cap", "[work_queue][rate_limiter]") {
  struct Case {
    int failures;
    hpad::Duration want;
  };
  const Case cases[] = {
      {0, 5ms},       {1, 10ms},         {2, 20ms},   {3, 40ms},   {10, 5120ms},
      {17, 655360ms}, {18, 1000s},  // 5ms * 2^18 = 1310.72s > cap
      {40, 1000s},    {1000, 1000s},  // no overflow
  };
  for (const auto& c : cases) {
    INFO("failures=" << c.failures);
    CHECK(ItemExponentialRateLimiter::DelayFor(c.failures, 5ms, 1000s) == c.want);
  }

  ItemExponentialRateLimiter rl;
  CHECK(rl.When("a") == 5ms);
  CHECK(rl.When("a") == 10ms);
  CHECK(rl.When("a") == 20ms);
  CHECK(rl.When("b") == 5ms);  // per item
  CHECK(rl.NumRequeues("a") == 3);
  rl.Forget("a");
  CHECK(rl.NumRequeues("a") == 0);
  CHECK(rl.When("a") == 5ms);
}

TEST_CASE("work queue AddRateLimited backs off per key until Forget", "[work_queue][rate_limiter]") {
  SimulatedClock clock(kStart);
  WorkQueue q(clock, "test");
  q.AddRateLimited("ns/a");  // 5ms
  CHECK(q.Len() == 0);
  CHECK(q.NumRequeues("ns/a") == 1);
  REQUIRE(clock.AwaitSleepers(1));
  AdvanceAndSettle(clock, 4ms);
  CHECK(q.Len() == 0);
  AdvanceAndSettle(clock, 1ms);
  CHECK(GetOrFail(q) == "ns/a");
  q.Done("ns/a");

  q.AddRateLimited("ns/a");  // 10ms now
  REQUIRE(clock.AwaitSleepers(1));
  AdvanceAndSettle(clock, 9ms);
  CHECK(q.Len() == 0);
  AdvanceAndSettle(clock, 1ms);
  CHECK(GetOrFail(q) == "ns/a");
  q.Done("ns/a");

  q.Forget("ns/a");
  CHECK(q.NumRequeues("ns/a") == 0);
}

TEST_CASE("work queue shutdown drains queued keys then unblocks getters", "[work_queue]") {
  SimulatedClock clock(kStart);
  WorkQueue q(clock, "test");
  q.Add("ns/a");
  q.AddAfter("ns/late", 1s);
  q.ShutDown();
  CHECK(q.ShuttingDown());
  q.Add("ns/b");  // ignored
  CHECK(q.Len() == 1);
  CHECK(q.DelayedLen() == 0);  // delayed keys are dropped
  auto first = q.Get();
  CHECK(first == std::optional<std::string>("ns/a"));
  auto second = AsyncGet(q);
  REQUIRE(second.wait_for(kWallTimeout) == std::future_status::ready);
  CHECK_FALSE(second.get().has_value());
}

TEST_CASE("work queue shutdown wakes a blocked Get", "[work_queue]") {
  SimulatedClock clock(kStart);
  WorkQueue q(clock, "test");
  auto got = AsyncGet(q);
  q.ShutDown();  // whether Get() is already blocked or not, it returns nullopt
  REQUIRE(got.wait_for(kWallTimeout) == std::future_status::ready);
  CHECK_FALSE(got.get().has_value());
}

namespace {
struct CountingObserver : WorkQueueObserver {
  std::mutex mu;
  int adds = 0, retries = 0;
  int64_t last_depth = -1;
  std::vector<hpad::Duration> latencies, durations;
  void OnDepth(const std::string&, int64_t d) override {
    std::lock_guard<std::mutex> l(mu);
    last_depth = d;
  }
  void OnAdd(const std::string&) override {
    std::lock_guard<std::mutex> l(mu);
    ++adds;
  }
  void OnQueueLatency(const std::string&, hpad::Duration d) override {
    std::lock_guard<std::mutex> l(mu);
    latencies.push_back(d);
  }
  void OnWorkDuration(const std::string&, hpad::Duration d) override {
    std::lock_guard<std::mutex> l(mu);
    durations.push_back(d);
  }
  void OnRetry(const std::string&) override {
    std::lock_guard<std::mutex> l(mu);
    ++retries;
  }
};
}  // namespace

TEST_CASE("work queue reports depth, adds, latency and work duration", "[work_queue]") {
  SimulatedClock clock(kStart);
  CountingObserver obs;
  WorkQueue q(clock, "horizontalpodautoscaler", nullptr, &obs);
  q.Add("a");
  q.Add("a");  // deduped: not an add
  q.Add("b");
  {
    std::lock_guard<std::mutex> l(obs.mu);
    CHECK(obs.adds == 2);
    CHECK(obs.last_depth == 2);
  }
  clock.Advance(3s);
  REQUIRE(GetOrFail(q) == "a");
  clock.Advance(250ms);
  q.Done("a");
  q.AddRateLimited("b");
  std::lock_guard<std::mutex> l(obs.mu);
  CHECK(obs.last_depth == 1);
  REQUIRE(obs.latencies.size() == 1);
  CHECK(obs.latencies[0] == 3s);
  REQUIRE(obs.durations.size() == 1);
  CHECK(obs.durations[0] == 250ms);
  CHECK(obs.retries == 1);
}
