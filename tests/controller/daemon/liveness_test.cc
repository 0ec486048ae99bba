// LivenessTracker (controller/daemon/liveness.h) on the simulated clock, and
// a probe answered while slow clients hold connections (issue 15 item 2).
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <httplib.h>

#include <vector>

#include "controller/daemon/http_server.h"
#include "controller/daemon/liveness.h"
#include "controller/daemon/prometheus_metrics.h"
#include "tests/fakes/manual_clock.h"

namespace hpad::ctrl {
namespace {

using namespace std::chrono_literals;
using k8s::testing::ManualClock;

TEST_CASE("liveness: the reconcile stall limit is 5 sync periods, at least 3 minutes", "[daemon][liveness]") {
  CHECK(LivenessTracker::ReconcileStallLimit(15s) == 3min);
  CHECK(LivenessTracker::ReconcileStallLimit(60s) == 5min);
}

TEST_CASE("liveness: no reconcile for too long fails only while workers run with HPAs", "[daemon][liveness]") {
  ManualClock clock(Time{} + std::chrono::hours(1000));
  LivenessTracker t(clock, {.sync_period = 15s});
  t.WorkersStarted();
  clock.Advance(3min);
  CHECK(t.Check(true, 5) == "");  // exactly at the limit
  clock.Advance(1s);
  CHECK_THAT(t.Check(true, 5), Catch::Contains("no HPA reconcile finished for 3m1s") && Catch::Contains("5 HPAs"));
  CHECK(t.Check(false, 5) == "");  // a standby does not reconcile
  CHECK(t.Check(true, 0) == "");   // nothing to reconcile
  t.ReconcileFinished();
  CHECK(t.Check(true, 5) == "");
}

TEST_CASE("liveness: an elector loop silent for longer than the lease duration fails", "[daemon][liveness]") {
  ManualClock clock(Time{} + std::chrono::hours(1000));
  LivenessTracker t(clock, {.sync_period = 15s, .leader_elect = true, .lease_duration = 15s});
  clock.Advance(15s);
  CHECK(t.Check(false, 0) == "");
  clock.Advance(1s);
  CHECK_THAT(t.Check(false, 0), Catch::Contains("leader election loop has not run for 16s"));
  t.ElectorLoopRan();
  CHECK(t.Check(false, 0) == "");
  LivenessTracker off(clock, {.sync_period = 15s, .leader_elect = false});
  clock.Advance(1h);
  CHECK(off.Check(false, 0) == "");
}

class HangingTokenSource final : public k8s::TokenSource {
 public:
  explicit HangingTokenSource(ManualClock& clock) : clock_(clock) {}
  Result<std::string> Token() override {
    clock_.Advance(advance);
    return std::string("t");
  }
  void Invalidate() override {}
  Duration advance{0};

 private:
  ManualClock& clock_;
};

TEST_CASE("liveness: a token request running over 2 minutes fails", "[daemon][liveness]") {
  ManualClock clock(Time{} + std::chrono::hours(1000));
  auto tracker = std::make_shared<LivenessTracker>(clock, LivenessOptions{.sync_period = 15s});
  tracker->TokenRequestStarted();
  clock.Advance(2min);
  CHECK(tracker->Check(false, 0) == "");
  clock.Advance(1s);
  CHECK_THAT(tracker->Check(false, 0), Catch::Contains("bearer token request running for 2m1s"));
  tracker->TokenRequestFinished();
  CHECK(tracker->Check(false, 0) == "");

  // Through the wrapper: a call that took long but returned leaves no trace.
  auto inner = std::make_shared<HangingTokenSource>(clock);
  inner->advance = 5min;
  TrackedTokenSource tracked(inner, tracker);
  CHECK(tracked.Token().ok());
  CHECK(tracker->Check(false, 0) == "");
}

// A connection that sends a request line one byte at a time and never ends it.
int TrickleConnection(int port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) == 0);
  REQUIRE(send(fd, "G", 1, 0) == 1);
  return fd;
}

TEST_CASE("daemon http: /livez answers while slow clients hold connections", "[daemon][http][liveness]") {
  DaemonMetrics metrics;
  DaemonHttpServer server(metrics.registry(), {{"ping", [] { return std::string(); }}}, {});
  REQUIRE(server.Start("127.0.0.1", 0).ok());
  std::vector<int> slow;
  for (int i = 0; i < 8; ++i) slow.push_back(TrickleConnection(server.port()));
  httplib::Client c("127.0.0.1", server.port());
  c.set_connection_timeout(1, 0);
  c.set_read_timeout(1, 0);
  for (int i = 0; i < 3; ++i) {
    for (int fd : slow) (void)send(fd, "E", 1, MSG_NOSIGNAL);  // keep them trickling
    auto r = c.Get("/livez");
    REQUIRE(r);
    CHECK(r->status == 200);
  }
  for (int fd : slow) close(fd);
}

}  // namespace
}  // namespace hpad::ctrl
