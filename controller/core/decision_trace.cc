// Rendering of a DecisionTrace (see decision_trace.h); rule ids refer to
// hpa-semantics.md (indexed in docs/hpa-rules.md).
#include "controller/core/decision_trace.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <iterator>
#include <cstdio>
#include <sstream>

#include "controller/core/decide_scale.h"
#include "controller/core/replica_calculator.h"
#include "k8sclient/api/quantity.h"
#include "k8sclient/api/time_format.h"
#include "k8sclient/api/types/json_fields.h"
#include "k8sclient/base/text.h"

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

template <typename E, size_t N>
E ParseName(std::string_view s, const std::string_view (&names)[N], E fallback) {
  for (size_t i = 0; i < N; i++) {
    if (names[i] == s) return static_cast<E>(i);
  }
  return fallback;
}

constexpr std::string_view kPhaseNames[] = {"", "Pending", "Running", "Succeeded", "Failed", "Unknown", "Other"};
constexpr std::string_view kReadyNames[] = {"", "True", "False", "Unknown", "Other"};
constexpr std::string_view kClassNames[] = {"ready", "unready", "missing", "ignored"};
constexpr std::string_view kRuleNames[] = {"", "P1", "P2", "P3", "P4a", "P4b", "P4c", "P5"};

template <size_t N>
std::string_view NameAt(const std::string_view (&names)[N], uint8_t i) {
  return i < N ? names[i] : std::string_view("?");
}

}  // namespace

std::string_view TraceName(TracePodPhase v) { return NameAt(kPhaseNames, static_cast<uint8_t>(v)); }
std::string_view TraceName(TraceReady v) { return NameAt(kReadyNames, static_cast<uint8_t>(v)); }
std::string_view TraceName(TracePodClass v) { return NameAt(kClassNames, static_cast<uint8_t>(v)); }
std::string_view TraceName(TracePodRule v) { return NameAt(kRuleNames, static_cast<uint8_t>(v)); }
TracePodPhase ParseTracePodPhase(std::string_view s) {
  return ParseName(s, kPhaseNames, TracePodPhase::kOther);
}
TraceReady ParseTraceReady(std::string_view s) { return ParseName(s, kReadyNames, TraceReady::kOther); }
std::optional<TracePodClass> ParseTracePodClass(std::string_view s) {
  for (size_t i = 0; i < std::size(kClassNames); i++) {
    if (kClassNames[i] == s) return static_cast<TracePodClass>(i);
  }
  return std::nullopt;
}
TracePodRule ParseTracePodRule(std::string_view s) { return ParseName(s, kRuleNames, TracePodRule::kNone); }

void PodTable::Add(std::string_view name, PodTraceRow row) {
  name = name.substr(0, std::min<size_t>(name.size(), UINT16_MAX));
  row.name_offset = static_cast<uint32_t>(std::min<size_t>(names.size(), UINT32_MAX));
  row.name_size = static_cast<uint16_t>(name.size());
  if (names.size() + name.size() > UINT32_MAX) row.name_size = 0;  // cannot address it: keep the row, drop the name
  else names.append(name);
  rows.push_back(row);
}

std::string_view PodTable::Name(const PodTraceRow& row) const {
  if (row.name_offset > names.size()) return {};
  return std::string_view(names).substr(row.name_offset, row.name_size);
}

