// ClusterState: the simulator's object store - what etcd plus the API
// server's registry are to a real cluster.
//
// It keeps every Kubernetes object of the fake cluster as nlohmann::json in
// its *storage* version, assigns uid / creationTimestamp (from the injected
// Clock) / generation / resourceVersion (one global, monotonically increasing
// counter, as etcd's revision), enforces optimistic concurrency (409 on a
// stale metadata.resourceVersion), serves lists with label and field
// selectors and paging, and fans committed changes out to watchers (with a
// bounded history, so a too-old resourceVersion gets 410 Gone) and to
// synchronous change listeners. It also holds the values served by the three
// metrics APIs, the active fault settings, and the request accounting that
// `expectWrites` reads.
//
// Scale (issue 7: 100k pods): objects are kept per resource in a tree
// ordered by "ns/name" with order statistics, so a namespace is one range
// and a list page costs O(log n + page); stored objects are immutable and
// shared (lists, watch events and the API server's responses point at them
// instead of copying); metrics are kept by namespace.
//
// Versions: each resource has one storage (group + resource); served
// versions convert on the way in and out. autoscaling/v1 HPAs are converted
// with k8s::HpaV1ToV2 / HpaV2ToV1, autoscaling/v2beta2 is v2 relabelled,
// CRD versions are relabelled. Every method taking a GVR accepts any served
// version and returns objects in that version.
//
// Ownership and threads: the ClusterState borrows the Clock (must outlive
// it). All methods are thread-safe (one internal mutex; watchers have their
// own). Change listeners run after the change is committed, outside the
// store lock, in commit order, on the thread that made the change; a
// listener may call back into the ClusterState (changes it makes are
// delivered after it returns).
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "k8sclient/api_client.h"
#include "k8sclient/base/clock.h"
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
};

// Options of List and Watch.
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

struct WatchOptions {
  std::string ns;                // "" = all namespaces
  std::string label_selector;
  std::string field_selector;
  // "" or "0": first an ADDED event per existing (matching) object, then live
  // events. Otherwise: every event after that version (410 Gone when the
  // history no longer reaches back that far).
  std::string resource_version;
  bool allow_bookmarks = false;
};

// An open watch. Events come converted to the watched version; a MODIFIED
// that moves an object into (out of) the selector is delivered as ADDED
// (DELETED), as the real API server does.
class Watcher {
 public:
  virtual ~Watcher() = default;
  enum class Next { kEvent, kTimeout, kClosed };
  // Waits up to max_wait for an event (a relative wait; never reads the clock).
  virtual Next Wait(std::chrono::milliseconds max_wait, k8s::WatchEvent* out) = 0;
  // Wait, with the event's object handed out as JSON text (`dump()`). The
  // store's watchers serialize an event once per served version, however
  // many watchers receive it; this default serializes the Wait result.
  virtual Next WaitSerialized(std::chrono::milliseconds max_wait, k8s::WatchEvent::Type* type,
                              std::shared_ptr<const std::string>* object_json);
  // Ends the watch; a pending Wait returns kClosed. Idempotent, any thread.
  virtual void Close() = 0;
  virtual bool closed() const = 0;
};

// One API's fault setting (scenario `faults:` values).
struct ApiFault {
  enum class Kind { kOk, kUnavailable, kSlow, kError };
  Kind kind = Kind::kOk;
  std::chrono::milliseconds delay{0};  // kSlow
  int code = 0;                         // kError: HTTP status code
  // "ok" | "unavailable" | "slow:<duration>" | "error:<code>". Errors name the text.
  static Result<ApiFault> Parse(const std::string& text);
  std::string ToString() const;
};

// An apiserver fault rule: requests matching verb/resource/subresource
// (empty verb/resource = any; verbs "update" and "patch" match each other:
// both are a change of an existing object) fail with `code`, `count` times
// (-1 = always).
struct RequestFaultRule {
  std::string verb;         // get list watch create update patch delete
  std::string resource;     // plural: "deployments"
  std::string subresource;  // "scale", "status"; "" = the main resource only; "*" = any
  int code = 500;
  int count = -1;
};

struct FaultSet {
  ApiFault resource_metrics;  // metrics.k8s.io
  ApiFault custom_metrics;    // custom.metrics.k8s.io
  ApiFault external_metrics;  // external.metrics.k8s.io
  ApiFault apiserver;         // every other path
  std::vector<RequestFaultRule> apiserver_rules;
};

// What the API server should do to one request because of faults.
struct FaultDecision {
  std::chrono::milliseconds delay{0};  // sleep this long first (slow:)
  int fail_code = 0;                   // non-zero: answer with this code and a Status body
};

// One request as seen by the API server (for expectWrites and benchmarks).
struct RequestRecord {
  int64_t seq = 0;
  std::string verb;         // get list watch create update patch delete
  std::string resource;     // plural ("horizontalpodautoscalers"), or the metrics API path
  std::string subresource;  // "", "status", "scale"
  std::string user_agent;
  int code = 0;             // HTTP status answered
};

class ClusterState {
 public:
  explicit ClusterState(const Clock& clock);
  ~ClusterState();
  ClusterState(const ClusterState&) = delete;
  ClusterState& operator=(const ClusterState&) = delete;

  const Clock& clock() const { return clock_; }

