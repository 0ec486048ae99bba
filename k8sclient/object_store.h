// ObjectStore<T>: the informer cache (architecture.md step 1).
//
// Holds immutable snapshots (`shared_ptr<const T>`) keyed like client-go's
// MetaNamespaceKeyFunc: "namespace/name", or "name" for cluster-scoped
// objects. A reader gets a pointer it may keep as long as it likes; a later
// update swaps in a new snapshot and never mutates the old one, so listers
// need no copying and no locks of their own.
//
// Indexes, per namespace, by label `key=value` pairs so that a namespace +
// Selector query with an equality (or single-value `in`) requirement only
// visits that namespace's objects carrying that label (pods of one workload
// out of 100k, even when every namespace has a workload of the same name).
// Index entries point at the item map's nodes (no key copies: ~48 bytes per
// entry), ordered by key, so results come back in key order (for one
// namespace: name order). A namespace's objects as a whole are the key
// range "<ns>/..." of the ordered item map (no per-object index entry:
// issue 16, 150,000 pods), each checked for its exact namespace. A query
// across all namespaces ("") scans every object in key order; the
// controller never makes one.
//
// T is a typed struct with either `metadata.{ns,name,labels}` (k8s::Hpa) or
// `{ns,name}` with `labels()` (k8s::Pod: a shared label set) or `labels`, or
// nlohmann::json (metadata.namespace etc.).
//
// Thread-safety: all methods are thread-safe (one shared_mutex; readers run
// in parallel). Tests fill a store directly (listers need no fake).
#pragma once

#include <cstddef>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <shared_mutex>
#include <string>
#include <type_traits>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "k8sclient/api/label_selector.h"

namespace hpad::k8s {

namespace store_detail {

// metadata.<key> when it is a string, else "" (checked access: the JSON
// comes from the network, and a wrong type must not throw).
inline std::string MetadataString(const nlohmann::json& obj, const char* key) {
  if (!obj.is_object()) return std::string();
  const auto m = obj.find("metadata");
  if (m == obj.end() || !m->is_object()) return std::string();
  const auto v = m->find(key);
  return v != m->end() && v->is_string() ? v->get<std::string>() : std::string();
}

template <typename T>
std::string Namespace(const T& t) {
  if constexpr (std::is_same_v<T, nlohmann::json>) {
    return MetadataString(t, "namespace");
  } else if constexpr (requires { t.metadata.ns; }) {
    return t.metadata.ns;
  } else {
    return t.ns;
  }
}

template <typename T>
std::string Name(const T& t) {
  if constexpr (std::is_same_v<T, nlohmann::json>) {
    return MetadataString(t, "name");
  } else if constexpr (requires { t.metadata.name; }) {
    return t.metadata.name;
  } else {
    return t.name;
  }
}

template <typename T>
Labels GetLabels(const T& t) {
  if constexpr (std::is_same_v<T, nlohmann::json>) {
    Labels out;
    const auto m = t.find("metadata");
    if (m == t.end()) return out;
    const auto l = m->find("labels");
    if (l == m->end() || !l->is_object()) return out;
    for (const auto& [k, v] : l->items())
      if (v.is_string()) out[k] = v.template get<std::string>();
    return out;
  } else if constexpr (requires { t.metadata.labels; }) {
    return t.metadata.labels;
  } else if constexpr (requires { t.labels(); }) {
    return t.labels();
  } else {
    return t.labels;
  }
}

}  // namespace store_detail

// client-go's MetaNamespaceKeyFunc.
inline std::string ObjectStoreKey(const std::string& ns, const std::string& name) {
  return ns.empty() ? name : ns + "/" + name;
}

template <typename T>
std::string StoreKeyOf(const T& obj) {
  return ObjectStoreKey(store_detail::Namespace(obj), store_detail::Name(obj));
}

template <typename T>
class ObjectStore {
 public:
  using Ptr = std::shared_ptr<const T>;

  // One difference produced by Replace(): old == nullptr is an add,
  // current == nullptr a delete, both set an update.
  struct Change {
    Ptr old;
    Ptr current;
  };

  Ptr Get(const std::string& key) const {
    std::shared_lock<std::shared_mutex> l(mu_);
    auto it = items_.find(key);
    return it == items_.end() ? nullptr : it->second.obj;
  }
  Ptr Get(const std::string& ns, const std::string& name) const { return Get(ObjectStoreKey(ns, name)); }

