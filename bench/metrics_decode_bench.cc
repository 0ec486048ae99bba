// metrics_decode_bench: the CPU cost of decoding metrics replies and of the
// W4 "status changed?" comparison, old way against new (issue 16).
//
// Decoding: a PodMetricsList as metrics-server serves it for one namespace
// (`--pods` pods, default 1,000: 3 labels, 2 containers with cpu and memory
// each) and a custom-metrics MetricValueList of the same pods, decoded
//   - DOM:    ParseForeignJson + PodMetricsListFromJson / MetricValueListFromJson
//             (what RestMetricsClient did through ApiClient::GetPath);
//   - stream: PodMetricsListFromText / MetricValueListFromText (SAX into the
//             structs, what it does now through GetPathRaw);
//   - table:  PodMetricsTableFromText (SAX straight into the flat table
//             MetricsCache keeps, no k8s::PodMetrics in between).
// Heap allocations per pod are counted too (a replaced operator new).
// Printed as microseconds per pod (per item) and the speed-up.
//
// Status comparison: HpaStatusEqual on a typical status (2 metrics, 3
// conditions) against the JSON comparison it replaced
// (HpaStatusToJson(a) == HpaStatusToJson(b)), in nanoseconds per call.
//
// --stream-only times the PodMetricsList streamed into a table alone (for a
// profiler).
// Single-threaded; the wall clock (steady_clock) is read only to time the
// loops. A benchmark, not a test: it prints numbers and exits 0 unless its
// own arguments are bad or a decoder fails on its own input.
#include <atomic>
#include <cstdint>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <new>
#include <string>

#include <nlohmann/json.hpp>

#include "k8sclient/api/json_parse.h"
#include "k8sclient/api/time_format.h"
#include "k8sclient/api/types/hpa.h"
#include "k8sclient/api/types/metrics.h"
#include "k8sclient/api/types/pod_metrics_table.h"

// Heap allocations, counted by replacing the global operator new (every
// std::allocator and nlohmann allocation goes through it).
std::atomic<uint64_t> g_allocations{0};

void* operator new(std::size_t size) {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(size == 0 ? 1 : size)) return p;
  throw std::bad_alloc();
}
// Out of line: gcc's -Wmismatched-new-delete cannot see that this new and
// this delete pair malloc and free when it inlines one of them.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
__attribute__((noinline)) void operator delete(void* p) noexcept { std::free(p); }
__attribute__((noinline)) void operator delete(void* p, std::size_t) noexcept { std::free(p); }
#pragma GCC diagnostic pop

namespace {

using namespace hpad;
using nlohmann::json;
using Clock = std::chrono::steady_clock;

std::string PodMetricsListText(int pods) {
  json items = json::array();
  for (int i = 0; i < pods; ++i) {
    const std::string name = "web-" + std::to_string(i / 10) + "-7d9f8b6c5-" + std::to_string(100000 + i);
    items.push_back({{"metadata",
                      {{"name", name},
                       {"namespace", "team-" + std::to_string(i / 100)},
                       {"creationTimestamp", "2026-01-01T00:00:00Z"},
                       {"labels", {{"app", "web-" + std::to_string(i / 10)}, {"pod-template-hash", "7d9f8b6c5"},
                                   {"tier", "frontend"}}}}},
                     {"timestamp", "2026-01-01T00:00:00Z"},
                     {"window", "15.012s"},
                     {"containers",
                      {{{"name", "app"}, {"usage", {{"cpu", std::to_string(100000 + i * 37) + "n"}, {"memory", "52428Ki"}}}},
                       {{"name", "istio-proxy"}, {"usage", {{"cpu", "2538017n"}, {"memory", "40164Ki"}}}}}}});
  }
  return json{{"kind", "PodMetricsList"}, {"apiVersion", "metrics.k8s.io/v1beta1"}, {"metadata", json::object()},
              {"items", items}}
      .dump();
}

std::string MetricValueListText(int pods) {
  json items = json::array();
  for (int i = 0; i < pods; ++i) {
    items.push_back({{"describedObject",
                      {{"kind", "Pod"}, {"namespace", "team-0"}, {"name", "web-" + std::to_string(i)}, {"apiVersion", "/v1"}}},
                     {"metric", {{"name", "http_requests_per_second"}, {"selector", nullptr}}},
                     {"timestamp", "2026-01-01T00:00:00Z"},
                     {"windowSeconds", 60},
                     {"value", std::to_string(1000 + i) + "m"}});
  }
  return json{{"kind", "MetricValueList"}, {"apiVersion", "custom.metrics.k8s.io/v1beta2"},
              {"metadata", json::object()}, {"items", items}}
      .dump();
}

// Runs fn `rounds` times; returns nanoseconds per round.
template <typename F>
double TimeNs(int rounds, F fn) {
  auto start = Clock::now();
  for (int r = 0; r < rounds; ++r) fn();
  return std::chrono::duration<double, std::nano>(Clock::now() - start).count() / rounds;
}

// Heap allocations of one call of fn.
template <typename F>
uint64_t Allocations(F fn) {
  const uint64_t before = g_allocations.load();
  fn();
  return g_allocations.load() - before;
}

bool failed = false;
template <typename R>
size_t Size(const R& r) {
  if (!r.ok()) {
    std::fprintf(stderr, "decode failed: %s\n", r.status().message().c_str());
    failed = true;
    return 0;
  }
  return r->size();
}

}  // namespace

