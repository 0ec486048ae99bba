// The real `hpad` binary against `hpad-sim serve` (issue 6 "Proof"): it
// rescales and writes status, /readyz flips after the caches sync, /metrics
// counts reconciliations, SIGTERM exits 0; with leader election exactly one
// of two processes reconciles, kill -9 of the leader hands over within the
// lease duration and SIGTERM of the leader hands over at once (the lease is
// released). Bad flags and a broken kubeconfig exit non-zero with a message.
//
// These tests run processes in real time, so they poll with deadlines
// (never a fixed sleep as the thing under test); everything is on loopback.
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <httplib.h>
#include <regex>
#include <sstream>
#include <thread>

#include "k8sclient/httplib_transport.h"
#include "k8sclient/kubeconfig.h"
#include "k8sclient/rest_api_client.h"
#include "tests/integration/process_harness.h"
#include "tests/sim/prerequisite.h"

namespace hpad {
namespace {

using namespace std::chrono_literals;
using SteadyClock = std::chrono::steady_clock;
using testing::Eventually;
using testing::FreePort;
using testing::Process;
using testing::ReadFile;
using testing::TempDir;
namespace fs = std::filesystem;

const std::string kHpad = std::string(HPAD_BINARY_DIR) + "/controller/hpad";
const std::string kSim = std::string(HPAD_BINARY_DIR) + "/sim/hpad-sim";
const std::string kScenario = std::string(HPAD_SHARED_DIR) + "/conformance/examples/01-cpu-scale-up.yaml";

// A hpad process and its health/metrics port (read from its log).
struct Hpad {
  std::unique_ptr<Process> proc;
  int port = 0;

