// Stock kubectl and the Debian python3-kubernetes client against the
// simulator's API server over HTTPS with a generated CA and bearer token
// (kubectl-compat.md), on the cluster of conformance example 01. Skipped
// (reported by ctest as skipped, see prerequisite.h) only when kubectl or
// the python module is missing.
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <catch2/catch.hpp>
#include <cstdio>
#include <fstream>
#include <thread>

#include "k8sclient/api/time_format.h"
#include "sim/apiserver/api_server.h"
#include "sim/apiserver/cluster_state.h"
#include "tests/sim/apiserver/test_objects.h"
#include "tests/sim/prerequisite.h"

namespace hpad::sim {
namespace {

struct RunResult {
  int rc = -1;
  std::string out;  // stdout + stderr
};

RunResult Run(const std::string& cmd) {
  RunResult r;
  FILE* p = popen((cmd + " 2>&1").c_str(), "r");
  if (p == nullptr) return r;
  std::array<char, 4096> buf;
  size_t n;
  while ((n = fread(buf.data(), 1, buf.size(), p)) > 0) r.out.append(buf.data(), n);
  int st = pclose(p);
  r.rc = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  return r;
}

bool Have(const std::string& cmd) { return Run(cmd).rc == 0; }

struct KubectlFixture {
  SimulatedClock clock{*k8s::ParseRfc3339("2026-01-01T00:00:00Z")};
  ClusterState state{clock};
  std::unique_ptr<ApiServer> server;
  std::string dir;
  std::string kubeconfig;

  KubectlFixture() {
    testing::BuildExample01(state);
    // What the controller would have written by now, so describe has
    // conditions and events to show.
    Json hpa = *state.Get(k8s::resources::kHpaV2, "default", "frontend");
    hpa["status"] = Json::parse(R"J({"currentReplicas":2,"desiredReplicas":3,"lastScaleTime":"2026-01-01T00:00:00Z",
      "currentMetrics":[{"type":"Resource","resource":{"name":"cpu","current":{"averageUtilization":90,"averageValue":"180m"}}}],
      "conditions":[{"type":"AbleToScale","status":"True","reason":"SucceededRescale","message":"the HPA controller was able to update the target scale to 3","lastTransitionTime":"2026-01-01T00:00:00Z"},
                    {"type":"ScalingActive","status":"True","reason":"ValidMetricFound","message":"the HPA was able to successfully calculate a replica count from cpu resource utilization (percentage of request)","lastTransitionTime":"2026-01-01T00:00:00Z"}]})J");
    HPAD_CHECK(state.UpdateStatus(k8s::resources::kHpaV2, "default", hpa).ok());
    Json ev = {{"apiVersion", "v1"},
               {"kind", "Event"},
               {"metadata", {{"name", "frontend.1"}, {"namespace", "default"}}},
               {"involvedObject",
                {{"apiVersion", "autoscaling/v2"}, {"kind", "HorizontalPodAutoscaler"}, {"name", "frontend"},
                 {"namespace", "default"}, {"uid", hpa["metadata"]["uid"]}}},
               {"reason", "SuccessfulRescale"},
               {"message", "New size: 3; reason: cpu resource utilization (percentage of request) above target"},
               {"type", "Normal"},
               {"source", {{"component", "horizontal-pod-autoscaler"}}},
               {"firstTimestamp", "2026-01-01T00:00:00Z"},
               {"lastTimestamp", "2026-01-01T00:00:00Z"},
               {"count", 1}};
    HPAD_CHECK(state.Create(k8s::resources::kEvents, "default", ev).ok());
    clock.Advance(std::chrono::minutes(5));

