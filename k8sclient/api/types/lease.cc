// coordination.k8s.io/v1 Lease <-> JSON (see lease.h).
#include "k8sclient/api/time_format.h"
#include "k8sclient/api/types/lease.h"
#include "k8sclient/api/types/json_fields.h"

namespace hpad::k8s {

using nlohmann::json;
using namespace fields;

Result<Lease> LeaseFromJson(const json& j) {
  if (!j.is_object()) return FieldError("", "expected a Lease object, got " + std::string(j.type_name()));
  Lease l;
  l.raw = j;
  if (const json* m = Child(j, "metadata")) {
    auto meta = ObjectMetaFromJson(*m, "metadata");
    if (!meta.ok()) return meta.status();
    l.metadata = std::move(*meta);
  }
  if (const json* s = Child(j, "spec")) {
    const std::string p = "spec";
    HPAD_RETURN_IF_ERROR(ExpectObject(*s, p));
    HPAD_RETURN_IF_ERROR(GetOptString(*s, "holderIdentity", p, &l.spec.holder_identity));
    HPAD_RETURN_IF_ERROR(GetOptInt32(*s, "leaseDurationSeconds", p, &l.spec.lease_duration_seconds));
    HPAD_RETURN_IF_ERROR(GetOptTime(*s, "acquireTime", p, &l.spec.acquire_time));
    HPAD_RETURN_IF_ERROR(GetOptTime(*s, "renewTime", p, &l.spec.renew_time));
    HPAD_RETURN_IF_ERROR(GetOptInt32(*s, "leaseTransitions", p, &l.spec.lease_transitions));
  }
  return l;
}

json LeaseToJson(const Lease& l) {
  json out = l.raw.is_object() ? l.raw : json::object();
  out["apiVersion"] = "coordination.k8s.io/v1";
  out["kind"] = "Lease";
  ObjectMetaToJson(l.metadata, &out["metadata"]);
  json& spec = out["spec"];
  if (!spec.is_object()) spec = json::object();
  auto opt = [&](const char* key, const auto& v) {
    if (v) {
      spec[key] = *v;
    } else {
      spec.erase(key);
    }
  };
  opt("holderIdentity", l.spec.holder_identity);
  opt("leaseDurationSeconds", l.spec.lease_duration_seconds);
  SetOrEraseTime(&spec, "acquireTime", l.spec.acquire_time, true);
  SetOrEraseTime(&spec, "renewTime", l.spec.renew_time, true);
  opt("leaseTransitions", l.spec.lease_transitions);
  return out;
}

}  // namespace hpad::k8s
