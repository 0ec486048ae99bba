// ApiServer over loopback (port 0), plain HTTP and HTTPS, with httplib's
// client: discovery, Tables, watch streaming, protobuf POST, patches,
// metrics APIs, faults, errors as metav1.Status (kubectl-compat.md).
#include <httplib.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <algorithm>
#include <atomic>
#include <catch2/catch.hpp>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "k8sclient/api/time_format.h"
#include "sim/apiserver/api_server.h"
#include "sim/apiserver/cluster_state.h"
#include "tests/sim/apiserver/test_objects.h"

namespace hpad::sim {
namespace {

using testing::BuildExample01;

Time T0() { return *k8s::ParseRfc3339("2026-01-01T00:00:00Z"); }

struct Fixture {
  SimulatedClock clock{T0()};
  ClusterState state{clock};
  std::unique_ptr<ApiServer> server;
  explicit Fixture(bool tls = false, std::chrono::milliseconds bookmark_interval = std::chrono::milliseconds(0),
                   std::vector<MisbehaviorRule> misbehave = {}) {
    BuildExample01(state);
    ApiServerOptions o;
    o.tls = tls;
    o.bookmark_interval = bookmark_interval;
    o.misbehave = std::move(misbehave);
    server = std::make_unique<ApiServer>(state, o);
    auto port = server->Start();
    HPAD_CHECK(port.ok());
  }
  httplib::Client Client() { return httplib::Client("127.0.0.1", server->port()); }
};

Json Body(const httplib::Result& r) {
  HPAD_CHECK(r);
  return Json::parse(r->body);
}

const char* kTableAccept = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json";

TEST_CASE("ApiServer discovery (legacy) and /version", "[api_server]") {
  Fixture f;
  auto c = f.Client();
  Json v = Body(c.Get("/version?timeout=5s"));
  CHECK(v["major"] == "1");
  CHECK(v["minor"] == "32");
  auto r = c.Get("/api");
  CHECK(r->get_header_value("Content-Type") == "application/json");
  CHECK(Body(r)["versions"] == Json::array({"v1"}));

  Json groups = Body(c.Get("/apis"));
  std::map<std::string, Json> by_name;
  for (const Json& g : groups["groups"]) by_name[g["name"]] = g;
  REQUIRE(by_name.count("autoscaling"));
  CHECK(by_name["autoscaling"]["preferredVersion"]["version"] == "v2");
  CHECK(by_name["autoscaling"]["versions"].size() == 3);  // v2, v1, v2beta2 (python)
  for (const char* g : {"apps", "metrics.k8s.io", "custom.metrics.k8s.io", "external.metrics.k8s.io",
                        "coordination.k8s.io", "events.k8s.io"})
    CHECK(by_name.count(g) == 1);

  Json apps = Body(c.Get("/apis/apps/v1"));
  bool scale = false, deploy = false;
  for (const Json& res : apps["resources"]) {
    if (res["name"] == "deployments/scale") {
      scale = true;
      CHECK(res["group"] == "autoscaling");
      CHECK(res["kind"] == "Scale");
    }
    if (res["name"] == "deployments") {
      deploy = true;
      CHECK(res["shortNames"] == Json::array({"deploy"}));
      CHECK(res["namespaced"] == true);
    }
  }
  CHECK(scale);
  CHECK(deploy);
  Json as = Body(c.Get("/apis/autoscaling/v2"));
  CHECK(as["resources"][0]["name"] == "horizontalpodautoscalers");
  CHECK(as["resources"][0]["shortNames"] == Json::array({"hpa"}));
  CHECK(as["resources"][1]["name"] == "horizontalpodautoscalers/status");
  // Every group-version listed answers (python's DynamicClient fetches them all).
  for (const Json& g : groups["groups"])
    for (const Json& gv : g["versions"])
      CHECK(c.Get(("/apis/" + gv["groupVersion"].get<std::string>()).c_str())->status == 200);
  CHECK(Body(c.Get("/api/v1"))["resources"].size() > 3);

  // OpenAPI v3 for kubectl apply's strict validation (kubectl-compat 7).
  Json root = Body(c.Get("/openapi/v3"));
  std::string url = root["paths"]["apis/autoscaling/v2"]["serverRelativeURL"];
  Json doc = Body(c.Get(url.c_str()));
  const Json& patch = doc["paths"]["/apis/autoscaling/v2/namespaces/{namespace}/horizontalpodautoscalers/{name}"]["patch"];
  CHECK(patch["x-kubernetes-group-version-kind"]["kind"] == "HorizontalPodAutoscaler");
  CHECK(patch["parameters"][0]["name"] == "fieldValidation");
  CHECK(c.Get("/openapi/v2")->status == 404);
}

TEST_CASE("ApiServer errors are metav1.Status, DELETE returns Status then 404", "[api_server]") {
  Fixture f;
  auto c = f.Client();
  auto r = c.Get("/apis/autoscaling/v2/namespaces/default/horizontalpodautoscalers/nope");
  CHECK(r->status == 404);
  Json st = Json::parse(r->body);
  CHECK(st["kind"] == "Status");
  CHECK(st["reason"] == "NotFound");
  CHECK(st["message"] == "horizontalpodautoscalers.autoscaling \"nope\" not found");
  CHECK(st["details"]["group"] == "autoscaling");
  CHECK(st["details"]["kind"] == "horizontalpodautoscalers");
  CHECK(c.Get("/apis/nothing/v1/foos")->status == 404);

  auto d = c.Delete("/apis/autoscaling/v2/namespaces/default/horizontalpodautoscalers/frontend",
                    R"({"propagationPolicy":"Background"})", "application/json");
  CHECK(d->status == 200);
  Json ds = Json::parse(d->body);
  CHECK(ds["status"] == "Success");
  CHECK(ds["details"]["name"] == "frontend");
  CHECK(c.Get("/apis/autoscaling/v2/namespaces/default/horizontalpodautoscalers/frontend")->status == 404);

  auto dup = c.Post("/apis/apps/v1/namespaces/default/deployments",
                    R"({"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"frontend"},"spec":{}})",
                    "application/json");
  CHECK(dup->status == 409);
  CHECK(Json::parse(dup->body)["reason"] == "AlreadyExists");
  auto bad = c.Post("/apis/apps/v1/namespaces/default/deployments", "{not json", "application/json");
  CHECK(bad->status == 400);
  CHECK(Json::parse(bad->body)["kind"] == "Status");
}

