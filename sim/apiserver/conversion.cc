// Version conversion and write defaulting (see conversion.h).
#include "sim/apiserver/conversion.h"

#include "k8sclient/api/types/hpa.h"

namespace hpad::sim {

namespace {

// core/v1 Event -> events.k8s.io/v1 Event.
Json CoreEventToEventsV1(const Json& in) {
  Json out = Json::object();
  out["apiVersion"] = "events.k8s.io/v1";
  out["kind"] = "Event";
  if (in.contains("metadata")) out["metadata"] = in["metadata"];
  auto copy = [&](const char* from, const char* to) {
    if (in.contains(from) && !in[from].is_null()) out[to] = in[from];
  };
  copy("involvedObject", "regarding");
  copy("message", "note");
  copy("reason", "reason");
  copy("type", "type");
  copy("action", "action");
  copy("related", "related");
  copy("eventTime", "eventTime");
  copy("source", "deprecatedSource");
  copy("firstTimestamp", "deprecatedFirstTimestamp");
  copy("lastTimestamp", "deprecatedLastTimestamp");
  copy("count", "deprecatedCount");
  copy("reportingInstance", "reportingInstance");
  if (in.contains("reportingComponent") && !in["reportingComponent"].is_null())
    out["reportingController"] = in["reportingComponent"];
  else if (in.contains("source") && in["source"].contains("component"))
    out["reportingController"] = in["source"]["component"];
  return out;
}

Json EventsV1ToCoreEvent(const Json& in) {
  Json out = Json::object();
  out["apiVersion"] = "v1";
  out["kind"] = "Event";
  if (in.contains("metadata")) out["metadata"] = in["metadata"];
  auto copy = [&](const char* from, const char* to) {
    if (in.contains(from) && !in[from].is_null()) out[to] = in[from];
  };
  copy("regarding", "involvedObject");
  copy("note", "message");
  copy("reason", "reason");
  copy("type", "type");
  copy("action", "action");
  copy("related", "related");
  copy("eventTime", "eventTime");
  copy("deprecatedSource", "source");
  copy("deprecatedFirstTimestamp", "firstTimestamp");
  copy("deprecatedLastTimestamp", "lastTimestamp");
  copy("deprecatedCount", "count");
  copy("reportingController", "reportingComponent");
  copy("reportingInstance", "reportingInstance");
  return out;
}

}  // namespace

Conversion ConversionFor(const ResourceInfo& info) {
  if (info.gvr.group == "autoscaling" && info.gvr.version == "v1" && info.gvr.resource == "horizontalpodautoscalers")
    return Conversion::kHpaV1;
  if (info.gvr.group == "events.k8s.io") return Conversion::kEventsV1;
  return Conversion::kNone;
}

Json ConvertOut(Conversion c, const ResourceInfo& info, const Json& storage) {
  switch (c) {
    case Conversion::kHpaV1:
      return k8s::HpaV2ToV1(storage);
    case Conversion::kEventsV1:
      return CoreEventToEventsV1(storage);
    case Conversion::kNone:
      break;
  }
  Json out = storage;
  out["apiVersion"] = info.ApiVersion();
  out["kind"] = info.kind;
  return out;
}

std::shared_ptr<const Json> SharedServed(Conversion c, const ResourceInfo& info,
                                         const std::shared_ptr<const Json>& storage) {
  if (c == Conversion::kNone && storage->is_object()) {
    auto api_version = storage->find("apiVersion");
    auto kind = storage->find("kind");
    if (api_version != storage->end() && kind != storage->end() && api_version->is_string() && kind->is_string() &&
        api_version->get_ref<const std::string&>() == info.ApiVersion() &&
        kind->get_ref<const std::string&>() == info.kind)
      return storage;
  }
  return std::make_shared<const Json>(ConvertOut(c, info, *storage));
}

Json ToStorage(const ResourceInfo& info, const ResourceInfo* storage_row, const Json& served) {
  Json out;
  switch (ConversionFor(info)) {
    case Conversion::kHpaV1:
      out = k8s::HpaV1ToV2(served);
      break;
    case Conversion::kEventsV1:
      out = EventsV1ToCoreEvent(served);
      break;
    case Conversion::kNone:
      out = served;
      break;
  }
  out["apiVersion"] = storage_row != nullptr ? storage_row->ApiVersion() : info.ApiVersion();
  out["kind"] = storage_row != nullptr ? storage_row->kind : info.kind;
  return out;
}

void DefaultOnWrite(const ResourceInfo& info, Json& obj) {
  if (info.storage_group == "autoscaling" && info.storage_resource == "horizontalpodautoscalers") {
    DefaultHpaV2(obj);
  } else if (info.storage_group == "apps") {
    Json& spec = obj["spec"];
    if (!spec.is_object()) spec = Json::object();
    if (!spec.contains("replicas") || spec["replicas"].is_null()) spec["replicas"] = 1;
  }
}

void DefaultHpaV2(Json& hpa) {
  Json& spec = hpa["spec"];
  if (!spec.is_object()) spec = Json::object();
  // D1: minReplicas 1; no metrics -> one Resource cpu metric at 80 %.
  if (!spec.contains("minReplicas") || spec["minReplicas"].is_null()) spec["minReplicas"] = 1;
  if (!spec.contains("metrics") || !spec["metrics"].is_array() || spec["metrics"].empty()) {
    spec["metrics"] = Json::array(
        {{{"type", "Resource"},
          {"resource", {{"name", "cpu"}, {"target", {{"type", "Utilization"}, {"averageUtilization", 80}}}}}}});
  }
  // D2: no behavior stays no behavior (legacy path).
  if (!spec.contains("behavior") || spec["behavior"].is_null()) {
    spec.erase("behavior");
    return;
  }
  // D3: fill each missing direction and each missing field; a given
  // policies list replaces the default list as a whole.
  Json& b = spec["behavior"];
  if (!b.is_object()) b = Json::object();
  Json& up = b["scaleUp"];
  if (!up.is_object()) up = Json::object();
  if (!up.contains("stabilizationWindowSeconds") || up["stabilizationWindowSeconds"].is_null())
    up["stabilizationWindowSeconds"] = 0;
  if (!up.contains("selectPolicy") || up["selectPolicy"].is_null()) up["selectPolicy"] = "Max";
  if (!up.contains("policies") || up["policies"].is_null())
    up["policies"] = Json::array({{{"type", "Pods"}, {"value", 4}, {"periodSeconds", 15}},
                                  {{"type", "Percent"}, {"value", 100}, {"periodSeconds", 15}}});
  Json& down = b["scaleDown"];
  if (!down.is_object()) down = Json::object();
  if (!down.contains("selectPolicy") || down["selectPolicy"].is_null()) down["selectPolicy"] = "Max";
  if (!down.contains("policies") || down["policies"].is_null())
    down["policies"] = Json::array({{{"type", "Percent"}, {"value", 100}, {"periodSeconds", 15}}});
}

}  // namespace hpad::sim
