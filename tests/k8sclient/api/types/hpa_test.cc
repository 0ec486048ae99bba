// autoscaling/v2 HPA typed round trip (unknown fields kept across
// read-modify-write), status JSON (C15 quantity formats, X5 empty entries,
// W3/W4 semantic equality), v1 <-> v2 conversion, error paths.
#include <catch2/catch.hpp>

#include <random>

#include "k8sclient/api/time_format.h"
#include "k8sclient/api/types/hpa.h"

using namespace hpad::k8s;
using nlohmann::json;

namespace {

const char* kFullHpa = R"({
  "apiVersion": "autoscaling/v2",
  "kind": "HorizontalPodAutoscaler",
  "metadata": {
    "name": "web", "namespace": "default", "uid": "u-1", "resourceVersion": "42", "generation": 3,
    "creationTimestamp": "2026-01-01T00:00:00Z",
    "labels": {"app": "web"}, "annotations": {"note": "x"},
    "managedFields": [{"manager": "kubectl"}]
  },
  "spec": {
    "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"},
    "minReplicas": 2,
    "maxReplicas": 10,
    "futureSpecField": {"keep": true},
    "metrics": [
      {"type": "Resource", "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 50}}},
      {"type": "Resource", "resource": {"name": "memory", "target": {"type": "AverageValue", "averageValue": "100Mi"}}},
      {"type": "ContainerResource", "containerResource": {"name": "cpu", "container": "app",
        "target": {"type": "Utilization", "averageUtilization": 60}}},
      {"type": "Pods", "pods": {"metric": {"name": "rps", "selector": {"matchLabels": {"verb": "GET"}}},
        "target": {"type": "AverageValue", "averageValue": "1k"}}},
      {"type": "Object", "object": {"describedObject": {"apiVersion": "networking.k8s.io/v1", "kind": "Ingress", "name": "main"},
        "metric": {"name": "hits"}, "target": {"type": "Value", "value": "2k"}}},
      {"type": "External", "external": {"metric": {"name": "queue", "selector": {"matchLabels": {"q": "jobs"}}},
        "target": {"type": "AverageValue", "averageValue": "30"}}},
      {"type": "Quantum", "quantum": {"entanglement": "high"}}
    ],
    "behavior": {
      "scaleUp": {"stabilizationWindowSeconds": 0, "selectPolicy": "Max",
        "policies": [{"type": "Pods", "value": 4, "periodSeconds": 15}, {"type": "Percent", "value": 100, "periodSeconds": 15}]},
      "scaleDown": {"policies": [], "tolerance": "0.05"}
    }
  },
  "status": {
    "observedGeneration": 3,
    "lastScaleTime": "2026-01-01T00:05:00Z",
    "currentReplicas": 3,
    "desiredReplicas": 4,
    "currentMetrics": [
      {"type": "Resource", "resource": {"name": "cpu", "current": {"averageUtilization": 70, "averageValue": "140m"}}},
      {"type": ""}
    ],
    "conditions": [
      {"type": "AbleToScale", "status": "True", "lastTransitionTime": "2026-01-01T00:00:10Z",
       "reason": "SucceededRescale", "message": "the HPA controller was able to update the target scale to 4"}
    ]
  }
})";

}  // namespace

