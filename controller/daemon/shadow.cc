// See shadow.h.
#include "controller/daemon/shadow.h"

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/registry.h>

#include "controller/shadow_compare.h"
#include "k8sclient/base/klog.h"

namespace hpad::ctrl {

ShadowReporter::ShadowReporter(prometheus::Registry& registry)
    : desired_(&prometheus::BuildGauge()
                    .Name("hpad_shadow_desired_replicas")
                    .Help("Desired replicas hpad decided in shadow mode (it wrote nothing).")
                    .Register(registry)),
      disagreements_(&prometheus::BuildCounter()
                          .Name("hpad_shadow_disagreements_total")
                          .Help("Shadow decisions that differed from the status the controller in charge wrote, by "
                                "field (desiredReplicas, ScalingActive, ScalingLimited).")
                          .Register(registry)) {}

void ShadowReporter::Observe(const DecisionTrace& trace, const k8s::HpaStatus& written) {
  desired_->Add({{"namespace", trace.ns}, {"name", trace.name}}).Set(trace.desired_replicas);
  for (const Disagreement& d : CompareWithWritten(trace, written)) {
    disagreements_->Add({{"namespace", trace.ns}, {"name", trace.name}, {"field", d.field}}).Increment();
    HPAD_LOG(Warning) << "shadow disagreement on HPA " << trace.ns << "/" << trace.name << ": "
                      << DescribeDisagreement(d) << "; hpad's decision: " << TraceSummary(trace);
  }
}

}  // namespace hpad::ctrl
