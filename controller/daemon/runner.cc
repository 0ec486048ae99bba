// One lifetime of the hpad daemon (see daemon_runner.h).
#include "controller/daemon/runner.h"

#include "controller/daemon/debug_endpoints.h"
#include "k8sclient/base/klog.h"
#include "k8sclient/api/quantity.h"
#include "k8sclient/work_queue.h"

namespace hpad::ctrl {
namespace {

// Waits on the clock until `done()` holds; WaitUntil needs a deadline, so
// wait in long slices.
void WaitFor(const Clock& clock, const std::function<bool()>& done) {
  while (!clock.WaitUntil(clock.Now() + std::chrono::hours(1), done)) {
  }
}

// How long SIGTERM lets in-flight reconciles finish before cancelling their
// requests; how long the save of the persisted history that follows gets;
// and how long the controller thread then gets to end before the process
// gives up on it (a bug: every request is aborted by then).
// The history save has its own grace because a graceful stop writes all 64
// shards (the windows change every period): at the default
// --kube-api-qps=20, burst 30, the client's bucket alone holds that for
// 1.7 s (full) to 3.2 s (drained by the period's status writes), so inside
// the reconciles' 2 s it was cancelled half-written (scale_bench --hpas
// 1000 saw it). 5 s covers the bucket and the round trips of a responsive
// server; a stalled server still has the process out within 2 + 5 s, far
// inside the manifests' 30 s terminationGracePeriodSeconds.
constexpr auto kShutdownGrace = std::chrono::seconds(2);
constexpr auto kHistorySaveGrace = std::chrono::seconds(5);
constexpr auto kCancelledJoinBound = std::chrono::seconds(60);

}  // namespace

DaemonRunner::DaemonRunner(DaemonOptions options, DaemonClients clients, const Clock& clock, DaemonMetrics& metrics)
    : options_(std::move(options)), clients_(std::move(clients)), clock_(clock), metrics_(metrics) {
  HPAD_CHECK(clients_.client != nullptr);
  if (!clients_.lease_client) clients_.lease_client = clients_.client;
  ControllerClients& parts = clients_.parts;
  for (auto* member : {&parts.informers, &parts.hpa, &parts.scale, &parts.resource_metrics, &parts.custom_metrics,
                       &parts.external_metrics}) {
    if (!*member) *member = clients_.client;
  }
  if (clients_.identity.empty()) clients_.identity = k8s::DefaultLeaderIdentity();
  if (!clients_.liveness) clients_.liveness = std::make_shared<LivenessTracker>(clock_, MakeLivenessOptions(options_));
}

DaemonClients MakeControllerClients(const std::shared_ptr<k8s::HttpTransport>& transport, const Clock& clock,
                                    const k8s::RestApiClientOptions& options) {
  // kube-controller-manager (cmd/kube-controller-manager/app/autoscaling.go)
  // gives the HPA controller hpaClient (status, events, discovery),
  // scale.NewForConfig (scale), three metrics clients from their own
  // NewForConfig, and informers from the "shared-informers" client. client-go's
  // rest.RESTClientFor makes a flowcontrol.NewTokenBucketRateLimiter(QPS,
  // Burst) for each client whose config.RateLimiter is nil, so every one of
  // them has a bucket of its own; a clientset's NewForConfig makes one for
  // all its group clients (hpaClient's CoreV1 and AutoscalingV2 share it).
  auto make = [&] { return std::make_shared<k8s::RestApiClient>(transport, clock, options); };
  DaemonClients c;
  c.client = make();
  c.parts.hpa = c.client;
  c.parts.informers = make();
  c.parts.scale = make();
  c.parts.resource_metrics = make();
  c.parts.custom_metrics = make();
  c.parts.external_metrics = make();
  return c;
}

LivenessOptions MakeLivenessOptions(const DaemonOptions& o) {
  LivenessOptions lo;
  lo.sync_period = o.controller.sync_period;
  lo.leader_elect = o.leader_elect;
  lo.lease_duration = o.lease_duration;
  return lo;
}

std::string DaemonRunner::NotLiveReason() const {
  // The probe runs on an HTTP thread from before the wiring exists: read it
  // through the atomic published after construction, never wiring_ itself
  // (a data race TSan found in the daemon process tests).
  ControllerWiring* wiring = live_wiring_.load(std::memory_order_acquire);
  if (wiring == nullptr) return "";
  return clients_.liveness->Check(workers_running_.load(), wiring->hpa_informer().Store().Size());
}

DaemonRunner::~DaemonRunner() {
  if (abandoned_) return;  // see abandoned(): the process is ending
  RequestShutdown();
  if (wiring_) wiring_->controller().Stop();
  if (controller_thread_.joinable()) controller_thread_.join();
  if (elector_) elector_->Stop();
  if (http_) http_->Stop();
}

Status DaemonRunner::Start() {
  http_ = std::make_unique<DaemonHttpServer>(
      metrics_.registry(),
      std::vector<HealthCheck>{{"ping", [] { return std::string(); }}, {"progress", [this] { return NotLiveReason(); }}},
      std::vector<HealthCheck>{{"hpad", [this] { return NotReadyReason(); }}});
  if (options_.debug_endpoints) {
    http_->AddGetPrefix(kDebugHpasPath, [this](const std::string& path) {
      const HorizontalController* c = debug_controller_.load();
      if (c == nullptr) return HttpReply{503, "{\"error\": \"controller not started\"}\n"};
      return ServeDebugHpas(c->reconciler(), path);
    });
  }
  Status s = http_->Start(options_.bind_address, options_.port);
  if (!s.ok()) return s.WithContext("--bind-address/--port");
  HPAD_LOG(Info) << "serving /healthz /livez /readyz /metrics on http://" << options_.bind_address << ":"
                 << http_->port();

  queue_observer_ = NewWorkQueueMetricsObserver(metrics_);
  ControllerOptions controller_options = options_.controller;
  // Resyncs become ready in batches at most 20 ms late: one wake-up of the
  // queue per 20 ms instead of one per HPA (issue 16; divergence 28).
  controller_options.queue_delay_granularity = kDaemonQueueGranularity;
  wiring_ = std::make_unique<ControllerWiring>(controller_options, clients_.parts, metrics_, clock_,
                                               queue_observer_.get());
  wiring_->controller().SetObserver([this](const ReconcileReport& r) { OnReconcile(r); });
  debug_controller_ = &wiring_->controller();
  live_wiring_.store(wiring_.get(), std::memory_order_release);
  if (options_.dry_run) {
    shadow_ = std::make_unique<ShadowReporter>(*metrics_.registry());
    HPAD_LOG(Warning) << "shadow mode (--dry-run): deciding without writing anything; comparing with the status the "
                         "controller in charge writes";
  }

  if (options_.leader_elect) {
    k8s::LeaderElectionConfig lc;
    lc.lease_namespace = options_.lease_namespace;
    lc.lease_name = options_.lease_name;
    lc.identity = clients_.identity;
    lc.fence = clients_.fence;
    lc.on_attempt = [liveness = clients_.liveness] { liveness->ElectorLoopRan(); };
    lc.lease_duration = options_.lease_duration;
    lc.renew_deadline = options_.renew_deadline;
    lc.retry_period = options_.retry_period;
    lc.release_on_cancel = true;
    lc.on_started_leading = [this] {
      HPAD_LOG(Info) << "became leader of lease " << options_.lease_namespace << "/" << options_.lease_name
                     << ": starting the controller";
      metrics_.SetLeader(options_.lease_name, true);
      leading_ = true;
      clock_.Notify();
    };
    lc.on_stopped_leading = [this] {
      leading_ = false;
      metrics_.SetLeader(options_.lease_name, false);
      if (shutdown_) {
        HPAD_LOG(Info) << "released lease " << options_.lease_namespace << "/" << options_.lease_name;
      } else {
        // Another replica may already be writing: stop the workers now,
        // not after the main thread wakes up.
        HPAD_LOG(Error) << "leaderelection lost: lease " << options_.lease_namespace << "/" << options_.lease_name
                        << " not renewed within " << k8s::FormatGoDuration(options_.renew_deadline)
                        << "; stopping the controller";
        lease_lost_ = true;
        if (wiring_) wiring_->controller().Stop();
      }
      clock_.Notify();
    };
    lc.on_new_leader = [this](const std::string& id) {
      HPAD_LOG(Info) << "lease " << options_.lease_namespace << "/" << options_.lease_name << " held by "
                     << (id.empty() ? "nobody" : id);
    };
    elector_ = std::make_unique<k8s::LeaderElector>(*clients_.lease_client, clock_, lc);
    metrics_.SetLeader(options_.lease_name, false);
    HPAD_LOG(Info) << "leader election on lease " << options_.lease_namespace << "/" << options_.lease_name
                   << " as " << elector_->identity();
  } else {
    HPAD_LOG(Warning) << "leader election disabled (--leader-elect=false): run only one hpad against this cluster";
    leading_ = true;
    // No election: this replica is the only writer by configuration.
    if (clients_.fence) clients_.fence->HoldUntil(MonoTime::max());
  }

  controller_thread_ = std::thread([this] { ControllerLoop(); });
  if (elector_) elector_->Start();
  return Status::Ok();
}

void DaemonRunner::ControllerLoop() {
  // Every replica fills its caches, so a standby takes over with them warm.
  Status s = wiring_->StartWatching([this] { return shutdown_ || lease_lost_; });
  if (!s.ok() && !shutdown_ && !lease_lost_) HPAD_LOG(Warning) << "controller caches: " << s.message() << " (still trying)";
  WaitFor(clock_, [this] { return shutdown_ || lease_lost_ || wiring_->controller().HasSynced(); });
  if (shutdown_ || lease_lost_) return;
  synced_ = true;
  HPAD_LOG(Info) << "HPA and pod caches synced";
  clock_.Notify();

  WaitFor(clock_, [this] { return shutdown_ || lease_lost_ || leading_; });
  if (shutdown_ || lease_lost_) return;
  HPAD_LOG(Info) << "starting " << std::max(1, options_.controller.concurrent_syncs)
                 << " HPA workers (sync period " << k8s::FormatGoDuration(options_.controller.sync_period) << ")";
  // Issue 13 (--persist-history): the histories before the first reconcile,
  // scale events written about once a second (at most one write per shard
  // per flush), everything (windows) at a graceful stop while still leader.
  if (Status h = wiring_->LoadHistory(); !h.ok()) {
    HPAD_LOG(Error) << "reading the persisted history: " << h.message() << " (starting without it)";
  }
  clients_.liveness->WorkersStarted();
  workers_running_ = true;
  std::thread history_flusher;
  if (options_.controller.persist_history) {
    history_flusher = std::thread([this] {
      auto stopping = [this] { return shutdown_.load() || lease_lost_.load() || !workers_running_.load(); };
      while (!stopping()) {
        clock_.WaitUntil(clock_.Now() + Duration(std::chrono::seconds(1)), stopping);
        if (lease_lost_) break;  // another leader may be writing: no more writes from here
        if (Status f = wiring_->SaveChangedHistories(); !f.ok()) HPAD_LOG(Error) << "persisting history: " << f.message();
      }
    });
  }
  wiring_->controller().Run();  // until Stop()
  workers_running_ = false;
  clock_.Notify();
  if (history_flusher.joinable()) history_flusher.join();
  if (!lease_lost_) {
    saving_history_ = true;
    clock_.Notify();
    if (Status f = wiring_->SaveAllHistories(); !f.ok()) HPAD_LOG(Error) << "persisting history at shutdown: " << f.message();
  }
  HPAD_LOG(Info) << "HPA workers stopped";
}

int DaemonRunner::Wait() {
  WaitFor(clock_, [this] { return shutdown_.load() || lease_lost_.load(); });
  const bool lost = lease_lost_ && !shutdown_;
  shutdown_ = true;  // readiness fails from here on
  HPAD_LOG(Info) << (lost ? "shutting down after losing the lease" : "shutting down: finishing in-flight reconciles");

  // Stop taking work; in-flight reconciles finish their writes.
  wiring_->controller().Stop();
  clock_.Notify();
  // Joined on a helper thread so the wait is bounded (shared flag: the
  // helper may outlive this frame when abandoned).
  auto joined = std::make_shared<std::atomic<bool>>(false);
  const Clock& clock = clock_;
  std::thread joiner([this, joined, &clock] {
    controller_thread_.join();
    *joined = true;
    clock.Notify();
  });
  // In-flight reconciles get a short grace to finish their writes; then
  // their requests are cancelled on the wire and the thread is joined.
  int code = lost ? 1 : 0;
  bool finished = clock_.WaitFor(kShutdownGrace, [&] { return joined->load() || saving_history_.load(); });
  auto grace = kShutdownGrace;
  const char* what = "in-flight work";
  if (finished && !joined->load()) {
    // The reconciles are done; the history save runs on its own grace.
    grace = kHistorySaveGrace;
    what = "persisting history";
    finished = clock_.WaitFor(kHistorySaveGrace, [&] { return joined->load(); });
  }
  if (!finished) {
    HPAD_LOG(Warning) << what << " did not finish within " << k8s::FormatGoDuration(grace)
                      << "; cancelling its API requests";
    if (clients_.cancel) clients_.cancel->Cancel();
    clock_.Notify();
    finished = clock_.WaitFor(kCancelledJoinBound, [&] { return joined->load(); });
  }
  if (!finished) {
    // Last resort: a thread ignores cancellation (a bug). Do not hold the
    // lease hostage for it; the caller ends the process with _Exit.
    HPAD_LOG(Error) << "controller thread did not end within " << k8s::FormatGoDuration(kCancelledJoinBound)
                    << " after cancelling its requests; giving up on it (exit code 2)";
    joiner.detach();
    abandoned_ = true;
    code = 2;
  } else {
    joiner.join();
  }
  // Release the lease so a standby takes over now, not after lease expiry.
  if (elector_) elector_->Stop();
  http_->Stop();
  HPAD_LOG(Info) << "shutdown complete";
  return code;
}

void DaemonRunner::RequestShutdown() {
  shutdown_ = true;
  clock_.Notify();
}

int DaemonRunner::port() const { return http_ ? http_->port() : 0; }

std::string DaemonRunner::NotReadyReason() const {
  if (shutdown_ || lease_lost_) return "shutting down";
  if (!synced_) return "HPA and pod caches not synced";
  if (leading_ && !workers_running_) return "leader, but controller workers not started yet";
  return "";
}

void DaemonRunner::OnReconcile(const ReconcileReport& r) {
  clients_.liveness->ReconcileFinished();
  // The Prometheus series are fed by the controller through the Monitor
  // (metrics_); this observer only logs.
  if (shadow_ && !r.deleted) {
    auto trace = wiring_->controller().reconciler().TraceFor(r.key);
    auto hpa = wiring_->hpa_informer().Store().Get(r.key);
    if (trace && hpa) shadow_->Observe(*trace, hpa->status);
  }
  if (r.action != ActionLabel::kNone && options_.dry_run) {
    HPAD_LOG(Info) << "(dry run) would rescale HPA " << r.key << ": " << r.current_replicas << " -> "
                   << r.desired_replicas << " replicas, reason: " << r.reason;
  } else if (r.action != ActionLabel::kNone) {
    HPAD_LOG(Info) << "Successful rescale of HPA " << r.key << ": " << r.current_replicas << " -> "
                   << r.desired_replicas << " replicas, reason: " << r.reason;
  }
  HPAD_VLOG(2) << "reconciled HPA " << r.key << (r.deleted ? " (deleted)" : "") << ": current "
               << r.current_replicas << ", desired " << r.desired_replicas << ", action " << LabelText(r.action)
               << ", error " << LabelText(r.error_label) << (r.error.empty() ? "" : " (" + r.error + ")") << " in "
               << std::chrono::duration_cast<std::chrono::milliseconds>(r.duration).count() << "ms";
}

}  // namespace hpad::ctrl
