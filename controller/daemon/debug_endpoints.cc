// See debug_endpoints.h.
#include "controller/daemon/debug_endpoints.h"

#include "k8sclient/api/time_format.h"

namespace hpad::ctrl {
namespace {

HttpReply Json(int status, const nlohmann::json& j) { return HttpReply{status, j.dump(2) + "\n", "application/json"}; }

HttpReply NotFound(const std::string& what) { return Json(404, {{"error", what}}); }

}  // namespace

HttpReply ServeDebugHpas(const HpaReconciler& reconciler, const std::string& path) {
  const std::string base = kDebugHpasPath;
  std::string rest = path.size() > base.size() ? path.substr(base.size()) : "";
  while (!rest.empty() && rest.back() == '/') rest.pop_back();
  if (rest.empty()) {
    nlohmann::json items = nlohmann::json::array();
    for (const auto& t : reconciler.Traces()) {
      std::string winning;
      if (t->winning_metric >= 0 && static_cast<size_t>(t->winning_metric) < t->metrics.size())
        winning = t->metrics[static_cast<size_t>(t->winning_metric)].name;
      items.push_back({{"namespace", t->ns},
                       {"name", t->name},
                       {"lastReconcile", k8s::FormatRfc3339(t->time)},
                       {"currentReplicas", t->current_replicas},
                       {"desiredReplicas", t->desired_replicas},
                       {"winningMetric", winning},
                       {"error", !t->error.empty() ? t->error : t->metrics_error},
                       {"summary", TraceSummary(*t)}});
    }
    return Json(200, {{"items", std::move(items)}});
  }
  // "/<ns>/<name>": names are DNS labels/subdomains, never containing '/'.
  if (rest[0] != '/') return NotFound("no such debug path: " + path);
  const std::string key = rest.substr(1);
  const auto slash = key.find('/');
  if (slash == std::string::npos || slash == 0 || slash + 1 == key.size() ||
      key.find('/', slash + 1) != std::string::npos) {
    return NotFound("expected /debug/hpas/<namespace>/<name>, got " + path.substr(0, 256));
  }
  auto trace = reconciler.TraceFor(key);
  if (!trace) return NotFound("no decision trace for HPA " + key.substr(0, 256) + " (not reconciled yet, or unknown)");
  // Issue 16: pod tables are kept for a bounded set of HPAs, the ones
  // people asked about among them: from its next reconcile on, this one's.
  reconciler.AskPodTables(key);
  nlohmann::json j = TraceToJson(*trace);
  j["history"] = "live: this controller's in-memory history";
  return Json(200, j);
}

}  // namespace hpad::ctrl
