#include "k8sclient/token_bucket.h"

#include <algorithm>
#include <cmath>

namespace hpad::k8s {

TokenBucket::TokenBucket(double qps, int burst, MonoTime now)
    : qps_(qps), burst_(std::max(burst, 1)), tokens_(static_cast<double>(std::max(burst, 1))), last_(now) {}

void TokenBucket::Refill(MonoTime now) {
  // Time never runs backwards for the bucket: a clock set back (tests,
  // simulator) just means no refill until it catches up.
  if (now <= last_) return;
  double elapsed = std::chrono::duration<double>(now - last_).count();
  tokens_ = std::min(static_cast<double>(burst_), tokens_ + elapsed * qps_);
  last_ = now;
}

Duration TokenBucket::Reserve(MonoTime now) {
  if (qps_ <= 0) return Duration::zero();
  Refill(now);
  tokens_ -= 1.0;
  if (tokens_ >= 0) return Duration::zero();
  // Debt of d tokens is paid back after d/qps seconds. Round up to the
  // nanosecond so the caller never proceeds a hair early.
  double seconds = -tokens_ / qps_;
  return Duration(static_cast<Duration::rep>(std::ceil(seconds * 1e9)));
}

bool TokenBucket::TryTake(MonoTime now) {
  if (qps_ <= 0) return true;
  Refill(now);
  if (tokens_ < 1.0) return false;
  tokens_ -= 1.0;
  return true;
}

double TokenBucket::Available(MonoTime now) {
  Refill(now);
  return tokens_;
}

}  // namespace hpad::k8s
