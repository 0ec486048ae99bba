// ObjectStore<T>: keys, namespace and label indexes, Replace deltas, and
// snapshot immutability (architecture.md step 1: cached objects immutable).
#include <catch2/catch.hpp>

#include <algorithm>
#include <map>
#include <random>
#include <atomic>
#include <thread>

#include "k8sclient/object_store.h"

namespace {

using Json = nlohmann::json;
using hpad::k8s::ObjectStore;
using hpad::k8s::Selector;

// Shaped like k8s::Pod (flat ns/name/labels).
struct FlatObj {
  std::string ns, name;
  std::map<std::string, std::string> labels;
  int value = 0;
};
// Shaped like k8s::Hpa (metadata.ns/name/labels).
struct Meta {
  std::string ns, name;
  std::map<std::string, std::string> labels;
};
struct NestedObj {
  Meta metadata;
};

std::shared_ptr<const FlatObj> Flat(std::string ns, std::string name, std::map<std::string, std::string> labels = {},
                                    int value = 0) {
  return std::make_shared<const FlatObj>(FlatObj{std::move(ns), std::move(name), std::move(labels), value});
}

std::vector<std::string> Names(const std::vector<std::shared_ptr<const FlatObj>>& objs) {
  std::vector<std::string> out;
  for (const auto& o : objs) out.push_back(o->ns + "/" + o->name);
  std::sort(out.begin(), out.end());
  return out;
}

Selector Sel(const char* text) {
  auto s = Selector::Parse(text);
  REQUIRE(s.ok());
  return *s;
}

}  // namespace

TEST_CASE("object store keys follow MetaNamespaceKeyFunc", "[object_store]") {
  ObjectStore<FlatObj> store;
  store.Add(Flat("default", "web"));
  store.Add(Flat("", "node-1"));  // cluster-scoped: key is the bare name
  CHECK(store.Get("default/web") != nullptr);
  CHECK(store.Get("default", "web") != nullptr);
  CHECK(store.Get("node-1") != nullptr);
  CHECK(store.Get("other/web") == nullptr);
  CHECK(store.Keys() == std::vector<std::string>{"default/web", "node-1"});

  ObjectStore<NestedObj> nested;
  nested.Add(std::make_shared<const NestedObj>(NestedObj{Meta{"ns1", "hpa", {{"a", "b"}}}}));
  CHECK(nested.Get("ns1/hpa") != nullptr);
  CHECK(nested.ListSelector("ns1", Sel("a=b")).size() == 1);

  ObjectStore<Json> js;
  js.Add(std::make_shared<const Json>(Json::parse(R"({"metadata":{"namespace":"x","name":"y","labels":{"k":"v"}}})")));
  CHECK(js.Get("x/y") != nullptr);
  CHECK(js.ListSelector("", Sel("k=v")).size() == 1);
  CHECK(js.ListSelector("", Sel("k=w")).empty());
}

TEST_CASE("object store updates swap snapshots and never mutate old ones", "[object_store]") {
  ObjectStore<FlatObj> store;
  CHECK(store.Upsert(Flat("ns", "a", {}, 1)) == nullptr);
  auto held = store.Get("ns/a");
  auto old = store.Upsert(Flat("ns", "a", {}, 2));
  REQUIRE(old != nullptr);
  CHECK(old == held);
  CHECK(held->value == 1);  // the reader's snapshot is untouched
  CHECK(store.Get("ns/a")->value == 2);
  CHECK(store.Size() == 1);

  auto removed = store.Delete("ns/a");
  REQUIRE(removed != nullptr);
  CHECK(removed->value == 2);
  CHECK(store.Delete("ns/a") == nullptr);
  CHECK(store.Size() == 0);
}

