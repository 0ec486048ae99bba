// ObjectStore<T>: the informer cache (architecture.md step 1).
//
// Holds immutable snapshots (`shared_ptr<const T>`) keyed like client-go's
// MetaNamespaceKeyFunc: "namespace/name", or "name" for cluster-scoped
// objects. The key is not stored: an item is its snapshot alone, ordered
// and found by the object's own namespace and name compared piecewise as
// that string (issue 16: no key string and a smaller node, ~96 B a pod). A reader gets a pointer it may keep as long as it likes; a later
// update swaps in a new snapshot and never mutates the old one, so listers
// need no copying and no locks of their own.
//
// Point lookups (Get, Delete, Upsert) use a hash index of the items
// (~40 B an object) instead of the ordered search, which reads every
// object on its path (issue 16).
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

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <set>
#include <shared_mutex>
#include <string>
#include <string_view>
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

// An object's store key "ns/name" ("name" without a namespace) as up to
// three pieces, never concatenated: the store compares keys piecewise, so
// it holds no key string per object (issue 16: ~96 B a pod at 150,000).
struct KeyPieces {
  std::string_view piece[3];
};
inline KeyPieces PiecesOf(std::string_view ns, std::string_view name) {
  return ns.empty() ? KeyPieces{{std::string_view(), std::string_view(), name}} : KeyPieces{{ns, "/", name}};
}
inline KeyPieces WholeKey(std::string_view key) { return KeyPieces{{key, std::string_view(), std::string_view()}}; }
// <0, 0, >0 as the concatenated strings compare (std::string's order).
inline int CompareKeys(const KeyPieces& x, const KeyPieces& y) {
  size_t xi = 0, xo = 0, yi = 0, yo = 0;
  while (true) {
    while (xi < 3 && xo == x.piece[xi].size()) xi++, xo = 0;
    while (yi < 3 && yo == y.piece[yi].size()) yi++, yo = 0;
    if (xi == 3 || yi == 3) return (xi == 3 ? 0 : 1) - (yi == 3 ? 0 : 1);
    const size_t n = std::min(x.piece[xi].size() - xo, y.piece[yi].size() - yo);
    const int c = x.piece[xi].substr(xo, n).compare(y.piece[yi].substr(yo, n));
    if (c != 0) return c < 0 ? -1 : 1;
    xo += n;
    yo += n;
  }
}
inline bool KeyStartsWith(const KeyPieces& k, std::string_view prefix) {
  size_t off = 0;
  for (std::string_view p : k.piece) {
    if (off == prefix.size()) return true;
    const size_t n = std::min(p.size(), prefix.size() - off);
    if (p.substr(0, n) != prefix.substr(off, n)) return false;
    off += n;
  }
  return off == prefix.size();
}

