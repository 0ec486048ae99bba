// Issue 15 item 2's API faults "5xx bursts" and "429 bursts" on
// RestApiClient in virtual time: a scripted transport answers a run of
// errors, and the test checks when each attempt was sent on the simulated
// clock. The chaos soak plays these bursts against the real daemon; here
// each rule is pinned down alone:
//   * a 429 (any verb: the server refused before acting) is retried after
//     exactly its Retry-After, capped at max_retry_after (60 s), up to
//     max_attempts; a status write caught in a 429 burst lands once after it;
//   * a 5xx burst is retried for reads with a growing, jittered back-off
//     (250 ms, 500 ms, 1 s, each up to +50%) and given up after
//     max_attempts; a write (POST/PUT) meeting a 5xx is never repeated.
#include <catch2/catch.hpp>

#include <atomic>
#include <deque>
#include <future>
#include <mutex>
#include <vector>

#include "k8sclient/http_transport.h"
#include "k8sclient/rest_api_client.h"
#include "tests/fakes/manual_clock.h"

namespace {

using hpad::Duration;
using hpad::MonoTime;
using hpad::Result;
using hpad::StatusCode;
using hpad::Time;
using hpad::k8s::HttpRequest;
using hpad::k8s::HttpResponse;
using hpad::k8s::HttpStream;
using hpad::k8s::HttpTransport;
using hpad::k8s::Json;
using hpad::k8s::ObjectKey;
using hpad::k8s::RestApiClient;
using hpad::k8s::RestApiClientOptions;
using hpad::k8s::testing::ManualClock;
namespace resources = hpad::k8s::resources;
using namespace std::chrono_literals;

const Time kStart = Time(std::chrono::seconds(1767225600));  // 2026-01-01T00:00:00Z

// Answers from a script (then 200 "{}" once it is used up) and records the
// monotonic instant of every request.
class ScriptedTransport final : public HttpTransport {
 public:
  explicit ScriptedTransport(const hpad::Clock& clock) : clock_(clock) {}
  void Then(int code, int times, std::optional<std::string> retry_after = std::nullopt) {
    std::lock_guard<std::mutex> l(mu_);
    HttpResponse r{code, {}, R"({"kind":"Status","apiVersion":"v1","status":"Failure","code":)" +
                                std::to_string(code) + "}"};
    if (retry_after) r.headers.emplace_back("Retry-After", *retry_after);
    for (int i = 0; i < times; ++i) script_.push_back(r);
  }
  Result<HttpResponse> Send(const HttpRequest&) override {
    std::lock_guard<std::mutex> l(mu_);
    sent_.push_back(clock_.MonoNow());
    if (script_.empty()) return HttpResponse{200, {}, "{}"};
    HttpResponse r = script_.front();
    script_.pop_front();
    return r;
  }
  Result<std::unique_ptr<HttpStream>> OpenStream(const HttpRequest&) override {
    return hpad::Status(StatusCode::kUnavailable, "no streams here");
  }
  const std::string& server() const override { return server_; }
  std::vector<MonoTime> Sent() const {
    std::lock_guard<std::mutex> l(mu_);
    return sent_;
  }

 private:
  const hpad::Clock& clock_;
  mutable std::mutex mu_;
  std::deque<HttpResponse> script_;
  std::vector<MonoTime> sent_;
  std::string server_ = "http://fake";
};

struct Client {
  ManualClock clock{kStart};
  ScriptedTransport* transport = nullptr;
  std::unique_ptr<RestApiClient> api;
  MonoTime t0;

  Client() {
    auto owned = std::make_unique<ScriptedTransport>(clock);
    transport = owned.get();
    RestApiClientOptions o;
    o.qps = 0;  // unlimited: only the retry waits move the send times
    o.jitter_seed = 7;
    api = std::make_unique<RestApiClient>(std::move(owned), clock, o);
    t0 = clock.MonoNow();
  }
  // Runs `call` on a thread and moves virtual time in 10 ms steps whenever
  // it sleeps, until it returns. The result and the send instants (from t0).
  template <typename Call>
  auto Drive(Call call) {
    auto fut = std::async(std::launch::async, call);
    for (int i = 0; i < 100000; ++i) {
      if (fut.wait_for(0s) == std::future_status::ready) break;
      if (clock.AwaitSleepers(1, 5ms)) clock.Advance(10ms);
    }
    REQUIRE(fut.wait_for(10s) == std::future_status::ready);
    return fut.get();
  }
  std::vector<Duration> Sends() const {
    std::vector<Duration> out;
    for (MonoTime t : transport->Sent()) out.push_back(t - t0);
    return out;
  }
};

const ObjectKey kStatus{resources::kHpaV2, "default", "web", "status"};
const ObjectKey kScale{resources::kDeployments, "default", "web", "scale"};

}  // namespace

