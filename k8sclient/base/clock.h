// Clock: the one way hpad code learns the time (architecture.md "Inject time").
//
// Two kinds of time, two types, so a timestamp can never be used as an
// interval by accident:
//   * Time (system_clock): wall-clock instants that go into objects and
//     decisions (lastScaleTime, event and lease timestamps, recommendations).
//     It may jump when the machine's clock is set.
//   * MonoTime (steady_clock): instants used only to measure intervals
//     (timeouts, backoff, token buckets, work-queue delays, lease renew
//     deadlines, reconcile durations). Never written anywhere; never jumps.
// Durations between either are `Duration`.
//
// Pure code takes `now` as an argument; components that wait (work queue
// delays, informer backoff, leader election) hold a `Clock&` that outlives
// them and wait with WaitUntil(MonoTime)/WaitFor.
//
// RealClock reads the system clocks and sleeps each waiter until its own
// deadline (no polling); Notify() wakes only the waiters that have a wake
// predicate, each on its own condition variable. SimulatedClock only moves
// when a test or the scenario runner calls Advance/Set; it also counts the
// threads asleep on it so a test can "advance, then wait for N sleepers"
// (AwaitSleepers) instead of sleeping on the wall clock.
//
// Thread-safety: all methods of both clocks are thread-safe. Wake predicates
// run under the clock's mutex (`mu_` guards every field of either clock):
// they must not call the clock, and a caller of Notify() must not hold a
// lock that a wake predicate takes.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <list>
#include <mutex>
#include <set>

namespace hpad {

using Time = std::chrono::system_clock::time_point;      // wall clock
using MonoTime = std::chrono::steady_clock::time_point;  // intervals only
using Duration = std::chrono::nanoseconds;

// base + d, clamped at the ends of MonoTime's range (Duration::max() means "never").
inline MonoTime AddSaturating(MonoTime base, Duration d) {
  if (d > Duration::zero() && base > MonoTime::max() - d) return MonoTime::max();
  if (d < Duration::zero() && base < MonoTime::min() - d) return MonoTime::min();
  return base + d;
}

class Clock {
 public:
  virtual ~Clock() = default;
  // Wall-clock now: for timestamps written to objects and used in decisions.
  virtual Time Now() const = 0;
  // Monotonic now: for measuring intervals only.
  virtual MonoTime MonoNow() const = 0;
  // Blocks until MonoNow() >= deadline or `wake` returns true (checked when
  // the wait starts, whenever Notify() is called, and, on a simulated clock,
  // whenever it moves). Returns wake()'s final value (false without `wake`).
  virtual bool WaitUntil(MonoTime deadline, const std::function<bool()>& wake) const = 0;
  // Re-evaluates the wake predicates of all waiters (call after changing
  // the state they test, e.g. on shutdown). Nothing else re-checks them.
  virtual void Notify() const = 0;

  // WaitUntil(MonoNow() + d, wake).
  bool WaitFor(Duration d, const std::function<bool()>& wake) const {
    return WaitUntil(AddSaturating(MonoNow(), d), wake);
  }
  // Transitional spelling for callers that still compute a wall-clock
  // deadline: waits for the interval between Now() and `deadline` (so a
  // wall-clock jump during the wait does not stretch or cut it).
  // Time::max() waits forever (until `wake`). Prefer WaitFor/WaitUntil(MonoTime).
  bool WaitUntil(Time deadline, const std::function<bool()>& wake) const {
    return WaitUntil(MonoDeadline(deadline), wake);
  }

 protected:
  // The monotonic instant at which wall time reaches `deadline`. The default
  // reads both clocks one after the other; a clock that can move between
  // the two reads (SimulatedClock) overrides it to read them together.
  virtual MonoTime MonoDeadline(Time deadline) const { return MonoDeadlineAt(deadline, Now(), MonoNow()); }
  static MonoTime MonoDeadlineAt(Time deadline, Time now, MonoTime mono) {
    if (deadline == Time::max()) return MonoTime::max();
    if (deadline <= now) return mono;
    return AddSaturating(mono, Duration(deadline - now));
  }
};

// The system clocks. Defined in real_time_clock.cc (the only file that reads them).
class RealClock final : public Clock {
 public:
  Time Now() const override;
  MonoTime MonoNow() const override;
  using Clock::WaitUntil;
  bool WaitUntil(MonoTime deadline, const std::function<bool()>& wake) const override;
  void Notify() const override;
  // Process-wide instance for composition roots (main functions) only.
  static RealClock& Instance();