  std::vector<Ptr> List() const {
    std::shared_lock<std::shared_mutex> l(mu_);
    std::vector<Ptr> out;
    out.reserve(items_.size());
    for (const auto& [k, e] : items_) out.push_back(e.obj);
    return out;
  }
  std::vector<std::string> Keys() const {
    std::shared_lock<std::shared_mutex> l(mu_);
    std::vector<std::string> out;
    out.reserve(items_.size());
    for (const auto& [k, e] : items_) out.push_back(k);
    return out;
  }
  std::vector<Ptr> ListNamespace(const std::string& ns) const {
    std::shared_lock<std::shared_mutex> l(mu_);
    std::vector<Ptr> out;
    auto it = by_ns_.find(ns);
    if (it == by_ns_.end()) return out;
    out.reserve(it->second.count);
    ForEachInNamespaceLocked(ns, [&](const Entry& e) { out.push_back(e.obj); });
    return out;
  }
  // Objects in `ns` ("" = all namespaces) whose labels match `selector`,
  // in key order. A Nothing() selector returns nothing; an empty one
  // everything in ns.
  std::vector<Ptr> ListSelector(const std::string& ns, const Selector& selector) const {
    std::vector<Ptr> out;
    if (selector.IsNothing()) return out;
    std::shared_lock<std::shared_mutex> l(mu_);
    if (ns.empty()) {
      for (const auto& [k, e] : items_)
        if (selector.Matches(e.labels())) out.push_back(e.obj);
      return out;
    }
    auto nit = by_ns_.find(ns);
    if (nit == by_ns_.end()) return out;
    const NsIndex& index = nit->second;
    // Narrowest candidate set: the smallest label posting list among the
    // single-valued equality requirements, else the whole namespace.
    const RefSet* candidates = nullptr;
    for (const auto& r : selector.requirements()) {
      bool eq = r.op == LabelSelectorRequirement::Op::kEquals ||
                (r.op == LabelSelectorRequirement::Op::kIn && r.values.size() == 1);
      if (!eq || r.values.empty()) continue;
      auto it = index.by_label.find(LabelKey(r.key, r.values[0]));
      if (it == index.by_label.end()) return out;  // nothing here carries that label
      if (!candidates || it->second.size() < candidates->size()) candidates = &it->second;
    }
    if (!candidates) {
      ForEachInNamespaceLocked(ns, [&](const Entry& e) {
        if (selector.Matches(e.labels())) out.push_back(e.obj);
      });
      return out;
    }
    for (const auto& ref : *candidates)
      if (selector.Matches(ref->second.labels())) out.push_back(ref->second.obj);
    return out;
  }
  size_t Size() const {
    std::shared_lock<std::shared_mutex> l(mu_);
    return items_.size();
  }

  // Inserts or replaces the object under its key; returns the previous
  // snapshot (nullptr if there was none).
  Ptr Upsert(Ptr obj) {
    std::unique_lock<std::shared_mutex> l(mu_);
    return UpsertLocked(std::move(obj));
  }
  Ptr Add(Ptr obj) { return Upsert(std::move(obj)); }
  Ptr Update(Ptr obj) { return Upsert(std::move(obj)); }
  // Removes the key; returns the removed snapshot (nullptr if absent).
  Ptr Delete(const std::string& key) {
    std::unique_lock<std::shared_mutex> l(mu_);
    auto it = items_.find(key);
    if (it == items_.end()) return nullptr;
    return EraseLocked(it);
  }

  // Makes the store hold exactly `objs` (a relist) and returns what changed.
  // An object whose snapshot pointer is unchanged is not reported; a new
  // snapshot of an existing key is an update even if equal (client-go
  // delivers relists as updates too).
  std::vector<Change> Replace(std::vector<Ptr> objs) {
    std::unique_lock<std::shared_mutex> l(mu_);
    std::vector<Change> changes;
    std::unordered_set<std::string> seen;
    seen.reserve(objs.size());
    for (auto& obj : objs) {
      std::string key = StoreKeyOf(*obj);
      Ptr cur = obj;
      Ptr old = UpsertLocked(std::move(obj));
      if (old != cur) changes.push_back({old, cur});
      seen.insert(std::move(key));
    }
    for (auto it = items_.begin(); it != items_.end();) {
      auto next = std::next(it);
      if (!seen.count(it->first)) changes.push_back({EraseLocked(it), nullptr});
      it = next;
    }
    return changes;
  }

