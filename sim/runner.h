// ScenarioRunner: runs one scenario in virtual time (scenario-format.md
// "Running"; architecture.md "The simulator").
//
// It builds the cluster (ClusterState loaded with the scenario's objects),
// serves it over loopback plain HTTP (ApiServer), and runs the real
// controller in-process (sim::ControllerDriver over ctrl::ControllerWiring)
// on a SimulatedClock,
// talking to the server through a RestApiClient with its own User-Agent so
// its writes can be counted for `expectWrites`. The virtual clock moves from
// event to event: sync ticks (0, P, 2P, ...), step times, workload pod
// transitions and metric refreshes. At one instant the order is: the step's
// changes and faults, then workload updates (pod transitions, then pod
// count, then the metrics sample), then the controller's sync if it is a
// tick (and the pod count after it: a replica change takes effect at that
// instant), then the step's expectations. A step that creates an HPA or
// changes its spec (generation) also triggers a sync at its instant, as the
// daemon's informer queues such keys at once (rules Q3, Q4); the controller
// entry point reconciles every HPA then (SyncAllNow), and ticks stay at
// multiples of the period.
//
// Ownership: a runner owns everything it builds and tears it down before
// Run() returns. One Run() per runner; not thread-safe.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "sim/scenario.h"
#include "sim/timeline.h"

namespace hpad::sim {

struct RunOptions {
  bool verbose = false;
};

// The User-Agent of the in-process controller (writes are counted by it).
inline constexpr const char* kSimControllerUserAgent = "hpad-sim-controller";

// The scenario's `controller:` flags ("the daemon's own flags, without
// leading dashes"): those of the controller (ctrl::ParseControllerOptions,
// incl. feature-gates) and the other flags of the daemon (kube-api-qps,
// leader-elect, v, ...: checked with the daemon's flag table,
// ctrl::ParseDaemonOptions, accepted, and without effect in a virtual-time run). Errors name `controller.<flag>`.
struct ControllerFlagSplit {
  std::map<std::string, std::string> controller;
  std::map<std::string, std::string> daemon;
  std::vector<ScenarioError> errors;
};
ControllerFlagSplit SplitControllerFlags(const Scenario& scenario);
std::vector<ScenarioError> ValidateControllerFlags(const Scenario& scenario);

class ScenarioRunner {
 public:
  ScenarioRunner(Scenario scenario, RunOptions options = {});
  RunResult Run();

 private:
  Scenario scenario_;
  RunOptions options_;
};

}  // namespace hpad::sim
