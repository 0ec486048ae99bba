// Object storage with version conversion (see object_store.h).
#include "sim/apiserver/object_store.h"

#include <algorithm>

#include "k8sclient/api/label_selector.h"
#include "k8sclient/api/time_format.h"
#include "sim/apiserver/conversion.h"
#include "sim/apiserver/object_filter.h"
#include "sim/apiserver/store_util.h"
#include "k8sclient/api/json_lenient.h"

namespace hpad::sim {
using k8s::StringOr;
using k8s::IntOr;

using EvType = k8s::WatchEvent::Type;

namespace {

Status NotFound(const ResourceInfo& info, const std::string& name) {
  return Status(StatusCode::kNotFound, info.GroupResource() + " \"" + name + "\" not found", "NotFound", 404);
}
Status NotFound(const GroupVersionResource& gvr, const std::string& name) {
  ResourceInfo unknown;
  unknown.gvr = gvr;
  return NotFound(unknown, name);
}
Status AlreadyExists(const ResourceInfo& info, const std::string& name) {
  return Status(StatusCode::kConflict, info.GroupResource() + " \"" + name + "\" already exists", "AlreadyExists",
                409);
}
Status ConflictErr(const ResourceInfo& info, const std::string& name) {
  return Status(StatusCode::kConflict,
                "Operation cannot be fulfilled on " + info.GroupResource() + " \"" + name +
                    "\": the object has been modified; please apply your changes to the latest version and try again",
                "Conflict", 409);
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

// Shared tail of Update/Apply: keeps identity metadata, bumps generation on
// a spec change; the caller skips no-op writes (as the real server does).
Json MergeIdentity(const Json& old, Json next) {
  Json& md = next["metadata"];
  const Json& omd = old["metadata"];
  for (const char* k : {"uid", "creationTimestamp", "name", "namespace"}) {
    if (omd.contains(k)) md[k] = omd[k]; else md.erase(k);
  }
  int64_t gen = IntOr(omd, "generation", 1);
  md["generation"] = SpecEqual(old, next) ? gen : gen + 1;
  md["resourceVersion"] = StringOr(omd, "resourceVersion");
  return next;
}

std::string Uid(int64_t n) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "5e1a0000-0000-4000-8000-%012lld", static_cast<long long>(n));
  return buf;
}

// Keys of `ns`'s objects are "ns/..."; '0' follows '/', so "ns0" is the
// first key past them. "" (every namespace) has no end key.
std::string NamespaceRangeEnd(const std::string& prefix) {
  if (prefix.empty()) return "";
  std::string end = prefix;
  end.back() = static_cast<char>('/' + 1);
  return end;
}

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

// The store whose listeners this thread is delivering to: a listener that
// writes to the same store lands in Dispatch again and must not recurse.
thread_local const ObjectStore* g_dispatching_for = nullptr;

}  // namespace

ObjectStore::ObjectStore(const Clock& clock, const ResourceRegistry& registry, WatchCache& watch_cache)
    : clock_(clock), registry_(registry), watch_cache_(watch_cache) {}

std::string ObjectStore::NamespaceFor(const ResourceInfo& info, const std::string& ns, const Json* body) {
  if (!info.namespaced) return "";
  if (body == nullptr) return ns;
  std::string use_ns = ns.empty() ? StrAt(*body, {"metadata", "namespace"}) : ns;
  return use_ns.empty() ? "default" : use_ns;
}

Result<ObjectStore::Target> ObjectStore::Resolve(const GroupVersionResource& gvr, const std::string& ns,
                                                 const std::string& name, const Json* body) const {
  ResourceInfoPtr info = registry_.FindByGvr(gvr);
  if (info == nullptr) return NotFound(gvr, name);
  std::string use_ns = NamespaceFor(*info, ns, body);
  return Target{std::move(info), std::move(use_ns)};
}

Json ObjectStore::ToStorageForm(const ResourceInfo& info, const Json& served) const {
  ResourceInfoPtr storage_row = registry_.StorageOf(info);
  return ToStorage(info, storage_row.get(), served);
}

