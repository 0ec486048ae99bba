// Hostile input at the k8sclient boundary (issue 10): error replies with
// wrong types or non-UTF-8 text, watch lines that are too long or too deep,
// times out of range, URLs built from odd names, credentials over plain http.
#include <catch2/catch.hpp>

#include <string>

#include <nlohmann/json.hpp>

#include "k8sclient/api/time_format.h"
#include "k8sclient/api_client.h"
#include "k8sclient/base/text.h"
#include "k8sclient/httplib_transport.h"
#include "k8sclient/http_transport.h"
#include "k8sclient/watch_decoder.h"

namespace hpad::k8s {
namespace {

// What the controller does with an error: put it into a condition (JSON).
void CheckUsableInCondition(const Status& s) {
  INFO(s.ToString());
  CHECK(IsValidUtf8(s.message()));
  nlohmann::json condition = {{"message", s.message()}, {"reason", s.reason()}};
  CHECK_NOTHROW(condition.dump());
}

TEST_CASE("hostile: a Status with a wrong type is a clear error, not an abort", "[hostile]") {
  Status s = StatusFromHttp(500, R"({"kind": null, "message": "x"})");
  CHECK(s.code() == StatusCode::kUnavailable);
  CHECK(s.http_code() == 500);
  CHECK(s.message() == "decoding Status from 500 reply: field \"kind\": expected string, got null");
  CheckUsableInCondition(s);

  Status reason = StatusFromHttp(404, R"({"kind":"Status","reason":7})");
  CHECK(reason.code() == StatusCode::kNotFound);
  CHECK(reason.message() == "decoding Status from 404 reply: field \"reason\": expected string, got 7");

  Status cause = StatusFromHttp(422, R"({"kind":"Status","message":"bad","details":{"causes":[{"field":[]}]}})");
  CHECK(cause.code() == StatusCode::kInvalid);
  CHECK(cause.message() ==
        "decoding Status from 422 reply: field \"details.causes[0].field\": expected string, got a list");

  Status details = StatusFromHttp(409, R"({"kind":"Status","details":"x"})");
  CHECK(details.message() == "decoding Status from 409 reply: field \"details\": expected object, got \"x\"");
}

TEST_CASE("hostile: a plain-text error body with non-UTF-8 bytes gives a safe message", "[hostile]") {
  std::string body = "Service Unavailable: caf\xE9 adapter \x1b[31mdown\x1b[0m\r\n";
  Status s = StatusFromHttp(503, body);
  CHECK(s.code() == StatusCode::kUnavailable);
  CHECK(s.message() == "HTTP 503 ServiceUnavailable: Service Unavailable: caf\xEF\xBF\xBD adapter down");
  CheckUsableInCondition(s);
  // Long bodies are cut at a code point with a marker.
  std::string long_body;
  for (int i = 0; i < 1000; ++i) long_body += "\xE2\x82\xAC";
  Status l = StatusFromHttp(502, long_body);
  CHECK(l.message().size() <= 300);
  CHECK_THAT(l.message(), Catch::EndsWith("..."));
  CheckUsableInCondition(l);
  // A body nested 300,000 levels is quoted, never parsed into a stack overflow.
  Status deep = StatusFromHttp(500, std::string(300000, '['));
  CheckUsableInCondition(deep);
  // Secrets in an error body are redacted like log lines.
  Status secret = StatusFromHttp(401, "auth failed: Bearer abc.def");
  CHECK_THAT(secret.message(), Catch::EndsWith("auth failed: Bearer <redacted>"));
}

TEST_CASE("hostile: watch lines over the limit and deep nesting are errors", "[hostile][watch_decoder]") {
  auto deep = DecodeWatchLine(R"({"type":"ADDED","object":)" + std::string(300000, '[') + "}");
  REQUIRE_FALSE(deep.ok());
  CHECK_THAT(deep.status().message(), Catch::Contains("nested deeper than the limit of 256 levels"));

  WatchEventDecoder d;
  std::string chunk(1 << 20, 'x');
  for (int i = 0; i < 5; ++i) d.Feed(chunk);  // 5 MiB without a newline
  CHECK(d.pending_bytes() <= kMaxWatchLineBytes);
  d.Feed("rest of the huge line\n{\"type\":\"ADDED\",\"object\":{\"kind\":\"Pod\"}}\n");
  auto e1 = d.Next();
  REQUIRE(e1.has_value());
  REQUIRE_FALSE(e1->ok());
  CHECK(e1->status().message() == "watch stream: event line longer than the limit of 4194304 bytes");
  auto e2 = d.Next();  // the decoder recovers at the next line
  REQUIRE(e2.has_value());
  REQUIRE(e2->ok());
  CHECK((*e2)->object["kind"] == "Pod");
  CHECK_FALSE(d.Next().has_value());

  // An ERROR event with a Status of the wrong shape is an error, not an abort.
  auto odd = DecodeWatchLine(R"({"type":"ERROR","object":{"code":410,"reason":"Expired","message":["x"]}})");
  REQUIRE(odd.ok());
  Status s = StatusFromWatchError(**odd);
  CHECK_FALSE(s.ok());
  CHECK(s.message() == "decoding Status from 410 reply: field \"message\": expected string, got a list");
  auto huge_code = DecodeWatchLine(R"({"type":"ERROR","object":{"code":99999999999999999999}})");
  REQUIRE(huge_code.ok());
  CHECK(StatusFromWatchError(**huge_code).code() == StatusCode::kInternal);
  auto negative = DecodeWatchLine(R"({"type":"ERROR","object":{"code":-410}})");
  REQUIRE(negative.ok());
  CHECK(StatusFromWatchError(**negative).code() == StatusCode::kInternal);
}

TEST_CASE("hostile: times outside the representable range are parse errors", "[hostile][time]") {
  CHECK(ParseRfc3339("2262-04-11T23:47:16Z").ok());
  CHECK(ParseRfc3339("1677-09-21T00:12:44Z").ok());
  for (const char* text : {"9999-12-31T23:59:59Z", "2262-04-12T00:00:00Z", "0001-01-01T00:00:00Z",
                           "1677-09-21T00:12:42Z"}) {
    auto t = ParseRfc3339(text);
    INFO(text);
    REQUIRE_FALSE(t.ok());
    CHECK_THAT(t.status().message(), Catch::Contains("outside the representable range"));
  }
  auto junk = ParseRfc3339("20\xFF\xFE-01-01T00:00:00Z");
  REQUIRE_FALSE(junk.ok());
  CHECK(IsValidUtf8(junk.status().message()));
}

TEST_CASE("hostile: names and selectors are percent-encoded in paths and queries", "[hostile][api]") {
  ObjectKey key{resources::kPods, "my ns", "a/b?c#d", ""};
  CHECK(key.Path() == "/api/v1/namespaces/my%20ns/pods/a%2Fb%3Fc%23d");
  ListOptions o;
  o.label_selector = "app in (a b),x!=y#z";
  CHECK(o.ToQuery(false) == "labelSelector=app%20in%20%28a%20b%29%2Cx%21%3Dy%23z");
  CHECK(UrlEncode("a&b=c") == PercentEncodeQueryValue("a&b=c"));
}

TEST_CASE("hostile: credentials are never sent over http:// to another host", "[hostile][transport]") {
  CHECK(IsLoopbackHost("localhost"));
  CHECK(IsLoopbackHost("127.0.0.1"));
  CHECK(IsLoopbackHost("127.1.2.3"));
  CHECK(IsLoopbackHost("[::1]"));
  CHECK_FALSE(IsLoopbackHost("127.0.0.1.evil.com"));
  CHECK_FALSE(IsLoopbackHost("128.0.0.1"));
  CHECK_FALSE(IsLoopbackHost("10.0.0.1"));
  CHECK_FALSE(IsLoopbackHost("localhost.example.com"));

  TransportConfig cfg;
  cfg.server = "http://10.1.2.3:8080";
  cfg.token_source = std::make_shared<StaticTokenSource>("sekret");
  auto refused = NewHttpTransport(cfg);
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.status().code() == StatusCode::kInvalid);
  CHECK_THAT(refused.status().message(), Catch::Contains("http://10.1.2.3:8080") && Catch::Contains("clear text"));
  CHECK_THAT(refused.status().message(), !Catch::Contains("sekret"));

  cfg.server = "http://127.0.0.1:8001";  // kubectl proxy
  CHECK(NewHttpTransport(cfg).ok());
  cfg.server = "https://10.1.2.3:6443";
  CHECK(NewHttpTransport(cfg).ok());
  cfg.server = "http://10.1.2.3:8080";  // no credentials: allowed
  cfg.token_source = nullptr;
  CHECK(NewHttpTransport(cfg).ok());
}

}  // namespace
}  // namespace hpad::k8s
