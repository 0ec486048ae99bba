// RestApiClient::ListRaw and the pod informer's typed page path over it
// (issue 16). With a scripted transport, ListRaw returns the body as sent,
// named as List() names it in parse errors, with List()'s errors; and an
// Informer<Pod> listing through it with PodListPageFromText ends every
// Relist() as the DOM informer (List() + PodFromJson) does: the same status
// (code and text, a body that does not parse included) and the same store.
#include <catch2/catch.hpp>

#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "k8sclient/api/types/pod.h"
#include "k8sclient/base/klog.h"
#include "k8sclient/informer.h"
#include "k8sclient/rest_api_client.h"
#include "tests/k8sclient/api/types/pod_list_reference.h"

using namespace hpad;

namespace {

const Time kStart = Time(std::chrono::seconds(1767225600));  // 2026-01-01T00:00:00Z

// Answers a path (query cut off) with the reply set for it (200 "" when none).
class ScriptedTransport final : public k8s::HttpTransport {
 public:
  void Set(const std::string& path, int status, std::string body) {
    std::lock_guard<std::mutex> l(mu_);
    replies_[path] = k8s::HttpResponse{status, {}, std::move(body)};
  }
  Result<k8s::HttpResponse> Send(const k8s::HttpRequest& request) override {
    std::lock_guard<std::mutex> l(mu_);
    auto it = replies_.find(request.path_and_query.substr(0, request.path_and_query.find('?')));
    if (it == replies_.end()) return k8s::HttpResponse{200, {}, ""};
    return it->second;
  }
  Result<std::unique_ptr<k8s::HttpStream>> OpenStream(const k8s::HttpRequest&) override {
    return Status(StatusCode::kUnavailable, "no streams here");
  }
  const std::string& server() const override { return server_; }

 private:
  std::mutex mu_;
  std::map<std::string, k8s::HttpResponse> replies_;
  std::string server_ = "http://scripted";
};

struct Fixture {
  Fixture() : clock(kStart) {
    auto t = std::make_unique<ScriptedTransport>();
    transport = t.get();
    k8s::RestApiClientOptions o;
    o.qps = 0;
    o.max_attempts = 1;
    api = std::make_unique<k8s::RestApiClient>(std::move(t), clock, o);
  }
  SimulatedClock clock;
  ScriptedTransport* transport;
  std::unique_ptr<k8s::RestApiClient> api;
};

std::string ShowStore(const k8s::Informer<k8s::Pod>& inf) {
  std::string out;
  for (const auto& p : inf.Store().List()) out += k8s::testing::ShowPod(*p) + "\n";
  return out;
}

const char* kPod = R"({"metadata":{"name":"a","namespace":"n","labels":{"app":"x"}},
  "spec":{"containers":[{"name":"c","resources":{"requests":{"cpu":"1"}}}]},
  "status":{"phase":"Running","conditions":[{"type":"Ready","status":"True"}]}})";

}  // namespace

TEST_CASE("ListRaw returns the body as sent, named as List() names it, with List()'s errors", "[informer][pod-stream]") {
  Fixture f;
  const std::string page = std::string(R"( {"metadata":{"resourceVersion":"5"},"items":[)") + kPod + "]} ";
  f.transport->Set("/api/v1/pods", 200, page);
  f.transport->Set("/api/v1/namespaces/gone/pods", 404,
                   R"({"kind":"Status","status":"Failure","reason":"NotFound","code":404,"message":"nope"})");
  f.transport->Set("/api/v1/namespaces/boom/pods", 500, "upstream exploded");
  k8s::ListOptions o;
  o.limit = 500;
  auto raw = f.api->ListRaw(k8s::resources::kPods, "", o);
  REQUIRE(raw.ok());
  CHECK(raw->body == page);
  CHECK(raw->what == k8s::ReplyName("LIST", "/api/v1/pods?limit=500"));
  CHECK(f.api->Background().ListRaw(k8s::resources::kPods, "", o)->body == page);
  CHECK(f.api->ListRaw(k8s::resources::kPods, "empty", o)->body.empty());
  for (const char* ns : {"gone", "boom"}) {
    auto r = f.api->ListRaw(k8s::resources::kPods, ns, o);
    auto d = f.api->List(k8s::resources::kPods, ns, o);
    REQUIRE_FALSE(r.ok());
    REQUIRE_FALSE(d.ok());
    CHECK(r.status().code() == d.status().code());
    CHECK(r.status().message() == d.status().message());
    CHECK(r.status().http_code() == d.status().http_code());
  }
}

TEST_CASE("the typed pod informer over RestApiClient relists as the DOM informer does", "[informer][pod-stream]") {
  Fixture f;
  k8s::PodInterner interner;
  k8s::ReflectorOptions ro;
  ro.gvr = k8s::resources::kPods;
  ro.name = "pods";
  ro.seed = 7;
  auto convert = [&interner](const k8s::Json& j) { return k8s::PodFromJson(j, &interner); };
  k8s::Informer<k8s::Pod> dom(*f.api, f.clock, ro, convert);
  k8s::Informer<k8s::Pod> typed(*f.api, f.clock, ro, convert,
                                [&interner](std::string_view text, std::string_view what, k8s::PodListPage* page) {
                                  return k8s::PodListPageFromText(text, what, &interner, page);
                                });
  std::vector<std::string> logs;
  k8s::SetLogSink([&logs](std::string_view l) {
    if (l.find("skipping") != std::string_view::npos) logs.emplace_back(l.substr(l.find("] ") + 2));
  });
  const std::string bad_pod = R"({"metadata":{"name":"b","namespace":"n"},"status":{"conditions":[7]}})";
  const std::vector<std::string> bodies = {
      std::string(R"({"metadata":{"resourceVersion":"9"},"items":[)") + kPod + "," + bad_pod + "]}",
      std::string(R"({"metadata":{"resourceVersion":"9"},"items":[)") + kPod,  // cut: does not parse
      "",                                                                      // empty: a null page
      "[1]",
      std::string(R"({"items":[)") + kPod + R"(],"metadata":{"resourceVersion":10,"continue":5}})",
      "{\"items\":[{\"metadata\":{\"name\":\"\xff\"}}]}",  // bad UTF-8
      std::string(300, '[') + std::string(300, ']'),
  };
  for (const auto& body : bodies) {
    INFO("body: " << body);
    f.transport->Set("/api/v1/pods", 200, body);
    logs.clear();
    Status ds = dom.Relist();
    auto dom_logs = logs;
    logs.clear();
    Status ts = typed.Relist();
    CHECK(ts.code() == ds.code());
    CHECK(ts.ToString() == ds.ToString());
    CHECK(logs == dom_logs);
    CHECK(ShowStore(typed) == ShowStore(dom));
    CHECK(typed.LastSyncResourceVersion() == dom.LastSyncResourceVersion());
    if (&body == &bodies[0]) {
      CHECK(ts.ok());
      CHECK(typed.Store().Size() == 1);
      CHECK(logs.size() == 1);
      CHECK(typed.LastSyncResourceVersion() == "9");
    }
  }
  k8s::SetLogSink(nullptr);
  // A cut body fails the list with the reply's name, as List() would.
  f.transport->Set("/api/v1/pods", 200, bodies[1]);
  Status s = typed.Relist();
  CHECK(s.code() == StatusCode::kInternal);
  CHECK(s.message().find(k8s::ReplyName("LIST", "/api/v1/pods?limit=500") + ": not valid JSON (at byte ") !=
        std::string::npos);
}
