// StatusFromHttp table (every code class + metav1.Status reasons), query
// strings, object paths and server URL parsing.
#include <catch2/catch.hpp>

#include "k8sclient/api_client.h"
#include "k8sclient/http_transport.h"

namespace hpad::k8s {

TEST_CASE("StatusFromHttp maps HTTP codes and metav1.Status bodies", "[api][errors]") {
  auto status_body = [](int code, const std::string& reason, const std::string& message) {
    return R"({"kind":"Status","apiVersion":"v1","status":"Failure","code":)" + std::to_string(code) +
           R"(,"reason":")" + reason + R"(","message":")" + message + R"("})";
  };
  struct Case {
    const char* name;
    int http;
    std::string body;
    StatusCode want;
    std::string want_reason;
    std::string want_message;
  };
  std::vector<Case> cases = {
      {"200 ok", 200, "{}", StatusCode::kOk, "", ""},
      {"201 created", 201, "{}", StatusCode::kOk, "", ""},
      {"204 no content", 204, "", StatusCode::kOk, "", ""},
      {"400", 400, status_body(400, "BadRequest", "bad"), StatusCode::kInvalid, "BadRequest", "bad"},
      {"401", 401, status_body(401, "Unauthorized", "who"), StatusCode::kUnauthorized, "Unauthorized", "who"},
      {"403", 403, status_body(403, "Forbidden", "no"), StatusCode::kForbidden, "Forbidden", "no"},
      {"404", 404, status_body(404, "NotFound", R"(pods \"x\" not found)"), StatusCode::kNotFound, "NotFound",
       "pods \"x\" not found"},
      {"405", 405, "", StatusCode::kInvalid, "MethodNotAllowed", "HTTP 405 MethodNotAllowed"},
      {"408", 408, "", StatusCode::kTimeout, "Timeout", "HTTP 408 Timeout"},
      {"409 conflict", 409, status_body(409, "Conflict", "stale"), StatusCode::kConflict, "Conflict", "stale"},
      {"409 already exists", 409, status_body(409, "AlreadyExists", "exists"), StatusCode::kConflict, "AlreadyExists",
       "exists"},
      {"410 expired", 410, status_body(410, "Expired", "too old"), StatusCode::kGone, "Expired", "too old"},
      {"410 gone", 410, status_body(410, "Gone", "too old"), StatusCode::kGone, "Gone", "too old"},
      {"415", 415, "", StatusCode::kInvalid, "UnsupportedMediaType", "HTTP 415 UnsupportedMediaType"},
      {"422 with causes", 422,
       R"({"kind":"Status","code":422,"reason":"Invalid","message":"HPA is invalid","details":{"causes":[{"field":"spec.maxReplicas","message":"must be >= 1"}]}})",
       StatusCode::kInvalid, "Invalid", "HPA is invalid; spec.maxReplicas: must be >= 1"},
      {"429", 429, status_body(429, "TooManyRequests", "slow"), StatusCode::kTooManyRequests, "TooManyRequests",
       "slow"},
      {"500", 500, status_body(500, "InternalError", "boom"), StatusCode::kUnavailable, "InternalError", "boom"},
      {"500 server timeout", 500, status_body(500, "ServerTimeout", "later"), StatusCode::kTimeout, "ServerTimeout",
       "later"},
      {"502 from a proxy (HTML body)", 502, "<html>bad gateway</html>\n", StatusCode::kUnavailable, "",
       "HTTP 502: <html>bad gateway</html>"},
      {"503", 503, status_body(503, "ServiceUnavailable", "down"), StatusCode::kUnavailable, "ServiceUnavailable",
       "down"},
      {"504", 504, status_body(504, "Timeout", "slow etcd"), StatusCode::kTimeout, "Timeout", "slow etcd"},
      {"302 redirect", 302, "", StatusCode::kInternal, "", "HTTP 302"},
      {"Status without message", 404,
       R"({"kind":"Status","code":404,"reason":"NotFound","details":{"name":"web","kind":"deployments"}})",
       StatusCode::kNotFound, "NotFound", "deployments \"web\""},
  };
  for (const Case& c : cases) {
    Status s = StatusFromHttp(c.http, c.body);
    INFO(c.name << " -> " << s.ToString());
    CHECK(s.code() == c.want);
    if (c.want == StatusCode::kOk) continue;
    CHECK(s.http_code() == c.http);
    CHECK(s.reason() == c.want_reason);
    CHECK(s.message() == c.want_message);
  }
}

TEST_CASE("ListOptions::ToQuery orders keys like Go and encodes values", "[api]") {
  ListOptions o;
  CHECK(o.ToQuery(false) == "");
  CHECK(o.ToQuery(true) == "watch=true");
  o.label_selector = "app=web,tier in (a,b),!canary";
  o.field_selector = "status.phase!=Failed";
  o.resource_version = "123";
  o.limit = 500;
  o.continue_token = "abc=";
  o.timeout_seconds = 290;
  o.allow_watch_bookmarks = true;
  CHECK(o.ToQuery(false) ==
        "continue=abc%3D&fieldSelector=status.phase%21%3DFailed&labelSelector=app%3Dweb%2Ctier%20in%20%28a%2Cb%29%2C%"
        "21canary&limit=500&resourceVersion=123&timeoutSeconds=290");
  // limit/continue are list-only; bookmarks and watch are watch-only.
  CHECK(o.ToQuery(true) ==
        "allowWatchBookmarks=true&fieldSelector=status.phase%21%3DFailed&labelSelector=app%3Dweb%2Ctier%20in%20%28a%"
        "2Cb%29%2C%21canary&resourceVersion=123&timeoutSeconds=290&watch=true");
}

TEST_CASE("ObjectKey::Path for core, grouped, cluster-scoped and subresources", "[api]") {
  CHECK(ObjectKey{resources::kPods, "default", "p", ""}.Path() == "/api/v1/namespaces/default/pods/p");
  CHECK(ObjectKey{resources::kDeployments, "ns", "web", "scale"}.Path() ==
        "/apis/apps/v1/namespaces/ns/deployments/web/scale");
  CHECK(ObjectKey{resources::kHpaV2, "ns", "h", "status"}.Path() ==
        "/apis/autoscaling/v2/namespaces/ns/horizontalpodautoscalers/h/status");
  CHECK(ObjectKey{resources::kNamespaces, "", "kube-system", ""}.Path() == "/api/v1/namespaces/kube-system");
  CHECK(ObjectKey{resources::kPods, "", "", ""}.Path() == "/api/v1/pods");
  CHECK(ObjectKey{resources::kPods, "default", "", ""}.Path() == "/api/v1/namespaces/default/pods");
  CHECK(PatchContentType(PatchType::kMerge) == std::string("application/merge-patch+json"));
  CHECK(PatchContentType(PatchType::kStrategicMerge) == std::string("application/strategic-merge-patch+json"));
  CHECK(PatchContentType(PatchType::kJsonPatch) == std::string("application/json-patch+json"));
  CHECK(WatchEventTypeName(WatchEvent::Type::kBookmark) == std::string("BOOKMARK"));
}

TEST_CASE("ParseServerUrl", "[api]") {
  auto u = ParseServerUrl("https://example.com/k8s/clusters/c-1/");
  REQUIRE(u.ok());
  CHECK(u->host == "example.com");
  CHECK(u->port == 443);
  CHECK(u->path_prefix == "/k8s/clusters/c-1");
  CHECK(u->Origin() == "https://example.com:443");
  auto v = ParseServerUrl("http://127.0.0.1:8080");
  REQUIRE(v.ok());
  CHECK(v->port == 8080);
  CHECK(v->path_prefix == "");
  CHECK_FALSE(v->https());
  auto w = ParseServerUrl("https://[::1]:6443");
  REQUIRE(w.ok());
  CHECK(w->host == "[::1]");
  CHECK(w->port == 6443);
  for (const char* bad : {"example.com", "ftp://x", "https://", "https://h:0", "https://h:99999", "https://h:x",
                          "https://h/p?q=1", "https://u@h"}) {
    INFO(bad);
    auto r = ParseServerUrl(bad);
    REQUIRE_FALSE(r.ok());
    CHECK_THAT(r.status().message(), Catch::Contains(bad));
  }
}

}  // namespace hpad::k8s