TEST_CASE("hpa from json reads every modelled field", "[hpa]") {
  auto r = HpaFromJson(json::parse(kFullHpa));
  REQUIRE(r.ok());
  const Hpa& h = *r;
  CHECK(h.metadata.name == "web");
  CHECK(h.metadata.ns == "default");
  CHECK(h.metadata.generation == 3);
  CHECK(h.metadata.resource_version == "42");
  CHECK(h.metadata.labels.at("app") == "web");
  CHECK(h.spec.scale_target_ref.kind == "Deployment");
  CHECK(h.spec.scale_target_ref.api_version == "apps/v1");
  CHECK(h.spec.min_replicas == 2);
  CHECK(h.spec.max_replicas == 10);
  REQUIRE(h.spec.metrics.size() == 7);
  CHECK(h.spec.metrics[0].resource->target.average_utilization == 50);
  CHECK(h.spec.metrics[1].resource->target.average_value->MilliValue() == 104857600000);
  CHECK(h.spec.metrics[2].container_resource->container == "app");
  CHECK(h.spec.metrics[3].pods->metric.selector["matchLabels"]["verb"] == "GET");
  CHECK(h.spec.metrics[3].pods->target.average_value->MilliValue() == 1000000);
  CHECK(h.spec.metrics[4].object->described_object.kind == "Ingress");
  CHECK(h.spec.metrics[4].object->metric.selector.is_null());
  CHECK(h.spec.metrics[5].external->target.average_value->MilliValue() == 30000);
  CHECK(h.spec.metrics[6].type == "Quantum");  // 16.9: unknown types are read, not rejected
  REQUIRE(h.spec.behavior);
  REQUIRE(h.spec.behavior->scale_up);
  CHECK(h.spec.behavior->scale_up->stabilization_window_seconds == 0);
  CHECK(h.spec.behavior->scale_up->select_policy == "Max");
  REQUIRE(h.spec.behavior->scale_up->policies.size() == 2);
  CHECK(h.spec.behavior->scale_up->policies[1].type == "Percent");
  CHECK(h.spec.behavior->scale_up->policies[1].period_seconds == 15);
  REQUIRE(h.spec.behavior->scale_down);
  CHECK(h.spec.behavior->scale_down->policies_set);  // B12: explicit []
  CHECK(h.spec.behavior->scale_down->policies.empty());
  CHECK(h.spec.behavior->scale_down->tolerance->MilliValue() == 50);
  CHECK_FALSE(h.spec.behavior->scale_down->stabilization_window_seconds);
  CHECK(h.status.observed_generation == 3);
  CHECK(h.status.current_replicas == 3);
  CHECK(h.status.desired_replicas == 4);
  REQUIRE(h.status.current_metrics.size() == 2);
  CHECK(h.status.current_metrics[0].resource->second.average_utilization == 70);
  CHECK(h.status.current_metrics[1].type.empty());  // X5 empty entry
  REQUIRE(h.status.conditions.size() == 1);
  CHECK(h.status.conditions[0].reason == "SucceededRescale");
  CHECK(FormatRfc3339(*h.status.conditions[0].last_transition_time) == "2026-01-01T00:00:10Z");
}

TEST_CASE("hpa round trip keeps unknown fields", "[hpa]") {
  json in = json::parse(kFullHpa);
  auto r = HpaFromJson(in);
  REQUIRE(r.ok());
  json out = HpaToJson(*r);
  CHECK(out == in);  // nothing changed: byte-for-byte the same object

  // Read-modify-write: change modelled fields, unknown ones stay.
  Hpa h = *r;
  h.spec.max_replicas = 20;
  h.spec.min_replicas.reset();
  h.spec.metrics[1].resource->target.average_value = Quantity::Parse("200Mi").value();
  h.spec.behavior->scale_up.reset();
  h.metadata.labels["tier"] = "front";
  json out2 = HpaToJson(h);
  CHECK(out2["spec"]["maxReplicas"] == 20);
  CHECK_FALSE(out2["spec"].contains("minReplicas"));
  CHECK(out2["spec"]["metrics"][1]["resource"]["target"]["averageValue"] == "200Mi");
  CHECK_FALSE(out2["spec"]["behavior"].contains("scaleUp"));
  CHECK(out2["spec"]["behavior"]["scaleDown"]["policies"] == json::array());
  CHECK(out2["spec"]["futureSpecField"] == json({{"keep", true}}));
  CHECK(out2["spec"]["metrics"][6] == in["spec"]["metrics"][6]);  // unknown metric payload kept
  CHECK(out2["metadata"]["managedFields"] == in["metadata"]["managedFields"]);
  CHECK(out2["metadata"]["labels"] == json({{"app", "web"}, {"tier", "front"}}));

  // Changing a metric's type does not leave the old member behind.
  MetricSpec pods;
  pods.type = "Pods";
  pods.pods = PodsMetricSource{{"rps", nullptr}, {"AverageValue", std::nullopt, Quantity::Parse("10").value(), std::nullopt}};
  h.spec.metrics[0] = pods;
  json out3 = HpaToJson(h);
  CHECK_FALSE(out3["spec"]["metrics"][0].contains("resource"));
  CHECK(out3["spec"]["metrics"][0]["pods"] ==
        json::parse(R"({"metric": {"name": "rps"}, "target": {"type": "AverageValue", "averageValue": "10"}})"));

  // Selector edits replace the selector (no stale matchLabels keys).
  h.spec.metrics[3].pods->metric.selector = json::parse(R"({"matchLabels": {"verb": "PUT"}})");
  h.spec.metrics[5].external->metric.selector = nullptr;
  json out4 = HpaToJson(h);
  CHECK(out4["spec"]["metrics"][3]["pods"]["metric"]["selector"] == json::parse(R"({"matchLabels": {"verb": "PUT"}})"));
  CHECK_FALSE(out4["spec"]["metrics"][5]["external"]["metric"].contains("selector"));
}