  Hpad(const std::string& name, const fs::path& dir, std::vector<std::string> extra) {
    std::vector<std::string> argv = {kHpad, "--bind-address=127.0.0.1", "--port=0"};
    if (std::none_of(extra.begin(), extra.end(), [](const std::string& a) {
          return a.rfind("--horizontal-pod-autoscaler-sync-period", 0) == 0;
        }))
      argv.push_back("--horizontal-pod-autoscaler-sync-period=1s");
    if (std::find(extra.begin(), extra.end(), "-v") == extra.end()) {
      argv.push_back("-v");
      argv.push_back("2");
    }
    argv.insert(argv.end(), extra.begin(), extra.end());
    proc = std::make_unique<Process>(name, argv, dir);
    std::string p = proc->WaitForLog(R"(/metrics on http://127\.0\.0\.1:(\d+))");
    INFO(proc->Log());
    REQUIRE(!p.empty());
    port = std::stoi(p);
  }
  // -1 when the port does not answer.
  int Status(const std::string& path) const {
    httplib::Client c("127.0.0.1", port);
    c.set_connection_timeout(1, 0);
    auto r = c.Get(path.c_str());
    return r ? r->status : -1;
  }
  std::string Metrics() const {
    httplib::Client c("127.0.0.1", port);
    auto r = c.Get("/metrics");
    return r && r->status == 200 ? r->body : "";
  }
  // Sum of all series of `name` (e.g. every label set of a counter); 0 if absent.
  double Metric(const std::string& name) const {
    std::istringstream in(Metrics());
    std::string line;
    double sum = 0;
    while (std::getline(in, line)) {
      if (line.rfind(name, 0) != 0) continue;
      char next = line.size() > name.size() ? line[name.size()] : '\0';
      if (next != '{' && next != ' ') continue;
      sum += std::stod(line.substr(line.rfind(' ') + 1));
    }
    return sum;
  }
  double Reconciles() const { return Metric("horizontal_pod_autoscaler_controller_reconciliations_total"); }
  bool Leader() const { return Metric("leader_election_master_status") == 1; }
};

// A REST client for checking what the simulated cluster holds.
std::shared_ptr<k8s::RestApiClient> ClientFor(const std::string& kubeconfig) {
  k8s::KubeconfigOptions ko;
  ko.paths = {kubeconfig};
  ko.missing_files_are_errors = true;
  auto cfg = k8s::LoadKubeconfig(ko, RealClock::Instance());
  REQUIRE(cfg.ok());
  auto t = k8s::NewHttpTransport(cfg->transport);
  REQUIRE(t.ok());
  return std::make_shared<k8s::RestApiClient>(std::move(t).value(), RealClock::Instance());
}

int64_t DeploymentReplicas(k8s::ApiClient& api) {
  auto d = api.Get({k8s::resources::kDeployments, "default", "frontend", ""});
  return d.ok() ? d->value("/spec/replicas"_json_pointer, int64_t{-1}) : -1;
}

int64_t HpaStatusDesired(k8s::ApiClient& api) {
  auto h = api.Get({k8s::resources::kHpaV2, "default", "frontend", ""});
  return h.ok() ? h->value("/status/desiredReplicas"_json_pointer, int64_t{-1}) : -1;
}

bool BinariesBuilt() { return fs::exists(kHpad) && fs::exists(kSim) && fs::exists(kScenario); }

TEST_CASE("daemon: bad flags and a broken kubeconfig exit non-zero naming the problem", "[daemon][process]") {
  REQUIRE(BinariesBuilt());
  auto dir = TempDir("badflags");
  {
    Process p("flag", {kHpad, "--horizontal-pod-autoscaler-sync-period=soon"}, dir);
    CHECK(p.WaitExit(10s) == 2);
    CHECK(p.Log().find("--horizontal-pod-autoscaler-sync-period") != std::string::npos);
  }
  {
    std::ofstream(dir / "broken.kubeconfig") << "apiVersion: v1\nkind: Config\nclusters: [\n";
    Process p("kubeconfig", {kHpad, "--kubeconfig=" + (dir / "broken.kubeconfig").string()}, dir);
    CHECK(p.WaitExit(10s) == 1);
    INFO(p.Log());
    CHECK(p.Log().find("broken.kubeconfig") != std::string::npos);
  }
  {
    Process p("missing", {kHpad, "--kubeconfig=" + (dir / "nope").string()}, dir);
    CHECK(p.WaitExit(10s) == 1);
    CHECK(p.Log().find("nope") != std::string::npos);
  }
  {
    Process p("version", {kHpad, "--version"}, dir);
    CHECK(p.WaitExit(10s) == 0);
    CHECK(p.Log().find("hpad ") != std::string::npos);
  }
  fs::remove_all(dir);
}

TEST_CASE("daemon: rescales, writes status, readiness follows sync, metrics count, SIGTERM exits 0",
          "[daemon][process]") {
  REQUIRE(BinariesBuilt());
  auto dir = TempDir("single");
  // hpad starts before the API server exists: not ready, but alive.
  int api_port = FreePort();
  const auto kc = dir / "plain.kubeconfig";
  std::ofstream(kc) << "apiVersion: v1\nkind: Config\ncurrent-context: sim\n"
                    << "clusters:\n- name: sim\n  cluster:\n    server: http://127.0.0.1:" << api_port << "\n"
                    << "contexts:\n- name: sim\n  context:\n    cluster: sim\n    user: none\n"
                    << "users:\n- name: none\n  user: {}\n";
  Hpad hpad("hpad", dir, {"--kubeconfig=" + kc.string(), "--leader-elect=false"});
  INFO(hpad.proc->Log());
  CHECK(hpad.Status("/healthz") == 200);
  CHECK(hpad.Status("/livez") == 200);
  CHECK(hpad.Status("/readyz") == 503);

  Process sim("sim", {kSim, "serve", kScenario, "--port", std::to_string(api_port), "--no-tls"}, dir);
  REQUIRE(!sim.WaitForLog("(serving scenario)").empty());
  CHECK(Eventually([&] { return hpad.Status("/readyz") == 200; }, 20s));

  // Scale 2 -> 3 (the scenario's expectation) and the status written.
  auto api = ClientFor(kc.string());
  CHECK(Eventually([&] { return DeploymentReplicas(*api) == 3; }, 15s));
  CHECK(Eventually([&] { return HpaStatusDesired(*api) == 3; }, 15s));
  // Logged by the reconcile's observer after its writes: poll for it.
  CHECK(!hpad.proc->WaitForLog("(Successful rescale of HPA default/frontend: 2 -> 3 replicas)", 5s).empty());

  // The reconciliation counter keeps rising with the 1 s sync period.
  double first = 0;
  CHECK(Eventually([&] { return (first = hpad.Reconciles()) >= 1; }, 10s));
  CHECK(Eventually([&] { return hpad.Reconciles() >= first + 2; }, 10s));
  std::string m = hpad.Metrics();
  CHECK(m.find("horizontal_pod_autoscaler_controller_desired_replicas{hpa_name=\"frontend\",namespace=\"default\"} 3") !=
        std::string::npos);
  CHECK(m.find("rest_client_requests_total{code=\"200\"") != std::string::npos);
  CHECK(m.find("workqueue_adds_total{name=\"horizontalpodautoscaler\"}") != std::string::npos);

  auto t0 = SteadyClock::now();
  hpad.proc->Signal(SIGTERM);
  CHECK(hpad.proc->WaitExit(10s) == 0);
  CHECK(SteadyClock::now() - t0 < 5s);
  CHECK(hpad.proc->Log().find("shutdown complete") != std::string::npos);
  sim.Signal(SIGTERM);
  sim.WaitExit(10s);
  fs::remove_all(dir);
}

TEST_CASE("daemon: leader election - one writer, kill -9 and SIGTERM hand-overs", "[daemon][process][leader]") {
  REQUIRE(BinariesBuilt());
  auto dir = TempDir("leader");
  const auto kc = dir / "sim.kubeconfig";
  Process sim("sim", {kSim, "serve", kScenario, "--port", "0", "--kubeconfig-out", kc.string()}, dir);
  REQUIRE(!sim.WaitForLog("(serving scenario)").empty());
  REQUIRE(Eventually([&] { return fs::exists(kc); }, 5s));
  auto api = ClientFor(kc.string());

  // Lease 6s: long enough to tell "released" (about one retry period) from
  // "expired" (the lease duration) apart.
  const std::vector<std::string> le = {"--kubeconfig=" + kc.string(),      "--leader-elect=true",
                                       "--leader-elect-lease-duration=6s", "--leader-elect-renew-deadline=4s",
                                       "--leader-elect-retry-period=500ms", "--leader-elect-resource-namespace=default"};
  auto a = std::make_unique<Hpad>("a", dir, le);
  // Let a take the lease first so the roles are known.
  REQUIRE(Eventually([&] { return a->Leader(); }, 10s));
  auto b = std::make_unique<Hpad>("b", dir, le);
  INFO("a: " << a->proc->Log() << "\nb: " << b->proc->Log());

  // Both ready (b is a warm, idle standby); only a reconciles and writes.
  CHECK(Eventually([&] { return a->Status("/readyz") == 200 && b->Status("/readyz") == 200; }, 15s));
  CHECK(Eventually([&] { return DeploymentReplicas(*api) == 3; }, 15s));
  CHECK(Eventually([&] { return a->Reconciles() >= 3; }, 10s));
  CHECK_FALSE(b->Leader());
  CHECK(b->Reconciles() == 0);
  auto lease = api->Get({k8s::resources::kLeases, "default", "hpad", ""});
  REQUIRE(lease.ok());
  std::string holder = lease->value("/spec/holderIdentity"_json_pointer, std::string());
  CHECK(a->proc->Log().find("as " + holder) != std::string::npos);

  // kill -9 the leader: b takes over once the lease expires (6 s) and reconciles.
  auto t0 = SteadyClock::now();
  a->proc->Signal(SIGKILL);
  CHECK(a->proc->WaitExit(5s) == 128 + SIGKILL);
  CHECK(Eventually([&] { return b->Leader() && b->Reconciles() >= 1; }, 12s));
  auto takeover = SteadyClock::now() - t0;
  // client-go expiry counts from when the standby *saw* the last renewal, and
  // it polls every retry period x (1 + [0, 1.2)): lease + ~2.2 s, plus slack
  // for a loaded machine; a missed hand-over would take a whole extra lease.
  CHECK(takeover < 6s + 4s);
  a.reset();

  // A new standby c; SIGTERM the leader b: it releases the lease, exits 0,
  // and c leads well before the 6 s lease would have expired.
  auto c = std::make_unique<Hpad>("c", dir, le);
  CHECK(Eventually([&] { return c->Status("/readyz") == 200; }, 15s));
  CHECK_FALSE(c->Leader());
  double b_reconciles = b->Reconciles();
  t0 = SteadyClock::now();
  b->proc->Signal(SIGTERM);
  CHECK(b->proc->WaitExit(10s) == 0);
  CHECK(Eventually([&] { return c->Leader() && c->Reconciles() >= 1; }, 10s));
  auto handover = SteadyClock::now() - t0;
  CHECK(handover < 4s);
  CHECK(b_reconciles >= 1);
  CHECK(b->proc->Log().find("released lease default/hpad") != std::string::npos);

  c->proc->Signal(SIGTERM);
  CHECK(c->proc->WaitExit(10s) == 0);
  sim.Signal(SIGTERM);
  sim.WaitExit(10s);
  fs::remove_all(dir);
}

}  // namespace
}  // namespace hpad