TEST_CASE("ApiServer Tables for kubectl get", "[api_server]") {
  Fixture f;
  auto c = f.Client();
  httplib::Headers h = {{"Accept", kTableAccept}};
  Json t = Body(c.Get("/apis/autoscaling/v2/namespaces/default/horizontalpodautoscalers?limit=500", h));
  CHECK(t["kind"] == "Table");
  CHECK(t["metadata"]["resourceVersion"] == std::to_string(f.state.ResourceVersion()));
  std::vector<std::string> cols;
  for (const Json& c2 : t["columnDefinitions"]) cols.push_back(c2["name"]);
  CHECK(cols == std::vector<std::string>{"Name", "Reference", "Targets", "MinPods", "MaxPods", "Replicas", "Age"});
  REQUIRE(t["rows"].size() == 1);
  CHECK(t["rows"][0]["cells"] == Json::parse(R"(["frontend","Deployment/frontend","cpu: <unknown>/60%","1",10,0,"0s"])"));
  CHECK(t["rows"][0]["object"]["kind"] == "PartialObjectMetadata");
  CHECK(t["rows"][0]["object"]["metadata"]["namespace"] == "default");

  // With a status: TARGETS shows the current utilization; Age follows the clock.
  Json hpa = *f.state.Get(k8s::resources::kHpaV2, "default", "frontend");
  hpa["status"] = Json::parse(R"({"currentReplicas":2,"desiredReplicas":3,"currentMetrics":[{"type":"Resource",
      "resource":{"name":"cpu","current":{"averageUtilization":90,"averageValue":"180m"}}}]})");
  REQUIRE(f.state.UpdateStatus(k8s::resources::kHpaV2, "default", hpa).ok());
  f.clock.Advance(std::chrono::minutes(5));
  Json one = Body(c.Get("/apis/autoscaling/v2/namespaces/default/horizontalpodautoscalers/frontend", h));
  CHECK(one["rows"][0]["cells"] == Json::parse(R"(["frontend","Deployment/frontend","cpu: 90%/60%","1",10,2,"5m"])"));

  Json pods = Body(c.Get("/api/v1/namespaces/default/pods?limit=500", h));
  REQUIRE(pods["rows"].size() == 2);
  CHECK(pods["rows"][0]["cells"][1] == "2/2");
  CHECK(pods["rows"][0]["cells"][2] == "Running");
  Json deploy = Body(c.Get("/apis/apps/v1/namespaces/default/deployments", h));
  CHECK(deploy["rows"][0]["cells"][0] == "frontend");
  CHECK(deploy["rows"][0]["cells"][1] == "0/2");
  // Without the Table Accept: a plain list.
  Json plain = Body(c.Get("/apis/autoscaling/v2/horizontalpodautoscalers"));
  CHECK(plain["kind"] == "HorizontalPodAutoscalerList");
  CHECK(plain["apiVersion"] == "autoscaling/v2");
  Json v1 = Body(c.Get("/apis/autoscaling/v1/horizontalpodautoscalers"));
  CHECK(v1["items"][0]["spec"]["targetCPUUtilizationPercentage"] == 60);
  CHECK(v1["items"][0]["status"]["currentCPUUtilizationPercentage"] == 90);
}

// Reads a watch stream on a thread, collecting complete lines.
struct StreamReader {
  std::mutex mu;
  std::condition_variable cv;
  std::vector<Json> events;
  bool ended = false;
  std::thread thread;