int main(int argc, char** argv) {
  int pods = 1000;
  int rounds = 30;
  bool stream_only = false;  // for a profiler: only the streamed PodMetricsList
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--quick") == 0) {
      pods = 100;
      rounds = 3;
    } else if (std::strcmp(argv[i], "--pods") == 0 && i + 1 < argc) {
      pods = std::atoi(argv[++i]);
    } else if (std::strcmp(argv[i], "--rounds") == 0 && i + 1 < argc) {
      rounds = std::atoi(argv[++i]);
    } else if (std::strcmp(argv[i], "--stream-only") == 0) {
      stream_only = true;
    } else {
      std::fprintf(stderr, "usage: metrics_decode_bench [--quick] [--pods N] [--rounds N] [--stream-only]\n");
      return 2;
    }
  }
  if (pods <= 0 || rounds <= 0) {
    std::fprintf(stderr, "metrics_decode_bench: --pods and --rounds must be positive\n");
    return 2;
  }

  const std::string pm = PodMetricsListText(pods);
  const std::string mv = MetricValueListText(pods);
  size_t sink = 0;
  auto dom_pm = [&] {
    auto j = k8s::ParseForeignJson(pm, "bench");
    sink += Size(k8s::PodMetricsListFromJson(*j));
  };
  auto stream_pm = [&] { sink += Size(k8s::PodMetricsListFromText(pm, "bench")); };
  auto table_pm = [&] { sink += Size(k8s::PodMetricsTableFromText(pm, "bench")); };
  auto dom_mv = [&] {
    auto j = k8s::ParseForeignJson(mv, "bench");
    sink += Size(k8s::MetricValueListFromJson(*j));
  };
  auto stream_mv = [&] { sink += Size(k8s::MetricValueListFromText(mv, "bench")); };
  if (stream_only) {
    const double t = TimeNs(rounds, table_pm) / pods / 1000;
    std::printf("PodMetricsList streamed into a table: %.3f us/pod\n", t);
    return sink == 0 || failed ? 1 : 0;
  }
  dom_pm(), stream_pm(), table_pm(), dom_mv(), stream_mv();  // warm-up
  const double t_dom_pm = TimeNs(rounds, dom_pm) / pods / 1000;
  const double t_stream_pm = TimeNs(rounds, stream_pm) / pods / 1000;
  const double t_table_pm = TimeNs(rounds, table_pm) / pods / 1000;
  const double t_dom_mv = TimeNs(rounds, dom_mv) / pods / 1000;
  const double t_stream_mv = TimeNs(rounds, stream_mv) / pods / 1000;
  std::printf("metrics_decode_bench: %d pods per list (PodMetricsList %zu bytes, MetricValueList %zu bytes), %d rounds\n",
              pods, pm.size(), mv.size(), rounds);
  std::printf("%-16s %12s %12s %8s\n", "list", "DOM us/pod", "stream us/pod", "speed-up");
  std::printf("%-16s %12.3f %12.3f %7.2fx\n", "PodMetricsList", t_dom_pm, t_stream_pm, t_dom_pm / t_stream_pm);
  std::printf("%-16s %12.3f %12.3f %7.2fx\n", "PodMetrics table", t_dom_pm, t_table_pm, t_dom_pm / t_table_pm);
  std::printf("%-16s %12.3f %12.3f %7.2fx\n", "MetricValueList", t_dom_mv, t_stream_mv, t_dom_mv / t_stream_mv);
  const double per_pod = static_cast<double>(pods);
  std::printf("%-16s %12s %12s\n", "allocations", "DOM /pod", "stream /pod");
  std::printf("%-16s %12.2f %12.2f\n", "PodMetricsList", Allocations(dom_pm) / per_pod, Allocations(stream_pm) / per_pod);
  std::printf("%-16s %12.2f %12.2f\n", "PodMetrics table", Allocations(dom_pm) / per_pod, Allocations(table_pm) / per_pod);
  std::printf("%-16s %12.2f %12.2f\n", "MetricValueList", Allocations(dom_mv) / per_pod, Allocations(stream_mv) / per_pod);

  // W4: a status as the reconciler builds it, compared with an equal copy
  // (the common case: nothing changed, no write).
  auto hpa = k8s::HpaFromJson(json::parse(R"JSON({
    "apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler",
    "metadata": {"name": "web", "namespace": "default"},
    "spec": {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"}, "maxReplicas": 10},
    "status": {"observedGeneration": 3, "lastScaleTime": "2026-01-01T00:00:00Z", "currentReplicas": 4,
      "desiredReplicas": 4,
      "currentMetrics": [
        {"type": "Resource", "resource": {"name": "cpu", "current": {"averageValue": "140m", "averageUtilization": 47}}},
        {"type": "Pods", "pods": {"metric": {"name": "rps", "selector": {"matchLabels": {"verb": "GET"}}},
                                  "current": {"averageValue": "12"}}}],
      "conditions": [
        {"type": "AbleToScale", "status": "True", "lastTransitionTime": "2026-01-01T00:00:00Z", "reason": "ReadyForNewScale",
         "message": "recommended size matches current size"},
        {"type": "ScalingActive", "status": "True", "lastTransitionTime": "2026-01-01T00:00:00Z", "reason": "ValidMetricFound",
         "message": "the HPA was able to successfully calculate a replica count from cpu resource utilization (percentage of request)"},
        {"type": "ScalingLimited", "status": "False", "lastTransitionTime": "2026-01-01T00:00:00Z", "reason": "DesiredWithinRange",
         "message": "the desired count is within the acceptable range"}]}})JSON"));
  if (!hpa.ok()) {
    std::fprintf(stderr, "bench HPA: %s\n", hpa.status().message().c_str());
    return 1;
  }
  const k8s::HpaStatus a = hpa->status;
  const k8s::HpaStatus b = a;
  const int calls = rounds * 1000;
  bool all_equal = true;
  const double t_typed = TimeNs(calls, [&] { all_equal &= k8s::HpaStatusEqual(a, b); });
  const double t_json = TimeNs(calls, [&] { all_equal &= k8s::HpaStatusToJson(a) == k8s::HpaStatusToJson(b); });
  std::printf("%-16s %12s %12s %8s\n", "status compare", "JSON ns", "typed ns", "speed-up");
  std::printf("%-16s %12.0f %12.0f %7.1fx\n", "HpaStatusEqual", t_json, t_typed, t_json / t_typed);
  if (!all_equal) {
    std::fprintf(stderr, "status comparison disagrees\n");
    return 1;
  }
  if (sink == 0 || failed) return 1;
  return 0;
}