namespace hpad {
namespace {

TEST_CASE("daemon: a leader that loses its lease stops and exits non-zero", "[daemon][process][leader]") {
  REQUIRE(BinariesBuilt());
  auto dir = TempDir("lost");
  const auto kc = dir / "sim.kubeconfig";
  Process sim("sim", {kSim, "serve", kScenario, "--port", "0", "--kubeconfig-out", kc.string()}, dir);
  REQUIRE(!sim.WaitForLog("(serving scenario)").empty());
  REQUIRE(Eventually([&] { return fs::exists(kc); }, 5s));
  const std::vector<std::string> le = {"--kubeconfig=" + kc.string(),      "--leader-elect=true",
                                       "--leader-elect-lease-duration=3s", "--leader-elect-renew-deadline=2s",
                                       "--leader-elect-retry-period=500ms", "--leader-elect-resource-namespace=default"};
  Hpad a("a", dir, le);
  REQUIRE(Eventually([&] { return a.Leader(); }, 10s));
  Hpad b("b", dir, le);
  INFO("a: " << a.proc->Log() << "\nb: " << b.proc->Log());
  CHECK(Eventually([&] { return b.Status("/readyz") == 200; }, 15s));

  // Freeze the leader past its lease: b takes over; when a thaws it finds
  // the lease gone, stops its workers and exits 1 for a clean restart.
  a.proc->Signal(SIGSTOP);
  CHECK(Eventually([&] { return b.Leader(); }, 10s));
  a.proc->Signal(SIGCONT);
  CHECK(a.proc->WaitExit(10s) == 1);
  CHECK(a.proc->Log().find("leaderelection lost") != std::string::npos);
  CHECK(b.Leader());

  b.proc->Signal(SIGTERM);
  CHECK(b.proc->WaitExit(10s) == 0);
  sim.Signal(SIGTERM);
  sim.WaitExit(10s);
  fs::remove_all(dir);
}

}  // namespace
}  // namespace hpad

