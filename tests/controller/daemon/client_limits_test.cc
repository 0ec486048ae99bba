// The daemon's client shape (issue 16, MakeControllerClients in
// controller/daemon/runner.h): one RestApiClient per part of the controller,
// each with its own --kube-api-qps/--kube-api-burst token bucket, all on one
// transport with the same write fence - as kube-controller-manager gives its
// HPA controller separate clients. A flood of metrics reads saturates only
// the metrics client's bucket; scale and status writes go out at once.
// Virtual time (SimulatedClock), no network: the transport answers at once
// and records the instant of every send.
#include <catch2/catch.hpp>

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "controller/daemon/runner.h"
#include "k8sclient/api/types/hpa.h"
#include "k8sclient/base/clock.h"
#include "k8sclient/http_transport.h"
#include "k8sclient/rest_api_client.h"
#include "k8sclient/write_fence.h"

namespace {

using namespace std::chrono_literals;
namespace k8s = hpad::k8s;
using hpad::MonoTime;
using Json = nlohmann::json;

hpad::Time T0() { return std::chrono::system_clock::from_time_t(1767225600); }

struct Sent {
  std::string method, path;
  MonoTime at;
};

// Answers every request at once (200, the body echoed) and records what was
// sent when, on the injected clock. Shared by all the clients, like the
// daemon's one HTTP transport.
class RecordingTransport final : public k8s::HttpTransport {
 public:
  explicit RecordingTransport(const hpad::Clock& clock) : clock_(clock) {}
  hpad::Result<k8s::HttpResponse> Send(const k8s::HttpRequest& r) override {
    std::lock_guard<std::mutex> l(mu_);
    sent_.push_back({r.method, r.path_and_query, clock_.MonoNow()});
    return k8s::HttpResponse{200, {}, r.body.empty() ? "{}" : r.body};
  }
  hpad::Result<std::unique_ptr<k8s::HttpStream>> OpenStream(const k8s::HttpRequest&) override {
    return hpad::Status(hpad::StatusCode::kUnavailable, "no streams here");
  }
  const std::string& server() const override { return server_; }
  std::vector<Sent> Sends() const {
    std::lock_guard<std::mutex> l(mu_);
    return sent_;
  }

 private:
  const hpad::Clock& clock_;
  mutable std::mutex mu_;
  std::vector<Sent> sent_;
  std::string server_ = "http://fake";
};

constexpr int kFloodReads = 60;  // at qps 20 / burst 30: 30 at once, 30 queued (1.5 s of tokens)
constexpr auto kStep = 10ms;

struct FloodRun {
  std::vector<Sent> sends;  // relative to t0 (MonoTime{} = t0)
  bool settled = false;
};

// kFloodReads PodMetrics reads on `metrics`, one thread each, all at t0;
// once the ones beyond the burst wait for tokens, a scale write on `scale`
// and a status write on `status`. The clock advances in kStep steps
// whenever every thread still running is asleep on it, so each send
// instant is exact to a step.
FloodRun FloodThenWrite(hpad::SimulatedClock& clock, RecordingTransport& transport, k8s::ApiClient& metrics,
                        k8s::ApiClient& scale, k8s::ApiClient& status) {
  const MonoTime t0 = clock.MonoNow();
  FloodRun run;
  std::atomic<int> live{0};
  std::vector<std::thread> threads;
  auto spawn = [&](std::function<void()> work) {
    ++live;
    threads.emplace_back([&live, work = std::move(work)] {
      work();
      --live;
    });
  };
  for (int i = 0; i < kFloodReads; ++i) {
    spawn([&metrics, i] {
      (void)metrics.GetPathRaw("/apis/metrics.k8s.io/v1beta1/namespaces/ns-" + std::to_string(i) + "/pods");
    });
  }
  // The burst has been sent; the rest wait on the clock, in debt.
  run.settled = clock.AwaitSleepers(kFloodReads - 30);
  const k8s::ObjectKey scale_key{k8s::resources::kDeployments, "default", "web", "scale"};
  const k8s::ObjectKey status_key{k8s::resources::kHpaV2, "default", "web", "status"};
  spawn([&] { (void)scale.Update(scale_key, Json{{"kind", "Scale"}, {"spec", {{"replicas", 3}}}}); });
  spawn([&] { (void)status.Update(status_key, Json{{"kind", "HorizontalPodAutoscaler"}}); });
  for (int i = 0; run.settled && live > 0; ++i) {
    if (i > 200000) {
      run.settled = false;
      break;
    }
    const int n = live.load();
    // `live` only falls, so n >= the threads still running: n asleep means all.
    if (n > 0 && !clock.AwaitSleepers(static_cast<size_t>(n), 1ms)) continue;
    clock.Advance(kStep);
  }
  if (!run.settled) clock.Advance(std::chrono::hours(1));  // let them end; the test fails
  for (auto& t : threads) t.join();
  run.sends = transport.Sends();
  for (auto& s : run.sends) s.at = MonoTime{} + (s.at - t0);
  return run;
}

hpad::Duration SentAt(const std::vector<Sent>& sends, const std::string& method, const std::string& path_part) {
  for (const auto& s : sends) {
    if (s.method == method && s.path.find(path_part) != std::string::npos) return s.at - MonoTime{};
  }
  FAIL("no " << method << " " << path_part << " was sent");
  return {};
}

hpad::Duration LastMetricsRead(const std::vector<Sent>& sends) {
  hpad::Duration last{0};
  for (const auto& s : sends) {
    if (s.path.find("/apis/metrics.k8s.io/") != std::string::npos) last = std::max(last, s.at - MonoTime{});
  }
  return last;
}

}  // namespace

