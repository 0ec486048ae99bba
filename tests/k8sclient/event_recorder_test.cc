// ApiEventRecorder against FakeApiClient: core/v1 Event shape (hpa-semantics.md
// 12.3, source component horizontal-pod-autoscaler), aggregation of repeats
// into count + lastTimestamp by merge patch (client-go's correlator), and
// failures that are logged and dropped, never surfaced to the caller.
#include <algorithm>
#include <atomic>
#include <catch2/catch.hpp>
#include <mutex>
#include <thread>
#include <vector>

#include "k8sclient/event_recorder.h"
#include "k8sclient/api/time_format.h"
#include "k8sclient/http_transport.h"
#include "k8sclient/rest_api_client.h"
#include "tests/fakes/fake_api_client.h"

namespace {

using hpad::SimulatedClock;
using hpad::Time;
using hpad::k8s::ApiEventRecorder;
using hpad::k8s::EventObjectRef;
using hpad::k8s::FormatRfc3339;
using hpad::k8s::Json;
using hpad::k8s::RecordingEventRecorder;
using hpad::k8s::testing::FakeApiClient;
namespace resources = hpad::k8s::resources;
using namespace std::chrono_literals;

const Time kStart = Time(std::chrono::seconds(1767225600));  // 2026-01-01T00:00:00Z

const EventObjectRef kHpa{.api_version = "autoscaling/v2",
                          .kind = "HorizontalPodAutoscaler",
                          .ns = "default",
                          .name = "php-apache",
                          .uid = "uid-1",
                          .resource_version = "7"};

}  // namespace

TEST_CASE("event recorder creates a core/v1 Event", "[events]") {
  SimulatedClock clock(kStart);
  FakeApiClient api;
  ApiEventRecorder rec(api, clock);
  rec.Event(kHpa, "Normal", "SuccessfulRescale", "New size: 4; reason: cpu resource utilization (percentage of request) above target");
  rec.Flush();

  auto events = api.Objects(resources::kEvents, "default");
  REQUIRE(events.size() == 1);
  const Json& ev = events[0];
  CHECK(ev["apiVersion"] == "v1");
  CHECK(ev["kind"] == "Event");
  std::string name = ev["metadata"]["name"];
  CHECK(name.rfind("php-apache.", 0) == 0);
  CHECK(name.size() > std::string("php-apache.").size());
  CHECK(ev["involvedObject"] == Json::parse(R"({"apiVersion":"autoscaling/v2","kind":"HorizontalPodAutoscaler",
      "namespace":"default","name":"php-apache","uid":"uid-1","resourceVersion":"7"})"));
  CHECK(ev["type"] == "Normal");
  CHECK(ev["reason"] == "SuccessfulRescale");
  CHECK(ev["source"]["component"] == "horizontal-pod-autoscaler");
  CHECK(ev["count"] == 1);
  CHECK(ev["firstTimestamp"] == "2026-01-01T00:00:00Z");
  CHECK(ev["lastTimestamp"] == "2026-01-01T00:00:00Z");
  CHECK(api.ActionStrings() == std::vector<std::string>{"create events default/" + name});
}

