// HPA status bookkeeping: condition list updates (W5), status building (W3),
// change detection (W4), and the upstream message texts that go with them
// (12.2-12.4), including Go's `%+v` rendering of a *metav1.LabelSelector.
//
// Pure functions over k8s::HpaStatus values; `now` is an argument.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "k8sclient/base/clock.h"
#include "k8sclient/api/types/hpa.h"

namespace hpad::ctrl {

// W5: replaces status/reason/message of `type` in place (appending it when
// new); lastTransitionTime moves only when the status value changes.
void SetCondition(std::vector<k8s::HpaCondition>& conditions, const std::string& type, const std::string& status,
                  const std::string& reason, const std::string& message, Time now);
void RemoveCondition(std::vector<k8s::HpaCondition>& conditions, const std::string& type);
const k8s::HpaCondition* FindCondition(const std::vector<k8s::HpaCondition>& conditions, const std::string& type);

// W3: the status rebuilt from scratch, keeping conditions and (unless
// rescaled) lastScaleTime from `previous`.
k8s::HpaStatus BuildStatus(const k8s::HpaStatus& previous, int32_t current_replicas, int32_t desired_replicas,
                           std::vector<k8s::MetricStatus> metric_statuses, bool rescaled,
                           std::optional<int64_t> observed_generation, Time now);

// W4.
bool StatusChanged(const k8s::HpaStatus& original, const k8s::HpaStatus& updated);

// Go's fmt `%+v` of a *metav1.LabelSelector (its generated String()):
// null -> "nil", else "&LabelSelector{MatchLabels:map[string]string{k: v,},MatchExpressions:[]LabelSelectorRequirement{...},}".
std::string GoLabelSelectorString(const k8s::LabelSelectorJson& selector);

// 12.4 descriptions `<M>`.
std::string ResourceUtilizationDescription(const std::string& resource, bool container);
std::string ResourceValueDescription(const std::string& resource);
std::string PodsMetricDescription(const std::string& metric);
std::string ObjectValueDescription(const std::string& kind, const std::string& metric);
std::string ExternalMetricDescription(const std::string& metric, const k8s::LabelSelectorJson& selector);

// Go's `%v` of a []selectors.Key list: "[ns/a ns/b]".
std::string GoKeyList(const std::vector<std::string>& keys);

}  // namespace hpad::ctrl
