// scale_bench: the real `hpad` binary against a generated cluster of many
// HPAs and pods, measured over several sync periods (issue 7).
//
// What it does, in order:
//  1. Generates N HPAs (`--hpas`) spread over namespaces of M deployments
//     (`--hpas-per-namespace`), 10 pods per deployment (`--pods-per-hpa`),
//     directly into an in-process hpad::sim::ClusterState (no YAML). Metric
//     mix, by HPA index modulo 10: 0-6 cpu Utilization 60% (odd indexes
//     with a behavior, even ones on the legacy path), 7 cpu Utilization +
//     memory AverageValue, 8 a Pods custom metric (AverageValue), 9 an
//     External metric (AverageValue). Every pod has PodMetrics (cpu and
//     memory), Pods-metric pods a custom MetricValue, External HPAs one
//     ExternalMetricValue. Values sit inside the 10% tolerance, so nothing
//     rescales: the benchmark measures steady-state cost, not scaling.
//  2. Serves it with hpad::sim::ApiServer on loopback (HTTPS with a bearer
//     token unless --no-tls) and writes the kubeconfig the server makes.
//  3. Starts the real hpad (`--hpad PATH`, else $HPAD_BINARY_DIR/hpad, else
//     ../controller/hpad next to this binary) with --leader-elect=false,
//     --port=0, -v=2, the sync period and any `--hpad-arg`s; its log goes
//     to a file in a temporary directory.
//  4. Waits for the first full pass (every HPA reconciled once) and
//     `--warmup-periods` (default 1) more periods, then measures
//     `--periods` sync periods. At the start of each period the
//     PodMetrics of `--churn` (default 10%) of the deployments get new
//     values inside the tolerance band, so those HPAs' status changes (as
//     metrics move in a real cluster) while the rest stays unchanged.
//  5. Stops hpad with SIGTERM and prints ONE table.
//
// Definitions (also in bench/README.md):
//  - Reconcile time: the timestamp of hpad's `-v 2` log line
//    "reconciled HPA <ns>/<name>: ..." (DaemonRunner::OnReconcile), written
//    when a reconcile of that HPA has finished (status written or found
//    unchanged). Used because it exists for every reconcile whatever API
//    calls the controller makes (a controller that serves scales from a
//    watch and metrics from a per-namespace cache makes no per-HPA request
//    to time). The line also carries the error label, which the benchmark
//    checks.
//  - Lateness of a reconcile = its reconcile time - (the same HPA's
//    previous reconcile time + sync period), clamped at 0: how much later
//    than "one period after the last one" the HPA was reconciled again.
//    Every reconcile finishing inside the measured window counts. An HPA
//    whose last reconcile is more than a period before the window's end
//    adds that open interval (end - last - period) as a lateness sample
//    too, so an HPA that is never reconciled again cannot hide.
//  - hpad CPU: (utime + stime) from /proc/<pid>/stat over the measured
//    window / window length, in cores; "peak 1 s" the largest one-second
//    sample. Peak RSS: VmHWM from /proc/<pid>/status just before SIGTERM.
//  - API requests per period: the simulator's request accounting
//    (ApiServer::requests().Counts(), by "verb resource[/subresource]") over
//    the window / periods. The upstream-shaped column is computed for the
//    same HPAs: per HPA per period one scale GET, one metrics call per
//    metric, one status PUT.
//
// Exit status: 0 on a clean run; 1 when anything errored (hpad failed to
// start or died, an HPA was never reconciled within --first-pass-timeout,
// a reconcile reported an error, hpad logged an error line, hpad did not
// exit 0 on SIGTERM); 2 on bad arguments. Timing never fails the run.
//
// This is a benchmark, not a test, and a composition root: it reads the
// wall clock through hpad::RealClock and std::chrono::steady_clock.
#include <signal.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <optional>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include <nlohmann/json.hpp>

#include "k8sclient/base/clock.h"
#include "k8sclient/api/time_format.h"
#include "sim/apiserver/api_server.h"
#include "sim/apiserver/cluster_state.h"
#include "bench/bench_lib.h"