TEST_CASE("event recorder aggregates repeats by patching count and lastTimestamp", "[events]") {
  SimulatedClock clock(kStart);
  FakeApiClient api;
  ApiEventRecorder rec(api, clock);
  rec.Event(kHpa, "Warning", "FailedGetScale", "deployments/scale.apps \"web\" not found");
  clock.Advance(15s);
  rec.Event(kHpa, "Warning", "FailedGetScale", "deployments/scale.apps \"web\" not found");
  clock.Advance(15s);
  rec.Event(kHpa, "Warning", "FailedGetScale", "deployments/scale.apps \"web\" not found");
  rec.Flush();

  auto events = api.Objects(resources::kEvents, "default");
  REQUIRE(events.size() == 1);
  CHECK(events[0]["count"] == 3);
  CHECK(events[0]["firstTimestamp"] == FormatRfc3339(kStart));
  CHECK(events[0]["lastTimestamp"] == FormatRfc3339(kStart + 30s));
  auto patches = api.ActionsFor("patch", "events");
  REQUIRE(patches.size() == 2);
  CHECK(patches[0].patch_type == hpad::k8s::PatchType::kMerge);
  CHECK(Json::parse(patches[1].patch)["count"] == 3);

  SECTION("a different message, reason or object is a new Event") {
    rec.Event(kHpa, "Warning", "FailedGetScale", "another error");
    rec.Event(kHpa, "Warning", "FailedRescale", "deployments/scale.apps \"web\" not found");
    EventObjectRef other = kHpa;
    other.name = "other";
    rec.Event(other, "Warning", "FailedGetScale", "deployments/scale.apps \"web\" not found");
    rec.Flush();
    CHECK(api.Objects(resources::kEvents, "default").size() == 4);
  }
  SECTION("an aggregated Event deleted meanwhile is created again with the count carried") {
    api.Remove(resources::kEvents, "default", events[0]["metadata"]["name"]);
    clock.Advance(1s);
    rec.Event(kHpa, "Warning", "FailedGetScale", "deployments/scale.apps \"web\" not found");
    rec.Flush();
    auto again = api.Objects(resources::kEvents, "default");
    REQUIRE(again.size() == 1);
    CHECK(again[0]["count"] == 4);
    CHECK(again[0]["firstTimestamp"] == FormatRfc3339(kStart));
    CHECK(again[0]["lastTimestamp"] == FormatRfc3339(kStart + 31s));
  }
}

TEST_CASE("event recorder names are unique at one virtual instant", "[events]") {
  SimulatedClock clock(kStart);
  FakeApiClient api;
  ApiEventRecorder rec(api, clock);
  for (int i = 0; i < 5; ++i) rec.Event(kHpa, "Normal", "SuccessfulRescale", "New size: " + std::to_string(i + 2));
  rec.Flush();
  CHECK(api.Objects(resources::kEvents, "default").size() == 5);
  for (const auto& a : api.Actions()) CHECK_FALSE(a.failed);
}

TEST_CASE("event recorder drops what it cannot write and carries on", "[events]") {
  SimulatedClock clock(kStart);
  FakeApiClient api;
  ApiEventRecorder rec(api, clock);
  api.FailNext(1, hpad::UnavailableError("apiserver down"), "create", "events");
  rec.Event(kHpa, "Normal", "SuccessfulRescale", "New size: 2; reason: All metrics below target");
  rec.Flush();
  CHECK(rec.dropped() == 1);
  CHECK(api.Objects(resources::kEvents).empty());

  rec.Event(kHpa, "Normal", "SuccessfulRescale", "New size: 2; reason: All metrics below target");
  rec.Flush();
  auto events = api.Objects(resources::kEvents);
  REQUIRE(events.size() == 1);
  CHECK(events[0]["count"] == 1);  // the dropped one was never written, so not counted

  SECTION("a failed aggregation patch is dropped without losing the Event") {
    api.FailNext(1, hpad::UnavailableError("apiserver down"), "patch", "events");
    rec.Event(kHpa, "Normal", "SuccessfulRescale", "New size: 2; reason: All metrics below target");
    rec.Event(kHpa, "Normal", "SuccessfulRescale", "New size: 2; reason: All metrics below target");
    rec.Flush();
    CHECK(rec.dropped() == 2);
    CHECK(api.Objects(resources::kEvents)[0]["count"] == 2);
  }
}

namespace {
// Holds every Create until opened, to pin the recorder's worker mid-write.
class GatedApi : public FakeApiClient {
 public:
  hpad::Result<Json> Create(const hpad::k8s::GroupVersionResource& g, const std::string& ns,
                                 const Json& obj) override {
    {
      std::unique_lock<std::mutex> l(gate_mu_);
      entered_ = true;
      gate_cv_.notify_all();
      gate_cv_.wait(l, [&] { return open_; });
    }
    return FakeApiClient::Create(g, ns, obj);
  }
  bool AwaitEntered() {
    std::unique_lock<std::mutex> l(gate_mu_);
    return gate_cv_.wait_for(l, 10s, [&] { return entered_; });
  }
  void Open() {
    std::lock_guard<std::mutex> l(gate_mu_);
    open_ = true;
    gate_cv_.notify_all();
  }

