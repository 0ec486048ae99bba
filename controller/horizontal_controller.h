// HorizontalController: the HPA controller as upstream's
// NewHorizontalController builds it - the HPA informer's event handlers (Q3-Q5),
// the work queue and its workers (Q1, Q2), the reconciler and its per-HPA
// history, the selector registry - over collaborators it borrows: the HPA
// and pod informers, the metrics and scale clients, the event recorder, the
// Monitor and the clock (ControllerDeps). controller/wiring.h builds those
// and the controller for the daemon and the simulator.
//
// Two drivers over the same per-key reconcile:
//  - Run()/Stop(): the daemon; workers take keys from the queue, each HPA is
//    re-queued every sync period (Q2) on the injected clock. The HPAs of the
//    initial list are spread over the first period (a per-key delay in
//    [0, period)) instead of all queued at the first tick; HPAs added later
//    are queued at once (Q3).
//  - ReconcileKey(): the simulator's driver (sim/controller_driver.h) calls it
//    on virtual time, with ControllerOptions::work_queue off so informer
//    events queue nothing.
//
// Ownership: everything in ControllerDeps is borrowed and must outlive the
// controller (the wiring owns it). Thread-safety: Run/Stop are called from
// the owner's threads; ReconcileKey for one key at a time (Q1); reconciles
// of different keys run concurrently on the workers.
#pragma once

#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "controller/feature_gates.h"
#include "controller/hpa_reconciler.h"
#include "controller/monitor.h"
#include "k8sclient/api_client.h"
#include "k8sclient/base/clock.h"
#include "k8sclient/base/status.h"

namespace hpad::k8s {
class WorkQueueObserver;
class WorkQueue;
class EventRecorder;
template <typename T>
class Informer;
}

namespace hpad::ctrl {

// The controller's flags, with kube-controller-manager's defaults (13.2).
struct ControllerOptions {
  std::chrono::nanoseconds sync_period = std::chrono::seconds(15);
  double tolerance = 0.1;
  std::chrono::nanoseconds cpu_initialization_period = std::chrono::minutes(5);
  std::chrono::nanoseconds initial_readiness_delay = std::chrono::seconds(30);
  std::chrono::nanoseconds downscale_stabilization = std::chrono::minutes(5);
  int concurrent_syncs = 5;
  // Feature gates (13.3) as given by --feature-gates; a gate not named here
  // has its default from kFeatureGates (feature_gates.h). Names hpad does not
  // know are kept (KCM's list is shared by all its controllers) and ignored.
  std::map<std::string, bool> feature_gates;
  // Serve the scale of apps/v1 Deployments/StatefulSets/ReplicaSets from
  // watches on those kinds (ScaleCache) instead of one GET per HPA per
  // period; only with Start(watch=true). Off here (the scenario runner reads
  // scales with GET, like upstream); the daemon turns it on
  // (--scale-from-cache, default true). Not a ParseControllerOptions flag.
  bool scale_from_cache = false;
  // Informer events queue keys for Run()'s workers (the daemon). Off for a
  // driver that calls ReconcileKey itself (the simulator): then nothing is
  // queued. Not a ParseControllerOptions flag.
  bool work_queue = true;
  // The work queue's wake-up granularity (k8sclient/work_queue.h): delayed
  // keys become ready in batches at most this late. Zero (exact) here; the
  // daemon's runner sets kDaemonQueueGranularity (docs/divergences.md 28).
  // Not a ParseControllerOptions flag.
  std::chrono::nanoseconds queue_delay_granularity{0};
  // Issue 13: persist the behaviour history in ConfigMaps of
  // `history_namespace` (controller/history_store.h). The daemon's
  // --persist-history (default true; the Lease's namespace); off by default
  // here and in `hpad-sim run` (docs/divergences.md 20). Not a
  // ParseControllerOptions flag.
  bool persist_history = false;
  std::string history_namespace = "kube-system";
  // Issue 12: keep the last decision trace per HPA (/debug/hpas, explain)
  // and decide without writing anything (--dry-run/--shadow, explain). Not
  // ParseControllerOptions flags.
  bool keep_traces = false;
  bool dry_run = false;

  // The gate's value: as set by --feature-gates, else its default (feature_gates.h).
  bool GateEnabled(Gate gate) const;
  bool GateEnabled(const std::string& gate) const;
};

// Parses controller flags given by long name without dashes (the scenario
// `controller:` section and the daemon's flags share this), e.g.
// {"horizontal-pod-autoscaler-sync-period": "15s", "feature-gates": "HPAScaleToZero=true"}.
// Unknown names and bad values are errors naming the flag.
Result<ControllerOptions> ParseControllerOptions(const std::map<std::string, std::string>& flags,
                                                 ControllerOptions base = {});

// What the controller borrows (upstream NewHorizontalController's
// arguments); the wiring owns all of it.
struct ControllerDeps {
  k8s::Informer<k8s::Hpa>& hpas;
  k8s::Informer<k8s::Pod>& pods;
  MetricsClient& metrics;
  ScaleClient& scales;
  k8s::ApiClient& api;  // HPA status writes
  k8s::EventRecorder& events;
  Monitor& monitor;
  const Clock& clock;
  k8s::WorkQueueObserver* queue_observer = nullptr;  // client-go workqueue_* metrics; may be null
};

class HorizontalController {
 public:
  // Registers the HPA informer's handlers; call before the informers start.
  HorizontalController(ControllerOptions options, ControllerDeps deps);
  ~HorizontalController();
  HorizontalController(const HorizontalController&) = delete;
  HorizontalController& operator=(const HorizontalController&) = delete;

  // Daemon: runs `concurrent_syncs` workers until Stop().
  void Run();
  void Stop();
  // One reconcile of `key` ("ns/name") at `now`: the public per-key entry
  // point (upstream reconcileKey). A key whose HPA is gone drops its history (R1).
  ReconcileResult ReconcileKey(const std::string& key, Time now);

  // Optional hook called after every reconcile (logs, tests). Set before
  // Run(); called on the reconciling thread.
  void SetObserver(ReconcileObserver observer);
  // HPA and pod caches synced (the informers are borrowed).
  bool HasSynced() const;
  // 15.6: HPAs currently registered (selector slots).
  size_t NumHpas() const;
  // Issue 13 (--persist-history): the reconciler's histories.
  HpaReconciler& reconciler() { return reconciler_; }
  // The period after which `key` is reconciled again (Q2): its valid
  // hpad.io/sync-period annotation (issue 13), else the controller's.
  Duration SyncPeriodOf(const std::string& key) const;
  // Issue 12: the last decision traces (ControllerOptions::keep_traces).
  const HpaReconciler& reconciler() const { return reconciler_; }

 private:
  void Worker();

  const ControllerOptions options_;
  ControllerDeps deps_;
  SelectorRegistry selectors_;  // internally locked
  HpaReconciler reconciler_;
  std::unique_ptr<k8s::WorkQueue> queue_;
  std::atomic<bool> stopping_{false};
  std::mutex threads_mu_;  // guards workers_
  std::vector<std::thread> workers_;
};

}  // namespace hpad::ctrl
