// RestMapper: (group, kind) -> REST resources, from API discovery.
//
// Reads legacy discovery - /api, /apis, then the APIResourceList of /api/v1
// and every /apis/<group>/<version> - and maps each kind to its
// GroupVersionResource, scope and subresources (so the HPA controller can
// find `scale` on apps/v1 Deployments and on any CRD that declares it).
// Results are cached; a lookup that misses refreshes discovery (at most once
// per min_refresh_interval on the injected clock), so a CRD installed after
// start is found. A group-version whose discovery failed (e.g. an aggregated
// API that is down) makes a miss kUnavailable, not kNotFound, because the
// kind may live there.
//
// Ownership: holds references to the ApiClient and Clock, which must outlive
// it. Thread-safety: all methods may be called concurrently.
#pragma once

#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "k8sclient/api_client.h"
#include "k8sclient/base/clock.h"
#include "k8sclient/base/status.h"

namespace hpad::k8s {

struct ResourceMapping {
  GroupVersionResource gvr;
  std::string kind;  // "Deployment"
  bool namespaced = true;
  std::vector<std::string> verbs;
  std::vector<std::string> subresources;  // "status", "scale", ...

  bool HasSubresource(const std::string& name) const;
};

// Splits "apps/v1" -> {"apps", "v1"}, "v1" -> {"", "v1"}.
std::pair<std::string, std::string> SplitApiVersion(const std::string& api_version);

class RestMapper {
 public:
  RestMapper(ApiClient& client, const Clock& clock, Duration min_refresh_interval = std::chrono::seconds(10));

  // Every mapping of the kind in the group, the group's preferred version
  // first, then in discovery order. kNotFound when discovery (after a
  // refresh) knows no such kind.
  Result<std::vector<ResourceMapping>> MappingsFor(const std::string& group, const std::string& kind);
  // The mapping for one apiVersion ("apps/v1") and kind.
  Result<ResourceMapping> MappingFor(const std::string& api_version, const std::string& kind);

  // Re-reads discovery now. Fails only if /api and /apis cannot be read;
  // failed group-versions are remembered (see above).
  Status Refresh();

 private:
  struct Snapshot {
    // (group, kind) -> mappings in preference order.
    std::map<std::pair<std::string, std::string>, std::vector<ResourceMapping>> by_group_kind;
    std::vector<std::string> failed_group_versions;
    std::vector<std::string> groups_seen;
  };
  Result<Snapshot> Discover();
  bool RefreshAllowed();
  std::optional<std::vector<ResourceMapping>> Lookup(const std::string& group, const std::string& kind);

  ApiClient& client_;
  const Clock& clock_;
  const Duration min_refresh_interval_;
  std::mutex refresh_mu_;  // one discovery at a time
  std::mutex mu_;          // guards the fields below
  std::optional<Snapshot> snapshot_;
  std::optional<Time> last_refresh_;
};

}  // namespace hpad::k8s
