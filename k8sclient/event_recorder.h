// EventRecorder: Kubernetes Events about objects (hpa-semantics.md 12.3:
// SuccessfulRescale, FailedGetScale, ...), the way client-go's
// record.EventRecorder does it.
//
// EventRecorder is the role (a seam, architecture.md "Seams"):
//   * ApiEventRecorder writes core/v1 Events through an ApiClient. Like
//     client-go's broadcaster it never blocks or fails the caller: Event()
//     stamps the time from the injected Clock and queues the event (bounded;
//     dropped with a log line when full); a worker thread writes it. Like
//     client-go's EventCorrelator it aggregates repeats: an event with the
//     same source, object, type, reason and message as one already written
//     PATCHes that Event (merge patch) with count + 1 and a new
//     lastTimestamp instead of creating another. A write failure is logged
//     and the event dropped. Flush() waits for the queue to drain (tests and
//     the scenario runner, which checks events after each tick).
//   * RecordingEventRecorder keeps events in memory (tests).
//
// Thread-safety: all methods of both implementations are thread-safe.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <list>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "k8sclient/api_client.h"
#include "k8sclient/base/clock.h"

namespace hpad::k8s {

// The object an event is about (core/v1 ObjectReference, the fields we set).
struct EventObjectRef {
  std::string api_version;  // "autoscaling/v2"
  std::string kind;         // "HorizontalPodAutoscaler"
  std::string ns;
  std::string name;
  std::string uid;
  bool operator==(const EventObjectRef&) const = default;
};

inline constexpr const char* kEventTypeNormal = "Normal";
inline constexpr const char* kEventTypeWarning = "Warning";

class EventRecorder {
 public:
  virtual ~EventRecorder() = default;
  // `type` is "Normal" or "Warning"; `reason` UpperCamelCase; never blocks on I/O.
  virtual void Event(const EventObjectRef& object, const std::string& type, const std::string& reason,
                     const std::string& message) = 0;
};

struct ApiEventRecorderOptions {
  std::string component = "horizontal-pod-autoscaler";  // source.component / reportingController
  std::string host;                                      // source.host / reportingInstance, optional
  size_t max_queued = 1000;       // client-go's broadcaster queue length
  size_t max_correlated = 4096;   // LRU of aggregated events (client-go's maxLruCacheEntries)
};

class ApiEventRecorder final : public EventRecorder {
 public:
  // `api` and `clock` must outlive the recorder.
  ApiEventRecorder(ApiClient& api, const Clock& clock, ApiEventRecorderOptions options = {});
  // Writes what is still queued, then stops.
  ~ApiEventRecorder() override;
  ApiEventRecorder(const ApiEventRecorder&) = delete;
  ApiEventRecorder& operator=(const ApiEventRecorder&) = delete;

  void Event(const EventObjectRef& object, const std::string& type, const std::string& reason,
             const std::string& message) override;
  // Blocks until every event queued before the call has been written (or dropped).
  void Flush();
  // Events dropped so far (queue full or write failed).
  uint64_t dropped() const;

 private:
  struct Pending {
    EventObjectRef object;
    std::string type, reason, message;
    Time when;
  };
  struct Aggregate {
    std::string ns, name;  // the Event object
    int64_t count = 0;
    std::string first_timestamp;
  };

  void Loop();
  void Write(const Pending& p);
  Json NewEvent(const Pending& p, const std::string& name) const;
  std::string UniqueName(const std::string& object_name, Time when);
  void Remember(const std::string& key, Aggregate a);

  ApiClient& api_;
  const Clock& clock_;
  ApiEventRecorderOptions opts_;

  mutable std::mutex mu_;
  std::condition_variable cv_;       // work arrived / stopping
  std::condition_variable idle_cv_;  // queue drained
  std::deque<Pending> queue_;
  bool busy_ = false;
  bool stopping_ = false;
  uint64_t dropped_ = 0;

  // Correlator state, only touched by the worker thread.
  std::list<std::string> lru_;  // most recent first
  std::unordered_map<std::string, std::pair<Aggregate, std::list<std::string>::iterator>> aggregates_;
  int64_t last_name_nanos_ = 0;

  std::thread worker_;
};

// In-memory recorder for tests: keeps every event in order.
class RecordingEventRecorder final : public EventRecorder {
 public:
  struct Recorded {
    EventObjectRef object;
    std::string type, reason, message;
    // "Warning FailedGetScale message", as client-go's FakeRecorder prints events.
    std::string ToString() const { return type + " " + reason + " " + message; }
  };
  void Event(const EventObjectRef& object, const std::string& type, const std::string& reason,
             const std::string& message) override {
    std::lock_guard<std::mutex> l(mu_);
    events_.push_back({object, type, reason, message});
  }
  std::vector<Recorded> Events() const {
    std::lock_guard<std::mutex> l(mu_);
    return events_;
  }
  std::vector<std::string> Strings() const {
    std::lock_guard<std::mutex> l(mu_);
    std::vector<std::string> out;
    for (const auto& e : events_) out.push_back(e.ToString());
    return out;
  }
  void Clear() {
    std::lock_guard<std::mutex> l(mu_);
    events_.clear();
  }

 private:
  mutable std::mutex mu_;
  std::vector<Recorded> events_;
};

}  // namespace hpad::k8s