TEST_CASE("a 429 burst on a status write: each retry waits its Retry-After, then the write lands once",
          "[transport][retry][faults]") {
  Client c;
  c.transport->Then(429, 3, "2");
  auto r = c.Drive([&] { return c.api->Update(kStatus, Json{{"kind", "HorizontalPodAutoscaler"}}); });
  CHECK(r.ok());
  const auto sends = c.Sends();
  REQUIRE(sends.size() == 4);  // 3 refused, the 4th (max_attempts) applied
  for (size_t i = 0; i < sends.size(); ++i) {
    CAPTURE(i);
    CHECK(sends[i] == Duration(2s) * static_cast<int>(i));  // exactly Retry-After apart
  }
}

TEST_CASE("a 429 burst longer than the attempts surfaces TooManyRequests; Retry-After is capped at 60 s",
          "[transport][retry][faults]") {
  Client c;
  c.transport->Then(429, 10, "3600");
  auto r = c.Drive([&] { return c.api->Update(kScale, Json{{"kind", "Scale"}}); });
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().code() == StatusCode::kTooManyRequests);
  const auto sends = c.Sends();
  REQUIRE(sends.size() == 4);
  for (size_t i = 1; i < sends.size(); ++i) CHECK(sends[i] - sends[i - 1] == Duration(60s));
}

TEST_CASE("a 5xx burst: reads back off and retry, give up after the attempts; writes are never repeated",
          "[transport][retry][faults]") {
  SECTION("a burst shorter than the attempts: the read succeeds on the third") {
    Client c;
    c.transport->Then(503, 2);
    auto r = c.Drive([&] { return c.api->Get(kScale); });
    CHECK(r.ok());
    const auto sends = c.Sends();
    REQUIRE(sends.size() == 3);
    // 250 ms, then 500 ms, each with up to +50% jitter (10 ms clock steps).
    CHECK(sends[1] - sends[0] >= Duration(250ms));
    CHECK(sends[1] - sends[0] <= Duration(385ms));
    CHECK(sends[2] - sends[1] >= Duration(500ms));
    CHECK(sends[2] - sends[1] <= Duration(760ms));
  }
  SECTION("a 5xx burst longer than the attempts: the read gives up after 4 with the server's error") {
    Client c;
    c.transport->Then(500, 20);
    auto r = c.Drive([&] { return c.api->Get(kScale); });
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().code() == StatusCode::kUnavailable);
    const auto sends = c.Sends();
    REQUIRE(sends.size() == 4);
    CHECK(sends[3] - sends[2] >= Duration(1s));  // the back-off doubled twice
    CHECK(sends[3] - sends[2] <= Duration(1510ms));
  }
  SECTION("a status or scale write meeting a 5xx is sent once (it may have been applied)") {
    Client c;
    c.transport->Then(503, 2);
    auto status = c.Drive([&] { return c.api->Update(kStatus, Json{{"kind", "HorizontalPodAutoscaler"}}); });
    CHECK(status.status().code() == StatusCode::kUnavailable);
    auto scale = c.Drive([&] { return c.api->Update(kScale, Json{{"kind", "Scale"}}); });
    CHECK(scale.status().code() == StatusCode::kUnavailable);
    CHECK(c.Sends().size() == 2);
    auto event = c.Drive([&] { return c.api->Create(resources::kEvents, "default", Json{{"kind", "Event"}}); });
    CHECK(event.ok());  // the burst is over: the next write goes through at once
    CHECK(c.Sends().size() == 3);
    CHECK(c.Sends()[2] == Duration::zero());  // no clock wait anywhere
  }
}
