// hpad: the daemon's composition root. Parses flags, sets up logging on the
// real clock, resolves the client configuration, builds the REST client and
// hands everything to DaemonRunner; SIGTERM/SIGINT request a clean shutdown
// that ends by joining threads (a second signal only logs; see runner.h for
// the bounded last resort).
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <atomic>
#include <ctime>
#include <optional>
#include <thread>

#include "controller/daemon/config.h"
#include "controller/daemon/explain_main.h"
#include "controller/daemon/flags.h"
#include "controller/daemon/prometheus_metrics.h"
#include "controller/daemon/runner.h"
#include "k8sclient/base/version.h"
#include "k8sclient/httplib_transport.h"
#include "k8sclient/base/klog.h"
#include "k8sclient/base/last_resort.h"
#include "k8sclient/api/quantity.h"
#include "k8sclient/rest_api_client.h"
#include "k8sclient/write_fence.h"
#include "k8sclient/leader_elector.h"

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
  // The log is batched (klog.h): a crash must still write its buffered
  // lines. A normal return or exit() flushes through atexit.
  hpad::k8s::InstallCrashLogFlush();
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
  // The identity names this replica in the lease and, through the
  // User-Agent, in the API server's request log (who wrote what).
  hpad::ctrl::DaemonClients clients;
  clients.identity = hpad::k8s::DefaultLeaderIdentity();
  config->transport.user_agent = std::string("hpad/") + hpad::Version() + " (" + clients.identity + ")";
  // A token source that hangs (exec plugin) fails /livez (liveness.h).
  clients.liveness =
      std::make_shared<hpad::ctrl::LivenessTracker>(clock, hpad::ctrl::MakeLivenessOptions(opts));
  if (config->transport.token_source) {
    config->transport.token_source =
        std::make_shared<hpad::ctrl::TrackedTokenSource>(config->transport.token_source, clients.liveness);
  }
  // Issue 12: a shadow's requests are told apart by their User-Agent.
  if (opts.dry_run) {
    config->transport.user_agent = std::string("hpad-shadow/") + hpad::Version() + " (" + clients.identity + ")";
  }
  auto transport = hpad::k8s::NewHttpTransport(config->transport);
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
  clients.cancel = std::make_shared<hpad::k8s::CancelScope>();
  client_opts.cancel_scope = clients.cancel;
  hpad::k8s::RestApiClientOptions lease_opts = client_opts;
  if (opts.leader_elect) {
    clients.fence = std::make_shared<hpad::k8s::WriteFence>();
    client_opts.write_fence = clients.fence;
    // Lease requests: their own connections (never queued behind the
    // controller's), one attempt each (the elector retries within its renew
    // deadline), not cancelled by shutdown (the release comes after it),
    // not rate-limited behind the controller's writes.
    auto lease_transport = hpad::k8s::NewHttpTransport(config->transport);
    if (!lease_transport.ok()) {
      HPAD_LOG(Error) << "client configuration from " << config->source << ": "
                      << lease_transport.status().message();
      return 1;
    }
    lease_opts.max_attempts = 1;
    lease_opts.cancel_scope = nullptr;
    lease_opts.qps = 0;
    clients.lease_client = std::make_shared<hpad::k8s::RestApiClient>(std::move(lease_transport).value(), clock,
                                                                      std::move(lease_opts));
  }
  // Issue 16: kube-controller-manager's shape - one connection pool, one
  // client (its own --kube-api-qps/--kube-api-burst token bucket) per part
  // of the controller, all with the same fence, cancel scope, observer and
  // User-Agent (MakeControllerClients in runner.h).
  {
    hpad::ctrl::DaemonClients built = hpad::ctrl::MakeControllerClients(
        std::shared_ptr<hpad::k8s::HttpTransport>(std::move(transport).value()), clock, client_opts);
    clients.client = std::move(built.client);
    clients.parts = std::move(built.parts);
  }
  HPAD_LOG(Info) << "client-side rate limit: " << opts.kube_api_qps << " QPS, burst " << opts.kube_api_burst
                 << ", for each of the informers, HPA (status, events, discovery), scale, resource, custom and "
                    "external metrics clients";

  hpad::ctrl::DaemonRunner runner(opts, clients, clock, metrics);
  hpad::Status started = runner.Start();
  if (!started.ok()) {
    HPAD_LOG(Error) << started.message();
    return 1;
  }

  // Signal thread: the first SIGTERM/SIGINT starts a clean shutdown; later
  // ones only log (the shutdown is bounded by the runner). It polls a flag
  // between waits so main can join it once the runner is done.
  std::atomic<bool> signals_done{false};
  std::thread signal_thread([&runner, &signals_done, signals] {
    bool first = true;
    while (!signals_done.load()) {
      timespec poll{0, 200 * 1000 * 1000};
      int sig = sigtimedwait(&signals, nullptr, &poll);
      if (sig < 0) continue;  // timeout or EINTR
      const char* name = sig == SIGTERM ? "SIGTERM" : "SIGINT";
      if (first) {
        first = false;
        HPAD_LOG(Info) << "received " << name << ", shutting down";
        runner.RequestShutdown();
      } else {
        HPAD_LOG(Info) << "received " << name << " again: shutdown already in progress";
      }
    }
  });

  int code = runner.Wait();
  signals_done = true;
  signal_thread.join();
  if (runner.abandoned()) {
    // The last resort (runner.h): a thread still uses the runner.
    // _Exit runs no atexit handler: write the batched log lines first.
    hpad::k8s::FlushLog();
    std::fflush(stderr);
    std::_Exit(code);
  }
  return code;
}
