// HorizontalController: informers + work queue + HpaReconciler (Q1-Q6).
#include "controller/horizontal_controller.h"

#include <algorithm>
#include <cctype>
#include <atomic>
#include <cstdlib>
#include <set>
#include <thread>

#include "controller/metrics_cache.h"
#include "controller/metrics_client.h"
#include "controller/scale_cache.h"
#include "controller/scale_client.h"
#include "k8sclient/event_recorder.h"
#include "k8sclient/informer.h"
#include "k8sclient/base/klog.h"
#include "k8sclient/object_store.h"
#include "k8sclient/api/quantity.h"
#include "k8sclient/api/types/hpa.h"
#include "k8sclient/api/types/pod.h"
#include "k8sclient/work_queue.h"

namespace hpad::ctrl {
namespace {

std::string Trim(const std::string& s) {
  size_t b = s.find_first_not_of(" \t");
  if (b == std::string::npos) return "";
  size_t e = s.find_last_not_of(" \t");
  return s.substr(b, e - b + 1);
}

Result<bool> ParseBool(const std::string& v) {
  std::string l;
  for (char c : v) l += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (l == "true" || l == "1" || l == "t") return true;
  if (l == "false" || l == "0" || l == "f") return false;
  return InvalidError("invalid boolean \"" + v + "\"");
}

std::string KeyOf(const std::string& ns, const std::string& name) { return ns + "/" + name; }

// The first reconcile of an HPA found by the initial list: a delay in
// [0, period) fixed by the key (FNV-1a), so N HPAs present at start-up are
// spread evenly over the first period instead of N reconciles at the tick.
Duration InitialDelay(const std::string& key, Duration period) {
  if (period.count() <= 0) return Duration::zero();
  uint64_t h = 1469598103934665603ULL;
  for (unsigned char c : key) {
    h ^= c;
    h *= 1099511628211ULL;
  }
  return Duration(static_cast<int64_t>(h % static_cast<uint64_t>(period.count())));
}

}  // namespace

bool ControllerOptions::GateEnabled(Gate gate) const {
  const GateInfo& info = GateInfoFor(gate);
  auto it = feature_gates.find(std::string(info.name));
  return it != feature_gates.end() ? it->second : info.default_enabled;
}

bool ControllerOptions::GateEnabled(const std::string& gate) const {
  if (auto g = GateByName(gate)) return GateEnabled(*g);
  auto it = feature_gates.find(gate);  // a gate hpad does not read
  return it != feature_gates.end() && it->second;
}

Result<ControllerOptions> ParseControllerOptions(const std::map<std::string, std::string>& flags,
                                                 ControllerOptions base) {
  ControllerOptions o = std::move(base);
  for (const auto& [raw_name, value] : flags) {
    std::string name = raw_name;
    while (!name.empty() && name[0] == '-') name.erase(0, 1);
    auto bad = [&](const std::string& why) { return InvalidError("flag --" + name + ": " + why); };
    auto duration = [&](std::chrono::nanoseconds& out) -> Status {
      auto d = k8s::ParseGoDuration(value);
      if (!d.ok()) return bad(d.status().message());
      if (d->count() < 0) return bad("must not be negative");
      out = *d;
      return Status::Ok();
    };
    Status s;
    if (name == "horizontal-pod-autoscaler-sync-period") {
      s = duration(o.sync_period);
      if (s.ok() && o.sync_period.count() == 0) s = bad("must be positive");
    } else if (name == "horizontal-pod-autoscaler-tolerance") {
      // KCM declares the flag with pflag's Float64Var and does not validate
      // it (HPAControllerOptions.Validate is empty): any text Go's
      // strconv.ParseFloat reads is accepted, negative values included.
      char* end = nullptr;
      double t = value.empty() || std::isspace(static_cast<unsigned char>(value[0])) ? 0.0
                                                                                    : std::strtod(value.c_str(), &end);
      if (end == nullptr || *end != '\0') {
        s = bad("invalid tolerance \"" + value + "\"");
      } else {
        o.tolerance = t;
      }
    } else if (name == "horizontal-pod-autoscaler-cpu-initialization-period") {
      s = duration(o.cpu_initialization_period);
    } else if (name == "horizontal-pod-autoscaler-initial-readiness-delay") {
      s = duration(o.initial_readiness_delay);
    } else if (name == "horizontal-pod-autoscaler-downscale-stabilization") {
      s = duration(o.downscale_stabilization);
    } else if (name == "horizontal-pod-autoscaler-upscale-delay" ||
               name == "horizontal-pod-autoscaler-downscale-delay") {
      std::chrono::nanoseconds ignored{};
      s = duration(ignored);  // 13.2: deprecated no-ops, still validated
    } else if (name == "concurrent-horizontal-pod-autoscaler-syncs") {
      char* end = nullptr;
      long n = std::strtol(value.c_str(), &end, 10);
      if (value.empty() || *end != '\0' || n < 1 || n > 10000) {
        s = bad("must be a positive integer, got \"" + value + "\"");
      } else {
        o.concurrent_syncs = static_cast<int>(n);
      }
    } else if (name == "feature-gates") {
      size_t pos = 0;
      while (pos <= value.size()) {
        size_t comma = value.find(',', pos);
        std::string item = Trim(value.substr(pos, comma == std::string::npos ? std::string::npos : comma - pos));
        pos = comma == std::string::npos ? value.size() + 1 : comma + 1;
        if (item.empty()) continue;
        size_t eq = item.find('=');
        if (eq == std::string::npos) {
          s = bad("missing bool value for " + item);
          break;
        }
        auto b = ParseBool(Trim(item.substr(eq + 1)));
        if (!b.ok()) {
          s = bad(b.status().message() + " for " + Trim(item.substr(0, eq)));
          break;
        }
        o.feature_gates[Trim(item.substr(0, eq))] = *b;
      }
    } else {
      s = InvalidError("unknown flag --" + name);
    }
    if (!s.ok()) return s;
  }
  return o;
}

struct HorizontalController::Impl {
  Impl(ControllerOptions o, std::shared_ptr<k8s::ApiClient> c, Monitor& m, const Clock& cl)
      : options(std::move(o)), client(std::move(c)), monitor(m), clock(cl) {}

