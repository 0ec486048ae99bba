// FakeApiClient: an in-memory Kubernetes API server behind the ApiClient
// interface, for tests of everything built on ApiClient (informers, leader
// election, event recorder, the controller). It is a fake that records, not a
// mock that scripts: it keeps real state and every call is appended to an
// ordered action log tests can assert on.
//
// One in-memory API server model: the state is the simulator's own storage
// (sim/apiserver: ResourceRegistry, ObjectStore, WatchCache), as client-go's
// fake sits on its object tracker. So the fake has the simulator's
// semantics: one global resourceVersion, uid / creationTimestamp /
// generation, API defaulting (13.1 for HPAs, spec.replicas for apps kinds),
// 409 AlreadyExists and Conflict, label and field selectors, paged lists
// that are snapshots, the status subresource (a main-resource write keeps
// .status for kinds that have one), the autoscaling/v1 scale subresource,
// watches that replay, resume from history, turn selector transitions into
// ADDED/DELETED and answer a too-old resourceVersion with an ERROR 410 event.
//
// What remains the fake's own, on top of that storage:
//   * The action log (Actions, ActionsFor, ActionStrings) and failure
//     injection (FailNext, FailNextMatching: the next matching requests fail
//     with a given Status, still recorded).
//   * ListRaw is List() as text, optionally rewritten (SetListBodyRewriter).
//   * GetPath answers only what SetPathResponse set (the metrics APIs are
//     the simulator's HTTP layer, which the fake has no part of).
//   * Watch-stream control the storage has no reason to do: injected
//     events, bookmarks to one resource, clean disconnects, stream errors,
//     ERROR 410s, Compact(); with a Clock, streams end at timeout_seconds of
//     that clock (as the API server ends them).
//   * Resources the simulator does not serve (a test's own example.com
//     kinds) are registered on first use as namespaced resources without
//     subresources, their kind taken from the first object written.
//   * Patch applies merge, strategic-merge and JSON patches itself (with
//     the simulator's patch helpers) and writes the result through the store.
//
// Thread-safety: all methods are thread-safe. Watch streams may be read from
// other threads and Cancel()led concurrently. mu_ guards the action log,
// failure rules, path responses and watch bookkeeping; it is held while a
// request reaches the store, so a request's failure check, effect and log
// entry are one step. Lock order: mu_ -> streams_mu_ -> a stream's lock ->
// the store's locks (see sim/apiserver/object_store.h); the store's change
// listener takes only streams_mu_ and stream locks.
#pragma once

