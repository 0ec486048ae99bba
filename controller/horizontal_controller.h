// HorizontalController: the whole HPA controller as one object - HPA and pod
// informers, the work queue, the reconciler and its per-HPA history.
//
// Two ways to drive it over the same reconcile code:
//  - Run(): the daemon; workers take keys from the queue, each HPA is
//    re-queued every sync period (rules Q1-Q6) on the injected clock. The
//    HPAs of the initial list are spread over the first period (a
//    per-key delay in [0, period)) instead of all queued at the first tick;
//    HPAs added later are queued at once (Q3).
//  - SyncAllNow(): the scenario runner (`hpad-sim run`) on virtual time;
//    refreshes the caches from the API server, reconciles every known HPA
//    once and returns when all are done.
// Resource and Pods metrics go through a MetricsCache (one fetch per
// namespace per sync period; SyncAllNow empties it first, so one fetch per
// namespace per virtual instant).
// The controller owns its informers and history; it borrows the ApiClient
// (shared), the Monitor and the Clock (both must outlive it). Start/Stop/SyncAllNow are called
// from one thread; reconciles run on worker threads.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "controller/feature_gates.h"
#include "controller/hpa_reconciler.h"
#include "controller/monitor.h"
#include "k8sclient/api_client.h"
#include "k8sclient/base/clock.h"
#include "k8sclient/base/status.h"

namespace hpad::k8s {
class WorkQueueObserver;
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

class HorizontalController {
 public:
  HorizontalController(ControllerOptions options, std::shared_ptr<k8s::ApiClient> client, Monitor& monitor,
                       const Clock& clock);
  ~HorizontalController();
  HorizontalController(const HorizontalController&) = delete;
  HorizontalController& operator=(const HorizontalController&) = delete;

  // Lists HPAs and pods and starts watching them (daemon) or just lists
  // them (when SyncAllNow will be used). Returns once caches are synced.
  Status Start(bool watch = true);
  bool HasSynced() const;
  // Daemon: runs workers until Stop().
  void Run();
  void Stop();
  // Scenario runner: relist HPAs and pods, reconcile every HPA once (and
  // every HPA deleted since the last pass, to drop its history), one after
  // the other in sorted key order for determinism, flush events, return.
  Status SyncAllNow();
  // Scenario runner, between ticks: the same as SyncAllNow but reconciles
  // only `keys` ("ns/name"; HPAs just created or whose spec changed, Q3/Q4),
  // so every other HPA keeps its periodic schedule.
  Status SyncKeysNow(const std::vector<std::string>& keys);

  // Optional hook called after every reconcile (daemon metrics 15.x, the
  // scenario runner's timeline). Set before Start(); called on worker threads.
  void SetObserver(ReconcileObserver observer);
  // Optional work-queue metrics hook (client-go workqueue_* series); must
  // outlive the controller. Set before Start().
  void SetWorkQueueObserver(k8s::WorkQueueObserver* observer);
  // 15.6: HPAs currently registered (selector slots).
  size_t NumHpas() const;

 private:
  // Relist, then reconcile `*only` (or every known and recently deleted HPA).
  Status SyncNow(const std::vector<std::string>* only);

  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace hpad::ctrl
