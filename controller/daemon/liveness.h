// Liveness: what /livez and /healthz report - is the daemon making progress,
// or wedged so that the kubelet should restart it (issue 15 item 2)?
//
// Fails (returns a reason) when
//   * the workers run, HPAs exist (each is re-queued every sync period) and
//     no reconcile has finished for ReconcileStallLimit(sync period) = 5
//     sync periods, at least 3 minutes;
//   * leader election is on and the elector's loop has not run for longer
//     than the lease duration (its thread is stuck; every attempt is bounded
//     by the renew deadline, so a live loop runs at least that often);
//   * a bearer-token request (token file, exec plugin) has been running for
//     more than 2 minutes (TrackedTokenSource below).
// /readyz keeps its meaning (caches synced) and is not computed here.
//
// Ownership: borrows the Clock. Thread-safety: every method may be called
// from any thread (atomics); Check only reads.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "k8sclient/base/clock.h"
#include "k8sclient/http_transport.h"

namespace hpad::ctrl {

struct LivenessOptions {
  Duration sync_period = std::chrono::seconds(15);
  bool leader_elect = false;
  Duration lease_duration = std::chrono::seconds(15);
  Duration token_stuck_after = std::chrono::minutes(2);
};

class LivenessTracker {
 public:
  LivenessTracker(const Clock& clock, LivenessOptions options);

  static Duration ReconcileStallLimit(Duration sync_period);

  // The workers started (the stall clock starts here, not at process start).
  void WorkersStarted();
  void ReconcileFinished();
  void ElectorLoopRan();
  void TokenRequestStarted();
  void TokenRequestFinished();

  // "" when live, else why not. `workers_running`: this replica reconciles;
  // `hpas`: how many HPAs the cache holds.
  std::string Check(bool workers_running, size_t hpas) const;

 private:
  static int64_t Ns(MonoTime t);
  const Clock& clock_;
  const LivenessOptions options_;
  std::atomic<int64_t> last_progress_ns_;      // last reconcile finished (or workers started)
  std::atomic<int64_t> last_elector_ns_;       // last elector loop iteration (or construction)
  std::atomic<int64_t> token_started_ns_{0};   // 0 = no token request running
};

// Wraps a TokenSource, telling the tracker when each Token() call starts
// and ends, so a token source that hangs (exec plugin) fails liveness.
class TrackedTokenSource final : public k8s::TokenSource {
 public:
  TrackedTokenSource(std::shared_ptr<k8s::TokenSource> inner, std::shared_ptr<LivenessTracker> tracker)
      : inner_(std::move(inner)), tracker_(std::move(tracker)) {}
  Result<std::string> Token() override;
  void Invalidate() override { inner_->Invalidate(); }

 private:
  std::shared_ptr<k8s::TokenSource> inner_;
  std::shared_ptr<LivenessTracker> tracker_;
};

}  // namespace hpad::ctrl