std::shared_ptr<const Json> ObjectStore::CommitLocked(const ResourceInfo& info, const std::string& ns,
                                                      const std::string& name, EvType type, Json obj,
                                                      std::shared_ptr<const Json> old) {
  const std::string skey = info.StorageKey();
  const std::string okey = ObjKey(ns, name);
  int64_t new_rv = ++rv_;
  obj["metadata"]["resourceVersion"] = std::to_string(new_rv);
  auto stored = std::make_shared<const Json>(std::move(obj));
  if (type == EvType::kDeleted) {
    objects_[skey].erase(okey);
  } else {
    objects_[skey][okey] = stored;
  }
  watch_cache_.Append(new_rv, skey, ns, okey, type, stored, old);
  StoreEvent se;
  se.type = type;
  se.storage_group = info.storage_group;
  se.storage_resource = info.storage_resource;
  se.object = stored;
  se.old_object = std::move(old);
  se.resource_version = new_rv;
  pending_.push_back(std::move(se));
  return stored;
}

Json ObjectStore::ModifyLocked(const ResourceInfo& info, const std::string& ns, const std::string& name, Json st,
                               const std::shared_ptr<const Json>& old) {
  // A write that changes nothing commits nothing (no new resourceVersion, no event).
  if (st == *old) return ConvertOut(ConversionFor(info), info, *old);
  auto stored = CommitLocked(info, ns, name, EvType::kModified, std::move(st), old);
  return ConvertOut(ConversionFor(info), info, *stored);
}

Result<Json> ObjectStore::Create(const GroupVersionResource& gvr, const std::string& ns, const Json& obj) {
  auto target = Resolve(gvr, ns, "", &obj);
  if (!target.ok()) return target.status();
  const ResourceInfo& info = *target->info;
  const std::string& use_ns = target->ns;
  if (!obj.is_object()) return BadRequest("the body of the request was not a JSON object");
  Json st = ToStorageForm(info, obj);
  Json& md = st["metadata"];
  if (!md.is_object()) md = Json::object();
  std::string obj_ns = StrAt(st, {"metadata", "namespace"});
  if (info.namespaced && !ns.empty() && !obj_ns.empty() && obj_ns != ns)
    return BadRequest("the namespace of the provided object does not match the namespace sent on the request");
  std::string name = StrAt(st, {"metadata", "name"});
  std::string generate_name = StrAt(st, {"metadata", "generateName"});
  Result<Json> result = Status(StatusCode::kInternal, "unset");
  {
    std::lock_guard<std::mutex> l(mu_);
    if (name.empty()) {
      if (generate_name.empty())
        return Invalid(info.GroupResource() +
                       " is invalid: metadata.name: Required value: name or generateName is required");
      static const char kAlphabet[] = "bcdfghjklmnpqrstvwxz2456789";
      int64_t n = ++name_counter_ * 7919 + 12345;
      name = generate_name;
      for (int i = 0; i < 5; ++i) {
        name += kAlphabet[n % 27];
        n /= 27;
      }
    }
    {
      ObjectTree& store = objects_[info.StorageKey()];
      if (store.find(ObjKey(use_ns, name)) != store.end()) return AlreadyExists(info, name);
    }
    md["name"] = name;
    if (info.namespaced) md["namespace"] = use_ns; else md.erase("namespace");
    md["uid"] = Uid(++uid_counter_);
    md["creationTimestamp"] = k8s::FormatRfc3339(clock_.Now());
    md["generation"] = 1;
    md.erase("deletionTimestamp");
    DefaultOnWrite(info, st);
    auto stored = CommitLocked(info, use_ns, name, EvType::kAdded, std::move(st), nullptr);
    result = ConvertOut(ConversionFor(info), info, *stored);
  }
  Dispatch();
  return result;
}

std::shared_ptr<const Json> ObjectStore::GetStored(const GroupVersionResource& gvr, const std::string& ns,
                                                   const std::string& name) const {
  auto target = Resolve(gvr, ns, name, nullptr);
  if (!target.ok()) return nullptr;
  std::lock_guard<std::mutex> l(mu_);
  auto& store = objects_[target->info->StorageKey()];
  auto it = store.find(ObjKey(target->ns, name));
  return it == store.end() ? nullptr : it->second;
}

Result<Json> ObjectStore::Get(const GroupVersionResource& gvr, const std::string& ns, const std::string& name) const {
  auto target = Resolve(gvr, ns, name, nullptr);
  if (!target.ok()) return target.status();
  const ResourceInfo& info = *target->info;
  std::shared_ptr<const Json> obj;
  {
    std::lock_guard<std::mutex> l(mu_);
    auto& store = objects_[info.StorageKey()];
    auto it = store.find(ObjKey(target->ns, name));
    if (it == store.end()) return NotFound(info, name);
    obj = it->second;
  }
  return ConvertOut(ConversionFor(info), info, *obj);
}