TEST_CASE("hpa to json from scratch", "[hpa]") {
  Hpa h;
  h.metadata.name = "a";
  h.metadata.ns = "ns";
  h.spec.scale_target_ref = {"Deployment", "a", "apps/v1"};
  h.spec.max_replicas = 5;
  MetricSpec cpu;
  cpu.type = "Resource";
  cpu.resource = ResourceMetricSource{"cpu", {"Utilization", std::nullopt, std::nullopt, 80}};
  h.spec.metrics.push_back(cpu);
  json out = HpaToJson(h);
  CHECK(out == json::parse(R"({
    "apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler",
    "metadata": {"name": "a", "namespace": "ns"},
    "spec": {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "a"}, "maxReplicas": 5,
             "metrics": [{"type": "Resource", "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 80}}}]},
    "status": {"desiredReplicas": 0}})"));
  auto back = HpaFromJson(out);
  REQUIRE(back.ok());
  CHECK(HpaToJson(*back) == out);
}

TEST_CASE("metric status json (C15 formats, X5)", "[hpa]") {
  MetricStatus cpu;
  cpu.type = "Resource";
  cpu.resource = {"cpu", MetricValueStatus{std::nullopt, Quantity::FromMilli(140), 70}};
  CHECK(MetricStatusToJson(cpu) ==
        json::parse(R"({"type": "Resource", "resource": {"name": "cpu", "current": {"averageValue": "140m", "averageUtilization": 70}}})"));

  MetricStatus mem;
  mem.type = "Resource";
  // Even when given in decimal format, memory prints in binary SI (C15).
  mem.resource = {"memory", MetricValueStatus{std::nullopt, Quantity::FromMilli(104857600000), std::nullopt}};
  CHECK(MetricStatusToJson(mem)["resource"]["current"]["averageValue"] == "100Mi");

  MetricStatus rps;
  rps.type = "Pods";
  rps.pods = MetricStatus::PodsOrExternal{{"rps", json::parse(R"({"matchLabels": {"a": "b"}})")},
                                           {std::nullopt, Quantity::FromMilli(1500000, Quantity::Format::kBinarySI), std::nullopt}};
  CHECK(MetricStatusToJson(rps) == json::parse(
                                       R"({"type": "Pods", "pods": {"metric": {"name": "rps", "selector": {"matchLabels": {"a": "b"}}},
                                           "current": {"averageValue": "1500"}}})"));

  MetricStatus obj;
  obj.type = "Object";
  obj.object = MetricStatus::Object{{"Service", "svc", "v1"}, {"hits", nullptr}, {Quantity::FromMilli(2000000), std::nullopt, std::nullopt}};
  CHECK(MetricStatusToJson(obj) == json::parse(R"({"type": "Object", "object": {
      "describedObject": {"apiVersion": "v1", "kind": "Service", "name": "svc"},
      "metric": {"name": "hits"}, "current": {"value": "2k"}}})"));

  MetricStatus ext;
  ext.type = "External";
  ext.external = MetricStatus::PodsOrExternal{{"queue", nullptr}, {Quantity::FromMilli(500), std::nullopt, std::nullopt}};
  CHECK(MetricStatusToJson(ext) ==
        json::parse(R"({"type": "External", "external": {"metric": {"name": "queue"}, "current": {"value": "500m"}}})"));

  CHECK(MetricStatusToJson(MetricStatus{}) == json::parse(R"({"type": ""})"));  // X5
}

