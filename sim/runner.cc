// ScenarioRunner: the virtual-time event loop (see runner.h).
#include "sim/runner.h"

#include <algorithm>
#include <set>

#include "controller/annotations.h"
#include "controller/flag_table.h"
#include "sim/controller_driver.h"
#include "k8sclient/httplib_transport.h"
#include "k8sclient/api/label_selector.h"
#include "k8sclient/api/quantity.h"
#include "k8sclient/rest_api_client.h"
#include "sim/apiserver/api_server.h"
#include "sim/apiserver/cluster_state.h"
#include "sim/expectation.h"
#include "sim/workload.h"
#include "k8sclient/api/json_lenient.h"

namespace hpad::sim {
using k8s::StringOr;
using k8s::IntOr;
using k8s::ChildOr;
namespace {

using std::chrono::nanoseconds;

// The in-process controller's per-request timeout: the daemon's default
// (k8s::TransportConfig), so `slow:` faults mean the same in `run` as with
// hpad against `hpad-sim serve`.
constexpr std::chrono::milliseconds kSimClientTimeout{std::chrono::seconds(30)};

Time::duration ToTimeDuration(nanoseconds d) { return std::chrono::duration_cast<Time::duration>(d); }

std::string FaultText(const ApiFault& f) {
  switch (f.kind) {
    case ApiFault::Kind::kOk: return "ok";
    case ApiFault::Kind::kUnavailable: return "unavailable";
    case ApiFault::Kind::kSlow: return "slow:" + k8s::FormatGoDuration(f.delay);
    case ApiFault::Kind::kError: return "error:" + std::to_string(f.code);
  }
  return "?";
}

// "94%" / "300Mi" etc. from a MetricValueStatus / MetricTarget.
void Cell(const Json& target, const Json* current, MetricCell& cell) {
  std::string type = StringOr(target, "type");
  auto quantity_value = [](const Json& q) -> std::optional<double> {
    std::string text = q.is_string() ? q.get<std::string>() : q.dump();
    auto p = k8s::Quantity::Parse(text);
    if (!p.ok()) return std::nullopt;
    return p->AsDouble();
  };
  auto show = [](const Json& q) { return q.is_string() ? q.get<std::string>() : q.dump(); };
  if (type == "Utilization" || (type.empty() && target.contains("averageUtilization"))) {
    cell.target = std::to_string(IntOr(target, "averageUtilization", 0)) + "%";
    cell.target_value = IntOr(target, "averageUtilization", 0);
    if (current && current->contains("averageUtilization")) {
      cell.current = std::to_string((*current)["averageUtilization"].get<int64_t>()) + "%";
      cell.current_value = (*current)["averageUtilization"].get<double>();
    }
    return;
  }
  const char* field = type == "Value" ? "value" : "averageValue";
  if (target.contains(field)) {
    cell.target = show(target[field]);
    cell.target_value = quantity_value(target[field]);
  }
  if (current && current->contains(field)) {
    cell.current = show((*current)[field]);
    cell.current_value = quantity_value((*current)[field]);
  }
}

// Metric cells of one HPA: spec.metrics against status.currentMetrics.
std::vector<MetricCell> MetricCells(const Json& hpa) {
  std::vector<MetricCell> cells;
  const Json spec_metrics = hpa.contains("spec") ? ChildOr(hpa["spec"], "metrics", Json::array()) : Json::array();
  const Json current = hpa.contains("status") ? ChildOr(hpa["status"], "currentMetrics", Json::array()) : Json::array();
  static const std::map<std::string, std::string> kSource = {{"Resource", "resource"},
                                                            {"ContainerResource", "containerResource"},
                                                            {"Pods", "pods"},
                                                            {"Object", "object"},
                                                            {"External", "external"}};
  for (const auto& m : spec_metrics) {
    std::string type = StringOr(m, "type");
    auto src = kSource.find(type);
    if (src == kSource.end() || !m.contains(src->second)) continue;
    const Json& s = m[src->second];
    MetricCell cell;
    cell.current = "<unknown>";
    bool by_name = type == "Resource" || type == "ContainerResource";
    cell.name = by_name ? StringOr(s, "name") : (s.contains("metric") ? StringOr(s["metric"], "name") : "");
    const Json* cur = nullptr;
    if (current.is_array()) {
      for (const auto& c : current) {
        if (StringOr(c, "type") != type || !c.contains(src->second)) continue;
        const Json& cs = c[src->second];
        std::string cname = by_name ? StringOr(cs, "name") : (cs.contains("metric") ? StringOr(cs["metric"], "name") : "");
        if (cname == cell.name && cs.contains("current")) {
          cur = &cs["current"];
          break;
        }
      }
    }
    Cell(ChildOr(s, "target", Json::object()), cur, cell);
    cells.push_back(cell);
  }
  return cells;
}

std::vector<std::string> Reasons(const Json& hpa) {
  std::vector<std::string> out;
  if (!hpa.contains("status") || !hpa["status"].contains("conditions")) return out;
  for (const char* type : {"AbleToScale", "ScalingActive", "ScalingLimited"}) {
    for (const auto& c : hpa["status"]["conditions"]) {
      if (StringOr(c, "type") != type) continue;
      std::string reason = StringOr(c, "reason");
      // A False AbleToScale/ScalingActive is a problem worth marking.
      if (StringOr(c, "status") == "False" && std::string(type) != "ScalingLimited") reason = "!" + reason;
      out.push_back(reason);
    }
  }
  return out;
}

std::string ObjectKeyText(const Json& obj) {
  const Json md = ChildOr(obj, "metadata", Json::object());
  return StringOr(md, "namespace") + "/" + StringOr(md, "name");
}

int64_t EventCount(const Json& ev) {
  return ev.contains("count") && ev["count"].is_number_integer() ? ev["count"].get<int64_t>() : 1;
}

class Execution {
 public:
  Execution(const Scenario& sc, RunResult& result)
      : sc_(sc), result_(result), clock_(sc.start), state_(clock_) {}

