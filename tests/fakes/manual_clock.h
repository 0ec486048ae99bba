// ManualClock: a simulated Clock that also knows who is asleep on it, so a
// test can drive background threads (leader electors, reflectors, delaying
// queues) deterministically: wait until N threads are idle in WaitUntil(),
// check invariants, move time, repeat. No wall-clock sleeps, no races
// between "the test advanced time" and "the thread had not reached its wait
// yet".
//
// A thread counts as asleep while it is blocked in WaitUntil() with its
// predicate false and its deadline in the future. Advance()/Set()/Notify()
// wake every sleeper; each re-checks and, if still waiting, counts as asleep
// again. So after AwaitSleepers(n) returns, n threads have seen the current
// time and found nothing to do.
//
// Thread-safety: all methods are thread-safe. Like SimulatedClock, wake
// predicates run under the clock's mutex and must not call the clock.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <set>

#include "k8sclient/base/clock.h"

namespace hpad::k8s::testing {

class ManualClock final : public Clock {
 public:
  explicit ManualClock(Time start) : now_(start) {}

  Time Now() const override {
    std::lock_guard<std::mutex> l(mu_);
    return now_;
  }
  bool WaitUntil(Time deadline, const std::function<bool()>& wake) const override {
    std::unique_lock<std::mutex> l(mu_);
    const uint64_t id = ++next_id_;
    while (!(now_ >= deadline || (wake && wake()))) {
      sleepers_.insert(id);
      idle_cv_.notify_all();
      cv_.wait(l);
      sleepers_.erase(id);  // re-registers above if it must keep waiting
    }
    sleepers_.erase(id);
    return wake && wake();
  }
  void Notify() const override { WakeAll(); }

  void Advance(Duration d) {
    {
      std::lock_guard<std::mutex> l(mu_);
      now_ += std::chrono::duration_cast<Time::duration>(d);
    }
    WakeAll();
  }
  void Set(Time t) {
    {
      std::lock_guard<std::mutex> l(mu_);
      now_ = t;
    }
    WakeAll();
  }

  // Blocks until at least `n` threads are asleep on the clock (wall-clock
  // safety timeout; false if it passed).
  bool AwaitSleepers(size_t n, std::chrono::milliseconds timeout = std::chrono::seconds(10)) const {
    std::unique_lock<std::mutex> l(mu_);
    return idle_cv_.wait_for(l, timeout, [&] { return sleepers_.size() >= n; });
  }
  size_t Sleepers() const {
    std::lock_guard<std::mutex> l(mu_);
    return sleepers_.size();
  }

 private:
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
  mutable uint64_t next_id_ = 0;
  Time now_;
};

}  // namespace hpad::k8s::testing
