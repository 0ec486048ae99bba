// FakeApiClient: an in-memory Kubernetes API server behind the ApiClient
// interface, for tests of everything built on ApiClient (informers, leader
// election, event recorder, the controller). It is a fake that records, not a
// mock that scripts (architecture.md "Habits"): it keeps real state and
// every call is appended to an ordered action log tests can assert on.
//
// What it models:
//   * Objects (nlohmann::json) per GroupVersionResource / namespace / name,
//     with one global resourceVersion counter (like etcd): every write gets a
//     new metadata.resourceVersion; uid and generation are set on create and
//     generation is bumped when `spec` changes.
//   * Get, List (label selector via k8s::Selector, limit/continue paging),
//     Create (409 AlreadyExists), Update (409 Conflict on a stale non-empty
//     resourceVersion), Patch (merge and strategic-merge both applied as
//     RFC 7386 merge patches; JSON patch via nlohmann), Delete, GetPath
//     (responses set with SetPathResponse).
//   * Subresources: "status" (Update/Patch touch only .status) and "scale"
//     (an autoscaling/v1 Scale synthesised from spec.replicas,
//     status.replicas and spec.selector; writes set spec.replicas).
//   * Watch: every write is also appended to an event history and pushed to
//     the open watch streams of that resource. A watch from a
//     resourceVersion replays history after it; "" / "0" replays the current
//     objects as ADDED. Compact() forgets history so older watches get an
//     ERROR 410 Gone event, like a compacted etcd. Tests can also inject
//     events, bookmarks, clean disconnects, stream errors and 410s. With a
//     Clock, streams honour ListOptions::timeout_seconds (they end cleanly
//     when the clock reaches open time + timeout, as the API server does).
//   * Failure injection: FailNext(n, status[, verb[, resource]]) makes the
//     next n matching requests fail with that Status (still recorded).
//
// Simplifications (documented so tests do not rely on them): paged lists
// are not snapshots (later pages see current state, with the first page's
// resourceVersion); watches with a label selector filter by the object's
// current labels and do not synthesise DELETED when an object stops
// matching; field selectors are ignored; no creationTimestamp is written;
// a write to the main resource replaces the whole object, .status included
// (the real server ignores .status there for resources with a status
// subresource).
//
// Thread-safety: all methods are thread-safe. Watch streams may be read from
// other threads and Cancel()led concurrently.
#pragma once

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include "k8sclient/api_client.h"
#include "k8sclient/base/clock.h"
#include "k8sclient/api/label_selector.h"
#include "k8sclient/base/status.h"

namespace hpad::k8s::testing {

// One recorded call. `verb` is one of get, list, watch, create, update,
// patch, delete, getpath (the path is then in `name`).
struct Action {
  std::string verb;
  GroupVersionResource gvr;
  std::string subresource;
  std::string ns;
  std::string name;
  Json object;                // create/update body
  std::string patch;          // patch body
  PatchType patch_type = PatchType::kMerge;
  ListOptions options;        // list/watch
  bool failed = false;        // the request returned an error

  // "update leases/status kube-system/hpad" (subresource and ns omitted when empty).
  std::string ToString() const {
    std::string s = verb + " " + gvr.resource;
    if (!subresource.empty()) s += "/" + subresource;
    if (!ns.empty() || !name.empty()) s += " " + (ns.empty() ? name : ns + "/" + name);
    return s;
  }
};

class FakeApiClient : public ApiClient {
 public:
  // `clock` (optional, must outlive the fake) makes watch streams honour timeout_seconds.
  explicit FakeApiClient(const Clock* clock = nullptr) : clock_(clock) {}
  ~FakeApiClient() override { CloseWatches(std::nullopt); }

  // ---- State set-up and inspection (not recorded as actions) ----

