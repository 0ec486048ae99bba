// The flag table and its parser (see flag_table.h).
#include "controller/flag_table.h"
#include "k8sclient/base/strings.h"

#include <arpa/inet.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <optional>

#include "controller/feature_gates.h"
#include "k8sclient/api/quantity.h"

namespace hpad::ctrl {
namespace {

std::string Invalid(const std::string& flag, const std::string& value, const std::string& why) {
  return "invalid value \"" + value + "\" for flag --" + flag + ": " + why;
}

// Go's strconv.ParseInt (pflag's int flags), as an optional.
std::optional<long long> ParseInt(const std::string& s) {
  auto v = ParseInt64(s);
  if (!v.ok()) return std::nullopt;
  return *v;
}

std::optional<double> ParseDouble(const std::string& s) {
  double v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size() || s.empty() || !std::isfinite(v)) return std::nullopt;
  return v;
}

// Go's strconv.ParseBool (pflag's bool flags), as an optional.
std::optional<bool> ParseGoBool(const std::string& s) {
  auto b = ParseBool(s);
  if (!b.ok()) return std::nullopt;
  return *b;
}

// RFC 1123 subdomain (lease names) / label (namespaces): lower-case
// alphanumerics, '-' (and '.' for subdomains), alphanumeric at both ends.
bool IsDnsName(const std::string& s, bool allow_dots, size_t max_len) {
  if (s.empty() || s.size() > max_len) return false;
  auto alnum = [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); };
  if (!alnum(s.front()) || !alnum(s.back())) return false;
  return std::all_of(s.begin(), s.end(), [&](char c) { return alnum(c) || c == '-' || (allow_dots && c == '.'); });
}

// Parses a positive Go duration into `out`, or returns the error text.
std::optional<std::string> ParsePositiveDuration(const std::string& flag, const std::string& text,
                                                 std::chrono::nanoseconds* out) {
  auto d = k8s::ParseGoDuration(text);
  if (!d.ok()) return Invalid(flag, text, d.status().message());
  if (d->count() <= 0) return Invalid(flag, text, "must be greater than zero");
  *out = *d;
  return std::nullopt;
}

// The --feature-gates help: every gate of the one table with its default.
std::string FeatureGatesHelp() {
  std::string help = "A set of key=value pairs that describe feature gates:";
  for (const auto& g : kFeatureGates) {
    help += std::string(" ") + std::string(g.name) + "=" + (g.default_enabled ? "true" : "false") + " (" +
            std::string(StageText(g.stage)) + ")" + (&g == &kFeatureGates.back() ? "." : ",");
  }
  return help;
}

}  // namespace

