// Daemon flag parsing (see daemon_flags.h). CLI11 does the tokenising and
// --help; values are taken as text and validated here so every refusal has
// the same shape: `invalid value "x" for flag --name: why`.
#include "controller/daemon/flags.h"

#include <arpa/inet.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <charconv>
#include <cmath>
#include <optional>

#include "controller/feature_gates.h"
#include "k8sclient/base/version.h"
#include "k8sclient/api/quantity.h"

namespace hpad::ctrl {
namespace {

std::string Invalid(const std::string& flag, const std::string& value, const std::string& why) {
  return "invalid value \"" + value + "\" for flag --" + flag + ": " + why;
}

std::optional<long long> ParseInt(const std::string& s) {
  long long v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size() || s.empty()) return std::nullopt;
  return v;
}

std::optional<double> ParseDouble(const std::string& s) {
  double v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size() || s.empty() || !std::isfinite(v)) return std::nullopt;
  return v;
}

// RFC 1123 subdomain (lease names) / label (namespaces): lower-case
// alphanumerics, '-' (and '.' for subdomains), alphanumeric at both ends.
bool IsDnsName(const std::string& s, bool allow_dots, size_t max_len) {
  if (s.empty() || s.size() > max_len) return false;
  auto alnum = [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); };
  if (!alnum(s.front()) || !alnum(s.back())) return false;
  return std::all_of(s.begin(), s.end(), [&](char c) { return alnum(c) || c == '-' || (allow_dots && c == '.'); });
}

struct Raw {
  std::string kubeconfig, master, context;
  std::string qps = "20", burst = "30";
  bool leader_elect = true;
  std::string lease_duration = "15s", renew_deadline = "10s", retry_period = "2s";
  std::string lease_name = "hpad", lease_namespace = "kube-system";
  std::string bind_address = "0.0.0.0", port = "10257";
  std::string verbosity = "0";
  bool scale_from_cache = true;
  std::map<std::string, std::string> controller;  // only flags given on the command line
};

// Parses a positive Go duration into `out`, or returns the error text.
std::optional<std::string> ParsePositiveDuration(const std::string& flag, const std::string& text,
                                                 std::chrono::nanoseconds* out) {
  auto d = k8s::ParseGoDuration(text);
  if (!d.ok()) return Invalid(flag, text, d.status().message());
  if (d->count() <= 0) return Invalid(flag, text, "must be greater than zero");
  *out = *d;
  return std::nullopt;
}

// Validates the raw text; returns the first error, naming its flag.
std::optional<std::string> Validate(const Raw& raw, DaemonOptions* o) {
  o->kubeconfig = raw.kubeconfig;
  o->master = raw.master;
  o->context = raw.context;

  auto qps = ParseDouble(raw.qps);
  if (!qps) return Invalid("kube-api-qps", raw.qps, "not a number");
  if (*qps <= 0) return Invalid("kube-api-qps", raw.qps, "must be greater than zero");
  o->kube_api_qps = *qps;
  auto burst = ParseInt(raw.burst);
  if (!burst) return Invalid("kube-api-burst", raw.burst, "not an integer");
  // client-go refuses a rate limiter with QPS > 0 and no burst.
  if (*burst < 1 || *burst > 1000000) return Invalid("kube-api-burst", raw.burst, "must be between 1 and 1000000");
  o->kube_api_burst = static_cast<int>(*burst);

  o->leader_elect = raw.leader_elect;
  if (auto e = ParsePositiveDuration("leader-elect-lease-duration", raw.lease_duration, &o->lease_duration)) return e;
  if (auto e = ParsePositiveDuration("leader-elect-renew-deadline", raw.renew_deadline, &o->renew_deadline)) return e;
  if (auto e = ParsePositiveDuration("leader-elect-retry-period", raw.retry_period, &o->retry_period)) return e;
  if (o->leader_elect) {
    // client-go NewLeaderElector's checks, so a setting KCM would refuse is refused here too.
    if (o->lease_duration <= o->renew_deadline)
      return Invalid("leader-elect-lease-duration", raw.lease_duration,
                     "must be greater than --leader-elect-renew-deadline (" + raw.renew_deadline + ")");
    // JitterFactor 1.2: a renew attempt may start up to 1.2 retry periods late.
    if (o->renew_deadline.count() <= 1.2 * static_cast<double>(o->retry_period.count()))
      return Invalid("leader-elect-renew-deadline", raw.renew_deadline,
                     "must be greater than 1.2 x --leader-elect-retry-period (" + raw.retry_period + ")");
  }
  if (!IsDnsName(raw.lease_name, /*allow_dots=*/true, 253))
    return Invalid("leader-elect-resource-name", raw.lease_name, "must be a lower-case RFC 1123 subdomain");
  if (!IsDnsName(raw.lease_namespace, /*allow_dots=*/false, 63))
    return Invalid("leader-elect-resource-namespace", raw.lease_namespace, "must be a lower-case RFC 1123 label");
  o->lease_name = raw.lease_name;
  o->lease_namespace = raw.lease_namespace;

  unsigned char buf[16];
  if (inet_pton(AF_INET, raw.bind_address.c_str(), buf) != 1 && inet_pton(AF_INET6, raw.bind_address.c_str(), buf) != 1)
    return Invalid("bind-address", raw.bind_address, "not an IPv4 or IPv6 address");
  o->bind_address = raw.bind_address;
  auto port = ParseInt(raw.port);
  if (!port || *port < 0 || *port > 65535) return Invalid("port", raw.port, "must be a port number 0-65535 (0: any free port)");
  o->port = static_cast<int>(*port);

  auto v = ParseInt(raw.verbosity);
  if (!v || *v < 0 || *v > 10) return Invalid("v", raw.verbosity, "must be an integer 0-10");
  o->verbosity = static_cast<int>(*v);

  o->controller_flags = raw.controller;
  auto ctrl = ParseControllerOptions(raw.controller);
  if (!ctrl.ok()) return ctrl.status().message();
  o->controller = *ctrl;
  o->controller.scale_from_cache = raw.scale_from_cache;
  const auto& known = KnownFeatureGates();
  for (const auto& [gate, on] : o->controller.feature_gates)
    if (std::find(known.begin(), known.end(), gate) == known.end()) o->unknown_feature_gates.push_back(gate);
  return std::nullopt;
}

