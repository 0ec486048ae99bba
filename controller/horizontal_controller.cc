// HorizontalController: informer handlers + work queue + HpaReconciler (Q1-Q6), and ParseControllerOptions.
#include "controller/horizontal_controller.h"
#include "controller/annotations.h"
#include "k8sclient/base/strings.h"
#include "k8sclient/base/last_resort.h"

#include <algorithm>
#include <cctype>
#include <atomic>
#include <cstdlib>
#include <set>
#include <thread>

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
  for (const auto& flag : flags) {
    // Named copies, not structured bindings: clang 14 (the sanitizer and
    // fuzz builds) cannot capture a structured binding in a lambda.
    std::string name = flag.first;
    const std::string& value = flag.second;
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
      auto n = ParseInt64(value);
      if (!n.ok() || *n < 1 || *n > 10000) {
        s = bad("must be a positive integer, got \"" + value + "\"");
      } else {
        o.concurrent_syncs = static_cast<int>(*n);
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

namespace {

ReconcilerOptions ReconcilerOptionsFor(const ControllerOptions& options) {
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
  r.keep_traces = options.keep_traces;
  r.dry_run = options.dry_run;
  return r;
}

}  // namespace

HorizontalController::HorizontalController(ControllerOptions options, ControllerDeps deps)
    : options_(std::move(options)),
      deps_(deps),
      reconciler_(ReconcilerOptionsFor(options_), deps.hpas.Store(), deps.pods.Store(), deps.metrics, deps.scales,
                  deps.api, deps.events, selectors_, deps.monitor, deps.clock),
      queue_(std::make_unique<k8s::WorkQueue>(deps.clock, "horizontalpodautoscaler", nullptr, deps.queue_observer,
                                             std::chrono::duration_cast<Duration>(options_.queue_delay_granularity))) {
  k8s::InformerHandlers<k8s::Hpa> h;
  h.on_add = [this](const std::shared_ptr<const k8s::Hpa>& hpa) {
    // Q3: the selector slot exists before the key is queued.
    selectors_.Register(hpa->metadata.ns, hpa->metadata.name);
    if (!options_.work_queue) return;
    const std::string key = KeyOf(hpa->metadata.ns, hpa->metadata.name);
    if (deps_.hpas.HasSynced()) {
      queue_->Add(key);  // Q3: added after start-up -> at once
    } else {
      // The initial list (the informer is synced only once it has been
      // delivered): spread over the first period, not a burst at the tick.
      queue_->AddAfter(key, InitialDelay(key, SyncPeriodFor(hpa->metadata.annotations, options_.sync_period)));
    }
  };
  h.on_update = [this](const std::shared_ptr<const k8s::Hpa>& old_hpa, const std::shared_ptr<const k8s::Hpa>& hpa) {
    selectors_.Register(hpa->metadata.ns, hpa->metadata.name);
    if (!options_.work_queue) return;
    const std::string key = KeyOf(hpa->metadata.ns, hpa->metadata.name);
    // Q4: a spec change (generation) is handled at once, anything else waits a period.
    // Issue 13: so is a change of an hpad.io/* annotation (pause, resume, period).
    if ((options_.GateEnabled(Gate::kHPAGeneration) && old_hpa->metadata.generation != hpa->metadata.generation) ||
        HpadAnnotationsChanged(old_hpa->metadata.annotations, hpa->metadata.annotations)) {
      queue_->Add(key);
    } else {
      queue_->AddAfter(key, SyncPeriodFor(hpa->metadata.annotations, options_.sync_period));
    }
  };
  h.on_delete = [this](const std::shared_ptr<const k8s::Hpa>& hpa) {
    // Q5: upstream only forgets the key here; the history goes when the
    // queued key finds no HPA (R1).
    selectors_.Remove(hpa->metadata.ns, hpa->metadata.name);
    if (!options_.work_queue) return;
    const std::string key = KeyOf(hpa->metadata.ns, hpa->metadata.name);
    queue_->Forget(key);
    queue_->Add(key);
  };
  deps_.hpas.AddEventHandler(std::move(h));
}

HorizontalController::~HorizontalController() { Stop(); }

void HorizontalController::SetObserver(ReconcileObserver observer) { reconciler_.SetObserver(std::move(observer)); }

size_t HorizontalController::NumHpas() const { return selectors_.Size(); }

bool HorizontalController::HasSynced() const { return deps_.hpas.HasSynced() && deps_.pods.HasSynced(); }

Duration HorizontalController::SyncPeriodOf(const std::string& key) const {
  auto hpa = deps_.hpas.Store().Get(key);
  return hpa ? SyncPeriodFor(hpa->metadata.annotations, options_.sync_period) : options_.sync_period;
}

ReconcileResult HorizontalController::ReconcileKey(const std::string& key, Time now) {
  return reconciler_.Reconcile(key, now);
}

void HorizontalController::Worker() {
  while (auto key = queue_->Get()) {
    if (stopping_.load()) {
      queue_->Done(*key);
      continue;
    }
    ReconcileResult r;
    // Last resort (issue 10): an exception out of one reconcile fails that
    // HPA's round (it comes back after a sync period like any error); the
    // worker and every other HPA carry on.
    try {
      r = reconciler_.Reconcile(*key, deps_.clock.Now());
    } catch (const std::exception& e) {
      k8s::RecordUnexpectedError("hpa-worker", "reconciling HPA " + *key + ": " + e.what());
      r = ReconcileResult{};
    } catch (...) {
      k8s::RecordUnexpectedError("hpa-worker", "reconciling HPA " + *key + ": non-standard exception");
      r = ReconcileResult{};
    }
    if (!r.error.ok()) HPAD_LOG(Error) << "reconciling HPA " << *key << ": " << r.error.message();
    // Q2: every existing HPA comes back after one sync period, errors or not;
    // issue 13: its own hpad.io/sync-period when it has a valid one.
    if (!r.deleted) queue_->AddAfter(*key, SyncPeriodOf(*key));
    queue_->Done(*key);
  }
}

void HorizontalController::Run() {
  {
    std::lock_guard<std::mutex> l(threads_mu_);
    if (stopping_.load()) return;
    for (int i = 0; i < std::max(1, options_.concurrent_syncs); i++) {
      workers_.emplace_back([this] { Worker(); });
    }
  }
  std::vector<std::thread> workers;
  // Wait for the workers (they return when Stop() shuts the queue down).
  {
    std::lock_guard<std::mutex> l(threads_mu_);
    workers.swap(workers_);
  }
  for (auto& t : workers) t.join();
}

void HorizontalController::Stop() {
  stopping_.store(true);
  queue_->ShutDown();
  deps_.clock.Notify();
}

}  // namespace hpad::ctrl
