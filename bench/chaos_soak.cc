// chaos_soak: two real `hpad` replicas with leader election against one
// simulated cluster while a seeded fault schedule plays (issue 15, "The
// chaos soak"). At the end it checks the invariants and prints one table;
// exit 1 on any violation.
//
// What it does, in order:
//  1. Generates `--hpas` HPAs (default 200; metric mix of bench_lib.h's
//     KindOf: cpu, cpu with behavior, cpu+memory, Pods metric, External)
//     with minReplicas 1, maxReplicas 10, each scaling a Deployment of 3
//     replicas whose pods and metrics the simulator's WorkloadSimulator
//     plays (sim/workload.h): the load of every workload moves between 1
//     and 13 pods' worth at seeded instants, so replicas really change
//     (and sometimes hit maxReplicas). External metric values follow the
//     same levels.
//  2. Serves it with hpad::sim::ApiServer on loopback, in this process (the
//     same server `hpad-sim serve` runs): the fault schedule drives its
//     FaultInjector, DropWatches() and request log directly, so no admin
//     endpoint is needed.
//  3. Starts two hpad replicas ("a", "b") with --leader-elect and short
//     lease timings (6 s / 4 s / 1 s by default), -v=2, and restarts a
//     replica at once whenever it exits (as the kubelet would).
//  4. After the first full pass (every HPA reconciled) and one sync period
//     of warm-up (--short: 1 s), plays the schedule: API 5xx and 429 bursts (every request
//     but the Lease's), slow replies, dropped watches, watches answered 410
//     (a re-list), metrics APIs unavailable, the leader's lease requests
//     stalled past its renew deadline (a rule on its User-Agent), kill -9
//     of the leader, SIGSTOP of the leader for longer than the lease then
//     SIGCONT. Faults run one at a time with gaps; a quiet tail ends the run.
//  5. SIGTERMs both replicas and checks (see bench/README.md "Chaos soak"):
//     - writers: the simulator recorded every write (scale, status, events)
//       with the writer's User-Agent, which carries its leader-election
//       identity; each identity's writes span [first arrival, last answer];
//       no two spans may overlap. Writes of a SIGSTOPped leader arriving
//       within 2 s of its SIGCONT were already past their lease check when
//       it froze (Kubernetes has no fencing tokens): they are counted apart
//       and must be at most one per worker.
//     - bounds: every successful scale write within [min, max] and within
//       the HPA's rate limits (legacy path L3: max(2S, 4); behavior B5/B6:
//       scaleUp max(+2, +50%) per 30 s, scaleDown -10% per 60 s), with
//       kSlackS of slack on the period boundaries: the simulator stamps
//       arrival, the controller stamps its decision earlier by the request's
//       latency (up to a slow fault's delay). A rescale over a limit that
//       is within it counting only the scale events its writer could know
//       (not the previous leader's events missing from the persisted
//       history, not a write it saw fail that the server applied) is a
//       finding, counted apart (--strict-history, as CI runs it: a
//       violation; hpad keeps such events since issue 15's fix).
//     - outage: no scale-down of an HPA whose metrics API was failing,
//       for writes arriving later than kSlackS after the outage began.
//     - recovery: from the end of each fault (kill/stop: from the signal,
//       when the leader was lost) to the first error-free reconcile logged
//       by any replica (of an affected HPA for a metrics outage); every
//       fault must recover before the run ends.
//     - process: exits other than our kill -9, "leaderelection lost" exits
//       (code 1, the fencing design: a replica that lost its lease exits)
//       and the final SIGTERM are crashes (must be 0); RSS of each replica
//       alive through the quiet tail, at its start and end (growth < 10%).
//     - writes: scale/status/event writes per minute against the
//       upstream-shaped figure (bench_lib.h AddUpstreamPerPeriod).
//
// Exit status: 0 when every invariant held; 1 on a violation or when the
// run broke (hpad never reconciled everything, ...); 2 on bad arguments.
//
// A composition root and a benchmark: reads the wall clock (RealClock,
// steady_clock), forks processes, sends signals.
#include <signal.h>
#include <sys/types.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "bench/bench_lib.h"
#include "k8sclient/api/time_format.h"
#include "k8sclient/api_client.h"
#include "k8sclient/base/clock.h"
#include "sim/apiserver/api_server.h"
#include "sim/apiserver/cluster_state.h"
#include "sim/workload.h"

namespace {

using hpad::Time;
using namespace hpad::bench;  // NOLINT: the shared benchmark vocabulary (bench_lib.h)
namespace fs = std::filesystem;
using Clock = std::chrono::system_clock;

constexpr int kMinReplicas = 1;
constexpr int kMaxReplicas = 10;
constexpr int kInitialReplicas = 3;
constexpr int kMaxLevel = 13;  // load in pods' worth; above kMaxReplicas so maxReplicas is hit
constexpr double kSlackS = 3.0;
constexpr double kFrozenInFlightS = 2.0;
constexpr double kRssGrowthLimit = 0.10;

Clock::duration Seconds(double s) {
  return std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(s));
}
double SecondsBetween(Time a, Time b) { return std::chrono::duration<double>(b - a).count(); }

// ---------------------------------------------------------------------------
// Options

struct Options {
  double duration_s = 1800;  // from the end of the warm-up to the end
  uint64_t seed = 1;
  int hpas = 200;
  int hpas_per_namespace = 20;
  double sync_period_s = 5;
  int lease_s = 6, renew_s = 4, retry_s = 1;
  int workers = 5;  // --concurrent-horizontal-pod-autoscaler-syncs
  bool short_run = false;
  bool keep_dir = false;
  bool strict_history = false;  // hand-over rate-limit excess is a violation
  std::string hpad;
};

void Usage() {
  std::printf(
      "usage: chaos_soak [--duration SECONDS] [--seed N] [--short] [--hpas N] [--sync-period SECONDS]\n"
      "                  [--lease SECONDS] [--renew SECONDS] [--retry SECONDS] [--workers N]\n"
      "                  [--hpad PATH] [--keep-dir] [--strict-history]\n"
      "  --strict-history: a rescale over a behavior rate limit that only scale events its writer could not\n"
      "                    know explain (a previous leader's, a write it saw fail that was applied) is a\n"
      "                    violation, not a finding (CI uses it: hpad writes such events ahead, issue 15)\n"
      "  --short: every fault kind once with short durations (the CI run, about 60-70 s with start-up)\n"
      "  hpad defaults to $HPAD_BINARY_DIR/hpad, else ../controller/hpad next to this binary\n");
}

