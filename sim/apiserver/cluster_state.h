// ClusterState: the simulator's cluster as one object - a thin facade that
// composes the API server's units and keeps the call sites of the scenario
// runner, workloads, expectations and the HTTP layer simple:
//
//   ResourceRegistry  (resource_registry.h) served resources, CRDs, discovery rows
//   WatchCache        (watch_cache.h)       history, 410, watchers, fan-out serialized once
//   ObjectStore       (object_store.h)      objects in storage versions, conversion,
//                                           resourceVersions, 409, generation, defaulting,
//                                           lists and paging, scale, change listeners
//   MetricsStore      (metrics_store.h)     PodMetrics, MetricValues, ExternalMetricValues
//
// Fault rules and the request log are HTTP-layer concerns: the ApiServer
// (api_server.h) owns them, not the storage.
//
// What the facade adds itself: scenario `apply`/`delete` entries, which
// route a kind to the unit that stores it (metrics kinds to the
// MetricsStore, CRDs to the registry and the store), and the built-in
// namespaces.
//
// Ownership and threads: owns its units; borrows the Clock (must outlive
// it). Every method is thread-safe; each unit has its own lock (stated in
// its header); the facade holds none. Lock order where units call each
// other: ObjectStore -> WatchCache -> a watcher; the registry's lock is a
// leaf; the MetricsStore calls into the ObjectStore only without its own.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "k8sclient/api_client.h"
#include "k8sclient/base/clock.h"
#include "k8sclient/base/status.h"
#include "sim/apiserver/conversion.h"
#include "sim/apiserver/metrics_store.h"
#include "sim/apiserver/object_store.h"
#include "sim/apiserver/resource_registry.h"
#include "sim/apiserver/watch_cache.h"

namespace hpad::sim {

class ClusterState {
 public:
  explicit ClusterState(const Clock& clock);
  ~ClusterState();
  ClusterState(const ClusterState&) = delete;
  ClusterState& operator=(const ClusterState&) = delete;

  const Clock& clock() const { return clock_; }

  // The units, for callers that need one of them only.
  ResourceRegistry& registry() { return registry_; }
  const ResourceRegistry& registry() const { return registry_; }
  WatchCache& watch_cache() { return watch_cache_; }
  ObjectStore& objects() { return objects_; }
  const ObjectStore& objects() const { return objects_; }
  MetricsStore& metrics() { return metrics_; }
  const MetricsStore& metrics() const { return metrics_; }

  // ---- Registry ------------------------------------------------------------
  // Registers a CustomResourceDefinition (ResourceRegistry::RegisterCrd).
  // The CRD object itself is stored by Apply, not here.
  Status RegisterCrd(const Json& crd) { return registry_.RegisterCrd(crd); }
  std::optional<ResourceInfo> FindByGvr(const GroupVersionResource& gvr) const;
  std::optional<ResourceInfo> FindByKind(const std::string& api_version, const std::string& kind) const;
  // By kind alone (scenario `delete:` entries): the preferred (first registered) version.
  std::optional<ResourceInfo> FindByKindAnyVersion(const std::string& kind) const;
  // Every served resource, in registration order (discovery).
  std::vector<ResourceInfo> Resources() const { return registry_.Resources(); }

  // ---- Objects (any served version; see ObjectStore) ---------------------------
  Result<Json> Create(const GroupVersionResource& gvr, const std::string& ns, const Json& obj) {
    return objects_.Create(gvr, ns, obj);
  }
  Result<Json> Get(const GroupVersionResource& gvr, const std::string& ns, const std::string& name) const {
    return objects_.Get(gvr, ns, name);
  }
  Result<ListResult> List(const GroupVersionResource& gvr, const std::string& ns, const ListQuery& query) const {
    return objects_.List(gvr, ns, query);
  }
  Result<SharedListResult> ListShared(const GroupVersionResource& gvr, const std::string& ns,
                                      const ListQuery& query) const {
    return objects_.ListShared(gvr, ns, query);
  }
  Result<Json> Update(const GroupVersionResource& gvr, const std::string& ns, const Json& obj) {
    return objects_.Update(gvr, ns, obj);
  }
  Result<Json> UpdateStatus(const GroupVersionResource& gvr, const std::string& ns, const Json& obj) {
    return objects_.UpdateStatus(gvr, ns, obj);
  }
  Result<Json> Delete(const GroupVersionResource& gvr, const std::string& ns, const std::string& name) {
    return objects_.Delete(gvr, ns, name);
  }

