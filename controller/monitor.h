// Monitor: what the controller reports about its reconciles, typed (upstream
// pkg/controller/podautoscaler/monitor). The daemon implements it with
// Prometheus series (controller/daemon/prometheus_metrics.h, section 15);
// tests use a recording Monitor; the simulator uses NullMonitor.
//
// Labels are enums so no caller can invent a label value: `action` is
// scale_up | scale_down | none and `error` spec | internal | none (15.1-15.4).
//
// Ownership and threads: the controller borrows its Monitor (owned by the
// wiring, must outlive the controller) and calls it from worker threads, so
// implementations must be thread-safe.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace hpad::ctrl {

enum class ActionLabel { kNone, kScaleUp, kScaleDown };
enum class ErrorLabel { kNone, kSpec, kInternal };

// The Prometheus label text (15.1).
constexpr std::string_view LabelText(ActionLabel a) {
  switch (a) {
    case ActionLabel::kScaleUp:
      return "scale_up";
    case ActionLabel::kScaleDown:
      return "scale_down";
    case ActionLabel::kNone:
      break;
  }
  return "none";
}
constexpr std::string_view LabelText(ErrorLabel e) {
  switch (e) {
    case ErrorLabel::kSpec:
      return "spec";
    case ErrorLabel::kInternal:
      return "internal";
    case ErrorLabel::kNone:
      break;
  }
  return "none";
}

// scale_up / scale_down / none for a change from `from` to `to`.
constexpr ActionLabel ActionFor(int64_t from, int64_t to) {
  return to > from ? ActionLabel::kScaleUp : to < from ? ActionLabel::kScaleDown : ActionLabel::kNone;
}

class Monitor {
 public:
  virtual ~Monitor() = default;
  // 15.1/15.2: one finished reconcile of an existing HPA.
  virtual void ObserveReconciliationResult(ActionLabel action, ErrorLabel error, std::chrono::nanoseconds duration) = 0;
  // 15.3/15.4: one metric of one reconcile; `metric_type` is spec.metrics[i].type.
  virtual void ObserveMetricComputationResult(ActionLabel action, ErrorLabel error, std::chrono::nanoseconds duration,
                                              const std::string& metric_type) = 0;
  // 15.5: the desired count the status was written with; removed when the HPA is gone.
  virtual void SetDesiredReplicas(const std::string& ns, const std::string& name, int32_t replicas) = 0;
  virtual void DeleteDesiredReplicas(const std::string& ns, const std::string& name) = 0;
  // 15.6.
  virtual void SetNumHpas(size_t n) = 0;
};

// Records nothing (the simulator, tests that do not look).
class NullMonitor final : public Monitor {
 public:
  void ObserveReconciliationResult(ActionLabel, ErrorLabel, std::chrono::nanoseconds) override {}
  void ObserveMetricComputationResult(ActionLabel, ErrorLabel, std::chrono::nanoseconds, const std::string&) override {}
  void SetDesiredReplicas(const std::string&, const std::string&, int32_t) override {}
  void DeleteDesiredReplicas(const std::string&, const std::string&) override {}
  void SetNumHpas(size_t) override {}
};

}  // namespace hpad::ctrl
