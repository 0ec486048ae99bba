// ApiEventRecorder against FakeApiClient: core/v1 Event shape (hpa-semantics.md
// 12.3, source component horizontal-pod-autoscaler), aggregation of repeats
// into count + lastTimestamp by merge patch (client-go's correlator), and
// failures that are logged and dropped, never surfaced to the caller.
#include <catch2/catch.hpp>

#include "k8sclient/event_recorder.h"
#include "k8sclient/api/time_format.h"
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

const EventObjectRef kHpa{"autoscaling/v2", "HorizontalPodAutoscaler", "default", "php-apache", "uid-1"};

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
      "namespace":"default","name":"php-apache","uid":"uid-1"})"));
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
  rec.Event(EventObjectRef{"v1", "Node", "", "node-1", ""}, "Normal", "Seen", "hello");
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
