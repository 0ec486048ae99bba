// EventRecorder: Kubernetes Events about objects (hpa-semantics.md 12.3:
// SuccessfulRescale, FailedGetScale, ...), the way client-go's
// record.EventRecorder does it.
//
// EventRecorder is the role (a seam, architecture.md "Seams"):
//   * ApiEventRecorder writes core/v1 Events through an ApiClient. Like
//     client-go's broadcaster it never blocks or fails the caller: Event()
//     stamps the time from the injected Clock and queues the event (bounded;
//     dropped with a log line when full); a worker thread passes it through
//     an EventCorrelator (below) and writes what the correlator keeps: a
//     new Event is created, a repeat PATCHes count/lastTimestamp/message of
//     the existing one (merge patch; created afresh with the count carried
//     if it was deleted meanwhile). A write failure is logged and the event
//     dropped (client-go retries up to 12 times 10 s apart; hpad does not,
//     so a dropped write also leaves the correlator's count where it was).
//     Flush() waits for the queue to drain (tests and the scenario runner,
//     which checks events after each tick). No exception ends the worker.
//   * RecordingEventRecorder keeps events in memory (tests).
//
// EventCorrelator is client-go's tools/record EventCorrelator with the
// defaults of NewEventCorrelator (spec E1), in its order:
//   (a) aggregator: key = source, involved object (kind, namespace, name,
//       uid, apiVersion), type, reason, reporting controller and instance;
//       when 10 distinct messages were seen under one key, each gap under
//       600 s, the event becomes one aggregate Event whose message is
//       "(combined from similar events): <message>" (later ones patch it);
//   (b) logger: an event equal to a cached one (the key above plus the
//       involved fieldPath and the message) becomes count + 1 on the
//       existing Event; the cached count advances even if (c) drops it;
//   (c) spam filter: per source + involved object, a token bucket of 25
//       refilled at 1 per 300 s; an event without a token is not written.
// Each cache is an LRU of 4096 entries. Time is the clock's monotonic time
// for intervals and its wall time for the timestamps written.
//
// Thread-safety: both recorders are thread-safe (ApiEventRecorder: mu_
// guards the queue, busy_, stopping_ and the counters; the correlator and
// last_name_nanos_ belong to the worker thread). EventCorrelator is not
// thread-safe (pure: no clock, no I/O; its owner serialises calls).
#pragma once

#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <list>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "k8sclient/api/types/event.h"
#include "k8sclient/api_client.h"
#include "k8sclient/base/clock.h"
#include "k8sclient/token_bucket.h"

namespace hpad::k8s {

// The object an event is about (core/v1 ObjectReference, the fields we set).
struct EventObjectRef {
  std::string api_version{};  // "autoscaling/v2"
  std::string kind{};        // "HorizontalPodAutoscaler"
  std::string ns{};
  std::string name{};
  std::string uid{};
  // The object's resourceVersion when the event was recorded, written to
  // involvedObject.resourceVersion as client-go's GetReference does; not
  // part of any correlation key (E1).
  std::string resource_version{};
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

// client-go's NewEventCorrelator defaults (events_cache.go).
struct EventCorrelatorOptions {
  size_t lru_entries = 4096;                          // maxLruCacheEntries, per cache
  int spam_burst = 25;                                // defaultSpamBurst
  double spam_qps = 1.0 / 300.0;                      // defaultSpamQPS
  size_t aggregate_max_events = 10;                   // defaultAggregateMaxEvents
  Duration aggregate_interval = std::chrono::seconds(600);  // defaultAggregateIntervalInSeconds
};

// The prefix of an aggregate Event's message (EventAggregatorByReasonMessageFunc).
inline constexpr const char* kCombinedEventPrefix = "(combined from similar events): ";

// A least-recently-used map of bounded size (groupcache's lru.Cache as
// client-go uses it). Not thread-safe.
template <typename V>
class LruMap {
 public:
  explicit LruMap(size_t capacity) : capacity_(capacity < 1 ? 1 : capacity) {}
  // The value for `key` (marked most recently used), or nullptr.
  V* Get(const std::string& key) {
    auto it = index_.find(key);
    if (it == index_.end()) return nullptr;
    order_.splice(order_.begin(), order_, it->second);
    return &it->second->second;
  }
  // Inserts or replaces; evicts the least recently used entry past capacity.
  V& Put(const std::string& key, V value) {
    if (V* v = Get(key)) {
      *v = std::move(value);
      return *v;
    }
    order_.emplace_front(key, std::move(value));
    index_[key] = order_.begin();
    if (order_.size() > capacity_) {
      index_.erase(order_.back().first);
      order_.pop_back();
    }
    return order_.front().second;
  }
  void Erase(const std::string& key) {
    auto it = index_.find(key);
    if (it == index_.end()) return;
    order_.erase(it->second);
    index_.erase(it);
  }
  size_t size() const { return order_.size(); }

