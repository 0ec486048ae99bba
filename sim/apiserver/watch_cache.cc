// History, watchers and fan-out (see watch_cache.h).
#include "sim/apiserver/watch_cache.h"

#include <algorithm>
#include <atomic>
#include <condition_variable>

#include "sim/apiserver/conversion.h"

namespace hpad::sim {

using k8s::WatchEvent;
using EvType = k8s::WatchEvent::Type;

namespace {

// An event's object serialized per served version ("group/version"),
// filled by the first watcher of that version that sends it and shared by
// the others: one dump per event and version, however many watchers.
struct SerializedForms {
  std::mutex mu;
  std::map<std::string, std::shared_ptr<const std::string>> by_version;  // guarded by mu
};

struct RawEvent {
  EvType type = EvType::kAdded;
  std::shared_ptr<const Json> object;
  std::shared_ptr<const Json> old_object;
  std::shared_ptr<SerializedForms> forms;  // null: each watcher serializes its own
};

}  // namespace

// One open watch: what it watches (immutable after Open) and its queue.
struct WatcherCore {
  std::string storage_key;
  std::string ns;
  ResourceInfo info;
  Conversion conversion = Conversion::kNone;
  Filter filter;
  bool bookmarks = false;

  std::mutex mu;
  std::condition_variable cv;
  std::deque<RawEvent> queue;  // guarded by mu
  bool closed = false;         // guarded by mu
  // Mirrors `closed` so the fan-out can skip and sweep closed watchers
  // without taking each watcher's lock per event.
  std::atomic<bool> closed_flag{false};

  void Push(RawEvent ev) {
    {
      std::lock_guard<std::mutex> l(mu);
      if (closed) return;
      queue.push_back(std::move(ev));
    }
    cv.notify_one();
  }
  void Close() {
    {
      std::lock_guard<std::mutex> l(mu);
      closed = true;
      closed_flag = true;
    }
    cv.notify_all();
  }
  bool IsClosed() const { return closed_flag.load(); }
};

namespace {

// The filter sees the served form when the versions differ in field names.
bool FilterMatches(const WatcherCore& w, const Json* storage_obj) {
  if (storage_obj == nullptr) return false;
  if (w.filter.MatchesAll()) return true;
  if (w.conversion == Conversion::kNone) return w.filter.Matches(*storage_obj);
  return w.filter.Matches(ConvertOut(w.conversion, w.info, *storage_obj));
}

class WatcherHandle final : public Watcher {
 public:
  explicit WatcherHandle(std::shared_ptr<WatcherCore> core) : core_(std::move(core)) {}
  ~WatcherHandle() override { core_->Close(); }

  Next Wait(std::chrono::milliseconds max_wait, WatchEvent* out) override {
    return WaitFor(max_wait, [&](const RawEvent& ev) { return Translate(ev, out); });
  }

  Next WaitSerialized(std::chrono::milliseconds max_wait, EvType* type,
                      std::shared_ptr<const std::string>* object_json) override {
    return WaitFor(max_wait, [&](const RawEvent& ev) {
      if (ev.type == EvType::kBookmark) {
        WatchEvent out;
        if (!Translate(ev, &out)) return false;
        *type = out.type;
        *object_json = std::make_shared<const std::string>(out.object.dump());
        return true;
      }
      if (!Decide(ev, type)) return false;
      *object_json = Serialized(ev);
      return true;
    });
  }

  void Close() override { core_->Close(); }
  bool closed() const override { return core_->IsClosed(); }

 private:
  // Takes events off the queue until `take` accepts one (returns kEvent),
  // the budget is spent (kTimeout) or the watch closes (kClosed).
  template <typename Take>
  Next WaitFor(std::chrono::milliseconds max_wait, Take take) {
    std::unique_lock<std::mutex> l(core_->mu);
    // One wait covers the whole budget; events that the filter drops do not
    // restart it (they are consumed in the loop below without waiting).
    bool waited = false;
    while (true) {
      if (core_->closed) return Next::kClosed;
      if (core_->queue.empty()) {
        if (waited) return Next::kTimeout;
        core_->cv.wait_for(l, max_wait, [&] { return core_->closed || !core_->queue.empty(); });
        waited = true;
        continue;
      }
      RawEvent ev = std::move(core_->queue.front());
      core_->queue.pop_front();
      l.unlock();
      bool ok = take(ev);
      l.lock();
      if (ok) return Next::kEvent;
    }
  }

