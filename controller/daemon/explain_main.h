// `hpad explain` and `kubectl hpad explain` (issue 12): the command line
// over ExplainNow (controller/explain.h) and the daemon's /debug/hpas.
//
//   explain [-n NS] NAME | -n NS --all | -A   [-o text|json|yaml] [--compare]
//           [--from URL] [--kubeconfig F] [--context C] [--master URL]
//           [--horizontal-pod-autoscaler-*=... --feature-gates=...]
//
// Connects like `hpad` (config.h precedence), reads only (GET/LIST, User-
// Agent hpad-explain/<version>), and prints for each HPA a summary line then
// the trace's sections; -o json|yaml print the trace as data (one object for
// NAME, {"items": [...]} otherwise). --compare prints the agreement table of
// hpad's decisions against the statuses the controller in charge wrote.
// --from reads a running hpad's /debug/hpas instead (its live history).
// Errors are one line on `err` and a non-zero exit (1: runtime, 2: usage).
//
// Reentrant; the only process-wide state touched is the log verbosity.
#pragma once

#include <ostream>
#include <string>
#include <vector>

#include "nlohmann/json.hpp"

namespace hpad::ctrl {

// `args` excludes the program name and the word "explain".
int RunExplain(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);

// JSON as block YAML (strings double-quoted, which YAML reads as JSON does).
std::string JsonToYamlText(const nlohmann::json& j);

}  // namespace hpad::ctrl
