// Scenario loading and validation (scenario-format.md). Every check adds an
// error with the path of the offending value and goes on, so one run of
// `hpad-sim validate` reports every problem in a file.
#include "sim/scenario.h"
#include "k8sclient/base/strings.h"

#include <algorithm>
#include <fstream>
#include <set>
#include <sstream>

#include "k8sclient/api/label_selector.h"
#include "k8sclient/api/quantity.h"
#include "k8sclient/api/time_format.h"
#include "k8sclient/api/yaml_json.h"
#include "k8sclient/base/text.h"
#include "k8sclient/api/json_lenient.h"

namespace hpad::sim {
using k8s::StringOr;
namespace {

using k8s::IndexPath;
using k8s::JoinPath;

const std::vector<KindInfo>& BuiltinKinds() {
  using enum KindIdentity;
  static const std::vector<KindInfo> kinds = {
      {.api_version = "autoscaling/v2", .kind = "HorizontalPodAutoscaler", .resource = "horizontalpodautoscalers"},
      {.api_version = "autoscaling/v1", .kind = "HorizontalPodAutoscaler", .resource = "horizontalpodautoscalers"},
      {.api_version = "apps/v1", .kind = "Deployment", .resource = "deployments", .scalable = true},
      {.api_version = "apps/v1", .kind = "StatefulSet", .resource = "statefulsets", .scalable = true},
      {.api_version = "apps/v1", .kind = "ReplicaSet", .resource = "replicasets", .scalable = true},
      {.api_version = "v1", .kind = "Pod", .resource = "pods"},
      {.api_version = "v1", .kind = "Namespace", .resource = "namespaces", .namespaced = false},
      {.api_version = "v1", .kind = "Event", .resource = "events", .identity = kInvolvedObject, .loadable = false},
      {.api_version = "events.k8s.io/v1", .kind = "Event", .resource = "events", .identity = kInvolvedObject,
       .loadable = false},
      {.api_version = "coordination.k8s.io/v1", .kind = "Lease", .resource = "leases", .loadable = false},
      {.api_version = "metrics.k8s.io/v1beta1", .kind = "PodMetrics", .resource = "pods"},
      {.api_version = "custom.metrics.k8s.io/v1beta2", .kind = "MetricValue", .resource = "",
       .identity = kDescribedObject},
      {.api_version = "external.metrics.k8s.io/v1beta1", .kind = "ExternalMetricValue", .resource = ""},
      {.api_version = "apiextensions.k8s.io/v1", .kind = "CustomResourceDefinition",
       .resource = "customresourcedefinitions", .namespaced = false},
  };
  return kinds;
}

struct CrdKind {
  std::string api_version;
  std::string kind;
  bool has_scale = false;
};

class Validator {
 public:
  Validator(std::string file, const k8s::YamlDoc* lines) : file_(std::move(file)), lines_(lines) {}

  void Error(const std::string& path, const std::string& problem) {
    ScenarioError e{file_, path, problem, 0};
    if (lines_) e.line = lines_->LineOf(path);
    errors_.push_back(std::move(e));
  }
  std::vector<ScenarioError> TakeErrors() { return std::move(errors_); }
  bool HasErrors() const { return !errors_.empty(); }

  // ---- scalar helpers ---------------------------------------------------
  static std::string TypeName(const Json& j) {
    if (j.is_null()) return "null";
    if (j.is_boolean()) return "a boolean";
    if (j.is_number()) return "a number";
    if (j.is_string()) return "a string";
    if (j.is_array()) return "a list";
    return "a map";
  }
  bool ExpectMap(const Json& j, const std::string& path) {
    if (j.is_object()) return true;
    Error(path, "must be a map, got " + TypeName(j));
    return false;
  }
  bool ExpectList(const Json& j, const std::string& path) {
    if (j.is_array()) return true;
    Error(path, "must be a list, got " + TypeName(j));
    return false;
  }
  std::optional<std::string> String(const Json& j, const std::string& path) {
    if (j.is_string()) return j.get<std::string>();
    Error(path, "must be a string, got " + TypeName(j));
    return std::nullopt;
  }
  // Quantities may be written as YAML numbers (`cpu: 1`).
  static std::optional<std::string> ScalarText(const Json& j) {
    if (j.is_string()) return j.get<std::string>();
    if (j.is_number_integer()) return std::to_string(j.get<int64_t>());
    if (j.is_number()) return j.dump();
    return std::nullopt;
  }
  std::optional<k8s::Quantity> QuantityAt(const Json& j, const std::string& path) {
    auto text = ScalarText(j);
    if (!text) {
      Error(path, "must be a quantity (like 500m or 1Gi), got " + TypeName(j));
      return std::nullopt;
    }
    auto q = k8s::Quantity::Parse(*text);
    if (!q.ok()) {
      Error(path, "malformed quantity: " + q.status().message());
      return std::nullopt;
    }
    return *q;
  }
  std::optional<std::chrono::nanoseconds> DurationAt(const Json& j, const std::string& path, bool allow_zero = true) {
    std::optional<std::string> text;
    if (j.is_string()) text = j.get<std::string>();
    if (j.is_number_integer() && j.get<int64_t>() == 0) text = "0";
    if (!text) {
      Error(path, "must be a duration (like 90s, 5m, 1h30m), got " + TypeName(j) +
                      (j.is_number() ? " without a unit" : ""));
      return std::nullopt;
    }
    auto d = k8s::ParseGoDuration(*text);
    if (!d.ok()) {
      Error(path, "malformed duration: " + d.status().message());
      return std::nullopt;
    }
    if (d->count() < 0 || (!allow_zero && d->count() == 0)) {
      Error(path, "duration must be " + std::string(allow_zero ? "zero or positive" : "positive") + ", got " + *text);
      return std::nullopt;
    }
    return *d;
  }
  std::optional<Time> TimeAt(const Json& j, const std::string& path) {
    auto text = String(j, path);
    if (!text) return std::nullopt;
    auto t = k8s::ParseRfc3339(*text);
    if (!t.ok()) {
      Error(path, "malformed timestamp: " + t.status().message());
      return std::nullopt;
    }
    return *t;
  }
  std::optional<int64_t> IntAt(const Json& j, const std::string& path, int64_t min_value) {
    if (!j.is_number_integer()) {
      Error(path, "must be an integer, got " + TypeName(j));
      return std::nullopt;
    }
    int64_t v = j.get<int64_t>();
    if (v < min_value) {
      Error(path, "must be at least " + std::to_string(min_value) + ", got " + std::to_string(v));
      return std::nullopt;
    }
    return v;
  }
  void Keys(const Json& m, const std::string& path, const std::set<std::string>& allowed) {
    for (auto it = m.begin(); it != m.end(); ++it) {
      if (!allowed.count(it.key())) Error(JoinPath(path, it.key()), "unknown key \"" + it.key() + "\"");
    }
  }
  void Selector(const Json& j, const std::string& path) {
    if (!ExpectMap(j, path)) return;
    auto s = k8s::Selector::FromJson(j);
    if (!s.ok()) Error(path, "invalid label selector: " + s.status().message());
  }