namespace {

using Json = nlohmann::json;
using hpad::Time;
namespace fs = std::filesystem;
using namespace hpad::bench;  // NOLINT: the shared benchmark vocabulary (bench_lib.h)

// ---------------------------------------------------------------------------
// Options

// --mixed-periods (issue 13): which HPAs run on their own, slower period.
constexpr int kSlowEvery = 4;
constexpr int kSlowFactor = 4;
bool IsSlowHpaName(const std::string& key) {
  // "bench-NNNN/app-NNNN": the index within the namespace.
  auto dash = key.rfind('-');
  if (dash == std::string::npos) return false;
  return std::atoi(key.c_str() + dash + 1) % kSlowEvery == kSlowEvery - 1;
}

struct Options {
  int hpas = 100;
  int pods_per_hpa = 10;
  int hpas_per_namespace = 20;
  double sync_period_s = 15;
  int periods = 4;
  int warmup_periods = 1;
  double churn = 0.1;
  double first_pass_timeout_s = 0;  // 0: derived from the size
  bool tls = true;
  bool quick = false;
  bool keep_dir = false;
  // Issue 13: one HPA in kSlowEvery carries hpad.io/sync-period = 4 x the
  // sync period; lateness is then reported for the others (each against its
  // own period) and for the slow ones separately.
  bool mixed_periods = false;
  std::string hpad;
  std::vector<std::string> hpad_args;
  std::string json_out;
};

void Usage() {
  std::printf(
      "usage: scale_bench [--hpas N] [--pods-per-hpa N] [--hpas-per-namespace M] [--sync-period SECONDS]\n"
      "                   [--periods K] [--warmup-periods W] [--churn FRACTION] [--first-pass-timeout SECONDS] [--no-tls]\n"
      "                   [--hpad PATH] [--hpad-arg ARG]... [--json FILE] [--keep-dir] [--quick]\n"
      "                   [--mixed-periods]\n"
      "  --mixed-periods: every 4th HPA has hpad.io/sync-period = 4 x --sync-period (issue 13)\n"
      "  --quick: 20 HPAs, 5 per namespace, 2 periods of 2 s (the CI smoke size)\n"
      "  hpad defaults to $HPAD_BINARY_DIR/hpad, else ../controller/hpad next to this binary\n");
}

std::optional<Options> ParseArgs(int argc, char** argv) {
  Options o;
  bool sync_given = false, periods_given = false, per_ns_given = false, hpas_given = false;
  for (int i = 1; i < argc; i++) {
    std::string a = argv[i];
    std::string inline_value;
    bool has_inline = false;
    if (a.rfind("--", 0) == 0 && a.find('=') != std::string::npos) {
      inline_value = a.substr(a.find('=') + 1);
      a = a.substr(0, a.find('='));
      has_inline = true;
    }
    auto value = [&]() -> std::optional<std::string> {
      if (has_inline) return inline_value;
      if (i + 1 >= argc) {
        std::fprintf(stderr, "scale_bench: %s needs a value\n", a.c_str());
        return std::nullopt;
      }
      return std::string(argv[++i]);
    };
    auto number = [&](double* out) -> bool {
      auto v = value();
      if (!v) return false;
      char* end = nullptr;
      *out = std::strtod(v->c_str(), &end);
      if (v->empty() || *end != '\0') {
        std::fprintf(stderr, "scale_bench: %s: not a number: %s\n", a.c_str(), v->c_str());
        return false;
      }
      return true;
    };
    double d = 0;
    if (a == "--hpas") {
      if (!number(&d)) return std::nullopt;
      o.hpas = static_cast<int>(d);
      hpas_given = true;
    } else if (a == "--pods-per-hpa") {
      if (!number(&d)) return std::nullopt;
      o.pods_per_hpa = static_cast<int>(d);
    } else if (a == "--hpas-per-namespace") {
      if (!number(&d)) return std::nullopt;
      o.hpas_per_namespace = static_cast<int>(d);
      per_ns_given = true;
    } else if (a == "--sync-period") {
      if (!number(&o.sync_period_s)) return std::nullopt;
      sync_given = true;
    } else if (a == "--periods") {
      if (!number(&d)) return std::nullopt;
      o.periods = static_cast<int>(d);
      periods_given = true;
    } else if (a == "--warmup-periods") {
      if (!number(&d)) return std::nullopt;
      o.warmup_periods = static_cast<int>(d);
    } else if (a == "--churn") {
      if (!number(&o.churn)) return std::nullopt;
    } else if (a == "--first-pass-timeout") {
      if (!number(&o.first_pass_timeout_s)) return std::nullopt;
    } else if (a == "--no-tls") {
      o.tls = false;
    } else if (a == "--quick") {
      o.quick = true;
    } else if (a == "--mixed-periods") {
      o.mixed_periods = true;
    } else if (a == "--keep-dir") {
      o.keep_dir = true;
    } else if (a == "--hpad") {
      auto v = value();
      if (!v) return std::nullopt;
      o.hpad = *v;
    } else if (a == "--hpad-arg") {
      auto v = value();
      if (!v) return std::nullopt;
      o.hpad_args.push_back(*v);
    } else if (a == "--json") {
      auto v = value();
      if (!v) return std::nullopt;
      o.json_out = *v;
    } else if (a == "-h" || a == "--help") {
      Usage();
      std::exit(0);
    } else {
      std::fprintf(stderr, "scale_bench: unknown argument %s\n", argv[i]);
      Usage();
      return std::nullopt;
    }
  }
  if (o.quick) {
    if (!hpas_given) o.hpas = 20;
    if (!per_ns_given) o.hpas_per_namespace = 5;
    if (!sync_given) o.sync_period_s = 2;
    if (!periods_given) o.periods = 2;
  }
  if (o.hpas < 1 || o.pods_per_hpa < 1 || o.hpas_per_namespace < 1 || o.sync_period_s <= 0 || o.periods < 1 ||
      o.warmup_periods < 0 || o.churn < 0 || o.churn > 1) {
    std::fprintf(stderr, "scale_bench: sizes and periods must be positive, churn in [0, 1]\n");
    return std::nullopt;
  }
  if (o.first_pass_timeout_s <= 0)
    o.first_pass_timeout_s = 60 + o.hpas / 4.0 + (o.mixed_periods ? kSlowFactor + 1 : 2) * o.sync_period_s;
  return o;
}

// ---------------------------------------------------------------------------
// The generated cluster

// The cluster's shape, kept for churn and for the upstream-shaped counts.
struct Cluster {
  std::vector<Target> targets;
  int namespaces = 0;
  int64_t pods = 0;
  std::map<std::string, int64_t> upstream_per_period;  // "verb resource[/sub]" -> count
};


Json PodJson(const Target& t, const std::string& pod, const std::string& started, const std::string& ready_at,
             int index) {
  Json labels = {{"app", t.name}, {"pod-template-hash", "5d9c7b8f6"}};
  Json requests = {{"cpu", std::to_string(kCpuRequestMilli) + "m"},
                   {"memory", std::to_string(kMemoryRequestMi) + "Mi"}};
  Json cond = Json::array();
  for (const char* type : {"Initialized", "Ready", "ContainersReady", "PodScheduled"})
    cond.push_back({{"type", type}, {"status", "True"}, {"lastTransitionTime", std::string(type) == "PodScheduled" ? started : ready_at}});
  return Json{
      {"apiVersion", "v1"},
      {"kind", "Pod"},
      {"metadata",
       {{"namespace", t.ns},
        {"name", pod},
        {"labels", labels},
        {"annotations", {{"kubectl.kubernetes.io/restartedAt", started}}},
        {"ownerReferences",
         Json::array({{{"apiVersion", "apps/v1"},
                       {"kind", "ReplicaSet"},
                       {"name", t.name + "-5d9c7b8f6"},
                       {"uid", "00000000-0000-4000-8000-" + Pad(index, 12)},
                       {"controller", true},
                       {"blockOwnerDeletion", true}}})}}},
      {"spec",
       {{"nodeName", "node-" + std::to_string(index % 50)},
        {"restartPolicy", "Always"},
        {"containers",
         Json::array({{{"name", "app"},
                       {"image", "registry.example/app:1"},
                       {"ports", Json::array({{{"containerPort", 8080}, {"protocol", "TCP"}}})},
                       {"resources", {{"requests", requests}, {"limits", requests}}}}})}}},
      {"status",
       {{"phase", "Running"},
        {"startTime", started},
        {"hostIP", "10.0.0." + std::to_string(index % 50)},
        {"podIP", "10.1." + std::to_string((index / 250) % 250) + "." + std::to_string(index % 250)},
        {"conditions", cond},
        {"containerStatuses",
         Json::array({{{"name", "app"},
                       {"ready", true},
                       {"started", true},
                       {"restartCount", 0},
                       {"image", "registry.example/app:1"},
                       {"state", {{"running", {{"startedAt", started}}}}}}})}}}};
}

// cpu and memory usage near the targets: within +-5% (inside the 10% tolerance).
Json PodMetricsJson(const Target& t, const std::string& pod, const std::string& now, std::mt19937& rng) {
  std::uniform_int_distribution<int> jitter(-5, 5);
  const int64_t cpu = kCpuRequestMilli * kCpuTargetPercent / 100 * (100 + jitter(rng)) / 100;
  const int64_t mem = kMemoryTargetMi * (100 + jitter(rng)) / 100;
  return Json{{"apiVersion", "metrics.k8s.io/v1beta1"},
              {"kind", "PodMetrics"},
              {"metadata", {{"namespace", t.ns}, {"name", pod}, {"labels", {{"app", t.name}, {"pod-template-hash", "5d9c7b8f6"}}}}},
              {"timestamp", now},
              {"window", "30s"},
              {"containers",
               Json::array({{{"name", "app"},
                             {"usage", {{"cpu", std::to_string(cpu) + "m"}, {"memory", std::to_string(mem) + "Mi"}}}}})}};
}

// Fills the store; returns the shape. Errors name the object.
hpad::Result<Cluster> Generate(hpad::sim::ClusterState& state, const Options& o, Time now, std::mt19937& rng) {
  Cluster c;
  c.namespaces = (o.hpas + o.hpas_per_namespace - 1) / o.hpas_per_namespace;
  const std::string started = hpad::k8s::FormatRfc3339(now - std::chrono::hours(2));
  const std::string ready_at = hpad::k8s::FormatRfc3339(now - std::chrono::hours(2) + std::chrono::seconds(20));
  const std::string now_text = hpad::k8s::FormatRfc3339(now);
  auto apply = [&](const Json& obj) -> hpad::Status {
    auto r = state.Apply(obj);
    if (!r.ok()) {
      return hpad::Status(r.status().code(), "generating " + obj.value("kind", "") + " " +
                                                 obj["metadata"].value("namespace", "") + "/" +
                                                 obj["metadata"].value("name", "") + ": " + r.status().message());
    }
    return hpad::Status::Ok();
  };
  for (int n = 0; n < c.namespaces; n++) {
    Json ns = {{"apiVersion", "v1"}, {"kind", "Namespace"}, {"metadata", {{"name", "bench-" + Pad(n, 4)}}}};
    if (auto s = apply(ns); !s.ok()) return s;
  }
  int pod_index = 0;
  for (int i = 0; i < o.hpas; i++) {
    Target t{"bench-" + Pad(i / o.hpas_per_namespace, 4), "app-" + Pad(i % o.hpas_per_namespace, 4), KindOf(i)};
    const int r = o.pods_per_hpa;
    Json labels = {{"app", t.name}};
    Json dep = {{"apiVersion", "apps/v1"},
                {"kind", "Deployment"},
                {"metadata", {{"namespace", t.ns}, {"name", t.name}, {"labels", labels}}},
                {"spec",
                 {{"replicas", r},
                  {"selector", {{"matchLabels", labels}}},
                  {"template",
                   {{"metadata", {{"labels", labels}}},
                    {"spec", {{"containers", Json::array({{{"name", "app"}, {"image", "registry.example/app:1"}}})}}}}}}},
                {"status", {{"replicas", r}, {"readyReplicas", r}, {"availableReplicas", r}, {"updatedReplicas", r}}}};
    if (auto s = apply(dep); !s.ok()) return s;
    for (int p = 0; p < r; p++) {
      const std::string pod = t.name + "-5d9c7b8f6-" + Pad(p, 5);
      if (auto s = apply(PodJson(t, pod, started, ready_at, pod_index++)); !s.ok()) return s;
      if (auto s = apply(PodMetricsJson(t, pod, now_text, rng)); !s.ok()) return s;
      if (t.kind == HpaKind::kPodsMetric) {
        Json mv = {{"apiVersion", "custom.metrics.k8s.io/v1beta2"},
                   {"kind", "MetricValue"},
                   {"describedObject", {{"apiVersion", "v1"}, {"kind", "Pod"}, {"namespace", t.ns}, {"name", pod}}},
                   {"metric", {{"name", "requests_per_second"}}},
                   {"timestamp", now_text},
                   {"value", std::to_string(kPodsMetricTarget)}};
        if (auto s = apply(mv); !s.ok()) return s;
      }
    }
    c.pods += r;
    if (t.kind == HpaKind::kExternal) {
      Json ev = {{"apiVersion", "external.metrics.k8s.io/v1beta1"},
                 {"kind", "ExternalMetricValue"},
                 {"metadata", {{"namespace", t.ns}, {"name", "queue-" + t.name}}},
                 {"metricName", "queue_messages"},
                 {"metricLabels", {{"queue", t.name}}},
                 {"timestamp", now_text},
                 {"value", std::to_string(kExternalTargetPerPod * r)}};
      if (auto s = apply(ev); !s.ok()) return s;
    }
    Json hpa = HpaJson(t, 1, r * 3);
    if (o.mixed_periods && IsSlowHpaName(t.ns + "/" + t.name)) {
      hpa["metadata"]["annotations"] = {
          {"hpad.io/sync-period", std::to_string(static_cast<int64_t>(o.sync_period_s * kSlowFactor * 1000)) + "ms"}};
    }
    if (auto s = apply(hpa); !s.ok()) return s;
    // The upstream-shaped controller, per HPA per period (keys as the
    // simulator's accounting names them).
    AddUpstreamPerPeriod(t.kind, &c.upstream_per_period);
    c.targets.push_back(std::move(t));
  }
  return c;
}

// New PodMetrics values for a fraction of the deployments (step 4).
void Churn(hpad::sim::ClusterState& state, const Cluster& c, double fraction, int period, Time now,
           std::mt19937& rng, int pods_per_hpa) {
  if (fraction <= 0) return;
  const std::string now_text = hpad::k8s::FormatRfc3339(now);
  const size_t n = c.targets.size();
  const size_t count = static_cast<size_t>(std::llround(fraction * static_cast<double>(n)));
  // A different slice each period.
  for (size_t k = 0; k < count; k++) {
    const Target& t = c.targets[(static_cast<size_t>(period) * count + k) % n];
    for (int p = 0; p < pods_per_hpa; p++) {
      const std::string pod = t.name + "-5d9c7b8f6-" + Pad(p, 5);
      hpad::Status s = state.PutPodMetrics(PodMetricsJson(t, pod, now_text, rng));
      if (!s.ok()) std::fprintf(stderr, "scale_bench: churn %s/%s: %s\n", t.ns.c_str(), pod.c_str(), s.message().c_str());
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  auto parsed = ParseArgs(argc, argv);
  if (!parsed) return 2;
  const Options o = *parsed;
  signal(SIGPIPE, SIG_IGN);
  const std::string hpad_path = o.hpad.empty() ? DefaultHpadPath(argv[0]) : o.hpad;
  if (access(hpad_path.c_str(), X_OK) != 0) {
    std::fprintf(stderr, "scale_bench: no hpad binary at %s (use --hpad PATH or HPAD_BINARY_DIR)\n", hpad_path.c_str());
    return 1;
  }

  hpad::RealClock& clock = hpad::RealClock::Instance();
  const auto period = std::chrono::duration_cast<std::chrono::system_clock::duration>(
      std::chrono::duration<double>(o.sync_period_s));
  std::mt19937 rng(7);

  // Temporary directory for the kubeconfig and hpad's log.
  std::string dir_template = (fs::temp_directory_path() / "scale_bench.XXXXXX").string();
  if (mkdtemp(dir_template.data()) == nullptr) {
    std::fprintf(stderr, "scale_bench: mkdtemp: %s\n", std::strerror(errno));
    return 1;
  }
  const fs::path dir = dir_template;
  const std::string kubeconfig = (dir / "kubeconfig").string();
  const std::string log_path = (dir / "hpad.log").string();

  // 1. Generate.
  hpad::sim::ClusterState state(clock);
  const auto gen0 = std::chrono::steady_clock::now();
  auto cluster = Generate(state, o, clock.Now(), rng);
  if (!cluster.ok()) {
    std::fprintf(stderr, "scale_bench: %s\n", cluster.status().message().c_str());
    return 1;
  }
  const double gen_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - gen0).count();
  std::fprintf(stderr, "scale_bench: generated %d HPAs, %lld pods in %d namespaces in %.1f s\n", o.hpas,
               static_cast<long long>(cluster->pods), cluster->namespaces, gen_s);

  // 2. Serve.
  hpad::sim::ApiServerOptions so;
  so.tls = o.tls;
  hpad::sim::ApiServer server(state, so);
  auto port = server.Start();
  if (!port.ok()) {
    std::fprintf(stderr, "scale_bench: starting the API server: %s\n", port.status().message().c_str());
    return 1;
  }
  if (auto s = server.WriteKubeconfig(kubeconfig); !s.ok()) {
    std::fprintf(stderr, "scale_bench: %s\n", s.message().c_str());
    return 1;
  }

  // The simulator keeps each stored object's JSON text for list pages; make
  // it now, so hpad's first lists are not timed with the simulator
  // serialising 150,000 pods on the same 2 cores (a real API server
  // serves from its own machine's watch cache).
  for (const hpad::k8s::GroupVersionResource& gvr :
       {hpad::k8s::GroupVersionResource{"", "v1", "pods"},
        hpad::k8s::GroupVersionResource{"autoscaling", "v2", "horizontalpodautoscalers"}}) {
    if (auto warmed = server.WarmListText(gvr); !warmed.ok()) {
      std::fprintf(stderr, "scale_bench: preparing %s list text: %s\n", gvr.resource.c_str(),
                   warmed.status().message().c_str());
      return 1;
    }
  }

  // 3. Start hpad.
  std::vector<std::string> args = {"--kubeconfig=" + kubeconfig,
                                   "--leader-elect=false",
                                   "--bind-address=127.0.0.1",
                                   "--port=0",
                                   "--horizontal-pod-autoscaler-sync-period=" +
                                       std::to_string(static_cast<int64_t>(std::llround(o.sync_period_s * 1000))) + "ms"};
  // -v 2 at least: the "reconciled HPA" lines are the reconcile times. A
  // verbosity given with --hpad-arg replaces it (hpad refuses two).
  bool verbosity_given = false;
  for (const auto& a : o.hpad_args)
    verbosity_given = verbosity_given || a == "-v" || a.rfind("-v=", 0) == 0 || a == "--v" || a.rfind("--v=", 0) == 0;
  if (!verbosity_given) args.push_back("--v=2");
  args.insert(args.end(), o.hpad_args.begin(), o.hpad_args.end());
  std::string cmdline = hpad_path;
  for (const auto& a : args) cmdline += " " + a;
  std::fprintf(stderr, "scale_bench: %s\n", cmdline.c_str());
  const Time hpad_started = clock.Now();
  const pid_t pid = StartHpad(hpad_path, args, log_path);
  if (pid < 0) {
    std::fprintf(stderr, "scale_bench: fork: %s\n", std::strerror(errno));
    return 1;
  }
  std::time_t tt = std::chrono::system_clock::to_time_t(hpad_started);
  std::tm utc{};
  gmtime_r(&tt, &utc);
  LogReader log(log_path, utc.tm_year + 1900);

  std::vector<std::string> failures;
  std::optional<int> early_exit;
  auto stop_hpad = [&]() -> std::optional<int> {
    if (early_exit) return early_exit;
    kill(pid, SIGTERM);
    for (int i = 0; i < 300; i++) {  // 30 s
      if (auto st = ExitStatus(pid)) return st;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    kill(pid, SIGKILL);
    int st = 0;
    waitpid(pid, &st, 0);
    return std::nullopt;
  };

  // 4a. First full pass.
  std::optional<Time> first_pass_done;
  const Time first_deadline =
      hpad_started + std::chrono::duration_cast<std::chrono::system_clock::duration>(
                         std::chrono::duration<double>(o.first_pass_timeout_s));
  while (!first_pass_done) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    log.Poll();
    if (static_cast<int>(log.by_key().size()) >= o.hpas) {
      first_pass_done = clock.Now();
      break;
    }
    if ((early_exit = ExitStatus(pid))) {
      failures.push_back("hpad exited with status " + std::to_string(*early_exit) + " before the first full pass");
      break;
    }
    if (clock.Now() > first_deadline) {
      failures.push_back(std::to_string(o.hpas - static_cast<int>(log.by_key().size())) + " of " +
                         std::to_string(o.hpas) + " HPAs not reconciled within --first-pass-timeout " +
                         Fixed(o.first_pass_timeout_s, 0) + " s");
      break;
    }
  }

  // 4b. Warm-up: the first pass is a start-up transient (initial status
  // writes for every HPA, caches filling); steady state starts after it.
  if (first_pass_done && o.warmup_periods > 0) {
    const Time until = clock.Now() + o.warmup_periods * period;
    while (clock.Now() < until) {
      std::this_thread::sleep_for(std::min<std::chrono::system_clock::duration>(until - clock.Now(),
                                                                                 std::chrono::milliseconds(500)));
      log.Poll();
      if ((early_exit = ExitStatus(pid))) {
        failures.push_back("hpad exited with status " + std::to_string(*early_exit) + " during the warm-up");
        break;
      }
    }
  }

  // 4c. Measured periods.
  Time window_start{}, window_end{};
  double hpad_cpu_s = 0, sim_cpu_s = 0, peak_1s = 0, window_s = 0;
  std::map<std::string, int64_t> counts0, counts1;
  int64_t hwm_kb = -1, rss_kb = -1;
  if (first_pass_done && !early_exit) {
    counts0 = server.requests().Counts();
    window_start = clock.Now();
    const auto steady0 = std::chrono::steady_clock::now();
    const ProcCpu h0 = ReadCpu(pid);
    const ProcCpu s0 = ReadCpu(getpid());
    ProcCpu last = h0;
    auto last_t = steady0;
    for (int p = 0; p < o.periods && !early_exit; p++) {
      const Time period_start = window_start + p * period;
      Churn(state, *cluster, o.churn, p, clock.Now(), rng, o.pods_per_hpa);
      const Time period_end = period_start + period;
      while (clock.Now() < period_end) {
        const Time next = std::min(period_end, clock.Now() + std::chrono::milliseconds(1000));
        std::this_thread::sleep_for(next - clock.Now());
        log.Poll();
        const auto now_t = std::chrono::steady_clock::now();
        const ProcCpu c = ReadCpu(pid);
        const double dt = std::chrono::duration<double>(now_t - last_t).count();
        if (c.ok && dt >= 0.5) {
          peak_1s = std::max(peak_1s, (c.seconds - last.seconds) / dt);
          last = c;
          last_t = now_t;
        }
        if ((early_exit = ExitStatus(pid))) {
          failures.push_back("hpad exited with status " + std::to_string(*early_exit) + " during the measurement");
          break;
        }
      }
    }
    window_end = clock.Now();
    window_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - steady0).count();
    const ProcCpu h1 = ReadCpu(pid);
    const ProcCpu s1 = ReadCpu(getpid());
    hpad_cpu_s = h1.seconds - h0.seconds;
    sim_cpu_s = s1.seconds - s0.seconds;
    counts1 = server.requests().Counts();
    if (!early_exit) {
      hwm_kb = ReadStatusKb(pid, "VmHWM");
      rss_kb = ReadStatusKb(pid, "VmRSS");
    }
  }

  // 5. Stop hpad and read the rest of its log.
  std::optional<int> exit_code = stop_hpad();
  if (!early_exit) {
    if (!exit_code) failures.push_back("hpad did not exit within 30 s of SIGTERM (killed)");
    else if (*exit_code != 0) failures.push_back("hpad exited with status " + std::to_string(*exit_code) + " on SIGTERM");
  }
  log.Poll();
  server.Stop();

  // Lateness over the window.
  std::vector<double> lateness;
  std::vector<double> slow_lateness;  // --mixed-periods: the HPAs on their own period
  int64_t measured = 0, late_over_1s = 0;
  for (const auto& [key, recs] : log.by_key()) {
    if (!first_pass_done) continue;
    const bool slow = o.mixed_periods && IsSlowHpaName(key);
    if (slow) {
      const auto own = period * kSlowFactor;
      std::optional<Time> last;
      for (const Reconcile& r : recs) {
        if (r.at > window_end) break;
        if (r.at >= window_start && last)
          slow_lateness.push_back(std::max(0.0, std::chrono::duration<double>(r.at - (*last + own)).count()));
        last = r.at;
      }
      if (last && window_end - *last > own)
        slow_lateness.push_back(std::chrono::duration<double>(window_end - (*last + own)).count());
      continue;
    }
    std::optional<Time> prev;
    bool late1 = false;
    for (const Reconcile& r : recs) {
      if (r.at > window_end) break;
      if (r.at >= window_start && prev) {
        double l = std::max(0.0, std::chrono::duration<double>(r.at - (*prev + period)).count());
        lateness.push_back(l);
        late1 = late1 || l > 1.0;
        measured++;
      }
      prev = r.at;
    }
    if (prev && window_end - *prev > period) {
      double l = std::chrono::duration<double>(window_end - (*prev + period)).count();
      lateness.push_back(l);
      late1 = late1 || l > 1.0;
    }
    if (late1) late_over_1s++;
  }
  if (log.by_key().empty()) {
    failures.push_back("no \"reconciled HPA\" lines in hpad's -v=2 log (" + log_path +
                       "); did the log format change?");
  }
  if (log.reconcile_errors() > 0) failures.push_back(std::to_string(log.reconcile_errors()) + " reconciles reported an error");
  if (log.error_lines() > 0) failures.push_back(std::to_string(log.error_lines()) + " error lines in hpad's log");

  // Requests per period, by key; upstream-shaped alongside.
  std::map<std::string, std::pair<double, double>> rows;  // key -> (hpad, upstream)
  const double periods_measured = first_pass_done ? std::max(1e-9, window_s / o.sync_period_s) : 1;
  for (const auto& [k, v] : counts1) {
    int64_t before = counts0.count(k) ? counts0.at(k) : 0;
    if (v - before > 0) rows[k].first = static_cast<double>(v - before) / periods_measured;
  }
  for (const auto& [k, v] : cluster->upstream_per_period) rows[k].second = static_cast<double>(v);
  auto is_read = [](const std::string& k) { return k.rfind("get ", 0) == 0 || k.rfind("list ", 0) == 0; };
  auto is_write = [](const std::string& k) {
    for (const char* v : {"create ", "update ", "patch ", "delete "})
      if (k.rfind(v, 0) == 0) return true;
    return false;
  };
  double reads[2] = {0, 0}, writes[2] = {0, 0};
  for (const auto& [k, v] : rows) {
    if (is_read(k)) {
      reads[0] += v.first;
      reads[1] += v.second;
    }
    if (is_write(k)) {
      writes[0] += v.first;
      writes[1] += v.second;
    }
  }

  // ---- the table ----
  const double p50 = Percentile(lateness, 50), p99 = Percentile(lateness, 99),
               pmax = lateness.empty() ? 0 : *std::max_element(lateness.begin(), lateness.end());
  const double first_pass_s = first_pass_done ? std::chrono::duration<double>(*first_pass_done - hpad_started).count() : 0;
  int64_t total_metrics = 0;
  for (const auto& t : cluster->targets) total_metrics += MetricCount(t.kind);

  std::vector<std::array<std::string, 3>> table;
  auto row = [&](std::string a, std::string b, std::string c = "") { table.push_back({std::move(a), std::move(b), std::move(c)}); };
  row("HPAs (namespaces)", std::to_string(o.hpas) + " (" + std::to_string(cluster->namespaces) + ")");
  row("pods", std::to_string(cluster->pods));
  row("metrics (cpu 70%, +memory 10%, pods 10%, external 10%)", std::to_string(total_metrics));
  row("sync period (s) x periods measured", Fixed(o.sync_period_s, 1) + " x " + Fixed(periods_measured, 2));
  row("first full pass after hpad start (s)", first_pass_done ? Fixed(first_pass_s, 2) : "never");
  row("reconciles per period", Fixed(static_cast<double>(measured) / periods_measured, 1), std::to_string(o.hpas));
  row("lateness p50 / p99 / max (s)", Fixed(p50, 3) + " / " + Fixed(p99, 3) + " / " + Fixed(pmax, 3));
  row("HPAs ever > 1 s late", std::to_string(late_over_1s));
  if (o.mixed_periods) {
    row("mixed periods: 1 in " + std::to_string(kSlowEvery) + " HPAs at " + std::to_string(kSlowFactor) +
            "x period; lateness above is of the others",
        "");
    row("slow HPAs lateness p50 / max (s), samples",
        Fixed(Percentile(slow_lateness, 50), 3) + " / " +
            Fixed(slow_lateness.empty() ? 0 : *std::max_element(slow_lateness.begin(), slow_lateness.end()), 3) +
            ", " + std::to_string(slow_lateness.size()));
  }
  row("hpad CPU avg / peak 1 s (cores)",
      first_pass_done && window_s > 0 ? Fixed(hpad_cpu_s / window_s, 3) + " / " + Fixed(peak_1s, 3) : "-");
  row("hpad peak RSS (MiB)", hwm_kb >= 0 ? Fixed(static_cast<double>(hwm_kb) / 1024.0, 1) : "-");
  row("hpad-sim in-process CPU avg (cores)", first_pass_done && window_s > 0 ? Fixed(sim_cpu_s / window_s, 3) : "-");
  for (const auto& [k, v] : rows) row("req/period " + k, Fixed(v.first, 1), Fixed(v.second, 1));
  row("req/period reads (get+list)", Fixed(reads[0], 1), Fixed(reads[1], 1));
  row("req/period writes", Fixed(writes[0], 1), Fixed(writes[1], 1));

  size_t w[3] = {7, 4, 15};
  for (const auto& r : table)
    for (size_t i = 0; i < 3; i++) w[i] = std::max(w[i], r[i].size());
  auto line = [&] {
    std::printf("+-%s-+-%s-+-%s-+\n", std::string(w[0], '-').c_str(), std::string(w[1], '-').c_str(),
                std::string(w[2], '-').c_str());
  };
  std::printf("scale_bench: hpad against hpad-sim (in-process ApiServer, %s loopback), %s\n", o.tls ? "HTTPS" : "HTTP",
              cmdline.c_str());
  line();
  std::printf("| %-*s | %*s | %*s |\n", static_cast<int>(w[0]), "measure", static_cast<int>(w[1]), "hpad",
              static_cast<int>(w[2]), "upstream-shaped");
  line();
  for (const auto& r : table)
    std::printf("| %-*s | %*s | %*s |\n", static_cast<int>(w[0]), r[0].c_str(), static_cast<int>(w[1]), r[1].c_str(),
                static_cast<int>(w[2]), r[2].c_str());
  line();
  // One markdown row for bench/README.md's summary table.
  std::printf("summary: | %d | %lld | %s | %s / %s / %s | %s | %s | %s | %s | %s / %s |\n", o.hpas,
              static_cast<long long>(cluster->pods), Fixed(o.sync_period_s, 0).c_str(),
              Fixed(p50, 2).c_str(), Fixed(p99, 2).c_str(), Fixed(pmax, 2).c_str(),
              first_pass_done && window_s > 0 ? Fixed(hpad_cpu_s / window_s, 2).c_str() : "-",
              hwm_kb >= 0 ? Fixed(static_cast<double>(hwm_kb) / 1024.0, 0).c_str() : "-",
              first_pass_done ? Fixed(first_pass_s, 1).c_str() : "-", Fixed(reads[0], 0).c_str(),
              Fixed(writes[0], 0).c_str(), Fixed(reads[1] + writes[1], 0).c_str());

  if (!o.json_out.empty()) {
    Json j = {{"hpas", o.hpas},
              {"pods", cluster->pods},
              {"namespaces", cluster->namespaces},
              {"sync_period_s", o.sync_period_s},
              {"periods_measured", periods_measured},
              {"first_pass_s", first_pass_s},
              {"lateness_s", {{"p50", p50}, {"p99", p99}, {"max", pmax}, {"samples", lateness.size()}}},
              {"hpas_late_over_1s", late_over_1s},
              {"hpad_cpu_cores", window_s > 0 ? hpad_cpu_s / window_s : 0},
              {"hpad_cpu_peak_1s", peak_1s},
              {"hpad_peak_rss_mib", hwm_kb >= 0 ? static_cast<double>(hwm_kb) / 1024.0 : -1},
              {"hpad_rss_mib", rss_kb >= 0 ? static_cast<double>(rss_kb) / 1024.0 : -1},
              {"sim_cpu_cores", window_s > 0 ? sim_cpu_s / window_s : 0},
              {"hpad_args", args},
              {"failures", failures}};
    for (const auto& [k, v] : rows) j["requests_per_period"][k] = {{"hpad", v.first}, {"upstream", v.second}};
    std::ofstream(o.json_out) << j.dump(2) << "\n";
  }

  if (!failures.empty()) {
    for (const auto& f : failures) std::fprintf(stderr, "scale_bench: FAILED: %s\n", f.c_str());
    for (const auto& l : log.first_errors()) std::fprintf(stderr, "  %s\n", l.c_str());
    std::fprintf(stderr, "scale_bench: hpad log kept in %s\n", log_path.c_str());
    return 1;
  }
  if (o.keep_dir) {
    std::fprintf(stderr, "scale_bench: hpad log in %s\n", log_path.c_str());
  } else {
    std::error_code ec;
    fs::remove_all(dir, ec);
  }
  return 0;
}
