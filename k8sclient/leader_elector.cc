#include "k8sclient/leader_elector.h"

#include <unistd.h>

#include <cstdio>

#include "k8sclient/base/klog.h"
#include "k8sclient/api/time_format.h"

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

LeaderElectionRecord LeaderElectionRecordFromLease(const Json& lease) {
  LeaderElectionRecord r;
  auto spec = lease.find("spec");
  if (spec == lease.end() || !spec->is_object()) return r;
  auto str = [&](const char* k) {
    auto it = spec->find(k);
    return it != spec->end() && it->is_string() ? it->get<std::string>() : std::string();
  };
  auto num = [&](const char* k) {
    auto it = spec->find(k);
    return it != spec->end() && it->is_number_integer() ? it->get<int>() : 0;
  };
  r.holder_identity = str("holderIdentity");
  r.lease_duration_seconds = num("leaseDurationSeconds");
  r.acquire_time = str("acquireTime");
  r.renew_time = str("renewTime");
  r.lease_transitions = num("leaseTransitions");
  return r;
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

void LeaderElector::Observe(const LeaderElectionRecord& r, Time now) {
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
    if (config_.on_new_leader) config_.on_new_leader(report);
  }
}

void LeaderElector::SetLeading(bool leading) {
  {
    std::lock_guard<std::mutex> l(mu_);
    if (leading_ == leading) return;
    leading_ = leading;
  }
  if (leading) {
    HPAD_LOG(Info) << "leader election: " << config_.identity << " acquired lease " << config_.lease_namespace << "/"
                   << config_.lease_name;
    if (config_.on_started_leading) config_.on_started_leading();
  } else {
    HPAD_LOG(Info) << "leader election: " << config_.identity << " stopped leading";
    if (config_.on_stopped_leading) config_.on_stopped_leading();
  }
}

Json LeaderElector::BuildLease(const LeaderElectionRecord& r, const Json* existing) const {
  // Start from the object read so its resourceVersion (optimistic
  // concurrency) and any fields we do not know survive.
  Json lease = existing ? *existing
                        : Json{{"apiVersion", "coordination.k8s.io/v1"},
                               {"kind", "Lease"},
                               {"metadata", {{"name", config_.lease_name}, {"namespace", config_.lease_namespace}}}};
  Json& spec = lease["spec"];
  if (!spec.is_object()) spec = Json::object();
  spec["holderIdentity"] = r.holder_identity;
  spec["leaseDurationSeconds"] = r.lease_duration_seconds;
  spec["acquireTime"] = r.acquire_time;
  spec["renewTime"] = r.renew_time;
  spec["leaseTransitions"] = r.lease_transitions;
  return lease;
}

bool LeaderElector::TryAcquireOrRenew() {
  const Time now = clock_.Now();
  const std::string now_text = FormatRfc3339Micro(now);
  LeaderElectionRecord desired{config_.identity, Seconds(config_.lease_duration), now_text, now_text, 0};
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
    Observe(desired, now);
    return true;
  }

  const LeaderElectionRecord old = LeaderElectionRecordFromLease(*got);
  Observe(old, now);
  {
    std::lock_guard<std::mutex> l(mu_);
    const bool valid = observed_time_ + std::chrono::seconds(old.lease_duration_seconds) > now;
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
  Result<Json> updated = api_.Update(key, BuildLease(desired, &*got));
  if (!updated.ok()) {
    HPAD_LOG(Error) << "leader election: failed to update lease " << key.ns << "/" << key.name << ": "
                    << updated.status().ToString();
    return false;
  }
  Observe(desired, now);
  return true;
}

bool LeaderElector::Release() {
  const ObjectKey key{resources::kLeases, config_.lease_namespace, config_.lease_name, ""};
  Result<Json> got = api_.Get(key);
  if (!got.ok()) {
    HPAD_LOG(Error) << "leader election: cannot release lease: " << got.status().ToString();
    return false;
  }
  const LeaderElectionRecord old = LeaderElectionRecordFromLease(*got);
  if (old.holder_identity != config_.identity) return true;  // not ours any more
  const Time now = clock_.Now();
  const std::string now_text = FormatRfc3339Micro(now);
  // client-go ReleaseOnCancel: no holder, 1 s duration, transitions kept.
  LeaderElectionRecord released{"", 1, now_text, now_text, old.lease_transitions};
  Result<Json> updated = api_.Update(key, BuildLease(released, &*got));
  if (!updated.ok()) {
    HPAD_LOG(Error) << "leader election: failed to release lease: " << updated.status().ToString();
    return false;
  }
  Observe(released, now);
  return true;
}

bool LeaderElector::Sleep(Duration d) {
  clock_.WaitUntil(clock_.Now() + std::chrono::duration_cast<Time::duration>(d), [this] { return stopping_.load(); });
  return !stopping_;
}

bool LeaderElector::Acquire() {
  HPAD_LOG(Info) << "leader election: " << config_.identity << " attempting to acquire lease "
                 << config_.lease_namespace << "/" << config_.lease_name;
  while (!stopping_) {
    if (TryAcquireOrRenew()) return true;
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
    const Time round_start = clock_.Now();
    bool renewed = false;
    while (!stopping_) {
      if (TryAcquireOrRenew()) {
        renewed = true;
        break;
      }
      // Someone else holds it now: they judged our lease expired, so stop
      // writing at once rather than waiting out the deadline.
      std::string holder = GetLeader();
      if (!holder.empty() && holder != config_.identity) break;
      if (!Sleep(config_.retry_period)) break;
      if (clock_.Now() - round_start >= config_.renew_deadline) break;
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
  if (stopping_ && config_.release_on_cancel) Release();
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