  // ---- the document -------------------------------------------------------
  std::optional<Scenario> Document(const Json& doc);

 private:
  void CollectCrds(const Json& obj);
  void CollectCrdsFrom(const Json& list);
  std::optional<KindInfo> KnownKind(const Json& obj, const std::string& path, bool loadable);
  void Object(const Json& obj, const std::string& path, std::vector<Json>* out);
  void ObjectBody(const Json& obj, const KindInfo& kind, const std::string& path);
  void Hpa(const Json& obj, const KindInfo& kind, const std::string& path);
  void MetricTarget(const Json& target, const std::string& path);
  void PodSpec(const Json& spec, const std::string& path);
  void ScaleTarget(const Json& obj, const std::string& path);
  void PodMetrics(const Json& obj, const std::string& path);
  void MetricValue(const Json& obj, const std::string& path);
  void ExternalMetricValue(const Json& obj, const std::string& path);
  void Crd(const Json& obj, const std::string& path);
  void Workload(const Json& w, const std::string& path, Scenario& sc);
  void StepAt(const Json& s, const std::string& path, Scenario& sc);
  void Faults(const Json& f, const std::string& path, StepFaults& out);
  std::optional<ApiFault> FaultValue(const Json& v, const std::string& path);
  void Expectation(const Json& e, const std::string& path, bool absent);
  void DeleteEntry(const Json& d, const std::string& path);