  // Creates or replaces an object as if written by someone else (an event is
  // emitted to watchers). Returns the stored object with its new resourceVersion.
  Json Put(const GroupVersionResource& gvr, Json object) {
    std::unique_lock<std::mutex> l(mu_);
    std::string ns = object["metadata"].value("namespace", "");
    std::string name = object["metadata"].value("name", "");
    auto& bucket = objects_[GvrKey(gvr)];
    auto it = bucket.find(ObjKey(ns, name));
    WatchEvent::Type t = WatchEvent::Type::kAdded;
    if (it == bucket.end()) {
      InitMetadata(object);
    } else {
      t = WatchEvent::Type::kModified;
      CarryMetadata(it->second, object);
    }
    object["metadata"]["resourceVersion"] = std::to_string(++rv_);
    bucket[ObjKey(ns, name)] = object;
    Emit(l, gvr, t, object);
    return object;
  }
  // Removes an object as if deleted by someone else. False if absent.
  bool Remove(const GroupVersionResource& gvr, const std::string& ns, const std::string& name) {
    std::unique_lock<std::mutex> l(mu_);
    return DeleteLocked(l, gvr, ns, name);
  }
  std::optional<Json> Object(const GroupVersionResource& gvr, const std::string& ns, const std::string& name) const {
    std::lock_guard<std::mutex> l(mu_);
    auto b = objects_.find(GvrKey(gvr));
    if (b == objects_.end()) return std::nullopt;
    auto it = b->second.find(ObjKey(ns, name));
    if (it == b->second.end()) return std::nullopt;
    return it->second;
  }
  std::vector<Json> Objects(const GroupVersionResource& gvr, const std::string& ns = "") const {
    std::lock_guard<std::mutex> l(mu_);
    std::vector<Json> out;
    auto b = objects_.find(GvrKey(gvr));
    if (b == objects_.end()) return out;
    for (const auto& [k, obj] : b->second)
      if (ns.empty() || obj["metadata"].value("namespace", "") == ns) out.push_back(obj);
    return out;
  }
  // The latest resourceVersion handed out (global across resources).
  std::string CurrentResourceVersion() const {
    std::lock_guard<std::mutex> l(mu_);
    return std::to_string(rv_);
  }

  // ---- Action log ----
  std::vector<Action> Actions() const {
    std::lock_guard<std::mutex> l(mu_);
    return actions_;
  }
  // Actions with this verb (and resource, when given), in order.
  std::vector<Action> ActionsFor(const std::string& verb, const std::string& resource = "") const {
    std::lock_guard<std::mutex> l(mu_);
    std::vector<Action> out;
    for (const auto& a : actions_)
      if (a.verb == verb && (resource.empty() || a.gvr.resource == resource)) out.push_back(a);
    return out;
  }
  // Action::ToString() of every action, for readable REQUIRE(... == vector{...}).
  std::vector<std::string> ActionStrings() const {
    std::lock_guard<std::mutex> l(mu_);
    std::vector<std::string> out;
    for (const auto& a : actions_) out.push_back(a.ToString());
    return out;
  }
  void ClearActions() {
    std::lock_guard<std::mutex> l(mu_);
    actions_.clear();
  }

  // ---- Failure injection ----
  // The next `n` requests matching verb ("" = any) and resource ("" = any)
  // fail with `status`. Rules are consumed in the order they were added.
  void FailNext(int n, Status status, std::string verb = "", std::string resource = "") {
    HPAD_CHECK(!status.ok());
    std::lock_guard<std::mutex> l(mu_);
    failures_.push_back({n, std::move(status), std::move(verb), std::move(resource), nullptr});
  }
  // The next `n` requests for which `match` returns true fail with `status`
  // (e.g. only list calls that carry a continue token).
  void FailNextMatching(int n, Status status, std::function<bool(const Action&)> match) {
    HPAD_CHECK(!status.ok());
    std::lock_guard<std::mutex> l(mu_);
    failures_.push_back({n, std::move(status), "", "", std::move(match)});
  }
  void SetPathResponse(const std::string& path_and_query, Result<Json> response) {
    std::lock_guard<std::mutex> l(mu_);
    paths_.insert_or_assign(path_and_query, std::move(response));
  }

