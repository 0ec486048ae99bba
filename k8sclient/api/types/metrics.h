// Values served by the three metrics APIs, parsed to milli-int64 (rule 1.7):
// metrics.k8s.io/v1beta1 PodMetricsList, custom.metrics.k8s.io/v1beta2
// MetricValueList and external.metrics.k8s.io/v1beta1 ExternalMetricValueList.
// Plain values.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
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

// Streaming decoders (issue 16, metrics_stream.cc): the reply text straight
// into the structs, without building a DOM. For every input they give what
// ParseForeignJson(text, what) followed by the *FromJson decoder above gives
// (the DOM path stays the reference; tests and a fuzz harness compare
// them): the same values, the same error texts, including which error wins
// when there are several (syntax before fields; fields in the DOM decoder's
// order; the last of duplicate keys). Text-level errors (size over
// max_bytes, nesting over kMaxJsonDepth, syntax) set *text_error when given,
// so a caller can map them as RestApiClient maps an unparsable reply.
// An empty reply body is not JSON: callers decode it as "null", as GetPath
// returns null for it.
inline constexpr size_t kMetricsListMaxBytes = size_t{64} << 20;  // = kMaxJsonBytes (json_parse.h)
Result<std::vector<PodMetrics>> PodMetricsListFromText(std::string_view text, std::string_view what,
                                                       bool* text_error = nullptr,
                                                       size_t max_bytes = kMetricsListMaxBytes);
Result<std::vector<CustomMetricValue>> MetricValueListFromText(std::string_view text, std::string_view what,
                                                               bool* text_error = nullptr,
                                                               size_t max_bytes = kMetricsListMaxBytes);
// A lone MetricValue read as the one item of a MetricValueList (the object
// metric fallback): MetricValueListFromJson({"items": [<text>]}).
Result<std::vector<CustomMetricValue>> MetricValueAsListFromText(std::string_view text, std::string_view what,
                                                                 bool* text_error = nullptr,
                                                                 size_t max_bytes = kMetricsListMaxBytes);
Result<std::vector<ExternalMetricValue>> ExternalMetricValueListFromText(std::string_view text,
                                                                         std::string_view what,
                                                                         bool* text_error = nullptr,
                                                                         size_t max_bytes = kMetricsListMaxBytes);

}  // namespace hpad::k8s