TEST_CASE("hpa status equality is semantic (W4)", "[hpa]") {
  auto base = HpaFromJson(json::parse(kFullHpa)).value().status;
  HpaStatus same = base;
  CHECK(HpaStatusEqual(base, same));

  // Sub-second differences in times do not count (metav1.Time has seconds).
  same.conditions[0].last_transition_time = *same.conditions[0].last_transition_time + std::chrono::milliseconds(300);
  CHECK(HpaStatusEqual(base, same));
  // Quantities compare by value: 0.14 == 140m.
  same.current_metrics[0].resource->second.average_value = Quantity::Parse("0.14").value();
  CHECK(HpaStatusEqual(base, same));

  HpaStatus diff = base;
  diff.desired_replicas = 5;
  CHECK_FALSE(HpaStatusEqual(base, diff));
  diff = base;
  diff.conditions[0].message = "other";
  CHECK_FALSE(HpaStatusEqual(base, diff));
  diff = base;
  diff.conditions[0].last_transition_time = *diff.conditions[0].last_transition_time + std::chrono::seconds(1);
  CHECK_FALSE(HpaStatusEqual(base, diff));
  diff = base;
  diff.current_metrics[0].resource->second.average_utilization = 71;
  CHECK_FALSE(HpaStatusEqual(base, diff));
  diff = base;
  diff.observed_generation.reset();
  CHECK_FALSE(HpaStatusEqual(base, diff));
  diff = base;
  diff.current_metrics.clear();
  CHECK_FALSE(HpaStatusEqual(base, diff));
}

namespace {

// A random status built from small pools, so that two draws often agree on
// a field and the comparison has to look at all of them.
HpaStatus RandomStatus(std::mt19937& rng) {
  auto pick = [&](size_t n) { return std::uniform_int_distribution<size_t>(0, n - 1)(rng); };
  auto coin = [&] { return pick(2) == 0; };
  const hpad::Time t0 = ParseRfc3339("2026-01-01T00:00:00Z").value();
  const std::vector<std::string> quantities = {"0.1m", "1m", "1", "1000m", "1.5Gi", "1536Mi", "2k", "2000", "-1"};
  const std::vector<json> selectors = {json(), json::object(), json::parse(R"({"matchLabels": {"a": "b"}})"),
                                       json::parse(R"({"matchLabels": {"a": "c"}})")};
  auto opt_time = [&]() -> std::optional<hpad::Time> {
    if (coin()) return std::nullopt;
    return t0 + std::chrono::milliseconds(static_cast<int64_t>(pick(4)) * 400);  // 0, 0.4, 0.8, 1.2 s
  };
  auto opt_q = [&]() -> std::optional<Quantity> {
    if (coin()) return std::nullopt;
    return Quantity::Parse(quantities[pick(quantities.size())]).value();
  };
  auto value_status = [&] {
    MetricValueStatus v;
    v.value = opt_q();
    v.average_value = opt_q();
    if (coin()) v.average_utilization = static_cast<int32_t>(pick(2)) * 50;
    return v;
  };
  auto identifier = [&] { return MetricIdentifier{pick(2) ? "rps" : "hits", selectors[pick(selectors.size())]}; };
  HpaStatus s;
  if (coin()) s.observed_generation = static_cast<int64_t>(pick(2));
  s.last_scale_time = opt_time();
  s.current_replicas = static_cast<int32_t>(pick(2));
  s.desired_replicas = static_cast<int32_t>(pick(2));
  for (size_t i = pick(3); i > 0; --i) {
    MetricStatus m;
    m.type = pick(3) == 0 ? "" : "Resource";
    switch (pick(6)) {
      case 0: m.resource = std::make_pair(std::string(coin() ? "cpu" : "memory"), value_status()); break;
      case 1: m.container_resource = MetricStatus::ContainerResource{coin() ? "cpu" : "memory", coin() ? "a" : "b", value_status()}; break;
      case 2: m.pods = MetricStatus::PodsOrExternal{identifier(), value_status()}; break;
      case 3:
        m.object = MetricStatus::Object{{"Service", coin() ? "s" : "t", coin() ? "v1" : ""}, identifier(), value_status()};
        break;
      case 4: m.external = MetricStatus::PodsOrExternal{identifier(), value_status()}; break;
      default: break;
    }
    s.current_metrics.push_back(std::move(m));
  }
  for (size_t i = pick(3); i > 0; --i) {
    s.conditions.push_back(HpaCondition{coin() ? "AbleToScale" : "ScalingActive", coin() ? "True" : "False",
                                        opt_time(), coin() ? "" : "R", coin() ? "" : "m"});
  }
  return s;
}

}  // namespace

