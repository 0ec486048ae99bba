// TokenBucket (client-side QPS/burst, --kube-api-qps/--kube-api-burst) on a
// SimulatedClock, and the retry-delay schedule.
#include <catch2/catch.hpp>

#include "k8sclient/rest_api_client.h"
#include "k8sclient/token_bucket.h"

namespace hpad::k8s {

using std::chrono::milliseconds;
using std::chrono::seconds;

TEST_CASE("token bucket: burst at once, then qps", "[token_bucket]") {
  SimulatedClock clock(Time{} + std::chrono::hours(1));
  TokenBucket b(20, 30, clock.MonoNow());
  for (int i = 0; i < 30; ++i) CHECK(b.TryTake(clock.MonoNow()));
  CHECK_FALSE(b.TryTake(clock.MonoNow()));
  clock.Advance(milliseconds(49));
  CHECK_FALSE(b.TryTake(clock.MonoNow()));
  clock.Advance(milliseconds(1));  // 50 ms at 20 qps = one token
  CHECK(b.TryTake(clock.MonoNow()));
  CHECK_FALSE(b.TryTake(clock.MonoNow()));
  // Refill never exceeds the burst.
  clock.Advance(std::chrono::hours(1));
  CHECK(b.Available(clock.MonoNow()) == Approx(30));
}

TEST_CASE("token bucket: Reserve queues callers in order at exactly qps", "[token_bucket]") {
  SimulatedClock clock(Time{});
  TokenBucket b(10, 2, clock.MonoNow());
  CHECK(b.Reserve(clock.MonoNow()) == Duration::zero());
  CHECK(b.Reserve(clock.MonoNow()) == Duration::zero());
  // Three more callers at the same instant wait 100, 200, 300 ms.
  CHECK(b.Reserve(clock.MonoNow()) == milliseconds(100));
  CHECK(b.Reserve(clock.MonoNow()) == milliseconds(200));
  CHECK(b.Reserve(clock.MonoNow()) == milliseconds(300));
  CHECK(b.Available(clock.MonoNow()) == Approx(-3));
  clock.Advance(milliseconds(300));
  CHECK(b.Available(clock.MonoNow()) == Approx(0).margin(1e-9));
  // Over a long run the admitted rate is qps: 100 reservations span 10 s.
  Duration last{};
  for (int i = 0; i < 100; ++i) last = b.Reserve(clock.MonoNow());
  CHECK(std::chrono::duration<double>(last).count() == Approx(10.0));
}

TEST_CASE("token bucket: qps <= 0 disables limiting, clock going back does not refill", "[token_bucket]") {
  SimulatedClock clock(Time{} + std::chrono::hours(1));
  TokenBucket off(0, 1, clock.MonoNow());
  for (int i = 0; i < 1000; ++i) CHECK(off.Reserve(clock.MonoNow()) == Duration::zero());
  TokenBucket b(1, 1, clock.MonoNow());
  CHECK(b.TryTake(clock.MonoNow()));
  // An instant before the last one (a caller passing wall time across a
  // clock step, for one): no refill until time catches up.
  CHECK_FALSE(b.TryTake(clock.MonoNow() - std::chrono::minutes(10)));
  clock.Set(clock.Now() - std::chrono::minutes(10));  // a wall-clock step back does not move MonoNow()
  CHECK_FALSE(b.TryTake(clock.MonoNow()));
  clock.Advance(seconds(1));
  CHECK(b.TryTake(clock.MonoNow()));
  TokenBucket zero_burst(5, 0, clock.MonoNow());  // treated as burst 1
  CHECK(zero_burst.TryTake(clock.MonoNow()));
  CHECK_FALSE(zero_burst.TryTake(clock.MonoNow()));
}

TEST_CASE("RetryDelay: Retry-After wins (capped), else jittered exponential backoff", "[token_bucket][retry]") {
  RestApiClientOptions o;
  o.initial_backoff = milliseconds(250);
  o.max_backoff = seconds(8);
  o.max_retry_after = seconds(60);
  CHECK(RetryDelay(1, std::string("7"), 0.9, o) == seconds(7));
  CHECK(RetryDelay(1, std::string("0"), 0.9, o) == seconds(0));
  CHECK(RetryDelay(1, std::string("3600"), 0.0, o) == seconds(60));
  // HTTP-date form or garbage: backoff.
  CHECK(RetryDelay(1, std::string("Wed, 21 Oct 2015 07:28:00 GMT"), 0.0, o) == milliseconds(250));
  CHECK(RetryDelay(1, std::nullopt, 0.0, o) == milliseconds(250));
  CHECK(RetryDelay(2, std::nullopt, 0.0, o) == milliseconds(500));
  CHECK(RetryDelay(3, std::nullopt, 0.0, o) == milliseconds(1000));
  CHECK(RetryDelay(20, std::nullopt, 0.0, o) == seconds(8));
  // Jitter: up to +50%.
  auto jittered = std::chrono::duration<double>(RetryDelay(1, std::nullopt, 0.5, o)).count();
  CHECK(jittered == Approx(0.3125));
  auto max_jitter = std::chrono::duration<double>(RetryDelay(3, std::nullopt, 0.999999, o)).count();
  CHECK(max_jitter == Approx(1.5).epsilon(1e-5));
}

}  // namespace hpad::k8s