  // ---- Watch control ----
  // Number of watch streams opened so far on this resource (ever, including closed).
  int WatchesOpened(const GroupVersionResource& gvr) const {
    std::lock_guard<std::mutex> l(mu_);
    auto it = watches_opened_.find(GvrKey(gvr));
    return it == watches_opened_.end() ? 0 : it->second;
  }
  // Blocks until at least `n` watches were opened on gvr (wall-clock safety
  // timeout; returns false on timeout). Lets a test wait for a reconnect.
  bool WaitForWatchesOpened(const GroupVersionResource& gvr, int n,
                            std::chrono::milliseconds timeout = std::chrono::seconds(10)) const {
    std::unique_lock<std::mutex> l(mu_);
    return watch_cv_.wait_for(l, timeout, [&] {
      auto it = watches_opened_.find(GvrKey(gvr));
      return it != watches_opened_.end() && it->second >= n;
    });
  }
  // Currently open (not ended, not cancelled) watch streams on gvr.
  int OpenWatches(const GroupVersionResource& gvr) const {
    std::lock_guard<std::mutex> l(mu_);
    int n = 0;
    for (const auto& w : watches_)
      if (w.gvr == gvr && !w.state->Finished()) ++n;
    return n;
  }
  // Delivers `ev` to the open watches of gvr as is (no state change).
  void InjectWatchEvent(const GroupVersionResource& gvr, const WatchEvent& ev) {
    ForWatches(gvr, [&](WatchState& s) { s.Push(ev); });
  }
  // Sends a BOOKMARK carrying the current resourceVersion to the open watches
  // of gvr that asked for bookmarks.
  void SendBookmark(const GroupVersionResource& gvr) {
    std::lock_guard<std::mutex> l(mu_);
    Json obj = {{"apiVersion", gvr.GroupVersion()}, {"metadata", {{"resourceVersion", std::to_string(rv_)}}}};
    for (auto& w : watches_)
      if (w.gvr == gvr && w.bookmarks) w.state->Push(WatchEvent{WatchEvent::Type::kBookmark, obj});
    NotifyClock();
  }
  // Ends the open watches of gvr cleanly (Next() returns nullopt after the
  // queued events), like a server-side timeout or a dropped connection.
  void DisconnectWatches(const GroupVersionResource& gvr) {
    ForWatches(gvr, [](WatchState& s) { s.End(std::nullopt); });
  }
  // Fails the open watches of gvr: Next() returns `status` after the queued events.
  void FailWatches(const GroupVersionResource& gvr, Status status) {
    ForWatches(gvr, [&](WatchState& s) { s.End(status); });
  }
  // Sends an ERROR event with a 410 Gone metav1.Status, then ends the streams
  // (what the API server does when a watch falls out of the etcd window).
  void InjectGone(const GroupVersionResource& gvr) {
    ForWatches(gvr, [](WatchState& s) {
      s.Push(WatchEvent{WatchEvent::Type::kError, GoneStatus()});
      s.End(std::nullopt);
    });
  }
  // Forgets all history up to now: a watch from an older resourceVersion
  // gets an ERROR 410 event; open watches are unaffected.
  void Compact() {
    std::lock_guard<std::mutex> l(mu_);
    compacted_rv_ = rv_;
    history_.clear();
  }

  // ---- ApiClient ----

  Result<Json> Get(const ObjectKey& key) override {
    std::unique_lock<std::mutex> l(mu_);
    Action a = MakeAction("get", key.gvr, key.subresource, key.ns, key.name);
    if (auto f = Fail(a)) return *f;
    const Json* obj = Find(key.gvr, key.ns, key.name);
    if (!obj) return Record(a, NotFound(key));
    Record(a);
    if (key.subresource == "scale") return ScaleOf(*obj);
    return *obj;
  }

  Result<Json> List(const GroupVersionResource& gvr, const std::string& ns, const ListOptions& opts) override {
    std::unique_lock<std::mutex> l(mu_);
    Action a = MakeAction("list", gvr, "", ns, "");
    a.options = opts;
    if (auto f = Fail(a)) return *f;
    auto sel = Selector::Parse(opts.label_selector);
    if (!sel.ok()) return Record(a, sel.status());
    std::string list_rv = std::to_string(rv_);
    std::string after;
    if (!opts.continue_token.empty()) {
      auto colon = opts.continue_token.find(':');
      if (colon == std::string::npos) return Record(a, InvalidError("bad continue token"));
      list_rv = opts.continue_token.substr(0, colon);
      after = opts.continue_token.substr(colon + 1);
    }
    Json items = Json::array();
    std::string next;
    auto b = objects_.find(GvrKey(gvr));
    if (b != objects_.end()) {
      for (auto it = after.empty() ? b->second.begin() : b->second.upper_bound(after); it != b->second.end(); ++it) {
        const Json& obj = it->second;
        if (!ns.empty() && obj["metadata"].value("namespace", "") != ns) continue;
        if (!sel->Matches(LabelsOf(obj))) continue;
        if (opts.limit > 0 && static_cast<int64_t>(items.size()) == opts.limit) {
          next = list_rv + ":" + std::prev(it)->first;
          break;
        }
        items.push_back(obj);
      }
    }
    Record(a);
    Json meta = {{"resourceVersion", list_rv}};
    if (!next.empty()) meta["continue"] = next;
    return Json{{"apiVersion", gvr.GroupVersion()}, {"kind", "List"}, {"metadata", meta}, {"items", items}};
  }