const std::vector<FlagInfo>& DaemonFlagTable() {
  static const std::vector<FlagInfo> table = [] {
    const std::string conn = "Connection", controller_group = "Controller", le = "Leader election", serving = "Serving",
                      logging = "Logging";
    std::vector<FlagInfo> t = {
        {.name = "kubeconfig", .type = "FILE", .group = conn,
         .help = "Path to a kubeconfig file. Precedence: --kubeconfig, $KUBECONFIG, in-cluster service account, "
                 "~/.kube/config."},
        {.name = "master", .type = "URL", .group = conn,
         .help = "The address of the Kubernetes API server (overrides any value in kubeconfig)."},
        {.name = "context", .type = "NAME", .group = conn,
         .help = "The kubeconfig context to use (default: its current-context)."},
        {.name = "kube-api-qps", .default_text = "20", .type = "FLOAT", .group = conn,
         .help = "QPS to use while talking with the Kubernetes API server. As in kube-controller-manager, each "
                 "client has its own limit: informers, the HPA client (status writes, events, discovery), scale, "
                 "and each of the resource, custom and external metrics APIs."},
        {.name = "kube-api-burst", .default_text = "30", .type = "INT", .group = conn,
         .help = "Burst to use while talking with the Kubernetes API server (per client, as --kube-api-qps)."},
        {.name = "horizontal-pod-autoscaler-sync-period", .default_text = "15s", .type = "DURATION", .group = controller_group,
         .help = "The period for syncing the number of pods in horizontal pod autoscaler.", .controller = true},
        {.name = "horizontal-pod-autoscaler-tolerance", .default_text = "0.1", .type = "FLOAT", .group = controller_group,
         .help = "The minimum change (from 1.0) in the desired-to-actual metrics ratio for the horizontal pod "
                 "autoscaler to consider scaling.",
         .controller = true},
        {.name = "horizontal-pod-autoscaler-downscale-stabilization", .default_text = "5m", .type = "DURATION",
         .group = controller_group,
         .help = "The period for which autoscaler will look backwards and not scale down below any recommendation "
                 "it made during that period.",
         .controller = true},
        {.name = "horizontal-pod-autoscaler-cpu-initialization-period", .default_text = "5m", .type = "DURATION",
         .group = controller_group, .help = "The period after pod start when CPU samples might be skipped.", .controller = true},
        {.name = "horizontal-pod-autoscaler-initial-readiness-delay", .default_text = "30s", .type = "DURATION",
         .group = controller_group,
         .help = "The period after pod start during which readiness changes will be treated as initial readiness.",
         .controller = true},
        {.name = "concurrent-horizontal-pod-autoscaler-syncs", .default_text = "5", .type = "INT", .group = controller_group,
         .help = "The number of horizontal pod autoscaler objects that are allowed to sync concurrently.",
         .controller = true},
        {.name = "feature-gates", .type = "GATE=BOOL,...", .group = controller_group, .help = FeatureGatesHelp(),
         .controller = true},
        {.name = "scale-from-cache", .default_text = "true", .group = controller_group,
         .help = "Read the scale of apps/v1 Deployments, StatefulSets and ReplicaSets from watches on those kinds "
                 "instead of one GET of the scale subresource per HPA per sync period (needs list/watch on them; "
                 "other targets are read with GET). --scale-from-cache=false reads every scale with GET.",
         .is_bool = true},
        {.name = "persist-history", .default_text = "true", .group = controller_group,
         .help = "Keep each HPA's scale events and recommendation windows in ConfigMaps hpad-history-NN in the "
                 "--leader-elect-resource-namespace, so behavior policies and stabilization windows survive a "
                 "restart or a leader change (hpad only; --persist-history=false forgets them as "
                 "kube-controller-manager does).",
         .is_bool = true},
        {.name = "dry-run", .default_text = "false", .group = controller_group,
         .help = "Shadow mode (issue 12): run the whole controller but write nothing - no scale, no status, no "
                 "events, and no Lease unless --leader-elect is given explicitly; compare each decision with the "
                 "status the controller in charge wrote (hpad_shadow_* metrics, one log line per disagreement).",
         .is_bool = true},
        {.name = "shadow", .default_text = "false", .group = controller_group, .help = "Same as --dry-run.",
         .is_bool = true},
        {.name = "debug-endpoints", .default_text = "true", .group = controller_group,
         .help = "Serve /debug/hpas and /debug/hpas/<namespace>/<name> (the last decision trace of every HPA) on "
                 "the health/metrics port. --debug-endpoints=false turns them off and keeps no traces.",
         .is_bool = true},
        {.name = "leader-elect", .default_text = "true", .group = le,
         .help = "Start a leader election client and gain leadership before running the controller (use "
                 "--leader-elect=false to disable).",
         .is_bool = true},
        {.name = "leader-elect-lease-duration", .default_text = "15s", .type = "DURATION", .group = le,
         .help = "How long non-leader candidates wait after observing a renewal before trying to take the lease."},
        {.name = "leader-elect-renew-deadline", .default_text = "10s", .type = "DURATION", .group = le,
         .help = "How long the leader keeps trying to renew before it stops leading."},
        {.name = "leader-elect-retry-period", .default_text = "2s", .type = "DURATION", .group = le,
         .help = "How long clients wait between attempts to acquire and renew the lease."},
        {.name = "leader-elect-resource-name", .default_text = "hpad", .type = "NAME", .group = le,
         .help = "The name of the Lease object used for locking."},
        {.name = "leader-elect-resource-namespace", .default_text = "kube-system", .type = "NAMESPACE", .group = le,
         .help = "The namespace of the Lease object used for locking."},
        // Accepted for KCM compatibility; a Lease is the only lock hpad uses.
        {.name = "leader-elect-resource-lock", .default_text = "leases", .type = "LOCK", .group = le,
         .help = "The lock type; only \"leases\" is supported."},
        {.name = "bind-address", .default_text = "0.0.0.0", .type = "IP", .group = serving,
         .help = "The IP address on which to serve /healthz, /livez, /readyz and /metrics (plain HTTP)."},
        {.name = "port", .default_text = "10257", .type = "PORT", .group = serving,
         .help = "The port for /healthz, /livez, /readyz and /metrics; 0 picks a free port."},
        {.name = "v", .default_text = "0", .type = "LEVEL", .group = logging,
         .help = "Log level verbosity (klog): 0 changes only, 2 every reconcile, 4 requests."},
    };
    return t;
  }();
  return table;
}

