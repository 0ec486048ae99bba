// Pod JSON -> trimmed Pod (see pod.h). Requests become milli-int64 at once
// (rule 1.7); sidecars (init containers with restartPolicy Always) are
// flagged for RQ1; pod-level requests are kept for RQ2.
#include "k8sclient/api/types/pod.h"

#include <nlohmann/json.hpp>

#include "k8sclient/api/types/json_fields.h"

namespace hpad::k8s {

using nlohmann::json;
using namespace fields;

namespace {

// owner[key]: a map of resource name -> quantity, into milli values.
Status ParseQuantityMap(const json& owner, const char* key, const std::string& path,
                        std::map<std::string, int64_t>* out) {
  const json* map = Child(owner, key);
  if (!map) return Status::Ok();
  std::string qp = Join(path, key);
  HPAD_RETURN_IF_ERROR(ExpectObject(*map, qp));
  for (const auto& [name, value] : map->items()) {
    if (value.is_null()) continue;
    auto q = QuantityFromJson(value, qp + "." + name);
    if (!q.ok()) return q.status();
    (*out)[name] = q->MilliValue();
  }
  return Status::Ok();
}

Status ParseRequests(const json& owner, const std::string& path, std::map<std::string, int64_t>* out) {
  const json* resources = Child(owner, "resources");
  if (!resources) return Status::Ok();
  std::string rp = Join(path, "resources");
  HPAD_RETURN_IF_ERROR(ExpectObject(*resources, rp));
  return ParseQuantityMap(*resources, "requests", rp, out);
}

Status ParseContainers(const json& spec, const char* key, const std::string& path, std::vector<PodContainer>* out) {
  const json* list = Child(spec, key);
  if (!list) return Status::Ok();
  std::string lp = Join(path, key);
  if (!list->is_array()) return FieldError(lp, "expected a list, got " + std::string(list->type_name()));
  out->reserve(list->size());
  for (size_t i = 0; i < list->size(); ++i) {
    const json& c = (*list)[i];
    std::string cp = Index(lp, i);
    HPAD_RETURN_IF_ERROR(ExpectObject(c, cp));
    PodContainer pc;
    HPAD_RETURN_IF_ERROR(GetString(c, "name", cp, &pc.name));
    HPAD_RETURN_IF_ERROR(ParseRequests(c, cp, &pc.requests_milli));
    std::string restart_policy;
    HPAD_RETURN_IF_ERROR(GetString(c, "restartPolicy", cp, &restart_policy));
    pc.restart_policy_always = restart_policy == "Always";
    out->push_back(std::move(pc));
  }
  return Status::Ok();
}

}  // namespace

Result<Pod> PodFromJson(const json& j) {
  if (!j.is_object()) return FieldError("", "expected a Pod object, got " + std::string(j.type_name()));
  Pod pod;
  if (const json* m = Child(j, "metadata")) {
    const std::string p = "metadata";
    HPAD_RETURN_IF_ERROR(ExpectObject(*m, p));
    HPAD_RETURN_IF_ERROR(GetString(*m, "name", p, &pod.name));
    HPAD_RETURN_IF_ERROR(GetString(*m, "namespace", p, &pod.ns));
    HPAD_RETURN_IF_ERROR(GetString(*m, "resourceVersion", p, &pod.resource_version));
    HPAD_RETURN_IF_ERROR(GetStringMap(*m, "labels", p, &pod.labels));
    HPAD_RETURN_IF_ERROR(GetOptTime(*m, "deletionTimestamp", p, &pod.deletion_timestamp));
  }
  if (const json* s = Child(j, "spec")) {
    const std::string p = "spec";
    HPAD_RETURN_IF_ERROR(ExpectObject(*s, p));
    HPAD_RETURN_IF_ERROR(ParseContainers(*s, "containers", p, &pod.containers));
    HPAD_RETURN_IF_ERROR(ParseContainers(*s, "initContainers", p, &pod.init_containers));
    HPAD_RETURN_IF_ERROR(ParseRequests(*s, p, &pod.pod_level_requests_milli));
    HPAD_RETURN_IF_ERROR(ParseQuantityMap(*s, "overhead", p, &pod.overhead_milli));
  }
  if (const json* st = Child(j, "status")) {
    const std::string p = "status";
    HPAD_RETURN_IF_ERROR(ExpectObject(*st, p));
    HPAD_RETURN_IF_ERROR(GetString(*st, "phase", p, &pod.phase));
    HPAD_RETURN_IF_ERROR(GetOptTime(*st, "startTime", p, &pod.start_time));
    if (const json* conds = Child(*st, "conditions")) {
      std::string cp = Join(p, "conditions");
      if (!conds->is_array()) return FieldError(cp, "expected a list, got " + std::string(conds->type_name()));
      // P4: the first Ready condition counts, as upstream's GetPodCondition.
      for (size_t i = 0; i < conds->size() && !pod.ready_status; ++i) {
        const json& c = (*conds)[i];
        std::string ip = Index(cp, i);
        HPAD_RETURN_IF_ERROR(ExpectObject(c, ip));
        std::string type;
        HPAD_RETURN_IF_ERROR(GetString(c, "type", ip, &type));
        if (type != "Ready") continue;
        std::string status;
        HPAD_RETURN_IF_ERROR(GetString(c, "status", ip, &status));
        pod.ready_status = status;
        HPAD_RETURN_IF_ERROR(GetOptTime(c, "lastTransitionTime", ip, &pod.ready_last_transition));
      }
    }
  }
  return pod;
}

}  // namespace hpad::k8s
