// Foreign JSON: bounded parsing, safe printing, short value descriptions
// (k8sclient/api/json_parse.h), and the checked field helpers built on them.
#include <catch2/catch.hpp>

#include <string>

#include "k8sclient/api/json_parse.h"
#include "k8sclient/api/types/json_fields.h"
#include "k8sclient/base/text.h"

namespace hpad::k8s {
namespace {

TEST_CASE("json_parse: nesting beyond the limit is an error, not a stack overflow", "[json_parse]") {
  std::string deep(300000, '[');
  deep += std::string(300000, ']');
  CHECK(JsonNestingExceeds(deep));
  auto r = ParseForeignJson(deep, "GET /x reply");
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().code() == StatusCode::kInvalid);
  CHECK(r.status().message() == "GET /x reply: JSON nested deeper than the limit of 256 levels");
  // Exactly at the limit is fine; brackets inside strings do not count.
  std::string ok_deep = std::string(256, '[') + std::string(256, ']');
  CHECK(ParseForeignJson(ok_deep, "x").ok());
  CHECK_FALSE(ParseForeignJson(std::string(257, '[') + std::string(257, ']'), "x").ok());
  CHECK(ParseForeignJson("{\"a\": \"" + std::string(1000, '[') + "\\\"[\"}", "x").ok());
  // A limit below the fast scanner's own holds for valid texts too.
  auto shallow = ParseForeignJson("[[[[1]]]]", "x", kMaxJsonBytes, 3);
  REQUIRE_FALSE(shallow.ok());
  CHECK(shallow.status().message() == "x: JSON nested deeper than the limit of 3 levels");
  CHECK(ParseForeignJson("[[[1]]]", "x", kMaxJsonBytes, 3).ok());
  // Past the limit with a syntax error further on: the depth is named.
  auto both = ParseForeignJson(std::string(257, '[') + "oops", "x");
  REQUIRE_FALSE(both.ok());
  CHECK(both.status().message() == "x: JSON nested deeper than the limit of 256 levels");
}

TEST_CASE("json_parse: size limit, malformed JSON and invalid UTF-8 are errors naming the source", "[json_parse]") {
  auto big = ParseForeignJson("[1,2,3]", "reply", 5);
  REQUIRE_FALSE(big.ok());
  CHECK(big.status().message() == "reply: 7 bytes exceed the limit of 5 bytes");
  auto bad = ParseForeignJson("{oops", "reply");
  REQUIRE_FALSE(bad.ok());
  CHECK_THAT(bad.status().message(), Catch::StartsWith("reply: not valid JSON (at byte"));
  auto utf = ParseForeignJson("\"caf\xE9\"", "reply");
  REQUIRE_FALSE(utf.ok());
  CHECK(IsValidUtf8(utf.status().message()));
  auto good = ParseForeignJson(R"({"kind":"Pod"})", "reply");
  REQUIRE(good.ok());
  CHECK((*good)["kind"] == "Pod");
}

TEST_CASE("json_parse: DumpForeign replaces invalid bytes instead of throwing", "[json_parse]") {
  nlohmann::json j = {{"message", std::string("caf\xE9")}};
  CHECK_THROWS(j.dump());
  CHECK(DumpForeign(j) == "{\"message\":\"caf\xEF\xBF\xBD\"}");
}

TEST_CASE("json_parse: DescribeJson never dumps a whole object", "[json_parse]") {
  CHECK(DescribeJson(nullptr) == "null");
  CHECK(DescribeJson(42) == "42");
  CHECK(DescribeJson(true) == "true");
  CHECK(DescribeJson("x") == "\"x\"");
  CHECK(DescribeJson(nlohmann::json::object({{"a", std::string(10000, 'x')}})) == "an object");
  CHECK(DescribeJson(nlohmann::json::array()) == "a list");
  CHECK(DescribeJson(std::string(1000, 'y')).size() <= 66);
}

TEST_CASE("json_fields: float to integer conversion checks NaN, inf and range", "[json_parse]") {
  int64_t v = 7;
  auto parsed = ParseForeignJson(R"({"a": 3.0, "b": 1e300, "c": -1e19, "d": 2.5})", "x");
  REQUIRE(parsed.ok());
  CHECK(fields::GetInt64(*parsed, "a", "spec", &v).ok());
  CHECK(v == 3);
  CHECK_FALSE(fields::GetInt64(*parsed, "b", "spec", &v).ok());
  CHECK_FALSE(fields::GetInt64(*parsed, "c", "spec", &v).ok());
  CHECK_FALSE(fields::GetInt64(*parsed, "d", "spec", &v).ok());
  CHECK(v == 3);
  std::string s;
  Status st = fields::GetString(nlohmann::json{{"kind", nullptr}, {"name", 5}}, "name", "metadata", &s);
  CHECK(st.message() == "metadata.name: expected a string, got 5");
}

}  // namespace
}  // namespace hpad::k8s