  StreamReader(int port, std::string path, httplib::Headers headers = {}) {
    thread = std::thread([this, port, path, headers] {
      httplib::Client c("127.0.0.1", port);
      c.set_read_timeout(30, 0);
      std::string buf;
      c.Get(path.c_str(), headers, [&](const char* data, size_t n) {
        buf.append(data, n);
        size_t pos;
        while ((pos = buf.find('\n')) != std::string::npos) {
          std::string line = buf.substr(0, pos);
          buf.erase(0, pos + 1);
          std::lock_guard<std::mutex> l(mu);
          events.push_back(Json::parse(line));
          cv.notify_all();
        }
        return true;
      });
      std::lock_guard<std::mutex> l(mu);
      ended = true;
      cv.notify_all();
    });
  }
  ~StreamReader() {
    if (thread.joinable()) thread.join();
  }
  bool WaitFor(size_t n) {
    std::unique_lock<std::mutex> l(mu);
    return cv.wait_for(l, std::chrono::seconds(10), [&] { return events.size() >= n || ended; }) && events.size() >= n;
  }
  bool WaitEnded() {
    std::unique_lock<std::mutex> l(mu);
    return cv.wait_for(l, std::chrono::seconds(10), [&] { return ended; });
  }
};

TEST_CASE("ApiServer watch streams events incrementally and ends cleanly", "[api_server]") {
  Fixture f;
  std::string rv = std::to_string(f.state.ResourceVersion());
  SECTION("Table events after a list RV (kubectl get -w)") {
    StreamReader r(f.server->port(),
                   "/apis/autoscaling/v2/namespaces/default/horizontalpodautoscalers?resourceVersion=" + rv + "&watch=true",
                   {{"Accept", kTableAccept}, {"Accept-Encoding", "gzip"}});
    // The stream is live: an event committed after the watch opened arrives
    // while the stream stays open.
    for (int i = 0; i < 100 && f.server->requests().Counts()["watch horizontalpodautoscalers"] == 0; ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    Json hpa = *f.state.Get(k8s::resources::kHpaV2, "default", "frontend");
    hpa["spec"]["maxReplicas"] = 7;
    REQUIRE(f.state.Update(k8s::resources::kHpaV2, "default", hpa).ok());
    REQUIRE(r.WaitFor(1));
    {
      std::lock_guard<std::mutex> l(r.mu);
      CHECK(r.events[0]["type"] == "MODIFIED");
      CHECK(r.events[0]["object"]["kind"] == "Table");
      CHECK(r.events[0]["object"]["rows"][0]["cells"][4] == 7);
      CHECK(!r.ended);
    }
    f.server->Stop();
    CHECK(r.WaitEnded());
  }
  SECTION("python style: watch=True, no resourceVersion -> ADDED replay, timeoutSeconds ends it") {
    StreamReader r(f.server->port(), "/apis/autoscaling/v1/horizontalpodautoscalers?timeoutSeconds=1&watch=True");
    REQUIRE(r.WaitFor(1));
    CHECK(r.WaitEnded());
    std::lock_guard<std::mutex> l(r.mu);
    REQUIRE(r.events.size() == 1);
    CHECK(r.events[0]["type"] == "ADDED");
    CHECK(r.events[0]["object"]["apiVersion"] == "autoscaling/v1");
    CHECK(r.events[0]["object"]["spec"]["targetCPUUtilizationPercentage"] == 60);
  }
  SECTION("a compacted resourceVersion gets an ERROR event with 410") {
    f.state.SetHistoryLimit(1);
    for (int i = 0; i < 3; ++i) {
      Json hpa = *f.state.Get(k8s::resources::kHpaV2, "default", "frontend");
      hpa["spec"]["maxReplicas"] = 20 + i;
      REQUIRE(f.state.Update(k8s::resources::kHpaV2, "default", hpa).ok());
    }
    StreamReader r(f.server->port(), "/apis/autoscaling/v2/horizontalpodautoscalers?watch=1&resourceVersion=" + rv);
    REQUIRE(r.WaitFor(1));
    CHECK(r.WaitEnded());
    std::lock_guard<std::mutex> l(r.mu);
    CHECK(r.events[0]["type"] == "ERROR");
    CHECK(r.events[0]["object"]["code"] == 410);
    CHECK(r.events[0]["object"]["reason"] == "Expired");
  }
}

TEST_CASE("ApiServer sends periodic bookmarks to watchers that allow them", "[api_server]") {
  Fixture f(false, std::chrono::milliseconds(50));
  std::string rv = std::to_string(f.state.ResourceVersion());
  StreamReader r(f.server->port(), "/api/v1/namespaces/default/pods?watch=true&allowWatchBookmarks=true&timeoutSeconds=2"
                                   "&resourceVersion=" + rv);
  REQUIRE(r.WaitFor(1));
  {
    std::lock_guard<std::mutex> l(r.mu);
    CHECK(r.events[0]["type"] == "BOOKMARK");
    CHECK(r.events[0]["object"]["kind"] == "Pod");
    CHECK(r.events[0]["object"]["metadata"]["resourceVersion"] == rv);
  }
  CHECK(r.WaitEnded());  // timeoutSeconds
}

// Protobuf writer for the test body (kubectl-compat 6).
std::string Varint(uint64_t v) {
  std::string out;
  while (v >= 0x80) {
    out += static_cast<char>((v & 0x7f) | 0x80);
    v >>= 7;
  }
  out += static_cast<char>(v);
  return out;
}
std::string Bytes(int field, const std::string& s) { return Varint((field << 3) | 2) + Varint(s.size()) + s; }
std::string Int(int field, uint64_t v) { return Varint(field << 3) + Varint(v); }

TEST_CASE("ApiServer decodes kubectl autoscale's protobuf HPA", "[api_server]") {
  Fixture f;
  auto c = f.Client();
  std::string meta = Bytes(1, "web");
  std::string ref = Bytes(1, "Deployment") + Bytes(2, "frontend") + Bytes(3, "apps/v1");
  std::string spec = Bytes(1, ref) + Int(2, 1) + Int(3, 10) + Int(4, 50);
  std::string status = Int(3, 0) + Int(4, 0);
  std::string raw = Bytes(1, meta) + Bytes(2, spec) + Bytes(3, status);
  std::string type_meta = Bytes(1, "autoscaling/v1") + Bytes(2, "HorizontalPodAutoscaler");
  std::string body = std::string("k8s\0", 4) + Bytes(1, type_meta) + Bytes(2, raw) + Bytes(3, "") + Bytes(4, "");
  httplib::Headers h = {{"Accept", "application/vnd.kubernetes.protobuf,application/json"}};
  auto r = c.Post("/apis/autoscaling/v1/namespaces/default/horizontalpodautoscalers?fieldManager=kubectl-autoscale", h,
                  body, "application/vnd.kubernetes.protobuf");
  REQUIRE(r->status == 201);
  CHECK(r->get_header_value("Content-Type") == "application/json");
  Json created = Json::parse(r->body);
  CHECK(created["apiVersion"] == "autoscaling/v1");
  CHECK(created["spec"]["targetCPUUtilizationPercentage"] == 50);
  auto v2 = f.state.Get(k8s::resources::kHpaV2, "default", "web");
  REQUIRE(v2.ok());
  CHECK((*v2)["spec"]["metrics"][0]["resource"]["target"]["averageUtilization"] == 50);
  CHECK((*v2)["spec"]["scaleTargetRef"]["name"] == "frontend");
  CHECK((*v2)["spec"]["minReplicas"] == 1);
  CHECK((*v2)["spec"]["maxReplicas"] == 10);

  auto junk = c.Post("/apis/autoscaling/v1/namespaces/default/horizontalpodautoscalers", std::string("k8s\0\x0a\xff", 6),
                     "application/vnd.kubernetes.protobuf");
  CHECK(junk->status == 400);
}

TEST_CASE("ApiServer patches: merge on /scale, strategic, json-patch, apply, PUT 409", "[api_server]") {
  Fixture f;
  auto c = f.Client();
  auto r = c.Patch("/apis/apps/v1/namespaces/default/deployments/frontend/scale", R"({"spec":{"replicas":3}})",
                   "application/merge-patch+json");
  REQUIRE(r->status == 200);
  Json scale = Json::parse(r->body);
  CHECK(scale["kind"] == "Scale");
  CHECK(scale["spec"]["replicas"] == 3);
  CHECK(scale["status"]["selector"] == "app=frontend");
  CHECK((*f.state.Get(k8s::resources::kDeployments, "default", "frontend"))["spec"]["replicas"] == 3);

  const std::string hpa_path = "/apis/autoscaling/v2/namespaces/default/horizontalpodautoscalers/frontend";
  r = c.Patch(hpa_path.c_str(),
              R"({"metadata":{"annotations":{"kubectl.kubernetes.io/last-applied-configuration":"{}\n"}},"spec":{"maxReplicas":7}})",
              "application/strategic-merge-patch+json");
  REQUIRE(r->status == 200);
  CHECK(Json::parse(r->body)["spec"]["maxReplicas"] == 7);
  r = c.Patch(hpa_path.c_str(), R"([{"op":"replace","path":"/spec/minReplicas","value":2}])",
              "application/json-patch+json");
  REQUIRE(r->status == 200);
  CHECK(Json::parse(r->body)["spec"]["minReplicas"] == 2);
  r = c.Patch(hpa_path.c_str(), R"([{"op":"test","path":"/spec/minReplicas","value":9}])", "application/json-patch+json");
  CHECK(r->status == 422);
  // Status patches go through /status only.
  r = c.Patch((hpa_path + "/status").c_str(), R"({"status":{"desiredReplicas":4}})", "application/merge-patch+json");
  REQUIRE(r->status == 200);
  r = c.Patch(hpa_path.c_str(), R"({"status":{"desiredReplicas":9}})", "application/merge-patch+json");
  CHECK(Json::parse(r->body)["status"]["desiredReplicas"] == 4);

  // Server-side apply creates, then updates.
  std::string ssa = R"({"apiVersion":"autoscaling/v2","kind":"HorizontalPodAutoscaler","metadata":{"name":"ssa"},
    "spec":{"scaleTargetRef":{"apiVersion":"apps/v1","kind":"Deployment","name":"frontend"},"maxReplicas":4}})";
  r = c.Patch("/apis/autoscaling/v2/namespaces/default/horizontalpodautoscalers/ssa?fieldManager=kubectl&force=false",
              ssa, "application/apply-patch+yaml");
  CHECK(r->status == 201);
  r = c.Patch("/apis/autoscaling/v2/namespaces/default/horizontalpodautoscalers/ssa?fieldManager=kubectl",
              R"({"spec":{"maxReplicas":5}})", "application/apply-patch+yaml");
  CHECK(r->status == 200);
  CHECK(Json::parse(r->body)["spec"]["maxReplicas"] == 5);

  // PUT with a stale resourceVersion is 409 Conflict.
  Json cur = Body(c.Get(hpa_path.c_str()));
  Json stale = cur;
  stale["metadata"]["resourceVersion"] = "1";
  auto put = c.Put(hpa_path.c_str(), stale.dump(), "application/json");
  CHECK(put->status == 409);
  CHECK(Json::parse(put->body)["reason"] == "Conflict");
  cur["spec"]["maxReplicas"] = 8;
  put = c.Put(hpa_path.c_str(), cur.dump(), "application/json");
  CHECK(put->status == 200);
  auto unsupported = c.Patch(hpa_path.c_str(), "{}", "text/plain");
  CHECK(unsupported->status == 415);
}

