// DecisionTrace: why one reconcile arrived at its replica count (issue 12),
// as a plain value built by the same code that decides.
//
// The pure core fills it through nullable pointers: DecideInput::trace
// (metric combination X2-X4, normalisation L1-L4 / B1-B8, R5-R12) and
// TracePodTable (the P-rule class of every pod, from the classifier the
// calculator itself uses). A null pointer costs one branch per step, so the
// daemon's hot path pays nothing when nobody asks. The reconciler adds what
// only it knows (the fetched values, the tolerance band, errors) and keeps
// the last trace per HPA for /debug/hpas and `hpad explain`.
//
// Rendering (Summary, RenderTraceText, TraceToJson) is pure too: no clock
// reads, I/O or locks; values only. Thread-safety: a trace is a value; share
// it as shared_ptr<const DecisionTrace>.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "controller/core/normalization.h"
#include "k8sclient/base/clock.h"
#include "k8sclient/base/status.h"

namespace hpad::k8s {
struct MetricSpec;
}

namespace hpad::ctrl {

struct MetricResult;  // decide_scale.h
struct Tolerances;    // replica_calculator.h

// The pod table's closed vocabularies, one byte each: a kept trace holds a
// row per pod for every HPA (10,000 HPAs x their pods), so the rows carry no
// strings of their own (issue 12's memory budget, bench/README.md).
enum class TracePodPhase : uint8_t { kNone, kPending, kRunning, kSucceeded, kFailed, kUnknown, kOther };
enum class TraceReady : uint8_t { kAbsent, kTrue, kFalse, kUnknown, kOther };  // the Ready condition's status
enum class TracePodClass : uint8_t { kReady, kUnready, kMissing, kIgnored };     // same order as the calculator's
enum class TracePodRule : uint8_t { kNone, kP1, kP2, kP3, kP4a, kP4b, kP4c, kP5 };

// Names as the API / spec spell them ("" for kNone/kAbsent, "Other" for a
// value outside the vocabulary), and back; unknown text maps to kOther/kNone.
std::string_view TraceName(TracePodPhase v);
std::string_view TraceName(TraceReady v);
std::string_view TraceName(TracePodClass v);
std::string_view TraceName(TracePodRule v);
TracePodPhase ParseTracePodPhase(std::string_view s);
TraceReady ParseTraceReady(std::string_view s);
std::optional<TracePodClass> ParseTracePodClass(std::string_view s);
TracePodRule ParseTracePodRule(std::string_view s);

// One pod of a Resource/ContainerResource/Pods metric (section 6), 40 bytes.
// Its name lives in the owning PodTable's `names`.
struct PodTraceRow {
  Time start_time{};          // valid when has_start_time
  int64_t request_milli = 0;  // utilization targets only (RQ1-RQ4), valid when has_request
  int64_t usage_milli = 0;    // the sample, valid when has_usage (the metrics API had one)
  uint32_t name_offset = 0;   // into PodTable::names
  uint16_t name_size = 0;
  TracePodPhase phase = TracePodPhase::kNone;
  TraceReady ready = TraceReady::kAbsent;
  TracePodClass pod_class = TracePodClass::kReady;
  TracePodRule rule = TracePodRule::kNone;  // P1, P2, P3, P4a, P4b, P4c, P5
  bool has_start_time = false;
  bool has_request = false;
  bool has_usage = false;
};

// The pod table of one metric: compact rows plus every pod name back to back
// in one string (one allocation instead of one per pod). A value; not
// synchronised.
struct PodTable {
  std::vector<PodTraceRow> rows{};
  std::string names{};