std::optional<Options> ParseArgs(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; i++) {
    std::string a = argv[i];
    auto value = [&]() -> std::optional<std::string> {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "chaos_soak: %s needs a value\n", a.c_str());
        return std::nullopt;
      }
      return std::string(argv[++i]);
    };
    auto number = [&](double* out) -> bool {
      auto v = value();
      if (!v) return false;
      char* end = nullptr;
      *out = std::strtod(v->c_str(), &end);
      if (v->empty() || *end != '\0' || !std::isfinite(*out)) {
        std::fprintf(stderr, "chaos_soak: %s: not a number: %s\n", a.c_str(), v->c_str());
        return false;
      }
      return true;
    };
    double d = 0;
    if (a == "--duration") {
      if (!number(&o.duration_s)) return std::nullopt;
    } else if (a == "--seed") {
      if (!number(&d)) return std::nullopt;
      o.seed = static_cast<uint64_t>(d);
    } else if (a == "--hpas") {
      if (!number(&d)) return std::nullopt;
      o.hpas = static_cast<int>(d);
    } else if (a == "--sync-period") {
      if (!number(&o.sync_period_s)) return std::nullopt;
    } else if (a == "--lease") {
      if (!number(&d)) return std::nullopt;
      o.lease_s = static_cast<int>(d);
    } else if (a == "--renew") {
      if (!number(&d)) return std::nullopt;
      o.renew_s = static_cast<int>(d);
    } else if (a == "--retry") {
      if (!number(&d)) return std::nullopt;
      o.retry_s = static_cast<int>(d);
    } else if (a == "--workers") {
      if (!number(&d)) return std::nullopt;
      o.workers = static_cast<int>(d);
    } else if (a == "--short") {
      o.short_run = true;
    } else if (a == "--keep-dir") {
      o.keep_dir = true;
    } else if (a == "--strict-history") {
      o.strict_history = true;
    } else if (a == "--hpad") {
      auto v = value();
      if (!v) return std::nullopt;
      o.hpad = *v;
    } else if (a == "-h" || a == "--help") {
      Usage();
      std::exit(0);
    } else {
      std::fprintf(stderr, "chaos_soak: unknown argument %s\n", argv[i]);
      Usage();
      return std::nullopt;
    }
  }
  if (o.hpas < 10 || o.hpas > 5000 || o.sync_period_s < 1 || o.duration_s < 30 || o.duration_s > 86400 ||
      o.retry_s < 1 || o.renew_s <= o.retry_s || o.lease_s <= o.renew_s || o.workers < 1) {
    std::fprintf(stderr,
                 "chaos_soak: need 10 <= hpas <= 5000, sync period >= 1 s, 30 s <= duration <= 1 day, "
                 "lease > renew > retry >= 1 s, workers >= 1\n");
    return std::nullopt;
  }
  return o;
}

// ---------------------------------------------------------------------------
// The fault schedule

enum class FaultKind { k5xx, k429, kSlow, kWatchDrop, kWatch410, kMetricsDown, kLeaseStall, kKill, kStop };
constexpr std::array<FaultKind, 9> kAllKinds = {FaultKind::k5xx,        FaultKind::k429,       FaultKind::kSlow,
                                                FaultKind::kWatchDrop,  FaultKind::kWatch410,  FaultKind::kMetricsDown,
                                                FaultKind::kLeaseStall, FaultKind::kKill,      FaultKind::kStop};

const char* KindName(FaultKind k) {
  switch (k) {
    case FaultKind::k5xx: return "api-5xx";
    case FaultKind::k429: return "api-429";
    case FaultKind::kSlow: return "api-slow";
    case FaultKind::kWatchDrop: return "watch-drop";
    case FaultKind::kWatch410: return "watch-410";
    case FaultKind::kMetricsDown: return "metrics-down";
    case FaultKind::kLeaseStall: return "lease-stall";
    case FaultKind::kKill: return "kill-9";
    case FaultKind::kStop: return "sigstop";
  }
  return "?";
}

bool IsProcessFault(FaultKind k) {
  return k == FaultKind::kLeaseStall || k == FaultKind::kKill || k == FaultKind::kStop;
}

// Metrics API bits.
constexpr int kResourceApi = 1, kCustomApi = 2, kExternalApi = 4;

int ApisOf(HpaKind k) {
  switch (k) {
    case HpaKind::kPodsMetric: return kCustomApi;
    case HpaKind::kExternal: return kExternalApi;
    default: return kResourceApi;
  }
}

std::string ApiNames(int mask) {
  std::string s;
  if (mask & kResourceApi) s += "resource";
  if (mask & kCustomApi) s += std::string(s.empty() ? "" : "+") + "custom";
  if (mask & kExternalApi) s += std::string(s.empty() ? "" : "+") + "external";
  return s;
}

struct Fault {
  FaultKind kind = FaultKind::k5xx;
  double at_s = 0;   // after the warm-up
  double len_s = 0;  // 0: an instant (kill, watch drop)
  int apis = 0;      // kMetricsDown
  int slow_ms = 0;   // kSlow
  double gap_s = 0;  // quiet time planned after it
  // Filled in as it plays.
  bool started = false, ended = false, skipped = false;
  Time start_time{}, end_time{};
  std::string target;  // the leader identity it hit (process faults)
  std::optional<double> recovery_s;
  std::optional<Time> waiting_since = std::nullopt;  // a process fault waiting for a live leader
};

// The short run's lengths (issue 15: about 60 s in CI, each kind played
// once and checked). Each is the least that still does the fault's work: a
// request fault spans more than one retry and some reconciles; the metrics
// outage one sync period, so every HPA reconciles inside it; the lease stall
// just passes the renew deadline (the leader fences itself and exits); a
// SIGSTOP outlasts the lease by 2 s, so the standby has taken over before
// SIGCONT. Gaps only let the fault's recovery show before the next one: a
// kill needs the lease to expire and the standby to start (lease + 1 s),
// a lease stall the rest of that (renew), a SIGSTOP nothing more (its
// successor leads before the SIGCONT).
constexpr double kShortRequestFaultS = 3, kShortSlowS = 4, kShortGapS = 2, kShortTailS = 6;

std::vector<Fault> MakeSchedule(const Options& o, std::mt19937_64& rng, double* tail_start_s) {
  auto uniform = [&](double lo, double hi) { return std::uniform_real_distribution<double>(lo, hi)(rng); };
  const double lease = o.lease_s;
  const double tail = o.short_run ? kShortTailS : std::max(60.0, o.duration_s * 0.1);
  const double last = o.duration_s - tail;  // every fault (and its gap) ends by here
  std::vector<Fault> out;
  double t = o.short_run ? 1 : 10;
  bool full = false;
  while (!full) {
    std::vector<FaultKind> round(kAllKinds.begin(), kAllKinds.end());
    std::shuffle(round.begin(), round.end(), rng);
    for (FaultKind k : round) {
      Fault f;
      f.kind = k;
      const bool s = o.short_run;
      switch (k) {
        case FaultKind::k5xx:
        case FaultKind::k429:
          f.len_s = s ? kShortRequestFaultS : uniform(10, 20);
          break;
        case FaultKind::kSlow:
          f.len_s = s ? kShortSlowS : uniform(10, 30);
          // Below renew / 2: a renew (GET + PUT) still fits its deadline.
          f.slow_ms = s ? 1000 : static_cast<int>(uniform(300, o.renew_s * 1000 / 2.5));
          break;
        case FaultKind::kWatchDrop:
        case FaultKind::kKill:
          f.len_s = 0;
          break;
        case FaultKind::kWatch410:
          f.len_s = s ? kShortRequestFaultS : uniform(5, 15);
          break;
        case FaultKind::kMetricsDown:
          f.len_s = s ? o.sync_period_s : uniform(60, 120);
          f.apis = s ? (kResourceApi | kCustomApi | kExternalApi) : 1 + static_cast<int>(rng() % 7);
          break;
        case FaultKind::kLeaseStall:
          f.len_s = o.renew_s + (s ? 1 : 4);
          break;
        case FaultKind::kStop:
          f.len_s = lease + (s ? 2 : uniform(2, 10));
          break;
      }
      // Gaps: a process fault needs a lease period for the hand-over plus a
      // restart; the others a few seconds for the recovery to show.
      double gap = 0;
      if (!s) {
        gap = IsProcessFault(k) ? lease + uniform(5, 25) : uniform(10, 30);
      } else if (k == FaultKind::kKill) {
        gap = lease + 1;
      } else if (k == FaultKind::kLeaseStall) {
        gap = o.renew_s;
      } else {
        gap = kShortGapS;
      }
      if (t + f.len_s + gap > last) {
        full = true;
        if (s) break;
        continue;  // a shorter kind may still fit
      }
      f.at_s = t;
      f.gap_s = gap;
      out.push_back(f);
      t += f.len_s + gap;
    }
    if (o.short_run) break;
  }
  *tail_start_s = last;
  return out;
}

