// Clock: the one way hpad code learns the time (architecture.md "Inject time").
//
// Pure code takes `now` as an argument; components that wait (work queue
// delays, informer backoff, leader election) hold a `Clock&` that outlives
// them. RealClock reads the system clock; SimulatedClock only moves when a
// test or the scenario runner calls Advance/Set, and wakes sleepers then.
// Both are thread-safe.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>

namespace hpad {

using Time = std::chrono::system_clock::time_point;
using Duration = std::chrono::nanoseconds;

class Clock {
 public:
  virtual ~Clock() = default;
  virtual Time Now() const = 0;
  // Blocks until Now() >= deadline or `wake` returns true (checked whenever
  // the clock moves or Notify() is called). Returns wake()'s final value.
  virtual bool WaitUntil(Time deadline, const std::function<bool()>& wake) const = 0;
  // Re-evaluates the wake predicates of all waiters (call after changing
  // the state they test, e.g. on shutdown).
  virtual void Notify() const = 0;
};

// The wall clock. Defined in real_time_clock.cc (the only file that reads it).
class RealClock final : public Clock {
 public:
  Time Now() const override;
  bool WaitUntil(Time deadline, const std::function<bool()>& wake) const override;
  void Notify() const override;
  // Process-wide instance for composition roots (main functions) only.
  static RealClock& Instance();

 private:
  mutable std::mutex mu_;
  mutable std::condition_variable cv_;
};

// Virtual time for tests and `hpad-sim run`.
class SimulatedClock final : public Clock {
 public:
  explicit SimulatedClock(Time start) : now_(start) {}
  Time Now() const override {
    std::lock_guard<std::mutex> l(mu_);
    return now_;
  }
  void Set(Time t) {
    {
      std::lock_guard<std::mutex> l(mu_);
      now_ = t;
    }
    cv_.notify_all();
  }
  void Advance(Duration d) {
    {
      std::lock_guard<std::mutex> l(mu_);
      now_ += std::chrono::duration_cast<Time::duration>(d);
    }
    cv_.notify_all();
  }
  bool WaitUntil(Time deadline, const std::function<bool()>& wake) const override {
    std::unique_lock<std::mutex> l(mu_);
    cv_.wait(l, [&] { return now_ >= deadline || (wake && wake()); });
    return wake && wake();
  }
  // Takes mu_ before notifying: a waiter evaluates its predicate under mu_,
  // so without the lock a state change + Notify() landing between the
  // waiter's predicate check and its wait would be lost (the waiter would
  // sleep until the clock next moves). Callers must not hold a lock that a
  // wake predicate takes while calling Notify().
  void Notify() const override {
    { std::lock_guard<std::mutex> l(mu_); }
    cv_.notify_all();
  }

 private:
  mutable std::mutex mu_;
  mutable std::condition_variable cv_;
  Time now_;
};

}  // namespace hpad