  ControllerOptions options;
  std::shared_ptr<k8s::ApiClient> client;
  Monitor& monitor;  // borrowed
  const Clock& clock;

  std::unique_ptr<k8s::Informer<k8s::Hpa>> hpa_informer;
  std::unique_ptr<k8s::Informer<k8s::Pod>> pod_informer;
  std::shared_ptr<k8s::DiscoveryRestMapper> mapper;
  std::unique_ptr<RestMetricsClient> metrics;
  std::unique_ptr<MetricsCache> metrics_cache;  // what the reconciler uses (issue 5)
  std::unique_ptr<RestScaleClient> scales;
  std::unique_ptr<ScaleCache> scale_cache;  // daemon with scale_from_cache only
  std::unique_ptr<k8s::ApiEventRecorder> recorder;
  SelectorRegistry selectors;
  std::unique_ptr<HpaReconciler> reconciler;
  std::unique_ptr<k8s::WorkQueue> queue;
  ReconcileObserver observer;
  k8s::WorkQueueObserver* queue_observer = nullptr;  // daemon metrics (workqueue_*), may be null

  bool watching = false;
  std::atomic<bool> stopping{false};
  std::mutex threads_mu;
  std::vector<std::thread> workers;

  std::mutex deleted_mu;
  std::set<std::string> deleted_keys;  // for SyncAllNow: history is dropped at the next pass (Q5)

  ReconcilerOptions ReconcilerOpts() const {
    ReconcilerOptions r;
    r.tolerance = options.tolerance;
    r.readiness.cpu_initialization_period = options.cpu_initialization_period;
    r.readiness.initial_readiness_delay = options.initial_readiness_delay;
    r.downscale_stabilization = options.downscale_stabilization;
    r.configurable_tolerance = options.GateEnabled(Gate::kHPAConfigurableTolerance);
    r.scale_to_zero = options.GateEnabled(Gate::kHPAScaleToZero);
    r.generation = options.GateEnabled(Gate::kHPAGeneration);
    r.optimized_selector_store = options.GateEnabled(Gate::kHPAOptimizedSelectorStore);
    r.pod_level_resources = options.GateEnabled(Gate::kPodLevelResources);
    return r;
  }