  Result<std::unique_ptr<WatchStream>> Watch(const GroupVersionResource& gvr, const std::string& ns,
                                             const ListOptions& opts) override {
    std::unique_lock<std::mutex> l(mu_);
    Action a = MakeAction("watch", gvr, "", ns, "");
    a.options = opts;
    if (auto f = Fail(a)) return *f;
    auto sel = Selector::Parse(opts.label_selector);
    if (!sel.ok()) return Record(a, sel.status());
    Record(a);
    auto state = std::make_shared<WatchState>(clock_);
    if (clock_ && opts.timeout_seconds && *opts.timeout_seconds > 0)
      state->deadline = clock_->Now() + std::chrono::seconds(*opts.timeout_seconds);
    OpenWatch w{gvr, ns, *sel, opts.allow_watch_bookmarks, state};
    const std::string& from = opts.resource_version;
    if (from.empty() || from == "0") {
      auto b = objects_.find(GvrKey(gvr));
      if (b != objects_.end())
        for (const auto& [k, obj] : b->second)
          if (w.Wants(obj)) state->Push(WatchEvent{WatchEvent::Type::kAdded, obj});
    } else {
      uint64_t since = 0;
      try {
        since = std::stoull(from);
      } catch (...) {
        return Record(a, InvalidError("bad resourceVersion " + from));
      }
      if (since < compacted_rv_) {
        state->Push(WatchEvent{WatchEvent::Type::kError, GoneStatus()});
        state->End(std::nullopt);
      } else {
        for (const auto& h : history_)
          if (h.rv > since && h.gvr == gvr && w.Wants(h.event.object)) state->Push(h.event);
      }
    }
    watches_.push_back(std::move(w));
    ++watches_opened_[GvrKey(gvr)];
    watch_cv_.notify_all();
    return std::unique_ptr<WatchStream>(new Stream(state));
  }

  Result<Json> Create(const GroupVersionResource& gvr, const std::string& ns, const Json& object) override {
    std::unique_lock<std::mutex> l(mu_);
    Json obj = object;
    std::string name = obj.contains("metadata") ? obj["metadata"].value("name", "") : "";
    Action a = MakeAction("create", gvr, "", ns, name);
    a.object = object;
    if (auto f = Fail(a)) return *f;
    if (name.empty()) return Record(a, InvalidError("metadata.name: Required value"));
    if (Find(gvr, ns, name))
      return Record(a, Status(StatusCode::kConflict, gvr.resource + " \"" + name + "\" already exists",
                              "AlreadyExists", 409));
    if (!ns.empty()) obj["metadata"]["namespace"] = ns;
    InitMetadata(obj);
    obj["metadata"]["resourceVersion"] = std::to_string(++rv_);
    objects_[GvrKey(gvr)][ObjKey(ns, name)] = obj;
    Record(a);
    Emit(l, gvr, WatchEvent::Type::kAdded, obj);
    return obj;
  }

  Result<Json> Update(const ObjectKey& key, const Json& object) override {
    std::unique_lock<std::mutex> l(mu_);
    Action a = MakeAction("update", key.gvr, key.subresource, key.ns, key.name);
    a.object = object;
    if (auto f = Fail(a)) return *f;
    Json* cur = Find(key.gvr, key.ns, key.name);
    if (!cur) return Record(a, NotFound(key));
    std::string want_rv = object.contains("metadata") ? object["metadata"].value("resourceVersion", "") : "";
    if (!want_rv.empty() && want_rv != (*cur)["metadata"].value("resourceVersion", ""))
      return Record(a, ConflictError(key));
    Json next;
    if (key.subresource == "status") {
      next = *cur;
      next["status"] = object.value("status", Json::object());
    } else if (key.subresource == "scale") {
      next = *cur;
      if (object.contains("spec") && object["spec"].contains("replicas"))
        next["spec"]["replicas"] = object["spec"]["replicas"];
    } else {
      next = object;
      CarryMetadata(*cur, next);
    }
    Record(a);
    return Commit(l, key, *cur, std::move(next));
  }