namespace hpad {
namespace {

TEST_CASE("daemon: SIGTERM before the API server ever answered still exits 0 promptly", "[daemon][process]") {
  REQUIRE(BinariesBuilt());
  auto dir = TempDir("nosync");
  const auto kc = dir / "dead.kubeconfig";
  std::ofstream(kc) << "apiVersion: v1\nkind: Config\ncurrent-context: x\n"
                    << "clusters:\n- name: x\n  cluster:\n    server: http://127.0.0.1:" << FreePort() << "\n"
                    << "contexts:\n- name: x\n  context:\n    cluster: x\n    user: u\n"
                    << "users:\n- name: u\n  user: {}\n";
  Hpad h("hpad", dir, {"--kubeconfig=" + kc.string(), "--leader-elect=false"});
  INFO(h.proc->Log());
  CHECK(h.Status("/livez") == 200);
  CHECK(h.Status("/readyz") == 503);
  auto t0 = SteadyClock::now();
  h.proc->Signal(SIGTERM);
  CHECK(h.proc->WaitExit(10s) == 0);
  CHECK(SteadyClock::now() - t0 < 4s);
  fs::remove_all(dir);
}

}  // namespace
}  // namespace hpad

// Issue 13: pause seen by kubectl, and the policy budget kept across a
// kill -9 of the leader (--persist-history).
namespace hpad {
namespace {

const std::string kPauseScenario = std::string(HPAD_SOURCE_DIR) + "/tests/scenarios/72-pause-and-resume.yaml";
const std::string kBudgetScenario =
    std::string(HPAD_SOURCE_DIR) + "/tests/scenarios/75-persisted-history-keeps-policy-budget.yaml";

int64_t WebReplicas(k8s::ApiClient& api) {
  auto d = api.Get({k8s::resources::kDeployments, "default", "web", ""});
  return d.ok() ? d->value("/spec/replicas"_json_pointer, int64_t{-1}) : -1;
}

// stdout+stderr of a command (no shell metacharacters in the arguments).
std::string Run(const std::string& command) {
  std::string out;
  FILE* f = popen((command + " 2>&1").c_str(), "r");
  if (f == nullptr) return out;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, f)) > 0) out.append(buf, n);
  pclose(f);
  return out;
}

