// Pod parsing for autoscaling: requests to milli (rule 1.7), sidecar init
// containers flagged (RQ1), pod-level requests (RQ2), Ready condition, errors.
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include "k8sclient/api/time_format.h"
#include "k8sclient/api/types/pod.h"
#include "k8sclient/api/types/scale.h"

using namespace hpad::k8s;
using nlohmann::json;

namespace {
const char* kPod = R"({
  "apiVersion": "v1", "kind": "Pod",
  "metadata": {"name": "web-1", "namespace": "default", "resourceVersion": "7", "labels": {"app": "web"},
               "ownerReferences": [{"kind": "ReplicaSet"}]},
  "spec": {
    "containers": [
      {"name": "app", "image": "x", "resources": {"requests": {"cpu": "200m", "memory": "64Mi"}, "limits": {"cpu": "1"}}},
      {"name": "proxy", "resources": {"requests": {"cpu": 0.1}}},
      {"name": "bare"}
    ],
    "initContainers": [
      {"name": "init", "resources": {"requests": {"cpu": "1"}}},
      {"name": "sidecar", "restartPolicy": "Always", "resources": {"requests": {"cpu": "50m"}}}
    ],
    "resources": {"requests": {"cpu": "500m"}}
  },
  "status": {
    "phase": "Running",
    "startTime": "2026-01-01T00:00:00Z",
    "conditions": [
      {"type": "PodScheduled", "status": "True", "lastTransitionTime": "2026-01-01T00:00:00Z"},
      {"type": "Ready", "status": "True", "lastTransitionTime": "2026-01-01T00:00:30Z"}
    ]
  }
})";
}  // namespace

TEST_CASE("pod from json", "[pod]") {
  auto r = PodFromJson(json::parse(kPod));
  REQUIRE(r.ok());
  const Pod& p = *r;
  CHECK(p.name == "web-1");
  CHECK(p.ns == "default");
  CHECK(p.labels() == std::map<std::string, std::string>{{"app", "web"}});
  CHECK(p.phase == "Running");
  CHECK(FormatRfc3339(*p.start_time) == "2026-01-01T00:00:00Z");
  CHECK(p.ready_status == "True");
  CHECK(FormatRfc3339(*p.ready_last_transition) == "2026-01-01T00:00:30Z");
  CHECK_FALSE(p.deletion_timestamp);
  const PodRequests& req = p.requests();
  REQUIRE(req.containers.size() == 3);
  CHECK(req.containers[0].requests_milli == std::map<std::string, int64_t>{{"cpu", 200}, {"memory", 67108864000}});
  CHECK(req.containers[1].requests_milli.at("cpu") == 100);
  CHECK(req.containers[2].requests_milli.empty());  // no request: RQ1 error is the calculator's
  REQUIRE(req.init_containers.size() == 2);
  CHECK_FALSE(req.init_containers[0].restart_policy_always);
  CHECK(req.init_containers[1].restart_policy_always);  // sidecar counts in RQ1
  CHECK(req.init_containers[1].requests_milli.at("cpu") == 50);
  CHECK(req.pod_level_requests_milli.at("cpu") == 500);  // RQ2
}

TEST_CASE("pod overhead (RQ2) and the first Ready condition (P4)", "[pod]") {
  auto r = PodFromJson(json::parse(R"({
    "metadata": {"name": "p"},
    "spec": {"containers": [{"name": "app"}], "overhead": {"cpu": "250m", "memory": "1Mi"}},
    "status": {"phase": "Running", "conditions": [
      {"type": "Ready", "status": "False", "lastTransitionTime": "2026-01-01T00:00:10Z"},
      {"type": "Ready", "status": "True", "lastTransitionTime": "2026-01-01T00:00:20Z"}]}})"));
  REQUIRE(r.ok());
  CHECK(r->requests().overhead_milli.at("cpu") == 250);
  CHECK(r->requests().overhead_milli.at("memory") == 1048576000);
  // Upstream's GetPodCondition returns the first condition of the type.
  CHECK(r->ready_status == "False");
  CHECK(FormatRfc3339(*r->ready_last_transition) == "2026-01-01T00:00:10Z");
}

TEST_CASE("pod minimal and deleting", "[pod]") {
  auto r = PodFromJson(json::parse(
      R"({"metadata": {"name": "p", "deletionTimestamp": "2026-01-01T00:01:00Z"}, "status": {"phase": "Pending"}})"));
  REQUIRE(r.ok());
  CHECK(r->deletion_timestamp.has_value());
  CHECK_FALSE(r->ready_status.has_value());
  CHECK(r->requests().containers.empty());
  CHECK(r->labels().empty());
  CHECK_FALSE(r->shared_labels);  // nothing to share: no allocation
  CHECK_FALSE(r->shared_requests);
}