 private:
  std::mutex gate_mu_;
  std::condition_variable gate_cv_;
  bool entered_ = false, open_ = false;
};
}  // namespace

TEST_CASE("event recorder queue is bounded: Event() never blocks on the API", "[events]") {
  SimulatedClock clock(kStart);
  GatedApi api;
  hpad::k8s::ApiEventRecorderOptions opts;
  opts.max_queued = 3;
  ApiEventRecorder rec(api, clock, opts);
  rec.Event(kHpa, "Normal", "R", "m0");
  REQUIRE(api.AwaitEntered());  // the worker is stuck writing m0
  // These all return although the API does not answer: 3 queue, 96 are dropped.
  for (int i = 1; i < 100; ++i) rec.Event(kHpa, "Normal", "R", "m" + std::to_string(i));
  CHECK(rec.dropped() == 96);
  api.Open();
  rec.Flush();
  CHECK(api.Objects(resources::kEvents).size() == 4);
}

TEST_CASE("cluster-scoped objects get their events in default", "[events]") {
  SimulatedClock clock(kStart);
  FakeApiClient api;
  ApiEventRecorder rec(api, clock);
  rec.Event(EventObjectRef{.api_version = "v1", .kind = "Node", .name = "node-1"}, "Normal", "Seen", "hello");
  rec.Flush();
  auto events = api.Objects(resources::kEvents, "default");
  REQUIRE(events.size() == 1);
  CHECK_FALSE(events[0]["involvedObject"].contains("namespace"));
}

TEST_CASE("recording event recorder keeps events in order", "[events]") {
  RecordingEventRecorder rec;
  rec.Event(kHpa, "Warning", "FailedGetScale", "boom");
  rec.Event(kHpa, "Normal", "SuccessfulRescale", "New size: 3; reason: All metrics below target");
  CHECK(rec.Strings() == std::vector<std::string>{"Warning FailedGetScale boom",
                                                  "Normal SuccessfulRescale New size: 3; reason: All metrics below target"});
  CHECK(rec.Events()[0].object == kHpa);
  rec.Clear();
  CHECK(rec.Events().empty());
}

// ---------------------------------------------------------------------------
// Event correlation (hpa-semantics.md E1): client-go's aggregator, logger and
// spam filter with NewEventCorrelator's defaults, on the simulated clock.

namespace {

using hpad::k8s::EventCorrelator;
using hpad::k8s::ParseRfc3339;

// Writes (creates and patches) of Events so far.
size_t EventWrites(FakeApiClient& api) {
  return api.ActionsFor("create", "events").size() + api.ActionsFor("patch", "events").size();
}

const Json* EventWithMessage(const std::vector<Json>& events, const std::string& message) {
  for (const auto& e : events)
    if (e["message"] == message) return &e;
  return nullptr;
}

}  // namespace

TEST_CASE("event correlator keys are client-go's", "[events][E1]") {
  hpad::k8s::Event e;
  e.source_component = "horizontal-pod-autoscaler";
  e.source_host = "h";
  e.involved_object = {"HorizontalPodAutoscaler", "ns", "web", "uid-1", "autoscaling/v2", "", "spec"};
  e.type = "Warning";
  e.reason = "FailedGetScale";
  e.message = "boom";
  e.reporting_component = "horizontal-pod-autoscaler";
  e.reporting_instance = "h";
  // getEventKey: source, object (with fieldPath before uid), type, reason, message.
  CHECK(EventCorrelator::EventKey(e) ==
        "horizontal-pod-autoscalerhHorizontalPodAutoscalernswebspecuid-1autoscaling/v2WarningFailedGetScaleboom");
  // getSpamKey: source and object only (no fieldPath, type, reason or message).
  CHECK(EventCorrelator::SpamKey(e) == "horizontal-pod-autoscalerhHorizontalPodAutoscalernswebuid-1autoscaling/v2");
  // EventAggregatorByReasonFunc: no message, no fieldPath; reporting controller and instance.
  CHECK(EventCorrelator::AggregateKey(e) ==
        "horizontal-pod-autoscalerhHorizontalPodAutoscalernswebuid-1autoscaling/v2WarningFailedGetScale"
        "horizontal-pod-autoscalerh");
}