TEST_CASE("daemon: pause and resume seen by kubectl describe hpa", "[daemon][process][pause]") {
  REQUIRE(BinariesBuilt());
  hpad::sim::testing::SkipUnless(fs::exists("/usr/bin/kubectl"), "kubectl (/usr/bin/kubectl)");
  auto dir = TempDir("pause");
  const auto kc = dir / "sim.kubeconfig";
  Process sim("sim", {kSim, "serve", kPauseScenario, "--port", "0", "--kubeconfig-out", kc.string()}, dir);
  REQUIRE(!sim.WaitForLog("(serving scenario)").empty());
  REQUIRE(Eventually([&] { return fs::exists(kc); }, 5s));
  auto api = ClientFor(kc.string());
  Hpad hpad("hpad", dir, {"--kubeconfig=" + kc.string(), "--leader-elect=false"});
  INFO(hpad.proc->Log());
  const std::string kubectl = "/usr/bin/kubectl --kubeconfig=" + kc.string() + " -n default ";

  std::string describe;
  CHECK(Eventually(
      [&] {
        describe = Run(kubectl + "describe hpa web");
        return describe.find("ScalingPaused") != std::string::npos;
      },
      15s));
  INFO(describe);
  CHECK(describe.find("autoscaling is paused by the hpad.io/paused annotation") != std::string::npos);
  // Paused: reconciles go on, nothing scales (the metric asks for 6).
  double r0 = hpad.Reconciles();
  CHECK(Eventually([&] { return hpad.Reconciles() >= r0 + 3; }, 10s));
  CHECK(WebReplicas(*api) == 2);

  // Resume: removing the annotation reconciles at once and scales.
  std::string annotate = Run(kubectl + "annotate hpa web hpad.io/paused-");
  INFO(annotate);
  CHECK(Eventually([&] { return WebReplicas(*api) == 4; }, 10s));
  CHECK(Eventually(
      [&] {
        describe = Run(kubectl + "describe hpa web");
        return describe.find("ScalingResumed") != std::string::npos &&
               describe.find("ValidMetricFound") != std::string::npos;
      },
      10s));
  hpad.proc->Signal(SIGTERM);
  CHECK(hpad.proc->WaitExit(10s) == 0);
  sim.Signal(SIGTERM);
  sim.WaitExit(10s);
  fs::remove_all(dir);
}

