// MetricsCache: per-namespace metric lists shared by the HPAs of the
// namespace for one sync period (see metrics_cache.h; rules M1-M4, M7).
#include "controller/metrics_cache.h"

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

}  // namespace

MetricsCache::MetricsCache(MetricsClient& source, const k8s::ObjectStore<k8s::Pod>& pods, const Clock& clock,
                           Duration ttl)
    : source_(source), pods_(pods), clock_(clock), ttl_(ttl) {}

template <typename V, typename Fetch>
MetricsCache::Shared<V> MetricsCache::Lookup(std::map<std::string, Entry<V>>& entries, const std::string& key,
                                             Fetch fetch) {
  std::promise<Shared<V>> promise;
  std::shared_future<Shared<V>> future;
  bool owner = false;
  {
    std::lock_guard<std::mutex> l(mu_);
    const Time now = clock_.Now();
    auto it = entries.find(key);
    if (it != entries.end() && now - it->second.fetched_at < ttl_) {
      future = it->second.value;  // fresh, or being fetched by another worker
    } else {
      SweepLocked(now);
      future = promise.get_future().share();
      entries[key] = Entry<V>{now, future};
      owner = true;
    }
  }
  if (owner) {
    // Outside the lock: other namespaces are served meanwhile, and waiters
    // on this key block on the future, not on mu_.
    promise.set_value(std::make_shared<const Result<std::vector<V>>>(fetch()));
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
}

void MetricsCache::Clear() {
  std::lock_guard<std::mutex> l(mu_);
  resource_.clear();
  pods_metrics_.clear();
}

size_t MetricsCache::Size() const {
  std::lock_guard<std::mutex> l(mu_);
  return resource_.size() + pods_metrics_.size();
}

bool MetricsCache::SelectsItem(const std::string& ns, const k8s::Selector& selector,
                               const k8s::PodMetrics& pm) const {
  if (!pm.labels.empty()) return selector.Matches(pm.labels);
  // No labels on the PodMetrics: the pod's own labels, as metrics-server
  // selects by pod. A PodMetrics of an unknown pod has no labels at all.
  auto pod = pods_.Get(ns, pm.name);
  return selector.Matches(pod ? pod->labels : k8s::Labels{});
}

bool MetricsCache::SelectsItem(const std::string& ns, const k8s::Selector& selector,
                               const k8s::CustomMetricValue& mv) const {
  // The adapter applies the selector to the described pods' labels and
  // drops objects it cannot find.
  auto pod = pods_.Get(ns, mv.described_object.name);
  return pod && selector.Matches(pod->labels);
}

Result<PodMetricsResult> MetricsCache::GetResourceMetric(const std::string& ns, const std::string& resource,
                                                         const k8s::Selector& selector, const std::string& container) {
  auto list = Lookup<k8s::PodMetrics>(resource_, ns, [&] { return source_.ListResourceMetrics(ns); });
  if (!list->ok()) return list->status();  // M1: the same text for every HPA of the namespace
  const std::vector<k8s::PodMetrics>& items = **list;
  std::vector<const k8s::PodMetrics*> selected;
  const bool all = FiltersNothing(selector);
  for (const auto& pm : items)
    if (all || SelectsItem(ns, selector, pm)) selected.push_back(&pm);
  return ResourceMetricResultFrom(selected, resource, container);
}

Result<PodMetricsResult> MetricsCache::GetRawMetric(const std::string& ns, const std::string& metric_name,
                                                    const k8s::Selector& selector,
                                                    const k8s::Selector& metric_selector) {
  const std::string key = PodsMetricKey(ns, metric_name, metric_selector);
  auto list = Lookup<k8s::CustomMetricValue>(
      pods_metrics_, key, [&] { return source_.ListPodsMetric(ns, metric_name, metric_selector); });
  if (!list->ok()) return list->status();
  const std::vector<k8s::CustomMetricValue>& items = **list;
  std::vector<const k8s::CustomMetricValue*> selected;
  const bool all = FiltersNothing(selector);
  for (const auto& mv : items)
    if (all || SelectsItem(ns, selector, mv)) selected.push_back(&mv);
  return PodsMetricResultFrom(selected);
}

Result<ObjectMetricResult> MetricsCache::GetObjectMetric(const std::string& ns, const std::string& metric_name,
                                                         const k8s::CrossVersionObjectReference& object,
                                                         const k8s::Selector& metric_selector) {
  return source_.GetObjectMetric(ns, metric_name, object, metric_selector);
}

Result<ExternalMetricResult> MetricsCache::GetExternalMetric(const std::string& ns, const std::string& metric_name,
                                                             const k8s::Selector& metric_selector) {
  return source_.GetExternalMetric(ns, metric_name, metric_selector);
}

Result<std::vector<k8s::PodMetrics>> MetricsCache::ListResourceMetrics(const std::string& ns) {
  return *Lookup<k8s::PodMetrics>(resource_, ns, [&] { return source_.ListResourceMetrics(ns); });
}

Result<std::vector<k8s::CustomMetricValue>> MetricsCache::ListPodsMetric(const std::string& ns,
                                                                         const std::string& metric_name,
                                                                         const k8s::Selector& metric_selector) {
  const std::string key = PodsMetricKey(ns, metric_name, metric_selector);
  return *Lookup<k8s::CustomMetricValue>(pods_metrics_, key,
                                         [&] { return source_.ListPodsMetric(ns, metric_name, metric_selector); });
}

}  // namespace hpad::ctrl
