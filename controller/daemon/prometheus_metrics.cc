// Prometheus series of the daemon (see daemon_metrics.h).
#include "controller/daemon/prometheus_metrics.h"

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

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

}  // namespace

DaemonMetrics::DaemonMetrics() : registry_(std::make_shared<prometheus::Registry>()) {
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
  prometheus::Labels l{{"action", std::string(LabelText(action))}, {"error", std::string(LabelText(error))}};
  reconciliations_->Add(l).Increment();
  reconciliation_duration_->Add(l, HpaBuckets()).Observe(Seconds(duration));
}

void DaemonMetrics::ObserveMetricComputationResult(ActionLabel action, ErrorLabel error,
                                                   std::chrono::nanoseconds duration, const std::string& metric_type) {
  prometheus::Labels l{{"action", std::string(LabelText(action))},
                       {"error", std::string(LabelText(error))},
                       {"metric_type", metric_type}};
  metric_computations_->Add(l).Increment();
  metric_computation_duration_->Add(l, HpaBuckets()).Observe(Seconds(duration));
}

void DaemonMetrics::SetDesiredReplicas(const std::string& ns, const std::string& hpa_name, int32_t replicas) {
  desired_replicas_->Add({{"namespace", ns}, {"hpa_name", hpa_name}}).Set(replicas);
}

void DaemonMetrics::DeleteDesiredReplicas(const std::string& ns, const std::string& hpa_name) {
  // Add() returns the existing series; removing it stops exporting a deleted HPA.
  auto& g = desired_replicas_->Add({{"namespace", ns}, {"hpa_name", hpa_name}});
  desired_replicas_->Remove(&g);
}

void DaemonMetrics::SetNumHpas(size_t n) { num_hpas_->Set(static_cast<double>(n)); }

void DaemonMetrics::SetQueueDepth(const std::string& name, int depth) { queue_depth_->Add({{"name", name}}).Set(depth); }
void DaemonMetrics::QueueAdd(const std::string& name) { queue_adds_->Add({{"name", name}}).Increment(); }
void DaemonMetrics::QueueRetry(const std::string& name) { queue_retries_->Add({{"name", name}}).Increment(); }
void DaemonMetrics::ObserveQueueLatency(const std::string& name, std::chrono::nanoseconds waited) {
  queue_duration_->Add({{"name", name}}, QueueBuckets()).Observe(Seconds(waited));
}
void DaemonMetrics::ObserveWorkDuration(const std::string& name, std::chrono::nanoseconds worked) {
  work_duration_->Add({{"name", name}}, QueueBuckets()).Observe(Seconds(worked));
}

void DaemonMetrics::ObserveRequest(const std::string& verb, const std::string& host, const std::string& code,
                                   std::chrono::nanoseconds duration) {
  requests_->Add({{"code", code}, {"host", host}, {"method", verb}}).Increment();
  request_duration_->Add({{"verb", verb}, {"host", host}}, RequestBuckets()).Observe(Seconds(duration));
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
