// ClusterState implementation: registry, object store, watch fan-out,
// change listeners, metrics storage, faults and request accounting.
#include "sim/apiserver/cluster_state.h"

#include <ext/pb_ds/assoc_container.hpp>
#include <ext/pb_ds/tree_policy.hpp>

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <set>

#include "k8sclient/api/label_selector.h"
#include "k8sclient/api/quantity.h"
#include "k8sclient/api/time_format.h"
#include "k8sclient/api/types/hpa.h"
#include "sim/apiserver/store_util.h"

namespace hpad::sim {

using k8s::WatchEvent;
using EvType = k8s::WatchEvent::Type;

namespace {

constexpr const char* kAllVerbs[] = {"create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"};

enum class Conversion { kNone, kHpaV1, kEventsV1 };

Conversion ConversionFor(const ResourceInfo& info) {
  if (info.gvr.group == "autoscaling" && info.gvr.version == "v1" && info.gvr.resource == "horizontalpodautoscalers")
    return Conversion::kHpaV1;
  if (info.gvr.group == "events.k8s.io") return Conversion::kEventsV1;
  return Conversion::kNone;
}

// core/v1 Event -> events.k8s.io/v1 Event.
Json CoreEventToEventsV1(const Json& in) {
  Json out = Json::object();
  out["apiVersion"] = "events.k8s.io/v1";
  out["kind"] = "Event";
  if (in.contains("metadata")) out["metadata"] = in["metadata"];
  auto copy = [&](const char* from, const char* to) {
    if (in.contains(from) && !in[from].is_null()) out[to] = in[from];
  };
  copy("involvedObject", "regarding");
  copy("message", "note");
  copy("reason", "reason");
  copy("type", "type");
  copy("action", "action");
  copy("related", "related");
  copy("eventTime", "eventTime");
  copy("source", "deprecatedSource");
  copy("firstTimestamp", "deprecatedFirstTimestamp");
  copy("lastTimestamp", "deprecatedLastTimestamp");
  copy("count", "deprecatedCount");
  copy("reportingInstance", "reportingInstance");
  if (in.contains("reportingComponent") && !in["reportingComponent"].is_null())
    out["reportingController"] = in["reportingComponent"];
  else if (in.contains("source") && in["source"].contains("component"))
    out["reportingController"] = in["source"]["component"];
  return out;
}

Json EventsV1ToCoreEvent(const Json& in) {
  Json out = Json::object();
  out["apiVersion"] = "v1";
  out["kind"] = "Event";
  if (in.contains("metadata")) out["metadata"] = in["metadata"];
  auto copy = [&](const char* from, const char* to) {
    if (in.contains(from) && !in[from].is_null()) out[to] = in[from];
  };
  copy("regarding", "involvedObject");
  copy("note", "message");
  copy("reason", "reason");
  copy("type", "type");
  copy("action", "action");
  copy("related", "related");
  copy("eventTime", "eventTime");
  copy("deprecatedSource", "source");
  copy("deprecatedFirstTimestamp", "firstTimestamp");
  copy("deprecatedLastTimestamp", "lastTimestamp");
  copy("deprecatedCount", "count");
  copy("reportingController", "reportingComponent");
  copy("reportingInstance", "reportingInstance");
  return out;
}

std::string ObjKey(const std::string& ns, const std::string& name) { return ns + "/" + name; }

std::string GroupResource(const ResourceInfo& info) {
  return info.gvr.group.empty() ? info.gvr.resource : info.gvr.resource + "." + info.gvr.group;
}

Status NotFound(const ResourceInfo& info, const std::string& name) {
  return Status(StatusCode::kNotFound, GroupResource(info) + " \"" + name + "\" not found", "NotFound", 404);
}
Status AlreadyExists(const ResourceInfo& info, const std::string& name) {
  return Status(StatusCode::kConflict, GroupResource(info) + " \"" + name + "\" already exists", "AlreadyExists", 409);
}
Status ConflictErr(const ResourceInfo& info, const std::string& name) {
  return Status(StatusCode::kConflict,
                "Operation cannot be fulfilled on " + GroupResource(info) + " \"" + name +
                    "\": the object has been modified; please apply your changes to the latest version and try again",
                "Conflict", 409);
}
ResourceInfo UnknownInfo(const GroupVersionResource& gvr) {
  ResourceInfo r;
  r.gvr = gvr;
  return r;
}
Status BadRequest(const std::string& m) { return Status(StatusCode::kInvalid, m, "BadRequest", 400); }
Status Invalid(const std::string& m) { return Status(StatusCode::kInvalid, m, "Invalid", 422); }

std::string StrAt(const Json& j, std::initializer_list<const char*> path) {
  const Json* cur = &j;
  for (const char* p : path) {
    if (!cur->is_object()) return "";
    auto it = cur->find(p);
    if (it == cur->end()) return "";
    cur = &*it;
  }
  return cur->is_string() ? cur->get<std::string>() : "";
}

// Everything but metadata and status: a change here bumps metadata.generation.
bool SpecEqual(const Json& a, const Json& b) {
  Json x = a, y = b;
  for (Json* j : {&x, &y}) {
    if (!j->is_object()) continue;
    j->erase("metadata");
    j->erase("status");
    j->erase("apiVersion");
    j->erase("kind");
  }
  return x == y;
}

// A watch or list field selector: terms "path=value", "path==value", "path!=value".
struct FieldTerm {
  std::string path;
  std::string value;
  bool negate = false;
};

Result<std::vector<FieldTerm>> ParseFieldSelector(const std::string& text) {
  std::vector<FieldTerm> terms;
  for (const std::string& raw : SplitString(text, ',')) {
    std::string t = TrimString(raw);
    if (t.empty()) continue;
    FieldTerm term;
    size_t pos;
    if ((pos = t.find("!=")) != std::string::npos) {
      term.negate = true;
      term.path = t.substr(0, pos);
      term.value = t.substr(pos + 2);
    } else if ((pos = t.find("==")) != std::string::npos) {
      term.path = t.substr(0, pos);
      term.value = t.substr(pos + 2);
    } else if ((pos = t.find('=')) != std::string::npos) {
      term.path = t.substr(0, pos);
      term.value = t.substr(pos + 1);
    } else {
      return BadRequest("invalid field selector \"" + text + "\": term \"" + t + "\" has no operator");
    }
    term.path = TrimString(term.path);
    term.value = TrimString(term.value);
    terms.push_back(std::move(term));
  }
  return terms;
}

std::string FieldValue(const Json& obj, const std::string& path) {
  const Json* cur = JsonPathFind(obj, path);
  if (cur == nullptr || cur->is_null()) return "";
  if (cur->is_string()) return cur->get<std::string>();
  return cur->dump();
}

bool MatchFields(const Json& obj, const std::vector<FieldTerm>& terms) {
  for (const FieldTerm& t : terms) {
    bool eq = FieldValue(obj, t.path) == t.value;
    if (eq == t.negate) return false;
  }
  return true;
}

k8s::Labels LabelsOf(const Json& obj) {
  k8s::Labels out;
  const Json* l = JsonPathFind(obj, "metadata.labels");
  if (l != nullptr && l->is_object()) {
    for (auto it = l->begin(); it != l->end(); ++it)
      if (it.value().is_string()) out[it.key()] = it.value().get<std::string>();
  }
  return out;
}

// A selector reads only its requirements' keys, so only those labels are
// taken from the object (no copy of its whole label map per object).
bool SelectorMatches(const k8s::Selector& sel, const Json& obj) {
  if (sel.Empty()) return true;
  if (sel.IsNothing()) return false;
  const Json* labels = nullptr;
  if (obj.is_object()) {
    auto md = obj.find("metadata");
    if (md != obj.end() && md->is_object()) {
      auto l = md->find("labels");
      if (l != md->end() && l->is_object()) labels = &*l;
    }
  }
  k8s::Labels subset;
  if (labels != nullptr) {
    for (const k8s::LabelSelectorRequirement& r : sel.requirements()) {
      auto v = labels->find(r.key);
      if (v != labels->end() && v->is_string()) subset[r.key] = v->get<std::string>();
    }
  }
  return sel.Matches(subset);
}

// A compiled label + field filter.
struct Filter {
  k8s::Selector labels;
  std::vector<FieldTerm> fields;
  bool MatchesAll() const { return labels.Empty() && fields.empty(); }
  bool Matches(const Json& obj) const { return SelectorMatches(labels, obj) && MatchFields(obj, fields); }
};

Result<Filter> MakeFilter(const std::string& label_selector, const std::string& field_selector) {
  Filter f;
  if (!TrimString(label_selector).empty()) {
    auto sel = k8s::Selector::Parse(label_selector);
    if (!sel.ok()) return BadRequest("unable to parse labelSelector: " + sel.status().message());
    f.labels = *sel;
  }
  auto fields = ParseFieldSelector(field_selector);
  if (!fields.ok()) return fields.status();
  f.fields = std::move(*fields);
  return f;
}

Result<int64_t> ParseRv(const std::string& rv) {
  if (rv.empty()) return int64_t{0};
  try {
    size_t idx = 0;
    long long v = std::stoll(rv, &idx);
    if (idx != rv.size() || v < 0) throw std::invalid_argument(rv);
    return static_cast<int64_t>(v);
  } catch (const std::exception&) {
    return BadRequest("invalid resourceVersion \"" + rv + "\"");
  }
}

std::string Uid(int64_t n) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "5e1a0000-0000-4000-8000-%012lld", static_cast<long long>(n));
  return buf;
}

