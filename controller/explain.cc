// See explain.h.
#include "controller/explain.h"

#include <algorithm>
#include <map>

#include "controller/wiring.h"

namespace hpad::ctrl {

Result<std::vector<ExplainedHpa>> ExplainNow(ControllerOptions options,
                                                                     std::shared_ptr<k8s::ApiClient> client,
                                                                     const ExplainRequest& request,
                                                                     const Clock& clock) {
  options.dry_run = true;
  options.keep_traces = true;
  options.work_queue = false;       // nothing queued: one reconcile per HPA below
  options.scale_from_cache = false;  // a GET per scale, no apps watches
  NullMonitor monitor;
  ControllerWiring wiring(std::move(options), client, monitor, clock);
  Status listed = wiring.Relist();
  if (!listed.ok()) return listed;
  std::vector<std::string> keys;
  std::map<std::string, k8s::HpaStatus> written;
  for (const auto& hpa : wiring.hpa_informer().Store().List()) {
    if (!request.all_namespaces && hpa->metadata.ns != request.ns) continue;
    if (!request.name.empty() && hpa->metadata.name != request.name) continue;
    keys.push_back(hpa->metadata.ns + "/" + hpa->metadata.name);
    written[keys.back()] = hpa->status;
  }
  if (!request.name.empty() && keys.empty()) {
    return Status(StatusCode::kNotFound, "horizontalpodautoscaler \"" + request.name + "\" not found in namespace \"" +
                                             request.ns + "\"");
  }
  std::sort(keys.begin(), keys.end());
  std::vector<ExplainedHpa> out;
  const Time now = clock.Now();
  for (const auto& key : keys) {
    wiring.controller().ReconcileKey(key, now);
    auto trace = wiring.controller().reconciler().TraceFor(key);
    if (!trace) continue;  // deleted meanwhile (R1)
    auto copy = std::make_shared<DecisionTrace>(*trace);
    copy->history_note = kNoHistoryNote;
    out.push_back(ExplainedHpa{std::move(copy), written[key]});
  }
  return out;
}

}  // namespace hpad::ctrl