  // ---- Registry ------------------------------------------------------------
  // Registers an apiextensions.k8s.io/v1 CustomResourceDefinition: each served
  // version becomes a resource (discovery, CRUD, watch); `subresources.status`
  // and `subresources.scale` (specReplicasPath, statusReplicasPath,
  // labelSelectorPath) are honoured. The CRD object itself is stored too
  // (apiextensions.k8s.io/v1 customresourcedefinitions). Re-registering replaces.
  Status RegisterCrd(const Json& crd);
  std::optional<ResourceInfo> FindByGvr(const GroupVersionResource& gvr) const;
  std::optional<ResourceInfo> FindByKind(const std::string& api_version, const std::string& kind) const;
  // By kind alone (scenario `delete:` entries): the preferred (first registered) version.
  std::optional<ResourceInfo> FindByKindAnyVersion(const std::string& kind) const;
  // Every served resource, in registration order (discovery).
  std::vector<ResourceInfo> Resources() const;

  // ---- Objects (any served version) ------------------------------------------
  // 409 AlreadyExists; metadata.generateName honoured; namespace from `ns`
  // (must agree with metadata.namespace when both are set). Returns the stored object.
  Result<Json> Create(const GroupVersionResource& gvr, const std::string& ns, const Json& obj);
  Result<Json> Get(const GroupVersionResource& gvr, const std::string& ns, const std::string& name) const;
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

  // Scenario `apply` (also used for `objects:`): the kind is found by
  // apiVersion + kind. Creates or replaces the whole object, ignoring
  // metadata.resourceVersion; an object given without `status` keeps the live
  // status. HPAs are defaulted (13.1 D1-D3). PodMetrics, MetricValue and
  // ExternalMetricValue go to the metrics storage, CRDs are registered.
  // Returns the stored object (metrics: as written).
  Result<Json> Apply(const Json& obj);
  // Scenario `delete`: {apiVersion?, kind, metadata.namespace / namespace,
  // metadata.name / name} (metric kinds: their identity fields).
  Status DeleteObject(const Json& ref);

  // ---- Scale subresource (autoscaling/v1 Scale) ---------------------------------
  // status.selector is the target's selector in string form (k8s::Selector).
  Result<Json> GetScale(const GroupVersionResource& gvr, const std::string& ns, const std::string& name) const;
  // Writes spec.replicas (specReplicasPath for CRDs); 409 on a stale
  // metadata.resourceVersion in the Scale when given. Returns the new Scale.
  Result<Json> UpdateScale(const GroupVersionResource& gvr, const std::string& ns, const std::string& name,
                           const Json& scale);

  // The store's current resourceVersion (as a list would report it).
  int64_t ResourceVersion() const;

  // ---- Watch -------------------------------------------------------------
  // 410 Gone (StatusCode::kGone, reason "Expired") when opts.resource_version
  // is older than the retained history; 404 for an unknown resource.
  Result<std::unique_ptr<Watcher>> Watch(const GroupVersionResource& gvr, const WatchOptions& opts);
  // Sends a BOOKMARK (current resourceVersion) to every watcher that allows them.
  void BroadcastBookmarks();
  // Closes every open watcher (server shutdown).
  void CloseAllWatchers();
  // Events kept for watch resumption (default 10000). Tests shrink it.
  void SetHistoryLimit(size_t limit);

  // ---- Change listeners ------------------------------------------------------
  // Called after every committed object change (not metrics), outside the
  // store lock, in commit order. Returns an id for RemoveChangeListener.
  int AddChangeListener(std::function<void(const StoreEvent&)> listener);
  void RemoveChangeListener(int id);

  // ---- Metrics storage (served by the metrics APIs) ------------------------------
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

  // ---- Faults -------------------------------------------------------------
  void SetFaults(FaultSet faults);
  FaultSet Faults() const;
  // The API server asks this once per request. api: "resourceMetrics",
  // "customMetrics", "externalMetrics" or "apiserver"; a matching apiserver
  // rule with a count is consumed.
  FaultDecision DecideFault(const std::string& api, const std::string& verb, const std::string& resource,
                            const std::string& subresource);

  // ---- Request accounting ------------------------------------------------------
  // The API server records every request it answers.
  void RecordRequest(RequestRecord record);
  // The seq the next request will get (take it as "since" at a step boundary).
  int64_t RequestSeq() const;
  // Writes (verb create/update/patch/delete, update and patch matching each
  // other; "" = any write verb; failed requests count too) on
  // resource/subresource ("" resource = any; subresource "*" = any, "" = the
  // main resource only) with a
  // User-Agent starting with user_agent_prefix, recorded with seq >= since_seq.
  int64_t CountWrites(const std::string& verb, const std::string& resource, const std::string& subresource,
                      const std::string& user_agent_prefix, int64_t since_seq) const;
  // Totals by "verb resource[/subresource]" since start (benchmarks).
  std::map<std::string, int64_t> RequestCounts() const;

 private:
  // Update and UpdateStatus: the same lookup, 409 and commit; they differ
  // only in which part of `obj` replaces the stored object.
  Result<Json> Replace(const GroupVersionResource& gvr, const std::string& ns, const Json& obj, bool status_only);

  struct Impl;
  const Clock& clock_;
  std::unique_ptr<Impl> impl_;
};

// HPA API defaulting for autoscaling/v2 objects (13.1 D1-D3), in place.
void DefaultHpaV2(Json& hpa);

}  // namespace hpad::sim
