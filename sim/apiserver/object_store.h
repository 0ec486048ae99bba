// ObjectStore: the simulator's object storage - what etcd plus the API
// server's generic registry are to a real cluster.
//
// It keeps every object of the fake cluster as JSON in its *storage*
// version and converts on the way in and out (conversion.h), so every
// method taking a GVR accepts any served version and answers in it. It
// assigns uid, creationTimestamp (from the injected Clock), generation and
// resourceVersion (one global, monotonically increasing counter, as etcd's
// revision), defaults writes, enforces optimistic concurrency (409 on a
// stale metadata.resourceVersion), serves lists with label and field
// selectors and snapshot paging, the /scale subresource, and hands every
// committed change to the WatchCache and then to synchronous change
// listeners.
//
// Scale (issue 7: 100k pods): objects are kept per storage in a tree ordered
// by "ns/name" with order statistics, so a namespace is one range and a list
// page costs O(log n + page); stored objects are immutable and shared
// (lists, watch events and the API server's responses point at them instead
// of copying).
//
// Ownership and threads: borrows the Clock, the ResourceRegistry and the
// WatchCache (all must outlive it). All methods are thread-safe. mu_ guards
// objects_, rv_, uid_counter_, name_counter_ and pending_; it is held while
// a change is handed to the WatchCache, so the cache sees changes in
// resourceVersion order (lock order: mu_ -> WatchCache -> a watcher; the
// registry is looked up before mu_ is taken). listeners_mu_ guards
// listeners_ and next_listener_; dispatch_mu_ serialises delivery. Change
// listeners run after the change is committed, outside mu_, in commit
// order, on the thread that made the change; a listener may write to the
// store (its changes are delivered after it returns).
#pragma once

#include <ext/pb_ds/assoc_container.hpp>
#include <ext/pb_ds/tree_policy.hpp>

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "k8sclient/api_client.h"
#include "k8sclient/base/clock.h"
#include "k8sclient/base/status.h"
#include "sim/apiserver/resource_registry.h"
#include "sim/apiserver/watch_cache.h"

namespace hpad::sim {

// Options of List.
struct ListQuery {
  std::string label_selector;  // string form, "" = all
  std::string field_selector;  // "a.b=c,d!=e" on any dotted path (metadata.name, involvedObject.uid, ...)
  int64_t limit = 0;           // 0 = no paging
  std::string continue_token;
};

// Paging follows the real API server's contract: a first page (no
// continue token) lists the current state at resource_version; every later
// page lists the same snapshot (the state at the first page's
// resourceVersion, rebuilt from the watch history), so objects created,
// changed or deleted meanwhile neither appear, change nor vanish, and none
// is skipped or repeated. A token older than the retained history is 410
// Gone (reason "Expired"), as etcd's compaction makes it upstream.
struct ListResult {
  std::vector<Json> items;          // in the requested version, sorted by namespace/name
  std::string resource_version;     // the snapshot's resourceVersion (a continued list: the first page's)
  std::string continue_token;       // "" when this was the last page
  // Items after this page; -1 when not counted: with a label or field
  // selector, as the real server leaves remainingItemCount unset then.
  int64_t remaining = 0;
};

// ListResult with the items shared with the store (immutable; converted
// copies only for versions that differ from the storage version): the API
// server serializes them without copying the objects.
struct SharedListResult {
  std::vector<std::shared_ptr<const Json>> items;
  std::string resource_version;
  std::string continue_token;
  int64_t remaining = 0;
};

// A committed change, as given to change listeners (storage version).
struct StoreEvent {
  k8s::WatchEvent::Type type = k8s::WatchEvent::Type::kAdded;  // kAdded, kModified, kDeleted
  std::string storage_group;     // "apps"
  std::string storage_resource;  // "deployments"
  std::shared_ptr<const Json> object;      // new object (for kDeleted: the object as deleted)
  std::shared_ptr<const Json> old_object;  // previous object (kModified, kDeleted), else null
  int64_t resource_version = 0;
};

class ObjectStore {
 public:
  ObjectStore(const Clock& clock, const ResourceRegistry& registry, WatchCache& watch_cache);
  ObjectStore(const ObjectStore&) = delete;
  ObjectStore& operator=(const ObjectStore&) = delete;

