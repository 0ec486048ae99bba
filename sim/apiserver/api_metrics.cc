// The three metrics APIs over ClusterState's metrics storage:
// metrics.k8s.io/v1beta1 (PodMetrics), custom.metrics.k8s.io/v1beta2
// (MetricValueList for pods, objects and namespaces) and
// external.metrics.k8s.io/v1beta1 (ExternalMetricValueList). Values are
// served as written (timestamp/window included); a missing timestamp is
// filled with the ClusterState clock's now.
#include <map>

#include "k8sclient/api/label_selector.h"
#include "k8sclient/api/time_format.h"
#include "sim/apiserver/api_internal.h"
#include "sim/apiserver/store_util.h"
#include "k8sclient/api/json_lenient.h"

namespace hpad::sim::api {
using k8s::StringOr;

namespace {

std::string Param(const Query& q, const std::string& k) {
  auto it = q.find(k);
  return it == q.end() ? "" : it->second;
}

Status NotFoundMsg(const std::string& m) { return Status(StatusCode::kNotFound, m, "NotFound", 404); }

std::string StrAt(const Json& j, const std::string& path) {
  const Json* v = JsonPathFind(j, path);
  return v != nullptr && v->is_string() ? v->get<std::string>() : "";
}

// "pods", "deployments.apps" vs a describedObject kind.
// apimachinery's meta.UnsafeGuessKindToResource: the plural a client derives
// for a kind the server has no discovery for (Ingress -> ingresses).
std::string GuessPluralResource(const std::string& kind) {
  std::string s = AsciiLower(kind);
  if (s.empty()) return s;
  auto ends = [&](const std::string& suffix) {
    return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
  };
  if (ends("endpoints")) return s;
  if (ends("s") || ends("x") || ends("z") || ends("ch") || ends("sh")) return s + "es";
  if (ends("y") && s.size() > 1 && std::string("aeiou").find(s[s.size() - 2]) == std::string::npos) {
    return s.substr(0, s.size() - 1) + "ies";
  }
  return s + "s";
}

bool KindMatchesResource(const ClusterState& state, const std::string& kind, const std::string& resource) {
  std::string plural = resource.substr(0, resource.find('.'));
  if (GuessPluralResource(kind) == plural || AsciiLower(kind) + "s" == plural || AsciiLower(kind) == plural) return true;
  auto info = state.FindByKindAnyVersion(kind);
  return info && info->gvr.resource == plural;
}

Json WithTimestamp(const ClusterState& state, Json v) {
  if (!v.contains("timestamp") || v["timestamp"].is_null()) v["timestamp"] = k8s::FormatRfc3339(state.clock().Now());
  return v;
}

Result<Json> ResourceMetrics(const ClusterState& state, const std::vector<std::string>& seg, const Query& q) {
  auto list = [&](const std::string& ns) -> Result<Json> {
    auto items = state.ListPodMetricsShared(ns, Param(q, "labelSelector"));
    if (!items.ok()) return items.status();
    Json arr = Json::array();
    arr.get_ref<Json::array_t&>().reserve(items->size());
    for (const auto& pm : *items) arr.push_back(*pm);
    return Json{{"kind", "PodMetricsList"}, {"apiVersion", "metrics.k8s.io/v1beta1"}, {"metadata", Json::object()},
                {"items", arr}};
  };
  if (seg.size() == 1 && seg[0] == "pods") return list("");
  if (seg.size() == 1 && seg[0] == "nodes")
    return Json{{"kind", "NodeMetricsList"}, {"apiVersion", "metrics.k8s.io/v1beta1"}, {"metadata", Json::object()},
                {"items", Json::array()}};
  if (seg.size() == 3 && seg[0] == "namespaces" && seg[2] == "pods") return list(seg[1]);
  if (seg.size() == 4 && seg[0] == "namespaces" && seg[2] == "pods") {
    auto pm = state.GetPodMetrics(seg[1], seg[3]);
    if (!pm) return NotFoundMsg("podmetrics.metrics.k8s.io \"" + seg[3] + "\" not found");
    return *pm;
  }
  if (seg.size() == 2 && seg[0] == "nodes") return NotFoundMsg("nodemetrics.metrics.k8s.io \"" + seg[1] + "\" not found");
  return NotFoundMsg("the server could not find the requested resource");
}

Result<Json> CustomMetrics(const ClusterState& state, const std::vector<std::string>& seg, const Query& q) {
  std::string ns, resource, name, metric;
  if (seg.size() == 4 && seg[0] == "namespaces" && seg[2] == "metrics") {
    // Metrics describing the namespace itself.
    resource = "namespaces";
    name = seg[1];
    metric = seg[3];
  } else if (seg.size() == 5 && seg[0] == "namespaces") {
    ns = seg[1];
    resource = seg[2];
    name = seg[3];
    metric = seg[4];
  } else if (seg.size() == 3) {
    resource = seg[0];
    name = seg[1];
    metric = seg[2];
  } else {
    return NotFoundMsg("the server could not find the requested resource");
  }
  k8s::Selector labels;
  if (!Trim(Param(q, "labelSelector")).empty()) {
    auto s = k8s::Selector::Parse(Param(q, "labelSelector"));
    if (!s.ok()) return Status(StatusCode::kInvalid, s.status().message(), "BadRequest", 400);
    labels = *s;
  }
  std::optional<std::string> metric_selector;
  if (!Trim(Param(q, "metricLabelSelector")).empty()) {
    auto s = k8s::Selector::Parse(Param(q, "metricLabelSelector"));
    if (!s.ok()) return Status(StatusCode::kInvalid, s.status().message(), "BadRequest", 400);
    metric_selector = s->ToString();
  }
  Json items = Json::array();
  const std::string want_metric = AsciiLower(metric);
  // Whether a kind is `resource`, once per kind (it may consult the registry).
  std::map<std::string, bool> kind_matches;
  // Only the request's namespace (the store indexes values by it).
  for (const auto& shared : state.ListMetricValuesShared(ns)) {
    const Json& mv = *shared;
    if (AsciiLower(StrAt(mv, "metric.name")) != want_metric) continue;
    std::string kind = StrAt(mv, "describedObject.kind");
    auto km = kind_matches.find(kind);
    if (km == kind_matches.end()) km = kind_matches.emplace(kind, KindMatchesResource(state, kind, resource)).first;
    if (!km->second) continue;
    if (!ns.empty() && StrAt(mv, "describedObject.namespace") != ns) continue;
    std::string obj_name = StrAt(mv, "describedObject.name");
    if (name != "*" && obj_name != name) continue;
    if (metric_selector) {
      const Json* sel = JsonPathFind(mv, "metric.selector");
      if (sel == nullptr || sel->is_null()) continue;
      auto s = k8s::Selector::FromJson(*sel);
      if (!s.ok() || s->ToString() != *metric_selector) continue;
    }
    if (name == "*" && !labels.Empty()) {
      // The selector applies to the described objects' labels (the pods).
      auto info = state.FindByKindAnyVersion(kind);
      if (!info) continue;
      auto obj = state.Get(info->gvr, ns, obj_name);
      if (!obj.ok()) continue;
      k8s::Labels l;
      const Json* lj = JsonPathFind(*obj, "metadata.labels");
      if (lj != nullptr && lj->is_object())
        for (auto it = lj->begin(); it != lj->end(); ++it)
          if (it.value().is_string()) l[it.key()] = it.value().get<std::string>();
      if (!labels.Matches(l)) continue;
    }
    items.push_back(WithTimestamp(state, mv));
  }
  if (items.empty() && name != "*") {
    return NotFoundMsg("the server could not find the metric " + metric + " for " + resource + " " + name);
  }
  return Json{{"kind", "MetricValueList"}, {"apiVersion", "custom.metrics.k8s.io/v1beta2"},
              {"metadata", Json::object()}, {"items", items}};
}

Result<Json> ExternalMetrics(const ClusterState& state, const std::vector<std::string>& seg, const Query& q) {
  if (seg.size() != 3 || seg[0] != "namespaces") return NotFoundMsg("the server could not find the requested resource");
  auto values = state.ListExternalMetricValues(seg[1], seg[2], Param(q, "labelSelector"));
  if (!values.ok()) return values.status();
  Json items = Json::array();
  for (Json v : *values) {
    Json item = {{"metricName", StringOr(v, "metricName")},
                 {"metricLabels", v.contains("metricLabels") ? v["metricLabels"] : Json::object()}};
    for (const char* k : {"timestamp", "window", "windowSeconds", "value"})
      if (v.contains(k)) item[k] = v[k];
    items.push_back(WithTimestamp(state, item));
  }
  return Json{{"kind", "ExternalMetricValueList"}, {"apiVersion", "external.metrics.k8s.io/v1beta1"},
              {"metadata", Json::object()}, {"items", items}};
}

}  // namespace

Result<Json> ServeMetrics(const ClusterState& state, const std::string& group, const std::vector<std::string>& segments,
                          const Query& query) {
  if (group == "metrics.k8s.io") return ResourceMetrics(state, segments, query);
  if (group == "custom.metrics.k8s.io") return CustomMetrics(state, segments, query);
  if (group == "external.metrics.k8s.io") return ExternalMetrics(state, segments, query);
  return NotFoundMsg("the server could not find the requested resource");
}

Result<std::string> ServeMetricsSerialized(const ClusterState& state, const std::string& group,
                                           const std::vector<std::string>& segments, const Query& query) {
  bool pod_list = false;
  std::string ns;
  if (group == "metrics.k8s.io") {
    if (segments.size() == 1 && segments[0] == "pods") {
      pod_list = true;
    } else if (segments.size() == 3 && segments[0] == "namespaces" && segments[2] == "pods") {
      pod_list = true;
      ns = segments[1];
    }
  }
  if (!pod_list) {
    auto doc = ServeMetrics(state, group, segments, query);
    if (!doc.ok()) return doc.status();
    return doc->dump();
  }
  auto items = state.ListPodMetricsSerialized(ns, Param(query, "labelSelector"));
  if (!items.ok()) return items.status();
  // The PodMetricsList of ResourceMetrics, keys in dump() order.
  size_t size = 96;
  for (const auto& pm : *items) size += pm->size() + 1;
  std::string out;
  out.reserve(size);
  out += "{\"apiVersion\":\"metrics.k8s.io/v1beta1\",\"items\":[";
  bool first = true;
  for (const auto& pm : *items) {
    if (!first) out += ',';
    first = false;
    out += *pm;
  }
  out += "],\"kind\":\"PodMetricsList\",\"metadata\":{}}";
  return out;
}

}  // namespace hpad::sim::api
