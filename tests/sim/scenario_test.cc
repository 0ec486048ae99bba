// Scenario loading and validation: the six public examples load; broken
// files give errors naming the path and the problem.
#include <catch2/catch.hpp>

#include <filesystem>

#include "sim/scenario.h"
#include "tests/sim/prerequisite.h"

using hpad::sim::LoadScenarioFile;
using hpad::sim::ParseScenarioYaml;
using namespace std::chrono_literals;

namespace {

// A minimal valid scenario; cases append or replace parts of it.
const char* kHeader = R"(kind: Scenario
name: t
objects:
- apiVersion: apps/v1
  kind: Deployment
  metadata: {namespace: default, name: web}
  spec:
    replicas: 2
    selector: {matchLabels: {app: web}}
    template:
      metadata: {labels: {app: web}}
      spec: {containers: [{name: web, resources: {requests: {cpu: 100m}}}]}
- apiVersion: autoscaling/v2
  kind: HorizontalPodAutoscaler
  metadata: {namespace: default, name: web}
  spec:
    scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: web}
    maxReplicas: 5
    metrics:
    - type: Resource
      resource: {name: cpu, target: {type: Utilization, averageUtilization: 50}}
)";

std::string Joined(const hpad::sim::LoadedScenario& l) {
  std::string out;
  for (const auto& e : l.errors) out += e.ToString() + "\n";
  return out;
}

}  // namespace

TEST_CASE("scenario: the public conformance examples load", "[scenario][.shared]") {
  std::filesystem::path dir = std::filesystem::path(HPAD_SHARED_DIR) / "conformance" / "examples";
  hpad::sim::testing::SkipUnless(std::filesystem::exists(dir), "no shared conformance checkout at " + dir.string());
  int loaded = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (entry.path().extension() != ".yaml") continue;
    INFO(entry.path().string());
    auto l = LoadScenarioFile(entry.path().string());
    INFO(Joined(l));
    CHECK(l.ok());
    ++loaded;
  }
  CHECK(loaded >= 6);
}

TEST_CASE("scenario: fields are typed", "[scenario]") {
  std::string text = std::string(kHeader) + R"(metricResolution: 30s
start: "2026-02-01T00:00:00Z"
controller:
  horizontal-pod-autoscaler-sync-period: 10s
  horizontal-pod-autoscaler-tolerance: 0.2
workloads:
- target: {kind: Deployment, name: web}
  podTemplate: {cpuRequest: 200m}
  startupDelay: 20s
  readinessDelay: 10s
  idle: {cpu: 1m, memory: 20Mi}
  load:
  - {at: 0s, cpu: 0m}
  - {at: 1m, cpu: 1500m, rps: "300"}
steps:
- at: 0s
  faults:
    resourceMetrics: slow:2s
    externalMetrics: error:503
    apiserver:
    - {verb: patch, resource: deployments, subresource: scale, code: 409, count: 1}
- at: 90s
  restartController: true
  delete: [{kind: HorizontalPodAutoscaler, namespace: default, name: web}]
  expectWrites: [{verb: update, resource: horizontalpodautoscalers, subresource: status, max: 0}]
  expect:
  - apiVersion: apps/v1
    kind: Deployment
    metadata: {namespace: default, name: web}
    spec: {replicas: 2}
)";
  auto l = ParseScenarioYaml("t.yaml", text);
  INFO(Joined(l));
  REQUIRE(l.ok());
  const auto& s = *l.scenario;
  CHECK(s.name == "t");
  CHECK(s.metric_resolution == 30s);
  CHECK(s.SyncPeriod() == 10s);
  CHECK(s.controller_flags.at("horizontal-pod-autoscaler-tolerance") == "0.2");
  CHECK(s.objects.size() == 2);
  REQUIRE(s.workloads.size() == 1);
  const auto& w = s.workloads[0];
  CHECK(w.target.ns == "default");
  CHECK(w.target.api_version == "apps/v1");
  CHECK(*w.cpu_request == "200m");
  CHECK(w.startup_delay == 20s);
  CHECK(w.idle_milli.at("memory") == 20LL * 1024 * 1024 * 1000);
  REQUIRE(w.load.size() == 2);
  CHECK(w.load[1].at == 60s);
  CHECK(w.load[1].milli.at("cpu") == 1500);
  CHECK(w.load[1].milli.at("rps") == 300000);
  REQUIRE(s.steps.size() == 2);
  const auto& f = s.steps[0].faults;
  REQUIRE(f.resource_metrics);
  CHECK(f.resource_metrics->kind == hpad::sim::ApiFault::Kind::kSlow);
  CHECK(f.resource_metrics->delay == 2s);
  CHECK(f.external_metrics->code == 503);
  CHECK_FALSE(f.custom_metrics);
  REQUIRE(f.apiserver_rules.size() == 1);
  CHECK(f.apiserver_rules[0].subresource == "scale");
  CHECK(f.apiserver_rules[0].count == 1);
  CHECK(s.steps[1].restart_controller);
  CHECK(s.steps[1].del.size() == 1);
  CHECK(*s.steps[1].expect_writes[0].max == 0);
  CHECK(s.steps[1].expect.size() == 1);
}