  void Build() {
    auto opts = [](const k8s::GroupVersionResource& gvr, const std::string& name) {
      k8s::ReflectorOptions ro;
      ro.gvr = gvr;
      ro.name = name;
      return ro;
    };
    hpa_informer = std::make_unique<k8s::Informer<k8s::Hpa>>(*client, clock, opts(k8s::resources::kHpaV2, "hpas"),
                                                              [](const k8s::Json& j) { return k8s::HpaFromJson(j); });
    pod_informer = std::make_unique<k8s::Informer<k8s::Pod>>(*client, clock, opts(k8s::resources::kPods, "pods"),
                                                              [](const k8s::Json& j) { return k8s::PodFromJson(j); });
    mapper = std::make_shared<k8s::DiscoveryRestMapper>(client);
    std::weak_ptr<k8s::DiscoveryRestMapper> weak = mapper;
    metrics = std::make_unique<RestMetricsClient>(
        client, [weak](const std::string& group, const std::string& kind) -> Result<std::string> {
          // The first mapping's plural; a kind no mapping knows gets a guessed plural.
          if (auto m = weak.lock()) {
            auto mappings = m->RestMappings(group, kind);
            if (mappings.ok() && !mappings->empty()) return mappings->front().gvr.resource;
          }
          return GuessPluralResource(kind);
        });
    metrics_cache = std::make_unique<MetricsCache>(*metrics, pod_informer->Store(), clock, options.sync_period);
    scales = std::make_unique<RestScaleClient>(client, mapper);
    ScaleClient* scale_reader = scales.get();
    if (options.scale_from_cache && watching) {
      scale_cache = std::make_unique<ScaleCache>(*scales, *client, clock);
      scale_reader = scale_cache.get();
    }
    recorder = std::make_unique<k8s::ApiEventRecorder>(*client, clock);
    reconciler = std::make_unique<HpaReconciler>(ReconcilerOpts(), hpa_informer->Store(), pod_informer->Store(),
                                                 *metrics_cache, *scale_reader, *client, *recorder, selectors, monitor,
                                                 clock);
    if (observer) reconciler->SetObserver(observer);
    queue = std::make_unique<k8s::WorkQueue>(clock, "horizontalpodautoscaler", nullptr, queue_observer);

    k8s::InformerHandlers<k8s::Hpa> h;
    h.on_add = [this](const std::shared_ptr<const k8s::Hpa>& hpa) {
      // Q3: the selector slot exists before the key is queued.
      selectors.Register(hpa->metadata.ns, hpa->metadata.name);
      const std::string key = KeyOf(hpa->metadata.ns, hpa->metadata.name);
      {
        std::lock_guard<std::mutex> l(deleted_mu);
        deleted_keys.erase(key);
      }
      if (!watching) return;
      if (hpa_informer->HasSynced()) {
        queue->Add(key);  // Q3: added after start-up -> at once
      } else {
        // The initial list (the informer is synced only once it has been
        // delivered): spread over the first period, not a burst at the tick.
        queue->AddAfter(key, InitialDelay(key, options.sync_period));
      }
    };
    h.on_update = [this](const std::shared_ptr<const k8s::Hpa>& old_hpa, const std::shared_ptr<const k8s::Hpa>& hpa) {
      selectors.Register(hpa->metadata.ns, hpa->metadata.name);
      if (!watching) return;
      const std::string key = KeyOf(hpa->metadata.ns, hpa->metadata.name);
      // Q4: a spec change (generation) is handled at once, anything else waits a period.
      if (options.GateEnabled(Gate::kHPAGeneration) && old_hpa->metadata.generation != hpa->metadata.generation) {
        queue->Add(key);
      } else {
        queue->AddAfter(key, options.sync_period);
      }
    };
    h.on_delete = [this](const std::shared_ptr<const k8s::Hpa>& hpa) {
      // Q5.
      selectors.Remove(hpa->metadata.ns, hpa->metadata.name);
      const std::string key = KeyOf(hpa->metadata.ns, hpa->metadata.name);
      {
        std::lock_guard<std::mutex> l(deleted_mu);
        deleted_keys.insert(key);
      }
      if (watching) {
        queue->Forget(key);
        queue->Add(key);  // processed once more to drop the history (R1)
      }
    };
    hpa_informer->AddEventHandler(std::move(h));
  }

