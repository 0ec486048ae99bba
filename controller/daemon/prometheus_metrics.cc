// Prometheus series of the daemon (see daemon_metrics.h).
#include "controller/daemon/prometheus_metrics.h"

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <array>
#include <atomic>
#include <mutex>
#include <string_view>
#include <unordered_map>

#include "k8sclient/work_queue.h"

namespace hpad::ctrl {
namespace {

using prometheus::Histogram;

Histogram::BucketBoundaries Exponential(double start, double factor, int count) {
  Histogram::BucketBoundaries b;
  double v = start;
  for (int i = 0; i < count; ++i, v *= factor) b.push_back(v);
  return b;
}

// 15.2: prometheus.ExponentialBuckets(0.001, 2, 15).
const Histogram::BucketBoundaries& HpaBuckets() {
  static const auto b = Exponential(0.001, 2, 15);
  return b;
}
// client-go workqueue: ExponentialBuckets(10e-9, 10, 10).
const Histogram::BucketBoundaries& QueueBuckets() {
  static const auto b = Exponential(1e-8, 10, 10);
  return b;
}
// client-go rest_client_request_duration_seconds.
const Histogram::BucketBoundaries& RequestBuckets() {
  static const Histogram::BucketBoundaries b = {0.005, 0.025, 0.1, 0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 15.0, 30.0, 60.0};
  return b;
}

double Seconds(std::chrono::nanoseconds d) { return std::chrono::duration<double>(d).count(); }

constexpr size_t kNoIndex = static_cast<size_t>(-1);
constexpr size_t kActions = 3;  // ActionLabel: kNone, kScaleUp, kScaleDown
constexpr size_t kErrors = 3;   // ErrorLabel: kNone, kSpec, kInternal
// spec.metrics[*].type values of autoscaling/v2; any other text (a newer
// API, a bug) is still counted, through the uncached path.
constexpr std::array<std::string_view, 5> kMetricTypes = {"Resource", "Pods", "Object", "External",
                                                          "ContainerResource"};

// Table indices; kNoIndex for a value outside the enum (a cast), which then
// takes the uncached path and is labelled by LabelText as before.
size_t LabelIndex(ActionLabel a, ErrorLabel e) {
  const auto ai = static_cast<size_t>(a);
  const auto ei = static_cast<size_t>(e);
  return ai < kActions && ei < kErrors ? ai * kErrors + ei : kNoIndex;
}
size_t MetricTypeIndex(const std::string& type) {
  for (size_t i = 0; i < kMetricTypes.size(); ++i) {
    if (type == kMetricTypes[i]) return i;
  }
  return kNoIndex;
}

// A series resolved on first use: Family::Add (which returns the series
// already there when another thread won the race) once, then the pointer.
template <typename T, typename MakeLabels, typename... Args>
T& Resolve(std::atomic<T*>& slot, prometheus::Family<T>& family, const MakeLabels& make_labels,
           const Args&... args) {
  T* series = slot.load(std::memory_order_acquire);
  if (series == nullptr) {
    series = &family.Add(make_labels(), args...);
    slot.store(series, std::memory_order_release);
  }
  return *series;
}

// The counter and histogram of one label combination.
struct CountAndDuration {
  std::atomic<prometheus::Counter*> count{nullptr};
  std::atomic<Histogram*> duration{nullptr};
};

struct QueueSeries {
  std::atomic<prometheus::Gauge*> depth{nullptr};
  std::atomic<prometheus::Counter*> adds{nullptr};
  std::atomic<prometheus::Counter*> retries{nullptr};
  std::atomic<Histogram*> queue_duration{nullptr};
  std::atomic<Histogram*> work_duration{nullptr};
};

// Appends `part` length-first, so different label values never make the
// same key (a value may contain any byte).
void AppendKeyPart(std::string& key, std::string_view part) {
  const size_t n = part.size();
  key.append(reinterpret_cast<const char*>(&n), sizeof n);
  key.append(part);
}

// A per-thread key buffer: building a key allocates only while it grows.
std::string& ScratchKey() {
  thread_local std::string key;
  key.clear();
  return key;
}

// The entry for `key`, added when missing; nullptr when the map is full
// (the caller then takes the uncached path). Entries are never erased, so
// the pointer stays valid after the lock is released.
template <typename Entry>
Entry* FindOrAdd(std::mutex& mu, std::unordered_map<std::string, Entry>& map, const std::string& key) {
  std::lock_guard<std::mutex> l(mu);
  auto it = map.find(key);
  if (it != map.end()) return &it->second;
  if (map.size() >= kMaxCachedSeries) return nullptr;
  return &map.try_emplace(key).first->second;
}

}  // namespace

struct DaemonMetrics::SeriesCache {
  std::array<CountAndDuration, kActions * kErrors> reconciliations;
  std::array<CountAndDuration, kActions * kErrors * kMetricTypes.size()> computations;
  std::mutex mu;
  std::unordered_map<std::string, QueueSeries> queues;          // guarded by mu; key: the queue name
  std::unordered_map<std::string, CountAndDuration> requests;  // guarded by mu; key: verb, host, code
  // Guards the map and every Set/Remove of its gauges, so a Delete cannot
  // remove a gauge another thread is setting through a stale pointer.
  std::mutex desired_mu;
  std::unordered_map<std::string, prometheus::Gauge*> desired;  // guarded by desired_mu; key: ns, name
};

DaemonMetrics::DaemonMetrics()
    : registry_(std::make_shared<prometheus::Registry>()), cache_(std::make_unique<SeriesCache>()) {
  auto& r = *registry_;
  const std::string hpa = "horizontal_pod_autoscaler_controller_";
  reconciliations_ = &prometheus::BuildCounter()
                          .Name(hpa + "reconciliations_total")
                          .Help("Number of reconciliations of HPA controller. The label 'action' should be either "
                                "'scale_down', 'scale_up', or 'none'. Also, the label 'error' should be either "
                                "'spec', 'internal', or 'none'.")
                          .Register(r);
  reconciliation_duration_ = &prometheus::BuildHistogram()
                                  .Name(hpa + "reconciliation_duration_seconds")
                                  .Help("The time(seconds) that the HPA controller takes to reconcile once. The label "
                                        "'action' should be either 'scale_down', 'scale_up', or 'none'. Also, the "
                                        "label 'error' should be either 'spec', 'internal', or 'none'.")
                                  .Register(r);
  metric_computations_ = &prometheus::BuildCounter()
                              .Name(hpa + "metric_computation_total")
                              .Help("Number of metric computations. The label 'action' should be either "
                                    "'scale_down', 'scale_up', or 'none'. The label 'error' should be either 'spec', "
                                    "'internal', or 'none'. The label 'metric_type' corresponds to HPA.spec.metrics[*].type")
                              .Register(r);
  metric_computation_duration_ = &prometheus::BuildHistogram()
                                      .Name(hpa + "metric_computation_duration_seconds")
                                      .Help("The time(seconds) that the HPA controller takes to calculate one metric. "
                                            "The label 'action' should be either 'scale_down', 'scale_up', or "
                                            "'none'. The label 'error' should be either 'spec', 'internal', or "
                                            "'none'. The label 'metric_type' corresponds to HPA.spec.metrics[*].type")
                                      .Register(r);
  desired_replicas_ = &prometheus::BuildGauge()
                           .Name(hpa + "desired_replicas")
                           .Help("Current desired replica count for HPA objects.")
                           .Register(r);
  num_hpas_ = &prometheus::BuildGauge()
                   .Name(hpa + "num_horizontal_pod_autoscalers")
                   .Help("Current number of controlled HPA objects.")
                   .Register(r)
                   .Add({});
  queue_depth_ = &prometheus::BuildGauge().Name("workqueue_depth").Help("Current depth of workqueue").Register(r);
  queue_adds_ = &prometheus::BuildCounter()
                     .Name("workqueue_adds_total")
                     .Help("Total number of adds handled by workqueue")
                     .Register(r);
  queue_retries_ = &prometheus::BuildCounter()
                        .Name("workqueue_retries_total")
                        .Help("Total number of retries handled by workqueue")
                        .Register(r);
  queue_duration_ = &prometheus::BuildHistogram()
                         .Name("workqueue_queue_duration_seconds")
                         .Help("How long in seconds an item stays in workqueue before being requested.")
                         .Register(r);
  work_duration_ = &prometheus::BuildHistogram()
                        .Name("workqueue_work_duration_seconds")
                        .Help("How long in seconds processing an item from workqueue takes.")
                        .Register(r);
  requests_ = &prometheus::BuildCounter()
                   .Name("rest_client_requests_total")
                   .Help("Number of HTTP requests, partitioned by status code, method, and host.")
                   .Register(r);
  request_duration_ = &prometheus::BuildHistogram()
                           .Name("rest_client_request_duration_seconds")
                           .Help("Request latency in seconds. Broken down by verb, and host.")
                           .Register(r);
  leader_ = &prometheus::BuildGauge()
                 .Name("leader_election_master_status")
                 .Help("Gauge of if the reporting system is master of the relevant lease, 0 indicates backup, 1 "
                       "indicates master. 'name' is the string used to identify the lease.")
                 .Register(r);
}

DaemonMetrics::~DaemonMetrics() = default;

void DaemonMetrics::ObserveReconciliationResult(ActionLabel action, ErrorLabel error,
                                                std::chrono::nanoseconds duration) {
  auto labels = [&] {
    return prometheus::Labels{{"action", std::string(LabelText(action))}, {"error", std::string(LabelText(error))}};
  };
  const size_t i = LabelIndex(action, error);
  if (i == kNoIndex) {
    reconciliations_->Add(labels()).Increment();
    reconciliation_duration_->Add(labels(), HpaBuckets()).Observe(Seconds(duration));
    return;
  }
  auto& s = cache_->reconciliations[i];
  Resolve(s.count, *reconciliations_, labels).Increment();
  Resolve(s.duration, *reconciliation_duration_, labels, HpaBuckets()).Observe(Seconds(duration));
}

void DaemonMetrics::ObserveMetricComputationResult(ActionLabel action, ErrorLabel error,
                                                   std::chrono::nanoseconds duration, const std::string& metric_type) {
  auto labels = [&] {
    return prometheus::Labels{{"action", std::string(LabelText(action))},
                              {"error", std::string(LabelText(error))},
                              {"metric_type", metric_type}};
  };
  const size_t i = LabelIndex(action, error);
  const size_t t = MetricTypeIndex(metric_type);
  if (i == kNoIndex || t == kNoIndex) {
    metric_computations_->Add(labels()).Increment();
    metric_computation_duration_->Add(labels(), HpaBuckets()).Observe(Seconds(duration));
    return;
  }
  auto& s = cache_->computations[i * kMetricTypes.size() + t];
  Resolve(s.count, *metric_computations_, labels).Increment();
  Resolve(s.duration, *metric_computation_duration_, labels, HpaBuckets()).Observe(Seconds(duration));
}

void DaemonMetrics::SetDesiredReplicas(const std::string& ns, const std::string& hpa_name, int32_t replicas) {
  std::string& key = ScratchKey();
  AppendKeyPart(key, ns);
  AppendKeyPart(key, hpa_name);
  auto& c = *cache_;
  std::lock_guard<std::mutex> l(c.desired_mu);
  auto it = c.desired.find(key);
  if (it == c.desired.end()) {
    auto& g = desired_replicas_->Add({{"namespace", ns}, {"hpa_name", hpa_name}});
    it = c.desired.emplace(key, &g).first;
  }
  it->second->Set(replicas);
}

void DaemonMetrics::DeleteDesiredReplicas(const std::string& ns, const std::string& hpa_name) {
  std::string& key = ScratchKey();
  AppendKeyPart(key, ns);
  AppendKeyPart(key, hpa_name);
  auto& c = *cache_;
  std::lock_guard<std::mutex> l(c.desired_mu);
  auto it = c.desired.find(key);
  if (it != c.desired.end()) {
    // Removing the series stops exporting a deleted HPA.
    desired_replicas_->Remove(it->second);
    c.desired.erase(it);
    return;
  }
  // Never set through the cache, so the family has no such series: Add()
  // and Remove() leave it so, as they always did.
  auto& g = desired_replicas_->Add({{"namespace", ns}, {"hpa_name", hpa_name}});
  desired_replicas_->Remove(&g);
}

void DaemonMetrics::SetNumHpas(size_t n) { num_hpas_->Set(static_cast<double>(n)); }

void DaemonMetrics::SetQueueDepth(const std::string& name, int depth) {
  auto labels = [&] { return prometheus::Labels{{"name", name}}; };
  if (auto* q = FindOrAdd(cache_->mu, cache_->queues, name)) {
    Resolve(q->depth, *queue_depth_, labels).Set(depth);
  } else {
    queue_depth_->Add(labels()).Set(depth);
  }
}
void DaemonMetrics::QueueAdd(const std::string& name) {
  auto labels = [&] { return prometheus::Labels{{"name", name}}; };
  if (auto* q = FindOrAdd(cache_->mu, cache_->queues, name)) {
    Resolve(q->adds, *queue_adds_, labels).Increment();
  } else {
    queue_adds_->Add(labels()).Increment();
  }
}
void DaemonMetrics::QueueRetry(const std::string& name) {
  auto labels = [&] { return prometheus::Labels{{"name", name}}; };
  if (auto* q = FindOrAdd(cache_->mu, cache_->queues, name)) {
    Resolve(q->retries, *queue_retries_, labels).Increment();
  } else {
    queue_retries_->Add(labels()).Increment();
  }
}
void DaemonMetrics::ObserveQueueLatency(const std::string& name, std::chrono::nanoseconds waited) {
  auto labels = [&] { return prometheus::Labels{{"name", name}}; };
  if (auto* q = FindOrAdd(cache_->mu, cache_->queues, name)) {
    Resolve(q->queue_duration, *queue_duration_, labels, QueueBuckets()).Observe(Seconds(waited));
  } else {
    queue_duration_->Add(labels(), QueueBuckets()).Observe(Seconds(waited));
  }
}
void DaemonMetrics::ObserveWorkDuration(const std::string& name, std::chrono::nanoseconds worked) {
  auto labels = [&] { return prometheus::Labels{{"name", name}}; };
  if (auto* q = FindOrAdd(cache_->mu, cache_->queues, name)) {
    Resolve(q->work_duration, *work_duration_, labels, QueueBuckets()).Observe(Seconds(worked));
  } else {
    work_duration_->Add(labels(), QueueBuckets()).Observe(Seconds(worked));
  }
}

void DaemonMetrics::ObserveRequest(const std::string& verb, const std::string& host, const std::string& code,
                                   std::chrono::nanoseconds duration) {
  auto count_labels = [&] { return prometheus::Labels{{"code", code}, {"host", host}, {"method", verb}}; };
  auto duration_labels = [&] { return prometheus::Labels{{"verb", verb}, {"host", host}}; };
  std::string& key = ScratchKey();
  AppendKeyPart(key, verb);
  AppendKeyPart(key, host);
  AppendKeyPart(key, code);
  if (auto* r = FindOrAdd(cache_->mu, cache_->requests, key)) {
    Resolve(r->count, *requests_, count_labels).Increment();
    Resolve(r->duration, *request_duration_, duration_labels, RequestBuckets()).Observe(Seconds(duration));
  } else {
    requests_->Add(count_labels()).Increment();
    request_duration_->Add(duration_labels(), RequestBuckets()).Observe(Seconds(duration));
  }
}

void DaemonMetrics::SetLeader(const std::string& name, bool leading) {
  leader_->Add({{"name", name}}).Set(leading ? 1 : 0);
}

namespace {

class WorkQueueMetricsObserver final : public k8s::WorkQueueObserver {
 public:
  explicit WorkQueueMetricsObserver(DaemonMetrics& m) : m_(m) {}
  void OnDepth(const std::string& queue, int64_t depth) override { m_.SetQueueDepth(queue, static_cast<int>(depth)); }
  void OnAdd(const std::string& queue) override { m_.QueueAdd(queue); }
  void OnQueueLatency(const std::string& queue, Duration latency) override { m_.ObserveQueueLatency(queue, latency); }
  void OnWorkDuration(const std::string& queue, Duration d) override { m_.ObserveWorkDuration(queue, d); }
  void OnRetry(const std::string& queue) override { m_.QueueRetry(queue); }

 private:
  DaemonMetrics& m_;
};

}  // namespace

std::unique_ptr<k8s::WorkQueueObserver> NewWorkQueueMetricsObserver(DaemonMetrics& metrics) {
  return std::make_unique<WorkQueueMetricsObserver>(metrics);
}

}  // namespace hpad::ctrl
