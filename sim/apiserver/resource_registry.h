// ResourceRegistry: the resources the simulated API server serves - the
// built-in kinds (core, apps, autoscaling v2/v1/v2beta2, coordination,
// events.k8s.io, apiextensions) and every served version of each registered
// CustomResourceDefinition. It answers discovery (rows in registration order)
// and maps a served group/version/resource, or an apiVersion + kind, to its
// ResourceInfo, which names the storage (group + resource + version) that
// version is converted to and from.
//
// Ownership and threads: rows are immutable once registered and handed out
// as shared pointers, so a caller keeps a consistent row while a CRD is
// re-registered. All methods are thread-safe: mu_ guards rows_ and nothing
// else; no method calls out while holding it (it is a leaf lock: the object
// store and the watch cache may look rows up while holding their own).
#pragma once

#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "k8sclient/api_client.h"
#include "k8sclient/base/status.h"

namespace hpad::sim {

using Json = nlohmann::json;
using k8s::GroupVersionResource;

// One served resource (a row of discovery).
struct ResourceInfo {
  GroupVersionResource gvr;            // the served group/version/resource
  std::string kind;                    // "HorizontalPodAutoscaler"
  std::string list_kind;               // "HorizontalPodAutoscalerList"
  std::string singular;                // "horizontalpodautoscaler"
  std::vector<std::string> short_names;  // {"hpa"}
  std::vector<std::string> categories;   // {"all"}
  std::vector<std::string> verbs;        // create delete deletecollection get list patch update watch
  bool namespaced = true;
  bool has_status = false;  // a /status subresource: PUT on the main resource keeps status
  bool has_scale = false;   // a /scale subresource (autoscaling/v1 Scale)
  // Scale paths (CRD `subresources.scale`; apps kinds use these defaults).
  std::string spec_replicas_path = ".spec.replicas";
  std::string status_replicas_path = ".status.replicas";
  std::string label_selector_path;  // apps kinds: "" = spec.selector (structured)
  // The storage this version reads and writes (group + resource; the
  // storage version is the one converted to/from).
  std::string storage_group;
  std::string storage_version;
  std::string storage_resource;
  std::string ApiVersion() const { return gvr.GroupVersion(); }
  // "group/resource" of the storage: the object store's and watch cache's key.
  std::string StorageKey() const { return storage_group + "/" + storage_resource; }
  // "resource.group" (or "resource" for core), as error messages name it.
  std::string GroupResource() const { return gvr.group.empty() ? gvr.resource : gvr.resource + "." + gvr.group; }
};

using ResourceInfoPtr = std::shared_ptr<const ResourceInfo>;

class ResourceRegistry {
 public:
  // Starts with the built-in resources.
  ResourceRegistry();
  ResourceRegistry(const ResourceRegistry&) = delete;
  ResourceRegistry& operator=(const ResourceRegistry&) = delete;

  // Adds one row; empty verbs, list kind, singular and storage get their
  // defaults (all verbs, <kind>List, lower-case kind, the row's own gvr).
  void Add(ResourceInfo info);

  // Registers an apiextensions.k8s.io/v1 CustomResourceDefinition: each
  // served version becomes a row; `subresources.status` and
  // `subresources.scale` (specReplicasPath, statusReplicasPath,
  // labelSelectorPath) are honoured; the storage version is listed first.
  // Re-registering replaces the CRD's rows. 422 when the CRD lacks its names.
  Status RegisterCrd(const Json& crd);

  ResourceInfoPtr FindByGvr(const GroupVersionResource& gvr) const;
  ResourceInfoPtr FindByKind(const std::string& api_version, const std::string& kind) const;
  // By kind alone: the preferred (first registered) version.
  ResourceInfoPtr FindByKindAnyVersion(const std::string& kind) const;
  // The row of `info`'s storage version (null for an unknown storage).
  ResourceInfoPtr StorageOf(const ResourceInfo& info) const;
  // Every row, in registration order (discovery).
  std::vector<ResourceInfo> Resources() const;

 private:
  void AddLocked(ResourceInfo info);

  mutable std::mutex mu_;
  std::vector<ResourceInfoPtr> rows_;  // guarded by mu_
};

}  // namespace hpad::sim
