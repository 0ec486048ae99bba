// ShadowReporter (issue 12, `hpad --dry-run`/`--shadow`): after each
// reconcile of a shadow, compares its decision with the status the
// controller in charge wrote (controller/shadow_compare.h) and reports
//   hpad_shadow_desired_replicas{namespace,name}            gauge
//   hpad_shadow_disagreements_total{namespace,name,field}   counter
// and one log line per disagreement with both values and the trace summary.
//
// Owns its metric families in the daemon's registry (borrowed; must outlive
// it). Thread-safety: Observe may run on several workers at once
// (prometheus-cpp's families are internally locked).
#pragma once

#include <memory>

#include "controller/core/decision_trace.h"
#include "k8sclient/api/types/hpa.h"

namespace prometheus {
class Registry;
class Counter;
class Gauge;
template <typename T>
class Family;
}  // namespace prometheus

namespace hpad::ctrl {

class ShadowReporter {
 public:
  explicit ShadowReporter(prometheus::Registry& registry);
  void Observe(const DecisionTrace& trace, const k8s::HpaStatus& written);

 private:
  prometheus::Family<prometheus::Gauge>* desired_;
  prometheus::Family<prometheus::Counter>* disagreements_;
};

}  // namespace hpad::ctrl
