// The three metrics APIs' list bodies -> milli-int64 values (rule 1.7).
#include "k8sclient/api/types/metrics.h"

#include <nlohmann/json.hpp>

#include "k8sclient/api/quantity.h"
#include "k8sclient/api/types/json_fields.h"

namespace hpad::k8s {

using nlohmann::json;
using namespace fields;

namespace {

// Calls parse(item, path) for each entry of `items`; a missing or null
// `items` is an empty list (an empty answer is not an error here).
template <typename T, typename F>
Result<std::vector<T>> ParseItems(const json& list, const char* what, F parse) {
  if (!list.is_object()) return FieldError("", std::string("expected a ") + what + " object, got " + list.type_name());
  std::vector<T> out;
  const json* items = Child(list, "items");
  if (!items) return out;
  if (!items->is_array()) return FieldError("items", "expected a list, got " + std::string(items->type_name()));
  out.reserve(items->size());
  for (size_t i = 0; i < items->size(); ++i) {
    std::string p = Index("items", i);
    const json& item = (*items)[i];
    HPAD_RETURN_IF_ERROR(ExpectObject(item, p));
    T v;
    HPAD_RETURN_IF_ERROR(parse(item, p, &v));
    out.push_back(std::move(v));
  }
  return out;
}

Status GetTimestamp(const json& item, const std::string& path, Time* out) {
  std::optional<Time> t;
  HPAD_RETURN_IF_ERROR(GetOptTime(item, "timestamp", path, &t));
  if (t) *out = *t;
  return Status::Ok();
}

Status GetMilli(const json& item, const char* key, const std::string& path, int64_t* out) {
  std::optional<Quantity> q;
  HPAD_RETURN_IF_ERROR(GetOptQuantity(item, key, path, &q));
  if (!q) return FieldError(Join(path, key), "missing value");
  *out = q->MilliValue();
  return Status::Ok();
}

}  // namespace

Result<std::vector<PodMetrics>> PodMetricsListFromJson(const json& list) {
  return ParseItems<PodMetrics>(list, "PodMetricsList", [](const json& item, const std::string& p, PodMetrics* pm) {
    if (const json* m = Child(item, "metadata")) {
      std::string mp = Join(p, "metadata");
      HPAD_RETURN_IF_ERROR(ExpectObject(*m, mp));
      HPAD_RETURN_IF_ERROR(GetString(*m, "name", mp, &pm->name));
      HPAD_RETURN_IF_ERROR(GetString(*m, "namespace", mp, &pm->ns));
      HPAD_RETURN_IF_ERROR(GetStringMap(*m, "labels", mp, &pm->labels));
    }
    HPAD_RETURN_IF_ERROR(GetTimestamp(item, p, &pm->timestamp));
    if (const json* w = Child(item, "window")) {
      std::string wp = Join(p, "window");
      if (!w->is_string()) return FieldError(wp, "expected a duration string, got " + DescribeJson(*w));
      auto d = ParseGoDuration(w->get<std::string>());
      if (!d.ok()) return FieldError(wp, d.status().message());
      pm->window = std::chrono::duration_cast<std::chrono::milliseconds>(*d);
    }
    if (const json* cs = Child(item, "containers")) {
      std::string cp = Join(p, "containers");
      if (!cs->is_array()) return FieldError(cp, "expected a list, got " + std::string(cs->type_name()));
      for (size_t i = 0; i < cs->size(); ++i) {
        const json& c = (*cs)[i];
        std::string ip = Index(cp, i);
        HPAD_RETURN_IF_ERROR(ExpectObject(c, ip));
        ContainerMetrics cm;
        HPAD_RETURN_IF_ERROR(GetString(c, "name", ip, &cm.name));
        if (const json* usage = Child(c, "usage")) {
          std::string up = Join(ip, "usage");
          HPAD_RETURN_IF_ERROR(ExpectObject(*usage, up));
          for (const auto& [res, value] : usage->items()) {
            if (value.is_null()) continue;
            auto q = QuantityFromJson(value, up + "." + res);
            if (!q.ok()) return q.status();
            cm.usage_milli[res] = q->MilliValue();
          }
        }
        pm->containers.push_back(std::move(cm));
      }
    }
    return Status::Ok();
  });
}

Result<std::vector<CustomMetricValue>> MetricValueListFromJson(const json& list) {
  return ParseItems<CustomMetricValue>(
      list, "MetricValueList", [](const json& item, const std::string& p, CustomMetricValue* v) {
        if (const json* d = Child(item, "describedObject")) {
          std::string dp = Join(p, "describedObject");
          HPAD_RETURN_IF_ERROR(ExpectObject(*d, dp));
          HPAD_RETURN_IF_ERROR(GetString(*d, "apiVersion", dp, &v->described_object.api_version));
          HPAD_RETURN_IF_ERROR(GetString(*d, "kind", dp, &v->described_object.kind));
          HPAD_RETURN_IF_ERROR(GetString(*d, "namespace", dp, &v->described_object.ns));
          HPAD_RETURN_IF_ERROR(GetString(*d, "name", dp, &v->described_object.name));
        }
        // v1beta2: metric.name; v1beta1: metricName.
        if (const json* m = Child(item, "metric")) {
          HPAD_RETURN_IF_ERROR(ExpectObject(*m, Join(p, "metric")));
          HPAD_RETURN_IF_ERROR(GetString(*m, "name", Join(p, "metric"), &v->metric_name));
        } else {
          HPAD_RETURN_IF_ERROR(GetString(item, "metricName", p, &v->metric_name));
        }
        HPAD_RETURN_IF_ERROR(GetTimestamp(item, p, &v->timestamp));
        HPAD_RETURN_IF_ERROR(GetOptInt64(item, "windowSeconds", p, &v->window_seconds));
        return GetMilli(item, "value", p, &v->value_milli);
      });
}

Result<std::vector<ExternalMetricValue>> ExternalMetricValueListFromJson(const json& list) {
  return ParseItems<ExternalMetricValue>(
      list, "ExternalMetricValueList", [](const json& item, const std::string& p, ExternalMetricValue* v) {
        HPAD_RETURN_IF_ERROR(GetString(item, "metricName", p, &v->metric_name));
        HPAD_RETURN_IF_ERROR(GetStringMap(item, "metricLabels", p, &v->metric_labels));
        HPAD_RETURN_IF_ERROR(GetTimestamp(item, p, &v->timestamp));
        // external.metrics.k8s.io/v1beta1 names the field "window" (int64 seconds).
        HPAD_RETURN_IF_ERROR(GetOptInt64(item, "window", p, &v->window_seconds));
        return GetMilli(item, "value", p, &v->value_milli);
      });
}

}  // namespace hpad::k8s
