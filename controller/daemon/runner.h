// DaemonRunner: one lifetime of the `hpad` daemon, wiring the controller,
// leader election, the health/metrics port and shutdown together.
//
//   Start():  binds the health/metrics port, starts the controller's
//             informers (every replica: a warm standby takes over with full
//             caches) and, with --leader-elect, the leader elector.
//   Wait():   blocks until RequestShutdown() or the lease is lost, then
//             shuts down and returns the process exit code.
//
// Only the leader runs the controller's workers, so only the leader writes.
// A follower serves /readyz as ready once its caches synced, and idles.
// Losing the lease (renew deadline passed) stops the workers at once and
// exits non-zero so the kubelet restarts the process with fresh state - as
// kube-controller-manager does ("leaderelection lost").
// RequestShutdown (SIGTERM/SIGINT): readiness fails, the queue stops handing
// out keys, in-flight reconciles get kShutdownGrace (2 s) to finish; then the
// clients' CancelScope is cancelled, which aborts requests still on the wire
// (issue 14 item 5), and the controller thread is joined. Only if it has not
// ended kCancelledJoinBound (60 s) after that does Wait() give up on it
// (abandoned(), exit code 2, logged). The lease is released so a standby
// takes over at once, and Wait() returns 0.
//
// With leader election the elector holds the clients' WriteFence open
// (write_fence.h), so the controller's writes stop at the renew deadline
// even before OnStoppedLeading runs; lease requests go through a separate
// client (one attempt, each bounded by the time left to the renew deadline).
//
// Ownership: borrows the Clock and DaemonMetrics (must outlive the runner),
// shares the clients. Thread-safety: RequestShutdown/Ready/port may be called from
// any thread; Start and Wait from one thread.
#pragma once

#include <chrono>

#include <atomic>
#include <memory>
#include <string>
#include <thread>

#include "controller/daemon/flags.h"
#include "controller/daemon/http_server.h"
#include "controller/daemon/liveness.h"
#include "controller/daemon/prometheus_metrics.h"
#include "controller/daemon/shadow.h"
#include "controller/wiring.h"
#include "k8sclient/api_client.h"
#include "k8sclient/base/clock.h"
#include "k8sclient/cancel_scope.h"
#include "k8sclient/leader_elector.h"
#include "k8sclient/rest_api_client.h"
#include "k8sclient/write_fence.h"

namespace hpad::ctrl {

// The daemon's work-queue wake-up granularity (ControllerOptions::
// queue_delay_granularity): a resync is at most this late (divergence 28).
inline constexpr std::chrono::milliseconds kDaemonQueueGranularity{20};

// What main builds for the runner: the clients and their shared controls.
struct DaemonClients {
  // The HPA client (status writes, events, discovery; fenced when
  // leader-elected), and every part `parts` leaves null.
  std::shared_ptr<k8s::ApiClient> client;
  // Issue 16: one client per part of the controller, each with its own rate
  // limit, as kube-controller-manager (ControllerClients in wiring.h); main
  // builds them on one shared transport with the same fence, cancel scope,
  // observer and User-Agent. Null members fall back to `client`.
  ControllerClients parts;
  std::shared_ptr<k8s::ApiClient> lease_client;  // leader election only (no fence, no retries); null = client
  std::shared_ptr<k8s::CancelScope> cancel;      // cancels the clients' requests at shutdown; may be null
  std::shared_ptr<k8s::WriteFence> fence;        // the fence the clients check; null = none
  std::string identity;                          // leader-election identity (also in the User-Agent)
  std::shared_ptr<LivenessTracker> liveness;     // what /livez checks; null = made by the runner
};

// Issue 16: the controller's clients as main builds them, shaped like
// kube-controller-manager's (ControllerClients in controller/wiring.h): one
// RestApiClient per part - informers, HPA (status, events, discovery; also
// `client`), scale, resource / custom / external metrics - each with its
// own token bucket from `options` (--kube-api-qps/--kube-api-burst) and the
// same fence, cancel scope, observer and retries, all on one `transport`
// (one connection pool, one User-Agent). Only `client` and `parts` are set.
DaemonClients MakeControllerClients(const std::shared_ptr<k8s::HttpTransport>& transport, const Clock& clock,
                                    const k8s::RestApiClientOptions& options);

// The liveness thresholds that follow from the daemon's flags.
LivenessOptions MakeLivenessOptions(const DaemonOptions& options);

class DaemonRunner {
 public:
  DaemonRunner(DaemonOptions options, DaemonClients clients, const Clock& clock, DaemonMetrics& metrics);
  ~DaemonRunner();
  DaemonRunner(const DaemonRunner&) = delete;
  DaemonRunner& operator=(const DaemonRunner&) = delete;

  // Fails only if the health/metrics port cannot be bound.
  Status Start();
  int Wait();
  void RequestShutdown();

  int port() const;  // the bound health/metrics port (after Start)
  // True when Wait() gave up on stuck work even after cancelling it (the
  // last resort): a thread may still use the runner, so the caller must end
  // the process (std::_Exit) without destroying it.
  bool abandoned() const { return abandoned_; }
  // "" when ready, else why not (what /readyz reports).
  std::string NotReadyReason() const;
  // "" when live, else why not (what /livez and /healthz report; liveness.h).
  std::string NotLiveReason() const;

 private:
  void ControllerLoop();
  void OnReconcile(const ReconcileReport& report);

  DaemonOptions options_;
  DaemonClients clients_;
  const Clock& clock_;
  DaemonMetrics& metrics_;
  std::unique_ptr<k8s::WorkQueueObserver> queue_observer_;
  std::unique_ptr<ControllerWiring> wiring_;  // the controller and what it borrows
  std::unique_ptr<k8s::LeaderElector> elector_;
  std::unique_ptr<DaemonHttpServer> http_;
  std::unique_ptr<ShadowReporter> shadow_;  // --dry-run only
  // Issue 12: what /debug/hpas reads; set once the wiring exists (the HTTP
  // server starts before it).
  std::atomic<const HorizontalController*> debug_controller_{nullptr};
  // What /livez reads (NotLiveReason), published the same way.
  std::atomic<ControllerWiring*> live_wiring_{nullptr};
  std::thread controller_thread_;

  std::atomic<bool> shutdown_{false};
  std::atomic<bool> lease_lost_{false};
  std::atomic<bool> leading_{false};
  std::atomic<bool> synced_{false};
  std::atomic<bool> workers_running_{false};
  // Set once the workers have stopped and the shutdown save of the
  // persisted history began: Wait() then gives that save its own grace.
  std::atomic<bool> saving_history_{false};
  std::atomic<bool> abandoned_{false};
};

}  // namespace hpad::ctrl