 private:
  // One per thread blocked in WaitUntil; lives on that thread's stack.
  struct Waiter {
    std::condition_variable cv;
    bool notified = false;  // set by Notify(), cleared by the waiter
  };
  mutable std::mutex mu_;
  // Waiters that have a wake predicate (the only ones Notify() must wake).
  mutable std::list<Waiter*> waiters_;
};

// Virtual time for tests and `hpad-sim run`. Wall and monotonic time move
// together; Set() to an earlier wall time leaves monotonic time where it is.
//
// A thread counts as asleep while it is blocked in WaitUntil() with its
// predicate false and its deadline in the future. Advance()/Set()/Notify()
// wake every sleeper; each re-checks and, if still waiting, counts as asleep
// again. So after AwaitSleepers(n) returns, n threads have seen the current
// time and found nothing to do.
class SimulatedClock final : public Clock {
 public:
  explicit SimulatedClock(Time start) : now_(start) {}

  Time Now() const override {
    std::lock_guard<std::mutex> l(mu_);
    return now_;
  }
  MonoTime MonoNow() const override {
    std::lock_guard<std::mutex> l(mu_);
    return mono_;
  }
  using Clock::WaitUntil;
  bool WaitUntil(MonoTime deadline, const std::function<bool()>& wake) const override {
    std::unique_lock<std::mutex> l(mu_);
    const uint64_t id = ++next_sleeper_id_;
    while (!(mono_ >= deadline || (wake && wake()))) {
      sleepers_.insert(id);
      idle_cv_.notify_all();
      cv_.wait(l);
      sleepers_.erase(id);  // re-registers above if it must keep waiting
    }
    return wake && wake();
  }
  // Takes mu_ before notifying: a waiter evaluates its predicate under mu_,
  // so without the lock a state change + Notify() landing between the
  // waiter's predicate check and its wait would be lost.
  void Notify() const override { WakeAll(); }

  void Set(Time t) {
    {
      std::lock_guard<std::mutex> l(mu_);
      if (t > now_) mono_ += Duration(t - now_);
      now_ = t;
    }
    WakeAll();
  }
  void Advance(Duration d) {
    {
      std::lock_guard<std::mutex> l(mu_);
      if (d > Duration::zero()) mono_ += d;
      now_ += std::chrono::duration_cast<Time::duration>(d);
    }
    WakeAll();
  }

  // Blocks until at least `n` threads are asleep on the clock. The timeout
  // is a wall-clock safety net only (false if it passed: a test failure).
  bool AwaitSleepers(size_t n, std::chrono::milliseconds timeout = std::chrono::seconds(10)) const {
    std::unique_lock<std::mutex> l(mu_);
    return idle_cv_.wait_for(l, timeout, [&] { return sleepers_.size() >= n; });
  }
  size_t Sleepers() const {
    std::lock_guard<std::mutex> l(mu_);
    return sleepers_.size();
  }

 private:
  MonoTime MonoDeadline(Time deadline) const override {
    std::lock_guard<std::mutex> l(mu_);
    return MonoDeadlineAt(deadline, now_, mono_);
  }

  void WakeAll() const {
    {
      std::lock_guard<std::mutex> l(mu_);
      sleepers_.clear();  // nobody is known idle until it re-checks
    }
    cv_.notify_all();
  }

  mutable std::mutex mu_;
  mutable std::condition_variable cv_;       // sleepers
  mutable std::condition_variable idle_cv_;  // AwaitSleepers
  mutable std::set<uint64_t> sleepers_;
  mutable uint64_t next_sleeper_id_ = 0;
  Time now_;
  // Starts an hour after the epoch so that MonoTime{} never equals "now".
  MonoTime mono_ = MonoTime(std::chrono::hours(1));
};

}  // namespace hpad