  void Worker() {
    while (auto key = queue->Get()) {
      if (stopping.load()) {
        queue->Done(*key);
        continue;
      }
      ReconcileResult r = reconciler->Reconcile(*key, clock.Now());
      if (!r.error.ok()) HPAD_LOG(Error) << "reconciling HPA " << *key << ": " << r.error.message();
      // Q2: every existing HPA comes back after one sync period, errors or not.
      if (!r.deleted) queue->AddAfter(*key, options.sync_period);
      queue->Done(*key);
    }
  }
};

HorizontalController::HorizontalController(ControllerOptions options, std::shared_ptr<k8s::ApiClient> client,
                                           Monitor& monitor, const Clock& clock)
    : impl_(std::make_unique<Impl>(std::move(options), std::move(client), monitor, clock)) {}

HorizontalController::~HorizontalController() {
  Stop();
  // Destruction order: workers are joined; informers stop before the stores go.
  if (impl_->hpa_informer) impl_->hpa_informer->Stop();
  if (impl_->pod_informer) impl_->pod_informer->Stop();
  if (impl_->scale_cache) impl_->scale_cache->Stop();
  if (impl_->recorder) impl_->recorder->Flush();
}

void HorizontalController::SetObserver(ReconcileObserver observer) {
  impl_->observer = observer;
  if (impl_->reconciler) impl_->reconciler->SetObserver(std::move(observer));
}

void HorizontalController::SetWorkQueueObserver(k8s::WorkQueueObserver* observer) {
  impl_->queue_observer = observer;
}

size_t HorizontalController::NumHpas() const { return impl_->selectors.Size(); }

Status HorizontalController::Start(bool watch) {
  if (!impl_->reconciler) {
    impl_->watching = watch;  // Build() picks the scale reader by it
    impl_->Build();
  }
  impl_->watching = watch;
  if (!watch) {
    Status s = impl_->hpa_informer->Relist();
    if (!s.ok()) return s.WithContext("listing horizontalpodautoscalers");
    s = impl_->pod_informer->Relist();
    if (!s.ok()) return s.WithContext("listing pods");
    return Status::Ok();
  }
  // The scale informers are not waited for: until they have synced, scales
  // are read with GET (ScaleCache falls back), so a slow or forbidden list of
  // workloads never delays or blocks the controller.
  if (impl_->scale_cache) impl_->scale_cache->Start();
  impl_->pod_informer->Start();
  impl_->hpa_informer->Start();
  const Time deadline = impl_->clock.Now() + std::chrono::minutes(2);
  if (!impl_->pod_informer->WaitForSync(deadline) || !impl_->hpa_informer->WaitForSync(deadline)) {
    return Status(StatusCode::kTimeout, "timed out waiting for the HPA and pod caches to sync");
  }
  return Status::Ok();
}

bool HorizontalController::HasSynced() const {
  return impl_->hpa_informer && impl_->hpa_informer->HasSynced() && impl_->pod_informer->HasSynced();
}

void HorizontalController::Run() {
  if (!impl_->reconciler) impl_->Build();
  {
    std::lock_guard<std::mutex> l(impl_->threads_mu);
    if (impl_->stopping.load()) return;
    for (int i = 0; i < std::max(1, impl_->options.concurrent_syncs); i++) {
      impl_->workers.emplace_back([this] { impl_->Worker(); });
    }
  }
  std::vector<std::thread> workers;
  // Wait for the workers (they return when Stop() shuts the queue down).
  {
    std::lock_guard<std::mutex> l(impl_->threads_mu);
    workers.swap(impl_->workers);
  }
  for (auto& t : workers) t.join();
}

void HorizontalController::Stop() {
  impl_->stopping.store(true);
  if (impl_->queue) impl_->queue->ShutDown();
  impl_->clock.Notify();
}

Status HorizontalController::SyncAllNow() { return SyncNow(nullptr); }

Status HorizontalController::SyncKeysNow(const std::vector<std::string>& keys) { return SyncNow(&keys); }

Status HorizontalController::SyncNow(const std::vector<std::string>* only) {
  if (!impl_->reconciler) {
    Status s = Start(false);
    if (!s.ok()) return s;
  }
  // Caches exactly as the server has them at this (virtual) instant.
  Status s = impl_->hpa_informer->Relist();
  if (!s.ok()) return s.WithContext("listing horizontalpodautoscalers");
  s = impl_->pod_informer->Relist();
  if (!s.ok()) return s.WithContext("listing pods");
  // Metrics as the server has them at this instant too: every HPA of this
  // pass shares one fetch per namespace made now (issue 5), never a list
  // from an earlier instant of the same period (prompt Q3/Q4 passes).
  impl_->metrics_cache->Clear();

  std::set<std::string> keys;
  if (only != nullptr) {
    keys.insert(only->begin(), only->end());
  } else {
    for (const auto& key : impl_->hpa_informer->Store().Keys()) keys.insert(key);
    std::lock_guard<std::mutex> l(impl_->deleted_mu);
    keys.insert(impl_->deleted_keys.begin(), impl_->deleted_keys.end());
    impl_->deleted_keys.clear();
  }
  const Time now = impl_->clock.Now();
  for (const auto& key : keys) {
    ReconcileResult r = impl_->reconciler->Reconcile(key, now);
    if (!r.error.ok()) HPAD_VLOG(2) << "reconciling HPA " << key << ": " << r.error.message();
  }
  impl_->recorder->Flush();  // the runner checks events right after the tick
  return Status::Ok();
}

}  // namespace hpad::ctrl
