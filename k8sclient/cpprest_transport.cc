// HttpTransport over cpprestsdk (asio backend) and OpenSSL. The only TU that
// includes cpprestsdk: every cpprest/boost exception is caught here and turned
// into a Status (architecture.md "Errors").
//
// Facts this relies on (libraries.md §3-6): the client timeout is an
// inactivity timeout, so a watch gets its own client with a timeout longer
// than its timeoutSeconds; a cancellation token unblocks a pending body read;
// extract_utf8string(true) ignores the content type (extract_string throws on
// e.g. strategic-merge-patch bodies); TLS material is set in the ssl context
// callback from memory buffers.
//
// Stale keep-alive connections: cpprest reuses pooled connections without
// checking them. When the server closed one while it sat idle, a request
// on it fails while being written ("Failed to write request headers/body";
// for a request without body cpprest notices at the status line and
// retries by itself). Nothing reached the server complete, so - like Go's
// net/http - Send retries such a request once, whatever its verb, on a new
// connection. cpprest puts the failed connection back into its pool (only
// a closed one is dropped) and the pool may hold more connections the
// server closed at the same time, so the pooled client is replaced by a
// new one (in-flight requests keep the old one alive until they finish) and
// the retry goes through the new client. cpprest does not say whether the
// failed connection was a reused one; a write failure on a fresh
// connection is just as unprocessed, so it is handled the same way. A
// write that timed out is not retried.
//
// Hard deadlines and cancellation (issue 14 item 5, issue 15 item 1): the
// cpprest timeout only limits inactivity, so a server trickling bytes could
// hold a request forever. Each Send exchange gets its own cancellation token;
// a DeadlineTimer (one thread per transport, sleeping until the earliest
// deadline) cancels it when HttpRequest::hard_timeout passes, and the
// request's CancelScope cancels it on shutdown. A cancelled or expired
// exchange is never retried.
#include "k8sclient/cpprest_transport.h"

#include "k8sclient/base/clock.h"

#include <algorithm>
#include <atomic>
#include <functional>
#include <map>
#include <mutex>
#include <system_error>

#include <cpprest/containerstream.h>
#include <cpprest/http_client.h>
#include <openssl/ssl.h>

#include "k8sclient/api_client.h"
#include "k8sclient/deadline_timer.h"
#include "k8sclient/base/klog.h"

