// SelectorRegistry (S3/S4, Q3/Q5); see the header for the index layout.
#include "controller/core/selector_registry.h"

#include <algorithm>
#include <mutex>

namespace hpad::ctrl {


void SelectorRegistry::Unindex(Namespace& n, const std::string& name, Slot& slot) {
  if (slot.index == Slot::Index::kAnchor) {
    auto k = n.anchored.find(slot.anchor_key);
    if (k != n.anchored.end()) {
      auto v = k->second.find(slot.anchor_value);
      if (v != k->second.end()) {
        v->second.erase(name);
        if (v->second.empty()) k->second.erase(v);
      }
      if (k->second.empty()) n.anchored.erase(k);
    }
  } else if (slot.index == Slot::Index::kGeneral) {
    n.general.erase(name);
  }
  slot.index = Slot::Index::kNone;
  slot.anchor_key.clear();
  slot.anchor_value.clear();
}

void SelectorRegistry::IndexSlot(Namespace& n, const std::string& name, Slot& slot) {
  if (slot.selector.IsNothing()) return;  // matches no pod: never a candidate
  // Anchor on the equality requirement with the fewest selectors already
  // there, so shared labels (tier=web) do not collect every HPA.
  const k8s::LabelSelectorRequirement* best = nullptr;
  size_t best_size = 0;
  for (const auto& r : slot.selector.requirements()) {
    const bool eq = r.op == k8s::LabelSelectorRequirement::Op::kEquals ||
                    (r.op == k8s::LabelSelectorRequirement::Op::kIn && r.values.size() == 1);
    if (!eq || r.values.empty()) continue;
    size_t size = 0;
    auto k = n.anchored.find(r.key);
    if (k != n.anchored.end()) {
      auto v = k->second.find(r.values[0]);
      if (v != k->second.end()) size = v->second.size();
    }
    if (!best || size < best_size) {
      best = &r;
      best_size = size;
    }
  }
  if (best) {
    slot.index = Slot::Index::kAnchor;
    slot.anchor_key = best->key;
    slot.anchor_value = best->values[0];
    n.anchored[slot.anchor_key][slot.anchor_value].insert(name);
  } else {
    slot.index = Slot::Index::kGeneral;
    n.general.insert(name);
  }
}

bool SelectorRegistry::Register(const std::string& ns, const std::string& name) {
  std::unique_lock<std::shared_mutex> l(mu_);
  auto& slots = by_ns_[ns].slots;
  if (slots.count(name)) return false;
  slots.emplace(name, Slot{});  // Q3: matches nothing until reconciled
  size_++;
  return true;
}

bool SelectorRegistry::Remove(const std::string& ns, const std::string& name) {
  std::unique_lock<std::shared_mutex> l(mu_);
  auto it = by_ns_.find(ns);
  if (it == by_ns_.end()) return false;
  auto slot = it->second.slots.find(name);
  if (slot == it->second.slots.end()) return false;
  Unindex(it->second, name, slot->second);
  it->second.slots.erase(slot);
  size_--;
  if (it->second.slots.empty()) by_ns_.erase(it);
  return true;
}

bool SelectorRegistry::PutIfExists(const std::string& ns, const std::string& name, const k8s::Selector& selector) {
  {
    // The common case: the same selector as last period.
    std::shared_lock<std::shared_mutex> l(mu_);
    auto it = by_ns_.find(ns);
    if (it == by_ns_.end()) return false;
    auto slot = it->second.slots.find(name);
    if (slot == it->second.slots.end()) return false;
    if (slot->second.selector == selector) return true;
  }
  std::unique_lock<std::shared_mutex> l(mu_);
  auto it = by_ns_.find(ns);
  if (it == by_ns_.end()) return false;
  auto slot = it->second.slots.find(name);
  if (slot == it->second.slots.end()) return false;
  Unindex(it->second, name, slot->second);
  slot->second.selector = selector;
  IndexSlot(it->second, name, slot->second);
  return true;
}

bool SelectorRegistry::Exists(const std::string& ns, const std::string& name) const {
  std::shared_lock<std::shared_mutex> l(mu_);
  auto it = by_ns_.find(ns);
  return it != by_ns_.end() && it->second.slots.count(name) > 0;
}

std::vector<std::string> SelectorRegistry::HpasSelectingAny(const std::string& ns, const PodList& pods) const {
  std::shared_lock<std::shared_mutex> l(mu_);
  auto it = by_ns_.find(ns);
  if (it == by_ns_.end()) return {};
  const Namespace& n = it->second;
  std::set<std::string> found;  // sorted, as the result
  auto consider = [&](const std::string& name, const k8s::Labels& labels) {
    if (found.count(name)) return;
    if (n.slots.at(name).selector.Matches(labels)) found.insert(name);
  };
  // The pods of one workload share one interned label set (PodInterner):
  // a label set already judged gives the same answer again, so it is
  // skipped (issue 16: a reconcile judged each of its pods). Bounded, so
  // the check stays a short scan whatever the pods are.
  constexpr size_t kSeenLabelSets = 8;
  const k8s::Labels* seen[kSeenLabelSets];
  size_t seen_count = 0;
  for (const auto& pod : pods) {
    const k8s::Labels& labels = pod->labels();
    if (std::find(seen, seen + seen_count, &labels) != seen + seen_count) continue;
    if (seen_count < kSeenLabelSets) seen[seen_count++] = &labels;
    // A selector anchored on key=value can only match pods carrying that label.
    for (const auto& [key, value] : labels) {
      auto k = n.anchored.find(key);
      if (k == n.anchored.end()) continue;
      auto v = k->second.find(value);
      if (v == k->second.end()) continue;
      for (const auto& name : v->second) consider(name, labels);
    }
    for (const auto& name : n.general) consider(name, labels);
  }
  return std::vector<std::string>(found.begin(), found.end());
}

size_t SelectorRegistry::Size() const {
  std::shared_lock<std::shared_mutex> l(mu_);
  return size_;
}

}  // namespace hpad::ctrl
