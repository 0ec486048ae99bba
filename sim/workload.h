// Workloads: the simulator playing ReplicaSet controller, kubelet and
// metrics-server for one scale target (scenario-format.md "Workloads",
// "The arithmetic, exactly").
//
// Two layers:
//  - WorkloadModel is the pure arithmetic: which pods exist, when each turns
//    Running and Ready, the load at an instant and the metric sample of
//    every pod. No I/O, no clock reads (every method takes `now`); tested by
//    tables in tests/sim/workload_test.cc.
//  - WorkloadSimulator writes what the models say into the ClusterState
//    (Pod objects, target status, PodMetrics, pods MetricValues). It borrows
//    the ClusterState; call it from one thread (the runner's event loop or
//    the serve loop).
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "k8sclient/base/clock.h"
#include "k8sclient/base/status.h"
#include "sim/apiserver/cluster_state.h"
#include "sim/scenario.h"

namespace hpad::sim {

// One simulated pod's life: created -> Running (not ready) -> Ready.
struct SimPod {
  std::string name;   // "<target>-<n>"
  int64_t ordinal = 0;
  Time created{};
  Time running_at{};  // created + startupDelay
  Time ready_at{};    // running_at + readinessDelay (the Ready condition's lastTransitionTime)

  bool RunningAt(Time t) const { return t >= running_at; }
  bool ReadyAt(Time t) const { return t >= ready_at; }
  // "Pending", "Running"
  const char* PhaseAt(Time t) const { return RunningAt(t) ? "Running" : "Pending"; }
};

// One pod's metric sample at an instant.
struct PodSample {
  std::string pod;
  int64_t cpu_milli = 0;     // rounded up to whole milli-cores
  int64_t memory_bytes = 0;  // rounded up to whole bytes
  // Pods metrics (load keys other than cpu/memory), milli-units, rounded
  // up; only for Ready pods (absent for the others).
  std::map<std::string, int64_t> custom_milli;
  bool ready = false;
};

class WorkloadModel {
 public:
  WorkloadModel(WorkloadSpec spec, Time start);

  const WorkloadSpec& spec() const { return spec_; }
  // Live pods, oldest first.
  const std::vector<SimPod>& pods() const { return pods_; }

  // Pods existing at t=0: created one hour before `start`, Running and Ready.
  std::vector<SimPod> CreateInitialPods(int64_t replicas);

  struct ScaleChange {
    std::vector<SimPod> created;
    std::vector<std::string> deleted;  // newest first
    bool Empty() const { return created.empty() && deleted.empty(); }
  };
  // Creates (names never reused) or deletes (newest first) pods so that
  // exactly `replicas` exist at `now`.
  ScaleChange ScaleTo(int64_t replicas, Time now);

  // Pods that turn Running or Ready exactly at `now`.
  std::vector<SimPod> TransitionsAt(Time now) const;
  // The earliest pod transition strictly after `now`.
  std::optional<Time> NextTransitionAfter(Time now) const;

  // Load totals (milli-units) holding at `now`: each key keeps the value of
  // the last entry that gave it (0 before any).
  std::map<std::string, int64_t> LoadAt(Time now) const;
  // Every load key that is a Pods metric (not cpu or memory).
  std::set<std::string> CustomMetricNames() const;
  int64_t ReadyCount(Time now) const;
  // A sample of every Running pod at `now` (Pending pods have none).
  std::vector<PodSample> Sample(Time now) const;

 private:
  WorkloadSpec spec_;
  Time start_;
  int64_t next_ordinal_ = 0;
  std::vector<SimPod> pods_;
};

// Drives the models against the cluster store.
class WorkloadSimulator {
 public:
  WorkloadSimulator(ClusterState& state, const std::vector<WorkloadSpec>& specs, Time start,
                    std::chrono::nanoseconds resolution);

  bool empty() const { return models_.empty(); }
  // t=0: pods for every target's spec.replicas (created an hour ago, Ready).
  Status Initialize(Time now);
  // Pod transitions due at `now` (Pending -> Running -> Ready).
  Status ApplyTransitions(Time now);
  // Matches every target's pod count to its spec.replicas; also mirrors
  // status.replicas = spec.replicas for apps/v1 scale targets that have no
  // workload (their pods are static; a ReplicaSet controller would report
  // the new size).
  Status Reconcile(Time now);
  // Writes the metrics sample if `now` is a sample instant (start + k*R).
  Status SampleIfDue(Time now);
  bool IsSampleInstant(Time now) const;
  // The next pod transition or sample instant strictly after `now`.
  std::optional<Time> NextEventAfter(Time now) const;
  const std::vector<std::unique_ptr<WorkloadModel>>& models() const { return models_; }

  // Pure helpers (exposed for tests): the JSON written for a pod / a sample.
  static Json PodJson(const WorkloadModel& model, const SimPod& pod, const Json& target, Time now);
  static Json PodMetricsJson(const WorkloadModel& model, const SimPod& pod, const PodSample& sample,
                             const Json& target, Time now, std::chrono::nanoseconds window);

 private:
  std::optional<ResourceInfo> TargetInfo(const WorkloadModel& model) const;
  // The target as the workload reads it (custom resources: ScaleView).
  Result<Json> GetTarget(const WorkloadModel& model) const;
  Status WritePod(const WorkloadModel& model, const SimPod& pod, Time now);
  Status UpdateTargetStatus(const WorkloadModel& model, Time now);

  ClusterState& state_;
  Time start_;
  std::chrono::nanoseconds resolution_;
  std::vector<std::unique_ptr<WorkloadModel>> models_;
  // spec.replicas last seen per static scale target ("Kind/ns/name"): the
  // status follows the spec only when the spec changes, so a status written
  // in the scenario (e.g. status.replicas below spec.replicas, C12) holds
  // until something rescales the target.
  std::map<std::string, int64_t> static_target_spec_;
};

// A custom resource as its scale subresource shows it: spec.replicas from
// the CRD's specReplicasPath, spec.selector.matchLabels from the equality
// terms of the selector string at labelSelectorPath.
Json ScaleView(const ResourceInfo& info, const Json& obj);

// Labels the target's pods carry: its selector's matchLabels (else the
// template's labels).
std::map<std::string, std::string> TargetPodLabels(const Json& target);

}  // namespace hpad::sim
