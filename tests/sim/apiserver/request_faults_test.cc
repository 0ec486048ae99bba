// FaultInjector and ApiFault: the scenario's `faults:` values and apiserver
// request rules, decided per request.
#include <catch2/catch.hpp>

#include "sim/apiserver/request_faults.h"

namespace hpad::sim {
namespace {

TEST_CASE("ApiFault parses the scenario's fault values", "[request_faults]") {
  CHECK(ApiFault::Parse("slow:2s")->delay == std::chrono::milliseconds(2000));
  CHECK(ApiFault::Parse("error:500")->code == 500);
  CHECK(ApiFault::Parse("unavailable")->kind == ApiFault::Kind::kUnavailable);
  CHECK(ApiFault::Parse("ok")->kind == ApiFault::Kind::kOk);
  CHECK(ApiFault::Parse("slow:2s")->ToString() == "slow:2s");
  CHECK(!ApiFault::Parse("error:abc").ok());
  CHECK(!ApiFault::Parse("error:200").ok());
  CHECK(!ApiFault::Parse("sometimes").ok());
}

TEST_CASE("FaultInjector: per-API faults and counted apiserver rules", "[request_faults]") {
  FaultInjector faults;
  CHECK(faults.Decide("apiserver", "get", "pods", "").fail_code == 0);
  FaultSet f;
  f.resource_metrics = *ApiFault::Parse("unavailable");
  f.custom_metrics = *ApiFault::Parse("slow:300ms");
  f.apiserver_rules.push_back({"patch", "deployments", "scale", 409, 1});
  faults.Set(f);
  CHECK(faults.Decide("resourceMetrics", "list", "pods", "").fail_code == 503);
  FaultDecision slow = faults.Decide("customMetrics", "get", "x", "");
  CHECK(slow.fail_code == 0);
  CHECK(slow.delay == std::chrono::milliseconds(300));
  CHECK(faults.Decide("apiserver", "get", "deployments", "scale").fail_code == 0);
  CHECK(faults.Decide("apiserver", "update", "deployments", "").fail_code == 0);  // main resource only
  // "patch" and "update" both name a change of an existing object (the
  // contract's example fails the controller's PUT of the scale with verb patch).
  CHECK(faults.Decide("apiserver", "update", "deployments", "scale").fail_code == 409);
  CHECK(faults.Decide("apiserver", "patch", "deployments", "scale").fail_code == 0);  // count consumed
  CHECK(faults.Get().apiserver_rules.at(0).count == 0);
}

TEST_CASE("FaultInjector: rules for one client's User-Agent, stalls that answer normally", "[request_faults]") {
  FaultInjector faults;
  FaultSet f;
  f.apiserver = *ApiFault::Parse("slow:100ms");
  RequestFaultRule stall{"", "leases", "", 0, -1};
  stall.user_agent = "(leader-id)";
  stall.delay = std::chrono::milliseconds(8000);
  f.apiserver_rules.push_back(stall);
  faults.Set(f);
  FaultDecision leader = faults.Decide("apiserver", "update", "leases", "", "hpad/1 (leader-id)");
  CHECK(leader.fail_code == 0);
  CHECK(leader.delay == std::chrono::milliseconds(8100));  // the stall adds to the server-wide slow:
  FaultDecision other = faults.Decide("apiserver", "update", "leases", "", "hpad/1 (standby-id)");
  CHECK(other.fail_code == 0);
  CHECK(other.delay == std::chrono::milliseconds(100));
  CHECK(faults.Decide("apiserver", "update", "leases", "").delay == std::chrono::milliseconds(100));
}

TEST_CASE("VerbMatches and SubresourceMatches", "[request_faults]") {
  CHECK(VerbMatches("", "delete"));
  CHECK(VerbMatches("patch", "update"));
  CHECK(VerbMatches("update", "patch"));
  CHECK_FALSE(VerbMatches("create", "update"));
  CHECK(SubresourceMatches("*", "status"));
  CHECK(SubresourceMatches("", ""));
  CHECK(SubresourceMatches("-", ""));
  CHECK_FALSE(SubresourceMatches("", "scale"));
}

}  // namespace
}  // namespace hpad::sim
