// The metrics APIs' values (see metrics_store.h).
#include "sim/apiserver/metrics_store.h"

#include <algorithm>

#include "k8sclient/api/label_selector.h"
#include "sim/apiserver/object_filter.h"
#include "sim/apiserver/store_util.h"

namespace hpad::sim {

namespace {

// Kinds a MetricValue may describe that have no namespace.
bool ClusterScopedDescribedKind(const std::string& kind) { return kind == "Namespace" || kind == "Node"; }

// describedObject.namespace as the identity uses it: a namespaced object
// written without one is in "default", as `objects` are.
std::string DescribedNamespace(const Json& mv) {
  std::string kind = StrAt(mv, {"describedObject", "kind"});
  std::string ns = StrAt(mv, {"describedObject", "namespace"});
  if (ns.empty() && !ClusterScopedDescribedKind(kind)) ns = "default";
  return ns;
}

std::string MetricValueIdentity(const Json& mv) {
  // The selector in its canonical string form, so {matchLabels: {a: b}} and
  // {matchExpressions: [{key: a, operator: In, values: [b]}]} are one series.
  const Json* sel = JsonPathFind(mv, "metric.selector");
  std::string s;
  if (sel != nullptr && !sel->is_null()) {
    auto parsed = k8s::Selector::FromJson(*sel);
    s = parsed.ok() ? parsed->ToString() : sel->dump();
  }
  return StrAt(mv, {"describedObject", "kind"}) + "|" + DescribedNamespace(mv) + "|" +
         StrAt(mv, {"describedObject", "name"}) + "|" + StrAt(mv, {"metric", "name"}) + "|" + s;
}

}  // namespace

MetricsStore::MetricsStore(PodLookup pod_lookup) : pod_lookup_(std::move(pod_lookup)) {}

Status MetricsStore::PutPodMetrics(const Json& pm) {
  std::string name = StrAt(pm, {"metadata", "name"});
  if (name.empty()) return Invalid("PodMetrics: metadata.name is required");
  std::string ns = StrAt(pm, {"metadata", "namespace"});
  if (ns.empty()) ns = "default";
  Json copy = pm;
  copy["apiVersion"] = "metrics.k8s.io/v1beta1";
  copy["kind"] = "PodMetrics";
  copy["metadata"]["namespace"] = ns;
  auto stored = std::make_shared<const Json>(std::move(copy));
  std::lock_guard<std::mutex> l(mu_);
  pod_metrics_[ObjKey(ns, name)] = PodMetricsEntry{std::move(stored), nullptr};
  return Status::Ok();
}

bool MetricsStore::DeletePodMetrics(const std::string& ns, const std::string& name) {
  std::lock_guard<std::mutex> l(mu_);
  return pod_metrics_.erase(ObjKey(ns, name)) > 0;
}

std::optional<Json> MetricsStore::GetPodMetrics(const std::string& ns, const std::string& name) const {
  std::lock_guard<std::mutex> l(mu_);
  auto it = pod_metrics_.find(ObjKey(ns, name));
  if (it == pod_metrics_.end()) return std::nullopt;
  return *it->second.obj;
}

Result<std::vector<std::pair<std::string, MetricsStore::PodMetricsEntry>>> MetricsStore::Select(
    const std::string& ns, const std::string& label_selector) const {
  auto filter = MakeFilter(label_selector, "");
  if (!filter.ok()) return filter.status();
  std::vector<std::pair<std::string, PodMetricsEntry>> out, unlabelled;
  {
    std::lock_guard<std::mutex> l(mu_);
    // The namespace is one key range: seek to it instead of walking every entry.
    const std::string prefix = ns.empty() ? "" : ns + "/";
    for (auto it = pod_metrics_.lower_bound(prefix); it != pod_metrics_.end() && HasPrefix(it->first, prefix); ++it) {
      const Json& pm = *it->second.obj;
      const Json* labels = JsonPathFind(pm, "metadata.labels");
      if (filter->labels.Empty() || (labels != nullptr && labels->is_object() && !labels->empty())) {
        if (filter->Matches(pm)) out.emplace_back(it->first, it->second);
      } else {
        unlabelled.emplace_back(it->first, it->second);
      }
    }
  }
  // metrics-server labels each PodMetrics with its pod's labels; a scenario's
  // PodMetrics written without labels is selected by its pod's labels (it is
  // still served as written).
  if (unlabelled.empty()) return out;  // already sorted by namespace/name (the map's order)
  for (auto& entry : unlabelled) {
    const Json& pm = *entry.second.obj;
    auto pod = pod_lookup_(StrAt(pm, {"metadata", "namespace"}), StrAt(pm, {"metadata", "name"}));
    if (pod != nullptr && filter->labels.Matches(LabelsOf(*pod))) out.push_back(std::move(entry));
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  return out;
}

Result<std::vector<std::shared_ptr<const Json>>> MetricsStore::ListPodMetricsShared(
    const std::string& ns, const std::string& label_selector) const {
  auto selected = Select(ns, label_selector);
  if (!selected.ok()) return selected.status();
  std::vector<std::shared_ptr<const Json>> out;
  out.reserve(selected->size());
  for (auto& [key, entry] : *selected) out.push_back(std::move(entry.obj));
  return out;
}

Result<std::vector<std::shared_ptr<const std::string>>> MetricsStore::ListPodMetricsSerialized(
    const std::string& ns, const std::string& label_selector) const {
  auto selected = Select(ns, label_selector);
  if (!selected.ok()) return selected.status();
  std::vector<std::shared_ptr<const std::string>> out;
  out.reserve(selected->size());
  // Serialized outside the lock; kept for later lists unless a put replaced the entry meanwhile.
  std::vector<std::pair<std::string, PodMetricsEntry>> fresh;
  for (auto& [key, entry] : *selected) {
    if (entry.text == nullptr) {
      entry.text = std::make_shared<const std::string>(entry.obj->dump());
      fresh.emplace_back(key, entry);
    }
    out.push_back(entry.text);
  }
  if (!fresh.empty()) {
    std::lock_guard<std::mutex> l(mu_);
    for (auto& [key, entry] : fresh) {
      auto it = pod_metrics_.find(key);
      if (it != pod_metrics_.end() && it->second.obj == entry.obj && it->second.text == nullptr)
        it->second.text = std::move(entry.text);
    }
  }
  return out;
}

Result<std::vector<Json>> MetricsStore::ListPodMetrics(const std::string& ns, const std::string& label_selector) const {
  auto shared = ListPodMetricsShared(ns, label_selector);
  if (!shared.ok()) return shared.status();
  std::vector<Json> out;
  out.reserve(shared->size());
  for (const auto& pm : *shared) out.push_back(*pm);
  return out;
}

Status MetricsStore::PutMetricValue(const Json& mv) {
  if (StrAt(mv, {"metric", "name"}).empty()) return Invalid("MetricValue: metric.name is required");
  if (StrAt(mv, {"describedObject", "kind"}).empty() || StrAt(mv, {"describedObject", "name"}).empty())
    return Invalid("MetricValue: describedObject.kind and describedObject.name are required");
  Json copy = mv;
  copy["apiVersion"] = "custom.metrics.k8s.io/v1beta2";
  copy["kind"] = "MetricValue";
  if (StrAt(copy, {"describedObject", "namespace"}).empty() && !DescribedNamespace(copy).empty())
    copy["describedObject"]["namespace"] = DescribedNamespace(copy);
  const std::string key = MetricValueIdentity(copy);
  const std::string ns = StrAt(copy, {"describedObject", "namespace"});
  auto stored = std::make_shared<const Json>(std::move(copy));
  std::lock_guard<std::mutex> l(mu_);
  metric_values_[key] = stored;
  metric_values_by_ns_[ns][key] = std::move(stored);
  return Status::Ok();
}

bool MetricsStore::DeleteMetricValue(const Json& identity) {
  std::lock_guard<std::mutex> l(mu_);
  auto it = metric_values_.find(MetricValueIdentity(identity));
  if (it == metric_values_.end()) return false;
  auto by_ns = metric_values_by_ns_.find(StrAt(*it->second, {"describedObject", "namespace"}));
  if (by_ns != metric_values_by_ns_.end()) {
    by_ns->second.erase(it->first);
    if (by_ns->second.empty()) metric_values_by_ns_.erase(by_ns);
  }
  metric_values_.erase(it);
  return true;
}

std::vector<Json> MetricsStore::ListMetricValues() const {
  std::lock_guard<std::mutex> l(mu_);
  std::vector<Json> out;
  out.reserve(metric_values_.size());
  for (const auto& [k, v] : metric_values_) out.push_back(*v);
  return out;
}

std::vector<std::shared_ptr<const Json>> MetricsStore::ListMetricValuesShared(const std::string& ns) const {
  std::lock_guard<std::mutex> l(mu_);
  std::vector<std::shared_ptr<const Json>> out;
  if (ns.empty()) {
    out.reserve(metric_values_.size());
    for (const auto& [k, v] : metric_values_) out.push_back(v);
    return out;
  }
  auto by_ns = metric_values_by_ns_.find(ns);
  if (by_ns == metric_values_by_ns_.end()) return out;
  out.reserve(by_ns->second.size());
  for (const auto& [k, v] : by_ns->second) out.push_back(v);
  return out;
}

Status MetricsStore::PutExternalMetricValue(const Json& value) {
  std::string name = StrAt(value, {"metadata", "name"});
  if (name.empty()) return Invalid("ExternalMetricValue: metadata.name is required");
  if (StrAt(value, {"metricName"}).empty()) return Invalid("ExternalMetricValue: metricName is required");
  std::string ns = StrAt(value, {"metadata", "namespace"});
  if (ns.empty()) ns = "default";
  Json copy = value;
  copy["apiVersion"] = "external.metrics.k8s.io/v1beta1";
  copy["kind"] = "ExternalMetricValue";
  copy["metadata"]["namespace"] = ns;
  auto stored = std::make_shared<const Json>(std::move(copy));
  std::lock_guard<std::mutex> l(mu_);
  external_values_[ObjKey(ns, name)] = std::move(stored);
  return Status::Ok();
}

bool MetricsStore::DeleteExternalMetricValue(const std::string& ns, const std::string& name) {
  std::lock_guard<std::mutex> l(mu_);
  return external_values_.erase(ObjKey(ns, name)) > 0;
}

std::optional<Json> MetricsStore::GetExternalMetricValue(const std::string& ns, const std::string& name) const {
  std::lock_guard<std::mutex> l(mu_);
  auto it = external_values_.find(ObjKey(ns.empty() ? "default" : ns, name));
  if (it == external_values_.end()) return std::nullopt;
  return *it->second;
}

Result<std::vector<Json>> MetricsStore::ListExternalMetricValues(const std::string& ns, const std::string& metric_name,
                                                                 const std::string& label_selector) const {
  k8s::Selector sel;
  if (!Trim(label_selector).empty()) {
    auto s = k8s::Selector::Parse(label_selector);
    if (!s.ok()) return BadRequest("unable to parse labelSelector: " + s.status().message());
    sel = *s;
  }
  // Metric names in URLs are lower-cased by some clients.
  const std::string want = AsciiLower(metric_name);
  std::vector<Json> out;
  std::lock_guard<std::mutex> l(mu_);
  const std::string prefix = ns + "/";
  for (auto it = external_values_.lower_bound(prefix); it != external_values_.end() && HasPrefix(it->first, prefix);
       ++it) {
    const Json& v = *it->second;
    auto name = v.find("metricName");
    if (name == v.end() || !name->is_string() || AsciiLower(name->get<std::string>()) != want) continue;
    k8s::Labels labels;
    auto ml = v.find("metricLabels");
    if (ml != v.end() && ml->is_object())
      for (auto l_it = ml->begin(); l_it != ml->end(); ++l_it)
        if (l_it.value().is_string()) labels[l_it.key()] = l_it.value().get<std::string>();
    if (sel.Matches(labels)) out.push_back(v);
  }
  return out;
}

}  // namespace hpad::sim
