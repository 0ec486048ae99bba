#include "k8sclient/event_recorder.h"

#include <cstdio>

#include "k8sclient/base/klog.h"
#include "k8sclient/api/time_format.h"

namespace hpad::k8s {

namespace {

// client-go's getEventKey: events equal in all of these are one aggregated Event.
std::string CorrelationKey(const std::string& component, const std::string& host, const EventObjectRef& o,
                           const std::string& type, const std::string& reason, const std::string& message) {
  std::string k;
  for (const std::string* s : {&component, &host, &o.kind, &o.ns, &o.name, &o.uid, &o.api_version, &type, &reason,
                               &message}) {
    k += *s;
    k += '\x1f';  // unit separator: no field contains it
  }
  return k;
}

}  // namespace

ApiEventRecorder::ApiEventRecorder(ApiClient& api, const Clock& clock, ApiEventRecorderOptions options)
    : api_(api), clock_(clock), opts_(std::move(options)) {
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
  Pending p{object, type, reason, message, clock_.Now()};
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

void ApiEventRecorder::Loop() {
  std::unique_lock<std::mutex> l(mu_);
  while (true) {
    cv_.wait(l, [&] { return !queue_.empty() || stopping_; });
    if (queue_.empty()) break;  // stopping and drained
    Pending p = std::move(queue_.front());
    queue_.pop_front();
    busy_ = true;
    l.unlock();
    Write(p);
    l.lock();
    busy_ = false;
    if (queue_.empty()) idle_cv_.notify_all();
  }
  idle_cv_.notify_all();
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

Json ApiEventRecorder::NewEvent(const Pending& p, const std::string& name) const {
  const std::string ns = p.object.ns.empty() ? "default" : p.object.ns;  // cluster-scoped objects
  const std::string ts = FormatRfc3339(p.when);
  Json involved = {{"kind", p.object.kind}, {"name", p.object.name}};
  if (!p.object.api_version.empty()) involved["apiVersion"] = p.object.api_version;
  if (!p.object.ns.empty()) involved["namespace"] = p.object.ns;
  if (!p.object.uid.empty()) involved["uid"] = p.object.uid;
  Json source = {{"component", opts_.component}};
  if (!opts_.host.empty()) source["host"] = opts_.host;
  Json ev = {{"apiVersion", "v1"},
             {"kind", "Event"},
             {"metadata", {{"name", name}, {"namespace", ns}}},
             {"involvedObject", involved},
             {"reason", p.reason},
             {"message", p.message},
             {"type", p.type},
             {"source", source},
             {"firstTimestamp", ts},
             {"lastTimestamp", ts},
             {"count", 1},
             {"reportingComponent", opts_.component},
             {"reportingInstance", opts_.host}};
  return ev;
}

void ApiEventRecorder::Remember(const std::string& key, Aggregate a) {
  auto it = aggregates_.find(key);
  if (it != aggregates_.end()) {
    lru_.erase(it->second.second);
    aggregates_.erase(it);
  }
  lru_.push_front(key);
  aggregates_.emplace(key, std::make_pair(std::move(a), lru_.begin()));
  while (aggregates_.size() > opts_.max_correlated) {
    aggregates_.erase(lru_.back());
    lru_.pop_back();
  }
}

void ApiEventRecorder::Write(const Pending& p) {
  const std::string key = CorrelationKey(opts_.component, opts_.host, p.object, p.type, p.reason, p.message);
  const std::string ts = FormatRfc3339(p.when);
  auto drop = [&](const Status& s, const char* what) {
    HPAD_LOG(Error) << "event recorder: " << what << " event " << p.type << " " << p.reason << " for "
                    << p.object.kind << " " << p.object.ns << "/" << p.object.name << ": " << s.ToString()
                    << " (dropped)";
    std::lock_guard<std::mutex> l(mu_);
    ++dropped_;
  };

  int64_t count = 1;
  std::string first = ts;
  auto it = aggregates_.find(key);
  if (it != aggregates_.end()) {
    // A repeat: bump count and lastTimestamp on the existing Event (client-go's eventLogger).
    Aggregate a = it->second.first;
    Json patch = {{"count", a.count + 1}, {"lastTimestamp", ts}, {"message", p.message}};
    Result<Json> r = api_.Patch(ObjectKey{resources::kEvents, a.ns, a.name, ""}, PatchType::kMerge, patch.dump());
    if (r.ok()) {
      a.count += 1;
      Remember(key, std::move(a));
      return;
    }
    if (r.status().code() != StatusCode::kNotFound) {
      drop(r.status(), "patching");
      return;
    }
    // The Event was deleted (TTL): create it afresh, keeping the count, as client-go does.
    count = a.count + 1;
    first = a.first_timestamp;
  }

  std::string name = UniqueName(p.object.name, p.when);
  Json ev = NewEvent(p, name);
  ev["count"] = count;
  ev["firstTimestamp"] = first;
  Result<Json> r = api_.Create(resources::kEvents, ev["metadata"]["namespace"].get<std::string>(), ev);
  if (!r.ok() && r.status().code() == StatusCode::kConflict) {
    // Another recorder (another replica) used this name at the same nanosecond.
    name = UniqueName(p.object.name, p.when);
    ev["metadata"]["name"] = name;
    r = api_.Create(resources::kEvents, ev["metadata"]["namespace"].get<std::string>(), ev);
  }
  if (!r.ok()) {
    drop(r.status(), "creating");
    return;
  }
  Remember(key, Aggregate{ev["metadata"]["namespace"].get<std::string>(), name, count, first});
}

}  // namespace hpad::k8s
