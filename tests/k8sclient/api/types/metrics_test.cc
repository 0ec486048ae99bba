// The three metrics APIs' list bodies, parsed to milli-int64 (rule 1.7).
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include "k8sclient/api/time_format.h"
#include "k8sclient/api/types/metrics.h"

using namespace hpad::k8s;
using nlohmann::json;
using namespace std::chrono_literals;

TEST_CASE("PodMetricsList (metrics.k8s.io/v1beta1)", "[metrics-types]") {
  auto r = PodMetricsListFromJson(json::parse(R"({
    "kind": "PodMetricsList", "apiVersion": "metrics.k8s.io/v1beta1", "metadata": {},
    "items": [
      {"metadata": {"name": "web-1", "namespace": "default", "labels": {"app": "web"}},
       "timestamp": "2026-01-01T00:00:00Z", "window": "15.01s",
       "containers": [{"name": "app", "usage": {"cpu": "180m", "memory": "64Mi"}},
                      {"name": "proxy", "usage": {"cpu": "1234567n"}}]},
      {"metadata": {"name": "web-2", "namespace": "default"}, "timestamp": "2026-01-01T00:00:05Z", "window": "1m",
       "containers": []}
    ]})"));
  REQUIRE(r.ok());
  REQUIRE(r->size() == 2);
  const PodMetrics& a = (*r)[0];
  CHECK(a.name == "web-1");
  CHECK(a.ns == "default");
  CHECK(a.labels.at("app") == "web");
  CHECK(FormatRfc3339(a.timestamp) == "2026-01-01T00:00:00Z");
  CHECK(a.window == 15010ms);
  REQUIRE(a.containers.size() == 2);
  CHECK(a.containers[0].usage_milli.at("cpu") == 180);
  CHECK(a.containers[0].usage_milli.at("memory") == 67108864000);
  CHECK(a.containers[1].usage_milli.at("cpu") == 2);  // 1.234567m rounds up
  CHECK((*r)[1].window == 60s);
  CHECK((*r)[1].containers.empty());

  auto empty = PodMetricsListFromJson(json::parse(R"({"kind": "PodMetricsList", "items": []})"));
  REQUIRE(empty.ok());
  CHECK(empty->empty());
  auto no_items = PodMetricsListFromJson(json::parse(R"({"kind": "PodMetricsList"})"));
  REQUIRE(no_items.ok());
  CHECK(no_items->empty());
}

TEST_CASE("PodMetricsList errors name the path", "[metrics-types]") {
  struct Case {
    const char* body;
    const char* message;
  };
  const Case cases[] = {
      {R"({"items": [{"containers": [{"name": "a", "usage": {"cpu": "x"}}]}]})",
       "items[0].containers[0].usage.cpu: quantity \"x\": expected a number"},
      {R"({"items": [{"window": "30"}]})", "items[0].window: time: missing unit in duration \"30\""},
      {R"({"items": [{"timestamp": "now"}]})",
       "items[0].timestamp: time \"now\": bad date (want RFC 3339, e.g. 2026-01-01T00:00:00Z)"},
      {R"({"items": {}})", "items: expected a list, got object"},
      {R"([])", "<root>: expected a PodMetricsList object, got array"},
  };
  for (const auto& c : cases) {
    INFO(c.body);
    auto r = PodMetricsListFromJson(json::parse(c.body));
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().message() == c.message);
  }
}

TEST_CASE("MetricValueList (custom.metrics.k8s.io v1beta2 and v1beta1)", "[metrics-types]") {
  auto r = MetricValueListFromJson(json::parse(R"({
    "kind": "MetricValueList", "apiVersion": "custom.metrics.k8s.io/v1beta2",
    "items": [
      {"describedObject": {"kind": "Pod", "namespace": "default", "name": "web-1", "apiVersion": "/v1"},
       "metric": {"name": "rps", "selector": null}, "timestamp": "2026-01-01T00:00:00Z", "windowSeconds": 60, "value": "1500m"},
      {"describedObject": {"kind": "Ingress", "namespace": "default", "name": "main", "apiVersion": "networking.k8s.io/v1"},
       "metricName": "hits", "timestamp": "2026-01-01T00:00:00Z", "value": 20}
    ]})"));
  REQUIRE(r.ok());
  REQUIRE(r->size() == 2);
  CHECK((*r)[0].described_object.kind == "Pod");
  CHECK((*r)[0].described_object.name == "web-1");
  CHECK((*r)[0].metric_name == "rps");
  CHECK((*r)[0].window_seconds == 60);
  CHECK((*r)[0].value_milli == 1500);
  CHECK((*r)[1].metric_name == "hits");  // v1beta1 shape
  CHECK_FALSE((*r)[1].window_seconds);
  CHECK((*r)[1].value_milli == 20000);

  auto missing = MetricValueListFromJson(json::parse(R"({"items": [{"metric": {"name": "rps"}}]})"));
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.status().message() == "items[0].value: missing value");
}

TEST_CASE("ExternalMetricValueList (external.metrics.k8s.io/v1beta1)", "[metrics-types]") {
  auto r = ExternalMetricValueListFromJson(json::parse(R"({
    "kind": "ExternalMetricValueList", "apiVersion": "external.metrics.k8s.io/v1beta1", "metadata": {},
    "items": [
      {"metricName": "queue_depth", "metricLabels": {"queue": "jobs"}, "timestamp": "2026-01-01T00:00:00Z",
       "window": 30, "value": "42"},
      {"metricName": "queue_depth", "metricLabels": {"queue": "mail"}, "timestamp": "2026-01-01T00:00:00Z", "value": "2.5k"}
    ]})"));
  REQUIRE(r.ok());
  REQUIRE(r->size() == 2);
  CHECK((*r)[0].metric_name == "queue_depth");
  CHECK((*r)[0].metric_labels.at("queue") == "jobs");
  CHECK((*r)[0].window_seconds == 30);
  CHECK((*r)[0].value_milli == 42000);
  CHECK((*r)[1].value_milli == 2500000);
  CHECK_FALSE((*r)[1].window_seconds);

  auto bad = ExternalMetricValueListFromJson(json::parse(R"({"items": [{"metricName": "q", "value": "1", "window": "30s"}]})"));
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.status().message() == "items[0].window: expected an integer, got \"30s\"");
}
