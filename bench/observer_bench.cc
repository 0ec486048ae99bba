// observer_bench: what hpad's per-reconcile observers cost (issue 16).
//
// At 15,000 HPAs synced every 15 s hpad reconciles ~1,000 HPAs a second, and
// each reconcile feeds the same observers: the Prometheus series
// (DaemonMetrics, controller/daemon/prometheus_metrics.h) and the `--v=2`
// "reconciled HPA ..." log line (DaemonRunner::OnReconcile) written through
// the default klog sink. This bench calls them the way one reconcile does:
//
//   work queue   OnAdd + OnDepth (the resync adds the key), OnDepth +
//                OnQueueLatency (a worker takes it), OnWorkDuration +
//                OnDepth (Done)
//   controller   ObserveReconciliationResult, one ObserveMetricComputationResult
//                (one cpu metric), SetDesiredReplicas for that HPA (15,000
//                distinct namespace/name series, round-robin), SetNumHpas
//   requests     one ObserveRequest (the status PUT; metrics and pod lists
//                come from the shared caches, not per reconcile)
//   log          the v=2 line, formatted as runner.cc does, through the
//                default sink with fd 2 pointed at /dev/null
//
// and prints ns per reconcile for the metrics alone, the log line alone and
// both. It then logs `--rate` lines a second for one second (the daemon's
// pace) and prints how many write(2) calls reached fd 2 (from
// /proc/self/io syscw, so it counts every write of the process; the bench
// itself writes nothing else meanwhile).
//
// Single-threaded unless --threads N (N workers share the metrics and the
// log, as hpad's --concurrent-horizontal-pod-autoscaler-syncs workers do).
// This is a benchmark, not a test: it prints numbers and exits 0 unless its
// own arguments are bad. steady_clock is read only to time the loops.
#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "controller/daemon/prometheus_metrics.h"
#include "k8sclient/base/clock.h"
#include "k8sclient/base/klog.h"
#include "k8sclient/work_queue.h"