namespace hpad::k8s {

namespace {

namespace http = web::http;
namespace client = web::http::client;

// TLS material shared (immutable) by every client the transport makes.
struct TlsMaterial {
  std::string ca_pem;
  std::string cert_pem;
  std::string key_pem;
  bool insecure = false;
};

// Default inactivity limit of a stream opened without an explicit timeout:
// watches are expected to pass timeoutSeconds and a matching timeout; this
// only stops a silent, half-dead connection from hanging forever.
constexpr std::chrono::hours kDefaultStreamTimeout{1};

bool IsTimeout(const std::error_code& ec, const std::string& what) {
  return ec == std::errc::timed_out || what.find("timed out") != std::string::npos ||
         what.find("Timed out") != std::string::npos;
}

Status ErrorFromException(const std::string& server, const std::exception_ptr& ep) {
  try {
    std::rethrow_exception(ep);
  } catch (const http::http_exception& e) {
    std::string what = e.what();
    if (IsTimeout(e.error_code(), what)) return Status(StatusCode::kTimeout, server + ": " + what, "Timeout");
    if (e.error_code() == std::errc::operation_canceled || what.find("canceled") != std::string::npos)
      return Status(StatusCode::kCancelled, server + ": " + what, "Cancelled");
    return UnavailableError(server + ": " + what);
  } catch (const pplx::task_canceled&) {
    return Status(StatusCode::kCancelled, server + ": request cancelled", "Cancelled");
  } catch (const std::system_error& e) {
    if (IsTimeout(e.code(), e.what())) return Status(StatusCode::kTimeout, server + ": " + e.what(), "Timeout");
    return UnavailableError(server + ": " + e.what());
  } catch (const std::exception& e) {
    return UnavailableError(server + ": " + e.what());
  } catch (...) {
    return InternalError(server + ": unknown exception from cpprestsdk");
  }
}

// The request failed while being written (see the file comment), so the
// server cannot have acted on it. cpprest's asio client reports these with
// fixed texts.
bool FailedWhileWriting(const std::exception_ptr& ep) {
  try {
    std::rethrow_exception(ep);
  } catch (const http::http_exception& e) {
    std::string what = e.what();
    if (IsTimeout(e.error_code(), what)) return false;
    return what.find("Failed to write request headers") != std::string::npos ||
           what.find("Failed to write request body") != std::string::npos;
  } catch (...) {
    return false;
  }
}

// Reads a whole response body, failing once it exceeds `limit` bytes (a
// Content-Length over the limit fails before reading anything): a broken or
// hostile server cannot make hpad allocate without bound.
std::string BodyTooLarge(size_t limit) {
  return "response body larger than the limit of " + std::to_string(limit) + " bytes";
}

Result<std::string> ReadBodyCapped(http::http_response& resp, size_t limit, const std::string& server) {
  if (resp.headers().has(http::header_names::content_length) && resp.headers().content_length() > limit)
    return UnavailableError(server + ": " + BodyTooLarge(limit));
  // Straight from the body's stream buffer into the string (a
  // container_buffer's collection() may hold bytes past what was written).
  auto sb = resp.body().streambuf();
  std::string out;
  constexpr size_t kChunk = 64 * 1024;
  for (;;) {
    size_t old = out.size();
    out.resize(old + kChunk);
    size_t n = sb.getn(reinterpret_cast<uint8_t*>(&out[old]), kChunk).get();
    out.resize(old + n);
    if (n == 0) break;
    if (out.size() > limit) return UnavailableError(server + ": " + BodyTooLarge(limit));
  }
  return out;
}

HttpHeaders CopyHeaders(const http::http_headers& h) {
  HttpHeaders out;
  for (const auto& [k, v] : h) out.emplace_back(k, v);
  return out;
}

class CpprestStream final : public HttpStream {
 public:
  CpprestStream(std::unique_ptr<client::http_client> c, pplx::cancellation_token_source cts, http::http_response resp,
                std::string server)
      : client_(std::move(c)),
        cts_(std::move(cts)),
        resp_(std::move(resp)),
        body_(resp_.body()),
        status_(resp_.status_code()),
        headers_(CopyHeaders(resp_.headers())),
        server_(std::move(server)) {}

  ~CpprestStream() override {
    // Closing the socket promptly matters: the server keeps a watch open
    // until it notices the peer went away.
    cts_.cancel();
  }

  int status() const override { return status_; }
  const HttpHeaders& headers() const override { return headers_; }

  Result<std::optional<std::string>> ReadLine() override {
    if (cancelled_.load()) return Status(StatusCode::kCancelled, "stream cancelled", "Cancelled");
    if (eof_) return std::optional<std::string>();
    try {
      // Bytes are pulled from the body's stream buffer (one blocking bumpc
      // for the first byte, then whatever is already available) into
      // pending_, so a line longer than kMaxStreamLineBytes is an error
      // instead of an unbounded buffer (istream::read_line has no limit).
      auto sb = body_.streambuf();
      for (;;) {
        size_t nl = pending_.find('\n', scanned_);
        if (nl != std::string::npos) {
          std::string line = pending_.substr(0, nl);
          pending_.erase(0, nl + 1);
          scanned_ = 0;
          if (!line.empty() && line.back() == '\r') line.pop_back();
          return std::optional<std::string>(std::move(line));
        }
        scanned_ = pending_.size();
        if (pending_.size() > kMaxStreamLineBytes) {
          return Status(StatusCode::kUnavailable,
                        server_ + ": stream line longer than the limit of " + std::to_string(kMaxStreamLineBytes) +
                            " bytes",
                        "ServiceUnavailable");
        }
        auto c = sb.bumpc().get();  // blocks for one byte, EOF, or cancellation
        if (c == concurrency::streams::char_traits<uint8_t>::eof()) {
          if (cancelled_.load()) return Status(StatusCode::kCancelled, "stream cancelled", "Cancelled");
          eof_ = true;
          if (pending_.empty()) return std::optional<std::string>();
          std::string line = std::move(pending_);  // a last line without '\n'
          pending_.clear();
          if (!line.empty() && line.back() == '\r') line.pop_back();
          return std::optional<std::string>(std::move(line));
        }
        pending_.push_back(static_cast<char>(c));
        size_t avail = sb.in_avail();
        if (avail > 0) {
          size_t want = std::min<size_t>(avail, 64 * 1024);
          size_t old = pending_.size();
          pending_.resize(old + want);
          size_t got = sb.getn(reinterpret_cast<uint8_t*>(&pending_[old]), want).get();
          pending_.resize(old + got);
        }
      }
    } catch (...) {
      if (cancelled_.load()) return Status(StatusCode::kCancelled, "stream cancelled", "Cancelled");
      return ErrorFromException(server_, std::current_exception());
    }
  }

