// Building the controller and what it borrows (see wiring.h).
#include "controller/wiring.h"

#include <set>
#include <string_view>

#include "k8sclient/base/klog.h"

namespace hpad::ctrl {

ControllerClients ControllerClients::Single(std::shared_ptr<k8s::ApiClient> client) {
  ControllerClients c;
  c.informers = c.hpa = c.scale = c.resource_metrics = c.custom_metrics = c.external_metrics = std::move(client);
  return c;
}

ControllerClients ControllerClients::WithFallbacks() const {
  ControllerClients c = *this;
  if (!c.hpa) c.hpa = c.informers;
  if (!c.informers) c.informers = c.hpa;
  HPAD_CHECK(c.hpa != nullptr);
  for (auto* member : {&c.scale, &c.resource_metrics, &c.custom_metrics, &c.external_metrics}) {
    if (!*member) *member = c.hpa;
  }
  return c;
}

ControllerWiring::ControllerWiring(ControllerOptions options, std::shared_ptr<k8s::ApiClient> client, Monitor& monitor,
                                   const Clock& clock, k8s::WorkQueueObserver* queue_observer)
    : ControllerWiring(std::move(options), ControllerClients::Single(std::move(client)), monitor, clock,
                       queue_observer) {}

ControllerWiring::ControllerWiring(ControllerOptions options, const ControllerClients& clients, Monitor& monitor,
                                   const Clock& clock, k8s::WorkQueueObserver* queue_observer)
    : clock_(clock), clients_(clients.WithFallbacks()) {
  auto informer_options = [](const k8s::GroupVersionResource& gvr, const std::string& name) {
    k8s::ReflectorOptions ro;
    ro.gvr = gvr;
    ro.name = name;
    return ro;
  };
  hpa_informer_ = std::make_unique<k8s::Informer<k8s::Hpa>>(
      *clients_.informers, clock_, informer_options(k8s::resources::kHpaV2, "hpas"),
      [](const k8s::Json& j) { return k8s::HpaFromJson(j); });
  // Pods of one template share their label set and requests (issue 16).
  auto interner = std::make_shared<k8s::PodInterner>();
  pod_informer_ = std::make_unique<k8s::Informer<k8s::Pod>>(
      *clients_.informers, clock_, informer_options(k8s::resources::kPods, "pods"),
      [interner](const k8s::Json& j) { return k8s::PodFromJson(j, interner.get()); },
      // List pages are decoded from their text without a DOM (issue 16:
      // the start-up list of 150,000 pods); watch events use the converter.
      [interner](std::string_view text, std::string_view what, k8s::PodListPage* page) {
        return k8s::PodListPageFromText(text, what, interner.get(), page);
      });
  mapper_ = std::make_shared<k8s::DiscoveryRestMapper>(clients_.hpa, clock_);
  // Object metrics name the described object's group-qualified resource
  // from the REST mapping, as upstream (issue 11 item 5).
  metrics_ = std::make_unique<RestMetricsClient>(clients_.resource_metrics, clients_.custom_metrics,
                                                 clients_.external_metrics, MapperResourceResolver(mapper_));
  metrics_cache_ = std::make_unique<MetricsCache>(*metrics_, pod_informer_->Store(), clock_, options.sync_period);
  scales_ = std::make_unique<RestScaleClient>(clients_.scale, mapper_);
  ScaleClient* scale_reader = scales_.get();
  if (options.scale_from_cache) {
    scale_cache_ = std::make_unique<ScaleCache>(*scales_, *clients_.informers, clock_);
    scale_reader = scale_cache_.get();
  }
  // Events share the HPA client's bucket with status writes, as upstream's
  // broadcaster sink does (hpaClient.CoreV1()); they go at background
  // priority (divergence 24) so a backlog of event writes (1,000 failing
  // HPAs) keeps half that burst for the status writes. Scale writes have a
  // bucket of their own.
  recorder_ = std::make_unique<k8s::ApiEventRecorder>(clients_.hpa->Background(), clock_);
  if (options.persist_history) {
    history_store_ = std::make_unique<HistoryStore>(*clients_.hpa, options.history_namespace);
  }
  controller_ = std::make_unique<HorizontalController>(std::move(options),
                                                       ControllerDeps{.hpas = *hpa_informer_,
                                                                      .pods = *pod_informer_,
                                                                      .metrics = *metrics_cache_,
                                                                      .scales = *scale_reader,
                                                                      .api = *clients_.hpa,
                                                                      .events = *recorder_,
                                                                      .monitor = monitor,
                                                                      .clock = clock_,
                                                                      .queue_observer = queue_observer});
  if (history_store_) {
    // Issue 15: scale events are written ahead of their scale writes.
    HistoryStore* store = history_store_.get();
    controller_->reconciler().SetScaleEventWriter(
        [store](const std::string& key, const HpaHistory& history, const PendingScaleWrite& pending) {
          return store->SaveOne(key, history, pending);
        });
  }
}

ControllerWiring::~ControllerWiring() {
  controller_->Stop();
  // Informers stop before the controller (whose handlers they call) goes.
  hpa_informer_->Stop();
  pod_informer_->Stop();
  if (scale_cache_) scale_cache_->Stop();
  recorder_->Flush();
  controller_.reset();
}

Status ControllerWiring::StartWatching(const std::function<bool()>& stop) {
  if (scale_cache_) scale_cache_->Start();
  pod_informer_->Start();
  hpa_informer_->Start();
  const bool synced = clock_.WaitFor(std::chrono::minutes(2), [&] {
    return (stop && stop()) || (pod_informer_->HasSynced() && hpa_informer_->HasSynced());
  });
  if (stop && stop()) return Status(StatusCode::kCancelled, "stopped while waiting for the HPA and pod caches to sync");
  if (!synced) return Status(StatusCode::kTimeout, "timed out waiting for the HPA and pod caches to sync");
  return Status::Ok();
}

Status ControllerWiring::Relist() {
  Status s = hpa_informer_->Relist();
  if (!s.ok()) return s.WithContext("listing horizontalpodautoscalers");
  s = pod_informer_->Relist();
  if (!s.ok()) return s.WithContext("listing pods");
  metrics_cache_->Clear();
  return Status::Ok();
}

void ControllerWiring::FlushEvents() { recorder_->Flush(); }

Status ControllerWiring::LoadHistory() {
  if (!history_store_) return Status::Ok();
  std::set<std::string> live;
  for (const auto& key : hpa_informer_->Store().Keys()) live.insert(key);
  std::map<std::string, PendingScaleWrite> pending;  // issue 15: settled at each HPA's first reconcile
  auto loaded = history_store_->Load(live, &pending);
  if (!loaded.ok()) return loaded.status();
  HPAD_VLOG(2) << "persisted history: read " << loaded->size() << " HPA histories (" << pending.size()
               << " with a scale write of unknown outcome)";
  controller_->reconciler().RestoreHistories(std::move(*loaded), std::move(pending));
  return Status::Ok();
}

Status ControllerWiring::SaveChangedHistories() {
  if (!history_store_) return Status::Ok();
  std::map<std::string, std::optional<HpaHistory>> changed;
  for (const auto& key : controller_->reconciler().TakeChangedHistories()) {
    if (controller_->reconciler().HasHistory(key)) changed[key] = controller_->reconciler().HistoryFor(key);
    else changed[key] = std::nullopt;
  }
  if (changed.empty()) return Status::Ok();
  return history_store_->Save(changed);
}

Status ControllerWiring::SaveAllHistories() {
  if (!history_store_) return Status::Ok();
  std::map<std::string, std::optional<HpaHistory>> all;
  for (const auto& key : controller_->reconciler().TakeChangedHistories()) all[key] = std::nullopt;
  for (auto& [key, h] : controller_->reconciler().AllHistories()) all[key] = std::move(h);
  return history_store_->Save(all);
}

size_t ControllerWiring::HistoryWrites() const { return history_store_ ? history_store_->Writes() : 0; }

}  // namespace hpad::ctrl
