// DaemonHttpServer: the one plain-HTTP port of `hpad` serving
//   /healthz  the same as /livez (kept for tools that only know it)
//   /livez    200 unless the liveness check fails (a wedged daemon gets restarted)
//   /readyz   200 when the readiness check passes, else 503 with the reason
//   /metrics  the Prometheus text format of the given registry
// Checks return an empty string when healthy, else a short reason that is
// written to the body as `[-]<name> failed: <reason>` (the kube-apiserver
// style); `?verbose` lists passing checks as `[+]<name> ok` too.
//
// Owns a cpp-httplib server and its listener thread (pimpl keeps httplib out
// of other translation units). Start() binds before returning, so port()
// is valid right after (port 0 picks a free port). Check callbacks run on
// the server's threads and must be thread-safe. Stop() is idempotent and
// is also done by the destructor.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "k8sclient/base/status.h"

namespace prometheus {
class Registry;
}

namespace hpad::ctrl {

struct HealthCheck {
  std::string name;
  std::function<std::string()> check;  // "" = passing
};

// An extra GET route (issue 12's /debug/hpas): the handler gets the path
// and returns the status code, body and content type. Thread-safe.
struct HttpReply {
  int status = 200;
  std::string body{};
  std::string content_type = "application/json";
};
using GetHandler = std::function<HttpReply(const std::string& path)>;

class DaemonHttpServer {
 public:
  DaemonHttpServer(std::shared_ptr<prometheus::Registry> registry, std::vector<HealthCheck> liveness,
                   std::vector<HealthCheck> readiness);
  ~DaemonHttpServer();
  DaemonHttpServer(const DaemonHttpServer&) = delete;
  DaemonHttpServer& operator=(const DaemonHttpServer&) = delete;

  // Serves GET `prefix` and every path under `prefix/`; call before Start.
  void AddGetPrefix(const std::string& prefix, GetHandler handler);
  // Binds host:port and starts serving on a background thread.
  Status Start(const std::string& host, int port);
  int port() const;
  void Stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Renders checks as the body of /livez or /readyz; returns true when all pass.
bool RenderHealth(const std::vector<HealthCheck>& checks, bool verbose, std::string* body);

// The hpad_unexpected_errors_total{loop} series (issue 10) in Prometheus text
// format, from k8sclient/base/last_resort.h; appended to /metrics.
std::string UnexpectedErrorsText();

}  // namespace hpad::ctrl
