// Objects and helpers shared by the tests of the simulator's API server
// units (tests/sim/apiserver/*_test.cc). Test-only; header-only.
#pragma once

#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "k8sclient/api/time_format.h"
#include "sim/apiserver/cluster_state.h"
#include "sim/apiserver/store_util.h"

namespace hpad::sim::testing {

using k8s::resources::kDeployments;
using k8s::resources::kHpaV1;
using k8s::resources::kHpaV2;
using k8s::resources::kPods;
using EvType = k8s::WatchEvent::Type;

inline Time T0() { return *k8s::ParseRfc3339("2026-01-01T00:00:00Z"); }

inline Json Pod(const std::string& name, const std::string& app, const std::string& phase = "Running") {
  return {{"apiVersion", "v1"},
          {"kind", "Pod"},
          {"metadata", {{"name", name}, {"namespace", "default"}, {"labels", {{"app", app}}}}},
          {"spec", {{"containers", {{{"name", "c"}, {"image", "i"}}}}}},
          {"status", {{"phase", phase}}}};
}

inline Json Deployment(const std::string& name, int replicas) {
  return {{"apiVersion", "apps/v1"},
          {"kind", "Deployment"},
          {"metadata", {{"name", name}, {"namespace", "default"}}},
          {"spec", {{"replicas", replicas}, {"selector", {{"matchLabels", {{"app", name}}}}}}},
          {"status", {{"replicas", replicas}}}};
}

inline Json Hpa(const std::string& name) {
  return {{"apiVersion", "autoscaling/v2"},
          {"kind", "HorizontalPodAutoscaler"},
          {"metadata", {{"name", name}, {"namespace", "default"}}},
          {"spec",
           {{"scaleTargetRef", {{"apiVersion", "apps/v1"}, {"kind", "Deployment"}, {"name", name}}},
            {"maxReplicas", 10},
            {"metrics",
             {{{"type", "Resource"},
               {"resource", {{"name", "cpu"}, {"target", {{"type", "Utilization"}, {"averageUtilization", 60}}}}}}}}}}};
}

inline int64_t Rv(const Json& obj) { return std::stoll(obj["metadata"]["resourceVersion"].get<std::string>()); }

inline Json PodIn(const std::string& ns, const std::string& name, const std::string& app = "web") {
  Json p = Pod(name, app);
  p["metadata"]["namespace"] = ns;
  return p;
}

inline std::string KeyOf(const Json& o) {
  return o["metadata"].value("namespace", "") + "/" + o["metadata"].value("name", "");
}

// Pages through a list; every page's items, resourceVersion and remaining.
struct Paged {
  std::vector<std::string> keys;
  std::vector<std::string> rvs;
  std::vector<int64_t> remaining;  // per page with a continue token
  int pages = 0;
};
inline Paged PageAll(const ClusterState& s, const std::string& ns, ListQuery q) {
  Paged out;
  while (true) {
    auto p = s.List(kPods, ns, q);
    REQUIRE(p.ok());
    ++out.pages;
    for (const Json& o : p->items) out.keys.push_back(KeyOf(o));
    out.rvs.push_back(p->resource_version);
    if (p->continue_token.empty()) break;
    out.remaining.push_back(p->remaining);
    q.continue_token = p->continue_token;
  }
  return out;
}


// The cluster of conformance/examples/01-cpu-scale-up.yaml, built in code
// (the scenario loader belongs to the runner).
inline void BuildExample01(ClusterState& s) {
  auto apply = [&](const char* text) {
    auto r = s.Apply(Json::parse(text));
    HPAD_CHECK(r.ok());
  };
  apply(R"({"apiVersion":"apps/v1","kind":"Deployment","metadata":{"namespace":"default","name":"frontend"},
    "spec":{"replicas":2,"selector":{"matchLabels":{"app":"frontend"}},
      "template":{"metadata":{"labels":{"app":"frontend"}},"spec":{"containers":[
        {"name":"container1","image":"registry.example/app:1","resources":{"requests":{"cpu":"500m"}}},
        {"name":"container2","image":"registry.example/app:1","resources":{"requests":{"cpu":"500m"}}}]}}},
    "status":{"replicas":2}})");
  for (const char* name : {"frontend-0", "frontend-1"}) {
    Json pod = Json::parse(R"({"apiVersion":"v1","kind":"Pod","metadata":{"namespace":"default","labels":{"app":"frontend"}},
      "spec":{"containers":[{"name":"container1","image":"registry.example/app:1","resources":{"requests":{"cpu":"100m"}}},
                            {"name":"container2","image":"registry.example/app:1","resources":{"requests":{"cpu":"100m"}}}]},
      "status":{"phase":"Running","startTime":"2025-12-31T23:00:00Z",
        "conditions":[{"type":"Ready","status":"True","lastTransitionTime":"2025-12-31T23:00:20Z"}]}})");
    pod["metadata"]["name"] = name;
    HPAD_CHECK(s.Apply(pod).ok());
    Json pm = Json::parse(R"({"apiVersion":"metrics.k8s.io/v1beta1","kind":"PodMetrics",
      "metadata":{"namespace":"default","labels":{"app":"frontend"}},"timestamp":"2026-01-01T00:00:00Z","window":"60s",
      "containers":[{"name":"container1","usage":{"cpu":"90m"}},{"name":"container2","usage":{"cpu":"90m"}}]})");
    pm["metadata"]["name"] = name;
    HPAD_CHECK(s.Apply(pm).ok());
  }
  apply(R"({"apiVersion":"autoscaling/v2","kind":"HorizontalPodAutoscaler","metadata":{"namespace":"default","name":"frontend"},
    "spec":{"scaleTargetRef":{"apiVersion":"apps/v1","kind":"Deployment","name":"frontend"},"minReplicas":1,"maxReplicas":10,
      "metrics":[{"type":"Resource","resource":{"name":"cpu","target":{"type":"Utilization","averageUtilization":60}}}]}})");
}

}  // namespace hpad::sim::testing
