#include "k8sclient/informer.h"
#include "k8sclient/base/last_resort.h"

#include <algorithm>
#include <cmath>
#include <exception>

#include "k8sclient/base/strings.h"

namespace hpad::k8s {

namespace {

// Parses a resourceVersion as the etcd revision it is in practice; 0 if not numeric
// (resourceVersions are formally opaque, so comparisons are best effort only).
uint64_t NumericRv(const std::string& rv) {
  Result<uint64_t> n = ParseUint64(rv);
  return n.ok() ? *n : 0;
}

// A string member of a JSON object, "" when absent or not a string.
std::string StringMember(const Json& obj, const char* key) {
  if (!obj.is_object()) return "";
  auto it = obj.find(key);
  return it != obj.end() && it->is_string() ? it->get<std::string>() : std::string();
}

std::string RvOf(const Json& obj) {
  if (!obj.is_object()) return "";
  auto m = obj.find("metadata");
  if (m == obj.end()) return "";
  return StringMember(*m, "resourceVersion");
}

// A watch ERROR event carries a metav1.Status: decoded with the checked
// Status decoder under the object's own code (500 when the code is missing,
// not an integer or not a plausible HTTP status, e.g. 0 or 999).
Status StatusFromErrorEvent(const Json& object) {
  int code = 500;
  if (object.is_object()) {
    auto it = object.find("code");
    if (it != object.end() && it->is_number_integer()) {
      const int64_t c = it->get<int64_t>();
      if (c >= 100 && c <= 599) code = static_cast<int>(c);
    }
  }
  return StatusFromStatusObject(code, object);
}

}  // namespace

Duration Backoff::PeekBase() const {
  double d = static_cast<double>(initial_.count()) * std::pow(factor_, attempt_);
  if (!(d < static_cast<double>(max_.count()))) return max_;  // also catches inf
  return Duration(static_cast<Duration::rep>(d));
}

Duration Backoff::Next() {
  Duration base = PeekBase();
  ++attempt_;
  if (jitter_ <= 0) return base;
  std::uniform_real_distribution<double> u(0.0, jitter_);
  return base + Duration(static_cast<Duration::rep>(static_cast<double>(base.count()) * u(rng_)));
}

Reflector::Reflector(ApiClient& api, const Clock& clock, ReflectorOptions opts, ReflectorSink& sink)
    : api_(api), clock_(clock), opts_(std::move(opts)), sink_(sink),
      rng_(opts_.seed ? opts_.seed : std::random_device{}()) {
  if (opts_.name.empty()) opts_.name = opts_.gvr.resource;
}

Reflector::~Reflector() { Stop(); }

void Reflector::Start() {
  std::lock_guard<std::mutex> l(mu_);
  if (thread_.joinable() || stopping_) return;
  thread_ = std::thread([this] { Run(); });
}

void Reflector::Stop() {
  stopping_ = true;
  {
    std::lock_guard<std::mutex> l(mu_);
    if (current_) current_->Cancel();
  }
  clock_.Notify();  // wake a backoff wait
  if (thread_.joinable() && thread_.get_id() != std::this_thread::get_id()) thread_.join();
}

std::string Reflector::LastSyncResourceVersion() const {
  std::lock_guard<std::mutex> l(mu_);
  return last_rv_;
}

void Reflector::NoteResourceVersion(const std::string& rv) {
  if (rv.empty()) return;
  std::lock_guard<std::mutex> l(mu_);
  uint64_t n = NumericRv(rv), cur = NumericRv(last_rv_);
  if (n != 0 && cur != 0 && n < cur) return;  // never move backwards
  last_rv_ = rv;
}

bool Reflector::StaleAfterRelist(const Json& object) const {
  std::lock_guard<std::mutex> l(mu_);
  uint64_t n = NumericRv(RvOf(object));
  return relist_rv_ != 0 && n != 0 && n <= relist_rv_;
}

Result<std::string> Reflector::ListAll(std::unique_ptr<ReflectorSink::List>* list) {
  ListOptions o;
  o.label_selector = opts_.label_selector;
  o.field_selector = opts_.field_selector;
  o.limit = opts_.page_size;
  *list = sink_.BeginList();
  // A typed page decoder (issue 16) reads each page's text without a DOM;
  // it makes of every page what the DOM path below makes of it.
  const bool raw = sink_.DecodesPageText();
  std::string rv;
  while (true) {
    Status failed;
    std::string page_rv, next;
    if (raw) {
      Result<ApiClient::RawReply> page = api_.ListRaw(opts_.gvr, opts_.ns, o);
      if (!page.ok()) {
        failed = page.status();
      } else if (!page->body.empty()) {  // an empty body: List() returns null, a page without anything
        Status s = (*list)->AddPageText(page->body, page->what, &page_rv, &next);
        // A body that does not parse fails the list as List() fails on it (RestApiClient::Do).
        if (!s.ok()) return InternalError(s.message());
      }
    } else {
      Result<Json> page = api_.List(opts_.gvr, opts_.ns, o);
      if (!page.ok()) {
        failed = page.status();
      } else {
        Json& p = *page;
        // Read the page's metadata first: the items are handed over (and
        // released) before the next page is requested.
        auto meta = p.find("metadata");
        if (meta != p.end() && meta->is_object()) {
          page_rv = StringMember(*meta, "resourceVersion");
          next = StringMember(*meta, "continue");
        }
        auto items = p.find("items");
        if (items != p.end() && items->is_array()) (*list)->AddItems(*items);
      }
    }
    if (!failed.ok()) {
      // An expired continue token: start over without paging, as client-go does.
      if (failed.code() == StatusCode::kGone && !o.continue_token.empty()) {
        HPAD_LOG(Warning) << "reflector " << opts_.name << ": continue token expired, listing without paging";
        o.continue_token.clear();
        o.limit = 0;
        list->reset();  // drop what the earlier pages converted before starting over
        *list = sink_.BeginList();
        continue;
      }
      return failed;
    }
    if (!page_rv.empty()) rv = page_rv;
    if (next.empty() || o.limit == 0) break;
    o.continue_token = next;
  }
  return rv;
}

Status Reflector::Relist() {
  std::unique_ptr<ReflectorSink::List> list;
  Result<std::string> listed = ListAll(&list);
  if (!listed.ok()) return listed.status().WithContext("listing " + opts_.name);
  const std::string& rv = *listed;
  {
    std::lock_guard<std::mutex> apply(apply_mu_);
    {
      std::lock_guard<std::mutex> l(mu_);
      relist_rv_ = NumericRv(rv);
      last_rv_ = rv;  // a relist is authoritative, even if it went backwards
    }
    list->Apply(rv);
  }
  list.reset();
  ++lists_done_;
  if (!synced_.exchange(true)) clock_.Notify();  // WaitForSync waiters
  return Status::Ok();
}

Status Reflector::WatchOnce(bool* got_events, bool* error_event) {
  ListOptions o;
  o.label_selector = opts_.label_selector;
  o.field_selector = opts_.field_selector;
  o.allow_watch_bookmarks = true;
  o.resource_version = LastSyncResourceVersion();
  int64_t min_s = std::max<int64_t>(1, std::chrono::duration_cast<std::chrono::seconds>(opts_.min_watch_timeout).count());
  {
    std::lock_guard<std::mutex> l(mu_);
    o.timeout_seconds = static_cast<int>(std::uniform_int_distribution<int64_t>(min_s, 2 * min_s - 1)(rng_));
  }
  auto opened = api_.Watch(opts_.gvr, opts_.ns, o);
  if (!opened.ok()) return opened.status();
  std::unique_ptr<WatchStream> stream = std::move(*opened);
  {
    std::lock_guard<std::mutex> l(mu_);
    if (stopping_) return Status(StatusCode::kCancelled, "stopping");
    current_ = stream.get();
  }
  // Clears current_ however this function is left (an exception from the
  // sink included), so Stop() never cancels a destroyed stream.
  struct ClearCurrent {
    Reflector& r;
    ~ClearCurrent() {
      std::lock_guard<std::mutex> l(r.mu_);
      r.current_ = nullptr;
    }
  } clear_current{*this};
  ++watches_started_;
  Status result;
  while (!stopping_) {
    auto next = stream->Next();
    if (!next.ok()) {
      result = next.status();
      break;
    }
    if (!next->has_value()) break;  // server closed the stream (timeoutSeconds or connection end)
    const WatchEvent& ev = **next;
    *got_events = true;
    if (ev.type == WatchEvent::Type::kError) {
      // Whatever the code (410, 500, or an odd 0 / 999), the stream's state
      // is unknown: RunOnce relists after a backoff, as client-go's
      // ListAndWatch returns on any watch error.
      *error_event = true;
      result = StatusFromErrorEvent(ev.object);
      if (result.ok()) result = Status(StatusCode::kInternal, "watch ERROR event with a success code");
      break;
    }
    std::string rv = RvOf(ev.object);
    if (ev.type == WatchEvent::Type::kBookmark) {
      NoteResourceVersion(rv);
      continue;
    }
    std::lock_guard<std::mutex> apply(apply_mu_);
    if (StaleAfterRelist(ev.object)) continue;  // a relist already covered it
    sink_.OnWatchEvent(ev.type, ev.object);
    NoteResourceVersion(rv);
  }
  return result;
}

void Reflector::WaitBackoff(Duration d) {
  clock_.WaitFor(d, [this] { return stopping_.load(); });
}

void Reflector::Run() {
  Backoff backoff(opts_.backoff_initial, opts_.backoff_max, 2.0, 1.0, opts_.seed ? opts_.seed + 1 : 0);
  bool need_list = !synced_;
  while (!stopping_) {
    // Last resort (issue 10): an exception from a handler or converter must
    // not end the reflector (the cache would silently go stale). Log, back
    // off, and start over from a relist, which re-establishes a known state.
    try {
      RunOnce(backoff, need_list);
    } catch (const std::exception& e) {
      RecordUnexpectedError("reflector", opts_.name + ": " + e.what() + " (relisting)");
      need_list = true;
      WaitBackoff(backoff.Next());
    } catch (...) {
      RecordUnexpectedError("reflector", opts_.name + ": non-standard exception (relisting)");
      need_list = true;
      WaitBackoff(backoff.Next());
    }
  }
}

void Reflector::RunOnce(Backoff& backoff, bool& need_list) {
  if (need_list) {
    Status s = Relist();
    if (stopping_) return;
    if (!s.ok()) {
      Duration d = backoff.Next();
      HPAD_LOG(Warning) << "reflector " << opts_.name << ": " << s.ToString() << "; retrying in "
                        << std::chrono::duration_cast<std::chrono::milliseconds>(d).count() << "ms";
      WaitBackoff(d);
      return;
    }
    need_list = false;
    // A successful LIST does not reset the backoff (issue 10 item 7): a
    // server answering every watch with 410 would otherwise get back-to-back
    // LISTs. Only a watch that worked (below) resets it.
  }
  const MonoTime started = clock_.MonoNow();
  bool got_events = false;
  bool error_event = false;
  Status s = WatchOnce(&got_events, &error_event);
  if (stopping_) return;
  const Duration lasted = clock_.MonoNow() - started;
  // client-go's backoff manager resets after a quiet period (2 min): a watch
  // that lived that long was healthy, however it ended.
  if (lasted >= opts_.backoff_reset_after) backoff.Reset();
  if (s.code() == StatusCode::kGone || error_event) {
    // 410: the resourceVersion fell out of the server's window; any other
    // ERROR event (odd codes included): the stream's state is unknown. Only
    // a relist recovers, after the same jittered backoff as other errors.
    need_list = true;
    Duration d = backoff.Next();
    HPAD_LOG(Warning) << "reflector " << opts_.name << ": watch "
                      << (s.code() == StatusCode::kGone ? "expired" : "ERROR event") << " (" << s.ToString()
                      << "); relisting in " << std::chrono::duration_cast<std::chrono::milliseconds>(d).count()
                      << "ms";
    WaitBackoff(d);
    return;
  }
  if (s.ok() && (got_events || lasted >= std::chrono::seconds(1))) {
    backoff.Reset();  // a normal timeoutSeconds renewal: re-watch from last RV at once
    return;
  }
  // An error, or a stream that closed at once with nothing in it (client-go's
  // "very short watch"): back off so a broken server is not hammered.
  Duration d = backoff.Next();
  HPAD_LOG(Warning) << "reflector " << opts_.name << ": watch "
                    << (s.ok() ? std::string("closed immediately") : s.ToString()) << "; reconnecting in "
                    << std::chrono::duration_cast<std::chrono::milliseconds>(d).count() << "ms";
  WaitBackoff(d);
}

}  // namespace hpad::k8s
