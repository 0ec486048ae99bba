// WorkQueue: client-go's rate-limited delaying work queue on an injected
// Clock (architecture.md step 2, hpa-semantics.md Q1-Q5).
//
// Semantics, as k8s.io/client-go/util/workqueue:
//   * Add(key) dedups: a key waiting in the queue is not queued twice.
//   * One worker per key: Get() hands a key out and marks it processing; an
//     Add() of a processing key only marks it dirty, and Done(key) re-queues
//     it then (so a change during a reconcile is never lost, Q1).
//   * Get() blocks until a key is ready or the queue shuts down (returns
//     std::nullopt once shut down and drained).
//   * AddAfter(key, delay) adds when the Clock reaches now + delay; a key
//     waiting with an earlier time keeps it (client-go keeps the earliest).
//   * AddRateLimited(key) = AddAfter(key, limiter.When(key)); Forget(key)
//     resets the key's failures. The default limiter is per-item exponential
//     (5 ms * 2^failures, capped at 1000 s: the exponential half of
//     client-go's DefaultControllerRateLimiter).
//
// Delayed keys wait in an ordered set served by one thread that sleeps on
// Clock::WaitUntil until the earliest ready time (monotonic: a wall-clock
// jump neither fires nor holds back a delay), so with a SimulatedClock they
// become ready exactly when a test or the scenario runner advances time.
// AddAfter wakes that thread (Clock::Notify) only when its key becomes the
// new earliest; a key due later than the current earliest is picked up when
// the thread wakes for that one, so the steady state (every HPA's resync
// queued behind the others) costs no wake-ups.
// With a wake-up granularity G (0 by default: exact), the thread sleeps at
// least G between two passes, and a pass moves every key due by then: keys
// become ready in batches at most G late, so N keys due at N distinct
// instants cost one wake-up of the thread per G instead of N, and the
// workers take a batch back to back instead of sleeping between keys (issue
// 16: on a VM each wake-up costs tens of microseconds; the daemon uses 20 ms,
// docs/divergences.md). A new earliest key still wakes the thread, which
// then honours G from the pass it was woken into.
// An exception escaping that loop (an observer callback) is logged as an
// E line and the loop carries on.
//
// Metrics go to an optional WorkQueueObserver (client-go's workqueue metrics:
// depth, adds, queue latency, work duration, retries) so the daemon can
// export them under the upstream names.
//
// Thread-safety: all methods are thread-safe; mu_ guards every field below
// it. Observer callbacks are made outside the queue lock.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <unordered_map>
#include <unordered_set>
#include <utility>

#include "k8sclient/base/clock.h"

namespace hpad::k8s {

// When to retry a key that failed. Implementations are thread-safe.
class RateLimiter {
 public:
  virtual ~RateLimiter() = default;
  // The delay before the next retry of `key`; counts one more failure.
  virtual Duration When(const std::string& key) = 0;
  virtual void Forget(const std::string& key) = 0;
  virtual int NumRequeues(const std::string& key) const = 0;
};

// base * 2^failures, capped at max (client-go ItemExponentialFailureRateLimiter).
class ItemExponentialRateLimiter final : public RateLimiter {
 public:
  ItemExponentialRateLimiter(Duration base = std::chrono::milliseconds(5), Duration max = std::chrono::seconds(1000))
      : base_(base), max_(max) {}
  // The pure rule: the delay for a key that already failed `failures` times.
  static Duration DelayFor(int failures, Duration base, Duration max);
  Duration When(const std::string& key) override;
  void Forget(const std::string& key) override;
  int NumRequeues(const std::string& key) const override;

 private:
  Duration base_, max_;
  mutable std::mutex mu_;
  std::unordered_map<std::string, int> failures_;
};

// Metric hooks; every method has a no-op default. Called without queue locks.
class WorkQueueObserver {
 public:
  virtual ~WorkQueueObserver() = default;
  virtual void OnDepth(const std::string& /*queue*/, int64_t /*depth*/) {}
  virtual void OnAdd(const std::string& /*queue*/) {}
  // Time from being queued to being handed out by Get().
  virtual void OnQueueLatency(const std::string& /*queue*/, Duration /*latency*/) {}
  // Time from Get() to Done().
  virtual void OnWorkDuration(const std::string& /*queue*/, Duration /*duration*/) {}
  virtual void OnRetry(const std::string& /*queue*/) {}
};

class WorkQueue {
 public:
  // `clock` (and `observer` if given) must outlive the queue. A null limiter
  // means ItemExponentialRateLimiter with client-go's defaults.
  // `delay_granularity`: the wake-up granularity of the delay thread (see
  // the file comment); zero fires each delayed key at its own time.
  WorkQueue(const Clock& clock, std::string name, std::unique_ptr<RateLimiter> limiter = nullptr,
            WorkQueueObserver* observer = nullptr, Duration delay_granularity = Duration::zero());
  ~WorkQueue();
  WorkQueue(const WorkQueue&) = delete;
  WorkQueue& operator=(const WorkQueue&) = delete;

  void Add(const std::string& key);
  // Adds once the clock reaches now + delay (delay <= 0: Add now).
  void AddAfter(const std::string& key, Duration delay);
  void AddRateLimited(const std::string& key);
  void Forget(const std::string& key);
  int NumRequeues(const std::string& key) const;

  // Blocks for the next key; std::nullopt when shut down and drained.
  std::optional<std::string> Get();
  void Done(const std::string& key);

  // Keys ready to be handed out (not the delayed or processing ones).
  size_t Len() const;
  // Keys waiting for their AddAfter time.
  size_t DelayedLen() const;
  // Stops accepting keys and wakes all Get() callers; queued keys are still
  // handed out (client-go drains) but delayed ones are dropped.
  void ShutDown();
  bool ShuttingDown() const;
  const std::string& name() const { return name_; }

 private:
  void AddLocked(const std::string& key, std::unique_lock<std::mutex>& l, bool* added);
  void DelayLoop();
  // One pass: moves due keys to the queue, then sleeps until the next is due.
  void DelayStep();
  void ReportDepth(int64_t depth);

  const Clock& clock_;
  std::string name_;
  std::unique_ptr<RateLimiter> limiter_;
  WorkQueueObserver* observer_;
  const Duration delay_granularity_;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::string> queue_;
  std::unordered_set<std::string> dirty_;
  std::unordered_set<std::string> processing_;
  std::unordered_map<std::string, MonoTime> queued_at_;      // for latency
  std::unordered_map<std::string, MonoTime> started_at_;     // for work duration
  std::set<std::pair<MonoTime, std::string>> waiting_;       // delayed keys by ready time
  std::unordered_map<std::string, MonoTime> waiting_ready_;  // key -> its entry in waiting_
  // Bumped when the earliest ready time moves earlier or the queue shuts
  // down: the only changes that must wake DelayLoop (a later key waits its
  // turn behind the deadline the thread already sleeps until).
  uint64_t waiting_generation_ = 0;
  bool shutting_down_ = false;
  std::thread delay_thread_;
};

}  // namespace hpad::k8s
