// MetricsCache: Resource and Pods metrics fetched once per namespace per sync
// period and shared by every HPA there (issue 5 "Must do", architecture.md
// step 5). Upstream fetches per HPA with the HPA's label selector; with
// 10,000 HPAs that is 10,000+ metrics calls a period (issue 7).
//
// How: the first HPA of a namespace to ask fetches the namespace's whole
// list through `source` (ListResourceMetricsTable / ListPodsMetric: no label
// selector); every HPA then filters that list with its own selector, as the
// metrics APIs would have done server side (through indexes built once per
// fetch, so a filter visits the HPA's own items, not the namespace's):
//  - resource metrics (M1): by the PodMetrics' own metadata.labels (what
//    metrics-server and hpad-sim filter on); a PodMetrics without labels
//    falls back to the labels of the same-named pod in the pod cache;
//  - Pods custom metrics (M4): by the labels of the described pod in the pod
//    cache (an item whose pod is not cached is dropped, as the adapter drops
//    objects it cannot find). The metric selector is part of the cache key:
//    it is sent to the adapter, which filters series by it.
// A selector that renders as "" (Nothing / everything, M7) sends no selector
// upstream either, so nothing is filtered. The filtered list then goes
// through the same conversion as the per-HPA fetch (ResourceMetricResultFrom
// / PodsMetricResultFrom), so values, the first-item timestamp (M3), the
// "no metrics returned" error and every error text are those of the
// uncached client.
//
// Validity: an entry is used while `now - fetched_at < ttl` (the sync
// period; `now` from the injected clock), failed fetches included, so every
// HPA of a namespace sees the same outage with the same text during that
// period. Clear() forgets everything: the scenario runner's SyncAllNow calls
// it at each virtual instant, so all HPAs reconciled at one instant share
// one fetch made at that instant (decisions identical to per-HPA fetches).
// Object and External metrics (M5/M6): each distinct query (namespace,
// metric, metric selector in its wire form, and for Object the described
// object's group, kind and name) is fetched once per period and its result,
// value or error, shared by every HPA asking the same thing (issue 16,
// divergence 26); nothing is filtered, the answer is the query's own.
//
// Thread-safety: all methods are thread-safe. Concurrent misses on one key
// are collapsed into one fetch (the others wait for it, outside the lock).
// `source`, `pods` and `clock` are borrowed and must outlive the cache.
#pragma once

#include <cstddef>
#include <cstdint>
#include <future>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "controller/metrics_client.h"
#include "k8sclient/base/clock.h"
#include "k8sclient/object_store.h"
#include "k8sclient/api/types/pod.h"
#include "k8sclient/api/types/pod_metrics_table.h"

namespace hpad::ctrl {

class MetricsCache : public MetricsClient {
 public:
  MetricsCache(MetricsClient& source, const k8s::ObjectStore<k8s::Pod>& pods, const Clock& clock, Duration ttl);

  Result<PodMetricsResult> GetResourceMetric(const std::string& ns, const std::string& resource,
                                             const k8s::Selector& selector, const std::string& container) override;
  Result<PodMetricsResult> GetRawMetric(const std::string& ns, const std::string& metric_name,
                                        const k8s::Selector& selector, const k8s::Selector& metric_selector) override;
  Result<ObjectMetricResult> GetObjectMetric(const std::string& ns, const std::string& metric_name,
                                             const k8s::CrossVersionObjectReference& object,
                                             const k8s::Selector& metric_selector) override;
  Result<ExternalMetricResult> GetExternalMetric(const std::string& ns, const std::string& metric_name,
                                                 const k8s::Selector& metric_selector) override;
  // The cached namespace-wide lists themselves (copies).
  Result<std::vector<k8s::PodMetrics>> ListResourceMetrics(const std::string& ns) override;
  Result<k8s::PodMetricsTable> ListResourceMetricsTable(const std::string& ns) override;
  Result<std::vector<k8s::CustomMetricValue>> ListPodsMetric(const std::string& ns, const std::string& metric_name,
                                                             const k8s::Selector& metric_selector) override;

  // Forgets every entry (the next request of each key fetches again).
  void Clear();
  // Entries held (fresh or not yet swept), for tests.
  size_t Size() const;

