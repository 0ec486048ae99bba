// Pure per-metric math; rule numbers refer to hpa-semantics.md.
//
// Two implementations of the per-pod calculations (C2-C10) that must agree
// byte for byte:
// - the general one, upstream's shape: name sets for the pod groups (P1-P5),
//   a map of requests (RQ1-RQ4) and a copy of the metric values that is
//   edited (P6, C5, C10);
// - a single merge pass used when the pod names are strictly increasing,
//   which is what the pod lister returns (one namespace, keys sorted). Then
//   every pod is one distinct name, the (sorted) metrics map can be walked
//   alongside, and the sums the general form gets from its edited copy can
//   be accumulated directly - no set, map or copy, no allocation. This is
//   the hot path of every reconcile (issue 7: > 1M decisions/s/core).
// The merge pass checks the order as it goes and hands over to the general
// form at the first name that is not greater than the one before (any other
// order, or duplicate names). The "fast path agrees with the general path"
// tests in tests/controller/core/replica_calculator_test.cc compare them on
// random inputs.
#include "controller/core/replica_calculator.h"

#include "controller/core/decision_trace.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <optional>
#include <string_view>

namespace hpad::ctrl {
namespace {

constexpr int64_t kMaxInt64 = std::numeric_limits<int64_t>::max();
constexpr int32_t kMaxInt32 = std::numeric_limits<int32_t>::max();

constexpr const char* kNoPodsMsg = "no pods returned by selector while calculating replica count";        // P8
constexpr const char* kNoMetricsMsg = "did not receive metrics for targeted pods (pods might be unready)";  // P7
constexpr const char* kNoMatchMsg = "no metrics returned matched known pods";                             // C3

Status Err(std::string msg) { return Status(StatusCode::kInvalid, std::move(msg)); }

enum class PodClass { kReady, kUnready, kMissing, kIgnored };
// The trace's one-byte copy of the class (decision_trace.h) shares the order.
static_assert(static_cast<int>(PodClass::kIgnored) == static_cast<int>(TracePodClass::kIgnored) &&
              static_cast<int>(PodClass::kMissing) == static_cast<int>(TracePodClass::kMissing) &&
              static_cast<int>(PodClass::kUnready) == static_cast<int>(TracePodClass::kUnready));

// `s == "literal"` without strlen + memcmp calls (the length decides most
// comparisons; equal lengths compare a constant number of bytes inline).
inline bool Is(const std::string& s, std::string_view literal) { return std::string_view(s) == literal; }

inline uint64_t Load64(const char* p) {
  uint64_t v;
  std::memcpy(&v, p, sizeof v);
  return v;
}
inline uint32_t Load32(const char* p) {
  uint32_t v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

// P1-P5 for one pod; `metric` is its sample or nullptr.
// `rule` (may be null) receives the id of the rule that decided (issue 12's
// pod table); the calculator passes null.
PodClass ClassifyPod(const k8s::Pod& pod, const PodMetric* metric, bool cpu, const ReadinessTuning& tuning, Time now,
                     const char** rule = nullptr) {
  const char* unused = nullptr;
  const char*& why = rule != nullptr ? *rule : unused;
  // P1: deleted, failed and succeeded pods are dropped with their values.
  if (pod.deletion_timestamp || Is(pod.phase, "Failed") || Is(pod.phase, "Succeeded")) {
    why = "P1";
    return PodClass::kIgnored;
  }
  // P2: pending pods never count.
  if (Is(pod.phase, "Pending")) {
    why = "P2";
    return PodClass::kUnready;
  }
  // P3.
  if (!metric) {
    why = "P3";
    return PodClass::kMissing;
  }
  // P4: cpu only - a fresh pod's cpu is dominated by startup work.
  if (cpu) {
    bool unready;
    if (!pod.ready_status || !pod.start_time) {
      unready = true;  // P4a
      why = "P4a";
    } else {
      Time ready_ltt = pod.ready_last_transition.value_or(Time{});
      bool ready_false = Is(*pod.ready_status, "False");
      if (*pod.start_time + tuning.cpu_initialization_period > now) {
        // P4b: still initialising; the sample must cover a full window after the last readiness change.
        unready = ready_false || metric->timestamp < ready_ltt + metric->window;
        why = "P4b";
      } else {
        // P4c: only pods that never became ready are unready.
        unready = ready_false && *pod.start_time + tuning.initial_readiness_delay > ready_ltt;
        why = "P4c";
      }
    }
    if (unready) return PodClass::kUnready;
  }
  why = "P5";
  return PodClass::kReady;  // P5
}

// Saturating milli arithmetic: requests come from foreign objects.
int64_t SatAdd(int64_t a, int64_t b) {
  int64_t r;
  if (__builtin_add_overflow(a, b, &r)) return b > 0 ? kMaxInt64 : std::numeric_limits<int64_t>::min();
  return r;
}

// RQ2: pod-level requests are "set" when spec.resources.requests holds a
// resource supported at pod level (cpu or memory), as upstream's
// IsPodLevelRequestsSet.
bool IsSupportedPodLevelResource(const std::string& resource) { return Is(resource, "cpu") || Is(resource, "memory"); }

bool PodLevelRequestsSet(const k8s::Pod& pod) {
  for (const auto& [name, milli] : pod.requests().pod_level_requests_milli) {
    if (IsSupportedPodLevelResource(name)) return true;
  }
  return false;
}

// RQ2: Kubernetes' PodRequests(pod) with default options, for one resource.
// (a) the aggregate container requests: regular containers and sidecars
// summed, raised to the peak of any regular init container (its request
// plus the sidecars declared before it, KEP-753); a container without a
// request contributes nothing; (b) a supported pod-level request replaces
// (a); (c) spec.overhead is added. Returns nullopt when the resource is
// absent from all of them.
std::optional<int64_t> PodLevelRequest(const k8s::Pod& pod, const std::string& resource) {
  const k8s::PodRequests& requests = pod.requests();
  std::optional<int64_t> total;
  const auto add_to = [](std::optional<int64_t>& acc, int64_t v) { acc = SatAdd(acc.value_or(0), v); };
  for (const auto& c : requests.containers) {
    auto it = c.requests_milli.find(resource);
    if (it != c.requests_milli.end()) add_to(total, it->second);
  }
  std::optional<int64_t> sidecars_so_far;  // restartable init containers declared so far
  std::optional<int64_t> init_peak;
  for (const auto& c : requests.init_containers) {
    auto it = c.requests_milli.find(resource);
    std::optional<int64_t> this_step;
    if (c.restart_policy_always) {
      if (it != c.requests_milli.end()) {
        add_to(total, it->second);
        add_to(sidecars_so_far, it->second);
      }
      this_step = sidecars_so_far;
    } else {
      if (it != c.requests_milli.end()) add_to(this_step, it->second);
      if (sidecars_so_far) add_to(this_step, *sidecars_so_far);
    }
    if (this_step && (!init_peak || *this_step > *init_peak)) init_peak = this_step;
  }
  if (init_peak && (!total || *init_peak > *total)) total = init_peak;
  if (IsSupportedPodLevelResource(resource)) {
    auto it = requests.pod_level_requests_milli.find(resource);
    if (it != requests.pod_level_requests_milli.end()) total = it->second;
  }
  auto oh = requests.overhead_milli.find(resource);
  if (oh != requests.overhead_milli.end()) add_to(total, oh->second);
  return total;
}

// `s == t` for the short keys compared per pod (pod names, resource names):
// the length decides most mismatches, and equal lengths are compared 8 bytes
// at a time inline instead of through a memcmp call (issue 7: memcmp calls
// for 3- to 30-byte names were ~19% of decision_bench).
inline bool SameBytes(std::string_view a, std::string_view b) {
  const size_t n = a.size();
  if (n != b.size()) return false;
  const char* p = a.data();
  const char* q = b.data();
  if (n >= 8) {
    for (size_t i = 0; i + 8 <= n; i += 8) {
      if (Load64(p + i) != Load64(q + i)) return false;
    }
    return Load64(p + n - 8) == Load64(q + n - 8);  // the tail, overlapping the last full block
  }
  if (n >= 4) return Load32(p) == Load32(q) && Load32(p + n - 4) == Load32(q + n - 4);
  for (size_t i = 0; i < n; i++) {
    if (p[i] != q[i]) return false;
  }
  return true;
}

// std::map::find for a resource-name map (requests, overhead): these hold a
// handful of entries (cpu, memory, ephemeral-storage, ...), so a walk
// comparing lengths first beats the tree's ordered compares. Larger maps
// use find. nullptr when absent.
const int64_t* FindMilli(const std::map<std::string, int64_t>& m, const std::string& resource) {
  if (m.size() > 4) {
    auto it = m.find(resource);
    return it == m.end() ? nullptr : &it->second;
  }
  for (const auto& [name, milli] : m) {
    if (SameBytes(name, resource)) return &milli;
  }
  return nullptr;
}

// RQ1-RQ3 for one pod: its summed request (milli) into *out.
Status PodRequest(const k8s::Pod& pod, const std::string& container, const std::string& resource,
                  bool pod_level_resources, int64_t* out) {
  // RQ2: with the gate on, pod-level requests set and the whole-pod form,
  // the request is PodRequests(pod); only an absent resource is an error.
  if (pod_level_resources && container.empty() && PodLevelRequestsSet(pod)) {
    std::optional<int64_t> request = PodLevelRequest(pod, resource);
    if (!request) return Err("missing pod-level request for " + resource + " in Pod " + pod.name);
    *out = *request;
    return Status::Ok();
  }
  const k8s::PodRequests& requests = pod.requests();
  int64_t sum = 0;
  bool found_container = false;
  const std::string* without_request = nullptr;  // RQ1: the first counted container lacking the resource
  // false when `c` counts and has no request for the resource.
  auto add = [&](const k8s::PodContainer& c) -> bool {
    if (!container.empty() && c.name != container) return true;
    found_container = true;
    const int64_t* milli = FindMilli(c.requests_milli, resource);
    if (milli == nullptr) {
      without_request = &c.name;
      return false;
    }
    sum = SatAdd(sum, *milli);
    return true;
  };
  bool complete = true;
  for (const auto& c : requests.containers) {
    if (!(complete = add(c))) break;
  }
  // RQ1: sidecars (init containers with restartPolicy Always) count too.
  if (complete) {
    for (const auto& c : requests.init_containers) {
      if (!c.restart_policy_always) continue;
      if (!(complete = add(c))) break;
    }
  }
  if (!complete) {
    return Err("missing request for " + resource + " in container " + *without_request + " of Pod " + pod.name);
  }
  if (!container.empty() && !found_container) {
    return Err("container " + container + " not found in Pod " + pod.name);  // RQ3
  }
  *out = sum;
  return Status::Ok();
}

// ---- the general form ----

void RemoveMetricsForPods(PodMetricsInfo& metrics, const std::set<std::string>& pods) {
  for (const auto& name : pods) metrics.erase(name);
}

// C5d/C5e (and their C10 twins): the proposal after unready and missing pods
// were filled in. `ratio` is the first usage ratio, `ratio2` the refilled
// one over `n_metrics` entries (superfluous ones included, 16.6).
int32_t ReplicasAfterRebalance(int32_t current_replicas, double ratio, double ratio2, size_t n_metrics,
                               const Tolerances& tolerances) {
  // C5d: inside the band, or the fill flipped the direction -> no change.
  if (tolerances.IsWithin(ratio2) || (ratio < 1.0 && ratio2 > 1.0) || (ratio > 1.0 && ratio2 < 1.0)) {
    return current_replicas;
  }
  // C5e: a proposal against the direction of the change keeps the count.
  const int32_t n2 = CeilToInt32(ratio2 * static_cast<double>(n_metrics));
  if ((ratio2 < 1.0 && n2 > current_replicas) || (ratio2 > 1.0 && n2 < current_replicas)) return current_replicas;
  return n2;
}

// Common pod-list preamble of C2/C8 (P6, P7, P8).
Status PrepareMetrics(const PodList& pods, PodMetricsInfo& metrics, const std::string& resource,
                      const ReadinessTuning& tuning, Time now, PodGroups& groups) {
  if (pods.empty()) return Err(kNoPodsMsg);  // P8
  groups = GroupPods(pods, metrics, resource, tuning, now);
  RemoveMetricsForPods(metrics, groups.ignored);  // P6
  RemoveMetricsForPods(metrics, groups.unready);
  if (metrics.empty()) return Err(kNoMetricsMsg);  // P7
  return Status::Ok();
}

Result<PodMetricProposal> ResourceUtilizationGeneral(int32_t current_replicas, int32_t target_utilization,
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
  out.replicas = ReplicasAfterRebalance(current_replicas, ratio, ratio2, metrics.size(), tolerances);
  return out;
}

Result<PodMetricProposal> PlainMetricGeneral(int32_t current_replicas, int64_t target_usage,
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
  out.replicas = ReplicasAfterRebalance(current_replicas, ratio, ratio2, metrics.size(), tolerances);
  return out;
}

// ---- the merge pass (pod names strictly increasing) ----

// What the general form derives from its groups and edited metrics copy,
// accumulated in one walk. "Kept" values are the metrics after P6 (ignored
// and unready pods' values removed; superfluous values stay).
struct PodScan {
  int ready_count = 0;
  int unready_count = 0;
  int missing_count = 0;
  size_t kept_count = 0;          // len(metrics) after P6
  int64_t kept_sum = 0;           // sum of kept values (C9), superfluous included
  int64_t ready_sum = 0;          // sum of the ready pods' values (C3: kept values that have a request)
  // Requests (utilization only; RQ4 covers every pod, the first error wins).
  Status request_error;
  int64_t ready_requests = 0;
  int64_t unready_requests = 0;
  int64_t missing_requests = 0;
  int64_t missing_fill = 0;       // sum of request * fallback / 100 over missing pods (C5a)
};

// Walks pods against the sorted metrics map, checking on the way that the
// names are strictly increasing (false as soon as they are not: the caller
// then takes the general form and *out is to be discarded).
// `requests` false skips RQ1-RQ4 (plain metrics). `fallback_percent` is C5a's max(100, U).
//
// The order check costs nothing while pods have samples: `mit` always rests
// on the first key greater than the previous pod's name, so a pod whose name
// equals that key, or lies past a key skipped over, is greater than the
// previous pod. Only a pod after which no key was passed is compared with
// its predecessor. A name equal to `mit`'s key is tested first (lengths,
// then bytes inline); the ordered compare runs only when it differs.
bool ScanPods(const PodList& pods, const PodMetricsInfo& metrics, const std::string& resource, bool requests,
              const std::string& container, bool pod_level_resources, int64_t fallback_percent,
              const ReadinessTuning& tuning, Time now, PodScan* out) {
  PodScan& s = *out;
  const bool cpu = Is(resource, "cpu");
  size_t removed = 0;
  int64_t removed_sum = 0;
  int64_t all_sum = 0;  // every value, in key order (C9's sum before P6)
  // RQ1-RQ3 depend on the pod's spec only (its name appears in errors
  // alone): pods sharing one interned PodRequests (a Deployment's pods)
  // share the last successful request.
  const k8s::PodRequests* last_spec = nullptr;
  bool have_last = false;
  int64_t last_request = 0;
  auto mit = metrics.begin();
  const auto mend = metrics.end();
  const std::string* prev = nullptr;
  for (const auto& pod : pods) {
    const std::string& name = pod->name;
    const PodMetric* metric = nullptr;
    bool after_prev = prev == nullptr;  // name > *prev established
    while (mit != mend) {
      if (SameBytes(mit->first, name)) {
        metric = &mit->second;
        all_sum += metric->value;
        ++mit;
        after_prev = true;
        break;
      }
      if (mit->first.compare(name) > 0) break;
      all_sum += mit->second.value;  // superfluous: no pod has this name
      ++mit;
      after_prev = true;
    }
    if (!after_prev && !(*prev < name)) return false;
    prev = &name;
    const PodClass cls = ClassifyPod(*pod, metric, cpu, tuning, now);
    int64_t request = 0;
    if (requests && s.request_error.ok()) {
      const k8s::PodRequests* spec = pod->shared_requests.get();
      if (have_last && spec == last_spec) {
        request = last_request;
      } else {
        Status rs = PodRequest(*pod, container, resource, pod_level_resources, &request);
        if (!rs.ok()) {
          s.request_error = std::move(rs);
        } else {
          last_spec = spec;
          last_request = request;
          have_last = true;
        }
      }
    }
    switch (cls) {
      case PodClass::kIgnored:
      case PodClass::kUnready:
        if (metric) {  // P6: its value is dropped
          removed++;
          removed_sum += metric->value;
        }
        if (cls == PodClass::kUnready) {
          s.unready_count++;
          s.unready_requests += request;
        }
        break;
      case PodClass::kMissing:
        s.missing_count++;
        s.missing_requests += request;
        s.missing_fill += request * fallback_percent / 100;
        break;
      case PodClass::kReady:
        s.ready_count++;
        s.ready_sum += metric->value;
        s.ready_requests += request;
        break;
    }
  }
  for (; mit != mend; ++mit) all_sum += mit->second.value;  // superfluous keys after the last pod
  s.kept_count = metrics.size() - removed;
  s.kept_sum = all_sum - removed_sum;
  return true;
}

// C3 from sums: GetResourceUtilizationRatio over n values summing to
// metrics_total with requests summing to requests_total.
Result<UtilizationRatio> UtilizationFromSums(int64_t metrics_total, int64_t requests_total, int64_t n,
                                             int32_t target_utilization) {
  if (requests_total == 0) return Err(kNoMatchMsg);
  UtilizationRatio r;
  r.utilization = static_cast<int32_t>((metrics_total * 100) / requests_total);  // 16.2: truncation
  r.ratio = static_cast<double>(r.utilization) / static_cast<double>(target_utilization);
  r.raw_average_value = metrics_total / n;
  return r;
}

// C2-C7 from the merge pass's sums.
Result<PodMetricProposal> ResourceUtilizationFromScan(const PodScan& s, int32_t current_replicas,
                                                      int32_t target_utilization, const Tolerances& tolerances) {
  if (s.kept_count == 0) return Err(kNoMetricsMsg);    // P7
  if (!s.request_error.ok()) return s.request_error;  // RQ1-RQ4
  auto first = UtilizationFromSums(s.ready_sum, s.ready_requests, s.ready_count, target_utilization);  // C3
  if (!first.ok()) return first.status();
  const double ratio = first->ratio;
  PodMetricProposal out;
  out.utilization = first->utilization;  // C7
  out.usage = first->raw_average_value;

  const bool scale_up_with_unready = s.unready_count > 0 && ratio > 1.0;
  if (!scale_up_with_unready && s.missing_count == 0) {  // C4
    out.replicas = tolerances.IsWithin(ratio) ? current_replicas : CeilToInt32(ratio * s.ready_count);
    return out;
  }
  // C5a-C5c as in the general form, on sums.
  int64_t total = s.ready_sum, requests_total = s.ready_requests, n = s.ready_count;
  size_t len = s.kept_count;
  if (s.missing_count > 0 && (ratio < 1.0 || ratio > 1.0)) {  // nothing at exactly 1 (or NaN)
    if (ratio < 1.0) total += s.missing_fill;
    requests_total += s.missing_requests;
    n += s.missing_count;
    len += static_cast<size_t>(s.missing_count);
  }
  if (scale_up_with_unready) {
    requests_total += s.unready_requests;
    n += s.unready_count;
    len += static_cast<size_t>(s.unready_count);
  }
  auto second = UtilizationFromSums(total, requests_total, n, target_utilization);
  if (!second.ok()) return second.status();
  const double ratio2 = second->ratio;
  if (tolerances.IsWithin(ratio2) || (ratio < 1.0 && ratio2 > 1.0) || (ratio > 1.0 && ratio2 < 1.0)) {  // C5d
    out.replicas = current_replicas;
    return out;
  }
  int32_t n2 = CeilToInt32(ratio2 * static_cast<double>(len));  // C5e, 16.6
  if ((ratio2 < 1.0 && n2 > current_replicas) || (ratio2 > 1.0 && n2 < current_replicas)) {
    out.replicas = current_replicas;
  } else {
    out.replicas = n2;
  }
  return out;
}

// C8-C10 from the merge pass's sums.
Result<PodMetricProposal> PlainMetricFromScan(const PodScan& s, int32_t current_replicas, int64_t target_usage,
                                              const Tolerances& tolerances) {
  if (s.kept_count == 0) return Err(kNoMetricsMsg);  // P7
  auto usage_ratio = [&](int64_t total, size_t len) {  // C9 over `len` values summing to `total`
    UsageRatio r;
    r.usage = total / static_cast<int64_t>(len);
    r.ratio = static_cast<double>(r.usage) / static_cast<double>(target_usage);
    return r;
  };
  const UsageRatio first = usage_ratio(s.kept_sum, s.kept_count);
  const double ratio = first.ratio;
  PodMetricProposal out;
  out.usage = first.usage;

  const bool scale_up_with_unready = s.unready_count > 0 && ratio > 1.0;
  if (!scale_up_with_unready && s.missing_count == 0) {
    out.replicas = tolerances.IsWithin(ratio) ? current_replicas : CeilToInt32(ratio * s.ready_count);
    return out;
  }
  // C10 on sums.
  int64_t total = s.kept_sum;
  size_t len = s.kept_count;
  if (s.missing_count > 0 && (ratio < 1.0 || ratio > 1.0)) {
    if (ratio < 1.0) total += target_usage * s.missing_count;
    len += static_cast<size_t>(s.missing_count);
  }
  if (scale_up_with_unready) len += static_cast<size_t>(s.unready_count);
  const double ratio2 = usage_ratio(total, len).ratio;
  if (tolerances.IsWithin(ratio2) || (ratio < 1.0 && ratio2 > 1.0) || (ratio > 1.0 && ratio2 < 1.0)) {
    out.replicas = current_replicas;
    return out;
  }
  int32_t n2 = CeilToInt32(ratio2 * static_cast<double>(len));
  if ((ratio2 < 1.0 && n2 > current_replicas) || (ratio2 > 1.0 && n2 < current_replicas)) {
    out.replicas = current_replicas;
  } else {
    out.replicas = n2;
  }
  return out;
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
  const bool cpu = Is(resource, "cpu");
  for (const auto& pod : pods) {
    auto it = metrics.find(pod->name);
    const PodMetric* metric = it == metrics.end() ? nullptr : &it->second;
    switch (ClassifyPod(*pod, metric, cpu, tuning, now)) {
      case PodClass::kIgnored: g.ignored.insert(pod->name); break;
      case PodClass::kUnready: g.unready.insert(pod->name); break;
      case PodClass::kMissing: g.missing.insert(pod->name); break;
      case PodClass::kReady: g.ready_count++; break;
    }
  }
  return g;
}

Result<std::map<std::string, int64_t>> CalculatePodRequests(const PodList& pods, const std::string& container,
                                                            const std::string& resource, bool pod_level_resources) {
  std::map<std::string, int64_t> requests;
  for (const auto& pod : pods) {
    int64_t r = 0;
    Status s = PodRequest(*pod, container, resource, pod_level_resources, &r);
    if (!s.ok()) return s;
    requests[pod->name] = r;
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
  return UtilizationFromSums(metrics_total, requests_total, n, target_utilization);
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
                                                          const Tolerances& tolerances, const PodMetricsInfo& metrics,
                                                          const PodList& pods, const ReadinessTuning& tuning, Time now,
                                                          bool pod_level_resources) {
  if (pods.empty()) return Err(kNoPodsMsg);  // P8
  const int64_t fallback = std::max<int64_t>(100, target_utilization);  // C5a
  PodScan s;
  if (ScanPods(pods, metrics, resource, true, container, pod_level_resources, fallback, tuning, now, &s)) {
    return ResourceUtilizationFromScan(s, current_replicas, target_utilization, tolerances);
  }
  return ResourceUtilizationGeneral(current_replicas, target_utilization, resource, container, tolerances, metrics,
                                    pods, tuning, now, pod_level_resources);
}

Result<PodMetricProposal> CalcPlainMetricReplicas(int32_t current_replicas, int64_t target_usage,
                                                  const std::string& resource, const Tolerances& tolerances,
                                                  const PodMetricsInfo& metrics, const PodList& pods,
                                                  const ReadinessTuning& tuning, Time now) {
  if (pods.empty()) return Err(kNoPodsMsg);  // P8
  PodScan s;
  if (ScanPods(pods, metrics, resource, false, "", false, 0, tuning, now, &s)) {
    return PlainMetricFromScan(s, current_replicas, target_usage, tolerances);
  }
  return PlainMetricGeneral(current_replicas, target_usage, resource, tolerances, metrics, pods, tuning, now);
}

PodTable TracePodTable(const PodList& pods, const PodMetricsInfo& metrics, const std::string& resource,
                       const std::string& container, bool with_requests, const ReadinessTuning& tuning, Time now,
                       bool pod_level_resources) {
  PodTable table;
  table.rows.reserve(pods.size());  // exact sizes: the table is kept per HPA
  size_t name_bytes = 0;
  for (const auto& pod : pods) name_bytes += pod->name.size();
  table.names.reserve(name_bytes);
  const bool cpu = Is(resource, "cpu");
  for (const auto& pod : pods) {
    auto it = metrics.find(pod->name);
    const PodMetric* metric = it == metrics.end() ? nullptr : &it->second;
    const char* rule = "";
    const PodClass cls = ClassifyPod(*pod, metric, cpu, tuning, now, &rule);  // the calculator's own classifier
    PodTraceRow row;
    row.phase = ParseTracePodPhase(pod->phase);
    row.ready = pod->ready_status ? ParseTraceReady(*pod->ready_status) : TraceReady::kAbsent;
    if (pod->start_time) {
      row.start_time = *pod->start_time;
      row.has_start_time = true;
    }
    if (metric != nullptr) {
      row.usage_milli = metric->value;
      row.has_usage = true;
    }
    if (with_requests) {
      int64_t request = 0;
      if (PodRequest(*pod, container, resource, pod_level_resources, &request).ok()) {
        row.request_milli = request;
        row.has_request = true;
      }
    }
    row.pod_class = static_cast<TracePodClass>(cls);  // same order (static_asserts in decision_trace.cc's users)
    row.rule = ParseTracePodRule(rule);
    table.Add(pod->name, row);
  }
  return table;
}

const char* PodClassName(int pod_class) {
  switch (static_cast<PodClass>(pod_class)) {
    case PodClass::kReady: return "ready";
    case PodClass::kUnready: return "unready";
    case PodClass::kMissing: return "missing";
    case PodClass::kIgnored: return "ignored";
  }
  return "unknown";
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
  // C12: the overflow check comes first (upstream compares as float64, so
  // any usage within float rounding of 2^63 reports int64 max), then the
  // zero-replica case.
  if (static_cast<double>(usage) >= static_cast<double>(kMaxInt64)) {
    out.usage = kMaxInt64;
  } else if (status_replicas == 0) {
    out.usage = 0;
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
      // M6: a positive overflow saturates and stops the sum (upstream
      // breaks out of the loop: later series, negative ones included, are
      // not added).
      if (v > 0 && sum > kMaxInt64 - v) return kMaxInt64;
      int64_t next;
      if (__builtin_add_overflow(sum, v, &next)) next = std::numeric_limits<int64_t>::min();
      sum = next;
    }
  }
  return sum;
}

}  // namespace hpad::ctrl
