// RestMetricsClient: metrics.k8s.io/v1beta1, custom.metrics.k8s.io/v1beta2,
// external.metrics.k8s.io/v1beta1 over ApiClient::GetPathRaw and the
// streaming decoders (rules M1-M7).
#include "controller/metrics_client.h"

#include <cctype>
#include <string_view>

#include "k8sclient/api/types/metrics.h"
#include "k8sclient/api/types/pod_metrics_table.h"

namespace hpad::ctrl {
namespace {

constexpr std::chrono::seconds kDefaultMetricWindow{60};  // M4

std::string Query(const std::vector<std::pair<std::string, std::string>>& params) {
  std::string q;
  for (const auto& [k, v] : params) {
    if (v.empty()) continue;
    q += q.empty() ? "?" : "&";
    q += k + "=" + k8s::UrlEncode(v);
  }
  return q;
}

// M7: "nothing" and "everything" both render as "" and send no selector.
std::string SelectorParam(const k8s::Selector& s) { return s.IsNothing() ? "" : s.ToString(); }

Status Wrap(const std::string& prefix, const Status& s) {
  return Status(s.code(), prefix + s.message(), s.reason(), s.http_code());
}

}  // namespace

ResourceNameResolver MapperResourceResolver(std::weak_ptr<k8s::RestMapper> mapper) {
  return [mapper](const std::string& group, const std::string& kind) -> Result<std::string> {
    const std::string group_kind = group.empty() ? kind : kind + "." + group;  // GroupKind.String()
    auto m = mapper.lock();
    if (!m) return Status(StatusCode::kInternal, "unable to map kind " + group_kind + " to resource: no REST mapper");
    auto mappings = m->RestMappings(group, kind);
    if (!mappings.ok()) {
      return Status(mappings.status().code(),
                    "unable to map kind " + group_kind + " to resource: " + mappings.status().message());
    }
    if (mappings->empty()) {
      return Status(StatusCode::kNotFound, "unable to map kind " + group_kind + " to resource: no matches for kind \"" +
                                               kind + "\" in group \"" + group + "\"");
    }
    const k8s::GroupVersionResource& gvr = mappings->front().gvr;
    return gvr.group.empty() ? gvr.resource : gvr.resource + "." + gvr.group;  // GroupResource.String()
  };
}

RestMetricsClient::RestMetricsClient(std::shared_ptr<k8s::ApiClient> client, ResourceNameResolver resolver)
    : RestMetricsClient(client, client, client, std::move(resolver)) {}

RestMetricsClient::RestMetricsClient(std::shared_ptr<k8s::ApiClient> resource, std::shared_ptr<k8s::ApiClient> custom,
                                     std::shared_ptr<k8s::ApiClient> external, ResourceNameResolver resolver)
    : resource_client_(std::move(resource)),
      custom_client_(custom ? std::move(custom) : resource_client_),
      external_client_(external ? std::move(external) : resource_client_),
      resolver_(std::move(resolver)) {
  HPAD_CHECK(resource_client_ != nullptr);
}

std::string RestMetricsClient::ResourceMetricsPath(const std::string& ns, const k8s::Selector& selector) {
  return "/apis/metrics.k8s.io/v1beta1/namespaces/" + ns + "/pods" + Query({{"labelSelector", SelectorParam(selector)}});
}

std::string RestMetricsClient::PodsCustomMetricPath(const std::string& ns, const std::string& metric,
                                                    const k8s::Selector& selector,
                                                    const k8s::Selector& metric_selector) {
  return "/apis/custom.metrics.k8s.io/v1beta2/namespaces/" + ns + "/pods/*/" + metric +
         Query({{"labelSelector", SelectorParam(selector)}, {"metricLabelSelector", SelectorParam(metric_selector)}});
}

std::string RestMetricsClient::ObjectCustomMetricPath(const std::string& ns, const std::string& resource,
                                                      const std::string& name, const std::string& metric,
                                                      const k8s::Selector& metric_selector) {
  return "/apis/custom.metrics.k8s.io/v1beta2/namespaces/" + ns + "/" + resource + "/" + name + "/" + metric +
         Query({{"metricLabelSelector", SelectorParam(metric_selector)}});
}

std::string RestMetricsClient::NamespaceCustomMetricPath(const std::string& ns, const std::string& metric,
                                                         const k8s::Selector& metric_selector) {
  return "/apis/custom.metrics.k8s.io/v1beta2/namespaces/" + ns + "/metrics/" + metric +
         Query({{"metricLabelSelector", SelectorParam(metric_selector)}});
}

std::string RestMetricsClient::ExternalMetricPath(const std::string& ns, const std::string& metric,
                                                  const k8s::Selector& metric_selector) {
  return "/apis/external.metrics.k8s.io/v1beta1/namespaces/" + ns + "/" + metric +
         Query({{"labelSelector", SelectorParam(metric_selector)}});
}

std::optional<PodMetric> PodMetricValue(const k8s::PodMetrics& m, const std::string& resource,
                                        const std::string& container) {
  if (!container.empty()) {
    // M2 container form: only the named container; absent container or resource -> no value.
    for (const auto& c : m.containers) {
      if (c.name != container) continue;
      auto it = c.usage_milli.find(resource);
      if (it != c.usage_milli.end()) return PodMetric{it->second, m.timestamp, m.window};
      return std::nullopt;
    }
    return std::nullopt;
  }
  // M2 whole pod: every container must report the resource.
  if (m.containers.empty()) return std::nullopt;
  int64_t sum = 0;
  for (const auto& c : m.containers) {
    auto it = c.usage_milli.find(resource);
    if (it == c.usage_milli.end()) return std::nullopt;
    sum = AddUsageSaturating(sum, it->second);
  }
  return PodMetric{sum, m.timestamp, m.window};
}

PodMetricsInfo PodMetricsFromList(const std::vector<k8s::PodMetrics>& items, const std::string& resource,
                                  const std::string& container) {
  PodMetricsInfo res;
  for (const auto& m : items)
    if (auto v = PodMetricValue(m, resource, container)) res[m.name] = *v;
  return res;
}

Result<PodMetricsResult> ResourceMetricResultFrom(const std::vector<const k8s::PodMetrics*>& items,
                                                  const std::string& resource, const std::string& container) {
  if (items.empty()) return Status(StatusCode::kNotFound, kNoResourceMetrics);
  PodMetricsResult out;
  // A later item of the same name wins, as in PodMetricsFromList.
  for (const k8s::PodMetrics* m : items)
    if (auto v = PodMetricValue(*m, resource, container)) out.metrics[m->name] = *v;
  out.timestamp = items.front()->timestamp;  // M3
  return out;
}

Result<PodMetricsResult> PodsMetricResultFrom(const std::vector<const k8s::CustomMetricValue*>& items) {
  if (items.empty()) return Status(StatusCode::kNotFound, "no metrics returned from custom metrics API");
  PodMetricsResult out;
  for (const k8s::CustomMetricValue* m : items) {
    std::chrono::milliseconds window = kDefaultMetricWindow;
    if (m->window_seconds) window = std::chrono::seconds(*m->window_seconds);
    out.metrics[m->described_object.name] = PodMetric{m->value_milli, m->timestamp, window};
  }
  out.timestamp = items.front()->timestamp;
  return out;
}

namespace {

template <typename T>
std::vector<const T*> Pointers(const std::vector<T>& items) {
  std::vector<const T*> out;
  out.reserve(items.size());
  for (const auto& i : items) out.push_back(&i);
  return out;
}

// Issue 16: reply bodies are decoded by the streaming decoders
// (k8s::*FromText), which give what GetPath + the DOM decoders gave, errors
// included: an unparsable body is kInternal, as RestApiClient::GetPath
// reports it; an empty body reads as JSON null, as GetPath returns it.
std::string_view BodyText(const std::string& body) { return body.empty() ? std::string_view("null") : body; }

template <typename Decode>
auto DecodeBody(const std::string& body, const std::string& path, Decode decode) -> decltype(decode("", "", nullptr)) {
  bool text_error = false;
  auto r = decode(BodyText(body), k8s::ReplyName("GET", path), &text_error);
  if (!r.ok() && text_error) return InternalError(r.status().message());
  return r;
}

Result<std::vector<k8s::PodMetrics>> FetchPodMetrics(k8s::ApiClient& client, const std::string& path) {
  auto body = client.GetPathRaw(path);
  if (!body.ok()) return Wrap("unable to fetch metrics from resource metrics API: ", body.status());
  auto items = DecodeBody(*body, path, [](std::string_view t, std::string_view w, bool* e) {
    return k8s::PodMetricsListFromText(t, w, e);
  });
  if (!items.ok()) return Wrap("unable to fetch metrics from resource metrics API: ", items.status());
  return items;
}

// FetchPodMetrics into a table (issue 16: no k8s::PodMetrics in between).
Result<k8s::PodMetricsTable> FetchPodMetricsTable(k8s::ApiClient& client, const std::string& path) {
  auto body = client.GetPathRaw(path);
  if (!body.ok()) return Wrap("unable to fetch metrics from resource metrics API: ", body.status());
  auto table = DecodeBody(*body, path, [](std::string_view t, std::string_view w, bool* e) {
    return k8s::PodMetricsTableFromText(t, w, e);
  });
  if (!table.ok()) return Wrap("unable to fetch metrics from resource metrics API: ", table.status());
  return table;
}

Result<std::vector<k8s::CustomMetricValue>> FetchMetricValues(k8s::ApiClient& client, const std::string& path) {
  auto body = client.GetPathRaw(path);
  if (!body.ok()) return Wrap("unable to fetch metrics from custom metrics API: ", body.status());
  auto items = DecodeBody(*body, path, [](std::string_view t, std::string_view w, bool* e) {
    return k8s::MetricValueListFromText(t, w, e);
  });
  if (!items.ok()) return Wrap("unable to fetch metrics from custom metrics API: ", items.status());
  return items;
}

}  // namespace

Result<k8s::PodMetricsTable> MetricsClient::ListResourceMetricsTable(const std::string& ns) {
  auto items = ListResourceMetrics(ns);
  if (!items.ok()) return items.status();
  auto table = k8s::PodMetricsTable::FromPodMetrics(*items);
  if (!table.ok()) return Wrap("unable to fetch metrics from resource metrics API: ", table.status());
  return table;
}

Result<PodMetricsResult> RestMetricsClient::GetResourceMetric(const std::string& ns, const std::string& resource,
                                                              const k8s::Selector& selector,
                                                              const std::string& container) {
  auto items = FetchPodMetrics(*resource_client_, ResourceMetricsPath(ns, selector));
  if (!items.ok()) return items.status();
  return ResourceMetricResultFrom(Pointers(*items), resource, container);
}

Result<PodMetricsResult> RestMetricsClient::GetRawMetric(const std::string& ns, const std::string& metric_name,
                                                         const k8s::Selector& selector,
                                                         const k8s::Selector& metric_selector) {
  auto items = FetchMetricValues(*custom_client_, PodsCustomMetricPath(ns, metric_name, selector, metric_selector));
  if (!items.ok()) return items.status();
  return PodsMetricResultFrom(Pointers(*items));
}

Result<std::vector<k8s::PodMetrics>> RestMetricsClient::ListResourceMetrics(const std::string& ns) {
  // Selector "everything" renders as "": no labelSelector parameter.
  return FetchPodMetrics(*resource_client_, ResourceMetricsPath(ns, k8s::Selector()));
}

Result<k8s::PodMetricsTable> RestMetricsClient::ListResourceMetricsTable(const std::string& ns) {
  return FetchPodMetricsTable(*resource_client_, ResourceMetricsPath(ns, k8s::Selector()));
}

Result<std::vector<k8s::CustomMetricValue>> RestMetricsClient::ListPodsMetric(const std::string& ns,
                                                                              const std::string& metric_name,
                                                                              const k8s::Selector& metric_selector) {
  return FetchMetricValues(*custom_client_, PodsCustomMetricPath(ns, metric_name, k8s::Selector(), metric_selector));
}

Result<ObjectMetricResult> RestMetricsClient::GetObjectMetric(const std::string& ns, const std::string& metric_name,
                                                              const k8s::CrossVersionObjectReference& object,
                                                              const k8s::Selector& metric_selector) {
  std::string group;
  auto slash = object.api_version.find('/');
  if (slash != std::string::npos) group = object.api_version.substr(0, slash);
  std::string path;
  if (object.kind == "Namespace" && group.empty()) {
    // M5: a Namespace of the core group (any version spelling) uses the
    // root-scoped form, named by the HPA's namespace (upstream: RootScopedMetrics).
    path = NamespaceCustomMetricPath(ns, metric_name, metric_selector);
  } else {
    // Upstream asks for the group-qualified resource of the REST mapping
    // ("deployments.apps") and fails for a kind it cannot map.
    if (!resolver_) {
      const std::string group_kind = group.empty() ? object.kind : object.kind + "." + group;
      return Status(StatusCode::kInternal, "unable to fetch metrics from custom metrics API: unable to map kind " +
                                               group_kind + " to resource: no REST mapper");
    }
    auto r = resolver_(group, object.kind);
    if (!r.ok()) return Wrap("unable to fetch metrics from custom metrics API: ", r.status());
    path = ObjectCustomMetricPath(ns, *r, object.name, metric_name, metric_selector);
  }
  auto body = custom_client_->GetPathRaw(path);
  if (!body.ok()) return Wrap("unable to fetch metrics from custom metrics API: ", body.status());
  bool text_error = false;
  const std::string what = k8s::ReplyName("GET", path);
  Result<std::vector<k8s::CustomMetricValue>> items = k8s::MetricValueListFromText(BodyText(*body), what, &text_error);
  if (!items.ok() && text_error) {
    return Wrap("unable to fetch metrics from custom metrics API: ", InternalError(items.status().message()));
  }
  if (!items.ok()) {
    // A single MetricValue (not a list) is accepted too.
    items = k8s::MetricValueAsListFromText(BodyText(*body), what);
    if (!items.ok()) return Wrap("unable to fetch metrics from custom metrics API: ", items.status());
  }
  if (items->size() != 1) {
    return Status(StatusCode::kInternal,
                  "unable to fetch metrics from custom metrics API: the custom metrics API server returned " +
                      std::to_string(items->size()) + " results when we asked for exactly one");
  }
  return ObjectMetricResult{items->front().value_milli, items->front().timestamp};
}

Result<ExternalMetricResult> RestMetricsClient::GetExternalMetric(const std::string& ns,
                                                                  const std::string& metric_name,
                                                                  const k8s::Selector& metric_selector) {
  const std::string path = ExternalMetricPath(ns, metric_name, metric_selector);
  auto body = external_client_->GetPathRaw(path);
  if (!body.ok()) return Wrap("unable to fetch metrics from external metrics API: ", body.status());
  auto items = DecodeBody(*body, path, [](std::string_view t, std::string_view w, bool* e) {
    return k8s::ExternalMetricValueListFromText(t, w, e);
  });
  if (!items.ok()) return Wrap("unable to fetch metrics from external metrics API: ", items.status());
  if (items->empty()) return Status(StatusCode::kNotFound, "no metrics returned from external metrics API");
  ExternalMetricResult out;
  for (const auto& v : *items) out.values.push_back(v.value_milli);
  out.timestamp = items->front().timestamp;
  return out;
}

}  // namespace hpad::ctrl