TEST_CASE("scenario: kind List is unpacked", "[scenario]") {
  std::string text = R"(name: t
objects:
- apiVersion: v1
  kind: List
  items:
  - {apiVersion: v1, kind: Namespace, metadata: {name: apps}}
  - {apiVersion: v1, kind: Namespace, metadata: {name: web}}
steps: []
)";
  auto l = ParseScenarioYaml("t.yaml", text);
  INFO(Joined(l));
  REQUIRE(l.ok());
  CHECK(l.scenario->objects.size() == 2);
}

TEST_CASE("scenario: custom kinds are known once their CRD is among the objects", "[scenario]") {
  std::string crd = R"(name: t
objects:
- apiVersion: apiextensions.k8s.io/v1
  kind: CustomResourceDefinition
  metadata: {name: workers.example.com}
  spec:
    group: example.com
    names: {kind: Worker, plural: workers}
    scope: Namespaced
    versions:
    - name: v1
      served: true
      storage: true
      subresources:
        scale: {specReplicasPath: .spec.replicas, statusReplicasPath: .status.replicas}
- apiVersion: example.com/v1
  kind: Worker
  metadata: {namespace: default, name: w}
  spec: {replicas: 1}
steps: []
)";
  auto l = ParseScenarioYaml("t.yaml", crd);
  INFO(Joined(l));
  CHECK(l.ok());
  std::string without = R"(name: t
objects:
- apiVersion: example.com/v1
  kind: Worker
  metadata: {namespace: default, name: w}
steps: []
)";
  auto bad = ParseScenarioYaml("t.yaml", without);
  REQUIRE(bad.errors.size() == 1);
  CHECK(bad.errors[0].path == "objects[0].kind");
}

TEST_CASE("scenario: errors name file, path and problem", "[scenario]") {
  struct Case {
    const char* name;
    std::string text;
    const char* path;
    const char* problem_part;
  };
  const std::string h = kHeader;
  const Case cases[] = {
      {"unknown top-level key", h + "stpes: []\nsteps: []\n", "stpes", "unknown key"},
      {"missing steps", h, "steps", "missing"},
      {"bad name", "name: Bad_Name\nsteps: []\n", "name", "[a-z0-9-]+"},
      {"unknown kind", h + "- {apiVersion: v1, kind: Gizmo, metadata: {name: g}}\nsteps: []\n", "objects[2].kind",
       "unknown kind Gizmo"},
      {"malformed duration", h + "steps:\n- at: 10x\n", "steps[0].at", "malformed duration"},
      {"duration without unit", h + "steps:\n- at: 10\n", "steps[0].at", "without a unit"},
      {"malformed quantity",
       h + "steps:\n- at: 0s\n  apply:\n  - apiVersion: metrics.k8s.io/v1beta1\n    kind: PodMetrics\n"
           "    metadata: {namespace: default, name: p}\n    containers: [{name: c, usage: {cpu: lots}}]\n",
       "steps[0].apply[0].containers[0].usage.cpu", "malformed quantity"},
      {"bad fault", h + "steps:\n- at: 0s\n  faults: {resourceMetrics: broken}\n", "steps[0].faults.resourceMetrics",
       "unknown fault"},
      {"steps out of order", h + "steps:\n- at: 30s\n- at: 15s\n", "steps[1].at", "time order"},
      {"expectation without name",
       h + "steps:\n- at: 0s\n  expect:\n  - {apiVersion: apps/v1, kind: Deployment, status: {replicas: 1}}\n",
       "steps[0].expect[0].metadata.name", "missing"},
      {"expect status not a map",
       h + "steps:\n- at: 0s\n  expect:\n  - apiVersion: apps/v1\n    kind: Deployment\n"
           "    metadata: {name: web}\n    status: 3\n",
       "", ""},  // status: 3 is a legal (failing) expectation value; validated at run time
      {"workload target missing", h + "workloads:\n- target: {kind: Deployment, name: nope}\nsteps: []\n",
       "workloads[0].target", "not among the objects"},
      {"workload unknown key", h + "workloads:\n- target: {kind: Deployment, name: web}\n  replicas: 3\nsteps: []\n",
       "workloads[0].replicas", "unknown key"},
      {"hpa missing maxReplicas",
       "name: t\nobjects:\n- apiVersion: autoscaling/v2\n  kind: HorizontalPodAutoscaler\n"
       "  metadata: {name: h}\n  spec: {scaleTargetRef: {kind: Deployment, name: d}}\nsteps: []\n",
       "objects[0].spec.maxReplicas", "missing"},
      {"restartController not bool", h + "steps:\n- at: 0s\n  restartController: yes please\n",
       "steps[0].restartController", "true or false"},
      {"malformed yaml", "name: t\nsteps: [\n", "", "malformed YAML"},
  };
  for (const auto& c : cases) {
    INFO(c.name);
    auto l = ParseScenarioYaml("f.yaml", c.text);
    INFO(Joined(l));
    if (std::string(c.problem_part).empty()) {
      CHECK(l.ok());
      continue;
    }
    REQUIRE_FALSE(l.ok());
    CHECK_FALSE(l.scenario.has_value());
    bool found = false;
    for (const auto& e : l.errors) {
      CHECK(e.file == "f.yaml");
      if (e.path == c.path && e.problem.find(c.problem_part) != std::string::npos) found = true;
    }
    CHECK(found);
  }
}

