// One reconcile of one HPA; rule numbers refer to hpa-semantics.md.
#include "controller/hpa_reconciler.h"

#include <algorithm>

#include "controller/core/hpa_status.h"

namespace hpad::ctrl {
namespace {

constexpr const char* kAbleToScale = "AbleToScale";
constexpr const char* kScalingActive = "ScalingActive";
constexpr const char* kScaledToZero = "ScaledToZero";

bool HasObjectOrExternal(const k8s::HpaSpec& spec) {
  for (const auto& m : spec.metrics)
    if (m.type == "Object" || m.type == "External") return true;
  return false;
}

k8s::Quantity MilliQuantity(int64_t milli, const std::string& resource) {
  // C15: memory prints in binary SI, everything else decimal SI.
  return k8s::Quantity::FromMilli(milli, resource == "memory" ? k8s::Quantity::Format::kBinarySI
                                                              : k8s::Quantity::Format::kDecimalSI);
}

Duration Since(const Clock& clock, Time start) { return clock.Now() - start; }

}  // namespace

k8s::EventObjectRef EventRefFor(const k8s::Hpa& hpa) {
  return k8s::EventObjectRef{"autoscaling/v2", "HorizontalPodAutoscaler", hpa.metadata.ns, hpa.metadata.name,
                             hpa.metadata.uid};
}

// ---------------------------------------------------------------------------
// Reconcile state

struct HpaReconciler::Pass {
  std::string key;
  Time now{};
  Time started{};
  k8s::Hpa hpa;  // the working deep copy (R1)
  k8s::HpaStatus original_status;
  std::optional<ScaleReadResult> scale;
  int32_t current_replicas = 0;
  int32_t status_replicas = 0;
  Tolerances tolerances;
  k8s::Selector selector;
  PodList pods;
  HpaHistory* history = nullptr;
  ReconcileReport report;
  // computeReplicasForMetrics results.
  bool metrics_failed = false;
  int32_t metric_replicas = 0;
  std::string metric_name;
  std::vector<k8s::MetricStatus> statuses;
  std::string metrics_error;  // X4 aggregated text (or the selector error)
  bool metrics_error_spec = false;
};

struct HpaReconciler::MetricOutcome {
  bool ok = false;
  int32_t replicas = 0;
  std::string name;  // <M>
  k8s::HpaCondition condition;
  std::string error;  // <agg-err>
  bool spec_error = false;
};

HpaReconciler::HpaReconciler(ReconcilerOptions options, const k8s::ObjectStore<k8s::Hpa>& hpas,
                             const k8s::ObjectStore<k8s::Pod>& pods, MetricsClient& metrics, ScaleClient& scales,
                             k8s::ApiClient& api, k8s::EventRecorder& events, SelectorRegistry& selectors,
                             const Clock& clock)
    : options_(std::move(options)),
      hpas_(hpas),
      pods_(pods),
      metrics_(metrics),
      scales_(scales),
      api_(api),
      events_(events),
      selectors_(selectors),
      clock_(clock) {}

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
  history_.erase(key);
}

