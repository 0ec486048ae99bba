// TokenBucket: the client-side QPS/burst limit (client-go's flowcontrol
// token-bucket limiter, `--kube-api-qps` / `--kube-api-burst`, defaults 20/30).
//
// The bucket holds up to `burst` tokens and refills at `qps` tokens per
// second. Reserve() always takes a token, possibly going into debt, and says
// how long the caller must wait before using it - so concurrent callers are
// served in arrival order and the long-run rate never exceeds qps (this is
// golang.org/x/time/rate's Reserve, which client-go's limiter uses).
//
// TakeKeeping() is the background callers' way in (divergence 24): it takes a
// token only while `reserve` more stay in the bucket, so low-priority writes
// (events) never spend the share that foreground writes (scale, status) can
// take at once; TimeUntil() says how long such a caller must wait.
//
// Time is monotonic (MonoTime: the bucket measures intervals only). Also the
// event recorder's per-object spam filter (client-go: burst 25, 1 per 300 s).
//
// Pure: `now` is an argument, nothing is read from a clock. Not thread-safe;
// the owner (RestApiClient, ApiEventRecorder) serialises calls.
#pragma once

#include "k8sclient/base/clock.h"

namespace hpad::k8s {

class TokenBucket {
 public:
  // qps <= 0 disables limiting (every Reserve returns 0). burst < 1 is treated as 1.
  // The bucket starts full.
  TokenBucket(double qps, int burst, MonoTime now);

  // Takes one token and returns how long to wait before proceeding (zero when
  // a token was available at `now`).
  Duration Reserve(MonoTime now);
  // Takes a token only if one is available at `now`.
  bool TryTake(MonoTime now);
  // Takes a token only if, after taking it, at least `reserve` tokens remain
  // at `now` (reserve < 0 is treated as 0, so TakeKeeping(now, 0) == TryTake).
  // Never goes into debt and never makes a Reserve() caller wait longer.
  bool TakeKeeping(MonoTime now, double reserve);
  // How long from `now` until `tokens` are available (zero if they are;
  // Duration::max() if they never will be: tokens > burst, or qps <= 0 with
  // too few). Does not take anything.
  Duration TimeUntil(MonoTime now, double tokens);
  // Tokens available at `now` (negative while callers are queued).
  double Available(MonoTime now);

  // Transitional wall-clock spellings (for RestApiClient until it passes
  // Clock::MonoNow()): the bucket only compares the instants it is given, so
  // a caller that uses wall time consistently behaves as before. Do not mix.
  TokenBucket(double qps, int burst, Time now) : TokenBucket(qps, burst, AsMono(now)) {}
  Duration Reserve(Time now) { return Reserve(AsMono(now)); }
  bool TryTake(Time now) { return TryTake(AsMono(now)); }
  double Available(Time now) { return Available(AsMono(now)); }

  double qps() const { return qps_; }
  int burst() const { return burst_; }

 private:
  static MonoTime AsMono(Time t) { return MonoTime(std::chrono::duration_cast<Duration>(t.time_since_epoch())); }
  void Refill(MonoTime now);

  double qps_;
  int burst_;
  double tokens_;
  MonoTime last_;
};

}  // namespace hpad::k8s