  std::string file_;
  const k8s::YamlDoc* lines_;
  std::vector<ScenarioError> errors_;
  std::vector<CrdKind> crds_;
};

void Validator::CollectCrds(const Json& obj) {
  if (!obj.is_object()) return;
  if (StringOr(obj, "kind") == "List" && obj.contains("items") && obj["items"].is_array()) {
    for (const auto& item : obj["items"]) CollectCrds(item);
    return;
  }
  if (StringOr(obj, "apiVersion") != "apiextensions.k8s.io/v1" || StringOr(obj, "kind") != "CustomResourceDefinition")
    return;
  const Json* spec = obj.contains("spec") && obj["spec"].is_object() ? &obj["spec"] : nullptr;
  if (!spec) return;
  std::string group = StringOr(*spec, "group");
  std::string kind;
  if (spec->contains("names") && (*spec)["names"].is_object()) kind = StringOr((*spec)["names"], "kind");
  if (group.empty() || kind.empty() || !spec->contains("versions") || !(*spec)["versions"].is_array()) return;
  for (const auto& v : (*spec)["versions"]) {
    if (!v.is_object() || !v.contains("name") || !v["name"].is_string()) continue;
    bool has_scale = v.contains("subresources") && v["subresources"].is_object() && v["subresources"].contains("scale");
    crds_.push_back({group + "/" + v["name"].get<std::string>(), kind, has_scale});
  }
}

void Validator::CollectCrdsFrom(const Json& list) {
  if (!list.is_array()) return;
  for (const auto& o : list) CollectCrds(o);
}

std::optional<KindInfo> Validator::KnownKind(const Json& obj, const std::string& path, bool loadable) {
  bool ok = true;
  if (!obj.contains("apiVersion")) {
    Error(JoinPath(path, "apiVersion"), "missing");
    ok = false;
  } else if (!obj["apiVersion"].is_string()) {
    Error(JoinPath(path, "apiVersion"), "must be a string, got " + TypeName(obj["apiVersion"]));
    ok = false;
  }
  if (!obj.contains("kind")) {
    Error(JoinPath(path, "kind"), "missing");
    ok = false;
  } else if (!obj["kind"].is_string()) {
    Error(JoinPath(path, "kind"), "must be a string, got " + TypeName(obj["kind"]));
    ok = false;
  }
  if (!ok) return std::nullopt;
  std::string api_version = obj["apiVersion"].get<std::string>();
  std::string kind = obj["kind"].get<std::string>();
  if (auto k = BuiltinKind(api_version, kind)) {
    if (loadable && !k->loadable) {
      Error(JoinPath(path, "kind"), "kind " + kind + " cannot be loaded by a scenario (the controller writes it)");
      return std::nullopt;
    }
    return k;
  }
  for (const auto& c : crds_) {
    if (c.api_version == api_version && c.kind == kind) return KindInfo{api_version, kind, "", true};
  }
  Error(JoinPath(path, "kind"), "unknown kind " + kind + " in " + api_version +
                                    " (supported: HorizontalPodAutoscaler, Deployment, StatefulSet, ReplicaSet, Pod, "
                                    "Namespace, PodMetrics, MetricValue, ExternalMetricValue, "
                                    "CustomResourceDefinition, or a kind defined by a CRD among the objects)");
  return std::nullopt;
}

void Validator::Object(const Json& obj, const std::string& path, std::vector<Json>* out) {
  if (!ExpectMap(obj, path)) return;
  if (StringOr(obj, "kind") == "List" && StringOr(obj, "apiVersion", "v1") == "v1") {
    Keys(obj, path, {"apiVersion", "kind", "items", "metadata"});
    if (!obj.contains("items")) {
      Error(JoinPath(path, "items"), "missing");
      return;
    }
    const Json& items = obj["items"];
    if (!ExpectList(items, JoinPath(path, "items"))) return;
    for (size_t i = 0; i < items.size(); ++i) Object(items[i], IndexPath(JoinPath(path, "items"), i), out);
    return;
  }
  auto kind = KnownKind(obj, path, /*loadable=*/true);
  if (!kind) return;
  ObjectBody(obj, *kind, path);
  if (out) out->push_back(obj);
}

void Validator::ObjectBody(const Json& obj, const KindInfo& kind, const std::string& path) {
  const std::string mpath = JoinPath(path, "metadata");
  bool needs_name = kind.identity != KindIdentity::kDescribedObject;
  if (obj.contains("metadata")) {
    const Json& md = obj["metadata"];
    if (ExpectMap(md, mpath)) {
      if (md.contains("name")) {
        String(md["name"], JoinPath(mpath, "name"));
      } else if (needs_name && !md.contains("generateName")) {
        Error(JoinPath(mpath, "name"), "missing");
      }
      if (md.contains("namespace")) String(md["namespace"], JoinPath(mpath, "namespace"));
      if (md.contains("labels") && ExpectMap(md["labels"], JoinPath(mpath, "labels"))) {
        for (auto it = md["labels"].begin(); it != md["labels"].end(); ++it)
          String(it.value(), JoinPath(JoinPath(mpath, "labels"), it.key()));
      }
    }
  } else if (needs_name) {
    Error(JoinPath(mpath, "name"), "missing");
  }
  const std::string& k = kind.kind;
  if (k == "HorizontalPodAutoscaler") {
    Hpa(obj, kind, path);
  } else if (k == "Deployment" || k == "StatefulSet" || k == "ReplicaSet") {
    ScaleTarget(obj, path);
  } else if (k == "Pod") {
    if (obj.contains("spec")) PodSpec(obj["spec"], JoinPath(path, "spec"));
    if (obj.contains("status") && ExpectMap(obj["status"], JoinPath(path, "status"))) {
      const Json& st = obj["status"];
      std::string sp = JoinPath(path, "status");
      if (st.contains("phase")) {
        auto phase = String(st["phase"], JoinPath(sp, "phase"));
        static const std::set<std::string> phases = {"Pending", "Running", "Succeeded", "Failed", "Unknown"};
        if (phase && !phases.count(*phase)) Error(JoinPath(sp, "phase"), "unknown pod phase \"" + *phase + "\"");
      }
      if (st.contains("startTime")) TimeAt(st["startTime"], JoinPath(sp, "startTime"));
      if (st.contains("conditions") && ExpectList(st["conditions"], JoinPath(sp, "conditions"))) {
        for (size_t i = 0; i < st["conditions"].size(); ++i) {
          const Json& c = st["conditions"][i];
          std::string cp = IndexPath(JoinPath(sp, "conditions"), i);
          if (!ExpectMap(c, cp)) continue;
          if (c.contains("lastTransitionTime"))
            TimeAt(c["lastTransitionTime"], JoinPath(cp, "lastTransitionTime"));
          if (c.contains("status")) {
            auto s = String(c["status"], JoinPath(cp, "status"));
            if (s && *s != "True" && *s != "False" && *s != "Unknown")
              Error(JoinPath(cp, "status"), "must be \"True\", \"False\" or \"Unknown\", got \"" + *s + "\"");
          }
        }
      }
    }
  } else if (k == "PodMetrics") {
    PodMetrics(obj, path);
  } else if (k == "MetricValue") {
    MetricValue(obj, path);
  } else if (k == "ExternalMetricValue") {
    ExternalMetricValue(obj, path);
  } else if (k == "CustomResourceDefinition") {
    Crd(obj, path);
  }
}

void Validator::MetricTarget(const Json& target, const std::string& path) {
  if (!ExpectMap(target, path)) return;
  Keys(target, path, {"type", "value", "averageValue", "averageUtilization"});
  if (target.contains("type")) {
    auto t = String(target["type"], JoinPath(path, "type"));
    if (t && *t != "Utilization" && *t != "Value" && *t != "AverageValue")
      Error(JoinPath(path, "type"), "unknown target type \"" + *t + "\" (Utilization, Value, AverageValue)");
  } else {
    Error(JoinPath(path, "type"), "missing");
  }
  if (target.contains("value")) QuantityAt(target["value"], JoinPath(path, "value"));
  if (target.contains("averageValue")) QuantityAt(target["averageValue"], JoinPath(path, "averageValue"));
  if (target.contains("averageUtilization")) IntAt(target["averageUtilization"], JoinPath(path, "averageUtilization"), 1);
}

void Validator::Hpa(const Json& obj, const KindInfo& kind, const std::string& path) {
  std::string sp = JoinPath(path, "spec");
  if (!obj.contains("spec")) {
    Error(sp, "missing");
    return;
  }
  const Json& spec = obj["spec"];
  if (!ExpectMap(spec, sp)) return;
  if (!spec.contains("scaleTargetRef")) {
    Error(JoinPath(sp, "scaleTargetRef"), "missing");
  } else if (ExpectMap(spec["scaleTargetRef"], JoinPath(sp, "scaleTargetRef"))) {
    const Json& ref = spec["scaleTargetRef"];
    std::string rp = JoinPath(sp, "scaleTargetRef");
    for (const char* f : {"kind", "name"}) {
      if (!ref.contains(f)) Error(JoinPath(rp, f), "missing");
      else String(ref[f], JoinPath(rp, f));
    }
    if (ref.contains("apiVersion")) String(ref["apiVersion"], JoinPath(rp, "apiVersion"));
  }
  std::optional<int64_t> min_r, max_r;
  if (spec.contains("minReplicas")) min_r = IntAt(spec["minReplicas"], JoinPath(sp, "minReplicas"), 0);
  if (!spec.contains("maxReplicas")) Error(JoinPath(sp, "maxReplicas"), "missing");
  else max_r = IntAt(spec["maxReplicas"], JoinPath(sp, "maxReplicas"), 1);
  if (min_r && max_r && *min_r > *max_r)
    Error(JoinPath(sp, "minReplicas"), "must not exceed maxReplicas (" + std::to_string(*max_r) + ")");
  if (kind.api_version == "autoscaling/v1") {
    if (spec.contains("targetCPUUtilizationPercentage"))
      IntAt(spec["targetCPUUtilizationPercentage"], JoinPath(sp, "targetCPUUtilizationPercentage"), 1);
    return;
  }
  if (spec.contains("metrics") && ExpectList(spec["metrics"], JoinPath(sp, "metrics"))) {
    for (size_t i = 0; i < spec["metrics"].size(); ++i) {
      const Json& m = spec["metrics"][i];
      std::string mp = IndexPath(JoinPath(sp, "metrics"), i);
      if (!ExpectMap(m, mp)) continue;
      if (!m.contains("type")) {
        Error(JoinPath(mp, "type"), "missing");
        continue;
      }
      auto type = String(m["type"], JoinPath(mp, "type"));
      if (!type) continue;
      static const std::map<std::string, std::string> sources = {{"Resource", "resource"},
                                                                 {"ContainerResource", "containerResource"},
                                                                 {"Pods", "pods"},
                                                                 {"Object", "object"},
                                                                 {"External", "external"}};
      auto src = sources.find(*type);
      if (src == sources.end()) {
        // Unknown metric types are the controller's business (a spec
        // error condition), so they load; only the shape is checked.
        continue;
      }
      std::string srcp = JoinPath(mp, src->second);
      if (!m.contains(src->second)) {
        Error(srcp, "missing for type " + *type);
        continue;
      }
      const Json& s = m[src->second];
      if (!ExpectMap(s, srcp)) continue;
      if (s.contains("target")) MetricTarget(s["target"], JoinPath(srcp, "target"));
      else Error(JoinPath(srcp, "target"), "missing");
      if (s.contains("metric") && ExpectMap(s["metric"], JoinPath(srcp, "metric"))) {
        if (s["metric"].contains("selector")) Selector(s["metric"]["selector"], JoinPath(JoinPath(srcp, "metric"), "selector"));
      }
    }
  }
  if (spec.contains("behavior") && !spec["behavior"].is_null() && ExpectMap(spec["behavior"], JoinPath(sp, "behavior"))) {
    const Json& b = spec["behavior"];
    std::string bp = JoinPath(sp, "behavior");
    Keys(b, bp, {"scaleUp", "scaleDown"});
    for (const char* dir : {"scaleUp", "scaleDown"}) {
      if (!b.contains(dir) || b[dir].is_null()) continue;
      std::string dp = JoinPath(bp, dir);
      const Json& r = b[dir];
      if (!ExpectMap(r, dp)) continue;
      Keys(r, dp, {"stabilizationWindowSeconds", "selectPolicy", "policies", "tolerance"});
      if (r.contains("stabilizationWindowSeconds"))
        IntAt(r["stabilizationWindowSeconds"], JoinPath(dp, "stabilizationWindowSeconds"), 0);
      if (r.contains("selectPolicy")) {
        auto s = String(r["selectPolicy"], JoinPath(dp, "selectPolicy"));
        if (s && *s != "Max" && *s != "Min" && *s != "Disabled")
          Error(JoinPath(dp, "selectPolicy"), "must be Max, Min or Disabled, got \"" + *s + "\"");
      }
      if (r.contains("tolerance")) QuantityAt(r["tolerance"], JoinPath(dp, "tolerance"));
      if (r.contains("policies") && ExpectList(r["policies"], JoinPath(dp, "policies"))) {
        for (size_t i = 0; i < r["policies"].size(); ++i) {
          const Json& p = r["policies"][i];
          std::string pp = IndexPath(JoinPath(dp, "policies"), i);
          if (!ExpectMap(p, pp)) continue;
          Keys(p, pp, {"type", "value", "periodSeconds"});
          if (!p.contains("type")) {
            Error(JoinPath(pp, "type"), "missing");
          } else {
            auto t = String(p["type"], JoinPath(pp, "type"));
            if (t && *t != "Pods" && *t != "Percent")
              Error(JoinPath(pp, "type"), "must be Pods or Percent, got \"" + *t + "\"");
          }
          if (!p.contains("value")) Error(JoinPath(pp, "value"), "missing");
          else IntAt(p["value"], JoinPath(pp, "value"), 1);
          if (!p.contains("periodSeconds")) Error(JoinPath(pp, "periodSeconds"), "missing");
          else IntAt(p["periodSeconds"], JoinPath(pp, "periodSeconds"), 1);
        }
      }
    }
  }
}

void Validator::PodSpec(const Json& spec, const std::string& path) {
  if (!ExpectMap(spec, path)) return;
  for (const char* list : {"containers", "initContainers"}) {
    if (!spec.contains(list)) continue;
    std::string lp = JoinPath(path, list);
    if (!ExpectList(spec[list], lp)) continue;
    for (size_t i = 0; i < spec[list].size(); ++i) {
      const Json& c = spec[list][i];
      std::string cp = IndexPath(lp, i);
      if (!ExpectMap(c, cp)) continue;
      if (!c.contains("name")) Error(JoinPath(cp, "name"), "missing");
      if (!c.contains("resources")) continue;
      std::string rp = JoinPath(cp, "resources");
      if (!ExpectMap(c["resources"], rp)) continue;
      for (const char* kind : {"requests", "limits"}) {
        if (!c["resources"].contains(kind)) continue;
        const Json& m = c["resources"][kind];
        std::string mp = JoinPath(rp, kind);
        if (!ExpectMap(m, mp)) continue;
        for (auto it = m.begin(); it != m.end(); ++it) QuantityAt(it.value(), JoinPath(mp, it.key()));
      }
    }
  }
}

void Validator::ScaleTarget(const Json& obj, const std::string& path) {
  std::string sp = JoinPath(path, "spec");
  if (!obj.contains("spec")) {
    Error(sp, "missing");
    return;
  }
  const Json& spec = obj["spec"];
  if (!ExpectMap(spec, sp)) return;
  if (spec.contains("replicas")) IntAt(spec["replicas"], JoinPath(sp, "replicas"), 0);
  if (spec.contains("selector")) Selector(spec["selector"], JoinPath(sp, "selector"));
  else Error(JoinPath(sp, "selector"), "missing");
  if (spec.contains("template") && ExpectMap(spec["template"], JoinPath(sp, "template"))) {
    if (spec["template"].contains("spec")) PodSpec(spec["template"]["spec"], JoinPath(JoinPath(sp, "template"), "spec"));
  }
  if (obj.contains("status") && ExpectMap(obj["status"], JoinPath(path, "status"))) {
    if (obj["status"].contains("replicas"))
      IntAt(obj["status"]["replicas"], JoinPath(JoinPath(path, "status"), "replicas"), 0);
  }
}

void Validator::PodMetrics(const Json& obj, const std::string& path) {
  Keys(obj, path, {"apiVersion", "kind", "metadata", "timestamp", "window", "containers"});
  if (obj.contains("timestamp")) TimeAt(obj["timestamp"], JoinPath(path, "timestamp"));
  if (obj.contains("window")) DurationAt(obj["window"], JoinPath(path, "window"));
  std::string cp = JoinPath(path, "containers");
  if (!obj.contains("containers")) {
    Error(cp, "missing");
    return;
  }
  if (!ExpectList(obj["containers"], cp)) return;
  for (size_t i = 0; i < obj["containers"].size(); ++i) {
    const Json& c = obj["containers"][i];
    std::string p = IndexPath(cp, i);
    if (!ExpectMap(c, p)) continue;
    Keys(c, p, {"name", "usage"});
    if (!c.contains("name")) Error(JoinPath(p, "name"), "missing");
    else String(c["name"], JoinPath(p, "name"));
    if (!c.contains("usage")) {
      Error(JoinPath(p, "usage"), "missing");
    } else if (ExpectMap(c["usage"], JoinPath(p, "usage"))) {
      for (auto it = c["usage"].begin(); it != c["usage"].end(); ++it)
        QuantityAt(it.value(), JoinPath(JoinPath(p, "usage"), it.key()));
    }
  }
}

void Validator::MetricValue(const Json& obj, const std::string& path) {
  Keys(obj, path, {"apiVersion", "kind", "metadata", "describedObject", "metric", "timestamp", "windowSeconds", "value"});
  std::string dp = JoinPath(path, "describedObject");
  if (!obj.contains("describedObject")) {
    Error(dp, "missing");
  } else if (ExpectMap(obj["describedObject"], dp)) {
    for (const char* f : {"kind", "name"}) {
      if (!obj["describedObject"].contains(f)) Error(JoinPath(dp, f), "missing");
      else String(obj["describedObject"][f], JoinPath(dp, f));
    }
  }
  std::string mp = JoinPath(path, "metric");
  if (!obj.contains("metric")) {
    Error(mp, "missing");
  } else if (ExpectMap(obj["metric"], mp)) {
    if (!obj["metric"].contains("name")) Error(JoinPath(mp, "name"), "missing");
    else String(obj["metric"]["name"], JoinPath(mp, "name"));
    if (obj["metric"].contains("selector")) Selector(obj["metric"]["selector"], JoinPath(mp, "selector"));
  }
  if (obj.contains("timestamp")) TimeAt(obj["timestamp"], JoinPath(path, "timestamp"));
  if (obj.contains("windowSeconds")) IntAt(obj["windowSeconds"], JoinPath(path, "windowSeconds"), 0);
  if (!obj.contains("value")) Error(JoinPath(path, "value"), "missing");
  else QuantityAt(obj["value"], JoinPath(path, "value"));
}

void Validator::ExternalMetricValue(const Json& obj, const std::string& path) {
  Keys(obj, path, {"apiVersion", "kind", "metadata", "metricName", "metricLabels", "timestamp", "window", "windowSeconds", "value"});
  if (!obj.contains("metricName")) Error(JoinPath(path, "metricName"), "missing");
  else String(obj["metricName"], JoinPath(path, "metricName"));
  if (obj.contains("metricLabels") && ExpectMap(obj["metricLabels"], JoinPath(path, "metricLabels"))) {
    for (auto it = obj["metricLabels"].begin(); it != obj["metricLabels"].end(); ++it)
      String(it.value(), JoinPath(JoinPath(path, "metricLabels"), it.key()));
  }
  if (obj.contains("timestamp")) TimeAt(obj["timestamp"], JoinPath(path, "timestamp"));
  if (obj.contains("windowSeconds")) IntAt(obj["windowSeconds"], JoinPath(path, "windowSeconds"), 0);
  if (!obj.contains("value")) Error(JoinPath(path, "value"), "missing");
  else QuantityAt(obj["value"], JoinPath(path, "value"));
}

void Validator::Crd(const Json& obj, const std::string& path) {
  std::string sp = JoinPath(path, "spec");
  if (!obj.contains("spec")) {
    Error(sp, "missing");
    return;
  }
  const Json& spec = obj["spec"];
  if (!ExpectMap(spec, sp)) return;
  if (!spec.contains("group")) Error(JoinPath(sp, "group"), "missing");
  if (!spec.contains("names") || !spec["names"].is_object()) {
    Error(JoinPath(sp, "names"), "missing (needs kind and plural)");
  } else {
    for (const char* f : {"kind", "plural"})
      if (!spec["names"].contains(f)) Error(JoinPath(JoinPath(sp, "names"), f), "missing");
  }
  if (!spec.contains("versions")) {
    Error(JoinPath(sp, "versions"), "missing");
  } else if (ExpectList(spec["versions"], JoinPath(sp, "versions"))) {
    for (size_t i = 0; i < spec["versions"].size(); ++i) {
      const Json& v = spec["versions"][i];
      std::string vp = IndexPath(JoinPath(sp, "versions"), i);
      if (ExpectMap(v, vp) && !v.contains("name")) Error(JoinPath(vp, "name"), "missing");
    }
  }
}

std::optional<ApiFault> Validator::FaultValue(const Json& v, const std::string& path) {
  auto text = String(v, path);
  if (!text) return std::nullopt;
  ApiFault f;
  if (*text == "ok") return f;
  if (*text == "unavailable") {
    f.kind = ApiFault::Kind::kUnavailable;
    return f;
  }
  if (text->rfind("slow:", 0) == 0) {
    auto d = k8s::ParseGoDuration(text->substr(5));
    if (!d.ok() || d->count() < 0) {
      Error(path, "malformed duration in \"" + *text + "\"" + (d.ok() ? "" : ": " + d.status().message()));
      return std::nullopt;
    }
    f.kind = ApiFault::Kind::kSlow;
    f.delay = std::chrono::duration_cast<std::chrono::milliseconds>(*d);
    return f;
  }
  if (text->rfind("error:", 0) == 0) {
    std::string code = text->substr(6);
    if (code.size() != 3 || code.find_first_not_of("0123456789") != std::string::npos || code[0] < '4' || code[0] > '5') {
      Error(path, "malformed fault \"" + *text + "\": error needs an HTTP code 400-599");
      return std::nullopt;
    }
    f.kind = ApiFault::Kind::kError;
    f.code = static_cast<int>(*ParseInt32(code));  // three digits, checked above
    return f;
  }
  Error(path, "unknown fault \"" + *text + "\" (ok, unavailable, slow:<duration>, error:<http code>)");
  return std::nullopt;
}

void Validator::Faults(const Json& f, const std::string& path, StepFaults& out) {
  if (!ExpectMap(f, path)) return;
  Keys(f, path, {"resourceMetrics", "customMetrics", "externalMetrics", "apiserver"});
  if (f.contains("resourceMetrics")) out.resource_metrics = FaultValue(f["resourceMetrics"], JoinPath(path, "resourceMetrics"));
  if (f.contains("customMetrics")) out.custom_metrics = FaultValue(f["customMetrics"], JoinPath(path, "customMetrics"));
  if (f.contains("externalMetrics")) out.external_metrics = FaultValue(f["externalMetrics"], JoinPath(path, "externalMetrics"));
  if (!f.contains("apiserver")) return;
  const Json& a = f["apiserver"];
  std::string ap = JoinPath(path, "apiserver");
  if (!a.is_array()) {
    out.apiserver = FaultValue(a, ap);
    return;
  }
  out.apiserver = ApiFault{};
  static const std::set<std::string> verbs = {"get", "list", "watch", "create", "update", "patch", "delete"};
  for (size_t i = 0; i < a.size(); ++i) {
    const Json& r = a[i];
    std::string rp = IndexPath(ap, i);
    if (!ExpectMap(r, rp)) continue;
    Keys(r, rp, {"verb", "resource", "subresource", "code", "count"});
    RequestFaultRule rule;
    rule.subresource = "*";
    if (r.contains("verb")) {
      auto v = String(r["verb"], JoinPath(rp, "verb"));
      if (v && !verbs.count(*v)) Error(JoinPath(rp, "verb"), "unknown verb \"" + *v + "\"");
      if (v) rule.verb = *v;
    }
    if (r.contains("resource")) {
      if (auto v = String(r["resource"], JoinPath(rp, "resource"))) rule.resource = *v;
    }
    if (r.contains("subresource")) {
      if (auto v = String(r["subresource"], JoinPath(rp, "subresource"))) rule.subresource = *v;
    }
    if (!r.contains("code")) {
      Error(JoinPath(rp, "code"), "missing");
    } else if (auto c = IntAt(r["code"], JoinPath(rp, "code"), 400)) {
      if (*c > 599) Error(JoinPath(rp, "code"), "must be an HTTP error code 400-599");
      rule.code = static_cast<int>(*c);
    }
    if (r.contains("count")) {
      if (auto c = IntAt(r["count"], JoinPath(rp, "count"), 1)) rule.count = static_cast<int>(*c);
    }
    out.apiserver_rules.push_back(rule);
  }
}

void Validator::Expectation(const Json& e, const std::string& path, bool absent) {
  if (!ExpectMap(e, path)) return;
  auto kind = KnownKind(e, path, /*loadable=*/false);
  if (!kind) return;
  if (kind->identity == KindIdentity::kInvolvedObject) {
    if (!e.contains("involvedObject") && !absent && !(e.contains("metadata") && e["metadata"].contains("name"))) {
      Error(JoinPath(path, "involvedObject"), "missing (an expected Event names the object it is about)");
    }
    if (e.contains("involvedObject")) ExpectMap(e["involvedObject"], JoinPath(path, "involvedObject"));
    if (e.contains("message") && !e["message"].is_string()) {
      const Json& m = e["message"];
      std::string mp = JoinPath(path, "message");
      if (!m.is_object() || m.size() != 1 || !m.contains("contains") || !m["contains"].is_string())
        Error(mp, "must be a string or {contains: \"...\"}");
    }
    if (e.contains("count")) IntAt(e["count"], JoinPath(path, "count"), 1);
    return;
  }
  std::string mp = JoinPath(path, "metadata");
  if (kind->identity == KindIdentity::kDescribedObject) return;  // identified by describedObject + metric
  if (!e.contains("metadata") || !e["metadata"].is_object() || !e["metadata"].contains("name")) {
    Error(JoinPath(mp, "name"), "missing (an expectation names the object it checks)");
  } else {
    String(e["metadata"]["name"], JoinPath(mp, "name"));
  }
}

void Validator::DeleteEntry(const Json& d, const std::string& path) {
  if (!ExpectMap(d, path)) return;
  if (!d.contains("kind")) {
    Error(JoinPath(path, "kind"), "missing");
    return;
  }
  auto kind = String(d["kind"], JoinPath(path, "kind"));
  if (!kind) return;
  std::optional<KindInfo> builtin = BuiltinKindByName(*kind);
  bool known = builtin.has_value();
  for (const auto& c : crds_) known = known || c.kind == *kind;
  if (!known) {
    Error(JoinPath(path, "kind"), "unknown kind " + *kind);
    return;
  }
  if (d.contains("apiVersion")) String(d["apiVersion"], JoinPath(path, "apiVersion"));
  if (builtin && builtin->identity == KindIdentity::kDescribedObject) {
    if (!d.contains("describedObject")) Error(JoinPath(path, "describedObject"), "missing");
    if (!d.contains("metric")) Error(JoinPath(path, "metric"), "missing");
    return;
  }
  bool has_name = d.contains("name") || (d.contains("metadata") && d["metadata"].is_object() && d["metadata"].contains("name"));
  if (!has_name) Error(JoinPath(path, "name"), "missing");
  if (d.contains("name")) String(d["name"], JoinPath(path, "name"));
  if (d.contains("namespace")) String(d["namespace"], JoinPath(path, "namespace"));
}

void Validator::Workload(const Json& w, const std::string& path, Scenario& sc) {
  if (!ExpectMap(w, path)) return;
  Keys(w, path, {"target", "podTemplate", "startupDelay", "readinessDelay", "idle", "load"});
  WorkloadSpec spec;
  std::string tp = JoinPath(path, "target");
  if (!w.contains("target")) {
    Error(tp, "missing");
  } else if (ExpectMap(w["target"], tp)) {
    const Json& t = w["target"];
    Keys(t, tp, {"apiVersion", "kind", "namespace", "name"});
    if (!t.contains("kind")) Error(JoinPath(tp, "kind"), "missing");
    else if (auto k = String(t["kind"], JoinPath(tp, "kind"))) spec.target.kind = *k;
    if (!t.contains("name")) Error(JoinPath(tp, "name"), "missing");
    else if (auto n = String(t["name"], JoinPath(tp, "name"))) spec.target.name = *n;
    spec.target.ns = "default";
    if (t.contains("namespace")) {
      if (auto n = String(t["namespace"], JoinPath(tp, "namespace"))) spec.target.ns = *n;
    }
    if (t.contains("apiVersion")) {
      if (auto a = String(t["apiVersion"], JoinPath(tp, "apiVersion"))) spec.target.api_version = *a;
    }
    if (!spec.target.kind.empty()) {
      std::optional<KindInfo> builtin = BuiltinKindByName(spec.target.kind);
      bool scalable = builtin && builtin->scalable;
      if (scalable && spec.target.api_version.empty()) spec.target.api_version = builtin->api_version;
      for (const auto& c : crds_) {
        if (c.kind == spec.target.kind && c.has_scale &&
            (spec.target.api_version.empty() || spec.target.api_version == c.api_version)) {
          scalable = true;
          if (spec.target.api_version.empty()) spec.target.api_version = c.api_version;
        }
      }
      if (!scalable)
        Error(JoinPath(tp, "kind"), "a workload target must be a Deployment, StatefulSet, ReplicaSet or a custom "
                                    "resource with a scale subresource, got " + spec.target.kind);
    }
  }
  if (w.contains("podTemplate")) {
    std::string pp = JoinPath(path, "podTemplate");
    if (ExpectMap(w["podTemplate"], pp)) {
      spec.has_pod_template = true;
      Keys(w["podTemplate"], pp, {"cpuRequest", "memoryRequest"});
      if (w["podTemplate"].contains("cpuRequest") && QuantityAt(w["podTemplate"]["cpuRequest"], JoinPath(pp, "cpuRequest")))
        spec.cpu_request = *ScalarText(w["podTemplate"]["cpuRequest"]);
      if (w["podTemplate"].contains("memoryRequest") &&
          QuantityAt(w["podTemplate"]["memoryRequest"], JoinPath(pp, "memoryRequest")))
        spec.memory_request = *ScalarText(w["podTemplate"]["memoryRequest"]);
    }
  }
  if (w.contains("startupDelay")) {
    if (auto d = DurationAt(w["startupDelay"], JoinPath(path, "startupDelay"))) spec.startup_delay = *d;
  }
  if (w.contains("readinessDelay")) {
    if (auto d = DurationAt(w["readinessDelay"], JoinPath(path, "readinessDelay"))) spec.readiness_delay = *d;
  }
  if (w.contains("idle")) {
    std::string ip = JoinPath(path, "idle");
    if (ExpectMap(w["idle"], ip)) {
      Keys(w["idle"], ip, {"cpu", "memory"});
      for (auto it = w["idle"].begin(); it != w["idle"].end(); ++it) {
        if (auto q = QuantityAt(it.value(), JoinPath(ip, it.key()))) spec.idle_milli[it.key()] = q->MilliValue();
      }
    }
  }
  if (w.contains("load")) {
    std::string lp = JoinPath(path, "load");
    if (ExpectList(w["load"], lp)) {
      std::optional<std::chrono::nanoseconds> prev;
      for (size_t i = 0; i < w["load"].size(); ++i) {
        const Json& e = w["load"][i];
        std::string ep = IndexPath(lp, i);
        if (!ExpectMap(e, ep)) continue;
        LoadEntry entry;
        if (!e.contains("at")) {
          Error(JoinPath(ep, "at"), "missing");
        } else if (auto d = DurationAt(e["at"], JoinPath(ep, "at"))) {
          entry.at = *d;
          if (prev && *d < *prev) Error(JoinPath(ep, "at"), "load entries must be in time order");
          prev = *d;
        }
        for (auto it = e.begin(); it != e.end(); ++it) {
          if (it.key() == "at") continue;
          if (auto q = QuantityAt(it.value(), JoinPath(ep, it.key()))) {
            if (q->MilliValue() < 0) Error(JoinPath(ep, it.key()), "load must not be negative");
            entry.milli[it.key()] = q->MilliValue();
          }
        }
        spec.load.push_back(std::move(entry));
      }
    }
  }
  // The target must exist among the objects, and have no static pods.
  if (!spec.target.kind.empty() && !spec.target.name.empty()) {
    const Json* target = nullptr;
    for (const auto& o : sc.objects) {
      if (StringOr(o, "kind") == spec.target.kind && o.contains("metadata") &&
          StringOr(o["metadata"], "name") == spec.target.name &&
          StringOr(o["metadata"], "namespace", "default") == spec.target.ns) {
        target = &o;
      }
    }
    if (!target) {
      Error(tp, "the target " + spec.target.kind + " " + spec.target.ns + "/" + spec.target.name +
                    " is not among the objects");
    } else if (target->contains("spec") && (*target)["spec"].contains("selector")) {
      auto sel = k8s::Selector::FromJson((*target)["spec"]["selector"]);
      if (sel.ok() && !sel->Empty()) {
        for (const auto& o : sc.objects) {
          if (StringOr(o, "kind") != "Pod" || !o.contains("metadata")) continue;
          const Json& md = o["metadata"];
          if (StringOr(md, "namespace", "default") != spec.target.ns) continue;
          k8s::Labels labels;
          if (md.contains("labels") && md["labels"].is_object()) {
            for (auto it = md["labels"].begin(); it != md["labels"].end(); ++it)
              if (it.value().is_string()) labels[it.key()] = it.value().get<std::string>();
          }
          if (sel->Matches(labels))
            Error(tp, "the target's pods are simulated, but Pod " + StringOr(md, "name") +
                          " among the objects matches its selector (a workload's target may not also have Pod objects)");
        }
      }
    }
  }
  sc.workloads.push_back(std::move(spec));
}

void Validator::StepAt(const Json& s, const std::string& path, Scenario& sc) {
  if (!ExpectMap(s, path)) return;
  Keys(s, path, {"at", "apply", "delete", "faults", "restartController", "expect", "expectAbsent", "expectWrites"});
  Step step;
  if (!s.contains("at")) {
    Error(JoinPath(path, "at"), "missing");
  } else if (auto d = DurationAt(s["at"], JoinPath(path, "at"))) {
    step.at = *d;
    if (!sc.steps.empty() && *d < sc.steps.back().at)
      Error(JoinPath(path, "at"), "steps must be in time order (previous step is at " +
                                      k8s::FormatGoDuration(sc.steps.back().at) + ")");
  }
  if (s.contains("apply") && ExpectList(s["apply"], JoinPath(path, "apply"))) {
    for (size_t i = 0; i < s["apply"].size(); ++i)
      Object(s["apply"][i], IndexPath(JoinPath(path, "apply"), i), &step.apply);
  }
  if (s.contains("delete") && ExpectList(s["delete"], JoinPath(path, "delete"))) {
    for (size_t i = 0; i < s["delete"].size(); ++i) {
      DeleteEntry(s["delete"][i], IndexPath(JoinPath(path, "delete"), i));
      step.del.push_back(s["delete"][i]);
    }
  }
  if (s.contains("faults")) Faults(s["faults"], JoinPath(path, "faults"), step.faults);
  if (s.contains("restartController")) {
    if (!s["restartController"].is_boolean())
      Error(JoinPath(path, "restartController"), "must be true or false, got " + TypeName(s["restartController"]));
    else
      step.restart_controller = s["restartController"].get<bool>();
  }
  for (const char* key : {"expect", "expectAbsent"}) {
    if (!s.contains(key)) continue;
    std::string ep = JoinPath(path, key);
    if (!ExpectList(s[key], ep)) continue;
    bool absent = std::string(key) == "expectAbsent";
    for (size_t i = 0; i < s[key].size(); ++i) {
      Expectation(s[key][i], IndexPath(ep, i), absent);
      (absent ? step.expect_absent : step.expect).push_back(s[key][i]);
    }
  }
  if (s.contains("expectWrites") && ExpectList(s["expectWrites"], JoinPath(path, "expectWrites"))) {
    for (size_t i = 0; i < s["expectWrites"].size(); ++i) {
      const Json& w = s["expectWrites"][i];
      std::string wp = IndexPath(JoinPath(path, "expectWrites"), i);
      if (!ExpectMap(w, wp)) continue;
      Keys(w, wp, {"verb", "resource", "subresource", "min", "max", "count"});
      WriteExpectation we;
      if (w.contains("verb")) {
        auto v = String(w["verb"], JoinPath(wp, "verb"));
        static const std::set<std::string> verbs = {"create", "update", "patch", "delete"};
        if (v && !verbs.count(*v)) Error(JoinPath(wp, "verb"), "must be a write verb (create, update, patch, delete)");
        if (v) we.verb = *v;
      }
      if (w.contains("resource")) {
        if (auto v = String(w["resource"], JoinPath(wp, "resource"))) we.resource = *v;
      }
      if (w.contains("subresource")) {
        if (auto v = String(w["subresource"], JoinPath(wp, "subresource"))) we.subresource = *v;
      }
      if (w.contains("min")) we.min = IntAt(w["min"], JoinPath(wp, "min"), 0);
      if (w.contains("max")) we.max = IntAt(w["max"], JoinPath(wp, "max"), 0);
      if (w.contains("count")) we.count = IntAt(w["count"], JoinPath(wp, "count"), 0);
      if (!w.contains("min") && !w.contains("max") && !w.contains("count"))
        Error(wp, "needs min, max or count");
      step.expect_writes.push_back(we);
    }
  }
  sc.steps.push_back(std::move(step));
}

std::optional<Scenario> Validator::Document(const Json& doc) {
  if (!doc.is_object()) {
    Error("", "a scenario must be a map, got " + TypeName(doc));
    return std::nullopt;
  }
  Keys(doc, "", {"kind", "name", "description", "start", "metricResolution", "controller", "objects", "workloads", "steps"});
  Scenario sc;
  sc.file = file_;
  sc.start = DefaultScenarioStart();
  if (doc.contains("kind")) {
    auto k = String(doc["kind"], "kind");
    if (k && *k != "Scenario") Error("kind", "must be Scenario, got \"" + *k + "\"");
  }
  if (!doc.contains("name")) {
    Error("name", "missing");
  } else if (auto n = String(doc["name"], "name")) {
    // A plain character loop, not std::regex: libstdc++'s regex_match
    // recurses once per character and overflows the stack on a long name.
    bool valid = !n->empty() && std::all_of(n->begin(), n->end(), [](char c) {
      return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
    });
    if (!valid) Error("name", "must match [a-z0-9-]+, got \"" + *n + "\"");
    sc.name = *n;
  }
  if (doc.contains("description") && !doc["description"].is_null()) {
    if (auto d = String(doc["description"], "description")) sc.description = *d;
  }
  if (doc.contains("start")) {
    if (auto t = TimeAt(doc["start"], "start")) sc.start = *t;
  }
  if (doc.contains("metricResolution")) {
    if (auto d = DurationAt(doc["metricResolution"], "metricResolution", /*allow_zero=*/false)) sc.metric_resolution = *d;
  }
  if (doc.contains("controller") && !doc["controller"].is_null() && ExpectMap(doc["controller"], "controller")) {
    for (auto it = doc["controller"].begin(); it != doc["controller"].end(); ++it) {
      const Json& v = it.value();
      std::string p = JoinPath("controller", it.key());
      if (it.key().rfind("-", 0) == 0) Error(p, "flags are written without leading dashes");
      if (v.is_string()) sc.controller_flags[it.key()] = v.get<std::string>();
      else if (v.is_boolean()) sc.controller_flags[it.key()] = v.get<bool>() ? "true" : "false";
      else if (v.is_number_integer()) sc.controller_flags[it.key()] = std::to_string(v.get<int64_t>());
      else if (v.is_number()) sc.controller_flags[it.key()] = v.dump();
      else Error(p, "must be a scalar flag value, got " + TypeName(v));
    }
    if (sc.controller_flags.count("horizontal-pod-autoscaler-sync-period")) {
      auto d = k8s::ParseGoDuration(sc.controller_flags["horizontal-pod-autoscaler-sync-period"]);
      if (!d.ok() || d->count() <= 0)
        Error("controller.horizontal-pod-autoscaler-sync-period", "must be a positive duration");
    }
  }
  // CRDs first: a custom kind is known once its CRD is anywhere in the file.
  if (doc.contains("objects")) CollectCrdsFrom(doc["objects"]);
  if (doc.contains("steps") && doc["steps"].is_array()) {
    for (const auto& s : doc["steps"])
      if (s.is_object() && s.contains("apply")) CollectCrdsFrom(s["apply"]);
  }
  if (doc.contains("objects") && !doc["objects"].is_null() && ExpectList(doc["objects"], "objects")) {
    for (size_t i = 0; i < doc["objects"].size(); ++i) Object(doc["objects"][i], IndexPath("objects", i), &sc.objects);
  }
  if (doc.contains("workloads") && !doc["workloads"].is_null() && ExpectList(doc["workloads"], "workloads")) {
    std::set<std::string> targets;
    for (size_t i = 0; i < doc["workloads"].size(); ++i) {
      size_t before = sc.workloads.size();
      Workload(doc["workloads"][i], IndexPath("workloads", i), sc);
      if (sc.workloads.size() > before) {
        const auto& t = sc.workloads.back().target;
        std::string key = t.kind + "/" + t.ns + "/" + t.name;
        if (!targets.insert(key).second)
          Error(JoinPath(IndexPath("workloads", i), "target"), "two workloads own the same target " + key);
      }
    }
  }
  if (!doc.contains("steps")) {
    Error("steps", "missing");
  } else if (ExpectList(doc["steps"], "steps")) {
    for (size_t i = 0; i < doc["steps"].size(); ++i) StepAt(doc["steps"][i], IndexPath("steps", i), sc);
  }
  if (HasErrors()) return std::nullopt;
  return sc;
}

}  // namespace

std::string ScenarioError::ToString() const {
  std::string out = file;
  if (line > 0) out += ":" + std::to_string(line);
  out += ": ";
  if (!path.empty()) out += path + ": ";
  // path and problem quote the author's keys and values, which may be any
  // bytes: the rendered error is kept valid, bounded UTF-8 (found by
  // tests/fuzz/scenario_fuzz).
  return k8s::SafeText(out + problem, 4096);
}

Time DefaultScenarioStart() {
  // 2026-01-01T00:00:00Z
  return Time(std::chrono::seconds(1767225600));
}

std::chrono::nanoseconds Scenario::SyncPeriod() const {
  auto it = controller_flags.find("horizontal-pod-autoscaler-sync-period");
  if (it != controller_flags.end()) {
    auto d = k8s::ParseGoDuration(it->second);
    if (d.ok() && d->count() > 0) return *d;
  }
  return std::chrono::seconds(15);
}

std::optional<KindInfo> BuiltinKind(const std::string& api_version, const std::string& kind) {
  for (const auto& k : BuiltinKinds()) {
    if (k.api_version == api_version && k.kind == kind) return k;
  }
  return std::nullopt;
}

std::optional<KindInfo> BuiltinKindByName(const std::string& kind) {
  for (const auto& k : BuiltinKinds()) {
    if (k.kind == kind) return k;
  }
  return std::nullopt;
}

LoadedScenario ParseScenarioJson(const std::string& file, const Json& doc) {
  Validator v(file, nullptr);
  LoadedScenario out;
  out.scenario = v.Document(doc);
  out.errors = v.TakeErrors();
  if (!out.errors.empty()) out.scenario.reset();
  return out;
}

LoadedScenario ParseScenarioYaml(const std::string& file, const std::string& text) {
  LoadedScenario out;
  auto docs = k8s::YamlToJsonDocumentsWithLines(text, file);
  if (!docs.ok()) {
    // The adapter's message starts with "file:line:col: "; keep the position.
    std::string msg = docs.status().message();
    if (msg.rfind(file + ":", 0) == 0) msg = "line " + msg.substr(file.size() + 1);
    ScenarioError e{file, "", "malformed YAML: " + msg, 0};
    out.errors.push_back(e);
    return out;
  }
  if (docs->empty()) {
    out.errors.push_back({file, "", "empty file: a scenario is one YAML document", 0});
    return out;
  }
  if (docs->size() > 1) {
    out.errors.push_back({file, "", "one scenario per file, found " + std::to_string(docs->size()) + " documents", 0});
    return out;
  }
  const k8s::YamlDoc& doc = (*docs)[0];
  Validator v(file, &doc);
  out.scenario = v.Document(doc.json);
  out.errors = v.TakeErrors();
  if (!out.errors.empty()) out.scenario.reset();
  return out;
}

LoadedScenario LoadScenarioFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    LoadedScenario out;
    out.errors.push_back({path, "", "cannot read file", 0});
    return out;
  }
  std::stringstream ss;
  ss << in.rdbuf();
  return ParseScenarioYaml(path, ss.str());
}

}  // namespace hpad::sim
