// Label selectors: string form (scale subresource status.selector, query
// parameters) and metav1.LabelSelector JSON (metric selectors, M7/M8 of
// hpa-semantics.md rely on {} = everything); parse, match, canonical text.
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include "k8sclient/api/label_selector.h"

using hpad::k8s::Labels;
using hpad::k8s::Selector;
using nlohmann::json;

TEST_CASE("selector string parse and canonical format", "[selector]") {
  struct Case {
    const char* text;
    const char* canonical;
  };
  const Case cases[] = {
      {"", ""},
      {"   ", ""},
      {"app=web", "app=web"},
      {"app==web", "app=web"},
      {"app!=web", "app!=web"},
      {"app", "app"},
      {"!app", "!app"},
      {"tier in (b,a)", "tier in (a,b)"},
      {"tier notin (x)", "tier notin (x)"},
      {"tier in (a, b ,a)", "tier in (a,b)"},
      {"tier in ()", "tier in ()"},
      {"tier in (,a)", "tier in (,a)"},
      {"z=1,a=2", "a=2,z=1"},
      {"  app = web , !canary,tier in(x,y)", "app=web,!canary,tier in (x,y)"},
      {"app=", "app="},
      {"example.com/role=db", "example.com/role=db"},
      {"in=notin", "in=notin"},
      {"x in (in,notin)", "x in (in,notin)"},
      {"replicas>2", "replicas>2"},
      {"replicas<10", "replicas<10"},
  };
  for (const auto& c : cases) {
    INFO(c.text);
    auto s = Selector::Parse(c.text);
    REQUIRE(s.ok());
    CHECK(s->ToString() == c.canonical);
    auto again = Selector::Parse(s->ToString());
    REQUIRE(again.ok());
    CHECK(*again == *s);
  }
  CHECK(Selector::Parse("")->Empty());
  CHECK_FALSE(Selector::Parse("a")->Empty());
}

TEST_CASE("selector string errors name the text", "[selector]") {
  struct Case {
    const char* text;
    const char* fragment;
  };
  const Case cases[] = {
      {"app=web,", "at position 8: found 'end of string', expected: identifier or '!' after ','"},
      {",app", "at position 0: found ',', expected: !, identifier, or 'end of string'"},
      {"app web", "at position 4: found 'web', expected: one of =, ==, !=, in, notin, >, <"},
      {"tier in a", "at position 8: found 'a', expected: '('"},
      {"tier in (a", "found 'end of string', expected: ',', ')' or identifier"},
      {"tier in (a b)", "found 'b', expected: ',' or ')'"},
      {"!", "found 'end of string', expected: identifier after '!'"},
      {"a=b=c", "found '=', expected: ',' or 'end of string'"},
      {"-bad=x", "invalid label key \"-bad\""},
      {"app=-x", "invalid label value \"-x\""},
      {"Bad_Prefix/x=y", "invalid label key \"Bad_Prefix/x\": prefix must be a DNS-1123 subdomain"},
      {"replicas>abc", "for 'Gt', 'Lt' operators, the value must be an integer"},
      {"a=(b)", "found '(', expected: identifier"},
  };
  for (const auto& c : cases) {
    INFO(c.text);
    auto s = Selector::Parse(c.text);
    REQUIRE_FALSE(s.ok());
    CHECK(s.status().code() == hpad::StatusCode::kInvalid);
    CHECK(s.status().message().find(std::string("label selector \"") + c.text + "\"") != std::string::npos);
    CHECK(s.status().message().find(c.fragment) != std::string::npos);
  }
}