TEST_CASE("daemon clients: a flood of metrics reads does not delay scale or status writes (issue 16)",
          "[daemon][limits]") {
  hpad::SimulatedClock clock(T0());
  auto transport = std::make_shared<RecordingTransport>(clock);
  k8s::RestApiClientOptions opts;  // the daemon's defaults: qps 20, burst 30
  opts.max_attempts = 1;
  hpad::ctrl::DaemonClients clients = hpad::ctrl::MakeControllerClients(transport, clock, opts);
  REQUIRE(clients.parts.hpa == clients.client);
  const FloodRun run = FloodThenWrite(clock, *transport, *clients.parts.resource_metrics, *clients.parts.scale,
                                      *clients.parts.hpa);
  REQUIRE(run.settled);
  const auto& sends = run.sends;
  CHECK(sends.size() == static_cast<size_t>(kFloodReads + 2));
  // Both writes at t0: their clients' buckets are full.
  CHECK(SentAt(sends, "PUT", "/deployments/web/scale") == hpad::Duration::zero());
  CHECK(SentAt(sends, "PUT", "/horizontalpodautoscalers/web/status") == hpad::Duration::zero());
  // The metrics reads beyond the burst waited their turn at 20 qps
  // (the 30th in debt is due at 1.5 s).
  CHECK(LastMetricsRead(sends) >= 1500ms);
  CHECK(LastMetricsRead(sends) <= 1500ms + kStep);
}

TEST_CASE("one shared client for everything: the same flood delays scale and status writes (control)",
          "[daemon][limits]") {
  // What the daemon did before issue 16 (one RestApiClient, one bucket for
  // every request): the writes queue behind the 30 reads in debt.
  hpad::SimulatedClock clock(T0());
  auto transport = std::make_shared<RecordingTransport>(clock);
  k8s::RestApiClientOptions opts;
  opts.max_attempts = 1;
  k8s::RestApiClient one(transport, clock, opts);
  const FloodRun run = FloodThenWrite(clock, *transport, one, one, one);
  REQUIRE(run.settled);
  CHECK(SentAt(run.sends, "PUT", "/deployments/web/scale") >= 1500ms);
  CHECK(SentAt(run.sends, "PUT", "/horizontalpodautoscalers/web/status") >= 1500ms);
}

TEST_CASE("daemon clients: one transport, a bucket each, the same fence on every one (issue 16)",
          "[daemon][limits]") {
  hpad::SimulatedClock clock(T0());
  auto transport = std::make_shared<RecordingTransport>(clock);
  auto fence = std::make_shared<k8s::WriteFence>();  // closed: never held
  k8s::RestApiClientOptions opts;
  opts.write_fence = fence;
  opts.max_attempts = 1;
  opts.qps = 1;
  opts.burst = 1;
  hpad::ctrl::DaemonClients clients = hpad::ctrl::MakeControllerClients(transport, clock, opts);
  const auto& p = clients.parts;
  std::vector<std::shared_ptr<k8s::ApiClient>> all = {p.informers,       p.hpa,            p.scale,
                                                      p.resource_metrics, p.custom_metrics, p.external_metrics};
  for (size_t i = 0; i < all.size(); ++i) {
    CAPTURE(i);
    REQUIRE(all[i] != nullptr);
    auto* rest = dynamic_cast<k8s::RestApiClient*>(all[i].get());
    REQUIRE(rest != nullptr);
    CHECK(&rest->transport() == transport.get());
    for (size_t j = 0; j < i; ++j) CHECK(all[i] != all[j]);
  }
  // A bucket each: burst 1 at qps 1, yet one read on each part goes out
  // at t0 without waiting.
  for (const auto& c : all) (void)c->GetPath("/api");
  auto sends = transport->Sends();
  REQUIRE(sends.size() == all.size());
  for (const auto& s : sends) CHECK(s.at == sends.front().at);
  // The fence applies to every client: no write leaves any of them.
  const k8s::ObjectKey key{k8s::resources::kDeployments, "default", "web", "scale"};
  for (size_t i = 0; i < all.size(); ++i) {
    CAPTURE(i);
    clock.Advance(1s);  // a token for each
    auto r = all[i]->Update(key, Json{{"kind", "Scale"}});
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().reason() == k8s::kLeaseNotHeldReason);
  }
  CHECK(transport->Sends().size() == all.size());  // only the reads
}
