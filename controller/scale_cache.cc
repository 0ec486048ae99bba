// ScaleCache: scale reads of the apps/v1 workload kinds from informers
// (see scale_cache.h; rules T1-T4, W1).
#include "controller/scale_cache.h"

#include <nlohmann/json.hpp>

namespace hpad::ctrl {
namespace {

const nlohmann::json* Find(const nlohmann::json& j, const char* a, const char* b) {
  if (!j.is_object()) return nullptr;
  auto ia = j.find(a);
  if (ia == j.end() || !ia->is_object()) return nullptr;
  auto ib = ia->find(b);
  return ib == ia->end() ? nullptr : &*ib;
}

std::string StringAt(const nlohmann::json& j, const char* a, const char* b) {
  const nlohmann::json* v = Find(j, a, b);
  return v != nullptr && v->is_string() ? v->get<std::string>() : std::string();
}

// Replica counts as the scale subresource shows them: absent or not a
// number -> 0.
Result<int32_t> ReplicasAt(const nlohmann::json& j, const char* a) {
  const nlohmann::json* v = Find(j, a, "replicas");
  if (v == nullptr || !v->is_number()) return 0;
  if (!v->is_number_integer()) return InvalidError(std::string(a) + ".replicas: not an integer");
  const int64_t n = v->get<int64_t>();
  if (n < INT32_MIN || n > INT32_MAX) return InvalidError(std::string(a) + ".replicas: out of range");
  return static_cast<int32_t>(n);
}

}  // namespace

Result<ScaleSource> ScaleSourceFromJson(const nlohmann::json& object) {
  if (!object.is_object()) return InvalidError("expected an object");
  ScaleSource s;
  s.ns = StringAt(object, "metadata", "namespace");
  s.name = StringAt(object, "metadata", "name");
  s.resource_version = StringAt(object, "metadata", "resourceVersion");
  if (s.name.empty()) return InvalidError("metadata.name is required");
  auto spec = ReplicasAt(object, "spec");
  if (!spec.ok()) return spec.status();
  auto status = ReplicasAt(object, "status");
  if (!status.ok()) return status.status();
  s.spec_replicas = *spec;
  s.status_replicas = *status;
  // The scale subresource's status.selector: spec.selector in string form;
  // none when absent or unparsable (the reconciler then reports S1).
  if (const nlohmann::json* sel = Find(object, "spec", "selector"); sel != nullptr && !sel->is_null()) {
    auto parsed = k8s::Selector::FromJson(*sel);
    if (parsed.ok() && !parsed->IsNothing()) s.selector = parsed->ToString();
  }
  return s;
}

ScaleCache::ScaleCache(ScaleClient& fallback, k8s::ApiClient& api, const Clock& clock)
    : fallback_(fallback),
      kinds_{Kind{"Deployment", k8s::resources::kDeployments, nullptr},
             Kind{"StatefulSet", k8s::resources::kStatefulSets, nullptr},
             Kind{"ReplicaSet", k8s::resources::kReplicaSets, nullptr}} {
  for (auto& k : kinds_) {
    k8s::ReflectorOptions ro;
    ro.gvr = k.gvr;
    ro.name = k.gvr.resource;
    k.informer = std::make_unique<k8s::Informer<ScaleSource>>(api, clock, ro, ScaleSourceFromJson);
  }
}

ScaleCache::~ScaleCache() { Stop(); }

void ScaleCache::Start() {
  for (auto& k : kinds_) k.informer->Start();
}

void ScaleCache::Stop() {
  for (auto& k : kinds_) k.informer->Stop();
}

Status ScaleCache::Relist() {
  for (auto& k : kinds_) {
    Status s = k.informer->Relist();
    if (!s.ok()) return s.WithContext("listing " + k.gvr.resource);
  }
  return Status::Ok();
}

bool ScaleCache::HasSynced() const {
  for (const auto& k : kinds_)
    if (!k.informer->HasSynced()) return false;
  return true;
}

Result<ScaleReadResult> ScaleCache::GetScale(const std::string& ns, const k8s::CrossVersionObjectReference& ref) {
  // T1/T2: upstream maps (group, kind), whatever the version; apps kinds map
  // to apps/v1.
  auto gv = k8s::ParseGroupVersion(ref.api_version);
  if (gv.ok() && gv->first == "apps") {
    for (const auto& k : kinds_) {
      if (ref.kind != k.kind) continue;
      if (!k.informer->HasSynced()) break;
      auto src = k.informer->Store().Get(ns, ref.name);
      if (!src) break;  // not (yet) cached, or gone: the GET says which
      ScaleReadResult out;
      out.gvr = k.gvr;
      out.scale.name = src->name;
      out.scale.ns = src->ns;
      out.scale.resource_version = src->resource_version;  // a stale one gets 409 (W1)
      out.scale.spec_replicas = src->spec_replicas;
      out.scale.status_replicas = src->status_replicas;
      out.scale.selector = src->selector;
      // raw stays null: ScaleToJson builds the autoscaling/v1 Scale to PUT.
      out.from_cache = true;
      hits_.fetch_add(1, std::memory_order_relaxed);
      return out;
    }
  }
  misses_.fetch_add(1, std::memory_order_relaxed);
  return fallback_.GetScale(ns, ref);
}

Status ScaleCache::UpdateScale(const std::string& ns, const ScaleReadResult& read, int32_t replicas) {
  // A cached read is written once: its 409 goes back to the reconciler,
  // which decides again from a fresh GET (issue 11 item 9).
  if (read.from_cache) return fallback_.TryUpdateScale(ns, read, replicas);
  return fallback_.UpdateScale(ns, read, replicas);
}

Result<ScaleReadResult> ScaleCache::GetScaleFresh(const std::string& ns, const k8s::CrossVersionObjectReference& ref) {
  return fallback_.GetScale(ns, ref);
}

}  // namespace hpad::ctrl
