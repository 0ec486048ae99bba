#include "k8sclient/rest_api_client.h"
#include "k8sclient/base/strings.h"

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cmath>

#include "k8sclient/api/json_parse.h"
#include "k8sclient/base/text.h"
#include "k8sclient/watch_decoder.h"

namespace hpad::k8s {

namespace {

std::string ResourceName(const ObjectKey& key) {
  return key.subresource.empty() ? key.gvr.resource : key.gvr.resource + "/" + key.subresource;
}

std::string CollectionPath(const GroupVersionResource& gvr, const std::string& ns) {
  ObjectKey k{gvr, ns, "", ""};
  return k.Path();
}

bool Retryable(const Status& s, bool idempotent) {
  // A 429 means the server refused before doing anything: safe for any verb.
  if (s.code() == StatusCode::kTooManyRequests) return true;
  if (!idempotent) return false;
  return s.code() == StatusCode::kUnavailable || s.code() == StatusCode::kTimeout;
}

class RestWatchStream final : public WatchStream {
 public:
  explicit RestWatchStream(std::unique_ptr<HttpStream> stream) : stream_(std::move(stream)) {}
  ~RestWatchStream() override { stream_->Cancel(); }

  Result<std::optional<WatchEvent>> Next() override {
    for (;;) {
      auto line = stream_->ReadLine();
      if (!line.ok()) return line.status();
      if (!line->has_value()) return std::optional<WatchEvent>();  // server closed (timeoutSeconds)
      auto ev = DecodeWatchLine(**line);
      if (!ev.ok()) return ev.status();
      if (ev->has_value()) return std::move(*ev);
      // blank keep-alive line: keep reading
    }
  }

  void Cancel() override { stream_->Cancel(); }

 private:
  std::unique_ptr<HttpStream> stream_;
};

}  // namespace

Duration RetryDelay(int retry, const std::optional<std::string>& retry_after_header, double unit_random,
                    const RestApiClientOptions& options, double jitter) {
  if (retry_after_header) {
    const std::string& v = *retry_after_header;
    // Only the delta-seconds form; an HTTP-date falls back to backoff (the
    // apiserver always sends seconds).
    auto seconds = ParseUint64(v);  // digits only
    if (v.size() < 10 && seconds.ok()) {
      Duration d = std::chrono::seconds(static_cast<int64_t>(*seconds));
      return std::min(d, options.max_retry_after);
    }
  }
  double base = std::chrono::duration<double>(options.initial_backoff).count() * std::pow(2.0, std::max(0, retry - 1));
  base = std::min(base, std::chrono::duration<double>(options.max_backoff).count());
  // Jitter spreads the retries of many clients hitting one recovering server.
  double seconds = base * (1.0 + jitter * std::clamp(unit_random, 0.0, 1.0));
  return std::chrono::duration_cast<Duration>(std::chrono::duration<double>(seconds));
}

// The background view: every verb of the owning client at background
// priority. Stateless; the owner's mutex guards the shared bucket.
class RestApiClient::BackgroundView final : public ApiClient {
 public:
  explicit BackgroundView(RestApiClient& owner) : owner_(owner) {}
  Result<Json> Get(const ObjectKey& key) override { return owner_.GetAt(kBg, key); }
  Result<Json> List(const GroupVersionResource& gvr, const std::string& ns, const ListOptions& opts) override {
    return owner_.ListAt(kBg, gvr, ns, opts);
  }
  Result<std::unique_ptr<WatchStream>> Watch(const GroupVersionResource& gvr, const std::string& ns,
                                             const ListOptions& opts) override {
    return owner_.WatchAt(kBg, gvr, ns, opts);
  }
  Result<Json> Create(const GroupVersionResource& gvr, const std::string& ns, const Json& object) override {
    return owner_.CreateAt(kBg, gvr, ns, object);
  }
  Result<Json> Update(const ObjectKey& key, const Json& object) override { return owner_.UpdateAt(kBg, key, object); }
  Result<Json> Patch(const ObjectKey& key, PatchType type, const std::string& body) override {
    return owner_.PatchAt(kBg, key, type, body);
  }
  Status Delete(const ObjectKey& key) override { return owner_.DeleteAt(kBg, key); }
  Result<Json> GetPath(const std::string& path_and_query) override { return owner_.GetPathAt(kBg, path_and_query); }
  Result<std::string> GetPathRaw(const std::string& path_and_query) override {
    return owner_.GetPathRawAt(kBg, path_and_query);
  }
  Result<RawReply> ListRaw(const GroupVersionResource& gvr, const std::string& ns, const ListOptions& opts) override {
    return owner_.ListRawAt(kBg, gvr, ns, opts);
  }
  ApiClient& Background() override { return *this; }

