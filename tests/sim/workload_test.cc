// Workload arithmetic (scenario-format.md "The arithmetic, exactly"): pod
// lifecycle, names, deletion order, load schedule, metric samples.
#include <catch2/catch.hpp>

#include "k8sclient/api/time_format.h"
#include "sim/workload.h"

using hpad::Time;
using hpad::sim::LoadEntry;
using hpad::sim::PodSample;
using hpad::sim::WorkloadModel;
using hpad::sim::WorkloadSpec;
using namespace std::chrono_literals;

namespace {

const Time kStart = hpad::sim::DefaultScenarioStart();

WorkloadSpec Spec06() {
  // conformance example 06: 100m request, startup 15s, readiness 10s, idle 2m/16Mi.
  WorkloadSpec s;
  s.target = {"apps/v1", "Deployment", "default", "api"};
  s.has_pod_template = true;
  s.cpu_request = "100m";
  s.startup_delay = 15s;
  s.readiness_delay = 10s;
  s.idle_milli = {{"cpu", 2}, {"memory", 16LL * 1024 * 1024 * 1000}};
  s.load = {LoadEntry{0s, {{"cpu", 150}}}, LoadEntry{30s, {{"cpu", 560}}}, LoadEntry{400s, {{"cpu", 100}}}};
  return s;
}

const PodSample* Find(const std::vector<PodSample>& samples, const std::string& pod) {
  for (const auto& s : samples)
    if (s.pod == pod) return &s;
  return nullptr;
}

}  // namespace

TEST_CASE("workload: initial pods were created an hour ago and are Ready", "[workload]") {
  WorkloadModel m(Spec06(), kStart);
  auto pods = m.CreateInitialPods(3);
  REQUIRE(pods.size() == 3);
  CHECK(pods[0].name == "api-0");
  CHECK(pods[2].name == "api-2");
  for (const auto& p : pods) {
    CHECK(p.created == kStart - 1h);
    CHECK(p.ReadyAt(kStart));
    CHECK(p.ready_at == kStart - 1h + 25s);
  }
  CHECK(m.ReadyCount(kStart) == 3);
}

TEST_CASE("workload: initial pods are Ready at t=0 even with delays over an hour", "[workload]") {
  WorkloadSpec s = Spec06();
  s.startup_delay = 2h;
  WorkloadModel m(s, kStart);
  auto pods = m.CreateInitialPods(1);
  CHECK(pods[0].ReadyAt(kStart));
  CHECK(std::string(pods[0].PhaseAt(kStart)) == "Running");
}

TEST_CASE("workload: scale up creates pods with startup and readiness delays", "[workload]") {
  WorkloadModel m(Spec06(), kStart);
  m.CreateInitialPods(3);
  Time t30 = kStart + 30s;
  auto change = m.ScaleTo(6, t30);
  REQUIRE(change.created.size() == 3);
  CHECK(change.deleted.empty());
  CHECK(change.created[0].name == "api-3");
  CHECK(change.created[2].name == "api-5");
  const auto& p = change.created[0];
  CHECK(p.created == t30);
  CHECK(std::string(p.PhaseAt(t30)) == "Pending");
  CHECK(std::string(p.PhaseAt(kStart + 44s)) == "Pending");
  CHECK(std::string(p.PhaseAt(kStart + 45s)) == "Running");
  CHECK_FALSE(p.ReadyAt(kStart + 54s));
  CHECK(p.ReadyAt(kStart + 55s));
  CHECK(p.ready_at == kStart + 55s);
  // Transition instants, for the runner's event loop.
  CHECK(m.NextTransitionAfter(t30) == kStart + 45s);
  CHECK(m.NextTransitionAfter(kStart + 45s) == kStart + 55s);
  CHECK_FALSE(m.NextTransitionAfter(kStart + 55s).has_value());
  CHECK(m.TransitionsAt(kStart + 45s).size() == 3);
  CHECK(m.TransitionsAt(kStart + 50s).empty());
}

TEST_CASE("workload: scale down deletes newest first and names are never reused", "[workload]") {
  WorkloadModel m(Spec06(), kStart);
  m.CreateInitialPods(3);
  m.ScaleTo(5, kStart + 15s);  // api-3, api-4
  auto down = m.ScaleTo(2, kStart + 30s);
  REQUIRE(down.deleted.size() == 3);
  CHECK(down.deleted[0] == "api-4");
  CHECK(down.deleted[1] == "api-3");
  CHECK(down.deleted[2] == "api-2");
  auto up = m.ScaleTo(3, kStart + 45s);
  REQUIRE(up.created.size() == 1);
  CHECK(up.created[0].name == "api-5");
  CHECK(m.ScaleTo(3, kStart + 60s).Empty());
  CHECK(m.ScaleTo(0, kStart + 75s).deleted.size() == 3);
  CHECK(m.pods().empty());
}