  // 409 AlreadyExists; metadata.generateName honoured; namespace from `ns`
  // (must agree with metadata.namespace when both are set). Returns the stored object.
  Result<Json> Create(const GroupVersionResource& gvr, const std::string& ns, const Json& obj);
  Result<Json> Get(const GroupVersionResource& gvr, const std::string& ns, const std::string& name) const;
  // The stored object itself (storage version, shared; null when absent or
  // the resource is unknown): cheap reads for the store's own units.
  std::shared_ptr<const Json> GetStored(const GroupVersionResource& gvr, const std::string& ns,
                                        const std::string& name) const;
  // Costs O(log n + the page) (a selector that matches little costs the
  // objects it skips). See ListResult for the paging contract.
  Result<ListResult> List(const GroupVersionResource& gvr, const std::string& ns, const ListQuery& query) const;
  Result<SharedListResult> ListShared(const GroupVersionResource& gvr, const std::string& ns,
                                      const ListQuery& query) const;
  // PUT: 404 when absent, 409 when metadata.resourceVersion is given and stale.
  // For kinds with a status subresource the live status is kept.
  Result<Json> Update(const GroupVersionResource& gvr, const std::string& ns, const Json& obj);
  // PUT .../status: replaces only `status` (same concurrency rule).
  Result<Json> UpdateStatus(const GroupVersionResource& gvr, const std::string& ns, const Json& obj);
  // Returns the object as it was when deleted. 404 when absent.
  Result<Json> Delete(const GroupVersionResource& gvr, const std::string& ns, const std::string& name);
  // Scenario `apply`: the resource is found by apiVersion + kind. Creates or
  // replaces the whole object, ignoring metadata.resourceVersion; an object
  // given without `status` keeps the live status. Returns the stored object.
  Result<Json> Apply(const Json& obj);
  // The same for a resource given by GVR (the object's apiVersion and kind
  // are not consulted): what the test fake's Put does.
  Result<Json> Apply(const GroupVersionResource& gvr, const Json& obj);

  // status.selector is the target's selector in string form (k8s::Selector).
  Result<Json> GetScale(const GroupVersionResource& gvr, const std::string& ns, const std::string& name) const;
  // Writes spec.replicas (specReplicasPath for CRDs); 409 on a stale
  // metadata.resourceVersion in the Scale when given. Returns the new Scale.
  Result<Json> UpdateScale(const GroupVersionResource& gvr, const std::string& ns, const std::string& name,
                           const Json& scale);

  // The current resourceVersion (as a list would report it).
  int64_t ResourceVersion() const;

  // 410 Gone (reason "Expired") when opts.resource_version is older than
  // the retained history; 404 for an unknown resource.
  Result<std::unique_ptr<Watcher>> Watch(const GroupVersionResource& gvr, const WatchOptions& opts);
  // A BOOKMARK with the current resourceVersion to every watcher that allows them.
  void BroadcastBookmarks();

  // Called after every committed change. Returns an id for RemoveChangeListener.
  int AddChangeListener(std::function<void(const StoreEvent&)> listener);
  void RemoveChangeListener(int id);

 private:
  using ObjectTree = __gnu_pbds::tree<std::string, std::shared_ptr<const Json>, std::less<std::string>,
                                      __gnu_pbds::rb_tree_tag, __gnu_pbds::tree_order_statistics_node_update>;

  // What every object operation starts with: the served resource and the
  // namespace the object lives in.
  struct Target {
    ResourceInfoPtr info;
    std::string ns;  // "" for cluster-scoped resources
  };
  // The preamble of every operation: looks `gvr` up (404 naming `name`
  // when unknown) and settles the namespace. With a `body` (writes) a
  // namespaced object goes to `ns`, else the body's metadata.namespace, else
  // "default"; without one (reads, deletes, scale) to `ns` as given.
  Result<Target> Resolve(const GroupVersionResource& gvr, const std::string& ns, const std::string& name,
                         const Json* body) const;
  static std::string NamespaceFor(const ResourceInfo& info, const std::string& ns, const Json* body);

  // Update and UpdateStatus: the same lookup, 409 and commit; they differ
  // only in which part of `obj` replaces the stored object.
  Result<Json> Replace(const GroupVersionResource& gvr, const std::string& ns, const Json& obj, bool status_only);
  // Apply once the resource is known.
  Result<Json> ApplyAs(const ResourceInfo& info, const Json& obj);
  // Served -> storage form of `info`'s version.
  Json ToStorageForm(const ResourceInfo& info, const Json& served) const;

  // Commits `st` over `old` as MODIFIED unless it equals `old`; returns the
  // object as served. Caller holds mu_.
  Json ModifyLocked(const ResourceInfo& info, const std::string& ns, const std::string& name, Json st,
                    const std::shared_ptr<const Json>& old);
  // Stores `obj` (added/modified) or removes the key (deleted); assigns the
  // next resourceVersion; hands the change to the watch cache; queues it for
  // listeners. mu_ held.
  std::shared_ptr<const Json> CommitLocked(const ResourceInfo& info, const std::string& ns, const std::string& name,
                                           k8s::WatchEvent::Type type, Json obj, std::shared_ptr<const Json> old);
  // Delivers queued StoreEvents to listeners in commit order (mu_ not held).
  void Dispatch();

  const Clock& clock_;
  const ResourceRegistry& registry_;
  WatchCache& watch_cache_;

  mutable std::mutex mu_;
  // storage key "group/resource" -> "ns/name" -> object (storage version); guarded by mu_.
  mutable std::map<std::string, ObjectTree> objects_;
  int64_t rv_ = 0;            // guarded by mu_
  int64_t uid_counter_ = 0;   // guarded by mu_
  int64_t name_counter_ = 0;  // guarded by mu_ (generateName suffixes)
  std::deque<StoreEvent> pending_;  // guarded by mu_

  std::mutex dispatch_mu_;  // serialises delivery (commit order)
  std::mutex listeners_mu_;
  std::map<int, std::function<void(const StoreEvent&)>> listeners_;  // guarded by listeners_mu_
  int next_listener_ = 1;  // guarded by listeners_mu_
};

}  // namespace hpad::sim
