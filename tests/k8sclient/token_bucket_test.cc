// TokenBucket (client-side QPS/burst, --kube-api-qps/--kube-api-burst) on a
// SimulatedClock, the retry-delay schedule, and RestApiClient's background
// priority (divergence 24: event writes never delay status writes on the
// same client; scale writes have their own client, issue 16).
#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>

#include "k8sclient/cancel_scope.h"
#include "k8sclient/rest_api_client.h"
#include "k8sclient/token_bucket.h"
#include "k8sclient/write_fence.h"
#include "tests/fakes/manual_clock.h"

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

TEST_CASE("token bucket: TakeKeeping leaves the reserve for Reserve callers", "[token_bucket][priority]") {
  SimulatedClock clock(Time{} + std::chrono::hours(1));
  TokenBucket b(10, 6, clock.MonoNow());
  // Burst 6, reserve 3: three background takes, then none.
  CHECK(b.TakeKeeping(clock.MonoNow(), 3));
  CHECK(b.TakeKeeping(clock.MonoNow(), 3));
  CHECK(b.TakeKeeping(clock.MonoNow(), 3));
  CHECK_FALSE(b.TakeKeeping(clock.MonoNow(), 3));
  CHECK(b.Available(clock.MonoNow()) == Approx(3));
  // The three kept tokens serve foreground callers without a wait.
  for (int i = 0; i < 3; ++i) CHECK(b.Reserve(clock.MonoNow()) == Duration::zero());
  CHECK(b.Reserve(clock.MonoNow()) == milliseconds(100));  // now in debt: -1
  // Background must wait for the debt and the reserve: 1 + 3 + 1 tokens.
  CHECK(std::chrono::duration<double>(b.TimeUntil(clock.MonoNow(), 4)).count() == Approx(0.5));
  clock.Advance(milliseconds(499));
  CHECK_FALSE(b.TakeKeeping(clock.MonoNow(), 3));
  clock.Advance(milliseconds(1));
  CHECK(b.TakeKeeping(clock.MonoNow(), 3));
  CHECK(b.Available(clock.MonoNow()) == Approx(3).margin(1e-9));
  // Edge cases: a negative reserve is 0 (TryTake); more tokens than the
  // burst never come; qps <= 0 never limits.
  TokenBucket one(1, 1, clock.MonoNow());
  CHECK(one.TakeKeeping(clock.MonoNow(), -5));
  CHECK_FALSE(one.TakeKeeping(clock.MonoNow(), 0));
  CHECK(one.TimeUntil(clock.MonoNow(), 2) == Duration::max());
  CHECK(std::chrono::duration<double>(one.TimeUntil(clock.MonoNow(), 1)).count() == Approx(1.0));
  TokenBucket off(0, 1, clock.MonoNow());
  CHECK(off.TakeKeeping(clock.MonoNow(), 100));
}

namespace {

// Answers every request at once with 200 "{}" and logs "METHOD path".
class LoggingTransport final : public HttpTransport {
 public:
  Result<HttpResponse> Send(const HttpRequest& request) override {
    std::lock_guard<std::mutex> l(mu_);
    log_.push_back(request.method + " " + request.path_and_query);
    return HttpResponse{200, {}, "{}"};
  }
  Result<std::unique_ptr<HttpStream>> OpenStream(const HttpRequest&) override {
    return Status(StatusCode::kUnavailable, "no streams here");
  }
  const std::string& server() const override { return server_; }
  std::vector<std::string> Log() const {
    std::lock_guard<std::mutex> l(mu_);
    return log_;
  }

 private:
  mutable std::mutex mu_;
  std::vector<std::string> log_;
  std::string server_ = "http://fake";
};

// Runs `fn` (returning whether its request succeeded) on a thread and says
// whether it finished, successfully, without anyone moving the clock. The
// wall-clock wait is a safety net for a failing test only; then the clock is
// moved far ahead so the thread ends and can be joined. (Catch2 assertions
// are not thread-safe: only the test's thread asserts.)
template <typename Fn>
bool FinishesWithoutClockAdvance(SimulatedClock& clock, Fn fn) {
  std::mutex mu;
  std::condition_variable cv;
  bool done = false;
  bool ok = false;
  std::thread t([&] {
    const bool result = fn();
    std::lock_guard<std::mutex> l(mu);
    ok = result;
    done = true;
    cv.notify_all();
  });
  bool finished;
  {
    std::unique_lock<std::mutex> l(mu);
    finished = cv.wait_for(l, seconds(10), [&] { return done; });
  }
  if (!finished) clock.Advance(std::chrono::hours(1));
  t.join();
  return finished && ok;
}

}  // namespace