// Kinds a MetricValue may describe that have no namespace.
bool ClusterScopedDescribedKind(const std::string& kind) { return kind == "Namespace" || kind == "Node"; }

// describedObject.namespace as the identity uses it: a namespaced object
// written without one is in "default", as `objects` are.
std::string DescribedNamespace(const Json& mv) {
  std::string kind = StrAt(mv, {"describedObject", "kind"});
  std::string ns = StrAt(mv, {"describedObject", "namespace"});
  if (ns.empty() && !ClusterScopedDescribedKind(kind)) ns = "default";
  return ns;
}

std::string MetricValueIdentity(const Json& mv) {
  // The selector in its canonical string form, so {matchLabels: {a: b}} and
  // {matchExpressions: [{key: a, operator: In, values: [b]}]} are one series.
  const Json* sel = JsonPathFind(mv, "metric.selector");
  std::string s;
  if (sel != nullptr && !sel->is_null()) {
    auto parsed = k8s::Selector::FromJson(*sel);
    s = parsed.ok() ? parsed->ToString() : sel->dump();
  }
  return StrAt(mv, {"describedObject", "kind"}) + "|" + DescribedNamespace(mv) + "|" +
         StrAt(mv, {"describedObject", "name"}) + "|" + StrAt(mv, {"metric", "name"}) + "|" + s;
}

bool IsWriteVerb(const std::string& v) { return v == "create" || v == "update" || v == "patch" || v == "delete"; }

// A scenario's verb (fault rule, expectWrites) against a request's verb.
// "update" (PUT) and "patch" (PATCH) both name a change of an existing
// object: the contract's own example fails the scale write with `verb:
// patch` while the controller writes the scale with PUT (W1), as upstream
// does; which HTTP method a client uses is not what a scenario means.
bool VerbMatches(const std::string& want, const std::string& got) {
  if (want.empty() || want == got) return true;
  auto modify = [](const std::string& v) { return v == "update" || v == "patch"; };
  return modify(want) && modify(got);
}

// "*" matches any subresource; "" (or "-") only the main resource.
bool SubresourceMatches(const std::string& want, const std::string& got) {
  if (want == "*") return true;
  if (want == "-") return got.empty();
  return want == got;
}

}  // namespace

// ---------------------------------------------------------------------------
// Watchers

namespace {

// An event's object serialized per served version ("group/version"),
// filled by the first watcher of that version that sends it and shared by
// the others: one dump per event and version, however many watchers.
struct SerializedForms {
  std::mutex mu;
  std::map<std::string, std::shared_ptr<const std::string>> by_version;
};

struct RawEvent {
  EvType type;
  std::shared_ptr<const Json> object;
  std::shared_ptr<const Json> old_object;
  std::shared_ptr<SerializedForms> forms;  // null: each watcher serializes its own
};

}  // namespace

struct WatcherCore {
  std::string storage_key;
  std::string ns;
  ResourceInfo info;
  Conversion conversion = Conversion::kNone;
  Filter filter;
  bool bookmarks = false;

  std::mutex mu;
  std::condition_variable cv;
  std::deque<RawEvent> queue;
  bool closed = false;
  // Mirrors `closed` so the store's fan-out can skip and sweep closed
  // watchers without taking each watcher's lock per event.
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

Json ConvertOut(Conversion c, const ResourceInfo& info, const Json& storage) {
  switch (c) {
    case Conversion::kHpaV1:
      return k8s::HpaV2ToV1(storage);
    case Conversion::kEventsV1:
      return CoreEventToEventsV1(storage);
    case Conversion::kNone:
      break;
  }
  Json out = storage;
  out["apiVersion"] = info.ApiVersion();
  out["kind"] = info.kind;
  return out;
}

// The served form of a stored object, shared with the store when it is
// already in that form (the storage version itself: no copy).
std::shared_ptr<const Json> SharedServed(Conversion c, const ResourceInfo& info,
                                         const std::shared_ptr<const Json>& storage) {
  if (c == Conversion::kNone && storage->is_object()) {
    auto api_version = storage->find("apiVersion");
    auto kind = storage->find("kind");
    if (api_version != storage->end() && kind != storage->end() && api_version->is_string() && kind->is_string() &&
        api_version->get_ref<const std::string&>() == info.ApiVersion() &&
        kind->get_ref<const std::string&>() == info.kind)
      return storage;
  }
  return std::make_shared<const Json>(ConvertOut(c, info, *storage));
}

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

// ---------------------------------------------------------------------------
// Impl

namespace {

// One resource's objects by "ns/name" (sorted: a namespace is one range),
// with order statistics so a paged list counts what is left after a key in
// O(log n) (remainingItemCount) instead of walking it.
using ObjectTree = __gnu_pbds::tree<std::string, std::shared_ptr<const Json>, std::less<std::string>,
                                    __gnu_pbds::rb_tree_tag, __gnu_pbds::tree_order_statistics_node_update>;

// Keys of `ns`'s objects are "ns/..."; '0' follows '/', so "ns0" is the
// first key past them. "" (every namespace) has no end key.
std::string NamespaceRangeEnd(const std::string& prefix) {
  if (prefix.empty()) return "";
  std::string end = prefix;
  end.back() = static_cast<char>('/' + 1);
  return end;
}

bool HasPrefix(const std::string& key, const std::string& prefix) {
  return key.compare(0, prefix.size(), prefix) == 0;
}

}  // namespace

struct ClusterState::Impl {
  mutable std::mutex mu;
  std::vector<ResourceInfo> registry;
  // storage key "group/resource" -> "ns/name" -> object (storage version)
  std::map<std::string, ObjectTree> objects;
  int64_t rv = 0;
  int64_t uid_counter = 0;
  int64_t name_counter = 0;

  struct HistEvent {
    int64_t rv;
    std::string storage_key;
    std::string ns;
    std::string key;  // "ns/name"
    RawEvent ev;      // without serialized forms (history keeps no text)
  };
  // Sorted by rv. Serves watch resumption and the snapshots of continued lists.
  std::deque<HistEvent> history;
  size_t history_limit = 10000;
  int64_t compacted_rv = 0;  // the newest resourceVersion no longer in history
  // storage key -> open watchers of that resource (fan-out visits only these).
  std::map<std::string, std::vector<std::shared_ptr<WatcherCore>>> watchers;

  // Change listeners.
  std::deque<StoreEvent> pending;  // guarded by mu
  std::mutex dispatch_mu;          // serialises delivery (commit order)
  std::mutex listeners_mu;
  std::map<int, std::function<void(const StoreEvent&)>> listeners;
  int next_listener = 1;

  // Metrics, shared (immutable) so lists hand them out without copies.
  // Keys sorted so a namespace is one range.
  struct PodMetricsEntry {
    std::shared_ptr<const Json> obj;
    // obj serialized, filled by the first list that serves it (a put
    // replaces the entry): PodMetrics lists are the most frequent request.
    std::shared_ptr<const std::string> text;
  };
  std::map<std::string, PodMetricsEntry> pod_metrics;  // "ns/name"
  std::map<std::string, std::shared_ptr<const Json>> metric_values;    // identity
  // describedObject.namespace -> identity -> value (the same values).
  std::map<std::string, std::map<std::string, std::shared_ptr<const Json>>> metric_values_by_ns;
  std::map<std::string, std::shared_ptr<const Json>> external_values;  // "ns/name"

  // Faults and accounting.
  FaultSet faults;
  int64_t next_seq = 1;
  std::vector<RequestRecord> writes;
  std::map<std::string, int64_t> counts;

  // ---- registry (mu held) ----
  const ResourceInfo* FindGvr(const GroupVersionResource& gvr) const {
    for (const ResourceInfo& r : registry)
      if (r.gvr == gvr) return &r;
    return nullptr;
  }
  const ResourceInfo* FindKind(const std::string& api_version, const std::string& kind) const {
    for (const ResourceInfo& r : registry)
      if (r.kind == kind && r.ApiVersion() == api_version) return &r;
    return nullptr;
  }

  static std::string StorageKey(const ResourceInfo& info) { return info.storage_group + "/" + info.storage_resource; }

  const ResourceInfo* StorageInfo(const ResourceInfo& info) const {
    return FindGvr({info.storage_group, info.storage_version, info.storage_resource});
  }

  // Served -> storage form.
  Json ToStorage(const ResourceInfo& info, const Json& served) const {
    Json out;
    switch (ConversionFor(info)) {
      case Conversion::kHpaV1:
        out = k8s::HpaV1ToV2(served);
        break;
      case Conversion::kEventsV1:
        out = EventsV1ToCoreEvent(served);
        break;
      case Conversion::kNone:
        out = served;
        break;
    }
    const ResourceInfo* s = StorageInfo(info);
    out["apiVersion"] = s != nullptr ? s->ApiVersion() : info.ApiVersion();
    out["kind"] = s != nullptr ? s->kind : info.kind;
    return out;
  }