TEST_CASE("workload: load entries hold until the next and keys keep previous values", "[workload]") {
  WorkloadSpec s = Spec06();
  s.load = {LoadEntry{0s, {{"cpu", 0}}}, LoadEntry{60s, {{"cpu", 1500}}},
            LoadEntry{600s, {{"cpu", 0}, {"memory", 256LL * 1024 * 1024 * 1000}}},
            LoadEntry{720s, {{"http_requests", 300000}}}};
  WorkloadModel m(s, kStart);
  struct Case {
    std::chrono::seconds at;
    int64_t cpu, memory, http;
  };
  const Case cases[] = {
      {0s, 0, 0, 0},
      {59s, 0, 0, 0},
      {60s, 1500, 0, 0},
      {599s, 1500, 0, 0},
      {600s, 0, 256LL * 1024 * 1024 * 1000, 0},
      {720s, 0, 256LL * 1024 * 1024 * 1000, 300000},  // memory kept from the earlier entry
      {9999s, 0, 256LL * 1024 * 1024 * 1000, 300000},
  };
  for (const auto& c : cases) {
    INFO("t=" << c.at.count() << "s");
    auto load = m.LoadAt(kStart + c.at);
    CHECK(load["cpu"] == c.cpu);
    CHECK(load["memory"] == c.memory);
    CHECK(load["http_requests"] == c.http);
  }
  CHECK(m.CustomMetricNames() == std::set<std::string>{"http_requests"});
}

TEST_CASE("workload: samples of conformance example 06", "[workload]") {
  WorkloadModel m(Spec06(), kStart);
  m.CreateInitialPods(3);
  struct Case {
    const char* name;
    std::chrono::seconds at;
    int64_t cpu_ready;
  };
  // t=0: 150/3 = 50 + 2 = 52m; t=30: 560/3 = 186.67 -> 187 + 2 = 189m.
  const Case cases[] = {{"t=0", 0s, 52}, {"t=15", 15s, 52}, {"t=30", 30s, 189}};
  for (const auto& c : cases) {
    INFO(c.name);
    auto samples = m.Sample(kStart + c.at);
    REQUIRE(samples.size() == 3);
    for (const auto& s : samples) {
      CHECK(s.cpu_milli == c.cpu_ready);
      CHECK(s.memory_bytes == 16 * 1024 * 1024);
      CHECK(s.ready);
    }
  }
  // The controller scales to 6 at t=30 (after that instant's sample).
  m.ScaleTo(6, kStart + 30s);
  // t=45: new pods Running, not Ready: idle only; the 3 ready share 560.
  auto s45 = m.Sample(kStart + 45s);
  REQUIRE(s45.size() == 6);
  CHECK(Find(s45, "api-0")->cpu_milli == 189);
  CHECK(Find(s45, "api-3")->cpu_milli == 2);
  CHECK_FALSE(Find(s45, "api-3")->ready);
  // t=40: the new pods are Pending: no sample at all.
  CHECK(m.Sample(kStart + 40s).size() == 3);
  // t=60: all 6 ready: 560/6 = 93.33 -> 94 + 2 = 96m... rounded once over the sum.
  auto s60 = m.Sample(kStart + 60s);
  REQUIRE(s60.size() == 6);
  for (const auto& s : s60) CHECK(s.cpu_milli == 96);
  // 8 pods at t=90: 560/8 = 70 + 2 = 72m (the 300s expectation of example 06).
  m.ScaleTo(8, kStart + 45s);
  for (const auto& s : m.Sample(kStart + 90s)) CHECK(s.cpu_milli == 72);
  // t=405: 100/8 = 12.5 -> 13 + 2 = 15m.
  for (const auto& s : m.Sample(kStart + 405s)) CHECK(s.cpu_milli == 15);
}

TEST_CASE("workload: memory rounds up to whole bytes and pods metrics only for ready pods", "[workload]") {
  WorkloadSpec s = Spec06();
  s.idle_milli = {{"cpu", 0}, {"memory", 0}};
  s.load = {LoadEntry{0s, {{"memory", 1000LL * 1000}, {"rps", 100000}}}};  // 1000 bytes, 100 rps
  WorkloadModel m(s, kStart);
  m.CreateInitialPods(3);
  m.ScaleTo(4, kStart);  // one pod not yet running
  auto samples = m.Sample(kStart + 20s);  // new pod Running (15s), not Ready (25s)
  REQUIRE(samples.size() == 4);
  // 1000 / 3 = 333.33 -> 334 bytes; 100 / 3 = 33.333 -> 33334m.
  CHECK(Find(samples, "api-0")->memory_bytes == 334);
  CHECK(Find(samples, "api-0")->custom_milli.at("rps") == 33334);
  CHECK(Find(samples, "api-3")->memory_bytes == 0);
  CHECK(Find(samples, "api-3")->custom_milli.empty());
}