Result<DaemonOptions> ParseDaemonOptions(const std::map<std::string, std::string>& given) {
  // Unknown names first, so a typo is reported as such.
  std::map<std::string, std::string> text;
  std::map<std::string, std::string> controller;
  for (const auto& f : DaemonFlagTable()) text[f.name] = f.default_text;
  for (const auto& [name, value] : given) {
    auto it = std::find_if(DaemonFlagTable().begin(), DaemonFlagTable().end(),
                           [&given_name = name](const FlagInfo& f) { return f.name == given_name; });
    if (it == DaemonFlagTable().end()) return InvalidError("unknown flag --" + name);
    text[name] = value;
    if (it->controller) controller[name] = value;
  }
  auto flag_bool = [&](const std::string& name, bool* out) -> std::optional<std::string> {
    auto b = ParseGoBool(text[name]);
    if (!b) return Invalid(name, text[name], "not a boolean");
    *out = *b;
    return std::nullopt;
  };
  auto fail = [](const std::string& msg) -> Result<DaemonOptions> { return InvalidError(msg); };

  DaemonOptions o;
  o.kubeconfig = text["kubeconfig"];
  o.master = text["master"];
  o.context = text["context"];

  const std::string& qps_text = text["kube-api-qps"];
  auto qps = ParseDouble(qps_text);
  if (!qps) return fail(Invalid("kube-api-qps", qps_text, "not a number"));
  if (*qps <= 0) return fail(Invalid("kube-api-qps", qps_text, "must be greater than zero"));
  o.kube_api_qps = *qps;
  const std::string& burst_text = text["kube-api-burst"];
  auto burst = ParseInt(burst_text);
  if (!burst) return fail(Invalid("kube-api-burst", burst_text, "not an integer"));
  // client-go refuses a rate limiter with QPS > 0 and no burst.
  if (*burst < 1 || *burst > 1000000)
    return fail(Invalid("kube-api-burst", burst_text, "must be between 1 and 1000000"));
  o.kube_api_burst = static_cast<int>(*burst);

  if (auto e = flag_bool("leader-elect", &o.leader_elect)) return fail(*e);
  const std::string& lease_duration = text["leader-elect-lease-duration"];
  const std::string& renew_deadline = text["leader-elect-renew-deadline"];
  const std::string& retry_period = text["leader-elect-retry-period"];
  if (auto e = ParsePositiveDuration("leader-elect-lease-duration", lease_duration, &o.lease_duration)) return fail(*e);
  if (auto e = ParsePositiveDuration("leader-elect-renew-deadline", renew_deadline, &o.renew_deadline)) return fail(*e);
  if (auto e = ParsePositiveDuration("leader-elect-retry-period", retry_period, &o.retry_period)) return fail(*e);
  if (o.leader_elect) {
    // client-go NewLeaderElector's checks, so a setting KCM would refuse is refused here too.
    if (o.lease_duration <= o.renew_deadline)
      return fail(Invalid("leader-elect-lease-duration", lease_duration,
                          "must be greater than --leader-elect-renew-deadline (" + renew_deadline + ")"));
    // JitterFactor 1.2: a renew attempt may start up to 1.2 retry periods late.
    if (o.renew_deadline.count() <= 1.2 * static_cast<double>(o.retry_period.count()))
      return fail(Invalid("leader-elect-renew-deadline", renew_deadline,
                          "must be greater than 1.2 x --leader-elect-retry-period (" + retry_period + ")"));
  }
  o.lease_name = text["leader-elect-resource-name"];
  o.lease_namespace = text["leader-elect-resource-namespace"];
  if (!IsDnsName(o.lease_name, /*allow_dots=*/true, 253))
    return fail(Invalid("leader-elect-resource-name", o.lease_name, "must be a lower-case RFC 1123 subdomain"));
  if (!IsDnsName(o.lease_namespace, /*allow_dots=*/false, 63))
    return fail(Invalid("leader-elect-resource-namespace", o.lease_namespace, "must be a lower-case RFC 1123 label"));
  if (text["leader-elect-resource-lock"] != "leases")
    return fail(Invalid("leader-elect-resource-lock", text["leader-elect-resource-lock"],
                        "only \"leases\" is supported"));

  o.bind_address = text["bind-address"];
  unsigned char buf[16];
  if (inet_pton(AF_INET, o.bind_address.c_str(), buf) != 1 && inet_pton(AF_INET6, o.bind_address.c_str(), buf) != 1)
    return fail(Invalid("bind-address", o.bind_address, "not an IPv4 or IPv6 address"));
  auto port = ParseInt(text["port"]);
  if (!port || *port < 0 || *port > 65535)
    return fail(Invalid("port", text["port"], "must be a port number 0-65535 (0: any free port)"));
  o.port = static_cast<int>(*port);

  auto v = ParseInt(text["v"]);
  if (!v || *v < 0 || *v > 10) return fail(Invalid("v", text["v"], "must be an integer 0-10"));
  o.verbosity = static_cast<int>(*v);

  o.controller_flags = controller;
  auto ctrl = ParseControllerOptions(controller);
  if (!ctrl.ok()) return ctrl.status();
  o.controller = *ctrl;
  if (auto e = flag_bool("scale-from-cache", &o.controller.scale_from_cache)) return fail(*e);
  if (auto e = flag_bool("persist-history", &o.controller.persist_history)) return fail(*e);
  o.controller.history_namespace = o.lease_namespace;  // issue 13: next to the Lease
  // Issue 12: shadow mode and the debug endpoints.
  bool dry_run = false, shadow = false;
  if (auto e = flag_bool("dry-run", &dry_run)) return fail(*e);
  if (auto e = flag_bool("shadow", &shadow)) return fail(*e);
  if (auto e = flag_bool("debug-endpoints", &o.debug_endpoints)) return fail(*e);
  o.dry_run = dry_run || shadow;
  o.controller.dry_run = o.dry_run;
  o.controller.keep_traces = o.debug_endpoints || o.dry_run;
  // A shadow writes nothing, the persisted history (issue 13) included.
  if (o.dry_run) o.controller.persist_history = false;
  // A shadow takes no Lease unless asked to: it must not contend with the
  // controller in charge (another hpad) for its lease.
  if (o.dry_run && given.count("leader-elect") == 0) o.leader_elect = false;
  const auto& known = KnownFeatureGates();
  for (const auto& [gate, on] : o.controller.feature_gates)
    if (std::find(known.begin(), known.end(), gate) == known.end()) o.unknown_feature_gates.push_back(gate);
  return o;
}

const std::vector<std::string>& KnownFeatureGates() {
  static const std::vector<std::string> gates = [] {
    std::vector<std::string> names;
    for (const auto& g : kFeatureGates) names.emplace_back(g.name);
    return names;
  }();
  return gates;
}

const std::vector<std::string>& ControllerFlagNames() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> n;
    for (const auto& f : DaemonFlagTable())
      if (f.controller) n.push_back(f.name);
    return n;
  }();
  return names;
}

}  // namespace hpad::ctrl
