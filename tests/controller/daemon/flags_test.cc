// hpad's command line: kube-controller-manager names and defaults (13.2),
// pflag syntax, and refusals that name the flag.
#include <catch2/catch.hpp>

#include "controller/daemon/flags.h"
#include "k8sclient/base/version.h"

namespace hpad::ctrl {
namespace {

using namespace std::chrono_literals;

DaemonFlags Parse(std::vector<std::string> args) { return ParseDaemonFlags(args); }

TEST_CASE("daemon flags: no flags gives kube-controller-manager's defaults (13.2)", "[daemon][flags]") {
  auto f = Parse({});
  REQUIRE(f.action == DaemonFlags::Action::kRun);
  const auto& o = f.options;
  CHECK(o.controller.sync_period == 15s);
  CHECK(o.controller.tolerance == Approx(0.1));
  CHECK(o.controller.downscale_stabilization == 5min);
  CHECK(o.controller.cpu_initialization_period == 5min);
  CHECK(o.controller.initial_readiness_delay == 30s);
  CHECK(o.controller.concurrent_syncs == 5);
  CHECK(o.kube_api_qps == Approx(20.0));
  CHECK(o.kube_api_burst == 30);
  CHECK(o.leader_elect);
  CHECK(o.lease_duration == 15s);
  CHECK(o.renew_deadline == 10s);
  CHECK(o.retry_period == 2s);
  CHECK(o.lease_name == "hpad");  // never KCM's own "kube-controller-manager" lease
  CHECK(o.lease_namespace == "kube-system");
  CHECK(o.bind_address == "0.0.0.0");
  CHECK(o.port == 10257);
  CHECK(o.verbosity == 0);
  CHECK(o.kubeconfig.empty());
  CHECK(o.controller_flags.empty());
}

TEST_CASE("daemon flags: every flag is accepted in --name=value and --name value form", "[daemon][flags]") {
  auto f = Parse({"--kubeconfig=/tmp/kc", "--master", "https://10.0.0.1:6443", "--context=dev",
                  "--horizontal-pod-autoscaler-sync-period=30s", "--horizontal-pod-autoscaler-tolerance", "0.2",
                  "--horizontal-pod-autoscaler-downscale-stabilization=1m30s",
                  "--horizontal-pod-autoscaler-cpu-initialization-period=2m",
                  "--horizontal-pod-autoscaler-initial-readiness-delay=10s",
                  "--concurrent-horizontal-pod-autoscaler-syncs=8", "--kube-api-qps=50.5", "--kube-api-burst=100",
                  "--leader-elect-lease-duration=30s", "--leader-elect-renew-deadline=20s",
                  "--leader-elect-retry-period=5s", "--leader-elect-resource-name=my-hpad",
                  "--leader-elect-resource-namespace=hpad-system", "--bind-address=127.0.0.1", "--port=0", "-v",
                  "4"});
  INFO(f.output);
  REQUIRE(f.action == DaemonFlags::Action::kRun);
  const auto& o = f.options;
  CHECK(o.kubeconfig == "/tmp/kc");
  CHECK(o.master == "https://10.0.0.1:6443");
  CHECK(o.context == "dev");
  CHECK(o.controller.sync_period == 30s);
  CHECK(o.controller.tolerance == Approx(0.2));
  CHECK(o.controller.downscale_stabilization == 90s);
  CHECK(o.controller.cpu_initialization_period == 2min);
  CHECK(o.controller.initial_readiness_delay == 10s);
  CHECK(o.controller.concurrent_syncs == 8);
  CHECK(o.kube_api_qps == Approx(50.5));
  CHECK(o.kube_api_burst == 100);
  CHECK(o.lease_duration == 30s);
  CHECK(o.renew_deadline == 20s);
  CHECK(o.retry_period == 5s);
  CHECK(o.lease_name == "my-hpad");
  CHECK(o.lease_namespace == "hpad-system");
  CHECK(o.bind_address == "127.0.0.1");
  CHECK(o.port == 0);
  CHECK(o.verbosity == 4);
  CHECK(o.controller_flags.size() == 6);
  CHECK(o.controller_flags.at("horizontal-pod-autoscaler-sync-period") == "30s");
}

TEST_CASE("daemon flags: booleans and verbosity take pflag/klog spellings", "[daemon][flags]") {
  CHECK_FALSE(Parse({"--leader-elect=false"}).options.leader_elect);
  CHECK(Parse({"--leader-elect=true"}).options.leader_elect);
  CHECK(Parse({"--leader-elect"}).options.leader_elect);
  CHECK(Parse({"--v=3"}).options.verbosity == 3);
  CHECK(Parse({"-v", "2"}).options.verbosity == 2);
  CHECK(Parse({"--bind-address=::1"}).options.bind_address == "::1");
}

TEST_CASE("daemon flags: --scale-from-cache defaults on in the daemon (off in ControllerOptions)", "[daemon][flags]") {
  CHECK(Parse({}).options.controller.scale_from_cache);
  CHECK_FALSE(Parse({"--scale-from-cache=false"}).options.controller.scale_from_cache);
  CHECK(Parse({"--scale-from-cache"}).options.controller.scale_from_cache);
  CHECK_FALSE(ControllerOptions{}.scale_from_cache);  // the scenario runner reads scales with GET
  CHECK_FALSE(ParseControllerOptions({{"scale-from-cache", "true"}}).ok());  // not a scenario flag
}

TEST_CASE("daemon flags: feature gates reach the controller options (13.3)", "[daemon][flags]") {
  auto f = Parse({"--feature-gates=HPAScaleToZero=true"});
  INFO(f.output);
  REQUIRE(f.action == DaemonFlags::Action::kRun);
  CHECK(f.options.controller.GateEnabled("HPAScaleToZero"));
  CHECK_FALSE(Parse({}).options.controller.GateEnabled("HPAScaleToZero"));
  CHECK(f.options.unknown_feature_gates.empty());
  // KCM-wide gates copied from a KCM command line are accepted and reported.
  auto other = Parse({"--feature-gates=HPAScaleToZero=true,SomeKCMGate=false"});
  REQUIRE(other.action == DaemonFlags::Action::kRun);
  CHECK(other.options.unknown_feature_gates == std::vector<std::string>{"SomeKCMGate"});
}

TEST_CASE("daemon flags: bad values are refused naming the flag", "[daemon][flags]") {
  struct Case {
    std::vector<std::string> args;
    std::string flag;  // must appear in the message
  };
  const std::vector<Case> cases = {
      {{"--horizontal-pod-autoscaler-sync-period=fast"}, "horizontal-pod-autoscaler-sync-period"},
      {{"--horizontal-pod-autoscaler-sync-period=15"}, "horizontal-pod-autoscaler-sync-period"},  // no unit
      {{"--horizontal-pod-autoscaler-tolerance=abc"}, "horizontal-pod-autoscaler-tolerance"},
      {{"--horizontal-pod-autoscaler-downscale-stabilization=5x"}, "horizontal-pod-autoscaler-downscale-stabilization"},
      {{"--horizontal-pod-autoscaler-cpu-initialization-period=-"}, "horizontal-pod-autoscaler-cpu-initialization-period"},
      {{"--horizontal-pod-autoscaler-initial-readiness-delay=soon"}, "horizontal-pod-autoscaler-initial-readiness-delay"},
      {{"--concurrent-horizontal-pod-autoscaler-syncs=many"}, "concurrent-horizontal-pod-autoscaler-syncs"},
      {{"--feature-gates=HPAScaleToZero=maybe"}, "feature-gates"},
      {{"--feature-gates=HPAScaleToZero"}, "feature-gates"},
      {{"--kube-api-qps=0"}, "kube-api-qps"},
      {{"--kube-api-qps=lots"}, "kube-api-qps"},
      {{"--kube-api-burst=0"}, "kube-api-burst"},
      {{"--kube-api-burst=1.5"}, "kube-api-burst"},
      {{"--leader-elect=maybe"}, "leader-elect"},
      {{"--leader-elect-lease-duration=0s"}, "leader-elect-lease-duration"},
      {{"--leader-elect-lease-duration=15"}, "leader-elect-lease-duration"},
      {{"--leader-elect-lease-duration=10s"}, "leader-elect-lease-duration"},  // not > renew deadline 10s
      {{"--leader-elect-renew-deadline=2s"}, "leader-elect-renew-deadline"},   // not > 1.2 x retry 2s
      {{"--leader-elect-retry-period=-1s"}, "leader-elect-retry-period"},
      {{"--leader-elect-resource-name=Bad_Name"}, "leader-elect-resource-name"},
      {{"--leader-elect-resource-namespace=a.b"}, "leader-elect-resource-namespace"},
      {{"--leader-elect-resource-lock=endpoints"}, "leader-elect-resource-lock"},
      {{"--bind-address=localhost:80"}, "bind-address"},
      {{"--port=70000"}, "port"},
      {{"--port=http"}, "port"},
      {{"-v", "loud"}, "v"},
      {{"--v=-1"}, "v"},
      {{"--no-such-flag=1"}, "no-such-flag"},
      {{"stray-positional"}, "stray-positional"},
  };
  for (const auto& c : cases) {
    auto f = Parse(c.args);
    INFO(c.args.front() << " -> " << f.output);
    CHECK(f.action == DaemonFlags::Action::kError);
    CHECK(f.exit_code != 0);
    CHECK(f.output.find(c.flag) != std::string::npos);
  }
}

TEST_CASE("daemon flags: lease timing checks apply only with leader election on", "[daemon][flags]") {
  auto f = Parse({"--leader-elect=false", "--leader-elect-lease-duration=5s"});
  INFO(f.output);
  CHECK(f.action == DaemonFlags::Action::kRun);
  CHECK(f.options.lease_duration == 5s);
}

TEST_CASE("daemon flags: --help lists every KCM flag, --version prints the version", "[daemon][flags]") {
  auto help = Parse({"--help"});
  REQUIRE(help.action == DaemonFlags::Action::kExit);
  CHECK(help.exit_code == 0);
  for (const auto& name : ControllerFlagNames()) CHECK(help.output.find("--" + name) != std::string::npos);
  for (const char* name : {"--kubeconfig", "--master", "--context", "--kube-api-qps", "--kube-api-burst",
                           "--leader-elect", "--leader-elect-lease-duration", "--leader-elect-renew-deadline",
                           "--leader-elect-retry-period", "--leader-elect-resource-name",
                           "--leader-elect-resource-namespace", "--bind-address", "--port", "--version"}) {
    CHECK(help.output.find(name) != std::string::npos);
  }
  auto version = Parse({"--version"});
  REQUIRE(version.action == DaemonFlags::Action::kExit);
  CHECK(version.output.find(Version()) != std::string::npos);
}

}  // namespace
}  // namespace hpad::ctrl
