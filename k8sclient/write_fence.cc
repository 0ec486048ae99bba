#include "k8sclient/write_fence.h"

#include <chrono>

namespace hpad::k8s {

namespace {
int64_t Ns(MonoTime t) { return std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count(); }
}  // namespace

void WriteFence::HoldUntil(MonoTime until) {
  const int64_t want = Ns(until);
  int64_t cur = until_ns_.load();
  while (cur < want && !until_ns_.compare_exchange_weak(cur, want)) {
  }
}

void WriteFence::Revoke() { until_ns_.store(std::numeric_limits<int64_t>::min()); }

Duration WriteFence::Remaining(MonoTime now) const {
  const int64_t until = until_ns_.load();
  if (until == std::numeric_limits<int64_t>::min()) return Duration::min();
  return Duration(until - Ns(now));
}

Status WriteFence::Check(MonoTime now, const std::string& what) const {
  const int64_t until = until_ns_.load();
  if (until == std::numeric_limits<int64_t>::min()) {
    return Status(StatusCode::kUnavailable, what + ": not sent: this replica does not hold the leader lease",
                  kLeaseNotHeldReason);
  }
  const int64_t now_ns = Ns(now);
  if (now_ns < until) return Status::Ok();
  const auto late_ms = (now_ns - until) / 1000000;
  return Status(StatusCode::kUnavailable,
                what + ": not sent: the leader lease was not renewed in time (write fence expired " +
                    std::to_string(late_ms) + "ms ago)",
                kLeaseNotHeldReason);
}

}  // namespace hpad::k8s
