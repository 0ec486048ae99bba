// cache_memory_bench: heap bytes per cached object of hpad's informer caches
// and of one period's PodMetrics, measured with glibc's mallinfo2 (issue 16,
// memory). The objects have the shape scale_bench serves (same names,
// labels, one container with cpu and memory requests, ~1.4 KB of JSON per
// pod; the HPAs of bench_lib's metric mix), so the figures multiply out to
// scale_bench's hpad:
//   - pods:        the pod informer's path: PodFromJson of every item, page
//                  by page (500 a page, each page's JSON released as
//                  Informer::TypedList does), then ObjectStore<Pod>::Replace;
//   - HPAs:        HpaFromJson + ObjectStore<Hpa>::Replace;
//   - pod metrics: one PodMetricsList per namespace decoded with
//                  PodMetricsListFromText, and the same lists held by a
//                  MetricsCache (what the daemon keeps for one period: the
//                  lists of every namespace as PodMetricsTables decoded
//                  straight from the text, with their indexes) after one
//                  HPA of each namespace asked; both timed per pod;
//   - traces:      the DecisionTrace the reconciler keeps per HPA for
//                  /debug/hpas (decision_bench's shape: one cpu Utilization
//                  metric with its 10-pod table, 3 stabilization entries, 3
//                  conditions; scale_bench's pod names), once as the map of
//                  full traces the reconciler held before issue 16's step 6,
//                  once in a TraceKeeper with its default bound on pod tables.
// "in use" is mallinfo2's uordblks + hblkhd after the step minus before it:
// what the cache holds, without the allocator's free lists (the daemon's
// RSS adds those; see bench/README.md "issue 16: memory").
//
// Single-threaded; prints a table and exits 0 unless a decoder fails on its
// own input. A benchmark, not a test.
#include <malloc.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "bench/bench_lib.h"
#include "controller/core/decision_trace.h"
#include "controller/metrics_cache.h"
#include "controller/trace_keeper.h"
#include "k8sclient/base/clock.h"
#include "k8sclient/api/types/hpa.h"
#include "k8sclient/api/types/metrics.h"
#include "k8sclient/api/types/pod_metrics_table.h"
#include "k8sclient/api/types/pod.h"
#include "k8sclient/object_store.h"

