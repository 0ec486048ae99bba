// RestApiClient: ApiClient over an HttpTransport - the real Kubernetes client.
//
// Adds what client-go's rest client adds on top of HTTP:
// - a client-side QPS/burst limit (TokenBucket; defaults 20/30 like
//   --kube-api-qps/--kube-api-burst), waited on the injected Clock;
// - retries with jittered exponential backoff for idempotent requests (GET,
//   LIST, DELETE, raw GETs) on 5xx, 429, timeouts and connection failures,
//   honouring `Retry-After`, with a bounded number of attempts. A 429 is also
//   retried for writes: the server rejected it before doing anything. Other
//   writes (POST/PUT/PATCH) are never repeated blindly (the transport only
//   repeats one that failed while being written, which the server cannot
//   have processed: see httplib_transport.h);
// - watches over HttpTransport::OpenStream decoded by WatchEventDecoder
//   (ERROR events are passed through as kError events; see
//   StatusFromWatchError);
// - cancellation and deadlines (cancel_scope.h): the options' CancelScope
//   and the calling thread's RequestDeadlineScope bound every attempt and
//   every back-off wait; a request is never sent after either has passed;
// - leader fencing of writes (write_fence.h);
// - a background view (Background()) whose requests take a token only
//   while half the burst stays in the bucket, so a backlog of event writes
//   never delays a status write on the same client (divergence 24); they
//   wait on the clock, ending the wait on cancellation, at the thread's request
//   deadline, and are fenced like any other request;
// - a per-attempt observer (verb, resource, HTTP code, latency) so the
//   daemon can export API request metrics.
// Errors come from StatusFromHttp (api_client.h).
//
// One client is one rate limit. Several clients may share one transport
// (its connection pool), as client-go's clients made from one rest.Config
// share an http.Client while each NewForConfig builds its own token bucket:
// the daemon gives each part of the controller its own client that way
// (ControllerClients in controller/wiring.h).
//
// Ownership: shares the transport; the Clock must outlive the client.
// Thread-safety: all methods may be called concurrently; the observer is
// called on the calling thread and must be thread-safe.
#pragma once

#include <functional>
#include <memory>
#include <mutex>
#include <random>
#include <string>

#include "k8sclient/api_client.h"
#include "k8sclient/base/clock.h"
#include "k8sclient/cancel_scope.h"
#include "k8sclient/http_transport.h"
#include "k8sclient/token_bucket.h"
#include "k8sclient/write_fence.h"

namespace hpad::k8s {

// One HTTP attempt, for metrics (rest_client_requests_total /
// rest_client_request_duration_seconds in client-go).
struct RequestObservation {
  std::string verb;      // GET, LIST, WATCH, POST, PUT, PATCH, DELETE
  std::string resource;  // "pods", "deployments/scale", or "raw" for GetPath
  int http_code = 0;     // 0 when no response arrived
  StatusCode code = StatusCode::kOk;
  Duration latency{0};   // measured on the injected clock
};

struct RestApiClientOptions {
  double qps = 20;  // <= 0: unlimited
  int burst = 30;
  int max_attempts = 4;  // per idempotent request (1 = no retries)
  Duration initial_backoff = std::chrono::milliseconds(250);
  Duration max_backoff = std::chrono::seconds(8);
  Duration max_retry_after = std::chrono::seconds(60);  // cap on a server's Retry-After
  // Added to a watch's timeoutSeconds for the stream's inactivity timeout.
  Duration watch_timeout_margin = std::chrono::seconds(30);
  uint64_t jitter_seed = 0;  // 0 = random
  std::function<void(const RequestObservation&)> observer;
  // Shutdown: once cancelled, every request fails with kCancelled - pending
  // ones are aborted on the wire, back-off waits end, nothing new is sent.
  std::shared_ptr<CancelScope> cancel_scope;
  // Leader fencing (write_fence.h): when set, every POST/PUT/PATCH/DELETE is
  // checked against it just before it is sent (reason LeaseNotHeld once it
  // has closed) and aborted on the wire when it closes. Null = no fencing.
  std::shared_ptr<WriteFence> write_fence;
};

// Delay before retry number `retry` (1-based): Retry-After when the server
// sent one (seconds, capped at max_retry_after), else initial_backoff *
// 2^(retry-1) capped at max_backoff, times a jitter factor in [1, 1+jitter)
// drawn from `unit_random` in [0,1). Pure.
Duration RetryDelay(int retry, const std::optional<std::string>& retry_after_header, double unit_random,
                    const RestApiClientOptions& options, double jitter = 0.5);

class RestApiClient final : public ApiClient {
 public:
  RestApiClient(std::shared_ptr<HttpTransport> transport, const Clock& clock, RestApiClientOptions options = {});
  ~RestApiClient() override;

