#include "k8sclient/leader_elector.h"
#include "k8sclient/base/last_resort.h"

#include <unistd.h>

#include <algorithm>
#include <cstdio>

#include <exception>

#include "k8sclient/base/klog.h"
#include "k8sclient/cancel_scope.h"

namespace hpad::k8s {

namespace {

// client-go's JitterFactor for the acquire loop: wait retry * (1 + [0, 1.2)).
constexpr double kJitterFactor = 1.2;

int Seconds(Duration d) { return static_cast<int>(std::chrono::duration_cast<std::chrono::seconds>(d).count()); }

}  // namespace

std::string RandomUuid() {
  std::random_device rd;
  std::mt19937_64 rng((static_cast<uint64_t>(rd()) << 32) ^ rd());
  uint64_t hi = rng(), lo = rng();
  hi = (hi & ~0xF000ULL) | 0x4000ULL;                 // version 4
  lo = (lo & ~(0xC000ULL << 48)) | (0x8000ULL << 48);  // variant 10xx
  char buf[40];
  std::snprintf(buf, sizeof buf, "%08x-%04x-%04x-%04x-%012llx", static_cast<unsigned>(hi >> 32),
                static_cast<unsigned>((hi >> 16) & 0xFFFF), static_cast<unsigned>(hi & 0xFFFF),
                static_cast<unsigned>(lo >> 48), static_cast<unsigned long long>(lo & 0xFFFFFFFFFFFFULL));
  return buf;
}

std::string DefaultLeaderIdentity() {
  char host[256] = {0};
  if (gethostname(host, sizeof host - 1) != 0 || host[0] == '\0') std::snprintf(host, sizeof host, "hpad");
  return std::string(host) + "_" + RandomUuid();
}

LeaderElectionRecord LeaderElectionRecordFromLease(const Lease& lease) {
  LeaderElectionRecord r;
  r.holder_identity = lease.spec.holder_identity.value_or("");
  r.lease_duration_seconds = lease.spec.lease_duration_seconds.value_or(0);
  r.acquire_time = lease.spec.acquire_time;
  r.renew_time = lease.spec.renew_time;
  r.lease_transitions = lease.spec.lease_transitions.value_or(0);
  return r;
}

Result<LeaderElectionRecord> LeaderElectionRecordFromLease(const Json& lease) {
  Result<Lease> decoded = LeaseFromJson(lease);
  if (!decoded.ok()) return decoded.status();
  return LeaderElectionRecordFromLease(*decoded);
}

LeaderElector::LeaderElector(ApiClient& api, const Clock& clock, LeaderElectionConfig config)
    : api_(api), clock_(clock), config_(std::move(config)), rng_(config_.seed ? config_.seed : std::random_device{}()) {
  HPAD_CHECK(!config_.identity.empty());
  HPAD_CHECK(config_.lease_duration > config_.renew_deadline);
  HPAD_CHECK(config_.renew_deadline > config_.retry_period);
}

LeaderElector::~LeaderElector() { Stop(); }

bool LeaderElector::IsLeader() const {
  std::lock_guard<std::mutex> l(mu_);
  return leading_;
}

std::string LeaderElector::GetLeader() const {
  std::lock_guard<std::mutex> l(mu_);
  return observed_ ? observed_->holder_identity : std::string();
}

void LeaderElector::Observe(const LeaderElectionRecord& r, MonoTime now) {
  std::string report;
  {
    std::lock_guard<std::mutex> l(mu_);
    if (observed_ && *observed_ == r) return;
    std::string before = observed_ ? observed_->holder_identity : std::string();
    observed_ = r;
    observed_time_ = now;  // expiry counts from when WE saw the change
    if (r.holder_identity != before) report = r.holder_identity;
  }
  if (!report.empty()) {
    HPAD_LOG(Info) << "leader election " << config_.lease_namespace << "/" << config_.lease_name << ": new leader "
                   << report;
    if (config_.on_new_leader) RunCallback("OnNewLeader", [&] { config_.on_new_leader(report); });
  }
}

void LeaderElector::SetLeading(bool leading) {
  if (!leading && config_.fence) config_.fence->Revoke();
  {
    std::lock_guard<std::mutex> l(mu_);
    if (leading_ == leading) return;
    leading_ = leading;
  }
  if (leading) {
    HPAD_LOG(Info) << "leader election: " << config_.identity << " acquired lease " << config_.lease_namespace << "/"
                   << config_.lease_name;
    if (config_.on_started_leading) RunCallback("OnStartedLeading", config_.on_started_leading);
  } else {
    HPAD_LOG(Info) << "leader election: " << config_.identity << " stopped leading";
    if (config_.on_stopped_leading) RunCallback("OnStoppedLeading", config_.on_stopped_leading);
  }
}

void LeaderElector::RunCallback(const char* which, const std::function<void()>& callback) const {
  try {
    callback();
  } catch (const std::exception& e) {
    RecordUnexpectedError("leader-elector", config_.lease_namespace + "/" + config_.lease_name + std::string(": ") + which + " callback threw: " + e.what() + " (ignored)");
  } catch (...) {
    RecordUnexpectedError("leader-elector", config_.lease_namespace + "/" + config_.lease_name + std::string(": ") + which + " callback threw a non-standard exception (ignored)");
  }
}

Json LeaderElector::BuildLease(const LeaderElectionRecord& r, const Lease* existing) const {
  // Start from the object read so its resourceVersion (optimistic
  // concurrency) and any fields we do not know survive (Lease keeps `raw`).
  Lease lease;
  if (existing) {
    lease = *existing;
  } else {
    lease.metadata.name = config_.lease_name;
    lease.metadata.ns = config_.lease_namespace;
  }
  lease.spec.holder_identity = r.holder_identity;
  lease.spec.lease_duration_seconds = r.lease_duration_seconds;
  lease.spec.acquire_time = r.acquire_time;
  lease.spec.renew_time = r.renew_time;
  lease.spec.lease_transitions = r.lease_transitions;
  return LeaseToJson(lease);
}

bool LeaderElector::TryAcquireOrRenew() {
  const Time now = clock_.Now();
  const MonoTime mono_now = clock_.MonoNow();
  LeaderElectionRecord desired{config_.identity, Seconds(config_.lease_duration), now, now, 0};
  const ObjectKey key{resources::kLeases, config_.lease_namespace, config_.lease_name, ""};

  Result<Json> got = api_.Get(key);
  if (!got.ok()) {
    if (got.status().code() != StatusCode::kNotFound) {
      HPAD_LOG(Error) << "leader election: error retrieving lease " << key.ns << "/" << key.name << ": "
                      << got.status().ToString();
      return false;
    }
    Result<Json> created = api_.Create(resources::kLeases, key.ns, BuildLease(desired, nullptr));
    if (!created.ok()) {
      HPAD_LOG(Error) << "leader election: error creating lease " << key.ns << "/" << key.name << ": "
                      << created.status().ToString();
      return false;
    }
    Observe(desired, mono_now);
    if (config_.fence) config_.fence->HoldUntil(AddSaturating(mono_now, config_.renew_deadline));
    return true;
  }
  Result<Lease> current = LeaseFromJson(*got);
  if (!current.ok()) {
    HPAD_LOG(Error) << "leader election: error decoding lease " << key.ns << "/" << key.name << ": "
                    << current.status().ToString();
    return false;
  }

  const LeaderElectionRecord old = LeaderElectionRecordFromLease(*current);
  Observe(old, mono_now);
  {
    std::lock_guard<std::mutex> l(mu_);
    const bool valid = observed_time_ + std::chrono::seconds(old.lease_duration_seconds) > mono_now;
    if (!old.holder_identity.empty() && old.holder_identity != config_.identity && valid) {
      HPAD_VLOG(4) << "leader election: lease is held by " << old.holder_identity << " and has not yet expired";
      return false;
    }
  }
  if (old.holder_identity == config_.identity) {
    desired.acquire_time = old.acquire_time;
    desired.lease_transitions = old.lease_transitions;
  } else {
    desired.lease_transitions = old.lease_transitions + 1;  // a takeover (or after a release)
  }
  Result<Json> updated = api_.Update(key, BuildLease(desired, &*current));
  if (!updated.ok()) {
    HPAD_LOG(Error) << "leader election: failed to update lease " << key.ns << "/" << key.name << ": "
                    << updated.status().ToString();
    return false;
  }
  Observe(desired, mono_now);
  // mono_now is when this request began: the server stored the renewal
  // after it, so others see the lease held until at least mono_now +
  // lease_duration > the fence's mono_now + renew_deadline.
  if (config_.fence) config_.fence->HoldUntil(AddSaturating(mono_now, config_.renew_deadline));
  return true;
}

bool LeaderElector::Release() {
  const ObjectKey key{resources::kLeases, config_.lease_namespace, config_.lease_name, ""};
  Result<Json> got = api_.Get(key);
  if (!got.ok()) {
    HPAD_LOG(Error) << "leader election: cannot release lease: " << got.status().ToString();
    return false;
  }
  Result<Lease> current = LeaseFromJson(*got);
  if (!current.ok()) {
    HPAD_LOG(Error) << "leader election: cannot release lease: " << current.status().ToString();
    return false;
  }
  const LeaderElectionRecord old = LeaderElectionRecordFromLease(*current);
  if (old.holder_identity != config_.identity) return true;  // not ours any more
  const Time now = clock_.Now();
  // client-go ReleaseOnCancel: no holder, 1 s duration, transitions kept.
  LeaderElectionRecord released{"", 1, now, now, old.lease_transitions};
  Result<Json> updated = api_.Update(key, BuildLease(released, &*current));
  if (!updated.ok()) {
    HPAD_LOG(Error) << "leader election: failed to release lease: " << updated.status().ToString();
    return false;
  }
  Observe(released, clock_.MonoNow());
  return true;
}

bool LeaderElector::Sleep(Duration d) {
  clock_.WaitFor(d, [this] { return stopping_.load(); });
  return !stopping_;
}

bool LeaderElector::GuardedTryAcquireOrRenew() {
  // Last resort (issue 10): an exception (a bad response the client did not
  // turn into a Status, a callback) is a failed attempt, not a dead thread.
  try {
    bool held = TryAcquireOrRenew();
    if (config_.on_attempt) config_.on_attempt();
    return held;
  } catch (const std::exception& e) {
    RecordUnexpectedError("leader-elector", config_.lease_namespace + "/" + config_.lease_name + std::string(" loop: unexpected exception: ") + e.what() + " (counted as a failed attempt)");
  } catch (...) {
    RecordUnexpectedError("leader-elector", config_.lease_namespace + "/" + config_.lease_name + std::string(" loop: unexpected non-standard exception (counted as a failed attempt)"));
  }
  return false;
}

bool LeaderElector::Acquire() {
  HPAD_LOG(Info) << "leader election: " << config_.identity << " attempting to acquire lease "
                 << config_.lease_namespace << "/" << config_.lease_name;
  while (!stopping_) {
    bool acquired = false;
    {
      RequestDeadlineScope bound(AddSaturating(clock_.MonoNow(), config_.renew_deadline));
      acquired = GuardedTryAcquireOrRenew();
    }
    if (acquired) return true;
    double f = std::uniform_real_distribution<double>(0.0, kJitterFactor)(rng_);
    Duration wait = config_.retry_period +
                    Duration(static_cast<Duration::rep>(static_cast<double>(config_.retry_period.count()) * f));
    if (!Sleep(wait)) return false;
  }
  return false;
}

void LeaderElector::RenewLoop() {
  while (!stopping_) {
    // One renewal round: retry every retry period until the renew deadline
    // (client-go's PollImmediateUntil under a renewDeadline timeout).
    const MonoTime round_start = clock_.MonoNow();
    // Every lease request of the round ends by the renew deadline, however
    // the server stalls (issue 15 item 1).
    RequestDeadlineScope bound(AddSaturating(round_start, config_.renew_deadline));
    bool renewed = false;
    while (!stopping_) {
      if (GuardedTryAcquireOrRenew()) {
        renewed = true;
        break;
      }
      // Someone else holds it now: they judged our lease expired, so stop
      // writing at once rather than waiting out the deadline.
      std::string holder = GetLeader();
      if (!holder.empty() && holder != config_.identity) break;
      // Never sleep past the round's deadline: leadership is judged lost
      // at the deadline, not up to a retry period later.
      const Duration left = config_.renew_deadline - (clock_.MonoNow() - round_start);
      if (left <= Duration::zero()) break;
      if (!Sleep(std::min(config_.retry_period, left))) break;
      if (clock_.MonoNow() - round_start >= config_.renew_deadline) break;
    }
    if (stopping_) return;
    if (!renewed) {
      HPAD_LOG(Error) << "leader election: " << config_.identity << " failed to renew lease "
                      << config_.lease_namespace << "/" << config_.lease_name << ", leadership lost";
      return;
    }
    if (!Sleep(config_.retry_period)) return;
  }
}

void LeaderElector::Run() {
  if (!Acquire()) return;
  SetLeading(true);
  RenewLoop();
  // No write of this replica may go out from here on, before the release.
  if (config_.fence) config_.fence->Revoke();
  if (stopping_ && config_.release_on_cancel) {
    try {
      Release();
    } catch (const std::exception& e) {
      RecordUnexpectedError("leader-elector", config_.lease_namespace + "/" + config_.lease_name + std::string(": release threw: ") + e.what());
    } catch (...) {
      RecordUnexpectedError("leader-elector", config_.lease_namespace + "/" + config_.lease_name + std::string(": release threw a non-standard exception"));
    }
  }
  SetLeading(false);
}

void LeaderElector::Start() {
  if (thread_.joinable()) return;
  thread_ = std::thread([this] { Run(); });
}

void LeaderElector::Stop() {
  stopping_ = true;
  clock_.Notify();
  if (thread_.joinable() && thread_.get_id() != std::this_thread::get_id()) thread_.join();
}

}  // namespace hpad::k8s