  // Appends `row` named `name` (cut at 65535 bytes; API names are at most 253).
  void Add(std::string_view name, PodTraceRow row);
  std::string_view Name(const PodTraceRow& row) const;
  // Drops spare capacity once the table is complete (it is kept per HPA).
  void ShrinkToFit();
  bool empty() const { return rows.empty(); }
  size_t size() const { return rows.size(); }
};

// One spec.metrics[i] (sections 9 and 10).
struct MetricTrace {
  std::string type{};         // spec type: Resource, ContainerResource, Pods, Object, External
  std::string name{};         // resource or metric name ("cpu", "http_requests")
  std::string container{};    // ContainerResource only
  std::string target_type{};  // Utilization | AverageValue | Value
  double target = 0;          // in the user's units: percent for Utilization, else the quantity
  std::string unit{};         // "%" for Utilization, else ""
  bool ok = false;
  std::string error{};        // the metric's error when !ok (X1)
  double current = 0;         // the reported current value in the same units as target
  double ratio = 0;           // usage ratio (current / target) of the first pass
  double tolerance_down = 0;  // C1
  double tolerance_up = 0;
  // "What would change the answer": the band's edges in the target's units
  // (C1: no change while down_below <= current <= up_above).
  double scale_up_above = 0;
  double scale_down_below = 0;
  int32_t proposal = 0;       // replicas proposed (when ok)
  int32_t ready_pods = 0;     // pods counted at the first pass (P5)
  bool recomputed = false;    // C5/C10: unready or missing pods were filled in
  PodTable pods{};
};

struct StabilizationEntry {
  Time time{};
  int32_t replicas = 0;
  bool in_window = false;  // counted by L1/B2 at this reconcile
};

// One scaling policy evaluated by B5/B6.
struct PolicyTrace {
  std::string type{};         // Pods | Percent
  int32_t value = 0;
  int32_t period_seconds = 0;
  int32_t period_start = 0;   // B9: replicas at the start of the period
  int32_t added = 0;          // replicas added within the period
  int32_t removed = 0;        // replicas removed within the period
  int32_t limit = 0;          // the bound this policy allows
  std::optional<Time> frees_at{};  // when the oldest event in the period leaves it
};

struct NormalizationTrace {
  bool behavior = false;           // B-rules (spec.behavior set) or legacy L-rules
  int32_t prenormalized = 0;       // the winning metric's proposal (R8)
  std::string window_direction{};  // "scaleDown" / "scaleUp" window that held it, "" if none
  int32_t window_seconds = 0;      // scale-down window (legacy: the flag)
  int32_t up_window_seconds = 0;   // behaviour only
  Time cutoff{};
  std::vector<StabilizationEntry> entries{};  // the history before this reconcile's entry
  int32_t stabilized = 0;
  std::optional<Time> window_frees_at{};  // when the entries holding the count leave the window
  std::string policy_direction{};  // "scaleUp" | "scaleDown" | "" (no change)
  std::string select_policy{};     // Max | Min | Disabled
  std::vector<PolicyTrace> policies{};
  int32_t rate_limit = 0;          // L3's max(2S, 4) or B5/B6's combined policy limit
  int32_t min_replicas = 0;
  int32_t max_replicas = 0;
  int32_t desired = 0;
  std::string limit_reason{};      // ScalingLimited's reason (L4/B8)
};

struct DecisionTrace {
  std::string ns{};
  std::string name{};
  Time time{};
  int32_t current_replicas = 0;
  int32_t desired_replicas = 0;
  bool rescale = false;
  std::string reason{};               // R8 / R6 text
  std::string skipped{};              // R6: why no metrics were computed, "" when they were
  std::vector<MetricTrace> metrics{};
  int winning_metric = -1;            // X2, index into metrics
  std::string metrics_error{};        // X4 text
  bool metrics_failed = false;        // R7 / X3
  bool normalized = false;            // R9 ran (normalization is filled)
  NormalizationTrace normalization{};
  std::vector<ConditionUpdate> conditions{};  // what the decision sets (R3 excluded)
  std::string history_note{};         // e.g. "no history: decided as a freshly started controller"
  std::string error{};                // a reconcile error outside the metrics (scale read, ...)
  // Issue 16: the metrics had pod tables, not kept for this HPA (the
  // reconciler keeps them for a bounded set of HPAs, trace_keeper.h).
  bool pod_tables_omitted = false;
};

// What a trace without its pod tables says in their place.
inline constexpr const char* kPodTablesOmittedNote =
    "not kept for this HPA (bounded to save memory); asking for this trace keeps them from its next reconcile on, "
    "within one sync period";

// A metric row from its spec and the calculator's result (the current value
// is read back from the MetricStatus the controller writes, X5), with the
// tolerance band (C1) in the target's units. `pods` is the pod table
// (TracePodTable), possibly empty.
MetricTrace DescribeMetric(const k8s::MetricSpec& spec, const MetricResult& result, const Tolerances& tolerances,
                           PodTable pods);

// P1-P5 classes and rule ids. Pure.
const char* PodClassName(int pod_class);

// "web: 4 -> 6 (cpu 93% of 60% target, limited by scaleUp policy Pods 2/60s)".
std::string TraceSummary(const DecisionTrace& trace);
// The trace for a person: the summary, then sections.
std::string RenderTraceText(const DecisionTrace& trace);
nlohmann::json TraceToJson(const DecisionTrace& trace);
// The inverse of TraceToJson for a trace fetched from another hpad's
// /debug/hpas/<ns>/<name> (`hpad explain --from`): foreign input, so every
// field is type-checked, arrays are bounded, text passes SafeText, and an
// error names the field ("metrics[0].pods[3].usageMilli: ...").
Result<DecisionTrace> TraceFromJson(const nlohmann::json& j);
// Drops spare vector/string capacity of a trace about to be kept.
void ShrinkTrace(DecisionTrace& trace);
// Approximate heap bytes held by a trace (bench/README.md's per-HPA cost).
size_t TraceHeapBytes(const DecisionTrace& trace);

// Formats a value in the target's units: 66 -> "66", 0.25 -> "0.25", "250m" style is left to quantities.
std::string FormatTraceNumber(double v);

}  // namespace hpad::ctrl