  // API server defaulting on every write (13.1 for HPAs).
  void Default(const ResourceInfo& info, Json& obj) const {
    if (info.storage_group == "autoscaling" && info.storage_resource == "horizontalpodautoscalers") {
      DefaultHpaV2(obj);
    } else if (info.storage_group == "apps") {
      Json& spec = obj["spec"];
      if (!spec.is_object()) spec = Json::object();
      if (!spec.contains("replicas") || spec["replicas"].is_null()) spec["replicas"] = 1;
    }
  }

  // ---- commit (mu held) ----
  // Stores `obj` (type added/modified) or removes the key (deleted); assigns
  // the next resourceVersion; records history; fans out; queues listeners.
  std::shared_ptr<const Json> Commit(const ResourceInfo& info, const std::string& ns, const std::string& name,
                                     EvType type, Json obj, std::shared_ptr<const Json> old) {
    const std::string skey = StorageKey(info);
    const std::string okey = ObjKey(ns, name);
    int64_t new_rv = ++rv;
    obj["metadata"]["resourceVersion"] = std::to_string(new_rv);
    auto stored = std::make_shared<const Json>(std::move(obj));
    if (type == EvType::kDeleted) {
      objects[skey].erase(okey);
    } else {
      objects[skey][okey] = stored;
    }
    history.push_back(HistEvent{new_rv, skey, ns, okey, RawEvent{type, stored, old, nullptr}});
    RawEvent ev{type, stored, old, std::make_shared<SerializedForms>()};
    while (history.size() > history_limit) {
      compacted_rv = history.front().rv;
      history.pop_front();
    }
    FanOut(skey, ns, ev);
    StoreEvent se;
    se.type = type;
    se.storage_group = info.storage_group;
    se.storage_resource = info.storage_resource;
    se.object = stored;
    se.old_object = old;
    se.resource_version = new_rv;
    pending.push_back(std::move(se));
    return stored;
  }