  bool Translate(const RawEvent& ev, WatchEvent* out) {
    const WatcherCore& w = *core_;
    if (ev.type == EvType::kBookmark) {
      if (!w.bookmarks) return false;
      out->type = EvType::kBookmark;
      out->object = *ev.object;
      out->object["apiVersion"] = w.info.ApiVersion();
      out->object["kind"] = w.info.kind;
      return true;
    }
    if (!Decide(ev, &out->type)) return false;
    out->object = ConvertOut(w.conversion, w.info, *ev.object);
    return true;
  }

  // Whether this watcher sends the (non-bookmark) event, and as which type:
  // a MODIFIED that moves an object into (out of) the selector is ADDED (DELETED).
  bool Decide(const RawEvent& ev, EvType* out) const {
    const WatcherCore& w = *core_;
    bool now = FilterMatches(w, ev.object.get());
    EvType type = ev.type;
    if (type == EvType::kModified) {
      bool before = FilterMatches(w, ev.old_object.get());
      if (!now && !before) return false;
      if (now && !before) type = EvType::kAdded;
      if (!now && before) type = EvType::kDeleted;
    } else if (!now) {
      return false;
    }
    *out = type;
    return true;
  }

  std::shared_ptr<const std::string> Serialized(const RawEvent& ev) const {
    const WatcherCore& w = *core_;
    auto dump = [&] { return std::make_shared<const std::string>(SharedServed(w.conversion, w.info, ev.object)->dump()); };
    if (ev.forms == nullptr) return dump();
    std::lock_guard<std::mutex> l(ev.forms->mu);
    auto& slot = ev.forms->by_version[w.info.ApiVersion()];
    if (slot == nullptr) slot = dump();
    return slot;
  }

