// Status bookkeeping and message texts; see hpa-semantics.md 12.
#include "controller/core/hpa_status.h"

#include <algorithm>

#include <nlohmann/json.hpp>

namespace hpad::ctrl {

void SetCondition(std::vector<k8s::HpaCondition>& conditions, const std::string& type, const std::string& status,
                  const std::string& reason, const std::string& message, Time now) {
  auto it = std::find_if(conditions.begin(), conditions.end(), [&](const auto& c) { return c.type == type; });
  if (it == conditions.end()) {
    conditions.push_back(k8s::HpaCondition{type, "", std::nullopt, "", ""});
    it = conditions.end() - 1;
  }
  if (it->status != status) it->last_transition_time = now;  // W5: only on a flip
  it->status = status;
  it->reason = reason;
  it->message = message;
}

void RemoveCondition(std::vector<k8s::HpaCondition>& conditions, const std::string& type) {
  conditions.erase(std::remove_if(conditions.begin(), conditions.end(), [&](const auto& c) { return c.type == type; }),
                   conditions.end());
}

const k8s::HpaCondition* FindCondition(const std::vector<k8s::HpaCondition>& conditions, const std::string& type) {
  for (const auto& c : conditions) {
    if (c.type == type) return &c;
  }
  return nullptr;
}

k8s::HpaStatus BuildStatus(const k8s::HpaStatus& previous, int32_t current_replicas, int32_t desired_replicas,
                           std::vector<k8s::MetricStatus> metric_statuses, bool rescaled,
                           std::optional<int64_t> observed_generation, Time now) {
  k8s::HpaStatus s;
  s.current_replicas = current_replicas;
  s.desired_replicas = desired_replicas;
  s.last_scale_time = rescaled ? std::optional<Time>(now) : previous.last_scale_time;
  s.current_metrics = std::move(metric_statuses);
  s.conditions = previous.conditions;
  s.observed_generation = observed_generation;  // W3: rebuilt, so gate off clears it
  return s;
}

bool StatusChanged(const k8s::HpaStatus& original, const k8s::HpaStatus& updated) {
  return !k8s::HpaStatusEqual(original, updated);
}

namespace {

std::string JsonScalar(const nlohmann::json& v) {
  if (v.is_string()) return v.get<std::string>();
  return v.dump();
}

}  // namespace

std::string GoLabelSelectorString(const k8s::LabelSelectorJson& selector) {
  if (selector.is_null()) return "nil";
  std::string labels = "map[string]string{";
  if (selector.contains("matchLabels") && selector["matchLabels"].is_object()) {
    // nlohmann objects iterate in sorted key order, as the generated String() sorts keys.
    for (const auto& [k, v] : selector["matchLabels"].items()) labels += k + ": " + JsonScalar(v) + ",";
  }
  labels += "}";
  std::string exprs = "[]LabelSelectorRequirement{";
  if (selector.contains("matchExpressions") && selector["matchExpressions"].is_array()) {
    for (const auto& e : selector["matchExpressions"]) {
      std::string values = "[";
      if (e.contains("values") && e["values"].is_array()) {
        bool first = true;
        for (const auto& v : e["values"]) {
          if (!first) values += " ";
          values += JsonScalar(v);
          first = false;
        }
      }
      values += "]";
      exprs += "LabelSelectorRequirement{Key:" + JsonScalar(e.value("key", nlohmann::json(""))) +
               ",Operator:" + JsonScalar(e.value("operator", nlohmann::json(""))) + ",Values:" + values + ",},";
    }
  }
  exprs += "}";
  return "&LabelSelector{MatchLabels:" + labels + ",MatchExpressions:" + exprs + ",}";
}

std::string ResourceUtilizationDescription(const std::string& resource, bool container) {
  return resource + (container ? " container resource" : " resource") + " utilization (percentage of request)";
}
std::string ResourceValueDescription(const std::string& resource) { return resource + " resource"; }
std::string PodsMetricDescription(const std::string& metric) { return "pods metric " + metric; }
std::string ObjectValueDescription(const std::string& kind, const std::string& metric) {
  return kind + " metric " + metric;
}
std::string ExternalMetricDescription(const std::string& metric, const k8s::LabelSelectorJson& selector) {
  return "external metric " + metric + "(" + GoLabelSelectorString(selector) + ")";
}

std::string GoKeyList(const std::vector<std::string>& keys) {
  std::string out = "[";
  for (size_t i = 0; i < keys.size(); i++) {
    if (i) out += " ";
    out += keys[i];
  }
  return out + "]";
}

}  // namespace hpad::ctrl
