// Values served by the three metrics APIs, parsed to milli-int64 (rule 1.7):
// metrics.k8s.io/v1beta1 PodMetricsList, custom.metrics.k8s.io/v1beta2
// MetricValueList and external.metrics.k8s.io/v1beta1 ExternalMetricValueList.
// Plain values.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "k8sclient/base/clock.h"
#include "k8sclient/base/status.h"

namespace hpad::k8s {

struct ContainerMetrics {
  std::string name;
  std::map<std::string, int64_t> usage_milli;  // "cpu" -> 180, "memory" -> bytes*1000
};

struct PodMetrics {
  std::string name;
  std::string ns;
  std::map<std::string, std::string> labels;
  Time timestamp{};
  std::chrono::milliseconds window{0};
  std::vector<ContainerMetrics> containers;
};

struct DescribedObject {
  std::string api_version;
  std::string kind;
  std::string ns;
  std::string name;
};

struct CustomMetricValue {
  DescribedObject described_object;
  std::string metric_name;
  Time timestamp{};
  std::optional<int64_t> window_seconds;
  int64_t value_milli = 0;
};

struct ExternalMetricValue {
  std::string metric_name;
  std::map<std::string, std::string> metric_labels;
  Time timestamp{};
  std::optional<int64_t> window_seconds;
  int64_t value_milli = 0;
};

Result<std::vector<PodMetrics>> PodMetricsListFromJson(const nlohmann::json& list);
Result<std::vector<CustomMetricValue>> MetricValueListFromJson(const nlohmann::json& list);
Result<std::vector<ExternalMetricValue>> ExternalMetricValueListFromJson(const nlohmann::json& list);

}  // namespace hpad::k8s
