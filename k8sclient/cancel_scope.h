// CancelScope and RequestDeadlineScope: how shutdown and the leader
// elector reach requests already on the wire (issue 14 item 5, issue 15
// item 1) - the small part of Go's context.Context that hpad needs.
//
// CancelScope: a one-way "cancelled" flag plus callbacks run once when it
// is set. RestApiClient (RestApiClientOptions::cancel_scope) checks it
// before every attempt and before every back-off wait, and hands it to the
// transport with each request; the transport registers a callback that
// aborts the exchange (shuts its socket down), so a request stalled
// on a server returns kCancelled at once. The daemon's runner cancels its
// scope after the shutdown grace period, so shutdown ends by joining
// threads.
//
// RequestDeadlineScope: a monotonic deadline for every request the current
// thread makes while the scope lives (nested scopes keep the earliest).
// RestApiClient turns the time left into a hard limit on each attempt (the
// transport aborts the exchange when it passes, whatever bytes trickle in)
// and fails without sending once it has passed. The leader elector bounds
// each lease request by the time left to its renew deadline this way, like
// client-go's context.WithTimeout around tryAcquireOrRenew.
//
// Ownership: scopes are shared (std::shared_ptr) between the owner that
// cancels and the requests that watch. Thread-safety: every CancelScope
// method may be called from any thread; callbacks run on the cancelling
// thread (or, when registered after Cancel(), on the registering thread)
// without the scope's lock held, and must not block. RequestDeadlineScope is
// thread-local by design.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>

#include "k8sclient/base/clock.h"

namespace hpad::k8s {

class CancelScope {
 public:
  CancelScope() = default;
  CancelScope(const CancelScope&) = delete;
  CancelScope& operator=(const CancelScope&) = delete;

  // Sets the flag and runs every registered callback once. Idempotent.
  void Cancel();
  bool cancelled() const;

  // Runs `on_cancel` when Cancel() is called (at once, here, if it already
  // was). Returns a handle for Remove(); 0 when it already ran.
  uint64_t OnCancel(std::function<void()> on_cancel);
  // Drops a callback that has not run. After Remove returns the callback is
  // not running and will not run (Cancel runs callbacks under run_mu_).
  void Remove(uint64_t handle);

 private:
  mutable std::mutex mu_;  // guards cancelled_, next_, callbacks_
  std::mutex run_mu_;      // held while callbacks run, so Remove can wait for them
  bool cancelled_ = false;
  uint64_t next_ = 1;
  std::map<uint64_t, std::function<void()>> callbacks_;
};

// Sets the calling thread's request deadline while it lives (the earlier of
// this and any enclosing scope's).
class RequestDeadlineScope {
 public:
  explicit RequestDeadlineScope(MonoTime deadline);
  ~RequestDeadlineScope();
  RequestDeadlineScope(const RequestDeadlineScope&) = delete;
  RequestDeadlineScope& operator=(const RequestDeadlineScope&) = delete;

 private:
  std::optional<MonoTime> previous_;
};

// The calling thread's request deadline, if a RequestDeadlineScope is active.
std::optional<MonoTime> CurrentRequestDeadline();

}  // namespace hpad::k8s
