// Explain (issue 12): decide now, without writing, for chosen HPAs and
// return their decision traces - the engine behind `hpad explain` and
// `kubectl hpad explain`.
//
// It builds the same ControllerWiring the daemon uses with
// ControllerOptions::dry_run and keep_traces, lists HPAs and pods once (GET
// and LIST only: no watch, no write, no event, no Lease) and runs one
// reconcile per HPA: the decision is the controller's own code path. Out of
// cluster there is no in-memory history, so each trace says it was decided
// as a freshly started controller would (H2: the only recommendation is the
// current count).
//
// Ownership: borrows nothing past the call; shares the ApiClient.
// Thread-safety: reentrant.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "controller/core/decision_trace.h"
#include "controller/horizontal_controller.h"
#include "k8sclient/api_client.h"
#include "k8sclient/base/clock.h"
#include "k8sclient/base/status.h"
#include "k8sclient/api/types/hpa.h"

namespace hpad::ctrl {

struct ExplainRequest {
  std::string ns{};              // "" with all_namespaces
  std::string name{};            // "" = every HPA of ns (or of every namespace)
  bool all_namespaces = false;
};

// Kept out of the trace text: the note every explain trace carries.
inline constexpr const char* kNoHistoryNote =
    "none out of cluster: decided as a freshly started controller would (no stabilization history); "
    "use --from URL of a running hpad for its live history";

// One HPA explained: the trace and the status the controller in charge
// last wrote (for --compare).
struct ExplainedHpa {
  std::shared_ptr<const DecisionTrace> trace{};
  k8s::HpaStatus written_status{};
};

// NotFound when a named HPA does not exist; the API error (with what was
// being listed) when listing fails.
Result<std::vector<ExplainedHpa>> ExplainNow(ControllerOptions options,
                                                                     std::shared_ptr<k8s::ApiClient> client,
                                                                     const ExplainRequest& request,
                                                                     const Clock& clock);

}  // namespace hpad::ctrl