TEST_CASE("RestApiClient: a backlog of background writes does not delay a foreground write",
          "[token_bucket][priority]") {
  testing::ManualClock clock(Time{} + std::chrono::hours(1000));
  auto transport = std::make_unique<LoggingTransport>();
  LoggingTransport& log = *transport;
  RestApiClientOptions opts;
  opts.qps = 10;
  opts.burst = 4;  // background keeps 2 for the foreground
  auto api = std::make_shared<RestApiClient>(std::move(transport), clock, opts);
  const Json event{{"kind", "Event"}};

  // Ten event writes queued on one worker, as the event recorder does.
  std::atomic<int> events_ok{0};
  std::thread events([&] {
    for (int i = 0; i < 10; ++i)
      if (api->Background().Create(resources::kEvents, "default", event).ok()) ++events_ok;
  });
  REQUIRE(clock.AwaitSleepers(1));  // two sent, the third waits for tokens
  CHECK(log.Log().size() == 2);

  // A scale write now goes out at once, and a status write after it.
  const ObjectKey scale{resources::kDeployments, "default", "web", "scale"};
  const ObjectKey status{resources::kHpaV2, "default", "web", "status"};
  CHECK(FinishesWithoutClockAdvance(clock, [&] { return api->Update(scale, Json{{"kind", "Scale"}}).ok(); }));
  CHECK(FinishesWithoutClockAdvance(clock, [&] { return api->Update(status, Json{{"kind", "HPA"}}).ok(); }));
  auto sent = log.Log();
  REQUIRE(sent.size() == 4);
  CHECK(sent[2] == "PUT " + scale.Path());
  CHECK(sent[3] == "PUT " + status.Path());

  // The backlog drains at qps once the reserve is back: 3 tokens (300 ms)
  // for the first, then one every 100 ms.
  REQUIRE(clock.AwaitSleepers(1));
  clock.Advance(milliseconds(299));
  REQUIRE(clock.AwaitSleepers(1));
  CHECK(log.Log().size() == 4);
  clock.Advance(milliseconds(1));
  REQUIRE(clock.AwaitSleepers(1));
  CHECK(log.Log().size() == 5);
  for (int i = 0; i < 7; ++i) {
    clock.Advance(milliseconds(100));
    if (i < 6) REQUIRE(clock.AwaitSleepers(1));
  }
  events.join();
  CHECK(events_ok.load() == 10);
  CHECK(log.Log().size() == 12);
  // Background never spent the reserve: the foreground still has 2 at once.
  CHECK(FinishesWithoutClockAdvance(clock, [&] { return api->Get(scale).ok(); }));
  CHECK(FinishesWithoutClockAdvance(clock, [&] { return api->Get(scale).ok(); }));
}

TEST_CASE("RestApiClient: a waiting background write honours deadline, cancellation and fence",
          "[token_bucket][priority]") {
  testing::ManualClock clock(Time{} + std::chrono::hours(1000));
  auto transport = std::make_unique<LoggingTransport>();
  LoggingTransport& log = *transport;
  auto scope = std::make_shared<CancelScope>();
  auto fence = std::make_shared<WriteFence>();
  fence->HoldUntil(clock.MonoNow() + milliseconds(500));  // closes in the fence section
  RestApiClientOptions opts;
  opts.qps = 1;
  opts.burst = 2;  // reserve 1
  opts.cancel_scope = scope;
  opts.write_fence = fence;
  RestApiClient api(std::move(transport), clock, opts);
  const Json event{{"kind", "Event"}};
  CHECK(api.Background().Create(resources::kEvents, "default", event).ok());  // 2 -> 1
  REQUIRE(log.Log().size() == 1);

  SECTION("the thread's request deadline ends the wait, nothing is sent") {
    Result<Json> got = InternalError("unset");
    std::thread t([&] {
      RequestDeadlineScope bound(clock.MonoNow() + milliseconds(500));
      got = api.Background().Create(resources::kEvents, "default", event);
    });
    REQUIRE(clock.AwaitSleepers(1));
    clock.Advance(milliseconds(500));  // a token would come only after 1 s
    t.join();
    CHECK(got.status().code() == StatusCode::kTimeout);
  }
  SECTION("cancellation ends the wait") {
    Result<Json> got = InternalError("unset");
    std::thread t([&] { got = api.Background().Create(resources::kEvents, "default", event); });
    REQUIRE(clock.AwaitSleepers(1));
    scope->Cancel();
    clock.Notify();
    t.join();
    CHECK(got.status().code() == StatusCode::kCancelled);
  }
  SECTION("a fence that closed during the wait refuses the write") {
    Result<Json> got = InternalError("unset");
    std::thread t([&] { got = api.Background().Create(resources::kEvents, "default", event); });
    REQUIRE(clock.AwaitSleepers(1));
    clock.Advance(seconds(1));
    t.join();
    CHECK(got.status().reason() == kLeaseNotHeldReason);
  }
  CHECK(log.Log().size() == 1);
}

}  // namespace hpad::k8s
