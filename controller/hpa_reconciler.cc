// One reconcile of one HPA: read -> fetch -> DecideScale -> write. Rule ids
// refer to hpa-semantics.md (indexed in docs/hpa-rules.md).
#include "controller/hpa_reconciler.h"

#include <algorithm>
#include <utility>

#include "controller/core/hpa_status.h"
#include "k8sclient/base/klog.h"

namespace hpad::ctrl {
namespace {

k8s::Quantity MilliQuantity(int64_t milli, const std::string& resource) {
  // C15: memory prints in binary SI, everything else decimal SI.
  return k8s::Quantity::FromMilli(milli, resource == "memory" ? k8s::Quantity::Format::kBinarySI
                                                              : k8s::Quantity::Format::kDecimalSI);
}

Duration Since(const Clock& clock, Time start) { return clock.Now() - start; }

// A metric that could not be computed (X1): `cond_err` is the event text and
// the condition's tail, `agg_err` what X4 aggregates.
MetricResult Unable(const std::string& reason, const std::string& cond_err, const std::string& agg_err) {
  MetricResult out;
  out.failure_reason = reason;
  out.failure_message = cond_err;
  out.aggregate_error = agg_err;
  return out;
}

}  // namespace

k8s::EventObjectRef EventRefFor(const k8s::Hpa& hpa) {
  return k8s::EventObjectRef{.api_version = "autoscaling/v2",
                             .kind = "HorizontalPodAutoscaler",
                             .ns = hpa.metadata.ns,
                             .name = hpa.metadata.name,
                             .uid = hpa.metadata.uid,
                             .resource_version = hpa.metadata.resource_version};
}

HpaReconciler::HpaReconciler(ReconcilerOptions options, const k8s::ObjectStore<k8s::Hpa>& hpas,
                             const k8s::ObjectStore<k8s::Pod>& pods, MetricsClient& metrics, ScaleClient& scales,
                             k8s::ApiClient& api, k8s::EventRecorder& events, SelectorRegistry& selectors,
                             Monitor& monitor, const Clock& clock)
    : options_(std::move(options)),
      hpas_(hpas),
      pods_(pods),
      metrics_(metrics),
      scales_(scales),
      api_(api),
      events_(events),
      selectors_(selectors),
      monitor_(monitor),
      clock_(clock),
      traces_(options_.trace_pod_tables) {}

HpaHistory& HpaReconciler::History(const std::string& key) {
  std::lock_guard<std::mutex> l(history_mu_);
  return history_[key];
}

bool HpaReconciler::HasHistory(const std::string& key) const {
  std::lock_guard<std::mutex> l(history_mu_);
  return history_.count(key) > 0;
}

HpaHistory HpaReconciler::HistoryFor(const std::string& key) const {
  std::lock_guard<std::mutex> l(history_mu_);
  auto it = history_.find(key);
  return it == history_.end() ? HpaHistory{} : it->second;
}

void HpaReconciler::DropHistory(const std::string& key) {
  std::lock_guard<std::mutex> l(history_mu_);
  if (history_.erase(key) > 0) changed_histories_.insert(key);
  traces_.Erase(key);
  unconfirmed_.erase(key);
}

bool HpaReconciler::HasUnconfirmedRescale(const std::string& key) const {
  std::lock_guard<std::mutex> l(history_mu_);
  return unconfirmed_.count(key) > 0;
}

void HpaReconciler::MarkHistoryChanged(const std::string& key) {
  std::lock_guard<std::mutex> l(history_mu_);
  changed_histories_.insert(key);
}

void HpaReconciler::ResolveUnconfirmedRescale(const std::string& key, int32_t spec_replicas) {
  std::lock_guard<std::mutex> l(history_mu_);
  auto it = unconfirmed_.find(key);
  if (it == unconfirmed_.end()) return;
  const PendingScaleWrite u = it->second;
  unconfirmed_.erase(it);
  if (spec_replicas != u.from) {
    // The written count, or another one: the scale moved off the count it
    // was written over, so the write (or one after it) happened. Keeping
    // the event is the conservative reading.
    HPAD_VLOG(2) << "HPA " << key << ": the scale write " << u.from << " -> " << u.to
                 << " whose outcome was unknown was applied (the scale reads " << spec_replicas
                 << "); its scale event (B10) stays";
    return;
  }
  // Not applied (the scale still shows the count it was written over): the
  // event recorded in case it was goes, here and in the persisted history
  // at the next flush.
  HpaHistory& h = history_[key];
  auto& events = u.to > u.from ? h.scale_up_events : h.scale_down_events;
  const int32_t change = u.to > u.from ? u.to - u.from : u.from - u.to;
  for (auto e = events.begin(); e != events.end(); ++e) {
    if (e->timestamp == u.at && e->replica_change == change && !e->outdated) {
      events.erase(e);
      break;
    }
  }
  changed_histories_.insert(key);
  HPAD_VLOG(2) << "HPA " << key << ": the scale write to " << u.to << " whose outcome was unknown was not applied (the scale reads "
               << spec_replicas << "); its scale event is removed";
}

void HpaReconciler::RestoreHistories(std::map<std::string, HpaHistory> histories,
                                     std::map<std::string, PendingScaleWrite> pending) {
  std::lock_guard<std::mutex> l(history_mu_);
  for (auto& [key, h] : histories) history_[key] = std::move(h);
  for (auto& [key, p] : pending)
    if (history_.count(key) > 0) unconfirmed_[key] = p;
}

std::set<std::string> HpaReconciler::TakeChangedHistories() {
  std::lock_guard<std::mutex> l(history_mu_);
  return std::exchange(changed_histories_, {});
}

std::map<std::string, HpaHistory> HpaReconciler::AllHistories() const {
  std::lock_guard<std::mutex> l(history_mu_);
  return std::map<std::string, HpaHistory>(history_.begin(), history_.end());
}

std::shared_ptr<const DecisionTrace> HpaReconciler::TraceFor(const std::string& key) const { return traces_.Get(key); }

std::vector<std::shared_ptr<const DecisionTrace>> HpaReconciler::Traces() const { return traces_.List(); }

std::optional<int64_t> HpaReconciler::ObservedGeneration(const k8s::Hpa& hpa) const {
  // W3: with HPAGeneration on, every rebuilt status carries the spec's generation.
  if (!options_.generation) return std::nullopt;
  return hpa.metadata.generation;
}

Tolerances HpaReconciler::TolerancesFor(const k8s::Hpa& hpa) const {
  // C1: per-HPA values only with the gate on and a behavior present.
  Tolerances t{options_.tolerance, options_.tolerance};
  if (!hpa.spec.behavior || !options_.configurable_tolerance) return t;
  const auto& b = *hpa.spec.behavior;
  if (b.scale_down && b.scale_down->tolerance) t.scale_down = b.scale_down->tolerance->AsDouble();
  if (b.scale_up && b.scale_up->tolerance) t.scale_up = b.scale_up->tolerance->AsDouble();
  return t;
}

namespace {

// D1: the API server defaults an empty metrics list to cpu at 80%. Built
// once (a function-local static is thread-safe to initialise) so the
// reconcile refers to it instead of building a list per pass.
const std::vector<k8s::MetricSpec>& DefaultMetricSpecs() {
  static const std::vector<k8s::MetricSpec> specs = [] {
    k8s::MetricSpec cpu;
    cpu.type = "Resource";
    k8s::MetricTarget t;
    t.type = "Utilization";
    t.average_utilization = 80;
    cpu.resource = k8s::ResourceMetricSource{"cpu", t};
    return std::vector<k8s::MetricSpec>{cpu};
  }();
  return specs;
}

}  // namespace

// ---------------------------------------------------------------------------
// Write helpers

void HpaReconciler::Emit(const Working& w, const std::vector<ControllerEvent>& events) {
  if (options_.dry_run) return;  // issue 12: shadow/explain write nothing
  for (const auto& e : events) events_.Event(EventRefFor(*w.hpa), e.type, e.reason, e.message);
}

Status HpaReconciler::UpdateStatusIfNeeded(Working& w) {
  if (options_.dry_run) return Status::Ok();  // issue 12: shadow/explain write nothing
  const k8s::Hpa& hpa = *w.hpa;
  if (!StatusChanged(hpa.status, w.status)) return Status::Ok();  // W4: against the status as read
  nlohmann::json body = k8s::HpaToJson(hpa, w.status);
  body["metadata"]["resourceVersion"] = hpa.metadata.resource_version;
  auto res = api_.Update(k8s::ObjectKey{k8s::resources::kHpaV2, hpa.metadata.ns, hpa.metadata.name, "status"}, body);
  if (!res.ok()) {
    events_.Event(EventRefFor(hpa), "Warning", "FailedUpdateStatus", res.status().message());
    return Status(res.status().code(),
                  "failed to update status for " + hpa.metadata.name + ": " + res.status().message());
  }
  return Status::Ok();
}

void HpaReconciler::UpdateStatusOnFailurePath(Working& w) {
  // Upstream: utilruntime.HandleError(err) and return the path's own error.
  Status st = UpdateStatusIfNeeded(w);
  if (st.ok()) return;
  HPAD_LOG(Error) << "reconciling HPA " << w.key << ": " << st.message();
  w.report.write_errors.push_back(st.message());
}

ReconcileResult HpaReconciler::Finish(Working& w, Status error, bool spec_error) {
  if (!error.ok()) {
    w.report.error = error.message();
    // 15.1: an errored reconcile is labelled spec or internal; the action
    // stays what the reconcile did (a rescale followed by an error keeps
    // scale_up/scale_down, as upstream's deferred label does).
    w.report.error_label = spec_error ? ErrorLabel::kSpec : ErrorLabel::kInternal;
  }
  w.report.duration = Since(clock_, w.started);
  monitor_.ObserveReconciliationResult(w.report.action, w.report.error_label, w.report.duration);
  for (const auto& m : w.report.metrics) monitor_.ObserveMetricComputationResult(m.action, m.error, m.duration, m.metric_type);
  if (w.report.reached_status) monitor_.SetDesiredReplicas(w.hpa->metadata.ns, w.hpa->metadata.name, w.report.desired_replicas);
  monitor_.SetNumHpas(selectors_.Size());
  if (w.trace) {
    if (!error.ok() && !w.trace->metrics_failed && w.trace->error.empty()) w.trace->error = error.message();
    ShrinkTrace(*w.trace);  // kept until the next reconcile: no spare capacity
    traces_.Keep(w.key, std::move(*w.trace));
    w.trace.reset();
  }
  if (observer_) observer_(w.report);
  return ReconcileResult{false, std::move(error)};
}

Status HpaReconciler::WriteScaleEventAhead(const Working& w, const HpaHistory& ahead,
                                           const PendingScaleWrite& pending, bool* written) {
  *written = false;
  Status s = scale_event_writer_(w.key, ahead, pending);
  if (s.ok()) {
    *written = true;
    return s;
  }
  if (s.code() == StatusCode::kForbidden || s.code() == StatusCode::kInvalid || s.code() == StatusCode::kNotFound) {
    // RBAC, a missing namespace, an invalid object: retrying will not help,
    // and a broken optional store must not stop autoscaling.
    HPAD_LOG(Error) << "HPA " << w.key << ": persisting the scale event before rescaling: " << s.message()
                    << " (rescaling without it)";
    return Status::Ok();
  }
  return Status(s.code(), "its scale event could not be persisted first (--persist-history): " + s.message(),
                s.reason(), s.http_code());
}

// ---------------------------------------------------------------------------
// Fetch: one MetricResult per metric (sections 5, 9, 10)

MetricResult HpaReconciler::ComputeResource(const MetricContext& ctx, const std::string& resource,
                                                            const std::string& container,
                                                            const k8s::MetricTarget& target, bool container_form) {
  const std::string reason = container_form ? "FailedGetContainerResourceMetric" : "FailedGetResourceMetric";
  auto agg = [&](const std::string& cond_err) {
    return container_form ? "failed to get " + container + " container metric value: " + cond_err
                          : "failed to get " + resource + " resource metric value: " + cond_err;
  };
  k8s::MetricValueStatus current;
  MetricResult out;
  if (target.average_value) {  // C0: averageValue wins whatever target.type says
    auto fetched = metrics_.GetResourceMetric(ctx.ns, resource, ctx.selector, container);
    Result<PodMetricProposal> p = Status(StatusCode::kInternal, "");
    if (!fetched.ok()) {
      p = Status(fetched.status().code(), "unable to get metrics for resource " + resource + ": " +
                                              fetched.status().message());
    } else {
      p = CalcPlainMetricReplicas(ctx.current_replicas, target.average_value->MilliValue(), resource,
                                  ctx.tolerances, fetched->metrics, ctx.pods, options_.readiness, ctx.now);
      if (ctx.pod_table) {
        *ctx.pod_table = TracePodTable(ctx.pods, fetched->metrics, resource, container, false, options_.readiness,
                                       ctx.now);
      }
    }
    if (!p.ok()) {
      std::string cond_err = "failed to get " + resource + " usage: " + p.status().message();
      return Unable(reason, cond_err, agg(cond_err));
    }
    current.average_value = MilliQuantity(p->usage, resource);
    out.replicas = p->replicas;
    out.description = ResourceValueDescription(resource);
  } else if (target.average_utilization) {
    auto fetched = metrics_.GetResourceMetric(ctx.ns, resource, ctx.selector, container);
    Result<PodMetricProposal> p = Status(StatusCode::kInternal, "");
    if (!fetched.ok()) {
      p = Status(fetched.status().code(), "unable to get metrics for resource " + resource + ": " +
                                              fetched.status().message());
    } else {
      p = CalcResourceUtilizationReplicas(ctx.current_replicas, *target.average_utilization, resource, container,
                                          ctx.tolerances, fetched->metrics, ctx.pods, options_.readiness, ctx.now,
                                          options_.pod_level_resources);
      if (ctx.pod_table) {
        *ctx.pod_table = TracePodTable(ctx.pods, fetched->metrics, resource, container, true, options_.readiness,
                                       ctx.now, options_.pod_level_resources);
      }
    }
    if (!p.ok()) {
      std::string cond_err = "failed to get " + resource + " utilization: " + p.status().message();
      return Unable(reason, cond_err, agg(cond_err));
    }
    current.average_utilization = p->utilization;
    current.average_value = MilliQuantity(p->usage, resource);
    out.replicas = p->replicas;
    out.description = ResourceUtilizationDescription(resource, container_form);
  } else {
    std::string cond_err =
        "invalid resource metric source: neither an average utilization target nor an average value (usage) target "
        "was set";
    return Unable(reason, cond_err, agg(cond_err));
  }
  out.status = k8s::MetricStatus{};
  if (container_form) {
    out.status.type = "ContainerResource";
    out.status.container_resource = k8s::MetricStatus::ContainerResource{resource, container, current};
  } else {
    out.status.type = "Resource";
    out.status.resource = std::make_pair(resource, current);
  }
  out.ok = true;
  return out;
}

MetricResult HpaReconciler::ComputePods(const MetricContext& ctx, const k8s::PodsMetricSource& src) {
  const std::string reason = "FailedGetPodsMetric";
  auto metric_selector = k8s::Selector::FromJson(src.metric.selector);
  if (!metric_selector.ok()) {
    return Unable(reason, metric_selector.status().message(),
                  "failed to get pods metric value: " + metric_selector.status().message());
  }
  if (!src.target.average_value) {
    std::string err = "invalid pods metric source: no average value target was set";
    return Unable(reason, err, "failed to get pods metric value: " + err);
  }
  auto fetched = metrics_.GetRawMetric(ctx.ns, src.metric.name, ctx.selector, *metric_selector);
  Result<PodMetricProposal> p = Status(StatusCode::kInternal, "");
  if (!fetched.ok()) {
    p = Status(fetched.status().code(), "unable to get metric " + src.metric.name + ": " + fetched.status().message());
  } else {
    p = CalcPlainMetricReplicas(ctx.current_replicas, src.target.average_value->MilliValue(), "", ctx.tolerances,
                                fetched->metrics, ctx.pods, options_.readiness, ctx.now);
    if (ctx.pod_table) {
      *ctx.pod_table = TracePodTable(ctx.pods, fetched->metrics, "", "", false, options_.readiness, ctx.now);
    }
  }
  if (!p.ok()) {
    return Unable(reason, p.status().message(), "failed to get pods metric value: " + p.status().message());
  }
  MetricResult out;
  out.status.type = "Pods";
  k8s::MetricValueStatus current;
  current.average_value = k8s::Quantity::FromMilli(p->usage);
  out.status.pods = k8s::MetricStatus::PodsOrExternal{src.metric, current};
  out.ok = true;
  out.replicas = p->replicas;
  out.description = PodsMetricDescription(src.metric.name);
  return out;
}

MetricResult HpaReconciler::ComputeObject(const MetricContext& ctx, const k8s::ObjectMetricSource& src) {
  const std::string reason = "FailedGetObjectMetric";
  auto metric_selector = k8s::Selector::FromJson(src.metric.selector);
  if (!metric_selector.ok()) {
    return Unable(reason, metric_selector.status().message(),
                  "failed to get object metric value: " + metric_selector.status().message());
  }
  const std::string& ns = ctx.ns;
  auto fetch_error = [&](const Status& s) {
    return "unable to get metric " + src.metric.name + " on " + src.described_object.kind + " " + ns + "/" +
           src.described_object.name + ": " + s.message();
  };
  k8s::MetricValueStatus current;
  MetricResult out;
  // C0: Object metrics choose by target.type.
  if (src.target.type == "Value" && src.target.value) {
    auto fetched = metrics_.GetObjectMetric(ns, src.metric.name, src.described_object, *metric_selector);
    if (!fetched.ok()) {
      std::string inner = fetch_error(fetched.status());
      return Unable(reason, inner, "failed to get object metric value: " + inner);
    }
    const double ratio = static_cast<double>(fetched->value) / static_cast<double>(src.target.value->MilliValue());
    auto replicas = UsageRatioReplicaCount(ctx.current_replicas, ratio, ctx.tolerances, ctx.pods);  // C11
    if (!replicas.ok()) {
      std::string inner = replicas.status().message();
      return Unable(reason, inner, "failed to get object metric value: " + inner);
    }
    current.value = k8s::Quantity::FromMilli(fetched->value);
    out.replicas = *replicas;
    out.description = ObjectValueDescription(src.described_object.kind, src.metric.name);
  } else if (src.target.type == "AverageValue" && src.target.average_value) {
    auto fetched = metrics_.GetObjectMetric(ns, src.metric.name, src.described_object, *metric_selector);
    if (!fetched.ok()) {
      std::string inner = fetch_error(fetched.status());
      return Unable(reason, inner,
                    "failed to get object metric value: failed to get " + src.metric.name + " object metric: " + inner);
    }
    PerPodProposal p = PerPodMetricReplicas(ctx.status_replicas, fetched->value,
                                            src.target.average_value->MilliValue(), ctx.tolerances, false);  // C12
    current.average_value = k8s::Quantity::FromMilli(p.usage);
    out.replicas = p.replicas;
    // 12.4: upstream describes Object AverageValue metrics as "external".
    out.description = ExternalMetricDescription(src.metric.name, src.metric.selector);
  } else {
    std::string err = "invalid object metric source: neither a value target nor an average value target was set";
    return Unable(reason, err, "failed to get object metric value: " + err);
  }
  out.status = k8s::MetricStatus{};
  out.status.type = "Object";
  out.status.object = k8s::MetricStatus::Object{src.described_object, src.metric, current};
  out.ok = true;
  return out;
}

MetricResult HpaReconciler::ComputeExternal(const MetricContext& ctx, const k8s::ExternalMetricSource& src) {
  const std::string reason = "FailedGetExternalMetric";
  const std::string& ns = ctx.ns;
  const bool average = src.target.average_value.has_value();
  auto agg = [&](const std::string& inner) {
    return "failed to get " + src.metric.name + " external metric value: " +
           (average ? "failed to get " + src.metric.name + " external metric: "
                    : "failed to get external metric " + src.metric.name + ": ") +
           inner;
  };
  if (!src.target.average_value && !src.target.value) {
    std::string err = "invalid external metric source: neither a value target nor an average value target was set";
    return Unable(reason, err, "failed to get " + src.metric.name + " external metric value: " + err);
  }
  auto metric_selector = k8s::Selector::FromJson(src.metric.selector);
  if (!metric_selector.ok()) {
    return Unable(reason, metric_selector.status().message(), agg(metric_selector.status().message()));
  }
  auto fetched = metrics_.GetExternalMetric(ns, src.metric.name, *metric_selector);
  if (!fetched.ok()) {
    std::string inner = "unable to get external metric " + ns + "/" + src.metric.name + "/" +
                        GoLabelSelectorString(src.metric.selector) + ": " + fetched.status().message();
    return Unable(reason, inner, agg(inner));
  }
  const int64_t v = SumExternalValues(fetched->values, average);  // M6
  k8s::MetricValueStatus current;
  MetricResult out;
  if (average) {  // C14
    PerPodProposal p =
        PerPodMetricReplicas(ctx.status_replicas, v, src.target.average_value->MilliValue(), ctx.tolerances, true);
    current.average_value = k8s::Quantity::FromMilli(p.usage);
    out.replicas = p.replicas;
  } else {  // C13
    const double ratio = static_cast<double>(v) / static_cast<double>(src.target.value->MilliValue());
    auto replicas = UsageRatioReplicaCount(ctx.current_replicas, ratio, ctx.tolerances, ctx.pods);
    if (!replicas.ok()) return Unable(reason, replicas.status().message(), agg(replicas.status().message()));
    current.value = k8s::Quantity::FromMilli(v);
    out.replicas = *replicas;
  }
  out.description = ExternalMetricDescription(src.metric.name, src.metric.selector);
  out.status = k8s::MetricStatus{};
  out.status.type = "External";
  out.status.external = k8s::MetricStatus::PodsOrExternal{src.metric, current};
  out.ok = true;
  return out;
}

MetricResult HpaReconciler::ComputeReplicasForMetric(const MetricContext& ctx, const k8s::MetricSpec& spec) {
  if (spec.type == "Resource" && spec.resource) {
    return ComputeResource(ctx, spec.resource->name, "", spec.resource->target, false);
  }
  if (spec.type == "ContainerResource" && spec.container_resource) {
    return ComputeResource(ctx, spec.container_resource->name, spec.container_resource->container,
                           spec.container_resource->target, true);
  }
  if (spec.type == "Pods" && spec.pods) return ComputePods(ctx, *spec.pods);
  if (spec.type == "Object" && spec.object) return ComputeObject(ctx, *spec.object);
  if (spec.type == "External" && spec.external) return ComputeExternal(ctx, *spec.external);
  // 16.9: validation is the API server's job; an unknown type fails here.
  std::string err = "unknown metric source type \"" + spec.type + "\"";
  MetricResult out = Unable("InvalidMetricSourceType", err, err);
  out.spec_error = true;
  return out;
}

MetricsFetch HpaReconciler::FetchMetrics(Working& w, const k8s::Scale& scale, int32_t current,
                                         Tolerances tolerances) {
  const k8s::Hpa& hpa = *w.hpa;
  const std::string& ns = hpa.metadata.ns;
  const std::string& sel = scale.selector;
  MetricsFetch fetch;
  // S1.
  if (sel.empty()) {
    // The event's reason differs from the condition's (12.3).
    fetch.selector_failure = SelectorFailure{.event_reason = "SelectorRequired",
                                             .event_message = "selector is required",
                                             .condition_reason = "InvalidSelector",
                                             .condition_message = "the HPA target's scale is missing a selector",
                                             .error = "selector is required"};
    return fetch;
  }
  // S2.
  auto parsed = k8s::Selector::Parse(sel);
  if (!parsed.ok()) {
    std::string msg =
        "couldn't convert selector into a corresponding internal selector object: " + parsed.status().message();
    fetch.selector_failure = SelectorFailure{
        .event_reason = "InvalidSelector", .event_message = msg, .condition_reason = "InvalidSelector",
        .condition_message = msg, .error = msg};
    return fetch;
  }
  const k8s::Selector selector = *parsed;
  // S3.
  if (!selectors_.PutIfExists(ns, hpa.metadata.name, selector)) {
    fetch.selector_failure =
        SelectorFailure{.error = "HPA " + ns + "/" + hpa.metadata.name + " was deleted during reconciliation"};
    return fetch;
  }
  // S4.
  const PodList pods = pods_.ListSelector(ns, selector);
  std::vector<std::string> selecting = selectors_.HpasSelectingAny(ns, pods);
  if (selecting.size() > 1) {
    // This HPA first, then one other. S4: the text is the same whether
    // HPAOptimizedSelectorStore is on or off (upstream has one message).
    std::vector<std::string> keys{ns + "/" + hpa.metadata.name};
    for (const auto& name : selecting)
      if (name != hpa.metadata.name) keys.push_back(ns + "/" + name);
    if (keys.size() > 2) keys.resize(2);
    const std::string msg =
        "pods by selector " + sel + " are controlled by more than one HPA (e.g. " + GoKeyList(keys) + ")";
    fetch.selector_failure = SelectorFailure{.event_reason = "AmbiguousSelector", .event_message = msg,
                                             .condition_reason = "AmbiguousSelector", .condition_message = msg,
                                             .error = msg};
    return fetch;
  }

  const std::vector<k8s::MetricSpec>& specs = hpa.spec.metrics.empty() ? DefaultMetricSpecs() : hpa.spec.metrics;
  w.report.metric_specs = specs;
  MetricContext ctx{ns, current, scale.status_replicas, tolerances, selector, pods, w.now};
  fetch.results.reserve(specs.size());
  if (w.trace) w.trace->metrics.reserve(specs.size());  // exact: the trace is kept per HPA
  for (const auto& spec : specs) {
    Time start = clock_.Now();
    PodTable pod_table;
    ctx.pod_table = w.trace ? &pod_table : nullptr;
    MetricResult r = ComputeReplicasForMetric(ctx, spec);
    if (w.trace) w.trace->metrics.push_back(DescribeMetric(spec, r, tolerances, std::move(pod_table)));
    MetricObservation obs;
    obs.metric_type = spec.type;
    obs.duration = Since(clock_, start);
    if (!r.ok) {
      obs.error = r.spec_error ? ErrorLabel::kSpec : ErrorLabel::kInternal;
    } else {
      obs.action = ActionFor(hpa.status.current_replicas, r.replicas);  // 15.3: against the status as read
    }
    w.report.metrics.push_back(obs);
    fetch.results.push_back(std::move(r));
  }
  return fetch;
}

// ---------------------------------------------------------------------------
// R1-R14

ReconcileResult HpaReconciler::Reconcile(const std::string& key, Time now) {
  Working w;
  w.key = key;
  w.now = now;
  w.started = clock_.Now();
  w.report.key = key;
  w.report.time = now;
  if (options_.keep_traces) {
    w.trace = std::make_shared<DecisionTrace>();
    auto slash = key.find('/');
    w.trace->ns = slash == std::string::npos ? "" : key.substr(0, slash);
    w.trace->name = slash == std::string::npos ? key : key.substr(slash + 1);
    w.trace->time = now;
  }

  // ---- read: the HPA (R1).
  auto shared = hpas_.Get(key);
  if (!shared) {
    DropHistory(key);
    w.report.deleted = true;
    w.report.duration = Since(clock_, w.started);
    // 15.x: upstream observes nothing for a deleted HPA; its gauge goes.
    auto slash = key.find('/');
    monitor_.DeleteDesiredReplicas(slash == std::string::npos ? "" : key.substr(0, slash),
                                   slash == std::string::npos ? key : key.substr(slash + 1));
    monitor_.SetNumHpas(selectors_.Size());
    if (observer_) observer_(w.report);
    return ReconcileResult{true, Status::Ok()};
  }
  // The snapshot is shared with the informer's store (immutable there);
  // only the status is copied, as the working status.
  w.hpa = std::move(shared);
  w.status = w.hpa->status;
  const k8s::Hpa& hpa = *w.hpa;
  const auto& ref = hpa.spec.scale_target_ref;
  w.reference = ref.kind + "/" + hpa.metadata.ns + "/" + ref.name;
  // Issue 13: a bad hpad.io/* value never stops the HPA; it is reported and
  // its default applies.
  w.annotations = ParseHpadAnnotations(hpa.metadata.annotations);
  for (const auto& problem : w.annotations.problems) {
    if (!options_.dry_run) events_.Event(EventRefFor(hpa), "Warning", "InvalidAnnotation", problem.message);
  }

  // A write of a scale read from the watch cache that gets 409 means the
  // cache was behind: decide again from a fresh GET rather than act on stale
  // replicas (issue 11 item 9; beyond upstream, which always GETs).
  bool rerun = false;
  ReconcileResult result = ReconcileTarget(w, /*fresh_read=*/false, &rerun);
  if (!rerun) return result;
  HPAD_VLOG(2) << "HPA " << key << ": the cached scale of " << w.reference
               << " was stale (409 on update); reconciling again from a fresh read";
  w.status = hpa.status;  // from the status as read again
  if (w.trace) {
    DecisionTrace fresh;
    fresh.ns = w.trace->ns;
    fresh.name = w.trace->name;
    fresh.time = w.trace->time;
    *w.trace = std::move(fresh);
  }
  w.report.metric_specs.clear();
  w.report.metric_statuses.clear();
  w.report.metrics.clear();
  return ReconcileTarget(w, /*fresh_read=*/true, &rerun);
}

ReconcileResult HpaReconciler::ReconcileTarget(Working& w, bool fresh_read, bool* rerun) {
  const k8s::Hpa& hpa = *w.hpa;
  k8s::HpaStatus& status = w.status;
  const std::string& key = w.key;
  const Time now = w.now;
  const auto& ref = hpa.spec.scale_target_ref;
  const DecideOptions decide_options = options_.Decide();

  // ---- read: the scale (R2 / T1-T5).
  auto failed_get_scale = [&](const Status& err) {
    if (!options_.dry_run) events_.Event(EventRefFor(hpa), "Warning", "FailedGetScale", err.message());
    SetCondition(status.conditions, kAbleToScale, "False", "FailedGetScale",
                 "the HPA controller was unable to get the target's current scale: " + err.message(), now);
    UpdateStatusOnFailurePath(w);
  };
  auto gv = k8s::ParseGroupVersion(ref.api_version);
  if (!gv.ok()) {
    failed_get_scale(gv.status());
    return Finish(w,
                  Status(StatusCode::kInvalid, "invalid API version in scale target reference: " + gv.status().message()),
                  true);
  }
  // Issue 15: a rescale whose write may or may not have been applied is
  // settled against a fresh read (a watch cache may not show it yet) before
  // this reconcile decides anything from the history.
  const bool verify_rescale = HasUnconfirmedRescale(key);
  auto read_scale = fresh_read || verify_rescale ? scales_.GetScaleFresh(hpa.metadata.ns, ref)
                                                 : scales_.GetScale(hpa.metadata.ns, ref);
  if (!read_scale.ok()) {
    failed_get_scale(read_scale.status());
    return Finish(w,
                  Status(read_scale.status().code(),
                         "failed to query scale subresource for " + w.reference + ": " + read_scale.status().message()),
                  false);
  }
  ScaleReadResult scale = *read_scale;
  if (scale.scale.name.empty()) scale.scale.name = ref.name;
  SetCondition(status.conditions, kAbleToScale, "True", "SucceededGetScale",
               "the HPA controller was able to get the target's current scale", now);  // R3
  const int32_t current = scale.scale.spec_replicas;  // R4
  w.report.current_replicas = current;
  if (verify_rescale) ResolveUnconfirmedRescale(key, current);

  // ---- fetch: the metrics, only when R6 computes them.
  std::optional<MetricsFetch> fetched;
  if (NeedsMetrics(hpa.spec, status.conditions, current, decide_options)) {
    fetched = FetchMetrics(w, scale.scale, current, TolerancesFor(hpa));
  }

  // ---- decide (R4-R12, X2-X4).
  // Issue 13: a paused HPA decides on a copy of its history (the decision
  // only provides the metric statuses), so the pause leaves no trace in it.
  const bool paused = w.annotations.Paused();
  HpaHistory paused_history;
  if (paused) paused_history = HistoryFor(key);
  HpaHistory& history = paused ? paused_history : History(key);
  // A cached read may have to be decided again (issue 11 item 9): the
  // history goes back to what it was before this decision.
  std::optional<HpaHistory> history_before;
  // The real history changes under history_mu_: the history flusher
  // (--persist-history) copies it from another thread (HistoryFor).
  std::unique_lock<std::mutex> history_lock(history_mu_, std::defer_lock);
  if (!paused) history_lock.lock();
  if (scale.from_cache) history_before = history;
  const ScaleDecision decision =
      DecideScale(DecideInput{.spec = &hpa.spec,
                              .conditions = &status.conditions,
                              .current_replicas = current,
                              .metrics = fetched ? &*fetched : nullptr,
                              .trace = w.trace.get()},
                  history, decide_options, now);
  if (history_lock.owns_lock()) history_lock.unlock();
  if (fetched) w.report.metric_statuses = decision.metric_statuses;
  const PauseDecision pause = DecidePause(PauseInput{.paused = w.annotations.paused,
                                                     .paused_replicas = w.annotations.paused_replicas,
                                                     .conditions = &status.conditions,
                                                     .current_replicas = current});
  if (pause.paused) return FinishPaused(w, scale, current, decision, pause, history, fresh_read, rerun);
  Emit(w, pause.events);  // ScalingResumed
  ApplyConditionChanges(status.conditions, decision.conditions, now);

  // ---- write.
  if (decision.metrics_failed) {
    Emit(w, decision.events);
    // R7: the status is rebuilt (upstream setCurrentReplicasAndMetricsInStatus
    // -> setStatus) with the metrics as far as they went, so W3's
    // observedGeneration is written here too; then the reconcile fails.
    status = BuildStatus(status, current, status.desired_replicas, decision.metric_statuses, false,
                             ObservedGeneration(hpa), now);
    UpdateStatusOnFailurePath(w);
    if (decision.failure_event) Emit(w, {*decision.failure_event});
    return Finish(w,
                  Status(StatusCode::kUnavailable, "failed to compute desired number of replicas based on listed "
                                                   "metrics for " +
                                                       w.reference + ": " + decision.metrics_error),
                  decision.metrics_error_spec);
  }
  const int32_t desired = decision.desired_replicas;
  w.report.reason = decision.reason;
  if (decision.rescale) {
    // R11 / W1-W2.
    // Issue 12: a dry run counts the rescale as done without writing it.
    // Issue 15 (--persist-history, behavior only: L5): the scale event is
    // recorded - in memory, so the flusher cannot write a history without
    // it meanwhile, and in the store - before the scale write is sent.
    Status up = Status::Ok();
    bool written_ahead = false, sent = false;
    std::optional<HpaHistory> before_event;
    if (!options_.dry_run) {
      if (scale_event_writer_ && hpa.spec.behavior) {
        HpaHistory ahead;
        {
          std::lock_guard<std::mutex> l(history_mu_);
          before_event = history;
          // B10 as AfterRescale records it on success: same counts, same `now`.
          StoreScaleEvent(history, DefaultBehavior(*hpa.spec.behavior, decide_options.downscale_stabilization),
                          current, desired, now);
          ahead = history;
        }
        up = WriteScaleEventAhead(w, ahead, PendingScaleWrite{current, desired, now}, &written_ahead);
      }
      if (up.ok()) {
        sent = true;
        up = scales_.UpdateScale(hpa.metadata.ns, scale, desired);
      }
    }
    if (sent && !up.ok() && up.code() == StatusCode::kConflict && scale.from_cache && !fresh_read) {
      std::lock_guard<std::mutex> l(history_mu_);
      history = std::move(*history_before);
      if (before_event) changed_histories_.insert(key);  // the stored event goes at the next flush
      *rerun = true;
      return ReconcileResult{};
    }
    Emit(w, decision.events);
    RescaleOutcome outcome;
    {
      std::lock_guard<std::mutex> l(history_mu_);
      if (before_event) history = std::move(*before_event);  // AfterRescale records the event (B10)
      outcome = AfterRescale(decision, hpa.spec, up, history, decide_options, now);
      if (up.ok()) {
        // Issue 13: a new scale event to persist - unless written ahead: the
        // store holds this very history already (its pending mark stays
        // until the entry's next write; a successor reading it finds the
        // scale moved off `from` and keeps the event).
        if (hpa.spec.behavior && !written_ahead) changed_histories_.insert(key);
      } else if (sent && hpa.spec.behavior && ScaleWriteMayHaveApplied(up)) {
        // Issue 15: the write may have been applied (e.g. aborted at the
        // lease fence's deadline while on the wire). B10 records events of
        // successful rescales; not knowing, count it as one so B5/B6/B9
        // cannot exceed their limits from a forgotten rescale, until the
        // next reconcile's fresh read settles it (ResolveUnconfirmedRescale).
        StoreScaleEvent(history, DefaultBehavior(*hpa.spec.behavior, decide_options.downscale_stabilization),
                        current, desired, now);
        unconfirmed_[key] = PendingScaleWrite{current, desired, now};
        HPAD_VLOG(2) << "HPA " << key << ": the scale write " << current << " -> " << desired
                     << " failed with an unknown outcome; its scale event is kept until a fresh read settles it";
      } else if (before_event) {
        changed_histories_.insert(key);  // not applied: a stored event goes at the next flush
      }
    }
    ApplyConditionChanges(status.conditions, outcome.conditions, now);
    Emit(w, outcome.events);
    if (!up.ok()) {
      // W2: the status is rebuilt as on R7's path (W3 observedGeneration included).
      return FinishFailedRescale(w, current, decision, up);
    }
    w.report.action = ActionFor(current, desired);
  } else {
    Emit(w, decision.events);
  }

  // R13 / W3.
  status = BuildStatus(status, current, desired, decision.metric_statuses, decision.rescale,
                           ObservedGeneration(hpa), now);
  w.report.desired_replicas = desired;
  w.report.reached_status = true;
  Status st = UpdateStatusIfNeeded(w);
  if (!st.ok()) return Finish(w, st, false);
  if (!decision.metrics_error.empty()) {
    // X3 second case: the scale went ahead, but the reconcile reports the error (R14).
    return Finish(w, Status(StatusCode::kUnavailable, decision.metrics_error), decision.metrics_error_spec);
  }
  return Finish(w, Status::Ok(), false);
}

// W2: a failed scale write rebuilds the status as on R7's path (W3
// observedGeneration included), writes it and fails the reconcile.
ReconcileResult HpaReconciler::FinishFailedRescale(Working& w, int32_t current, const ScaleDecision& decision,
                                                   const Status& up) {
  k8s::HpaStatus& status = w.status;
  status = BuildStatus(status, current, status.desired_replicas, decision.metric_statuses, false,
                       ObservedGeneration(*w.hpa), w.now);
  UpdateStatusOnFailurePath(w);
  w.report.desired_replicas = status.desired_replicas;
  return Finish(w, Status(up.code(), "failed to rescale " + w.reference + ": " + up.message()), false);
}

// ---------------------------------------------------------------------------
// Issue 13: pause (beyond upstream, docs/divergences.md)

ReconcileResult HpaReconciler::FinishPaused(Working& w, const ScaleReadResult& scale, int32_t current,
                                            const ScaleDecision& decision, const PauseDecision& pause,
                                            HpaHistory& scratch, bool fresh_read, bool* rerun) {
  const k8s::Hpa& hpa = *w.hpa;
  k8s::HpaStatus& status = w.status;
  const Time now = w.now;
  // The metric warnings are recorded as usual; the metric conditions are
  // not, ScalingActive says why nothing scales.
  Emit(w, decision.events);
  int32_t desired = current;
  bool rescaled = false;
  if (pause.rescale) {
    // hpad.io/paused-replicas: one write to exactly N, not clamped to
    // min/max (the operator said so).
    Status up = options_.dry_run ? Status::Ok() : scales_.UpdateScale(hpa.metadata.ns, scale, pause.desired_replicas);
    if (!up.ok() && up.code() == StatusCode::kConflict && scale.from_cache && !fresh_read) {
      *rerun = true;
      return ReconcileResult{};
    }
    ScaleDecision applied;
    applied.current_replicas = current;
    applied.desired_replicas = pause.desired_replicas;
    applied.reason = pause.reason;
    applied.rescale = true;
    RescaleOutcome outcome = AfterRescale(applied, hpa.spec, up, scratch, options_.Decide(), now);
    ApplyConditionChanges(status.conditions, outcome.conditions, now);
    Emit(w, outcome.events);
    // W2 as on the unpaused path; the pause condition is not written, so
    // the next reconcile tries the scale to N again.
    if (!up.ok()) return FinishFailedRescale(w, current, decision, up);
    desired = pause.desired_replicas;
    rescaled = true;
    w.report.reason = pause.reason;
    w.report.action = ActionFor(current, desired);
  }
  ApplyConditionChanges(status.conditions, pause.conditions, now);
  Emit(w, pause.events);
  status = BuildStatus(status, current, desired, decision.metric_statuses, rescaled, ObservedGeneration(hpa),
                           now);
  w.report.desired_replicas = desired;
  w.report.reached_status = true;
  Status st = UpdateStatusIfNeeded(w);
  if (!st.ok()) return Finish(w, st, false);
  return Finish(w, Status::Ok(), false);
}

}  // namespace hpad::ctrl
