// HttpTransport: the seam between k8sclient and an HTTP library.
//
// RestApiClient speaks Kubernetes over this interface; the real
// implementation is NewHttpTransport (httplib_transport.h): cpp-httplib's
// blocking client, Send on the caller's thread, OpenStream on a reader
// thread per stream (cpprest_transport.h, kept for a benchmark, is the
// only code that sees cpprestsdk). A
// transport is built from a TransportConfig (server URL, TLS material,
// credentials), which kubeconfig.h produces.
//
// Errors: a request that got any HTTP response returns it (status codes are
// the caller's business); connection refused, DNS and TLS failures are
// kUnavailable, deadlines (HttpRequest::timeout, hard_timeout) kTimeout,
// HttpStream::Cancel() and HttpRequest::cancel kCancelled.
//
// Thread-safety: HttpTransport::Send/OpenStream may be called concurrently.
// An HttpStream is read by one thread; Cancel() may come from any thread.
// TokenSource implementations are thread-safe.
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "k8sclient/base/status.h"
#include "k8sclient/base/version.h"
#include "k8sclient/cancel_scope.h"

namespace hpad::k8s {

using HttpHeaders = std::vector<std::pair<std::string, std::string>>;

// Case-insensitive lookup of the first header called `name`.
std::optional<std::string> FindHeader(const HttpHeaders& headers, const std::string& name);

struct HttpRequest {
  std::string method = "GET";  // GET, POST, PUT, PATCH, DELETE
  std::string path_and_query;  // "/api/v1/pods?limit=5"; the server's path prefix is added by the transport
  HttpHeaders headers;         // extra headers; Authorization/User-Agent/Accept are added by the transport
  std::string body;
  std::string content_type;    // for a non-empty body, sent verbatim (no charset appended)
  // Per-request deadline. For Send it bounds the whole exchange; for
  // OpenStream it is an *inactivity* limit (no byte for this long fails the
  // stream), so watches pass timeoutSeconds plus a margin. 0 = config default.
  std::chrono::milliseconds timeout{0};
  // Send only: a hard bound on the whole exchange (request, reply headers
  // and body), however slowly bytes trickle in; when it passes the exchange
  // is aborted and Send returns kTimeout. 0 = none (only `timeout`).
  std::chrono::milliseconds hard_timeout{0};
  // Send only: Cancel() on this scope aborts the exchange at once (kCancelled);
  // a request whose scope is already cancelled is not sent. Null = none.
  std::shared_ptr<CancelScope> cancel;
};

struct HttpResponse {
  int status = 0;
  HttpHeaders headers;
  std::string body;
};

// A response body read line by line as it arrives (chunked watch streams).
class HttpStream {
 public:
  virtual ~HttpStream() = default;
  virtual int status() const = 0;
  virtual const HttpHeaders& headers() const = 0;
  // Blocks for the next '\n'-terminated line (terminator and a trailing '\r'
  // removed). nullopt at end of stream; kCancelled after Cancel(); kTimeout on
  // inactivity; kUnavailable when the connection breaks.
  virtual Result<std::optional<std::string>> ReadLine() = 0;
  // Unblocks a pending ReadLine and closes the connection. Idempotent.
  virtual void Cancel() = 0;
};

// Supplies the bearer token for each request. Tokens can rotate (a projected
// service-account token file) or be minted by an exec plugin and expire, so
// the transport asks on every request; implementations cache.
class TokenSource {
 public:
  virtual ~TokenSource() = default;
  // The current token, "" for none. May block (an exec plugin runs).
  virtual Result<std::string> Token() = 0;
  // The server answered 401 to the last token: drop any cache so the next
  // Token() re-reads the file / re-runs the plugin (kubectl does the same).
  virtual void Invalidate() = 0;
};

// A fixed token (kubeconfig `token`, --token).
class StaticTokenSource final : public TokenSource {
 public:
  explicit StaticTokenSource(std::string token) : token_(std::move(token)) {}
  Result<std::string> Token() override { return token_; }
  void Invalidate() override {}

 private:
  const std::string token_;
};

// Bounds on what a server can make the transport buffer (issue 10): a reply
// body over the limit fails with kUnavailable naming the limit; one line of a
// stream (a watch event) over kMaxStreamLineBytes fails the stream.
inline constexpr size_t kDefaultMaxBodyBytes = size_t{64} << 20;
inline constexpr size_t kMaxStreamLineBytes = size_t{4} << 20;

struct TransportConfig {
  // "https://host:6443" or "https://host/some/prefix" (the prefix is put in
  // front of every request path) or plain "http://127.0.0.1:PORT".
  std::string server;
  std::string ca_pem;           // trusted CAs (PEM); empty = system trust store
  std::string client_cert_pem;  // client certificate chain (PEM), with client_key_pem
  std::string client_key_pem;
  std::shared_ptr<TokenSource> token_source;  // null = no Authorization header
  bool insecure_skip_tls_verify = false;
  std::string user_agent = std::string("hpad/") + hpad::Version();
  std::chrono::milliseconds timeout{std::chrono::seconds(30)};  // default per-request deadline
  size_t max_body_bytes = kDefaultMaxBodyBytes;                // reply body limit; 0 = default
};

// The parts of TransportConfig::server. ParseServerUrl accepts http and
// https URLs with an optional port (default 80/443) and path prefix; the
// prefix never ends in '/'.
struct ServerUrl {
  std::string scheme;       // "http" or "https"
  std::string host;         // "127.0.0.1", "example.com", "[::1]"
  int port = 0;
  std::string path_prefix;  // "" or "/k8s/clusters/c-1"
  bool https() const { return scheme == "https"; }
  std::string Origin() const { return scheme + "://" + host + ":" + std::to_string(port); }
};
Result<ServerUrl> ParseServerUrl(const std::string& server);

// True for hosts that never leave the machine: "localhost", 127.0.0.0/8 and
// [::1] (e.g. `kubectl proxy`).
bool IsLoopbackHost(const std::string& host);

// Credentials never travel in clear text off the machine (issue 10, item 9):
// a config with a token source (static token, token file, exec plugin) over
// http:// to a non-loopback host is refused with an error naming the server.
// Every transport constructor calls this.
Status CheckCredentialsTransport(const TransportConfig& config, const ServerUrl& url);

// What every transport constructor checks first: the server URL parses,
// credentials do not travel in clear text (above), the PEM material is
// certificates and a key, and a client certificate comes with its key.
// Returns the parsed URL.
Result<ServerUrl> CheckTransportConfig(const TransportConfig& config);

class HttpTransport {
 public:
  virtual ~HttpTransport() = default;
  // One request/response exchange. A 401 makes the transport invalidate the
  // token source and retry once with a fresh token, before returning.
  virtual Result<HttpResponse> Send(const HttpRequest& request) = 0;
  // Sends the request and returns once the response headers arrived. A
  // non-2xx answer is returned as an error built by StatusFromHttp from its
  // body, so callers only stream successful responses.
  virtual Result<std::unique_ptr<HttpStream>> OpenStream(const HttpRequest& request) = 0;
  // The configured server URL (for messages).
  virtual const std::string& server() const = 0;
};

}  // namespace hpad::k8s
