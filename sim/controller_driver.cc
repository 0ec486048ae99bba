// Driving the controller on virtual time (see controller_driver.h).
#include "sim/controller_driver.h"

#include "k8sclient/base/klog.h"

namespace hpad::sim {
namespace {

ctrl::ControllerOptions WithoutWorkQueue(ctrl::ControllerOptions options) {
  options.work_queue = false;
  return options;
}

std::string KeyOf(const k8s::Hpa& hpa) { return hpa.metadata.ns + "/" + hpa.metadata.name; }

}  // namespace

ControllerDriver::ControllerDriver(ctrl::ControllerOptions options, std::shared_ptr<k8s::ApiClient> client,
                                   ctrl::Monitor& monitor, const Clock& clock)
    : clock_(clock), wiring_(WithoutWorkQueue(std::move(options)), std::move(client), monitor, clock) {
  // Q5: a deleted HPA is reconciled once more at the next pass, which drops
  // its history (R1) unless it was created again meanwhile.
  k8s::InformerHandlers<k8s::Hpa> h;
  h.on_add = [this](const std::shared_ptr<const k8s::Hpa>& hpa) {
    std::lock_guard<std::mutex> l(deleted_mu_);
    deleted_keys_.erase(KeyOf(*hpa));
  };
  h.on_delete = [this](const std::shared_ptr<const k8s::Hpa>& hpa) {
    std::lock_guard<std::mutex> l(deleted_mu_);
    deleted_keys_.insert(KeyOf(*hpa));
  };
  wiring_.hpa_informer().AddEventHandler(std::move(h));
}

ControllerDriver::~ControllerDriver() {
  Status s = Shutdown();
  if (!s.ok()) HPAD_LOG(Error) << "persisting the history at shutdown: " << s.message();
}

Status ControllerDriver::Shutdown() {
  if (shut_down_) return Status::Ok();
  shut_down_ = true;
  // As on SIGTERM (controller/daemon/runner.cc): every history, the
  // recommendation windows included (issue 13, --persist-history).
  return wiring_.SaveAllHistories();
}

Status ControllerDriver::Start() {
  Status s = wiring_.Relist();
  if (!s.ok()) return s;
  // Before the first reconcile. As in the daemon, a history that cannot be
  // read is logged and the controller starts without it (upstream's start).
  s = wiring_.LoadHistory();
  if (!s.ok()) HPAD_LOG(Error) << "reading the persisted history: " << s.message() << " (starting without it)";
  return Status::Ok();
}

void ControllerDriver::SetObserver(ctrl::ReconcileObserver observer) {
  wiring_.controller().SetObserver(std::move(observer));
}

Status ControllerDriver::SyncAllNow() { return SyncNow(nullptr, true); }

Status ControllerDriver::SyncKeysNow(const std::vector<std::string>& keys, bool with_deleted) {
  return SyncNow(&keys, with_deleted);
}

Status ControllerDriver::SyncNow(const std::vector<std::string>* only, bool with_deleted) {
  // Caches (and metrics) exactly as the server has them at this instant.
  Status s = wiring_.Relist();
  if (!s.ok()) return s;
  std::set<std::string> keys;
  if (only != nullptr) {
    keys.insert(only->begin(), only->end());
  } else {
    for (const auto& key : wiring_.hpa_informer().Store().Keys()) keys.insert(key);
  }
  if (with_deleted) {
    std::lock_guard<std::mutex> l(deleted_mu_);
    keys.insert(deleted_keys_.begin(), deleted_keys_.end());
    deleted_keys_.clear();
  }
  const Time now = clock_.Now();
  for (const auto& key : keys) {
    ctrl::ReconcileResult r = wiring_.controller().ReconcileKey(key, now);
    if (!r.error.ok()) HPAD_VLOG(2) << "reconciling HPA " << key << ": " << r.error.message();
  }
  wiring_.FlushEvents();  // the runner checks events right after the tick
  // Issue 13: scale events soon after the rescale (here: after the pass,
  // at most one write per shard per instant).
  return wiring_.SaveChangedHistories();
}

}  // namespace hpad::sim
