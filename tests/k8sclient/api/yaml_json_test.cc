// YAML -> JSON adapter: scalar typing (libraries.md §9), multi-document
// handling, error locations, path line numbers.
#include <catch2/catch.hpp>

#include "k8sclient/api/yaml_json.h"

using hpad::k8s::YamlToJson;
using hpad::k8s::YamlToJsonDocuments;
using hpad::k8s::YamlToJsonDocumentsWithLines;
using hpad::k8s::YamlToJsonWithLines;
using nlohmann::json;

TEST_CASE("yaml scalars: only plain scalars are resolved", "[yaml]") {
  struct Case {
    const char* yaml;
    json want;
  };
  const Case cases[] = {
      {"v: true", true},
      {"v: \"true\"", "true"},
      {"v: 'true'", "true"},
      {"v: !!str 42", "42"},
      {"v: 42", 42},
      {"v: \"1\"", "1"},
      {"v: -7", -7},
      {"v: 0.75", 0.75},
      {"v: 1e3", 1000.0},
      {"v: ~", nullptr},
      {"v:", nullptr},
      {"v: null", nullptr},
      {"v: \"null\"", "null"},
      {"v: yes", true},
      {"v: off", false},
      {"v: 0x1F", 31},
      {"v: 0755", 493},  // YAML 1.1 octal, as go-yaml/kubectl read it
      {"v: 500m", "500m"},
      {"v: 1.5Gi", "1.5Gi"},
      {"v: 9223372036854775807", 9223372036854775807LL},
      {"v: 2026-01-01T00:00:00Z", "2026-01-01T00:00:00Z"},
      {"v: hello world", "hello world"},
      {"v: \"\"", ""},
      {"v: !!int \"12\"", 12},
  };
  for (const auto& c : cases) {
    INFO(c.yaml);
    auto r = YamlToJson(c.yaml, "t.yaml");
    REQUIRE(r.ok());
    CHECK(r->at("v") == c.want);
    CHECK(r->at("v").type() == c.want.type());
  }
}

TEST_CASE("yaml nested structures and merge keys", "[yaml]") {
  auto r = YamlToJson(R"(
defaults: &d
  a: 1
  b: 2
obj:
  <<: *d
  b: 3
list:
  - x
  - {k: v}
  - [1, "2"]
)",
                      "t.yaml");
  REQUIRE(r.ok());
  CHECK(r->at("obj") == json({{"a", 1}, {"b", 3}}));
  CHECK(r->at("list") == json::parse(R"(["x", {"k": "v"}, [1, "2"]])"));
}

TEST_CASE("yaml multi documents drop null documents", "[yaml]") {
  auto r = YamlToJsonDocuments("a: 1\n---\nb: 2\n---\n# only a comment\n", "multi.yaml");
  REQUIRE(r.ok());
  REQUIRE(r->size() == 2);
  CHECK((*r)[0] == json({{"a", 1}}));
  CHECK((*r)[1] == json({{"b", 2}}));

  auto empty = YamlToJsonDocuments("", "e.yaml");
  REQUIRE(empty.ok());
  CHECK(empty->empty());
  auto single_empty = YamlToJson("", "e.yaml");
  REQUIRE(single_empty.ok());
  CHECK(single_empty->is_null());

  auto two = YamlToJson("a: 1\n---\nb: 2\n", "two.yaml");
  REQUIRE_FALSE(two.ok());
  CHECK(two.status().message() == "two.yaml: expected one YAML document, found 2");
}

TEST_CASE("yaml errors name the source and the 1-based line", "[yaml]") {
  auto r = YamlToJson("a: 1\nb: [1, 2\nc: 3\n", "broken.yaml");
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().code() == hpad::StatusCode::kInvalid);
  CHECK(r.status().message().rfind("broken.yaml:", 0) == 0);

  auto bad_indent = YamlToJson("a:\n  b: 1\n c: 2\n", "indent.yaml");
  REQUIRE_FALSE(bad_indent.ok());
  CHECK(bad_indent.status().message().rfind("indent.yaml:3:", 0) == 0);

  auto dup = YamlToJson("a: 1\nb: 2\na: 3\n", "dup.yaml");
  REQUIRE_FALSE(dup.ok());
  CHECK(dup.status().message() == "dup.yaml:3:1: mapping key \"a\" already defined");

  auto complex_key = YamlToJson("? [a, b]\n: 1\n", "key.yaml");
  REQUIRE_FALSE(complex_key.ok());
  CHECK(complex_key.status().message().find("mapping keys must be scalars") != std::string::npos);

  auto bad_tag = YamlToJson("v: !!int abc\n", "tag.yaml");
  REQUIRE_FALSE(bad_tag.ok());
  CHECK(bad_tag.status().message() == "tag.yaml:1:4: cannot decode \"abc\" as !!int");
}

TEST_CASE("yaml a stray flow entry is an error, not an endless stream of documents", "[yaml]") {
  // yaml-cpp 0.7's LoadAll never returns on these (tests/fuzz scenario_fuzz
  // hang): the parser makes no progress on a `,` that starts a node.
  auto alone = YamlToJsonDocuments(",\n", "comma.yaml");
  REQUIRE_FALSE(alone.ok());
  CHECK(alone.status().message() ==
        "comma.yaml:1:1: unexpected content ',': no YAML node can start here (a stray flow indicator outside [] or {}?)");

  auto later = YamlToJsonDocumentsWithLines("a: 1\n---\n, b\n", "later.yaml");
  REQUIRE_FALSE(later.ok());
  CHECK(later.status().message().rfind("later.yaml:3:1: unexpected content ','", 0) == 0);

  // Empty documents still make progress and stay accepted.
  auto empties = YamlToJsonDocuments("---\n---\n---\na: 1\n...\n", "empties.yaml");
  REQUIRE(empties.ok());
  CHECK(empties->size() == 1);
}

TEST_CASE("yaml line numbers per path", "[yaml]") {
  auto r = YamlToJsonWithLines(R"(name: demo
steps:
  - at: 0s
    expect:
      - status:
          currentReplicas: 2
  - at: 30s
    expect:
      - status: {desiredReplicas: 3}
)",
                               "s.yaml");
  REQUIRE(r.ok());
  CHECK(r->LineOf("name") == 1);
  CHECK(r->LineOf("steps") == 2);
  CHECK(r->LineOf("steps[0]") == 3);
  CHECK(r->LineOf("steps[0].expect[0].status") == 5);
  CHECK(r->LineOf("steps[0].expect[0].status.currentReplicas") == 6);
  CHECK(r->LineOf("steps[1].expect[0].status.desiredReplicas") == 9);
  // Unknown paths fall back to the nearest recorded ancestor.
  CHECK(r->LineOf("steps[1].expect[0].status.nope") == 9);
  CHECK(r->LineOf("steps[1].expect[7]") == 8);
  CHECK(r->json["steps"][1]["at"] == "30s");

  auto docs = YamlToJsonDocumentsWithLines("a: 1\n---\nb:\n  c: 2\n", "m.yaml");
  REQUIRE(docs.ok());
  REQUIRE(docs->size() == 2);
  CHECK((*docs)[1].LineOf("b.c") == 4);
}
