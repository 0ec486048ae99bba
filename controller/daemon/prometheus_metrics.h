// DaemonMetrics: every Prometheus series `hpad` exports, on one registry,
// with the upstream names, labels and buckets so existing dashboards and
// alerts keep working when hpad replaces KCM's HPA controller.
//
//   horizontal_pod_autoscaler_controller_* (hpa-semantics.md section 15)
//     reconciliations_total{action,error}                      15.1
//     reconciliation_duration_seconds{action,error}            15.2 buckets 0.001 x2^k, 15 buckets
//     metric_computation_total{action,error,metric_type}       15.3
//     metric_computation_duration_seconds{...}                 15.4 same buckets
//     desired_replicas{namespace,hpa_name}                     15.5
//     num_horizontal_pod_autoscalers                           15.6
//   workqueue_*{name}        client-go work-queue metrics (depth, adds,
//                            retries, queue/work duration; buckets 1e-8 x10^k, 10)
//   rest_client_requests_total{code,host,method},
//   rest_client_request_duration_seconds{verb,host}   client-go REST metrics
//   leader_election_master_status{name}               client-go leader election
//
// It is the controller's Monitor (controller/monitor.h): the action and
// error labels come typed from there. All methods are thread-safe
// (prometheus-cpp families and metrics are); the object must outlive every
// hook that feeds it.
//
// Cost (issue 16: ~1,000 reconciles/s at 15,000 HPAs): prometheus-cpp's
// Family::Add builds, copies and hashes a label map and constructs a whole
// new histogram on every call, even for a series that exists. So each
// method resolves its series once per label combination and keeps the
// pointer: (action, error) and the known metric types in fixed tables of
// atomics, queue names, request (verb, host, code) and the per-HPA
// desired_replicas gauges in small maps under a mutex, keyed without
// building a label map. A series still appears only when first observed,
// with the same name, labels and value as before; the small maps are
// capped (kMaxCachedSeries) and anything beyond the cap takes the old,
// uncached path. desired_replicas entries leave the cache with the series.
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>

#include "controller/monitor.h"

namespace prometheus {
class Registry;
class Counter;
class Gauge;
class Histogram;
template <typename T>
class Family;
}  // namespace prometheus

namespace hpad::k8s {
class WorkQueueObserver;
}

namespace hpad::ctrl {

// Queue names and request (verb, host, code) triples whose series pointers
// are kept; later ones are looked up in their family on every call.
inline constexpr size_t kMaxCachedSeries = 256;

class DaemonMetrics final : public Monitor {
 public:
  DaemonMetrics();
  ~DaemonMetrics() override;
  DaemonMetrics(const DaemonMetrics&) = delete;
  DaemonMetrics& operator=(const DaemonMetrics&) = delete;

  std::shared_ptr<prometheus::Registry> registry() const { return registry_; }

  // Section 15 (Monitor).
  void ObserveReconciliationResult(ActionLabel action, ErrorLabel error, std::chrono::nanoseconds duration) override;
  void ObserveMetricComputationResult(ActionLabel action, ErrorLabel error, std::chrono::nanoseconds duration,
                                      const std::string& metric_type) override;
  void SetDesiredReplicas(const std::string& ns, const std::string& hpa_name, int32_t replicas) override;
  void DeleteDesiredReplicas(const std::string& ns, const std::string& hpa_name) override;
  void SetNumHpas(size_t n) override;

  // Work queue (name is the queue's name, "horizontalpodautoscaler" upstream).
  void SetQueueDepth(const std::string& name, int depth);
  void QueueAdd(const std::string& name);
  void QueueRetry(const std::string& name);
  void ObserveQueueLatency(const std::string& name, std::chrono::nanoseconds waited);
  void ObserveWorkDuration(const std::string& name, std::chrono::nanoseconds worked);

  // API requests. `code` is the HTTP status as text, or "<error>" when no
  // response arrived (client-go's label for transport failures).
  void ObserveRequest(const std::string& verb, const std::string& host, const std::string& code,
                      std::chrono::nanoseconds duration);

  // 1 while this process holds the lease `name`, else 0.
  void SetLeader(const std::string& name, bool leading);

 private:
  std::shared_ptr<prometheus::Registry> registry_;
  prometheus::Family<prometheus::Counter>* reconciliations_;
  prometheus::Family<prometheus::Histogram>* reconciliation_duration_;
  prometheus::Family<prometheus::Counter>* metric_computations_;
  prometheus::Family<prometheus::Histogram>* metric_computation_duration_;
  prometheus::Family<prometheus::Gauge>* desired_replicas_;
  prometheus::Gauge* num_hpas_;
  prometheus::Family<prometheus::Gauge>* queue_depth_;
  prometheus::Family<prometheus::Counter>* queue_adds_;
  prometheus::Family<prometheus::Counter>* queue_retries_;
  prometheus::Family<prometheus::Histogram>* queue_duration_;
  prometheus::Family<prometheus::Histogram>* work_duration_;
  prometheus::Family<prometheus::Counter>* requests_;
  prometheus::Family<prometheus::Histogram>* request_duration_;
  prometheus::Family<prometheus::Gauge>* leader_;
  struct SeriesCache;  // the resolved series (prometheus_metrics.cc)
  std::unique_ptr<SeriesCache> cache_;
};

// Feeds the workqueue_* series from a k8s::WorkQueue. `metrics` must
// outlive the observer.
std::unique_ptr<k8s::WorkQueueObserver> NewWorkQueueMetricsObserver(DaemonMetrics& metrics);

}  // namespace hpad::ctrl
