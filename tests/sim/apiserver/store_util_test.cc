// Patch helpers: RFC 7386 merge, strategic merge, RFC 6902 JSON patch.
#include <catch2/catch.hpp>

#include "tests/sim/apiserver/test_objects.h"

namespace hpad::sim {
namespace {

using namespace hpad::sim::testing;

TEST_CASE("Patch helpers: merge, strategic merge, json patch", "[cluster_state][patch]") {
  Json target = Json::parse(R"({"metadata":{"labels":{"a":"1","b":"2"}},
    "spec":{"replicas":1,"template":{"spec":{"containers":[{"name":"x","image":"i1"},{"name":"y","image":"i2"}]}},
            "metrics":[{"type":"Resource","resource":{"name":"cpu"}},{"type":"Pods"}]}})");
  Json merged = MergePatch(target, Json::parse(R"({"metadata":{"labels":{"a":null,"c":"3"}},"spec":{"replicas":3}})"));
  CHECK(merged["metadata"]["labels"] == Json{{"b", "2"}, {"c", "3"}});
  CHECK(merged["spec"]["replicas"] == 3);

  Json smp = StrategicMergePatch(target, Json::parse(R"({
    "$setElementOrder/containers":[{"name":"x"},{"name":"y"}],
    "spec":{"template":{"spec":{"containers":[{"name":"y","image":"i3"}]}},
            "metrics":[{"type":"Resource","resource":{"name":"memory"}}]}})"));
  CHECK(!smp.contains("$setElementOrder/containers"));
  CHECK(smp["spec"]["template"]["spec"]["containers"] ==
        Json::parse(R"([{"name":"x","image":"i1"},{"name":"y","image":"i3"}])"));
  // HPA metrics are an atomic list: replaced whole.
  CHECK(smp["spec"]["metrics"] == Json::parse(R"([{"type":"Resource","resource":{"name":"memory"}}])"));
  Json del = StrategicMergePatch(
      target, Json::parse(R"({"spec":{"template":{"spec":{"containers":[{"name":"x","$patch":"delete"}]}}}})"));
  CHECK(del["spec"]["template"]["spec"]["containers"].size() == 1);

  auto jp = JsonPatch(target, Json::parse(R"([{"op":"test","path":"/spec/replicas","value":1},
      {"op":"replace","path":"/spec/replicas","value":5},{"op":"add","path":"/metadata/labels/d","value":"4"},
      {"op":"remove","path":"/metadata/labels/a"}])"));
  REQUIRE(jp.ok());
  CHECK((*jp)["spec"]["replicas"] == 5);
  CHECK((*jp)["metadata"]["labels"] == Json{{"b", "2"}, {"d", "4"}});
  CHECK(!JsonPatch(target, Json::parse(R"([{"op":"test","path":"/spec/replicas","value":2}])")).ok());
  CHECK(!JsonPatch(target, Json::parse(R"([{"op":"remove","path":"/nope"}])")).ok());
}

}  // namespace
}  // namespace hpad::sim
