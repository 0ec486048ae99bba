// ResourceRegistry: the built-in rows, lookups and CRD registration.
#include <catch2/catch.hpp>

#include "sim/apiserver/resource_registry.h"

namespace hpad::sim {
namespace {

Json Crd(const std::string& storage) {
  return Json::parse(R"({"apiVersion":"apiextensions.k8s.io/v1","kind":"CustomResourceDefinition",
    "metadata":{"name":"queues.example.com"},
    "spec":{"group":"example.com","scope":"Namespaced","names":{"plural":"queues","kind":"Queue","shortNames":["q"]},
      "versions":[{"name":"v1alpha1","served":true,"storage":)" + std::string(storage == "v1alpha1" ? "true" : "false") +
                     R"(},
                  {"name":"v1","served":true,"storage":)" + std::string(storage == "v1" ? "true" : "false") + R"(,
                   "subresources":{"status":{},"scale":{"specReplicasPath":".spec.size","statusReplicasPath":".status.size"}}}]}})");
}

TEST_CASE("ResourceRegistry: built-in rows and their storage", "[resource_registry]") {
  ResourceRegistry r;
  auto v1 = r.FindByGvr({"autoscaling", "v1", "horizontalpodautoscalers"});
  REQUIRE(v1 != nullptr);
  CHECK(v1->StorageKey() == "autoscaling/horizontalpodautoscalers");
  CHECK(v1->storage_version == "v2");
  CHECK(r.StorageOf(*v1)->gvr.version == "v2");
  auto ev = r.FindByKind("events.k8s.io/v1", "Event");
  REQUIRE(ev != nullptr);
  CHECK(ev->StorageKey() == "/events");
  CHECK(ev->GroupResource() == "events.events.k8s.io");
  auto deploy = r.FindByKindAnyVersion("Deployment");
  REQUIRE(deploy != nullptr);
  CHECK(deploy->has_scale);
  CHECK(deploy->list_kind == "DeploymentList");
  CHECK(deploy->verbs.size() == 8);
  CHECK(r.FindByGvr({"example.com", "v1", "queues"}) == nullptr);
  CHECK(r.Resources().size() == 15);  // + services, configmaps, networking.k8s.io ingresses
}

TEST_CASE("ResourceRegistry: a CRD's served versions, storage first, re-registering replaces", "[resource_registry]") {
  ResourceRegistry r;
  REQUIRE(r.RegisterCrd(Crd("v1")).ok());
  auto v1 = r.FindByGvr({"example.com", "v1", "queues"});
  auto alpha = r.FindByGvr({"example.com", "v1alpha1", "queues"});
  REQUIRE((v1 != nullptr && alpha != nullptr));
  CHECK(v1->has_scale);
  CHECK(v1->has_status);
  CHECK(v1->spec_replicas_path == ".spec.size");
  CHECK_FALSE(alpha->has_scale);
  CHECK(alpha->storage_version == "v1");
  CHECK(r.FindByKindAnyVersion("Queue")->gvr.version == "v1");  // the storage version is preferred
  // A row handed out stays valid when the CRD is replaced.
  REQUIRE(r.RegisterCrd(Crd("v1alpha1")).ok());
  CHECK(v1->storage_version == "v1");
  CHECK(r.FindByKindAnyVersion("Queue")->gvr.version == "v1alpha1");
  CHECK(r.Resources().size() == 17);
  CHECK(r.RegisterCrd(Json::object()).http_code() == 422);
}

}  // namespace
}  // namespace hpad::sim
