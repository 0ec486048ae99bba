// HistoryStore: the per-HPA behaviour history (H1: recommendations and scale
// events) persisted in ConfigMaps so it survives restarts and fail-overs
// (issue 13, `--persist-history`; beyond upstream, docs/divergences.md 20).
//
// Format (version "hpad.io/history/v1"): kHistoryShards ConfigMaps named
// `hpad-history-00` .. `hpad-history-63` in the leader-election Lease's
// namespace; an HPA's shard is FNV-1a(namespace/name) mod kHistoryShards.
// Each ConfigMap's `data` holds `format: hpad.io/history/v1` and one entry
// per HPA, key `<namespace>_<name>` ('_' never occurs in either), value a
// JSON object {"r": [[unixNanos, replicas], ...], "u": [[unixNanos, change,
// outdated0/1], ...], "d": [...], "p": [unixNanos, from, to]} (r =
// recommendations, u/d = scale-up/down events, p = optional, the pending
// scale write of issue 15, PendingScaleWrite). A ConfigMap with another format (or none) is ignored with a log
// line, never a crash; a malformed entry is skipped with a log line. Sizes
// are bounded (entries per list, bytes per entry). At 10,000 HPAs a shard
// holds ~160 entries, far below the 1 MiB object limit.
//
// Write-ahead (issue 15): with --persist-history the reconciler writes an
// HPA's scale event here (SaveOne) before the scale write it stands for, so
// a leader that dies or freezes right after rescaling leaves its successor
// every event it may have caused (spec B5/B6/B9 count them); the flusher's
// periodic Save only catches up on recommendations and removals.
//
// Ownership: borrows the ApiClient (must outlive it). Thread-safety: all
// methods lock mu_; Load/Save/SaveOne do API calls under it (start-up, the
// flusher, shutdown, and the workers' write-aheads, which queue on mu_).
#pragma once

#include <array>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>

#include "controller/core/normalization.h"
#include "k8sclient/api_client.h"
#include "k8sclient/base/status.h"

namespace hpad::ctrl {

inline constexpr int kHistoryShards = 64;
inline constexpr const char* kHistoryFormat = "hpad.io/history/v1";
inline constexpr size_t kMaxHistoryEntriesPerList = 4096;
inline constexpr size_t kMaxHistoryEntryBytes = 256 * 1024;

int HistoryShardOf(const std::string& key);
std::string HistoryShardName(int shard);
// "ns/name" <-> "ns_name"; nullopt for a data key that is not an HPA entry.
std::string HistoryDataKey(const std::string& key);
std::optional<std::string> HpaKeyOfDataKey(const std::string& data_key);

// Issue 15: the scale write an entry's newest event was written ahead of,
// whose outcome its writer had not seen when it wrote the entry. Stored as
// "p": [unixNanos, from, to] (older readers ignore the field). A successor
// that loads it reads the scale fresh before its first decision: still
// `from` -> the write was not applied and the event is removed.
struct PendingScaleWrite {
  int32_t from = 0;  // the count the write was made over (S)
  int32_t to = 0;    // the count written (D)
  Time at{};         // the decision's `now`: the B10 event's timestamp
};

std::string EncodeHistory(const HpaHistory& history, const std::optional<PendingScaleWrite>& pending = std::nullopt);
// `pending` (optional) receives the entry's "p" field, nullopt when absent.
Result<HpaHistory> DecodeHistory(const std::string& text, std::optional<PendingScaleWrite>* pending = nullptr);

class HistoryStore {
 public:
  HistoryStore(k8s::ApiClient& api, std::string ns) : api_(api), ns_(std::move(ns)) {}

  // Reads every shard. Entries of HPAs not in `live_keys` are dropped (and
  // written away at the next Save of their shard).
  // `pending` (optional) receives the entries' pending scale writes.
  Result<std::map<std::string, HpaHistory>> Load(const std::set<std::string>& live_keys,
                                                 std::map<std::string, PendingScaleWrite>* pending = nullptr);

  // Writes the shards of `histories` (a key mapped to nullopt is removed:
  // a deleted HPA). One write per touched shard; a 409 re-reads that shard
  // and retries once.
  Status Save(const std::map<std::string, std::optional<HpaHistory>>& histories);

  // Issue 15: the write-ahead of a scale event (HpaReconciler's
  // ScaleEventWriter). Writes `key`'s shard now with `history`, and only
  // that shard. On failure the entry goes back to what it was and the shard
  // stays dirty, so the next Save rewrites it (a write whose outcome is
  // unknown must not leave an event that never happened in the store for
  // long).
  // `pending` is stored with the entry until the entry is next written.
  Status SaveOne(const std::string& key, const HpaHistory& history,
                 const std::optional<PendingScaleWrite>& pending = std::nullopt);

  size_t Writes() const;

 private:
  Status WriteShard(int shard);

  k8s::ApiClient& api_;
  const std::string ns_;
  mutable std::mutex mu_;
  std::array<std::map<std::string, std::string>, kHistoryShards> entries_;  // data key -> encoded; guarded by mu_
  std::array<std::string, kHistoryShards> resource_version_;                // "" = absent; guarded by mu_
  std::array<bool, kHistoryShards> dirty_{};                                 // guarded by mu_
  size_t writes_ = 0;                                                        // guarded by mu_
};

}  // namespace hpad::ctrl