TEST_CASE("ApiServer paged lists: continue tokens, remainingItemCount, other namespaces' metrics apart",
          "[api_server][paging]") {
  Fixture f;
  for (int i = 0; i < 10; ++i) {
    Json pod = {{"apiVersion", "v1"}, {"kind", "Pod"},
                {"metadata", {{"namespace", "default"}, {"name", "extra-" + std::to_string(i)}, {"labels", {{"app", "extra"}}}}},
                {"spec", {{"containers", Json::array({{{"name", "c"}, {"image", "i"}}})}}}};
    REQUIRE(f.state.Create(k8s::resources::kPods, "default", pod).ok());
    // A namespace whose name extends "default": its metrics stay out of default's lists.
    Json pm = {{"metadata", {{"namespace", "default-2"}, {"name", "extra-" + std::to_string(i)}, {"labels", {{"app", "frontend"}}}}},
               {"containers", Json::array()}};
    REQUIRE(f.state.PutPodMetrics(pm).ok());
  }
  auto c = f.Client();
  std::vector<std::string> names;
  std::string cont;
  int pages = 0;
  int64_t want_remaining = 12 - 5;
  while (true) {
    std::string path = "/api/v1/namespaces/default/pods?limit=5";
    if (!cont.empty()) path += "&continue=" + httplib::detail::encode_query_param(cont);
    auto r = c.Get(path);
    REQUIRE(r);
    REQUIRE(r->status == 200);
    Json list = Json::parse(r->body);
    // Written straight from the store, the body is what dumping the List object gives.
    CHECK(r->body == list.dump());
    CHECK(list["kind"] == "PodList");
    CHECK(list["apiVersion"] == "v1");
    ++pages;
    for (const Json& o : list["items"]) names.push_back(o["metadata"]["name"]);
    cont = list["metadata"].value("continue", "");
    if (cont.empty()) {
      CHECK(!list["metadata"].contains("remainingItemCount"));
      break;
    }
    CHECK(list["metadata"]["remainingItemCount"] == want_remaining);
    want_remaining -= 5;
  }
  CHECK(pages == 3);
  std::vector<std::string> sorted = names;
  std::sort(sorted.begin(), sorted.end());
  CHECK(names == sorted);
  CHECK(names.size() == 12);

  // With a selector the count is left out, as the real server does.
  Json sel = Body(c.Get("/api/v1/namespaces/default/pods?limit=4&labelSelector=app%3Dextra"));
  CHECK(sel["items"].size() == 4);
  CHECK(sel["metadata"].contains("continue"));
  CHECK(!sel["metadata"].contains("remainingItemCount"));
  // A malformed token is 400 as a Status.
  auto bad = c.Get("/api/v1/namespaces/default/pods?limit=4&continue=garbage");
  REQUIRE(bad);
  CHECK(bad->status == 400);
  CHECK(Json::parse(bad->body)["kind"] == "Status");

  CHECK(Body(c.Get("/apis/metrics.k8s.io/v1beta1/namespaces/default/pods"))["items"].size() == 2);
  CHECK(Body(c.Get("/apis/metrics.k8s.io/v1beta1/namespaces/default-2/pods"))["items"].size() == 10);
  CHECK(Body(c.Get("/apis/metrics.k8s.io/v1beta1/pods"))["items"].size() == 12);
}