TEST_CASE("a 10-minute metrics outage of one HPA writes about 25 Events, not 80 (E1)", "[events][E1]") {
  SimulatedClock clock(kStart);
  FakeApiClient api;
  ApiEventRecorder rec(api, clock);
  const std::string metric_msg =
      "failed to get cpu utilization: unable to get metrics for resource cpu: no metrics returned from resource "
      "metrics API";
  const std::string compute_msg = "invalid metrics (1 invalid out of 1), first error is: " + metric_msg;
  // Every 15 s for 10 minutes, each reconcile records the same two warnings.
  std::vector<size_t> writes_at;  // cumulative writes after each reconcile
  for (int i = 0; i < 40; ++i) {
    rec.Event(kHpa, "Warning", "FailedGetResourceMetric", metric_msg);
    rec.Event(kHpa, "Warning", "FailedComputeMetricsReplicas", compute_msg);
    rec.Flush();
    writes_at.push_back(EventWrites(api));
    clock.Advance(15s);
  }
  const size_t writes = EventWrites(api);
  CAPTURE(writes);
  // Burst 25, then 1 per 300 s: 25 in the first 3 minutes, one more at ~5 min.
  CHECK(writes >= 25);
  CHECK(writes <= 27);
  CHECK(writes_at[12] >= 25);                 // the burst is spent by t=180s
  CHECK(writes - writes_at[12] <= 2);         // then at most one per 300 s
  CHECK(rec.filtered() == 80 - writes);       // the rest never reached the API
  CHECK(rec.dropped() == 0);

  // Two Events, created once, then patched (E1 b).
  CHECK(api.ActionsFor("create", "events").size() == 2);
  auto events = api.Objects(resources::kEvents, "default");
  REQUIRE(events.size() == 2);
  for (const auto& ev : events) {
    CAPTURE(ev.dump());
    auto last = ParseRfc3339(ev["lastTimestamp"].get<std::string>());
    REQUIRE(last.ok());
    // The count includes the repeats the spam filter held back: the n-th
    // reconcile (from 0) at lastTimestamp means count n + 1.
    const auto n = std::chrono::duration_cast<std::chrono::seconds>(*last - kStart).count() / 15;
    CHECK(ev["count"] == n + 1);
    CHECK(ev["firstTimestamp"] == FormatRfc3339(kStart));
  }

  SECTION("the spam filter is per object: another HPA still gets its events") {
    EventObjectRef other = kHpa;
    other.name = "other";
    other.uid = "uid-2";
    rec.Event(other, "Warning", "FailedGetResourceMetric", metric_msg);
    rec.Flush();
    CHECK(EventWrites(api) == writes + 1);
  }
}

TEST_CASE("ten distinct messages for one reason within 600 s aggregate (E1 a)", "[events][E1]") {
  SimulatedClock clock(kStart);
  FakeApiClient api;
  ApiEventRecorder rec(api, clock);
  for (int i = 0; i < 9; ++i) {
    rec.Event(kHpa, "Normal", "SuccessfulRescale", "New size: " + std::to_string(i + 2));
    clock.Advance(30s);
  }
  rec.Flush();
  CHECK(api.Objects(resources::kEvents).size() == 9);
  rec.Event(kHpa, "Normal", "SuccessfulRescale", "New size: 11");
  rec.Flush();
  auto events = api.Objects(resources::kEvents);
  REQUIRE(events.size() == 10);
  const Json* combined = EventWithMessage(events, "(combined from similar events): New size: 11");
  REQUIRE(combined != nullptr);
  CHECK((*combined)["count"] == 1);
  CHECK((*combined)["reason"] == "SuccessfulRescale");
  CHECK((*combined)["involvedObject"]["name"] == "php-apache");

  // The next new message patches the aggregate Event instead of creating one.
  clock.Advance(30s);
  rec.Event(kHpa, "Normal", "SuccessfulRescale", "New size: 12");
  rec.Flush();
  events = api.Objects(resources::kEvents);
  REQUIRE(events.size() == 10);
  combined = EventWithMessage(events, "(combined from similar events): New size: 12");
  REQUIRE(combined != nullptr);
  CHECK((*combined)["count"] == 2);
  CHECK((*combined)["lastTimestamp"] == FormatRfc3339(kStart + 300s));

  SECTION("another reason is another aggregate") {
    rec.Event(kHpa, "Warning", "FailedRescale", "New size: 13");
    rec.Flush();
    CHECK(EventWithMessage(api.Objects(resources::kEvents), "New size: 13") != nullptr);
  }
  SECTION("after more than 600 s without one, counting starts afresh") {
    clock.Advance(601s);
    rec.Event(kHpa, "Normal", "SuccessfulRescale", "New size: 14");
    rec.Flush();
    CHECK(EventWithMessage(api.Objects(resources::kEvents), "New size: 14") != nullptr);
  }
}

