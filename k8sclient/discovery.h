// RestMapper: (group, kind) -> REST resources for scale targets and Object
// metrics (hpa-semantics.md T1-T3), from API discovery. The one mapper of
// hpad: the scale client, the scale cache and the metrics client use it.
//
// DiscoveryRestMapper reads, on a lookup of a (group, kind) it has not seen,
// the group's versions (/api for the core group, /apis/<group> otherwise,
// preferred version first) and each version's APIResourceList
// (/api/v1, /apis/<group>/<version>), and keeps every version that serves
// the kind, noting whether it has a `scale` subresource. Hits are cached
// for the life of the mapper; a miss asks the server again, so a CRD
// installed after start is found. apps/v1 Deployment, StatefulSet and
// ReplicaSet are known without discovery when discovery fails (a minimal or
// partially available API server). Every byte of a discovery document is
// checked before use: an entry of the wrong shape is skipped.
//
// Ownership: shares the ApiClient (shared_ptr, owned with the wiring).
// Thread-safety: all methods may be called concurrently; mu_ guards cache_.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "k8sclient/api_client.h"
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
};

class DiscoveryRestMapper final : public RestMapper {
 public:
  explicit DiscoveryRestMapper(std::shared_ptr<ApiClient> client);
  Result<std::vector<RestMapping>> RestMappings(const std::string& group, const std::string& kind) override;

 private:
  Result<std::vector<RestMapping>> Discover(const std::string& group, const std::string& kind);
  std::shared_ptr<ApiClient> client_;
  std::mutex mu_;
  std::map<std::pair<std::string, std::string>, std::vector<RestMapping>> cache_;  // guarded by mu_
};

// T1: "apps/v1" -> {"apps", "v1"}; "v1" -> {"", "v1"}; more than one '/' is an error
// `unexpected GroupVersion string: <s>`.
Result<std::pair<std::string, std::string>> ParseGroupVersion(const std::string& api_version);

}  // namespace hpad::k8s