// ---------------------------------------------------------------------------
// The generated cluster

struct SoakHpa {
  Target target;
  std::vector<std::pair<double, int>> levels;  // (seconds after the cluster start, pods' worth of load)
};

hpad::sim::WorkloadSpec SpecFor(const SoakHpa& h) {
  hpad::sim::WorkloadSpec w;
  w.target = {"apps/v1", "Deployment", h.target.ns, h.target.name};
  w.has_pod_template = true;
  w.cpu_request = std::to_string(kCpuRequestMilli) + "m";
  w.memory_request = std::to_string(kMemoryRequestMi) + "Mi";
  w.startup_delay = std::chrono::seconds(1);
  w.readiness_delay = std::chrono::seconds(2);
  const int64_t mib_milli = int64_t{1048576} * 1000;
  w.idle_milli = {{"cpu", 2}, {"memory", 50 * mib_milli}};
  for (const auto& [at, level] : h.levels) {
    hpad::sim::LoadEntry e;
    e.at = std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::duration<double>(at));
    // Per-pod targets times the level: desired replicas ~ level.
    e.milli["cpu"] = int64_t{level} * kCpuRequestMilli * kCpuTargetPercent / 100;
    e.milli["memory"] = int64_t{kInitialReplicas} * 200 * mib_milli;  // below the 256Mi target from 3 pods
    if (h.target.kind == HpaKind::kPodsMetric) e.milli["requests_per_second"] = int64_t{level} * kPodsMetricTarget * 1000;
    w.load.push_back(e);
  }
  return w;
}

Json ExternalValue(const Target& t, int level, Time now) {
  return Json{{"apiVersion", "external.metrics.k8s.io/v1beta1"},
              {"kind", "ExternalMetricValue"},
              {"metadata", {{"namespace", t.ns}, {"name", "queue-" + t.name}}},
              {"metricName", "queue_messages"},
              {"metricLabels", {{"queue", t.name}}},
              {"timestamp", hpad::k8s::FormatRfc3339(now)},
              {"value", std::to_string(kExternalTargetPerPod * level)}};
}

hpad::Status Apply(hpad::sim::ClusterState& state, const Json& obj) {
  auto r = state.Apply(obj);
  if (r.ok()) return hpad::Status::Ok();
  return hpad::Status(r.status().code(), "generating " + obj.value("kind", "") + " " +
                                             obj["metadata"].value("namespace", "") + "/" +
                                             obj["metadata"].value("name", "") + ": " + r.status().message());
}

hpad::Result<std::vector<SoakHpa>> Generate(hpad::sim::ClusterState& state, const Options& o, Time now,
                                            double run_s, std::mt19937_64& rng) {
  std::vector<SoakHpa> out;
  const int namespaces = (o.hpas + o.hpas_per_namespace - 1) / o.hpas_per_namespace;
  for (const std::string& ns : {std::string("kube-system")}) {
    if (auto s = Apply(state, Json{{"apiVersion", "v1"}, {"kind", "Namespace"}, {"metadata", {{"name", ns}}}}); !s.ok())
      return s;
  }
  for (int n = 0; n < namespaces; n++) {
    Json ns = {{"apiVersion", "v1"}, {"kind", "Namespace"}, {"metadata", {{"name", "soak-" + Pad(n, 4)}}}};
    if (auto s = Apply(state, ns); !s.ok()) return s;
  }
  const double change_lo = o.short_run ? 20 : 40, change_hi = o.short_run ? 40 : 120;
  for (int i = 0; i < o.hpas; i++) {
    SoakHpa h;
    h.target = {"soak-" + Pad(i / o.hpas_per_namespace, 4), "app-" + Pad(i % o.hpas_per_namespace, 4), KindOf(i)};
    int level = kInitialReplicas;
    h.levels.push_back({0, level});
    for (double t = std::uniform_real_distribution<double>(10, change_hi)(rng); t < run_s;
         t += std::uniform_real_distribution<double>(change_lo, change_hi)(rng)) {
      int next = level;
      while (std::abs(next - level) < 2) next = 1 + static_cast<int>(rng() % kMaxLevel);
      level = next;
      h.levels.push_back({t, level});
    }
    Json labels = {{"app", h.target.name}};
    Json dep = {{"apiVersion", "apps/v1"},
                {"kind", "Deployment"},
                {"metadata", {{"namespace", h.target.ns}, {"name", h.target.name}, {"labels", labels}}},
                {"spec",
                 {{"replicas", kInitialReplicas},
                  {"selector", {{"matchLabels", labels}}},
                  {"template",
                   {{"metadata", {{"labels", labels}}},
                    {"spec", {{"containers", Json::array({{{"name", "app"}, {"image", "registry.example/app:1"}}})}}}}}}},
                {"status",
                 {{"replicas", kInitialReplicas},
                  {"readyReplicas", kInitialReplicas},
                  {"availableReplicas", kInitialReplicas},
                  {"updatedReplicas", kInitialReplicas}}}};
    if (auto s = Apply(state, dep); !s.ok()) return s;
    if (h.target.kind == HpaKind::kExternal) {
      if (auto s = Apply(state, ExternalValue(h.target, h.levels[0].second, now)); !s.ok()) return s;
    }
    if (auto s = Apply(state, HpaJson(h.target, kMinReplicas, kMaxReplicas)); !s.ok()) return s;
    out.push_back(std::move(h));
  }
  return out;
}

// The simulator's serve loop (sim/main.cc Serve) for the generated
// workloads, plus the External metric values following the levels.
class WorkloadThread {
 public:
  WorkloadThread(hpad::sim::ClusterState& state, const std::vector<SoakHpa>& hpas, Time start)
      : state_(state), hpas_(hpas), start_(start) {
    std::vector<hpad::sim::WorkloadSpec> specs;
    for (const auto& h : hpas) specs.push_back(SpecFor(h));
    sim_ = std::make_unique<hpad::sim::WorkloadSimulator>(state, specs, start, std::chrono::seconds(5));
  }
  hpad::Status Initialize() {
    auto s = sim_->Initialize(start_);
    if (s.ok()) s = sim_->SampleIfDue(start_);
    return s;
  }
  void Start() {
    thread_ = std::thread([this] { Run(); });
  }
  void Stop() {
    stop_ = true;
    hpad::RealClock::Instance().Notify();
    if (thread_.joinable()) thread_.join();
  }
  int64_t errors() const { return errors_; }

 private:
  void Run() {
    hpad::RealClock& clock = hpad::RealClock::Instance();
    Time last = start_;
    std::vector<size_t> next_level(hpas_.size(), 1);
    while (!stop_) {
      const Time now = clock.Now();
      hpad::Status s;
      while (s.ok()) {
        auto n = sim_->NextEventAfter(last);
        if (!n || *n > now) break;
        s = sim_->ApplyTransitions(*n);
        if (s.ok()) s = sim_->SampleIfDue(*n);
        last = *n;
      }
      if (s.ok()) s = sim_->Reconcile(now);
      if (!s.ok()) Error(s.message());
      for (size_t i = 0; i < hpas_.size(); i++) {
        const SoakHpa& h = hpas_[i];
        if (h.target.kind != HpaKind::kExternal) continue;
        while (next_level[i] < h.levels.size() && start_ + Seconds(h.levels[next_level[i]].first) <= now) {
          auto r = state_.Apply(ExternalValue(h.target, h.levels[next_level[i]].second, now));
          if (!r.ok()) Error(r.status().message());
          next_level[i]++;
        }
      }
      clock.WaitUntil(now + std::chrono::milliseconds(250), [this] { return stop_.load(); });
    }
  }
  void Error(const std::string& m) {
    if (errors_++ < 5) std::fprintf(stderr, "chaos_soak: workload: %s\n", m.c_str());
  }