 private:
  // A namespace's list as fetched, with indexes (item positions, ascending =
  // server order) so an HPA's filter visits its own items, not the whole
  // namespace: one namespace with 10,000 HPAs must not cost HPAs x pods.
  //
  // Memory and CPU (issue 16): the cache holds one period's list of every
  // namespace, i.e. one item per pod of the cluster, so the items are the
  // source's k8s::PodMetricsTable (flat arrays: 32 B an item, 8 B a
  // container, 12 B a usage, plus the name; ~524 B a pod as
  // k8s::PodMetrics), moved in as decoded (no PodMetrics and no compaction
  // in between): the cache adds only its label indexes. What
  // GetResourceMetric reads (ValueOf, NameOf, TimestampOf) gives what
  // PodMetricValue gives on the PodMetrics the table stands for;
  // ListResourceMetrics rebuilds those with ToPodMetrics().
  struct ResourceList {
    explicit ResourceList(Result<k8s::PodMetricsTable> r);
    size_t size() const { return table.size(); }
    std::string_view NameOf(uint32_t i) const { return table.NameOf(i); }
    Time TimestampOf(uint32_t i) const { return table.TimestampOf(i); }
    const k8s::Labels& LabelsOf(uint32_t i) const { return table.LabelsOf(i); }
    // M2 on item i: `resource` / `container` are ids from Find (kNone when
    // the list has no such string); container kNone with `whole_pod` false
    // means a container name no item has.
    std::optional<PodMetric> ValueOf(uint32_t i, uint32_t resource, bool whole_pod, uint32_t container) const;
    // The id of `s` among the table's strings, kNone if absent.
    uint32_t Find(std::string_view s) const { return table.Find(s); }

    static constexpr uint32_t kNone = k8s::PodMetricsTable::kNone;
    Status status;  // the fetch's error; the table is empty then
    k8s::PodMetricsTable table;
    // Own metadata.labels: key -> value -> positions.
    std::unordered_map<std::string, std::unordered_map<std::string, std::vector<uint32_t>>> by_label;
    std::vector<uint32_t> unlabelled;  // selected by their pod's labels
  };
  struct PodsMetricList {
    explicit PodsMetricList(Result<std::vector<k8s::CustomMetricValue>> r);
    Result<std::vector<k8s::CustomMetricValue>> items;
    std::unordered_map<std::string, std::vector<uint32_t>> by_pod;  // describedObject.name -> positions
  };
  template <typename L>
  struct Entry {
    Time fetched_at{};
    std::shared_future<std::shared_ptr<const L>> value;
  };
  template <typename L, typename Fetch>
  std::shared_ptr<const L> Lookup(std::unordered_map<std::string, Entry<L>>& entries, const std::string& key,
                                  Fetch fetch);
  void SweepLocked(Time now);
  bool SelectsItem(const std::string& ns, const k8s::Selector& selector, const ResourceList& list, uint32_t i) const;
  std::vector<uint32_t> Select(const std::string& ns, const k8s::Selector& selector,
                               const ResourceList& list) const;
  std::vector<const k8s::CustomMetricValue*> Select(const std::string& ns, const k8s::Selector& selector,
                                                    const PodsMetricList& list) const;

  MetricsClient& source_;
  const k8s::ObjectStore<k8s::Pod>& pods_;
  const Clock& clock_;
  const Duration ttl_;

  mutable std::mutex mu_;  // guards the maps and last_sweep_; never held during a fetch
  // Hashed: no order is needed, and external and Pods keys share long
  // prefixes that an ordered map compares byte by byte (issue 16).
  std::unordered_map<std::string, Entry<ResourceList>> resource_;        // ns -> list
  std::unordered_map<std::string, Entry<PodsMetricList>> pods_metrics_;  // ns \0 metric \0 metric selector -> list
  std::unordered_map<std::string, Entry<Result<ObjectMetricResult>>> object_metrics_;  // see ObjectMetricKey
  // ns \0 metric \0 metric selector
  std::unordered_map<std::string, Entry<Result<ExternalMetricResult>>> external_metrics_;
  Time last_sweep_{};
};

}  // namespace hpad::ctrl