  void Cancel() override {
    cancelled_.store(true);
    cts_.cancel();
  }

 private:
  std::unique_ptr<client::http_client> client_;
  pplx::cancellation_token_source cts_;
  http::http_response resp_;
  concurrency::streams::istream body_;
  int status_;
  HttpHeaders headers_;
  std::string server_;
  std::atomic<bool> cancelled_{false};
  bool eof_ = false;
  std::string pending_;  // bytes read but not yet returned as a line
  size_t scanned_ = 0;   // pending_[0, scanned_) holds no '\n'
};

class CpprestTransport final : public HttpTransport {
 public:
  CpprestTransport(TransportConfig config, ServerUrl url)
      : config_(std::move(config)),
        url_(std::move(url)),
        tls_(std::make_shared<TlsMaterial>()),
        max_body_bytes_(config_.max_body_bytes > 0 ? config_.max_body_bytes : kDefaultMaxBodyBytes) {
    tls_->ca_pem = config_.ca_pem;
    tls_->cert_pem = config_.client_cert_pem;
    tls_->key_pem = config_.client_key_pem;
    tls_->insecure = config_.insecure_skip_tls_verify;
  }

  const std::string& server() const override { return config_.server; }

  Result<HttpResponse> Send(const HttpRequest& request) override {
    auto r = SendOnce(request);
    if (r.ok() && r->status == 401 && config_.token_source) {
      // The token may have rotated or expired (exec plugin): refresh and try
      // once more, like client-go's exec authenticator does.
      config_.token_source->Invalidate();
      r = SendOnce(request);
    }
    return r;
  }

  Result<std::unique_ptr<HttpStream>> OpenStream(const HttpRequest& request) override {
    auto r = OpenOnce(request);
    if (!r.ok() && r.status().http_code() == 401 && config_.token_source) {
      config_.token_source->Invalidate();
      r = OpenOnce(request);
    }
    return r;
  }

 private:
  std::chrono::milliseconds Timeout(const HttpRequest& r) const {
    return r.timeout.count() > 0 ? r.timeout : config_.timeout;
  }

  client::http_client_config MakeConfig(std::chrono::milliseconds timeout) const {
    client::http_client_config cfg;
    cfg.set_timeout(timeout);
    if (url_.https()) {
      cfg.set_validate_certificates(!tls_->insecure);
      std::shared_ptr<const TlsMaterial> tls = tls_;
      cfg.set_ssl_context_callback([tls](boost::asio::ssl::context& ctx) {
        // Non-throwing overloads: the PEM data was validated when the
        // transport was made, and an exception here would escape into asio.
        boost::system::error_code ec;
        if (!tls->ca_pem.empty() && !tls->insecure) {
          // A configured CA replaces the system store (kubectl trusts only it).
          SSL_CTX_set_cert_store(ctx.native_handle(), X509_STORE_new());
          ctx.add_certificate_authority(boost::asio::buffer(tls->ca_pem), ec);
        }
        if (!tls->cert_pem.empty()) {
          ctx.use_certificate_chain(boost::asio::buffer(tls->cert_pem), ec);
          ctx.use_private_key(boost::asio::buffer(tls->key_pem), boost::asio::ssl::context::pem, ec);
        }
      });
    }
    return cfg;
  }

