// Scale target access (hpa-semantics.md T1-T5, W1): resolve an HPA's
// scaleTargetRef to REST mappings, read the scale subresource, write it back.
//
// RestMapper answers (group, kind) -> ordered resource mappings. The
// implementation here knows apps/v1 Deployment/StatefulSet/ReplicaSet
// statically and discovers anything else (custom resources with a scale
// subresource) from /apis/<group> and /apis/<group>/<version>
// (APIResourceList entries "<resource>/scale"), caching hits and refreshing
// on a miss. ScaleClient GETs/PUTs `<resource>/<name>/scale` through
// ApiClient and retries a PUT that hits a 409 by re-reading (W1).
// Both classes are thread-safe.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "k8sclient/api_client.h"
#include "k8sclient/base/status.h"
#include "k8sclient/api/types/hpa.h"
#include "k8sclient/api/types/scale.h"

namespace hpad::ctrl {

struct RestMapping {
  k8s::GroupVersionResource gvr;
  bool has_scale = false;
};

class RestMapper {
 public:
  virtual ~RestMapper() = default;
  // T2: every mapping of the kind in the group, preferred version first.
  // No match: error `no matches for kind "<K>" in group "<G>"`.
  virtual Result<std::vector<RestMapping>> RestMappings(const std::string& group, const std::string& kind) = 0;
};

class DiscoveryRestMapper : public RestMapper {
 public:
  explicit DiscoveryRestMapper(std::shared_ptr<k8s::ApiClient> client);
  Result<std::vector<RestMapping>> RestMappings(const std::string& group, const std::string& kind) override;
  // Lower-case plural for object metric paths (falls back to a guess).
  Result<std::string> ResourceFor(const std::string& group, const std::string& kind);

 private:
  Result<std::vector<RestMapping>> Discover(const std::string& group, const std::string& kind);
  std::shared_ptr<k8s::ApiClient> client_;
  std::mutex mu_;
  std::map<std::pair<std::string, std::string>, std::vector<RestMapping>> cache_;
};

// T1: "apps/v1" -> {"apps", "v1"}; "v1" -> {"", "v1"}; more than one '/' is an error
// `unexpected GroupVersion string: <s>`.
Result<std::pair<std::string, std::string>> ParseGroupVersion(const std::string& api_version);

struct ScaleReadResult {
  k8s::Scale scale;
  k8s::GroupVersionResource gvr;  // fixes the resource for the later update (T3)
};

class ScaleClient {
 public:
  virtual ~ScaleClient() = default;
  // T1-T3.
  virtual Result<ScaleReadResult> GetScale(const std::string& ns, const k8s::CrossVersionObjectReference& ref) = 0;
  // W1: sets spec.replicas on `read` and PUTs it; on 409 re-GETs and retries (5 attempts).
  virtual Status UpdateScale(const std::string& ns, const ScaleReadResult& read, int32_t replicas) = 0;
};

class RestScaleClient : public ScaleClient {
 public:
  RestScaleClient(std::shared_ptr<k8s::ApiClient> client, std::shared_ptr<RestMapper> mapper);
  Result<ScaleReadResult> GetScale(const std::string& ns, const k8s::CrossVersionObjectReference& ref) override;
  Status UpdateScale(const std::string& ns, const ScaleReadResult& read, int32_t replicas) override;

 private:
  std::shared_ptr<k8s::ApiClient> client_;
  std::shared_ptr<RestMapper> mapper_;
};

}  // namespace hpad::ctrl