TEST_CASE("ApiServer metrics APIs", "[api_server]") {
  Fixture f;
  auto c = f.Client();
  Json pods = Body(c.Get("/apis/metrics.k8s.io/v1beta1/namespaces/default/pods"));
  CHECK(pods["kind"] == "PodMetricsList");
  REQUIRE(pods["items"].size() == 2);
  CHECK(pods["items"][0]["window"] == "60s");
  CHECK(pods["items"][0]["timestamp"] == "2026-01-01T00:00:00Z");
  CHECK(Body(c.Get("/apis/metrics.k8s.io/v1beta1/pods"))["items"].size() == 2);
  CHECK(Body(c.Get("/apis/metrics.k8s.io/v1beta1/namespaces/default/pods?labelSelector=app%3Dother"))["items"].empty());
  CHECK(Body(c.Get("/apis/metrics.k8s.io/v1beta1/namespaces/default/pods/frontend-1"))["metadata"]["name"] == "frontend-1");

  for (const char* pod : {"frontend-0", "frontend-1"})
    REQUIRE(f.state.PutMetricValue({{"describedObject", {{"kind", "Pod"}, {"namespace", "default"}, {"name", pod}}},
                                    {"metric", {{"name", "http_requests"}}},
                                    {"value", "150"}})
                .ok());
  REQUIRE(f.state.PutMetricValue({{"describedObject", {{"kind", "Deployment"}, {"namespace", "default"}, {"name", "frontend"}}},
                                  {"metric", {{"name", "hits"}, {"selector", {{"matchLabels", {{"verb", "GET"}}}}}}},
                                  {"value", "10"}})
              .ok());
  Json pm = Body(c.Get("/apis/custom.metrics.k8s.io/v1beta2/namespaces/default/pods/*/http_requests?labelSelector=app%3Dfrontend"));
  CHECK(pm["kind"] == "MetricValueList");
  CHECK(pm["items"].size() == 2);
  CHECK(!pm["items"][0]["timestamp"].get<std::string>().empty());
  CHECK(Body(c.Get("/apis/custom.metrics.k8s.io/v1beta2/namespaces/default/pods/*/http_requests?labelSelector=app%3Dx"))["items"].empty());
  Json obj = Body(c.Get("/apis/custom.metrics.k8s.io/v1beta2/namespaces/default/deployments.apps/frontend/hits?metricLabelSelector=verb%3DGET"));
  REQUIRE(obj["items"].size() == 1);
  CHECK(obj["items"][0]["value"] == "10");
  CHECK(c.Get("/apis/custom.metrics.k8s.io/v1beta2/namespaces/default/deployments.apps/frontend/misses")->status == 404);

  REQUIRE(f.state.Apply({{"apiVersion", "external.metrics.k8s.io/v1beta1"}, {"kind", "ExternalMetricValue"},
                         {"metadata", {{"name", "q1"}, {"namespace", "default"}}}, {"metricName", "queue_messages"},
                         {"metricLabels", {{"queue", "jobs"}}}, {"value", "42"}})
              .ok());
  Json ext = Body(c.Get("/apis/external.metrics.k8s.io/v1beta1/namespaces/default/queue_messages?labelSelector=queue%3Djobs"));
  CHECK(ext["kind"] == "ExternalMetricValueList");
  REQUIRE(ext["items"].size() == 1);
  CHECK(ext["items"][0]["value"] == "42");
  CHECK(!ext["items"][0].contains("metadata"));
}