  // A pooled client per distinct timeout (the timeout is per client in cpprest).
  std::shared_ptr<client::http_client> ClientFor(std::chrono::milliseconds timeout) {
    std::lock_guard<std::mutex> l(mu_);
    auto& slot = clients_[timeout.count()];
    if (!slot) slot = std::make_shared<client::http_client>(url_.Origin(), MakeConfig(timeout));
    return slot;
  }
  // Drops `failed` (and its connection pool) unless another thread already
  // did; returns the client to use now.
  std::shared_ptr<client::http_client> ReplaceClient(std::chrono::milliseconds timeout,
                                                     const std::shared_ptr<client::http_client>& failed) {
    std::lock_guard<std::mutex> l(mu_);
    auto& slot = clients_[timeout.count()];
    if (!slot || slot == failed) slot = std::make_shared<client::http_client>(url_.Origin(), MakeConfig(timeout));
    return slot;
  }

  Result<http::http_request> BuildRequest(const HttpRequest& r) const {
    http::http_request req(r.method);
    req.set_request_uri(url_.path_prefix + r.path_and_query);
    auto& h = req.headers();
    h.add(http::header_names::user_agent, config_.user_agent);
    h.add(http::header_names::accept, "application/json");
    for (const auto& [k, v] : r.headers) {
      h.remove(k);
      h.add(k, v);
    }
    if (config_.token_source) {
      auto token = config_.token_source->Token();
      if (!token.ok()) return token.status().WithContext("getting bearer token");
      if (!token->empty()) h.add(http::header_names::authorization, "Bearer " + *token);
    }
    if (!r.body.empty() || r.method == "POST" || r.method == "PUT" || r.method == "PATCH") {
      // Through a uint8_t container: set_body(std::string) goes via a
      // char->uint8_t stream pun inside cpprest that UBSan rejects. The
      // content type is sent as given (no charset appended).
      auto bytes = concurrency::streams::bytestream::open_istream(std::vector<uint8_t>(r.body.begin(), r.body.end()));
      req.set_body(bytes, r.body.size(), r.content_type.empty() ? "application/json" : r.content_type);
    }
    return req;
  }

  // One exchange on the pooled client; a request that failed while being
  // written is retried once on a new client (see the file comment).
  Result<HttpResponse> SendOnce(const HttpRequest& r) {
    const auto timeout = Timeout(r);
    std::shared_ptr<client::http_client> c;
    try {
      c = ClientFor(timeout);
    } catch (...) {
      return ErrorFromException(config_.server, std::current_exception());
    }
    if (r.cancel && r.cancel->cancelled())
      return Status(StatusCode::kCancelled, config_.server + ": request cancelled before it was sent", "Cancelled");
    const auto hard_deadline = r.hard_timeout.count() > 0
                                   ? std::optional(RealClock::Instance().MonoNow() + r.hard_timeout)
                                   : std::nullopt;
    bool unsent = false;
    Result<HttpResponse> out = Exchange(*c, r, hard_deadline, &unsent);
    if (!unsent) return out;
    HPAD_VLOG(2) << r.method << " " << r.path_and_query << ": " << out.status().message()
                 << "; retrying once on a new connection";
    try {
      c = ReplaceClient(timeout, c);
    } catch (...) {
      return ErrorFromException(config_.server, std::current_exception());
    }
    return Exchange(*c, r, hard_deadline, nullptr);
  }

