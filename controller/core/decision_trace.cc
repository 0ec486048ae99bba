// Rendering of a DecisionTrace (see decision_trace.h); rule ids refer to
// hpa-semantics.md (indexed in docs/hpa-rules.md).
#include "controller/core/decision_trace.h"

#include <cmath>
#include <cstdio>
#include <sstream>

#include "controller/core/decide_scale.h"
#include "controller/core/replica_calculator.h"
#include "k8sclient/api/quantity.h"
#include "k8sclient/api/time_format.h"

namespace hpad::ctrl {
namespace {

std::string Policy(const PolicyTrace& p) {
  return p.type + " " + std::to_string(p.value) + (p.type == "Percent" ? "%" : "") + "/" +
         std::to_string(p.period_seconds) + "s";
}

std::string WithUnit(double v, const std::string& unit) { return FormatTraceNumber(v) + unit; }

// A metric value for a person: percent as is, memory in binary SI
// ("300Mi"), other quantities in decimal SI ("250m", "150").
std::string ValueText(const MetricTrace& m, double v) {
  if (m.unit == "%" || std::isnan(v) || std::fabs(v) > 9e15) return WithUnit(v, m.unit);
  const auto milli = static_cast<int64_t>(std::llround(v * 1000.0));
  return k8s::Quantity::FromMilli(milli, m.name == "memory" ? k8s::Quantity::Format::kBinarySI
                                                            : k8s::Quantity::Format::kDecimalSI)
      .ToString();
}

// The clause after the numbers: what held or limited the count.
std::string LimitClause(const DecisionTrace& t) {
  if (!t.normalized) return "";
  const NormalizationTrace& n = t.normalization;
  std::string out;
  if (!n.window_direction.empty()) {
    out = "held by the " + n.window_direction + " stabilization window (" +
          std::to_string(n.window_direction == "scaleUp" ? n.up_window_seconds : n.window_seconds) + "s)";
  }
  std::string limit;
  if (n.limit_reason == "ScaleUpLimit" || n.limit_reason == "ScaleDownLimit") {
    const std::string dir = n.limit_reason == "ScaleUpLimit" ? "scaleUp" : "scaleDown";
    if (!n.behavior) {
      limit = "limited by the scale-up rate max(2x current, 4) = " + std::to_string(n.rate_limit);  // L3
    } else {
      limit = "limited by " + dir + " policy";
      for (const auto& p : n.policies) {
        if (p.limit == n.rate_limit) {
          limit += " " + Policy(p);
          break;
        }
      }
    }
  } else if (n.limit_reason == "TooManyReplicas" && n.desired != n.stabilized) {
    limit = "limited by maxReplicas " + std::to_string(n.max_replicas);
  } else if (n.limit_reason == "TooFewReplicas" && n.desired != n.stabilized) {
    limit = "raised to minReplicas " + std::to_string(n.min_replicas);
  } else if (n.behavior && n.policy_direction != "" && n.select_policy == "Disabled") {
    limit = n.policy_direction + " disabled (selectPolicy Disabled)";
  }
  if (!limit.empty()) out = out.empty() ? limit : out + ", " + limit;
  return out;
}

std::string MetricLabel(const MetricTrace& m) {
  std::string label = m.name;
  if (!m.container.empty()) label += "[" + m.container + "]";
  return label;
}

std::string TimeText(Time t) { return k8s::FormatRfc3339(t); }

void Line(std::ostringstream& o, const std::string& s) { o << s << "\n"; }

nlohmann::json OptTime(const std::optional<Time>& t) {
  return t ? nlohmann::json(k8s::FormatRfc3339(*t)) : nlohmann::json(nullptr);
}

}  // namespace

std::string FormatTraceNumber(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  char buf[64];
  if (std::fabs(v - std::round(v)) < 1e-9) {
    std::snprintf(buf, sizeof(buf), "%.0f", v);
  } else {
    std::snprintf(buf, sizeof(buf), "%.3g", v);
  }
  return buf;
}

MetricTrace DescribeMetric(const k8s::MetricSpec& spec, const MetricResult& result, const Tolerances& tolerances,
                           std::vector<PodTraceRow> pods) {
  MetricTrace m;
  m.type = spec.type;
  const k8s::MetricTarget* target = nullptr;
  if (spec.resource) {
    m.name = spec.resource->name;
    target = &spec.resource->target;
  } else if (spec.container_resource) {
    m.name = spec.container_resource->name;
    m.container = spec.container_resource->container;
    target = &spec.container_resource->target;
  } else if (spec.pods) {
    m.name = spec.pods->metric.name;
    target = &spec.pods->target;
  } else if (spec.object) {
    m.name = spec.object->metric.name;
    target = &spec.object->target;
  } else if (spec.external) {
    m.name = spec.external->metric.name;
    target = &spec.external->target;
  }
  // Which target the calculator used (C0): Resource prefers averageValue,
  // Object/External choose by what is set.
  bool utilization = false;
  if (target != nullptr) {
    const bool resource_like = spec.resource || spec.container_resource;
    if (resource_like && target->average_value) {
      m.target_type = "AverageValue";
      m.target = target->average_value->AsDouble();
    } else if (resource_like && target->average_utilization) {
      m.target_type = "Utilization";
      m.target = *target->average_utilization;
      m.unit = "%";
      utilization = true;
    } else if (target->type == "Value" && target->value) {
      m.target_type = "Value";
      m.target = target->value->AsDouble();
    } else if (target->average_value) {
      m.target_type = "AverageValue";
      m.target = target->average_value->AsDouble();
    } else {
      m.target_type = target->type;
    }
  }
  m.ok = result.ok;
  m.error = result.ok ? "" : result.failure_message;
  m.proposal = result.ok ? result.replicas : 0;
  // X5: the current value as written in the status.
  const k8s::MetricValueStatus* current = nullptr;
  const k8s::MetricStatus& st = result.status;
  if (st.resource) current = &st.resource->second;
  if (st.container_resource) current = &st.container_resource->current;
  if (st.pods) current = &st.pods->current;
  if (st.external) current = &st.external->current;
  if (st.object) current = &st.object->current;
  if (current != nullptr) {
    if (utilization && current->average_utilization) {
      m.current = *current->average_utilization;
    } else if (m.target_type == "Value" && current->value) {
      m.current = current->value->AsDouble();
    } else if (current->average_value) {
      m.current = current->average_value->AsDouble();
    } else if (current->value) {
      m.current = current->value->AsDouble();
    }
  }
  m.ratio = m.target != 0 ? m.current / m.target : 0;
  m.tolerance_down = tolerances.scale_down;
  m.tolerance_up = tolerances.scale_up;
  // C1: within [1 - down, 1 + up] nothing changes; edges in the target's units.
  m.scale_up_above = m.target * (1.0 + tolerances.scale_up);
  m.scale_down_below = m.target * (1.0 - tolerances.scale_down);
  bool unready = false, missing = false;
  for (const auto& p : pods) {
    if (p.pod_class == "ready") m.ready_pods++;
    if (p.pod_class == "unready") unready = true;
    if (p.pod_class == "missing") missing = true;
  }
  m.recomputed = result.ok && (missing || (unready && m.ratio > 1.0));  // C4's condition for C5/C10
  m.pods = std::move(pods);
  return m;
}

std::string TraceSummary(const DecisionTrace& t) {
  std::string out = t.name + ": " + std::to_string(t.current_replicas) + " -> " + std::to_string(t.desired_replicas);
  std::vector<std::string> parts;
  if (!t.error.empty()) {
    parts.push_back("error: " + t.error);
  } else if (!t.skipped.empty()) {
    parts.push_back(t.skipped);
  } else if (t.metrics_failed) {
    parts.push_back("no decision: " + t.metrics_error);
  } else {
    if (t.winning_metric >= 0 && static_cast<size_t>(t.winning_metric) < t.metrics.size()) {
      const MetricTrace& m = t.metrics[static_cast<size_t>(t.winning_metric)];
      std::string p = MetricLabel(m) + " " + ValueText(m, m.current) + " of " + ValueText(m, m.target) + " target";
      if (m.proposal == t.current_replicas && t.desired_replicas == t.current_replicas) {
        const bool within = m.scale_down_below <= m.current && m.current <= m.scale_up_above;
        p += within        ? ", within tolerance"
             : m.recomputed ? ", unready/missing pods keep the count (C5)"
                            : ", rounds to the current count";
      }
      parts.push_back(p);
    }
    std::string limit = LimitClause(t);
    if (!limit.empty()) parts.push_back(limit);
    if (!t.metrics_error.empty()) parts.push_back("with invalid metrics");
  }
  if (!parts.empty()) {
    out += " (";
    for (size_t i = 0; i < parts.size(); i++) out += (i ? ", " : "") + parts[i];
    out += ")";
  }
  return out;
}

std::string RenderTraceText(const DecisionTrace& t) {
  std::ostringstream o;
  Line(o, TraceSummary(t));
  Line(o, "");
  Line(o, "HPA " + t.ns + "/" + t.name + " at " + TimeText(t.time));
  if (!t.history_note.empty()) Line(o, "History: " + t.history_note);
  if (!t.error.empty()) Line(o, "Error: " + t.error);
  if (!t.skipped.empty()) Line(o, "Metrics not computed: " + t.skipped);
  if (!t.metrics.empty()) {
    Line(o, "");
    Line(o, "Metrics:");
  }
  for (size_t i = 0; i < t.metrics.size(); i++) {
    const MetricTrace& m = t.metrics[i];
    std::string head = "  [" + std::to_string(i) + "] " + m.type + " " + MetricLabel(m) + " target " + m.target_type +
                       " " + ValueText(m, m.target);
    if (static_cast<int>(i) == t.winning_metric) head += "  <- wins (X2: highest proposal)";
    Line(o, head);
    if (!m.ok) {
      Line(o, "      invalid: " + m.error);
      continue;
    }
    Line(o, "      current " + ValueText(m, m.current) + ", ratio " + FormatTraceNumber(m.ratio) +
                ", proposal " + std::to_string(m.proposal) + " replicas" +
                (m.recomputed ? " (C5/C10: recomputed with unready/missing pods filled in)" : ""));
    Line(o, "      tolerance band (C1): scales up above " + ValueText(m, m.scale_up_above) + " " + m.name +
                ", down below " + ValueText(m, m.scale_down_below));
    if (!m.pods.empty()) {
      Line(o, "      pods:");
      for (const auto& p : m.pods) {
        std::string row = "        " + p.pod + "  " + p.phase + " ready=" + (p.ready.empty() ? "?" : p.ready) +
                          "  " + p.pod_class + " (" + p.rule + ")";
        if (p.usage_milli) row += "  usage " + std::to_string(*p.usage_milli) + "m";
        if (p.request_milli) row += "  request " + std::to_string(*p.request_milli) + "m";
        Line(o, row);
      }
    }
  }
  if (!t.metrics_error.empty()) Line(o, "  invalid metrics (X4): " + t.metrics_error);
  if (t.normalized) {
    const NormalizationTrace& n = t.normalization;
    Line(o, "");
    Line(o, std::string("Normalization (") + (n.behavior ? "behavior, B1-B8" : "legacy, L1-L4") + "):");
    Line(o, "  proposal " + std::to_string(n.prenormalized) + " -> stabilized " + std::to_string(n.stabilized) +
                " -> desired " + std::to_string(n.desired));
    Line(o, "  stabilization window: scaleDown " + std::to_string(n.window_seconds) + "s" +
                (n.behavior ? ", scaleUp " + std::to_string(n.up_window_seconds) + "s" : "") + ", cutoff " +
                TimeText(n.cutoff));
    for (const auto& e : n.entries) {
      Line(o, "    " + TimeText(e.time) + "  " + std::to_string(e.replicas) + (e.in_window ? "" : "  (outside)"));
    }
    if (n.window_frees_at) Line(o, "  the window lets the proposal through at " + TimeText(*n.window_frees_at));
    if (n.behavior && !n.policy_direction.empty()) {
      Line(o, "  " + n.policy_direction + " policies (selectPolicy " + n.select_policy + "):");
      for (const auto& p : n.policies) {
        std::string row = "    " + Policy(p) + ": period start " + std::to_string(p.period_start) + ", added " +
                          std::to_string(p.added) + ", removed " + std::to_string(p.removed) + ", limit " +
                          std::to_string(p.limit);
        if (p.frees_at) row += ", next room at " + TimeText(*p.frees_at);
        Line(o, row);
      }
    } else if (!n.behavior) {
      Line(o, "  scale-up rate limit (L3): " + std::to_string(n.rate_limit));
    }
    Line(o, "  min/max: " + std::to_string(n.min_replicas) + "/" + std::to_string(n.max_replicas) +
                ", ScalingLimited reason " + n.limit_reason);
  }
  Line(o, "");
  Line(o, "Decision: " + std::to_string(t.current_replicas) + " -> " + std::to_string(t.desired_replicas) +
              (t.rescale ? " (rescale)" : " (no change)") + (t.reason.empty() ? "" : "; reason: " + t.reason));
  for (const auto& c : t.conditions) Line(o, "  " + c.type + "=" + c.status + " " + c.reason + ": " + c.message);
  return o.str();
}

nlohmann::json TraceToJson(const DecisionTrace& t) {
  nlohmann::json j;
  j["namespace"] = t.ns;
  j["name"] = t.name;
  j["time"] = TimeText(t.time);
  j["summary"] = TraceSummary(t);
  j["currentReplicas"] = t.current_replicas;
  j["desiredReplicas"] = t.desired_replicas;
  j["rescale"] = t.rescale;
  j["reason"] = t.reason;
  if (!t.skipped.empty()) j["skipped"] = t.skipped;
  if (!t.error.empty()) j["error"] = t.error;
  if (!t.history_note.empty()) j["history"] = t.history_note;
  j["winningMetric"] = t.winning_metric;
  j["metricsFailed"] = t.metrics_failed;
  if (!t.metrics_error.empty()) j["metricsError"] = t.metrics_error;
  nlohmann::json metrics = nlohmann::json::array();
  for (const auto& m : t.metrics) {
    nlohmann::json mj;
    mj["type"] = m.type;
    mj["name"] = m.name;
    if (!m.container.empty()) mj["container"] = m.container;
    mj["targetType"] = m.target_type;
    mj["target"] = m.target;
    mj["unit"] = m.unit;
    mj["ok"] = m.ok;
    if (!m.ok) {
      mj["error"] = m.error;
    } else {
      mj["current"] = m.current;
      mj["ratio"] = m.ratio;
      mj["proposal"] = m.proposal;
      mj["recomputed"] = m.recomputed;
      mj["tolerance"] = {{"down", m.tolerance_down}, {"up", m.tolerance_up}};
      mj["scalesUpAbove"] = m.scale_up_above;
      mj["scalesDownBelow"] = m.scale_down_below;
    }
    nlohmann::json pods = nlohmann::json::array();
    for (const auto& p : m.pods) {
      nlohmann::json pj;
      pj["pod"] = p.pod;
      pj["phase"] = p.phase;
      pj["ready"] = p.ready;
      pj["startTime"] = OptTime(p.start_time);
      pj["requestMilli"] = p.request_milli ? nlohmann::json(*p.request_milli) : nlohmann::json(nullptr);
      pj["usageMilli"] = p.usage_milli ? nlohmann::json(*p.usage_milli) : nlohmann::json(nullptr);
      pj["class"] = p.pod_class;
      pj["rule"] = p.rule;
      pods.push_back(std::move(pj));
    }
    if (!pods.empty()) mj["pods"] = std::move(pods);
    metrics.push_back(std::move(mj));
  }
  j["metrics"] = std::move(metrics);
  if (t.normalized) {
    const NormalizationTrace& n = t.normalization;
    nlohmann::json nj;
    nj["behavior"] = n.behavior;
    nj["prenormalized"] = n.prenormalized;
    nj["stabilized"] = n.stabilized;
    nj["desired"] = n.desired;
    nj["window"] = {{"scaleDownSeconds", n.window_seconds}, {"scaleUpSeconds", n.up_window_seconds},
                    {"cutoff", TimeText(n.cutoff)}, {"held", n.window_direction},
                    {"freesAt", OptTime(n.window_frees_at)}};
    nlohmann::json entries = nlohmann::json::array();
    for (const auto& e : n.entries)
      entries.push_back({{"time", TimeText(e.time)}, {"replicas", e.replicas}, {"inWindow", e.in_window}});
    nj["window"]["entries"] = std::move(entries);
    nj["policyDirection"] = n.policy_direction;
    nj["selectPolicy"] = n.select_policy;
    nlohmann::json policies = nlohmann::json::array();
    for (const auto& p : n.policies) {
      policies.push_back({{"type", p.type}, {"value", p.value}, {"periodSeconds", p.period_seconds},
                          {"periodStart", p.period_start}, {"added", p.added}, {"removed", p.removed},
                          {"limit", p.limit}, {"freesAt", OptTime(p.frees_at)}});
    }
    nj["policies"] = std::move(policies);
    nj["rateLimit"] = n.rate_limit;
    nj["minReplicas"] = n.min_replicas;
    nj["maxReplicas"] = n.max_replicas;
    nj["limitReason"] = n.limit_reason;
    j["normalization"] = std::move(nj);
  }
  nlohmann::json conds = nlohmann::json::array();
  for (const auto& c : t.conditions)
    conds.push_back({{"type", c.type}, {"status", c.status}, {"reason", c.reason}, {"message", c.message}});
  j["conditions"] = std::move(conds);
  return j;
}

size_t TraceHeapBytes(const DecisionTrace& t) {
  auto str = [](const std::string& s) { return s.capacity() > 15 ? s.capacity() + 1 : 0; };
  size_t n = str(t.ns) + str(t.name) + str(t.reason) + str(t.skipped) + str(t.metrics_error) + str(t.history_note) +
             str(t.error);
  n += t.metrics.capacity() * sizeof(MetricTrace);
  for (const auto& m : t.metrics) {
    n += str(m.type) + str(m.name) + str(m.container) + str(m.target_type) + str(m.unit) + str(m.error);
    n += m.pods.capacity() * sizeof(PodTraceRow);
    for (const auto& p : m.pods) n += str(p.pod) + str(p.phase) + str(p.ready) + str(p.pod_class) + str(p.rule);
  }
  const NormalizationTrace& nt = t.normalization;
  n += nt.entries.capacity() * sizeof(StabilizationEntry) + nt.policies.capacity() * sizeof(PolicyTrace);
  for (const auto& p : nt.policies) n += str(p.type);
  n += str(nt.window_direction) + str(nt.policy_direction) + str(nt.select_policy) + str(nt.limit_reason);
  n += t.conditions.capacity() * sizeof(ConditionUpdate);
  for (const auto& c : t.conditions) n += str(c.type) + str(c.status) + str(c.reason) + str(c.message);
  return n;
}

}  // namespace hpad::ctrl
