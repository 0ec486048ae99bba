// ControllerWiring: builds and owns everything HorizontalController borrows
// - the HPA and pod informers, the REST mapper, the metrics client and its
// per-namespace cache, the scale client (and, with
// ControllerOptions::scale_from_cache, the watch-backed ScaleCache), the
// event recorder - then the controller on top. The one place the controller
// is put together: the daemon's runner (watching) and the simulator's driver
// (listing on virtual time) both use it.
//
// Which client each part talks through: ControllerClients (below). The
// daemon gives each its own RestApiClient (own rate limit, shared
// connections) as kube-controller-manager does; tests and the simulator may
// pass one client for everything.
//
// Ownership: owns all of the above; borrows the Monitor, the Clock and the
// WorkQueueObserver (must outlive it) and shares the ApiClients. Destruction
// stops the controller's workers, then the informers and caches, then
// flushes the recorder, so no informer handler or worker outlives what it
// uses. Thread-safety: StartWatching/Relist/FlushEvents from one thread; the
// controller's own rules otherwise.
#pragma once

#include <functional>
#include <memory>

#include "controller/history_store.h"
#include "controller/horizontal_controller.h"
#include "controller/metrics_cache.h"
#include "controller/metrics_client.h"
#include "controller/monitor.h"
#include "controller/scale_cache.h"
#include "controller/scale_client.h"
#include "k8sclient/api_client.h"
#include "k8sclient/base/clock.h"
#include "k8sclient/base/status.h"
#include "k8sclient/event_recorder.h"
#include "k8sclient/informer.h"
#include "k8sclient/api/types/hpa.h"
#include "k8sclient/api/types/pod.h"

namespace hpad::k8s {
class WorkQueueObserver;
}

namespace hpad::ctrl {

// The clients the controller's parts use, shaped like kube-controller-manager's
// HPA controller (cmd/kube-controller-manager/app/autoscaling.go):
//   informers  - the shared informer factory's own client ("shared-informers"):
//                HPA and pod list/watch, and the scale cache's watches;
//   hpa        - ClientBuilder.ClientOrDie("horizontal-pod-autoscaler"): status
//                writes (AutoscalingV2), events (the broadcaster's sink is
//                hpaClient.CoreV1()), discovery / REST mapping; also hpad's
//                history ConfigMaps (issue 13);
//   scale      - scale.NewForConfig(hpaClientConfig, ...): scale GET/UPDATE;
//   resource_metrics / custom_metrics / external_metrics - the three clients
//                metrics.NewRESTMetricsClient gets, each from its own
//                NewForConfig.
// In client-go each of these builds its own flowcontrol token bucket from
// --kube-api-qps/--kube-api-burst: rest.RESTClientFor (client-go
// rest/config.go) calls flowcontrol.NewTokenBucketRateLimiter(qps, burst)
// when config.RateLimiter is nil, and a generated clientset's NewForConfig
// (kubernetes/clientset.go) makes one bucket shared by its group clients
// (hpaClient's CoreV1, AutoscalingV2 and discovery); the informer factory's
// client is KCM's rootClientBuilder.ClientOrDie("shared-informers")
// (controllermanager.go CreateControllerContext). So a flood of metrics
// reads or events never queues a scale write behind it. Any null member falls back to `hpa`,
// and a null `hpa` to `informers`; at least one must be set.
struct ControllerClients {
  std::shared_ptr<k8s::ApiClient> informers;
  std::shared_ptr<k8s::ApiClient> hpa;
  std::shared_ptr<k8s::ApiClient> scale;
  std::shared_ptr<k8s::ApiClient> resource_metrics;
  std::shared_ptr<k8s::ApiClient> custom_metrics;
  std::shared_ptr<k8s::ApiClient> external_metrics;

  // Every part on one client (tests, the simulator's driver, `hpad explain`).
  static ControllerClients Single(std::shared_ptr<k8s::ApiClient> client);
  // Fills the null members by the fallbacks above.
  ControllerClients WithFallbacks() const;
};

class ControllerWiring {
 public:
  ControllerWiring(ControllerOptions options, std::shared_ptr<k8s::ApiClient> client, Monitor& monitor,
                   const Clock& clock, k8s::WorkQueueObserver* queue_observer = nullptr);
  ControllerWiring(ControllerOptions options, const ControllerClients& clients, Monitor& monitor, const Clock& clock,
                   k8s::WorkQueueObserver* queue_observer = nullptr);
  ~ControllerWiring();
  ControllerWiring(const ControllerWiring&) = delete;
  ControllerWiring& operator=(const ControllerWiring&) = delete;

  HorizontalController& controller() { return *controller_; }

  // Daemon: starts the scale cache's informers (not waited for: until they
  // have synced, scales are read with GET), then the pod and HPA informers,
  // and waits for those two (at most 2 minutes on the clock, or until
  // `stop` returns true - checked whenever the clock is notified).
  Status StartWatching(const std::function<bool()>& stop = nullptr);
  // Simulator: lists HPAs and pods again (no watch), so the caches are
  // exactly what the server has now, and empties the metrics cache (one
  // fetch per namespace per virtual instant).
  Status Relist();
  // Waits until every recorded event has been written.
  void FlushEvents();
  k8s::Informer<k8s::Hpa>& hpa_informer() { return *hpa_informer_; }

  // Issue 13 (ControllerOptions::persist_history; no-ops when off): read the
  // persisted histories of the HPAs in the cache (after it synced, before
  // the first reconcile); write the histories a rescale changed (and drop
  // deleted HPAs' entries); write every history (windows included: graceful
  // shutdown and hand-over). Writes touch only the shards whose content
  // changed, so a steady state writes nothing.
  Status LoadHistory();
  Status SaveChangedHistories();
  Status SaveAllHistories();
  size_t HistoryWrites() const;

 private:
  const Clock& clock_;
  const ControllerClients clients_;  // all members set
  std::unique_ptr<k8s::Informer<k8s::Hpa>> hpa_informer_;
  std::unique_ptr<k8s::Informer<k8s::Pod>> pod_informer_;
  std::shared_ptr<k8s::DiscoveryRestMapper> mapper_;
  std::unique_ptr<RestMetricsClient> metrics_;
  std::unique_ptr<MetricsCache> metrics_cache_;  // what the reconciler reads (issue 5)
  std::unique_ptr<RestScaleClient> scales_;
  std::unique_ptr<ScaleCache> scale_cache_;      // scale_from_cache only
  std::unique_ptr<k8s::ApiEventRecorder> recorder_;
  std::unique_ptr<HistoryStore> history_store_;  // persist_history only
  std::unique_ptr<HorizontalController> controller_;  // last: destroyed first
};

}  // namespace hpad::ctrl
