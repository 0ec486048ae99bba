// The flag table of hpad: every command-line flag of the daemon (name,
// default text, type, help group, help text) and the one parser from
// "long name -> text" to DaemonOptions. No CLI11 here: the daemon's
// command line (controller/daemon/flags.cc, CLI11) registers its options
// from this table and hands what was given to ParseDaemonOptions; the
// scenario runner (sim/runner.cc) checks a scenario's `controller:` section
// with the same parser, without linking the daemon.
//
// Names and defaults follow kube-controller-manager (hpa-semantics.md 13.2);
// the controller flags themselves go through ParseControllerOptions (the
// same table rows with `controller = true`). Every refusal has one shape:
// `invalid value "x" for flag --name: why` (or `unknown flag --name`).
//
// Pure functions over constant data; thread-safe.
#pragma once

#include <chrono>
#include <map>
#include <string>
#include <vector>

#include "controller/horizontal_controller.h"
#include "k8sclient/base/status.h"

namespace hpad::ctrl {

struct FlagInfo {
  std::string name{};          // long name without dashes ("v" is also -v)
  std::string default_text{};  // as --help shows it; "" = none
  std::string type{};          // --help placeholder: DURATION, FLOAT, INT, ...
  std::string group{};         // --help section
  std::string help{};
  bool is_bool = false;        // pflag bool: `--name` or `--name=false`
  bool controller = false;     // a controller flag (ParseControllerOptions)
};

// Every flag, in --help order.
const std::vector<FlagInfo>& DaemonFlagTable();

struct DaemonOptions {
  // Where the API server is (precedence in daemon/config.h).
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

  // Issue 12: --dry-run/--shadow (also sets controller.dry_run) and
  // --debug-endpoints (controller.keep_traces follows either).
  bool dry_run = false;
  bool debug_endpoints = true;

  // The controller's own flags after ParseControllerOptions.
  ControllerOptions controller;
  // The controller flags exactly as given (long name without dashes -> text), for the startup log.
  std::map<std::string, std::string> controller_flags;
  // --feature-gates names hpad does not know. KCM's gate list is shared by
  // all its controllers, so copied flags may carry gates irrelevant to HPAs:
  // accepted and logged as ignored rather than refused.
  std::vector<std::string> unknown_feature_gates;
};

// `given`: the flags that were set (long name without dashes -> text; a
// boolean as "true"/"false" or any of Go's strconv.ParseBool spellings);
// every other flag takes its default. The first error names its flag.
Result<DaemonOptions> ParseDaemonOptions(const std::map<std::string, std::string>& given);

// The feature gates the HPA controller reads (feature_gates.h).
const std::vector<std::string>& KnownFeatureGates();

// The controller flags (long names without dashes), in help order.
const std::vector<std::string>& ControllerFlagNames();

}  // namespace hpad::ctrl
