// decision_bench: how many HPA decisions one core makes per second with the
// pure decision math alone (issue 7 target: over a million per second per core).
//
// A "decision" is what HpaReconciler does between having the pods and the
// metric values in hand and knowing the replica count to write, for an HPA
// with one cpu Utilization metric over 10 pods and a behavior:
//   CalcResourceUtilizationReplicas (sections 6, 8: P1-P5, RQ1, C1-C7)
//   DefaultBehavior (B1, done per reconcile by the reconciler)
//   NormalizeWithBehaviors (B1-B8) against that HPA's stabilisation history
//   StoreScaleEvent (B10) when the decision changes the replica count.
// The same loop is also timed with the legacy normalisation (L1-L4, no
// behavior) and each half alone, so a regression can be located.
//
// The workload: `--hpas` HPAs (default 1000), each with its own history,
// visited round-robin; every full round advances `now` by one 15 s sync
// period, so each history holds the ~20 recommendations a 300 s window
// keeps in a real run. Metric values cycle through 16 precomputed sets
// (utilisation 30%..120% of a 60% target) so decisions scale up, down and
// stay, and the stabilisation windows and rate limits actually bind.
//
// Single-threaded: the printed rate is per core. This is a benchmark, not a
// test: it prints numbers and exits 0 unless its own arguments are bad. The
// wall clock (std::chrono::steady_clock) is read only to time the loops.
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "controller/core/decision_trace.h"
#include "controller/core/normalization.h"
#include "controller/core/replica_calculator.h"
#include "k8sclient/api/types/hpa.h"
#include "k8sclient/api/types/pod.h"

