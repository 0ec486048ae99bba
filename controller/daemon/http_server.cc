// The daemon's health and metrics endpoint (see daemon_http.h).
#include "controller/daemon/http_server.h"

#include <httplib.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

#include <atomic>
#include <exception>
#include <thread>

#include "k8sclient/base/last_resort.h"

namespace hpad::ctrl {

// hpad_unexpected_errors_total{loop}: the last-resort net's counts
// (k8sclient/base/last_resort.h), rendered after the registry's families.
// Loop names come from code; quotes and backslashes are escaped anyway.
std::string UnexpectedErrorsText() {
  std::string out =
      "# HELP hpad_unexpected_errors_total Exceptions caught by the last-resort net of a long-lived loop (each is a "
      "bug to report).\n# TYPE hpad_unexpected_errors_total counter\n";
  for (const auto& [loop, count] : k8s::UnexpectedErrorCounts()) {
    std::string label;
    for (char c : loop) {
      if (c == '"' || c == '\\') label += '\\';
      if (c == '\n') {
        label += "\\n";
        continue;
      }
      label += c;
    }
    out += "hpad_unexpected_errors_total{loop=\"" + label + "\"} " + std::to_string(count) + "\n";
  }
  return out;
}


bool RenderHealth(const std::vector<HealthCheck>& checks, bool verbose, std::string* body) {
  bool ok = true;
  std::string lines;
  for (const auto& c : checks) {
    std::string reason = c.check ? c.check() : std::string();
    if (reason.empty()) {
      lines += "[+]" + c.name + " ok\n";
    } else {
      ok = false;
      lines += "[-]" + c.name + " failed: " + reason + "\n";
    }
  }
  if (ok && !verbose) {
    *body = "ok";
  } else {
    *body = lines + (ok ? "check passed\n" : "check failed\n");
  }
  return ok;
}

struct DaemonHttpServer::Impl {
  std::shared_ptr<prometheus::Registry> registry;
  std::vector<HealthCheck> liveness;
  std::vector<HealthCheck> readiness;
  httplib::Server server;
  std::thread thread;
  int port = 0;
  bool started = false;
  std::atomic<bool> listen_returned{false};
  std::vector<std::pair<std::string, GetHandler>> extra_gets;  // set before Start

  void Health(const std::vector<HealthCheck>& checks, const httplib::Request& req, httplib::Response& res) {
    std::string body;
    bool ok = RenderHealth(checks, req.has_param("verbose"), &body);
    res.status = ok ? 200 : 503;
    res.set_content(body, "text/plain; charset=utf-8");
  }
};

DaemonHttpServer::DaemonHttpServer(std::shared_ptr<prometheus::Registry> registry, std::vector<HealthCheck> liveness,
                                   std::vector<HealthCheck> readiness)
    : impl_(std::make_unique<Impl>()) {
  impl_->registry = std::move(registry);
  impl_->liveness = std::move(liveness);
  impl_->readiness = std::move(readiness);
}

DaemonHttpServer::~DaemonHttpServer() { Stop(); }

void DaemonHttpServer::AddGetPrefix(const std::string& prefix, GetHandler handler) {
  impl_->extra_gets.emplace_back(prefix, std::move(handler));
}

Status DaemonHttpServer::Start(const std::string& host, int port) {
  Impl* im = impl_.get();
  if (im->started) return InternalError("health server already started");
  auto& srv = im->server;
  // Probes must not be starved by slow clients on the same port (issue 15
  // item 2): each connection holds a pool thread while it is read, so the
  // pool has room for a dozen slow or idle clients besides the probes, and
  // the read/write timeouts below drop a client that stalls.
  srv.new_task_queue = [] { return new httplib::ThreadPool(16); };
  // Short keep-alive so Stop() is not held up by an idle scraper connection.
  srv.set_keep_alive_timeout(1);
  // httplib's default adds SO_REUSEPORT, which would let a second hpad on
  // the same host share the port silently; keep only SO_REUSEADDR.
  srv.set_socket_options([](socket_t sock) {
    int yes = 1;
    setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, reinterpret_cast<void*>(&yes), sizeof(yes));
  });
  srv.set_read_timeout(2, 0);
  srv.set_write_timeout(2, 0);
  // /healthz is the older name of /livez (same checks).
  srv.Get("/healthz", [im](const httplib::Request& req, httplib::Response& res) { im->Health(im->liveness, req, res); });
  srv.Get("/livez", [im](const httplib::Request& req, httplib::Response& res) { im->Health(im->liveness, req, res); });
  srv.Get("/readyz", [im](const httplib::Request& req, httplib::Response& res) { im->Health(im->readiness, req, res); });
  srv.Get("/metrics", [im](const httplib::Request&, httplib::Response& res) {
    std::string text;
    if (im->registry) text = prometheus::TextSerializer().Serialize(im->registry->Collect());
    text += UnexpectedErrorsText();
    res.set_content(text, "text/plain; version=0.0.4; charset=utf-8");
  });
  for (const auto& [prefix, handler] : im->extra_gets) {
    GetHandler h = handler;
    auto serve = [h](const httplib::Request& req, httplib::Response& res) {
      HttpReply reply = h(req.path);
      res.status = reply.status;
      res.set_content(reply.body, reply.content_type);
    };
    srv.Get(prefix, serve);
    srv.Get(prefix + "/.*", serve);
  }
  // Last resort (issue 10): a handler that throws answers 500 and is counted.
  srv.set_exception_handler([](const httplib::Request& req, httplib::Response& res, std::exception_ptr ep) {
    std::string what = "non-standard exception";
    try {
      if (ep) std::rethrow_exception(ep);
    } catch (const std::exception& e) {
      what = e.what();
    } catch (...) {
    }
    k8s::RecordUnexpectedError("http-server", req.path + ": " + what);
    res.status = 500;
    res.set_content("internal error", "text/plain; charset=utf-8");
  });

  if (port == 0) {
    int bound = srv.bind_to_any_port(host);
    if (bound <= 0) return UnavailableError("cannot bind health/metrics server to " + host + ":0");
    im->port = bound;
  } else {
    if (!srv.bind_to_port(host, port))
      return UnavailableError("cannot bind health/metrics server to " + host + ":" + std::to_string(port) +
                              " (address in use?)");
    im->port = port;
  }
  im->thread = std::thread([im] {
    im->server.listen_after_bind();
    im->listen_returned = true;
  });
  // httplib's stop() is a no-op until the accept loop runs; wait for it so a
  // Stop() right after Start() cannot leave the thread listening forever.
  while (!srv.is_running() && !im->listen_returned) std::this_thread::yield();
  im->started = true;
  return Status::Ok();
}

int DaemonHttpServer::port() const { return impl_->port; }

void DaemonHttpServer::Stop() {
  if (!impl_ || !impl_->started) return;
  impl_->server.stop();
  if (impl_->thread.joinable()) impl_->thread.join();
  impl_->started = false;
}

}  // namespace hpad::ctrl