  void Execute();

 private:
  Time At(nanoseconds offset) const { return sc_.start + ToTimeDuration(offset); }
  nanoseconds Offset(Time t) const { return std::chrono::duration_cast<nanoseconds>(t - sc_.start); }
  void Note(Time t, const std::string& text) { result_.notes.push_back({Offset(t), text}); }
  void Fail(const Step& step, const std::string& where, const std::string& path, const std::string& wanted,
            const std::string& got) {
    result_.failures.push_back({step.at, where, path, wanted, got});
  }
  Status StartController();
  void ApplyStep(const Step& step, Time t);
  void CheckStep(const Step& step);
  void RecordTimeline(Time t);
  std::vector<Json> Events() const;
  // What makes an HPA change reconciled at once (Q3/Q4, issue 13) and its
  // own period (hpad.io/sync-period), per live HPA key.
  struct HpaMark {
    int64_t generation = 0;
    std::map<std::string, std::string> annotations{};
    nanoseconds period{};
  };
  std::map<std::string, HpaMark> HpaMarks(nanoseconds default_period) const;
  std::optional<Json> LiveObject(const Json& e) const;

  const Scenario& sc_;
  RunResult& result_;
  SimulatedClock clock_;
  ClusterState state_;
  std::unique_ptr<ApiServer> server_;
  std::shared_ptr<k8s::ApiClient> client_;
  ctrl::NullMonitor monitor_;  // the simulator exports no Prometheus series
  std::unique_ptr<ControllerDriver> controller_;
  ctrl::ControllerOptions ctrl_options_;
  FaultSet faults_;
  int64_t writes_since_ = 0;
  std::map<std::string, int64_t> event_counts_;  // event name -> count seen
};

Status Execution::StartController() {
  if (controller_) {
    // A graceful restart (scenario-format.md "restartController"): the old
    // controller writes its histories to the cluster as at SIGTERM, then
    // goes; the new one reads them in Start(), before its first reconcile.
    // A failed write is logged and the restart goes on, as in the daemon.
    if (Status s = controller_->Shutdown(); !s.ok()) {
      Note(clock_.Now(), "persisting the history at shutdown failed: " + s.message());
    }
  }
  controller_.reset();  // a new process: fresh caches and memory
  controller_ = std::make_unique<ControllerDriver>(ctrl_options_, client_, monitor_, clock_);
  Status s = controller_->Start();
  if (!s.ok()) return s.WithContext("starting the controller");
  return Status::Ok();
}

void Execution::ApplyStep(const Step& step, Time t) {
  // CRDs first, as for `objects`: a custom object listed before its CRD in
  // the same step is still "among the objects" once its CRD is.
  std::vector<size_t> order;
  for (size_t i = 0; i < step.apply.size(); ++i)
    if (StringOr(step.apply[i], "kind") == "CustomResourceDefinition") order.push_back(i);
  for (size_t i = 0; i < step.apply.size(); ++i)
    if (StringOr(step.apply[i], "kind") != "CustomResourceDefinition") order.push_back(i);
  for (size_t i : order) {
    auto r = state_.Apply(step.apply[i]);
    if (!r.ok()) {
      Fail(step, "apply[" + std::to_string(i) + "]", "", "applied", "error: " + r.status().message());
      continue;
    }
    Note(t, "apply " + StringOr(step.apply[i], "kind") + " " + ObjectKeyText(step.apply[i]));
  }
  for (size_t i = 0; i < step.del.size(); ++i) {
    Status s = state_.DeleteObject(step.del[i]);
    if (!s.ok()) {
      Fail(step, "delete[" + std::to_string(i) + "]", "", "deleted", "error: " + s.message());
      continue;
    }
    Note(t, "delete " + step.del[i].dump());
  }
  const StepFaults& f = step.faults;
  if (!f.Empty()) {
    std::string text = "faults:";
    if (f.resource_metrics) {
      faults_.resource_metrics = *f.resource_metrics;
      text += " resourceMetrics=" + FaultText(*f.resource_metrics);
    }
    if (f.custom_metrics) {
      faults_.custom_metrics = *f.custom_metrics;
      text += " customMetrics=" + FaultText(*f.custom_metrics);
    }
    if (f.external_metrics) {
      faults_.external_metrics = *f.external_metrics;
      text += " externalMetrics=" + FaultText(*f.external_metrics);
    }
    if (f.apiserver) {
      faults_.apiserver = *f.apiserver;
      faults_.apiserver_rules = f.apiserver_rules;
      text += " apiserver=" + FaultText(*f.apiserver);
      if (!f.apiserver_rules.empty()) text += " +" + std::to_string(f.apiserver_rules.size()) + " rule(s)";
    }
    server_->faults().Set(faults_);
    Note(t, text);
  }
}

std::map<std::string, Execution::HpaMark> Execution::HpaMarks(nanoseconds default_period) const {
  std::map<std::string, HpaMark> out;
  auto list = state_.List(k8s::resources::kHpaV2, "", ListQuery{});
  if (!list.ok()) return out;
  for (const auto& h : list->items) {
    const Json md = ChildOr(h, "metadata", Json::object());
    HpaMark mark;
    mark.generation = IntOr(md, "generation", 0);
    const Json annotations = ChildOr(md, "annotations", Json::object());
    if (annotations.is_object()) {
      for (const auto& [name, value] : annotations.items())
        if (value.is_string()) mark.annotations[name] = value.get<std::string>();
    }
    mark.period = ctrl::SyncPeriodFor(mark.annotations, default_period);
    out[ObjectKeyText(h)] = std::move(mark);
  }
  return out;
}

std::vector<Json> Execution::Events() const {
  auto list = state_.List(k8s::resources::kEvents, "", ListQuery{});
  if (!list.ok()) return {};
  return list->items;
}

std::optional<Json> Execution::LiveObject(const Json& e) const {
  std::string api_version = StringOr(e, "apiVersion");
  std::string kind = StringOr(e, "kind");
  const Json md = ChildOr(e, "metadata", Json::object());
  std::string ns = StringOr(md, "namespace", "default");
  std::string name = StringOr(md, "name");
  if (kind == "PodMetrics") return state_.GetPodMetrics(ns, name);
  if (kind == "MetricValue") {
    // Identity: describedObject (kind, namespace, name) + metric.name, and
    // metric.selector when the expectation gives one. Without one, the
    // value without a selector, else the only value of that name.
    const Json d = ChildOr(e, "describedObject", Json::object());
    const Json m = ChildOr(e, "metric", Json::object());
    auto selector_key = [](const Json& metric) -> std::string {
      if (!metric.is_object() || !metric.contains("selector") || metric["selector"].is_null()) return "";
      auto s = k8s::Selector::FromJson(metric["selector"]);
      return s.ok() ? s->ToString() : metric["selector"].dump();
    };
    const bool by_selector = m.contains("selector") && !m["selector"].is_null();
    const std::string want_sel = selector_key(m);
    std::vector<Json> candidates;
    for (const auto& v : state_.ListMetricValues()) {
      const Json vd = ChildOr(v, "describedObject", Json::object());
      if (StringOr(vd, "kind") != StringOr(d, "kind") || StringOr(vd, "name") != StringOr(d, "name")) continue;
      std::string want_ns = StringOr(d, "namespace");
      if (!want_ns.empty() && StringOr(vd, "namespace") != want_ns) continue;
      if (StringOr(ChildOr(v, "metric", Json::object()), "name") != StringOr(m, "name")) continue;
      std::string sel = selector_key(ChildOr(v, "metric", Json::object()));
      if (by_selector && sel != want_sel) continue;
      if (!by_selector && sel.empty()) return v;
      candidates.push_back(v);
    }
    if (candidates.size() == 1) return candidates[0];
    return std::nullopt;
  }
  if (kind == "ExternalMetricValue") return state_.GetExternalMetricValue(ns, name);  // namespace + name
  auto info = state_.FindByKind(api_version, kind);
  if (!info) return std::nullopt;
  auto obj = state_.Get(info->gvr, info->namespaced ? ns : "", name);
  if (!obj.ok()) return std::nullopt;
  return *obj;
}

void Execution::CheckStep(const Step& step) {
  ++result_.steps_checked;
  LiveView live;
  live.get = [this](const Json& e) { return LiveObject(e); };
  live.events = Events();
  for (size_t i = 0; i < step.expect.size(); ++i) {
    ++result_.expectations_checked;
    for (const auto& m : CheckExpect(step.expect[i], live))
      Fail(step, "expect[" + std::to_string(i) + "]", m.path, m.wanted, m.got);
  }
  for (size_t i = 0; i < step.expect_absent.size(); ++i) {
    ++result_.expectations_checked;
    for (const auto& m : CheckExpectAbsent(step.expect_absent[i], live))
      Fail(step, "expectAbsent[" + std::to_string(i) + "]", m.path, m.wanted, m.got);
  }
  for (size_t i = 0; i < step.expect_writes.size(); ++i) {
    ++result_.expectations_checked;
    const WriteExpectation& w = step.expect_writes[i];
    std::string sub = w.subresource ? *w.subresource : "*";
    int64_t n = server_->requests().CountWrites(w.verb, w.resource, sub, kSimControllerUserAgent, writes_since_);
    std::string what = (w.verb.empty() ? "writes" : w.verb) + " " + (w.resource.empty() ? "(any resource)" : w.resource) +
                       (w.subresource && !w.subresource->empty() ? "/" + *w.subresource : "");
    std::string where = "expectWrites[" + std::to_string(i) + "]";
    if (w.count && n != *w.count) Fail(step, where, what, "exactly " + std::to_string(*w.count), std::to_string(n));
    if (w.min && n < *w.min) Fail(step, where, what, "at least " + std::to_string(*w.min), std::to_string(n));
    if (w.max && n > *w.max) Fail(step, where, what, "at most " + std::to_string(*w.max), std::to_string(n));
  }
}

void Execution::RecordTimeline(Time t) {
  // Events recorded since the last tick, by involved HPA.
  std::map<std::string, std::vector<std::string>> new_events;
  for (const auto& ev : Events()) {
    std::string key = ObjectKeyText(ev);
    int64_t count = EventCount(ev);
    int64_t& seen = event_counts_[key];
    if (count <= seen) continue;
    seen = count;
    const Json io = ChildOr(ev, "involvedObject", Json::object());
    if (StringOr(io, "kind") != "HorizontalPodAutoscaler") continue;
    new_events[StringOr(io, "namespace") + "/" + StringOr(io, "name")].push_back(
        StringOr(ev, "type") + " " + StringOr(ev, "reason") + ": " + StringOr(ev, "message"));
  }
  auto hpas = state_.List(k8s::resources::kHpaV2, "", ListQuery{});
  if (!hpas.ok()) return;
  for (const auto& hpa : hpas->items) {
    TimelineRow row;
    row.offset = Offset(t);
    row.hpa = ObjectKeyText(hpa);
    row.metrics = MetricCells(hpa);
    const Json status = ChildOr(hpa, "status", Json::object());
    row.current_replicas = IntOr(status, "currentReplicas", 0);
    row.desired_replicas = IntOr(status, "desiredReplicas", 0);
    row.reasons = Reasons(hpa);
    row.events = new_events[row.hpa];
    // The target's spec.replicas after this sync (for the plot).
    const Json ref = hpa.contains("spec") ? ChildOr(hpa["spec"], "scaleTargetRef", Json::object()) : Json::object();
    auto info = state_.FindByKind(StringOr(ref, "apiVersion", "apps/v1"), StringOr(ref, "kind"));
    if (info && info->has_scale) {
      // Through the scale subresource, so custom resources read their
      // specReplicasPath.
      auto scale = state_.GetScale(info->gvr, StringOr(hpa["metadata"], "namespace"), StringOr(ref, "name"));
      if (scale.ok() && scale->contains("spec") && (*scale)["spec"].contains("replicas") &&
          (*scale)["spec"]["replicas"].is_number_integer())
        row.spec_replicas = (*scale)["spec"]["replicas"].get<int64_t>();
    }
    result_.timeline.push_back(std::move(row));
  }
}

void Execution::Execute() {
  // 1. The cluster before t=0: CRDs first so custom objects find their kind.
  std::vector<const Json*> ordered;
  for (const auto& o : sc_.objects)
    if (StringOr(o, "kind") == "CustomResourceDefinition") ordered.push_back(&o);
  for (const auto& o : sc_.objects)
    if (StringOr(o, "kind") != "CustomResourceDefinition") ordered.push_back(&o);
  for (const Json* o : ordered) {
    auto r = state_.Apply(*o);
    if (!r.ok()) {
      result_.error = "loading " + StringOr(*o, "kind") + " " + ObjectKeyText(*o) + ": " + r.status().message();
      return;
    }
  }
  WorkloadSimulator workloads(state_, sc_.workloads, sc_.start, sc_.metric_resolution);
  if (Status s = workloads.Initialize(sc_.start); !s.ok()) {
    result_.error = "starting workloads: " + s.message();
    return;
  }

  // 2. The API server on loopback, plain HTTP (no TLS cost per scenario).
  ApiServerOptions so;
  so.tls = false;
  so.port = 0;
  // slow:<d> in virtual time: answered at once, or a timeout when d reaches
  // the client's request timeout (ApiServerOptions::slow_in_virtual_time).
  so.slow_in_virtual_time = true;
  so.slow_timeout = kSimClientTimeout;
  server_ = std::make_unique<ApiServer>(state_, so);
  auto port = server_->Start();
  if (!port.ok()) {
    result_.error = "starting the API server: " + port.status().message();
    return;
  }

  // 3. The real controller, on the virtual clock. No client-side QPS limit
  // and no retries: both would wait on the virtual clock, which only moves
  // between instants (and client-go does not retry these requests either).
  k8s::TransportConfig tc;
  tc.server = server_->url();
  tc.user_agent = kSimControllerUserAgent;
  tc.timeout = kSimClientTimeout;
  auto transport = k8s::NewHttpTransport(tc);
  if (!transport.ok()) {
    result_.error = "client transport: " + transport.status().message();
    return;
  }
  k8s::RestApiClientOptions co;
  co.qps = 0;
  co.max_attempts = 1;
  client_ = std::make_shared<k8s::RestApiClient>(std::move(*transport), clock_, co);
  // Daemon-process flags (connection, leader election, health port,
  // verbosity) were validated by the loader and mostly mean nothing
  // in-process.
  const ControllerFlagSplit flags = SplitControllerFlags(sc_);
  auto opts = ctrl::ParseControllerOptions(flags.controller);
  if (!opts.ok()) {
    result_.error = "controller flags: " + opts.status().message();
    return;
  }
  ctrl_options_ = *opts;
  // Issue 13: history persistence exactly as the daemon would have it, from
  // the daemon's flag table: --persist-history defaults to true
  // (scenario-format.md: "hpad keeps persisted history in ConfigMaps", and a
  // restart keeps "what it stored there"), in the Lease's namespace
  // (--leader-elect-resource-namespace, default kube-system). A scenario with
  // `controller: {persist-history: "false"}` gets upstream's forgetful
  // restart (docs/divergences.md 20).
  {
    auto daemon = ctrl::ParseDaemonOptions(flags.daemon);
    if (!daemon.ok()) {
      result_.error = "controller flags: " + daemon.status().message();
      return;
    }
    ctrl_options_.persist_history = daemon->controller.persist_history;
    ctrl_options_.history_namespace = daemon->controller.history_namespace;
  }
  const nanoseconds period = ctrl_options_.sync_period.count() > 0 ? ctrl_options_.sync_period : sc_.SyncPeriod();
  if (Status s = StartController(); !s.ok()) {
    result_.error = s.message();
    return;
  }

  // 4. The event loop.
  const Time end = sc_.steps.empty() ? sc_.start : At(sc_.steps.back().at);
  size_t next_step = 0;
  writes_since_ = server_->requests().NextSeq();
  Time t = sc_.start;
  while (true) {
    std::vector<const Step*> due;
    while (next_step < sc_.steps.size() && At(sc_.steps[next_step].at) == t) due.push_back(&sc_.steps[next_step++]);
    // (a) the steps' changes and faults. An HPA created (Q3) or whose spec
    // changed (Q4, generation bump with HPAGeneration) is queued at once by
    // the controller's informer, so it is reconciled at this instant even
    // between ticks.
    const auto marks_before = HpaMarks(period);
    for (const Step* s : due) ApplyStep(*s, t);
    // Only the created/changed HPAs are reconciled between ticks; every
    // other HPA keeps its periodic schedule (Q2). A change of an hpad.io/*
    // annotation counts as a spec change (issue 13).
    const auto marks = due.empty() ? marks_before : HpaMarks(period);
    std::vector<std::string> prompt_keys;
    if (!due.empty()) {
      for (const auto& [key, mark] : marks) {
        auto old = marks_before.find(key);
        if (old == marks_before.end()) prompt_keys.push_back(key);
        else if (old->second.generation != mark.generation && ctrl_options_.GateEnabled("HPAGeneration"))
          prompt_keys.push_back(key);
        else if (ctrl::HpadAnnotationsChanged(old->second.annotations, mark.annotations))
          prompt_keys.push_back(key);
      }
    }
    // Issue 13: HPAs with their own hpad.io/sync-period are reconciled on
    // their own ticks; with none, every HPA is on the controller's.
    std::set<nanoseconds> own_periods;
    for (const auto& [key, mark] : marks)
      if (mark.period != period) own_periods.insert(mark.period);
    const bool prompt = !prompt_keys.empty();
    for (const Step* s : due) {
      if (!s->restart_controller) continue;
      Note(t, "controller restarted");
      if (Status st = StartController(); !st.ok()) {
        result_.error = st.message();
        return;
      }
    }
    // (b) workloads: pod transitions, pod count (a step may have changed
    // replicas), then the metrics sample.
    Status ws = workloads.ApplyTransitions(t);
    if (ws.ok()) ws = workloads.Reconcile(t);
    if (ws.ok()) ws = workloads.SampleIfDue(t);
    if (!ws.ok()) Note(t, "workload error: " + ws.message());
    // (c) the controller's sync on ticks; its replica change takes effect now.
    const bool default_tick = Offset(t).count() % period.count() == 0;
    std::vector<std::string> tick_keys;  // only with own periods: the HPAs whose tick this is
    if (!own_periods.empty()) {
      for (const auto& [key, mark] : marks)
        if (Offset(t).count() % mark.period.count() == 0) tick_keys.push_back(key);
    }
    const bool tick = own_periods.empty() ? default_tick : !tick_keys.empty() || default_tick;
    if (tick || prompt) {
      if (!tick) Note(t, "HPA spec changed: reconciled at once (Q3/Q4)");
      Status s;
      if (own_periods.empty()) {
        s = tick ? controller_->SyncAllNow() : controller_->SyncKeysNow(prompt_keys);
      } else {
        std::vector<std::string> keys = tick_keys;
        keys.insert(keys.end(), prompt_keys.begin(), prompt_keys.end());
        // Deleted HPAs (R1) go on the controller's own ticks.
        s = controller_->SyncKeysNow(keys, /*with_deleted=*/default_tick);
      }
      if (!s.ok()) Note(t, "controller sync: " + s.message());
      if (Status r = workloads.Reconcile(t); !r.ok()) Note(t, "workload error: " + r.message());
      RecordTimeline(t);
    }
    // (d) the steps' expectations.
    for (const Step* s : due) CheckStep(*s);
    if (!due.empty()) writes_since_ = server_->requests().NextSeq();

    // Next instant.
    std::optional<Time> next;
    auto consider = [&](Time c) {
      if (c > t && (!next || c < *next)) next = c;
    };
    if (next_step < sc_.steps.size()) consider(At(sc_.steps[next_step].at));
    consider(sc_.start + ToTimeDuration(nanoseconds((Offset(t).count() / period.count() + 1) * period.count())));
    for (nanoseconds own : own_periods)
      consider(sc_.start + ToTimeDuration(nanoseconds((Offset(t).count() / own.count() + 1) * own.count())));
    if (auto w = workloads.NextEventAfter(t)) consider(*w);
    if (!next || *next > end) break;
    t = *next;
    clock_.Set(t);
  }
  controller_.reset();
  // Close the client's keep-alive connections before stopping the server,
  // or the server waits out its keep-alive timeout on them.
  client_.reset();
  server_->Stop();
}

}  // namespace

ControllerFlagSplit SplitControllerFlags(const Scenario& scenario) {
  ControllerFlagSplit out;
  for (const auto& [name, value] : scenario.controller_flags) {
    auto r = ctrl::ParseControllerOptions({{name, value}});
    if (r.ok()) {
      out.controller[name] = value;
      continue;
    }
    if (r.status().message().find("unknown flag") == std::string::npos) {
      out.errors.push_back({scenario.file, "controller." + name, r.status().message(), 0});
      continue;
    }
    out.daemon[name] = value;
  }
  if (out.daemon.empty()) return out;
  // "any other flag of the daemon by its long name": checked with the
  // daemon's flag table (ctrl::ParseDaemonOptions, no CLI11), one by one
  // (each error names its flag), then all together (some are checked
  // against each other, e.g. the leader-election durations).
  auto check = [&](const std::map<std::string, std::string>& flags) -> std::optional<std::string> {
    auto d = ctrl::ParseDaemonOptions(flags);
    if (d.ok()) return std::nullopt;
    return d.status().message();
  };
  bool each_ok = true;
  for (const auto& [name, value] : out.daemon) {
    if (auto e = check({{name, value}})) {
      out.errors.push_back({scenario.file, "controller." + name, *e, 0});
      each_ok = false;
    }
  }
  if (each_ok) {
    if (auto e = check(out.daemon)) {
      std::string where = out.daemon.begin()->first;
      for (const auto& [name, value] : out.daemon)
        if (e->find("--" + name) != std::string::npos) where = name;
      out.errors.push_back({scenario.file, "controller." + where, *e, 0});
    }
  }
  return out;
}

std::vector<ScenarioError> ValidateControllerFlags(const Scenario& scenario) {
  return SplitControllerFlags(scenario).errors;
}

ScenarioRunner::ScenarioRunner(Scenario scenario, RunOptions options)
    : scenario_(std::move(scenario)), options_(options) {}

RunResult ScenarioRunner::Run() {
  RunResult result;
  result.file = scenario_.file;
  result.name = scenario_.name;
  const Time wall_start = RealClock::Instance().Now();
  {
    Execution run(scenario_, result);
    run.Execute();
  }
  result.wall_seconds = std::chrono::duration<double>(RealClock::Instance().Now() - wall_start).count();
  result.passed = result.error.empty() && result.failures.empty();
  return result;
}

}  // namespace hpad::sim
