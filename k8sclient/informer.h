// Reflector and Informer<T>: keep an ObjectStore in step with the API server
// (architecture.md step 1), the way client-go's reflector/informer do.
//
// Reflector (untyped, JSON): lists the resource (paged with limit/continue),
// then watches from the list's resourceVersion with allowWatchBookmarks and
// a jittered timeoutSeconds; tracks the resourceVersion from events and
// bookmarks; renews the watch when the server closes it; relists on 410
// Gone (as an ERROR event or as the watch request's status) and on any other
// watch ERROR event (odd codes such as 0 or 999 included), after the same
// jittered exponential backoff as other errors; otherwise reconnects from
// the last resourceVersion after that backoff. The backoff waits on the
// injected Clock; a successful LIST does not reset it (a 410 storm never
// becomes back-to-back LISTs), a watch that worked does. It hands lists and events to a
// ReflectorSink, one at a time, in order.
//
// Informer<T> converts JSON into T (a converter such as HpaFromJson or
// PodFromJson), keeps `shared_ptr<const T>` snapshots in an ObjectStore<T>
// and calls add/update/delete handlers. An object that fails conversion is
// skipped with a logged error naming it; it never stops the informer.
//
// Memory (issue 7): a list is converted page by page as it arrives - each
// page's JSON is released before the next page is requested - so a relist
// of 100k pods holds 100k trimmed T plus one page of JSON, never the whole
// list as JSON (~10 KB per pod parsed). The typed objects are applied to
// the store in one Replace once the last page arrived; a list that fails
// part-way is dropped and the store keeps its previous contents. An
// informer given a typed page decoder (the pod informer, issue 16) never
// builds a page DOM: it lists with ApiClient::ListRaw and decodes each
// page's text straight into T (one page's text held at a time); its watch
// events, rare next to a 150,000-pod list, keep the DOM converter.
//
// An exception escaping a handler or converter is caught by the reflector
// loop (an E line naming the reflector), which then relists after a backoff:
// nothing but Stop() ends the reflector thread.
//
// Threads: Start() runs the reflector on its own thread; Stop() cancels the
// open watch, wakes any backoff wait and joins. Relist() is a synchronous
// list + replace on the caller's thread (the scenario runner calls it before
// each virtual tick); it may run with or without the thread. Handlers run on
// whichever thread applied the change, never two at once for one informer,
// and must not call Stop(). Everything else is thread-safe.
#pragma once

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "k8sclient/api/list_page.h"
#include "k8sclient/api_client.h"
#include "k8sclient/base/clock.h"
#include "k8sclient/base/klog.h"
#include "k8sclient/object_store.h"
#include "k8sclient/base/status.h"

namespace hpad::k8s {

// Jittered exponential backoff: the n-th delay (from 0) is
// min(initial * factor^n, max) plus a uniform jitter of up to `jitter` times
// that (client-go's jitter: wait.Jitter(d, 1.0) adds up to 100%).
// Pure apart from its random engine; not thread-safe.
class Backoff {
 public:
  Backoff(Duration initial, Duration max, double factor = 2.0, double jitter = 1.0, uint64_t seed = 0)
      : initial_(initial), max_(max), factor_(factor), jitter_(jitter), rng_(seed ? seed : std::random_device{}()) {}
  // The base delay (before jitter) of the next attempt; does not advance.
  Duration PeekBase() const;
  // The next delay, jitter included; advances the attempt counter.
  Duration Next();
  void Reset() { attempt_ = 0; }
  int attempt() const { return attempt_; }

 private:
  Duration initial_, max_;
  double factor_, jitter_;
  int attempt_ = 0;
  std::mt19937_64 rng_;
};

struct ReflectorOptions {
  GroupVersionResource gvr;
  std::string ns;  // "" = all namespaces
  std::string label_selector;
  std::string field_selector;
  std::string name;              // for logs; defaults to gvr.resource
  int64_t page_size = 500;       // list `limit`; 0 = no paging
  // Watch timeoutSeconds is drawn from [min, 2*min) like client-go, so
  // informers started together do not all reconnect together.
  Duration min_watch_timeout = std::chrono::minutes(5);
  Duration backoff_initial = std::chrono::milliseconds(800);  // client-go's reflector backoff
  Duration backoff_max = std::chrono::seconds(30);
  // A watch that lived this long resets the backoff however it ended
  // (client-go's backoff manager resets after 2 quiet minutes).
  Duration backoff_reset_after = std::chrono::minutes(2);
  uint64_t seed = 0;  // 0 = random; tests fix it
};

class ReflectorSink {
 public:
  // One list (initial sync or relist) in progress. The reflector hands over
  // each page's items as the page arrives (the sink may move from them, and
  // should keep only what it needs), then calls Apply() once - under the
  // reflector's apply lock, so in order with watch events - when the whole
  // list arrived. A list that fails, or restarts after an expired continue
  // token, is destroyed without Apply().
  class List {
   public:
    virtual ~List() = default;
    virtual void AddItems(Json& items) = 0;  // a JSON array
    // Only for sinks whose DecodesPageText(): one page's reply body (never
    // empty; ApiClient::ListRaw names it `what`), decoded by the sink
    // without a DOM. Adds the page's items and sets its
    // metadata.resourceVersion and metadata.continue as the reflector reads
    // them from a DOM page ("" when absent or not strings). An error is a
    // body that does not parse (ParseForeignJson's text); the reflector
    // fails the list with it as List() fails on such a body.
    virtual Status AddPageText(std::string_view /*text*/, std::string_view /*what*/,
                               std::string* /*resource_version*/, std::string* /*continue_token*/) {
      return InternalError("this list does not decode page text");
    }
    virtual void Apply(const std::string& resource_version) = 0;
  };

