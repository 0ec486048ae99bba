// MetricsClient: the seam between the controller and the three metrics APIs
// (hpa-semantics.md section 7, rules M1-M7).
//
// Values come back as milli-int64 (1.7). Error messages are upstream's
// metrics-client texts ("unable to fetch metrics from resource metrics API:
// <e>", "no metrics returned from ..."), which the reconciler wraps into the
// X4a chains. RestMetricsClient implements it over k8s::ApiClient::GetPath
// with the paths the aggregated APIs serve (bodies read with GetPathRaw and
// decoded by the streaming decoders, issue 16); tests use a recording fake.
// MetricsCache (metrics_cache.h) implements it too, on top of another
// MetricsClient's namespace-wide lists (ListResourceMetrics/ListPodsMetric).
// Implementations must be thread-safe (workers call them concurrently).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "controller/core/replica_calculator.h"
#include "k8sclient/api_client.h"
#include "k8sclient/discovery.h"
#include "k8sclient/api/label_selector.h"
#include "k8sclient/base/status.h"
#include "k8sclient/api/types/hpa.h"
#include "k8sclient/api/types/metrics.h"
#include "k8sclient/api/types/pod_metrics_table.h"

namespace hpad::ctrl {

struct PodMetricsResult {
  PodMetricsInfo metrics;
  Time timestamp{};  // M3: the first item's
};

struct ObjectMetricResult {
  int64_t value = 0;
  Time timestamp{};
};

struct ExternalMetricResult {
  std::vector<int64_t> values;  // one per series; summed by SumExternalValues (M6)
  Time timestamp{};
};

class MetricsClient {
 public:
  virtual ~MetricsClient() = default;
  // M1/M2. `container` "" = whole pod (sum over containers).
  virtual Result<PodMetricsResult> GetResourceMetric(const std::string& ns, const std::string& resource,
                                                     const k8s::Selector& selector, const std::string& container) = 0;
  // M4: pods custom metric with a metric selector (M7).
  virtual Result<PodMetricsResult> GetRawMetric(const std::string& ns, const std::string& metric_name,
                                                const k8s::Selector& selector,
                                                const k8s::Selector& metric_selector) = 0;
  // M5.
  virtual Result<ObjectMetricResult> GetObjectMetric(const std::string& ns, const std::string& metric_name,
                                                     const k8s::CrossVersionObjectReference& object,
                                                     const k8s::Selector& metric_selector) = 0;
  // M6 (values not yet summed).
  virtual Result<ExternalMetricResult> GetExternalMetric(const std::string& ns, const std::string& metric_name,
                                                         const k8s::Selector& metric_selector) = 0;

  // Namespace-wide lists for MetricsCache (issue 5): the same requests as
  // M1/M4 without a label selector, every item as served, in server order.
  // Errors carry the same prefixes as GetResourceMetric/GetRawMetric
  // ("unable to fetch metrics from resource|custom metrics API: <e>"); an
  // empty list is not an error here (the caller filters first).
  virtual Result<std::vector<k8s::PodMetrics>> ListResourceMetrics(const std::string& ns) = 0;
  // The same list as a flat table (issue 16: what MetricsCache keeps). The
  // default converts ListResourceMetrics' items (fakes and the simulator's
  // clients keep working); RestMetricsClient decodes the reply straight
  // into the table. Same items, same errors; a list too large for the
  // table's 32-bit positions is kInternal "unable to fetch metrics from
  // resource metrics API: the list is too large to cache".
  virtual Result<k8s::PodMetricsTable> ListResourceMetricsTable(const std::string& ns);
  virtual Result<std::vector<k8s::CustomMetricValue>> ListPodsMetric(const std::string& ns,
                                                                     const std::string& metric_name,
                                                                     const k8s::Selector& metric_selector) = 0;
};

// Maps (group, kind) to the group-qualified resource of object metric paths,
// as upstream's custom metrics client does from the REST mapping
// (GroupResource.String(): "apps", "Deployment" -> "deployments.apps";
// "", "Service" -> "services"). An unknown kind is an error
// "unable to map kind <Kind.group> to resource: ...".
using ResourceNameResolver = std::function<Result<std::string>(const std::string& group, const std::string& kind)>;

// The resolver over a REST mapper (borrowed weakly: a mapper gone is an error).
ResourceNameResolver MapperResourceResolver(std::weak_ptr<k8s::RestMapper> mapper);


class RestMetricsClient : public MetricsClient {
 public:
  // `resolver` may be empty only where no Object metric is read: an Object
  // metric then fails with "unable to map kind ...".
  RestMetricsClient(std::shared_ptr<k8s::ApiClient> client, ResourceNameResolver resolver = {});
  // One client per metrics API, each with its own rate limit as in
  // kube-controller-manager (resource, custom and external metrics clients
  // made by their own NewForConfig; see ControllerClients in wiring.h).
  // A null client falls back to `resource`, which must be set.
  RestMetricsClient(std::shared_ptr<k8s::ApiClient> resource, std::shared_ptr<k8s::ApiClient> custom,
                    std::shared_ptr<k8s::ApiClient> external, ResourceNameResolver resolver = {});

