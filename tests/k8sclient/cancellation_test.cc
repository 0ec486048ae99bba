// CancelScope, RequestDeadlineScope and WriteFence (k8sclient/cancel_scope.h,
// write_fence.h), and how RestApiClient and the HTTP transport honour
// them over loopback (issue 14 item 5, issue 15 item 1): a request stalled
// on the server is aborted by cancellation and by its hard deadline; a
// write is refused without reaching the server once the fence has closed
// and aborted on the wire when the fence closes while it is in flight.
// Fence timing is on the simulated clock; the loopback cases need the real
// clock (the transport's hard deadline is physical time) and only assert
// upper bounds far above the deadlines they set.
#include <atomic>
#include <chrono>
#include <thread>

#include <catch2/catch.hpp>

#include "k8sclient/cancel_scope.h"
#include "k8sclient/httplib_transport.h"
#include "k8sclient/rest_api_client.h"
#include "k8sclient/write_fence.h"
#include "tests/fakes/manual_clock.h"
#include "tests/k8sclient/tls_fixture.h"

namespace hpad::k8s {
namespace {

using namespace std::chrono_literals;
using testing::LoopbackServer;
using testing::ManualClock;
using testing::ServerMode;
using testing::TestPki;
using Steady = std::chrono::steady_clock;

const TestPki& Pki() {
  static const TestPki pki = TestPki::Make();
  return pki;
}

// A server whose /stall handlers hold the request until released (or 20 s
// pass), counting what arrived.
struct StallingServer {
  LoopbackServer srv{ServerMode::kPlain, Pki()};
  std::atomic<bool> release{false};
  std::atomic<int> gets{0};
  std::atomic<int> writes{0};

  StallingServer() {
    auto stall = [this](httplib::Response& res) {
      auto until = Steady::now() + 20s;
      while (!release.load() && Steady::now() < until) std::this_thread::sleep_for(10ms);
      res.set_content("{}", "application/json");
    };
    srv.server().Get("/stall", [this, stall](const httplib::Request&, httplib::Response& res) {
      ++gets;
      stall(res);
    });
    srv.server().Put(".*", [this, stall](const httplib::Request&, httplib::Response& res) {
      ++writes;
      stall(res);
    });
    srv.server().Post(".*", [this](const httplib::Request&, httplib::Response& res) {
      ++writes;
      res.set_content("{}", "application/json");
    });
    srv.server().Get("/ok", [this](const httplib::Request&, httplib::Response& res) {
      ++gets;
      res.set_content("{}", "application/json");
    });
    // A reply that trickles one byte every 50 ms: never idle long enough for
    // the inactivity timeout, so only a hard deadline ends it.
    srv.server().Get("/trickle", [this](const httplib::Request&, httplib::Response& res) {
      ++gets;
      res.set_chunked_content_provider("application/json", [this](size_t offset, httplib::DataSink& sink) {
        if (release.load() || offset > 400) {
          sink.done();
          return true;
        }
        std::this_thread::sleep_for(50ms);
        return sink.write(" ", 1);
      });
    });
    srv.Start();
  }
  ~StallingServer() { release = true; }

