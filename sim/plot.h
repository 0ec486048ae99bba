// Plot: an SVG of one scenario run (`hpad-sim run --plot FILE.svg`): for
// the first HPA, replicas (current, desired) and its first metric against
// the target over time. Hand-written SVG, no dependencies. Pure; thread-safe.
#pragma once

#include <string>

#include "sim/timeline.h"

namespace hpad::sim {

// The SVG document; `hpa` picks the HPA ("ns/name"), "" = the first one.
std::string PlotSvg(const RunResult& result, const std::string& hpa = "");

}  // namespace hpad::sim
