// TraceKeeper: the last DecisionTrace of every HPA, for /debug/hpas, `hpad
// explain` and shadow mode (issue 12), with the pod tables bounded (issue
// 16, memory).
//
// A kept trace costs ~2.1 KB per HPA, a third of it the pod tables (a 40-byte
// row plus the name per pod of each Resource/ContainerResource/Pods metric):
// ~10 MiB at 15,000 HPAs with 10 pods each, read only when a person asks
// about one HPA. So every HPA keeps its trace without pod tables, and the
// pod tables are kept for
//   - the `recent_pod_tables` most recently kept traces (what `hpad explain`
//     and shadow mode read right after each reconcile);
//   - HPAs whose last reconcile failed (an error or failed metrics): the
//     ones people ask about;
//   - HPAs asked about (Ask: /debug/hpas/<ns>/<name> asks for the HPA it
//     serves), the `kAskedLimit` most recently asked: from their next
//     reconcile on, within one sync period.
// A trace served without its pod tables says so (`pod_tables_omitted`); the
// table then comes with the next reconcile's trace.
//
// The conditions a decision sets (~700 B of text per HPA) are shared: HPAs in
// the same state set the same three conditions, word for word, so each
// distinct set is kept once (weak entries, swept as the table doubles).
//
// Storage: the trace without tables (shared, never changed) and its tables
// apart, so dropping an older HPA's tables is releasing a pointer, not
// copying its trace; Get puts tables and conditions back (a copy per Get:
// debug requests, `hpad explain`, shadow mode's compare).
//
// Thread-safety: every method is thread-safe (one internal mutex, never held
// while a trace is copied).
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <list>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "controller/core/decision_trace.h"

namespace hpad::ctrl {

class TraceKeeper {
 public:
  static constexpr size_t kDefaultRecentPodTables = 256;
  static constexpr size_t kAskedLimit = 64;

  // `recent_pod_tables` is at least 1 (the trace just kept is complete).
  explicit TraceKeeper(size_t recent_pod_tables = kDefaultRecentPodTables);

  // Keeps `trace` as `key`'s last trace (replacing the previous one).
  void Keep(const std::string& key, DecisionTrace trace);
  // The last trace of `key`, with its pod tables when they are kept; null when none.
  std::shared_ptr<const DecisionTrace> Get(const std::string& key) const;
  // Every kept trace in key order, without pod tables and conditions (for
  // listings: TraceSummary reads neither).
  std::vector<std::shared_ptr<const DecisionTrace>> List() const;
  // Keep `key`'s pod tables from its next trace on (bounded: the
  // kAskedLimit most recently asked keys).
  void Ask(const std::string& key);
  void Erase(const std::string& key);
  size_t size() const;
  // Kept traces that hold pod tables (tests, benchmarks).
  size_t WithPodTables() const;
  // Distinct condition sets held (tests, benchmarks).
  size_t DistinctConditionSets() const;

 private:
  struct Kept {
    std::shared_ptr<const DecisionTrace> trace;               // pods moved out
    std::shared_ptr<const std::vector<PodTable>> pod_tables;  // per metric; null when dropped or none
    uint64_t seq = 0;                                         // of the Keep that stored it
    bool counted = false;  // its tables count toward recent_limit_ (not failed, not asked)
    std::shared_ptr<const std::vector<ConditionUpdate>> conditions;  // interned; null when none
  };
  struct ConditionsLess {
    bool operator()(const std::vector<ConditionUpdate>& a, const std::vector<ConditionUpdate>& b) const;
  };
  using Conditions = std::shared_ptr<const std::vector<ConditionUpdate>>;
  Conditions InternLocked(std::vector<ConditionUpdate> conditions);
  bool AskedLocked(const std::string& key) const;

  const size_t recent_limit_;
  mutable std::mutex mu_;
  std::unordered_map<std::string, Kept> traces_;  // hashed: found once per reconcile (issue 16); List() sorts
  // Keeps that stored tables, oldest first: (key, seq). An entry whose key
  // was kept again since is stale and skipped.
  std::deque<std::pair<std::string, uint64_t>> recent_;
  size_t recent_live_ = 0;  // kept traces with counted tables
  uint64_t next_seq_ = 0;
  std::list<std::string> asked_;  // most recent first, at most kAskedLimit
  std::map<std::vector<ConditionUpdate>, std::weak_ptr<const std::vector<ConditionUpdate>>, ConditionsLess> interned_;
  size_t sweep_at_ = 64;  // interned_ size that triggers the next sweep of expired entries
};

}  // namespace hpad::ctrl
