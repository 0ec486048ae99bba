// autoscaling/v2 HorizontalPodAutoscaler <-> JSON, and v1 <-> v2 conversion
// (see hpa.h).
//
// Writing back: HpaToJson builds a "patch" of the modelled spec fields in
// which an absent optional field is an explicit null, and merges it into the
// raw object as read (JSON merge-patch semantics: null deletes, objects
// merge, lists of equal length merge element-wise). So every field hpad does
// not model, including the payload of a metric type it does not know (16.9),
// survives a read-modify-write. The status is rebuilt wholesale (W3).
#include "k8sclient/api/types/hpa.h"

#include <set>

#include "k8sclient/api/time_format.h"
#include "k8sclient/api/types/json_fields.h"

namespace hpad::k8s {

using nlohmann::json;
using namespace fields;

namespace {

// ---------------------------------------------------------------- parsing

Status ParseRef(const json& j, const std::string& path, CrossVersionObjectReference* out) {
  HPAD_RETURN_IF_ERROR(ExpectObject(j, path));
  HPAD_RETURN_IF_ERROR(GetString(j, "kind", path, &out->kind));
  HPAD_RETURN_IF_ERROR(GetString(j, "name", path, &out->name));
  HPAD_RETURN_IF_ERROR(GetString(j, "apiVersion", path, &out->api_version));
  return Status::Ok();
}

Status ParseIdentifier(const json& j, const std::string& path, MetricIdentifier* out) {
  HPAD_RETURN_IF_ERROR(ExpectObject(j, path));
  HPAD_RETURN_IF_ERROR(GetString(j, "name", path, &out->name));
  if (const json* sel = Child(j, "selector")) {
    if (!sel->is_object()) return FieldError(Join(path, "selector"), "expected an object, got " + DescribeJson(*sel));
    out->selector = *sel;
  }
  return Status::Ok();
}

Status ParseTarget(const json& j, const std::string& path, MetricTarget* out) {
  HPAD_RETURN_IF_ERROR(ExpectObject(j, path));
  HPAD_RETURN_IF_ERROR(GetString(j, "type", path, &out->type));
  HPAD_RETURN_IF_ERROR(GetOptQuantity(j, "value", path, &out->value));
  HPAD_RETURN_IF_ERROR(GetOptQuantity(j, "averageValue", path, &out->average_value));
  HPAD_RETURN_IF_ERROR(GetOptInt32(j, "averageUtilization", path, &out->average_utilization));
  return Status::Ok();
}

Status ParseValueStatus(const json& j, const std::string& path, MetricValueStatus* out) {
  HPAD_RETURN_IF_ERROR(ExpectObject(j, path));
  HPAD_RETURN_IF_ERROR(GetOptQuantity(j, "value", path, &out->value));
  HPAD_RETURN_IF_ERROR(GetOptQuantity(j, "averageValue", path, &out->average_value));
  HPAD_RETURN_IF_ERROR(GetOptInt32(j, "averageUtilization", path, &out->average_utilization));
  return Status::Ok();
}

// Parses the member `key` of a metric entry (if present) with `parse`.
template <typename T, typename F>
Status ParseMember(const json& entry, const char* key, const std::string& path, HeapOptional<T>* out, F parse) {
  const json* c = Child(entry, key);
  if (!c) return Status::Ok();
  std::string p = Join(path, key);
  HPAD_RETURN_IF_ERROR(ExpectObject(*c, p));
  T value;
  HPAD_RETURN_IF_ERROR(parse(*c, p, &value));
  *out = std::move(value);
  return Status::Ok();
}

Status ParseMetricSpec(const json& j, const std::string& path, MetricSpec* out) {
  HPAD_RETURN_IF_ERROR(ExpectObject(j, path));
  HPAD_RETURN_IF_ERROR(GetString(j, "type", path, &out->type));
  HPAD_RETURN_IF_ERROR(ParseMember(j, "resource", path, &out->resource,
                                   [](const json& c, const std::string& p, ResourceMetricSource* r) {
                                     HPAD_RETURN_IF_ERROR(GetString(c, "name", p, &r->name));
                                     if (const json* t = Child(c, "target")) return ParseTarget(*t, Join(p, "target"), &r->target);
                                     return Status::Ok();
                                   }));
  HPAD_RETURN_IF_ERROR(ParseMember(j, "containerResource", path, &out->container_resource,
                                   [](const json& c, const std::string& p, ContainerResourceMetricSource* r) {
                                     HPAD_RETURN_IF_ERROR(GetString(c, "name", p, &r->name));
                                     HPAD_RETURN_IF_ERROR(GetString(c, "container", p, &r->container));
                                     if (const json* t = Child(c, "target")) return ParseTarget(*t, Join(p, "target"), &r->target);
                                     return Status::Ok();
                                   }));
  HPAD_RETURN_IF_ERROR(ParseMember(j, "pods", path, &out->pods,
                                   [](const json& c, const std::string& p, PodsMetricSource* r) {
                                     if (const json* m = Child(c, "metric")) {
                                       HPAD_RETURN_IF_ERROR(ParseIdentifier(*m, Join(p, "metric"), &r->metric));
                                     }
                                     if (const json* t = Child(c, "target")) return ParseTarget(*t, Join(p, "target"), &r->target);
                                     return Status::Ok();
                                   }));
  HPAD_RETURN_IF_ERROR(ParseMember(j, "object", path, &out->object,
                                   [](const json& c, const std::string& p, ObjectMetricSource* r) {
                                     if (const json* d = Child(c, "describedObject")) {
                                       HPAD_RETURN_IF_ERROR(ParseRef(*d, Join(p, "describedObject"), &r->described_object));
                                     }
                                     if (const json* m = Child(c, "metric")) {
                                       HPAD_RETURN_IF_ERROR(ParseIdentifier(*m, Join(p, "metric"), &r->metric));
                                     }
                                     if (const json* t = Child(c, "target")) return ParseTarget(*t, Join(p, "target"), &r->target);
                                     return Status::Ok();
                                   }));
  HPAD_RETURN_IF_ERROR(ParseMember(j, "external", path, &out->external,
                                   [](const json& c, const std::string& p, ExternalMetricSource* r) {
                                     if (const json* m = Child(c, "metric")) {
                                       HPAD_RETURN_IF_ERROR(ParseIdentifier(*m, Join(p, "metric"), &r->metric));
                                     }
                                     if (const json* t = Child(c, "target")) return ParseTarget(*t, Join(p, "target"), &r->target);
                                     return Status::Ok();
                                   }));
  return Status::Ok();
}

Status ParseCurrent(const json& c, const std::string& p, MetricValueStatus* out) {
  if (const json* cur = Child(c, "current")) return ParseValueStatus(*cur, Join(p, "current"), out);
  return Status::Ok();
}

Status ParseMetricStatus(const json& j, const std::string& path, MetricStatus* out) {
  HPAD_RETURN_IF_ERROR(ExpectObject(j, path));
  HPAD_RETURN_IF_ERROR(GetString(j, "type", path, &out->type));
  if (const json* c = Child(j, "resource")) {
    std::string p = Join(path, "resource");
    HPAD_RETURN_IF_ERROR(ExpectObject(*c, p));
    std::pair<std::string, MetricValueStatus> r;
    HPAD_RETURN_IF_ERROR(GetString(*c, "name", p, &r.first));
    HPAD_RETURN_IF_ERROR(ParseCurrent(*c, p, &r.second));
    out->resource = std::move(r);
  }
  HPAD_RETURN_IF_ERROR(ParseMember(j, "containerResource", path, &out->container_resource,
                                   [](const json& c, const std::string& p, MetricStatus::ContainerResource* r) {
                                     HPAD_RETURN_IF_ERROR(GetString(c, "name", p, &r->name));
                                     HPAD_RETURN_IF_ERROR(GetString(c, "container", p, &r->container));
                                     return ParseCurrent(c, p, &r->current);
                                   }));
  auto pods_or_external = [](const json& c, const std::string& p, MetricStatus::PodsOrExternal* r) {
    if (const json* m = Child(c, "metric")) HPAD_RETURN_IF_ERROR(ParseIdentifier(*m, Join(p, "metric"), &r->metric));
    return ParseCurrent(c, p, &r->current);
  };
  HPAD_RETURN_IF_ERROR(ParseMember(j, "pods", path, &out->pods, pods_or_external));
  HPAD_RETURN_IF_ERROR(ParseMember(j, "external", path, &out->external, pods_or_external));
  HPAD_RETURN_IF_ERROR(ParseMember(j, "object", path, &out->object,
                                   [](const json& c, const std::string& p, MetricStatus::Object* r) {
                                     if (const json* d = Child(c, "describedObject")) {
                                       HPAD_RETURN_IF_ERROR(ParseRef(*d, Join(p, "describedObject"), &r->described_object));
                                     }
                                     if (const json* m = Child(c, "metric")) {
                                       HPAD_RETURN_IF_ERROR(ParseIdentifier(*m, Join(p, "metric"), &r->metric));
                                     }
                                     return ParseCurrent(c, p, &r->current);
                                   }));
  return Status::Ok();
}

Status ParseRules(const json& j, const std::string& path, HpaScalingRules* out) {
  HPAD_RETURN_IF_ERROR(ExpectObject(j, path));
  HPAD_RETURN_IF_ERROR(GetOptInt32(j, "stabilizationWindowSeconds", path, &out->stabilization_window_seconds));
  HPAD_RETURN_IF_ERROR(GetOptString(j, "selectPolicy", path, &out->select_policy));
  HPAD_RETURN_IF_ERROR(GetOptQuantity(j, "tolerance", path, &out->tolerance));
  if (const json* ps = Child(j, "policies")) {
    std::string p = Join(path, "policies");
    if (!ps->is_array()) return FieldError(p, "expected a list, got " + DescribeJson(*ps));
    out->policies_set = true;  // B12: an explicit [] differs from absent
    for (size_t i = 0; i < ps->size(); ++i) {
      std::string pi = Index(p, i);
      const json& e = (*ps)[i];
      HPAD_RETURN_IF_ERROR(ExpectObject(e, pi));
      HpaScalingPolicy pol;
      HPAD_RETURN_IF_ERROR(GetString(e, "type", pi, &pol.type));
      HPAD_RETURN_IF_ERROR(GetInt32(e, "value", pi, &pol.value));
      HPAD_RETURN_IF_ERROR(GetInt32(e, "periodSeconds", pi, &pol.period_seconds));
      out->policies.push_back(pol);
    }
  }
  return Status::Ok();
}

template <typename T, typename F>
Status ParseList(const json& obj, const char* key, const std::string& path, std::vector<T>* out, F parse) {
  const json* list = Child(obj, key);
  if (!list) return Status::Ok();
  std::string p = Join(path, key);
  if (!list->is_array()) return FieldError(p, "expected a list, got " + std::string(list->type_name()));
  for (size_t i = 0; i < list->size(); ++i) {
    T v;
    HPAD_RETURN_IF_ERROR(parse((*list)[i], Index(p, i), &v));
    out->push_back(std::move(v));
  }
  return Status::Ok();
}

Status ParseCondition(const json& j, const std::string& path, HpaCondition* out) {
  HPAD_RETURN_IF_ERROR(ExpectObject(j, path));
  HPAD_RETURN_IF_ERROR(GetString(j, "type", path, &out->type));
  HPAD_RETURN_IF_ERROR(GetString(j, "status", path, &out->status));
  HPAD_RETURN_IF_ERROR(GetOptTime(j, "lastTransitionTime", path, &out->last_transition_time));
  HPAD_RETURN_IF_ERROR(GetString(j, "reason", path, &out->reason));
  HPAD_RETURN_IF_ERROR(GetString(j, "message", path, &out->message));
  return Status::Ok();
}

Status ParseStatus(const json& j, const std::string& path, HpaStatus* out) {
  HPAD_RETURN_IF_ERROR(ExpectObject(j, path));
  HPAD_RETURN_IF_ERROR(GetOptInt64(j, "observedGeneration", path, &out->observed_generation));
  HPAD_RETURN_IF_ERROR(GetOptTime(j, "lastScaleTime", path, &out->last_scale_time));
  HPAD_RETURN_IF_ERROR(GetInt32(j, "currentReplicas", path, &out->current_replicas));
  HPAD_RETURN_IF_ERROR(GetInt32(j, "desiredReplicas", path, &out->desired_replicas));
  HPAD_RETURN_IF_ERROR(ParseList(j, "currentMetrics", path, &out->current_metrics, ParseMetricStatus));
  HPAD_RETURN_IF_ERROR(ParseList(j, "conditions", path, &out->conditions, ParseCondition));
  return Status::Ok();
}

// ---------------------------------------------------------------- writing

// With nulls = true absent optionals are written as null (deletions in the
// merge into raw); with nulls = false they are omitted.
struct Writer {
  bool nulls;

