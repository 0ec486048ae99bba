// ApiServer: the simulator's Kubernetes REST surface over a ClusterState.
//
// Serves what stock kubectl and the python3-kubernetes client need
// (kubectl-compat.md): /version, legacy discovery, /openapi/v3, CRUD with
// JSON (and protobuf POST bodies for `kubectl autoscale`), merge /
// strategic-merge / json-patch / apply patches, /status and /scale
// subresources, list with selectors and paging, watch as chunked NDJSON,
// Tables for `Accept: ...;as=Table`, the three metrics APIs, metav1.Status
// errors, fault injection (FaultInjector, request_faults.h) and request
// accounting (RequestLog, request_log.h): both HTTP-layer concerns, owned
// here (not by the storage) and decided per request as it arrives.
//
// Transport: cpp-httplib (libraries.md 7), HTTPS with a CA and serving
// certificate generated at Start() and bearer-token auth (401 without it);
// plain HTTP accepts requests without a token (kubectl sends none there).
// httplib stays inside api_server.cc (pimpl).
//
// Ownership and threads: borrows the ClusterState (must outlive it); owns
// its FaultInjector and RequestLog (both thread-safe, usable before Start
// and after Stop).
// Start/Stop/WriteKubeconfig from one thread; requests are served on the
// server's own thread pool. Stop() ends every open watch stream cleanly
// (final chunk), gives answers in progress a short grace (1 s), then shuts
// down every connection still open - idle keep-alive ones included, so a
// client that holds a connection cannot keep the server from stopping -
// and joins. The destructor stops.
//
// Besides the Kubernetes API: GET /hpad-sim/requests answers the request
// log as JSON ({"counts": {"verb resource[/sub]": n}, "writes": [...]}),
// for tests that drive a separate process; hostile answers for tests are
// ApiServerOptions::misbehave.
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "k8sclient/base/clock.h"
#include "k8sclient/base/status.h"
#include "sim/apiserver/cluster_state.h"
#include "sim/apiserver/misbehavior.h"
#include "sim/apiserver/request_faults.h"
#include "sim/apiserver/request_log.h"

namespace hpad::sim {

struct ApiServerOptions {
  std::string bind_address = "127.0.0.1";
  int port = 0;        // 0: pick a free port
  bool tls = true;     // false: plain http
  std::string token;   // bearer token; empty: a random one is generated (TLS only)
  int threads = 64;    // each open watch holds one
  // Wall time for watch timeoutSeconds, slow: faults and certificate
  // validity (TLS peers check against the wall clock, so not the scenario's
  // virtual clock). nullptr: RealClock::Instance().
  const Clock* wall_clock = nullptr;
  std::string version_minor = "32";  // kubectl's dispatcher picks kubectl 1.<minor> (kubectl-compat 0)
  // BOOKMARK events to watchers that allow them, every interval of wall
  // time (the real server sends one about every minute); 0 = never (the
  // owner may call ClusterState::BroadcastBookmarks itself).
  std::chrono::milliseconds bookmark_interval{60000};
  // `slow:<d>` faults (scenario-format.md "Steps"). Default (serve): the
  // answer waits d of wall time. In a virtual-time run (`hpad-sim run`) the
  // controller's whole sync happens at one virtual instant, so a wall wait
  // would only stretch the run without changing what the controller sees;
  // instead a request slower than `slow_timeout` (the controller client's
  // request timeout, hpad's default 30s) fails at once with what the client
  // would get after waiting that long (504 Timeout), and a faster one is
  // answered at once with the normal result.
  bool slow_in_virtual_time = false;
  std::chrono::milliseconds slow_timeout{30000};
  // Test-only hostile answers (`hpad-sim serve --misbehave`, misbehavior.h):
  // the first rule matching a request applies. Never set by scenario files.
  std::vector<MisbehaviorRule> misbehave;
};

class ApiServer {
 public:
  ApiServer(ClusterState& state, ApiServerOptions options);
  ~ApiServer();
  ApiServer(const ApiServer&) = delete;
  ApiServer& operator=(const ApiServer&) = delete;

  // Generates the PKI (TLS), binds and starts serving. Returns the bound port.
  Result<int> Start();
  // Ends watch streams, stops accepting, closes open connections after a
  // short grace, joins the server thread. Idempotent.
  void Stop();
  // Ends every open watch stream now (cleanly, as a server restart or a
  // load balancer would); clients must watch again. Returns how many were
  // open. Any thread (the chaos soak's fault schedule).
  size_t DropWatches();

  int port() const;
  // "https://127.0.0.1:PORT" (or http://).
  std::string url() const;
  const std::string& token() const;
  // The CA certificate (PEM) clients must trust; empty without TLS.
  const std::string& ca_pem() const;
  // A kubeconfig (YAML) with the server URL, CA data and token.
  std::string KubeconfigYaml() const;
  Status WriteKubeconfig(const std::string& path) const;

  // Serialises every stored object of `gvr` (all namespaces) into the
  // list-page text cache now, as a first list would; returns how many. For
  // benchmarks: a real API server does not spend the controller's CPU on
  // its first list, while this in-process one shares the machine with it.
  Result<size_t> WarmListText(const GroupVersionResource& gvr);

  // The fault rules applied to each request (scenario `faults:`).
  FaultInjector& faults();
  // Every answered request (scenario `expectWrites`, benchmarks).
  RequestLog& requests();
  const RequestLog& requests() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace hpad::sim
