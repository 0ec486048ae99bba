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
#include "k8sclient/cpprest_transport.h"

#include <atomic>
#include <map>
#include <mutex>
#include <system_error>

#include <cpprest/containerstream.h>
#include <cpprest/http_client.h>
#include <openssl/ssl.h>

#include "k8sclient/api_client.h"
#include "k8sclient/cert_authority.h"
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
      // The body is a stream of uint8_t: read into a buffer of the same
      // character type (a container_buffer<std::string> compiles but is a
      // type pun that UBSan flags inside cpprest).
      concurrency::streams::container_buffer<std::vector<uint8_t>> buf;
      size_t n = body_.read_line(buf).get();
      if (n == 0 && body_.is_eof()) {
        eof_ = true;
        return std::optional<std::string>();
      }
      const std::vector<uint8_t>& bytes = buf.collection();
      std::string line(bytes.begin(), bytes.end());
      if (!line.empty() && line.back() == '\r') line.pop_back();
      return std::optional<std::string>(std::move(line));
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
};

class CpprestTransport final : public HttpTransport {
 public:
  CpprestTransport(TransportConfig config, ServerUrl url)
      : config_(std::move(config)), url_(std::move(url)), tls_(std::make_shared<TlsMaterial>()) {
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
    bool unsent = false;
    Result<HttpResponse> out = Exchange(*c, r, &unsent);
    if (!unsent) return out;
    HPAD_VLOG(2) << r.method << " " << r.path_and_query << ": " << out.status().message()
                 << "; retrying once on a new connection";
    try {
      c = ReplaceClient(timeout, c);
    } catch (...) {
      return ErrorFromException(config_.server, std::current_exception());
    }
    return Exchange(*c, r, nullptr);
  }

  // `unsent`: set when the request failed while being written.
  Result<HttpResponse> Exchange(client::http_client& c, const HttpRequest& r, bool* unsent) {
    Result<http::http_request> req = InternalError("unset");
    try {
      req = BuildRequest(r);  // a fresh body stream each time
    } catch (...) {  // web::uri_exception on a malformed path
      return InvalidError("bad request path \"" + r.path_and_query + "\"");
    }
    if (!req.ok()) return req.status();
    try {
      http::http_response resp = c.request(*req).get();
      HttpResponse out;
      out.status = resp.status_code();
      out.headers = CopyHeaders(resp.headers());
      out.body = resp.extract_utf8string(/*ignore_content_type=*/true).get();
      return out;
    } catch (...) {
      std::exception_ptr ep = std::current_exception();
      if (unsent != nullptr) *unsent = FailedWhileWriting(ep);
      return ErrorFromException(config_.server, ep);
    }
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
        std::string body = resp.extract_utf8string(true).get();
        return StatusFromHttp(code, body);
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
  std::mutex mu_;
  std::map<int64_t, std::shared_ptr<client::http_client>> clients_;
};

}  // namespace

Result<std::unique_ptr<HttpTransport>> NewCpprestTransport(TransportConfig config) {
  auto url = ParseServerUrl(config.server);
  if (!url.ok()) return url.status();
  if (!config.ca_pem.empty()) {
    if (Status s = CheckPemCertificates(config.ca_pem); !s.ok()) return s.WithContext("certificate authority");
  }
  if (config.client_cert_pem.empty() != config.client_key_pem.empty())
    return InvalidError("client certificate and client key must be given together");
  if (!config.client_cert_pem.empty()) {
    if (Status s = CheckPemCertificates(config.client_cert_pem); !s.ok()) return s.WithContext("client certificate");
    if (Status s = CheckPemPrivateKey(config.client_key_pem); !s.ok()) return s.WithContext("client key");
  }
  if (config.timeout.count() <= 0) config.timeout = std::chrono::seconds(30);
  return std::unique_ptr<HttpTransport>(std::make_unique<CpprestTransport>(std::move(config), std::move(*url)));
}

}  // namespace hpad::k8s
