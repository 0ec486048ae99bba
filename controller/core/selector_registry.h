// SelectorRegistry: the selector of every HPA, per namespace, for the
// AmbiguousSelector check (hpa-semantics.md S3/S4) and the slots' lifetime
// (Q3/Q5). Part of the pure core: no I/O, no clock; it owns its data.
//
// Thread-safety: every method may be called from any thread; readers share
// one std::shared_mutex (mu_ guards by_ns_ and size_), writers take it
// exclusively.
#pragma once

#include <set>
#include <shared_mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "controller/core/replica_calculator.h"
#include "k8sclient/api/label_selector.h"

namespace hpad::ctrl {

// S3/S4 and Q3/Q5: the registered selector of every HPA, per namespace.
// A slot is created (matching nothing) when an HPA is first seen and removed
// when it is deleted; Reconcile only fills existing slots.
//
// Scale (issue 7): upstream checks every pod against every HPA's selector
// under one global lock, O(HPAs x pods) per reconcile. Here each registered
// selector is indexed by one of its equality requirements (its "anchor"
// key=value; selectors without one go to a short general list), so
// HpasSelectingAny visits, per pod, only the selectors anchored on one of
// the pod's labels: cost scales with the pods being checked, not with the
// HPAs of the namespace. Readers share a lock; re-registering an unchanged
// selector (every reconcile) takes only the shared lock.
class SelectorRegistry {
 public:
  // Q3: creates the slot if absent. Returns true if it was new.
  bool Register(const std::string& ns, const std::string& name);
  // Q5. Returns true if a slot was removed.
  bool Remove(const std::string& ns, const std::string& name);
  // S3: stores the selector only if the slot exists; false if it does not.
  bool PutIfExists(const std::string& ns, const std::string& name, const k8s::Selector& selector);
  bool Exists(const std::string& ns, const std::string& name) const;
  // S4: names (sorted) of the HPAs in `ns` whose selector matches any of the pods.
  std::vector<std::string> HpasSelectingAny(const std::string& ns, const PodList& pods) const;
  size_t Size() const;

 private:
  struct Slot {
    k8s::Selector selector = k8s::Selector::Nothing();
    // Where the slot is indexed: anchored (key=value), general, or nowhere (Nothing).
    enum class Index { kNone, kAnchor, kGeneral } index = Index::kNone;
    std::string anchor_key, anchor_value;
  };
  struct Namespace {
    std::unordered_map<std::string, Slot> slots;
    // label key -> label value -> HPA names anchored there.
    std::unordered_map<std::string, std::unordered_map<std::string, std::set<std::string>>> anchored;
    std::set<std::string> general;  // selectors without an equality requirement
  };
  static void Unindex(Namespace& n, const std::string& name, Slot& slot);
  static void IndexSlot(Namespace& n, const std::string& name, Slot& slot);

  mutable std::shared_mutex mu_;
  std::unordered_map<std::string, Namespace> by_ns_;
  size_t size_ = 0;
};

}  // namespace hpad::ctrl
