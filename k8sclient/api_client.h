// ApiClient: typed verbs against the Kubernetes REST API, on JSON objects.
//
// This is the seam between hpad and HTTP (architecture.md "Seams"): the
// controller, informers, leader election and event recorder only see this
// interface. RestApiClient (rest_api_client.h) implements it over an
// HttpTransport with QPS limiting and retries; tests use FakeApiClient or a
// RestApiClient pointed at hpad-sim. Objects are nlohmann::json so unknown
// fields survive read-modify-write; typed structs (types/*.h) convert from
// and to them. Implementations are thread-safe.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "k8sclient/base/status.h"

namespace hpad::k8s {

using Json = nlohmann::json;

struct GroupVersionResource {
  std::string group;     // "" for core
  std::string version;   // "v1"
  std::string resource;  // plural, lower case: "horizontalpodautoscalers"

  std::string GroupVersion() const { return group.empty() ? version : group + "/" + version; }
  // "/api/v1" or "/apis/<group>/<version>"
  std::string BasePath() const { return group.empty() ? "/api/" + version : "/apis/" + group + "/" + version; }
  bool operator==(const GroupVersionResource&) const = default;
};

// Well-known resources.
namespace resources {
inline const GroupVersionResource kPods{"", "v1", "pods"};
inline const GroupVersionResource kEvents{"", "v1", "events"};
inline const GroupVersionResource kNamespaces{"", "v1", "namespaces"};
inline const GroupVersionResource kHpaV2{"autoscaling", "v2", "horizontalpodautoscalers"};
inline const GroupVersionResource kHpaV1{"autoscaling", "v1", "horizontalpodautoscalers"};
inline const GroupVersionResource kDeployments{"apps", "v1", "deployments"};
inline const GroupVersionResource kReplicaSets{"apps", "v1", "replicasets"};
inline const GroupVersionResource kStatefulSets{"apps", "v1", "statefulsets"};
inline const GroupVersionResource kLeases{"coordination.k8s.io", "v1", "leases"};
inline const GroupVersionResource kPodMetrics{"metrics.k8s.io", "v1beta1", "pods"};
}  // namespace resources

// Names one object (or a subresource of it). Empty namespace = cluster scope.
struct ObjectKey {
  GroupVersionResource gvr;
  std::string ns;
  std::string name;
  std::string subresource;  // "", "status", "scale"

  // "/apis/apps/v1/namespaces/default/deployments/web/scale"; namespace,
  // resource, name and subresource are percent-encoded path segments, so a
  // name holding '/', '?' or '#' cannot change the request.
  std::string Path() const;
};

struct ListOptions {
  std::string label_selector;   // string form, "" = everything
  std::string field_selector;
  std::string resource_version; // "" = most recent
  int64_t limit = 0;            // 0 = no paging
  std::string continue_token;
  std::optional<int> timeout_seconds;  // watch: server closes after this
  bool allow_watch_bookmarks = false;

  // URL query string without '?', keys in a fixed order, values URL-encoded.
  std::string ToQuery(bool watch) const;
};

enum class PatchType { kMerge, kStrategicMerge, kJsonPatch };
const char* PatchContentType(PatchType t);

struct WatchEvent {
  enum class Type { kAdded, kModified, kDeleted, kBookmark, kError };
  Type type = Type::kAdded;
  Json object;  // the object; for kError a metav1.Status
};
const char* WatchEventTypeName(WatchEvent::Type t);

// An open watch. Next() blocks until an event arrives, the stream ends
// (returns std::nullopt) or fails (non-OK Result). Cancel() may be called from
// another thread and makes a pending Next() return promptly.
class WatchStream {
 public:
  virtual ~WatchStream() = default;
  virtual Result<std::optional<WatchEvent>> Next() = 0;
  virtual void Cancel() = 0;
};

class ApiClient {
 public:
  virtual ~ApiClient() = default;