    char tmpl[] = "/tmp/hpad-kubectl-test-XXXXXX";
    HPAD_CHECK(mkdtemp(tmpl) != nullptr);
    dir = tmpl;
    kubeconfig = dir + "/kubeconfig";
    server = std::make_unique<ApiServer>(state, ApiServerOptions{});
    HPAD_CHECK(server->Start().ok());
    HPAD_CHECK(server->WriteKubeconfig(kubeconfig).ok());
  }
  ~KubectlFixture() {
    server->Stop();
    Run("rm -rf '" + dir + "'");
  }
  std::string K() const { return "timeout 60 kubectl --kubeconfig " + kubeconfig + " --cache-dir " + dir + "/cache "; }
};

TEST_CASE("kubectl against the simulator (get, describe, watch, autoscale, apply, scale, top, raw, delete)",
          "[.kubectl]") {
  hpad::sim::testing::SkipUnless(Have("command -v kubectl >/dev/null"), "kubectl is not installed");
  KubectlFixture f;
  const std::string k = f.K();

  auto get = Run(k + "get hpa,deploy,pods");
  INFO(get.out);
  REQUIRE(get.rc == 0);
  CHECK(get.out.find("REFERENCE") != std::string::npos);
  CHECK(get.out.find("horizontalpodautoscaler.autoscaling/frontend   Deployment/frontend   cpu: 90%/60%   1         10        2          5m") !=
        std::string::npos);
  CHECK(get.out.find("deployment.apps/frontend") != std::string::npos);
  CHECK(get.out.find("pod/frontend-0") != std::string::npos);

  auto all = Run(k + "get hpa -A");
  CHECK(all.out.find("default     frontend") != std::string::npos);
  CHECK(Run(k + "get hpa nope").out.find("Error from server (NotFound): horizontalpodautoscalers.autoscaling \"nope\" not found") !=
        std::string::npos);

  auto describe = Run(k + "describe hpa frontend");
  INFO(describe.out);
  CHECK(describe.rc == 0);
  CHECK(describe.out.find("resource cpu on pods  (as a percentage of request):  90% (180m) / 60%") != std::string::npos);
  CHECK(describe.out.find("Deployment pods:") != std::string::npos);
  CHECK(describe.out.find("ScalingActive") != std::string::npos);
  CHECK(describe.out.find("SuccessfulRescale") != std::string::npos);
  CHECK(describe.out.find("New size: 3") != std::string::npos);

  // kubectl get -w: rows arrive as the object changes; the stream stays open.
  RunResult watch;
  std::thread watcher([&] { watch = Run("timeout 6 " + k.substr(std::string("timeout 60 ").size()) + "get hpa -w"); });
  for (int i = 0; i < 200 && f.server->requests().Counts()["watch horizontalpodautoscalers"] == 0; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
  Json hpa = *f.state.Get(k8s::resources::kHpaV2, "default", "frontend");
  hpa["spec"]["maxReplicas"] = 12;
  REQUIRE(f.state.Update(k8s::resources::kHpaV2, "default", hpa).ok());
  watcher.join();
  INFO(watch.out);
  CHECK(watch.out.find("cpu: 90%/60%   1         10") != std::string::npos);
  CHECK(watch.out.find("cpu: 90%/60%   1         12") != std::string::npos);

  // create deployment via apply (JSON) and via protobuf, then autoscale (protobuf HPA).
  auto create = Run(k + "create deployment web --image=registry.k8s.io/hpa-example --dry-run=client -o yaml | " + k +
                    "apply -f -");
  INFO(create.out);
  CHECK(create.rc == 0);
  CHECK(create.out.find("deployment.apps/web created") != std::string::npos);
  auto create_pb = Run(k + "create deployment web2 --image=registry.k8s.io/hpa-example");
  INFO(create_pb.out);
  CHECK(create_pb.out.find("deployment.apps/web2 created") != std::string::npos);
  auto web2 = f.state.Get(k8s::resources::kDeployments, "default", "web2");
  REQUIRE(web2.ok());
  CHECK((*web2)["spec"]["template"]["spec"]["containers"][0]["image"] == "registry.k8s.io/hpa-example");
  CHECK((*web2)["spec"]["selector"]["matchLabels"]["app"] == "web2");

  auto autoscale = Run(k + "autoscale deployment web --cpu-percent=50 --min=1 --max=10");
  INFO(autoscale.out);
  CHECK(autoscale.out.find("horizontalpodautoscaler.autoscaling/web autoscaled") != std::string::npos);
  auto web_hpa = f.state.Get(k8s::resources::kHpaV2, "default", "web");
  REQUIRE(web_hpa.ok());
  CHECK((*web_hpa)["spec"]["metrics"][0]["resource"]["target"]["averageUtilization"] == 50);
  CHECK(Run(k + "get hpa web").out.find("cpu: <unknown>/50%") != std::string::npos);

  auto scale = Run(k + "scale deployment web --replicas=3");
  INFO(scale.out);
  CHECK(scale.out.find("deployment.apps/web scaled") != std::string::npos);
  CHECK((*f.state.Get(k8s::resources::kDeployments, "default", "web"))["spec"]["replicas"] == 3);

  // apply -f with the default strict validation (needs /openapi/v3), create then configure.
  const std::string manifest = f.dir + "/hpa.yaml";
  auto write_manifest = [&](int max) {
    std::ofstream(manifest) << "apiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\nmetadata:\n  name: applied\n"
                               "  namespace: default\nspec:\n  scaleTargetRef:\n    apiVersion: apps/v1\n    kind: Deployment\n"
                               "    name: web\n  minReplicas: 1\n  maxReplicas: "
                            << max
                            << "\n  metrics:\n  - type: Resource\n    resource:\n      name: cpu\n      target:\n"
                               "        type: Utilization\n        averageUtilization: 70\n";
  };
  write_manifest(10);
  auto applied = Run(k + "apply -f " + manifest);
  INFO(applied.out);
  CHECK(applied.out.find("horizontalpodautoscaler.autoscaling/applied created") != std::string::npos);
  write_manifest(7);
  applied = Run(k + "apply -f " + manifest);
  CHECK(applied.out.find("horizontalpodautoscaler.autoscaling/applied configured") != std::string::npos);
  CHECK((*f.state.Get(k8s::resources::kHpaV2, "default", "applied"))["spec"]["maxReplicas"] == 7);
  auto ssa = Run(k + "apply --server-side -f " + manifest);
  CHECK(ssa.out.find("serverside-applied") != std::string::npos);

  auto top = Run(k + "top pods");
  INFO(top.out);
  CHECK(top.out.find("frontend-0   180m") != std::string::npos);
  auto raw = Run(k + "get --raw /apis/metrics.k8s.io/v1beta1/namespaces/default/pods");
  CHECK(raw.out.find("\"kind\":\"PodMetricsList\"") != std::string::npos);
  CHECK(Run(k + "get events").out.find("SuccessfulRescale") != std::string::npos);

  auto del = Run(k + "delete hpa web");
  INFO(del.out);
  CHECK(del.out.find("horizontalpodautoscaler.autoscaling \"web\" deleted") != std::string::npos);
  CHECK(f.state.Get(k8s::resources::kHpaV2, "default", "web").status().code() == StatusCode::kNotFound);
}

TEST_CASE("python3-kubernetes against the simulator (AutoscalingV1Api, dynamic v2, watch)", "[.python-client]") {
  hpad::sim::testing::SkipUnless(Have("/usr/bin/python3 -c 'import kubernetes' 2>/dev/null"),
                                 "/usr/bin/python3 has no kubernetes module");
  KubectlFixture f;
  const std::string script = f.dir + "/client.py";
  std::ofstream(script) << R"PY(import sys, tempfile
from kubernetes import client, config, dynamic, watch
config.load_kube_config(sys.argv[1])
v1 = client.AutoscalingV1Api().list_horizontal_pod_autoscaler_for_all_namespaces().items
print("v1", [(h.metadata.name, h.spec.target_cpu_utilization_percentage, h.status.current_cpu_utilization_percentage) for h in v1])
dyn = dynamic.DynamicClient(client.ApiClient(), cache_file=tempfile.mktemp())
v2 = dyn.resources.get(api_version="autoscaling/v2", kind="HorizontalPodAutoscaler").get()
print("v2", [(h.metadata.name, h.spec.metrics[0].resource.target.averageUtilization) for h in v2.items])
seen = [(e["type"], e["object"].metadata.name) for e in watch.Watch().stream(
    client.AutoscalingV1Api().list_horizontal_pod_autoscaler_for_all_namespaces, timeout_seconds=2)]
print("watch", seen)
print("pods", sorted(p.metadata.name for p in client.CoreV1Api().list_pod_for_all_namespaces().items))
)PY";
  auto r = Run("timeout 60 /usr/bin/python3 " + script + " " + f.kubeconfig);
  INFO(r.out);
  CHECK(r.rc == 0);
  CHECK(r.out.find("v1 [('frontend', 60, 90)]") != std::string::npos);
  CHECK(r.out.find("v2 [('frontend', 60)]") != std::string::npos);
  CHECK(r.out.find("watch [('ADDED', 'frontend')]") != std::string::npos);
  CHECK(r.out.find("pods ['frontend-0', 'frontend-1']") != std::string::npos);
}

}  // namespace
}  // namespace hpad::sim