  // `unsent`: set when the request failed while being written.
  Result<HttpResponse> Exchange(client::http_client& c, const HttpRequest& r,
                                std::optional<std::chrono::steady_clock::time_point> hard_deadline, bool* unsent) {
    Result<http::http_request> req = InternalError("unset");
    try {
      req = BuildRequest(r);  // a fresh body stream each time
    } catch (...) {  // web::uri_exception on a malformed path
      return InvalidError("bad request path \"" + r.path_and_query + "\"");
    }
    if (!req.ok()) return req.status();
    // Why the token was cancelled: 1 = the request's CancelScope, 2 = the hard deadline.
    auto aborted = std::make_shared<std::atomic<int>>(0);
    pplx::cancellation_token_source cts;
    uint64_t scope_handle = 0;
    uint64_t timer_handle = 0;
    if (hard_deadline) {
      if (RealClock::Instance().MonoNow() >= *hard_deadline) return DeadlineError(r);
      timer_handle = timer_.Add(*hard_deadline, [cts, aborted] {
        int none = 0;
        aborted->compare_exchange_strong(none, 2);
        cts.cancel();
      });
    }
    if (r.cancel) {
      scope_handle = r.cancel->OnCancel([cts, aborted] {
        int none = 0;
        aborted->compare_exchange_strong(none, 1);
        cts.cancel();
      });
    }
    struct Unregister {
      DeadlineTimer& timer;
      const std::shared_ptr<CancelScope>& scope;
      uint64_t timer_handle, scope_handle;
      ~Unregister() {
        if (timer_handle != 0) timer.Remove(timer_handle);
        if (scope && scope_handle != 0) scope->Remove(scope_handle);
      }
    } unregister{timer_, r.cancel, timer_handle, scope_handle};
    auto aborted_status = [&]() -> std::optional<Status> {
      switch (aborted->load()) {
        case 1:
          return Status(StatusCode::kCancelled, config_.server + ": " + r.method + " request cancelled", "Cancelled");
        case 2:
          return DeadlineError(r);
        default:
          return std::nullopt;
      }
    };
    try {
      http::http_response resp = c.request(*req, cts.get_token()).get();
      HttpResponse out;
      out.status = resp.status_code();
      out.headers = CopyHeaders(resp.headers());
      auto body = ReadBodyCapped(resp, max_body_bytes_, config_.server);
      if (auto a = aborted_status()) return *a;
      if (!body.ok()) return body.status();
      out.body = std::move(*body);
      return out;
    } catch (...) {
      std::exception_ptr ep = std::current_exception();
      if (auto a = aborted_status()) return *a;  // never retried
      if (unsent != nullptr) *unsent = FailedWhileWriting(ep);
      return ErrorFromException(config_.server, ep);
    }
  }

  Status DeadlineError(const HttpRequest& r) const {
    return Status(StatusCode::kTimeout,
                  config_.server + ": " + r.method + " request aborted: no complete reply within " +
                      std::to_string(r.hard_timeout.count()) + "ms",
                  "Timeout");
  }

  Result<std::unique_ptr<HttpStream>> OpenOnce(const HttpRequest& r) {
    Result<http::http_request> req = InternalError("unset");
    try {
      req = BuildRequest(r);
    } catch (...) {
      return InvalidError("bad request path \"" + r.path_and_query + "\"");
    }
    if (!req.ok()) return req.status();
    try {
      auto timeout = r.timeout.count() > 0 ? r.timeout : std::chrono::milliseconds(kDefaultStreamTimeout);
      auto c = std::make_unique<client::http_client>(url_.Origin(), MakeConfig(timeout));
      pplx::cancellation_token_source cts;
      http::http_response resp = c->request(*req, cts.get_token()).get();
      int code = resp.status_code();
      if (code < 200 || code >= 300) {
        // An error body is only quoted: a small cap is plenty.
        auto body = ReadBodyCapped(resp, 1 << 20, config_.server);
        return StatusFromHttp(code, body.ok() ? *body : body.status().message());
      }
      return std::unique_ptr<HttpStream>(
          std::make_unique<CpprestStream>(std::move(c), std::move(cts), std::move(resp), config_.server));
    } catch (...) {
      return ErrorFromException(config_.server, std::current_exception());
    }
  }

  const TransportConfig config_;
  const ServerUrl url_;
  std::shared_ptr<TlsMaterial> tls_;
  const size_t max_body_bytes_;
  std::mutex mu_;
  std::map<int64_t, std::shared_ptr<client::http_client>> clients_;
  DeadlineTimer timer_;  // last: destroyed (joined) first
};

}  // namespace

Result<std::unique_ptr<HttpTransport>> NewCpprestTransport(TransportConfig config) {
  auto url = CheckTransportConfig(config);
  if (!url.ok()) return url.status();
  if (config.timeout.count() <= 0) config.timeout = std::chrono::seconds(30);
  return std::unique_ptr<HttpTransport>(std::make_unique<CpprestTransport>(std::move(config), std::move(*url)));
}

}  // namespace hpad::k8s