void HpaReconciler::SetCondition(Pass& pass, const std::string& type, const std::string& status,
                                 const std::string& reason, const std::string& message) {
  ctrl::SetCondition(pass.hpa.status.conditions, type, status, reason, message, pass.now);
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

Status HpaReconciler::UpdateStatusIfNeeded(Pass& pass) {
  if (!StatusChanged(pass.original_status, pass.hpa.status)) return Status::Ok();  // W4
  nlohmann::json body = k8s::HpaToJson(pass.hpa);
  body["metadata"]["resourceVersion"] = pass.hpa.metadata.resource_version;
  auto res = api_.Update(k8s::ObjectKey{k8s::resources::kHpaV2, pass.hpa.metadata.ns, pass.hpa.metadata.name, "status"},
                         body);
  if (!res.ok()) {
    events_.Event(EventRefFor(pass.hpa), "Warning", "FailedUpdateStatus", res.status().message());
    return Status(res.status().code(),
                  "failed to update status for " + pass.hpa.metadata.name + ": " + res.status().message());
  }
  return Status::Ok();
}

void HpaReconciler::Finish(Pass& pass) {
  pass.report.duration = Since(clock_, pass.started);
  if (observer_) observer_(pass.report);
}

// ---------------------------------------------------------------------------
// Metrics (section 9, 10)

HpaReconciler::MetricOutcome HpaReconciler::Unable(Pass& pass, const std::string& reason, const std::string& cond_err,
                                                   const std::string& agg_err) {
  // X1: the per-metric Warning event goes out even if the reconcile later scales.
  events_.Event(EventRefFor(pass.hpa), "Warning", reason, cond_err);
  MetricOutcome out;
  out.condition = k8s::HpaCondition{kScalingActive, "False", std::nullopt, reason,
                                    "the HPA was unable to compute the replica count: " + cond_err};
  out.error = agg_err;
  return out;
}

HpaReconciler::MetricOutcome HpaReconciler::ComputeResource(Pass& pass, const std::string& resource,
                                                            const std::string& container,
                                                            const k8s::MetricTarget& target, bool container_form,
                                                            k8s::MetricStatus& status) {
  const std::string reason = container_form ? "FailedGetContainerResourceMetric" : "FailedGetResourceMetric";
  auto agg = [&](const std::string& cond_err) {
    return container_form ? "failed to get " + container + " container metric value: " + cond_err
                          : "failed to get " + resource + " resource metric value: " + cond_err;
  };
  k8s::MetricValueStatus current;
  MetricOutcome out;
  if (target.average_value) {  // C0: averageValue wins whatever target.type says
    auto fetched = metrics_.GetResourceMetric(pass.hpa.metadata.ns, resource, pass.selector, container);
    Result<PodMetricProposal> p = Status(StatusCode::kInternal, "");
    if (!fetched.ok()) {
      p = Status(fetched.status().code(), "unable to get metrics for resource " + resource + ": " +
                                              fetched.status().message());
    } else {
      p = CalcPlainMetricReplicas(pass.current_replicas, target.average_value->MilliValue(), resource,
                                  pass.tolerances, fetched->metrics, pass.pods, options_.readiness, pass.now);
    }
    if (!p.ok()) {
      std::string cond_err = "failed to get " + resource + " usage: " + p.status().message();
      return Unable(pass, reason, cond_err, agg(cond_err));
    }
    current.average_value = MilliQuantity(p->usage, resource);
    out.replicas = p->replicas;
    out.name = ResourceValueDescription(resource);
  } else if (target.average_utilization) {
    auto fetched = metrics_.GetResourceMetric(pass.hpa.metadata.ns, resource, pass.selector, container);
    Result<PodMetricProposal> p = Status(StatusCode::kInternal, "");
    if (!fetched.ok()) {
      p = Status(fetched.status().code(), "unable to get metrics for resource " + resource + ": " +
                                              fetched.status().message());
    } else {
      p = CalcResourceUtilizationReplicas(pass.current_replicas, *target.average_utilization, resource, container,
                                          pass.tolerances, fetched->metrics, pass.pods, options_.readiness, pass.now,
                                          options_.pod_level_resources);
    }
    if (!p.ok()) {
      std::string cond_err = "failed to get " + resource + " utilization: " + p.status().message();
      return Unable(pass, reason, cond_err, agg(cond_err));
    }
    current.average_utilization = p->utilization;
    current.average_value = MilliQuantity(p->usage, resource);
    out.replicas = p->replicas;
    out.name = ResourceUtilizationDescription(resource, container_form);
  } else {
    std::string cond_err =
        "invalid resource metric source: neither an average utilization target nor an average value (usage) target "
        "was set";
    return Unable(pass, reason, cond_err, agg(cond_err));
  }
  status = k8s::MetricStatus{};
  if (container_form) {
    status.type = "ContainerResource";
    status.container_resource = k8s::MetricStatus::ContainerResource{resource, container, current};
  } else {
    status.type = "Resource";
    status.resource = std::make_pair(resource, current);
  }
  out.ok = true;
  return out;
}

HpaReconciler::MetricOutcome HpaReconciler::ComputePods(Pass& pass, const k8s::PodsMetricSource& src,
                                                        k8s::MetricStatus& status) {
  const std::string reason = "FailedGetPodsMetric";
  auto metric_selector = k8s::Selector::FromJson(src.metric.selector);
  if (!metric_selector.ok()) {
    return Unable(pass, reason, metric_selector.status().message(),
                  "failed to get pods metric value: " + metric_selector.status().message());
  }
  if (!src.target.average_value) {
    std::string err = "invalid pods metric source: no average value target was set";
    return Unable(pass, reason, err, "failed to get pods metric value: " + err);
  }
  auto fetched = metrics_.GetRawMetric(pass.hpa.metadata.ns, src.metric.name, pass.selector, *metric_selector);
  Result<PodMetricProposal> p = Status(StatusCode::kInternal, "");
  if (!fetched.ok()) {
    p = Status(fetched.status().code(), "unable to get metric " + src.metric.name + ": " + fetched.status().message());
  } else {
    p = CalcPlainMetricReplicas(pass.current_replicas, src.target.average_value->MilliValue(), "", pass.tolerances,
                                fetched->metrics, pass.pods, options_.readiness, pass.now);
  }
  if (!p.ok()) {
    return Unable(pass, reason, p.status().message(), "failed to get pods metric value: " + p.status().message());
  }
  status = k8s::MetricStatus{};
  status.type = "Pods";
  k8s::MetricValueStatus current;
  current.average_value = k8s::Quantity::FromMilli(p->usage);
  status.pods = k8s::MetricStatus::PodsOrExternal{src.metric, current};
  MetricOutcome out;
  out.ok = true;
  out.replicas = p->replicas;
  out.name = PodsMetricDescription(src.metric.name);
  return out;
}

HpaReconciler::MetricOutcome HpaReconciler::ComputeObject(Pass& pass, const k8s::ObjectMetricSource& src,
                                                          k8s::MetricStatus& status) {
  const std::string reason = "FailedGetObjectMetric";
  auto metric_selector = k8s::Selector::FromJson(src.metric.selector);
  if (!metric_selector.ok()) {
    return Unable(pass, reason, metric_selector.status().message(),
                  "failed to get object metric value: " + metric_selector.status().message());
  }
  const std::string& ns = pass.hpa.metadata.ns;
  auto fetch_error = [&](const Status& s) {
    return "unable to get metric " + src.metric.name + " on " + src.described_object.kind + " " + ns + "/" +
           src.described_object.name + ": " + s.message();
  };
  k8s::MetricValueStatus current;
  MetricOutcome out;
  // C0: Object metrics choose by target.type.
  if (src.target.type == "Value" && src.target.value) {
    auto fetched = metrics_.GetObjectMetric(ns, src.metric.name, src.described_object, *metric_selector);
    if (!fetched.ok()) {
      std::string inner = fetch_error(fetched.status());
      return Unable(pass, reason, inner, "failed to get object metric value: " + inner);
    }
    const double ratio = static_cast<double>(fetched->value) / static_cast<double>(src.target.value->MilliValue());
    auto replicas = UsageRatioReplicaCount(pass.current_replicas, ratio, pass.tolerances, pass.pods);  // C11
    if (!replicas.ok()) {
      std::string inner = replicas.status().message();
      return Unable(pass, reason, inner, "failed to get object metric value: " + inner);
    }
    current.value = k8s::Quantity::FromMilli(fetched->value);
    out.replicas = *replicas;
    out.name = ObjectValueDescription(src.described_object.kind, src.metric.name);
  } else if (src.target.type == "AverageValue" && src.target.average_value) {
    auto fetched = metrics_.GetObjectMetric(ns, src.metric.name, src.described_object, *metric_selector);
    if (!fetched.ok()) {
      std::string inner = fetch_error(fetched.status());
      return Unable(pass, reason, inner,
                    "failed to get object metric value: failed to get " + src.metric.name + " object metric: " + inner);
    }
    PerPodProposal p = PerPodMetricReplicas(pass.status_replicas, fetched->value,
                                            src.target.average_value->MilliValue(), pass.tolerances, false);  // C12
    current.average_value = k8s::Quantity::FromMilli(p.usage);
    out.replicas = p.replicas;
    // 12.4: upstream describes Object AverageValue metrics as "external".
    out.name = ExternalMetricDescription(src.metric.name, src.metric.selector);
  } else {
    std::string err = "invalid object metric source: neither a value target nor an average value target was set";
    return Unable(pass, reason, err, "failed to get object metric value: " + err);
  }
  status = k8s::MetricStatus{};
  status.type = "Object";
  status.object = k8s::MetricStatus::Object{src.described_object, src.metric, current};
  out.ok = true;
  return out;
}

HpaReconciler::MetricOutcome HpaReconciler::ComputeExternal(Pass& pass, const k8s::ExternalMetricSource& src,
                                                            k8s::MetricStatus& status) {
  const std::string reason = "FailedGetExternalMetric";
  const std::string& ns = pass.hpa.metadata.ns;
  const bool average = src.target.average_value.has_value();
  auto agg = [&](const std::string& inner) {
    return "failed to get " + src.metric.name + " external metric value: " +
           (average ? "failed to get " + src.metric.name + " external metric: "
                    : "failed to get external metric " + src.metric.name + ": ") +
           inner;
  };
  if (!src.target.average_value && !src.target.value) {
    std::string err = "invalid external metric source: neither a value target nor an average value target was set";
    return Unable(pass, reason, err, "failed to get " + src.metric.name + " external metric value: " + err);
  }
  auto metric_selector = k8s::Selector::FromJson(src.metric.selector);
  if (!metric_selector.ok()) {
    return Unable(pass, reason, metric_selector.status().message(), agg(metric_selector.status().message()));
  }
  auto fetched = metrics_.GetExternalMetric(ns, src.metric.name, *metric_selector);
  if (!fetched.ok()) {
    std::string inner = "unable to get external metric " + ns + "/" + src.metric.name + "/" +
                        GoLabelSelectorString(src.metric.selector) + ": " + fetched.status().message();
    return Unable(pass, reason, inner, agg(inner));
  }
  const int64_t v = SumExternalValues(fetched->values, average);  // M6
  k8s::MetricValueStatus current;
  MetricOutcome out;
  if (average) {  // C14
    PerPodProposal p =
        PerPodMetricReplicas(pass.status_replicas, v, src.target.average_value->MilliValue(), pass.tolerances, true);
    current.average_value = k8s::Quantity::FromMilli(p.usage);
    out.replicas = p.replicas;
  } else {  // C13
    const double ratio = static_cast<double>(v) / static_cast<double>(src.target.value->MilliValue());
    auto replicas = UsageRatioReplicaCount(pass.current_replicas, ratio, pass.tolerances, pass.pods);
    if (!replicas.ok()) return Unable(pass, reason, replicas.status().message(), agg(replicas.status().message()));
    current.value = k8s::Quantity::FromMilli(v);
    out.replicas = *replicas;
  }
  out.name = ExternalMetricDescription(src.metric.name, src.metric.selector);
  status = k8s::MetricStatus{};
  status.type = "External";
  status.external = k8s::MetricStatus::PodsOrExternal{src.metric, current};
  out.ok = true;
  return out;
}

HpaReconciler::MetricOutcome HpaReconciler::ComputeReplicasForMetric(Pass& pass, const k8s::MetricSpec& spec,
                                                                     k8s::MetricStatus& status) {
  if (spec.type == "Resource" && spec.resource) {
    return ComputeResource(pass, spec.resource->name, "", spec.resource->target, false, status);
  }
  if (spec.type == "ContainerResource" && spec.container_resource) {
    return ComputeResource(pass, spec.container_resource->name, spec.container_resource->container,
                           spec.container_resource->target, true, status);
  }
  if (spec.type == "Pods" && spec.pods) return ComputePods(pass, *spec.pods, status);
  if (spec.type == "Object" && spec.object) return ComputeObject(pass, *spec.object, status);
  if (spec.type == "External" && spec.external) return ComputeExternal(pass, *spec.external, status);
  // 16.9: validation is the API server's job; an unknown type fails here.
  std::string err = "unknown metric source type \"" + spec.type + "\"";
  MetricOutcome out = Unable(pass, "InvalidMetricSourceType", err, err);
  out.spec_error = true;
  return out;
}

void HpaReconciler::ComputeReplicasForMetrics(Pass& pass) {
  const k8s::Hpa& hpa = pass.hpa;
  const std::string& ns = hpa.metadata.ns;
  const std::string& sel = pass.scale->scale.selector;
  pass.metrics_failed = true;
  // S1.
  if (sel.empty()) {
    events_.Event(EventRefFor(hpa), "Warning", "SelectorRequired", "selector is required");
    SetCondition(pass, kScalingActive, "False", "InvalidSelector", "the HPA target's scale is missing a selector");
    pass.metrics_error = "selector is required";
    return;
  }
  // S2.
  auto parsed = k8s::Selector::Parse(sel);
  if (!parsed.ok()) {
    std::string msg =
        "couldn't convert selector into a corresponding internal selector object: " + parsed.status().message();
    events_.Event(EventRefFor(hpa), "Warning", "InvalidSelector", msg);
    SetCondition(pass, kScalingActive, "False", "InvalidSelector", msg);
    pass.metrics_error = msg;
    return;
  }
  pass.selector = *parsed;
  // S3.
  if (!selectors_.PutIfExists(ns, hpa.metadata.name, pass.selector)) {
    pass.metrics_error = "HPA " + ns + "/" + hpa.metadata.name + " was deleted during reconciliation";
    return;
  }
  // S4.
  pass.pods = pods_.ListSelector(ns, pass.selector);
  std::vector<std::string> selecting = selectors_.HpasSelectingAny(ns, pass.pods);
  if (selecting.size() > 1) {
    // This HPA first, then the others; the optimized store names at most two.
    std::vector<std::string> keys{ns + "/" + hpa.metadata.name};
    for (const auto& name : selecting)
      if (name != hpa.metadata.name) keys.push_back(ns + "/" + name);
    std::string msg;
    if (options_.optimized_selector_store) {
      if (keys.size() > 2) keys.resize(2);
      msg = "pods by selector " + sel + " are controlled by more than one HPA (e.g. " + GoKeyList(keys) + ")";
    } else {
      msg = "pods by selector " + sel + " are controlled by multiple HPAs: " + GoKeyList(keys);
    }
    events_.Event(EventRefFor(hpa), "Warning", "AmbiguousSelector", msg);
    SetCondition(pass, kScalingActive, "False", "AmbiguousSelector", msg);
    pass.metrics_error = msg;
    return;
  }

  std::vector<k8s::MetricSpec> specs = hpa.spec.metrics;
  if (specs.empty()) {
    // D1: the API server defaults an empty list to cpu at 80%.
    k8s::MetricSpec cpu;
    cpu.type = "Resource";
    k8s::MetricTarget t;
    t.type = "Utilization";
    t.average_utilization = 80;
    cpu.resource = k8s::ResourceMetricSource{"cpu", t};
    specs.push_back(cpu);
  }
  pass.report.metric_specs = specs;
  pass.statuses.assign(specs.size(), k8s::MetricStatus{});  // X5: failed slots stay empty
  int invalid = 0;
  std::optional<MetricOutcome> first_invalid;
  int32_t replicas = 0;
  std::string metric;
  for (size_t i = 0; i < specs.size(); i++) {
    Time start = clock_.Now();
    MetricOutcome o = ComputeReplicasForMetric(pass, specs[i], pass.statuses[i]);
    MetricObservation obs;
    obs.metric_type = specs[i].type;
    obs.duration = Since(clock_, start);
    if (!o.ok) {
      obs.error = o.spec_error ? "spec" : "internal";
      pass.report.metrics.push_back(obs);
      if (!first_invalid) first_invalid = o;
      invalid++;
      continue;
    }
    obs.error = "none";
    obs.action = o.replicas > hpa.status.current_replicas   ? "scale_up"
                 : o.replicas < hpa.status.current_replicas ? "scale_down"
                                                            : "none";
    pass.report.metrics.push_back(obs);
    if (replicas == 0 || o.replicas > replicas) {  // X2
      replicas = o.replicas;
      metric = o.name;
    }
  }
  if (first_invalid) {
    pass.metrics_error = "invalid metrics (" + std::to_string(invalid) + " invalid out of " +
                         std::to_string(specs.size()) + "), first error is: " + first_invalid->error;  // X4
    pass.metrics_error_spec = first_invalid->spec_error;
  }
  // X3: all failed, or some failed and the rest would scale down.
  if (invalid >= static_cast<int>(specs.size()) || (invalid > 0 && replicas < pass.current_replicas)) {
    const auto& c = first_invalid->condition;
    SetCondition(pass, c.type, c.status, c.reason, c.message);
    return;
  }
  pass.metrics_failed = false;
  pass.metric_replicas = replicas;
  pass.metric_name = metric;
  SetCondition(pass, kScalingActive, "True", "ValidMetricFound",
               "the HPA was able to successfully calculate a replica count from " + metric);  // X6
}

// ---------------------------------------------------------------------------
// R1-R14

ReconcileResult HpaReconciler::Reconcile(const std::string& key, Time now) {
  Pass pass;
  pass.key = key;
  pass.now = now;
  pass.started = clock_.Now();
  pass.report.key = key;
  pass.report.time = now;

  // R1.
  auto shared = hpas_.Get(key);
  if (!shared) {
    DropHistory(key);
    pass.report.deleted = true;
    Finish(pass);
    return ReconcileResult{true, Status::Ok()};
  }
  pass.hpa = *shared;
  pass.original_status = shared->status;
  k8s::Hpa& hpa = pass.hpa;
  const auto& ref = hpa.spec.scale_target_ref;
  const std::string reference = ref.kind + "/" + hpa.metadata.ns + "/" + ref.name;

  auto fail = [&](Status s, bool spec_error) {
    pass.report.error = s.message();
    pass.report.error_label = spec_error ? "spec" : "internal";
    pass.report.action = "none";
    Finish(pass);
    return ReconcileResult{false, std::move(s)};
  };

  // R2 / T1-T5.
  auto failed_get_scale = [&](const Status& err) {
    events_.Event(EventRefFor(hpa), "Warning", "FailedGetScale", err.message());
    SetCondition(pass, kAbleToScale, "False", "FailedGetScale",
                 "the HPA controller was unable to get the target's current scale: " + err.message());
    Status st = UpdateStatusIfNeeded(pass);
    (void)st;  // logged by the caller through the returned error below
  };
  auto gv = ParseGroupVersion(ref.api_version);
  if (!gv.ok()) {
    failed_get_scale(gv.status());
    return fail(Status(StatusCode::kInvalid, "invalid API version in scale target reference: " + gv.status().message()),
                true);
  }
  auto scale = scales_.GetScale(hpa.metadata.ns, ref);
  if (!scale.ok()) {
    failed_get_scale(scale.status());
    return fail(Status(scale.status().code(),
                       "failed to query scale subresource for " + reference + ": " + scale.status().message()),
                false);
  }
  pass.scale = *scale;
  if (pass.scale->scale.name.empty()) pass.scale->scale.name = ref.name;
  SetCondition(pass, kAbleToScale, "True", "SucceededGetScale",
               "the HPA controller was able to get the target's current scale");  // R3

  // R4.
  const int32_t current = pass.scale->scale.spec_replicas;
  pass.current_replicas = current;
  pass.status_replicas = pass.scale->scale.status_replicas;
  pass.report.current_replicas = current;
  pass.history = &History(key);
  RecordInitialRecommendation(*pass.history, current, now);
  pass.tolerances = TolerancesFor(hpa);

  // R5.
  const int32_t min_replicas = hpa.spec.min_replicas.value_or(1);
  const k8s::HpaCondition* stz = FindCondition(hpa.status.conditions, kScaledToZero);
  const bool was_scaled_to_zero = stz && stz->status == "True";

  int32_t desired = 0;
  std::string reason;
  bool rescale = true;
  Status ret_err;
  bool ret_err_spec = false;

  // R6.
  bool compute = false;
  if (current == 0) {
    // Z1/Z2: a target at zero is paused unless the gate woke it up.
    compute = options_.scale_to_zero && was_scaled_to_zero && (min_replicas != 0 || HasObjectOrExternal(hpa.spec));
    if (!compute) {
      desired = 0;
      rescale = false;
      SetCondition(pass, kScalingActive, "False", "ScalingDisabled",
                   "scaling is disabled since the replica count of the target is zero");
      if (!options_.scale_to_zero) RemoveCondition(hpa.status.conditions, kScaledToZero);
    }
  } else if (current > hpa.spec.max_replicas) {
    reason = "Current number of replicas above Spec.MaxReplicas";
    desired = hpa.spec.max_replicas;
  } else if (current < min_replicas) {
    reason = "Current number of replicas below Spec.MinReplicas";
    desired = min_replicas;
  } else {
    compute = true;
  }

  if (compute) {
    ComputeReplicasForMetrics(pass);  // R7
    pass.report.metric_statuses = pass.statuses;
    if (pass.metrics_failed) {
      hpa.status.current_replicas = current;
      hpa.status.current_metrics = pass.statuses;
      Status st = UpdateStatusIfNeeded(pass);
      (void)st;
      events_.Event(EventRefFor(hpa), "Warning", "FailedComputeMetricsReplicas", pass.metrics_error);
      return fail(Status(StatusCode::kUnavailable, "failed to compute desired number of replicas based on listed "
                                                   "metrics for " +
                                                       reference + ": " + pass.metrics_error),
                  pass.metrics_error_spec);
    }
    if (!pass.metrics_error.empty()) {
      // X3 second case: proceed, but report the error (R14).
      ret_err = Status(StatusCode::kUnavailable, pass.metrics_error);
      ret_err_spec = pass.metrics_error_spec;
    }
    // R8.
    std::string rescale_metric;
    if (pass.metric_replicas > desired) {
      desired = pass.metric_replicas;
      rescale_metric = pass.metric_name;
    }
    if (desired > current) reason = rescale_metric + " above target";
    if (desired < current) reason = "All metrics below target";
    // R9.
    NormalizationResult norm;
    if (!hpa.spec.behavior) {
      norm = NormalizeLegacy(*pass.history, current, desired, min_replicas, hpa.spec.max_replicas,
                             options_.downscale_stabilization, now);
    } else {
      k8s::HpaBehavior behavior = DefaultBehavior(*hpa.spec.behavior, options_.downscale_stabilization);
      norm = NormalizeWithBehaviors(*pass.history, current, desired, min_replicas, hpa.spec.max_replicas, behavior, now);
    }
    SetCondition(pass, norm.able_to_scale.type, norm.able_to_scale.status, norm.able_to_scale.reason,
                 norm.able_to_scale.message);
    SetCondition(pass, norm.scaling_limited.type, norm.scaling_limited.status, norm.scaling_limited.reason,
                 norm.scaling_limited.message);
    desired = norm.desired;
    // R10 / Z4: waking from zero goes at least to minReplicas.
    if (current == 0 && min_replicas != 0 && was_scaled_to_zero && desired < min_replicas) {
      desired = min_replicas;
      if (reason.empty()) reason = "Current number of replicas below Spec.MinReplicas";
    }
    rescale = desired != current;
  }

  pass.report.reason = reason;
  if (rescale) {
    // R11 / W1.
    Status up = scales_.UpdateScale(hpa.metadata.ns, *pass.scale, desired);
    if (!up.ok()) {
      // W2.
      events_.Event(EventRefFor(hpa), "Warning", "FailedRescale",
                    "New size: " + std::to_string(desired) + "; reason: " + reason + "; error: " + up.message());
      SetCondition(pass, kAbleToScale, "False", "FailedUpdateScale",
                   "the HPA controller was unable to update the target scale: " + up.message());
      hpa.status.current_replicas = current;
      hpa.status.current_metrics = pass.statuses;
      Status st = UpdateStatusIfNeeded(pass);
      (void)st;
      pass.report.desired_replicas = hpa.status.desired_replicas;
      return fail(Status(up.code(), "failed to rescale " + reference + ": " + up.message()), false);
    }
    SetCondition(pass, kAbleToScale, "True", "SucceededRescale",
                 "the HPA controller was able to update the target scale to " + std::to_string(desired));
    events_.Event(EventRefFor(hpa), "Normal", "SuccessfulRescale",
                  "New size: " + std::to_string(desired) + "; reason: " + reason);
    if (hpa.spec.behavior) {
      // B10 (also for R6 b/c rescales).
      StoreScaleEvent(*pass.history, DefaultBehavior(*hpa.spec.behavior, options_.downscale_stabilization), current,
                      desired, now);
    }
    // Z5.
    if (options_.scale_to_zero) {
      if (current > 0 && desired == 0 && min_replicas == 0 && HasObjectOrExternal(hpa.spec)) {
        SetCondition(pass, kScaledToZero, "True", "ScaledToZero", "the HPA controller scaled the workload to zero");
      } else {
        SetCondition(pass, kScaledToZero, "False", "NotScaledToZero",
                     "the HPA controller did not scale the workload to zero");
      }
    } else {
      RemoveCondition(hpa.status.conditions, kScaledToZero);
    }
    pass.report.action = desired > current ? "scale_up" : "scale_down";
  } else {
    desired = current;  // R12
  }

  // R13 / W3.
  std::optional<int64_t> observed;
  if (options_.generation) observed = hpa.metadata.generation;
  hpa.status = BuildStatus(hpa.status, current, desired, pass.statuses, rescale, observed, now);
  pass.report.desired_replicas = desired;
  pass.report.reached_status = true;
  Status st = UpdateStatusIfNeeded(pass);
  if (!st.ok()) return fail(st, false);
  if (!ret_err.ok()) {
    pass.report.error = ret_err.message();
    pass.report.error_label = ret_err_spec ? "spec" : "internal";
    pass.report.action = "none";  // upstream labels any errored reconcile as action none
    Finish(pass);
    return ReconcileResult{false, ret_err};
  }
  Finish(pass);
  return ReconcileResult{false, Status::Ok()};
}

}  // namespace hpad::ctrl