TEST_CASE("daemon: a leader kill -9 mid rate-limited scale-up keeps the policy budget", "[daemon][process][leader]") {
  REQUIRE(BinariesBuilt());
  auto dir = TempDir("budget");
  const auto kc = dir / "sim.kubeconfig";
  Process sim("sim", {kSim, "serve", kBudgetScenario, "--port", "0", "--kubeconfig-out", kc.string()}, dir);
  REQUIRE(!sim.WaitForLog("(serving scenario)").empty());
  REQUIRE(Eventually([&] { return fs::exists(kc); }, 5s));
  auto api = ClientFor(kc.string());
  std::vector<std::string> le = {"--kubeconfig=" + kc.string(),      "--leader-elect=true",
                                 "--leader-elect-lease-duration=6s", "--leader-elect-renew-deadline=4s",
                                 "--leader-elect-retry-period=500ms", "--leader-elect-resource-namespace=default"};
  // Policy Pods 2 per 60s; the metric asks for 10: a scales 2 -> 4, then the
  // budget of the minute is spent.
  auto a = std::make_unique<Hpad>("a", dir, le);
  REQUIRE(Eventually([&] { return a->Leader(); }, 10s));
  auto b = std::make_unique<Hpad>("b", dir, le);
  INFO("a: " << a->proc->Log() << "\nb: " << b->proc->Log());
  CHECK(Eventually([&] { return WebReplicas(*api) == 4; }, 15s));
  // The scale event reaches its shard (FNV-1a("default/web") mod 64 = 37) about a second later.
  CHECK(Eventually(
      [&] {
        auto cm = api->Get({{"", "v1", "configmaps"}, "default", "hpad-history-37", ""});
        return cm.ok() && cm->value("/data/default_web"_json_pointer, std::string()).find("\"u\":[[") !=
                              std::string::npos;
      },
      5s));
  a->proc->Signal(SIGKILL);
  CHECK(a->proc->WaitExit(5s) == 128 + SIGKILL);
  CHECK(Eventually([&] { return b->Leader() && b->Reconciles() >= 3; }, 15s));
  // b read the history before its first reconcile: still 4, well within the minute.
  CHECK(WebReplicas(*api) == 4);
  CHECK(b->Metric("horizontal_pod_autoscaler_controller_desired_replicas") == 4);

  // Control: a leader without persistence (KCM's behaviour) spends the budget again at once.
  b->proc->Signal(SIGKILL);
  CHECK(b->proc->WaitExit(5s) == 128 + SIGKILL);
  std::vector<std::string> forgetful = le;
  forgetful.push_back("--persist-history=false");
  auto c = std::make_unique<Hpad>("c", dir, forgetful);
  INFO("c: " << c->proc->Log());
  CHECK(Eventually([&] { return WebReplicas(*api) == 6; }, 20s));
  c->proc->Signal(SIGTERM);
  CHECK(c->proc->WaitExit(10s) == 0);
  sim.Signal(SIGTERM);
  sim.WaitExit(10s);
  fs::remove_all(dir);
}

}  // namespace
}  // namespace hpad

namespace hpad {
namespace {

// The cluster of contract-23 (two pods at target, one HPA): at 3 s every
// API request starts to stall for a minute.
const char* kStallScenario = R"(kind: Scenario
name: stall-after-3s
objects:
  - apiVersion: apps/v1
    kind: Deployment
    metadata: {namespace: default, name: web}
    spec:
      replicas: 2
      selector: {matchLabels: {app: web}}
      template:
        metadata: {labels: {app: web}}
        spec: {containers: [{name: app, image: 'registry.example/app:1', resources: {requests: {cpu: 100m}}}]}
    status: {replicas: 2}
  - {apiVersion: v1, kind: Pod, metadata: {namespace: default, name: web-0, labels: {app: web}},
     spec: {containers: [{name: app, image: 'registry.example/app:1', resources: {requests: {cpu: 100m}}}]},
     status: {phase: Running, startTime: '2025-12-31T23:00:00Z',
              conditions: [{type: Ready, status: 'True', lastTransitionTime: '2025-12-31T23:00:20Z'}]}}
  - {apiVersion: metrics.k8s.io/v1beta1, kind: PodMetrics, metadata: {namespace: default, name: web-0},
     timestamp: '2026-01-01T00:00:00Z', window: 30s, containers: [{name: app, usage: {cpu: 300m}}]}
  - apiVersion: autoscaling/v2
    kind: HorizontalPodAutoscaler
    metadata: {namespace: default, name: web}
    spec:
      scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: web}
      maxReplicas: 10
      metrics: [{type: Resource, resource: {name: cpu, target: {type: Utilization, averageUtilization: 100}}}]
steps:
  # 8 s: hpad's first reconcile must come before the stall, and a slow start
  # (a TSan build under a parallel ctest took more than 3 s) must not miss it.
  - at: 8s
    faults: {apiserver: 'slow:60s', resourceMetrics: 'slow:60s'}
)";

