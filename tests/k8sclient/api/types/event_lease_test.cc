// core/v1 Event and coordination.k8s.io/v1 Lease JSON round trips.
#include <catch2/catch.hpp>

#include "k8sclient/api/time_format.h"
#include "k8sclient/api/types/event.h"
#include "k8sclient/api/types/lease.h"

using namespace hpad::k8s;
using nlohmann::json;

TEST_CASE("event to and from json", "[event]") {
  Event e;
  e.metadata.name = "web.17a";
  e.metadata.ns = "default";
  e.involved_object = {"HorizontalPodAutoscaler", "default", "web", "uid-1", "autoscaling/v2", "", ""};
  e.reason = "SuccessfulRescale";
  e.message = "New size: 4; reason: cpu resource utilization (percentage of request) above target";
  e.type = "Normal";
  e.count = 1;
  e.first_timestamp = *ParseRfc3339("2026-01-01T00:00:00Z");
  e.last_timestamp = e.first_timestamp;
  e.source_component = "horizontal-pod-autoscaler";
  e.reporting_component = "hpad";
  json j = EventToJson(e);
  CHECK(j == json::parse(R"({
    "apiVersion": "v1", "kind": "Event",
    "metadata": {"name": "web.17a", "namespace": "default"},
    "involvedObject": {"kind": "HorizontalPodAutoscaler", "namespace": "default", "name": "web", "uid": "uid-1",
                       "apiVersion": "autoscaling/v2"},
    "reason": "SuccessfulRescale",
    "message": "New size: 4; reason: cpu resource utilization (percentage of request) above target",
    "type": "Normal", "count": 1,
    "firstTimestamp": "2026-01-01T00:00:00Z", "lastTimestamp": "2026-01-01T00:00:00Z",
    "source": {"component": "horizontal-pod-autoscaler"},
    "reportingComponent": "hpad"})"));

  // Read back (as from the server, with extra fields), bump the count, write.
  j["metadata"]["resourceVersion"] = "5";
  j["reportingInstance"] = "hpad-0";
  j["series"] = json::object();  // unknown to us: kept
  auto back = EventFromJson(j);
  REQUIRE(back.ok());
  CHECK(back->involved_object.name == "web");
  CHECK(back->count == 1);
  CHECK(back->reporting_instance == "hpad-0");
  CHECK(back->metadata.resource_version == "5");
  Event bumped = *back;
  bumped.count = 2;
  bumped.last_timestamp = *ParseRfc3339("2026-01-01T00:00:15Z");
  json out = EventToJson(bumped);
  CHECK(out["count"] == 2);
  CHECK(out["lastTimestamp"] == "2026-01-01T00:00:15Z");
  CHECK(out["firstTimestamp"] == "2026-01-01T00:00:00Z");
  CHECK(out["series"] == json::object());
  CHECK(out["metadata"]["resourceVersion"] == "5");

  auto bad = EventFromJson(json::parse(R"({"involvedObject": {"name": 3}})"));
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.status().message() == "involvedObject.name: expected a string, got 3");
  auto bad_count = EventFromJson(json::parse(R"({"count": "2"})"));
  REQUIRE_FALSE(bad_count.ok());
  CHECK(bad_count.status().message() == "count: expected an integer, got \"2\"");
}

TEST_CASE("lease to and from json (MicroTime)", "[lease]") {
  json in = json::parse(R"({
    "apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
    "metadata": {"name": "hpad", "namespace": "kube-system", "resourceVersion": "11"},
    "spec": {"holderIdentity": "host-a_1234", "leaseDurationSeconds": 15,
             "acquireTime": "2026-01-01T00:00:00.000000Z", "renewTime": "2026-01-01T00:00:10.250000Z",
             "leaseTransitions": 2}})");
  auto l = LeaseFromJson(in);
  REQUIRE(l.ok());
  CHECK(l->metadata.resource_version == "11");
  CHECK(l->spec.holder_identity == "host-a_1234");
  CHECK(l->spec.lease_duration_seconds == 15);
  CHECK(l->spec.lease_transitions == 2);
  CHECK(FormatRfc3339Micro(*l->spec.renew_time) == "2026-01-01T00:00:10.250000Z");
  CHECK(LeaseToJson(*l) == in);

  // Release on shutdown: holder cleared, other fields kept.
  Lease released = *l;
  released.spec.holder_identity.reset();
  json out = LeaseToJson(released);
  CHECK_FALSE(out["spec"].contains("holderIdentity"));
  CHECK(out["spec"]["leaseTransitions"] == 2);

  // A fresh lease.
  Lease fresh;
  fresh.metadata.name = "hpad";
  fresh.metadata.ns = "kube-system";
  fresh.spec.holder_identity = "me";
  fresh.spec.lease_duration_seconds = 15;
  fresh.spec.acquire_time = *ParseRfc3339("2026-01-01T00:00:00.123456789Z");
  fresh.spec.renew_time = fresh.spec.acquire_time;
  fresh.spec.lease_transitions = 0;
  CHECK(LeaseToJson(fresh) == json::parse(R"({
    "apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
    "metadata": {"name": "hpad", "namespace": "kube-system"},
    "spec": {"holderIdentity": "me", "leaseDurationSeconds": 15,
             "acquireTime": "2026-01-01T00:00:00.123456Z", "renewTime": "2026-01-01T00:00:00.123456Z",
             "leaseTransitions": 0}})"));

  auto bad = LeaseFromJson(json::parse(R"({"spec": {"renewTime": "soon"}})"));
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.status().message().rfind("spec.renewTime: time \"soon\"", 0) == 0);
}