  hpad::sim::ClusterState& state_;
  const std::vector<SoakHpa>& hpas_;
  Time start_;
  std::unique_ptr<hpad::sim::WorkloadSimulator> sim_;
  std::thread thread_;
  std::atomic<bool> stop_{false};
  std::atomic<int64_t> errors_{0};
};

// ---------------------------------------------------------------------------
// The hpad replicas

struct Proc {
  std::string slot;  // "a" or "b"
  int generation = 0;
  pid_t pid = -1;
  std::string log_path;
  std::unique_ptr<LogReader> log;
  Time started{};
  bool killed = false;   // by our kill -9
  bool stopped = false;  // SIGSTOPped now
  bool terminating = false;  // our final SIGTERM
  std::optional<int> exit_code;
  Time exited_at{};
  int64_t rss_tail_start_kb = -1, rss_end_kb = -1, peak_rss_kb = -1;
};

std::string IdentityOfUserAgent(const std::string& ua) {
  // "hpad/<version> (<identity>)"
  auto open = ua.rfind('(');
  auto close = ua.rfind(')');
  if (open == std::string::npos || close == std::string::npos || close < open) return ua;
  return ua.substr(open + 1, close - open - 1);
}

// ---------------------------------------------------------------------------
// Checks

// The replica count in effect over [from, to] given the successful scale
// writes (answer time, replicas), oldest first: every value that held at
// some instant of the window.
std::vector<int64_t> ValuesOver(const std::vector<std::pair<Time, int64_t>>& history, Time from, Time to) {
  std::vector<int64_t> out;
  for (size_t i = 0; i < history.size(); i++) {
    const Time begin = history[i].first;
    const Time end = i + 1 < history.size() ? history[i + 1].first : Time::max();
    if (begin <= to && end >= from) out.push_back(history[i].second);
  }
  return out;
}

struct Row {
  std::string what, value, limit, verdict;
};

}  // namespace