  std::shared_ptr<WatcherCore> core_;
};

void SweepClosed(std::vector<std::shared_ptr<WatcherCore>>& ws) {
  ws.erase(std::remove_if(ws.begin(), ws.end(), [](auto& w) { return w->IsClosed(); }), ws.end());
}

}  // namespace

Watcher::Next Watcher::WaitSerialized(std::chrono::milliseconds max_wait, k8s::WatchEvent::Type* type,
                                      std::shared_ptr<const std::string>* object_json) {
  WatchEvent ev;
  Next n = Wait(max_wait, &ev);
  if (n == Next::kEvent) {
    *type = ev.type;
    *object_json = std::make_shared<const std::string>(ev.object.dump());
  }
  return n;
}

WatchCache::~WatchCache() { CloseAll(); }

void WatchCache::Append(int64_t rv, const std::string& storage_key, const std::string& ns, const std::string& key,
                        EvType type, std::shared_ptr<const Json> object, std::shared_ptr<const Json> old_object) {
  std::lock_guard<std::mutex> l(mu_);
  history_.push_back(Entry{rv, storage_key, ns, key, type, object, old_object});
  TrimLocked();
  auto found = watchers_.find(storage_key);
  if (found == watchers_.end()) return;
  RawEvent ev{type, std::move(object), std::move(old_object), std::make_shared<SerializedForms>()};
  bool any_closed = false;
  for (auto& w : found->second) {
    if (w->IsClosed()) {
      any_closed = true;
      continue;
    }
    if (!w->ns.empty() && w->ns != ns) continue;
    w->Push(ev);
  }
  if (any_closed) SweepClosed(found->second);
}

void WatchCache::TrimLocked() {
  while (history_.size() > history_limit_) {
    compacted_rv_ = history_.front().rv;
    history_.pop_front();
  }
}

Result<std::unique_ptr<Watcher>> WatchCache::Open(const ResourceInfo& info, const std::string& ns, Filter filter,
                                                  bool bookmarks, std::optional<int64_t> from_rv,
                                                  const std::vector<std::shared_ptr<const Json>>& replay) {
  auto core = std::make_shared<WatcherCore>();
  core->storage_key = info.StorageKey();
  core->ns = info.namespaced ? ns : "";
  core->info = info;
  core->conversion = ConversionFor(info);
  core->filter = std::move(filter);
  core->bookmarks = bookmarks;
  std::lock_guard<std::mutex> l(mu_);
  if (!from_rv) {
    for (const auto& obj : replay) core->queue.push_back(RawEvent{EvType::kAdded, obj, nullptr, nullptr});
  } else {
    if (*from_rv < compacted_rv_) {
      return Status(StatusCode::kGone,
                    "too old resource version: " + std::to_string(*from_rv) + " (" +
                        std::to_string(compacted_rv_ + 1) + ")",
                    "Expired", 410);
    }
    auto first = std::upper_bound(history_.begin(), history_.end(), *from_rv,
                                  [](int64_t rv, const Entry& e) { return rv < e.rv; });
    for (auto h = first; h != history_.end(); ++h) {
      if (h->storage_key != core->storage_key) continue;
      if (!core->ns.empty() && h->ns != core->ns) continue;
      core->queue.push_back(RawEvent{h->type, h->object, h->old_object, nullptr});
    }
  }
  auto& ws = watchers_[core->storage_key];
  SweepClosed(ws);
  ws.push_back(core);
  return std::unique_ptr<Watcher>(new WatcherHandle(core));
}

Result<std::map<std::string, std::shared_ptr<const Json>>> WatchCache::StateBefore(int64_t snapshot_rv,
                                                                                   const std::string& storage_key,
                                                                                   const std::string& prefix,
                                                                                   const std::string& after) const {
  std::lock_guard<std::mutex> l(mu_);
  if (snapshot_rv < compacted_rv_) {
    return Status(StatusCode::kGone,
                  "The provided continue parameter is too old to display a consistent list result. You can start "
                  "a new list without the continue parameter.",
                  "Expired", 410);
  }
  // The first later change of a key holds the key's state at the snapshot
  // (its old object; absent for an ADDED).
  std::map<std::string, std::shared_ptr<const Json>> overlay;
  auto first = std::upper_bound(history_.begin(), history_.end(), snapshot_rv,
                                [](int64_t rv, const Entry& e) { return rv < e.rv; });
  for (auto e = first; e != history_.end(); ++e) {
    if (e->storage_key != storage_key || e->key <= after || !HasPrefix(e->key, prefix)) continue;
    overlay.emplace(e->key, e->type == EvType::kAdded ? nullptr : e->old_object);
  }
  return overlay;
}

void WatchCache::BroadcastBookmark(int64_t rv) {
  std::lock_guard<std::mutex> l(mu_);
  auto obj = std::make_shared<const Json>(Json{{"metadata", {{"resourceVersion", std::to_string(rv)}}}});
  for (auto& [key, ws] : watchers_)
    for (auto& w : ws)
      if (w->bookmarks) w->Push(RawEvent{EvType::kBookmark, obj, nullptr, nullptr});
}

void WatchCache::CloseAll() {
  std::map<std::string, std::vector<std::shared_ptr<WatcherCore>>> ws;
  {
    std::lock_guard<std::mutex> l(mu_);
    ws.swap(watchers_);
  }
  for (auto& [key, list] : ws)
    for (auto& w : list) w->Close();
}

void WatchCache::SetHistoryLimit(size_t limit) {
  std::lock_guard<std::mutex> l(mu_);
  history_limit_ = std::max<size_t>(limit, 1);
  TrimLocked();
}

void WatchCache::Compact() {
  std::lock_guard<std::mutex> l(mu_);
  if (!history_.empty()) compacted_rv_ = history_.back().rv;
  history_.clear();
}

}  // namespace hpad::sim