namespace {

using namespace hpad;
using bench::Json;
using bench::Pad;

constexpr int kHpasPerNamespace = 20;
constexpr int kPodsPerHpa = 10;
constexpr size_t kPageSize = 500;

int64_t InUse() {
  struct mallinfo2 m = mallinfo2();
  return static_cast<int64_t>(m.uordblks + m.hblkhd);
}

// The pod scale_bench generates (bench/scale_bench.cc PodJson), trimmed of
// nothing: the converter must skip what it does not keep.
Json PodJson(const std::string& ns, const std::string& app, const std::string& pod, int index) {
  const std::string started = "2026-01-01T10:00:00Z", ready_at = "2026-01-01T10:00:20Z";
  Json requests = {{"cpu", "100m"}, {"memory", "512Mi"}};
  Json cond = Json::array();
  for (const char* type : {"Initialized", "Ready", "ContainersReady", "PodScheduled"})
    cond.push_back({{"type", type}, {"status", "True"}, {"lastTransitionTime", ready_at}});
  return Json{{"apiVersion", "v1"},
              {"kind", "Pod"},
              {"metadata",
               {{"namespace", ns},
                {"name", pod},
                {"resourceVersion", std::to_string(100000 + index)},
                {"labels", {{"app", app}, {"pod-template-hash", "5d9c7b8f6"}}},
                {"annotations", {{"kubectl.kubernetes.io/restartedAt", started}}},
                {"ownerReferences",
                 Json::array({{{"apiVersion", "apps/v1"},
                               {"kind", "ReplicaSet"},
                               {"name", app + "-5d9c7b8f6"},
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
                {"conditions", cond},
                {"containerStatuses",
                 Json::array({{{"name", "app"}, {"ready", true}, {"restartCount", 0}}})}}}};
}

std::string PodMetricsListText(const std::string& ns, int first_hpa, int hpas) {
  Json items = Json::array();
  for (int h = first_hpa; h < first_hpa + hpas; ++h) {
    const std::string app = "app-" + Pad(h % kHpasPerNamespace, 4);
    for (int p = 0; p < kPodsPerHpa; ++p) {
      items.push_back({{"metadata",
                        {{"namespace", ns},
                         {"name", app + "-5d9c7b8f6-" + Pad(p, 5)},
                         {"labels", {{"app", app}, {"pod-template-hash", "5d9c7b8f6"}}}}},
                       {"timestamp", "2026-01-01T12:00:00Z"},
                       {"window", "30s"},
                       {"containers", Json::array({{{"name", "app"}, {"usage", {{"cpu", "61m"}, {"memory", "260Mi"}}}}})}});
    }
  }
  return Json{{"kind", "PodMetricsList"}, {"apiVersion", "metrics.k8s.io/v1beta1"}, {"items", items}}.dump();
}

// Serves the pre-built PodMetricsList texts, decoded on each call.
class TextSource : public ctrl::MetricsClient {
 public:
  explicit TextSource(const std::map<std::string, std::string>& texts) : texts_(texts) {}
  Result<ctrl::PodMetricsResult> GetResourceMetric(const std::string&, const std::string&, const k8s::Selector&,
                                                   const std::string&) override {
    return Status(StatusCode::kInternal, "unused");
  }
  Result<ctrl::PodMetricsResult> GetRawMetric(const std::string&, const std::string&, const k8s::Selector&,
                                              const k8s::Selector&) override {
    return Status(StatusCode::kInternal, "unused");
  }
  Result<ctrl::ObjectMetricResult> GetObjectMetric(const std::string&, const std::string&,
                                                   const k8s::CrossVersionObjectReference&,
                                                   const k8s::Selector&) override {
    return Status(StatusCode::kInternal, "unused");
  }
  Result<ctrl::ExternalMetricResult> GetExternalMetric(const std::string&, const std::string&,
                                                       const k8s::Selector&) override {
    return Status(StatusCode::kInternal, "unused");
  }
  Result<std::vector<k8s::PodMetrics>> ListResourceMetrics(const std::string& ns) override {
    return k8s::PodMetricsListFromText(texts_.at(ns), "PodMetricsList");
  }
  // What RestMetricsClient does: the text straight into the table.
  Result<k8s::PodMetricsTable> ListResourceMetricsTable(const std::string& ns) override {
    return k8s::PodMetricsTableFromText(texts_.at(ns), "PodMetricsList");
  }
  Result<std::vector<k8s::CustomMetricValue>> ListPodsMetric(const std::string&, const std::string&,
                                                             const k8s::Selector&) override {
    return Status(StatusCode::kInternal, "unused");
  }

 private:
  const std::map<std::string, std::string>& texts_;
};

// One HPA's kept trace (see the header comment), as the reconciler stores it (after ShrinkTrace).
ctrl::DecisionTrace BenchTrace(int h, Time now) {
  ctrl::DecisionTrace t;
  t.ns = "bench-" + Pad(h / kHpasPerNamespace, 4);
  t.name = "app-" + Pad(h % kHpasPerNamespace, 4);
  t.time = now;
  t.current_replicas = kPodsPerHpa;
  t.desired_replicas = kPodsPerHpa;
  t.reason = "All metrics below target";
  ctrl::MetricTrace m;
  m.type = "Resource";
  m.name = "cpu";
  m.target_type = "Utilization";
  m.unit = "%";
  m.ok = true;
  for (int p = 0; p < kPodsPerHpa; ++p) {
    ctrl::PodTraceRow row;
    row.start_time = now - std::chrono::hours(2);
    row.request_milli = 100;
    row.usage_milli = 61;
    row.phase = ctrl::TracePodPhase::kRunning;
    row.ready = ctrl::TraceReady::kTrue;
    row.has_start_time = row.has_request = row.has_usage = true;
    m.pods.Add(t.name + "-5d9c7b8f6-" + Pad(p, 5), row);
  }
  t.metrics.push_back(std::move(m));
  t.winning_metric = 0;
  t.normalized = true;
  for (int i = 0; i < 3; i++) t.normalization.entries.push_back({now, kPodsPerHpa, true});
  t.conditions = {
      {"AbleToScale", "True", "ReadyForNewScale", "recommended size matches current size"},
      {"ScalingActive", "True", "ValidMetricFound",
       "the HPA was able to successfully calculate a replica count from cpu resource utilization (percentage of "
       "request)"},
      {"ScalingLimited", "False", "DesiredWithinRange", "the desired count is within the acceptable range"}};
  ctrl::ShrinkTrace(t);
  return t;
}

void Row(const char* what, int64_t count, int64_t bytes) {
  std::printf("| %-40s | %9lld | %10.1f | %8.0f |\n", what, static_cast<long long>(count), bytes / 1048576.0,
              count ? static_cast<double>(bytes) / static_cast<double>(count) : 0.0);
}

}  // namespace

int main(int argc, char** argv) {
  int hpas = 15000;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--hpas") == 0 && i + 1 < argc) {
      hpas = std::atoi(argv[++i]);
    } else {
      std::fprintf(stderr, "usage: cache_memory_bench [--hpas N]   (N HPAs, 10 pods each, 20 HPAs a namespace)\n");
      return 2;
    }
  }
  if (hpas <= 0) return 2;
  const int pods = hpas * kPodsPerHpa;

  // Pods, page by page as the informer converts them.
  k8s::PodInterner interner;
  const int64_t before_pods = InUse();
  k8s::ObjectStore<k8s::Pod> pod_store;
  {
    std::vector<std::shared_ptr<const k8s::Pod>> objs;
    objs.reserve(static_cast<size_t>(pods));
    Json page = Json::array();
    auto flush = [&] {
      for (auto& item : page) {
        auto r = k8s::PodFromJson(item, &interner);
        if (!r.ok()) {
          std::fprintf(stderr, "pod: %s\n", r.status().ToString().c_str());
          std::exit(1);
        }
        objs.push_back(std::make_shared<const k8s::Pod>(std::move(r).value()));
        item = Json();
      }
      page = Json::array();
    };
    for (int i = 0; i < pods; ++i) {
      const int h = i / kPodsPerHpa;
      page.push_back(PodJson("bench-" + Pad(h / kHpasPerNamespace, 4), "app-" + Pad(h % kHpasPerNamespace, 4),
                             "app-" + Pad(h % kHpasPerNamespace, 4) + "-5d9c7b8f6-" + Pad(i % kPodsPerHpa, 5), i));
      if (page.size() == kPageSize) flush();
    }
    flush();
    pod_store.Replace(std::move(objs));
  }
  const int64_t pod_bytes = InUse() - before_pods;

  const int64_t before_hpas = InUse();
  k8s::ObjectStore<k8s::Hpa> hpa_store;
  {
    std::vector<std::shared_ptr<const k8s::Hpa>> objs;
    for (int i = 0; i < hpas; ++i) {
      bench::Target t{"bench-" + Pad(i / kHpasPerNamespace, 4), "app-" + Pad(i % kHpasPerNamespace, 4),
                      bench::KindOf(i)};
      auto r = k8s::HpaFromJson(bench::HpaJson(t, 1, 30));
      if (!r.ok()) {
        std::fprintf(stderr, "hpa: %s\n", r.status().ToString().c_str());
        return 1;
      }
      objs.push_back(std::make_shared<const k8s::Hpa>(std::move(r).value()));
    }
    hpa_store.Replace(std::move(objs));
  }
  const int64_t hpa_bytes = InUse() - before_hpas;

  std::map<std::string, std::string> texts;
  for (int n = 0; n * kHpasPerNamespace < hpas; ++n) {
    texts["bench-" + Pad(n, 4)] = PodMetricsListText("bench-" + Pad(n, 4), n * kHpasPerNamespace,
                                                     std::min(kHpasPerNamespace, hpas - n * kHpasPerNamespace));
  }
  using Steady = std::chrono::steady_clock;  // times the two metrics steps (a bench, not daemon code)
  const int64_t before_metrics = InUse();
  const auto decode_start = Steady::now();
  std::vector<std::vector<k8s::PodMetrics>> metric_lists;
  for (const auto& [ns, text] : texts) {
    auto r = k8s::PodMetricsListFromText(text, "PodMetricsList");
    if (!r.ok()) {
      std::fprintf(stderr, "metrics: %s\n", r.status().ToString().c_str());
      return 1;
    }
    metric_lists.push_back(std::move(r).value());
  }
  const double decode_ns = std::chrono::duration<double, std::nano>(Steady::now() - decode_start).count();
  const int64_t metrics_bytes = InUse() - before_metrics;
  metric_lists.clear();
  metric_lists.shrink_to_fit();

  TextSource source(texts);
  SimulatedClock clock(Time(std::chrono::seconds(1767225600)));
  const int64_t before_cache = InUse();
  auto cache = std::make_unique<ctrl::MetricsCache>(source, pod_store, clock, std::chrono::seconds(15));
  const k8s::Selector app0 = k8s::Selector::FromLabels({{"app", "app-0000"}});
  const auto cache_start = Steady::now();
  for (const auto& [ns, text] : texts) {
    auto r = cache->GetResourceMetric(ns, "cpu", app0, "");
    if (!r.ok() || r->metrics.size() != kPodsPerHpa) {
      std::fprintf(stderr, "metrics cache: %s\n", r.ok() ? "wrong pod count" : r.status().ToString().c_str());
      return 1;
    }
  }
  const double cache_ns = std::chrono::duration<double, std::nano>(Steady::now() - cache_start).count();
  const int64_t cache_bytes = InUse() - before_cache;
  cache.reset();

  // Decision traces: the old layout (every trace whole), then the TraceKeeper.
  const Time now = clock.Now();
  const int64_t before_all_traces = InUse();
  int64_t all_traces_bytes = 0;
  {
    std::map<std::string, std::shared_ptr<const ctrl::DecisionTrace>> all;
    for (int h = 0; h < hpas; ++h) {
      auto t = std::make_shared<const ctrl::DecisionTrace>(BenchTrace(h, now));
      all[t->ns + "/" + t->name] = std::move(t);
    }
    all_traces_bytes = InUse() - before_all_traces;
  }
  const int64_t before_kept_traces = InUse();
  ctrl::TraceKeeper keeper;
  for (int h = 0; h < hpas; ++h) {
    ctrl::DecisionTrace t = BenchTrace(h, now);
    const std::string key = t.ns + "/" + t.name;
    keeper.Keep(key, std::move(t));
  }
  const int64_t kept_traces_bytes = InUse() - before_kept_traces;
  if (keeper.size() != static_cast<size_t>(hpas)) {
    std::fprintf(stderr, "trace keeper: %zu traces for %d HPAs\n", keeper.size(), hpas);
    return 1;
  }

  struct mallinfo2 m = mallinfo2();
  std::printf("cache_memory_bench: %d HPAs, %d pods (heap in use, mallinfo2)\n\n", hpas, pods);
  std::printf("| %-40s | %9s | %10s | %8s |\n", "cache", "objects", "MiB", "B/object");
  std::printf("|%s|%s|%s|%s|\n", std::string(42, '-').c_str(), std::string(11, '-').c_str(),
              std::string(12, '-').c_str(), std::string(10, '-').c_str());
  Row("pod informer store (Pod + index)", pods, pod_bytes);
  Row("HPA informer store (Hpa + index)", hpas, hpa_bytes);
  Row("one period's PodMetrics lists, decoded", pods, metrics_bytes);
  Row("the same held by MetricsCache", pods, cache_bytes);
  Row("decision traces, every pod table", hpas, all_traces_bytes);
  Row("decision traces, TraceKeeper (bounded)", hpas, kept_traces_bytes);
  std::printf("\nPodMetrics lists decoded: %.0f ns/pod; MetricsCache fill (fetch = decode, compaction, "
              "indexes, one HPA's select): %.0f ns/pod\n",
              decode_ns / pods, cache_ns / pods);
  std::printf("\nTraceKeeper: %zu traces, %zu with pod tables (bound %zu most recent + failed + asked), "
              "%zu distinct condition sets\n",
              keeper.size(), keeper.WithPodTables(), ctrl::TraceKeeper::kDefaultRecentPodTables,
              keeper.DistinctConditionSets());
  std::printf("\nallocator: arena %.1f MiB, in use %.1f MiB, free in arena %.1f MiB, mmapped %.1f MiB\n",
              m.arena / 1048576.0, m.uordblks / 1048576.0, m.fordblks / 1048576.0, m.hblkhd / 1048576.0);
  return 0;
}
