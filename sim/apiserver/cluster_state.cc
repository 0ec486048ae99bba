// ClusterState: composition of the API server's units and the scenario
// apply/delete routing (see cluster_state.h).
#include "sim/apiserver/cluster_state.h"

#include "sim/apiserver/object_filter.h"

namespace hpad::sim {

namespace {

std::optional<ResourceInfo> Copy(const ResourceInfoPtr& row) {
  if (row == nullptr) return std::nullopt;
  return *row;
}

}  // namespace

ClusterState::ClusterState(const Clock& clock)
    : clock_(clock),
      objects_(clock, registry_, watch_cache_),
      metrics_([this](const std::string& ns, const std::string& name) {
        return objects_.GetStored(k8s::resources::kPods, ns, name);
      }) {
  for (const char* ns : {"default", "kube-system", "kube-public"}) {
    Json obj = {{"apiVersion", "v1"}, {"kind", "Namespace"}, {"metadata", {{"name", ns}}},
                {"status", {{"phase", "Active"}}}};
    // An empty store cannot refuse these (no name clash, served resource).
    (void)objects_.Create(k8s::resources::kNamespaces, "", obj);
  }
}

ClusterState::~ClusterState() { watch_cache_.CloseAll(); }

std::optional<ResourceInfo> ClusterState::FindByGvr(const GroupVersionResource& gvr) const {
  return Copy(registry_.FindByGvr(gvr));
}

std::optional<ResourceInfo> ClusterState::FindByKind(const std::string& api_version, const std::string& kind) const {
  return Copy(registry_.FindByKind(api_version, kind));
}

std::optional<ResourceInfo> ClusterState::FindByKindAnyVersion(const std::string& kind) const {
  return Copy(registry_.FindByKindAnyVersion(kind));
}

Result<Json> ClusterState::Apply(const Json& obj) {
  if (!obj.is_object()) return BadRequest("apply: not an object");
  const std::string kind = StrAt(obj, {"kind"});
  Status metrics_put = Status::Ok();
  if (kind == "PodMetrics") {
    metrics_put = metrics_.PutPodMetrics(obj);
  } else if (kind == "MetricValue") {
    metrics_put = metrics_.PutMetricValue(obj);
  } else if (kind == "ExternalMetricValue") {
    metrics_put = metrics_.PutExternalMetricValue(obj);
  } else {
    if (kind == "CustomResourceDefinition") {
      Status s = registry_.RegisterCrd(obj);
      if (!s.ok()) return s;
    }
    return objects_.Apply(obj);
  }
  if (!metrics_put.ok()) return metrics_put;
  return obj;
}

Status ClusterState::DeleteObject(const Json& ref) {
  if (!ref.is_object()) return BadRequest("delete: not an object");
  const std::string kind = StrAt(ref, {"kind"});
  const std::string api_version = StrAt(ref, {"apiVersion"});
  const std::string name = ref.contains("name") ? StrAt(ref, {"name"}) : StrAt(ref, {"metadata", "name"});
  std::string ns = ref.contains("namespace") ? StrAt(ref, {"namespace"}) : StrAt(ref, {"metadata", "namespace"});
  if (kind == "PodMetrics") {
    return metrics_.DeletePodMetrics(ns.empty() ? "default" : ns, name)
               ? Status::Ok()
               : NotFoundError("PodMetrics \"" + name + "\" not found");
  }
  if (kind == "MetricValue") {
    return metrics_.DeleteMetricValue(ref) ? Status::Ok() : NotFoundError("MetricValue not found");
  }
  if (kind == "ExternalMetricValue") {
    return metrics_.DeleteExternalMetricValue(ns.empty() ? "default" : ns, name)
               ? Status::Ok()
               : NotFoundError("ExternalMetricValue \"" + name + "\" not found");
  }
  ResourceInfoPtr info =
      api_version.empty() ? registry_.FindByKindAnyVersion(kind) : registry_.FindByKind(api_version, kind);
  if (info == nullptr) return Invalid("delete: unknown kind \"" + kind + "\"");
  if (info->namespaced && ns.empty()) ns = "default";
  auto r = objects_.Delete(info->gvr, ns, name);
  return r.ok() ? Status::Ok() : r.status();
}

}  // namespace hpad::sim