void PodTable::ShrinkToFit() {
  rows.shrink_to_fit();
  names.shrink_to_fit();
}

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
                           PodTable pods) {
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
  for (const auto& p : pods.rows) {
    if (p.pod_class == TracePodClass::kReady) m.ready_pods++;
    if (p.pod_class == TracePodClass::kUnready) unready = true;
    if (p.pod_class == TracePodClass::kMissing) missing = true;
  }
  m.recomputed = result.ok && (missing || (unready && m.ratio > 1.0));  // C4's condition for C5/C10
  m.pods = std::move(pods);
  m.pods.ShrinkToFit();
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
    if (m.pods.empty() && t.pod_tables_omitted) Line(o, std::string("      pods: ") + kPodTablesOmittedNote);
    if (!m.pods.empty()) {
      Line(o, "      pods:");
      for (const auto& p : m.pods.rows) {
        std::string row = "        " + std::string(m.pods.Name(p)) + "  " + std::string(TraceName(p.phase)) +
                          " ready=" + (p.ready == TraceReady::kAbsent ? "?" : std::string(TraceName(p.ready))) +
                          "  " + std::string(TraceName(p.pod_class)) + " (" + std::string(TraceName(p.rule)) + ")";
        if (p.has_usage) row += "  usage " + std::to_string(p.usage_milli) + "m";
        if (p.has_request) row += "  request " + std::to_string(p.request_milli) + "m";
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
  if (t.pod_tables_omitted) j["podTablesOmitted"] = kPodTablesOmittedNote;
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
    for (const auto& p : m.pods.rows) {
      nlohmann::json pj;
      pj["pod"] = std::string(m.pods.Name(p));
      pj["phase"] = std::string(TraceName(p.phase));
      pj["ready"] = std::string(TraceName(p.ready));
      pj["startTime"] = p.has_start_time ? OptTime(p.start_time) : nlohmann::json(nullptr);
      pj["requestMilli"] = p.has_request ? nlohmann::json(p.request_milli) : nlohmann::json(nullptr);
      pj["usageMilli"] = p.has_usage ? nlohmann::json(p.usage_milli) : nlohmann::json(nullptr);
      pj["class"] = std::string(TraceName(p.pod_class));
      pj["rule"] = std::string(TraceName(p.rule));
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

void ShrinkTrace(DecisionTrace& t) {
  t.metrics.shrink_to_fit();
  for (auto& m : t.metrics) m.pods.ShrinkToFit();
  t.normalization.entries.shrink_to_fit();
  t.normalization.policies.shrink_to_fit();
  t.conditions.shrink_to_fit();
}

size_t TraceHeapBytes(const DecisionTrace& t) {
  auto str = [](const std::string& s) { return s.capacity() > 15 ? s.capacity() + 1 : 0; };
  size_t n = str(t.ns) + str(t.name) + str(t.reason) + str(t.skipped) + str(t.metrics_error) + str(t.history_note) +
             str(t.error);
  n += t.metrics.capacity() * sizeof(MetricTrace);
  for (const auto& m : t.metrics) {
    n += str(m.type) + str(m.name) + str(m.container) + str(m.target_type) + str(m.unit) + str(m.error);
    n += m.pods.rows.capacity() * sizeof(PodTraceRow) + str(m.pods.names);
  }
  const NormalizationTrace& nt = t.normalization;
  n += nt.entries.capacity() * sizeof(StabilizationEntry) + nt.policies.capacity() * sizeof(PolicyTrace);
  for (const auto& p : nt.policies) n += str(p.type);
  n += str(nt.window_direction) + str(nt.policy_direction) + str(nt.select_policy) + str(nt.limit_reason);
  n += t.conditions.capacity() * sizeof(ConditionUpdate);
  for (const auto& c : t.conditions) n += str(c.type) + str(c.status) + str(c.reason) + str(c.message);
  return n;
}

namespace {

namespace fields = k8s::fields;
using fields::FieldError;
using fields::Join;

// Bounds on a foreign trace: far above what a real HPA produces (spec.metrics
// is small, a scale target has at most a few thousand pods).
constexpr size_t kMaxTraceMetrics = 64;
constexpr size_t kMaxTracePods = 100000;
constexpr size_t kMaxTraceEntries = 100000;
constexpr size_t kMaxTracePolicies = 64;
constexpr size_t kMaxTraceConditions = 16;

Status Text(const nlohmann::json& obj, const char* key, const std::string& path, std::string* out) {
  std::string raw;
  HPAD_RETURN_IF_ERROR(fields::GetString(obj, key, path, &raw));
  *out = k8s::SafeText(raw);
  return Status::Ok();
}

Status Bool(const nlohmann::json& obj, const char* key, const std::string& path, bool* out) {
  const nlohmann::json* c = fields::Child(obj, key);
  if (!c) return Status::Ok();
  if (!c->is_boolean()) return FieldError(Join(path, key), "expected a boolean, got " + k8s::DescribeJson(*c));
  *out = c->get<bool>();
  return Status::Ok();
}

Status Number(const nlohmann::json& obj, const char* key, const std::string& path, double* out) {
  const nlohmann::json* c = fields::Child(obj, key);
  if (!c) return Status::Ok();
  if (!c->is_number()) return FieldError(Join(path, key), "expected a number, got " + k8s::DescribeJson(*c));
  *out = c->get<double>();
  return Status::Ok();
}

Status Int(const nlohmann::json& obj, const char* key, const std::string& path, int32_t* out) {
  return fields::GetInt32(obj, key, path, out);
}

Status TimeField(const nlohmann::json& obj, const char* key, const std::string& path, std::optional<Time>* out) {
  return fields::GetOptTime(obj, key, path, out);
}

Status RequiredTime(const nlohmann::json& obj, const char* key, const std::string& path, Time* out) {
  std::optional<Time> t;
  HPAD_RETURN_IF_ERROR(TimeField(obj, key, path, &t));
  if (t) *out = *t;
  return Status::Ok();
}

// The array at key (empty when absent), bounded.
Result<const nlohmann::json*> Array(const nlohmann::json& obj, const char* key, const std::string& path,
                                    size_t max_items) {
  static const nlohmann::json kEmpty = nlohmann::json::array();
  const nlohmann::json* c = fields::Child(obj, key);
  if (!c) return &kEmpty;
  if (!c->is_array()) return FieldError(Join(path, key), "expected an array, got " + k8s::DescribeJson(*c));
  if (c->size() > max_items) {
    return FieldError(Join(path, key), std::to_string(c->size()) + " items, at most " + std::to_string(max_items));
  }
  return c;
}

Status ParsePod(const nlohmann::json& pj, const std::string& path, PodTable* table) {
  HPAD_RETURN_IF_ERROR(fields::ExpectObject(pj, path));
  std::string name, phase, ready, cls, rule;
  HPAD_RETURN_IF_ERROR(Text(pj, "pod", path, &name));
  HPAD_RETURN_IF_ERROR(Text(pj, "phase", path, &phase));
  HPAD_RETURN_IF_ERROR(Text(pj, "ready", path, &ready));
  HPAD_RETURN_IF_ERROR(Text(pj, "class", path, &cls));
  HPAD_RETURN_IF_ERROR(Text(pj, "rule", path, &rule));
  PodTraceRow row;
  row.phase = ParseTracePodPhase(phase);
  row.ready = ParseTraceReady(ready);
  auto pod_class = ParseTracePodClass(cls);
  if (!pod_class) return FieldError(Join(path, "class"), "unknown pod class \"" + k8s::SafeText(cls, 64) + "\"");
  row.pod_class = *pod_class;
  row.rule = ParseTracePodRule(rule);
  std::optional<Time> start;
  HPAD_RETURN_IF_ERROR(TimeField(pj, "startTime", path, &start));
  if (start) {
    row.start_time = *start;
    row.has_start_time = true;
  }
  std::optional<int64_t> request, usage;
  HPAD_RETURN_IF_ERROR(fields::GetOptInt64(pj, "requestMilli", path, &request));
  HPAD_RETURN_IF_ERROR(fields::GetOptInt64(pj, "usageMilli", path, &usage));
  row.has_request = request.has_value();
  row.request_milli = request.value_or(0);
  row.has_usage = usage.has_value();
  row.usage_milli = usage.value_or(0);
  table->Add(name, row);
  return Status::Ok();
}

Status ParseMetric(const nlohmann::json& mj, const std::string& path, MetricTrace* m) {
  HPAD_RETURN_IF_ERROR(fields::ExpectObject(mj, path));
  HPAD_RETURN_IF_ERROR(Text(mj, "type", path, &m->type));
  HPAD_RETURN_IF_ERROR(Text(mj, "name", path, &m->name));
  HPAD_RETURN_IF_ERROR(Text(mj, "container", path, &m->container));
  HPAD_RETURN_IF_ERROR(Text(mj, "targetType", path, &m->target_type));
  HPAD_RETURN_IF_ERROR(Number(mj, "target", path, &m->target));
  HPAD_RETURN_IF_ERROR(Text(mj, "unit", path, &m->unit));
  HPAD_RETURN_IF_ERROR(Bool(mj, "ok", path, &m->ok));
  HPAD_RETURN_IF_ERROR(Text(mj, "error", path, &m->error));
  HPAD_RETURN_IF_ERROR(Number(mj, "current", path, &m->current));
  HPAD_RETURN_IF_ERROR(Number(mj, "ratio", path, &m->ratio));
  HPAD_RETURN_IF_ERROR(Int(mj, "proposal", path, &m->proposal));
  HPAD_RETURN_IF_ERROR(Bool(mj, "recomputed", path, &m->recomputed));
  if (const nlohmann::json* tol = fields::Child(mj, "tolerance")) {
    const std::string tpath = Join(path, "tolerance");
    HPAD_RETURN_IF_ERROR(fields::ExpectObject(*tol, tpath));
    HPAD_RETURN_IF_ERROR(Number(*tol, "down", tpath, &m->tolerance_down));
    HPAD_RETURN_IF_ERROR(Number(*tol, "up", tpath, &m->tolerance_up));
  }
  HPAD_RETURN_IF_ERROR(Number(mj, "scalesUpAbove", path, &m->scale_up_above));
  HPAD_RETURN_IF_ERROR(Number(mj, "scalesDownBelow", path, &m->scale_down_below));
  auto pods = Array(mj, "pods", path, kMaxTracePods);
  if (!pods.ok()) return pods.status();
  m->pods.rows.reserve((*pods)->size());
  for (size_t i = 0; i < (*pods)->size(); i++) {
    HPAD_RETURN_IF_ERROR(ParsePod((**pods)[i], fields::Index(Join(path, "pods"), i), &m->pods));
    if (m->pods.rows.back().pod_class == TracePodClass::kReady) m->ready_pods++;
  }
  m->pods.ShrinkToFit();
  return Status::Ok();
}

Status ParseNormalization(const nlohmann::json& nj, const std::string& path, NormalizationTrace* n) {
  HPAD_RETURN_IF_ERROR(fields::ExpectObject(nj, path));
  HPAD_RETURN_IF_ERROR(Bool(nj, "behavior", path, &n->behavior));
  HPAD_RETURN_IF_ERROR(Int(nj, "prenormalized", path, &n->prenormalized));
  HPAD_RETURN_IF_ERROR(Int(nj, "stabilized", path, &n->stabilized));
  HPAD_RETURN_IF_ERROR(Int(nj, "desired", path, &n->desired));
  if (const nlohmann::json* w = fields::Child(nj, "window")) {
    const std::string wpath = Join(path, "window");
    HPAD_RETURN_IF_ERROR(fields::ExpectObject(*w, wpath));
    HPAD_RETURN_IF_ERROR(Int(*w, "scaleDownSeconds", wpath, &n->window_seconds));
    HPAD_RETURN_IF_ERROR(Int(*w, "scaleUpSeconds", wpath, &n->up_window_seconds));
    HPAD_RETURN_IF_ERROR(RequiredTime(*w, "cutoff", wpath, &n->cutoff));
    HPAD_RETURN_IF_ERROR(Text(*w, "held", wpath, &n->window_direction));
    HPAD_RETURN_IF_ERROR(TimeField(*w, "freesAt", wpath, &n->window_frees_at));
    auto entries = Array(*w, "entries", wpath, kMaxTraceEntries);
    if (!entries.ok()) return entries.status();
    n->entries.reserve((*entries)->size());
    for (size_t i = 0; i < (*entries)->size(); i++) {
      const nlohmann::json& ej = (**entries)[i];
      const std::string epath = fields::Index(Join(wpath, "entries"), i);
      HPAD_RETURN_IF_ERROR(fields::ExpectObject(ej, epath));
      StabilizationEntry e;
      HPAD_RETURN_IF_ERROR(RequiredTime(ej, "time", epath, &e.time));
      HPAD_RETURN_IF_ERROR(Int(ej, "replicas", epath, &e.replicas));
      HPAD_RETURN_IF_ERROR(Bool(ej, "inWindow", epath, &e.in_window));
      n->entries.push_back(e);
    }
  }
  HPAD_RETURN_IF_ERROR(Text(nj, "policyDirection", path, &n->policy_direction));
  HPAD_RETURN_IF_ERROR(Text(nj, "selectPolicy", path, &n->select_policy));
  auto policies = Array(nj, "policies", path, kMaxTracePolicies);
  if (!policies.ok()) return policies.status();
  for (size_t i = 0; i < (*policies)->size(); i++) {
    const nlohmann::json& pj = (**policies)[i];
    const std::string ppath = fields::Index(Join(path, "policies"), i);
    HPAD_RETURN_IF_ERROR(fields::ExpectObject(pj, ppath));
    PolicyTrace p;
    HPAD_RETURN_IF_ERROR(Text(pj, "type", ppath, &p.type));
    HPAD_RETURN_IF_ERROR(Int(pj, "value", ppath, &p.value));
    HPAD_RETURN_IF_ERROR(Int(pj, "periodSeconds", ppath, &p.period_seconds));
    HPAD_RETURN_IF_ERROR(Int(pj, "periodStart", ppath, &p.period_start));
    HPAD_RETURN_IF_ERROR(Int(pj, "added", ppath, &p.added));
    HPAD_RETURN_IF_ERROR(Int(pj, "removed", ppath, &p.removed));
    HPAD_RETURN_IF_ERROR(Int(pj, "limit", ppath, &p.limit));
    HPAD_RETURN_IF_ERROR(TimeField(pj, "freesAt", ppath, &p.frees_at));
    n->policies.push_back(std::move(p));
  }
  HPAD_RETURN_IF_ERROR(Int(nj, "rateLimit", path, &n->rate_limit));
  HPAD_RETURN_IF_ERROR(Int(nj, "minReplicas", path, &n->min_replicas));
  HPAD_RETURN_IF_ERROR(Int(nj, "maxReplicas", path, &n->max_replicas));
  HPAD_RETURN_IF_ERROR(Text(nj, "limitReason", path, &n->limit_reason));
  return Status::Ok();
}

}  // namespace

Result<DecisionTrace> TraceFromJson(const nlohmann::json& j) {
  const std::string root;
  HPAD_RETURN_IF_ERROR(fields::ExpectObject(j, root));
  DecisionTrace t;
  HPAD_RETURN_IF_ERROR(Text(j, "namespace", root, &t.ns));
  HPAD_RETURN_IF_ERROR(Text(j, "name", root, &t.name));
  HPAD_RETURN_IF_ERROR(RequiredTime(j, "time", root, &t.time));
  HPAD_RETURN_IF_ERROR(Int(j, "currentReplicas", root, &t.current_replicas));
  HPAD_RETURN_IF_ERROR(Int(j, "desiredReplicas", root, &t.desired_replicas));
  HPAD_RETURN_IF_ERROR(Bool(j, "rescale", root, &t.rescale));
  HPAD_RETURN_IF_ERROR(Text(j, "reason", root, &t.reason));
  HPAD_RETURN_IF_ERROR(Text(j, "skipped", root, &t.skipped));
  HPAD_RETURN_IF_ERROR(Text(j, "error", root, &t.error));
  HPAD_RETURN_IF_ERROR(Text(j, "history", root, &t.history_note));
  std::string omitted;  // issue 16: any text means the pod tables were not kept
  HPAD_RETURN_IF_ERROR(Text(j, "podTablesOmitted", root, &omitted));
  t.pod_tables_omitted = !omitted.empty();
  HPAD_RETURN_IF_ERROR(Int(j, "winningMetric", root, &t.winning_metric));
  HPAD_RETURN_IF_ERROR(Bool(j, "metricsFailed", root, &t.metrics_failed));
  HPAD_RETURN_IF_ERROR(Text(j, "metricsError", root, &t.metrics_error));
  auto metrics = Array(j, "metrics", root, kMaxTraceMetrics);
  if (!metrics.ok()) return metrics.status();
  t.metrics.resize((*metrics)->size());
  for (size_t i = 0; i < t.metrics.size(); i++) {
    HPAD_RETURN_IF_ERROR(ParseMetric((**metrics)[i], fields::Index("metrics", i), &t.metrics[i]));
  }
  // winningMetric indexes metrics (X2); -1 or out of range means none.
  if (t.winning_metric < -1 || t.winning_metric >= static_cast<int>(t.metrics.size())) t.winning_metric = -1;
  if (const nlohmann::json* n = fields::Child(j, "normalization")) {
    t.normalized = true;
    HPAD_RETURN_IF_ERROR(ParseNormalization(*n, "normalization", &t.normalization));
  }
  auto conds = Array(j, "conditions", root, kMaxTraceConditions);
  if (!conds.ok()) return conds.status();
  for (size_t i = 0; i < (*conds)->size(); i++) {
    const nlohmann::json& cj = (**conds)[i];
    const std::string cpath = fields::Index("conditions", i);
    HPAD_RETURN_IF_ERROR(fields::ExpectObject(cj, cpath));
    ConditionUpdate c;
    HPAD_RETURN_IF_ERROR(Text(cj, "type", cpath, &c.type));
    HPAD_RETURN_IF_ERROR(Text(cj, "status", cpath, &c.status));
    HPAD_RETURN_IF_ERROR(Text(cj, "reason", cpath, &c.reason));
    HPAD_RETURN_IF_ERROR(Text(cj, "message", cpath, &c.message));
    t.conditions.push_back(std::move(c));
  }
  return t;
}

}  // namespace hpad::ctrl
