// MetricsCache: per-namespace metric lists shared by the HPAs of the
// namespace for one sync period (see metrics_cache.h; rules M1-M4, M7).
#include "controller/metrics_cache.h"

#include <algorithm>
#include <iterator>
#include <utility>

namespace hpad::ctrl {
namespace {

// M7: Nothing() and the empty selector both go out as "no labelSelector",
// and the API then returns every item: no filtering for them.
bool FiltersNothing(const k8s::Selector& s) { return s.IsNothing() || s.Empty(); }

// The metric selector is sent to the adapter (M4/M7), so it is part of the
// key, in its wire form (Nothing and everything are both "").
std::string PodsMetricKey(const std::string& ns, const std::string& metric, const k8s::Selector& metric_selector) {
  std::string key = ns;
  key += '\0';
  key += metric;
  key += '\0';
  key += metric_selector.IsNothing() ? std::string() : metric_selector.ToString();
  return key;
}

// Object metrics (M5): the request path is made of the namespace, the
// metric, the metric selector and the described object's group, kind and
// name (its version plays no part: the resolver maps group and kind). A
// core-group Namespace is asked by the HPA's namespace alone (the
// root-scoped form, RestMetricsClient::GetObjectMetric), whatever its name.
std::string ObjectMetricKey(const std::string& ns, const std::string& metric,
                            const k8s::CrossVersionObjectReference& object, const k8s::Selector& metric_selector) {
  std::string key = PodsMetricKey(ns, metric, metric_selector);
  auto slash = object.api_version.find('/');
  const std::string group = slash == std::string::npos ? std::string() : object.api_version.substr(0, slash);
  key += '\0';
  key += group;
  key += '\0';
  key += object.kind;
  key += '\0';
  if (!(object.kind == "Namespace" && group.empty())) key += object.name;
  return key;
}

bool IsEquality(const k8s::LabelSelectorRequirement& r) {
  return !r.values.empty() && (r.op == k8s::LabelSelectorRequirement::Op::kEquals ||
                               (r.op == k8s::LabelSelectorRequirement::Op::kIn && r.values.size() == 1));
}

}  // namespace

MetricsCache::ResourceList::ResourceList(Result<k8s::PodMetricsTable> r) {
  if (!r.ok()) {
    status = r.status();
    return;
  }
  table = std::move(r).value();  // the decoded arrays themselves: no copy
  // The indexes, per label set first: items sharing a set (a Deployment's
  // pods) share its postings' keys.
  std::vector<std::vector<uint32_t>> by_set(table.label_set_count());
  for (uint32_t i = 0; i < table.size(); i++) {
    const uint32_t set = table.LabelSetOf(i);
    if (set == kNone) {
      unlabelled.push_back(i);
    } else {
      by_set[set].push_back(i);
    }
  }
  for (uint32_t set = 0; set < by_set.size(); set++) {
    for (const auto& [k, v] : table.label_set(set)) {
      std::vector<uint32_t>& positions = by_label[k][v];
      positions.insert(positions.end(), by_set[set].begin(), by_set[set].end());
    }
  }
  // Postings were filled set by set: back to ascending (server) order where
  // several sets share a label.
  for (auto& [key, values] : by_label) {
    for (auto& [value, positions] : values) {
      if (!std::is_sorted(positions.begin(), positions.end())) std::sort(positions.begin(), positions.end());
      positions.shrink_to_fit();  // growth slack would be held for the whole period
    }
  }
  unlabelled.shrink_to_fit();
}

std::optional<PodMetric> MetricsCache::ResourceList::ValueOf(uint32_t i, uint32_t resource, bool whole_pod,
                                                             uint32_t container) const {
  // The same rules, in the same order, as PodMetricValue (M2).
  const uint32_t first = table.ContainersBegin(i);
  const uint32_t last = table.ContainersEnd(i);
  auto usage = [&](uint32_t c) -> std::optional<int64_t> {
    for (uint32_t u = table.UsagesBegin(c); u < table.UsagesEnd(c); u++)
      if (table.UsageResource(u) == resource) return table.UsageValue(u);
    return std::nullopt;
  };
  const std::chrono::milliseconds window = table.WindowOf(i);
  if (!whole_pod) {
    // Container form: the first container of that name only.
    for (uint32_t c = first; c < last; c++) {
      if (table.ContainerName(c) != container) continue;
      const std::optional<int64_t> v = usage(c);
      if (v) return PodMetric{*v, TimestampOf(i), window};
      return std::nullopt;
    }
    return std::nullopt;
  }
  // Whole pod: every container must report the resource.
  if (first == last) return std::nullopt;
  int64_t sum = 0;
  for (uint32_t c = first; c < last; c++) {
    const std::optional<int64_t> v = usage(c);
    if (!v) return std::nullopt;
    sum = AddUsageSaturating(sum, *v);
  }
  return PodMetric{sum, TimestampOf(i), window};
}

MetricsCache::PodsMetricList::PodsMetricList(Result<std::vector<k8s::CustomMetricValue>> r) : items(std::move(r)) {
  if (!items.ok()) return;
  for (uint32_t i = 0; i < items->size(); i++) by_pod[(*items)[i].described_object.name].push_back(i);
}

MetricsCache::MetricsCache(MetricsClient& source, const k8s::ObjectStore<k8s::Pod>& pods, const Clock& clock,
                           Duration ttl)
    : source_(source), pods_(pods), clock_(clock), ttl_(ttl) {}

template <typename L, typename Fetch>
std::shared_ptr<const L> MetricsCache::Lookup(std::unordered_map<std::string, Entry<L>>& entries,
                                              const std::string& key, Fetch fetch) {
  // Only the worker that fetches makes a promise (a cache hit, the common
  // case, allocates no shared state).
  std::optional<std::promise<std::shared_ptr<const L>>> promise;
  std::shared_future<std::shared_ptr<const L>> future;
  {
    std::lock_guard<std::mutex> l(mu_);
    const Time now = clock_.Now();
    auto it = entries.find(key);
    if (it != entries.end() && now - it->second.fetched_at < ttl_) {
      future = it->second.value;  // fresh, or being fetched by another worker
    } else {
      SweepLocked(now);
      future = promise.emplace().get_future().share();
      entries[key] = Entry<L>{now, future};
    }
  }
  if (promise) {
    // Outside the lock: other namespaces are served meanwhile, and waiters
    // on this key block on the future, not on mu_.
    promise->set_value(std::make_shared<const L>(fetch()));
  }
  return future.get();
}

void MetricsCache::SweepLocked(Time now) {
  // Expired entries are replaced when their key is asked for again; keys
  // nobody asks for any more (namespaces without HPAs now) are dropped here,
  // at most once a period, so the cache holds about one period of lists.
  if (now - last_sweep_ < ttl_) return;
  last_sweep_ = now;
  auto sweep = [&](auto& entries) {
    for (auto it = entries.begin(); it != entries.end();) {
      if (now - it->second.fetched_at >= ttl_) {
        it = entries.erase(it);  // waiters keep their shared_future
      } else {
        ++it;
      }
    }
  };
  sweep(resource_);
  sweep(pods_metrics_);
  sweep(object_metrics_);
  sweep(external_metrics_);
}

void MetricsCache::Clear() {
  std::lock_guard<std::mutex> l(mu_);
  resource_.clear();
  pods_metrics_.clear();
  object_metrics_.clear();
  external_metrics_.clear();
}

size_t MetricsCache::Size() const {
  std::lock_guard<std::mutex> l(mu_);
  return resource_.size() + pods_metrics_.size() + object_metrics_.size() + external_metrics_.size();
}

bool MetricsCache::SelectsItem(const std::string& ns, const k8s::Selector& selector, const ResourceList& list,
                               uint32_t i) const {
  const k8s::Labels& own = list.LabelsOf(i);
  if (!own.empty()) return selector.Matches(own);
  // No labels on the PodMetrics: the pod's own labels, as metrics-server
  // selects by pod. A PodMetrics of an unknown pod has no labels at all.
  auto pod = pods_.Get(ns, std::string(list.NameOf(i)));
  return selector.Matches(pod ? pod->labels() : k8s::Labels{});
}

std::vector<uint32_t> MetricsCache::Select(const std::string& ns, const k8s::Selector& selector,
                                           const ResourceList& list) const {
  const auto count = static_cast<uint32_t>(list.size());
  std::vector<uint32_t> out;
  if (FiltersNothing(selector)) {
    out.reserve(count);
    for (uint32_t i = 0; i < count; i++) out.push_back(i);
    return out;
  }
  // Items' own label sets are interned by the table, and the pods of one
  // workload share one: consecutive items with the same set get the same
  // answer without a match.
  k8s::MatchMemo memo(selector);
  auto selects = [&](uint32_t i) {
    const k8s::Labels& own = list.LabelsOf(i);
    if (own.empty()) return SelectsItem(ns, selector, list, i);  // judged by its pod's labels
    return memo.Matches(own);
  };
  // An equality requirement k=v can only match items labelled k=v, or
  // unlabelled ones (judged by their pod's labels): visit only those, from
  // the smallest posting list.
  static const std::vector<uint32_t> kNone;
  const std::vector<uint32_t>* anchored = nullptr;
  for (const auto& r : selector.requirements()) {
    if (!IsEquality(r)) continue;
    const std::vector<uint32_t>* posting = &kNone;
    auto k = list.by_label.find(r.key);
    if (k != list.by_label.end()) {
      auto v = k->second.find(r.values[0]);
      if (v != k->second.end()) posting = &v->second;
    }
    if (!anchored || posting->size() < anchored->size()) anchored = posting;
  }
  if (!anchored) {  // no equality requirement: every item is a candidate
    for (uint32_t i = 0; i < count; i++)
      if (selects(i)) out.push_back(i);
    return out;
  }
  std::vector<uint32_t> candidates;
  candidates.reserve(anchored->size() + list.unlabelled.size());
  // Both ascending, so the result keeps server order (M3: first item's timestamp).
  std::merge(anchored->begin(), anchored->end(), list.unlabelled.begin(), list.unlabelled.end(),
             std::back_inserter(candidates));
  for (uint32_t i : candidates)
    if (selects(i)) out.push_back(i);
  return out;
}

std::vector<const k8s::CustomMetricValue*> MetricsCache::Select(const std::string& ns, const k8s::Selector& selector,
                                                                const PodsMetricList& list) const {
  const std::vector<k8s::CustomMetricValue>& items = *list.items;
  std::vector<const k8s::CustomMetricValue*> out;
  if (FiltersNothing(selector)) {
    for (const auto& mv : items) out.push_back(&mv);
    return out;
  }
  // The adapter applies the selector to the described pods' labels and
  // drops objects it cannot find: exactly the cached pods the selector
  // lists (an indexed lookup), then their items in server order.
  std::vector<uint32_t> positions;
  for (const auto& pod : pods_.ListSelector(ns, selector)) {
    auto it = list.by_pod.find(pod->name);
    if (it != list.by_pod.end()) positions.insert(positions.end(), it->second.begin(), it->second.end());
  }
  std::sort(positions.begin(), positions.end());
  out.reserve(positions.size());
  for (uint32_t i : positions) out.push_back(&items[i]);
  return out;
}

Result<PodMetricsResult> MetricsCache::GetResourceMetric(const std::string& ns, const std::string& resource,
                                                         const k8s::Selector& selector, const std::string& container) {
  auto list = Lookup(resource_, ns, [&] { return ResourceList(source_.ListResourceMetricsTable(ns)); });
  if (!list->status.ok()) return list->status;  // M1: the same text for every HPA of the namespace
  // What ResourceMetricResultFrom gives on the selected PodMetrics (M1-M3),
  // read from the compact list.
  const std::vector<uint32_t> selected = Select(ns, selector, *list);
  if (selected.empty()) return Status(StatusCode::kNotFound, kNoResourceMetrics);
  const bool whole_pod = container.empty();
  const uint32_t resource_id = list->Find(resource);
  const uint32_t container_id = whole_pod ? ResourceList::kNone : list->Find(container);
  PodMetricsResult out;
  for (uint32_t i : selected) {
    // A later item of the same name wins, as in ResourceMetricResultFrom.
    if (auto v = list->ValueOf(i, resource_id, whole_pod, container_id))
      out.metrics.insert_or_assign(std::string(list->NameOf(i)), *v);
  }
  out.timestamp = list->TimestampOf(selected.front());  // M3
  return out;
}

Result<PodMetricsResult> MetricsCache::GetRawMetric(const std::string& ns, const std::string& metric_name,
                                                    const k8s::Selector& selector,
                                                    const k8s::Selector& metric_selector) {
  auto list = Lookup(pods_metrics_, PodsMetricKey(ns, metric_name, metric_selector),
                     [&] { return PodsMetricList(source_.ListPodsMetric(ns, metric_name, metric_selector)); });
  if (!list->items.ok()) return list->items.status();  // M4
  return PodsMetricResultFrom(Select(ns, selector, *list));
}

Result<ObjectMetricResult> MetricsCache::GetObjectMetric(const std::string& ns, const std::string& metric_name,
                                                         const k8s::CrossVersionObjectReference& object,
                                                         const k8s::Selector& metric_selector) {
  // One query per period for every HPA asking the same thing (issue 16).
  return *Lookup(object_metrics_, ObjectMetricKey(ns, metric_name, object, metric_selector),
                 [&] { return source_.GetObjectMetric(ns, metric_name, object, metric_selector); });
}

Result<ExternalMetricResult> MetricsCache::GetExternalMetric(const std::string& ns, const std::string& metric_name,
                                                             const k8s::Selector& metric_selector) {
  // The external query is namespaced (the adapter may scope it), so the
  // namespace is part of the key as it is part of the path.
  return *Lookup(external_metrics_, PodsMetricKey(ns, metric_name, metric_selector),
                 [&] { return source_.GetExternalMetric(ns, metric_name, metric_selector); });
}

Result<std::vector<k8s::PodMetrics>> MetricsCache::ListResourceMetrics(const std::string& ns) {
  // Rebuilds the PodMetrics from the compact list: nothing in the daemon
  // calls this on the cache (the reconciler asks GetResourceMetric; the
  // cache reads its source's lists), so the copy costs only its callers.
  auto list = Lookup(resource_, ns, [&] { return ResourceList(source_.ListResourceMetricsTable(ns)); });
  if (!list->status.ok()) return list->status;
  return list->table.ToPodMetrics();
}

Result<k8s::PodMetricsTable> MetricsCache::ListResourceMetricsTable(const std::string& ns) {
  auto list = Lookup(resource_, ns, [&] { return ResourceList(source_.ListResourceMetricsTable(ns)); });
  if (!list->status.ok()) return list->status;
  return list->table;  // a copy: the cached one is shared
}

Result<std::vector<k8s::CustomMetricValue>> MetricsCache::ListPodsMetric(const std::string& ns,
                                                                         const std::string& metric_name,
                                                                         const k8s::Selector& metric_selector) {
  return Lookup(pods_metrics_, PodsMetricKey(ns, metric_name, metric_selector),
                [&] { return PodsMetricList(source_.ListPodsMetric(ns, metric_name, metric_selector)); })
      ->items;
}

}  // namespace hpad::ctrl