TEST_CASE("ApiServer faults: per metrics API and per request rule", "[api_server]") {
  Fixture f;
  auto c = f.Client();
  FaultSet fs;
  fs.resource_metrics = *ApiFault::Parse("unavailable");
  fs.external_metrics = *ApiFault::Parse("error:500");
  fs.apiserver_rules.push_back({"patch", "deployments", "scale", 409, 1});
  f.server->faults().Set(fs);
  auto r = c.Get("/apis/metrics.k8s.io/v1beta1/namespaces/default/pods");
  CHECK(r->status == 503);
  CHECK(Json::parse(r->body)["kind"] == "Status");
  CHECK(c.Get("/apis/external.metrics.k8s.io/v1beta1/namespaces/default/x")->status == 500);
  CHECK(c.Get("/apis/custom.metrics.k8s.io/v1beta2/namespaces/default/pods/*/x")->status == 200);
  const char* scale = "/apis/apps/v1/namespaces/default/deployments/frontend/scale";
  CHECK(c.Patch(scale, R"({"spec":{"replicas":3}})", "application/merge-patch+json")->status == 409);
  CHECK(c.Patch(scale, R"({"spec":{"replicas":3}})", "application/merge-patch+json")->status == 200);

  fs = FaultSet{};
  fs.custom_metrics = *ApiFault::Parse("slow:300ms");
  f.server->faults().Set(fs);
  // Real time passes for slow: (not the scenario clock).
  auto start = std::chrono::steady_clock::now();
  CHECK(c.Get("/apis/custom.metrics.k8s.io/v1beta2/namespaces/default/pods/*/x")->status == 200);
  CHECK(std::chrono::steady_clock::now() - start >= std::chrono::milliseconds(300));

  // Writes are recorded with the client's User-Agent (expectWrites).
  CHECK(f.server->requests().CountWrites("patch", "deployments", "scale", "cpp-httplib", 0) == 2);
}