  virtual ~ReflectorSink() = default;
  // True when the sink's lists decode page text themselves: the reflector
  // then lists with ApiClient::ListRaw and hands each page's body to
  // List::AddPageText instead of List()'s JSON to AddItems.
  virtual bool DecodesPageText() const { return false; }
  virtual std::unique_ptr<List> BeginList() = 0;
  // One ADDED / MODIFIED / DELETED watch event.
  virtual void OnWatchEvent(WatchEvent::Type type, const Json& object) = 0;
};

class Reflector {
 public:
  // `api`, `clock` and `sink` must outlive the reflector.
  Reflector(ApiClient& api, const Clock& clock, ReflectorOptions opts, ReflectorSink& sink);
  ~Reflector();
  Reflector(const Reflector&) = delete;
  Reflector& operator=(const Reflector&) = delete;

  void Start();
  void Stop();
  // Synchronous paged list into the sink (BeginList, AddItems per page,
  // Apply). Watch events older than the list
  // (numeric resourceVersions) are dropped afterwards so a racing watch
  // cannot move an object back in time.
  Status Relist();
  bool HasSynced() const { return synced_.load(); }
  std::string LastSyncResourceVersion() const;
  // Watches opened and relists done (for tests and metrics).
  int64_t watches_started() const { return watches_started_.load(); }
  int64_t lists_done() const { return lists_done_.load(); }
  const ReflectorOptions& options() const { return opts_; }

 private:
  void Run();
  // One list-if-needed + watch + backoff round of Run(); may throw (Run catches).
  void RunOnce(Backoff& backoff, bool& need_list);
  Status WatchOnce(bool* got_events, bool* error_event);
  void WaitBackoff(Duration d);
  // Lists every page into `list`; returns the list's resourceVersion.
  Result<std::string> ListAll(std::unique_ptr<ReflectorSink::List>* list);
  void NoteResourceVersion(const std::string& rv);
  // True if the object's RV is not newer than the last relist's (stale event).
  bool StaleAfterRelist(const Json& object) const;

  ApiClient& api_;
  const Clock& clock_;
  ReflectorOptions opts_;
  ReflectorSink& sink_;

  std::atomic<bool> stopping_{false};
  std::atomic<bool> synced_{false};
  std::atomic<int64_t> watches_started_{0};
  std::atomic<int64_t> lists_done_{0};
  std::thread thread_;

  mutable std::mutex mu_;           // guards the fields below
  WatchStream* current_ = nullptr;  // open watch, for Stop() to cancel
  std::string last_rv_;
  uint64_t relist_rv_ = 0;  // numeric RV of the last list, 0 if none/not numeric
  std::mt19937_64 rng_;

  std::mutex apply_mu_;  // one list/event applied at a time, in order
};

template <typename T>
struct InformerHandlers {
  using Ptr = std::shared_ptr<const T>;
  std::function<void(const Ptr&)> on_add;
  std::function<void(const Ptr& old_obj, const Ptr& new_obj)> on_update;
  std::function<void(const Ptr&)> on_delete;  // the last known state
};

template <typename T>
class Informer : private ReflectorSink {
 public:
  using Ptr = std::shared_ptr<const T>;
  using Converter = std::function<Result<T>(const Json&)>;
  // Optional: decodes one list page's text straight into typed objects
  // (issue 16), giving for every text what the DOM path - List(), then
  // `convert` per item - gives: the same objects, the same skipped items
  // (key and error), the same resourceVersion / continue, and
  // ParseForeignJson's error for text that does not parse. With one, lists
  // go through ApiClient::ListRaw; watch events still use `convert`.
  using PageDecoder = std::function<Status(std::string_view text, std::string_view what, ListPage<T>* page)>;

  Informer(ApiClient& api, const Clock& clock, ReflectorOptions opts, Converter convert,
           PageDecoder decode_page = nullptr)
      : clock_(clock), convert_(std::move(convert)), decode_page_(std::move(decode_page)),
        reflector_(api, clock, std::move(opts), *this) {}
  ~Informer() override { Stop(); }

