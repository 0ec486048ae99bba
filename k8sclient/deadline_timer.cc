#include "k8sclient/deadline_timer.h"

#include "k8sclient/base/clock.h"

namespace hpad::k8s {

DeadlineTimer::~DeadlineTimer() {
  {
    std::lock_guard<std::mutex> l(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

uint64_t DeadlineTimer::Add(TimePoint at, std::function<void()> fn) {
  bool wake = false;
  uint64_t id;
  {
    std::lock_guard<std::mutex> l(mu_);
    if (!thread_.joinable()) thread_ = std::thread([this] { Loop(); });
    id = next_++;
    timers_.emplace(std::make_pair(at, id), std::move(fn));
    if (at < sleeping_until_) {
      sleeping_until_ = at;
      wake = true;
    }
  }
  if (wake) cv_.notify_all();
  return id;
}

void DeadlineTimer::Remove(uint64_t id) {
  std::unique_lock<std::mutex> l(mu_);
  for (auto it = timers_.begin(); it != timers_.end(); ++it) {
    if (it->first.second == id) {
      timers_.erase(it);
      return;
    }
  }
  if (std::this_thread::get_id() == loop_thread_) return;  // from the running callback
  cv_.wait(l, [&] { return running_ != id; });
}

void DeadlineTimer::Loop() {
  std::unique_lock<std::mutex> l(mu_);
  loop_thread_ = std::this_thread::get_id();
  while (!stop_) {
    const TimePoint now = RealClock::Instance().MonoNow();
    if (timers_.empty() || now < timers_.begin()->first.first) {
      // A copy, not a reference into a node: wait_until releases mu_ and a
      // Remove may erase that node meanwhile (a heap-use-after-free ASan
      // found once). With no timer, sleep one tick: an Add due sooner wakes us.
      const TimePoint due = timers_.empty() ? now + kIdleTick : timers_.begin()->first.first;
      sleeping_until_ = due;
      cv_.wait_until(l, due);
      continue;
    }
    auto first = timers_.begin();
    std::function<void()> fn = std::move(first->second);
    running_ = first->first.second;
    timers_.erase(first);
    sleeping_until_ = TimePoint::min();  // awake: no Add needs to notify
    l.unlock();
    try {
      fn();
    } catch (...) {
      // nothing may end this thread
    }
    fn = nullptr;  // captured state is released before Remove's waiter returns
    l.lock();
    running_ = 0;
    cv_.notify_all();
  }
}

}  // namespace hpad::k8s