TEST_CASE("object store lists by namespace and selector", "[object_store]") {
  ObjectStore<FlatObj> store;
  store.Add(Flat("a", "web-1", {{"app", "web"}, {"tier", "fe"}}));
  store.Add(Flat("a", "web-2", {{"app", "web"}, {"tier", "be"}}));
  store.Add(Flat("a", "db-1", {{"app", "db"}}));
  store.Add(Flat("b", "web-1", {{"app", "web"}}));
  store.Add(Flat("b", "nolabels"));

  struct Case {
    const char* name;
    std::string ns;
    std::string selector;
    std::vector<std::string> want;
  };
  const Case cases[] = {
      {"everything in a", "a", "", {"a/db-1", "a/web-1", "a/web-2"}},
      {"everything", "", "", {"a/db-1", "a/web-1", "a/web-2", "b/nolabels", "b/web-1"}},
      {"equality in one namespace", "a", "app=web", {"a/web-1", "a/web-2"}},
      {"equality across namespaces", "", "app=web", {"a/web-1", "a/web-2", "b/web-1"}},
      {"two requirements", "a", "app=web,tier=fe", {"a/web-1"}},
      {"set-based in", "a", "app in (web,db)", {"a/db-1", "a/web-1", "a/web-2"}},
      {"single-valued in uses the index", "b", "app in (web)", {"b/web-1"}},
      {"notin", "a", "app notin (web)", {"a/db-1"}},
      {"exists", "", "tier", {"a/web-1", "a/web-2"}},
      {"does not exist", "b", "!app", {"b/nolabels"}},
      {"unknown label value", "a", "app=cache", {}},
      {"unknown namespace", "zzz", "", {}},
  };
  for (const auto& c : cases) {
    SECTION(c.name) { CHECK(Names(store.ListSelector(c.ns, Sel(c.selector.c_str()))) == c.want); }
  }
  SECTION("results come back in key order (name order within a namespace)") {
    store.Add(Flat("a", "web-0", {{"app", "web"}}));
    std::vector<std::string> got;
    for (const auto& o : store.ListSelector("a", Sel("app=web"))) got.push_back(o->name);
    CHECK(got == std::vector<std::string>{"web-0", "web-1", "web-2"});
    got.clear();
    for (const auto& o : store.ListSelector("a", Sel("tier"))) got.push_back(o->name);
    CHECK(got == std::vector<std::string>{"web-1", "web-2"});
  }
  SECTION("the label index is per namespace") {
    store.Delete("a/web-1");
    store.Delete("a/web-2");
    CHECK(store.ListSelector("a", Sel("app=web")).empty());
    CHECK(Names(store.ListSelector("b", Sel("app=web"))) == std::vector<std::string>{"b/web-1"});
    store.Delete("b/web-1");
    store.Delete("b/nolabels");
    CHECK(store.ListNamespace("b").empty());
    CHECK(store.ListSelector("b", Sel("")).empty());
  }
  SECTION("Nothing() matches nothing") { CHECK(store.ListSelector("a", Selector::Nothing()).empty()); }
  SECTION("ListNamespace") { CHECK(Names(store.ListNamespace("b")) == std::vector<std::string>{"b/nolabels", "b/web-1"}); }
  SECTION("label index follows relabelling") {
    store.Update(Flat("a", "web-1", {{"app", "cache"}}));
    CHECK(Names(store.ListSelector("a", Sel("app=web"))) == std::vector<std::string>{"a/web-2"});
    CHECK(Names(store.ListSelector("a", Sel("app=cache"))) == std::vector<std::string>{"a/web-1"});
    store.Delete("a/web-2");
    CHECK(store.ListSelector("a", Sel("app=web")).empty());
  }
}

TEST_CASE("object store Replace reports adds, updates and deletes", "[object_store]") {
  ObjectStore<FlatObj> store;
  auto keep = Flat("ns", "keep");
  store.Add(keep);
  store.Add(Flat("ns", "changed", {}, 1));
  store.Add(Flat("ns", "gone", {{"x", "y"}}));

  auto changes = store.Replace({keep, Flat("ns", "changed", {}, 2), Flat("ns", "new")});
  int adds = 0, updates = 0, deletes = 0;
  for (const auto& c : changes) {
    if (!c.old) {
      ++adds;
      CHECK(c.current->name == "new");
    } else if (!c.current) {
      ++deletes;
      CHECK(c.old->name == "gone");
    } else {
      ++updates;
      CHECK(c.old->value == 1);
      CHECK(c.current->value == 2);
    }
  }
  CHECK(adds == 1);
  CHECK(updates == 1);  // "keep" is the same snapshot: not reported
  CHECK(deletes == 1);
  CHECK(store.Keys() == std::vector<std::string>{"ns/changed", "ns/keep", "ns/new"});
  CHECK(store.ListSelector("", Sel("x=y")).empty());  // index cleaned up
}

TEST_CASE("object store readers run alongside a writer", "[object_store]") {
  ObjectStore<FlatObj> store;
  std::atomic<bool> done{false};
  std::thread writer([&] {
    for (int i = 0; i < 2000; ++i) store.Upsert(Flat("ns", "o" + std::to_string(i % 50), {{"app", "web"}}, i));
    done = true;
  });
  size_t max_seen = 0;
  while (!done) {
    auto objs = store.ListSelector("ns", Sel("app=web"));
    for (const auto& o : objs) REQUIRE(o->labels.at("app") == "web");
    max_seen = std::max(max_seen, objs.size());
  }
  writer.join();
  CHECK(store.Size() == 50);
  CHECK(max_seen <= 50);
}