TEST_CASE("pods converted through one interner share equal label sets and requests", "[pod]") {
  PodInterner interner;
  json a = json::parse(kPod), b = json::parse(kPod), c = json::parse(kPod);
  b["metadata"]["name"] = "web-2";
  c["metadata"]["name"] = "web-3";
  c["metadata"]["labels"]["app"] = "other";
  c["spec"]["containers"][0]["resources"]["requests"]["cpu"] = "300m";
  auto pa = PodFromJson(a, &interner), pb = PodFromJson(b, &interner), pc = PodFromJson(c, &interner);
  REQUIRE(pa.ok());
  REQUIRE(pb.ok());
  REQUIRE(pc.ok());
  CHECK(pa->shared_labels == pb->shared_labels);  // one copy
  CHECK(pa->shared_requests == pb->shared_requests);
  CHECK(pa->shared_labels != pc->shared_labels);
  CHECK(pa->shared_requests != pc->shared_requests);
  CHECK(pc->labels().at("app") == "other");
  CHECK(pc->requests().containers[0].requests_milli.at("cpu") == 300);
  CHECK(pb->name == "web-2");
  // Whatever is interned, the pod reads as PodFromJson without an interner.
  auto plain = PodFromJson(c);
  REQUIRE(plain.ok());
  CHECK(plain->labels() == pc->labels());
  CHECK(plain->requests() == pc->requests());
  CHECK(plain->shared_requests != pc->shared_requests);
  CHECK(interner.label_entries() == 2);
  CHECK(interner.request_entries() == 2);
}

TEST_CASE("the pod interner forgets values no pod holds", "[pod]") {
  PodInterner interner;
  // 3000 distinct label sets, each dropped at once: sweeps keep the table
  // small instead of growing with every set ever seen.
  for (int i = 0; i < 3000; ++i) {
    auto held = interner.InternLabels({{"app", "web-" + std::to_string(i)}});
    REQUIRE(held);
    CHECK(held->at("app") == "web-" + std::to_string(i));
  }
  CHECK(interner.label_entries() <= 1024);
  // A value still held survives the sweeps and is found again.
  auto kept = interner.InternLabels({{"app", "kept"}});
  for (int i = 0; i < 3000; ++i) interner.InternLabels({{"app", "x-" + std::to_string(i)}});
  CHECK(interner.InternLabels({{"app", "kept"}}) == kept);
  CHECK(interner.InternLabels({}) == nullptr);
  CHECK(interner.InternRequests({}) == nullptr);
}

TEST_CASE("pod errors name the field path", "[pod]") {
  struct Case {
    const char* name;
    std::function<void(json&)> mutate;
    const char* message;
  };
  const Case cases[] = {
      {"bad request", [](json& j) { j["spec"]["containers"][1]["resources"]["requests"]["cpu"] = "lots"; },
       "spec.containers[1].resources.requests.cpu: quantity \"lots\": expected a number"},
      {"bad init request", [](json& j) { j["spec"]["initContainers"][0]["resources"]["requests"]["memory"] = "1Q"; },
       "spec.initContainers[0].resources.requests.memory: quantity \"1Q\": unknown suffix \"Q\""},
      {"containers not list", [](json& j) { j["spec"]["containers"] = "x"; },
       "spec.containers: expected a list, got string"},
      {"bad start time", [](json& j) { j["status"]["startTime"] = 5; },
       "status.startTime: expected a timestamp string, got 5"},
      {"bad condition", [](json& j) { j["status"]["conditions"][1]["status"] = true; },
       "status.conditions[1].status: expected a string, got true"},
  };
  for (const auto& c : cases) {
    INFO(c.name);
    json j = json::parse(kPod);
    c.mutate(j);
    auto r = PodFromJson(j);
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().message() == c.message);
  }
}

TEST_CASE("scale from and to json", "[scale]") {
  json in = json::parse(R"({"apiVersion": "autoscaling/v1", "kind": "Scale",
    "metadata": {"name": "web", "namespace": "default", "resourceVersion": "9", "uid": "u"},
    "spec": {"replicas": 3}, "status": {"replicas": 2, "selector": "app=web"}})");
  auto s = ScaleFromJson(in);
  REQUIRE(s.ok());
  CHECK(s->name == "web");
  CHECK(s->ns == "default");
  CHECK(s->resource_version == "9");
  CHECK(s->spec_replicas == 3);
  CHECK(s->status_replicas == 2);
  CHECK(s->selector == "app=web");
  CHECK(ScaleToJson(*s) == in);
  Scale changed = *s;
  changed.spec_replicas = 5;
  json out = ScaleToJson(changed);
  CHECK(out["spec"]["replicas"] == 5);
  CHECK(out["metadata"]["uid"] == "u");
  CHECK(out["status"] == in["status"]);

  auto bad = ScaleFromJson(json::parse(R"({"spec": {"replicas": "3"}})"));
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.status().message() == "spec.replicas: expected an integer, got \"3\"");
  // Scale of a target at 0 replicas: spec {} (omitempty) reads as 0.
  auto zero = ScaleFromJson(json::parse(R"({"metadata": {"name": "w"}, "spec": {}, "status": {"replicas": 0}})"));
  REQUIRE(zero.ok());
  CHECK(zero->spec_replicas == 0);
  CHECK(zero->selector.empty());
}