  void FanOut(const std::string& skey, const std::string& ns, const RawEvent& ev) {
    auto found = watchers.find(skey);
    if (found == watchers.end()) return;
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

  static void SweepClosed(std::vector<std::shared_ptr<WatcherCore>>& ws) {
    ws.erase(std::remove_if(ws.begin(), ws.end(), [](auto& w) { return w->IsClosed(); }), ws.end());
  }

  // Delivers queued StoreEvents to listeners in commit order (see the header).
  void Dispatch(const void* owner);

  // The PodMetrics of ListPodMetrics (takes mu itself), with their keys.
  Result<std::vector<std::pair<std::string, PodMetricsEntry>>> SelectPodMetrics(const ClusterState& self,
                                                                                const std::string& ns,
                                                                                const std::string& label_selector);

  void AddResource(ResourceInfo info) {
    if (info.verbs.empty()) info.verbs.assign(std::begin(kAllVerbs), std::end(kAllVerbs));
    if (info.list_kind.empty()) info.list_kind = info.kind + "List";
    if (info.singular.empty()) info.singular = ToLower(info.kind);
    if (info.storage_group.empty() && info.storage_resource.empty()) {
      info.storage_group = info.gvr.group;
      info.storage_version = info.gvr.version;
      info.storage_resource = info.gvr.resource;
    }
    registry.push_back(std::move(info));
  }
};

namespace {

ResourceInfo Builtin(std::string group, std::string version, std::string resource, std::string kind,
                     std::vector<std::string> short_names, bool namespaced, bool status, bool scale,
                     std::vector<std::string> categories = {}) {
  ResourceInfo r;
  r.gvr = {std::move(group), std::move(version), std::move(resource)};
  r.kind = std::move(kind);
  r.short_names = std::move(short_names);
  r.namespaced = namespaced;
  r.has_status = status;
  r.has_scale = scale;
  r.categories = std::move(categories);
  return r;
}

}  // namespace

ClusterState::ClusterState(const Clock& clock) : clock_(clock), impl_(std::make_unique<Impl>()) {
  Impl& m = *impl_;
  m.AddResource(Builtin("", "v1", "namespaces", "Namespace", {"ns"}, false, true, false));
  m.AddResource(Builtin("", "v1", "pods", "Pod", {"po"}, true, true, false, {"all"}));
  m.AddResource(Builtin("", "v1", "events", "Event", {"ev"}, true, false, false));
  m.AddResource(Builtin("apps", "v1", "deployments", "Deployment", {"deploy"}, true, true, true, {"all"}));
  m.AddResource(Builtin("apps", "v1", "statefulsets", "StatefulSet", {"sts"}, true, true, true, {"all"}));
  m.AddResource(Builtin("apps", "v1", "replicasets", "ReplicaSet", {"rs"}, true, true, true, {"all"}));
  m.AddResource(Builtin("autoscaling", "v2", "horizontalpodautoscalers", "HorizontalPodAutoscaler", {"hpa"}, true,
                        true, false, {"all"}));
  for (const char* v : {"v1", "v2beta2"}) {
    ResourceInfo r = Builtin("autoscaling", v, "horizontalpodautoscalers", "HorizontalPodAutoscaler", {"hpa"}, true,
                             true, false, {"all"});
    r.storage_group = "autoscaling";
    r.storage_version = "v2";
    r.storage_resource = "horizontalpodautoscalers";
    m.AddResource(std::move(r));
  }
  m.AddResource(Builtin("coordination.k8s.io", "v1", "leases", "Lease", {}, true, false, false));
  {
    ResourceInfo r = Builtin("events.k8s.io", "v1", "events", "Event", {"ev"}, true, false, false);
    r.storage_group = "";
    r.storage_version = "v1";
    r.storage_resource = "events";
    m.AddResource(std::move(r));
  }
  m.AddResource(Builtin("apiextensions.k8s.io", "v1", "customresourcedefinitions", "CustomResourceDefinition",
                        {"crd", "crds"}, false, true, false));
  for (const char* ns : {"default", "kube-system", "kube-public"}) {
    Json obj = {{"apiVersion", "v1"}, {"kind", "Namespace"}, {"metadata", {{"name", ns}}},
                {"status", {{"phase", "Active"}}}};
    (void)Create(k8s::resources::kNamespaces, "", obj);
  }
}

ClusterState::~ClusterState() { CloseAllWatchers(); }

// ---------------------------------------------------------------------------
// Registry

Status ClusterState::RegisterCrd(const Json& crd) {
  const Json& spec = crd.value("spec", Json::object());
  std::string group = spec.value("group", "");
  const Json& names = spec.value("names", Json::object());
  std::string plural = names.value("plural", "");
  std::string kind = names.value("kind", "");
  if (group.empty() || plural.empty() || kind.empty())
    return Invalid("CustomResourceDefinition needs spec.group, spec.names.plural and spec.names.kind");
  const Json& versions = spec.value("versions", Json::array());
  if (!versions.is_array() || versions.empty()) return Invalid("CustomResourceDefinition needs spec.versions");
  std::string storage_version;
  for (const Json& v : versions)
    if (v.value("storage", false)) storage_version = v.value("name", "");
  if (storage_version.empty()) storage_version = versions[0].value("name", "");
  bool namespaced = spec.value("scope", "Namespaced") != "Cluster";

  std::vector<ResourceInfo> infos;
  for (const Json& v : versions) {
    if (!v.value("served", true)) continue;
    ResourceInfo r;
    r.gvr = {group, v.value("name", ""), plural};
    r.kind = kind;
    r.list_kind = names.value("listKind", kind + "List");
    r.singular = names.value("singular", ToLower(kind));
    if (names.contains("shortNames")) r.short_names = names["shortNames"].get<std::vector<std::string>>();
    if (names.contains("categories")) r.categories = names["categories"].get<std::vector<std::string>>();
    r.namespaced = namespaced;
    const Json sub = v.contains("subresources") ? v["subresources"] : spec.value("subresources", Json::object());
    r.has_status = sub.is_object() && sub.contains("status");
    if (sub.is_object() && sub.contains("scale") && sub["scale"].is_object()) {
      r.has_scale = true;
      r.spec_replicas_path = sub["scale"].value("specReplicasPath", ".spec.replicas");
      r.status_replicas_path = sub["scale"].value("statusReplicasPath", ".status.replicas");
      r.label_selector_path = sub["scale"].value("labelSelectorPath", "");
    }
    r.storage_group = group;
    r.storage_version = storage_version;
    r.storage_resource = plural;
    infos.push_back(std::move(r));
  }
  {
    std::lock_guard<std::mutex> l(impl_->mu);
    auto& reg = impl_->registry;
    reg.erase(std::remove_if(reg.begin(), reg.end(),
                             [&](const ResourceInfo& r) { return r.gvr.group == group && r.gvr.resource == plural; }),
              reg.end());
    // The storage version first: FindByKindAnyVersion prefers it.
    std::stable_sort(infos.begin(), infos.end(), [&](const ResourceInfo& a, const ResourceInfo& b) {
      return (a.gvr.version == storage_version) > (b.gvr.version == storage_version);
    });
    for (ResourceInfo& r : infos) impl_->AddResource(std::move(r));
  }
  return Status::Ok();
}

std::optional<ResourceInfo> ClusterState::FindByGvr(const GroupVersionResource& gvr) const {
  std::lock_guard<std::mutex> l(impl_->mu);
  const ResourceInfo* r = impl_->FindGvr(gvr);
  if (r == nullptr) return std::nullopt;
  return *r;
}

std::optional<ResourceInfo> ClusterState::FindByKind(const std::string& api_version, const std::string& kind) const {
  std::lock_guard<std::mutex> l(impl_->mu);
  const ResourceInfo* r = impl_->FindKind(api_version, kind);
  if (r == nullptr) return std::nullopt;
  return *r;
}

std::optional<ResourceInfo> ClusterState::FindByKindAnyVersion(const std::string& kind) const {
  std::lock_guard<std::mutex> l(impl_->mu);
  for (const ResourceInfo& r : impl_->registry)
    if (r.kind == kind) return r;
  return std::nullopt;
}

std::vector<ResourceInfo> ClusterState::Resources() const {
  std::lock_guard<std::mutex> l(impl_->mu);
  return impl_->registry;
}

// ---------------------------------------------------------------------------
// Objects

namespace {

thread_local const void* g_dispatching_for = nullptr;

}  // namespace


Result<Json> ClusterState::Create(const GroupVersionResource& gvr, const std::string& ns, const Json& obj) {
  Result<Json> result = Status(StatusCode::kInternal, "unset");
  {
    std::lock_guard<std::mutex> l(impl_->mu);
    Impl& m = *impl_;
    const ResourceInfo* info = m.FindGvr(gvr);
    if (info == nullptr) return NotFound(UnknownInfo(gvr), "");
    if (!obj.is_object()) return BadRequest("the body of the request was not a JSON object");
    Json st = m.ToStorage(*info, obj);
    Json& md = st["metadata"];
    if (!md.is_object()) md = Json::object();
    std::string obj_ns = md.value("namespace", "");
    std::string use_ns = info->namespaced ? (ns.empty() ? (obj_ns.empty() ? "default" : obj_ns) : ns) : "";
    if (info->namespaced && !ns.empty() && !obj_ns.empty() && obj_ns != ns)
      return BadRequest("the namespace of the provided object does not match the namespace sent on the request");
    std::string name = md.value("name", "");
    if (name.empty()) {
      std::string gen = md.value("generateName", "");
      if (gen.empty()) return Invalid(GroupResource(*info) + " is invalid: metadata.name: Required value: name or generateName is required");
      static const char kAlphabet[] = "bcdfghjklmnpqrstvwxz2456789";
      int64_t n = ++m.name_counter * 7919 + 12345;
      name = gen;
      for (int i = 0; i < 5; ++i) {
        name += kAlphabet[n % 27];
        n /= 27;
      }
    }
    {
      ObjectTree& store = m.objects[Impl::StorageKey(*info)];
      if (store.find(ObjKey(use_ns, name)) != store.end()) return AlreadyExists(*info, name);
    }
    md["name"] = name;
    if (info->namespaced) md["namespace"] = use_ns; else md.erase("namespace");
    md["uid"] = Uid(++m.uid_counter);
    md["creationTimestamp"] = k8s::FormatRfc3339(clock_.Now());
    md["generation"] = 1;
    md.erase("deletionTimestamp");
    m.Default(*info, st);
    auto stored = m.Commit(*info, use_ns, name, EvType::kAdded, std::move(st), nullptr);
    result = ConvertOut(ConversionFor(*info), *info, *stored);
  }
  impl_->Dispatch(this);
  return result;
}

Result<Json> ClusterState::Get(const GroupVersionResource& gvr, const std::string& ns, const std::string& name) const {
  std::shared_ptr<const Json> obj;
  ResourceInfo info;
  {
    std::lock_guard<std::mutex> l(impl_->mu);
    const ResourceInfo* i = impl_->FindGvr(gvr);
    if (i == nullptr) return NotFound(UnknownInfo(gvr), name);
    info = *i;
    auto& store = impl_->objects[Impl::StorageKey(info)];
    auto it = store.find(ObjKey(info.namespaced ? ns : "", name));
    if (it == store.end()) return NotFound(info, name);
    obj = it->second;
  }
  return ConvertOut(ConversionFor(info), info, *obj);
}

Result<SharedListResult> ClusterState::ListShared(const GroupVersionResource& gvr, const std::string& ns,
                                                  const ListQuery& query) const {
  auto filter = MakeFilter(query.label_selector, query.field_selector);
  if (!filter.ok()) return filter.status();
  // The token is "<snapshot rv>:<last key returned>": the list resumes after
  // that key, in the state at the snapshot (see ListResult).
  const bool continued = !query.continue_token.empty();
  int64_t snapshot_rv = 0;
  std::string after;
  if (continued) {
    auto colon = query.continue_token.find(':');
    if (colon == std::string::npos) return BadRequest("invalid continue token");
    auto rv = ParseRv(query.continue_token.substr(0, colon));
    if (!rv.ok() || *rv <= 0) return BadRequest("invalid continue token");
    snapshot_rv = *rv;
    after = query.continue_token.substr(colon + 1);
  }
  ResourceInfo info;
  Conversion conv;
  SharedListResult out;
  // Matched objects in storage form, each with its served form when
  // matching already needed it.
  std::vector<std::pair<std::shared_ptr<const Json>, std::shared_ptr<const Json>>> page;
  {
    std::lock_guard<std::mutex> l(impl_->mu);
    Impl& m = *impl_;
    const ResourceInfo* i = m.FindGvr(gvr);
    if (i == nullptr) return NotFound(UnknownInfo(gvr), "");
    info = *i;
    conv = ConversionFor(info);
    if (continued) {
      if (snapshot_rv > m.rv) return BadRequest("invalid continue token");
      if (snapshot_rv < m.compacted_rv) {
        return Status(StatusCode::kGone,
                      "The provided continue parameter is too old to display a consistent list result. You can start "
                      "a new list without the continue parameter.",
                      "Expired", 410);
      }
    } else {
      snapshot_rv = m.rv;
    }
    out.resource_version = std::to_string(snapshot_rv);
    const std::string skey = Impl::StorageKey(info);
    ObjectTree& store = m.objects[skey];
    const std::string prefix = (info.namespaced && !ns.empty()) ? ns + "/" : "";

    // The snapshot is the current state with the changes committed after it
    // undone: the first later change of a key holds the key's state at the
    // snapshot (its old object; absent for an ADDED). Only keys past `after`
    // in range matter. history is sorted by rv.
    std::map<std::string, std::shared_ptr<const Json>> overlay;
    if (snapshot_rv < m.rv) {
      auto first = std::upper_bound(m.history.begin(), m.history.end(), snapshot_rv,
                                    [](int64_t rv, const Impl::HistEvent& e) { return rv < e.rv; });
      for (auto e = first; e != m.history.end(); ++e) {
        if (e->storage_key != skey || e->key <= after || !HasPrefix(e->key, prefix)) continue;
        overlay.emplace(e->key, e->ev.type == EvType::kAdded ? nullptr : e->ev.old_object);
      }
    }

    // Merge the current objects with the overlay, in key order.
    auto it = (!after.empty() && after >= prefix) ? store.upper_bound(after) : store.lower_bound(prefix);
    auto ov = overlay.begin();
    std::string key, last_key;
    auto next = [&](std::shared_ptr<const Json>* obj) -> bool {
      while (true) {
        bool have_store = it != store.end() && HasPrefix(it->first, prefix);
        bool have_overlay = ov != overlay.end();
        if (!have_store && !have_overlay) return false;
        if (have_overlay && (!have_store || ov->first <= it->first)) {
          if (have_store && ov->first == it->first) ++it;
          auto cur = ov++;
          if (cur->second == nullptr) continue;  // absent at the snapshot
          key = cur->first;
          *obj = cur->second;
          return true;
        }
        key = it->first;
        *obj = it->second;
        ++it;
        return true;
      }
    };
    const bool match_all = filter->MatchesAll();
    bool more = false;
    std::shared_ptr<const Json> obj;
    while (next(&obj)) {
      std::shared_ptr<const Json> served;
      bool match = match_all;
      if (!match) {
        if (conv == Conversion::kNone) {
          match = filter->Matches(*obj);
        } else {
          served = std::make_shared<const Json>(ConvertOut(conv, info, *obj));
          match = filter->Matches(*served);
        }
      }
      if (!match) continue;
      if (query.limit > 0 && static_cast<int64_t>(page.size()) == query.limit) {
        more = true;  // one more match exists: this page gets a continue token
        break;
      }
      page.emplace_back(obj, std::move(served));
      last_key = key;
    }
    if (more) {
      out.continue_token = out.resource_version + ":" + last_key;
      if (!match_all) {
        out.remaining = -1;
      } else {
        // Current objects after last_key in range, then the overlay's
        // differences from them.
        const std::string end = NamespaceRangeEnd(prefix);
        int64_t below_end = end.empty() ? static_cast<int64_t>(store.size()) : static_cast<int64_t>(store.order_of_key(end));
        int64_t up_to_last = static_cast<int64_t>(store.order_of_key(last_key)) +
                             (store.find(last_key) != store.end() ? 1 : 0);
        out.remaining = below_end - up_to_last;
        for (auto o = overlay.upper_bound(last_key); o != overlay.end(); ++o) {
          bool now = store.find(o->first) != store.end();
          bool then = o->second != nullptr;
          out.remaining += (then ? 1 : 0) - (now ? 1 : 0);
        }
      }
    }
  }
  out.items.reserve(page.size());
  for (auto& [stored, served] : page) out.items.push_back(served != nullptr ? std::move(served) : SharedServed(conv, info, stored));
  return out;
}

Result<ListResult> ClusterState::List(const GroupVersionResource& gvr, const std::string& ns,
                                      const ListQuery& query) const {
  auto shared = ListShared(gvr, ns, query);
  if (!shared.ok()) return shared.status();
  ListResult out;
  out.items.reserve(shared->items.size());
  for (const auto& item : shared->items) out.items.push_back(*item);
  out.resource_version = std::move(shared->resource_version);
  out.continue_token = std::move(shared->continue_token);
  out.remaining = shared->remaining;
  return out;
}

namespace {

// Shared tail of Update/UpdateStatus/Apply: keeps identity metadata, bumps
// generation on a spec change, skips no-op writes (as the real server does).
Json MergeIdentity(const Json& old, Json next) {
  Json& md = next["metadata"];
  const Json& omd = old["metadata"];
  for (const char* k : {"uid", "creationTimestamp", "name", "namespace"}) {
    if (omd.contains(k)) md[k] = omd[k]; else md.erase(k);
  }
  int64_t gen = omd.value("generation", int64_t{1});
  md["generation"] = SpecEqual(old, next) ? gen : gen + 1;
  md["resourceVersion"] = omd.value("resourceVersion", "");
  return next;
}

}  // namespace

Result<Json> ClusterState::Update(const GroupVersionResource& gvr, const std::string& ns, const Json& obj) {
  return Replace(gvr, ns, obj, false);
}

Result<Json> ClusterState::UpdateStatus(const GroupVersionResource& gvr, const std::string& ns, const Json& obj) {
  return Replace(gvr, ns, obj, true);
}

Result<Json> ClusterState::Replace(const GroupVersionResource& gvr, const std::string& ns, const Json& obj,
                                   bool status_only) {
  Result<Json> result = Status(StatusCode::kInternal, "unset");
  {
    std::lock_guard<std::mutex> l(impl_->mu);
    Impl& m = *impl_;
    const ResourceInfo* info = m.FindGvr(gvr);
    if (info == nullptr) return NotFound(UnknownInfo(gvr), "");
    if (!obj.is_object()) return BadRequest("the body of the request was not a JSON object");
    std::string name = StrAt(obj, {"metadata", "name"});
    std::string use_ns = info->namespaced ? (ns.empty() ? StrAt(obj, {"metadata", "namespace"}) : ns) : "";
    if (info->namespaced && use_ns.empty()) use_ns = "default";
    auto& store = m.objects[Impl::StorageKey(*info)];
    auto it = store.find(ObjKey(use_ns, name));
    if (it == store.end()) return NotFound(*info, name);
    std::shared_ptr<const Json> old = it->second;
    std::string want_rv = StrAt(obj, {"metadata", "resourceVersion"});
    if (!want_rv.empty() && want_rv != StrAt(*old, {"metadata", "resourceVersion"})) return ConflictErr(*info, name);
    Json incoming = m.ToStorage(*info, obj);
    Json st;
    if (status_only) {
      // The status subresource replaces the status only.
      st = *old;
      if (incoming.contains("status")) st["status"] = incoming["status"]; else st.erase("status");
    } else {
      // The main resource ignores the status of kinds that have a status subresource.
      st = std::move(incoming);
      if (info->has_status) {
        if (old->contains("status")) st["status"] = (*old)["status"]; else st.erase("status");
      }
      m.Default(*info, st);
      st = MergeIdentity(*old, std::move(st));
    }
    if (st == *old) {
      result = ConvertOut(ConversionFor(*info), *info, *old);
    } else {
      auto stored = m.Commit(*info, use_ns, name, EvType::kModified, std::move(st), old);
      result = ConvertOut(ConversionFor(*info), *info, *stored);
    }
  }
  impl_->Dispatch(this);
  return result;
}

Result<Json> ClusterState::Delete(const GroupVersionResource& gvr, const std::string& ns, const std::string& name) {
  Result<Json> result = Status(StatusCode::kInternal, "unset");
  {
    std::lock_guard<std::mutex> l(impl_->mu);
    Impl& m = *impl_;
    const ResourceInfo* info = m.FindGvr(gvr);
    if (info == nullptr) return NotFound(UnknownInfo(gvr), name);
    std::string use_ns = info->namespaced ? ns : "";
    auto& store = m.objects[Impl::StorageKey(*info)];
    auto it = store.find(ObjKey(use_ns, name));
    if (it == store.end()) return NotFound(*info, name);
    std::shared_ptr<const Json> old = it->second;
    auto stored = m.Commit(*info, use_ns, name, EvType::kDeleted, *old, old);
    result = ConvertOut(ConversionFor(*info), *info, *stored);
  }
  impl_->Dispatch(this);
  return result;
}

Result<Json> ClusterState::Apply(const Json& obj) {
  if (!obj.is_object()) return BadRequest("apply: not an object");
  std::string api_version = obj.value("apiVersion", "");
  std::string kind = obj.value("kind", "");
  if (kind == "PodMetrics") {
    Status s = PutPodMetrics(obj);
    if (!s.ok()) return s;
    return obj;
  }
  if (kind == "MetricValue") {
    Status s = PutMetricValue(obj);
    if (!s.ok()) return s;
    return obj;
  }
  if (kind == "ExternalMetricValue") {
    Status s = PutExternalMetricValue(obj);
    if (!s.ok()) return s;
    return obj;
  }
  if (kind == "CustomResourceDefinition") {
    Status s = RegisterCrd(obj);
    if (!s.ok()) return s;
  }
  Result<Json> result = Status(StatusCode::kInternal, "unset");
  {
    std::lock_guard<std::mutex> l(impl_->mu);
    Impl& m = *impl_;
    const ResourceInfo* info = m.FindKind(api_version, kind);
    if (info == nullptr) return Invalid("no resource for apiVersion \"" + api_version + "\" kind \"" + kind + "\"");
    std::string name = StrAt(obj, {"metadata", "name"});
    if (name.empty()) return Invalid(kind + ": metadata.name is required");
    std::string ns = info->namespaced ? StrAt(obj, {"metadata", "namespace"}) : "";
    if (info->namespaced && ns.empty()) ns = "default";
    Json st = m.ToStorage(*info, obj);
    st["metadata"]["name"] = name;
    if (info->namespaced) st["metadata"]["namespace"] = ns;
    st["metadata"].erase("resourceVersion");
    auto& store = m.objects[Impl::StorageKey(*info)];
    auto it = store.find(ObjKey(ns, name));
    // Applying without `status` keeps the live status (scenario-format "Defaulting and status").
    bool has_status = obj.contains("status") && !obj["status"].is_null();
    if (it == store.end()) {
      st["metadata"]["uid"] = Uid(++m.uid_counter);
      if (!st["metadata"].contains("creationTimestamp") || st["metadata"]["creationTimestamp"].is_null())
        st["metadata"]["creationTimestamp"] = k8s::FormatRfc3339(clock_.Now());
      st["metadata"]["generation"] = 1;
      m.Default(*info, st);
      auto stored = m.Commit(*info, ns, name, EvType::kAdded, std::move(st), nullptr);
      result = ConvertOut(ConversionFor(*info), *info, *stored);
    } else {
      std::shared_ptr<const Json> old = it->second;
      if (!has_status) {
        if (old->contains("status")) st["status"] = (*old)["status"]; else st.erase("status");
      }
      m.Default(*info, st);
      st = MergeIdentity(*old, std::move(st));
      if (st == *old) {
        result = ConvertOut(ConversionFor(*info), *info, *old);
      } else {
        auto stored = m.Commit(*info, ns, name, EvType::kModified, std::move(st), old);
        result = ConvertOut(ConversionFor(*info), *info, *stored);
      }
    }
  }
  impl_->Dispatch(this);
  return result;
}

Status ClusterState::DeleteObject(const Json& ref) {
  if (!ref.is_object()) return BadRequest("delete: not an object");
  std::string kind = ref.value("kind", "");
  std::string api_version = ref.value("apiVersion", "");
  std::string name = ref.value("name", StrAt(ref, {"metadata", "name"}));
  std::string ns = ref.value("namespace", StrAt(ref, {"metadata", "namespace"}));
  if (kind == "PodMetrics") {
    return DeletePodMetrics(ns.empty() ? "default" : ns, name) ? Status::Ok()
                                                                : NotFoundError("PodMetrics \"" + name + "\" not found");
  }
  if (kind == "MetricValue") {
    return DeleteMetricValue(ref) ? Status::Ok() : NotFoundError("MetricValue not found");
  }
  if (kind == "ExternalMetricValue") {
    return DeleteExternalMetricValue(ns.empty() ? "default" : ns, name)
               ? Status::Ok()
               : NotFoundError("ExternalMetricValue \"" + name + "\" not found");
  }
  std::optional<ResourceInfo> info =
      api_version.empty() ? FindByKindAnyVersion(kind) : FindByKind(api_version, kind);
  if (!info) return Invalid("delete: unknown kind \"" + kind + "\"");
  if (info->namespaced && ns.empty()) ns = "default";
  auto r = Delete(info->gvr, ns, name);
  return r.ok() ? Status::Ok() : r.status();
}

// ---------------------------------------------------------------------------
// Scale

namespace {

Result<Json> BuildScale(const ResourceInfo& info, const Json& obj) {
  Json scale = {{"kind", "Scale"}, {"apiVersion", "autoscaling/v1"}};
  Json md = Json::object();
  for (const char* k : {"name", "namespace", "uid", "resourceVersion", "creationTimestamp"})
    if (obj["metadata"].contains(k)) md[k] = obj["metadata"][k];
  scale["metadata"] = md;
  const Json* spec_r = JsonPathFind(obj, info.spec_replicas_path);
  const Json* status_r = JsonPathFind(obj, info.status_replicas_path);
  scale["spec"] = {{"replicas", spec_r != nullptr && spec_r->is_number() ? spec_r->get<int64_t>() : 0}};
  Json status = {{"replicas", status_r != nullptr && status_r->is_number() ? status_r->get<int64_t>() : 0}};
  if (info.label_selector_path.empty()) {
    const Json* sel = JsonPathFind(obj, "spec.selector");
    if (sel != nullptr && !sel->is_null()) {
      auto s = k8s::Selector::FromJson(*sel);
      if (s.ok() && !s->IsNothing()) status["selector"] = s->ToString();
    }
  } else {
    const Json* sel = JsonPathFind(obj, info.label_selector_path);
    if (sel != nullptr && sel->is_string()) status["selector"] = *sel;
  }
  scale["status"] = status;
  return scale;
}

}  // namespace

Result<Json> ClusterState::GetScale(const GroupVersionResource& gvr, const std::string& ns,
                                    const std::string& name) const {
  std::shared_ptr<const Json> obj;
  ResourceInfo info;
  {
    std::lock_guard<std::mutex> l(impl_->mu);
    const ResourceInfo* i = impl_->FindGvr(gvr);
    if (i == nullptr || !i->has_scale) return NotFound(UnknownInfo(gvr), name);
    info = *i;
    auto& store = impl_->objects[Impl::StorageKey(info)];
    auto it = store.find(ObjKey(info.namespaced ? ns : "", name));
    if (it == store.end()) return NotFound(info, name);
    obj = it->second;
  }
  return BuildScale(info, *obj);
}

Result<Json> ClusterState::UpdateScale(const GroupVersionResource& gvr, const std::string& ns, const std::string& name,
                                       const Json& scale) {
  Result<Json> result = Status(StatusCode::kInternal, "unset");
  {
    std::lock_guard<std::mutex> l(impl_->mu);
    Impl& m = *impl_;
    const ResourceInfo* info = m.FindGvr(gvr);
    if (info == nullptr || !info->has_scale) return NotFound(UnknownInfo(gvr), name);
    std::string use_ns = info->namespaced ? ns : "";
    auto& store = m.objects[Impl::StorageKey(*info)];
    auto it = store.find(ObjKey(use_ns, name));
    if (it == store.end()) return NotFound(*info, name);
    std::shared_ptr<const Json> old = it->second;
    std::string want_rv = StrAt(scale, {"metadata", "resourceVersion"});
    if (!want_rv.empty() && want_rv != StrAt(*old, {"metadata", "resourceVersion"})) return ConflictErr(*info, name);
    const Json* replicas = JsonPathFind(scale, "spec.replicas");
    if (replicas == nullptr || !replicas->is_number_integer() || replicas->get<int64_t>() < 0)
      return Invalid("Scale.autoscaling \"" + name + "\" is invalid: spec.replicas: Invalid value: must be a non-negative integer");
    Json st = *old;
    JsonPathSet(st, info->spec_replicas_path, *replicas);
    if (st == *old) {
      result = BuildScale(*info, *old);
    } else {
      int64_t gen = (*old)["metadata"].value("generation", int64_t{1});
      st["metadata"]["generation"] = gen + 1;
      auto stored = m.Commit(*info, use_ns, name, EvType::kModified, std::move(st), old);
      result = BuildScale(*info, *stored);
    }
  }
  impl_->Dispatch(this);
  return result;
}

int64_t ClusterState::ResourceVersion() const {
  std::lock_guard<std::mutex> l(impl_->mu);
  return impl_->rv;
}

// ---------------------------------------------------------------------------
// Watch

Result<std::unique_ptr<Watcher>> ClusterState::Watch(const GroupVersionResource& gvr, const WatchOptions& opts) {
  auto filter = MakeFilter(opts.label_selector, opts.field_selector);
  if (!filter.ok()) return filter.status();
  bool replay = opts.resource_version.empty() || opts.resource_version == "0";
  auto from = ParseRv(opts.resource_version);
  if (!from.ok()) return from.status();

  std::lock_guard<std::mutex> l(impl_->mu);
  Impl& m = *impl_;
  const ResourceInfo* info = m.FindGvr(gvr);
  if (info == nullptr) return NotFound(UnknownInfo(gvr), "");
  auto core = std::make_shared<WatcherCore>();
  core->storage_key = Impl::StorageKey(*info);
  core->ns = info->namespaced ? opts.ns : "";
  core->info = *info;
  core->conversion = ConversionFor(*info);
  core->filter = std::move(*filter);
  core->bookmarks = opts.allow_bookmarks;
  auto& store = m.objects[core->storage_key];
  if (replay) {
    std::string prefix = core->ns.empty() ? "" : core->ns + "/";
    for (auto it = store.lower_bound(prefix); it != store.end(); ++it) {
      if (!prefix.empty() && it->first.compare(0, prefix.size(), prefix) != 0) break;
      core->queue.push_back(RawEvent{EvType::kAdded, it->second, nullptr, nullptr});
    }
  } else {
    if (*from < m.compacted_rv) {
      return Status(StatusCode::kGone,
                    "too old resource version: " + opts.resource_version + " (" + std::to_string(m.compacted_rv + 1) + ")",
                    "Expired", 410);
    }
    auto first = std::upper_bound(m.history.begin(), m.history.end(), *from,
                                  [](int64_t rv, const Impl::HistEvent& e) { return rv < e.rv; });
    for (auto h_it = first; h_it != m.history.end(); ++h_it) {
      const Impl::HistEvent& h = *h_it;
      if (h.storage_key != core->storage_key) continue;
      if (!core->ns.empty() && h.ns != core->ns) continue;
      core->queue.push_back(h.ev);
    }
  }
  auto& ws = m.watchers[core->storage_key];
  Impl::SweepClosed(ws);
  ws.push_back(core);
  return std::unique_ptr<Watcher>(new WatcherHandle(core));
}

void ClusterState::BroadcastBookmarks() {
  std::lock_guard<std::mutex> l(impl_->mu);
  auto obj = std::make_shared<const Json>(Json{{"metadata", {{"resourceVersion", std::to_string(impl_->rv)}}}});
  for (auto& [key, ws] : impl_->watchers)
    for (auto& w : ws)
      if (w->bookmarks) w->Push(RawEvent{EvType::kBookmark, obj, nullptr, nullptr});
}

void ClusterState::CloseAllWatchers() {
  std::map<std::string, std::vector<std::shared_ptr<WatcherCore>>> ws;
  {
    std::lock_guard<std::mutex> l(impl_->mu);
    ws.swap(impl_->watchers);
  }
  for (auto& [key, list] : ws)
    for (auto& w : list) w->Close();
}

void ClusterState::SetHistoryLimit(size_t limit) {
  std::lock_guard<std::mutex> l(impl_->mu);
  impl_->history_limit = std::max<size_t>(limit, 1);
  while (impl_->history.size() > impl_->history_limit) {
    impl_->compacted_rv = impl_->history.front().rv;
    impl_->history.pop_front();
  }
}

// ---------------------------------------------------------------------------
// Change listeners

void ClusterState::Impl::Dispatch(const void* owner) {
  Impl& m = *this;
  // A listener that writes to the store lands here again on the same thread:
  // the outer loop delivers its events after the listener returns.
  if (g_dispatching_for == owner) return;
  std::lock_guard<std::mutex> dl(m.dispatch_mu);
  g_dispatching_for = owner;
  while (true) {
    StoreEvent ev;
    {
      std::lock_guard<std::mutex> l(m.mu);
      if (m.pending.empty()) break;
      ev = std::move(m.pending.front());
      m.pending.pop_front();
    }
    std::vector<std::function<void(const StoreEvent&)>> ls;
    {
      std::lock_guard<std::mutex> l(m.listeners_mu);
      for (auto& [id, f] : m.listeners) ls.push_back(f);
    }
    for (auto& f : ls) f(ev);
  }
  g_dispatching_for = nullptr;
}


int ClusterState::AddChangeListener(std::function<void(const StoreEvent&)> listener) {
  std::lock_guard<std::mutex> l(impl_->listeners_mu);
  int id = impl_->next_listener++;
  impl_->listeners[id] = std::move(listener);
  return id;
}

void ClusterState::RemoveChangeListener(int id) {
  std::lock_guard<std::mutex> l(impl_->listeners_mu);
  impl_->listeners.erase(id);
}

// ---------------------------------------------------------------------------
// Metrics

Status ClusterState::PutPodMetrics(const Json& pm) {
  std::string name = StrAt(pm, {"metadata", "name"});
  if (name.empty()) return Invalid("PodMetrics: metadata.name is required");
  std::string ns = StrAt(pm, {"metadata", "namespace"});
  if (ns.empty()) ns = "default";
  Json copy = pm;
  copy["apiVersion"] = "metrics.k8s.io/v1beta1";
  copy["kind"] = "PodMetrics";
  copy["metadata"]["namespace"] = ns;
  auto stored = std::make_shared<const Json>(std::move(copy));
  std::lock_guard<std::mutex> l(impl_->mu);
  impl_->pod_metrics[ObjKey(ns, name)] = Impl::PodMetricsEntry{std::move(stored), nullptr};
  return Status::Ok();
}

bool ClusterState::DeletePodMetrics(const std::string& ns, const std::string& name) {
  std::lock_guard<std::mutex> l(impl_->mu);
  return impl_->pod_metrics.erase(ObjKey(ns, name)) > 0;
}

std::optional<Json> ClusterState::GetPodMetrics(const std::string& ns, const std::string& name) const {
  std::lock_guard<std::mutex> l(impl_->mu);
  auto it = impl_->pod_metrics.find(ObjKey(ns, name));
  if (it == impl_->pod_metrics.end()) return std::nullopt;
  return *it->second.obj;
}

Result<std::vector<std::pair<std::string, ClusterState::Impl::PodMetricsEntry>>>
ClusterState::Impl::SelectPodMetrics(const ClusterState& self, const std::string& ns,
                                     const std::string& label_selector) {
  auto filter = MakeFilter(label_selector, "");
  if (!filter.ok()) return filter.status();
  std::vector<std::pair<std::string, PodMetricsEntry>> out, unlabelled;
  {
    std::lock_guard<std::mutex> l(mu);
    // The namespace is one key range: seek to it instead of walking every entry.
    const std::string prefix = ns.empty() ? "" : ns + "/";
    for (auto it = pod_metrics.lower_bound(prefix); it != pod_metrics.end() && HasPrefix(it->first, prefix); ++it) {
      const Json& pm = *it->second.obj;
      const Json* labels = JsonPathFind(pm, "metadata.labels");
      if (filter->labels.Empty() || (labels != nullptr && labels->is_object() && !labels->empty())) {
        if (filter->Matches(pm)) out.emplace_back(it->first, it->second);
      } else {
        unlabelled.emplace_back(it->first, it->second);
      }
    }
  }
  // metrics-server labels each PodMetrics with its pod's labels; a scenario's
  // PodMetrics written without labels is selected by its pod's labels (it is
  // still served as written).
  if (unlabelled.empty()) return out;  // already sorted by namespace/name (the map's order)
  for (auto& entry : unlabelled) {
    const Json& pm = *entry.second.obj;
    auto pod = self.Get(k8s::resources::kPods, StrAt(pm, {"metadata", "namespace"}), StrAt(pm, {"metadata", "name"}));
    if (pod.ok() && filter->labels.Matches(LabelsOf(*pod))) out.push_back(std::move(entry));
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  return out;
}

Result<std::vector<std::shared_ptr<const Json>>> ClusterState::ListPodMetricsShared(
    const std::string& ns, const std::string& label_selector) const {
  auto selected = impl_->SelectPodMetrics(*this, ns, label_selector);
  if (!selected.ok()) return selected.status();
  std::vector<std::shared_ptr<const Json>> out;
  out.reserve(selected->size());
  for (auto& [key, entry] : *selected) out.push_back(std::move(entry.obj));
  return out;
}

Result<std::vector<std::shared_ptr<const std::string>>> ClusterState::ListPodMetricsSerialized(
    const std::string& ns, const std::string& label_selector) const {
  auto selected = impl_->SelectPodMetrics(*this, ns, label_selector);
  if (!selected.ok()) return selected.status();
  std::vector<std::shared_ptr<const std::string>> out;
  out.reserve(selected->size());
  // Serialized outside the lock; kept for later lists unless a put replaced the entry meanwhile.
  std::vector<std::pair<std::string, Impl::PodMetricsEntry>> fresh;
  for (auto& [key, entry] : *selected) {
    if (entry.text == nullptr) {
      entry.text = std::make_shared<const std::string>(entry.obj->dump());
      fresh.emplace_back(key, entry);
    }
    out.push_back(entry.text);
  }
  if (!fresh.empty()) {
    std::lock_guard<std::mutex> l(impl_->mu);
    for (auto& [key, entry] : fresh) {
      auto it = impl_->pod_metrics.find(key);
      if (it != impl_->pod_metrics.end() && it->second.obj == entry.obj && it->second.text == nullptr)
        it->second.text = std::move(entry.text);
    }
  }
  return out;
}

Result<std::vector<Json>> ClusterState::ListPodMetrics(const std::string& ns, const std::string& label_selector) const {
  auto shared = ListPodMetricsShared(ns, label_selector);
  if (!shared.ok()) return shared.status();
  std::vector<Json> out;
  out.reserve(shared->size());
  for (const auto& pm : *shared) out.push_back(*pm);
  return out;
}

Status ClusterState::PutMetricValue(const Json& mv) {
  if (StrAt(mv, {"metric", "name"}).empty()) return Invalid("MetricValue: metric.name is required");
  if (StrAt(mv, {"describedObject", "kind"}).empty() || StrAt(mv, {"describedObject", "name"}).empty())
    return Invalid("MetricValue: describedObject.kind and describedObject.name are required");
  Json copy = mv;
  copy["apiVersion"] = "custom.metrics.k8s.io/v1beta2";
  copy["kind"] = "MetricValue";
  if (StrAt(copy, {"describedObject", "namespace"}).empty() && !DescribedNamespace(copy).empty())
    copy["describedObject"]["namespace"] = DescribedNamespace(copy);
  const std::string key = MetricValueIdentity(copy);
  const std::string ns = StrAt(copy, {"describedObject", "namespace"});
  auto stored = std::make_shared<const Json>(std::move(copy));
  std::lock_guard<std::mutex> l(impl_->mu);
  impl_->metric_values[key] = stored;
  impl_->metric_values_by_ns[ns][key] = std::move(stored);
  return Status::Ok();
}

bool ClusterState::DeleteMetricValue(const Json& identity) {
  std::lock_guard<std::mutex> l(impl_->mu);
  auto it = impl_->metric_values.find(MetricValueIdentity(identity));
  if (it == impl_->metric_values.end()) return false;
  auto by_ns = impl_->metric_values_by_ns.find(StrAt(*it->second, {"describedObject", "namespace"}));
  if (by_ns != impl_->metric_values_by_ns.end()) {
    by_ns->second.erase(it->first);
    if (by_ns->second.empty()) impl_->metric_values_by_ns.erase(by_ns);
  }
  impl_->metric_values.erase(it);
  return true;
}

std::vector<Json> ClusterState::ListMetricValues() const {
  std::lock_guard<std::mutex> l(impl_->mu);
  std::vector<Json> out;
  out.reserve(impl_->metric_values.size());
  for (const auto& [k, v] : impl_->metric_values) out.push_back(*v);
  return out;
}

std::vector<std::shared_ptr<const Json>> ClusterState::ListMetricValuesShared(const std::string& ns) const {
  std::lock_guard<std::mutex> l(impl_->mu);
  std::vector<std::shared_ptr<const Json>> out;
  if (ns.empty()) {
    out.reserve(impl_->metric_values.size());
    for (const auto& [k, v] : impl_->metric_values) out.push_back(v);
    return out;
  }
  auto by_ns = impl_->metric_values_by_ns.find(ns);
  if (by_ns == impl_->metric_values_by_ns.end()) return out;
  out.reserve(by_ns->second.size());
  for (const auto& [k, v] : by_ns->second) out.push_back(v);
  return out;
}

Status ClusterState::PutExternalMetricValue(const Json& value) {
  std::string name = StrAt(value, {"metadata", "name"});
  if (name.empty()) return Invalid("ExternalMetricValue: metadata.name is required");
  if (value.value("metricName", "").empty()) return Invalid("ExternalMetricValue: metricName is required");
  std::string ns = StrAt(value, {"metadata", "namespace"});
  if (ns.empty()) ns = "default";
  Json copy = value;
  copy["apiVersion"] = "external.metrics.k8s.io/v1beta1";
  copy["kind"] = "ExternalMetricValue";
  copy["metadata"]["namespace"] = ns;
  auto stored = std::make_shared<const Json>(std::move(copy));
  std::lock_guard<std::mutex> l(impl_->mu);
  impl_->external_values[ObjKey(ns, name)] = std::move(stored);
  return Status::Ok();
}

bool ClusterState::DeleteExternalMetricValue(const std::string& ns, const std::string& name) {
  std::lock_guard<std::mutex> l(impl_->mu);
  return impl_->external_values.erase(ObjKey(ns, name)) > 0;
}

std::optional<Json> ClusterState::GetExternalMetricValue(const std::string& ns, const std::string& name) const {
  std::lock_guard<std::mutex> l(impl_->mu);
  auto it = impl_->external_values.find(ObjKey(ns.empty() ? "default" : ns, name));
  if (it == impl_->external_values.end()) return std::nullopt;
  return *it->second;
}

Result<std::vector<Json>> ClusterState::ListExternalMetricValues(const std::string& ns, const std::string& metric_name,
                                                                 const std::string& label_selector) const {
  k8s::Selector sel;
  if (!TrimString(label_selector).empty()) {
    auto s = k8s::Selector::Parse(label_selector);
    if (!s.ok()) return BadRequest("unable to parse labelSelector: " + s.status().message());
    sel = *s;
  }
  // Metric names in URLs are lower-cased by some clients.
  const std::string want = ToLower(metric_name);
  std::vector<Json> out;
  std::lock_guard<std::mutex> l(impl_->mu);
  const auto& all = impl_->external_values;
  const std::string prefix = ns + "/";
  for (auto it = all.lower_bound(prefix); it != all.end() && HasPrefix(it->first, prefix); ++it) {
    const Json& v = *it->second;
    auto name = v.find("metricName");
    if (name == v.end() || !name->is_string() || ToLower(name->get<std::string>()) != want) continue;
    k8s::Labels labels;
    auto ml = v.find("metricLabels");
    if (ml != v.end() && ml->is_object())
      for (auto l_it = ml->begin(); l_it != ml->end(); ++l_it)
        if (l_it.value().is_string()) labels[l_it.key()] = l_it.value().get<std::string>();
    if (sel.Matches(labels)) out.push_back(v);
  }
  return out;
}

// ---------------------------------------------------------------------------
// Faults

Result<ApiFault> ApiFault::Parse(const std::string& text) {
  ApiFault f;
  std::string t = TrimString(text);
  if (t == "ok" || t.empty()) return f;
  if (t == "unavailable") {
    f.kind = Kind::kUnavailable;
    return f;
  }
  if (t.rfind("slow:", 0) == 0) {
    auto d = k8s::ParseGoDuration(t.substr(5));
    if (!d.ok()) return InvalidError("fault \"" + text + "\": " + d.status().message());
    f.kind = Kind::kSlow;
    f.delay = std::chrono::duration_cast<std::chrono::milliseconds>(*d);
    return f;
  }
  if (t.rfind("error:", 0) == 0) {
    try {
      size_t idx = 0;
      int code = std::stoi(t.substr(6), &idx);
      if (idx != t.size() - 6 || code < 400 || code > 599) throw std::invalid_argument(t);
      f.kind = Kind::kError;
      f.code = code;
      return f;
    } catch (const std::exception&) {
      return InvalidError("fault \"" + text + "\": error code must be an HTTP status 400-599");
    }
  }
  return InvalidError("fault \"" + text + "\": want ok, unavailable, slow:<duration> or error:<code>");
}

std::string ApiFault::ToString() const {
  switch (kind) {
    case Kind::kOk:
      return "ok";
    case Kind::kUnavailable:
      return "unavailable";
    case Kind::kSlow:
      return "slow:" + k8s::FormatGoDuration(delay);
    case Kind::kError:
      return "error:" + std::to_string(code);
  }
  return "ok";
}

void ClusterState::SetFaults(FaultSet faults) {
  std::lock_guard<std::mutex> l(impl_->mu);
  impl_->faults = std::move(faults);
}

FaultSet ClusterState::Faults() const {
  std::lock_guard<std::mutex> l(impl_->mu);
  return impl_->faults;
}

FaultDecision ClusterState::DecideFault(const std::string& api, const std::string& verb, const std::string& resource,
                                        const std::string& subresource) {
  std::lock_guard<std::mutex> l(impl_->mu);
  FaultSet& f = impl_->faults;
  const ApiFault* fault = &f.apiserver;
  if (api == "resourceMetrics") fault = &f.resource_metrics;
  if (api == "customMetrics") fault = &f.custom_metrics;
  if (api == "externalMetrics") fault = &f.external_metrics;
  FaultDecision d;
  switch (fault->kind) {
    case ApiFault::Kind::kOk:
      break;
    case ApiFault::Kind::kUnavailable:
      d.fail_code = 503;
      return d;
    case ApiFault::Kind::kSlow:
      d.delay = fault->delay;
      break;
    case ApiFault::Kind::kError:
      d.fail_code = fault->code;
      return d;
  }
  if (api == "apiserver") {
    for (RequestFaultRule& r : f.apiserver_rules) {
      if (r.count == 0) continue;
      if (!VerbMatches(r.verb, verb)) continue;
      if (!r.resource.empty() && r.resource != resource) continue;
      if (!SubresourceMatches(r.subresource, subresource)) continue;
      if (r.count > 0) --r.count;
      d.fail_code = r.code;
      break;
    }
  }
  return d;
}

// ---------------------------------------------------------------------------
// Request accounting

void ClusterState::RecordRequest(RequestRecord record) {
  std::lock_guard<std::mutex> l(impl_->mu);
  record.seq = impl_->next_seq++;
  std::string key = record.verb + " " + record.resource + (record.subresource.empty() ? "" : "/" + record.subresource);
  ++impl_->counts[key];
  if (IsWriteVerb(record.verb)) impl_->writes.push_back(std::move(record));
}

int64_t ClusterState::RequestSeq() const {
  std::lock_guard<std::mutex> l(impl_->mu);
  return impl_->next_seq;
}

int64_t ClusterState::CountWrites(const std::string& verb, const std::string& resource, const std::string& subresource,
                                  const std::string& user_agent_prefix, int64_t since_seq) const {
  std::lock_guard<std::mutex> l(impl_->mu);
  int64_t n = 0;
  for (const RequestRecord& r : impl_->writes) {
    if (r.seq < since_seq) continue;
    if (!VerbMatches(verb, r.verb)) continue;
    if (!resource.empty() && r.resource != resource) continue;
    if (!SubresourceMatches(subresource, r.subresource)) continue;
    if (r.user_agent.compare(0, user_agent_prefix.size(), user_agent_prefix) != 0) continue;
    ++n;
  }
  return n;
}

std::map<std::string, int64_t> ClusterState::RequestCounts() const {
  std::lock_guard<std::mutex> l(impl_->mu);
  return impl_->counts;
}

// ---------------------------------------------------------------------------
// HPA defaulting (13.1)

void DefaultHpaV2(Json& hpa) {
  Json& spec = hpa["spec"];
  if (!spec.is_object()) spec = Json::object();
  // D1: minReplicas 1; no metrics -> one Resource cpu metric at 80 %.
  if (!spec.contains("minReplicas") || spec["minReplicas"].is_null()) spec["minReplicas"] = 1;
  if (!spec.contains("metrics") || !spec["metrics"].is_array() || spec["metrics"].empty()) {
    spec["metrics"] = Json::array(
        {{{"type", "Resource"},
          {"resource", {{"name", "cpu"}, {"target", {{"type", "Utilization"}, {"averageUtilization", 80}}}}}}});
  }
  // D2: no behavior stays no behavior (legacy path).
  if (!spec.contains("behavior") || spec["behavior"].is_null()) {
    spec.erase("behavior");
    return;
  }
  // D3: fill each missing direction and each missing field; a given
  // policies list replaces the default list as a whole.
  Json& b = spec["behavior"];
  if (!b.is_object()) b = Json::object();
  Json& up = b["scaleUp"];
  if (!up.is_object()) up = Json::object();
  if (!up.contains("stabilizationWindowSeconds") || up["stabilizationWindowSeconds"].is_null())
    up["stabilizationWindowSeconds"] = 0;
  if (!up.contains("selectPolicy") || up["selectPolicy"].is_null()) up["selectPolicy"] = "Max";
  if (!up.contains("policies") || up["policies"].is_null())
    up["policies"] = Json::array({{{"type", "Pods"}, {"value", 4}, {"periodSeconds", 15}},
                                  {{"type", "Percent"}, {"value", 100}, {"periodSeconds", 15}}});
  Json& down = b["scaleDown"];
  if (!down.is_object()) down = Json::object();
  if (!down.contains("selectPolicy") || down["selectPolicy"].is_null()) down["selectPolicy"] = "Max";
  if (!down.contains("policies") || down["policies"].is_null())
    down["policies"] = Json::array({{{"type", "Percent"}, {"value", 100}, {"periodSeconds", 15}}});
}

}  // namespace hpad::sim
