// ObjectStore<T>: the informer cache (architecture.md step 1).
//
// Holds immutable snapshots (`shared_ptr<const T>`) keyed like client-go's
// MetaNamespaceKeyFunc: "namespace/name", or "name" for cluster-scoped
// objects. A reader gets a pointer it may keep as long as it likes; a later
// update swaps in a new snapshot and never mutates the old one, so listers
// need no copying and no locks of their own.
//
// Indexes: by namespace, and by label `key=value` pairs so that a
// namespace + Selector query with an equality (or single-value `in`)
// requirement only visits the objects carrying that label (pods of one
// workload out of 100k).
//
// T is a typed struct with either `metadata.{ns,name,labels}` (k8s::Hpa) or
// `{ns,name,labels}` (k8s::Pod), or nlohmann::json (metadata.namespace etc.).
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
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "k8sclient/label_selector.h"

namespace hpad::k8s {

namespace store_detail {

template <typename T>
std::string Namespace(const T& t) {
  if constexpr (std::is_same_v<T, nlohmann::json>) {
    const auto m = t.find("metadata");
    return m == t.end() ? std::string() : m->value("namespace", std::string());
  } else if constexpr (requires { t.metadata.ns; }) {
    return t.metadata.ns;
  } else {
    return t.ns;
  }
}

template <typename T>
std::string Name(const T& t) {
  if constexpr (std::is_same_v<T, nlohmann::json>) {
    const auto m = t.find("metadata");
    return m == t.end() ? std::string() : m->value("name", std::string());
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
    for (const auto& key : it->second) out.push_back(items_.at(key).obj);
    return out;
  }
  // Objects in `ns` ("" = all namespaces) whose labels match `selector`.
  // A Nothing() selector returns nothing; an empty one everything in ns.
  std::vector<Ptr> ListSelector(const std::string& ns, const Selector& selector) const {
    std::vector<Ptr> out;
    if (selector.IsNothing()) return out;
    std::shared_lock<std::shared_mutex> l(mu_);
    // Narrowest candidate set: the smallest label posting list among the
    // single-valued equality requirements, else the namespace, else all.
    const std::set<std::string>* candidates = nullptr;
    bool use_all = true;
    for (const auto& r : selector.requirements()) {
      bool eq = r.op == LabelSelectorRequirement::Op::kEquals ||
                (r.op == LabelSelectorRequirement::Op::kIn && r.values.size() == 1);
      if (!eq || r.values.empty()) continue;
      auto it = by_label_.find(r.key + "=" + r.values[0]);
      if (it == by_label_.end()) return out;  // nothing carries that label
      if (!candidates || it->second.size() < candidates->size()) candidates = &it->second;
      use_all = false;
    }
    if (use_all && !ns.empty()) {
      auto it = by_ns_.find(ns);
      if (it == by_ns_.end()) return out;
      candidates = &it->second;
      use_all = false;
    }
    auto consider = [&](const Entry& e) {
      if (!ns.empty() && e.ns != ns) return;
      if (selector.Matches(e.labels())) out.push_back(e.obj);
    };
    if (use_all) {
      for (const auto& [k, e] : items_) consider(e);
    } else {
      for (const auto& key : *candidates) consider(items_.at(key));
    }
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
    return DeleteLocked(key);
  }

  // Makes the store hold exactly `objs` (a relist) and returns what changed.
  // An object whose snapshot pointer is unchanged is not reported; a new
  // snapshot of an existing key is an update even if equal (client-go
  // delivers relists as updates too).
  std::vector<Change> Replace(std::vector<Ptr> objs) {
    std::unique_lock<std::shared_mutex> l(mu_);
    std::vector<Change> changes;
    std::set<std::string> seen;
    for (auto& obj : objs) {
      std::string key = StoreKeyOf(*obj);
      seen.insert(key);
      Ptr cur = obj;
      Ptr old = UpsertLocked(std::move(obj));
      if (old != cur) changes.push_back({old, cur});
    }
    std::vector<std::string> gone;
    for (const auto& [k, e] : items_)
      if (!seen.count(k)) gone.push_back(k);
    for (const auto& k : gone) changes.push_back({DeleteLocked(k), nullptr});
    return changes;
  }

 private:
  static constexpr bool kIsJson = std::is_same_v<T, nlohmann::json>;
  struct Entry {
    Ptr obj;
    std::string ns;
    Labels json_labels;  // only for T = json; typed objects are read in place
    const Labels& labels() const {
      if constexpr (kIsJson) {
        return json_labels;
      } else if constexpr (requires { obj->metadata.labels; }) {
        return obj->metadata.labels;
      } else {
        return obj->labels;
      }
    }
  };

  Ptr UpsertLocked(Ptr obj) {
    std::string key = StoreKeyOf(*obj);
    Ptr old = DeleteLocked(key);
    Entry e{obj, store_detail::Namespace(*obj), {}};
    if constexpr (kIsJson) e.json_labels = store_detail::GetLabels(*obj);
    by_ns_[e.ns].insert(key);
    for (const auto& [k, v] : e.labels()) by_label_[k + "=" + v].insert(key);
    items_.emplace(key, std::move(e));
    return old;
  }
  Ptr DeleteLocked(const std::string& key) {
    auto it = items_.find(key);
    if (it == items_.end()) return nullptr;
    Entry& e = it->second;
    EraseFromIndex(by_ns_, e.ns, key);
    for (const auto& [k, v] : e.labels()) EraseFromIndex(by_label_, k + "=" + v, key);
    Ptr old = std::move(e.obj);
    items_.erase(it);
    return old;
  }
  static void EraseFromIndex(std::unordered_map<std::string, std::set<std::string>>& index, const std::string& idx,
                             const std::string& key) {
    auto it = index.find(idx);
    if (it == index.end()) return;
    it->second.erase(key);
    if (it->second.empty()) index.erase(it);
  }

  mutable std::shared_mutex mu_;
  std::map<std::string, Entry> items_;  // ordered: List() is deterministic
  std::unordered_map<std::string, std::set<std::string>> by_ns_;
  std::unordered_map<std::string, std::set<std::string>> by_label_;  // "key=value" -> keys
};

}  // namespace hpad::k8s