TEST_CASE("object store keys of hostile JSON are empty, never an exception", "[object_store]") {
  using hpad::k8s::StoreKeyOf;
  using Json = nlohmann::json;
  CHECK(StoreKeyOf(Json::parse(R"({"metadata":{"namespace":"ns","name":"a"}})")) == "ns/a");
  CHECK_NOTHROW(StoreKeyOf(Json::parse(R"({"metadata":{"namespace":7,"name":["a"]}})")));
  CHECK(StoreKeyOf(Json::parse(R"({"metadata":{"namespace":7,"name":"a"}})")) == StoreKeyOf(Json::parse(R"({"metadata":{"name":"a"}})")));
  CHECK_NOTHROW(StoreKeyOf(Json::parse(R"({"metadata":[1,2]})")));
  CHECK_NOTHROW(StoreKeyOf(Json::parse(R"([1,2])")));
  CHECK_NOTHROW(StoreKeyOf(Json::parse(R"("text")")));
}

TEST_CASE("object store orders and finds by the key string without storing it (issue 16)", "[object_store]") {
  // Namespaces that are prefixes of each other, '-' and '.' sorting below
  // '/', cluster-scoped names, and hostile names holding '/': List() and
  // Keys() follow the "ns/name" strings' order, as a map keyed by them did.
  std::mt19937 rng(16);
  const std::vector<std::string> namespaces = {"", "a", "a-b", "a.b", "a/b", "ab", "b", "a0"};
  const std::vector<std::string> names = {"x", "b/x", "x/y", "", "a", "a-b", "zz", "/"};
  ObjectStore<FlatObj> store;
  std::map<std::string, std::pair<std::string, std::string>> want;  // key -> the last (ns, name) put under it
  for (int i = 0; i < 300; i++) {
    const std::string& ns = namespaces[rng() % namespaces.size()];
    const std::string& name = names[rng() % names.size()];
    store.Upsert(Flat(ns, name, {{"app", name}}, i));
    // Equal key strings ("a/b"+"x" and "a"+"b/x") are one key: the later replaces.
    want[hpad::k8s::ObjectStoreKey(ns, name)] = {ns, name};
  }
  std::vector<std::string> want_keys;
  for (const auto& [k, v] : want) want_keys.push_back(k);
  CHECK(store.Keys() == want_keys);
  CHECK(store.Size() == want.size());
  auto listed = store.List();
  REQUIRE(listed.size() == want.size());
  size_t i = 0;
  for (const auto& [k, v] : want) {
    INFO(k);
    CHECK(listed[i]->ns == v.first);
    CHECK(listed[i]->name == v.second);
    auto got = store.Get(k);
    REQUIRE(got);
    CHECK(got == listed[i]);
    CHECK(store.Get(v.first, v.second) == got);
    i++;
  }
  CHECK(store.Get("a/b/x/y/z") == nullptr);
  CHECK(store.Get("zz/none") == nullptr);
  CHECK(store.Get("zz", "none") == nullptr);
  // (ns, name) finds by the key string they make, as the map did: "a" + "b/x" is "a/b/x".
  if (want.count("a/b/x")) CHECK(store.Get("a", "b/x") == store.Get("a/b", "x"));
  // A namespace's objects are its own, even when another's key shares the prefix.
  for (const std::string& ns : namespaces) {
    if (ns.empty()) continue;
    INFO(ns);
    size_t n = 0;
    for (const auto& o : store.ListNamespace(ns)) {
      CHECK(o->ns == ns);
      n++;
    }
    size_t expect = 0;
    for (const auto& [k, v] : want) expect += v.first == ns ? 1 : 0;
    CHECK(n == expect);
    CHECK(store.ListSelector(ns, Sel("app=x")).size() ==
          static_cast<size_t>(std::count_if(want.begin(), want.end(), [&](const auto& e) {
            return e.second.first == ns && e.second.second == "x";
          })));
  }
  // Deleting by key string removes exactly that object.
  for (const auto& [k, v] : want) {
    REQUIRE(store.Delete(k) != nullptr);
    CHECK(store.Get(k) == nullptr);
  }
  CHECK(store.Size() == 0);
}
