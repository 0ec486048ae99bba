#include "controller/daemon/liveness.h"

#include <algorithm>

#include "k8sclient/api/quantity.h"

namespace hpad::ctrl {

int64_t LivenessTracker::Ns(MonoTime t) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
}

LivenessTracker::LivenessTracker(const Clock& clock, LivenessOptions options)
    : clock_(clock),
      options_(options),
      last_progress_ns_(Ns(clock.MonoNow())),
      last_elector_ns_(Ns(clock.MonoNow())) {}

Duration LivenessTracker::ReconcileStallLimit(Duration sync_period) {
  return std::max<Duration>(sync_period * 5, std::chrono::minutes(3));
}

void LivenessTracker::WorkersStarted() { last_progress_ns_ = Ns(clock_.MonoNow()); }
void LivenessTracker::ReconcileFinished() { last_progress_ns_ = Ns(clock_.MonoNow()); }
void LivenessTracker::ElectorLoopRan() { last_elector_ns_ = Ns(clock_.MonoNow()); }
void LivenessTracker::TokenRequestStarted() { token_started_ns_ = std::max<int64_t>(1, Ns(clock_.MonoNow())); }
void LivenessTracker::TokenRequestFinished() { token_started_ns_ = 0; }

std::string LivenessTracker::Check(bool workers_running, size_t hpas) const {
  const int64_t now = Ns(clock_.MonoNow());
  auto since = [now](int64_t then) { return Duration(now - then); };
  if (workers_running && hpas > 0) {
    Duration idle = since(last_progress_ns_.load());
    Duration limit = ReconcileStallLimit(options_.sync_period);
    if (idle > limit) {
      return "no HPA reconcile finished for " + k8s::FormatGoDuration(idle) + " (limit " +
             k8s::FormatGoDuration(limit) + ", " + std::to_string(hpas) + " HPAs)";
    }
  }
  if (options_.leader_elect) {
    Duration idle = since(last_elector_ns_.load());
    if (idle > options_.lease_duration) {
      return "leader election loop has not run for " + k8s::FormatGoDuration(idle) + " (lease duration " +
             k8s::FormatGoDuration(options_.lease_duration) + ")";
    }
  }
  if (int64_t started = token_started_ns_.load(); started != 0) {
    Duration stuck = since(started);
    if (stuck > options_.token_stuck_after) {
      return "bearer token request running for " + k8s::FormatGoDuration(stuck) + " (limit " +
             k8s::FormatGoDuration(options_.token_stuck_after) + ")";
    }
  }
  return "";
}

Result<std::string> TrackedTokenSource::Token() {
  tracker_->TokenRequestStarted();
  auto t = inner_->Token();
  tracker_->TokenRequestFinished();
  return t;
}

}  // namespace hpad::ctrl
