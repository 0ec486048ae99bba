// core/v1 Event <-> JSON (see event.h).
#include "k8sclient/api/time_format.h"
#include "k8sclient/api/types/event.h"
#include "k8sclient/api/types/json_fields.h"

namespace hpad::k8s {

using nlohmann::json;
using namespace fields;

namespace {

void SetOrErase(json* o, const char* key, const std::string& v) {
  if (v.empty()) {
    o->erase(key);
  } else {
    (*o)[key] = v;
  }
}

}  // namespace

Result<Event> EventFromJson(const json& j) {
  if (!j.is_object()) return FieldError("", "expected an Event object, got " + std::string(j.type_name()));
  Event e;
  e.raw = j;
  if (const json* m = Child(j, "metadata")) {
    auto meta = ObjectMetaFromJson(*m, "metadata");
    if (!meta.ok()) return meta.status();
    e.metadata = std::move(*meta);
  }
  if (const json* io = Child(j, "involvedObject")) {
    const std::string p = "involvedObject";
    HPAD_RETURN_IF_ERROR(ExpectObject(*io, p));
    HPAD_RETURN_IF_ERROR(GetString(*io, "kind", p, &e.involved_object.kind));
    HPAD_RETURN_IF_ERROR(GetString(*io, "namespace", p, &e.involved_object.ns));
    HPAD_RETURN_IF_ERROR(GetString(*io, "name", p, &e.involved_object.name));
    HPAD_RETURN_IF_ERROR(GetString(*io, "uid", p, &e.involved_object.uid));
    HPAD_RETURN_IF_ERROR(GetString(*io, "apiVersion", p, &e.involved_object.api_version));
    HPAD_RETURN_IF_ERROR(GetString(*io, "resourceVersion", p, &e.involved_object.resource_version));
    HPAD_RETURN_IF_ERROR(GetString(*io, "fieldPath", p, &e.involved_object.field_path));
  }
  HPAD_RETURN_IF_ERROR(GetString(j, "reason", "", &e.reason));
  HPAD_RETURN_IF_ERROR(GetString(j, "message", "", &e.message));
  HPAD_RETURN_IF_ERROR(GetString(j, "type", "", &e.type));
  HPAD_RETURN_IF_ERROR(GetInt32(j, "count", "", &e.count));
  HPAD_RETURN_IF_ERROR(GetOptTime(j, "firstTimestamp", "", &e.first_timestamp));
  HPAD_RETURN_IF_ERROR(GetOptTime(j, "lastTimestamp", "", &e.last_timestamp));
  HPAD_RETURN_IF_ERROR(GetOptTime(j, "eventTime", "", &e.event_time));
  if (const json* src = Child(j, "source")) {
    HPAD_RETURN_IF_ERROR(ExpectObject(*src, "source"));
    HPAD_RETURN_IF_ERROR(GetString(*src, "component", "source", &e.source_component));
    HPAD_RETURN_IF_ERROR(GetString(*src, "host", "source", &e.source_host));
  }
  HPAD_RETURN_IF_ERROR(GetString(j, "reportingComponent", "", &e.reporting_component));
  HPAD_RETURN_IF_ERROR(GetString(j, "reportingInstance", "", &e.reporting_instance));
  HPAD_RETURN_IF_ERROR(GetString(j, "action", "", &e.action));
  return e;
}

json EventToJson(const Event& e) {
  json out = e.raw.is_object() ? e.raw : json::object();
  out["apiVersion"] = "v1";
  out["kind"] = "Event";
  ObjectMetaToJson(e.metadata, &out["metadata"]);
  json& io = out["involvedObject"];
  if (!io.is_object()) io = json::object();
  SetOrErase(&io, "kind", e.involved_object.kind);
  SetOrErase(&io, "namespace", e.involved_object.ns);
  SetOrErase(&io, "name", e.involved_object.name);
  SetOrErase(&io, "uid", e.involved_object.uid);
  SetOrErase(&io, "apiVersion", e.involved_object.api_version);
  SetOrErase(&io, "resourceVersion", e.involved_object.resource_version);
  SetOrErase(&io, "fieldPath", e.involved_object.field_path);
  SetOrErase(&out, "reason", e.reason);
  SetOrErase(&out, "message", e.message);
  SetOrErase(&out, "type", e.type);
  if (e.count != 0) {
    out["count"] = e.count;
  } else {
    out.erase("count");
  }
  SetOrEraseTime(&out, "firstTimestamp", e.first_timestamp, false);
  SetOrEraseTime(&out, "lastTimestamp", e.last_timestamp, false);
  SetOrEraseTime(&out, "eventTime", e.event_time, true);
  json& src = out["source"];
  if (!src.is_object()) src = json::object();
  SetOrErase(&src, "component", e.source_component);
  SetOrErase(&src, "host", e.source_host);
  if (src.empty()) out.erase("source");
  SetOrErase(&out, "reportingComponent", e.reporting_component);
  SetOrErase(&out, "reportingInstance", e.reporting_instance);
  SetOrErase(&out, "action", e.action);
  return out;
}

}  // namespace hpad::k8s
