// The request timeout bounds a whole exchange, body included (issue 10, the
// hostile API server's `trickle`): a server sending a byte now and then is
// cut near the deadline (by the socket's inactivity timeout or the
// transport's deadline timer), and the cut connection is not reused.
#include <httplib.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <thread>

#include "k8sclient/httplib_transport.h"

namespace hpad::k8s {
namespace {

TEST_CASE("transport: a trickled reply body fails at the request timeout", "[transport][deadline]") {
  httplib::Server srv;
  std::atomic<bool> stop{false};
  // 200 bytes, one every 150 ms (30 s if read to the end): always active
  // within the 400 ms inactivity timeout.
  srv.Get("/trickle", [&](const httplib::Request&, httplib::Response& res) {
    res.set_content_provider(200, "application/json", [&](size_t, size_t, httplib::DataSink& sink) {
      if (stop) return false;
      std::this_thread::sleep_for(std::chrono::milliseconds(150));
      return sink.write(" ", 1);
    });
  });
  srv.Get("/ok", [](const httplib::Request&, httplib::Response& res) { res.set_content("{}", "application/json"); });
  const int port = srv.bind_to_any_port("127.0.0.1");
  REQUIRE(port > 0);
  std::thread serving([&] { srv.listen_after_bind(); });
  while (!srv.is_running()) std::this_thread::yield();  // listen_after_bind is starting

  TransportConfig cfg;
  cfg.server = "http://127.0.0.1:" + std::to_string(port);
  cfg.timeout = std::chrono::milliseconds(400);
  auto transport = NewHttpTransport(cfg);
  REQUIRE(transport.ok());
  HttpRequest req;
  req.path_and_query = "/trickle";
  const auto start = std::chrono::steady_clock::now();
  auto r = (*transport)->Send(req);
  const auto took = std::chrono::steady_clock::now() - start;
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().code() == StatusCode::kTimeout);
  // Cut either by the socket's read timeout or by the deadline timer,
  // whichever notices first; both are a timeout within bounds.
  INFO(r.status().message());
  CHECK(took < std::chrono::seconds(5));  // far below the 30 s the trickle would take

  // The next request works (the cut connection is not reused).
  req.path_and_query = "/ok";
  auto ok = (*transport)->Send(req);
  REQUIRE(ok.ok());
  CHECK(ok->status == 200);
  stop = true;
  srv.stop();
  serving.join();
}

}  // namespace
}  // namespace hpad::k8s