  Result<Json> Patch(const ObjectKey& key, PatchType type, const std::string& body) override {
    std::unique_lock<std::mutex> l(mu_);
    Action a = MakeAction("patch", key.gvr, key.subresource, key.ns, key.name);
    a.patch = body;
    a.patch_type = type;
    if (auto f = Fail(a)) return *f;
    Json* cur = Find(key.gvr, key.ns, key.name);
    if (!cur) return Record(a, NotFound(key));
    Json target = key.subresource == "scale" ? ScaleOf(*cur) : *cur;
    try {
      Json p = Json::parse(body);
      if (type == PatchType::kJsonPatch) {
        target = target.patch(p);
      } else {
        target.merge_patch(p);
      }
    } catch (const std::exception& e) {
      return Record(a, InvalidError(std::string("bad patch: ") + e.what()));
    }
    std::string want_rv = target["metadata"].value("resourceVersion", "");
    if (key.subresource != "scale" && !want_rv.empty() && want_rv != (*cur)["metadata"].value("resourceVersion", ""))
      return Record(a, ConflictError(key));
    Json next = *cur;
    if (key.subresource == "status") {
      next["status"] = target.value("status", Json::object());
    } else if (key.subresource == "scale") {
      if (target.contains("spec") && target["spec"].contains("replicas"))
        next["spec"]["replicas"] = target["spec"]["replicas"];
    } else {
      next = target;
      CarryMetadata(*cur, next);
    }
    Record(a);
    return Commit(l, key, *cur, std::move(next));
  }

  Status Delete(const ObjectKey& key) override {
    std::unique_lock<std::mutex> l(mu_);
    Action a = MakeAction("delete", key.gvr, key.subresource, key.ns, key.name);
    if (auto f = Fail(a)) return *f;
    if (!DeleteLocked(l, key.gvr, key.ns, key.name)) {
      Status s = NotFound(key);
      Record(a, s);
      return s;
    }
    Record(a);
    return Status::Ok();
  }

  Result<Json> GetPath(const std::string& path_and_query) override {
    std::unique_lock<std::mutex> l(mu_);
    Action a = MakeAction("getpath", {}, "", "", path_and_query);
    if (auto f = Fail(a)) return *f;
    auto it = paths_.find(path_and_query);
    if (it == paths_.end()) return Record(a, NotFoundError("the server could not find the requested resource"));
    Record(a, it->second.ok() ? Status() : it->second.status());
    return it->second;
  }

  // metav1.Status for 410 Gone, as sent in a watch ERROR event.
  static Json GoneStatus() {
    return {{"kind", "Status"},     {"apiVersion", "v1"},   {"status", "Failure"},
            {"reason", "Expired"}, {"code", 410},
            {"message", "too old resource version"}};
  }

 private:
  // Shared between the fake (producer) and one Stream (consumer).
  struct WatchState {
    explicit WatchState(const Clock* c) : clock(c) {}
    const Clock* clock;
    std::optional<Time> deadline;
    std::mutex mu;
    std::condition_variable cv;
    std::deque<WatchEvent> events;
    bool ended = false;  // no more events after the queue drains
    std::optional<Status> error;
    bool cancelled = false;

    void Push(const WatchEvent& ev) {
      {
        std::lock_guard<std::mutex> l(mu);
        if (ended || cancelled) return;
        events.push_back(ev);
      }
      cv.notify_all();
    }
    void End(std::optional<Status> err) {
      {
        std::lock_guard<std::mutex> l(mu);
        if (ended) return;
        ended = true;
        error = std::move(err);
      }
      cv.notify_all();
    }
    bool Finished() {
      std::lock_guard<std::mutex> l(mu);
      return ended || cancelled;
    }
  };

  class Stream : public WatchStream {
   public:
    explicit Stream(std::shared_ptr<WatchState> s) : s_(std::move(s)) {}
    ~Stream() override { Cancel(); }
    Result<std::optional<WatchEvent>> Next() override {
      auto ready = [&] { return s_->cancelled || !s_->events.empty() || s_->ended; };
      if (s_->clock) {
        // Wait on the clock so a SimulatedClock reaching the deadline ends
        // the stream; pushes call Clock::Notify().
        Time deadline = s_->deadline.value_or(Time::max());
        s_->clock->WaitUntil(deadline, [&] {
          std::lock_guard<std::mutex> l(s_->mu);
          return ready();
        });
      }
      std::unique_lock<std::mutex> l(s_->mu);
      if (!s_->clock) s_->cv.wait(l, ready);
      if (s_->cancelled) return Status(StatusCode::kCancelled, "watch cancelled");
      if (!s_->events.empty()) {
        WatchEvent ev = std::move(s_->events.front());
        s_->events.pop_front();
        return std::optional<WatchEvent>(std::move(ev));
      }
      if (s_->ended) {
        if (s_->error) return *s_->error;
        return std::optional<WatchEvent>();
      }
      // The clock passed the deadline: the server's timeoutSeconds elapsed.
      s_->ended = true;
      return std::optional<WatchEvent>();
    }
    void Cancel() override {
      {
        std::lock_guard<std::mutex> l(s_->mu);
        s_->cancelled = true;
      }
      s_->cv.notify_all();
      if (s_->clock) s_->clock->Notify();
    }