TEST_CASE("daemon: SIGTERM while requests are stalled on the server cancels them and exits 0 promptly",
          "[daemon][process][cancel]") {
  REQUIRE(BinariesBuilt());
  auto dir = TempDir("stall");
  const auto scenario = dir / "stall.yaml";
  std::ofstream(scenario) << kStallScenario;
  const auto kc = dir / "sim.kubeconfig";
  Process sim("sim", {kSim, "serve", scenario.string(), "--port", "0", "--kubeconfig-out", kc.string()}, dir);
  REQUIRE(!sim.WaitForLog("(serving scenario)").empty());
  REQUIRE(Eventually([&] { return fs::exists(kc); }, 5s));
  const auto sim_started = SteadyClock::now();
  Hpad h("hpad", dir, {"--kubeconfig=" + kc.string(), "--leader-elect=false"});
  INFO(h.proc->Log());
  REQUIRE(!h.proc->WaitForLog("(reconciled HPA default/web)").empty());
  // Past the fault's start plus a sync period: a reconcile is waiting on
  // the stalled server (setup only; what is timed below is the exit).
  std::this_thread::sleep_until(sim_started + 10s);
  auto t0 = SteadyClock::now();
  h.proc->Signal(SIGTERM);
  CHECK(h.proc->WaitExit(15s) == 0);
  CHECK(SteadyClock::now() - t0 < 8s);  // grace 2 s, then cancelled (the stall lasts 60 s)
  const std::string log = h.proc->Log();
  CHECK_THAT(log, Catch::Contains("cancelling its API requests") && Catch::Contains("shutdown complete"));
  sim.Signal(SIGTERM);
  sim.WaitExit(10s);
  fs::remove_all(dir);
}