  virtual Result<Json> Get(const ObjectKey& key) = 0;
  // ns "" lists across all namespaces. Returns the List object (items + metadata).
  // Follows `continue` when opts.limit > 0 only if follow_pages is true.
  virtual Result<Json> List(const GroupVersionResource& gvr, const std::string& ns, const ListOptions& opts) = 0;
  virtual Result<std::unique_ptr<WatchStream>> Watch(const GroupVersionResource& gvr, const std::string& ns,
                                                     const ListOptions& opts) = 0;
  virtual Result<Json> Create(const GroupVersionResource& gvr, const std::string& ns, const Json& object) = 0;
  // PUT of the whole object (optimistic concurrency via metadata.resourceVersion).
  virtual Result<Json> Update(const ObjectKey& key, const Json& object) = 0;
  virtual Result<Json> Patch(const ObjectKey& key, PatchType type, const std::string& body) = 0;
  virtual Status Delete(const ObjectKey& key) = 0;
  // GET of an arbitrary path with query (aggregated APIs: custom/external metrics).
  // `path_and_query` starts with '/'.
  virtual Result<Json> GetPath(const std::string& path_and_query) = 0;

  // The same API at background priority, for writes that may wait so that
  // foreground ones (scale, status) never do: the event recorder's
  // (divergence 24). A client without priorities returns itself. The view
  // lives as long as this client and is thread-safe like it.
  virtual ApiClient& Background() { return *this; }

  // GetPath's 2xx reply body unparsed (an empty body is ""), for callers
  // that decode it as a stream into typed structs without a DOM (the metrics
  // client, issue 16); they name it in errors with ReplyName("GET", path)
  // as GetPath does. The default dumps GetPath's value ("null" for an empty
  // body), so fakes and wrappers keep working unchanged.
  virtual Result<std::string> GetPathRaw(const std::string& path_and_query) {
    auto j = GetPath(path_and_query);
    if (!j.ok()) return j.status();
    return j->dump(-1, ' ', false, Json::error_handler_t::replace);
  }

  // List's 2xx reply body unparsed (an empty body is ""), for callers that
  // decode list pages as a stream into typed objects without a DOM (the pod
  // informer, issue 16). They parse it with ParseForeignJson's checks,
  // naming it `what` ("LIST /api/v1/pods?limit=500 reply", as List() names
  // it), and report a body that does not parse as List() does:
  // InternalError(the parse error's message). The default dumps List()'s
  // value ("null" for an empty body), so fakes and wrappers keep working.
  struct RawReply {
    std::string body;
    std::string what;
  };
  virtual Result<RawReply> ListRaw(const GroupVersionResource& gvr, const std::string& ns, const ListOptions& opts) {
    auto j = List(gvr, ns, opts);
    if (!j.ok()) return j.status();
    return RawReply{j->dump(-1, ' ', false, Json::error_handler_t::replace), "LIST " + gvr.resource + " reply"};
  }
};

// How RestApiClient names a reply in the errors of parsing its body
// ("GET /apis/... reply", the path cut to 256 bytes and made safe); callers
// that parse GetPathRaw's body themselves use it for the same texts.
std::string ReplyName(const std::string& verb, const std::string& path_and_query);

// Maps an HTTP status code and optional metav1.Status body to a Status
// ("no objects" is never an error; connection failures are kUnavailable).
// The body is foreign: a Status with a field of the wrong type gives an error
// naming it ("decoding Status from 500 reply: field \"kind\": expected
// string, got null") under the reply's code; any other body is quoted cut to
// 256 bytes; every message is made safe with SafeText (base/text.h).
Status StatusFromHttp(int http_code, const std::string& body);

// The same for an already decoded metav1.Status object (a watch ERROR event,
// a reply body parsed elsewhere); `kind` may be absent. No re-serialisation.
Status StatusFromStatusObject(int http_code, const Json& status);

// Percent-encodes a query value (RFC 3986 unreserved characters kept); the
// same as PercentEncodeQueryValue (base/text.h).
std::string UrlEncode(const std::string& s);

}  // namespace hpad::k8s