TEST_CASE("typed hpa status equality agrees with comparing the written JSON (W4, issue 16)", "[hpa]") {
  std::mt19937 rng(4);
  int equal = 0;
  for (int i = 0; i < 20000; ++i) {
    HpaStatus a = RandomStatus(rng);
    HpaStatus b = i % 3 == 0 ? a : RandomStatus(rng);
    if (i % 3 == 0 && !b.conditions.empty()) b.conditions[0].last_transition_time = RandomStatus(rng).last_scale_time;
    if (i % 3 == 0 && !b.current_metrics.empty()) {
      HpaStatus other = RandomStatus(rng);
      if (!other.current_metrics.empty()) b.current_metrics.back() = other.current_metrics[0];
    }
    const bool by_json = HpaStatusToJson(a) == HpaStatusToJson(b);
    INFO(HpaStatusToJson(a).dump() << "\n" << HpaStatusToJson(b).dump());
    REQUIRE(HpaStatusEqual(a, b) == by_json);
    REQUIRE(HpaStatusEqual(b, a) == by_json);
    equal += by_json;
  }
  CHECK(equal > 1000);  // both outcomes are exercised
}

TEST_CASE("hpa parse errors name the field path", "[hpa]") {
  struct Case {
    const char* name;
    std::function<void(json&)> mutate;
    const char* message;
  };
  const Case cases[] = {
      {"bad quantity", [](json& j) { j["spec"]["metrics"][1]["resource"]["target"]["averageValue"] = "12x"; },
       "spec.metrics[1].resource.target.averageValue: quantity \"12x\": unknown suffix \"x\""},
      {"string replicas", [](json& j) { j["spec"]["maxReplicas"] = "10"; },
       "spec.maxReplicas: expected an integer, got \"10\""},
      {"replicas overflow", [](json& j) { j["spec"]["minReplicas"] = 4294967296LL; },
       "spec.minReplicas: integer out of int32 range: 4294967296"},
      {"metrics not a list", [](json& j) { j["spec"]["metrics"] = json::object(); },
       "spec.metrics: expected a list, got object"},
      {"bad policy", [](json& j) { j["spec"]["behavior"]["scaleUp"]["policies"][1]["value"] = 1.5; },
       "spec.behavior.scaleUp.policies[1].value: expected an integer, got 1.5"},
      {"bad selector", [](json& j) { j["spec"]["metrics"][3]["pods"]["metric"]["selector"] = "a=b"; },
       "spec.metrics[3].pods.metric.selector: expected an object, got \"a=b\""},
      {"bad time", [](json& j) { j["status"]["conditions"][0]["lastTransitionTime"] = "yesterday"; },
       "status.conditions[0].lastTransitionTime: time \"yesterday\": bad date (want RFC 3339, e.g. 2026-01-01T00:00:00Z)"},
      {"bad status quantity", [](json& j) { j["status"]["currentMetrics"][0]["resource"]["current"]["averageValue"] = true; },
       "status.currentMetrics[0].resource.current.averageValue: expected a quantity, got true"},
      {"bad metadata", [](json& j) { j["metadata"]["labels"]["app"] = 1; }, "metadata.labels.app: expected a string, got 1"},
      {"bad tolerance", [](json& j) { j["spec"]["behavior"]["scaleDown"]["tolerance"] = "5%"; },
       "spec.behavior.scaleDown.tolerance: quantity \"5%\": unknown suffix \"%\""},
  };
  for (const auto& c : cases) {
    INFO(c.name);
    json j = json::parse(kFullHpa);
    c.mutate(j);
    auto r = HpaFromJson(j);
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().code() == hpad::StatusCode::kInvalid);
    CHECK(r.status().message() == c.message);
  }
  CHECK_FALSE(HpaFromJson(json::array()).ok());
  // Numbers are accepted for quantities, as Kubernetes does.
  json j = json::parse(kFullHpa);
  j["spec"]["metrics"][5]["external"]["target"]["averageValue"] = 0.5;
  auto r = HpaFromJson(j);
  REQUIRE(r.ok());
  CHECK(r->spec.metrics[5].external->target.average_value->MilliValue() == 500);
}

