// HpaReconciler: one pass of the HPA controller for one HPA key
// (hpa-semantics.md R1-R14) and the per-HPA history (H1/H2). The selector
// registry it consults for AmbiguousSelector (S3/S4) is in
// controller/core/selector_registry.h.
//
// The reconciler reads HPAs and pods from informer stores, fetches metrics
// through MetricsClient, reads/writes the scale through ScaleClient, writes
// HPA status through ApiClient (`status` subresource of autoscaling/v2) and
// emits events through k8s::EventRecorder. All decisions are made by the pure
// functions of replica_calculator.h, normalization.h and hpa_status.h.
//
// Thread-safety: Reconcile may run concurrently for different keys (the work
// queue guarantees one worker per key, Q1); history and the selector
// registry are internally locked. The observer is called on the reconciling
// thread.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <shared_mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "controller/metrics_client.h"
#include "controller/core/normalization.h"
#include "controller/core/replica_calculator.h"
#include "controller/core/selector_registry.h"
#include "controller/scale_client.h"
#include "k8sclient/api_client.h"
#include "k8sclient/base/clock.h"
#include "k8sclient/event_recorder.h"
#include "k8sclient/api/label_selector.h"
#include "k8sclient/object_store.h"
#include "k8sclient/api/types/hpa.h"
#include "k8sclient/api/types/pod.h"

namespace hpad::ctrl {

// The involvedObject of the reconciler's events.
k8s::EventObjectRef EventRefFor(const k8s::Hpa& hpa);

struct ReconcilerOptions {
  double tolerance = 0.1;  // --horizontal-pod-autoscaler-tolerance
  ReadinessTuning readiness;
  Duration downscale_stabilization = std::chrono::minutes(5);
  // Feature gates (13.3).
  bool configurable_tolerance = true;   // HPAConfigurableTolerance
  bool scale_to_zero = false;           // HPAScaleToZero
  bool generation = true;               // HPAGeneration
  bool optimized_selector_store = true; // HPAOptimizedSelectorStore
  bool pod_level_resources = false;     // PodLevelResources
};

// Per-metric observation for 15.3/15.4.
struct MetricObservation {
  std::string metric_type;  // spec type string
  std::string action;       // scale_up | scale_down | none
  std::string error;        // spec | internal | none
  Duration duration{};
};

// What one reconcile did, for the daemon's Prometheus metrics (15.x) and the
// scenario runner's timeline.
struct ReconcileReport {
  std::string key;
  Time time{};
  bool deleted = false;           // R1: HPA gone
  bool reached_status = false;    // R13 reached (desired gauge, 15.5)
  std::vector<k8s::MetricSpec> metric_specs;
  std::vector<k8s::MetricStatus> metric_statuses;
  int32_t current_replicas = 0;
  int32_t desired_replicas = 0;
  std::string reason;       // rescale reason text (R8, R6 b/c), "" if none
  std::string error;        // "" when the reconcile succeeded
  std::string action = "none";        // scale_up | scale_down | none (15.2)
  std::string error_label = "none";   // spec | internal | none
  Duration duration{};
  std::vector<MetricObservation> metrics;
};
using ReconcileObserver = std::function<void(const ReconcileReport&)>;

struct ReconcileResult {
  bool deleted = false;  // no requeue (Q2 applies only to existing HPAs)
  Status error;          // R14, for logging and metrics only
};

class HpaReconciler {
 public:
  // Everything borrowed must outlive the reconciler. `clock` is only used to
  // measure durations for the observer; decisions use `now`.
  HpaReconciler(ReconcilerOptions options, const k8s::ObjectStore<k8s::Hpa>& hpas,
                const k8s::ObjectStore<k8s::Pod>& pods, MetricsClient& metrics, ScaleClient& scales,
                k8s::ApiClient& api, k8s::EventRecorder& events, SelectorRegistry& selectors, const Clock& clock);

  ReconcileResult Reconcile(const std::string& key, Time now);

  void SetObserver(ReconcileObserver observer) { observer_ = std::move(observer); }
  // H1: for tests and introspection.
  bool HasHistory(const std::string& key) const;
  HpaHistory HistoryFor(const std::string& key) const;
  void DropHistory(const std::string& key);

 private:
  struct Pass;
  struct MetricOutcome;
  HpaHistory& History(const std::string& key);
  void Finish(Pass& pass);
  void ComputeReplicasForMetrics(Pass& pass);
  MetricOutcome ComputeReplicasForMetric(Pass& pass, const k8s::MetricSpec& spec, k8s::MetricStatus& status);
  MetricOutcome ComputeResource(Pass& pass, const std::string& resource, const std::string& container,
                                const k8s::MetricTarget& target, bool container_form, k8s::MetricStatus& status);
  MetricOutcome ComputePods(Pass& pass, const k8s::PodsMetricSource& src, k8s::MetricStatus& status);
  MetricOutcome ComputeObject(Pass& pass, const k8s::ObjectMetricSource& src, k8s::MetricStatus& status);
  MetricOutcome ComputeExternal(Pass& pass, const k8s::ExternalMetricSource& src, k8s::MetricStatus& status);
  MetricOutcome Unable(Pass& pass, const std::string& reason, const std::string& cond_err,
                       const std::string& agg_err);
  Status UpdateStatusIfNeeded(Pass& pass);
  void SetCondition(Pass& pass, const std::string& type, const std::string& status, const std::string& reason,
                    const std::string& message);
  Tolerances TolerancesFor(const k8s::Hpa& hpa) const;

  ReconcilerOptions options_;
  const k8s::ObjectStore<k8s::Hpa>& hpas_;
  const k8s::ObjectStore<k8s::Pod>& pods_;
  MetricsClient& metrics_;
  ScaleClient& scales_;
  k8s::ApiClient& api_;
  k8s::EventRecorder& events_;
  SelectorRegistry& selectors_;
  const Clock& clock_;
  ReconcileObserver observer_;

  mutable std::mutex history_mu_;
  std::map<std::string, HpaHistory> history_;  // node-stable: references survive inserts
};

}  // namespace hpad::ctrl
