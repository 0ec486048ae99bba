// The only place in hpad that reads the wall clock (see clock.h).
#include "k8sclient/base/clock.h"

namespace hpad {

Time RealClock::Now() const { return std::chrono::system_clock::now(); }

bool RealClock::WaitUntil(Time deadline, const std::function<bool()>& wake) const {
  std::unique_lock<std::mutex> l(mu_);
  while (!(wake && wake())) {
    if (std::chrono::system_clock::now() >= deadline) break;
    // Wake at least every 100 ms: wake predicates may depend on state changed
    // by threads that do not call Notify().
    auto step = std::min<Time>(deadline, std::chrono::system_clock::now() + std::chrono::milliseconds(100));
    cv_.wait_until(l, step);
  }
  return wake && wake();
}

void RealClock::Notify() const {
  // Lock first so a waiter between its predicate check and its wait is not
  // missed (see SimulatedClock::Notify).
  { std::lock_guard<std::mutex> l(mu_); }
  cv_.notify_all();
}

RealClock& RealClock::Instance() {
  static RealClock clock;
  return clock;
}

}  // namespace hpad
