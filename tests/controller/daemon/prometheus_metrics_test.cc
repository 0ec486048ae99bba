// DaemonMetrics' resolved-series cache (issue 16): whatever path a call
// takes - cached, re-created after a delete, or past the cache's cap - the
// exported series are the ones prometheus-cpp's Family::Add would give.
#include <catch2/catch.hpp>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "controller/daemon/prometheus_metrics.h"
#include "k8sclient/work_queue.h"

namespace hpad::ctrl {
namespace {

using namespace std::chrono_literals;

std::string Exposition(const DaemonMetrics& m) {
  return prometheus::TextSerializer().Serialize(m.registry()->Collect());
}

bool Has(const std::string& text, const std::string& line) { return text.find(line + "\n") != std::string::npos; }

TEST_CASE("daemon metrics: desired_replicas is removed with its HPA and comes back when set again (15.5)",
          "[daemon][metrics]") {
  DaemonMetrics m;
  const std::string p = "horizontal_pod_autoscaler_controller_desired_replicas";
  m.SetDesiredReplicas("default", "web", 4);
  m.SetDesiredReplicas("default", "web", 5);
  m.SetDesiredReplicas("other", "web", 2);
  std::string t = Exposition(m);
  CHECK(Has(t, p + "{hpa_name=\"web\",namespace=\"default\"} 5"));
  CHECK(Has(t, p + "{hpa_name=\"web\",namespace=\"other\"} 2"));
  m.DeleteDesiredReplicas("default", "web");
  m.DeleteDesiredReplicas("never", "set");
  t = Exposition(m);
  CHECK(t.find("namespace=\"default\"") == std::string::npos);
  CHECK(t.find("namespace=\"never\"") == std::string::npos);
  CHECK(Has(t, p + "{hpa_name=\"web\",namespace=\"other\"} 2"));
  m.SetDesiredReplicas("default", "web", 7);
  CHECK(Has(Exposition(m), p + "{hpa_name=\"web\",namespace=\"default\"} 7"));
  // Label values that concatenate alike stay distinct series.
  m.SetDesiredReplicas("a", "bc", 1);
  m.SetDesiredReplicas("ab", "c", 2);
  t = Exposition(m);
  CHECK(Has(t, p + "{hpa_name=\"bc\",namespace=\"a\"} 1"));
  CHECK(Has(t, p + "{hpa_name=\"c\",namespace=\"ab\"} 2"));
}

TEST_CASE("daemon metrics: every label combination counts the same cached, uncached or concurrent (15.1-15.4)",
          "[daemon][metrics]") {
  DaemonMetrics m;
  auto queue = NewWorkQueueMetricsObserver(m);
  // Past the cap: more request triples than kMaxCachedSeries.
  const int codes = static_cast<int>(kMaxCachedSeries) + 20;
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < codes; ++i) m.ObserveRequest("GET", "h:1", std::to_string(100 + i), 1ms);
      for (int i = 0; i < 50; ++i) {
        m.ObserveReconciliationResult(ActionLabel::kScaleDown, ErrorLabel::kInternal, 2ms);
        m.ObserveMetricComputationResult(ActionLabel::kNone, ErrorLabel::kSpec, 1ms, "External");
        m.ObserveMetricComputationResult(ActionLabel::kNone, ErrorLabel::kSpec, 1ms, "SomethingNew");
        queue->OnAdd("q");
        queue->OnRetry("q");
      }
    });
  }
  for (auto& th : threads) th.join();
  // Out-of-range enum values take the uncached path, labelled as LabelText does.
  m.ObserveReconciliationResult(static_cast<ActionLabel>(3), ErrorLabel::kNone, 1ms);
  const std::string t = Exposition(m);
  const std::string p = "horizontal_pod_autoscaler_controller_";
  CHECK(Has(t, "rest_client_requests_total{code=\"100\",host=\"h:1\",method=\"GET\"} 4"));
  CHECK(Has(t, "rest_client_requests_total{code=\"" + std::to_string(100 + codes - 1) +
                   "\",host=\"h:1\",method=\"GET\"} 4"));
  CHECK(Has(t, "rest_client_request_duration_seconds_count{host=\"h:1\",verb=\"GET\"} " + std::to_string(4 * codes)));
  CHECK(Has(t, p + "reconciliations_total{action=\"scale_down\",error=\"internal\"} 200"));
  CHECK(Has(t, p + "reconciliation_duration_seconds_count{action=\"scale_down\",error=\"internal\"} 200"));
  CHECK(Has(t, p + "reconciliations_total{action=\"none\",error=\"none\"} 1"));
  CHECK(Has(t, p + "metric_computation_total{action=\"none\",error=\"spec\",metric_type=\"External\"} 200"));
  CHECK(Has(t, p + "metric_computation_total{action=\"none\",error=\"spec\",metric_type=\"SomethingNew\"} 200"));
  CHECK(Has(t, p + "metric_computation_duration_seconds_count{action=\"none\",error=\"spec\","
                   "metric_type=\"External\"} 200"));
  CHECK(Has(t, "workqueue_adds_total{name=\"q\"} 200"));
  CHECK(Has(t, "workqueue_retries_total{name=\"q\"} 200"));
  // Series appear only once observed, as before.
  CHECK(t.find("action=\"scale_up\"") == std::string::npos);
  CHECK(t.find("workqueue_depth{") == std::string::npos);
}

}  // namespace
}  // namespace hpad::ctrl
