// The daemon's HTTP port: health endpoints and the Prometheus exposition of
// the upstream controller metrics (hpa-semantics.md section 15).
#include <catch2/catch.hpp>
#include <httplib.h>

#include <atomic>

#include "controller/daemon/http_server.h"
#include "controller/daemon/prometheus_metrics.h"
#include "k8sclient/base/last_resort.h"

namespace hpad::ctrl {
namespace {

using namespace std::chrono_literals;

TEST_CASE("daemon http: port 0 binds a free port, health checks drive /livez and /readyz", "[daemon][http]") {
  DaemonMetrics metrics;
  std::atomic<bool> synced{false};
  DaemonHttpServer server(metrics.registry(), {{"ping", [] { return std::string(); }}},
                          {{"informer-sync", [&] { return synced ? std::string() : std::string("caches not synced"); }}});
  REQUIRE(server.Start("127.0.0.1", 0).ok());
  REQUIRE(server.port() > 0);
  httplib::Client c("127.0.0.1", server.port());

  auto r = c.Get("/healthz");
  REQUIRE(r);
  CHECK(r->status == 200);
  CHECK(r->body == "ok");
  r = c.Get("/livez");
  REQUIRE(r);
  CHECK(r->status == 200);
  r = c.Get("/readyz");
  REQUIRE(r);
  CHECK(r->status == 503);
  CHECK(r->body.find("[-]informer-sync failed: caches not synced") != std::string::npos);
  synced = true;
  r = c.Get("/readyz");
  REQUIRE(r);
  CHECK(r->status == 200);
  CHECK(r->body == "ok");
  r = c.Get("/readyz?verbose");
  REQUIRE(r);
  CHECK(r->body.find("[+]informer-sync ok") != std::string::npos);
  r = c.Get("/nothing-here");
  REQUIRE(r);
  CHECK(r->status == 404);

  // A second server cannot take the same port: Start reports it.
  DaemonHttpServer clash(metrics.registry(), {}, {});
  CHECK_FALSE(clash.Start("127.0.0.1", server.port()).ok());
  server.Stop();
  server.Stop();  // idempotent
}

TEST_CASE("daemon http: /metrics exposes upstream names, labels and buckets (15.1-15.6)", "[daemon][http][metrics]") {
  DaemonMetrics m;
  m.ObserveReconciliationResult(ActionLabel::kScaleUp, ErrorLabel::kNone, 3ms);
  m.ObserveReconciliationResult(ActionLabel::kNone, ErrorLabel::kSpec, 1ms);
  m.ObserveMetricComputationResult(ActionLabel::kScaleUp, ErrorLabel::kNone, 2ms, "Resource");
  m.SetDesiredReplicas("default", "web", 4);
  m.SetNumHpas(2);
  m.SetNumHpas(1);
  m.SetQueueDepth("horizontalpodautoscaler", 3);
  m.QueueAdd("horizontalpodautoscaler");
  m.ObserveQueueLatency("horizontalpodautoscaler", 5ms);
  m.ObserveWorkDuration("horizontalpodautoscaler", 7ms);
  m.ObserveRequest("PATCH", "10.0.0.1:6443", "200", 20ms);
  m.ObserveRequest("GET", "10.0.0.1:6443", "<error>", 1s);
  m.SetLeader("hpad", true);

  DaemonHttpServer server(m.registry(), {}, {});
  REQUIRE(server.Start("127.0.0.1", 0).ok());
  httplib::Client c("127.0.0.1", server.port());
  auto r = c.Get("/metrics");
  REQUIRE(r);
  CHECK(r->status == 200);
  CHECK(r->get_header_value("Content-Type").rfind("text/plain", 0) == 0);
  const std::string& b = r->body;
  INFO(b);
  const std::string p = "horizontal_pod_autoscaler_controller_";
  for (const std::string& line : {
           p + "reconciliations_total{action=\"scale_up\",error=\"none\"} 1",
           p + "reconciliations_total{action=\"none\",error=\"spec\"} 1",
           // 15.2 buckets: 0.001 * 2^k, k = 0..14 (last 16.384).
           p + "reconciliation_duration_seconds_bucket{action=\"scale_up\",error=\"none\",le=\"0.002\"} 0",
           p + "reconciliation_duration_seconds_bucket{action=\"scale_up\",error=\"none\",le=\"0.004\"} 1",
           p + "reconciliation_duration_seconds_bucket{action=\"scale_up\",error=\"none\",le=\"16.384\"} 1",
           p + "reconciliation_duration_seconds_count{action=\"scale_up\",error=\"none\"} 1",
           p + "metric_computation_total{action=\"scale_up\",error=\"none\",metric_type=\"Resource\"} 1",
           p + "metric_computation_duration_seconds_count{action=\"scale_up\",error=\"none\",metric_type=\"Resource\"} 1",
           p + "desired_replicas{hpa_name=\"web\",namespace=\"default\"} 4",
           p + "num_horizontal_pod_autoscalers 1",
           std::string("workqueue_depth{name=\"horizontalpodautoscaler\"} 3"),
           std::string("workqueue_adds_total{name=\"horizontalpodautoscaler\"} 1"),
           std::string("workqueue_queue_duration_seconds_count{name=\"horizontalpodautoscaler\"} 1"),
           std::string("workqueue_work_duration_seconds_count{name=\"horizontalpodautoscaler\"} 1"),
           std::string("rest_client_requests_total{code=\"200\",host=\"10.0.0.1:6443\",method=\"PATCH\"} 1"),
           std::string("rest_client_requests_total{code=\"<error>\",host=\"10.0.0.1:6443\",method=\"GET\"} 1"),
           std::string("rest_client_request_duration_seconds_count{host=\"10.0.0.1:6443\",verb=\"PATCH\"} 1"),
           std::string("leader_election_master_status{name=\"hpad\"} 1"),
       }) {
    CHECK(b.find(line + "\n") != std::string::npos);
  }
  // Exactly 15 finite buckets + Inf for the 15.2 histogram.
  size_t buckets = 0;
  for (size_t pos = 0; (pos = b.find(p + "reconciliation_duration_seconds_bucket{action=\"scale_up\"", pos)) != std::string::npos; ++pos)
    ++buckets;
  CHECK(buckets == 16);

  m.DeleteDesiredReplicas("default", "web");
  m.SetLeader("hpad", false);
  r = c.Get("/metrics");
  REQUIRE(r);
  CHECK(r->body.find(p + "desired_replicas{") == std::string::npos);
  CHECK(r->body.find("leader_election_master_status{name=\"hpad\"} 0\n") != std::string::npos);
}

TEST_CASE("daemon http: /metrics counts the last-resort net per loop (issue 10)", "[daemon][http][metrics]") {
  DaemonMetrics m;
  DaemonHttpServer server(m.registry(), {}, {});
  REQUIRE(server.Start("127.0.0.1", 0).ok());
  httplib::Client c("127.0.0.1", server.port());
  auto before = c.Get("/metrics");
  REQUIRE(before);
  CHECK(before->body.find("# TYPE hpad_unexpected_errors_total counter") != std::string::npos);
  CHECK(before->body.find("loop=\"http-test-loop\"") == std::string::npos);
  hpad::k8s::RecordUnexpectedError("http-test-loop", "boom");
  hpad::k8s::RecordUnexpectedError("http-test-loop", "boom again");
  auto after = c.Get("/metrics");
  REQUIRE(after);
  CHECK(after->body.find("hpad_unexpected_errors_total{loop=\"http-test-loop\"} 2\n") != std::string::npos);
  server.Stop();
}

}  // namespace
}  // namespace hpad::ctrl