Result<SharedListResult> ObjectStore::ListShared(const GroupVersionResource& gvr, const std::string& ns,
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
  auto target = Resolve(gvr, ns, "", nullptr);
  if (!target.ok()) return target.status();
  const ResourceInfo& info = *target->info;
  const Conversion conv = ConversionFor(info);
  SharedListResult out;
  // Matched objects in storage form, each with its served form when
  // matching already needed it.
  std::vector<std::pair<std::shared_ptr<const Json>, std::shared_ptr<const Json>>> page;
  {
    std::lock_guard<std::mutex> l(mu_);
    if (continued) {
      if (snapshot_rv > rv_) return BadRequest("invalid continue token");
    } else {
      snapshot_rv = rv_;
    }
    out.resource_version = std::to_string(snapshot_rv);
    const std::string skey = info.StorageKey();
    ObjectTree& store = objects_[skey];
    const std::string prefix = (info.namespaced && !ns.empty()) ? ns + "/" : "";

    // The snapshot is the current state with the changes committed after it
    // undone (the watch cache knows each changed key's state then). Only
    // keys past `after` in range matter.
    std::map<std::string, std::shared_ptr<const Json>> overlay;
    if (continued || snapshot_rv < rv_) {
      auto before = watch_cache_.StateBefore(snapshot_rv, skey, prefix, after);
      if (!before.ok()) return before.status();
      overlay = std::move(*before);
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
        int64_t below_end =
            end.empty() ? static_cast<int64_t>(store.size()) : static_cast<int64_t>(store.order_of_key(end));
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
  for (auto& [stored, served] : page)
    out.items.push_back(served != nullptr ? std::move(served) : SharedServed(conv, info, stored));
  return out;
}

Result<ListResult> ObjectStore::List(const GroupVersionResource& gvr, const std::string& ns,
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

Result<Json> ObjectStore::Update(const GroupVersionResource& gvr, const std::string& ns, const Json& obj) {
  return Replace(gvr, ns, obj, false);
}

Result<Json> ObjectStore::UpdateStatus(const GroupVersionResource& gvr, const std::string& ns, const Json& obj) {
  return Replace(gvr, ns, obj, true);
}

Result<Json> ObjectStore::Replace(const GroupVersionResource& gvr, const std::string& ns, const Json& obj,
                                  bool status_only) {
  auto target = Resolve(gvr, ns, "", &obj);
  if (!target.ok()) return target.status();
  const ResourceInfo& info = *target->info;
  const std::string& use_ns = target->ns;
  if (!obj.is_object()) return BadRequest("the body of the request was not a JSON object");
  const std::string name = StrAt(obj, {"metadata", "name"});
  const std::string want_rv = StrAt(obj, {"metadata", "resourceVersion"});
  Json incoming = ToStorageForm(info, obj);
  Result<Json> result = Status(StatusCode::kInternal, "unset");
  {
    std::lock_guard<std::mutex> l(mu_);
    auto& store = objects_[info.StorageKey()];
    auto it = store.find(ObjKey(use_ns, name));
    if (it == store.end()) return NotFound(info, name);
    std::shared_ptr<const Json> old = it->second;
    if (!want_rv.empty() && want_rv != StrAt(*old, {"metadata", "resourceVersion"})) return ConflictErr(info, name);
    Json st;
    if (status_only) {
      // The status subresource replaces the status only.
      st = *old;
      if (incoming.contains("status")) st["status"] = incoming["status"]; else st.erase("status");
    } else {
      // The main resource ignores the status of kinds that have a status subresource.
      st = std::move(incoming);
      if (info.has_status) {
        if (old->contains("status")) st["status"] = (*old)["status"]; else st.erase("status");
      }
      DefaultOnWrite(info, st);
      st = MergeIdentity(*old, std::move(st));
    }
    result = ModifyLocked(info, use_ns, name, std::move(st), old);
  }
  Dispatch();
  return result;
}

Result<Json> ObjectStore::Delete(const GroupVersionResource& gvr, const std::string& ns, const std::string& name) {
  auto target = Resolve(gvr, ns, name, nullptr);
  if (!target.ok()) return target.status();
  const ResourceInfo& info = *target->info;
  Result<Json> result = Status(StatusCode::kInternal, "unset");
  {
    std::lock_guard<std::mutex> l(mu_);
    auto& store = objects_[info.StorageKey()];
    auto it = store.find(ObjKey(target->ns, name));
    if (it == store.end()) return NotFound(info, name);
    std::shared_ptr<const Json> old = it->second;
    auto stored = CommitLocked(info, target->ns, name, EvType::kDeleted, *old, old);
    result = ConvertOut(ConversionFor(info), info, *stored);
  }
  Dispatch();
  return result;
}

Result<Json> ObjectStore::Apply(const Json& obj) {
  if (!obj.is_object()) return BadRequest("apply: not an object");
  const std::string api_version = StrAt(obj, {"apiVersion"});
  const std::string kind = StrAt(obj, {"kind"});
  ResourceInfoPtr found = registry_.FindByKind(api_version, kind);
  if (found == nullptr) return Invalid("no resource for apiVersion \"" + api_version + "\" kind \"" + kind + "\"");
  return ApplyAs(*found, obj);
}

Result<Json> ObjectStore::Apply(const GroupVersionResource& gvr, const Json& obj) {
  if (!obj.is_object()) return BadRequest("apply: not an object");
  auto target = Resolve(gvr, "", StrAt(obj, {"metadata", "name"}), nullptr);
  if (!target.ok()) return target.status();
  return ApplyAs(*target->info, obj);
}

Result<Json> ObjectStore::ApplyAs(const ResourceInfo& info, const Json& obj) {
  const std::string name = StrAt(obj, {"metadata", "name"});
  if (name.empty()) return Invalid(info.kind + ": metadata.name is required");
  const std::string ns = NamespaceFor(info, "", &obj);
  Json st = ToStorageForm(info, obj);
  st["metadata"]["name"] = name;
  if (info.namespaced) st["metadata"]["namespace"] = ns;
  st["metadata"].erase("resourceVersion");
  // Applying without `status` keeps the live status (scenario-format "Defaulting and status").
  const bool has_status = obj.contains("status") && !obj["status"].is_null();
  Result<Json> result = Status(StatusCode::kInternal, "unset");
  {
    std::lock_guard<std::mutex> l(mu_);
    auto& store = objects_[info.StorageKey()];
    auto it = store.find(ObjKey(ns, name));
    if (it == store.end()) {
      st["metadata"]["uid"] = Uid(++uid_counter_);
      if (!st["metadata"].contains("creationTimestamp") || st["metadata"]["creationTimestamp"].is_null())
        st["metadata"]["creationTimestamp"] = k8s::FormatRfc3339(clock_.Now());
      st["metadata"]["generation"] = 1;
      DefaultOnWrite(info, st);
      auto stored = CommitLocked(info, ns, name, EvType::kAdded, std::move(st), nullptr);
      result = ConvertOut(ConversionFor(info), info, *stored);
    } else {
      std::shared_ptr<const Json> old = it->second;
      if (!has_status) {
        if (old->contains("status")) st["status"] = (*old)["status"]; else st.erase("status");
      }
      DefaultOnWrite(info, st);
      st = MergeIdentity(*old, std::move(st));
      result = ModifyLocked(info, ns, name, std::move(st), old);
    }
  }
  Dispatch();
  return result;
}

Result<Json> ObjectStore::GetScale(const GroupVersionResource& gvr, const std::string& ns,
                                   const std::string& name) const {
  auto target = Resolve(gvr, ns, name, nullptr);
  if (!target.ok() || !target->info->has_scale) return NotFound(gvr, name);
  const ResourceInfo& info = *target->info;
  std::shared_ptr<const Json> obj;
  {
    std::lock_guard<std::mutex> l(mu_);
    auto& store = objects_[info.StorageKey()];
    auto it = store.find(ObjKey(target->ns, name));
    if (it == store.end()) return NotFound(info, name);
    obj = it->second;
  }
  return BuildScale(info, *obj);
}

Result<Json> ObjectStore::UpdateScale(const GroupVersionResource& gvr, const std::string& ns, const std::string& name,
                                      const Json& scale) {
  auto target = Resolve(gvr, ns, name, nullptr);
  if (!target.ok() || !target->info->has_scale) return NotFound(gvr, name);
  const ResourceInfo& info = *target->info;
  const std::string want_rv = StrAt(scale, {"metadata", "resourceVersion"});
  Result<Json> result = Status(StatusCode::kInternal, "unset");
  {
    std::lock_guard<std::mutex> l(mu_);
    auto& store = objects_[info.StorageKey()];
    auto it = store.find(ObjKey(target->ns, name));
    if (it == store.end()) return NotFound(info, name);
    std::shared_ptr<const Json> old = it->second;
    if (!want_rv.empty() && want_rv != StrAt(*old, {"metadata", "resourceVersion"})) return ConflictErr(info, name);
    const Json* replicas = JsonPathFind(scale, "spec.replicas");
    if (replicas == nullptr || !replicas->is_number_integer() || replicas->get<int64_t>() < 0)
      return Invalid("Scale.autoscaling \"" + name +
                     "\" is invalid: spec.replicas: Invalid value: must be a non-negative integer");
    Json st = *old;
    JsonPathSet(st, info.spec_replicas_path, *replicas);
    if (st == *old) {
      result = BuildScale(info, *old);
    } else {
      int64_t gen = IntOr((*old)["metadata"], "generation", 1);
      st["metadata"]["generation"] = gen + 1;
      auto stored = CommitLocked(info, target->ns, name, EvType::kModified, std::move(st), old);
      result = BuildScale(info, *stored);
    }
  }
  Dispatch();
  return result;
}

int64_t ObjectStore::ResourceVersion() const {
  std::lock_guard<std::mutex> l(mu_);
  return rv_;
}

Result<std::unique_ptr<Watcher>> ObjectStore::Watch(const GroupVersionResource& gvr, const WatchOptions& opts) {
  auto filter = MakeFilter(opts.label_selector, opts.field_selector);
  if (!filter.ok()) return filter.status();
  const bool replay = opts.resource_version.empty() || opts.resource_version == "0";
  auto from = ParseRv(opts.resource_version);
  if (!from.ok()) return from.status();
  auto target = Resolve(gvr, opts.ns, "", nullptr);
  if (!target.ok()) return target.status();
  const ResourceInfo& info = *target->info;
  // mu_ stays held while the watch opens: no change commits between the
  // replayed state (or the history read) and the watcher joining the fan-out.
  std::lock_guard<std::mutex> l(mu_);
  std::vector<std::shared_ptr<const Json>> current;
  if (replay) {
    ObjectTree& store = objects_[info.StorageKey()];
    const std::string prefix = target->ns.empty() ? "" : target->ns + "/";
    for (auto it = store.lower_bound(prefix); it != store.end() && HasPrefix(it->first, prefix); ++it)
      current.push_back(it->second);
  }
  return watch_cache_.Open(info, target->ns, std::move(*filter), opts.allow_bookmarks,
                           replay ? std::nullopt : std::optional<int64_t>(*from), current);
}

void ObjectStore::BroadcastBookmarks() {
  // Under mu_: no event with a newer resourceVersion can be queued before the bookmark.
  std::lock_guard<std::mutex> l(mu_);
  watch_cache_.BroadcastBookmark(rv_);
}

void ObjectStore::Dispatch() {
  // A listener that writes to the store lands here again on the same thread:
  // the outer loop delivers its events after the listener returns.
  if (g_dispatching_for == this) return;
  std::lock_guard<std::mutex> dl(dispatch_mu_);
  g_dispatching_for = this;
  while (true) {
    StoreEvent ev;
    {
      std::lock_guard<std::mutex> l(mu_);
      if (pending_.empty()) break;
      ev = std::move(pending_.front());
      pending_.pop_front();
    }
    std::vector<std::function<void(const StoreEvent&)>> ls;
    {
      std::lock_guard<std::mutex> l(listeners_mu_);
      for (auto& [id, f] : listeners_) ls.push_back(f);
    }
    for (auto& f : ls) f(ev);
  }
  g_dispatching_for = nullptr;
}

int ObjectStore::AddChangeListener(std::function<void(const StoreEvent&)> listener) {
  std::lock_guard<std::mutex> l(listeners_mu_);
  int id = next_listener_++;
  listeners_[id] = std::move(listener);
  return id;
}

void ObjectStore::RemoveChangeListener(int id) {
  std::lock_guard<std::mutex> l(listeners_mu_);
  listeners_.erase(id);
}

}  // namespace hpad::sim
