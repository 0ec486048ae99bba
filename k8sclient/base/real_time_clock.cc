// The only place in hpad that reads the system clocks (see clock.h).
#include "k8sclient/base/clock.h"

namespace hpad {

Time RealClock::Now() const { return std::chrono::system_clock::now(); }

MonoTime RealClock::MonoNow() const { return std::chrono::steady_clock::now(); }

bool RealClock::WaitUntil(MonoTime deadline, const std::function<bool()>& wake) const {
  std::unique_lock<std::mutex> l(mu_);
  if (!wake) {
    // Nothing can end the wait early: sleep the interval, off the waiter list.
    Waiter w;
    while (std::chrono::steady_clock::now() < deadline) {
      if (deadline == MonoTime::max()) {
        w.cv.wait(l);  // never notified: a deadline-less, predicate-less wait is a bug upstream of us
      } else {
        w.cv.wait_until(l, deadline);
      }
    }
    return false;
  }
  Waiter w;
  waiters_.push_front(&w);
  // Off the list however we leave (a throwing predicate included), so
  // Notify() never touches a dead Waiter. Runs with mu_ held.
  struct Unlist {
    std::list<Waiter*>& list;
    std::list<Waiter*>::iterator self;
    ~Unlist() { list.erase(self); }
  } unlist{waiters_, waiters_.begin()};
  while (!wake()) {
    if (std::chrono::steady_clock::now() >= deadline) break;
    // Sleeps until the deadline or a Notify(); spurious wake-ups just re-check.
    if (deadline == MonoTime::max()) {
      w.cv.wait(l, [&] { return w.notified; });
    } else {
      w.cv.wait_until(l, deadline, [&] { return w.notified; });
    }
    w.notified = false;
  }
  return wake();
}

void RealClock::Notify() const {
  // Under mu_: a waiter between its predicate check and its wait holds mu_,
  // so it cannot miss this (its `notified` flag is set before it waits).
  std::lock_guard<std::mutex> l(mu_);
  for (Waiter* w : waiters_) {
    w->notified = true;
    w->cv.notify_one();
  }
}

RealClock& RealClock::Instance() {
  static RealClock clock;
  return clock;
}

}  // namespace hpad
