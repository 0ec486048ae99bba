// autoscaling/v1 Scale <-> JSON (see scale.h).
#include "k8sclient/api/types/scale.h"

#include "k8sclient/api/types/json_fields.h"

namespace hpad::k8s {

using nlohmann::json;
using namespace fields;

Result<Scale> ScaleFromJson(const json& j) {
  if (!j.is_object()) return FieldError("", "expected a Scale object, got " + std::string(j.type_name()));
  Scale s;
  s.raw = j;
  if (const json* m = Child(j, "metadata")) {
    HPAD_RETURN_IF_ERROR(ExpectObject(*m, "metadata"));
    HPAD_RETURN_IF_ERROR(GetString(*m, "name", "metadata", &s.name));
    HPAD_RETURN_IF_ERROR(GetString(*m, "namespace", "metadata", &s.ns));
    HPAD_RETURN_IF_ERROR(GetString(*m, "resourceVersion", "metadata", &s.resource_version));
  }
  if (const json* spec = Child(j, "spec")) {
    HPAD_RETURN_IF_ERROR(ExpectObject(*spec, "spec"));
    HPAD_RETURN_IF_ERROR(GetInt32(*spec, "replicas", "spec", &s.spec_replicas));
  }
  if (const json* st = Child(j, "status")) {
    HPAD_RETURN_IF_ERROR(ExpectObject(*st, "status"));
    HPAD_RETURN_IF_ERROR(GetInt32(*st, "replicas", "status", &s.status_replicas));
    HPAD_RETURN_IF_ERROR(GetString(*st, "selector", "status", &s.selector));
  }
  return s;
}

json ScaleToJson(const Scale& s) {
  json out = s.raw.is_object() ? s.raw : json::object();
  if (!out.contains("apiVersion")) out["apiVersion"] = "autoscaling/v1";
  if (!out.contains("kind")) out["kind"] = "Scale";
  json& meta = out["metadata"];
  if (!meta.is_object()) meta = json::object();
  if (!s.name.empty()) meta["name"] = s.name;
  if (!s.ns.empty()) meta["namespace"] = s.ns;
  // The resourceVersion read is sent back so a stale write gets 409 (W1).
  if (!s.resource_version.empty()) meta["resourceVersion"] = s.resource_version;
  if (!out["spec"].is_object()) out["spec"] = json::object();
  out["spec"]["replicas"] = s.spec_replicas;
  return out;
}

}  // namespace hpad::k8s
