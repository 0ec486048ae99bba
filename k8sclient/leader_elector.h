// LeaderElector: leader election on a coordination.k8s.io/v1 Lease, so two
// hpad replicas never both write (architecture.md "The daemon"). It follows
// client-go's tools/leaderelection:
//
//   * A candidate acquires the Lease when it is absent, released
//     (holderIdentity ""), or expired. Expiry is judged the client-go way:
//     by when THIS candidate last saw the lease record change, on its own
//     injected clock, plus leaseDurationSeconds; the remote renewTime is
//     never compared with the local clock (clocks of two machines differ).
//   * The leader renews every retry period; if it cannot renew within the
//     renew deadline it stops leading (OnStoppedLeading) and Run() returns.
//   * Taking the lease from another holder increments leaseTransitions and
//     sets acquireTime; renewals keep both.
//   * On Stop() a leader releases the lease (holderIdentity "",
//     leaseDurationSeconds 1, like client-go's ReleaseOnCancel) so a
//     standby can take over at once instead of after the lease expires.
//   * Writes use optimistic concurrency (Update with the read
//     resourceVersion); a 409 means another candidate won this round.
//   * Times are written as metav1.MicroTime ("2026-01-01T00:00:00.000000Z").
//     The Lease is read and written as types::Lease (k8sclient/api/types/
//     lease.h); a Lease that does not decode counts as a failed read (as for
//     client-go's typed client), so a malformed lock is never taken over.
//   * Expiry and the renew deadline are measured on the clock's monotonic
//     time; only the timestamps written into the Lease are wall-clock.
//   * Fencing (issue 15 item 1): every lease request runs under a
//     RequestDeadlineScope ending at the renew deadline of the current
//     round (an acquisition attempt: renew_deadline from its start), so a
//     stalled request cannot outlive the deadline; the client used here
//     should make one attempt per request (DaemonRunner passes a separate
//     lease client). Each success moves config.fence to its start +
//     renew_deadline.
//   * No exception ends the elector's thread: one escaping an attempt or a
//     callback is logged (an E line naming the elector) and counts as a
//     failed attempt.
//
// Callbacks run on the elector's thread and should return quickly:
// OnStartedLeading when this candidate becomes leader, OnStoppedLeading when
// it stops (lost, or Stop() while leading; unlike client-go, not called if it
// never led), OnNewLeader whenever the observed holder changes (own identity
// included).
//
// Thread-safety: IsLeader()/GetLeader() and Stop() may be called from any
// thread; TryAcquireOrRenew() is the single step (exposed for tests) and must
// not run concurrently with Run(). mu_ guards observed_, observed_time_ and
// leading_; rng_ belongs to the elector's thread.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <thread>

#include "k8sclient/api/types/lease.h"
#include "k8sclient/api_client.h"
#include "k8sclient/base/clock.h"
#include "k8sclient/base/status.h"
#include "k8sclient/write_fence.h"

namespace hpad::k8s {

struct LeaderElectionConfig {
  std::string lease_namespace = "kube-system";
  std::string lease_name = "hpad";
  std::string identity;  // required; DefaultLeaderIdentity() for hostname_uuid
  Duration lease_duration = std::chrono::seconds(15);
  Duration renew_deadline = std::chrono::seconds(10);
  Duration retry_period = std::chrono::seconds(2);
  bool release_on_cancel = true;
  uint64_t seed = 0;  // retry jitter; 0 = random
  // Held open until (start of the last successful lease request) +
  // renew_deadline, revoked when leadership ends (write_fence.h has the
  // timing argument). Null = none.
  std::shared_ptr<WriteFence> fence;

  std::function<void()> on_started_leading;
  std::function<void()> on_stopped_leading;
  std::function<void(const std::string& identity)> on_new_leader;
  // Called on the elector's thread after every acquire/renew attempt (a
  // heartbeat for liveness checks); must be cheap and thread-safe.
  std::function<void()> on_attempt;
};

// hostname + "_" + a random UUID (v4), as kube-controller-manager names itself.
std::string DefaultLeaderIdentity();
// The UUID part alone (random v4, lower-case hex with dashes).
std::string RandomUuid();

// The Lease spec fields that take part in the election (client-go's
// LeaderElectionRecord); absent fields read as empty / zero.
struct LeaderElectionRecord {
  std::string holder_identity;
  int lease_duration_seconds = 0;
  std::optional<Time> acquire_time;
  std::optional<Time> renew_time;
  int lease_transitions = 0;
  bool operator==(const LeaderElectionRecord&) const = default;
};
LeaderElectionRecord LeaderElectionRecordFromLease(const Lease& lease);
// Decodes `lease` first (an error if it is not a Lease).
Result<LeaderElectionRecord> LeaderElectionRecordFromLease(const Json& lease);

class LeaderElector {
 public:
  // `api` and `clock` must outlive the elector.
  LeaderElector(ApiClient& api, const Clock& clock, LeaderElectionConfig config);
  ~LeaderElector();
  LeaderElector(const LeaderElector&) = delete;
  LeaderElector& operator=(const LeaderElector&) = delete;

  // Blocks: tries to acquire every retry period (jittered), then renews
  // until leadership is lost or Stop() is called (then releases if leading).
  void Run();
  // Run() on a thread of its own.
  void Start();
  // Makes Run() return (releasing the lease if leading) and joins Start()'s thread.
  void Stop();

  bool IsLeader() const;
  // The holder identity last observed ("" if none / unknown).
  std::string GetLeader() const;
  const std::string& identity() const { return config_.identity; }

  // One attempt: read the Lease and create/take/renew it if allowed.
  // True if this candidate holds the lease afterwards.
  bool TryAcquireOrRenew();
  // Writes the released record if this candidate holds the lease. True on success.
  bool Release();

 private:
  bool Acquire();       // until acquired (true) or stopping (false)
  void RenewLoop();     // until lost or stopping
  bool Sleep(Duration d);  // false if woken by Stop()
  // TryAcquireOrRenew() with exceptions logged and counted as a failed attempt.
  bool GuardedTryAcquireOrRenew();
  // `existing` (the Lease read, keeping its resourceVersion and unknown
  // fields) with the record's spec, or a new Lease when null.
  Json BuildLease(const LeaderElectionRecord& r, const Lease* existing) const;
  void Observe(const LeaderElectionRecord& r, MonoTime now);
  void SetLeading(bool leading);
  // Runs a user callback; an exception from it is logged, not propagated.
  void RunCallback(const char* which, const std::function<void()>& callback) const;

  ApiClient& api_;
  const Clock& clock_;
  LeaderElectionConfig config_;
  std::atomic<bool> stopping_{false};
  std::thread thread_;
  std::mt19937_64 rng_;

  mutable std::mutex mu_;
  std::optional<LeaderElectionRecord> observed_;
  MonoTime observed_time_{};  // when THIS candidate last saw the record change
  bool leading_ = false;
};

}  // namespace hpad::k8s
