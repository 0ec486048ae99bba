// /debug/hpas (issue 12): the daemon's live decision traces over HTTP.
//   /debug/hpas              {"items": [{namespace, name, lastReconcile,
//                            currentReplicas, desiredReplicas, winningMetric,
//                            error, summary}, ...]} for every HPA with a trace
//   /debug/hpas/<ns>/<name>  the last full trace (TraceToJson), including the
//                            live stabilisation history and policy periods;
//                            pod tables only for a bounded set of HPAs
//                            (trace_keeper.h): otherwise "podTablesOmitted",
//                            and asking keeps them from the next reconcile on
// Read-only views of HpaReconciler::Traces/TraceFor (shared_ptr snapshots;
// no lock held while rendering). Thread-safe.
#pragma once

#include <string>

#include "controller/daemon/http_server.h"
#include "controller/hpa_reconciler.h"

namespace hpad::ctrl {

inline constexpr const char* kDebugHpasPath = "/debug/hpas";

HttpReply ServeDebugHpas(const HpaReconciler& reconciler, const std::string& path);

}  // namespace hpad::ctrl
