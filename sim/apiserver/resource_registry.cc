// The served resources and CRDs (see resource_registry.h).
#include "sim/apiserver/resource_registry.h"

#include <algorithm>

#include "sim/apiserver/object_filter.h"
#include "sim/apiserver/store_util.h"
#include "k8sclient/api/json_lenient.h"

namespace hpad::sim {
using k8s::StringOr;
using k8s::BoolOr;
using k8s::ChildOr;

namespace {

constexpr const char* kAllVerbs[] = {"create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"};

ResourceInfo Builtin(std::string group, std::string version, std::string resource, std::string kind,
                     std::vector<std::string> short_names, bool namespaced, bool status, bool scale,
                     std::vector<std::string> categories = {}) {
  ResourceInfo r;
  r.gvr = {std::move(group), std::move(version), std::move(resource)};
  r.kind = std::move(kind);
  r.short_names = std::move(short_names);
  r.namespaced = namespaced;
  r.has_status = status;
  r.has_scale = scale;
  r.categories = std::move(categories);
  return r;
}

}  // namespace

ResourceRegistry::ResourceRegistry() {
  Add(Builtin("", "v1", "namespaces", "Namespace", {"ns"}, false, true, false));
  Add(Builtin("", "v1", "pods", "Pod", {"po"}, true, true, false, {"all"}));
  Add(Builtin("", "v1", "events", "Event", {"ev"}, true, false, false));
  // Served so discovery maps them, as in any cluster: Object metrics name
  // their describedObject through the REST mapping (issue 11 item 5), and
  // scenarios describe Ingresses and Services there.
  Add(Builtin("", "v1", "services", "Service", {"svc"}, true, true, false));
  Add(Builtin("", "v1", "configmaps", "ConfigMap", {"cm"}, true, false, false));
  Add(Builtin("networking.k8s.io", "v1", "ingresses", "Ingress", {"ing"}, true, true, false));
  Add(Builtin("apps", "v1", "deployments", "Deployment", {"deploy"}, true, true, true, {"all"}));
  Add(Builtin("apps", "v1", "statefulsets", "StatefulSet", {"sts"}, true, true, true, {"all"}));
  Add(Builtin("apps", "v1", "replicasets", "ReplicaSet", {"rs"}, true, true, true, {"all"}));
  Add(Builtin("autoscaling", "v2", "horizontalpodautoscalers", "HorizontalPodAutoscaler", {"hpa"}, true, true, false,
              {"all"}));
  for (const char* v : {"v1", "v2beta2"}) {
    ResourceInfo r = Builtin("autoscaling", v, "horizontalpodautoscalers", "HorizontalPodAutoscaler", {"hpa"}, true,
                             true, false, {"all"});
    r.storage_group = "autoscaling";
    r.storage_version = "v2";
    r.storage_resource = "horizontalpodautoscalers";
    Add(std::move(r));
  }
  Add(Builtin("coordination.k8s.io", "v1", "leases", "Lease", {}, true, false, false));
  {
    ResourceInfo r = Builtin("events.k8s.io", "v1", "events", "Event", {"ev"}, true, false, false);
    r.storage_group = "";
    r.storage_version = "v1";
    r.storage_resource = "events";
    Add(std::move(r));
  }
  Add(Builtin("apiextensions.k8s.io", "v1", "customresourcedefinitions", "CustomResourceDefinition", {"crd", "crds"},
              false, true, false));
}

void ResourceRegistry::Add(ResourceInfo info) {
  std::lock_guard<std::mutex> l(mu_);
  AddLocked(std::move(info));
}

void ResourceRegistry::AddLocked(ResourceInfo info) {
  if (info.verbs.empty()) info.verbs.assign(std::begin(kAllVerbs), std::end(kAllVerbs));
  if (info.list_kind.empty()) info.list_kind = info.kind + "List";
  if (info.singular.empty()) info.singular = AsciiLower(info.kind);
  if (info.storage_group.empty() && info.storage_resource.empty()) {
    info.storage_group = info.gvr.group;
    info.storage_version = info.gvr.version;
    info.storage_resource = info.gvr.resource;
  }
  rows_.push_back(std::make_shared<const ResourceInfo>(std::move(info)));
}

Status ResourceRegistry::RegisterCrd(const Json& crd) {
  const Json& spec = ChildOr(crd, "spec", Json::object());
  std::string group = StringOr(spec, "group");
  const Json& names = ChildOr(spec, "names", Json::object());
  std::string plural = StringOr(names, "plural");
  std::string kind = StringOr(names, "kind");
  if (group.empty() || plural.empty() || kind.empty())
    return Invalid("CustomResourceDefinition needs spec.group, spec.names.plural and spec.names.kind");
  const Json& versions = ChildOr(spec, "versions", Json::array());
  if (!versions.is_array() || versions.empty()) return Invalid("CustomResourceDefinition needs spec.versions");
  std::string storage_version;
  for (const Json& v : versions)
    if (BoolOr(v, "storage", false)) storage_version = StringOr(v, "name");
  if (storage_version.empty()) storage_version = StringOr(versions[0], "name");
  bool namespaced = StringOr(spec, "scope", "Namespaced") != "Cluster";

  std::vector<ResourceInfo> infos;
  for (const Json& v : versions) {
    if (!BoolOr(v, "served", true)) continue;
    ResourceInfo r;
    r.gvr = {group, StringOr(v, "name"), plural};
    r.kind = kind;
    r.list_kind = StringOr(names, "listKind", kind + "List");
    r.singular = StringOr(names, "singular", AsciiLower(kind));
    if (names.contains("shortNames")) r.short_names = names["shortNames"].get<std::vector<std::string>>();
    if (names.contains("categories")) r.categories = names["categories"].get<std::vector<std::string>>();
    r.namespaced = namespaced;
    const Json sub = v.contains("subresources") ? v["subresources"] : ChildOr(spec, "subresources", Json::object());
    r.has_status = sub.is_object() && sub.contains("status");
    if (sub.is_object() && sub.contains("scale") && sub["scale"].is_object()) {
      r.has_scale = true;
      r.spec_replicas_path = StringOr(sub["scale"], "specReplicasPath", ".spec.replicas");
      r.status_replicas_path = StringOr(sub["scale"], "statusReplicasPath", ".status.replicas");
      r.label_selector_path = StringOr(sub["scale"], "labelSelectorPath");
    }
    r.storage_group = group;
    r.storage_version = storage_version;
    r.storage_resource = plural;
    infos.push_back(std::move(r));
  }
  std::lock_guard<std::mutex> l(mu_);
  rows_.erase(std::remove_if(rows_.begin(), rows_.end(),
                             [&](const ResourceInfoPtr& r) { return r->gvr.group == group && r->gvr.resource == plural; }),
              rows_.end());
  // The storage version first: FindByKindAnyVersion prefers it.
  std::stable_sort(infos.begin(), infos.end(), [&](const ResourceInfo& a, const ResourceInfo& b) {
    return (a.gvr.version == storage_version) > (b.gvr.version == storage_version);
  });
  for (ResourceInfo& r : infos) AddLocked(std::move(r));
  return Status::Ok();
}

ResourceInfoPtr ResourceRegistry::FindByGvr(const GroupVersionResource& gvr) const {
  std::lock_guard<std::mutex> l(mu_);
  for (const ResourceInfoPtr& r : rows_)
    if (r->gvr == gvr) return r;
  return nullptr;
}

ResourceInfoPtr ResourceRegistry::FindByKind(const std::string& api_version, const std::string& kind) const {
  std::lock_guard<std::mutex> l(mu_);
  for (const ResourceInfoPtr& r : rows_)
    if (r->kind == kind && r->ApiVersion() == api_version) return r;
  return nullptr;
}

ResourceInfoPtr ResourceRegistry::FindByKindAnyVersion(const std::string& kind) const {
  std::lock_guard<std::mutex> l(mu_);
  for (const ResourceInfoPtr& r : rows_)
    if (r->kind == kind) return r;
  return nullptr;
}

ResourceInfoPtr ResourceRegistry::StorageOf(const ResourceInfo& info) const {
  return FindByGvr({info.storage_group, info.storage_version, info.storage_resource});
}

std::vector<ResourceInfo> ResourceRegistry::Resources() const {
  std::lock_guard<std::mutex> l(mu_);
  std::vector<ResourceInfo> out;
  out.reserve(rows_.size());
  for (const ResourceInfoPtr& r : rows_) out.push_back(*r);
  return out;
}

}  // namespace hpad::sim
