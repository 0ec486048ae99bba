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
// out keys, in-flight reconciles finish, the lease is released so a standby
// takes over at once, and Wait() returns 0.
//
// Ownership: borrows the ApiClient, Clock and DaemonMetrics (must outlive
// the runner). Thread-safety: RequestShutdown/Ready/port may be called from
// any thread; Start and Wait from one thread.
#pragma once

#include <atomic>
#include <memory>
#include <string>
#include <thread>

#include "controller/daemon/flags.h"
#include "controller/daemon/http_server.h"
#include "controller/daemon/prometheus_metrics.h"
#include "controller/daemon/shadow.h"
#include "controller/wiring.h"
#include "k8sclient/api_client.h"
#include "k8sclient/base/clock.h"
#include "k8sclient/leader_elector.h"

namespace hpad::ctrl {

class DaemonRunner {
 public:
  DaemonRunner(DaemonOptions options, std::shared_ptr<k8s::ApiClient> client, const Clock& clock,
               DaemonMetrics& metrics);
  ~DaemonRunner();
  DaemonRunner(const DaemonRunner&) = delete;
  DaemonRunner& operator=(const DaemonRunner&) = delete;

  // Fails only if the health/metrics port cannot be bound.
  Status Start();
  int Wait();
  void RequestShutdown();

  int port() const;  // the bound health/metrics port (after Start)
  // True when Wait() gave up on stuck in-flight work: a thread may still use
  // the runner, so the caller must end the process (std::_Exit) without
  // destroying it.
  bool abandoned() const { return abandoned_; }
  // "" when ready, else why not (what /readyz reports).
  std::string NotReadyReason() const;

 private:
  void ControllerLoop();
  void OnReconcile(const ReconcileReport& report);

  DaemonOptions options_;
  std::shared_ptr<k8s::ApiClient> client_;
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
  std::thread controller_thread_;

  std::atomic<bool> shutdown_{false};
  std::atomic<bool> lease_lost_{false};
  std::atomic<bool> leading_{false};
  std::atomic<bool> synced_{false};
  std::atomic<bool> workers_running_{false};
  std::atomic<bool> abandoned_{false};
};

}  // namespace hpad::ctrl