namespace {

using hpad::ctrl::ActionLabel;
using hpad::ctrl::DaemonMetrics;
using hpad::ctrl::ErrorLabel;
using hpad::ctrl::LabelText;
using Steady = std::chrono::steady_clock;

constexpr int kHpas = 15000;
const std::string kQueue = "horizontalpodautoscaler";
const std::string kHost = "10.96.0.1:443";

struct Options {
  long reconciles = 200000;
  int threads = 1;
  int rate = 1000;
};

struct Names {
  std::vector<std::string> ns, name, key;
};

Names MakeNames() {
  Names n;
  for (int i = 0; i < kHpas; ++i) {
    n.ns.push_back("ns-" + std::to_string(i / 10));
    n.name.push_back("hpa-" + std::to_string(i));
    n.key.push_back(n.ns.back() + "/" + n.name.back());
  }
  return n;
}

void ObserveOneReconcile(DaemonMetrics& m, hpad::k8s::WorkQueueObserver& q, const Names& names, long i) {
  const int h = static_cast<int>(i % kHpas);
  const ActionLabel action = i % 10 == 0 ? ActionLabel::kScaleUp : ActionLabel::kNone;
  q.OnAdd(kQueue);
  q.OnDepth(kQueue, 1);
  q.OnDepth(kQueue, 0);
  q.OnQueueLatency(kQueue, std::chrono::microseconds(300 + i % 1000));
  m.ObserveReconciliationResult(action, ErrorLabel::kNone, std::chrono::microseconds(800 + i % 2000));
  m.ObserveMetricComputationResult(action, ErrorLabel::kNone, std::chrono::microseconds(200 + i % 500), "Resource");
  m.SetDesiredReplicas(names.ns[h], names.name[h], static_cast<int32_t>(2 + i % 5));
  m.SetNumHpas(kHpas);
  m.ObserveRequest("PUT", kHost, "200", std::chrono::microseconds(1500 + i % 3000));
  q.OnWorkDuration(kQueue, std::chrono::microseconds(900 + i % 2000));
  q.OnDepth(kQueue, 0);
}

// runner.cc's v=2 line, same operands and formatting.
void LogOneReconcile(const Names& names, long i) {
  const int h = static_cast<int>(i % kHpas);
  const std::string error;
  HPAD_VLOG(2) << "reconciled HPA " << names.key[h] << (false ? " (deleted)" : "") << ": current " << 3
               << ", desired " << 3 << ", action " << LabelText(ActionLabel::kNone) << ", error "
               << LabelText(ErrorLabel::kNone) << (error.empty() ? "" : " (" + error + ")") << " in "
               << (1 + i % 3) << "ms";
}

long WriteSyscalls() {
  std::ifstream io("/proc/self/io");
  std::string key;
  long value = 0;
  while (io >> key >> value) {
    if (key == "syscw:") return value;
  }
  return -1;
}

template <typename F>
double NsPerReconcile(const Options& o, F&& body) {
  std::atomic<long> next{0};
  auto t0 = Steady::now();
  std::vector<std::thread> workers;
  for (int t = 0; t < o.threads; ++t) {
    workers.emplace_back([&] {
      for (long i; (i = next.fetch_add(1, std::memory_order_relaxed)) < o.reconciles;) body(i);
    });
  }
  for (auto& w : workers) w.join();
  auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(Steady::now() - t0).count();
  // Per reconcile of wall time x threads: the CPU one reconcile costs.
  return static_cast<double>(ns) * o.threads / static_cast<double>(o.reconciles);
}

bool ParseArgs(int argc, char** argv, Options& o) {
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--quick") {
      o.reconciles = 20000;
      continue;
    }
    if (i + 1 >= argc) {
      std::fprintf(stderr, "observer_bench: unknown argument or missing value: %s\n", a.c_str());
      return false;
    }
    char* end = nullptr;
    long v = std::strtol(argv[++i], &end, 10);
    if (*end != '\0' || v <= 0 || v > 100000000) {
      std::fprintf(stderr, "observer_bench: %s: not a positive number: %s\n", a.c_str(), argv[i]);
      return false;
    }
    if (a == "--reconciles") {
      o.reconciles = v;
    } else if (a == "--threads" && v <= 64) {
      o.threads = static_cast<int>(v);
    } else if (a == "--rate" && v <= 100000) {
      o.rate = static_cast<int>(v);
    } else {
      std::fprintf(stderr, "observer_bench: unknown argument or value out of range: %s\n", a.c_str());
      return false;
    }
  }
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  if (!ParseArgs(argc, argv, o)) return 2;
  // Results go to stdout; the log (fd 2) to /dev/null, as a daemon's stderr
  // would go to a pipe whose reader keeps up.
  std::fflush(stderr);
  int devnull = ::open("/dev/null", O_WRONLY | O_CLOEXEC);
  if (devnull < 0 || ::dup2(devnull, 2) < 0) {
    std::perror("observer_bench: /dev/null");
    return 1;
  }
  ::close(devnull);
  hpad::k8s::SetLogClock(&hpad::RealClock::Instance());
  hpad::k8s::SetLogVerbosity(2);

  const Names names = MakeNames();
  DaemonMetrics metrics;
  auto queue_observer = hpad::ctrl::NewWorkQueueMetricsObserver(metrics);
  // Warm up: every series exists, as in a daemon that has run a while.
  for (long i = 0; i < kHpas; ++i) ObserveOneReconcile(metrics, *queue_observer, names, i);

  std::printf("observer_bench: %ld reconciles, %d thread(s), %d HPAs\n", o.reconciles, o.threads, kHpas);
  double m = NsPerReconcile(o, [&](long i) { ObserveOneReconcile(metrics, *queue_observer, names, i); });
  std::printf("  metrics only      %8.0f ns/reconcile\n", m);
  long w0 = WriteSyscalls();
  double l = NsPerReconcile(o, [&](long i) { LogOneReconcile(names, i); });
  long w1 = WriteSyscalls();
  std::printf("  v=2 log only      %8.0f ns/reconcile  (%ld write(2) calls for %ld lines)\n", l, w1 - w0,
              o.reconciles);
  double b = NsPerReconcile(o, [&](long i) {
    ObserveOneReconcile(metrics, *queue_observer, names, i);
    LogOneReconcile(names, i);
  });
  std::printf("  metrics + log     %8.0f ns/reconcile\n", b);

  // The daemon's pace: `rate` lines spread over one second.
  w0 = WriteSyscalls();
  auto start = Steady::now();
  for (int i = 0; i < o.rate; ++i) {
    std::this_thread::sleep_until(start + std::chrono::microseconds(1000000L * i / o.rate));
    LogOneReconcile(names, i);
  }
  std::this_thread::sleep_until(start + std::chrono::seconds(1));
  w1 = WriteSyscalls();
  std::printf("  paced log         %d lines/s -> %ld write(2)/s\n", o.rate, w1 - w0);
  return 0;
}
