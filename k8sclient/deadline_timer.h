// DeadlineTimer: runs callbacks at steady-clock deadlines on one lazily
// started thread. The HTTP transports use it to abort an exchange when its
// hard deadline passes (a server trickling bytes never trips a socket
// inactivity timeout); physical time, since this is the I/O adapter.
//
// Built for many short-lived timers that almost never fire (one per
// request, removed when the reply is in): Add wakes the thread only when
// the new deadline is earlier than the one it sleeps towards, and Remove
// never wakes it, so a request costs two short critical sections and no
// context switch. An idle thread re-checks once per kIdleTick.
//
// Ownership: the owner destroys the timer after every Remove; the
// destructor joins the thread (pending callbacks are dropped).
// Thread-safety: Add/Remove from any thread, also from inside a callback.
// Callbacks run on the timer thread without the lock held, must not block
// and must not throw (an exception is swallowed: it may not end the thread).
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <thread>
#include <utility>

namespace hpad::k8s {

class DeadlineTimer {
 public:
  using TimePoint = std::chrono::steady_clock::time_point;
  static constexpr std::chrono::seconds kIdleTick{1};

  DeadlineTimer() = default;
  DeadlineTimer(const DeadlineTimer&) = delete;
  DeadlineTimer& operator=(const DeadlineTimer&) = delete;
  ~DeadlineTimer();

  // Runs `fn` once at (or soon after) `at`. Returns a handle for Remove (never 0).
  uint64_t Add(TimePoint at, std::function<void()> fn);
  // After Remove returns, the callback is not running and will not run
  // (unless Remove is called from that callback itself).
  void Remove(uint64_t id);

 private:
  void Loop();

  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  uint64_t next_ = 1;
  uint64_t running_ = 0;
  std::thread::id loop_thread_;
  // What the thread sleeps towards: an Add with an earlier deadline wakes it.
  TimePoint sleeping_until_ = TimePoint::min();
  std::map<std::pair<TimePoint, uint64_t>, std::function<void()>> timers_;
  std::thread thread_;
};

}  // namespace hpad::k8s