TEST_CASE("event correlator: a filtered repeat still advances the count (E1 b, c)", "[events][E1]") {
  hpad::k8s::EventCorrelatorOptions opts;
  opts.spam_burst = 2;
  EventCorrelator c(opts);
  hpad::k8s::Event e;
  e.metadata.name = "php-apache.1";
  e.metadata.ns = "default";
  e.involved_object.kind = "HorizontalPodAutoscaler";
  e.involved_object.name = "php-apache";
  e.type = "Warning";
  e.reason = "FailedGetScale";
  e.message = "boom";
  e.count = 1;
  hpad::MonoTime t{};
  auto first = c.Correlate(e, t);
  CHECK_FALSE(first.skip);
  CHECK(first.event.count == 1);
  CHECK(first.event.metadata.name == "php-apache.1");
  e.metadata.name = "php-apache.2";  // the recorder names each event afresh
  auto second = c.Correlate(e, t + 1s);
  CHECK_FALSE(second.skip);
  CHECK(second.event.count == 2);
  CHECK(second.event.metadata.name == "php-apache.1");  // patches the first
  auto third = c.Correlate(e, t + 2s);
  CHECK(third.skip);  // burst of 2 spent
  auto fourth = c.Correlate(e, t + 302s);  // one token back after 300 s
  CHECK_FALSE(fourth.skip);
  CHECK(fourth.event.count == 4);

  SECTION("Restore undoes the logger step of a write that failed") {
    auto fifth = c.Correlate(e, t + 602s);
    REQUIRE_FALSE(fifth.skip);
    CHECK(fifth.event.count == 5);
    c.Restore(fifth);
    auto again = c.Correlate(e, t + 902s);
    CHECK(again.event.count == 5);
  }
}

