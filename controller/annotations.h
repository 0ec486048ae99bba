// hpad.io/* annotations on an HPA (issue 13): the operator controls hpad adds
// to plain HPAs without a CRD. ParseHpadAnnotations reads them from the HPA's
// metadata and validates each one; an invalid value never stops the HPA: it
// is reported (the reconciler records a Warning event `InvalidAnnotation`
// naming the annotation and the value) and the default applies.
//
//   hpad.io/paused           "true" pauses; "false" or absent does not; any
//                            other value is invalid and does not pause.
//   hpad.io/paused-replicas  a non-negative int32: scale to exactly N once
//                            (not clamped to min/max) and hold there paused.
//                            Wins over hpad.io/paused.
//   hpad.io/sync-period      a Go duration in [1s, 1h]: this HPA's own
//                            reconcile period instead of
//                            --horizontal-pod-autoscaler-sync-period.
//
// Pure value functions: no I/O, no locks; thread-safe.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace hpad::ctrl {

inline constexpr const char* kPausedAnnotation = "hpad.io/paused";
inline constexpr const char* kPausedReplicasAnnotation = "hpad.io/paused-replicas";
inline constexpr const char* kSyncPeriodAnnotation = "hpad.io/sync-period";
inline constexpr const char* kHpadAnnotationPrefix = "hpad.io/";

inline constexpr std::chrono::seconds kMinSyncPeriodAnnotation{1};
inline constexpr std::chrono::hours kMaxSyncPeriodAnnotation{1};

// One rejected annotation: the text of the InvalidAnnotation event.
struct AnnotationProblem {
  std::string annotation{};
  std::string message{};  // names the annotation and the (truncated) value
};

struct HpadAnnotations {
  bool paused = false;                                   // hpad.io/paused == "true"
  std::optional<int32_t> paused_replicas{};              // hpad.io/paused-replicas
  std::optional<std::chrono::nanoseconds> sync_period{}; // hpad.io/sync-period
  std::vector<AnnotationProblem> problems{};             // in annotation-name order

  // Paused by either annotation.
  bool Paused() const { return paused || paused_replicas.has_value(); }
};

HpadAnnotations ParseHpadAnnotations(const std::map<std::string, std::string>& annotations);

// Just the per-HPA sync period (no problems collected): what the work queue
// needs when it re-adds a key; `fallback` when absent or invalid.
std::chrono::nanoseconds SyncPeriodFor(const std::map<std::string, std::string>& annotations,
                                       std::chrono::nanoseconds fallback);

// Whether the hpad.io/* annotations differ between two metadata snapshots:
// such a change is reconciled at once, as a spec change is (Q4).
bool HpadAnnotationsChanged(const std::map<std::string, std::string>& before,
                            const std::map<std::string, std::string>& after);

}  // namespace hpad::ctrl
