// hpad: the daemon's composition root. Parses flags, sets up logging on the
// real clock, resolves the client configuration, builds the REST client and
// hands everything to DaemonRunner; SIGTERM/SIGINT request a clean shutdown
// (a second signal exits at once).
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <optional>
#include <thread>

#include "controller/daemon/config.h"
#include "controller/daemon/explain_main.h"
#include "controller/daemon/flags.h"
#include "controller/daemon/prometheus_metrics.h"
#include "controller/daemon/runner.h"
#include "k8sclient/base/version.h"
#include "k8sclient/cpprest_transport.h"
#include "k8sclient/base/klog.h"
#include "k8sclient/api/quantity.h"
#include "k8sclient/rest_api_client.h"

namespace {

using hpad::ctrl::DaemonFlags;

// The host:port label of rest_client_* metrics.
std::string HostLabel(const std::string& server) {
  auto url = hpad::k8s::ParseServerUrl(server);
  if (!url.ok()) return server;
  return url->host + ":" + std::to_string(url->port);
}

}  // namespace

int main(int argc, char** argv) {
  // Block the shutdown signals before any thread exists, so every thread
  // inherits the mask and only the signal thread below receives them.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  signal(SIGPIPE, SIG_IGN);  // a scraper hanging up must not kill the daemon

  std::vector<std::string> args(argv + 1, argv + argc);
  // `hpad explain ...` (issue 12): read-only, see explain_main.h.
  if (!args.empty() && args[0] == "explain") {
    pthread_sigmask(SIG_UNBLOCK, &signals, nullptr);
    return hpad::ctrl::RunExplain(std::vector<std::string>(args.begin() + 1, args.end()), std::cout, std::cerr);
  }
  DaemonFlags flags = hpad::ctrl::ParseDaemonFlags(args);
  if (flags.action == DaemonFlags::Action::kExit) {
    std::cout << flags.output;
    return 0;
  }
  if (flags.action == DaemonFlags::Action::kError) {
    std::cerr << "hpad: " << flags.output;
    return flags.exit_code;
  }
  const auto& opts = flags.options;

  hpad::RealClock& clock = hpad::RealClock::Instance();
  hpad::k8s::SetLogClock(&clock);
  hpad::k8s::SetLogVerbosity(opts.verbosity);
  HPAD_LOG(Info) << "hpad " << hpad::Version() << " starting (pid " << ::getpid() << ")";
  for (const auto& [name, value] : opts.controller_flags) HPAD_LOG(Info) << "flag --" << name << "=" << value;
  HPAD_LOG(Info) << "flag --scale-from-cache=" << (opts.controller.scale_from_cache ? "true" : "false");
  for (const auto& gate : opts.unknown_feature_gates)
    HPAD_LOG(Warning) << "feature gate " << gate << " is not used by hpad; ignored";

  auto config = hpad::ctrl::ResolveClientConfig(opts, hpad::ctrl::DaemonEnvironment::FromProcess(), clock);
  if (!config.ok()) {
    HPAD_LOG(Error) << config.status().message();
    return 1;
  }
  HPAD_LOG(Info) << "API server: " << hpad::ctrl::DescribeClientConfig(*config);
  // Issue 12: a shadow's requests are told apart by their User-Agent.
  if (opts.dry_run) config->transport.user_agent = std::string("hpad-shadow/") + hpad::Version();
  auto transport = hpad::k8s::NewCpprestTransport(config->transport);
  if (!transport.ok()) {
    HPAD_LOG(Error) << "client configuration from " << config->source << ": " << transport.status().message();
    return 1;
  }

  hpad::ctrl::DaemonMetrics metrics;
  hpad::k8s::RestApiClientOptions client_opts;
  client_opts.qps = opts.kube_api_qps;
  client_opts.burst = opts.kube_api_burst;
  const std::string host = HostLabel(config->transport.server);
  client_opts.observer = [&metrics, host](const hpad::k8s::RequestObservation& o) {
    metrics.ObserveRequest(o.verb, host, o.http_code ? std::to_string(o.http_code) : "<error>", o.latency);
    HPAD_VLOG(4) << o.verb << " " << o.resource << " -> " << (o.http_code ? std::to_string(o.http_code) : "no response")
                 << " in " << std::chrono::duration_cast<std::chrono::milliseconds>(o.latency).count() << "ms";
  };
  auto client =
      std::make_shared<hpad::k8s::RestApiClient>(std::move(transport).value(), clock, std::move(client_opts));

  hpad::ctrl::DaemonRunner runner(opts, client, clock, metrics);
  hpad::Status started = runner.Start();
  if (!started.ok()) {
    HPAD_LOG(Error) << started.message();
    return 1;
  }

  // Signal thread: the first SIGTERM/SIGINT starts a clean shutdown; another
  // one at least a second later gives up on it (a repeat within the second
  // is the same request delivered twice, e.g. to the process and its group).
  // Detached: it blocks in sigwait until the process exits.
  std::thread([&runner, &clock, signals] {
    std::optional<hpad::Time> first;
    for (;;) {
      int sig = 0;
      if (sigwait(&signals, &sig) != 0) continue;
      if (!first) {
        first = clock.Now();
        HPAD_LOG(Info) << "received " << (sig == SIGTERM ? "SIGTERM" : "SIGINT") << ", shutting down";
        runner.RequestShutdown();
      } else if (clock.Now() - *first >= std::chrono::seconds(1)) {
        HPAD_LOG(Warning) << "second signal: exiting now";
        std::_Exit(1);
      }
    }
  }).detach();

  int code = runner.Wait();
  if (runner.abandoned()) {
    std::fflush(stderr);
    std::_Exit(code);
  }
  return code;
}