  Result<PodMetricsResult> GetResourceMetric(const std::string& ns, const std::string& resource,
                                             const k8s::Selector& selector, const std::string& container) override;
  Result<PodMetricsResult> GetRawMetric(const std::string& ns, const std::string& metric_name,
                                        const k8s::Selector& selector, const k8s::Selector& metric_selector) override;
  Result<ObjectMetricResult> GetObjectMetric(const std::string& ns, const std::string& metric_name,
                                             const k8s::CrossVersionObjectReference& object,
                                             const k8s::Selector& metric_selector) override;
  Result<ExternalMetricResult> GetExternalMetric(const std::string& ns, const std::string& metric_name,
                                                 const k8s::Selector& metric_selector) override;
  Result<std::vector<k8s::PodMetrics>> ListResourceMetrics(const std::string& ns) override;
  Result<k8s::PodMetricsTable> ListResourceMetricsTable(const std::string& ns) override;
  Result<std::vector<k8s::CustomMetricValue>> ListPodsMetric(const std::string& ns, const std::string& metric_name,
                                                             const k8s::Selector& metric_selector) override;

  // Paths, exposed for tests.
  static std::string ResourceMetricsPath(const std::string& ns, const k8s::Selector& selector);
  static std::string PodsCustomMetricPath(const std::string& ns, const std::string& metric,
                                          const k8s::Selector& selector, const k8s::Selector& metric_selector);
  static std::string ObjectCustomMetricPath(const std::string& ns, const std::string& resource,
                                            const std::string& name, const std::string& metric,
                                            const k8s::Selector& metric_selector);
  static std::string NamespaceCustomMetricPath(const std::string& ns, const std::string& metric,
                                               const k8s::Selector& metric_selector);
  static std::string ExternalMetricPath(const std::string& ns, const std::string& metric,
                                        const k8s::Selector& metric_selector);

 private:
  std::shared_ptr<k8s::ApiClient> resource_client_;  // metrics.k8s.io
  std::shared_ptr<k8s::ApiClient> custom_client_;    // custom.metrics.k8s.io
  std::shared_ptr<k8s::ApiClient> external_client_;  // external.metrics.k8s.io
  ResourceNameResolver resolver_;
};

// M1: the error of a resource metrics request that selects nothing.
inline constexpr char kNoResourceMetrics[] = "no metrics returned from resource metrics API";

// M2 whole-pod sum of container usages, saturating at the int64 ends (a
// hostile usage near the limit must not overflow): shared by PodMetricValue
// and MetricsCache's compact lists so both give the same value.
inline int64_t AddUsageSaturating(int64_t a, int64_t b) {
  int64_t sum = 0;
  if (__builtin_add_overflow(a, b, &sum)) return b > 0 ? INT64_MAX : INT64_MIN;
  return sum;
}

// Pure conversion of a PodMetrics list (M2) for tests and the client.
PodMetricsInfo PodMetricsFromList(const std::vector<k8s::PodMetrics>& items, const std::string& resource,
                                  const std::string& container);

// M2: one pod's value (whole pod or one container); nullopt = no value.
std::optional<PodMetric> PodMetricValue(const k8s::PodMetrics& m, const std::string& resource,
                                        const std::string& container);

// M1-M3 after the fetch: the values of `items` (the selected ones, in server
// order), timestamp of the first; none is the M1 "no metrics returned" error.
// Shared by RestMetricsClient and MetricsCache so both give the same answer.
Result<PodMetricsResult> ResourceMetricResultFrom(const std::vector<const k8s::PodMetrics*>& items,
                                                  const std::string& resource, const std::string& container);
// M4 after the fetch: one value per item keyed by describedObject.name,
// window windowSeconds or 60 s; none is the "no metrics returned" error.
Result<PodMetricsResult> PodsMetricResultFrom(const std::vector<const k8s::CustomMetricValue*>& items);

}  // namespace hpad::ctrl
