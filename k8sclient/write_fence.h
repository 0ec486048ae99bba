// WriteFence: "may this replica still write?" - the leader's promise to
// itself that it stops writing before anyone else can take the lease
// (issue 15 item 1).
//
// The leader elector holds the fence open until (start of its last
// successful lease request) + renewDeadline. RestApiClient checks it just
// before sending every write (POST/PUT/PATCH/DELETE) of the controller's
// client - scale, status, events - and fails the write with reason
// "LeaseNotHeld" once it has closed; each write is also sent with a hard
// deadline at the fence's expiry, so a write stalled on the wire is aborted
// when the fence closes instead of landing later.
//
// The timing argument. Let t0 be the monotonic instant this replica started
// its last successful lease request. The server stored the renewal after t0,
// so another candidate saw that record change no earlier than t0 and (as
// client-go does, on its own clock) treats the lease as held until at least
// t0 + leaseDuration. This replica stops writing at t0 + renewDeadline, so
// a margin of leaseDuration - renewDeadline (default 15 s - 10 s = 5 s)
// covers clock-rate skew between the two machines (monotonic clocks drift
// by ppm, not seconds) and the latency of a write that was already on the
// wire when the fence closed - the one case no client can exclude, as
// Kubernetes has no fencing tokens. A process frozen (SIGSTOP, a long GC-
// like stall) and resumed after its fence expired finds the fence closed on
// its first write and sends nothing. renewDeadline < leaseDuration is
// required by the flags (as in client-go).
//
// Ownership: shared (std::shared_ptr) by the elector that moves it and the
// clients that check it. Thread-safety: lock-free, any thread. Pure: every
// instant is an argument.
#pragma once

#include <atomic>
#include <limits>
#include <optional>
#include <string>

#include "k8sclient/base/clock.h"
#include "k8sclient/base/status.h"

namespace hpad::k8s {

class WriteFence {
 public:
  // Starts closed: nothing may be written until the lease is first acquired.
  WriteFence() = default;

  // Opens the fence until `until` (monotonic). A renewal only moves it later.
  void HoldUntil(MonoTime until);
  // Closes it now (leadership lost or given up).
  void Revoke();

  // Ok while now < expiry, else an error with reason "LeaseNotHeld" naming
  // `what` and by how much the fence expired.
  Status Check(MonoTime now, const std::string& what) const;
  // Time left before the fence closes (zero or negative when closed).
  Duration Remaining(MonoTime now) const;

 private:
  // Nanoseconds since the steady clock's epoch; min() = closed.
  std::atomic<int64_t> until_ns_{std::numeric_limits<int64_t>::min()};
};

// The reason string of the error Check returns.
inline constexpr const char* kLeaseNotHeldReason = "LeaseNotHeld";

}  // namespace hpad::k8s
