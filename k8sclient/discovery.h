// RestMapper: (group, kind) -> REST resources for scale targets and Object
// metrics (hpa-semantics.md T1-T3), from API discovery. The one mapper of
// hpad: the scale client, the scale cache and the metrics client use it.
//
// DiscoveryRestMapper reads, on a lookup of a (group, kind) it has not seen,
// the group's versions (/api for the core group, /apis/<group> otherwise,
// preferred version first) and each version's APIResourceList
// (/api/v1, /apis/<group>/<version>), and keeps every version that serves
// the kind, noting whether it has a `scale` subresource. Hits are cached
// for `ttl` (10 min) and then looked up again (a failed refresh keeps the old
// mapping: a flaky discovery endpoint must not unmap working targets); a
// miss asks the server again, so a CRD installed after start is found. A
// caller that got 404 from a mapped resource reports it (ReportNotFound):
// the entry is dropped and looked up again, at most once per
// `not_found_refresh_interval` (30 s) per kind, so a CRD that drops or
// renames a version recovers without a restart, and a missing target object
// (also a 404) costs at most one discovery round per kind and interval. apps/v1 Deployment, StatefulSet and
// ReplicaSet are known without discovery when discovery fails (a minimal or
// partially available API server). Every byte of a discovery document is
// checked before use: an entry of the wrong shape is skipped.
//
// Ownership: shares the ApiClient (shared_ptr, owned with the wiring).
// Thread-safety: all methods may be called concurrently; mu_ guards cache_
// and last_not_found_ (never held during a request).
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "k8sclient/api_client.h"
#include "k8sclient/base/clock.h"
#include "k8sclient/base/status.h"

namespace hpad::k8s {

struct RestMapping {
  GroupVersionResource gvr;
  bool has_scale = false;  // "<resource>/scale" is served
};

class RestMapper {
 public:
  virtual ~RestMapper() = default;
  // T2: every mapping of the kind in the group, preferred version first.
  // No match: error `no matches for kind "<K>" in group "<G>"` (kNotFound).
  virtual Result<std::vector<RestMapping>> RestMappings(const std::string& group, const std::string& kind) = 0;
  // A request to a mapping of (group, kind) answered 404: the mapping may be
  // stale. True when the cached entry was dropped (the caller may look up
  // again and retry once); false when rate-limited or nothing was cached.
  virtual bool ReportNotFound(const std::string& group, const std::string& kind) = 0;
};

struct RestMapperOptions {
  Duration ttl = std::chrono::minutes(10);
  Duration not_found_refresh_interval = std::chrono::seconds(30);
};

class DiscoveryRestMapper final : public RestMapper {
 public:
  // `clock` (monotonic time for the TTL and the rate limit) must outlive the mapper.
  DiscoveryRestMapper(std::shared_ptr<ApiClient> client, const Clock& clock, RestMapperOptions options = {});
  Result<std::vector<RestMapping>> RestMappings(const std::string& group, const std::string& kind) override;
  bool ReportNotFound(const std::string& group, const std::string& kind) override;

 private:
  using GroupKind = std::pair<std::string, std::string>;
  struct Entry {
    std::vector<RestMapping> mappings;
    MonoTime fetched;
  };
  Result<std::vector<RestMapping>> Discover(const std::string& group, const std::string& kind);
  std::shared_ptr<ApiClient> client_;
  const Clock& clock_;
  const RestMapperOptions options_;
  std::mutex mu_;
  std::map<GroupKind, Entry> cache_;                // guarded by mu_
  // Last ReportNotFound that dropped an entry, per kind. Entries older than
  // the interval are pruned on each report, so the map stays as small as the
  // set of kinds reported within one interval.
  std::map<GroupKind, MonoTime> last_not_found_;  // guarded by mu_
};

// T1: "apps/v1" -> {"apps", "v1"}; "v1" -> {"", "v1"}; more than one '/' is an error
// `unexpected GroupVersion string: <s>`.
Result<std::pair<std::string, std::string>> ParseGroupVersion(const std::string& api_version);

}  // namespace hpad::k8s
