// SelectorRegistry (S3/S4, Q3/Q5) with its label index (issue 7: overlap
// checks that scale with pods, not HPAs^2): anchored and general selectors,
// re-registration, removal, Nothing slots, sorted answers, and agreement
// with the brute-force definition over a generated namespace.
#include <catch2/catch.hpp>

#include <random>

#include "controller/core/selector_registry.h"
#include "tests/controller/controller_test_util.h"

using namespace hpad::ctrl;
using namespace hpad::ctrl::testing;
namespace k8s = hpad::k8s;

namespace {

std::shared_ptr<const k8s::Pod> PodWith(const std::string& name, std::map<std::string, std::string> labels) {
  PodSpec s;
  s.name = name;
  s.labels = std::move(labels);
  return MakePod(s);
}

k8s::Selector Sel(const std::string& s) { return *k8s::Selector::Parse(s); }

}  // namespace

TEST_CASE("S4 SelectorRegistry: HPAs selecting any of the pods", "[selectors]") {
  SelectorRegistry r;
  for (const char* n : {"web", "web-tier", "api", "not-db", "everything", "fresh"}) CHECK(r.Register("default", n));
  CHECK_FALSE(r.Register("default", "web"));  // Q3: once
  CHECK(r.Register("other", "web"));
  CHECK(r.Size() == 7);
  REQUIRE(r.PutIfExists("default", "web", Sel("app=web")));
  REQUIRE(r.PutIfExists("default", "web-tier", Sel("tier in (front),app")));  // anchored on tier=front
  REQUIRE(r.PutIfExists("default", "api", Sel("app=api,tier=back")));
  REQUIRE(r.PutIfExists("default", "not-db", Sel("app!=db")));   // no equality: general
  REQUIRE(r.PutIfExists("other", "web", Sel("app=web")));          // other namespace
  CHECK_FALSE(r.PutIfExists("default", "ghost", Sel("app=web")));  // S3: no slot, no selector
  CHECK_FALSE(r.Exists("default", "ghost"));

  const PodList web = {PodWith("web-0", {{"app", "web"}, {"tier", "front"}})};
  CHECK(r.HpasSelectingAny("default", web) == std::vector<std::string>{"not-db", "web", "web-tier"});
  const PodList db = {PodWith("db-0", {{"app", "db"}})};
  CHECK(r.HpasSelectingAny("default", db).empty());
  const PodList api = {PodWith("api-0", {{"app", "api"}, {"tier", "back"}}), PodWith("x", {})};
  CHECK(r.HpasSelectingAny("default", api) == std::vector<std::string>{"api", "not-db"});
  // "fresh" was never reconciled: its slot matches nothing (Q3 note in S4).
  REQUIRE(r.PutIfExists("default", "everything", k8s::Selector()));
  CHECK(r.HpasSelectingAny("default", db) == std::vector<std::string>{"everything"});
  CHECK(r.HpasSelectingAny("nowhere", db).empty());

  // A changed selector moves in the index.
  REQUIRE(r.PutIfExists("default", "web", Sel("app=db")));
  CHECK(r.HpasSelectingAny("default", db) == std::vector<std::string>{"everything", "web"});
  CHECK(r.HpasSelectingAny("default", web) == std::vector<std::string>{"everything", "not-db", "web-tier"});
  // Back to Nothing: out of every index.
  REQUIRE(r.PutIfExists("default", "web", k8s::Selector::Nothing()));
  CHECK(r.HpasSelectingAny("default", db) == std::vector<std::string>{"everything"});

  // Q5.
  CHECK(r.Remove("default", "everything"));
  CHECK_FALSE(r.Remove("default", "everything"));
  CHECK(r.HpasSelectingAny("default", db).empty());
  CHECK(r.Size() == 6);
  CHECK_FALSE(r.PutIfExists("default", "everything", k8s::Selector()));
}

TEST_CASE("S4 SelectorRegistry agrees with checking every selector against every pod", "[selectors]") {
  std::mt19937 rng(7);
  SelectorRegistry r;
  std::map<std::string, k8s::Selector> brute;
  const std::vector<std::string> selectors = {"app=a", "app=b", "app in (a,c)", "app=a,tier=x", "tier=x", "!tier",
                                              "app notin (a)", "app", "tier in (x),app=c", ""};
  for (int i = 0; i < 300; i++) {
    std::string name = "h" + std::to_string(i);
    r.Register("ns", name);
    if (i % 17 == 0) continue;  // never reconciled: Nothing
    k8s::Selector s = Sel(selectors[rng() % selectors.size()]);
    REQUIRE(r.PutIfExists("ns", name, s));
    brute[name] = s;
  }
  const std::vector<std::map<std::string, std::string>> label_sets = {
      {{"app", "a"}}, {{"app", "b"}, {"tier", "x"}}, {{"app", "c"}, {"tier", "x"}}, {{"tier", "y"}}, {}};
  for (int trial = 0; trial < 50; trial++) {
    PodList pods;
    for (int p = 0; p < 1 + static_cast<int>(rng() % 3); p++)
      pods.push_back(PodWith("p" + std::to_string(p), label_sets[rng() % label_sets.size()]));
    std::vector<std::string> want;
    for (const auto& [name, s] : brute) {
      for (const auto& pod : pods) {
        if (s.Matches(pod->labels())) {
          want.push_back(name);
          break;
        }
      }
    }
    CHECK(r.HpasSelectingAny("ns", pods) == want);  // both sorted by name
  }
}