TEST_CASE("selector matches", "[selector]") {
  const Labels web{{"app", "web"}, {"tier", "front"}, {"replicas", "3"}};
  const Labels db{{"app", "db"}};
  const Labels none{};
  struct Case {
    const char* selector;
    bool web, db, none;
  };
  const Case cases[] = {
      {"", true, true, true},
      {"app=web", true, false, false},
      {"app!=web", false, true, true},  // missing label satisfies !=
      {"app in (web,db)", true, true, false},
      {"app notin (web)", false, true, true},
      {"tier", true, false, false},
      {"!tier", false, true, true},
      {"app=web,tier=front", true, false, false},
      {"app=web,tier=back", false, false, false},
      {"replicas>2", true, false, false},
      {"replicas<3", false, false, false},
      {"tier in ()", false, false, false},  // the empty value only
  };
  for (const auto& c : cases) {
    INFO(c.selector);
    auto s = Selector::Parse(c.selector);
    REQUIRE(s.ok());
    CHECK(s->Matches(web) == c.web);
    CHECK(s->Matches(db) == c.db);
    CHECK(s->Matches(none) == c.none);
  }
  CHECK(Selector::Parse("x=")->Matches({{"x", ""}}));
  CHECK_FALSE(Selector::Nothing().Matches(none));
  CHECK(Selector::Nothing().IsNothing());
  CHECK(Selector::Nothing().ToString().empty());
}

TEST_CASE("selector from metav1.LabelSelector JSON", "[selector]") {
  struct Case {
    const char* json_text;
    const char* canonical;
  };
  const Case cases[] = {
      {R"({})", ""},
      {R"({"matchLabels": {"app": "php-apache"}})", "app=php-apache"},
      {R"({"matchLabels": {"b": "2", "a": "1"}})", "a=1,b=2"},
      {R"({"matchExpressions": [{"key": "tier", "operator": "In", "values": ["b", "a"]}]})", "tier in (a,b)"},
      {R"({"matchExpressions": [{"key": "tier", "operator": "NotIn", "values": ["x"]}]})", "tier notin (x)"},
      {R"({"matchExpressions": [{"key": "gpu", "operator": "Exists"}]})", "gpu"},
      {R"({"matchExpressions": [{"key": "gpu", "operator": "DoesNotExist", "values": []}]})", "!gpu"},
      {R"({"matchLabels": {"z": "1"}, "matchExpressions": [{"key": "a", "operator": "Exists"}]})", "a,z=1"},
      {R"({"matchLabels": null, "matchExpressions": null})", ""},
  };
  for (const auto& c : cases) {
    INFO(c.json_text);
    auto s = Selector::FromJson(json::parse(c.json_text));
    REQUIRE(s.ok());
    CHECK(s->ToString() == c.canonical);
    CHECK_FALSE(s->IsNothing());
  }
  auto null_sel = Selector::FromJson(json(nullptr));
  REQUIRE(null_sel.ok());
  CHECK(null_sel->IsNothing());
  CHECK(Selector::FromJson(json::object())->Matches({{"any", "thing"}}));

  auto s = Selector::FromJson(json::parse(R"({"matchLabels": {"app": "web"}})"));
  CHECK(*s == Selector::FromLabels({{"app", "web"}}));
}

TEST_CASE("selector JSON errors name the field", "[selector]") {
  struct Case {
    const char* json_text;
    const char* message;
  };
  const Case cases[] = {
      {R"("app=web")", "label selector must be an object, got \"app=web\""},
      {R"({"matchLabels": {"app": 1}})", "matchLabels.app must be a string, got 1"},
      {R"({"matchExpressions": [{"key": "a", "operator": "Foo"}]})",
       "matchExpressions[0].operator: \"Foo\" is not a valid label selector operator"},
      {R"({"matchExpressions": [{"key": "a", "operator": "In", "values": []}]})",
       "matchExpressions[0]: for 'in', 'notin' operators, values set can't be empty"},
      {R"({"matchExpressions": [{"key": "a", "operator": "Exists", "values": ["x"]}]})",
       "matchExpressions[0]: values set must be empty for exists and does not exist"},
      {R"({"matchExpressions": [{"operator": "Exists"}]})", "matchExpressions[0].key: must be a string"},
  };
  for (const auto& c : cases) {
    INFO(c.json_text);
    auto s = Selector::FromJson(json::parse(c.json_text));
    REQUIRE_FALSE(s.ok());
    CHECK(s.status().message() == c.message);
  }
}
