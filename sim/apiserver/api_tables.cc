// meta.k8s.io/v1 Tables for `kubectl get` (kubectl-compat 2, 3): the
// columns of upstream's printers.go for the kinds we serve, Name/Age for
// the rest. The server computes Age from the ClusterState clock.
#include <algorithm>

#include "k8sclient/api/quantity.h"
#include "k8sclient/api/time_format.h"
#include "sim/apiserver/api_internal.h"
#include "sim/apiserver/store_util.h"
#include "k8sclient/api/json_lenient.h"

namespace hpad::sim::api {
using k8s::StringOr;
using k8s::IntOr;
using k8s::BoolOr;

namespace {

Json Col(const char* name, const char* type = "string", const char* format = "", int priority = 0,
         const char* description = "") {
  return {{"name", name}, {"type", type}, {"format", format}, {"description", description}, {"priority", priority}};
}

std::string Str(const Json& obj, const std::string& path) {
  const Json* j = JsonPathFind(obj, path);
  return j != nullptr && j->is_string() ? j->get<std::string>() : "";
}
int64_t Int(const Json& obj, const std::string& path) {
  const Json* j = JsonPathFind(obj, path);
  return j != nullptr && j->is_number() ? j->get<int64_t>() : 0;
}

std::string Age(const std::string& ts, Time now) {
  if (ts.empty()) return "<unknown>";
  auto t = k8s::ParseRfc3339(ts);
  if (!t.ok()) return "<unknown>";
  return HumanDuration(std::chrono::duration_cast<std::chrono::seconds>(now - *t));
}

std::string QuantityText(const Json* q) {
  if (q == nullptr || q->is_null()) return "<unknown>";
  std::string text = q->is_string() ? q->get<std::string>() : q->dump();
  auto parsed = k8s::Quantity::Parse(text);
  return parsed.ok() ? parsed->ToString() : text;
}

// upstream printers.go formatHPAMetrics: spec and status matched by index.
std::string HpaTargets(const Json& hpa) {
  const Json* specs = JsonPathFind(hpa, "spec.metrics");
  const Json* statuses = JsonPathFind(hpa, "status.currentMetrics");
  if (specs == nullptr || !specs->is_array() || specs->empty()) return "<none>";
  auto status_at = [&](size_t i, const char* field) -> const Json* {
    if (statuses == nullptr || !statuses->is_array() || i >= statuses->size()) return nullptr;
    const Json& s = (*statuses)[i];
    return s.contains(field) && s[field].is_object() ? &s[field] : nullptr;
  };
  std::vector<std::string> list;
  for (size_t i = 0; i < specs->size(); ++i) {
    const Json& spec = (*specs)[i];
    std::string type = StringOr(spec, "type");
    if (type == "External" || type == "Object") {
      const char* f = type == "External" ? "external" : "object";
      const Json* target = JsonPathFind(spec, std::string(f) + ".target");
      const Json* st = status_at(i, f);
      if (target != nullptr && target->contains("averageValue")) {
        std::string cur = st != nullptr && JsonPathFind(*st, "current.averageValue") != nullptr
                              ? QuantityText(JsonPathFind(*st, "current.averageValue"))
                              : "<unknown>";
        list.push_back(cur + "/" + QuantityText(&(*target)["averageValue"]) + " (avg)");
      } else {
        std::string cur = st != nullptr ? QuantityText(JsonPathFind(*st, "current.value")) : "<unknown>";
        list.push_back(cur + "/" + QuantityText(target != nullptr ? JsonPathFind(*target, "value") : nullptr));
      }
    } else if (type == "Pods") {
      const Json* st = status_at(i, "pods");
      std::string cur = st != nullptr ? QuantityText(JsonPathFind(*st, "current.averageValue")) : "<unknown>";
      list.push_back(cur + "/" + QuantityText(JsonPathFind(spec, "pods.target.averageValue")));
    } else if (type == "Resource" || type == "ContainerResource") {
      const char* f = type == "Resource" ? "resource" : "containerResource";
      std::string name = Str(spec, std::string(f) + ".name");
      if (type == "ContainerResource") name = Str(spec, "containerResource.container") + "/" + name;
      const Json* target = JsonPathFind(spec, std::string(f) + ".target");
      const Json* st = status_at(i, f);
      if (target != nullptr && target->contains("averageValue")) {
        std::string cur = st != nullptr ? QuantityText(JsonPathFind(*st, "current.averageValue")) : "<unknown>";
        list.push_back(name + ": " + cur + "/" + QuantityText(&(*target)["averageValue"]));
      } else {
        std::string cur = "<unknown>";
        const Json* u = st != nullptr ? JsonPathFind(*st, "current.averageUtilization") : nullptr;
        if (u != nullptr && u->is_number()) cur = std::to_string(u->get<int64_t>()) + "%";
        std::string tgt = "<auto>";
        const Json* tu = target != nullptr ? JsonPathFind(*target, "averageUtilization") : nullptr;
        if (tu != nullptr && tu->is_number()) tgt = std::to_string(tu->get<int64_t>()) + "%";
        list.push_back(name + ": " + cur + "/" + tgt);
      }
    } else {
      list.push_back("<unknown type>");
    }
  }
  const size_t max = 2;
  std::string out;
  for (size_t i = 0; i < list.size() && i < max; ++i) out += (i ? ", " : "") + list[i];
  if (list.size() > max) out += " + " + std::to_string(list.size() - max) + " more...";
  return out;
}

std::string Containers(const Json& pod_spec, const char* field) {
  std::string out;
  const Json* cs = JsonPathFind(pod_spec, "containers");
  if (cs == nullptr || !cs->is_array()) return out;
  for (const Json& c : *cs) out += (out.empty() ? "" : ",") + StringOr(c, field);
  return out;
}

std::string SelectorText(const Json& obj) {
  const Json* ml = JsonPathFind(obj, "spec.selector.matchLabels");
  std::string out;
  if (ml != nullptr && ml->is_object())
    for (auto it = ml->begin(); it != ml->end(); ++it)
      out += (out.empty() ? "" : ",") + it.key() + "=" + (it.value().is_string() ? it.value().get<std::string>() : "");
  return out.empty() ? "<none>" : out;
}

bool PodReadyCondition(const Json& pod) {
  const Json* conds = JsonPathFind(pod, "status.conditions");
  if (conds == nullptr || !conds->is_array()) return false;
  for (const Json& c : *conds)
    if (StringOr(c, "type") == "Ready") return StringOr(c, "status") == "True";
  return false;
}

}  // namespace

std::string HumanDuration(std::chrono::seconds d) {
  int64_t seconds = d.count();
  if (seconds < -1) return "<invalid>";
  if (seconds < 0) return "0s";
  if (seconds < 60 * 2) return std::to_string(seconds) + "s";
  int64_t minutes = seconds / 60;
  if (minutes < 10) {
    int64_t s = seconds % 60;
    return s == 0 ? std::to_string(minutes) + "m" : std::to_string(minutes) + "m" + std::to_string(s) + "s";
  }
  if (minutes < 60 * 3) return std::to_string(minutes) + "m";
  int64_t hours = minutes / 60;
  if (hours < 8) {
    int64_t m = minutes % 60;
    return m == 0 ? std::to_string(hours) + "h" : std::to_string(hours) + "h" + std::to_string(m) + "m";
  }
  if (hours < 48) return std::to_string(hours) + "h";
  if (hours < 24 * 8) {
    int64_t h = hours % 24;
    return h == 0 ? std::to_string(hours / 24) + "d" : std::to_string(hours / 24) + "d" + std::to_string(h) + "h";
  }
  if (hours < 24 * 365 * 2) return std::to_string(hours / 24) + "d";
  if (hours < 24 * 365 * 8) {
    int64_t dy = (hours / 24) % 365;
    return dy == 0 ? std::to_string(hours / 24 / 365) + "y"
                   : std::to_string(hours / 24 / 365) + "y" + std::to_string(dy) + "d";
  }
  return std::to_string(hours / 24 / 365) + "y";
}

bool WantsTable(const std::string& accept) { return accept.find("as=Table") != std::string::npos; }

Json TableColumns(const ResourceInfo& info) {
  const std::string& k = info.kind;
  const char* name_desc = "Name must be unique within a namespace.";
  Json cols = Json::array({Col("Name", "string", "name", 0, name_desc)});
  if (k == "HorizontalPodAutoscaler") {
    for (const char* c : {"Reference", "Targets", "MinPods", "MaxPods", "Replicas"}) cols.push_back(Col(c));
  } else if (k == "Deployment") {
    cols.push_back(Col("Ready"));
    cols.push_back(Col("Up-to-date", "integer"));
    cols.push_back(Col("Available", "integer"));
  } else if (k == "ReplicaSet") {
    cols.push_back(Col("Desired", "integer"));
    cols.push_back(Col("Current", "integer"));
    cols.push_back(Col("Ready", "integer"));
  } else if (k == "StatefulSet") {
    cols.push_back(Col("Ready"));
  } else if (k == "Pod") {
    for (const char* c : {"Ready", "Status"}) cols.push_back(Col(c));
    cols.push_back(Col("Restarts", "string"));
  } else if (k == "Namespace") {
    cols.push_back(Col("Status"));
  } else if (k == "Lease") {
    cols.push_back(Col("Holder"));
  } else if (k == "Event") {
    cols = Json::array({Col("Last Seen"), Col("Type"), Col("Reason"), Col("Object"), Col("Message")});
  }
  cols.push_back(Col("Age", "string", "", 0, "CreationTimestamp is a timestamp representing the server time when this object was created."));
  if (k == "Deployment" || k == "ReplicaSet" || k == "StatefulSet") {
    cols.push_back(Col("Containers", "string", "", 1));
    cols.push_back(Col("Images", "string", "", 1));
    if (k != "StatefulSet") cols.push_back(Col("Selector", "string", "", 1));
  } else if (k == "Pod") {
    for (const char* c : {"IP", "Node", "Nominated Node", "Readiness Gates"}) cols.push_back(Col(c, "string", "", 1));
  } else if (k == "Event") {
    cols.erase(cols.size() - 1);  // events have no Age column
    for (const char* c : {"Subobject", "Source", "First Seen"}) cols.push_back(Col(c, "string", "", 1));
    cols.push_back(Col("Count", "integer", "", 1));
    cols.push_back(Col("Name", "string", "", 1));
  }
  return cols;
}

Json TableRow(const ResourceInfo& info, const Json& obj, Time now) {
  const std::string& k = info.kind;
  std::string name = Str(obj, "metadata.name");
  std::string age = Age(Str(obj, "metadata.creationTimestamp"), now);
  Json cells = Json::array({name});
  if (k == "HorizontalPodAutoscaler") {
    cells.push_back(Str(obj, "spec.scaleTargetRef.kind") + "/" + Str(obj, "spec.scaleTargetRef.name"));
    cells.push_back(HpaTargets(obj));
    const Json* min = JsonPathFind(obj, "spec.minReplicas");
    cells.push_back(min != nullptr && min->is_number() ? std::to_string(min->get<int64_t>()) : "<unset>");
    cells.push_back(Int(obj, "spec.maxReplicas"));
    cells.push_back(Int(obj, "status.currentReplicas"));
  } else if (k == "Deployment") {
    cells.push_back(std::to_string(Int(obj, "status.readyReplicas")) + "/" + std::to_string(Int(obj, "spec.replicas")));
    cells.push_back(Int(obj, "status.updatedReplicas"));
    cells.push_back(Int(obj, "status.availableReplicas"));
  } else if (k == "ReplicaSet") {
    cells.push_back(Int(obj, "spec.replicas"));
    cells.push_back(Int(obj, "status.replicas"));
    cells.push_back(Int(obj, "status.readyReplicas"));
  } else if (k == "StatefulSet") {
    cells.push_back(std::to_string(Int(obj, "status.readyReplicas")) + "/" + std::to_string(Int(obj, "spec.replicas")));
  } else if (k == "Pod") {
    const Json* cs = JsonPathFind(obj, "spec.containers");
    int64_t total = cs != nullptr && cs->is_array() ? static_cast<int64_t>(cs->size()) : 0;
    int64_t ready = 0, restarts = 0;
    const Json* st = JsonPathFind(obj, "status.containerStatuses");
    if (st != nullptr && st->is_array() && !st->empty()) {
      for (const Json& c : *st) {
        if (BoolOr(c, "ready", false)) ++ready;
        restarts += IntOr(c, "restartCount", 0);
      }
    } else if (PodReadyCondition(obj)) {
      ready = total;  // the simulator's pods carry only the Ready condition
    }
    cells.push_back(std::to_string(ready) + "/" + std::to_string(total));
    std::string phase = Str(obj, "status.phase");
    if (JsonPathFind(obj, "metadata.deletionTimestamp") != nullptr) phase = "Terminating";
    cells.push_back(phase.empty() ? "Unknown" : phase);
    cells.push_back(std::to_string(restarts));
  } else if (k == "Namespace") {
    std::string phase = Str(obj, "status.phase");
    cells.push_back(phase.empty() ? "Active" : phase);
  } else if (k == "Lease") {
    cells.push_back(Str(obj, "spec.holderIdentity"));
  } else if (k == "Event") {
    std::string last = Str(obj, "lastTimestamp");
    if (last.empty()) last = Str(obj, "eventTime");
    if (last.empty()) last = Str(obj, "metadata.creationTimestamp");
    std::string first = Str(obj, "firstTimestamp");
    if (first.empty()) first = Str(obj, "eventTime");
    std::string source = Str(obj, "source.component");
    if (!Str(obj, "source.host").empty()) source += ", " + Str(obj, "source.host");
    cells = Json::array({Age(last, now), Str(obj, "type"), Str(obj, "reason"),
                         AsciiLower(Str(obj, "involvedObject.kind")) + "/" + Str(obj, "involvedObject.name"),
                         Str(obj, "message"), Str(obj, "involvedObject.fieldPath"), source, Age(first, now),
                         std::max<int64_t>(Int(obj, "count"), 1), name});
  }
  if (k != "Event") cells.push_back(age);
  if (k == "Deployment" || k == "ReplicaSet" || k == "StatefulSet") {
    const Json* tspec = JsonPathFind(obj, "spec.template.spec");
    cells.push_back(tspec != nullptr ? Containers(*tspec, "name") : "");
    cells.push_back(tspec != nullptr ? Containers(*tspec, "image") : "");
    if (k != "StatefulSet") cells.push_back(SelectorText(obj));
  } else if (k == "Pod") {
    std::string ip = Str(obj, "status.podIP"), node = Str(obj, "spec.nodeName");
    std::string nominated = Str(obj, "status.nominatedNodeName");
    cells.push_back(ip.empty() ? "<none>" : ip);
    cells.push_back(node.empty() ? "<none>" : node);
    cells.push_back(nominated.empty() ? "<none>" : nominated);
    cells.push_back("<none>");
  }
  Json md = obj.contains("metadata") ? obj["metadata"] : Json::object();
  md.erase("managedFields");
  return {{"cells", cells},
          {"object", {{"kind", "PartialObjectMetadata"}, {"apiVersion", "meta.k8s.io/v1"}, {"metadata", md}}}};
}

Json MakeTable(const ResourceInfo& info, const std::vector<Json>& items, const std::string& resource_version,
               const std::string& continue_token, Time now, bool with_columns) {
  Json md = {{"resourceVersion", resource_version}};
  if (!continue_token.empty()) md["continue"] = continue_token;
  Json rows = Json::array();
  for (const Json& obj : items) rows.push_back(TableRow(info, obj, now));
  return {{"kind", "Table"},
          {"apiVersion", "meta.k8s.io/v1"},
          {"metadata", md},
          {"columnDefinitions", with_columns ? TableColumns(info) : Json::array()},
          {"rows", rows}};
}

}  // namespace hpad::sim::api