  void Opt(json& o, const char* k, const std::optional<Quantity>& q) const {
    if (q) {
      o[k] = q->ToString();
    } else if (nulls) {
      o[k] = nullptr;
    }
  }
  template <typename T>
  void Opt(json& o, const char* k, const std::optional<T>& v) const {
    if (v) {
      o[k] = *v;
    } else if (nulls) {
      o[k] = nullptr;
    }
  }
  void Str(json& o, const char* k, const std::string& v) const {
    if (!v.empty()) {
      o[k] = v;
    } else if (nulls) {
      o[k] = nullptr;
    }
  }
  void Sel(json& o, const json& selector) const {
    if (!selector.is_null()) {
      o["selector"] = selector;
    } else if (nulls) {
      o["selector"] = nullptr;
    }
  }

  json Ref(const CrossVersionObjectReference& r) const {
    json o = json::object();
    Str(o, "apiVersion", r.api_version);
    o["kind"] = r.kind;
    o["name"] = r.name;
    return o;
  }
  json Identifier(const MetricIdentifier& m) const {
    json o = {{"name", m.name}};
    Sel(o, m.selector);
    return o;
  }
  json Target(const MetricTarget& t) const {
    json o = {{"type", t.type}};
    Opt(o, "value", t.value);
    Opt(o, "averageValue", t.average_value);
    Opt(o, "averageUtilization", t.average_utilization);
    return o;
  }
  json Metric(const MetricSpec& m) const {
    json o = {{"type", m.type}};
    // Only the member matching the data; the others are cleared (when merging)
    // so a changed type does not leave a stale member behind. For an unknown
    // type nothing is set, and the raw payload stays as read (16.9).
    bool known = m.resource || m.container_resource || m.pods || m.object || m.external;
    auto member = [&](const char* key, bool present, auto make) {
      if (present) {
        o[key] = make();
      } else if (nulls && known) {
        o[key] = nullptr;
      }
    };
    member("resource", m.resource.has_value(), [&] {
      return json{{"name", m.resource->name}, {"target", Target(m.resource->target)}};
    });
    member("containerResource", m.container_resource.has_value(), [&] {
      return json{{"name", m.container_resource->name},
                  {"container", m.container_resource->container},
                  {"target", Target(m.container_resource->target)}};
    });
    member("pods", m.pods.has_value(), [&] {
      return json{{"metric", Identifier(m.pods->metric)}, {"target", Target(m.pods->target)}};
    });
    member("object", m.object.has_value(), [&] {
      return json{{"describedObject", Ref(m.object->described_object)},
                  {"metric", Identifier(m.object->metric)},
                  {"target", Target(m.object->target)}};
    });
    member("external", m.external.has_value(), [&] {
      return json{{"metric", Identifier(m.external->metric)}, {"target", Target(m.external->target)}};
    });
    return o;
  }
  json Rules(const HpaScalingRules& r) const {
    json o = json::object();
    Opt(o, "stabilizationWindowSeconds", r.stabilization_window_seconds);
    Opt(o, "selectPolicy", r.select_policy);
    if (r.policies_set || !r.policies.empty()) {
      json ps = json::array();
      for (const auto& p : r.policies) {
        ps.push_back({{"type", p.type}, {"value", p.value}, {"periodSeconds", p.period_seconds}});
      }
      o["policies"] = ps;
    } else if (nulls) {
      o["policies"] = nullptr;
    }
    Opt(o, "tolerance", r.tolerance);
    return o;
  }
  json Behavior(const HpaBehavior& b) const {
    json o = json::object();
    if (b.scale_up) {
      o["scaleUp"] = Rules(*b.scale_up);
    } else if (nulls) {
      o["scaleUp"] = nullptr;
    }
    if (b.scale_down) {
      o["scaleDown"] = Rules(*b.scale_down);
    } else if (nulls) {
      o["scaleDown"] = nullptr;
    }
    return o;
  }
  json Spec(const HpaSpec& s) const {
    json o = json::object();
    o["scaleTargetRef"] = Ref(s.scale_target_ref);
    Opt(o, "minReplicas", s.min_replicas);
    o["maxReplicas"] = s.max_replicas;
    if (!s.metrics.empty()) {
      json ms = json::array();
      for (const auto& m : s.metrics) ms.push_back(Metric(m));
      o["metrics"] = ms;
    } else if (nulls) {
      o["metrics"] = nullptr;
    }
    if (s.behavior) {
      o["behavior"] = Behavior(*s.behavior);
    } else if (nulls) {
      o["behavior"] = nullptr;
    }
    return o;
  }
};

json StripNulls(const json& j) {
  if (j.is_object()) {
    json o = json::object();
    for (const auto& [k, v] : j.items()) {
      if (!v.is_null()) o[k] = StripNulls(v);
    }
    return o;
  }
  if (j.is_array()) {
    json a = json::array();
    for (const auto& v : j) a.push_back(StripNulls(v));
    return a;
  }
  return j;
}

bool IsQuantityKey(const std::string& k) { return k == "value" || k == "averageValue" || k == "tolerance"; }

// JSON merge patch, extended to merge lists of equal length element-wise.
// Label selectors are replaced whole: merging would keep removed labels.
void MergeInto(json* dst, const json& patch) {
  if (!patch.is_object()) {
    *dst = StripNulls(patch);
    return;
  }
  if (!dst->is_object()) *dst = json::object();
  for (const auto& [k, v] : patch.items()) {
    if (v.is_null()) {
      dst->erase(k);
      continue;
    }
    auto it = dst->find(k);
    if (it != dst->end() && IsQuantityKey(k) && it->is_string() && v.is_string()) {
      // Keep the text as written when the value is unchanged ("0.05" is not
      // rewritten to "50m").
      auto old_q = Quantity::Parse(it->get<std::string>());
      auto new_q = Quantity::Parse(v.get<std::string>());
      if (old_q.ok() && new_q.ok() && *old_q == *new_q) continue;
    }
    if (it == dst->end() || k == "selector") {
      (*dst)[k] = StripNulls(v);
    } else if (v.is_object() && it->is_object()) {
      MergeInto(&*it, v);
    } else if (v.is_array() && it->is_array() && it->size() == v.size()) {
      for (size_t i = 0; i < v.size(); ++i) MergeInto(&(*it)[i], v[i]);
    } else {
      *it = StripNulls(v);
    }
  }
}

// C15: quantities in statuses are built from milli values; memory prints in
// binary SI, everything else in decimal SI.
json StatusQuantity(const Quantity& q, bool memory) {
  return Quantity::FromMilli(q.MilliValue(), memory ? Quantity::Format::kBinarySI : Quantity::Format::kDecimalSI)
      .ToString();
}

json ValueStatus(const MetricValueStatus& v, bool memory) {
  json o = json::object();
  if (v.value) o["value"] = StatusQuantity(*v.value, memory);
  if (v.average_value) o["averageValue"] = StatusQuantity(*v.average_value, memory);
  if (v.average_utilization) o["averageUtilization"] = *v.average_utilization;
  return o;
}

json ConditionToJson(const HpaCondition& c) {
  json o = {{"type", c.type}, {"status", c.status}};
  if (c.last_transition_time) o["lastTransitionTime"] = FormatRfc3339(*c.last_transition_time);
  if (!c.reason.empty()) o["reason"] = c.reason;
  if (!c.message.empty()) o["message"] = c.message;
  return o;
}

}  // namespace

Result<Hpa> HpaFromJson(const json& j) {
  if (!j.is_object()) return FieldError("", "expected a HorizontalPodAutoscaler object, got " + std::string(j.type_name()));
  Hpa hpa;
  {
    json kept = j;
    kept.erase("status");
    hpa.raw = std::make_shared<const std::string>(kept.dump(-1, ' ', false, json::error_handler_t::replace));
  }
  if (const json* m = Child(j, "metadata")) {
    auto meta = ObjectMetaFromJson(*m, "metadata");
    if (!meta.ok()) return meta.status();
    hpa.metadata = std::move(*meta);
  }
  if (const json* s = Child(j, "spec")) {
    const std::string p = "spec";
    HPAD_RETURN_IF_ERROR(ExpectObject(*s, p));
    if (const json* ref = Child(*s, "scaleTargetRef")) {
      HPAD_RETURN_IF_ERROR(ParseRef(*ref, "spec.scaleTargetRef", &hpa.spec.scale_target_ref));
    }
    HPAD_RETURN_IF_ERROR(GetOptInt32(*s, "minReplicas", p, &hpa.spec.min_replicas));
    HPAD_RETURN_IF_ERROR(GetInt32(*s, "maxReplicas", p, &hpa.spec.max_replicas));
    HPAD_RETURN_IF_ERROR(ParseList(*s, "metrics", p, &hpa.spec.metrics, ParseMetricSpec));
    if (const json* b = Child(*s, "behavior")) {
      HPAD_RETURN_IF_ERROR(ExpectObject(*b, "spec.behavior"));
      HpaBehavior behavior;
      if (const json* up = Child(*b, "scaleUp")) {
        HpaScalingRules r;
        HPAD_RETURN_IF_ERROR(ParseRules(*up, "spec.behavior.scaleUp", &r));
        behavior.scale_up = std::move(r);
      }
      if (const json* down = Child(*b, "scaleDown")) {
        HpaScalingRules r;
        HPAD_RETURN_IF_ERROR(ParseRules(*down, "spec.behavior.scaleDown", &r));
        behavior.scale_down = std::move(r);
      }
      hpa.spec.behavior = std::move(behavior);
    }
  }
  if (const json* st = Child(j, "status")) {
    HPAD_RETURN_IF_ERROR(ParseStatus(*st, "status", &hpa.status));
  }
  return hpa;
}

json HpaToJson(const Hpa& hpa) { return HpaToJson(hpa, hpa.status); }

json HpaToJson(const Hpa& hpa, const HpaStatus& status) {
  // raw is our own dump of an object that passed the foreign-JSON bounds:
  // it parses; anything else (a hand-built Hpa) starts from an empty object.
  json out = json::object();
  if (hpa.raw && !FastParseJson(*hpa.raw, &out)) out = json::parse(*hpa.raw, nullptr, /*allow_exceptions=*/false);
  if (!out.is_object()) out = json::object();
  out["apiVersion"] = "autoscaling/v2";
  out["kind"] = "HorizontalPodAutoscaler";
  ObjectMetaToJson(hpa.metadata, &out["metadata"]);
  MergeInto(&out["spec"], Writer{true}.Spec(hpa.spec));
  out["status"] = HpaStatusToJson(status);
  return out;
}

json MetricStatusToJson(const MetricStatus& m) {
  json o = {{"type", m.type}};  // "" for a failed metric's empty entry (X5)
  if (m.resource) {
    bool memory = m.resource->first == "memory";
    o["resource"] = {{"name", m.resource->first}, {"current", ValueStatus(m.resource->second, memory)}};
  }
  if (m.container_resource) {
    bool memory = m.container_resource->name == "memory";
    o["containerResource"] = {{"name", m.container_resource->name},
                              {"container", m.container_resource->container},
                              {"current", ValueStatus(m.container_resource->current, memory)}};
  }
  Writer w{false};
  if (m.pods) o["pods"] = {{"metric", w.Identifier(m.pods->metric)}, {"current", ValueStatus(m.pods->current, false)}};
  if (m.object) {
    o["object"] = {{"describedObject", w.Ref(m.object->described_object)},
                   {"metric", w.Identifier(m.object->metric)},
                   {"current", ValueStatus(m.object->current, false)}};
  }
  if (m.external) {
    o["external"] = {{"metric", w.Identifier(m.external->metric)},
                     {"current", ValueStatus(m.external->current, false)}};
  }
  return o;
}

json HpaStatusToJson(const HpaStatus& s) {
  json o = json::object();
  if (s.observed_generation) o["observedGeneration"] = *s.observed_generation;
  if (s.last_scale_time) o["lastScaleTime"] = FormatRfc3339(*s.last_scale_time);
  // Go: currentReplicas is omitempty, desiredReplicas is not.
  if (s.current_replicas != 0) o["currentReplicas"] = s.current_replicas;
  o["desiredReplicas"] = s.desired_replicas;
  if (!s.current_metrics.empty()) {
    json ms = json::array();
    for (const auto& m : s.current_metrics) ms.push_back(MetricStatusToJson(m));
    o["currentMetrics"] = ms;
  }
  if (!s.conditions.empty()) {
    json cs = json::array();
    for (const auto& c : s.conditions) cs.push_back(ConditionToJson(c));
    o["conditions"] = cs;
  }
  return o;
}

namespace {

// W4 compares what is written (HpaStatusToJson), field by field on the typed
// structs (issue 16: building two JSON documents per reconcile was 8% of
// hpad's CPU at 10,000 HPAs). Each helper is equal exactly when the JSON
// its writer gives is equal: tests/k8sclient/api/types/hpa_test.cc checks
// that against HpaStatusToJson on mutated statuses.

// FormatRfc3339 writes whole seconds (floor).
bool SameSecond(const std::optional<Time>& a, const std::optional<Time>& b) {
  if (a.has_value() != b.has_value()) return false;
  return !a || std::chrono::floor<std::chrono::seconds>(*a) == std::chrono::floor<std::chrono::seconds>(*b);
}

// StatusQuantity writes FromMilli(MilliValue()) in a format fixed by the
// metric's name, so equal milli values print equal and different ones differ.
bool SameMilli(const std::optional<Quantity>& a, const std::optional<Quantity>& b) {
  if (a.has_value() != b.has_value()) return false;
  return !a || a->MilliValue() == b->MilliValue();
}

bool SameValueStatus(const MetricValueStatus& a, const MetricValueStatus& b) {
  return SameMilli(a.value, b.value) && SameMilli(a.average_value, b.average_value) &&
         a.average_utilization == b.average_utilization;
}

// Writer::Identifier: the name, and the selector unless null.
bool SameIdentifier(const MetricIdentifier& a, const MetricIdentifier& b) {
  return a.name == b.name && a.selector == b.selector;
}

bool SameRef(const CrossVersionObjectReference& a, const CrossVersionObjectReference& b) {
  return a.api_version == b.api_version && a.kind == b.kind && a.name == b.name;
}

template <typename Opt, typename Eq>
bool SameOptional(const Opt& a, const Opt& b, Eq eq) {
  if (a.has_value() != b.has_value()) return false;
  return !a || eq(*a, *b);
}

bool SameMetricStatus(const MetricStatus& a, const MetricStatus& b) {
  using PodsOrExternal = MetricStatus::PodsOrExternal;
  return a.type == b.type &&
         SameOptional(a.resource, b.resource,
                      [](const auto& x, const auto& y) {
                        return x.first == y.first && SameValueStatus(x.second, y.second);
                      }) &&
         SameOptional(a.container_resource, b.container_resource,
                      [](const auto& x, const auto& y) {
                        return x.name == y.name && x.container == y.container && SameValueStatus(x.current, y.current);
                      }) &&
         SameOptional(a.pods, b.pods,
                      [](const PodsOrExternal& x, const PodsOrExternal& y) {
                        return SameIdentifier(x.metric, y.metric) && SameValueStatus(x.current, y.current);
                      }) &&
         SameOptional(a.object, b.object,
                      [](const auto& x, const auto& y) {
                        return SameRef(x.described_object, y.described_object) && SameIdentifier(x.metric, y.metric) &&
                               SameValueStatus(x.current, y.current);
                      }) &&
         SameOptional(a.external, b.external, [](const PodsOrExternal& x, const PodsOrExternal& y) {
           return SameIdentifier(x.metric, y.metric) && SameValueStatus(x.current, y.current);
         });
}

bool SameCondition(const HpaCondition& a, const HpaCondition& b) {
  return a.type == b.type && a.status == b.status && SameSecond(a.last_transition_time, b.last_transition_time) &&
         a.reason == b.reason && a.message == b.message;
}

template <typename T, typename Eq>
bool SameList(const std::vector<T>& a, const std::vector<T>& b, Eq eq) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (!eq(a[i], b[i])) return false;
  return true;
}

}  // namespace

