// RestMetricsClient reads metrics replies with ApiClient::GetPathRaw and the
// streaming decoders (issue 16). Over a real RestApiClient with a scripted
// transport, every answer must give what the former path gave - GetPath
// (ParseForeignJson, unparsable bodies as kInternal) followed by the DOM
// decoders - for the three lists and the Object fallback; and GetPathRaw
// itself returns the body as sent, with GetPath's errors.
#include <catch2/catch.hpp>

#include <iterator>
#include <map>
#include <vector>
#include <mutex>
#include <string>

#include <nlohmann/json.hpp>

#include "controller/metrics_client.h"
#include "k8sclient/api/types/metrics.h"
#include "k8sclient/api/types/pod_metrics_table.h"
#include "k8sclient/rest_api_client.h"
#include "tests/controller/controller_test_util.h"

using namespace hpad;
using namespace hpad::ctrl;
using Json = nlohmann::json;

namespace {

// Answers every path with the reply set for it (200 "" when none).
class ScriptedTransport final : public k8s::HttpTransport {
 public:
  void Set(const std::string& path, int status, std::string body) {
    std::lock_guard<std::mutex> l(mu_);
    replies_[path] = k8s::HttpResponse{status, {}, std::move(body)};
  }
  Result<k8s::HttpResponse> Send(const k8s::HttpRequest& request) override {
    std::lock_guard<std::mutex> l(mu_);
    auto it = replies_.find(request.path_and_query);
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

std::string ShowPods(const std::vector<k8s::PodMetrics>& items) {
  std::string s;
  for (const auto& m : items) {
    s += m.name + "|" + m.ns + "|" + std::to_string(m.timestamp.time_since_epoch().count()) + "|" +
         std::to_string(m.window.count()) + "|";
    for (const auto& [k, v] : m.labels) s += k + "=" + v + ",";
    for (const auto& c : m.containers) {
      s += "[" + c.name;
      for (const auto& [k, v] : c.usage_milli) s += " " + k + ":" + std::to_string(v);
      s += "]";
    }
    s += "\n";
  }
  return s;
}

struct Fixture {
  Fixture() : clock(testing::T0()) {
    auto t = std::make_unique<ScriptedTransport>();
    transport = t.get();
    k8s::RestApiClientOptions o;
    o.qps = 0;
    o.max_attempts = 1;
    api = std::make_shared<k8s::RestApiClient>(std::move(t), clock, o);
  }
  SimulatedClock clock;
  ScriptedTransport* transport = nullptr;
  std::shared_ptr<k8s::RestApiClient> api;
};

Status Wrap(const std::string& prefix, const Status& s) {
  return Status(s.code(), prefix + s.message(), s.reason(), s.http_code());
}

// What RestMetricsClient answered before issue 16 for a list at `path`:
// GetPath, then the DOM decoder, errors under `prefix`.
template <typename Decode>
auto FormerList(k8s::ApiClient& api, const std::string& path, const std::string& prefix, Decode decode)
    -> decltype(decode(Json())) {
  auto body = api.GetPath(path);
  if (!body.ok()) return Wrap(prefix, body.status());
  auto items = decode(*body);
  if (!items.ok()) return Wrap(prefix, items.status());
  return items;
}

const char* kBodies[] = {
    "",                                                   // empty: GetPath's null
    "{",                                                  // syntax
    "{\"items\": []} trailing",                           // syntax after a value
    "{\"items\": [{\"metadata\": {\"name\": \"\xff\"}}]}",  // invalid UTF-8
    "null",
    "[]",
    "{\"items\": {}}",
    "{\"items\": [{\"metadata\": 5}]}",
    ("{\"items\": [{\"metadata\": {\"name\": \"web-0\", \"labels\": {\"app\": \"web\"}}, \"timestamp\": "
     "\"2026-01-01T00:00:00Z\", \"window\": \"30s\", \"containers\": [{\"name\": \"app\", \"usage\": {\"cpu\": "
     "\"250m\"}}]}]}"),
    ("{\"items\": [{\"describedObject\": {\"kind\": \"Pod\", \"name\": \"web-0\"}, \"metricName\": \"rps\", "
     "\"value\": \"3\"}]}"),
    "{\"items\": [{\"metricName\": \"queue\", \"value\": \"7\"}, {\"metricName\": \"queue\", \"value\": 2}]}",
    "{\"describedObject\": {\"kind\": \"Service\", \"name\": \"s\"}, \"metricName\": \"hits\", \"value\": \"3\"}",
    "{\"items\": [{\"value\": \"x\"}]}",
};

}  // namespace

TEST_CASE("GetPathRaw returns the body as sent, with GetPath's errors", "[metrics_client][issue16]") {
  Fixture f;
  f.transport->Set("/raw", 200, " {\"a\": 1} ");
  f.transport->Set("/bad", 200, "{");
  f.transport->Set("/gone", 404, R"({"kind": "Status", "status": "Failure", "reason": "NotFound", "code": 404,
                                     "message": "the server could not find the requested resource"})");
  f.transport->Set("/boom", 500, "upstream exploded");
  CHECK(f.api->GetPathRaw("/raw").value() == " {\"a\": 1} ");
  CHECK(f.api->GetPathRaw("/empty").value().empty());
  CHECK(f.api->GetPathRaw("/bad").value() == "{");  // not parsed here
  CHECK(f.api->Background().GetPathRaw("/raw").value() == " {\"a\": 1} ");
  for (const char* path : {"/gone", "/boom"}) {
    auto raw = f.api->GetPathRaw(path);
    auto dom = f.api->GetPath(path);
    REQUIRE_FALSE(raw.ok());
    REQUIRE_FALSE(dom.ok());
    CHECK(raw.status().code() == dom.status().code());
    CHECK(raw.status().message() == dom.status().message());
    CHECK(raw.status().http_code() == dom.status().http_code());
  }
  auto relative = f.api->GetPathRaw("raw");
  REQUIRE_FALSE(relative.ok());
  CHECK(relative.status().message() == f.api->GetPath("raw").status().message());
  // The name RestApiClient gives a reply in parse errors.
  CHECK(f.api->GetPath("/bad").status().message() == k8s::ReplyName("GET", "/bad") + ": not valid JSON (at byte 2)");
}

TEST_CASE("RestMetricsClient answers as GetPath + the DOM decoders did, for every body", "[metrics_client][issue16]") {
  Fixture f;
  RestMetricsClient client(f.api, [](const std::string&, const std::string&) -> Result<std::string> {
    return std::string("services");
  });
  const k8s::Selector everything;
  const std::string pods_path = RestMetricsClient::ResourceMetricsPath("default", everything);
  const std::string custom_path = RestMetricsClient::PodsCustomMetricPath("default", "rps", everything, everything);
  const std::string external_path = RestMetricsClient::ExternalMetricPath("default", "queue", everything);
  const std::string object_path = RestMetricsClient::ObjectCustomMetricPath("default", "services", "s", "hits", everything);
  std::vector<std::string> bodies(std::begin(kBodies), std::end(kBodies));
  bodies.push_back(std::string(300, '[') + std::string(300, ']'));  // nested past the limit
  for (const std::string& body : bodies) {
    INFO("body: " << body);
    for (const auto& path : {pods_path, custom_path, external_path, object_path}) f.transport->Set(path, 200, body);

    auto pods = client.ListResourceMetrics("default");
    auto former_pods = FormerList(*f.api, pods_path, "unable to fetch metrics from resource metrics API: ",
                                  [](const Json& j) { return k8s::PodMetricsListFromJson(j); });
    REQUIRE(pods.ok() == former_pods.ok());
    if (!pods.ok()) {
      CHECK(pods.status().code() == former_pods.status().code());
      CHECK(pods.status().message() == former_pods.status().message());
    } else {
      REQUIRE(pods->size() == former_pods->size());
      for (size_t i = 0; i < pods->size(); ++i) {
        CHECK((*pods)[i].name == (*former_pods)[i].name);
        CHECK((*pods)[i].labels == (*former_pods)[i].labels);
        CHECK((*pods)[i].timestamp == (*former_pods)[i].timestamp);
        CHECK((*pods)[i].window == (*former_pods)[i].window);
        REQUIRE((*pods)[i].containers.size() == (*former_pods)[i].containers.size());
      }
    }
    // The table path (what MetricsCache reads): the same items, the same error.
    auto table = client.ListResourceMetricsTable("default");
    REQUIRE(table.ok() == pods.ok());
    if (!table.ok()) {
      CHECK(table.status().code() == pods.status().code());
      CHECK(table.status().message() == pods.status().message());
    } else {
      CHECK(ShowPods(table->ToPodMetrics()) == ShowPods(*pods));
      CHECK(ShowPods(*pods) == ShowPods(*former_pods));
    }

    auto custom = client.ListPodsMetric("default", "rps", everything);
    auto former_custom = FormerList(*f.api, custom_path, "unable to fetch metrics from custom metrics API: ",
                                    [](const Json& j) { return k8s::MetricValueListFromJson(j); });
    REQUIRE(custom.ok() == former_custom.ok());
    if (!custom.ok()) {
      CHECK(custom.status().code() == former_custom.status().code());
      CHECK(custom.status().message() == former_custom.status().message());
    } else {
      REQUIRE(custom->size() == former_custom->size());
      for (size_t i = 0; i < custom->size(); ++i) CHECK((*custom)[i].value_milli == (*former_custom)[i].value_milli);
    }

    auto external = client.GetExternalMetric("default", "queue", everything);
    auto former_external = FormerList(*f.api, external_path, "unable to fetch metrics from external metrics API: ",
                                      [](const Json& j) { return k8s::ExternalMetricValueListFromJson(j); });
    if (former_external.ok() && former_external->empty()) {
      REQUIRE_FALSE(external.ok());
      CHECK(external.status().message() == "no metrics returned from external metrics API");
    } else {
      REQUIRE(external.ok() == former_external.ok());
      if (!external.ok()) {
        CHECK(external.status().code() == former_external.status().code());
        CHECK(external.status().message() == former_external.status().message());
      } else {
        REQUIRE(external->values.size() == former_external->size());
        for (size_t i = 0; i < external->values.size(); ++i)
          CHECK(external->values[i] == (*former_external)[i].value_milli);
      }
    }

    // Object (M5): a list, or a lone MetricValue as its one item.
    auto object = client.GetObjectMetric("default", "hits", {"Service", "s", "v1"}, everything);
    const std::string prefix = "unable to fetch metrics from custom metrics API: ";
    auto former_body = f.api->GetPath(object_path);
    Result<std::vector<k8s::CustomMetricValue>> former_items = Status(StatusCode::kInternal, "unset");
    if (!former_body.ok()) {
      former_items = Wrap(prefix, former_body.status());
    } else {
      former_items = k8s::MetricValueListFromJson(*former_body);
      if (!former_items.ok()) {
        former_items = k8s::MetricValueListFromJson(Json{{"kind", "MetricValueList"}, {"items", Json::array({*former_body})}});
        if (!former_items.ok()) former_items = Wrap(prefix, former_items.status());
      }
    }
    if (former_items.ok() && former_items->size() != 1) {
      REQUIRE_FALSE(object.ok());
      CHECK(object.status().message() == prefix + "the custom metrics API server returned " +
                                             std::to_string(former_items->size()) +
                                             " results when we asked for exactly one");
    } else {
      REQUIRE(object.ok() == former_items.ok());
      if (!object.ok()) {
        CHECK(object.status().code() == former_items.status().code());
        CHECK(object.status().message() == former_items.status().message());
      } else {
        CHECK(object->value == former_items->front().value_milli);
      }
    }
  }
}