  TransportConfig Config() const {
    TransportConfig cfg;
    cfg.server = srv.url();
    cfg.timeout = 10s;
    return cfg;
  }
};

std::unique_ptr<HttpTransport> MustTransport(TransportConfig cfg) {
  auto t = NewHttpTransport(std::move(cfg));
  REQUIRE(t.ok());
  return std::move(*t);
}

TEST_CASE("CancelScope runs each callback once and at once when already cancelled", "[cancel]") {
  CancelScope scope;
  int a = 0, b = 0, c = 0;
  scope.OnCancel([&] { ++a; });
  uint64_t hb = scope.OnCancel([&] { ++b; });
  scope.Remove(hb);
  CHECK_FALSE(scope.cancelled());
  scope.Cancel();
  scope.Cancel();
  CHECK(scope.cancelled());
  CHECK(a == 1);
  CHECK(b == 0);
  CHECK(scope.OnCancel([&] { ++c; }) == 0);
  CHECK(c == 1);
}

TEST_CASE("RequestDeadlineScope keeps the earliest deadline and restores on exit", "[cancel]") {
  const MonoTime t0{};
  CHECK_FALSE(CurrentRequestDeadline().has_value());
  {
    RequestDeadlineScope outer(t0 + 10s);
    CHECK(CurrentRequestDeadline() == t0 + 10s);
    {
      RequestDeadlineScope later(t0 + 20s);
      CHECK(CurrentRequestDeadline() == t0 + 10s);
      RequestDeadlineScope earlier(t0 + 5s);
      CHECK(CurrentRequestDeadline() == t0 + 5s);
    }
    CHECK(CurrentRequestDeadline() == t0 + 10s);
  }
  CHECK_FALSE(CurrentRequestDeadline().has_value());
}

TEST_CASE("WriteFence is closed until held, open until its deadline, and never moves back", "[fence]") {
  ManualClock clock(Time{} + std::chrono::hours(1000));
  WriteFence fence;
  Status closed = fence.Check(clock.MonoNow(), "PUT x");
  CHECK(closed.reason() == kLeaseNotHeldReason);
  CHECK_THAT(closed.message(), Catch::Contains("PUT x") && Catch::Contains("does not hold the leader lease"));

  fence.HoldUntil(clock.MonoNow() + 10s);
  CHECK(fence.Check(clock.MonoNow(), "PUT x").ok());
  CHECK(fence.Remaining(clock.MonoNow()) == 10s);
  fence.HoldUntil(clock.MonoNow() + 5s);  // an older renewal landing late
  CHECK(fence.Remaining(clock.MonoNow()) == 10s);

  clock.Advance(std::chrono::milliseconds(9999));
  CHECK(fence.Check(clock.MonoNow(), "PUT x").ok());
  clock.Advance(std::chrono::milliseconds(1));
  Status expired = fence.Check(clock.MonoNow(), "PUT x");
  CHECK(expired.reason() == kLeaseNotHeldReason);
  CHECK_THAT(expired.message(), Catch::Contains("not renewed in time"));

  fence.HoldUntil(clock.MonoNow() + 10s);
  CHECK(fence.Check(clock.MonoNow(), "PUT x").ok());
  fence.Revoke();
  CHECK(fence.Check(clock.MonoNow(), "PUT x").reason() == kLeaseNotHeldReason);
}

TEST_CASE("cancelling the scope aborts a request stalled on the server", "[cancel][transport]") {
  StallingServer server;
  auto t = MustTransport(server.Config());
  auto scope = std::make_shared<CancelScope>();
  HttpRequest r;
  r.path_and_query = "/stall";
  r.cancel = scope;
  std::thread canceller([&] {
    REQUIRE(server.srv.url().size() > 0);
    while (server.gets.load() == 0) std::this_thread::sleep_for(5ms);
    scope->Cancel();
  });
  auto start = Steady::now();
  auto got = t->Send(r);
  canceller.join();
  REQUIRE_FALSE(got.ok());
  CHECK(got.status().code() == StatusCode::kCancelled);
  CHECK(Steady::now() - start < 5s);  // the server would hold it 20 s

  // Already cancelled: not sent at all.
  const int before = server.gets.load();
  auto again = t->Send(r);
  CHECK(again.status().code() == StatusCode::kCancelled);
  CHECK(server.gets.load() == before);
}

TEST_CASE("a hard timeout ends a reply that keeps trickling", "[cancel][transport]") {
  StallingServer server;
  auto t = MustTransport(server.Config());
  HttpRequest r;
  r.path_and_query = "/trickle";
  r.hard_timeout = 300ms;
  auto start = Steady::now();
  auto got = t->Send(r);
  REQUIRE_FALSE(got.ok());
  CHECK(got.status().code() == StatusCode::kTimeout);
  CHECK_THAT(got.status().message(), Catch::Contains("no complete reply within 300ms"));
  CHECK(Steady::now() - start < 5s);  // the reply would take ~20 s
}

TEST_CASE("RestApiClient: a closed fence refuses writes before they are sent, reads pass", "[fence][transport]") {
  StallingServer server;
  ManualClock clock(Time{} + std::chrono::hours(1000));
  auto fence = std::make_shared<WriteFence>();
  RestApiClientOptions opts;
  opts.write_fence = fence;
  RestApiClient api(MustTransport(server.Config()), clock, opts);

  auto refused = api.Create(resources::kEvents, "default", Json{{"kind", "Event"}});
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.status().reason() == kLeaseNotHeldReason);
  CHECK(server.writes.load() == 0);
  CHECK(api.GetPath("/ok").ok());

