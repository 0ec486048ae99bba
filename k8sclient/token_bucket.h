// TokenBucket: the client-side QPS/burst limit (client-go's flowcontrol
// token-bucket limiter, `--kube-api-qps` / `--kube-api-burst`, defaults 20/30).
//
// The bucket holds up to `burst` tokens and refills at `qps` tokens per
// second. Reserve() always takes a token, possibly going into debt, and says
// how long the caller must wait before using it - so concurrent callers are
// served in arrival order and the long-run rate never exceeds qps (this is
// golang.org/x/time/rate's Reserve, which client-go's limiter uses).
//
// Pure: `now` is an argument, nothing is read from a clock. Not thread-safe;
// the owner (RestApiClient) serialises calls.
#pragma once

#include "k8sclient/base/clock.h"

namespace hpad::k8s {

class TokenBucket {
 public:
  // qps <= 0 disables limiting (every Reserve returns 0). burst < 1 is treated as 1.
  // The bucket starts full.
  TokenBucket(double qps, int burst, Time now);

  // Takes one token and returns how long to wait before proceeding (zero when
  // a token was available at `now`).
  Duration Reserve(Time now);
  // Takes a token only if one is available at `now`.
  bool TryTake(Time now);
  // Tokens available at `now` (negative while callers are queued).
  double Available(Time now);

  double qps() const { return qps_; }
  int burst() const { return burst_; }

 private:
  void Refill(Time now);

  double qps_;
  int burst_;
  double tokens_;
  Time last_;
};

}  // namespace hpad::k8s