  // Scenario `apply` (also used for `objects:`): the kind is found by
  // apiVersion + kind. Creates or replaces the whole object, ignoring
  // metadata.resourceVersion; an object given without `status` keeps the live
  // status. HPAs are defaulted (13.1 D1-D3). PodMetrics, MetricValue and
  // ExternalMetricValue go to the metrics store, CRDs are registered (and
  // stored). Returns the stored object (metrics: as written).
  Result<Json> Apply(const Json& obj);
  // Scenario `delete`: {apiVersion?, kind, metadata.namespace / namespace,
  // metadata.name / name} (metric kinds: their identity fields).
  Status DeleteObject(const Json& ref);

  Result<Json> GetScale(const GroupVersionResource& gvr, const std::string& ns, const std::string& name) const {
    return objects_.GetScale(gvr, ns, name);
  }
  Result<Json> UpdateScale(const GroupVersionResource& gvr, const std::string& ns, const std::string& name,
                           const Json& scale) {
    return objects_.UpdateScale(gvr, ns, name, scale);
  }
  int64_t ResourceVersion() const { return objects_.ResourceVersion(); }

  // ---- Watch (see ObjectStore::Watch and WatchCache) -------------------------------
  Result<std::unique_ptr<Watcher>> Watch(const GroupVersionResource& gvr, const WatchOptions& opts) {
    return objects_.Watch(gvr, opts);
  }
  void BroadcastBookmarks() { objects_.BroadcastBookmarks(); }
  void CloseAllWatchers() { watch_cache_.CloseAll(); }
  void SetHistoryLimit(size_t limit) { watch_cache_.SetHistoryLimit(limit); }

  // ---- Change listeners (see ObjectStore) ------------------------------------
  int AddChangeListener(std::function<void(const StoreEvent&)> listener) {
    return objects_.AddChangeListener(std::move(listener));
  }
  void RemoveChangeListener(int id) { objects_.RemoveChangeListener(id); }

  // ---- Metrics storage (see MetricsStore) ---------------------------------------
  Status PutPodMetrics(const Json& pm) { return metrics_.PutPodMetrics(pm); }
  bool DeletePodMetrics(const std::string& ns, const std::string& name) { return metrics_.DeletePodMetrics(ns, name); }
  std::optional<Json> GetPodMetrics(const std::string& ns, const std::string& name) const {
    return metrics_.GetPodMetrics(ns, name);
  }
  Result<std::vector<Json>> ListPodMetrics(const std::string& ns, const std::string& label_selector) const {
    return metrics_.ListPodMetrics(ns, label_selector);
  }
  Result<std::vector<std::shared_ptr<const Json>>> ListPodMetricsShared(const std::string& ns,
                                                                        const std::string& label_selector) const {
    return metrics_.ListPodMetricsShared(ns, label_selector);
  }
  Result<std::vector<std::shared_ptr<const std::string>>> ListPodMetricsSerialized(
      const std::string& ns, const std::string& label_selector) const {
    return metrics_.ListPodMetricsSerialized(ns, label_selector);
  }
  Status PutMetricValue(const Json& mv) { return metrics_.PutMetricValue(mv); }
  bool DeleteMetricValue(const Json& identity) { return metrics_.DeleteMetricValue(identity); }
  std::vector<Json> ListMetricValues() const { return metrics_.ListMetricValues(); }
  std::vector<std::shared_ptr<const Json>> ListMetricValuesShared(const std::string& ns) const {
    return metrics_.ListMetricValuesShared(ns);
  }
  Status PutExternalMetricValue(const Json& value) { return metrics_.PutExternalMetricValue(value); }
  bool DeleteExternalMetricValue(const std::string& ns, const std::string& name) {
    return metrics_.DeleteExternalMetricValue(ns, name);
  }
  std::optional<Json> GetExternalMetricValue(const std::string& ns, const std::string& name) const {
    return metrics_.GetExternalMetricValue(ns, name);
  }
  Result<std::vector<Json>> ListExternalMetricValues(const std::string& ns, const std::string& metric_name,
                                                     const std::string& label_selector) const {
    return metrics_.ListExternalMetricValues(ns, metric_name, label_selector);
  }

 private:
  const Clock& clock_;
  // Declaration order is construction order: the store borrows the
  // registry and the watch cache; the metrics store looks pods up in the store.
  ResourceRegistry registry_;
  WatchCache watch_cache_;
  ObjectStore objects_;
  MetricsStore metrics_;
};

}  // namespace hpad::sim