#include <algorithm>
#include <cctype>
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
#include "sim/apiserver/object_store.h"
#include "sim/apiserver/resource_registry.h"
#include "sim/apiserver/store_util.h"
#include "sim/apiserver/watch_cache.h"

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
  // `clock` (optional, must outlive the fake) makes watch streams honour
  // timeout_seconds and stamps creationTimestamp; without one, timestamps
  // are the Unix epoch.
  explicit FakeApiClient(const Clock* clock = nullptr)
      : clock_(clock),
        epoch_clock_(Time{}),
        store_(clock != nullptr ? *clock : static_cast<const Clock&>(epoch_clock_), registry_, watch_cache_) {
    store_.AddChangeListener([this](const sim::StoreEvent&) { WakeStreams(); });
  }
  ~FakeApiClient() override { CloseWatches(std::nullopt); }

  // ---- State set-up and inspection (not recorded as actions) ----

  // Creates or replaces an object as if written by someone else (an event is
  // emitted to watchers); an object without `status` keeps the live one.
  // Returns the stored object with its new resourceVersion.
  Json Put(const GroupVersionResource& gvr, Json object) {
    std::lock_guard<std::mutex> l(mu_);
    Ensure(gvr, &object);
    auto r = store_.Apply(gvr, object);
    HPAD_CHECK(r.ok());
    return *r;
  }
  // Removes an object as if deleted by someone else. False if absent.
  bool Remove(const GroupVersionResource& gvr, const std::string& ns, const std::string& name) {
    std::lock_guard<std::mutex> l(mu_);
    Ensure(gvr, nullptr);
    return store_.Delete(gvr, ns, name).ok();
  }
  std::optional<Json> Object(const GroupVersionResource& gvr, const std::string& ns, const std::string& name) const {
    auto r = store_.Get(gvr, ns, name);
    if (!r.ok()) return std::nullopt;
    return *r;
  }
  std::vector<Json> Objects(const GroupVersionResource& gvr, const std::string& ns = "") const {
    auto r = store_.List(gvr, ns, {});
    if (!r.ok()) return {};
    return std::move(r->items);
  }
  // The latest resourceVersion handed out (global across resources).
  std::string CurrentResourceVersion() const { return std::to_string(store_.ResourceVersion()); }

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
    std::lock_guard<std::mutex> l(streams_mu_);
    int n = 0;
    for (const auto& w : watches_)
      if (w.gvr == gvr && !w.state->Finished()) ++n;
    return n;
  }
  // Delivers `ev` to the open watches of gvr as is (no state change), after
  // the changes they already have.
  void InjectWatchEvent(const GroupVersionResource& gvr, const WatchEvent& ev) {
    ForWatches(gvr, [&](WatchState& s) { s.Push(ev); });
  }
  // Sends a BOOKMARK carrying the current resourceVersion to the open watches
  // of gvr that asked for bookmarks.
  void SendBookmark(const GroupVersionResource& gvr) {
    Json obj = {{"apiVersion", gvr.GroupVersion()}, {"metadata", {{"resourceVersion", CurrentResourceVersion()}}}};
    {
      std::lock_guard<std::mutex> l(streams_mu_);
      for (auto& w : watches_)
        if (w.gvr == gvr && w.bookmarks) w.state->Push(WatchEvent{WatchEvent::Type::kBookmark, obj});
    }
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
  // Sends an ERROR event carrying `object` (any JSON: a Status with an odd
  // code, a null kind, not even an object), then ends the streams.
  void InjectWatchError(const GroupVersionResource& gvr, const Json& object) {
    ForWatches(gvr, [&](WatchState& s) {
      s.Push(WatchEvent{WatchEvent::Type::kError, object});
      s.End(std::nullopt);
    });
  }
  // Forgets all history up to now: a watch from an older resourceVersion
  // gets an ERROR 410 event; open watches are unaffected.
  void Compact() { watch_cache_.Compact(); }

  // ---- ApiClient ----

  Result<Json> Get(const ObjectKey& key) override {
    std::lock_guard<std::mutex> l(mu_);
    Action a = MakeAction("get", key.gvr, key.subresource, key.ns, key.name);
    if (auto f = Fail(a)) return *f;
    Ensure(key.gvr, nullptr);
    return Record(a, key.subresource == "scale" ? store_.GetScale(key.gvr, key.ns, key.name)
                                                : store_.Get(key.gvr, key.ns, key.name));
  }

  Result<Json> List(const GroupVersionResource& gvr, const std::string& ns, const ListOptions& opts) override {
    std::lock_guard<std::mutex> l(mu_);
    Action a = MakeAction("list", gvr, "", ns, "");
    a.options = opts;
    if (auto f = Fail(a)) return *f;
    Ensure(gvr, nullptr);
    sim::ListQuery q;
    q.label_selector = opts.label_selector;
    q.field_selector = opts.field_selector;
    q.limit = opts.limit;
    q.continue_token = opts.continue_token;
    auto r = store_.List(gvr, ns, q);
    if (!r.ok()) return Record(a, Result<Json>(r.status()));
    Json meta = {{"resourceVersion", r->resource_version}};
    if (!r->continue_token.empty()) meta["continue"] = r->continue_token;
    if (!r->continue_token.empty() && r->remaining >= 0) meta["remainingItemCount"] = r->remaining;
    Json items = Json::array();
    for (Json& item : r->items) items.push_back(std::move(item));
    return Record(a, Result<Json>(Json{{"apiVersion", gvr.GroupVersion()}, {"kind", "List"}, {"metadata", meta},
                                       {"items", std::move(items)}}));
  }

  // List() as text (recorded as the same "list" action), passed through
  // the rewriter SetListBodyRewriter installed, if any.
  Result<RawReply> ListRaw(const GroupVersionResource& gvr, const std::string& ns, const ListOptions& opts) override {
    auto j = List(gvr, ns, opts);
    if (!j.ok()) return j.status();
    RawReply reply{j->dump(-1, ' ', false, Json::error_handler_t::replace), "LIST " + gvr.resource + " reply"};
    std::function<std::string(std::string)> rewrite;
    {
      std::lock_guard<std::mutex> l(mu_);
      rewrite = list_body_rewriter_;
    }
    if (rewrite) reply.body = rewrite(std::move(reply.body));
    return reply;
  }
  // Serves ListRaw's bodies through `rewrite` (a test's hostile page text:
  // truncated, odd types); nullptr restores them.
  void SetListBodyRewriter(std::function<std::string(std::string)> rewrite) {
    std::lock_guard<std::mutex> l(mu_);
    list_body_rewriter_ = std::move(rewrite);
  }

  Result<std::unique_ptr<WatchStream>> Watch(const GroupVersionResource& gvr, const std::string& ns,
                                             const ListOptions& opts) override {
    std::lock_guard<std::mutex> l(mu_);
    Action a = MakeAction("watch", gvr, "", ns, "");
    a.options = opts;
    if (auto f = Fail(a)) return *f;
    Ensure(gvr, nullptr);
    sim::WatchOptions wo;
    wo.ns = ns;
    wo.label_selector = opts.label_selector;
    wo.field_selector = opts.field_selector;
    wo.resource_version = opts.resource_version;
    wo.allow_bookmarks = opts.allow_watch_bookmarks;
    auto state = std::make_shared<WatchState>(clock_);
    if (clock_ && opts.timeout_seconds && *opts.timeout_seconds > 0)
      state->deadline = clock_->Now() + std::chrono::seconds(*opts.timeout_seconds);
    auto watcher = store_.Watch(gvr, wo);
    if (!watcher.ok()) {
      if (watcher.status().code() != StatusCode::kGone) return Record(a, watcher.status());
      // A too-old resourceVersion: the stream opens and carries one ERROR
      // event, as the API server answers it.
      state->Push(WatchEvent{WatchEvent::Type::kError, GoneStatus()});
      state->End(std::nullopt);
    } else {
      state->source = std::move(*watcher);
    }
    Log(a, false);
    {
      std::lock_guard<std::mutex> sl(streams_mu_);
      watches_.erase(std::remove_if(watches_.begin(), watches_.end(),
                                    [](const OpenWatch& w) { return w.state->Finished(); }),
                     watches_.end());
      watches_.push_back(OpenWatch{gvr, opts.allow_watch_bookmarks, state});
    }
    ++watches_opened_[GvrKey(gvr)];
    watch_cv_.notify_all();
    return std::unique_ptr<WatchStream>(new Stream(state));
  }

  Result<Json> Create(const GroupVersionResource& gvr, const std::string& ns, const Json& object) override {
    std::lock_guard<std::mutex> l(mu_);
    std::string name = sim::StrAt(object, {"metadata", "name"});
    Action a = MakeAction("create", gvr, "", ns, name);
    a.object = object;
    if (auto f = Fail(a)) return *f;
    Ensure(gvr, &object);
    return Record(a, store_.Create(gvr, ns, object));
  }

  Result<Json> Update(const ObjectKey& key, const Json& object) override {
    std::lock_guard<std::mutex> l(mu_);
    Action a = MakeAction("update", key.gvr, key.subresource, key.ns, key.name);
    a.object = object;
    if (auto f = Fail(a)) return *f;
    Ensure(key.gvr, &object);
    return Record(a, Write(key, object));
  }

  Result<Json> Patch(const ObjectKey& key, PatchType type, const std::string& body) override {
    std::lock_guard<std::mutex> l(mu_);
    Action a = MakeAction("patch", key.gvr, key.subresource, key.ns, key.name);
    a.patch = body;
    a.patch_type = type;
    if (auto f = Fail(a)) return *f;
    Ensure(key.gvr, nullptr);
    // The patch applies to what the subresource serves, then is written
    // through it, as the API server's patch handler does.
    auto current = key.subresource == "scale" ? store_.GetScale(key.gvr, key.ns, key.name)
                                              : store_.Get(key.gvr, key.ns, key.name);
    if (!current.ok()) return Record(a, current);
    Json patch = Json::parse(body, nullptr, /*allow_exceptions=*/false);
    if (patch.is_discarded()) return Record(a, Result<Json>(InvalidError("bad patch: not JSON")));
    Json target;
    switch (type) {
      case PatchType::kJsonPatch: {
        auto patched = sim::JsonPatch(*current, patch);
        if (!patched.ok()) return Record(a, Result<Json>(patched.status()));
        target = std::move(*patched);
        break;
      }
      case PatchType::kStrategicMerge:
        target = sim::StrategicMergePatch(*current, patch);
        break;
      default:
        target = sim::MergePatch(*current, patch);
        break;
    }
    return Record(a, Write(key, target));
  }

  Status Delete(const ObjectKey& key) override {
    std::lock_guard<std::mutex> l(mu_);
    Action a = MakeAction("delete", key.gvr, key.subresource, key.ns, key.name);
    if (auto f = Fail(a)) return *f;
    Ensure(key.gvr, nullptr);
    auto r = store_.Delete(key.gvr, key.ns, key.name);
    return Record(a, r.ok() ? Status::Ok() : r.status());
  }

  Result<Json> GetPath(const std::string& path_and_query) override {
    std::lock_guard<std::mutex> l(mu_);
    Action a = MakeAction("getpath", {}, "", "", path_and_query);
    if (auto f = Fail(a)) return *f;
    auto it = paths_.find(path_and_query);
    if (it == paths_.end()) return Record(a, NotFoundError("the server could not find the requested resource"));
    return Record(a, it->second);
  }

  // metav1.Status for 410 Gone, as sent in a watch ERROR event.
  static Json GoneStatus() {
    return {{"kind", "Status"},     {"apiVersion", "v1"},   {"status", "Failure"},
            {"reason", "Expired"}, {"code", 410},
            {"message", "too old resource version"}};
  }

 private:
  // One stream's queue, shared between the fake (producer of injected
  // events) and one Stream (consumer). Changes come from the store's
  // watcher (`source`); they are moved into `events` before anything is
  // injected, so injected events come after the changes that preceded them.
  struct WatchState {
    explicit WatchState(const Clock* c) : clock(c) {}
    const Clock* clock;
    std::optional<Time> deadline;
    std::mutex mu;
    std::condition_variable cv;
    std::unique_ptr<sim::Watcher> source;  // null after End or when opened with an ERROR; guarded by mu
    std::deque<WatchEvent> events;         // guarded by mu
    bool ended = false;  // no more events after the queue drains; guarded by mu
    std::optional<Status> error;  // guarded by mu
    bool cancelled = false;       // guarded by mu

    // Moves the store watcher's pending changes into `events` (mu held).
    void DrainLocked() {
      if (source == nullptr || ended || cancelled) return;
      WatchEvent ev;
      while (source->Wait(std::chrono::milliseconds(0), &ev) == sim::Watcher::Next::kEvent)
        events.push_back(std::move(ev));
    }
    void Push(const WatchEvent& ev) {
      {
        std::lock_guard<std::mutex> l(mu);
        if (ended || cancelled) return;
        DrainLocked();
        events.push_back(ev);
      }
      cv.notify_all();
    }
    void End(std::optional<Status> err) {
      {
        std::lock_guard<std::mutex> l(mu);
        if (ended) return;
        DrainLocked();
        ended = true;
        error = std::move(err);
        if (source) source->Close();
      }
      cv.notify_all();
    }
    void Wake() {
      { std::lock_guard<std::mutex> l(mu); }
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
      auto ready = [&] {
        s_->DrainLocked();
        return s_->cancelled || !s_->events.empty() || s_->ended;
      };
      if (s_->clock) {
        // Wait on the clock so a SimulatedClock reaching the deadline ends
        // the stream; store changes and pushes call Clock::Notify().
        Time deadline = s_->deadline.value_or(Time::max());
        s_->clock->WaitUntil(deadline, [&] {
          std::lock_guard<std::mutex> l(s_->mu);
          return ready();
        });
      }
      std::unique_lock<std::mutex> l(s_->mu);
      if (s_->clock) s_->DrainLocked();  // changes that landed as the deadline passed come first
      else s_->cv.wait(l, ready);
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
      if (s_->source) s_->source->Close();
      return std::optional<WatchEvent>();
    }
    void Cancel() override {
      {
        std::lock_guard<std::mutex> l(s_->mu);
        s_->cancelled = true;
        if (s_->source) s_->source->Close();
      }
      s_->cv.notify_all();
      if (s_->clock) s_->clock->Notify();
    }

   private:
    std::shared_ptr<WatchState> s_;
  };

  struct OpenWatch {
    GroupVersionResource gvr;
    bool bookmarks = false;
    std::shared_ptr<WatchState> state;
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

  // Registers a resource the simulator does not serve (see the header):
  // namespaced, no subresources, the kind from `object` or else from the
  // plural ("things" -> "Thing"). mu_ held.
  void Ensure(const GroupVersionResource& gvr, const Json* object) {
    if (gvr.resource.empty() || registry_.FindByGvr(gvr) != nullptr) return;
    sim::ResourceInfo info;
    info.gvr = gvr;
    std::string kind = object != nullptr ? sim::StrAt(*object, {"kind"}) : "";
    if (kind.empty()) {
      kind = gvr.resource;
      if (kind.size() > 1 && kind.back() == 's') kind.pop_back();
      kind[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(kind[0])));
    }
    info.kind = kind;
    registry_.Add(std::move(info));
  }

  // PUT through the subresource the key names; the URL's name and
  // namespace fill the body's when it has none (the API server takes them
  // from the URL).
  Result<Json> Write(const ObjectKey& key, Json object) {
    if (object.is_object()) {
      Json& md = object["metadata"];
      if (!md.is_object()) md = Json::object();
      if (sim::StrAt(object, {"metadata", "name"}).empty()) md["name"] = key.name;
    }
    if (key.subresource == "status") return store_.UpdateStatus(key.gvr, key.ns, object);
    if (key.subresource == "scale") return store_.UpdateScale(key.gvr, key.ns, key.name, object);
    return store_.Update(key.gvr, key.ns, object);
  }

  // Returns the injected failure for this request, if any (and records it).
  std::optional<Status> Fail(Action& a) {
    for (auto it = failures_.begin(); it != failures_.end(); ++it) {
      if ((!it->verb.empty() && it->verb != a.verb) || (!it->resource.empty() && it->resource != a.gvr.resource))
        continue;
      if (it->match && !it->match(a)) continue;
      Status s = it->status;
      if (--it->remaining <= 0) failures_.erase(it);
      Log(a, true);
      return s;
    }
    return std::nullopt;
  }
  // Appends to the action log (mu_ held).
  void Log(Action a, bool failed) {
    a.failed = failed;
    actions_.push_back(std::move(a));
  }
  // Logs the request with its outcome and hands the outcome back (Status or Result<Json>).
  template <typename Outcome>
  Outcome Record(Action a, Outcome outcome) {
    Log(std::move(a), !outcome.ok());
    return outcome;
  }

  // The store's change listener: streams waiting for changes re-check.
  void WakeStreams() {
    {
      std::lock_guard<std::mutex> l(streams_mu_);
      for (auto& w : watches_) w.state->Wake();
    }
    NotifyClock();
  }

  template <typename F>
  void ForWatches(const GroupVersionResource& gvr, F f) {
    {
      std::lock_guard<std::mutex> l(streams_mu_);
      for (auto& w : watches_)
        if (w.gvr == gvr) f(*w.state);
    }
    NotifyClock();
  }

  void CloseWatches(std::optional<Status> err) {
    {
      std::lock_guard<std::mutex> l(streams_mu_);
      for (auto& w : watches_) w.state->End(err);
    }
    NotifyClock();
  }

  // Streams waiting on the clock re-check their queues. Never called with a
  // stream's lock held (a waiting stream's predicate takes it under the
  // clock's lock).
  void NotifyClock() const {
    if (clock_) clock_->Notify();
  }

  const Clock* clock_;
  SimulatedClock epoch_clock_;  // creationTimestamp source without a clock
  sim::ResourceRegistry registry_;
  sim::WatchCache watch_cache_;
  sim::ObjectStore store_;

  mutable std::mutex mu_;
  mutable std::condition_variable watch_cv_;
  std::map<std::string, int> watches_opened_;  // guarded by mu_
  std::vector<Action> actions_;                // guarded by mu_
  std::deque<FailureRule> failures_;           // guarded by mu_
  std::map<std::string, Result<Json>> paths_;  // guarded by mu_
  std::function<std::string(std::string)> list_body_rewriter_;  // guarded by mu_
  mutable std::mutex streams_mu_;
  std::vector<OpenWatch> watches_;  // guarded by streams_mu_
};

}  // namespace hpad::k8s::testing