namespace {

using hpad::Duration;
using hpad::Time;
using hpad::ctrl::HpaHistory;
using hpad::ctrl::PodList;
using hpad::ctrl::PodMetricsInfo;

constexpr int kPodsPerHpa = 10;
constexpr int kMetricSets = 16;
constexpr int32_t kTargetUtilization = 60;
constexpr int64_t kCpuRequestMilli = 100;
constexpr auto kSyncPeriod = std::chrono::seconds(15);

struct Fixture {
  Time start;
  PodList pods;
  std::vector<PodMetricsInfo> metric_sets;
  hpad::k8s::HpaBehavior behavior;  // as the API server stores it: empty, defaulted per decision
  hpad::ctrl::Tolerances tolerances;
  hpad::ctrl::ReadinessTuning tuning;
};

// A fixed epoch so runs are comparable (the math only looks at differences).
Time FixedStart() { return Time(std::chrono::seconds(1767225600)); }  // 2026-01-01T00:00:00Z

Fixture MakeFixture() {
  Fixture f;
  f.start = FixedStart();
  for (int i = 0; i < kPodsPerHpa; i++) {
    auto pod = std::make_shared<hpad::k8s::Pod>();
    pod->name = "web-" + std::to_string(i);
    pod->ns = "bench";
    pod->SetLabels({{"app", "web"}});
    pod->phase = "Running";
    // Started and Ready an hour before the first decision: P4's cpu
    // initialisation period is long over, so every pod counts as ready.
    pod->start_time = f.start - std::chrono::hours(1);
    pod->ready_status = "True";
    pod->ready_last_transition = f.start - std::chrono::hours(1) + std::chrono::seconds(20);
    hpad::k8s::PodContainer c;
    c.name = "app";
    c.requests_milli = {{"cpu", kCpuRequestMilli}};  // 100m
    pod->SetRequests({.containers = {c}});
    f.pods.push_back(std::move(pod));
  }
  for (int s = 0; s < kMetricSets; s++) {
    PodMetricsInfo m;
    // Usage from 30% to 120% of the request across the sets (milli-cpu); pods differ a little.
    const int64_t base = kCpuRequestMilli * (30 + s * 6) / 100;
    for (int i = 0; i < kPodsPerHpa; i++) {
      m["web-" + std::to_string(i)] = hpad::ctrl::PodMetric{base + (i % 3) - 1, f.start, std::chrono::seconds(30)};
    }
    f.metric_sets.push_back(std::move(m));
  }
  return f;
}

// Issue 12: what the daemon keeps per HPA for /debug/hpas - the last
// DecisionTrace shaped like these HPAs (one cpu Utilization metric, the
// 10-pod table, 3 stabilization window entries, 3 conditions), after the
// reconciler's ShrinkTrace. Pod names "web-N" fit std::string's inline
// buffer; a Deployment pod's name (~25 bytes) adds its length per pod to the
// shared name buffer.
void PrintTraceCost(const Fixture& f) {
  auto trace = std::make_shared<hpad::ctrl::DecisionTrace>();
  trace->ns = "bench";
  trace->name = "web";
  hpad::ctrl::MetricTrace m;
  m.type = "Resource";
  m.name = "cpu";
  m.target_type = "Utilization";
  m.unit = "%";
  m.pods = hpad::ctrl::TracePodTable(f.pods, f.metric_sets[0], "cpu", "", true, f.tuning, f.start);
  trace->metrics.push_back(std::move(m));
  trace->normalized = true;
  for (int i = 0; i < 3; i++) trace->normalization.entries.push_back({f.start, kPodsPerHpa, true});
  trace->conditions = {
      {"AbleToScale", "True", "ReadyForNewScale", "recommended size matches current size"},
      {"ScalingActive", "True", "ValidMetricFound",
       "the HPA was able to successfully calculate a replica count from cpu resource utilization (percentage of "
       "request)"},
      {"ScalingLimited", "False", "DesiredWithinRange", "the desired count is within the acceptable range"}};
  hpad::ctrl::ShrinkTrace(*trace);
  const size_t heap = hpad::ctrl::TraceHeapBytes(*trace);
  std::printf("kept trace per HPA (issue 12): sizeof(DecisionTrace) %zu B + %zu B heap (pod row %zu B); "
              "%.1f MiB at 10,000 HPAs before allocator/map overhead\n",
              sizeof(hpad::ctrl::DecisionTrace), heap, sizeof(hpad::ctrl::PodTraceRow),
              static_cast<double>(sizeof(hpad::ctrl::DecisionTrace) + heap) * 10000.0 / (1024.0 * 1024.0));
}

struct HpaSlot {
  HpaHistory history;
  int32_t current = kPodsPerHpa;
};

// What each variant computes for one HPA at one instant; returns desired.
enum class Variant { kFull, kLegacy, kCalculatorOnly, kNormalizeOnly };

struct RunResult {
  double decisions_per_sec = 0;
  int64_t decisions = 0;
  int64_t changes = 0;  // decisions that moved the replica count
  int64_t errors = 0;
};

RunResult Run(const Fixture& f, Variant variant, int hpas, double seconds) {
  std::vector<HpaSlot> slots(static_cast<size_t>(hpas));
  const Duration window = std::chrono::minutes(5);
  RunResult r;
  int64_t sink = 0;
  Time now = f.start;
  const auto t0 = std::chrono::steady_clock::now();
  const auto deadline = t0 + std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                                 std::chrono::duration<double>(seconds));
  int64_t round = 0;
  for (;;) {
    for (int h = 0; h < hpas; h++) {
      HpaSlot& slot = slots[static_cast<size_t>(h)];
      // Each HPA sees a different metric set each period.
      const PodMetricsInfo& metrics = f.metric_sets[static_cast<size_t>((h + round) % kMetricSets)];
      int32_t proposal = slot.current;
      if (variant != Variant::kNormalizeOnly) {
        auto p = hpad::ctrl::CalcResourceUtilizationReplicas(slot.current, kTargetUtilization, "cpu", "",
                                                             f.tolerances, metrics, f.pods, f.tuning, now);
        if (!p.ok()) {
          r.errors++;
          continue;
        }
        proposal = p->replicas;
      } else {
        // Same spread of proposals without the calculator: 30%..120% of target.
        proposal = std::max(1, slot.current * static_cast<int32_t>(5 + (h + round) % kMetricSets) / 10);
      }
      int32_t desired = proposal;
      if (variant == Variant::kFull || variant == Variant::kNormalizeOnly) {
        hpad::k8s::HpaBehavior b = hpad::ctrl::DefaultBehavior(f.behavior, window);
        auto n = hpad::ctrl::NormalizeWithBehaviors(slot.history, slot.current, proposal, 1, 1000, b, now);
        desired = n.desired;
        if (desired != slot.current) hpad::ctrl::StoreScaleEvent(slot.history, b, slot.current, desired, now);
      } else if (variant == Variant::kLegacy) {
        auto n = hpad::ctrl::NormalizeLegacy(slot.history, slot.current, proposal, 1, 1000, window, now);
        desired = n.desired;
      }
      if (variant != Variant::kCalculatorOnly && desired != slot.current) {
        r.changes++;
        // Keep replicas near the pod count the fixture has, so the
        // calculator keeps proposing both directions.
        slot.current = std::clamp(desired, kPodsPerHpa / 2, kPodsPerHpa * 2);
      }
      sink += desired;
      r.decisions++;
    }
    round++;
    now += kSyncPeriod;
    if (std::chrono::steady_clock::now() >= deadline) break;
  }
  const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  r.decisions_per_sec = static_cast<double>(r.decisions) / elapsed;
  if (sink == 42) std::printf(" ");  // keeps `desired` observable
  return r;
}

}  // namespace