   private:
    std::shared_ptr<WatchState> s_;
  };

  struct OpenWatch {
    GroupVersionResource gvr;
    std::string ns;
    Selector selector;
    bool bookmarks = false;
    std::shared_ptr<WatchState> state;
    bool Wants(const Json& obj) const {
      if (!ns.empty() && obj["metadata"].value("namespace", "") != ns) return false;
      return selector.Matches(LabelsOf(obj));
    }
  };

  struct HistoryEntry {
    uint64_t rv;
    GroupVersionResource gvr;
    WatchEvent event;
  };

  struct FailureRule {
    int remaining;
    Status status;
    std::string verb;
    std::string resource;
    std::function<bool(const Action&)> match;
  };

  static Action MakeAction(std::string verb, GroupVersionResource gvr, std::string subresource, std::string ns,
                           std::string name) {
    Action a;
    a.verb = std::move(verb);
    a.gvr = std::move(gvr);
    a.subresource = std::move(subresource);
    a.ns = std::move(ns);
    a.name = std::move(name);
    return a;
  }

  static std::string GvrKey(const GroupVersionResource& g) { return g.group + "/" + g.version + "/" + g.resource; }
  static std::string ObjKey(const std::string& ns, const std::string& name) { return ns + "/" + name; }

  static Labels LabelsOf(const Json& obj) {
    Labels out;
    if (obj.contains("metadata") && obj["metadata"].contains("labels") && obj["metadata"]["labels"].is_object())
      for (const auto& [k, v] : obj["metadata"]["labels"].items())
        if (v.is_string()) out[k] = v.get<std::string>();
    return out;
  }

  static Status NotFound(const ObjectKey& key) {
    return NotFoundError(key.gvr.resource + " \"" + key.name + "\" not found");
  }
  static Status ConflictError(const ObjectKey& key) {
    return Status(StatusCode::kConflict,
                  "Operation cannot be fulfilled on " + key.gvr.resource + " \"" + key.name +
                      "\": the object has been modified; please apply your changes to the latest version and try again",
                  "Conflict", 409);
  }

  void InitMetadata(Json& obj) {
    obj["metadata"]["uid"] = "uid-" + std::to_string(++uid_);
    if (obj.contains("spec")) obj["metadata"]["generation"] = 1;
  }
  // Server-owned metadata survives a PUT/patch; generation moves when spec does.
  static void CarryMetadata(const Json& old, Json& next) {
    const Json& om = old["metadata"];
    if (om.contains("uid")) next["metadata"]["uid"] = om["uid"];
    if (om.contains("generation")) {
      int64_t gen = om["generation"].get<int64_t>();
      if (old.value("spec", Json()) != next.value("spec", Json())) ++gen;
      next["metadata"]["generation"] = gen;
    }
  }

  Json* Find(const GroupVersionResource& gvr, const std::string& ns, const std::string& name) {
    auto b = objects_.find(GvrKey(gvr));
    if (b == objects_.end()) return nullptr;
    auto it = b->second.find(ObjKey(ns, name));
    return it == b->second.end() ? nullptr : &it->second;
  }
  const Json* Find(const GroupVersionResource& gvr, const std::string& ns, const std::string& name) const {
    return const_cast<FakeApiClient*>(this)->Find(gvr, ns, name);
  }