 private:
  static constexpr bool kIsJson = std::is_same_v<T, nlohmann::json>;
  struct NoLabels {};
  struct Entry {
    Ptr obj;
    // Only for T = json (parsed once); typed objects are read in place.
    [[no_unique_address]] std::conditional_t<kIsJson, Labels, NoLabels> json_labels;
    const Labels& labels() const {
      if constexpr (kIsJson) {
        return json_labels;
      } else if constexpr (requires { obj->metadata.labels; }) {
        return obj->metadata.labels;
      } else if constexpr (requires { obj->labels(); }) {
        return obj->labels();
      } else {
        return obj->labels;
      }
    }
  };
  using Items = std::map<std::string, Entry>;  // ordered: List() is deterministic
  using ItemRef = typename Items::const_iterator;
  struct ByKey {
    bool operator()(const ItemRef& a, const ItemRef& b) const { return a->first < b->first; }
  };
  using RefSet = std::set<ItemRef, ByKey>;
  struct NsIndex {
    size_t count = 0;                                  // objects in the namespace
    std::unordered_map<std::string, RefSet> by_label;  // "key=value" -> objects
  };

  static bool InNamespace(const T& obj, const std::string& ns) {
    if constexpr (kIsJson) {
      return store_detail::MetadataString(obj, "namespace") == ns;
    } else if constexpr (requires { obj.metadata.ns; }) {
      return obj.metadata.ns == ns;
    } else {
      return obj.ns == ns;
    }
  }
  // Calls f(entry) for each object of `ns`, in key order: the key range
  // "<ns>/" (ObjectStoreKey), or for "" the keys without a namespace.
  template <typename F>
  void ForEachInNamespaceLocked(const std::string& ns, F&& f) const {
    if (ns.empty()) {
      for (const auto& [k, e] : items_)
        if (InNamespace(*e.obj, ns)) f(e);
      return;
    }
    const std::string prefix = ns + "/";
    for (auto it = items_.lower_bound(prefix); it != items_.end() && it->first.starts_with(prefix); ++it) {
      // A name holding '/' (hostile input) could put another namespace's
      // object in this range: the object's own namespace decides.
      if (InNamespace(*it->second.obj, ns)) f(it->second);
    }
  }

  static std::string LabelKey(const std::string& k, const std::string& v) {
    std::string out;
    out.reserve(k.size() + 1 + v.size());
    out.append(k).append(1, '=').append(v);
    return out;
  }

  Ptr UpsertLocked(Ptr obj) {
    std::string key = StoreKeyOf(*obj);
    Ptr old;
    if (auto it = items_.find(key); it != items_.end()) old = EraseLocked(it);
    Entry e{std::move(obj), {}};
    if constexpr (kIsJson) e.json_labels = store_detail::GetLabels(*e.obj);
    const std::string ns = store_detail::Namespace(*e.obj);
    ItemRef ref = items_.emplace(std::move(key), std::move(e)).first;
    NsIndex& index = by_ns_[ns];
    index.count++;
    for (const auto& [k, v] : ref->second.labels()) index.by_label[LabelKey(k, v)].insert(ref);
    return old;
  }
  // Unindexes and erases the item; returns its snapshot.
  Ptr EraseLocked(typename Items::iterator it) {
    ItemRef ref = it;
    auto nit = by_ns_.find(store_detail::Namespace(*it->second.obj));
    if (nit != by_ns_.end()) {
      NsIndex& index = nit->second;
      for (const auto& [k, v] : it->second.labels()) {
        auto lit = index.by_label.find(LabelKey(k, v));
        if (lit == index.by_label.end()) continue;
        lit->second.erase(ref);
        if (lit->second.empty()) index.by_label.erase(lit);
      }
      if (--index.count == 0) by_ns_.erase(nit);
    }
    Ptr old = std::move(it->second.obj);
    items_.erase(it);
    return old;
  }

  mutable std::shared_mutex mu_;
  Items items_;
  std::unordered_map<std::string, NsIndex> by_ns_;
};

}  // namespace hpad::k8s