  fence->HoldUntil(clock.MonoNow() + 10s);
  CHECK(api.Create(resources::kEvents, "default", Json{{"kind", "Event"}}).ok());
  CHECK(server.writes.load() == 1);

  clock.Advance(10s);  // the renew deadline passed without a renewal
  auto late = api.Create(resources::kEvents, "default", Json{{"kind", "Event"}});
  CHECK(late.status().reason() == kLeaseNotHeldReason);
  CHECK(server.writes.load() == 1);
}

TEST_CASE("RestApiClient: a write in flight is aborted when the fence closes", "[fence][transport]") {
  StallingServer server;
  auto fence = std::make_shared<WriteFence>();
  RestApiClientOptions opts;
  opts.write_fence = fence;
  const Clock& clock = RealClock::Instance();
  RestApiClient api(MustTransport(server.Config()), clock, opts);
  fence->HoldUntil(clock.MonoNow() + 300ms);
  auto start = Steady::now();
  auto put = api.Update({resources::kDeployments, "default", "web", "scale"}, Json{{"kind", "Scale"}});
  REQUIRE_FALSE(put.ok());
  CHECK(put.status().code() == StatusCode::kTimeout);
  CHECK(server.writes.load() == 1);
  CHECK(Steady::now() - start < 5s);  // the server would hold it 20 s
}

TEST_CASE("RestApiClient: the thread's request deadline bounds attempts and retries", "[cancel][transport]") {
  StallingServer server;
  const Clock& clock = RealClock::Instance();
  RestApiClient api(MustTransport(server.Config()), clock);
  {
    RequestDeadlineScope bound(clock.MonoNow() + 300ms);
    auto start = Steady::now();
    auto got = api.GetPath("/stall");
    CHECK(got.status().code() == StatusCode::kTimeout);
    CHECK(Steady::now() - start < 5s);  // not 4 attempts of 10 s
    const int sent = server.gets.load();
    auto after = api.GetPath("/ok");  // the deadline has passed: not sent
    CHECK(after.status().code() == StatusCode::kTimeout);
    CHECK_THAT(after.status().message(), Catch::Contains("deadline has passed"));
    CHECK(server.gets.load() == sent);
  }
  CHECK(api.GetPath("/ok").ok());
}

TEST_CASE("RestApiClient: a cancelled scope ends a retry back-off at once", "[cancel][transport]") {
  LoopbackServer srv(ServerMode::kPlain, Pki());
  std::atomic<int> calls{0};
  srv.server().Get("/down", [&](const httplib::Request&, httplib::Response& res) {
    ++calls;
    res.status = 503;
    res.set_content("{}", "application/json");
  });
  srv.Start();
  TransportConfig cfg;
  cfg.server = srv.url();
  ManualClock clock(Time{} + std::chrono::hours(1000));
  auto scope = std::make_shared<CancelScope>();
  RestApiClientOptions opts;
  opts.cancel_scope = scope;
  RestApiClient api(MustTransport(cfg), clock, opts);
  std::atomic<bool> done{false};
  Result<Json> got = InternalError("unset");
  std::thread caller([&] {
    got = api.GetPath("/down");
    done = true;
  });
  REQUIRE(clock.AwaitSleepers(1));  // in the back-off after the first 503
  CHECK(calls.load() == 1);
  scope->Cancel();
  clock.Notify();
  caller.join();
  CHECK(done.load());
  CHECK(calls.load() == 1);
  CHECK(got.status().code() == StatusCode::kCancelled);
}

}  // namespace
}  // namespace hpad::k8s
