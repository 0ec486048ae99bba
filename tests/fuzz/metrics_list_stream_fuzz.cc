// Differential fuzzing of the streaming metrics decoders (issue 16): every
// input goes through the five streaming decoders (PodMetricsList, the same
// into a PodMetricsTable read back with ToPodMetrics(), MetricValueList, a
// lone MetricValue, ExternalMetricValueList) and through
// the DOM reference (ParseForeignJson + *FromJson), and the two must agree:
// both fail with the same code and text (text-level failures flagged as
// such), or both decode to the same values. Error texts must be safe.
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "k8sclient/api/json_parse.h"
#include "k8sclient/api/types/metrics.h"
#include "k8sclient/api/types/pod_metrics_table.h"
#include "tests/fuzz/fuzz_support.h"

namespace {

using namespace hpad;
using nlohmann::json;

std::string Key(const k8s::PodMetrics& m) {
  std::string s = m.name + "|" + m.ns + "|" + std::to_string(m.timestamp.time_since_epoch().count()) + "|" +
                  std::to_string(m.window.count()) + "|";
  for (const auto& [k, v] : m.labels) s += k + "=" + v + ",";
  for (const auto& c : m.containers) {
    s += "[" + c.name;
    for (const auto& [k, v] : c.usage_milli) s += " " + k + ":" + std::to_string(v);
    s += "]";
  }
  return s;
}
std::string Key(const k8s::CustomMetricValue& m) {
  const auto& d = m.described_object;
  return d.api_version + "|" + d.kind + "|" + d.ns + "|" + d.name + "|" + m.metric_name + "|" +
         std::to_string(m.timestamp.time_since_epoch().count()) + "|" +
         (m.window_seconds ? std::to_string(*m.window_seconds) : "-") + "|" + std::to_string(m.value_milli);
}
std::string Key(const k8s::ExternalMetricValue& m) {
  std::string s = m.metric_name + "|" + std::to_string(m.timestamp.time_since_epoch().count()) + "|" +
                  (m.window_seconds ? std::to_string(*m.window_seconds) : "-") + "|" +
                  std::to_string(m.value_milli) + "|";
  for (const auto& [k, v] : m.metric_labels) s += k + "=" + v + ",";
  return s;
}
template <typename T>
std::string Keys(const std::vector<T>& items) {
  std::string s;
  for (const auto& i : items) s += Key(i) + "\n";
  return s;
}

// `parsed` is the DOM reference's parse of the same text.
template <typename Stream, typename Dom>
void Compare(const char* what, std::string_view text, const Result<json>& parsed, Stream stream, Dom dom) {
  bool text_error = false;
  auto s = stream(text, "fuzz input", &text_error);
  fuzz::CheckErrorText(s.ok() ? Status::Ok() : s.status());
  if (!parsed.ok()) {
    if (s.ok() || !text_error || s.status().message() != parsed.status().message() ||
        s.status().code() != parsed.status().code())
      fuzz::FuzzFail(what, "text error differs from ParseForeignJson's: " +
                               (s.ok() ? std::string("decoded") : s.status().message()));
    return;
  }
  auto d = dom(*parsed);
  if (text_error) fuzz::FuzzFail(what, "text error on text the DOM parses: " + s.status().message());
  if (d.ok() != s.ok()) fuzz::FuzzFail(what, d.ok() ? s.status().message() : "stream decoded, DOM: " + d.status().message());
  if (!d.ok()) {
    if (d.status().message() != s.status().message() || d.status().code() != s.status().code())
      fuzz::FuzzFail(what, "DOM: " + d.status().message() + "\nstream: " + s.status().message());
    return;
  }
  if (Keys(*d) != Keys(*s)) fuzz::FuzzFail(what, "DOM:\n" + Keys(*d) + "stream:\n" + Keys(*s));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  fuzz::SilenceLogs();
  const std::string_view text = fuzz::AsText(data, size);
  const auto parsed = k8s::ParseForeignJson(text, "fuzz input");
  Compare(
      "PodMetricsList", text, parsed,
      [](std::string_view t, std::string_view w, bool* e) { return k8s::PodMetricsListFromText(t, w, e); },
      [](const json& j) { return k8s::PodMetricsListFromJson(j); });
  Compare(
      "PodMetricsTable", text, parsed,
      [](std::string_view t, std::string_view w, bool* e) -> Result<std::vector<k8s::PodMetrics>> {
        auto table = k8s::PodMetricsTableFromText(t, w, e);
        if (!table.ok()) return table.status();
        return table->ToPodMetrics();
      },
      [](const json& j) { return k8s::PodMetricsListFromJson(j); });
  Compare(
      "MetricValueList", text, parsed,
      [](std::string_view t, std::string_view w, bool* e) { return k8s::MetricValueListFromText(t, w, e); },
      [](const json& j) { return k8s::MetricValueListFromJson(j); });
  Compare(
      "lone MetricValue", text, parsed,
      [](std::string_view t, std::string_view w, bool* e) { return k8s::MetricValueAsListFromText(t, w, e); },
      [](const json& j) {
        return k8s::MetricValueListFromJson(json{{"kind", "MetricValueList"}, {"items", json::array({j})}});
      });
  Compare(
      "ExternalMetricValueList", text, parsed,
      [](std::string_view t, std::string_view w, bool* e) { return k8s::ExternalMetricValueListFromText(t, w, e); },
      [](const json& j) { return k8s::ExternalMetricValueListFromJson(j); });
  return 0;
}
