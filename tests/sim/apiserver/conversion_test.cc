// Write defaulting (13.1 D1-D3) and version conversion.
#include <catch2/catch.hpp>

#include "tests/sim/apiserver/test_objects.h"

namespace hpad::sim {
namespace {

using namespace hpad::sim::testing;

TEST_CASE("HPA defaulting (13.1 D1-D3)", "[cluster_state]") {
  SECTION("D1: minReplicas 1 and cpu 80% when metrics are empty; D2: no behavior stays none") {
    Json h = Hpa("x");
    h["spec"].erase("metrics");
    DefaultHpaV2(h);
    CHECK(h["spec"]["minReplicas"] == 1);
    CHECK(h["spec"]["metrics"][0]["resource"]["name"] == "cpu");
    CHECK(h["spec"]["metrics"][0]["resource"]["target"]["averageUtilization"] == 80);
    CHECK(!h["spec"].contains("behavior"));
  }
  SECTION("D3: missing directions and fields are filled, given policies kept whole") {
    Json h = Hpa("x");
    h["spec"]["minReplicas"] = 2;
    h["spec"]["behavior"] = {{"scaleDown", {{"policies", {{{"type", "Pods"}, {"value", 1}, {"periodSeconds", 60}}}}}}};
    DefaultHpaV2(h);
    CHECK(h["spec"]["minReplicas"] == 2);
    const Json& up = h["spec"]["behavior"]["scaleUp"];
    CHECK(up["stabilizationWindowSeconds"] == 0);
    CHECK(up["selectPolicy"] == "Max");
    CHECK(up["policies"] == Json::parse(R"([{"type":"Pods","value":4,"periodSeconds":15},
                                             {"type":"Percent","value":100,"periodSeconds":15}])"));
    const Json& down = h["spec"]["behavior"]["scaleDown"];
    CHECK(!down.contains("stabilizationWindowSeconds"));  // the controller flag applies (B1)
    CHECK(down["selectPolicy"] == "Max");
    CHECK(down["policies"].size() == 1);
    CHECK(down["policies"][0]["type"] == "Pods");
  }
  SECTION("an empty behavior gets both defaults") {
    Json h = Hpa("x");
    h["spec"]["behavior"] = Json::object();
    DefaultHpaV2(h);
    CHECK(h["spec"]["behavior"]["scaleDown"]["policies"] ==
          Json::parse(R"([{"type":"Percent","value":100,"periodSeconds":15}])"));
  }
}

}  // namespace
}  // namespace hpad::sim
