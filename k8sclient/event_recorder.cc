#include "k8sclient/event_recorder.h"
#include "k8sclient/base/last_resort.h"

#include <cstdio>
#include <exception>

#include "k8sclient/api/time_format.h"
#include "k8sclient/base/klog.h"

namespace hpad::k8s {

namespace {

// strings.Join(parts, "") as client-go builds its cache keys. Plain
// concatenation is ambiguous in theory ("ab"+"c" = "a"+"bc"); client-go
// accepts that and so do we, so that the same events correlate.
std::string JoinKey(std::initializer_list<const std::string*> parts) {
  size_t n = 0;
  for (const std::string* p : parts) n += p->size();
  std::string k;
  k.reserve(n);
  for (const std::string* p : parts) k += *p;
  return k;
}

}  // namespace

// ----------------------------------------------------------------- correlator

EventCorrelator::EventCorrelator(EventCorrelatorOptions options)
    : opts_(options),
      aggregates_(opts_.lru_entries),
      observations_(opts_.lru_entries),
      spam_(opts_.lru_entries) {}

std::string EventCorrelator::EventKey(const Event& e) {
  const ObjectReference& o = e.involved_object;
  return JoinKey({&e.source_component, &e.source_host, &o.kind, &o.ns, &o.name, &o.field_path, &o.uid,
                  &o.api_version, &e.type, &e.reason, &e.message});
}

std::string EventCorrelator::SpamKey(const Event& e) {
  const ObjectReference& o = e.involved_object;
  return JoinKey({&e.source_component, &e.source_host, &o.kind, &o.ns, &o.name, &o.uid, &o.api_version});
}

std::string EventCorrelator::AggregateKey(const Event& e) {
  const ObjectReference& o = e.involved_object;
  return JoinKey({&e.source_component, &e.source_host, &o.kind, &o.ns, &o.name, &o.uid, &o.api_version, &e.type,
                  &e.reason, &e.reporting_component, &e.reporting_instance});
}

EventCorrelator::Correlated EventCorrelator::Correlate(const Event& event, MonoTime now) {
  Correlated out;

  // (a) Aggregator (EventAggregate). A record not seen for longer than the
  // interval starts afresh.
  Event chosen = event;
  std::string logger_key = EventKey(event);
  const std::string aggregate_key = AggregateKey(event);
  AggregateRecord record;
  if (AggregateRecord* found = aggregates_.Get(aggregate_key); found && now - found->last <= opts_.aggregate_interval)
    record = *found;
  record.local_keys.insert(event.message);
  record.last = now;
  if (record.local_keys.size() >= opts_.aggregate_max_events) {
    // Keep the set below the maximum so each further distinct message
    // aggregates too. client-go pops an arbitrary member (Go map order);
    // we pop the smallest, which is deterministic.
    record.local_keys.erase(record.local_keys.begin());
    Event aggregate;
    aggregate.metadata.name = event.metadata.name;  // "<object>.<hex now>", as the recorder named it
    aggregate.metadata.ns = event.metadata.ns;
    aggregate.involved_object = event.involved_object;
    aggregate.count = 1;
    aggregate.first_timestamp = event.last_timestamp;
    aggregate.last_timestamp = event.last_timestamp;
    aggregate.message = kCombinedEventPrefix + event.message;
    aggregate.type = event.type;
    aggregate.reason = event.reason;
    aggregate.source_component = event.source_component;
    aggregate.source_host = event.source_host;
    chosen = std::move(aggregate);
    logger_key = aggregate_key;  // later aggregates patch this one Event
  }
  aggregates_.Put(aggregate_key, std::move(record));

  // (b) Logger (eventObserve): a repeat continues the cached Event.
  if (Observation* last = observations_.Get(logger_key)) {
    out.previous = *last;
    if (last->count > 0) {
      chosen.metadata.name = last->name;
      chosen.metadata.resource_version = last->resource_version;
      chosen.first_timestamp = last->first_timestamp;
      chosen.count = last->count == INT32_MAX ? INT32_MAX : last->count + 1;
    }
  }
  observations_.Put(logger_key, Observation{chosen.count, chosen.first_timestamp, chosen.metadata.name,
                                            chosen.metadata.resource_version});
  out.logger_key = logger_key;

  // (c) Spam filter (EventSourceObjectSpamFilter): after the logger, so a
  // filtered repeat still advances the count the next written one carries.
  const std::string spam_key = SpamKey(chosen);
  SpamRecord* spam = spam_.Get(spam_key);
  if (!spam) spam = &spam_.Put(spam_key, SpamRecord{TokenBucket(opts_.spam_qps, opts_.spam_burst, now)});
  out.skip = !spam->bucket.TryTake(now);
  out.event = std::move(chosen);
  return out;
}

void EventCorrelator::UpdateState(const Event& written) {
  observations_.Put(EventKey(written), Observation{written.count, written.first_timestamp, written.metadata.name,
                                                   written.metadata.resource_version});
}

void EventCorrelator::Restore(const Correlated& c) {
  if (c.previous) {
    observations_.Put(c.logger_key, *c.previous);
  } else {
    observations_.Erase(c.logger_key);
  }
}

// ------------------------------------------------------------------ recorder

ApiEventRecorder::ApiEventRecorder(ApiClient& api, const Clock& clock, ApiEventRecorderOptions options)
    : api_(api), clock_(clock), opts_(std::move(options)), correlator_(opts_.correlator) {
  worker_ = std::thread([this] { Loop(); });
}

ApiEventRecorder::~ApiEventRecorder() {
  {
    std::lock_guard<std::mutex> l(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (worker_.joinable()) worker_.join();
}

void ApiEventRecorder::Event(const EventObjectRef& object, const std::string& type, const std::string& reason,
                             const std::string& message) {
  Pending p{object, type, reason, message, clock_.Now(), clock_.MonoNow()};
  {
    std::lock_guard<std::mutex> l(mu_);
    if (stopping_ || queue_.size() >= opts_.max_queued) {
      // Log the first drop of a burst and then every 100th, not each one.
      if (dropped_++ % 100 == 0)
        HPAD_LOG(Warning) << "event recorder: queue full, dropping event " << type << " " << reason << " for "
                          << object.kind << " " << object.ns << "/" << object.name << " (" << dropped_
                          << " dropped so far)";
      return;
    }
    queue_.push_back(std::move(p));
  }
  cv_.notify_one();
}

void ApiEventRecorder::Flush() {
  std::unique_lock<std::mutex> l(mu_);
  idle_cv_.wait(l, [&] { return (queue_.empty() && !busy_) || stopping_; });
}

uint64_t ApiEventRecorder::dropped() const {
  std::lock_guard<std::mutex> l(mu_);
  return dropped_;
}

uint64_t ApiEventRecorder::filtered() const {
  std::lock_guard<std::mutex> l(mu_);
  return filtered_;
}

void ApiEventRecorder::Loop() {
  std::unique_lock<std::mutex> l(mu_);
  while (true) {
    cv_.wait(l, [&] { return !queue_.empty() || stopping_; });
    if (queue_.empty()) break;  // stopping and drained
    Pending p = std::move(queue_.front());
    queue_.pop_front();
    busy_ = true;
    l.unlock();
    GuardedWrite(p);
    l.lock();
    busy_ = false;
    if (queue_.empty()) idle_cv_.notify_all();
  }
  idle_cv_.notify_all();
}

void ApiEventRecorder::GuardedWrite(const Pending& p) {
  // Last resort (issue 10): an exception must not end the worker (every
  // later event would be lost and Flush() would hang).
  try {
    Write(p);
  } catch (const std::exception& e) {
    RecordUnexpectedError("event-recorder", "writing " + p.type + " " + p.reason + " for " + p.object.kind + " " +
                                                p.object.ns + "/" + p.object.name + ": " + e.what() + " (dropped)");
    std::lock_guard<std::mutex> l(mu_);
    ++dropped_;
  } catch (...) {
    RecordUnexpectedError("event-recorder", "non-standard exception (event dropped)");
    std::lock_guard<std::mutex> l(mu_);
    ++dropped_;
  }
}

std::string ApiEventRecorder::UniqueName(const std::string& object_name, Time when) {
  // client-go: "<name>.<hex UnixNano>". Events at one virtual instant would
  // collide, so each name is at least one nanosecond after the previous.
  int64_t nanos = std::chrono::duration_cast<std::chrono::nanoseconds>(when.time_since_epoch()).count();
  if (nanos <= last_name_nanos_) nanos = last_name_nanos_ + 1;
  last_name_nanos_ = nanos;
  char hex[24];
  std::snprintf(hex, sizeof hex, "%llx", static_cast<unsigned long long>(nanos));
  return object_name + "." + hex;
}

k8s::Event ApiEventRecorder::NewEvent(const Pending& p) {
  // client-go's makeEvent.
  k8s::Event ev;
  ev.metadata.name = UniqueName(p.object.name, p.when);
  ev.metadata.ns = p.object.ns.empty() ? "default" : p.object.ns;  // cluster-scoped objects
  ev.involved_object.kind = p.object.kind;
  ev.involved_object.ns = p.object.ns;
  ev.involved_object.name = p.object.name;
  ev.involved_object.uid = p.object.uid;
  ev.involved_object.api_version = p.object.api_version;
  ev.involved_object.resource_version = p.object.resource_version;
  ev.reason = p.reason;
  ev.message = p.message;
  ev.type = p.type;
  ev.count = 1;
  ev.first_timestamp = p.when;
  ev.last_timestamp = p.when;
  ev.source_component = opts_.component;
  ev.source_host = opts_.host;
  ev.reporting_component = opts_.component;
  ev.reporting_instance = opts_.host;
  return ev;
}

void ApiEventRecorder::CountDrop(const Pending& p, const Status& s, const char* what) {
  HPAD_LOG(Error) << "event recorder: " << what << " event " << p.type << " " << p.reason << " for "
                  << p.object.kind << " " << p.object.ns << "/" << p.object.name << ": " << s.ToString()
                  << " (dropped)";
  std::lock_guard<std::mutex> l(mu_);
  ++dropped_;
}

Result<Json> ApiEventRecorder::CreateEvent(k8s::Event& ev, Time when) {
  ev.metadata.resource_version.clear();  // a create never carries one
  Result<Json> r = api_.Create(resources::kEvents, ev.metadata.ns, EventToJson(ev));
  if (!r.ok() && r.status().code() == StatusCode::kConflict) {
    // Another recorder (another replica) used this name at the same nanosecond.
    ev.metadata.name = UniqueName(ev.involved_object.name, when);
    r = api_.Create(resources::kEvents, ev.metadata.ns, EventToJson(ev));
  }
  return r;
}

void ApiEventRecorder::Write(const Pending& p) {
  EventCorrelator::Correlated c = correlator_.Correlate(NewEvent(p), p.mono);
  if (c.skip) {
    HPAD_VLOG(4) << "event recorder: spam filter holds back " << p.type << " " << p.reason << " for "
                 << p.object.kind << " " << p.object.ns << "/" << p.object.name;
    std::lock_guard<std::mutex> l(mu_);
    ++filtered_;
    return;
  }
  k8s::Event& ev = c.event;

  // The server's copy (name, resourceVersion, count) for the correlator;
  // what we sent if the response does not decode.
  auto remember = [&](const Json& response) {
    Result<k8s::Event> written = EventFromJson(response);
    correlator_.UpdateState(written.ok() ? *written : ev);
  };

  if (ev.count > 1) {
    // A repeat: count, lastTimestamp and message of the existing Event
    // (client-go's two-way patch of exactly these fields).
    Json patch = {{"count", ev.count}, {"message", ev.message}};
    if (ev.last_timestamp) patch["lastTimestamp"] = FormatRfc3339(*ev.last_timestamp);
    Result<Json> r =
        api_.Patch(ObjectKey{resources::kEvents, ev.metadata.ns, ev.metadata.name, ""}, PatchType::kMerge, patch.dump());
    if (r.ok()) {
      remember(*r);
      return;
    }
    if (r.status().code() != StatusCode::kNotFound) {
      correlator_.Restore(c);
      CountDrop(p, r.status(), "patching");
      return;
    }
    // The Event was deleted (TTL): create it afresh, keeping the count, as client-go does.
  }
  Result<Json> r = CreateEvent(ev, p.when);
  if (!r.ok()) {
    correlator_.Restore(c);
    CountDrop(p, r.status(), "creating");
    return;
  }
  remember(*r);
}

}  // namespace hpad::k8s