// A per-process random seed for HashKey: keys come from the API server, and
// a fixed hash would let chosen names collide into one bucket.
inline uint64_t KeyHashSeed() {
  static const uint64_t seed = [] {
    try {
      std::random_device rd;
      return (uint64_t{rd()} << 32) ^ rd();
    } catch (...) {
      return uint64_t{0x9e3779b97f4a7c15};  // no entropy source: still a working (unseeded) hash
    }
  }();
  return seed;
}
// FNV-1a over the concatenated key, seeded: equal for equal keys however
// they are split into pieces ("ns/name" whole or as ns, "/", name).
inline size_t HashKey(const KeyPieces& k) {
  uint64_t h = 14695981039346656037ull ^ KeyHashSeed();
  for (std::string_view p : k.piece)
    for (unsigned char c : p) h = (h ^ c) * 1099511628211ull;
  return static_cast<size_t>(h ^ (h >> 29));
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
    auto it = by_hash_.find(store_detail::WholeKey(key));
    return it == by_hash_.end() ? nullptr : (*it)->obj;
  }
  // The key "ns/name" compared in pieces: no key string is built.
  Ptr Get(const std::string& ns, const std::string& name) const {
    std::shared_lock<std::shared_mutex> l(mu_);
    auto it = by_hash_.find(store_detail::PiecesOf(ns, name));
    return it == by_hash_.end() ? nullptr : (*it)->obj;
  }

  std::vector<Ptr> List() const {
    std::shared_lock<std::shared_mutex> l(mu_);
    std::vector<Ptr> out;
    out.reserve(items_.size());
    for (const auto& e : items_) out.push_back(e.obj);
    return out;
  }
  std::vector<std::string> Keys() const {
    std::shared_lock<std::shared_mutex> l(mu_);
    std::vector<std::string> out;
    out.reserve(items_.size());
    for (const auto& e : items_) out.push_back(e.Key());
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
      for (const auto& e : items_)
        if (selector.Matches(e.labels())) out.push_back(e.obj);
      return out;
    }
    auto nit = by_ns_.find(ns);
    if (nit == by_ns_.end()) return out;
    const NsIndex& index = nit->second;
    // Pods of one workload share one interned label set: consecutive
    // candidates with the same set get the same answer without a match.
    MatchMemo memo(selector);
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
        if (memo.Matches(e.labels())) out.push_back(e.obj);
      });
      return out;
    }
    for (const auto& ref : *candidates)
      if (memo.Matches(ref->labels())) out.push_back(ref->obj);
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
    auto it = by_hash_.find(store_detail::WholeKey(key));
    if (it == by_hash_.end()) return nullptr;
    return EraseLocked(*it);
  }

  // Makes the store hold exactly `objs` (a relist) and returns what changed.
  // An object whose snapshot pointer is unchanged is not reported; a new
  // snapshot of an existing key is an update even if equal (client-go
  // delivers relists as updates too).
  std::vector<Change> Replace(std::vector<Ptr> objs) {
    std::unique_lock<std::shared_mutex> l(mu_);
    std::vector<Change> changes;
    changes.reserve(objs.size());
    // The items this relist put in, by node address (no key strings: a
    // relist of 150,000 pods, issue 16). A node erased here by a later
    // duplicate key may have its address reused, but only by another node
    // inserted here, which is kept anyway.
    const bool was_empty = items_.empty();
    std::unordered_set<const Entry*> kept;
    if (!was_empty) kept.reserve(objs.size());
    for (auto& obj : objs) {
      Ptr cur = obj;
      ItemRef ref;
      Ptr old = UpsertLocked(std::move(obj), &ref);
      if (old != cur) changes.push_back({old, cur});
      if (!was_empty) kept.insert(&*ref);
    }
    if (was_empty) return changes;  // nothing was there to delete
    for (auto it = items_.begin(); it != items_.end();) {
      auto next = std::next(it);
      if (!kept.count(&*it)) changes.push_back({EraseLocked(it), nullptr});
      it = next;
    }
    return changes;
  }

 private:
  static constexpr bool kIsJson = std::is_same_v<T, nlohmann::json>;
  struct NoJsonMeta {};
  struct JsonMeta {  // T = json: read once (metadata access copies)
    std::string ns;
    std::string name;
    Labels labels;
  };
  // An object and nothing else: its key is its own (namespace, name), read
  // in place (typed objects are immutable snapshots).
  struct Entry {
    Ptr obj;
    [[no_unique_address]] std::conditional_t<kIsJson, JsonMeta, NoJsonMeta> json;
    std::string_view ns() const {
      if constexpr (kIsJson) {
        return json.ns;
      } else if constexpr (requires { obj->metadata.ns; }) {
        return obj->metadata.ns;
      } else {
        return obj->ns;
      }
    }
    std::string_view name() const {
      if constexpr (kIsJson) {
        return json.name;
      } else if constexpr (requires { obj->metadata.name; }) {
        return obj->metadata.name;
      } else {
        return obj->name;
      }
    }
    store_detail::KeyPieces Pieces() const { return store_detail::PiecesOf(ns(), name()); }
    std::string Key() const { return ObjectStoreKey(std::string(ns()), std::string(name())); }
    const Labels& labels() const {
      if constexpr (kIsJson) {
        return json.labels;
      } else if constexpr (requires { obj->metadata.labels; }) {
        return obj->metadata.labels;
      } else if constexpr (requires { obj->labels(); }) {
        return obj->labels();
      } else {
        return obj->labels;
      }
    }
  };
  // Key order (ObjectStoreKey's strings, compared piecewise); lookups by a
  // key string. Ordered: List() is deterministic.
  struct ByKey {
    using is_transparent = void;
    bool operator()(const Entry& a, const Entry& b) const {
      return store_detail::CompareKeys(a.Pieces(), b.Pieces()) < 0;
    }
    bool operator()(const Entry& a, std::string_view b) const {
      return store_detail::CompareKeys(a.Pieces(), store_detail::WholeKey(b)) < 0;
    }
    bool operator()(std::string_view a, const Entry& b) const {
      return store_detail::CompareKeys(store_detail::WholeKey(a), b.Pieces()) < 0;
    }
    bool operator()(const Entry& a, const store_detail::KeyPieces& b) const {
      return store_detail::CompareKeys(a.Pieces(), b) < 0;
    }
    bool operator()(const store_detail::KeyPieces& a, const Entry& b) const {
      return store_detail::CompareKeys(a, b.Pieces()) < 0;
    }
  };
  using Items = std::set<Entry, ByKey>;
  using ItemRef = typename Items::const_iterator;
  struct RefByKey {
    bool operator()(const ItemRef& a, const ItemRef& b) const { return ByKey()(*a, *b); }
  };
  using RefSet = std::set<ItemRef, RefByKey>;
  // Point lookups by key go through a hash of the items (issue 16): a
  // search of the ordered set reads the namespace and name of every object
  // on its path (a cache miss each: ObjectStore<Hpa>::Get was 4% of hpad's
  // CPU at 15,000 HPAs). Items are unique by key, so two refs are equal
  // keys exactly when they are the same item.
  struct RefHash {
    using is_transparent = void;
    size_t operator()(const ItemRef& r) const { return store_detail::HashKey(r->Pieces()); }
    size_t operator()(const store_detail::KeyPieces& k) const { return store_detail::HashKey(k); }
  };
  struct RefKeyEq {
    using is_transparent = void;
    bool operator()(const ItemRef& a, const ItemRef& b) const { return a == b; }
    bool operator()(const store_detail::KeyPieces& a, const ItemRef& b) const {
      return store_detail::CompareKeys(a, b->Pieces()) == 0;
    }
    bool operator()(const ItemRef& a, const store_detail::KeyPieces& b) const {
      return store_detail::CompareKeys(a->Pieces(), b) == 0;
    }
  };
  struct NsIndex {
    size_t count = 0;                                  // objects in the namespace
    std::unordered_map<std::string, RefSet> by_label;  // "key=value" -> objects
  };

  // Calls f(entry) for each object of `ns`, in key order: the key range
  // "<ns>/" (ObjectStoreKey), or for "" the keys without a namespace.
  template <typename F>
  void ForEachInNamespaceLocked(const std::string& ns, F&& f) const {
    if (ns.empty()) {
      for (const auto& e : items_)
        if (e.ns() == ns) f(e);
      return;
    }
    const std::string prefix = ns + "/";
    for (auto it = items_.lower_bound(std::string_view(prefix));
         it != items_.end() && store_detail::KeyStartsWith(it->Pieces(), prefix); ++it) {
      // A name holding '/' (hostile input) could put another namespace's
      // object in this range: the object's own namespace decides.
      if (it->ns() == ns) f(*it);
    }
  }

  static std::string LabelKey(const std::string& k, const std::string& v) {
    std::string out;
    out.reserve(k.size() + 1 + v.size());
    out.append(k).append(1, '=').append(v);
    return out;
  }

  Ptr UpsertLocked(Ptr obj, ItemRef* inserted = nullptr) {
    Entry e{std::move(obj), {}};
    if constexpr (kIsJson) {
      e.json.ns = store_detail::MetadataString(*e.obj, "namespace");
      e.json.name = store_detail::MetadataString(*e.obj, "name");
      e.json.labels = store_detail::GetLabels(*e.obj);
    }
    Ptr old;
    if (auto it = by_hash_.find(e.Pieces()); it != by_hash_.end()) old = EraseLocked(*it);
    ItemRef ref = items_.insert(std::move(e)).first;
    by_hash_.insert(ref);
    if (inserted != nullptr) *inserted = ref;
    NsIndex& index = by_ns_[std::string(ref->ns())];
    index.count++;
    for (const auto& [k, v] : ref->labels()) index.by_label[LabelKey(k, v)].insert(ref);
    return old;
  }
  // Unindexes and erases the item; returns its snapshot.
  Ptr EraseLocked(ItemRef it) {
    auto nit = by_ns_.find(std::string(it->ns()));
    if (nit != by_ns_.end()) {
      NsIndex& index = nit->second;
      for (const auto& [k, v] : it->labels()) {
        auto lit = index.by_label.find(LabelKey(k, v));
        if (lit == index.by_label.end()) continue;
        lit->second.erase(it);
        if (lit->second.empty()) index.by_label.erase(lit);
      }
      if (--index.count == 0) by_ns_.erase(nit);
    }
    Ptr old = it->obj;
    by_hash_.erase(it);
    items_.erase(it);
    return old;
  }

  mutable std::shared_mutex mu_;
  Items items_;
  std::unordered_set<ItemRef, RefHash, RefKeyEq> by_hash_;  // every item of items_
  std::unordered_map<std::string, NsIndex> by_ns_;
};

}  // namespace hpad::k8s