TEST_CASE("ApiServer chaos hooks: rules per User-Agent that stall, write records, dropped watches",
          "[api_server][soak]") {
  Fixture f;
  auto c = f.Client();
  const char* scale = "/apis/apps/v1/namespaces/default/deployments/frontend/scale";
  FaultSet fs;
  RequestFaultRule stall{"", "deployments", "scale", 0, -1};
  stall.user_agent = "replica-a";
  stall.delay = std::chrono::milliseconds(300);
  fs.apiserver_rules.push_back(stall);
  RequestFaultRule fail{"patch", "deployments", "scale", 429, -1};
  fail.user_agent = "replica-b";
  fs.apiserver_rules.push_back(fail);
  f.server->faults().Set(fs);

  // replica-a: stalled, then answered normally.
  c.set_default_headers({{"User-Agent", "hpad/1 (replica-a)"}});
  auto start = std::chrono::steady_clock::now();
  CHECK(c.Patch(scale, R"({"spec":{"replicas":4}})", "application/merge-patch+json")->status == 200);
  CHECK(std::chrono::steady_clock::now() - start >= std::chrono::milliseconds(300));
  // replica-b: failed at once; another client: untouched.
  c.set_default_headers({{"User-Agent", "hpad/1 (replica-b)"}});
  start = std::chrono::steady_clock::now();
  CHECK(c.Patch(scale, R"({"spec":{"replicas":5}})", "application/merge-patch+json")->status == 429);
  CHECK(std::chrono::steady_clock::now() - start < std::chrono::milliseconds(300));
  c.set_default_headers({{"User-Agent", "other"}});
  CHECK(c.Patch(scale, R"({"spec":{"replicas":6}})", "application/merge-patch+json")->status == 200);

  auto writes = f.server->requests().Writes();
  REQUIRE(writes.size() == 3);
  CHECK(writes[0].ns == "default");
  CHECK(writes[0].name == "frontend");
  CHECK(writes[0].subresource == "scale");
  CHECK(writes[0].replicas == 4);
  // The stall is between arrival and answer.
  CHECK(writes[0].answered - writes[0].arrived >= std::chrono::milliseconds(300));
  CHECK(writes[1].code == 429);
  CHECK(writes[1].replicas == -1);  // failed: no replica count recorded
  CHECK(writes[2].replicas == 6);
  CHECK(writes[2].user_agent == "other");

  // DropWatches ends open streams cleanly; the client must watch again.
  StreamReader r(f.server->port(), "/apis/autoscaling/v2/horizontalpodautoscalers?watch=1");
  for (int i = 0; i < 200 && f.server->requests().Counts()["watch horizontalpodautoscalers"] == 0; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  REQUIRE(r.WaitFor(1));  // the ADDED replay
  // The request is counted when its stream starts; wait for the watcher to register.
  size_t dropped = 0;
  for (int i = 0; i < 200 && (dropped = f.server->DropWatches()) == 0; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  CHECK(dropped == 1);
  CHECK(r.WaitEnded());
}

MisbehaviorRule Rule(const std::string& text) {
  auto r = MisbehaviorRule::Parse(text);
  HPAD_CHECK(r.ok());
  return *r;
}

// issue 10 "A hostile API server": each --misbehave kind as a client sees it.
TEST_CASE("ApiServer misbehave rules answer badly on their paths only, counted in /hpad-sim/requests",
          "[api_server][misbehave]") {
  const std::string dep = "/apis/apps/v1/namespaces/default/deployments/frontend";
  const std::string hpas = "/apis/autoscaling/v2/horizontalpodautoscalers";
  Fixture f(false, std::chrono::milliseconds(0),
            {Rule("get " + dep + "=wrongtypes"), Rule("get /wt/nulls=nulls"),
             Rule("get /apis/apps/v1/namespaces/default/deployments/x*=nonutf8"),
             Rule("/apis/apps/v1/namespaces/kube-system/deployments=errortext:502"),
             Rule("get /apis/apps/v1/namespaces/default/pods=deep:1000"),
             Rule("get /apis/apps/v1/namespaces/kube-public/deployments=truncated"),
             Rule("get /apis/apps/v1/namespaces/other/deployments=cutoff"),
             Rule("get /apis/apps/v1/namespaces/reset/deployments=reset"),
             Rule("watch " + hpas + "=watcherror:999"), Rule("watch /api/v1/pods=gone")});
  auto c = f.Client();
  c.set_read_timeout(5, 0);

  auto r = c.Get(dep);
  REQUIRE(r);
  Json d = Json::parse(r->body);
  CHECK(d["kind"] == 42);                        // a string became a number
  CHECK(d["spec"]["replicas"] == "forty-two");  // a number became a string
  CHECK(Body(c.Get("/apis/apps/v1/namespaces/default/deployments"))["kind"] == "DeploymentList");  // other paths

  r = c.Get("/apis/apps/v1/namespaces/kube-system/deployments");
  REQUIRE(r);
  CHECK(r->status == 502);
  CHECK(r->get_header_value("Content-Type").rfind("text/plain", 0) == 0);
  CHECK(r->body.find('\xff') != std::string::npos);
  CHECK(r->body.size() >= 300);

  r = c.Get("/apis/apps/v1/namespaces/default/pods");
  REQUIRE(r);
  CHECK(r->body.find(std::string(1000, '[')) != std::string::npos);

  r = c.Get("/apis/apps/v1/namespaces/kube-public/deployments");
  REQUIRE(r);
  CHECK(r->status == 200);
  CHECK(Json::parse(r->body, nullptr, false).is_discarded());

  CHECK_FALSE(c.Get("/apis/apps/v1/namespaces/other/deployments"));  // closed mid-body
  CHECK_FALSE(c.Get("/apis/apps/v1/namespaces/reset/deployments"));  // closed after the headers

  r = c.Get(hpas + "?watch=true");
  REQUIRE(r);
  Json ev = Json::parse(r->body.substr(0, r->body.find('\n')));
  CHECK(ev["type"] == "ERROR");
  CHECK(ev["object"]["code"] == 999);
  CHECK(c.Get(hpas)->status == 200);  // the LIST works: watcherror is watch-only
  CHECK(c.Get("/api/v1/pods?watch=1")->status == 410);

  Json log = Body(c.Get("/hpad-sim/requests"));
  CHECK(log["counts"]["misbehave get " + dep + "=wrongtypes"] == 1);
  CHECK(log["counts"]["misbehave watch " + hpas + "=watcherror:999"] == 1);
  CHECK(log["counts"]["list horizontalpodautoscalers"] == 1);
  CHECK(log["writes"].is_array());
}

TEST_CASE("ApiServer misbehave: nonutf8, huge and trickle", "[api_server][misbehave]") {
  Fixture f(false, std::chrono::milliseconds(0),
            {Rule("get /apis/apps/v1/namespaces/default/deployments/frontend=nonutf8"),
             Rule("get /apis/apps/v1/namespaces/default/deployments=huge:2"),
             Rule("get /apis/autoscaling/v2/namespaces/default/horizontalpodautoscalers=trickle:10ms")});
  auto c = f.Client();
  c.set_read_timeout(10, 0);
  auto r = c.Get("/apis/apps/v1/namespaces/default/deployments/frontend");
  REQUIRE(r);
  CHECK(r->body.find("\xc0\xaf") != std::string::npos);
  CHECK_THROWS(Json::parse(r->body));

  r = c.Get("/apis/apps/v1/namespaces/default/deployments");
  REQUIRE(r);
  CHECK(r->body.size() > (size_t{2} << 20));
  CHECK(Json::parse(r->body)["kind"] == "Status");

  const auto start = std::chrono::steady_clock::now();
  r = c.Get("/apis/autoscaling/v2/namespaces/default/horizontalpodautoscalers");
  REQUIRE(r);
  CHECK(Json::parse(r->body)["kind"] == "HorizontalPodAutoscalerList");  // intact, only slow
  CHECK(std::chrono::steady_clock::now() - start >= std::chrono::milliseconds(10) * (r->body.size() / 16));
}

TEST_CASE("MisbehaviorRule::Parse accepts the documented forms and names what is wrong", "[misbehave]") {
  auto r = MisbehaviorRule::Parse("watch /apis/x*=watcherror:0");
  REQUIRE(r.ok());
  CHECK(r->verb == "watch");
  CHECK(r->path == "/apis/x");
  CHECK(r->prefix);
  CHECK(r->kind == MisbehaviorKind::kWatchError);
  CHECK(r->number == 0);
  CHECK(r->Matches("GET", "/apis/xyz", true));
  CHECK_FALSE(r->Matches("GET", "/apis/xyz", false));
  CHECK(MisbehaviorRule::Parse("/a=deep")->number == 300000);
  CHECK(MisbehaviorRule::Parse("/a=huge")->number == 64);
  CHECK(MisbehaviorRule::Parse("/a=trickle:250ms")->interval == std::chrono::milliseconds(250));
  auto bad = MisbehaviorRule::Parse("/a=melt");
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.status().message().find("unknown KIND \"melt\"") != std::string::npos);
  CHECK_FALSE(MisbehaviorRule::Parse("a=nulls").ok());
  CHECK_FALSE(MisbehaviorRule::Parse("/a=nulls:3").ok());
  CHECK_FALSE(MisbehaviorRule::Parse("/a=errortext:42").ok());
  CHECK_FALSE(MisbehaviorRule::Parse("/a").ok());
}

X509_STORE* StoreFromPem(const std::string& pem) {
  BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  X509* cert = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr);
  BIO_free(bio);
  X509_STORE* store = X509_STORE_new();
  X509_STORE_add_cert(store, cert);
  X509_free(cert);
  return store;
}

