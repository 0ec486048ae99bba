// The one table of feature gates the HPA controller reads (hpa-semantics.md
// 13.3): name, hpad's default and the upstream stage as far as the spec
// knows it. ControllerOptions::GateEnabled, ReconcilerOptions' defaults, the
// daemon's --feature-gates help and KnownFeatureGates all read this table,
// so they cannot disagree.
//
// Defaults are hpad's effective defaults (13.3 "hpad: ..."): where the spec
// is UNSURE of upstream's state, hpad keeps the behaviour it has shipped.
// Constant data; thread-safe.
#pragma once

#include <array>
#include <optional>
#include <string_view>

namespace hpad::ctrl {

enum class Gate {
  kHPAConfigurableTolerance,
  kHPAScaleToZero,
  kHPAGeneration,
  kHPAOptimizedSelectorStore,
  kStaleControllerConsistencyHPA,
  kPodLevelResources,
};

enum class GateStage { kAlpha, kBeta, kGA };

struct GateInfo {
  Gate gate = Gate::kHPAConfigurableTolerance;
  std::string_view name;
  bool default_enabled = false;
  GateStage stage = GateStage::kAlpha;
  std::string_view effect;  // one line for --help and docs
};

inline constexpr std::array<GateInfo, 6> kFeatureGates = {{
    {.gate = Gate::kHPAConfigurableTolerance, .name = "HPAConfigurableTolerance", .default_enabled = true,
     .stage = GateStage::kBeta, .effect = "per-HPA tolerance in spec.behavior (C1)"},
    {.gate = Gate::kHPAScaleToZero, .name = "HPAScaleToZero", .default_enabled = false, .stage = GateStage::kAlpha,
     .effect = "minReplicas 0 and the ScaledToZero condition (Z rules)"},
    {.gate = Gate::kHPAGeneration, .name = "HPAGeneration", .default_enabled = true, .stage = GateStage::kBeta,
     .effect = "status.observedGeneration and immediate requeue on a spec change (W3, Q4)"},
    {.gate = Gate::kHPAOptimizedSelectorStore, .name = "HPAOptimizedSelectorStore", .default_enabled = true,
     .stage = GateStage::kBeta, .effect = "the selector store and its AmbiguousSelector text (S4)"},
    {.gate = Gate::kStaleControllerConsistencyHPA, .name = "StaleControllerConsistencyHPA", .default_enabled = false,
     .stage = GateStage::kAlpha, .effect = "skip a reconcile while the informer cache is stale (Q7)"},
    {.gate = Gate::kPodLevelResources, .name = "PodLevelResources", .default_enabled = true, .stage = GateStage::kBeta,
     .effect = "pod-level resource requests count for utilization (RQ2)"},
}};

constexpr const GateInfo& GateInfoFor(Gate gate) {
  for (const auto& g : kFeatureGates)
    if (g.gate == gate) return g;
  return kFeatureGates[0];  // unreachable: every Gate has a row (checked below)
}

constexpr bool GateDefault(Gate gate) { return GateInfoFor(gate).default_enabled; }

constexpr std::optional<Gate> GateByName(std::string_view name) {
  for (const auto& g : kFeatureGates)
    if (g.name == name) return g.gate;
  return std::nullopt;
}

constexpr std::string_view StageText(GateStage s) {
  return s == GateStage::kGA ? "GA" : s == GateStage::kBeta ? "beta" : "alpha";
}

// Every enumerator has exactly its own row.
static_assert([] {
  for (size_t i = 0; i < kFeatureGates.size(); i++)
    if (static_cast<size_t>(kFeatureGates[i].gate) != i) return false;
  return true;
}());

}  // namespace hpad::ctrl
