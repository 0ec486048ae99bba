// ScaleCache: the scale of apps/v1 Deployments, StatefulSets and ReplicaSets
// served from informers on those kinds instead of one GET of
// `<resource>/<name>/scale` per HPA per period (issue 7: "scale reads that do
// not cost one GET per HPA per cycle where a watch can serve them").
//
// What the scale subresource of those kinds is made of (the API server's
// scale subresource, and hpad-sim's): spec.replicas (absent: 0),
// status.replicas (absent: 0), and status.selector = spec.selector rendered
// by k8s::Selector::FromJson(...).ToString() (absent or invalid: "", which
// the reconciler reports as S1). The cached objects are trimmed to exactly
// that (ScaleSource), so 10,000 workloads cost a few MiB.
//
// Everything else falls back to `fallback` (the GET path, T1-T4): other
// groups and kinds (custom resources with a scale subresource), an informer
// not synced yet, an object not in the cache (just created, or deleted: the
// GET then reports the real error text). Writes go to `fallback`: a PUT of
// the scale subresource carrying the cached resourceVersion. A write of a
// cached read is tried once (TryUpdateScale): a stale cache gets 409 and the
// reconciler re-runs from GetScaleFresh (issue 11 item 9) instead of W1's
// retry re-applying a count computed from stale replicas. A write of a GET
// read keeps W1's re-GET + retry.
//
// Used by the daemon only (ControllerOptions::scale_from_cache, flag
// --scale-from-cache); the scenario runner reads scales with GET as before.
//
// Thread-safety: GetScale/UpdateScale are thread-safe. Start/Stop/Relist are
// called from one thread. `fallback`, `api` and `clock` are borrowed.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

#include "controller/scale_client.h"
#include "k8sclient/base/clock.h"
#include "k8sclient/informer.h"
#include "k8sclient/api/label_selector.h"

namespace hpad::ctrl {

// The part of a Deployment/StatefulSet/ReplicaSet its scale subresource shows.
struct ScaleSource {
  std::string ns;
  std::string name;
  std::string resource_version;
  k8s::Labels labels;  // always empty: the store's label index is not needed
  int32_t spec_replicas = 0;
  int32_t status_replicas = 0;
  std::string selector;  // status.selector of the scale, "" when none
};

Result<ScaleSource> ScaleSourceFromJson(const nlohmann::json& object);

class ScaleCache : public ScaleClient {
 public:
  ScaleCache(ScaleClient& fallback, k8s::ApiClient& api, const Clock& clock);
  ~ScaleCache() override;
  ScaleCache(const ScaleCache&) = delete;
  ScaleCache& operator=(const ScaleCache&) = delete;

  // Lists and watches the three kinds on background threads; does not wait
  // (until synced, GetScale falls back to GET).
  void Start();
  void Stop();
  // Synchronous list of the three kinds (tests). Stops at the first error.
  Status Relist();
  bool HasSynced() const;

  Result<ScaleReadResult> GetScale(const std::string& ns, const k8s::CrossVersionObjectReference& ref) override;
  Status UpdateScale(const std::string& ns, const ScaleReadResult& read, int32_t replicas) override;
  Result<ScaleReadResult> GetScaleFresh(const std::string& ns, const k8s::CrossVersionObjectReference& ref) override;

  // Reads answered from the cache / passed to the fallback (tests, logs).
  int64_t hits() const { return hits_.load(); }
  int64_t misses() const { return misses_.load(); }

 private:
  struct Kind {
    const char* kind;
    k8s::GroupVersionResource gvr;
    std::unique_ptr<k8s::Informer<ScaleSource>> informer;
  };
  ScaleClient& fallback_;
  std::array<Kind, 3> kinds_;
  std::atomic<int64_t> hits_{0};
  std::atomic<int64_t> misses_{0};
};

}  // namespace hpad::ctrl