  // autoscaling/v1 Scale view of a workload.
  static Json ScaleOf(const Json& obj) {
    const Json& m = obj["metadata"];
    Json scale = {{"apiVersion", "autoscaling/v1"},
                  {"kind", "Scale"},
                  {"metadata",
                   {{"name", m.value("name", "")},
                    {"namespace", m.value("namespace", "")},
                    {"resourceVersion", m.value("resourceVersion", "")}}},
                  {"spec", {{"replicas", 0}}},
                  {"status", {{"replicas", 0}}}};
    if (obj.contains("spec") && obj["spec"].contains("replicas")) scale["spec"]["replicas"] = obj["spec"]["replicas"];
    if (obj.contains("status") && obj["status"].contains("replicas"))
      scale["status"]["replicas"] = obj["status"]["replicas"];
    if (obj.contains("spec") && obj["spec"].contains("selector")) {
      auto sel = Selector::FromJson(obj["spec"]["selector"]);
      if (sel.ok() && !sel->IsNothing()) scale["status"]["selector"] = sel->ToString();
    }
    return scale;
  }

  // Returns the injected failure for this request, if any (and records it).
  std::optional<Status> Fail(Action& a) {
    for (auto it = failures_.begin(); it != failures_.end(); ++it) {
      if ((!it->verb.empty() && it->verb != a.verb) || (!it->resource.empty() && it->resource != a.gvr.resource))
        continue;
      if (it->match && !it->match(a)) continue;
      Status s = it->status;
      if (--it->remaining <= 0) failures_.erase(it);
      Record(a, s);
      return s;
    }
    return std::nullopt;
  }
  void Record(Action a) { actions_.push_back(std::move(a)); }
  Status Record(Action a, const Status& s) {
    a.failed = !s.ok();
    actions_.push_back(std::move(a));
    return s;
  }

  Json Commit(std::unique_lock<std::mutex>& l, const ObjectKey& key, Json& slot, Json next) {
    next["metadata"]["resourceVersion"] = std::to_string(++rv_);
    slot = next;
    Emit(l, key.gvr, WatchEvent::Type::kModified, next);
    if (key.subresource == "scale") return ScaleOf(next);
    return next;
  }

  bool DeleteLocked(std::unique_lock<std::mutex>& l, const GroupVersionResource& gvr, const std::string& ns,
                    const std::string& name) {
    auto b = objects_.find(GvrKey(gvr));
    if (b == objects_.end()) return false;
    auto it = b->second.find(ObjKey(ns, name));
    if (it == b->second.end()) return false;
    Json obj = std::move(it->second);
    b->second.erase(it);
    // The DELETED event carries the deletion's resourceVersion, as etcd does.
    obj["metadata"]["resourceVersion"] = std::to_string(++rv_);
    Emit(l, gvr, WatchEvent::Type::kDeleted, obj);
    return true;
  }

  // Appends to history and fans out to matching open watches (mu_ held).
  void Emit(std::unique_lock<std::mutex>&, const GroupVersionResource& gvr, WatchEvent::Type t, const Json& obj) {
    WatchEvent ev{t, obj};
    history_.push_back({rv_, gvr, ev});
    watches_.erase(std::remove_if(watches_.begin(), watches_.end(), [](const OpenWatch& w) { return w.state->Finished(); }),
                   watches_.end());
    for (auto& w : watches_)
      if (w.gvr == gvr && w.Wants(obj)) w.state->Push(ev);
    NotifyClock();
  }

  template <typename F>
  void ForWatches(const GroupVersionResource& gvr, F f) {
    std::lock_guard<std::mutex> l(mu_);
    for (auto& w : watches_)
      if (w.gvr == gvr) f(*w.state);
    NotifyClock();
  }

  void CloseWatches(std::optional<Status> err) {
    std::lock_guard<std::mutex> l(mu_);
    for (auto& w : watches_) w.state->End(err);
    NotifyClock();
  }

  // Streams waiting on the clock re-check their queues. Lock order is
  // mu_ -> clock mutex -> WatchState::mu, never the reverse.
  void NotifyClock() const {
    if (clock_) clock_->Notify();
  }

  const Clock* clock_;
  mutable std::mutex mu_;
  mutable std::condition_variable watch_cv_;
  uint64_t rv_ = 0;
  uint64_t uid_ = 0;
  uint64_t compacted_rv_ = 0;
  std::map<std::string, std::map<std::string, Json>> objects_;  // gvr key -> "ns/name" -> object
  std::vector<HistoryEntry> history_;
  std::vector<OpenWatch> watches_;
  std::map<std::string, int> watches_opened_;
  std::vector<Action> actions_;
  std::deque<FailureRule> failures_;
  std::map<std::string, Result<Json>> paths_;
};

}  // namespace hpad::k8s::testing
