// MetricsStore: PodMetrics, MetricValues, ExternalMetricValues, by namespace.
#include <catch2/catch.hpp>

#include "tests/sim/apiserver/test_objects.h"

namespace hpad::sim {
namespace {

using namespace hpad::sim::testing;

TEST_CASE("ClusterState metrics storage", "[cluster_state]") {
  SimulatedClock clock(T0());
  ClusterState s(clock);
  Json pm = {{"apiVersion", "metrics.k8s.io/v1beta1"},
             {"kind", "PodMetrics"},
             {"metadata", {{"name", "web-0"}, {"namespace", "default"}, {"labels", {{"app", "web"}}}}},
             {"timestamp", "2026-01-01T00:00:00Z"},
             {"window", "60s"},
             {"containers", {{{"name", "c"}, {"usage", {{"cpu", "90m"}}}}}}};
  REQUIRE(s.Apply(pm).ok());
  CHECK(s.ListPodMetrics("default", "app=web")->size() == 1);
  CHECK(s.ListPodMetrics("default", "app=db")->empty());
  CHECK((*s.GetPodMetrics("default", "web-0"))["window"] == "60s");
  // Without labels of its own a PodMetrics is selected by its pod's labels.
  Json bare = pm;
  bare["metadata"] = {{"name", "db-0"}, {"namespace", "default"}};
  REQUIRE(s.Apply(bare).ok());
  CHECK(s.ListPodMetrics("default", "app=db")->empty());  // no pod db-0 yet
  REQUIRE(s.Apply({{"apiVersion", "v1"}, {"kind", "Pod"},
                   {"metadata", {{"name", "db-0"}, {"namespace", "default"}, {"labels", {{"app", "db"}}}}}})
              .ok());
  REQUIRE(s.ListPodMetrics("default", "app=db")->size() == 1);
  CHECK(!(*s.ListPodMetrics("default", "app=db"))[0]["metadata"].contains("labels"));  // served as written
  CHECK(s.ListPodMetrics("default", "")->size() == 2);

  Json mv = {{"describedObject", {{"kind", "Deployment"}, {"namespace", "default"}, {"name", "web"}}},
             {"metric", {{"name", "requests"}}},
             {"value", "10"}};
  REQUIRE(s.PutMetricValue(mv).ok());
  mv["value"] = "20";
  REQUIRE(s.PutMetricValue(mv).ok());  // same identity: replaced
  REQUIRE(s.ListMetricValues().size() == 1);
  Json other = mv;
  other["describedObject"]["name"] = "db";
  REQUIRE(s.PutMetricValue(other).ok());  // another identity: kept apart
  CHECK(s.ListMetricValues().size() == 2);
  REQUIRE(s.DeleteMetricValue(other));
  CHECK(s.ListMetricValues()[0]["value"] == "20");

  for (const char* q : {"a", "b"}) {
    Json ev = {{"apiVersion", "external.metrics.k8s.io/v1beta1"},
               {"kind", "ExternalMetricValue"},
               {"metadata", {{"name", std::string("queue-") + q}, {"namespace", "default"}}},
               {"metricName", "queue_length"},
               {"metricLabels", {{"queue", q}}},
               {"value", "5"}};
    REQUIRE(s.Apply(ev).ok());
  }
  CHECK(s.ListExternalMetricValues("default", "queue_length", "")->size() == 2);
  CHECK(s.ListExternalMetricValues("default", "queue_length", "queue=a")->size() == 1);
  CHECK(s.ListExternalMetricValues("other", "queue_length", "")->empty());
  REQUIRE(s.DeleteObject({{"kind", "ExternalMetricValue"}, {"namespace", "default"}, {"name", "queue-a"}}).ok());
  CHECK(s.ListExternalMetricValues("default", "queue_length", "")->size() == 1);
}

TEST_CASE("ClusterState metrics by namespace: lists see only their namespace", "[cluster_state][metrics]") {
  SimulatedClock clock(T0());
  ClusterState s(clock);
  // Prefix-sharing names: "a/..." must not pick up "a-b" or "ab".
  const std::vector<std::string> namespaces = {"a", "a-b", "ab"};
  for (size_t n = 0; n < namespaces.size(); ++n) {
    const std::string& ns = namespaces[n];
    for (size_t i = 0; i <= n; ++i) {
      std::string pod = "pod-" + std::to_string(i);
      REQUIRE(s.PutPodMetrics({{"metadata", {{"name", pod}, {"namespace", ns}, {"labels", {{"app", "web"}}}}},
                               {"containers", Json::array()}})
                  .ok());
      REQUIRE(s.PutMetricValue({{"describedObject", {{"kind", "Pod"}, {"namespace", ns}, {"name", pod}}},
                                {"metric", {{"name", "rps"}}},
                                {"value", "1"}})
                  .ok());
      REQUIRE(s.PutExternalMetricValue({{"metadata", {{"name", "q-" + std::to_string(i)}, {"namespace", ns}}},
                                        {"metricName", "Queue_Length"},
                                        {"metricLabels", {{"queue", std::to_string(i)}}},
                                        {"value", "5"}})
                  .ok());
    }
  }
  for (size_t n = 0; n < namespaces.size(); ++n) {
    const std::string& ns = namespaces[n];
    INFO(ns);
    auto pms = s.ListPodMetricsShared(ns, "");
    REQUIRE(pms.ok());
    CHECK(pms->size() == n + 1);
    for (const auto& pm : *pms) CHECK((*pm)["metadata"]["namespace"] == ns);
    CHECK(s.ListPodMetrics(ns, "app=web")->size() == n + 1);
    auto mvs = s.ListMetricValuesShared(ns);
    CHECK(mvs.size() == n + 1);
    for (const auto& mv : mvs) CHECK((*mv)["describedObject"]["namespace"] == ns);
    // Metric names match case-insensitively (clients lower-case them in URLs).
    CHECK(s.ListExternalMetricValues(ns, "queue_length", "")->size() == n + 1);
    CHECK(s.ListExternalMetricValues(ns, "queue_length", "queue=0")->size() == 1);
  }
  CHECK(s.ListPodMetricsShared("", "")->size() == 6);
  // Serialized lists: the same items as dump() gives, kept until replaced.
  {
    auto texts = s.ListPodMetricsSerialized("a-b", "app=web");
    auto objs = s.ListPodMetricsShared("a-b", "app=web");
    REQUIRE((texts.ok() && objs.ok()));
    REQUIRE(texts->size() == 2);
    for (size_t i = 0; i < texts->size(); ++i) CHECK(*(*texts)[i] == (*objs)[i]->dump());
    auto again = s.ListPodMetricsSerialized("a-b", "");
    REQUIRE(again->size() == 2);
    CHECK((*again)[0].get() == (*texts)[0].get());  // not serialized twice
    REQUIRE(s.PutPodMetrics({{"metadata", {{"name", "pod-0"}, {"namespace", "a-b"}, {"labels", {{"app", "web"}}}}},
                             {"containers", Json::array({{{"name", "c"}}})}})
                .ok());
    auto after_put = s.ListPodMetricsSerialized("a-b", "");
    CHECK(*(*after_put)[0] == s.GetPodMetrics("a-b", "pod-0")->dump());
    CHECK(*(*after_put)[1] == *(*texts)[1]);
    CHECK(s.ListPodMetricsSerialized("a-b", "app in (").status().http_code() == 400);
  }
  CHECK(s.ListMetricValuesShared("").size() == 6);
  CHECK(s.ListPodMetricsShared("nope", "")->empty());
  CHECK(s.ListMetricValuesShared("nope").empty());
  CHECK(s.ListExternalMetricValues("nope", "queue_length", "")->empty());

  // Deletes leave the namespace index too.
  REQUIRE(s.DeleteMetricValue({{"describedObject", {{"kind", "Pod"}, {"namespace", "ab"}, {"name", "pod-0"}}},
                               {"metric", {{"name", "rps"}}}}));
  CHECK(s.ListMetricValuesShared("ab").size() == 2);
  CHECK(s.ListMetricValues().size() == 5);
  REQUIRE(s.DeletePodMetrics("a", "pod-0"));
  CHECK(s.ListPodMetricsShared("a", "")->empty());
  CHECK(s.ListPodMetricsShared("a-b", "")->size() == 2);
  // Replacing a value keeps one entry in both views.
  REQUIRE(s.PutMetricValue({{"describedObject", {{"kind", "Pod"}, {"namespace", "a"}, {"name", "pod-0"}}},
                            {"metric", {{"name", "rps"}}},
                            {"value", "2"}})
              .ok());
  REQUIRE(s.ListMetricValuesShared("a").size() == 1);
  CHECK((*s.ListMetricValuesShared("a")[0])["value"] == "2");
  CHECK(s.ListMetricValues().size() == 5);
}

}  // namespace
}  // namespace hpad::sim
