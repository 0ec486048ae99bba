// Workload arithmetic and its writer (scenario-format.md "The arithmetic,
// exactly").
#include "sim/workload.h"

#include <algorithm>

#include "k8sclient/api/label_selector.h"
#include "k8sclient/api/quantity.h"
#include "k8sclient/api/time_format.h"
#include "sim/apiserver/store_util.h"
#include "k8sclient/api/json_lenient.h"

namespace hpad::sim {
using k8s::StringOr;
namespace {

using std::chrono::nanoseconds;

// ceil(num / den) for num >= 0, den > 0.
int64_t CeilDiv(__int128 num, __int128 den) {
  if (den <= 0) return 0;
  __int128 q = num / den;
  if (num % den != 0 && num > 0) ++q;
  return static_cast<int64_t>(q);
}

Time::duration ToTimeDuration(nanoseconds d) { return std::chrono::duration_cast<Time::duration>(d); }

const std::vector<std::pair<std::string, std::string>> kAppsKinds = {
    {"Deployment", "deployments"}, {"StatefulSet", "statefulsets"}, {"ReplicaSet", "replicasets"}};

}  // namespace

// ---- WorkloadModel ----------------------------------------------------------

WorkloadModel::WorkloadModel(WorkloadSpec spec, Time start) : spec_(std::move(spec)), start_(start) {}

std::vector<SimPod> WorkloadModel::CreateInitialPods(int64_t replicas) {
  std::vector<SimPod> created;
  // "Pods existing at t=0 were created long before (one hour) and are
  // Running and Ready": their transitions happened long ago, but never
  // after t=0 even when the delays are longer than an hour.
  Time created_at = start_ - std::chrono::hours(1);
  for (int64_t i = 0; i < replicas; ++i) {
    SimPod p;
    p.ordinal = next_ordinal_++;
    p.name = spec_.target.name + "-" + std::to_string(p.ordinal);
    p.created = created_at;
    p.running_at = std::min(start_, created_at + ToTimeDuration(spec_.startup_delay));
    p.ready_at = std::min(start_, p.running_at + ToTimeDuration(spec_.readiness_delay));
    pods_.push_back(p);
    created.push_back(p);
  }
  return created;
}

WorkloadModel::ScaleChange WorkloadModel::ScaleTo(int64_t replicas, Time now) {
  ScaleChange change;
  if (replicas < 0) replicas = 0;
  while (static_cast<int64_t>(pods_.size()) > replicas) {
    // Newest first: the pod created last (highest ordinal) goes.
    change.deleted.push_back(pods_.back().name);
    pods_.pop_back();
  }
  while (static_cast<int64_t>(pods_.size()) < replicas) {
    SimPod p;
    p.ordinal = next_ordinal_++;
    p.name = spec_.target.name + "-" + std::to_string(p.ordinal);
    p.created = now;
    p.running_at = now + ToTimeDuration(spec_.startup_delay);
    p.ready_at = p.running_at + ToTimeDuration(spec_.readiness_delay);
    pods_.push_back(p);
    change.created.push_back(p);
  }
  return change;
}

std::vector<SimPod> WorkloadModel::TransitionsAt(Time now) const {
  std::vector<SimPod> out;
  for (const auto& p : pods_) {
    if (p.created == now) continue;  // written as created; no transition to apply
    if (p.running_at == now || p.ready_at == now) out.push_back(p);
  }
  return out;
}

std::optional<Time> WorkloadModel::NextTransitionAfter(Time now) const {
  std::optional<Time> next;
  for (const auto& p : pods_) {
    for (Time t : {p.running_at, p.ready_at}) {
      if (t > now && (!next || t < *next)) next = t;
    }
  }
  return next;
}

std::map<std::string, int64_t> WorkloadModel::LoadAt(Time now) const {
  std::map<std::string, int64_t> load;
  for (const auto& name : CustomMetricNames()) load[name] = 0;
  load["cpu"] = 0;
  load["memory"] = 0;
  for (const auto& e : spec_.load) {
    if (start_ + ToTimeDuration(e.at) > now) break;
    for (const auto& [k, v] : e.milli) load[k] = v;
  }
  return load;
}

std::set<std::string> WorkloadModel::CustomMetricNames() const {
  std::set<std::string> names;
  for (const auto& e : spec_.load) {
    for (const auto& [k, v] : e.milli) {
      if (k != "cpu" && k != "memory") names.insert(k);
    }
  }
  return names;
}

int64_t WorkloadModel::ReadyCount(Time now) const {
  return std::count_if(pods_.begin(), pods_.end(), [&](const SimPod& p) { return p.ReadyAt(now); });
}

std::vector<PodSample> WorkloadModel::Sample(Time now) const {
  std::vector<PodSample> out;
  const int64_t ready = ReadyCount(now);
  const auto load = LoadAt(now);
  auto idle = [&](const char* key) -> int64_t {
    auto it = spec_.idle_milli.find(key);
    return it == spec_.idle_milli.end() ? 0 : it->second;
  };
  const int64_t idle_cpu = idle("cpu"), idle_mem = idle("memory");
  for (const auto& p : pods_) {
    if (!p.RunningAt(now)) continue;  // Pending pods have no sample
    PodSample s;
    s.pod = p.name;
    s.ready = p.ReadyAt(now);
    if (s.ready && ready > 0) {
      // usage = idle + load / ReadyPods, rounded up once over the exact sum
      // (cpu to whole milli, memory to whole bytes = 1000 milli).
      s.cpu_milli = CeilDiv(static_cast<__int128>(idle_cpu) * ready + load.at("cpu"), ready);
      s.memory_bytes = CeilDiv(static_cast<__int128>(idle_mem) * ready + load.at("memory"),
                               static_cast<__int128>(ready) * 1000);
      for (const auto& [k, v] : load) {
        if (k == "cpu" || k == "memory") continue;
        s.custom_milli[k] = CeilDiv(v, ready);
      }
    } else {
      s.cpu_milli = CeilDiv(idle_cpu, 1);
      s.memory_bytes = CeilDiv(idle_mem, 1000);
    }
    out.push_back(std::move(s));
  }
  return out;
}

// ---- JSON -----------------------------------------------------------------------

std::map<std::string, std::string> TargetPodLabels(const Json& target) {
  std::map<std::string, std::string> labels;
  const Json* spec = target.contains("spec") && target["spec"].is_object() ? &target["spec"] : nullptr;
  if (spec && spec->contains("selector") && (*spec)["selector"].is_object() &&
      (*spec)["selector"].contains("matchLabels") && (*spec)["selector"]["matchLabels"].is_object()) {
    for (auto it = (*spec)["selector"]["matchLabels"].begin(); it != (*spec)["selector"]["matchLabels"].end(); ++it) {
      if (it.value().is_string()) labels[it.key()] = it.value().get<std::string>();
    }
  }
  if (labels.empty() && spec && spec->contains("template") && (*spec)["template"].is_object()) {
    const Json& t = (*spec)["template"];
    if (t.contains("metadata") && t["metadata"].contains("labels") && t["metadata"]["labels"].is_object()) {
      for (auto it = t["metadata"]["labels"].begin(); it != t["metadata"]["labels"].end(); ++it)
        if (it.value().is_string()) labels[it.key()] = it.value().get<std::string>();
    }
  }
  return labels;
}

namespace {

// The containers of a simulated pod: one named after the target with the
// podTemplate requests, else the target's template containers.
Json PodContainers(const WorkloadModel& model, const Json& target) {
  const WorkloadSpec& spec = model.spec();
  if (!spec.has_pod_template) {
    if (target.contains("spec") && target["spec"].contains("template") && target["spec"]["template"].is_object() &&
        target["spec"]["template"].contains("spec") && target["spec"]["template"]["spec"].contains("containers") &&
        target["spec"]["template"]["spec"]["containers"].is_array() &&
        !target["spec"]["template"]["spec"]["containers"].empty()) {
      return target["spec"]["template"]["spec"]["containers"];
    }
  }
  Json c = {{"name", spec.target.name}, {"image", "registry.example/hpad-sim:1"}};
  Json requests = Json::object();
  if (spec.cpu_request) requests["cpu"] = *spec.cpu_request;
  if (spec.memory_request) requests["memory"] = *spec.memory_request;
  c["resources"] = {{"requests", requests}};
  return Json::array({c});
}

}  // namespace

Json WorkloadSimulator::PodJson(const WorkloadModel& model, const SimPod& pod, const Json& target, Time now) {
  const WorkloadSpec& spec = model.spec();
  Json labels = Json::object();
  for (const auto& [k, v] : TargetPodLabels(target)) labels[k] = v;
  Json md = {{"name", pod.name},
             {"namespace", spec.target.ns},
             {"labels", labels},
             {"creationTimestamp", k8s::FormatRfc3339(pod.created)}};
  if (target.contains("metadata") && target["metadata"].contains("uid")) {
    md["ownerReferences"] = Json::array({{{"apiVersion", spec.target.api_version},
                                          {"kind", spec.target.kind},
                                          {"name", spec.target.name},
                                          {"uid", target["metadata"]["uid"]},
                                          {"controller", true}}});
  }
  Json containers = PodContainers(model, target);
  Json status = {{"phase", pod.PhaseAt(now)}, {"startTime", k8s::FormatRfc3339(pod.created)}};
  if (pod.RunningAt(now)) {
    bool ready = pod.ReadyAt(now);
    Time ready_changed = ready ? pod.ready_at : pod.running_at;
    status["conditions"] = Json::array(
        {{{"type", "Initialized"}, {"status", "True"}, {"lastTransitionTime", k8s::FormatRfc3339(pod.created)}},
         {{"type", "Ready"}, {"status", ready ? "True" : "False"}, {"lastTransitionTime", k8s::FormatRfc3339(ready_changed)}},
         {{"type", "ContainersReady"},
          {"status", ready ? "True" : "False"},
          {"lastTransitionTime", k8s::FormatRfc3339(ready_changed)}},
         {{"type", "PodScheduled"}, {"status", "True"}, {"lastTransitionTime", k8s::FormatRfc3339(pod.created)}}});
    Json statuses = Json::array();
    for (const auto& c : containers) {
      statuses.push_back({{"name", StringOr(c, "name", spec.target.name)},
                          {"ready", ready},
                          {"started", true},
                          {"restartCount", 0},
                          {"image", StringOr(c, "image")},
                          {"state", {{"running", {{"startedAt", k8s::FormatRfc3339(pod.running_at)}}}}}});
    }
    status["containerStatuses"] = statuses;
  } else {
    status["conditions"] = Json::array(
        {{{"type", "PodScheduled"}, {"status", "True"}, {"lastTransitionTime", k8s::FormatRfc3339(pod.created)}}});
  }
  return {{"apiVersion", "v1"},
          {"kind", "Pod"},
          {"metadata", md},
          {"spec", {{"containers", containers}, {"nodeName", "sim-node"}}},
          {"status", status}};
}

Json WorkloadSimulator::PodMetricsJson(const WorkloadModel& model, const SimPod& pod, const PodSample& sample,
                                       const Json& target, Time now, std::chrono::nanoseconds window) {
  Json labels = Json::object();
  for (const auto& [k, v] : TargetPodLabels(target)) labels[k] = v;
  Json containers = PodContainers(model, target);
  Json out_containers = Json::array();
  // All usage goes to the first container (the HPA sums containers, so the
  // pod total is exact); further containers report zero.
  bool first = true;
  for (const auto& c : containers) {
    int64_t cpu = first ? sample.cpu_milli : 0;
    int64_t mem = first ? sample.memory_bytes : 0;
    out_containers.push_back(
        {{"name", StringOr(c, "name", model.spec().target.name)},
         {"usage",
          {{"cpu", k8s::Quantity::FromMilli(cpu).ToString()},
           {"memory", k8s::Quantity::FromInt(mem, k8s::Quantity::Format::kBinarySI).ToString()}}}});
    first = false;
  }
  return {{"apiVersion", "metrics.k8s.io/v1beta1"},
          {"kind", "PodMetrics"},
          {"metadata", {{"name", pod.name}, {"namespace", model.spec().target.ns}, {"labels", labels},
                        {"creationTimestamp", k8s::FormatRfc3339(now)}}},
          {"timestamp", k8s::FormatRfc3339(now)},
          {"window", k8s::FormatGoDuration(window)},
          {"containers", out_containers}};
}

// ---- WorkloadSimulator ---------------------------------------------------------

WorkloadSimulator::WorkloadSimulator(ClusterState& state, const std::vector<WorkloadSpec>& specs, Time start,
                                     std::chrono::nanoseconds resolution)
    : state_(state), start_(start), resolution_(resolution) {
  for (const auto& s : specs) models_.push_back(std::make_unique<WorkloadModel>(s, start));
}

std::optional<ResourceInfo> WorkloadSimulator::TargetInfo(const WorkloadModel& model) const {
  const ObjectRef& t = model.spec().target;
  return t.api_version.empty() ? state_.FindByKindAnyVersion(t.kind) : state_.FindByKind(t.api_version, t.kind);
}

Result<Json> WorkloadSimulator::GetTarget(const WorkloadModel& model) const {
  const ObjectRef& t = model.spec().target;
  auto info = TargetInfo(model);
  if (!info) return NotFoundError("workload target kind " + t.kind + " is not served");
  auto obj = state_.Get(info->gvr, t.ns, t.name);
  if (!obj.ok() || info->storage_group == "apps") return obj;
  return ScaleView(*info, *obj);
}

Json ScaleView(const ResourceInfo& info, const Json& obj) {
  // A custom resource seen through its scale subresource (CRD
  // `subresources.scale`): spec.replicas from specReplicasPath (0 when
  // unset, as the API server's Scale reports it) and the pods' labels from
  // the scale selector at labelSelectorPath (string form; its equality terms
  // become matchLabels), so the rest of the workload code reads every target
  // the same way.
  Json view = obj;
  if (!view.contains("spec") || !view["spec"].is_object()) view["spec"] = Json::object();
  const Json* r = JsonPathFind(obj, info.spec_replicas_path);
  view["spec"]["replicas"] = r != nullptr && r->is_number_integer() ? r->get<int64_t>() : 0;
  const Json* sel = info.label_selector_path.empty() ? nullptr : JsonPathFind(obj, info.label_selector_path);
  if (sel != nullptr && sel->is_string()) {
    auto parsed = k8s::Selector::Parse(sel->get<std::string>());
    if (parsed.ok()) {
      Json match = Json::object();
      for (const auto& req : parsed->requirements()) {
        bool eq = req.op == k8s::LabelSelectorRequirement::Op::kEquals ||
                  (req.op == k8s::LabelSelectorRequirement::Op::kIn && req.values.size() == 1);
        if (eq && !req.values.empty()) match[req.key] = req.values[0];
      }
      if (!match.empty()) view["spec"]["selector"] = {{"matchLabels", match}};
    }
  }
  return view;
}

namespace {
int64_t SpecReplicas(const Json& target) {
  if (target.contains("spec") && target["spec"].is_object() && target["spec"].contains("replicas") &&
      target["spec"]["replicas"].is_number_integer())
    return target["spec"]["replicas"].get<int64_t>();
  return 1;  // the apps/v1 default
}
}  // namespace

Status WorkloadSimulator::WritePod(const WorkloadModel& model, const SimPod& pod, Time now) {
  auto target = GetTarget(model);
  if (!target.ok()) return target.status();
  Json obj = PodJson(model, pod, *target, now);
  // Apply creates or replaces and keeps the creationTimestamp we give (pods
  // at t=0 were created an hour before).
  auto r = state_.Apply(obj);
  return r.ok() ? Status::Ok() : r.status();
}

Status WorkloadSimulator::UpdateTargetStatus(const WorkloadModel& model, Time now) {
  const ObjectRef& t = model.spec().target;
  auto info = TargetInfo(model);
  if (!info) return NotFoundError("workload target kind " + t.kind + " is not served");
  auto target = state_.Get(info->gvr, t.ns, t.name);
  if (!target.ok()) return target.status();
  Json obj = *target;
  int64_t total = static_cast<int64_t>(model.pods().size());
  int64_t ready = model.ReadyCount(now);
  if (info->storage_group != "apps") {
    // A custom resource: its controller reports the pod count where the
    // CRD's statusReplicasPath says (what the scale's status.replicas reads).
    if (info->status_replicas_path.empty()) return Status::Ok();
    const Json* cur = JsonPathFind(obj, info->status_replicas_path);
    if (cur != nullptr && *cur == Json(total)) return Status::Ok();
    JsonPathSet(obj, info->status_replicas_path, total);
    obj["metadata"].erase("resourceVersion");
    auto r = info->has_status ? state_.UpdateStatus(info->gvr, t.ns, obj) : state_.Update(info->gvr, t.ns, obj);
    return r.ok() ? Status::Ok() : r.status();
  }
  Json status = obj.contains("status") && obj["status"].is_object() ? obj["status"] : Json::object();
  Json wanted = status;
  wanted["replicas"] = total;
  wanted["readyReplicas"] = ready;
  wanted["availableReplicas"] = ready;
  if (t.kind == "Deployment") {
    wanted["updatedReplicas"] = total;
    wanted["unavailableReplicas"] = total - ready;
  }
  if (t.kind == "StatefulSet") {
    wanted["currentReplicas"] = total;
    wanted["updatedReplicas"] = total;
  }
  if (obj.contains("metadata") && obj["metadata"].contains("generation"))
    wanted["observedGeneration"] = obj["metadata"]["generation"];
  if (wanted == status) return Status::Ok();
  obj["status"] = wanted;
  obj["metadata"].erase("resourceVersion");
  auto r = info->has_status ? state_.UpdateStatus(info->gvr, t.ns, obj) : state_.Update(info->gvr, t.ns, obj);
  return r.ok() ? Status::Ok() : r.status();
}

Status WorkloadSimulator::Initialize(Time now) {
  for (auto& m : models_) {
    auto target = GetTarget(*m);
    if (!target.ok()) return target.status().WithContext("workload " + m->spec().target.name);
    for (const auto& p : m->CreateInitialPods(SpecReplicas(*target))) {
      if (Status s = WritePod(*m, p, now); !s.ok()) return s;
    }
    if (Status s = UpdateTargetStatus(*m, now); !s.ok()) return s;
  }
  return Status::Ok();
}

Status WorkloadSimulator::ApplyTransitions(Time now) {
  for (auto& m : models_) {
    auto due = m->TransitionsAt(now);
    for (const auto& p : due) {
      if (Status s = WritePod(*m, p, now); !s.ok()) return s;
    }
    if (!due.empty()) {
      if (Status s = UpdateTargetStatus(*m, now); !s.ok()) return s;
    }
  }
  return Status::Ok();
}

Status WorkloadSimulator::Reconcile(Time now) {
  std::set<std::string> owned;
  for (auto& m : models_) {
    const ObjectRef& t = m->spec().target;
    owned.insert(t.kind + "/" + t.ns + "/" + t.name);
    auto target = GetTarget(*m);
    if (!target.ok()) {
      // A deleted target takes its pods with it.
      if (target.status().code() != StatusCode::kNotFound) return target.status();
    }
    int64_t replicas = target.ok() ? SpecReplicas(*target) : 0;
    auto change = m->ScaleTo(replicas, now);
    for (const auto& name : change.deleted) {
      auto r = state_.Delete(k8s::resources::kPods, t.ns, name);
      if (!r.ok() && r.status().code() != StatusCode::kNotFound) return r.status();
      // Deleted pods vanish at once, their metrics with them.
      state_.DeletePodMetrics(t.ns, name);
      for (const auto& metric : m->CustomMetricNames()) {
        state_.DeleteMetricValue({{"describedObject", {{"kind", "Pod"}, {"namespace", t.ns}, {"name", name}}},
                                  {"metric", {{"name", metric}}}});
      }
    }
    for (const auto& p : change.created) {
      if (Status s = WritePod(*m, p, now); !s.ok()) return s;
    }
    if (target.ok()) {
      if (Status s = UpdateTargetStatus(*m, now); !s.ok()) return s;
    }
  }
  // Scale targets without a workload: their (static) pods are not
  // simulated, but a ReplicaSet controller would report the new size, so
  // status.replicas follows spec.replicas when spec.replicas changes.
  for (const auto& [kind, resource] : kAppsKinds) {
    k8s::GroupVersionResource gvr{"apps", "v1", resource};
    auto list = state_.List(gvr, "", ListQuery{});
    if (!list.ok()) continue;
    for (const auto& obj : list->items) {
      const Json& md = obj["metadata"];
      std::string key = kind + "/" + StringOr(md, "namespace") + "/" + StringOr(md, "name");
      if (owned.count(key)) continue;
      int64_t spec_replicas = SpecReplicas(obj);
      bool has = obj.contains("status") && obj["status"].is_object() && obj["status"].contains("replicas");
      auto [seen, first] = static_target_spec_.try_emplace(key, spec_replicas);
      // First sight: keep a status the scenario wrote; fill a missing one.
      if (first && has) continue;
      if (!first && seen->second == spec_replicas) continue;
      seen->second = spec_replicas;
      if (has && obj["status"]["replicas"] == spec_replicas) continue;
      Json updated = obj;
      if (!updated.contains("status") || !updated["status"].is_object()) updated["status"] = Json::object();
      updated["status"]["replicas"] = spec_replicas;
      updated["metadata"].erase("resourceVersion");
      auto info = state_.FindByGvr(gvr);
      auto r = info && info->has_status ? state_.UpdateStatus(gvr, StringOr(md, "namespace"), updated)
                                        : state_.Update(gvr, StringOr(md, "namespace"), updated);
      if (!r.ok()) return r.status();
    }
  }
  return Status::Ok();
}

bool WorkloadSimulator::IsSampleInstant(Time now) const {
  if (now < start_ || resolution_.count() <= 0) return false;
  auto offset = std::chrono::duration_cast<nanoseconds>(now - start_);
  return offset.count() % resolution_.count() == 0;
}

Status WorkloadSimulator::SampleIfDue(Time now) {
  if (!IsSampleInstant(now)) return Status::Ok();
  for (auto& m : models_) {
    auto target = GetTarget(*m);
    if (!target.ok()) continue;
    const std::string& ns = m->spec().target.ns;
    auto samples = m->Sample(now);
    std::map<std::string, const PodSample*> by_pod;
    for (const auto& s : samples) by_pod[s.pod] = &s;
    const auto metric_names = m->CustomMetricNames();
    const int64_t window_s = std::chrono::duration_cast<std::chrono::seconds>(resolution_).count();
    for (const auto& p : m->pods()) {
      auto it = by_pod.find(p.name);
      if (it == by_pod.end()) continue;  // Pending: no sample (nothing to replace)
      if (Status s = state_.PutPodMetrics(PodMetricsJson(*m, p, *it->second, *target, now, resolution_)); !s.ok())
        return s;
      for (const auto& metric : metric_names) {
        Json identity = {{"describedObject", {{"kind", "Pod"}, {"namespace", ns}, {"name", p.name}}},
                         {"metric", {{"name", metric}}}};
        auto v = it->second->custom_milli.find(metric);
        if (v == it->second->custom_milli.end()) {
          // Pods metrics are absent for pods that are not Ready.
          state_.DeleteMetricValue(identity);
          continue;
        }
        Json mv = {{"apiVersion", "custom.metrics.k8s.io/v1beta2"},
                   {"kind", "MetricValue"},
                   {"describedObject", {{"apiVersion", "/v1"}, {"kind", "Pod"}, {"namespace", ns}, {"name", p.name}}},
                   {"metric", {{"name", metric}}},
                   {"timestamp", k8s::FormatRfc3339(now)},
                   {"windowSeconds", window_s},
                   {"value", k8s::Quantity::FromMilli(v->second).ToString()}};
        if (Status s = state_.PutMetricValue(mv); !s.ok()) return s;
      }
    }
  }
  return Status::Ok();
}

std::optional<Time> WorkloadSimulator::NextEventAfter(Time now) const {
  if (models_.empty()) return std::nullopt;
  std::optional<Time> next;
  for (const auto& m : models_) {
    auto t = m->NextTransitionAfter(now);
    if (t && (!next || *t < *next)) next = t;
  }
  if (resolution_.count() > 0) {
    auto offset = now < start_ ? nanoseconds(0) : std::chrono::duration_cast<nanoseconds>(now - start_);
    int64_t k = now < start_ ? 0 : offset.count() / resolution_.count() + 1;
    Time sample = start_ + ToTimeDuration(nanoseconds(k * resolution_.count()));
    if (!next || sample < *next) next = sample;
  }
  return next;
}

}  // namespace hpad::sim