TEST_CASE("workload: no ready pods means idle usage only", "[workload]") {
  WorkloadModel m(Spec06(), kStart);
  m.ScaleTo(2, kStart);
  CHECK(m.Sample(kStart).empty());  // Pending
  auto s = m.Sample(kStart + 15s);
  REQUIRE(s.size() == 2);
  CHECK(s[0].cpu_milli == 2);
  CHECK_FALSE(s[0].ready);
}

TEST_CASE("workload: pod JSON carries phase, Ready condition and selector labels", "[workload]") {
  WorkloadModel m(Spec06(), kStart);
  auto created = m.ScaleTo(1, kStart + 30s).created;
  nlohmann::json target = {{"apiVersion", "apps/v1"},
                           {"kind", "Deployment"},
                           {"metadata", {{"namespace", "default"}, {"name", "api"}}},
                           {"spec", {{"replicas", 1}, {"selector", {{"matchLabels", {{"app", "api"}}}}}}}};
  using hpad::sim::WorkloadSimulator;
  auto pending = WorkloadSimulator::PodJson(m, created[0], target, kStart + 30s);
  CHECK(pending["metadata"]["name"] == "api-0");
  CHECK(pending["metadata"]["labels"] == nlohmann::json{{"app", "api"}});
  CHECK(pending["metadata"]["creationTimestamp"] == "2026-01-01T00:00:30Z");
  CHECK(pending["status"]["phase"] == "Pending");
  CHECK(pending["status"]["startTime"] == "2026-01-01T00:00:30Z");
  CHECK(pending["spec"]["containers"][0]["name"] == "api");
  CHECK(pending["spec"]["containers"][0]["resources"]["requests"]["cpu"] == "100m");

  auto running = WorkloadSimulator::PodJson(m, created[0], target, kStart + 45s);
  CHECK(running["status"]["phase"] == "Running");
  bool saw_ready = false;
  for (const auto& c : running["status"]["conditions"]) {
    if (c["type"] != "Ready") continue;
    saw_ready = true;
    CHECK(c["status"] == "False");
  }
  CHECK(saw_ready);
  auto ready = WorkloadSimulator::PodJson(m, created[0], target, kStart + 55s);
  for (const auto& c : ready["status"]["conditions"]) {
    if (c["type"] != "Ready") continue;
    CHECK(c["status"] == "True");
    CHECK(c["lastTransitionTime"] == "2026-01-01T00:00:55Z");
  }
}

TEST_CASE("workload: without podTemplate the target's template containers are used", "[workload]") {
  WorkloadSpec s = Spec06();
  s.has_pod_template = false;
  s.cpu_request.reset();
  WorkloadModel m(s, kStart);
  auto created = m.ScaleTo(1, kStart).created;
  nlohmann::json target = nlohmann::json::parse(R"({
    "metadata": {"namespace": "default", "name": "api"},
    "spec": {"selector": {"matchLabels": {"app": "api"}},
             "template": {"spec": {"containers": [
               {"name": "a", "resources": {"requests": {"cpu": "300m"}}},
               {"name": "b", "resources": {"requests": {"cpu": "200m"}}}]}}}})");
  auto pod = hpad::sim::WorkloadSimulator::PodJson(m, created[0], target, kStart + 30s);
  REQUIRE(pod["spec"]["containers"].size() == 2);
  CHECK(pod["spec"]["containers"][1]["resources"]["requests"]["cpu"] == "200m");
  PodSample sample{"api-0", 250, 1024, {}, true};
  auto pm = hpad::sim::WorkloadSimulator::PodMetricsJson(m, created[0], sample, target, kStart + 30s, 15s);
  REQUIRE(pm["containers"].size() == 2);
  CHECK(pm["containers"][0]["usage"]["cpu"] == "250m");
  CHECK(pm["containers"][0]["usage"]["memory"] == "1Ki");
  CHECK(pm["containers"][1]["usage"]["cpu"] == "0");
  CHECK(pm["timestamp"] == "2026-01-01T00:00:30Z");
  CHECK(pm["window"] == "15s");
}

TEST_CASE("workload: a custom resource is read through its CRD scale paths", "[workload]") {
  hpad::sim::ResourceInfo info;
  info.spec_replicas_path = ".spec.workers";
  info.status_replicas_path = ".status.running";
  info.label_selector_path = ".status.selector";
  auto obj = nlohmann::json::parse(R"({"metadata": {"namespace": "default", "name": "pool"},
    "spec": {"workers": 3}, "status": {"selector": "app=worker,tier in (batch),env!=dev"}})");
  auto view = hpad::sim::ScaleView(info, obj);
  CHECK(view["spec"]["replicas"] == 3);
  auto labels = hpad::sim::TargetPodLabels(view);
  CHECK(labels == std::map<std::string, std::string>{{"app", "worker"}, {"tier", "batch"}});
  // No value at specReplicasPath reads as 0 (the Scale's spec.replicas).
  obj["spec"].erase("workers");
  CHECK(hpad::sim::ScaleView(info, obj)["spec"]["replicas"] == 0);
}
