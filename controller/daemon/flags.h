// Daemon flags: the command line of `hpad`, parsed and validated up front.
//
// Names and defaults follow kube-controller-manager (KCM) so operators can
// move flags over unchanged (hpa-semantics.md 13.2, issue 6); the controller
// flags themselves are handed to ctrl::ParseControllerOptions (shared with
// the scenario `controller:` section). Syntax is pflag's: `--flag=value` or
// `--flag value`, booleans as `--leader-elect` / `--leader-elect=false`,
// durations in Go syntax ("15s", "5m", "1h30m"), verbosity `-v 4` / `--v=4`.
//
// hpad's own flags (no KCM equivalent, because KCM serves HTTPS with
// delegated authn/z and we serve plain HTTP on a separate port):
//   --bind-address (KCM name, default 0.0.0.0) and --port (default 10257):
//   where /healthz /livez /readyz /metrics are served over plain HTTP;
//   --port=0 picks a free port (the bound port is logged);
//   --scale-from-cache (default true): ControllerOptions::scale_from_cache,
//   scales of apps/v1 workloads from watches instead of a GET per HPA.
//
// ParseDaemonFlags is a pure function (no I/O, no exit()) so tests can check
// every refusal; main() prints `output` and exits with `exit_code`.
#pragma once

#include <chrono>
#include <map>
#include <string>
#include <vector>

#include "controller/horizontal_controller.h"

namespace hpad::ctrl {

struct DaemonOptions {
  // Where the API server is (precedence in daemon_config.h).
  std::string kubeconfig;
  std::string master;
  std::string context;
  double kube_api_qps = 20.0;
  int kube_api_burst = 30;

  // Leader election (client-go leaderelection semantics on a coordination.k8s.io/v1 Lease).
  bool leader_elect = true;
  std::chrono::nanoseconds lease_duration = std::chrono::seconds(15);
  std::chrono::nanoseconds renew_deadline = std::chrono::seconds(10);
  std::chrono::nanoseconds retry_period = std::chrono::seconds(2);
  // Not KCM's "kube-controller-manager": hpad must never contend for KCM's own lease.
  std::string lease_name = "hpad";
  std::string lease_namespace = "kube-system";

  // Health and metrics endpoint (plain HTTP).
  std::string bind_address = "0.0.0.0";
  int port = 10257;

  int verbosity = 0;

  // The controller's own flags after ParseControllerOptions.
  ControllerOptions controller;
  // The controller flags exactly as given (long name without dashes -> text), for the startup log.
  std::map<std::string, std::string> controller_flags;
  // --feature-gates names hpad does not know. KCM's gate list is shared by
  // all its controllers, so copied flags may carry gates irrelevant to HPAs:
  // accepted and logged as ignored rather than refused.
  std::vector<std::string> unknown_feature_gates;
};

// The feature gates the HPA controller reads (hpa-semantics.md 13.3).
const std::vector<std::string>& KnownFeatureGates();

struct DaemonFlags {
  enum class Action {
    kRun,           // options are valid: start the daemon
    kExit,          // --help / --version: print `output` to stdout, exit 0
    kError,         // bad command line: print `output` to stderr, exit `exit_code`
  };
  Action action = Action::kRun;
  DaemonOptions options;
  std::string output;
  int exit_code = 0;
};

// `args` excludes argv[0]. Every error message names the offending flag.
DaemonFlags ParseDaemonFlags(const std::vector<std::string>& args);

// The controller flags hpad accepts and forwards to ParseControllerOptions
// (long names without dashes), in help order.
const std::vector<std::string>& ControllerFlagNames();

}  // namespace hpad::ctrl
