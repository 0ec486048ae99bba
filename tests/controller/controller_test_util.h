// Builders shared by the controller tests: pods, metric maps, fixed times.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "controller/core/replica_calculator.h"
#include "k8sclient/api/types/pod.h"

namespace hpad::ctrl::testing {

// 2026-01-01T00:00:00Z, the conformance scenarios' start.
inline Time T0() { return std::chrono::system_clock::from_time_t(1767225600); }
inline Time At(int64_t seconds) { return T0() + std::chrono::seconds(seconds); }

struct PodSpec {
  std::string name;
  std::string phase = "Running";
  std::optional<std::string> ready = "True";
  // Ready transition and start well in the past: initialisation is over (P4c).
  Time start = T0() - std::chrono::hours(1);
  Time ready_since = T0() - std::chrono::hours(1) + std::chrono::seconds(20);
  std::map<std::string, int64_t> requests{{"cpu", 1000}};
  std::map<std::string, std::string> labels{{"app", "web"}};
  bool deleting = false;
  bool no_start_time = false;
};

inline std::shared_ptr<const k8s::Pod> MakePod(const PodSpec& s) {
  auto p = std::make_shared<k8s::Pod>();
  p->name = s.name;
  p->ns = "default";
  p->SetLabels(s.labels);
  p->phase = s.phase;
  if (!s.no_start_time) p->start_time = s.start;
  p->ready_status = s.ready;
  if (s.ready) p->ready_last_transition = s.ready_since;
  if (s.deleting) p->deletion_timestamp = T0();
  k8s::PodContainer c;
  c.name = "app";
  c.requests_milli = s.requests;
  p->SetRequests({.containers = {c}});
  return p;
}

inline std::shared_ptr<const k8s::Pod> Pod(const std::string& name, const std::string& phase = "Running",
                                           std::optional<std::string> ready = "True", int64_t cpu_request = 1000) {
  PodSpec s;
  s.name = name;
  s.phase = phase;
  s.ready = ready;
  s.requests = {{"cpu", cpu_request}};
  return MakePod(s);
}

inline PodMetricsInfo Metrics(const std::map<std::string, int64_t>& values, Time ts = T0(),
                              std::chrono::milliseconds window = std::chrono::seconds(60)) {
  PodMetricsInfo m;
  for (const auto& [name, v] : values) m[name] = PodMetric{v, ts, window};
  return m;
}

}  // namespace hpad::ctrl::testing