int main(int argc, char** argv) {
  int hpas = 1000;
  double seconds = 2.0;
  for (int i = 1; i < argc; i++) {
    std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "decision_bench: %s needs a value\n", a.c_str());
        std::exit(2);
      }
      return argv[++i];
    };
    if (a == "--hpas") {
      hpas = std::atoi(value().c_str());
    } else if (a == "--seconds") {
      seconds = std::atof(value().c_str());
    } else if (a == "--quick") {
      seconds = 0.2;
    } else if (a == "-h" || a == "--help") {
      std::printf("usage: decision_bench [--hpas N] [--seconds S] [--quick]\n");
      return 0;
    } else {
      std::fprintf(stderr, "decision_bench: unknown argument %s\n", a.c_str());
      return 2;
    }
  }
  if (hpas < 1 || seconds <= 0) {
    std::fprintf(stderr, "decision_bench: --hpas and --seconds must be positive\n");
    return 2;
  }
  const Fixture f = MakeFixture();
  PrintTraceCost(f);
  // Warm the allocator and caches once, untimed.
  Run(f, Variant::kFull, hpas, seconds / 10);

  struct Row {
    const char* name;
    Variant v;
  };
  const Row rows[] = {
      {"full: calculator + behavior normalisation (target row)", Variant::kFull},
      {"legacy: calculator + legacy normalisation", Variant::kLegacy},
      {"calculator only (10-pod cpu Utilization)", Variant::kCalculatorOnly},
      {"behavior normalisation only", Variant::kNormalizeOnly},
  };
  std::printf("decision_bench: %d HPAs round-robin, %d pods each, 1 thread, %.1f s per row\n", hpas, kPodsPerHpa,
              seconds);
  std::printf("%-56s %16s %12s %10s\n", "variant", "decisions/s/core", "ns/decision", "changed");
  bool errors = false;
  for (const Row& row : rows) {
    RunResult r = Run(f, row.v, hpas, seconds);
    errors = errors || r.errors > 0;
    std::printf("%-56s %16.0f %12.1f %9.1f%%\n", row.name, r.decisions_per_sec, 1e9 / r.decisions_per_sec,
                r.decisions ? 100.0 * static_cast<double>(r.changes) / static_cast<double>(r.decisions) : 0.0);
    if (r.errors > 0) std::printf("  (%lld decisions returned an error)\n", static_cast<long long>(r.errors));
  }
  return errors ? 1 : 0;
}