TEST_CASE("scenario: error text has file, line and path", "[scenario]") {
  auto l = ParseScenarioYaml("f.yaml", "name: t\nsteps:\n- at: 0s\n- at: nonsense\n");
  REQUIRE(l.errors.size() == 1);
  CHECK(l.errors[0].ToString().rfind("f.yaml:4: steps[1].at: malformed duration", 0) == 0);
}

TEST_CASE("scenario: fuzz regression inputs load with an error instead of hanging", "[scenario][fuzz]") {
  // tests/fuzz/scenario_fuzz found this mutated php-apache example: a line
  // starting with `,` made yaml-cpp 0.7's LoadAll loop forever, allocating a
  // null document per turn (k8sclient/api/yaml_json.cc CheckDocumentsProgress).
  std::filesystem::path input =
      std::filesystem::path(HPAD_SOURCE_DIR) / "tests/fuzz/corpus/scenario_fuzz/hang-stray-flow-entry.yaml";
  REQUIRE(std::filesystem::exists(input));
  auto l = LoadScenarioFile(input.string());
  REQUIRE(l.errors.size() == 1);
  CHECK_FALSE(l.scenario.has_value());
  CHECK(l.errors[0].problem.rfind("malformed YAML: line 11:1: unexpected content ','", 0) == 0);
}

TEST_CASE("scenario: a very long name is checked without recursion", "[scenario]") {
  // The name check was a std::regex, whose libstdc++ matcher recurses once per
  // character: a 200,000-character name would overflow the stack.
  std::string body = std::string(kHeader).substr(std::string("kind: Scenario\nname: t\n").size()) + "steps: []\n";
  auto good = ParseScenarioYaml("f.yaml", "kind: Scenario\nname: " + std::string(200000, 'a') + "\n" + body);
  INFO(Joined(good));
  CHECK(good.ok());
  auto bad = ParseScenarioYaml("f.yaml", "kind: Scenario\nname: " + std::string(200000, 'a') + "_\n" + body);
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.errors[0].path == "name");
  CHECK(bad.errors[0].problem.rfind("must match [a-z0-9-]+", 0) == 0);
}

// Found by scenario_fuzz (corpus/scenario_fuzz/crash-crd-apiversion-not-a-string.yaml):
// the CRD scan read `apiVersion`/`kind` with nlohmann's value(), which throws
// when the field has another type; a mistyped field is now an error naming it.
TEST_CASE("scenario: mistyped apiVersion, kind and CRD fields are errors, never a throw", "[scenario]") {
  for (const char* object : {
           "- {apiVersion: 5, kind: Deployment, metadata: {namespace: default, name: x}}\n",
           "- {apiVersion: apiextensions.k8s.io/v1, kind: [CustomResourceDefinition], metadata: {name: x}}\n",
           "- {apiVersion: apiextensions.k8s.io/v1, kind: CustomResourceDefinition, metadata: {name: x},\n"
           "   spec: {group: 7, names: {kind: {a: 1}}, versions: [{name: 3}]}}\n",
           "- {apiVersion: v1, kind: List, items: [{apiVersion: [v1], kind: 9}]}\n",
       }) {
    const std::string text = std::string("name: t\nobjects:\n") + object + "steps: []\n";
    INFO(text);
    hpad::sim::LoadedScenario l;
    REQUIRE_NOTHROW(l = ParseScenarioYaml("t.yaml", text));
    INFO(Joined(l));
    CHECK_FALSE(l.ok());
  }
}
