// See trace_keeper.h (issue 12 traces, issue 16 bounded pod tables).
#include "controller/trace_keeper.h"

#include <algorithm>
#include <iterator>
#include <tuple>
#include <utility>

namespace hpad::ctrl {

TraceKeeper::TraceKeeper(size_t recent_pod_tables) : recent_limit_(std::max<size_t>(recent_pod_tables, 1)) {}

bool TraceKeeper::ConditionsLess::operator()(const std::vector<ConditionUpdate>& a,
                                             const std::vector<ConditionUpdate>& b) const {
  return std::lexicographical_compare(a.begin(), a.end(), b.begin(), b.end(),
                                      [](const ConditionUpdate& x, const ConditionUpdate& y) {
                                        return std::tie(x.type, x.status, x.reason, x.message) <
                                               std::tie(y.type, y.status, y.reason, y.message);
                                      });
}

TraceKeeper::Conditions TraceKeeper::InternLocked(std::vector<ConditionUpdate> conditions) {
  auto it = interned_.find(conditions);
  if (it != interned_.end()) {
    if (auto shared = it->second.lock()) return shared;
    interned_.erase(it);
  }
  auto shared = std::make_shared<const std::vector<ConditionUpdate>>(conditions);
  interned_.emplace(std::move(conditions), shared);
  if (interned_.size() >= sweep_at_) {
    for (auto i = interned_.begin(); i != interned_.end();) i = i->second.expired() ? interned_.erase(i) : std::next(i);
    sweep_at_ = std::max<size_t>(64, 2 * interned_.size());
  }
  return shared;
}

bool TraceKeeper::AskedLocked(const std::string& key) const {
  return std::find(asked_.begin(), asked_.end(), key) != asked_.end();
}

void TraceKeeper::Keep(const std::string& key, DecisionTrace trace) {
  // Outside the lock: move the tables out of the trace.
  auto tables = std::make_shared<std::vector<PodTable>>();
  tables->reserve(trace.metrics.size());
  bool any_rows = false;
  for (auto& m : trace.metrics) {
    any_rows = any_rows || !m.pods.empty();
    tables->push_back(std::move(m.pods));
    m.pods = PodTable{};
  }
  const bool failed = trace.metrics_failed || !trace.error.empty();
  trace.pod_tables_omitted = any_rows;  // as served when the tables are dropped; Get clears it
  std::vector<ConditionUpdate> conditions = std::move(trace.conditions);
  trace.conditions = {};
  Kept kept;
  kept.trace = std::make_shared<const DecisionTrace>(std::move(trace));
  if (any_rows) kept.pod_tables = std::move(tables);

  std::lock_guard<std::mutex> l(mu_);
  if (!conditions.empty()) kept.conditions = InternLocked(std::move(conditions));
  kept.seq = ++next_seq_;
  auto it = traces_.find(key);
  if (it != traces_.end() && it->second.pod_tables && it->second.counted) recent_live_--;
  // Failed and asked-about HPAs keep their tables outside the recent bound.
  kept.counted = any_rows && !failed && !AskedLocked(key);
  if (kept.counted) {
    recent_.emplace_back(key, kept.seq);
    recent_live_++;
  }
  if (it != traces_.end()) {
    it->second = std::move(kept);  // the slot found above: one hash lookup per Keep
  } else {
    traces_.emplace(key, std::move(kept));
  }
  // Drop the tables of the oldest counted traces beyond the bound (their
  // shared_ptr may live on in a reader's copy; the memory goes with it).
  while (recent_live_ > recent_limit_ && !recent_.empty()) {
    auto [old_key, seq] = std::move(recent_.front());
    recent_.pop_front();
    auto o = traces_.find(old_key);
    if (o == traces_.end() || o->second.seq != seq || !o->second.counted || !o->second.pod_tables) continue;  // stale
    o->second.pod_tables.reset();
    o->second.counted = false;
    recent_live_--;
  }
  // Stale entries (keys kept again since) are skipped above; compact them
  // away when they outnumber the live ones, so the queue stays O(live).
  if (recent_.size() > 2 * recent_live_ + 64) {
    std::deque<std::pair<std::string, uint64_t>> live;
    for (auto& e : recent_) {
      auto o = traces_.find(e.first);
      if (o != traces_.end() && o->second.seq == e.second && o->second.counted && o->second.pod_tables)
        live.push_back(std::move(e));
    }
    recent_ = std::move(live);
  }
}

std::shared_ptr<const DecisionTrace> TraceKeeper::Get(const std::string& key) const {
  Kept kept;
  {
    std::lock_guard<std::mutex> l(mu_);
    auto it = traces_.find(key);
    if (it == traces_.end()) return nullptr;
    kept = it->second;
  }
  if (!kept.pod_tables && !kept.conditions) return kept.trace;
  auto full = std::make_shared<DecisionTrace>(*kept.trace);
  if (kept.conditions) full->conditions = *kept.conditions;
  if (kept.pod_tables) {
    for (size_t i = 0; i < full->metrics.size() && i < kept.pod_tables->size(); i++)
      full->metrics[i].pods = (*kept.pod_tables)[i];
    full->pod_tables_omitted = false;
  }
  return full;
}

std::vector<std::shared_ptr<const DecisionTrace>> TraceKeeper::List() const {
  std::lock_guard<std::mutex> l(mu_);
  // In key order, as from an ordered map (the table is hashed).
  std::vector<std::pair<const std::string*, const Kept*>> sorted;
  sorted.reserve(traces_.size());
  for (const auto& entry : traces_) sorted.emplace_back(&entry.first, &entry.second);
  std::sort(sorted.begin(), sorted.end(), [](const auto& a, const auto& b) { return *a.first < *b.first; });
  std::vector<std::shared_ptr<const DecisionTrace>> out;
  out.reserve(sorted.size());
  for (const auto& [key, kept] : sorted) out.push_back(kept->trace);
  return out;
}

void TraceKeeper::Ask(const std::string& key) {
  std::lock_guard<std::mutex> l(mu_);
  auto it = std::find(asked_.begin(), asked_.end(), key);
  if (it != asked_.end()) {
    asked_.splice(asked_.begin(), asked_, it);
    return;
  }
  asked_.push_front(key);
  if (asked_.size() > kAskedLimit) asked_.pop_back();
}

void TraceKeeper::Erase(const std::string& key) {
  std::lock_guard<std::mutex> l(mu_);
  auto it = traces_.find(key);
  if (it == traces_.end()) return;
  if (it->second.pod_tables && it->second.counted) recent_live_--;
  traces_.erase(it);
}

size_t TraceKeeper::size() const {
  std::lock_guard<std::mutex> l(mu_);
  return traces_.size();
}

size_t TraceKeeper::DistinctConditionSets() const {
  std::lock_guard<std::mutex> l(mu_);
  size_t n = 0;
  for (const auto& [set, weak] : interned_) n += weak.expired() ? 0 : 1;
  return n;
}

size_t TraceKeeper::WithPodTables() const {
  std::lock_guard<std::mutex> l(mu_);
  size_t n = 0;
  for (const auto& [key, kept] : traces_) n += kept.pod_tables ? 1 : 0;
  return n;
}

}  // namespace hpad::ctrl