 private:
  size_t capacity_;
  std::list<std::pair<std::string, V>> order_;  // most recent first
  std::unordered_map<std::string, typename std::list<std::pair<std::string, V>>::iterator> index_;
};

class EventCorrelator {
 public:
  // What the logger remembers about one Event on the server (client-go's eventLog).
  struct Observation {
    int32_t count = 0;
    std::optional<Time> first_timestamp;
    std::string name;
    std::string resource_version;
  };
  struct Correlated {
    bool skip = false;  // filtered by the spam filter: write nothing
    Event event;        // to write: create when count == 1, else patch by name
    // The logger entry this event updated, and its value before, so a
    // failed write can be undone (Restore).
    std::string logger_key;
    std::optional<Observation> previous;
  };

  explicit EventCorrelator(EventCorrelatorOptions options = {});

  // `event` as the recorder made it (name, namespace, involved object,
  // source, reporting fields, type, reason, message, count 1, first and last
  // timestamp = now); `now` is the monotonic instant it happened.
  Correlated Correlate(const Event& event, MonoTime now);
  // After a successful write: remember the server's name, resourceVersion
  // and count for the written event (client-go's UpdateState).
  void UpdateState(const Event& written);
  // After a failed write: put the logger entry back as it was.
  void Restore(const Correlated& c);

  // client-go's getEventKey / getSpamKey / EventAggregatorByReasonFunc.
  static std::string EventKey(const Event& e);
  static std::string SpamKey(const Event& e);
  static std::string AggregateKey(const Event& e);

 private:
  struct AggregateRecord {
    std::set<std::string> local_keys;  // distinct messages seen
    MonoTime last{};
  };
  struct SpamRecord {
    TokenBucket bucket;
  };

  EventCorrelatorOptions opts_;
  LruMap<AggregateRecord> aggregates_;
  LruMap<Observation> observations_;
  LruMap<SpamRecord> spam_;
};

struct ApiEventRecorderOptions {
  std::string component = "horizontal-pod-autoscaler";  // source.component / reportingController
  std::string host;                                      // source.host / reportingInstance, optional
  size_t max_queued = 1000;       // client-go's broadcaster queue length
  EventCorrelatorOptions correlator{};  // client-go's defaults
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
  // Events the spam filter kept from being written (E1 c).
  uint64_t filtered() const;

 private:
  struct Pending {
    EventObjectRef object;
    std::string type, reason, message;
    Time when;      // written as the timestamps
    MonoTime mono;  // for the correlator's intervals
  };

  void Loop();
  // Write() with exceptions logged and counted as drops.
  void GuardedWrite(const Pending& p);
  void Write(const Pending& p);
  k8s::Event NewEvent(const Pending& p);
  std::string UniqueName(const std::string& object_name, Time when);
  // Creates `ev` (a fresh name on an AlreadyExists collision).
  Result<Json> CreateEvent(k8s::Event& ev, Time when);
  void CountDrop(const Pending& p, const Status& s, const char* what);

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
  uint64_t filtered_ = 0;

  // Only touched by the worker thread.
  EventCorrelator correlator_;
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
