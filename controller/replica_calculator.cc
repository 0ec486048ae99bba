// Pure per-metric math; rule numbers refer to hpa-semantics.md.
#include "controller/replica_calculator.h"

#include <algorithm>
#include <cmath>

namespace hpad::ctrl {
namespace {

constexpr int64_t kMaxInt64 = std::numeric_limits<int64_t>::max();
constexpr int32_t kMaxInt32 = std::numeric_limits<int32_t>::max();

Status Err(std::string msg) { return Status(StatusCode::kInvalid, std::move(msg)); }

void RemoveMetricsForPods(PodMetricsInfo& metrics, const std::set<std::string>& pods) {
  for (const auto& name : pods) metrics.erase(name);
}

// Common pod-list preamble of C2/C8 (P6, P7, P8).
Status PrepareMetrics(const PodList& pods, PodMetricsInfo& metrics, const std::string& resource,
                      const ReadinessTuning& tuning, Time now, PodGroups& groups) {
  if (pods.empty()) return Err("no pods returned by selector while calculating replica count");  // P8
  groups = GroupPods(pods, metrics, resource, tuning, now);
  RemoveMetricsForPods(metrics, groups.ignored);  // P6
  RemoveMetricsForPods(metrics, groups.unready);
  if (metrics.empty()) return Err("did not receive metrics for targeted pods (pods might be unready)");  // P7
  return Status::Ok();
}

}  // namespace

int32_t CeilToInt32(double x) {
  double c = std::ceil(x);
  if (std::isnan(c)) return 0;
  if (c >= static_cast<double>(kMaxInt32)) return kMaxInt32;
  if (c <= static_cast<double>(std::numeric_limits<int32_t>::min())) return std::numeric_limits<int32_t>::min();
  return static_cast<int32_t>(c);
}

PodGroups GroupPods(const PodList& pods, const PodMetricsInfo& metrics, const std::string& resource,
                    const ReadinessTuning& tuning, Time now) {
  PodGroups g;
  for (const auto& pod : pods) {
    // P1: deleted, failed and succeeded pods are dropped with their values.
    if (pod->deletion_timestamp || pod->phase == "Failed" || pod->phase == "Succeeded") {
      g.ignored.insert(pod->name);
      continue;
    }
    // P2: pending pods never count.
    if (pod->phase == "Pending") {
      g.unready.insert(pod->name);
      continue;
    }
    // P3.
    auto it = metrics.find(pod->name);
    if (it == metrics.end()) {
      g.missing.insert(pod->name);
      continue;
    }
    // P4: cpu only - a fresh pod's cpu is dominated by startup work.
    if (resource == "cpu") {
      bool unready;
      if (!pod->ready_status || !pod->start_time) {
        unready = true;  // P4a
      } else {
        Time ready_ltt = pod->ready_last_transition.value_or(Time{});
        bool ready_false = *pod->ready_status == "False";
        if (*pod->start_time + tuning.cpu_initialization_period > now) {
          // P4b: still initialising; the sample must cover a full window after the last readiness change.
          unready = ready_false || it->second.timestamp < ready_ltt + it->second.window;
        } else {
          // P4c: only pods that never became ready are unready.
          unready = ready_false && *pod->start_time + tuning.initial_readiness_delay > ready_ltt;
        }
      }
      if (unready) {
        g.unready.insert(pod->name);
        continue;
      }
    }
    g.ready_count++;  // P5
  }
  return g;
}

Result<std::map<std::string, int64_t>> CalculatePodRequests(const PodList& pods, const std::string& container,
                                                            const std::string& resource, bool pod_level_resources) {
  std::map<std::string, int64_t> requests;
  for (const auto& pod : pods) {
    // RQ2: pod-level requests win for the whole-pod form when the gate is on and they are set.
    if (pod_level_resources && container.empty() && !pod->pod_level_requests_milli.empty()) {
      auto it = pod->pod_level_requests_milli.find(resource);
      if (it == pod->pod_level_requests_milli.end()) {
        return Err("missing pod-level request for " + resource + " in Pod " + pod->name);
      }
      requests[pod->name] = it->second;
      continue;
    }
    int64_t sum = 0;
    bool found_container = false;
    auto add = [&](const k8s::PodContainer& c) -> Status {
      if (!container.empty() && c.name != container) return Status::Ok();
      found_container = true;
      auto it = c.requests_milli.find(resource);
      if (it == c.requests_milli.end()) {
        return Err("missing request for " + resource + " in container " + c.name + " of Pod " + pod->name);
      }
      sum += it->second;
      return Status::Ok();
    };
    for (const auto& c : pod->containers) {
      Status s = add(c);
      if (!s.ok()) return s;
    }
    // RQ1: sidecars (init containers with restartPolicy Always) count too.
    for (const auto& c : pod->init_containers) {
      if (!c.restart_policy_always) continue;
      Status s = add(c);
      if (!s.ok()) return s;
    }
    if (!container.empty() && !found_container) {
      return Err("container " + container + " not found in Pod " + pod->name);  // RQ3
    }
    requests[pod->name] = sum;
  }
  return requests;
}

Result<UtilizationRatio> GetResourceUtilizationRatio(const PodMetricsInfo& metrics,
                                                     const std::map<std::string, int64_t>& requests,
                                                     int32_t target_utilization) {
  int64_t metrics_total = 0;
  int64_t requests_total = 0;
  int64_t n = 0;
  for (const auto& [name, m] : metrics) {
    auto it = requests.find(name);
    if (it == requests.end()) continue;  // 16.6: superfluous values have no request
    metrics_total += m.value;
    requests_total += it->second;
    n++;
  }
  if (requests_total == 0) return Err("no metrics returned matched known pods");
  UtilizationRatio r;
  r.utilization = static_cast<int32_t>((metrics_total * 100) / requests_total);  // 16.2: truncation
  r.ratio = static_cast<double>(r.utilization) / static_cast<double>(target_utilization);
  r.raw_average_value = metrics_total / n;
  return r;
}

UsageRatio GetMetricUsageRatio(const PodMetricsInfo& metrics, int64_t target_usage) {
  int64_t total = 0;
  for (const auto& [name, m] : metrics) total += m.value;
  UsageRatio r;
  r.usage = metrics.empty() ? 0 : total / static_cast<int64_t>(metrics.size());
  r.ratio = static_cast<double>(r.usage) / static_cast<double>(target_usage);
  return r;
}

Result<PodMetricProposal> CalcResourceUtilizationReplicas(int32_t current_replicas, int32_t target_utilization,
                                                          const std::string& resource, const std::string& container,
                                                          const Tolerances& tolerances, PodMetricsInfo metrics,
                                                          const PodList& pods, const ReadinessTuning& tuning, Time now,
                                                          bool pod_level_resources) {
  PodGroups groups;
  Status s = PrepareMetrics(pods, metrics, resource, tuning, now, groups);
  if (!s.ok()) return s;
  auto requests = CalculatePodRequests(pods, container, resource, pod_level_resources);  // RQ4: all pods
  if (!requests.ok()) return requests.status();
  auto first = GetResourceUtilizationRatio(metrics, *requests, target_utilization);  // C3
  if (!first.ok()) return first.status();
  const double ratio = first->ratio;
  PodMetricProposal out;
  out.utilization = first->utilization;  // C7: always the ready-only figures
  out.usage = first->raw_average_value;

  const bool scale_up_with_unready = !groups.unready.empty() && ratio > 1.0;
  if (!scale_up_with_unready && groups.missing.empty()) {  // C4
    out.replicas = tolerances.IsWithin(ratio) ? current_replicas : CeilToInt32(ratio * groups.ready_count);
    return out;
  }
  // C5a / C6: missing pods count as using max(100, U)% on a scale-down, 0 on a scale-up, nothing at exactly 1.
  if (!groups.missing.empty()) {
    if (ratio < 1.0) {
      const int64_t fallback = std::max<int64_t>(100, target_utilization);
      for (const auto& name : groups.missing) metrics[name] = PodMetric{(*requests)[name] * fallback / 100, {}, {}};
    } else if (ratio > 1.0) {
      for (const auto& name : groups.missing) metrics[name] = PodMetric{0, {}, {}};
    }
  }
  // C5b: unready pods count as idle on a scale-up.
  if (scale_up_with_unready) {
    for (const auto& name : groups.unready) metrics[name] = PodMetric{0, {}, {}};
  }
  auto second = GetResourceUtilizationRatio(metrics, *requests, target_utilization);  // C5c
  if (!second.ok()) return second.status();
  const double ratio2 = second->ratio;
  // C5d: inside the band, or the fill flipped the direction -> no change.
  if (tolerances.IsWithin(ratio2) || (ratio < 1.0 && ratio2 > 1.0) || (ratio > 1.0 && ratio2 < 1.0)) {
    out.replicas = current_replicas;
    return out;
  }
  // C5e: len(metrics) includes superfluous entries (16.6).
  int32_t n2 = CeilToInt32(ratio2 * static_cast<double>(metrics.size()));
  if ((ratio2 < 1.0 && n2 > current_replicas) || (ratio2 > 1.0 && n2 < current_replicas)) {
    out.replicas = current_replicas;
  } else {
    out.replicas = n2;
  }
  return out;
}

Result<PodMetricProposal> CalcPlainMetricReplicas(int32_t current_replicas, int64_t target_usage,
                                                  const std::string& resource, const Tolerances& tolerances,
                                                  PodMetricsInfo metrics, const PodList& pods,
                                                  const ReadinessTuning& tuning, Time now) {
  PodGroups groups;
  Status s = PrepareMetrics(pods, metrics, resource, tuning, now, groups);
  if (!s.ok()) return s;
  const UsageRatio first = GetMetricUsageRatio(metrics, target_usage);  // C9
  const double ratio = first.ratio;
  PodMetricProposal out;
  out.usage = first.usage;

  const bool scale_up_with_unready = !groups.unready.empty() && ratio > 1.0;
  if (!scale_up_with_unready && groups.missing.empty()) {
    out.replicas = tolerances.IsWithin(ratio) ? current_replicas : CeilToInt32(ratio * groups.ready_count);
    return out;
  }
  // C10: missing pods get the target on a scale-down, 0 on a scale-up.
  if (!groups.missing.empty()) {
    if (ratio < 1.0) {
      for (const auto& name : groups.missing) metrics[name] = PodMetric{target_usage, {}, {}};
    } else if (ratio > 1.0) {
      for (const auto& name : groups.missing) metrics[name] = PodMetric{0, {}, {}};
    }
  }
  if (scale_up_with_unready) {
    for (const auto& name : groups.unready) metrics[name] = PodMetric{0, {}, {}};
  }
  const double ratio2 = GetMetricUsageRatio(metrics, target_usage).ratio;
  if (tolerances.IsWithin(ratio2) || (ratio < 1.0 && ratio2 > 1.0) || (ratio > 1.0 && ratio2 < 1.0)) {
    out.replicas = current_replicas;
    return out;
  }
  int32_t n2 = CeilToInt32(ratio2 * static_cast<double>(metrics.size()));
  if ((ratio2 < 1.0 && n2 > current_replicas) || (ratio2 > 1.0 && n2 < current_replicas)) {
    out.replicas = current_replicas;
  } else {
    out.replicas = n2;
  }
  return out;
}

Result<int64_t> ReadyPodsCount(const PodList& pods) {
  if (pods.empty()) return Err("no pods returned by selector while calculating replica count");
  int64_t n = 0;
  for (const auto& pod : pods) {
    if (pod->phase == "Running" && pod->ready_status && *pod->ready_status == "True") n++;
  }
  return n;
}

Result<int32_t> UsageRatioReplicaCount(int32_t current_replicas, double usage_ratio, const Tolerances& tolerances,
                                       const PodList& pods) {
  if (current_replicas == 0) {
    return CeilToInt32(usage_ratio);  // C11: from zero, no tolerance, no pod count
  }
  if (tolerances.IsWithin(usage_ratio)) return current_replicas;
  auto ready = ReadyPodsCount(pods);
  if (!ready.ok()) return Err("unable to calculate ready pods: " + ready.status().message());
  const double proposed = usage_ratio * static_cast<double>(*ready);
  if (proposed > static_cast<double>(kMaxInt32)) return kMaxInt32;  // 16.7: compare before ceil
  return CeilToInt32(proposed);
}

PerPodProposal PerPodMetricReplicas(int32_t status_replicas, int64_t usage, int64_t target_average,
                                    const Tolerances& tolerances, bool cap_int32) {
  PerPodProposal out;
  out.replicas = status_replicas;
  // C12: SR == 0 gives +Inf (or NaN for v == 0): never within.
  const double ratio = static_cast<double>(usage) / (static_cast<double>(target_average) * status_replicas);
  if (!tolerances.IsWithin(ratio)) {
    const double proposed = std::ceil(static_cast<double>(usage) / static_cast<double>(target_average));
    if (cap_int32 && proposed > static_cast<double>(kMaxInt32)) {
      out.replicas = kMaxInt32;
    } else {
      out.replicas = CeilToInt32(proposed);
    }
  }
  if (status_replicas == 0) {
    out.usage = 0;
  } else if (usage == kMaxInt64) {
    out.usage = kMaxInt64;
  } else {
    const double avg = std::ceil(static_cast<double>(usage) / static_cast<double>(status_replicas));
    out.usage = avg >= 9.2233720368547758e18 ? kMaxInt64 : static_cast<int64_t>(avg);
  }
  return out;
}

int64_t SumExternalValues(const std::vector<int64_t>& values, bool average_value_target) {
  int64_t sum = 0;
  for (int64_t v : values) {
    if (average_value_target) {
      // M6: any negative running sum (overflow or negative series) saturates and stops.
      int64_t next;
      if (__builtin_add_overflow(sum, v, &next)) next = -1;
      sum = next;
      if (sum < 0) return kMaxInt64;
    } else {
      int64_t next;
      if (__builtin_add_overflow(sum, v, &next)) {
        next = v > 0 ? kMaxInt64 : std::numeric_limits<int64_t>::min();
      }
      sum = next;
    }
  }
  return sum;
}

}  // namespace hpad::ctrl