TEST_CASE("hpa v1 to v2 conversion", "[hpa][conversion]") {
  // What `kubectl autoscale deployment php-apache --cpu-percent=50 --min=1 --max=10` creates.
  json v1 = json::parse(R"({
    "apiVersion": "autoscaling/v1", "kind": "HorizontalPodAutoscaler",
    "metadata": {"name": "php-apache", "namespace": "default"},
    "spec": {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "php-apache"},
             "minReplicas": 1, "maxReplicas": 10, "targetCPUUtilizationPercentage": 50},
    "status": {"currentReplicas": 2, "desiredReplicas": 3, "currentCPUUtilizationPercentage": 120}})");
  json v2 = HpaV1ToV2(v1);
  CHECK(v2 == json::parse(R"({
    "apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler",
    "metadata": {"name": "php-apache", "namespace": "default"},
    "spec": {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "php-apache"},
             "minReplicas": 1, "maxReplicas": 10,
             "metrics": [{"type": "Resource", "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 50}}}]},
    "status": {"currentReplicas": 2, "desiredReplicas": 3,
               "currentMetrics": [{"type": "Resource", "resource": {"name": "cpu", "current": {"averageUtilization": 120}}}]}})"));
  REQUIRE(HpaFromJson(v2).ok());

  // No target: the API server makes v1's implicit 80% cpu explicit.
  json no_target = v1;
  no_target["spec"].erase("targetCPUUtilizationPercentage");
  no_target.erase("status");
  json v2b = HpaV1ToV2(no_target);
  CHECK(v2b["spec"]["metrics"][0]["resource"]["target"]["averageUtilization"] == 80);
  CHECK_FALSE(v2b.contains("status"));
}

TEST_CASE("hpa v2 to v1 conversion and back", "[hpa][conversion]") {
  json v2 = json::parse(kFullHpa);
  json v1 = HpaV2ToV1(v2);
  CHECK(v1["apiVersion"] == "autoscaling/v1");
  CHECK(v1["spec"] == json::parse(R"({"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"},
                                      "minReplicas": 2, "maxReplicas": 10, "targetCPUUtilizationPercentage": 50})"));
  CHECK(v1["status"] == json::parse(R"({"observedGeneration": 3, "lastScaleTime": "2026-01-01T00:05:00Z",
                                        "currentReplicas": 3, "desiredReplicas": 4, "currentCPUUtilizationPercentage": 70})"));
  const json& ann = v1["metadata"]["annotations"];
  CHECK(ann["note"] == "x");
  auto conditions = json::parse(ann["autoscaling.alpha.kubernetes.io/conditions"].get<std::string>());
  CHECK(conditions == v2["status"]["conditions"]);
  auto other = json::parse(ann["autoscaling.alpha.kubernetes.io/metrics"].get<std::string>());
  REQUIRE(other.size() == 6);  // everything but the cpu utilization metric
  CHECK(other[0] == json::parse(R"({"type": "Resource", "resource": {"name": "memory", "targetAverageValue": "100Mi"}})"));
  CHECK(other[2] == json::parse(R"({"type": "Pods", "pods": {"metricName": "rps", "targetAverageValue": "1k",
                                     "selector": {"matchLabels": {"verb": "GET"}}}})"));
  CHECK(other[3] == json::parse(R"({"type": "Object", "object": {"metricName": "hits", "targetValue": "2k",
      "target": {"apiVersion": "networking.k8s.io/v1", "kind": "Ingress", "name": "main"}}})"));
  CHECK(json::parse(ann["autoscaling.alpha.kubernetes.io/behavior"].get<std::string>()) == v2["spec"]["behavior"]);

  // Back to v2: metrics, behavior and conditions restored; annotations dropped.
  json back = HpaV1ToV2(v1);
  CHECK(back["metadata"]["annotations"] == json({{"note", "x"}}));
  CHECK(back["spec"]["behavior"] == v2["spec"]["behavior"]);
  CHECK(back["status"]["conditions"] == v2["status"]["conditions"]);
  CHECK(back["status"]["currentMetrics"][0] == v2["status"]["currentMetrics"][0]);
  REQUIRE(back["spec"]["metrics"].size() == 7);
  // As upstream, the cpu utilization metric comes last after a round trip.
  CHECK(back["spec"]["metrics"][6] == v2["spec"]["metrics"][0]);
  for (int i = 0; i < 5; ++i) {
    INFO(i);
    CHECK(back["spec"]["metrics"][i] == v2["spec"]["metrics"][i + 1]);
  }
  auto parsed = HpaFromJson(back);
  REQUIRE(parsed.ok());
  CHECK(HpaStatusEqual(parsed->status, HpaFromJson(v2)->status));
}
