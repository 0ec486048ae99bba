#include "k8sclient/token_bucket.h"

#include <algorithm>
#include <cmath>

namespace hpad::k8s {

namespace {
// Refill arithmetic is in floating point: a caller that waited exactly as
// long as it was told may find 2.9999999999999996 tokens where 3 are due.
// Every comparison allows this much, so no caller is sent back to sleep for
// a nanosecond (and none gets more than a billionth of a token early).
constexpr double kSlack = 1e-9;  // tokens
}  // namespace

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
  if (tokens_ + kSlack >= 0) return Duration::zero();
  // Debt of d tokens is paid back after d/qps seconds. Round up to the
  // nanosecond so the caller never proceeds a hair early.
  double seconds = -tokens_ / qps_;
  return Duration(static_cast<Duration::rep>(std::ceil(seconds * 1e9)));
}

bool TokenBucket::TryTake(MonoTime now) {
  if (qps_ <= 0) return true;
  Refill(now);
  if (tokens_ + kSlack < 1.0) return false;
  tokens_ -= 1.0;
  return true;
}

bool TokenBucket::TakeKeeping(MonoTime now, double reserve) {
  if (qps_ <= 0) return true;
  Refill(now);
  if (tokens_ - 1.0 + kSlack < std::max(reserve, 0.0)) return false;
  tokens_ -= 1.0;
  return true;
}

Duration TokenBucket::TimeUntil(MonoTime now, double tokens) {
  Refill(now);
  if (tokens_ + kSlack >= tokens) return Duration::zero();
  if (qps_ <= 0 || tokens > static_cast<double>(burst_)) return Duration::max();
  // Aim at the same slack TakeKeeping allows, so rounding up to the
  // nanosecond cannot make the caller wake a hair too early and sleep again.
  const double seconds = (tokens - kSlack - tokens_) / qps_;
  // Saturate: a huge debt at a tiny qps must not overflow the nanoseconds.
  if (seconds >= 9e9) return Duration::max();
  return Duration(static_cast<Duration::rep>(std::ceil(seconds * 1e9)));
}

double TokenBucket::Available(MonoTime now) {
  Refill(now);
  return tokens_;
}

}  // namespace hpad::k8s