bool HpaStatusEqual(const HpaStatus& a, const HpaStatus& b) {
  return a.observed_generation == b.observed_generation && SameSecond(a.last_scale_time, b.last_scale_time) &&
         a.current_replicas == b.current_replicas && a.desired_replicas == b.desired_replicas &&
         SameList(a.current_metrics, b.current_metrics, SameMetricStatus) &&
         SameList(a.conditions, b.conditions, SameCondition);
}

// ---------------------------------------------------------------- v1 <-> v2

namespace {

constexpr const char* kMetricsAnnotation = "autoscaling.alpha.kubernetes.io/metrics";
constexpr const char* kCurrentMetricsAnnotation = "autoscaling.alpha.kubernetes.io/current-metrics";
constexpr const char* kConditionsAnnotation = "autoscaling.alpha.kubernetes.io/conditions";
constexpr const char* kBehaviorAnnotation = "autoscaling.alpha.kubernetes.io/behavior";

// Checked lookups for the v1 <-> v2 conversions: the input is a foreign
// object (and its annotations foreign JSON), so a field of the wrong type
// reads as absent instead of throwing (nlohmann's value() throws
// type_error.302 on a type mismatch and 306 on a non-object).
std::string Str(const json& j, const char* key) {
  const json* c = Child(j, key);
  return c && c->is_string() ? c->get<std::string>() : std::string();
}
json NumOrZero(const json& j, const char* key) {
  const json* c = Child(j, key);
  return c && c->is_number() ? *c : json(0);
}

const json* Get(const json& j, const char* a, const char* b = nullptr) {
  const json* c = Child(j, a);
  if (c && b) c = Child(*c, b);
  return c;
}

void CopyIf(const json& from, const char* from_key, json* to, const char* to_key) {
  if (const json* v = Child(from, from_key)) (*to)[to_key] = *v;
}

// A non-pointer resource.Quantity in the v1 types marshals as "0" when unset.
json QuantityOrZero(const json* q) { return q ? *q : json("0"); }

bool IsCpuUtilization(const json& m) {
  const json* r = Get(m, "resource");
  return Str(m, "type") == "Resource" && r && Str(*r, "name") == "cpu" && Get(*r, "target", "averageUtilization");
}

json MetricSpecV2ToV1(const json& m) {
  json out = {{"type", Str(m, "type")}};
  const json empty = json::object();
  if (const json* r = Get(m, "resource")) {
    json o = {{"name", Str(*r, "name")}};
    const json& t = Child(*r, "target") ? *Child(*r, "target") : empty;
    CopyIf(t, "averageUtilization", &o, "targetAverageUtilization");
    CopyIf(t, "averageValue", &o, "targetAverageValue");
    out["resource"] = o;
  }
  if (const json* r = Get(m, "containerResource")) {
    json o = {{"name", Str(*r, "name")}, {"container", Str(*r, "container")}};
    const json& t = Child(*r, "target") ? *Child(*r, "target") : empty;
    CopyIf(t, "averageUtilization", &o, "targetAverageUtilization");
    CopyIf(t, "averageValue", &o, "targetAverageValue");
    out["containerResource"] = o;
  }
  if (const json* p = Get(m, "pods")) {
    const json& id = Child(*p, "metric") ? *Child(*p, "metric") : empty;
    const json& t = Child(*p, "target") ? *Child(*p, "target") : empty;
    json o = {{"metricName", Str(id, "name")}, {"targetAverageValue", QuantityOrZero(Child(t, "averageValue"))}};
    CopyIf(id, "selector", &o, "selector");
    out["pods"] = o;
  }
  if (const json* ob = Get(m, "object")) {
    const json& id = Child(*ob, "metric") ? *Child(*ob, "metric") : empty;
    const json& t = Child(*ob, "target") ? *Child(*ob, "target") : empty;
    json o = {{"target", Child(*ob, "describedObject") ? *Child(*ob, "describedObject") : empty},
              {"metricName", Str(id, "name")},
              {"targetValue", QuantityOrZero(Child(t, "value"))}};
    CopyIf(id, "selector", &o, "selector");
    CopyIf(t, "averageValue", &o, "averageValue");
    out["object"] = o;
  }
  if (const json* e = Get(m, "external")) {
    const json& id = Child(*e, "metric") ? *Child(*e, "metric") : empty;
    const json& t = Child(*e, "target") ? *Child(*e, "target") : empty;
    json o = {{"metricName", Str(id, "name")}};
    CopyIf(id, "selector", &o, "metricSelector");
    CopyIf(t, "value", &o, "targetValue");
    CopyIf(t, "averageValue", &o, "targetAverageValue");
    out["external"] = o;
  }
  return out;
}

json MetricSpecV1ToV2(const json& m) {
  json out = {{"type", Str(m, "type")}};
  auto resource_target = [](const json& r) {
    // Upstream: Utilization when targetAverageUtilization is set, else AverageValue.
    json t = {{"type", Child(r, "targetAverageUtilization") ? "Utilization" : "AverageValue"}};
    CopyIf(r, "targetAverageUtilization", &t, "averageUtilization");
    CopyIf(r, "targetAverageValue", &t, "averageValue");
    return t;
  };
  if (const json* r = Get(m, "resource")) {
    out["resource"] = {{"name", Str(*r, "name")}, {"target", resource_target(*r)}};
  }
  if (const json* r = Get(m, "containerResource")) {
    out["containerResource"] = {
        {"name", Str(*r, "name")}, {"container", Str(*r, "container")}, {"target", resource_target(*r)}};
  }
  if (const json* p = Get(m, "pods")) {
    json id = {{"name", Str(*p, "metricName")}};
    CopyIf(*p, "selector", &id, "selector");
    json t = {{"type", "AverageValue"}};
    CopyIf(*p, "targetAverageValue", &t, "averageValue");
    out["pods"] = {{"metric", id}, {"target", t}};
  }
  if (const json* ob = Get(m, "object")) {
    json id = {{"name", Str(*ob, "metricName")}};
    CopyIf(*ob, "selector", &id, "selector");
    json t = {{"type", Child(*ob, "averageValue") ? "AverageValue" : "Value"}};
    CopyIf(*ob, "targetValue", &t, "value");
    CopyIf(*ob, "averageValue", &t, "averageValue");
    json o = {{"metric", id}, {"target", t}};
    CopyIf(*ob, "target", &o, "describedObject");
    out["object"] = o;
  }
  if (const json* e = Get(m, "external")) {
    json id = {{"name", Str(*e, "metricName")}};
    CopyIf(*e, "metricSelector", &id, "selector");
    json t = {{"type", Child(*e, "targetValue") ? "Value" : "AverageValue"}};
    CopyIf(*e, "targetValue", &t, "value");
    CopyIf(*e, "targetAverageValue", &t, "averageValue");
    out["external"] = {{"metric", id}, {"target", t}};
  }
  return out;
}

json MetricStatusV2ToV1(const json& m) {
  json out = {{"type", Str(m, "type")}};
  const json empty = json::object();
  auto cur = [&](const json& member) -> const json& {
    return Child(member, "current") ? *Child(member, "current") : empty;
  };
  if (const json* r = Get(m, "resource")) {
    json o = {{"name", Str(*r, "name")}, {"currentAverageValue", QuantityOrZero(Child(cur(*r), "averageValue"))}};
    CopyIf(cur(*r), "averageUtilization", &o, "currentAverageUtilization");
    out["resource"] = o;
  }
  if (const json* r = Get(m, "containerResource")) {
    json o = {{"name", Str(*r, "name")},
              {"container", Str(*r, "container")},
              {"currentAverageValue", QuantityOrZero(Child(cur(*r), "averageValue"))}};
    CopyIf(cur(*r), "averageUtilization", &o, "currentAverageUtilization");
    out["containerResource"] = o;
  }
  if (const json* p = Get(m, "pods")) {
    const json& id = Child(*p, "metric") ? *Child(*p, "metric") : empty;
    json o = {{"metricName", Str(id, "name")},
              {"currentAverageValue", QuantityOrZero(Child(cur(*p), "averageValue"))}};
    CopyIf(id, "selector", &o, "selector");
    out["pods"] = o;
  }
  if (const json* ob = Get(m, "object")) {
    const json& id = Child(*ob, "metric") ? *Child(*ob, "metric") : empty;
    json o = {{"target", Child(*ob, "describedObject") ? *Child(*ob, "describedObject") : empty},
              {"metricName", Str(id, "name")},
              {"currentValue", QuantityOrZero(Child(cur(*ob), "value"))}};
    CopyIf(id, "selector", &o, "selector");
    CopyIf(cur(*ob), "averageValue", &o, "averageValue");
    out["object"] = o;
  }
  if (const json* e = Get(m, "external")) {
    const json& id = Child(*e, "metric") ? *Child(*e, "metric") : empty;
    json o = {{"metricName", Str(id, "name")}, {"currentValue", QuantityOrZero(Child(cur(*e), "value"))}};
    CopyIf(id, "selector", &o, "metricSelector");
    CopyIf(cur(*e), "averageValue", &o, "currentAverageValue");
    out["external"] = o;
  }
  return out;
}

json MetricStatusV1ToV2(const json& m) {
  json out = {{"type", Str(m, "type")}};
  if (const json* r = Get(m, "resource")) {
    json c = json::object();
    CopyIf(*r, "currentAverageUtilization", &c, "averageUtilization");
    CopyIf(*r, "currentAverageValue", &c, "averageValue");
    out["resource"] = {{"name", Str(*r, "name")}, {"current", c}};
  }
  if (const json* r = Get(m, "containerResource")) {
    json c = json::object();
    CopyIf(*r, "currentAverageUtilization", &c, "averageUtilization");
    CopyIf(*r, "currentAverageValue", &c, "averageValue");
    out["containerResource"] = {{"name", Str(*r, "name")}, {"container", Str(*r, "container")}, {"current", c}};
  }
  if (const json* p = Get(m, "pods")) {
    json id = {{"name", Str(*p, "metricName")}};
    CopyIf(*p, "selector", &id, "selector");
    json c = json::object();
    CopyIf(*p, "currentAverageValue", &c, "averageValue");
    out["pods"] = {{"metric", id}, {"current", c}};
  }
  if (const json* ob = Get(m, "object")) {
    json id = {{"name", Str(*ob, "metricName")}};
    CopyIf(*ob, "selector", &id, "selector");
    json c = json::object();
    CopyIf(*ob, "currentValue", &c, "value");
    CopyIf(*ob, "averageValue", &c, "averageValue");
    json o = {{"metric", id}, {"current", c}};
    CopyIf(*ob, "target", &o, "describedObject");
    out["object"] = o;
  }
  if (const json* e = Get(m, "external")) {
    json id = {{"name", Str(*e, "metricName")}};
    CopyIf(*e, "metricSelector", &id, "selector");
    json c = json::object();
    CopyIf(*e, "currentValue", &c, "value");
    CopyIf(*e, "currentAverageValue", &c, "averageValue");
    out["external"] = {{"metric", id}, {"current", c}};
  }
  return out;
}

// Parses an annotation holding a JSON list; anything else yields null (upstream
// ignores annotations that do not decode).
json DecodeAnnotation(const json& annotations, const char* key, bool want_array) {
  const json* a = Child(annotations, key);
  if (!a || !a->is_string()) return nullptr;
  auto parsed = ParseForeignJson(a->get<std::string>(), key);  // bounded depth and size
  if (!parsed.ok()) return nullptr;
  json v = std::move(*parsed);
  if (want_array ? !v.is_array() : !v.is_object()) return nullptr;
  return v;
}

}  // namespace

