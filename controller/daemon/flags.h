// Daemon flags: the command line of `hpad`, parsed and validated up front.
//
// Names and defaults follow kube-controller-manager (KCM) so operators can
// move flags over unchanged (hpa-semantics.md 13.2, issue 6). The flags,
// their defaults and the validation are the CLI11-free table of
// controller/flag_table.h (shared with the scenario `controller:` section);
// this layer only tokenises the command line and prints --help/--version. Syntax is pflag's: `--flag=value` or
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

#include "controller/flag_table.h"

namespace hpad::ctrl {

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

}  // namespace hpad::ctrl
