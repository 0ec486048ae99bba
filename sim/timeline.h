// Timeline and results of one scenario run, and their renderings (text
// timeline + PASS/FAIL, JSON). Plain values; the pure formatting functions
// are thread-safe.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace hpad::sim {

// One metric of one HPA at one tick: "cpu 94%/70%".
struct MetricCell {
  std::string name;     // "cpu", "requests_per_second", "queue_messages"
  std::string current;  // "94%", "300Mi", "<unknown>"
  std::string target;   // "70%", "200Mi"
  // For plotting: numeric current/target in the same unit (percent or
  // value), when known.
  std::optional<double> current_value;
  std::optional<double> target_value;
};

// One HPA at one sync tick.
struct TimelineRow {
  std::chrono::nanoseconds offset{0};
  std::string hpa;  // "namespace/name"
  std::vector<MetricCell> metrics;
  int64_t current_replicas = 0;
  int64_t desired_replicas = 0;
  int64_t spec_replicas = -1;  // the target's spec.replicas after the sync (-1 unknown)
  // Condition reasons in the order AbleToScale, ScalingActive, ScalingLimited
  // ("ValidMetricFound"); a False ScalingActive reads "!FailedGetExternalMetric".
  std::vector<std::string> reasons;
  // Events recorded for this HPA during this tick ("SuccessfulRescale: New size: 3; ...").
  std::vector<std::string> events;
};

// One expectation that did not hold.
struct Failure {
  std::chrono::nanoseconds step_at{0};
  std::string where;  // "expect[1]", "expectAbsent[0]", "expectWrites[0]", "apply[2]", "controller"
  std::string path;   // "status.desiredReplicas" or ""
  std::string wanted;
  std::string got;
  // "step at=30s expect[1] status.desiredReplicas: wanted 6, got 5"
  std::string ToString() const;
};

struct RunResult {
  std::string file;
  std::string name;
  bool passed = false;
  // A problem that stopped the run (server failed to start, ...).
  std::string error;
  // Step notes ("faults: externalMetrics=unavailable") by offset, printed
  // in the timeline before that instant's rows.
  std::vector<std::pair<std::chrono::nanoseconds, std::string>> notes;
  std::vector<TimelineRow> timeline;
  std::vector<Failure> failures;
  int64_t steps_checked = 0;
  int64_t expectations_checked = 0;
  double wall_seconds = 0;
};

// "45s", "5m0s" style offsets as the timeline prints them ("t=45s").
std::string FormatOffset(std::chrono::nanoseconds d);
std::string FormatRow(const TimelineRow& row);
// Timeline, then PASS/FAIL and every failure.
std::string FormatText(const RunResult& r, bool verbose);
nlohmann::json ToJson(const RunResult& r);

}  // namespace hpad::sim
