// MetricsStore: the values the simulated metrics APIs serve -
// metrics.k8s.io PodMetrics, custom.metrics.k8s.io MetricValues and
// external.metrics.k8s.io ExternalMetricValues. They are not API objects
// (no resourceVersion, no watch): a put replaces, a delete removes.
// Values are immutable and shared, kept by namespace so a namespace's list
// costs O(log n + the namespace).
//
// Ownership and threads: all methods are thread-safe. mu_ guards
// pod_metrics_, metric_values_, metric_values_by_ns_ and external_values_.
// The pod lookup (PodMetrics written without labels are selected by their
// pod's labels) is called without mu_ held.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "k8sclient/base/status.h"

namespace hpad::sim {

using Json = nlohmann::json;

class MetricsStore {
 public:
  // The stored Pod `ns/name` (null when absent).
  using PodLookup = std::function<std::shared_ptr<const Json>(const std::string& ns, const std::string& name)>;

  explicit MetricsStore(PodLookup pod_lookup);
  MetricsStore(const MetricsStore&) = delete;
  MetricsStore& operator=(const MetricsStore&) = delete;

  // metrics.k8s.io/v1beta1 PodMetrics keyed by metadata.namespace/name; served as written.
  Status PutPodMetrics(const Json& pod_metrics);
  bool DeletePodMetrics(const std::string& ns, const std::string& name);
  std::optional<Json> GetPodMetrics(const std::string& ns, const std::string& name) const;
  // ns "" = all; label selector matched against the PodMetrics' own metadata.labels, or,
  // when it has none, against the labels of the same-named Pod (as metrics-server labels them).
  // Sorted by namespace/name; costs O(log n + the namespace).
  Result<std::vector<Json>> ListPodMetrics(const std::string& ns, const std::string& label_selector) const;
  // The same, shared with the store (no copies).
  Result<std::vector<std::shared_ptr<const Json>>> ListPodMetricsShared(const std::string& ns,
                                                                        const std::string& label_selector) const;
  // The same, each item serialized (dump()); the text is kept with the
  // stored PodMetrics until it is replaced, so unchanged items are
  // serialized once however often they are listed.
  Result<std::vector<std::shared_ptr<const std::string>>> ListPodMetricsSerialized(
      const std::string& ns, const std::string& label_selector) const;

  // custom.metrics.k8s.io/v1beta2 MetricValue; identity = describedObject
  // (kind, namespace, name) + metric.name (+ metric.selector when given).
  Status PutMetricValue(const Json& metric_value);
  bool DeleteMetricValue(const Json& identity);
  // Every value, by identity.
  std::vector<Json> ListMetricValues() const;
  // The values whose describedObject.namespace is `ns` ("" = every value),
  // by identity, shared with the store; costs O(log n + the namespace).
  std::vector<std::shared_ptr<const Json>> ListMetricValuesShared(const std::string& ns) const;

  // external.metrics.k8s.io/v1beta1 ExternalMetricValue; identity =
  // metadata.namespace + metadata.name (served without metadata).
  Status PutExternalMetricValue(const Json& value);
  bool DeleteExternalMetricValue(const std::string& ns, const std::string& name);
  std::optional<Json> GetExternalMetricValue(const std::string& ns, const std::string& name) const;
  // Values in `ns` with this metricName (case-insensitive) whose
  // metricLabels match the selector; costs O(log n + the namespace).
  Result<std::vector<Json>> ListExternalMetricValues(const std::string& ns, const std::string& metric_name,
                                                     const std::string& label_selector) const;

 private:
  struct PodMetricsEntry {
    std::shared_ptr<const Json> obj;
    // obj serialized, filled by the first list that serves it (a put
    // replaces the entry): PodMetrics lists are the most frequent request.
    std::shared_ptr<const std::string> text;
  };
  // The PodMetrics ListPodMetrics selects, with their keys (takes mu_ itself).
  Result<std::vector<std::pair<std::string, PodMetricsEntry>>> Select(const std::string& ns,
                                                                      const std::string& label_selector) const;

  const PodLookup pod_lookup_;
  mutable std::mutex mu_;
  // Keys sorted so a namespace is one range; all guarded by mu_.
  mutable std::map<std::string, PodMetricsEntry> pod_metrics_;  // "ns/name" (text filled lazily)
  std::map<std::string, std::shared_ptr<const Json>> metric_values_;  // identity
  // describedObject.namespace -> identity -> value (the same values).
  std::map<std::string, std::map<std::string, std::shared_ptr<const Json>>> metric_values_by_ns_;
  std::map<std::string, std::shared_ptr<const Json>> external_values_;  // "ns/name"
};

}  // namespace hpad::sim
