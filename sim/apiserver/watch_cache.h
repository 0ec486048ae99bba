// WatchCache: the simulated API server's watch machinery - the bounded
// history of committed changes (for watch resumption and the snapshots of
// continued lists; a resourceVersion older than it is 410 Gone, as after an
// etcd compaction) and the open watchers, to which every change is fanned
// out once and serialized at most once per served version however many
// watchers receive it.
//
// The object store drives it: it appends each committed change, in
// resourceVersion order, and opens watches, while holding its own lock, so
// history, watchers and stored objects describe the same revision.
//
// Threads and locks: all methods are thread-safe. mu_ guards history_,
// history_limit_, compacted_rv_ and watchers_. Lock order: ObjectStore's
// lock -> mu_ -> a watcher's own lock (each open watch has one, guarding its
// queue; Watcher::Wait blocks on it, never on mu_).
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "k8sclient/api_client.h"
#include "k8sclient/base/status.h"
#include "sim/apiserver/object_filter.h"
#include "sim/apiserver/resource_registry.h"

namespace hpad::sim {

struct WatchOptions {
  std::string ns;                // "" = all namespaces
  std::string label_selector;
  std::string field_selector;
  // "" or "0": first an ADDED event per existing (matching) object, then live
  // events. Otherwise: every event after that version (410 Gone when the
  // history no longer reaches back that far).
  std::string resource_version;
  bool allow_bookmarks = false;
};

// An open watch. Events come converted to the watched version; a MODIFIED
// that moves an object into (out of) the selector is delivered as ADDED
// (DELETED), as the real API server does.
class Watcher {
 public:
  virtual ~Watcher() = default;
  enum class Next { kEvent, kTimeout, kClosed };
  // Waits up to max_wait for an event (a relative wait; never reads the clock).
  virtual Next Wait(std::chrono::milliseconds max_wait, k8s::WatchEvent* out) = 0;
  // Wait, with the event's object handed out as JSON text (`dump()`). The
  // cache's watchers serialize an event once per served version, however
  // many watchers receive it; this default serializes the Wait result.
  virtual Next WaitSerialized(std::chrono::milliseconds max_wait, k8s::WatchEvent::Type* type,
                              std::shared_ptr<const std::string>* object_json);
  // Ends the watch; a pending Wait returns kClosed. Idempotent, any thread.
  virtual void Close() = 0;
  virtual bool closed() const = 0;
};

struct WatcherCore;  // one open watch's queue (watch_cache.cc)

class WatchCache {
 public:
  WatchCache() = default;
  ~WatchCache();
  WatchCache(const WatchCache&) = delete;
  WatchCache& operator=(const WatchCache&) = delete;

  // Records a committed change (type kAdded, kModified or kDeleted; `object`
  // is the new object, for kDeleted the object as deleted; `old_object` the
  // previous one or null) of storage `storage_key` at `rv`, trims the
  // history to its limit and pushes the change to the open watchers of that
  // storage and namespace. Called in rv order.
  void Append(int64_t rv, const std::string& storage_key, const std::string& ns, const std::string& key,
              k8s::WatchEvent::Type type, std::shared_ptr<const Json> object,
              std::shared_ptr<const Json> old_object);

  // Opens a watch on `info`'s version. Without `from_rv` the watch starts
  // with an ADDED per object of `replay` (the current objects, in key
  // order); with it, with every recorded change after it (410 Gone when the
  // history no longer reaches back).
  Result<std::unique_ptr<Watcher>> Open(const ResourceInfo& info, const std::string& ns, Filter filter,
                                        bool bookmarks, std::optional<int64_t> from_rv,
                                        const std::vector<std::shared_ptr<const Json>>& replay);

  // The state at `snapshot_rv` of the keys of `storage_key` that changed
  // since, for a continued list: key -> object then (null: absent then).
  // Only keys after `after` with `prefix` ("ns/" or "") are returned. 410
  // Gone (reason Expired) when the history no longer reaches back.
  Result<std::map<std::string, std::shared_ptr<const Json>>> StateBefore(int64_t snapshot_rv,
                                                                         const std::string& storage_key,
                                                                         const std::string& prefix,
                                                                         const std::string& after) const;

  // Sends a BOOKMARK carrying `rv` to every watcher that allows them.
  void BroadcastBookmark(int64_t rv);
  // Closes every open watcher (server shutdown).
  void CloseAll();
  // Events kept (default 10000; at least 1). Shrinking compacts at once.
  void SetHistoryLimit(size_t limit);
  // Forgets the whole history, as an etcd compaction at the current
  // revision: a watch or continued list from an older resourceVersion gets
  // 410 Gone; open watchers are unaffected.
  void Compact();

 private:
  // One recorded change (no serialized text: history keeps none).
  struct Entry {
    int64_t rv = 0;
    std::string storage_key;
    std::string ns;
    std::string key;  // "ns/name"
    k8s::WatchEvent::Type type = k8s::WatchEvent::Type::kAdded;
    std::shared_ptr<const Json> object;
    std::shared_ptr<const Json> old_object;
  };
  void TrimLocked();

  mutable std::mutex mu_;
  std::deque<Entry> history_;  // sorted by rv; guarded by mu_
  size_t history_limit_ = 10000;  // guarded by mu_
  int64_t compacted_rv_ = 0;  // the newest resourceVersion no longer in history; guarded by mu_
  // storage key -> open watchers of that resource (fan-out visits only these); guarded by mu_.
  std::map<std::string, std::vector<std::shared_ptr<WatcherCore>>> watchers_;
};

}  // namespace hpad::sim
