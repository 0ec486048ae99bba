// ScenarioRunner end to end: a scenario runs in virtual time against the
// real controller over loopback HTTP; expectations, timeline and failures.
#include <catch2/catch.hpp>

#include <filesystem>
#include <set>

#include "sim/plot.h"
#include "sim/runner.h"
#include "sim/scenario.h"
#include "tests/sim/prerequisite.h"

using hpad::sim::ParseScenarioYaml;
using hpad::sim::ScenarioRunner;

namespace {

// Example 01 of the contract, with a wrong expectation in a second step.
const char* kScenario = R"(name: runner-test
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
    minReplicas: 1
    maxReplicas: 10
    metrics:
    - type: Resource
      resource: {name: cpu, target: {type: Utilization, averageUtilization: 50}}
workloads:
- target: {kind: Deployment, namespace: default, name: web}
  podTemplate: {cpuRequest: 100m}
  startupDelay: 10s
  readinessDelay: 5s
  load:
  - {at: 0s, cpu: 80m}
  - {at: 20s, cpu: 300m}
steps:
- at: 0s
  expect:
  - apiVersion: apps/v1
    kind: Deployment
    metadata: {namespace: default, name: web}
    spec: {replicas: 2}
- at: 30s
  expectWrites:
  - {verb: patch, resource: deployments, subresource: scale, max: 5}
  expect:
  - apiVersion: apps/v1
    kind: Deployment
    metadata: {namespace: default, name: web}
    spec: {replicas: 99}
  - apiVersion: v1
    kind: Pod
    metadata: {namespace: default, name: web-0}
    status: {phase: Running}
  expectAbsent:
  - apiVersion: v1
    kind: Pod
    metadata: {namespace: default, name: web-100}
)";

}  // namespace

TEST_CASE("runner: runs a workload scenario in virtual time and reports mismatches", "[runner]") {
  auto loaded = ParseScenarioYaml("runner.yaml", kScenario);
  REQUIRE(loaded.ok());
  auto result = ScenarioRunner(*loaded.scenario).Run();
  INFO(hpad::sim::FormatText(result, true));
  CHECK(result.error.empty());
  CHECK_FALSE(result.passed);
  CHECK(result.steps_checked == 2);
  CHECK(result.expectations_checked == 5);
  // Only the deliberately wrong expectation fails.
  REQUIRE(result.failures.size() == 1);
  CHECK(result.failures[0].ToString().rfind("step at=30s expect[0] spec.replicas: wanted 99, got ", 0) == 0);
  // One timeline row per tick (0, 15, 30) for the one HPA.
  REQUIRE(result.timeline.size() == 3);
  CHECK(result.timeline[0].hpa == "default/web");
  CHECK(result.timeline[0].metrics.at(0).target == "50%");
  CHECK(result.timeline[0].metrics.at(0).current == "40%");  // 80m / 2 pods over 100m
  // t=30: 300m over 2 ready pods = 150% -> scale up.
  CHECK(result.timeline[2].desired_replicas > 2);
  auto json = hpad::sim::ToJson(result);
  CHECK(json["result"] == "FAIL");
  CHECK(json["failures"].size() == 1);
  auto svg = hpad::sim::PlotSvg(result);
  CHECK(svg.rfind("<svg", 0) == 0);
  CHECK(svg.find("</svg>") != std::string::npos);
}

TEST_CASE("runner: the public conformance examples pass", "[runner][.shared]") {
  std::filesystem::path dir = std::filesystem::path(HPAD_SHARED_DIR) / "conformance" / "examples";
  hpad::sim::testing::SkipUnless(std::filesystem::exists(dir), "no shared checkout at " + dir.string());
  for (const char* name : {"01-cpu-scale-up.yaml", "03-memory-average-value.yaml", "05-external-metric-outage.yaml"}) {
    auto loaded = hpad::sim::LoadScenarioFile((dir / name).string());
    REQUIRE(loaded.ok());
    auto result = ScenarioRunner(*loaded.scenario).Run();
    INFO(hpad::sim::FormatText(result, true));
    CHECK(result.passed);
  }
}

TEST_CASE("runner: controller: takes the controller's flags and any other daemon flag", "[runner]") {
  // scenario-format.md: "`controller:` also takes `feature-gates: ...` and any
  // other flag of the daemon by its long name".
  auto load = [](const std::string& controller) {
    std::string text = "name: flags\ncontroller: " + controller + "\nsteps: []\n";
    auto l = ParseScenarioYaml("flags.yaml", text);
    REQUIRE(l.ok());
    return hpad::sim::SplitControllerFlags(*l.scenario);
  };
  auto ok = load(
      "{horizontal-pod-autoscaler-sync-period: 20s, concurrent-horizontal-pod-autoscaler-syncs: 3, "
      "feature-gates: 'HPAScaleToZero=true', kube-api-qps: 50, leader-elect: false, v: 4}");
  CHECK(ok.errors.empty());
  CHECK(ok.controller.count("horizontal-pod-autoscaler-sync-period") == 1);
  CHECK(ok.controller.count("feature-gates") == 1);
  CHECK(ok.daemon.count("kube-api-qps") == 1);
  CHECK(ok.daemon.count("v") == 1);
  CHECK(ok.controller.count("v") == 0);

  auto bad = load("{kube-api-qps: fast, horizontal-pod-autoscaler-tolerance: lots, no-such-flag: 1}");
  REQUIRE(bad.errors.size() == 3);
  std::set<std::string> paths;
  for (const auto& e : bad.errors) paths.insert(e.path);
  CHECK(paths == std::set<std::string>{"controller.kube-api-qps", "controller.horizontal-pod-autoscaler-tolerance",
                                       "controller.no-such-flag"});
}