  Result<Json> Get(const ObjectKey& key) override;
  Result<Json> List(const GroupVersionResource& gvr, const std::string& ns, const ListOptions& opts) override;
  Result<std::unique_ptr<WatchStream>> Watch(const GroupVersionResource& gvr, const std::string& ns,
                                             const ListOptions& opts) override;
  Result<Json> Create(const GroupVersionResource& gvr, const std::string& ns, const Json& object) override;
  Result<Json> Update(const ObjectKey& key, const Json& object) override;
  Result<Json> Patch(const ObjectKey& key, PatchType type, const std::string& body) override;
  Status Delete(const ObjectKey& key) override;
  Result<Json> GetPath(const std::string& path_and_query) override;
  Result<std::string> GetPathRaw(const std::string& path_and_query) override;
  Result<RawReply> ListRaw(const GroupVersionResource& gvr, const std::string& ns, const ListOptions& opts) override;

  // A view whose requests wait while fewer than burst/2 tokens remain
  // (TokenBucket::TakeKeeping); lives as long as this client.
  ApiClient& Background() override;

  HttpTransport& transport() { return *transport_; }

 private:
  class BackgroundView;
  enum class Priority { kForeground, kBackground };
  struct Call {
    std::string verb;
    std::string resource;
    bool idempotent = false;
    Priority priority = Priority::kForeground;
  };
  // The verbs, at either priority (the public ones are foreground).
  Result<Json> GetAt(Priority p, const ObjectKey& key);
  Result<Json> ListAt(Priority p, const GroupVersionResource& gvr, const std::string& ns, const ListOptions& opts);
  Result<RawReply> ListRawAt(Priority p, const GroupVersionResource& gvr, const std::string& ns,
                             const ListOptions& opts);
  Result<std::unique_ptr<WatchStream>> WatchAt(Priority p, const GroupVersionResource& gvr, const std::string& ns,
                                               const ListOptions& opts);
  Result<Json> CreateAt(Priority p, const GroupVersionResource& gvr, const std::string& ns, const Json& object);
  Result<Json> UpdateAt(Priority p, const ObjectKey& key, const Json& object);
  Result<Json> PatchAt(Priority p, const ObjectKey& key, PatchType type, const std::string& body);
  Status DeleteAt(Priority p, const ObjectKey& key);
  Result<Json> GetPathAt(Priority p, const std::string& path_and_query);
  Result<std::string> GetPathRawAt(Priority p, const std::string& path_and_query);

  // Sends with rate limiting, retries and observation; returns the parsed
  // JSON body of a 2xx answer or the mapped error.
  Result<Json> Do(const Call& call, HttpRequest request);
  // The same, returning the 2xx body unparsed.
  Result<std::string> DoBody(const Call& call, HttpRequest& request);
  // False when the wait was ended by cancellation or (background only) by
  // the thread's request deadline; PrepareAttempt then says which.
  bool WaitForToken(Priority priority);
  bool WaitForBackgroundToken();
  // Ok, or why an attempt must not be sent now (cancelled, the thread's
  // request deadline passed, the write fence closed); sets the attempt's
  // hard timeout from the earliest deadline.
  Status PrepareAttempt(const Call& call, HttpRequest& request);
  bool Cancelled() const { return options_.cancel_scope && options_.cancel_scope->cancelled(); }
  void Observe(const Call& call, int http_code, StatusCode code, Time start);

  const std::shared_ptr<HttpTransport> transport_;
  const Clock& clock_;
  const RestApiClientOptions options_;
  std::mutex mu_;  // guards bucket_ and rng_
  TokenBucket bucket_;
  std::mt19937_64 rng_;
  std::unique_ptr<BackgroundView> background_;
};

}  // namespace hpad::k8s