json HpaV1ToV2(const json& v1) {
  json out = v1.is_object() ? v1 : json::object();
  out["apiVersion"] = "autoscaling/v2";
  out["kind"] = "HorizontalPodAutoscaler";
  json annotations = Get(out, "metadata", "annotations") ? *Get(out, "metadata", "annotations") : json::object();

  const json empty = json::object();
  const json& spec1 = Child(v1, "spec") ? *Child(v1, "spec") : empty;
  json spec = json::object();
  CopyIf(spec1, "scaleTargetRef", &spec, "scaleTargetRef");
  CopyIf(spec1, "minReplicas", &spec, "minReplicas");
  CopyIf(spec1, "maxReplicas", &spec, "maxReplicas");
  json metrics = json::array();
  if (json other = DecodeAnnotation(annotations, kMetricsAnnotation, true); !other.is_null()) {
    for (const auto& m : other) metrics.push_back(MetricSpecV1ToV2(m));
  }
  if (const json* cpu = Child(spec1, "targetCPUUtilizationPercentage")) {
    metrics.push_back({{"type", "Resource"},
                       {"resource", {{"name", "cpu"}, {"target", {{"type", "Utilization"}, {"averageUtilization", *cpu}}}}}});
  }
  if (metrics.empty()) {
    // v1's implicit default, made explicit by the API server: 80% cpu.
    metrics.push_back({{"type", "Resource"},
                       {"resource", {{"name", "cpu"}, {"target", {{"type", "Utilization"}, {"averageUtilization", 80}}}}}});
  }
  spec["metrics"] = metrics;
  if (json behavior = DecodeAnnotation(annotations, kBehaviorAnnotation, false); !behavior.is_null()) {
    spec["behavior"] = behavior;
  }
  out["spec"] = spec;

  if (const json* st1 = Child(v1, "status")) {
    json status = json::object();
    CopyIf(*st1, "observedGeneration", &status, "observedGeneration");
    CopyIf(*st1, "lastScaleTime", &status, "lastScaleTime");
    CopyIf(*st1, "currentReplicas", &status, "currentReplicas");
    status["desiredReplicas"] = NumOrZero(*st1, "desiredReplicas");
    json current = DecodeAnnotation(annotations, kCurrentMetricsAnnotation, true);
    if (!current.is_null()) {
      json cm = json::array();
      for (const auto& m : current) cm.push_back(MetricStatusV1ToV2(m));
      status["currentMetrics"] = cm;
    } else if (const json* cpu = Child(*st1, "currentCPUUtilizationPercentage")) {
      status["currentMetrics"] = json::array(
          {{{"type", "Resource"}, {"resource", {{"name", "cpu"}, {"current", {{"averageUtilization", *cpu}}}}}}});
    }
    if (json conditions = DecodeAnnotation(annotations, kConditionsAnnotation, true); !conditions.is_null()) {
      status["conditions"] = conditions;
    }
    out["status"] = status;
  }

  // The round-tripping annotations are dropped once converted.
  if (json* ann = out.contains("metadata") && out["metadata"].is_object() && out["metadata"].contains("annotations")
                      ? &out["metadata"]["annotations"]
                      : nullptr;
      ann && ann->is_object()) {
    for (const char* k : {kMetricsAnnotation, kCurrentMetricsAnnotation, kConditionsAnnotation, kBehaviorAnnotation}) {
      ann->erase(k);
    }
    if (ann->empty()) out["metadata"].erase("annotations");
  }
  return out;
}