struct ControllerFlag {
  std::string name;
  std::string default_text;
  std::string help;
  std::string type = "DURATION";
};

// The --feature-gates help: every gate of the one table with its default.
std::string FeatureGatesHelp() {
  std::string help = "A set of key=value pairs that describe feature gates:";
  for (const auto& g : kFeatureGates) {
    help += std::string(" ") + std::string(g.name) + "=" + (g.default_enabled ? "true" : "false") + " (" +
            std::string(StageText(g.stage)) + ")" + (&g == &kFeatureGates.back() ? "." : ",");
  }
  return help;
}

const std::vector<ControllerFlag>& ControllerFlags() {
  static const std::vector<ControllerFlag> flags = {
      {"horizontal-pod-autoscaler-sync-period", "15s", "The period for syncing the number of pods in horizontal pod autoscaler."},
      {"horizontal-pod-autoscaler-tolerance", "0.1",
       "The minimum change (from 1.0) in the desired-to-actual metrics ratio for the horizontal pod autoscaler to "
       "consider scaling.", "FLOAT"},
      {"horizontal-pod-autoscaler-downscale-stabilization", "5m",
       "The period for which autoscaler will look backwards and not scale down below any recommendation it made "
       "during that period."},
      {"horizontal-pod-autoscaler-cpu-initialization-period", "5m",
       "The period after pod start when CPU samples might be skipped."},
      {"horizontal-pod-autoscaler-initial-readiness-delay", "30s",
       "The period after pod start during which readiness changes will be treated as initial readiness."},
      {"concurrent-horizontal-pod-autoscaler-syncs", "5",
       "The number of horizontal pod autoscaler objects that are allowed to sync concurrently.", "INT"},
      {"feature-gates", "", FeatureGatesHelp(), "GATE=BOOL,..."},
  };
  return flags;
}

}  // namespace

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
    for (const auto& f : ControllerFlags()) n.push_back(f.name);
    return n;
  }();
  return names;
}