int main(int argc, char** argv) {
  auto parsed = ParseArgs(argc, argv);
  if (!parsed) return 2;
  Options o = *parsed;
  signal(SIGPIPE, SIG_IGN);
  const std::string hpad_path = o.hpad.empty() ? DefaultHpadPath(argv[0]) : o.hpad;
  if (access(hpad_path.c_str(), X_OK) != 0) {
    std::fprintf(stderr, "chaos_soak: no hpad binary at %s (use --hpad PATH or HPAD_BINARY_DIR)\n", hpad_path.c_str());
    return 1;
  }
  hpad::RealClock& clock = hpad::RealClock::Instance();
  std::mt19937_64 rng(o.seed);

  // The schedule first: its length sets the short run's duration.
  if (o.short_run) o.duration_s = 200;  // an upper bound; trimmed below
  double tail_start_s = 0;
  std::vector<Fault> faults = MakeSchedule(o, rng, &tail_start_s);
  if (o.short_run) {
    double end = 0;
    for (const Fault& f : faults) end = std::max(end, f.at_s + f.len_s + f.gap_s);
    tail_start_s = end;
    o.duration_s = tail_start_s + kShortTailS;
  }

  std::string dir_template = (fs::temp_directory_path() / "chaos_soak.XXXXXX").string();
  if (mkdtemp(dir_template.data()) == nullptr) {
    std::fprintf(stderr, "chaos_soak: mkdtemp: %s\n", std::strerror(errno));
    return 1;
  }
  const fs::path dir = dir_template;
  const std::string kubeconfig = (dir / "kubeconfig").string();

  // 1. Generate.
  hpad::sim::ClusterState state(clock);
  const Time cluster_start = clock.Now();
  auto hpas = Generate(state, o, cluster_start, o.duration_s + 300, rng);
  if (!hpas.ok()) {
    std::fprintf(stderr, "chaos_soak: %s\n", hpas.status().message().c_str());
    return 1;
  }
  std::map<std::string, HpaKind> kind_of;  // "ns/name"
  for (const auto& h : *hpas) kind_of[h.target.ns + "/" + h.target.name] = h.target.kind;
  WorkloadThread workloads(state, *hpas, cluster_start);
  if (auto s = workloads.Initialize(); !s.ok()) {
    std::fprintf(stderr, "chaos_soak: workloads: %s\n", s.message().c_str());
    return 1;
  }
  workloads.Start();

  // 2. Serve.
  hpad::sim::ApiServerOptions so;
  hpad::sim::ApiServer server(state, so);
  if (auto port = server.Start(); !port.ok()) {
    std::fprintf(stderr, "chaos_soak: starting the API server: %s\n", port.status().message().c_str());
    return 1;
  }
  if (auto s = server.WriteKubeconfig(kubeconfig); !s.ok()) {
    std::fprintf(stderr, "chaos_soak: %s\n", s.message().c_str());
    return 1;
  }

  // 3. Two replicas.
  auto ms = [](double s) { return std::to_string(static_cast<int64_t>(std::llround(s * 1000))) + "ms"; };
  const std::vector<std::string> args = {
      "--kubeconfig=" + kubeconfig,
      "--leader-elect=true",
      "--leader-elect-lease-duration=" + std::to_string(o.lease_s) + "s",
      "--leader-elect-renew-deadline=" + std::to_string(o.renew_s) + "s",
      "--leader-elect-retry-period=" + std::to_string(o.retry_s) + "s",
      "--bind-address=127.0.0.1",
      "--port=0",
      "--horizontal-pod-autoscaler-sync-period=" + ms(o.sync_period_s),
      // Scale-downs inside a short run (the outage check needs some).
      "--horizontal-pod-autoscaler-downscale-stabilization=15s",
      "--concurrent-horizontal-pod-autoscaler-syncs=" + std::to_string(o.workers),
      "--kube-api-qps=200",
      "--kube-api-burst=400",
      "--v=2"};
  std::string cmdline = hpad_path;
  for (const auto& a : args) cmdline += " " + a;
  std::vector<std::unique_ptr<Proc>> procs;
  std::array<Proc*, 2> slots{};
  std::time_t tt = Clock::to_time_t(clock.Now());
  std::tm utc{};
  gmtime_r(&tt, &utc);
  const int year = utc.tm_year + 1900;
  std::vector<std::string> failures;
  auto start_proc = [&](int slot, int generation) -> bool {
    auto p = std::make_unique<Proc>();
    p->slot = slot == 0 ? "a" : "b";
    p->generation = generation;
    p->log_path = (dir / ("hpad-" + p->slot + "." + std::to_string(generation) + ".log")).string();
    p->log = std::make_unique<LogReader>(p->log_path, year);
    p->started = clock.Now();
    p->pid = StartHpad(hpad_path, args, p->log_path);
    if (p->pid < 0) {
      failures.push_back(std::string("fork: ") + std::strerror(errno));
      return false;
    }
    slots[static_cast<size_t>(slot)] = p.get();
    procs.push_back(std::move(p));
    return true;
  };
  std::fprintf(stderr, "chaos_soak: seed %llu, %d HPAs, %s\n", static_cast<unsigned long long>(o.seed), o.hpas,
               cmdline.c_str());
  std::array<int, 2> generations{0, 0};
  bool ok = start_proc(0, 0) && start_proc(1, 0);

  auto poll = [&] {
    for (auto& p : procs) p->log->Poll();
    for (size_t i = 0; i < 2; i++) {
      Proc* p = slots[i];
      if (p == nullptr || p->exit_code) continue;
      p->peak_rss_kb = std::max(p->peak_rss_kb, ReadStatusKb(p->pid, "VmRSS"));
      if (auto st = ExitStatus(p->pid)) {
        p->exit_code = st;
        p->exited_at = clock.Now();
        p->log->Poll();
        std::fprintf(stderr, "chaos_soak: replica %s.%d (%s) exited with %d%s\n", p->slot.c_str(), p->generation,
                     p->log->identity().c_str(), *st, p->killed ? " (our kill -9)" : "");
        if (!p->terminating) start_proc(static_cast<int>(i), ++generations[i]);
      }
    }
  };
  auto leader = [&]() -> Proc* {
    auto lease = state.Get(hpad::k8s::resources::kLeases, "kube-system", "hpad");
    if (!lease.ok()) return nullptr;
    const Json* spec = lease->contains("spec") && (*lease)["spec"].is_object() ? &(*lease)["spec"] : nullptr;
    if (spec == nullptr || !spec->contains("holderIdentity") || !(*spec)["holderIdentity"].is_string()) return nullptr;
    const std::string holder = (*spec)["holderIdentity"].get<std::string>();
    for (Proc* p : slots)
      if (p != nullptr && !p->exit_code && !p->stopped && p->log->identity() == holder) return p;
    return nullptr;
  };

  // 4a. First full pass (by whichever replica leads) and one period of warm-up.
  const Time first_deadline = clock.Now() + Seconds(90 + o.hpas / 4.0);
  auto reconciled_keys = [&] {
    std::set<std::string> keys;
    for (auto& p : procs)
      for (const auto& [k, v] : p->log->by_key()) keys.insert(k);
    return keys.size();
  };
  while (ok) {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    poll();
    if (static_cast<int>(reconciled_keys()) >= o.hpas) break;
    if (clock.Now() > first_deadline) {
      failures.push_back(std::to_string(o.hpas - static_cast<int>(reconciled_keys())) + " of " +
                         std::to_string(o.hpas) + " HPAs never reconciled at start");
      ok = false;
    }
  }
  // The short run warms up for 1 s only: the first pass has just touched
  // every HPA, which is what the warm-up is for.
  const Time warm_until = clock.Now() + Seconds(o.short_run ? 1.0 : o.sync_period_s);
  while (ok && clock.Now() < warm_until) {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    poll();
  }
  const Time t0 = clock.Now();
  // A process fault waits (up to two lease periods) for a live leader: after
  // a kill the lease is held by the dead replica until it expires. The wait
  // shifts everything after it, the tail and the end included.
  Clock::duration shift{0};
  const Time tail_start_planned = t0 + Seconds(tail_start_s);
  const Time end_planned = t0 + Seconds(o.duration_s);
  const auto counts0 = server.requests().Counts();
  std::fprintf(stderr, "chaos_soak: steady at %.1f s after start; %zu faults over %.0f s, quiet tail from %.0f s\n",
               SecondsBetween(cluster_start, t0), faults.size(), o.duration_s, tail_start_s);

  // 4b. The schedule.
  auto begin_fault = [&](Fault& f) {
    f.started = true;
    f.start_time = clock.Now();
    hpad::sim::FaultSet set;
    hpad::sim::RequestFaultRule exempt_leases{"", "leases", "", 0, -1};
    switch (f.kind) {
      case FaultKind::k5xx:
      case FaultKind::k429:
        set.apiserver_rules = {exempt_leases, {"", "", "*", f.kind == FaultKind::k5xx ? 500 : 429, -1}};
        server.faults().Set(set);
        break;
      case FaultKind::kSlow:
        set.apiserver.kind = hpad::sim::ApiFault::Kind::kSlow;
        set.apiserver.delay = std::chrono::milliseconds(f.slow_ms);
        server.faults().Set(set);
        break;
      case FaultKind::kWatchDrop:
        f.target = std::to_string(server.DropWatches()) + " watches";
        break;
      case FaultKind::kWatch410:
        set.apiserver_rules = {{"watch", "", "*", 410, -1}};
        server.faults().Set(set);
        f.target = std::to_string(server.DropWatches()) + " watches";
        break;
      case FaultKind::kMetricsDown: {
        hpad::sim::ApiFault down;
        down.kind = hpad::sim::ApiFault::Kind::kUnavailable;
        if (f.apis & kResourceApi) set.resource_metrics = down;
        if (f.apis & kCustomApi) set.custom_metrics = down;
        if (f.apis & kExternalApi) set.external_metrics = down;
        server.faults().Set(set);
        f.target = ApiNames(f.apis);
        break;
      }
      case FaultKind::kLeaseStall:
      case FaultKind::kKill:
      case FaultKind::kStop: {
        Proc* l = leader();
        if (l == nullptr) {
          f.skipped = true;
          f.ended = true;
          f.end_time = f.start_time;
          f.target = "no live leader";
          break;
        }
        f.target = l->slot + "." + std::to_string(l->generation) + " " + l->log->identity();
        if (f.kind == FaultKind::kLeaseStall) {
          hpad::sim::RequestFaultRule stall{"", "leases", "", 0, -1};
          stall.user_agent = "(" + l->log->identity() + ")";
          stall.delay = std::chrono::seconds(o.renew_s + 4);
          set.apiserver_rules = {stall};
          server.faults().Set(set);
        } else if (f.kind == FaultKind::kKill) {
          l->killed = true;
          kill(l->pid, SIGKILL);
        } else {
          l->stopped = true;
          kill(l->pid, SIGSTOP);
        }
        break;
      }
    }
    std::fprintf(stderr, "chaos_soak: t=%6.1f s %s%s %s\n", SecondsBetween(t0, f.start_time), KindName(f.kind),
                 f.skipped ? " SKIPPED" : "", f.target.c_str());
  };
  auto end_fault = [&](Fault& f) {
    f.ended = true;
    f.end_time = clock.Now();
    server.faults().Set({});
    if (f.kind == FaultKind::kStop) {
      for (auto& p : procs)
        if (p->stopped) {
          p->stopped = false;
          kill(p->pid, SIGCONT);
        }
    }
  };
  bool rss_sampled = false;
  while (ok && clock.Now() < end_planned + shift) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    const Time now = clock.Now();
    const Time tail_start = tail_start_planned + shift;
    for (Fault& f : faults)
      if (f.started && !f.ended && now >= f.start_time + Seconds(f.len_s)) end_fault(f);
    for (Fault& f : faults) {  // in schedule order
      if (f.started) continue;
      const Time due = t0 + Seconds(f.at_s) + shift;
      if (now < due) break;
      if (IsProcessFault(f.kind) && leader() == nullptr) {
        if (!f.waiting_since) f.waiting_since = now;
        if (now < *f.waiting_since + Seconds(2.0 * o.lease_s)) {
          shift += now - due;  // wait for a leader; later faults move with it
          break;
        }
      }
      begin_fault(f);
    }
    poll();
    if (!rss_sampled && now >= tail_start) {
      rss_sampled = true;
      for (Proc* p : slots)
        if (p != nullptr && !p->exit_code) p->rss_tail_start_kb = ReadStatusKb(p->pid, "VmRSS");
    }
  }
  for (Fault& f : faults)
    if (f.started && !f.ended) end_fault(f);
  for (Proc* p : slots)
    if (p != nullptr && !p->exit_code) p->rss_end_kb = ReadStatusKb(p->pid, "VmRSS");
  const Time measured_end = clock.Now();
  const auto counts1 = server.requests().Counts();

  // 5. Stop.
  for (Proc* p : slots) {
    if (p == nullptr || p->exit_code) continue;
    p->terminating = true;
    kill(p->pid, SIGCONT);
    kill(p->pid, SIGTERM);
  }
  for (int i = 0; i < 300; i++) {  // 30 s
    poll();
    bool all = true;
    for (Proc* p : slots) all = all && (p == nullptr || p->exit_code.has_value());
    if (all) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  for (Proc* p : slots) {
    if (p != nullptr && !p->exit_code) {
      kill(p->pid, SIGKILL);
      failures.push_back("replica " + p->slot + " did not exit within 30 s of SIGTERM");
      while (!ExitStatus(p->pid)) std::this_thread::sleep_for(std::chrono::milliseconds(50));
      p->exit_code = 137;
    }
  }
  for (auto& p : procs) p->log->Poll();
  workloads.Stop();
  server.Stop();

  // ---- the checks ----
  std::vector<Row> rows;
  int violations = 0;
  auto verdict = [&](bool good) {
    if (!good) violations++;
    return std::string(good ? "ok" : "VIOLATED");
  };
  std::vector<std::string> details;
  auto detail = [&](const std::string& d) {
    if (details.size() < 40) details.push_back(d);
  };

  const auto writes = server.requests().Writes();
  {
    // Every write, for the record (kept with the logs on failure or --keep-dir).
    std::ofstream out(dir / "writes.tsv");
    out << "arrived_s\tanswered_s\tcode\tverb\tresource\tnamespace\tname\treplicas\twriter\n";
    for (const auto& w : writes) {
      out << Fixed(SecondsBetween(t0, w.arrived), 3) << "\t" << Fixed(SecondsBetween(t0, w.answered), 3) << "\t"
          << w.code << "\t" << w.verb << "\t" << w.resource << (w.subresource.empty() ? "" : "/" + w.subresource)
          << "\t" << w.ns << "\t" << w.name << "\t" << w.replicas << "\t" << IdentityOfUserAgent(w.user_agent)
          << "\n";
    }
  }
  // Writers.
  struct Span {
    Time first = Time::max(), last = Time::min();
    int64_t writes = 0;
  };
  std::map<std::string, Span> spans;
  std::map<std::string, int64_t> frozen_in_flight;  // identity -> writes excused
  std::vector<std::pair<std::string, Time>> resumed;  // (identity, SIGCONT time) of stopped leaders
  for (const Fault& f : faults) {
    if (f.kind != FaultKind::kStop || f.skipped || !f.started) continue;
    auto space = f.target.find(' ');
    const std::string frozen = space == std::string::npos ? f.target : f.target.substr(space + 1);
    // Only a leader whose lease another replica took while it was stopped
    // is a stale writer after SIGCONT. The standby may miss the short
    // window between the lease's expiry (as it observed it, up to a retry
    // period late) and the SIGCONT; then the resumed leader renews its own
    // lease, as the Lease protocol allows, and its writes are an ordinary
    // leader's (the overlap check still covers them).
    bool taken = false;
    for (const auto& w : writes)
      if (w.resource == "leases" && w.code >= 200 && w.code < 300 && w.arrived >= f.start_time &&
          w.arrived <= f.end_time && IdentityOfUserAgent(w.user_agent) != frozen)
        taken = true;
    if (!taken) {
      detail("writers: " + frozen + " kept its lease through its SIGSTOP (no other replica took it before SIGCONT)");
      continue;
    }
    resumed.push_back({frozen, f.end_time});
  }
  for (const auto& w : writes) {
    if (w.resource == "leases") continue;
    const std::string id = IdentityOfUserAgent(w.user_agent);
    bool excused = false;
    for (const auto& [rid, cont] : resumed)
      if (rid == id && w.arrived >= cont && w.arrived <= cont + Seconds(kFrozenInFlightS)) excused = true;
    if (excused) {
      frozen_in_flight[id]++;
      continue;
    }
    Span& s = spans[id];
    s.first = std::min(s.first, w.arrived);
    s.last = std::max(s.last, w.answered);
    s.writes++;
  }
  std::vector<std::pair<std::string, Span>> ordered(spans.begin(), spans.end());
  std::sort(ordered.begin(), ordered.end(), [](const auto& a, const auto& b) { return a.second.first < b.second.first; });
  double longest_overlap = 0;
  std::optional<double> min_gap;
  for (size_t i = 0; i < ordered.size(); i++) {
    for (size_t j = i + 1; j < ordered.size(); j++) {
      const double overlap = SecondsBetween(ordered[j].second.first, std::min(ordered[i].second.last, ordered[j].second.last));
      if (overlap > 0) {
        longest_overlap = std::max(longest_overlap, overlap);
        detail("writers: " + ordered[i].first + " and " + ordered[j].first + " both wrote for " + Fixed(overlap, 3) + " s");
      }
    }
    if (i + 1 < ordered.size()) {
      const double gap = SecondsBetween(ordered[i].second.last, ordered[i + 1].second.first);
      min_gap = min_gap ? std::min(*min_gap, gap) : gap;
    }
  }
  int64_t excused_total = 0, excused_max = 0;
  for (const auto& [id, n] : frozen_in_flight) {
    excused_total += n;
    excused_max = std::max(excused_max, n);
  }
  rows.push_back({"writers: identities that wrote (hand-overs)", std::to_string(ordered.size()) + " (" +
                                                                       std::to_string(ordered.empty() ? 0 : ordered.size() - 1) + ")",
                  "", ""});
  rows.push_back({"writers: longest overlap of two writers (s)", Fixed(longest_overlap, 3), "0",
                  verdict(longest_overlap <= 0)});
  rows.push_back({"writers: shortest hand-over gap (s)", min_gap ? Fixed(*min_gap, 3) : "-",
                  "> 0 (design: lease - renew = " + std::to_string(o.lease_s - o.renew_s) + ")", ""});
  rows.push_back({"writers: frozen leader's in-flight writes (max per leader)", std::to_string(excused_total) + " (" +
                                                                                    std::to_string(excused_max) + ")",
                  "<= " + std::to_string(o.workers) + " per leader", verdict(excused_max <= o.workers)});

  // Bounds and outage.
  std::map<std::string, std::vector<std::pair<Time, int64_t>>> history;
  // The generated replica count held since before the run (no scale events).
  for (const auto& [key, kind] : kind_of) history[key] = {{Time::min(), kInitialReplicas}};
  std::vector<const hpad::sim::RequestRecord*> scale_writes;
  for (const auto& w : writes)
    if (w.subresource == "scale" && w.replicas >= 0 && w.code / 100 == 2) scale_writes.push_back(&w);
  std::sort(scale_writes.begin(), scale_writes.end(),
            [](const auto* a, const auto* b) { return a->answered < b->answered; });
  // Scale writes the server applied while their writer logged the rescale
  // as failed (its client gave up, e.g. at the lease fence's deadline,
  // before the slow answer came): the controller records no scale event for
  // them (spec B10 appends events after successful rescales only).
  std::set<const hpad::sim::RequestRecord*> ambiguous;
  for (const auto* w : scale_writes) {
    const std::string writer = IdentityOfUserAgent(w->user_agent);
    const std::string key = w->ns + "/" + w->name;
    for (auto& p : procs) {
      if (p->log->identity() != writer) continue;
      auto it = p->log->by_key().find(key);
      if (it == p->log->by_key().end()) continue;
      for (const Reconcile& r : it->second)
        if (r.rescale_failed && r.at >= w->arrived && r.at <= w->answered + Seconds(2)) ambiguous.insert(w);
    }
  }
  // Per HPA, the successful scale writes so far: (arrival, signed change,
  // writer, ambiguous) - the controller's scale events as far as it can know them.
  struct Change {
    Time at;
    int64_t delta;
    std::string writer;
    bool ambiguous;
  };
  std::map<std::string, std::vector<Change>> changes;
  int64_t rescales = 0, ups = 0, downs = 0, bound_bad = 0, outage_bad = 0, at_max = 0, handover_excess = 0;
  const auto slack = Seconds(kSlackS);
  for (const auto* w : scale_writes) {
    const std::string key = w->ns + "/" + w->name;
    auto kit = kind_of.find(key);
    if (kit == kind_of.end()) continue;
    auto& h = history[key];
    const int64_t s = h.back().second, n = w->replicas;
    if (n == s) continue;
    rescales++;
    (n > s ? ups : downs)++;
    if (n == kMaxReplicas) at_max++;
    std::string bad;
    if (n < kMinReplicas || n > kMaxReplicas) bad = "outside [min, max]";
    const bool behavior = kit->second == HpaKind::kCpuBehavior;
    // The behavior limits (B5/B6) from the replica count at `base` (the
    // period's start), with kSlackS either side.
    auto up_limit = [&](Time base) {
      int64_t limit = s;
      for (int64_t start : ValuesOver(h, base - slack, base + slack))
        limit = std::max(limit, std::max(start + 2, static_cast<int64_t>(std::ceil(static_cast<double>(start) * 1.5))));
      return limit;
    };
    auto down_limit = [&](Time base) {
      int64_t limit = s;
      for (int64_t start : ValuesOver(h, base - slack, base + slack))
        limit = std::min(limit, static_cast<int64_t>(static_cast<double>(start) * 0.9));
      return limit;
    };
    // The writer's own view: scale events before its first write are known
    // only through the persisted history (--persist-history), and a write
    // it logged as failed is no event to it. start = S - the changes it
    // knows of in the period (B5/B9); the window edge moved by kSlackS the
    // permissive way.
    const std::string writer = IdentityOfUserAgent(w->user_agent);
    const Time takeover = spans.count(writer) ? spans.at(writer).first : w->arrived;
    auto known_start = [&](double period_s, bool up) {
      int64_t best = up ? INT64_MIN : INT64_MAX;
      for (double edge : {period_s - kSlackS, period_s + kSlackS}) {
        int64_t start = s;
        for (const Change& c : changes[key])
          if (c.at > w->arrived - Seconds(edge) && c.at >= takeover && !c.ambiguous) start -= c.delta;
        best = up ? std::max(best, start) : std::min(best, start);
      }
      return best;
    };
    bool handover_only = false;
    std::string why;
    auto explain = [&](double period_s) {
      bool before_takeover = false, unknown = false;
      for (const Change& c : changes[key]) {
        if (c.at <= w->arrived - Seconds(period_s + kSlackS)) continue;
        before_takeover = before_takeover || c.at < takeover;
        unknown = unknown || c.ambiguous;
      }
      why = before_takeover ? "a scale event of the previous leader was not in the persisted history"
                            : unknown ? "a scale write it saw fail was applied by the server" : "?";
    };
    if (bad.empty() && n > s) {
      if (behavior) {  // B5: max(start + 2, ceil(start * 1.5)) per 30 s
        const Time base = w->arrived - Seconds(30);
        if (n > up_limit(base)) {
          bad = "scale-up past its limit " + std::to_string(up_limit(base));
          const int64_t st = known_start(30, true);
          handover_only = n <= std::max({s, st + 2, static_cast<int64_t>(std::ceil(static_cast<double>(st) * 1.5))});
          explain(30);
        }
      } else {  // L3: max(2 * S, 4), no history
        int64_t limit = 0;
        for (int64_t cur : ValuesOver(h, w->arrived - slack, w->arrived)) limit = std::max(limit, std::max(2 * cur, int64_t{4}));
        if (n > limit) bad = "scale-up past its limit " + std::to_string(limit);
      }
    }
    if (bad.empty() && n < s && behavior) {  // B6: trunc(start * 0.9) per 60 s
      const Time base = w->arrived - Seconds(60);
      if (n < down_limit(base)) {
        bad = "scale-down past its limit " + std::to_string(down_limit(base));
        const int64_t st = known_start(60, false);
        handover_only = n >= std::min(s, static_cast<int64_t>(static_cast<double>(st) * 0.9));
        explain(60);
      }
    }
    if (!bad.empty()) {
      (handover_only ? handover_excess : bound_bad)++;
      detail(std::string(handover_only && !o.strict_history ? "finding" : "bounds") + ": " + key + " " +
             std::to_string(s) + " -> " + std::to_string(n) + ": " + bad + " (at t=" +
             Fixed(SecondsBetween(t0, w->arrived), 1) + " s by a writer that took over at t=" +
             Fixed(SecondsBetween(t0, takeover), 1) + " s" +
             (handover_only ? "; within the limit from what it knew: " + why : "") + ")");
    }
    changes[key].push_back({w->arrived, n - s, writer, ambiguous.count(w) > 0});
    if (n < s) {
      for (const Fault& f : faults) {
        if (f.kind != FaultKind::kMetricsDown || !f.started) continue;
        if (!(ApisOf(kit->second) & f.apis)) continue;
        const Time until = f.ended ? f.end_time : measured_end;
        if (w->arrived >= f.start_time + slack && w->arrived <= until) {
          outage_bad++;
          detail("outage: " + key + " scaled down " + std::to_string(s) + " -> " + std::to_string(n) + " at t=" +
                 Fixed(SecondsBetween(t0, w->arrived), 1) + " s while " + ApiNames(f.apis) + " metrics were down");
        }
      }
    }
    h.push_back({w->answered, n});
  }
  rows.push_back({"bounds: rescales (up / down / to max)", std::to_string(rescales) + " (" + std::to_string(ups) + " / " +
                                                               std::to_string(downs) + " / " + std::to_string(at_max) + ")",
                  "> 0", verdict(rescales > 0)});
  rows.push_back({"bounds: rescales outside [min,max] or rate limits", std::to_string(bound_bad), "0",
                  verdict(bound_bad == 0)});
  // Over the rate limit counting every change the server applied, within
  // it counting only the changes the writer knew of: the previous leader's
  // last events missing from the persisted history (it lagged the
  // hand-over; KCM forgets every event on a leader change), or a write the
  // writer saw fail that the server applied. Findings for the controller,
  // counted apart unless --strict-history.
  rows.push_back({"bounds: scale writes applied after their writer gave up on them", std::to_string(ambiguous.size()),
                  "", ""});
  rows.push_back({"bounds: over the limit only by events the writer could not know",
                  std::to_string(handover_excess), o.strict_history ? "0" : "reported",
                  o.strict_history ? verdict(handover_excess == 0) : "finding"});
  int64_t outage_s = 0;
  for (const Fault& f : faults)
    if (f.kind == FaultKind::kMetricsDown && f.started) outage_s += static_cast<int64_t>(SecondsBetween(f.start_time, f.end_time));
  rows.push_back({"outage: scale-downs while metrics failed (" + std::to_string(outage_s) + " s down)",
                  std::to_string(outage_bad), "0", verdict(outage_bad == 0)});

  // Recovery.
  std::map<FaultKind, std::vector<double>> recovery;
  int never = 0;
  for (Fault& f : faults) {
    if (!f.started || f.skipped) continue;
    const bool from_signal = f.kind == FaultKind::kKill || f.kind == FaultKind::kStop;
    const Time ref = from_signal ? f.start_time : f.end_time;
    std::optional<Time> first;
    for (auto& p : procs) {
      // A process fault recovers when another replica reconciles.
      if (IsProcessFault(f.kind) && f.target.find(p->log->identity()) != std::string::npos &&
          !p->log->identity().empty())
        continue;
      for (const auto& [key, recs] : p->log->by_key()) {
        if (f.kind == FaultKind::kMetricsDown) {
          auto kit = kind_of.find(key);
          if (kit == kind_of.end() || !(ApisOf(kit->second) & f.apis)) continue;
        }
        for (const Reconcile& r : recs)
          if (!r.error && r.at >= ref && (!first || r.at < *first)) first = r.at;
      }
    }
    if (first) {
      f.recovery_s = SecondsBetween(ref, *first);
      recovery[f.kind].push_back(*f.recovery_s);
    } else {
      never++;
      detail(std::string("recovery: no error-free reconcile after ") + KindName(f.kind) + " at t=" +
             Fixed(SecondsBetween(t0, f.start_time), 1) + " s");
    }
  }
  for (FaultKind k : kAllKinds) {
    int played = 0, skipped = 0;
    for (const Fault& f : faults)
      if (f.kind == k && f.started) (f.skipped ? skipped : played)++;
    const auto& v = recovery[k];
    rows.push_back({std::string("recovery: ") + KindName(k) + " x" + std::to_string(played) +
                        (skipped ? " (" + std::to_string(skipped) + " skipped)" : "") + " p50 / max (s)",
                    v.empty() ? "-" : Fixed(Percentile(v, 50), 2) + " / " + Fixed(*std::max_element(v.begin(), v.end()), 2),
                    "", ""});
  }
  rows.push_back({"recovery: faults never recovered", std::to_string(never), "0", verdict(never == 0)});

  // Process.
  int crashes = 0, kills = 0, lease_exits = 0, restarts = 0;
  for (auto& p : procs) {
    if (p->generation > 0) restarts++;
    if (!p->exit_code) continue;
    if (p->killed && *p->exit_code == 128 + SIGKILL) {
      kills++;
    } else if (*p->exit_code == 1 && p->log->lease_lost()) {
      lease_exits++;
    } else if (p->terminating && *p->exit_code == 0) {
    } else {
      crashes++;
      detail("process: replica " + p->slot + "." + std::to_string(p->generation) + " exited with " +
             std::to_string(*p->exit_code) + " (log " + p->log_path + ")");
    }
  }
  rows.push_back({"process: kill -9 / lease-lost exits / restarts", std::to_string(kills) + " / " +
                                                                      std::to_string(lease_exits) + " / " +
                                                                      std::to_string(restarts), "", ""});
  rows.push_back({"process: crashes (other exits)", std::to_string(crashes), "0", verdict(crashes == 0)});
  for (Proc* p : slots) {
    if (p == nullptr) continue;
    if (p->rss_tail_start_kb <= 0 || p->rss_end_kb <= 0) {
      rows.push_back({"process: RSS of " + p->slot + "." + std::to_string(p->generation) + " over the tail", "not alive through the tail", "", ""});
      continue;
    }
    const double growth = static_cast<double>(p->rss_end_kb - p->rss_tail_start_kb) / static_cast<double>(p->rss_tail_start_kb);
    rows.push_back({"process: RSS of " + p->slot + "." + std::to_string(p->generation) + " tail start -> end (MiB)",
                    Fixed(static_cast<double>(p->rss_tail_start_kb) / 1024, 1) + " -> " +
                        Fixed(static_cast<double>(p->rss_end_kb) / 1024, 1) + " (" + Fixed(growth * 100, 1) + "%)",
                    "< 10%", verdict(growth < kRssGrowthLimit)});
  }
  int64_t peak = 0;
  for (auto& p : procs) peak = std::max(peak, p->peak_rss_kb);
  rows.push_back({"process: peak RSS of any replica (MiB)", Fixed(static_cast<double>(peak) / 1024, 1), "", ""});

  // Writes per minute.
  const double minutes = std::max(1e-9, SecondsBetween(t0, measured_end) / 60);
  std::map<std::string, int64_t> upstream;
  for (const auto& h : *hpas) AddUpstreamPerPeriod(h.target.kind, &upstream);
  const double periods_per_minute = 60 / o.sync_period_s;
  for (const auto& [k, v] : counts1) {
    const bool write = k.rfind("create ", 0) == 0 || k.rfind("update ", 0) == 0 || k.rfind("patch ", 0) == 0 ||
                       k.rfind("delete ", 0) == 0;
    if (!write) continue;
    const int64_t before = counts0.count(k) ? counts0.at(k) : 0;
    std::string up = "-";
    if (upstream.count(k)) up = Fixed(static_cast<double>(upstream.at(k)) * periods_per_minute, 1);
    if (k == "update deployments/scale") up = Fixed(static_cast<double>(rescales) / minutes, 1) + " (1 per rescale)";
    rows.push_back({"writes/min " + k, Fixed(static_cast<double>(v - before) / minutes, 1), up, ""});
  }
  rows.push_back({"workload simulator errors", std::to_string(workloads.errors()), "0", verdict(workloads.errors() == 0)});

  // ---- print ----
  std::printf("chaos_soak: seed %llu, %d HPAs, sync %s s, lease %d s / renew %d s / retry %d s, %.0f s after warm-up\n",
              static_cast<unsigned long long>(o.seed), o.hpas, Fixed(o.sync_period_s, 0).c_str(), o.lease_s, o.renew_s,
              o.retry_s, SecondsBetween(t0, measured_end));
  std::printf("schedule (t after warm-up):\n");
  for (const Fault& f : faults) {
    if (!f.started) continue;
    std::printf("  t=%6.1f s %-12s %5.1f s %s%s%s\n", SecondsBetween(t0, f.start_time), KindName(f.kind),
                SecondsBetween(f.start_time, f.end_time), f.target.c_str(),
                f.slow_ms ? (" " + std::to_string(f.slow_ms) + " ms").c_str() : "",
                f.recovery_s ? (", recovered in " + Fixed(*f.recovery_s, 2) + " s").c_str() : "");
  }
  size_t w[4] = {5, 5, 5, 7};
  for (const auto& r : rows) {
    w[0] = std::max(w[0], r.what.size());
    w[1] = std::max(w[1], r.value.size());
    w[2] = std::max(w[2], r.limit.size());
    w[3] = std::max(w[3], r.verdict.size());
  }
  auto line = [&] {
    std::printf("+-%s-+-%s-+-%s-+-%s-+\n", std::string(w[0], '-').c_str(), std::string(w[1], '-').c_str(),
                std::string(w[2], '-').c_str(), std::string(w[3], '-').c_str());
  };
  auto print_row = [&](const std::string& a, const std::string& b, const std::string& c, const std::string& d) {
    std::printf("| %-*s | %*s | %-*s | %-*s |\n", static_cast<int>(w[0]), a.c_str(), static_cast<int>(w[1]), b.c_str(),
                static_cast<int>(w[2]), c.c_str(), static_cast<int>(w[3]), d.c_str());
  };
  line();
  print_row("check", "seen", "must be / upstream-shaped", "verdict");
  line();
  for (const auto& r : rows) print_row(r.what, r.value, r.limit, r.verdict);
  line();
  for (const auto& d : details) std::printf("  %s\n", d.c_str());
  for (const auto& f : failures) std::printf("chaos_soak: FAILED: %s\n", f.c_str());
  const bool passed = violations == 0 && failures.empty();
  std::printf("chaos_soak: %s (%d violation%s)\n", passed ? "PASSED" : "FAILED", violations, violations == 1 ? "" : "s");
  if (!passed || o.keep_dir) {
    std::fprintf(stderr, "chaos_soak: logs kept in %s\n", dir.c_str());
  } else {
    std::error_code ec;
    fs::remove_all(dir, ec);
  }
  return passed ? 0 : 1;
}