json HpaV2ToV1(const json& v2) {
  json out = v2.is_object() ? v2 : json::object();
  out["apiVersion"] = "autoscaling/v1";
  out["kind"] = "HorizontalPodAutoscaler";
  const json empty = json::object();
  const json& spec2 = Child(v2, "spec") ? *Child(v2, "spec") : empty;
  const json& status2 = Child(v2, "status") ? *Child(v2, "status") : empty;

  json spec = json::object();
  CopyIf(spec2, "scaleTargetRef", &spec, "scaleTargetRef");
  CopyIf(spec2, "minReplicas", &spec, "minReplicas");
  spec["maxReplicas"] = NumOrZero(spec2, "maxReplicas");
  json other_metrics = json::array();
  bool cpu_done = false;
  if (const json* ms = Child(spec2, "metrics"); ms && ms->is_array()) {
    for (const auto& m : *ms) {
      if (IsCpuUtilization(m)) {
        // The first cpu-utilization metric becomes the v1 field; every cpu
        // utilization metric is left out of the annotation (as upstream).
        if (!cpu_done) spec["targetCPUUtilizationPercentage"] = *Get(*Get(m, "resource"), "target", "averageUtilization");
        cpu_done = true;
        continue;
      }
      other_metrics.push_back(MetricSpecV2ToV1(m));
    }
  }
  out["spec"] = spec;

  json status = json::object();
  CopyIf(status2, "observedGeneration", &status, "observedGeneration");
  CopyIf(status2, "lastScaleTime", &status, "lastScaleTime");
  status["currentReplicas"] = NumOrZero(status2, "currentReplicas");
  status["desiredReplicas"] = NumOrZero(status2, "desiredReplicas");
  json current_metrics = json::array();
  if (const json* cm = Child(status2, "currentMetrics"); cm && cm->is_array()) {
    for (const auto& m : *cm) {
      const json* r = Get(m, "resource");
      if (Str(m, "type") == "Resource" && r && Str(*r, "name") == "cpu") {
        if (const json* u = Get(*r, "current", "averageUtilization")) status["currentCPUUtilizationPercentage"] = *u;
      }
      // Every status is kept in the annotation so the raw values round-trip.
      current_metrics.push_back(MetricStatusV2ToV1(m));
    }
  }
  out["status"] = status;

  json annotations = Get(v2, "metadata", "annotations") ? *Get(v2, "metadata", "annotations") : json::object();
  if (!other_metrics.empty()) annotations[kMetricsAnnotation] = DumpForeign(other_metrics);
  if (!current_metrics.empty()) annotations[kCurrentMetricsAnnotation] = DumpForeign(current_metrics);
  if (const json* b = Child(spec2, "behavior")) annotations[kBehaviorAnnotation] = DumpForeign(*b);
  if (const json* c = Child(status2, "conditions"); c && c->is_array() && !c->empty()) {
    annotations[kConditionsAnnotation] = DumpForeign(*c);
  }
  if (!annotations.empty()) {
    if (!out["metadata"].is_object()) out["metadata"] = json::object();
    out["metadata"]["annotations"] = annotations;
  }
  return out;
}

}  // namespace hpad::k8s