DaemonFlags ParseDaemonFlags(const std::vector<std::string>& args) {
  DaemonFlags out;
  Raw raw;
  CLI::App app{"hpad: a standalone Kubernetes HorizontalPodAutoscaler controller (autoscaling/v2).\n"
               "Flags keep kube-controller-manager's names and defaults; durations use Go syntax (15s, 5m, 1h30m).",
               "hpad"};
  app.set_version_flag("--version", std::string("hpad ") + Version());
  app.option_defaults()->always_capture_default();

  app.add_option("--kubeconfig", raw.kubeconfig,
                 "Path to a kubeconfig file. Precedence: --kubeconfig, $KUBECONFIG, in-cluster service account, "
                 "~/.kube/config.")
      ->type_name("FILE")->group("Connection");
  app.add_option("--master", raw.master, "The address of the Kubernetes API server (overrides any value in kubeconfig).")
      ->type_name("URL")->group("Connection");
  app.add_option("--context", raw.context, "The kubeconfig context to use (default: its current-context).")
      ->type_name("NAME")->group("Connection");
  app.add_option("--kube-api-qps", raw.qps, "QPS to use while talking with the Kubernetes API server.")
      ->type_name("FLOAT")->group("Connection");
  app.add_option("--kube-api-burst", raw.burst, "Burst to use while talking with the Kubernetes API server.")
      ->type_name("INT")->group("Connection");

  std::map<std::string, std::string> ctrl_text;
  std::vector<std::pair<std::string, CLI::Option*>> ctrl_opts;
  for (const auto& f : ControllerFlags()) {
    ctrl_text[f.name] = f.default_text;
    auto* opt = app.add_option(std::string("--") + f.name, ctrl_text[f.name], f.help)->group("Controller")->type_name(f.type);
    ctrl_opts.emplace_back(f.name, opt);
  }

  app.add_flag("--scale-from-cache", raw.scale_from_cache,
               "Read the scale of apps/v1 Deployments, StatefulSets and ReplicaSets from watches on those kinds "
               "instead of one GET of the scale subresource per HPA per sync period (needs list/watch on them; "
               "other targets are read with GET). --scale-from-cache=false reads every scale with GET.")
      ->group("Controller");
  app.add_flag("--leader-elect", raw.leader_elect,
               "Start a leader election client and gain leadership before running the controller (use "
               "--leader-elect=false to disable).")
      ->group("Leader election");
  app.add_option("--leader-elect-lease-duration", raw.lease_duration,
                 "How long non-leader candidates wait after observing a renewal before trying to take the lease.")
      ->type_name("DURATION")->group("Leader election");
  app.add_option("--leader-elect-renew-deadline", raw.renew_deadline,
                 "How long the leader keeps trying to renew before it stops leading.")
      ->type_name("DURATION")->group("Leader election");
  app.add_option("--leader-elect-retry-period", raw.retry_period,
                 "How long clients wait between attempts to acquire and renew the lease.")
      ->type_name("DURATION")->group("Leader election");
  app.add_option("--leader-elect-resource-name", raw.lease_name, "The name of the Lease object used for locking.")
      ->type_name("NAME")->group("Leader election");
  app.add_option("--leader-elect-resource-namespace", raw.lease_namespace,
                 "The namespace of the Lease object used for locking.")
      ->type_name("NAMESPACE")->group("Leader election");
  // Accepted for KCM compatibility; a Lease is the only lock hpad uses.
  std::string lock = "leases";
  app.add_option("--leader-elect-resource-lock", lock, "The lock type; only \"leases\" is supported.")
      ->type_name("LOCK")->group("Leader election");

  app.add_option("--bind-address", raw.bind_address,
                 "The IP address on which to serve /healthz, /livez, /readyz and /metrics (plain HTTP).")
      ->type_name("IP")->group("Serving");
  app.add_option("--port", raw.port, "The port for /healthz, /livez, /readyz and /metrics; 0 picks a free port.")
      ->type_name("PORT")->group("Serving");
  app.add_option("-v,--v", raw.verbosity, "Log level verbosity (klog): 0 changes only, 2 every reconcile, 4 requests.")
      ->type_name("LEVEL")->group("Logging");

  std::vector<std::string> reversed(args.rbegin(), args.rend());  // CLI11 consumes from the back
  try {
    app.parse(reversed);
  } catch (const CLI::CallForHelp&) {
    out.action = DaemonFlags::Action::kExit;
    out.output = app.help();
    return out;
  } catch (const CLI::CallForAllHelp&) {
    out.action = DaemonFlags::Action::kExit;
    out.output = app.help("", CLI::AppFormatMode::All);
    return out;
  } catch (const CLI::CallForVersion& e) {
    out.action = DaemonFlags::Action::kExit;
    out.output = std::string(e.what()) + "\n";
    return out;
  } catch (const CLI::ParseError& e) {
    out.action = DaemonFlags::Action::kError;
    out.output = std::string(e.what()) + "\nRun hpad --help for the list of flags.\n";
    out.exit_code = 2;
    return out;
  }
  if (lock != "leases") {
    out.action = DaemonFlags::Action::kError;
    out.output = Invalid("leader-elect-resource-lock", lock, "only \"leases\" is supported") + "\n";
    out.exit_code = 2;
    return out;
  }
  for (const auto& [name, opt] : ctrl_opts) {
    if (opt->count() > 0) raw.controller[name] = ctrl_text[name];
  }
  if (auto err = Validate(raw, &out.options)) {
    out.action = DaemonFlags::Action::kError;
    out.output = *err + "\n";
    out.exit_code = 2;
    return out;
  }
  return out;
}

}  // namespace hpad::ctrl
