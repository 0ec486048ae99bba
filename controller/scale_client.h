// Scale target access (hpa-semantics.md T1-T5, W1): resolve an HPA's
// scaleTargetRef to REST mappings, read the scale subresource, write it back.
//
// The (group, kind) -> resource mapping is k8s::RestMapper
// (k8sclient/discovery.h). RestScaleClient GETs/PUTs
// `<resource>/<name>/scale` through ApiClient and retries a PUT that hits a
// 409 by re-reading (W1). Thread-safe; shares the client and the mapper.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "k8sclient/api_client.h"
#include "k8sclient/discovery.h"
#include "k8sclient/base/status.h"
#include "k8sclient/api/types/hpa.h"
#include "k8sclient/api/types/scale.h"

namespace hpad::ctrl {

struct ScaleReadResult {
  k8s::Scale scale;
  k8s::GroupVersionResource gvr;  // fixes the resource for the later update (T3)
  // Served from a watch cache (ScaleCache), which may be behind the server:
  // a 409 on its write means the count was computed from stale replicas.
  bool from_cache = false;
};

class ScaleClient {
 public:
  virtual ~ScaleClient() = default;
  // T1-T3.
  virtual Result<ScaleReadResult> GetScale(const std::string& ns, const k8s::CrossVersionObjectReference& ref) = 0;
  // W1: sets spec.replicas on `read` and PUTs it; on 409 re-GETs and retries (5 attempts).
  virtual Status UpdateScale(const std::string& ns, const ScaleReadResult& read, int32_t replicas) = 0;
  // A read that never comes from a cache (issue 11 item 9: the re-run after a
  // cached read's write got 409). Plain GetScale where there is no cache.
  virtual Result<ScaleReadResult> GetScaleFresh(const std::string& ns, const k8s::CrossVersionObjectReference& ref) {
    return GetScale(ns, ref);
  }
  // One PUT, no retry: a 409 is returned as is. UpdateScale where the
  // implementation has no single-attempt form.
  virtual Status TryUpdateScale(const std::string& ns, const ScaleReadResult& read, int32_t replicas) {
    return UpdateScale(ns, read, replicas);
  }
};

// Issue 15: whether a failed scale write may nonetheless have been applied by
// the server. False only when the server answered with a refusal (4xx: 409,
// 403, 422, 429, ...) or the write was never sent (the lease fence refused it,
// reason LeaseNotHeld). Everything else - a client-side timeout or
// cancellation after sending (the fence's hard deadline), a dropped
// connection, a 5xx (etcd may have committed before the error) - leaves the
// outcome unknown: the reconciler then counts the rescale as done (B10,
// conservatively) until a fresh read of the scale says otherwise.
bool ScaleWriteMayHaveApplied(const Status& failed);

class RestScaleClient : public ScaleClient {
 public:
  RestScaleClient(std::shared_ptr<k8s::ApiClient> client, std::shared_ptr<k8s::RestMapper> mapper);
  Result<ScaleReadResult> GetScale(const std::string& ns, const k8s::CrossVersionObjectReference& ref) override;
  Status UpdateScale(const std::string& ns, const ScaleReadResult& read, int32_t replicas) override;
  Status TryUpdateScale(const std::string& ns, const ScaleReadResult& read, int32_t replicas) override;

 private:
  // T3 over the given mappings: the first success, else the first error.
  Result<ScaleReadResult> ReadScale(const std::string& ns, const k8s::CrossVersionObjectReference& ref,
                                    const std::vector<k8s::RestMapping>& mappings);
  std::shared_ptr<k8s::ApiClient> client_;
  std::shared_ptr<k8s::RestMapper> mapper_;
};

}  // namespace hpad::ctrl