TEST_CASE("ApiServer over HTTPS: CA-verified TLS, bearer token, kubeconfig", "[api_server]") {
  Fixture f(/*tls=*/true);
  REQUIRE(!f.server->ca_pem().empty());
  REQUIRE(!f.server->token().empty());
  httplib::SSLClient c("127.0.0.1", f.server->port());
  c.set_ca_cert_store(StoreFromPem(f.server->ca_pem()));
  c.enable_server_certificate_verification(true);
  auto r = c.Get("/apis/autoscaling/v2/horizontalpodautoscalers");
  REQUIRE(r);
  CHECK(r->status == 401);
  CHECK(Json::parse(r->body)["reason"] == "Unauthorized");
  r = c.Get("/apis/autoscaling/v2/horizontalpodautoscalers", {{"Authorization", "Bearer " + f.server->token()}});
  REQUIRE(r);
  CHECK(r->status == 200);
  CHECK(Json::parse(r->body)["items"].size() == 1);
  std::string kc = f.server->KubeconfigYaml();
  CHECK(kc.find("server: https://127.0.0.1:" + std::to_string(f.server->port())) != std::string::npos);
  CHECK(kc.find("certificate-authority-data: ") != std::string::npos);
  CHECK(kc.find("token: " + f.server->token()) != std::string::npos);
}

}  // namespace
}  // namespace hpad::sim