  // Register before Start(); handlers added later miss earlier events.
  void AddEventHandler(InformerHandlers<T> h) {
    std::lock_guard<std::mutex> l(handlers_mu_);
    handlers_.push_back(std::move(h));
  }
  void Start() { reflector_.Start(); }
  void Stop() { reflector_.Stop(); }
  Status Relist() { return reflector_.Relist(); }
  bool HasSynced() const { return reflector_.HasSynced(); }
  // Blocks until synced or the deadline passes; returns HasSynced().
  bool WaitForSync(MonoTime deadline) const {
    return clock_.WaitUntil(deadline, [this] { return HasSynced(); });
  }
  // Transitional wall-clock deadline (see Clock::WaitUntil(Time, ...)).
  bool WaitForSync(Time deadline) const {
    return clock_.WaitUntil(deadline, [this] { return HasSynced(); });
  }
  std::string LastSyncResourceVersion() const { return reflector_.LastSyncResourceVersion(); }
  const ObjectStore<T>& Store() const { return store_; }
  ObjectStore<T>& Store() { return store_; }
  const Reflector& reflector() const { return reflector_; }

 private:
  void LogSkipped(const std::string& key, const Status& error) const {
    HPAD_LOG(Error) << "informer " << reflector_.options().name << ": skipping " << reflector_.options().gvr.resource
                    << " " << (key.empty() ? std::string("<unnamed>") : key) << ": " << error.ToString();
  }
  Ptr Convert(const Json& obj) {
    Result<T> r = convert_(obj);
    if (!r.ok()) {
      LogSkipped(StoreKeyOf(obj), r.status());
      return nullptr;
    }
    return std::make_shared<const T>(std::move(r).value());
  }
  std::vector<InformerHandlers<T>> Handlers() {
    std::lock_guard<std::mutex> l(handlers_mu_);
    return handlers_;
  }

  // Converts each page as it arrives; Apply() replaces the store's contents.
  class TypedList final : public ReflectorSink::List {
   public:
    explicit TypedList(Informer& inf) : inf_(inf) {}
    void AddItems(Json& items) override {
      if (!items.is_array()) return;
      ReserveFor(items.size());
      for (auto& item : items) {
        if (Ptr p = inf_.Convert(item)) objs_.push_back(std::move(p));
        item = Json();  // release this object's JSON now, not with the page
      }
    }
    Status AddPageText(std::string_view text, std::string_view what, std::string* resource_version,
                       std::string* continue_token) override {
      ListPage<T> page;
      if (Status s = inf_.decode_page_(text, what, &page); !s.ok()) return s;
      for (const auto& skipped : page.skipped) inf_.LogSkipped(skipped.key, skipped.error);
      ReserveFor(page.items.size());
      for (T& item : page.items) objs_.push_back(std::make_shared<const T>(std::move(item)));
      *resource_version = std::move(page.resource_version);
      *continue_token = std::move(page.continue_token);
      return Status::Ok();
    }
    void Apply(const std::string&) override {
      auto changes = inf_.store_.Replace(std::move(objs_));
      objs_.clear();
      auto handlers = inf_.Handlers();
      for (const auto& c : changes) Dispatch(handlers, c.old, c.current);
    }

   private:
    // Room for one more page. Growth stays geometric: reserving exactly
    // size + page would reallocate (and move every pointer so far) on
    // every page, quadratic in the list - 4.6% of hpad's CPU while
    // listing 150,000 pods in 300 pages (issue 16).
    void ReserveFor(size_t more) {
      const size_t need = objs_.size() + more;
      if (need > objs_.capacity()) objs_.reserve(std::max(need, 2 * objs_.capacity()));
    }

    Informer& inf_;
    std::vector<Ptr> objs_;
  };

  bool DecodesPageText() const override { return static_cast<bool>(decode_page_); }
  std::unique_ptr<ReflectorSink::List> BeginList() override { return std::make_unique<TypedList>(*this); }

  void OnWatchEvent(WatchEvent::Type type, const Json& object) override {
    auto handlers = Handlers();
    if (type == WatchEvent::Type::kDeleted) {
      Ptr old = store_.Delete(StoreKeyOf(object));
      if (old) {
        // Hand out the final state when it converts, else the cached one.
        Ptr last = Convert(object);
        Dispatch(handlers, last ? last : old, nullptr);
      }
      return;
    }
    Ptr cur = Convert(object);
    if (!cur) return;
    Ptr old = store_.Upsert(cur);
    Dispatch(handlers, old, cur);
  }

  static void Dispatch(const std::vector<InformerHandlers<T>>& handlers, const Ptr& old, const Ptr& cur) {
    for (const auto& h : handlers) {
      if (old && cur) {
        if (h.on_update) h.on_update(old, cur);
      } else if (cur) {
        if (h.on_add) h.on_add(cur);
      } else if (old) {
        if (h.on_delete) h.on_delete(old);
      }
    }
  }

  const Clock& clock_;
  Converter convert_;
  PageDecoder decode_page_;
  ObjectStore<T> store_;
  std::mutex handlers_mu_;
  std::vector<InformerHandlers<T>> handlers_;
  Reflector reflector_;  // last: its thread uses the members above
};

}  // namespace hpad::k8s
