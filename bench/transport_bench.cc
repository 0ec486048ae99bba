// transport_bench: what one HttpTransport::Send costs, the cpprestsdk path
// (NewCpprestTransport: pplx/asio pool hand-offs) against the blocking
// cpp-httplib path on the caller's thread (NewHttpTransport), issue 16.
//
// An in-process simulator ApiServer (HTTPS on loopback, port 0) serves one
// ConfigMap of about --body-kb KiB; each transport sends --requests GETs of
// it from --threads threads (after a warm-up that fills the connection
// pools). Printed per transport: requests/s, process CPU microseconds per
// request and voluntary + involuntary context switches per request, both
// from getrusage(RUSAGE_SELF) - the whole process, so they include the
// in-process server's work (the same for both transports); /proc/self/status
// would count the main thread only. Also the sending threads' own switches
// (RUSAGE_THREAD, summed). A benchmark, not a test: it prints numbers and
// exits 0 unless setup or a request fails.
#include <sys/resource.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "k8sclient/base/clock.h"
#include "k8sclient/cpprest_transport.h"
#include "k8sclient/httplib_transport.h"
#include "sim/apiserver/api_server.h"
#include "sim/apiserver/cluster_state.h"

namespace {

using namespace hpad;
using Steady = std::chrono::steady_clock;

struct Usage {
  double cpu_us = 0;
  long vcsw = 0, ivcsw = 0;
};
Usage Now(int who) {
  rusage ru{};
  getrusage(who, &ru);
  Usage u;
  u.cpu_us = static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e6 +
             static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec);
  u.vcsw = ru.ru_nvcsw;
  u.ivcsw = ru.ru_nivcsw;
  return u;
}

bool Run(const char* name, k8s::HttpTransport& t, int requests, int threads, size_t body_bytes) {
  k8s::HttpRequest req;
  req.path_and_query = "/api/v1/namespaces/default/configmaps/blob";
  std::atomic<bool> failed{false};
  auto send_n = [&](int n, Usage* own) {
    Usage before = Now(RUSAGE_THREAD);
    for (int i = 0; i < n && !failed; ++i) {
      auto r = t.Send(req);
      if (!r.ok() || r->status != 200 || r->body.size() < body_bytes) {
        std::fprintf(stderr, "%s: request failed: %s\n", name,
                     r.ok() ? ("HTTP " + std::to_string(r->status)).c_str() : r.status().ToString().c_str());
        failed = true;
      }
    }
    if (own != nullptr) {
      Usage after = Now(RUSAGE_THREAD);
      own->vcsw = after.vcsw - before.vcsw;
      own->ivcsw = after.ivcsw - before.ivcsw;
    }
  };
  auto parallel = [&](int per_thread, std::vector<Usage>* own) {
    std::vector<std::thread> ts;
    for (int i = 0; i < threads; ++i)
      ts.emplace_back([&, i] { send_n(per_thread, own != nullptr ? &(*own)[static_cast<size_t>(i)] : nullptr); });
    for (auto& th : ts) th.join();
  };
  parallel(20, nullptr);  // warm-up: connections, TLS sessions, pools
  if (failed) return false;
  const int per_thread = requests / threads;
  const int total = per_thread * threads;
  std::vector<Usage> own(static_cast<size_t>(threads));
  const Usage u0 = Now(RUSAGE_SELF);
  const auto t0 = Steady::now();
  parallel(per_thread, &own);
  const auto t1 = Steady::now();
  const Usage u1 = Now(RUSAGE_SELF);
  if (failed) return false;
  long own_cs = 0;
  for (const auto& o : own) own_cs += o.vcsw + o.ivcsw;
  const double secs = std::chrono::duration<double>(t1 - t0).count();
  std::printf("%-8s %8d %10.0f %16.1f %12.2f %12.2f %14.2f\n", name, total, total / secs, (u1.cpu_us - u0.cpu_us) / total,
              static_cast<double>(u1.vcsw - u0.vcsw) / total, static_cast<double>(u1.ivcsw - u0.ivcsw) / total,
              static_cast<double>(own_cs) / total);
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  int requests = 2000, threads = 1, body_kb = 50;
  for (int i = 1; i < argc; ++i) {
    auto next = [&]() -> int {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "%s needs a value\n", argv[i]);
        std::exit(2);
      }
      return std::atoi(argv[++i]);
    };
    if (std::strcmp(argv[i], "--requests") == 0) {
      requests = next();
    } else if (std::strcmp(argv[i], "--threads") == 0) {
      threads = next();
    } else if (std::strcmp(argv[i], "--body-kb") == 0) {
      body_kb = next();
    } else {
      std::fprintf(stderr, "usage: transport_bench [--requests N] [--threads T] [--body-kb K]\n");
      return 2;
    }
  }
  if (requests <= 0 || threads <= 0 || body_kb <= 0 || requests < threads) {
    std::fprintf(stderr, "bad arguments\n");
    return 2;
  }
  sim::ClusterState state(RealClock::Instance());
  const size_t body_bytes = static_cast<size_t>(body_kb) * 1024;
  auto applied = state.Apply(nlohmann::json{{"apiVersion", "v1"},
                                            {"kind", "ConfigMap"},
                                            {"metadata", {{"name", "blob"}, {"namespace", "default"}}},
                                            {"data", {{"blob", std::string(body_bytes, 'x')}}}});
  if (!applied.ok()) {
    std::fprintf(stderr, "ConfigMap: %s\n", applied.status().ToString().c_str());
    return 1;
  }
  sim::ApiServer server(state, sim::ApiServerOptions{});
  if (auto port = server.Start(); !port.ok()) {
    std::fprintf(stderr, "ApiServer: %s\n", port.status().ToString().c_str());
    return 1;
  }
  k8s::TransportConfig cfg;
  cfg.server = server.url();
  cfg.ca_pem = server.ca_pem();
  cfg.token_source = std::make_shared<k8s::StaticTokenSource>(server.token());
  std::printf("GET of a %d KiB ConfigMap over HTTPS loopback, %d threads; CPU and switches include the in-process server\n",
              body_kb, threads);
  std::printf("%-8s %8s %10s %16s %12s %12s %14s\n", "path", "requests", "req/s", "CPU us/request", "vol cs/req",
              "invol cs/req", "sender cs/req");
  auto cpprest = k8s::NewCpprestTransport(cfg);
  auto httplib = k8s::NewHttpTransport(cfg);
  if (!cpprest.ok() || !httplib.ok()) {
    std::fprintf(stderr, "transport: %s\n",
                 (!cpprest.ok() ? cpprest.status() : httplib.status()).ToString().c_str());
    return 1;
  }
  bool ok = Run("cpprest", **cpprest, requests, threads, body_bytes) &&
            Run("httplib", **httplib, requests, threads, body_bytes);
  server.Stop();
  return ok ? 0 : 1;
}