// The history save at SIGTERM has its own grace (runner.cc
// kHistorySaveGrace): a save slower than the reconciles' 2 s grace is not
// cancelled half-written. The cluster of kStallScenario with every request
// slow (3 s) from 20 s on, and a 40 s sync period: the first reconcile of an
// HPA found at start-up waits FNV-1a(key) mod period (InitialDelay in
// horizontal_controller.cc), 2.5 s for default/web at 40 s, so it comes well
// before the fault even from a TSan build's slow start, and the next one
// about 40 s later, long after SIGTERM at 22 s: the workers are idle and
// SIGTERM goes straight to the save, whose one shard write takes 3 s.
TEST_CASE("daemon: SIGTERM gives the history save its own grace: a slow save completes", "[daemon][process][history]") {
  REQUIRE(BinariesBuilt());
  auto dir = TempDir("slowsave");
  const auto scenario = dir / "slow.yaml";
  std::string text = kStallScenario;
  const std::string stall = "- at: 8s\n    faults: {apiserver: 'slow:60s', resourceMetrics: 'slow:60s'}";
  REQUIRE(text.find(stall) != std::string::npos);
  text.replace(text.find(stall), stall.size(), "- at: 20s\n    faults: {apiserver: 'slow:3s'}");
  std::ofstream(scenario) << text;
  const auto kc = dir / "sim.kubeconfig";
  Process sim("sim", {kSim, "serve", scenario.string(), "--port", "0", "--kubeconfig-out", kc.string()}, dir);
  REQUIRE(!sim.WaitForLog("(serving scenario)").empty());
  const auto sim_started = SteadyClock::now();
  REQUIRE(Eventually([&] { return fs::exists(kc); }, 5s));
  Hpad h("hpad", dir, {"--kubeconfig=" + kc.string(), "--leader-elect=false",
                       "--horizontal-pod-autoscaler-sync-period=40s"});
  INFO(h.proc->Log());
  REQUIRE(!h.proc->WaitForLog("(reconciled HPA default/web)", 19s).empty());
  // The first reconcile's history was persisted by the 1 s flusher while
  // the server was fast; the windows are written only at a graceful stop,
  // so the save at SIGTERM has a shard to write.
  std::this_thread::sleep_until(sim_started + 22s);
  const auto t0 = SteadyClock::now();
  h.proc->Signal(SIGTERM);
  CHECK(h.proc->WaitExit(15s) == 0);
  const auto took = SteadyClock::now() - t0;
  const std::string log = h.proc->Log();
  CHECK_THAT(log, Catch::Contains("shutdown complete"));
  // Before kHistorySaveGrace: cancelled at 2 s ("in-flight work did not
  // finish ...; cancelling its API requests", then "persisting history at
  // shutdown: ... cancelled").
  CHECK_THAT(log, !Catch::Contains("cancelling its API requests"));
  CHECK_THAT(log, !Catch::Contains("persisting history at shutdown"));
  CHECK(took >= 2500ms);  // the save really waited on the slow write
  CHECK(took < 7s);       // 2 s + 5 s at most
  sim.Signal(SIGTERM);
  sim.WaitExit(10s);
  fs::remove_all(dir);
}

TEST_CASE("daemon: a leader frozen past its lease sends no write after its renew deadline", "[daemon][process][leader][fence]") {
  REQUIRE(BinariesBuilt());
  auto dir = TempDir("fence");
  const auto kc = dir / "sim.kubeconfig";
  Process sim("sim", {kSim, "serve", kScenario, "--port", "0", "--kubeconfig-out", kc.string()}, dir);
  REQUIRE(!sim.WaitForLog("(serving scenario)").empty());
  REQUIRE(Eventually([&] { return fs::exists(kc); }, 5s));
  const std::vector<std::string> le = {"--kubeconfig=" + kc.string(),      "--leader-elect=true",
                                       "--leader-elect-lease-duration=3s", "--leader-elect-renew-deadline=2s",
                                       "--leader-elect-retry-period=500ms", "--leader-elect-resource-namespace=default",
                                       "-v",                                 "4"};
  Hpad a("a", dir, le);
  REQUIRE(Eventually([&] { return a.Leader(); }, 10s));
  Hpad b("b", dir, le);
  INFO("a: " << a.proc->Log() << "\nb: " << b.proc->Log());
  // The User-Agent names the writer: hpad/<version> (<identity>).
  CHECK(!a.proc->WaitForLog(R"(leader election on lease default/hpad as (\S+))").empty());

  a.proc->Signal(SIGSTOP);
  // While a is stopped it writes nothing to its log: everything after this
  // offset happened after SIGCONT.
  CHECK(Eventually([&] { return b.Leader(); }, 10s));
  const size_t frozen_at = a.proc->Log().size();
  a.proc->Signal(SIGCONT);
  CHECK(a.proc->WaitExit(10s) == 1);
  const std::string after = a.proc->Log().substr(frozen_at);
  // No write other than to the lease got an answer after the resume (an
  // attempt, if any, was refused by the fence before it was sent).
  std::regex write_done(R"((POST|PUT|PATCH|DELETE) (?!leases)\S+ -> [0-9]{3})");
  CHECK_FALSE(std::regex_search(after, write_done));
  CHECK(b.Leader());
  b.proc->Signal(SIGTERM);
  CHECK(b.proc->WaitExit(10s) == 0);
  sim.Signal(SIGTERM);
  sim.WaitExit(10s);
  fs::remove_all(dir);
}

}  // namespace
}  // namespace hpad
