// ClusterState, the facade: scenario `apply` (create or replace, live status
// kept, routed by kind).
#include <catch2/catch.hpp>

#include "tests/sim/apiserver/test_objects.h"

namespace hpad::sim {
namespace {

using namespace hpad::sim::testing;

TEST_CASE("ClusterState apply: create or replace, keep live status when none is given", "[cluster_state]") {
  SimulatedClock clock(T0());
  ClusterState s(clock);
  auto first = s.Apply(Hpa("web"));
  REQUIRE(first.ok());
  CHECK((*first)["spec"]["minReplicas"] == 1);  // D1 on apply
  Json status = *first;
  status["status"] = {{"currentReplicas", 2}, {"desiredReplicas", 3}};
  REQUIRE(s.UpdateStatus(kHpaV2, "default", status).ok());

  Json again = Hpa("web");
  again["spec"]["maxReplicas"] = 7;
  again["metadata"]["resourceVersion"] = "1";  // ignored by apply
  auto second = s.Apply(again);
  REQUIRE(second.ok());
  CHECK((*second)["spec"]["maxReplicas"] == 7);
  CHECK((*second)["status"]["desiredReplicas"] == 3);
  CHECK((*second)["metadata"]["uid"] == (*first)["metadata"]["uid"]);
  CHECK((*second)["metadata"]["generation"] == 2);

  Json with_status = Hpa("web");
  with_status["status"] = {{"currentReplicas", 5}};
  auto third = s.Apply(with_status);
  REQUIRE(third.ok());
  CHECK((*third)["status"] == Json{{"currentReplicas", 5}});

  REQUIRE(s.DeleteObject({{"kind", "HorizontalPodAutoscaler"}, {"namespace", "default"}, {"name", "web"}}).ok());
  CHECK(s.Get(kHpaV2, "default", "web").status().code() == StatusCode::kNotFound);
  CHECK(!s.Apply({{"apiVersion", "v9"}, {"kind", "Nope"}, {"metadata", {{"name", "x"}}}}).ok());
}

}  // namespace
}  // namespace hpad::sim