// ---- Issue 15 item 3: event writes never starve scale and status writes ----
//
// The mechanism (divergence 24): the daemon's event recorder writes through
// RestApiClient::Background() (controller/wiring.cc), which shares the one
// client-side token bucket (--kube-api-qps 20, --kube-api-burst 30) with
// the controller's scale and status writes but takes a token only while
// half the burst (15) stays in the bucket; a foreground request takes one
// whenever it wants (going into debt and waiting at qps, never behind a
// background waiter). So, however long the event backlog, a foreground
// write waits only for other foreground writes: the i-th write of a burst
// goes out after max(0, i - 14) / qps at the latest.
// The backlog here is the largest one there can be: 1,000 failing HPAs'
// Warnings every period fill the recorder's queue (max_queued 1000, the
// excess dropped; the spam filter, 25 per HPA then 1 per 5 min, only limits
// how fast a drained queue refills). Everything runs in virtual time, driven in 5 ms steps
// once every thread is asleep on the clock, so each send instant is exact.
namespace {

using hpad::MonoTime;
using hpad::k8s::ApiClient;
using hpad::k8s::HttpRequest;
using hpad::k8s::HttpResponse;
using hpad::k8s::HttpStream;
using hpad::k8s::HttpTransport;
using hpad::k8s::ObjectKey;
using hpad::k8s::RestApiClient;
using hpad::k8s::RestApiClientOptions;

struct Sent {
  std::string method, path;
  MonoTime at;
};

// Answers every request at once (201 for POST, 200 otherwise, the body
// echoed) and records what was sent when, on the injected clock.
class TimedTransport final : public HttpTransport {
 public:
  explicit TimedTransport(const hpad::Clock& clock) : clock_(clock) {}
  hpad::Result<HttpResponse> Send(const HttpRequest& r) override {
    std::lock_guard<std::mutex> l(mu_);
    sent_.push_back({r.method, r.path_and_query, clock_.MonoNow()});
    return HttpResponse{r.method == "POST" ? 201 : 200, {}, r.body.empty() ? "{}" : r.body};
  }
  hpad::Result<std::unique_ptr<HttpStream>> OpenStream(const HttpRequest&) override {
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

constexpr int kFailingHpas = 1000;
constexpr int kHealthyHpas = 100;  // one status write each per period
constexpr auto kPeriod = 15s;
constexpr int kPeriods = 2;
constexpr auto kStep = 5ms;

bool IsEventWrite(const Sent& s) { return s.path.find("/events") != std::string::npos; }

struct OutageRun {
  std::vector<Sent> sends;  // every request, send instants relative to t0
  uint64_t dropped = 0;     // events the recorder's full queue refused
  uint64_t filtered = 0;    // events the spam filter held back
  bool settled = true;      // every wait on the threads ended (false: a test failure)
};

// At the start of each of two 15 s sync periods, 1,000 failing HPAs each
// record a Warning into an ApiEventRecorder that writes through
// `events_in_background` ? api.Background() : api, and a controller thread
// writes the status of 100 healthy HPAs. The recorder's queue (1,000)
// refuses what does not fit, as client-go's broadcaster does. Returns every
// request with its send instant, after the event backlog drained.
OutageRun RunOutage(bool events_in_background) {
  OutageRun run;
  SimulatedClock clock(kStart);
  auto owned = std::make_unique<TimedTransport>(clock);
  TimedTransport& transport = *owned;
  RestApiClientOptions opts;  // the daemon's defaults: qps 20, burst 30
  RestApiClient api(std::move(owned), clock, opts);
  ApiClient& events_api = events_in_background ? api.Background() : static_cast<ApiClient&>(api);
  const MonoTime t0 = clock.MonoNow();
  {
    ApiEventRecorder recorder(events_api, clock);
    auto record_failures = [&] {
      for (int i = 0; i < kFailingHpas; ++i) {
        EventObjectRef hpa = kHpa;
        hpa.name = "failing-" + std::to_string(i);
        hpa.uid = "uid-f" + std::to_string(i);
        recorder.Event(hpa, "Warning", "FailedGetResourceMetric",
                       "unable to get metrics for resource cpu: no metrics returned from resource metrics API");
      }
    };
    record_failures();
    // The recorder's worker has taken what the bucket lets it and waits.
    run.settled = clock.AwaitSleepers(1);

    std::atomic<bool> controller_done{false};
    std::thread controller([&] {
      for (int p = 0; p < kPeriods; ++p) {
        clock.WaitUntil(t0 + p * kPeriod, nullptr);
        for (int i = 0; i < kHealthyHpas; ++i) {
          const ObjectKey status{hpad::k8s::resources::kHpaV2, "default", "healthy-" + std::to_string(i), "status"};
          (void)api.Update(status, Json{{"kind", "HorizontalPodAutoscaler"}});
        }
      }
      controller_done = true;
    });
    // Every thread asleep on the clock (the controller may have finished).
    auto settle = [&] {
      for (int tries = 0; tries < 10000; ++tries) {
        if (controller_done) return clock.AwaitSleepers(1);
        if (clock.AwaitSleepers(2, std::chrono::milliseconds(1))) return true;
      }
      return false;
    };
    int next_batch = 1;
    while (run.settled && clock.MonoNow() < t0 + kPeriods * kPeriod) {
      if (next_batch < kPeriods && clock.MonoNow() == t0 + next_batch * kPeriod) {
        record_failures();  // the next period's failures, at its first instant
        ++next_batch;
      }
      run.settled = settle();
      clock.Advance(kStep);
    }
    controller.join();
    // Drain the backlog (each 1 s step refills the bucket), so no event
    // is left for the destructor and every accepted one is shown written.
    const auto accepted = static_cast<std::ptrdiff_t>(kPeriods * kFailingHpas - recorder.dropped());
    auto events_sent = [&] {
      auto sent = transport.Sends();
      return std::count_if(sent.begin(), sent.end(), IsEventWrite);
    };
    auto drained_or_asleep = [&] {
      for (int tries = 0; tries < 10000; ++tries) {
        if (events_sent() >= accepted || clock.AwaitSleepers(1, std::chrono::milliseconds(1))) return true;
      }
      return false;
    };
    for (int i = 0; run.settled && i < 1000; ++i) {
      run.settled = drained_or_asleep();
      if (events_sent() >= accepted) break;
      clock.Advance(1s);
    }
    recorder.Flush();
    run.dropped = recorder.dropped();
    run.filtered = recorder.filtered();
  }
  run.sends = transport.Sends();
  for (auto& sent : run.sends) sent.at = MonoTime{} + (sent.at - t0);
  return run;
}

// Send instants of the status writes of period p, in order, from the period's start.
std::vector<hpad::Duration> StatusWritesOfPeriod(const std::vector<Sent>& sends, int p) {
  std::vector<hpad::Duration> out;
  for (const auto& s : sends) {
    if (s.path.find("/status") == std::string::npos) continue;
    auto since = (s.at - MonoTime{}) - hpad::Duration(p * kPeriod);
    if (since >= hpad::Duration::zero() && since < kPeriod) out.push_back(since);
  }
  return out;
}

}  // namespace

TEST_CASE("1,000 failing HPAs' event writes do not starve the status writes of healthy HPAs (issue 15 item 3)",
          "[events][priority][E1]") {
  const OutageRun run = RunOutage(/*events_in_background=*/true);
  REQUIRE(run.settled);
  const auto& sends = run.sends;
  // Every event the queue took is written (a repeat as a PATCH of the
  // count); the second period's batch found the queue partly full.
  CHECK(run.filtered == 0);  // 2 per HPA: far inside the spam filter's 25
  CHECK(run.dropped > 0);
  CHECK(static_cast<uint64_t>(std::count_if(sends.begin(), sends.end(), IsEventWrite)) + run.dropped ==
        static_cast<uint64_t>(kPeriods * kFailingHpas));
  for (int p = 0; p < kPeriods; ++p) {
    CAPTURE(p);
    auto writes = StatusWritesOfPeriod(sends, p);
    REQUIRE(writes.size() == static_cast<size_t>(kHealthyHpas));
    for (size_t i = 0; i < writes.size(); ++i) {
      CAPTURE(i);
      // As if no event were queued: half the burst at once, then qps (20/s);
      // one 5 ms step of slack for the clock's stepping.
      const auto due = std::chrono::milliseconds(50) * std::max<int>(0, static_cast<int>(i) - 14);
      CHECK(writes[i] <= due + kStep);
    }
    // All 100 within 4.3 s of the period's start, against up to 1,000
    // events queued ahead of them (50 s of tokens at 20 qps).
    CHECK(writes.back() <= 4300ms);
  }
  // Events still move: in the 30 s the bucket gave 630 tokens, 200 went
  // to status writes and 15 stay in reserve; the events took the rest.
  const auto events_by_end = std::count_if(sends.begin(), sends.end(), [](const Sent& s) {
    return IsEventWrite(s) && s.at - MonoTime{} < kPeriods * kPeriod;
  });
  CHECK(events_by_end >= 400);
}

TEST_CASE("without the background priority the same event backlog delays status writes (control)",
          "[events][priority][E1]") {
  // The control for the test above: the recorder on the foreground client
  // (first come, first served, as KCM's broadcaster) makes the healthy
  // HPAs' writes share the tokens with the backlog, so the bound fails.
  const OutageRun run = RunOutage(/*events_in_background=*/false);
  REQUIRE(run.settled);
  auto writes = StatusWritesOfPeriod(run.sends, 0);
  REQUIRE(writes.size() == static_cast<size_t>(kHealthyHpas));
  CHECK(writes[0] > kStep);           // even the first waits behind the events
  CHECK(writes.back() > 8000ms);      // every other token goes to an event
}