 private:
  static constexpr Priority kBg = Priority::kBackground;
  RestApiClient& owner_;
};

RestApiClient::RestApiClient(std::shared_ptr<HttpTransport> transport, const Clock& clock, RestApiClientOptions options)
    : transport_(std::move(transport)),
      clock_(clock),
      options_(std::move(options)),
      bucket_(options_.qps, options_.burst, clock.MonoNow()),
      rng_(options_.jitter_seed != 0 ? options_.jitter_seed : std::random_device{}()),
      background_(std::make_unique<BackgroundView>(*this)) {
  HPAD_CHECK(transport_ != nullptr);
}

RestApiClient::~RestApiClient() = default;

ApiClient& RestApiClient::Background() { return *background_; }

bool RestApiClient::WaitForToken(Priority priority) {
  if (priority == Priority::kBackground) return WaitForBackgroundToken();
  Duration wait;
  {
    std::lock_guard<std::mutex> l(mu_);
    wait = bucket_.Reserve(clock_.MonoNow());
  }
  if (wait > Duration::zero()) {
    if (options_.cancel_scope) {
      clock_.WaitFor(wait, [this] { return Cancelled(); });
    } else {
      clock_.WaitFor(wait, nullptr);
    }
  }
  return !Cancelled();
}

bool RestApiClient::WaitForBackgroundToken() {
  // Divergence 24: half the burst is kept for foreground callers. A
  // background caller takes a token only while that half stays; otherwise
  // it sleeps until the bucket could hold reserve + 1 tokens and looks
  // again (foreground callers may have taken them meanwhile: they go first,
  // and since they go into debt rather than wait for us, never behind us).
  const double reserve = static_cast<double>(bucket_.burst() / 2);
  for (;;) {
    if (Cancelled()) return false;
    const MonoTime now = clock_.MonoNow();
    Duration wait;
    {
      std::lock_guard<std::mutex> l(mu_);
      if (bucket_.TakeKeeping(now, reserve)) return true;
      wait = bucket_.TimeUntil(now, reserve + 1.0);
    }
    // Never past the caller's deadline: a background write that cannot get
    // a token in time is not sent (PrepareAttempt reports the deadline).
    MonoTime until = AddSaturating(now, std::max(wait, Duration(1)));
    if (auto deadline = CurrentRequestDeadline()) {
      if (*deadline <= now) return false;
      until = std::min(until, *deadline);
    }
    if (options_.cancel_scope) {
      clock_.WaitUntil(until, [this] { return Cancelled(); });
    } else {
      clock_.WaitUntil(until, nullptr);
    }
  }
}

namespace {
bool IsWrite(const std::string& verb) {
  return verb == "POST" || verb == "PUT" || verb == "PATCH" || verb == "DELETE";
}
std::chrono::milliseconds CeilMs(Duration d) {
  auto ms = std::chrono::ceil<std::chrono::milliseconds>(d);
  return ms.count() < 1 ? std::chrono::milliseconds(1) : ms;
}
}  // namespace

Status RestApiClient::PrepareAttempt(const Call& call, HttpRequest& request) {
  const std::string what = call.verb + " " + SafeText(request.path_and_query, 256);
  if (Cancelled()) return Status(StatusCode::kCancelled, what + ": cancelled (shutting down)", "Cancelled");
  request.cancel = options_.cancel_scope;
  const MonoTime now = clock_.MonoNow();
  std::optional<Duration> left;
  if (auto deadline = CurrentRequestDeadline()) {
    left = *deadline - now;
    if (*left <= Duration::zero())
      return Status(StatusCode::kTimeout, what + ": not sent: the caller's deadline has passed", "Timeout");
  }
  if (options_.write_fence && IsWrite(call.verb)) {
    // Just before sending (after any rate-limit wait): a replica resumed
    // after a freeze must find out here, not after the server applied it.
    if (Status s = options_.write_fence->Check(now, what); !s.ok()) return s;
    Duration fence_left = options_.write_fence->Remaining(now);
    if (!left || fence_left < *left) left = fence_left;
  }
  if (left) request.hard_timeout = CeilMs(*left);
  return Status::Ok();
}

void RestApiClient::Observe(const Call& call, int http_code, StatusCode code, Time start) {
  if (!options_.observer) return;
  RequestObservation o;
  o.verb = call.verb;
  o.resource = call.resource;
  o.http_code = http_code;
  o.code = code;
  o.latency = clock_.Now() - start;
  options_.observer(o);
}

Result<Json> RestApiClient::Do(const Call& call, HttpRequest request) {
  auto body = DoBody(call, request);
  if (!body.ok()) return body.status();
  if (body->empty()) return Json();
  // The reply is foreign: size and depth are bounded, the result is moved
  // out (never copied; it can be a large list).
  auto parsed = ParseForeignJson(*body, ReplyName(call.verb, request.path_and_query));
  if (!parsed.ok()) return InternalError(parsed.status().message());
  return std::move(*parsed);
}

Result<std::string> RestApiClient::DoBody(const Call& call, HttpRequest& request) {
  int attempts = std::max(1, options_.max_attempts);
  Status last;
  for (int attempt = 1;; ++attempt) {
    WaitForToken(call.priority);
    if (Status s = PrepareAttempt(call, request); !s.ok()) return s;
    Time start = clock_.Now();
    auto resp = transport_->Send(request);
    std::optional<std::string> retry_after;
    if (resp.ok()) {
      Status s = StatusFromHttp(resp->status, resp->body);
      Observe(call, resp->status, s.code(), start);
      if (s.ok()) return std::move(resp->body);
      last = s;
      retry_after = FindHeader(resp->headers, "Retry-After");
    } else {
      Observe(call, 0, resp.status().code(), start);
      last = resp.status();
    }
    if (attempt >= attempts || !Retryable(last, call.idempotent) || Cancelled()) return last;
    double u;
    {
      std::lock_guard<std::mutex> l(mu_);
      u = std::uniform_real_distribution<double>(0.0, 1.0)(rng_);
    }
    // The back-off is an interval: measured on monotonic time.
    Duration delay = RetryDelay(attempt, retry_after, u, options_);
    if (auto deadline = CurrentRequestDeadline(); deadline && clock_.MonoNow() + delay >= *deadline) return last;
    if (options_.cancel_scope) {
      clock_.WaitFor(delay, [this] { return Cancelled(); });
    } else {
      clock_.WaitFor(delay, nullptr);
    }
  }
}

Result<Json> RestApiClient::Get(const ObjectKey& key) { return GetAt(Priority::kForeground, key); }
Result<Json> RestApiClient::List(const GroupVersionResource& gvr, const std::string& ns, const ListOptions& opts) {
  return ListAt(Priority::kForeground, gvr, ns, opts);
}
Result<std::unique_ptr<WatchStream>> RestApiClient::Watch(const GroupVersionResource& gvr, const std::string& ns,
                                                          const ListOptions& opts) {
  return WatchAt(Priority::kForeground, gvr, ns, opts);
}
Result<Json> RestApiClient::Create(const GroupVersionResource& gvr, const std::string& ns, const Json& object) {
  return CreateAt(Priority::kForeground, gvr, ns, object);
}
Result<Json> RestApiClient::Update(const ObjectKey& key, const Json& object) {
  return UpdateAt(Priority::kForeground, key, object);
}
Result<Json> RestApiClient::Patch(const ObjectKey& key, PatchType type, const std::string& body) {
  return PatchAt(Priority::kForeground, key, type, body);
}
Status RestApiClient::Delete(const ObjectKey& key) { return DeleteAt(Priority::kForeground, key); }
Result<Json> RestApiClient::GetPath(const std::string& path_and_query) {
  return GetPathAt(Priority::kForeground, path_and_query);
}
Result<std::string> RestApiClient::GetPathRaw(const std::string& path_and_query) {
  return GetPathRawAt(Priority::kForeground, path_and_query);
}
Result<ApiClient::RawReply> RestApiClient::ListRaw(const GroupVersionResource& gvr, const std::string& ns,
                                                   const ListOptions& opts) {
  return ListRawAt(Priority::kForeground, gvr, ns, opts);
}

Result<Json> RestApiClient::GetAt(Priority p, const ObjectKey& key) {
  HttpRequest r;
  r.method = "GET";
  r.path_and_query = key.Path();
  return Do({"GET", ResourceName(key), true, p}, std::move(r));
}

Result<Json> RestApiClient::ListAt(Priority p, const GroupVersionResource& gvr, const std::string& ns,
                                   const ListOptions& opts) {
  HttpRequest r;
  r.method = "GET";
  r.path_and_query = CollectionPath(gvr, ns);
  std::string q = opts.ToQuery(false);
  if (!q.empty()) r.path_and_query += "?" + q;
  return Do({"LIST", gvr.resource, true, p}, std::move(r));
}

Result<ApiClient::RawReply> RestApiClient::ListRawAt(Priority p, const GroupVersionResource& gvr,
                                                     const std::string& ns, const ListOptions& opts) {
  HttpRequest r;
  r.method = "GET";
  r.path_and_query = CollectionPath(gvr, ns);
  std::string q = opts.ToQuery(false);
  if (!q.empty()) r.path_and_query += "?" + q;
  auto body = DoBody({"LIST", gvr.resource, true, p}, r);
  if (!body.ok()) return body.status();
  // Named as Do() names the body it parses, for the caller's parse errors.
  return RawReply{std::move(*body), ReplyName("LIST", r.path_and_query)};
}

Result<std::unique_ptr<WatchStream>> RestApiClient::WatchAt(Priority p, const GroupVersionResource& gvr,
                                                            const std::string& ns, const ListOptions& opts) {
  HttpRequest r;
  r.method = "GET";
  r.path_and_query = CollectionPath(gvr, ns) + "?" + opts.ToQuery(true);
  if (opts.timeout_seconds) {
    // The transport's timeout is an inactivity limit (libraries.md §6): it
    // must outlast the server's own timeoutSeconds, or a quiet watch dies early.
    r.timeout = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::seconds(*opts.timeout_seconds) +
                                                                      options_.watch_timeout_margin);
  }
  if (!WaitForToken(p)) return Status(StatusCode::kCancelled, "WATCH " + gvr.resource + ": cancelled", "Cancelled");
  Time start = clock_.Now();
  auto stream = transport_->OpenStream(r);
  Call call{"WATCH", gvr.resource, true};
  if (!stream.ok()) {
    Observe(call, stream.status().http_code(), stream.status().code(), start);
    return stream.status();
  }
  Observe(call, (*stream)->status(), StatusCode::kOk, start);
  return std::unique_ptr<WatchStream>(std::make_unique<RestWatchStream>(std::move(*stream)));
}

Result<Json> RestApiClient::CreateAt(Priority p, const GroupVersionResource& gvr, const std::string& ns,
                                     const Json& object) {
  HttpRequest r;
  r.method = "POST";
  r.path_and_query = CollectionPath(gvr, ns);
  r.body = DumpForeign(object);  // may hold foreign strings: never throws
  r.content_type = "application/json";
  return Do({"POST", gvr.resource, false, p}, std::move(r));
}

Result<Json> RestApiClient::UpdateAt(Priority p, const ObjectKey& key, const Json& object) {
  HttpRequest r;
  r.method = "PUT";
  r.path_and_query = key.Path();
  r.body = DumpForeign(object);
  r.content_type = "application/json";
  return Do({"PUT", ResourceName(key), false, p}, std::move(r));
}

Result<Json> RestApiClient::PatchAt(Priority p, const ObjectKey& key, PatchType type, const std::string& body) {
  HttpRequest r;
  r.method = "PATCH";
  r.path_and_query = key.Path();
  r.body = body;
  r.content_type = PatchContentType(type);
  return Do({"PATCH", ResourceName(key), false, p}, std::move(r));
}

Status RestApiClient::DeleteAt(Priority p, const ObjectKey& key) {
  HttpRequest r;
  r.method = "DELETE";
  r.path_and_query = key.Path();
  auto res = Do({"DELETE", ResourceName(key), true, p}, std::move(r));
  return res.ok() ? Status::Ok() : res.status();
}

Result<Json> RestApiClient::GetPathAt(Priority p, const std::string& path_and_query) {
  if (path_and_query.empty() || path_and_query[0] != '/')
    return InvalidError("GetPath: path must start with '/': \"" + SafeText(path_and_query, 256) + "\"");
  HttpRequest r;
  r.method = "GET";
  r.path_and_query = path_and_query;
  return Do({"GET", "raw", true, p}, std::move(r));
}

Result<std::string> RestApiClient::GetPathRawAt(Priority p, const std::string& path_and_query) {
  if (path_and_query.empty() || path_and_query[0] != '/')
    return InvalidError("GetPath: path must start with '/': \"" + SafeText(path_and_query, 256) + "\"");
  HttpRequest r;
  r.method = "GET";
  r.path_and_query = path_and_query;
  return DoBody({"GET", "raw", true, p}, r);
}

std::string ReplyName(const std::string& verb, const std::string& path_and_query) {
  return verb + " " + SafeText(path_and_query, 256) + " reply";
}

}  // namespace hpad::k8s
