// HttpTransport over cpp-httplib's blocking client: Send on the caller's
// thread, OpenStream on a reader thread of the stream's own (HttplibStream
// below). The only TU that uses httplib's client: every httplib/OpenSSL
// failure (and any exception) is turned into a Status here
// (architecture.md "Transport").
//
// Facts about the Debian cpp-httplib 0.11.4 client this relies on:
//  - a ClientImpl holds one connection and serialises requests on it, so
//    the transport keeps a pool of idle clients per timeout and checks one
//    out per exchange (nothing waits on another request's connection);
//  - its read/write timeouts are per socket operation (inactivity), so the
//    request timeout and hard_timeout are enforced by a DeadlineTimer. Its
//    stop() cannot abort an exchange at every stage: it waits for the
//    client's socket mutex, which connect and the TLS handshake hold, and
//    before the request is marked in flight it only closes the idle socket
//    (the request then goes on on a new one). So the transport aborts by
//    itself: the socket_options hook (called for every new socket, before
//    connect) and the check-out of a pooled connection give a SocketTap a
//    dup() of the socket in use, and an abort shutdown()s it - never
//    blocking, at any stage, and never hitting an unrelated socket that got
//    a reused descriptor number (the dup is closed only after the exchange);
//  - with server_certificate_verification on, it always adds the system
//    trust paths to the context (a configured CA would not replace the
//    system store), so it is switched off and the transport has OpenSSL
//    verify the chain and the host name/IP itself (SSL_VERIFY_PEER and the
//    context's X509_VERIFY_PARAM), as cpprest's asio rfc2818 check did;
//  - it writes with send() without MSG_NOSIGNAL, so SIGPIPE is blocked on
//    the calling thread during an exchange and a pending one is consumed;
//  - url_encode would rewrite the (already percent-encoded) path and
//    decompress would ask for gzip: both off, bytes go as given;
//  - its own stale-socket check (peek before reuse) misses a TLS peer that
//    sent close_notify, so a pooled connection that is readable while idle
//    (EOF, close_notify, anything unsolicited) is dropped before reuse.
//
// Stale keep-alive connections: the server may close an idle connection
// just after the check above. A request that failed while being written
// cannot have been processed, so - like Go's net/http - it is retried once,
// whatever its verb, on a new connection; a GET/HEAD on a reused connection
// that failed before any reply byte is retried the same way (cpprest did
// that by itself for bodiless requests). A request that timed out, was
// cancelled or hit its deadline is never retried. A client that failed or
// was aborted is destroyed, never returned to the pool. A write whose
// bytes were accepted but whose reply never came is not retried (the
// server may have acted on it; Go's net/http does the same).
//
//  - it matches the reply's status line with std::regex, which recurses
//    per character (a 1 MiB reason phrase overflowed the stack), and reads
//    that line without a length limit: the clients run their exchanges on
//    our own HeadBoundStream (a private virtual process_socket override),
//    which fails a status line over 4 KiB before the regex sees it, and a
//    head over 1 MiB (httplib does not limit the number of headers).
#include "k8sclient/httplib_transport.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <climits>
#include <cstdint>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <map>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include <httplib.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>

#include "k8sclient/api_client.h"
#include "k8sclient/base/clock.h"
#include "k8sclient/base/klog.h"
#include "k8sclient/deadline_timer.h"

namespace hpad::k8s {

namespace {

// Idle clients (one connection each) kept over all timeouts; more
// concurrent requests than this still work, the extra clients are closed
// when they come back. hpad has ~5 workers plus informers, events and the
// leader elector in flight at once.
constexpr size_t kMaxIdleClients = 32;
// A pooled connection idle longer than this is closed instead of reused:
// an idle keep-alive connection can hold a server thread (the simulator's
// thread-per-connection server; proxies), and cpprest, which this
// transport replaced, dropped idle connections after 30-60 s as well.
constexpr std::chrono::seconds kMaxIdleTime{30};
using Clock = std::chrono::steady_clock;
// Physical monotonic time through the project's real clock (this is the I/O
// adapter: deadlines, idle ages and inactivity are real time).
Clock::time_point Now() { return RealClock::Instance().MonoNow(); }

struct X509Free {
  void operator()(X509* x) const { X509_free(x); }
};
struct KeyFree {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
struct StoreFree {
  void operator()(X509_STORE* s) const { X509_STORE_free(s); }
};
struct BioFree {
  void operator()(BIO* b) const { BIO_free(b); }
};
using X509Ptr = std::unique_ptr<X509, X509Free>;

// The certificates of a PEM buffer (validated by NewCpprestTransport).
std::vector<X509Ptr> ReadCertificates(const std::string& pem) {
  std::vector<X509Ptr> out;
  std::unique_ptr<BIO, BioFree> bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  if (!bio) return out;
  while (X509* x = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr)) out.emplace_back(x);
  ERR_clear_error();  // the loop ends on "no start line"
  return out;
}

// The oldest OpenSSL error of this thread (the handshake ran here), then
// the queue is cleared so it cannot leak into another request's message.
std::string TakeOpenSslError() {
  unsigned long e = ERR_get_error();
  std::string out;
  if (e != 0) {
    char buf[256];
    ERR_error_string_n(e, buf, sizeof(buf));
    out = buf;
  }
  ERR_clear_error();
  return out;
}

std::string BodyTooLarge(size_t limit) {
  return "response body larger than the limit of " + std::to_string(limit) + " bytes";
}

// Content-Length as sent (digits only, saturating); nullopt if absent or not a number.
std::optional<uint64_t> ParseContentLength(const httplib::Response& res) {
  if (!res.has_header("Content-Length")) return std::nullopt;
  const std::string v = res.get_header_value("Content-Length");
  if (v.empty()) return std::nullopt;
  uint64_t n = 0;
  for (char c : v) {
    if (c < '0' || c > '9') return std::nullopt;
    const uint64_t d = static_cast<uint64_t>(c - '0');
    if (n > (UINT64_MAX - d) / 10) return UINT64_MAX;
    n = n * 10 + d;
  }
  return n;
}

// A request path goes on the request line as given: control characters,
// spaces and non-ASCII bytes would break (or inject into) the request.
bool ValidRequestTarget(const std::string& p) {
  if (p.empty() || p[0] != '/') return false;
  return std::all_of(p.begin(), p.end(), [](char c) {
    const auto u = static_cast<unsigned char>(c);
    return u > 0x20 && u < 0x7f;
  });
}
bool ValidHeaderText(const std::string& s) {
  return std::none_of(s.begin(), s.end(), [](char c) { return c == '\r' || c == '\n' || c == '\0'; });
}

// SIGPIPE blocked on this thread while it lives; a SIGPIPE raised meanwhile
// (a write to a connection the peer closed) is consumed, not delivered.
class SigpipeBlock {
 public:
  SigpipeBlock() {
    sigemptyset(&set_);
    sigaddset(&set_, SIGPIPE);
    blocked_ = pthread_sigmask(SIG_BLOCK, &set_, &old_) == 0 && !sigismember(&old_, SIGPIPE);
  }
  ~SigpipeBlock() {
    if (!blocked_) return;
    sigset_t pending;
    if (sigpending(&pending) == 0 && sigismember(&pending, SIGPIPE) == 1) {
      const timespec zero{0, 0};
      while (sigtimedwait(&set_, nullptr, &zero) == -1 && errno == EINTR) {
      }
    }
    pthread_sigmask(SIG_SETMASK, &old_, nullptr);
  }
  SigpipeBlock(const SigpipeBlock&) = delete;
  SigpipeBlock& operator=(const SigpipeBlock&) = delete;

 private:
  sigset_t set_;
  sigset_t old_;
  bool blocked_ = false;
};

// Why an exchange was aborted.
enum class Abort { kNone, kCancelled, kHardDeadline, kTimeout };

// The socket of the exchange in flight on one client, so that another
// thread (DeadlineTimer, CancelScope::Cancel) can abort the exchange. One
// per pooled client, reset after each exchange. mu guards everything.
class SocketTap {
 public:
  ~SocketTap() { Reset(); }
  // The client made (or reuses) `sock`: keep a descriptor of our own.
  void Set(int sock) {
    std::lock_guard<std::mutex> l(mu_);
    if (fd_ >= 0) close(fd_);
    fd_ = fcntl(sock, F_DUPFD_CLOEXEC, 0);
    if (reason_ != Abort::kNone && fd_ >= 0) shutdown(fd_, SHUT_RDWR);
  }
  // Ends the exchange: its socket (and any it makes later) is shut down;
  // the first reason is kept. Never blocks.
  void Fire(Abort why) {
    std::lock_guard<std::mutex> l(mu_);
    if (reason_ == Abort::kNone) reason_ = why;
    if (fd_ >= 0) shutdown(fd_, SHUT_RDWR);
  }
  Abort reason() {
    std::lock_guard<std::mutex> l(mu_);
    return reason_;
  }
  // After an exchange, once no callback can Fire any more.
  void Reset() {
    std::lock_guard<std::mutex> l(mu_);
    if (fd_ >= 0) close(fd_);
    fd_ = -1;
    reason_ = Abort::kNone;
  }

 private:
  std::mutex mu_;
  int fd_ = -1;
  Abort reason_ = Abort::kNone;
};

// Limits on a reply's head (status line and headers), see HeadBoundStream.
// A line httplib may match as a status line (the first of a head, any of a
// 1xx reply's head), "\r\n" included; other header lines keep httplib's
// own limit (CPPHTTPLIB_HEADER_MAX_LENGTH, 8 KiB).
constexpr size_t kMaxStatusLineBytes = 4096;
constexpr size_t kMaxHeaderLineBytes = 8192;
constexpr size_t kMaxHeadBytes = 1024 * 1024;  // every head of the reply together

// httplib's Stream for one exchange, in place of its own SocketStream /
// SSLSocketStream (installed by the Bounded*Client process_socket overrides
// below), so that a hostile reply head cannot crash hpad or grow it: 0.11.4
// reads the status line with no length limit and matches it with
// std::regex, which recurses once per character (a 1 MiB reason phrase
// overflowed the stack), and keeps reading header lines (up to 8 KiB
// each) with no limit on their number. Here a line longer than
// kMaxStatusLineBytes where httplib may take it for a status line (or than
// kMaxHeaderLineBytes elsewhere), or a head longer than kMaxHeadBytes,
// fails the read and so the exchange (Error::Read -> kUnavailable). httplib skips a
// "100 Continue" and matches a later line as the next status line, so the
// head of a 1xx reply is followed by another head, bounded the same way.
// Otherwise it behaves as httplib's streams: each read and write waits at
// most `timeout` for the socket (inactivity; the whole exchange is bounded
// by the transport's DeadlineTimer through the SocketTap, whose shutdown()
// also wakes a blocked read here), TLS through the session httplib set up.
// Reads are buffered, TLS and plain alike: httplib reads the head and every
// chunk-size line byte by byte, which on TLS was one SSL_read (with its
// error-queue and pending checks) per byte, ~250 per reply. A read of at
// least the buffer's size with the buffer empty goes straight to the
// caller. Used by one thread, for one exchange.
class HeadBoundStream final : public httplib::Stream {
 public:
  HeadBoundStream(int sock, SSL* ssl, std::chrono::milliseconds timeout)
      : sock_(sock), ssl_(ssl), timeout_ms_(static_cast<int>(std::clamp<int64_t>(timeout.count(), 1, INT32_MAX))) {}

  bool is_readable() const override {
    if (buffered_ < filled_) return true;
    if (ssl_ != nullptr && SSL_pending(ssl_) > 0) return true;
    return Wait(POLLIN);
  }
  bool is_writable() const override { return Wait(POLLOUT); }

  ssize_t read(char* ptr, size_t size) override {
    if (size == 0) return 0;
    ssize_t n;
    if (buffered_ == filled_ && size >= sizeof(buffer_)) {
      n = ReadSocket(ptr, size);
    } else {
      if (buffered_ == filled_) {
        const ssize_t r = ReadSocket(buffer_, sizeof(buffer_));
        if (r <= 0) return r;
        buffered_ = 0;
        filled_ = static_cast<size_t>(r);
      }
      n = static_cast<ssize_t>(std::min(size, filled_ - buffered_));
      std::memcpy(ptr, buffer_ + buffered_, static_cast<size_t>(n));
      buffered_ += static_cast<size_t>(n);
    }
    for (ssize_t i = 0; i < n && in_head_; ++i) {
      const char c = ptr[i];
      const size_t line_limit = line_index_ == 0 || informational_ ? kMaxStatusLineBytes : kMaxHeaderLineBytes;
      if (++head_bytes_ > kMaxHeadBytes || ++line_bytes_ > line_limit) return -1;
      if (line_index_ == 0 && line_bytes_ <= sizeof(status_prefix_)) status_prefix_[line_bytes_ - 1] = c;
      if (c == '\r') continue;
      if (c != '\n') {
        ++line_content_;
        continue;
      }
      if (line_index_ == 0) {
        // "HTTP/1.1 1xx": another head follows this one.
        informational_ = line_bytes_ > sizeof(status_prefix_) &&
                         std::memcmp(status_prefix_, "HTTP/1.", 7) == 0 && status_prefix_[9] == '1';
        ++line_index_;
      } else if (line_content_ == 0) {  // the empty line that ends a head
        line_index_ = 0;
        in_head_ = informational_;
      } else {
        ++line_index_;
      }
      line_bytes_ = 0;
      line_content_ = 0;
    }
    return n;
  }

  ssize_t write(const char* ptr, size_t size) override {
    if (!Wait(POLLOUT)) return -1;
    if (ssl_ != nullptr) {
      const int want = static_cast<int>(std::min<size_t>(size, INT32_MAX));
      for (int attempt = 0; attempt < 1000; ++attempt) {
        ERR_clear_error();
        const int r = SSL_write(ssl_, ptr, want);
        if (r > 0) return r;
        const int err = SSL_get_error(ssl_, r);
        if (err == SSL_ERROR_WANT_WRITE) {
          if (!Wait(POLLOUT)) return -1;
        } else if (err == SSL_ERROR_WANT_READ) {
          if (!Wait(POLLIN)) return -1;
        } else {
          return -1;
        }
      }
      return -1;
    }
    for (;;) {
      const ssize_t r = ::send(sock_, ptr, size, MSG_NOSIGNAL);
      if (r < 0 && errno == EINTR) continue;
      return r;
    }
  }

  void get_remote_ip_and_port(std::string& ip, int& port) const override { Address(true, ip, port); }
  void get_local_ip_and_port(std::string& ip, int& port) const override { Address(false, ip, port); }
  socket_t socket() const override { return sock_; }

 private:
  // Waits up to the timeout for `events` on the socket; false on timeout,
  // error or hang-up without the event.
  bool Wait(short events) const {
    pollfd p{sock_, events, 0};
    for (;;) {
      const int r = poll(&p, 1, timeout_ms_);
      if (r < 0 && errno == EINTR) continue;
      return r > 0 && (p.revents & (events | POLLHUP | POLLERR)) != 0;
    }
  }

  ssize_t ReadTls(char* ptr, size_t size) {
    const int want = static_cast<int>(std::min<size_t>(size, INT32_MAX));
    for (int attempt = 0; attempt < 1000; ++attempt) {
      if (SSL_pending(ssl_) == 0 && !Wait(POLLIN)) return -1;
      ERR_clear_error();
      const int r = SSL_read(ssl_, ptr, want);
      if (r > 0) return r;
      const int err = SSL_get_error(ssl_, r);
      if (err == SSL_ERROR_ZERO_RETURN) return 0;  // close_notify: end of stream
      if (err != SSL_ERROR_WANT_READ && err != SSL_ERROR_WANT_WRITE) return -1;
    }
    return -1;
  }

  ssize_t ReadPlain(char* ptr, size_t size) {
    if (!Wait(POLLIN)) return -1;
    ssize_t r;
    do {
      r = ::recv(sock_, ptr, size, 0);
    } while (r < 0 && errno == EINTR);
    return r;
  }

  // Up to `size` bytes from the connection (waiting up to the timeout);
  // 0 at the end of the stream, -1 on failure.
  ssize_t ReadSocket(char* ptr, size_t size) { return ssl_ != nullptr ? ReadTls(ptr, size) : ReadPlain(ptr, size); }

  void Address(bool remote, std::string& ip, int& port) const {
    sockaddr_storage addr{};
    socklen_t len = sizeof(addr);
    auto* sa = reinterpret_cast<sockaddr*>(&addr);
    if ((remote ? getpeername(sock_, sa, &len) : getsockname(sock_, sa, &len)) != 0) return;
    char text[INET6_ADDRSTRLEN] = {};
    if (addr.ss_family == AF_INET) {
      const auto* a = reinterpret_cast<const sockaddr_in*>(&addr);
      inet_ntop(AF_INET, &a->sin_addr, text, sizeof(text));
      port = ntohs(a->sin_port);
    } else if (addr.ss_family == AF_INET6) {
      const auto* a = reinterpret_cast<const sockaddr_in6*>(&addr);
      inet_ntop(AF_INET6, &a->sin6_addr, text, sizeof(text));
      port = ntohs(a->sin6_port);
    }
    ip = text;
  }

  const int sock_;
  SSL* const ssl_;
  const int timeout_ms_;
  // The reply's head, as read so far.
  bool in_head_ = true;
  size_t head_bytes_ = 0;
  size_t line_index_ = 0;    // of the current line in its head; 0: the status line
  size_t line_bytes_ = 0;    // of the current line, '\r' and '\n' included
  size_t line_content_ = 0;  // of the current line, without '\r'
  char status_prefix_[10] = {};  // "HTTP/1.1 2"
  bool informational_ = false;
  char buffer_[16384];  // a TLS record's worth
  size_t buffered_ = 0;  // buffer_[buffered_, filled_) not yet returned
  size_t filled_ = 0;
};

// httplib's clients with HeadBoundStream under their reply parser (their
// process_socket is a private virtual: overriding it is the one seam).
class BoundedSslClient final : public httplib::SSLClient {
 public:
  BoundedSslClient(const std::string& host, int port, std::chrono::milliseconds timeout)
      : httplib::SSLClient(host, port), timeout_(timeout) {}

 private:
  bool process_socket(const Socket& socket, std::function<bool(httplib::Stream& strm)> callback) override {
    if (socket.ssl == nullptr) return false;
    HeadBoundStream strm(socket.sock, socket.ssl, timeout_);
    return callback(strm);
  }
  const std::chrono::milliseconds timeout_;
};

class BoundedPlainClient final : public httplib::ClientImpl {
 public:
  BoundedPlainClient(const std::string& host, int port, std::chrono::milliseconds timeout)
      : httplib::ClientImpl(host, port), timeout_(timeout) {}

 private:
  bool process_socket(const Socket& socket, std::function<bool(httplib::Stream& strm)> callback) override {
    HeadBoundStream strm(socket.sock, nullptr, timeout_);
    return callback(strm);
  }
  const std::chrono::milliseconds timeout_;
};

// The Status for a failed httplib exchange of `method` with `server`;
// `idle`: how long no byte came before it failed.
Status ExchangeError(const std::string& server, httplib::Error err, const std::string& method,
                     std::chrono::milliseconds timeout, Clock::duration idle) {
  const std::string what = httplib::to_string(err);
  switch (err) {
    case httplib::Error::ConnectionTimeout:
      ERR_clear_error();
      return Status(StatusCode::kTimeout, server + ": " + what, "Timeout");
    case httplib::Error::SSLConnection:
    case httplib::Error::SSLLoadingCerts:
    case httplib::Error::SSLServerVerification: {
      std::string ssl = TakeOpenSslError();
      return UnavailableError(server + ": " + what + (ssl.empty() ? "" : ": " + ssl));
    }
    case httplib::Error::Read:
    case httplib::Error::Write:
    case httplib::Error::Unknown:
      ERR_clear_error();
      // httplib reports an expired socket timeout like any other read or
      // write failure; no byte for the whole timeout is the tell.
      if (idle >= timeout)
        return Status(StatusCode::kTimeout,
                      server + ": " + method + " " + what + ": no data for " + std::to_string(timeout.count()) + "ms",
                      "Timeout");
      return UnavailableError(server + ": " + what);
    default:
      ERR_clear_error();
      return UnavailableError(server + ": " + what);
  }
}

// A client (one connection) and its tap.
struct PooledClient {
  std::unique_ptr<httplib::ClientImpl> client;
  std::shared_ptr<SocketTap> tap;
  Clock::time_point idle_since{};  // when it went back to the pool
};

// Inactivity limit of a stream opened without a timeout: watches pass
// timeoutSeconds and a matching timeout; this only stops a silent,
// half-dead connection from hanging forever.
constexpr std::chrono::hours kDefaultStreamTimeout{1};
// Body bytes the reader thread may hold that ReadLine has not taken yet:
// beyond this it waits, so a slow consumer bounds memory, not the server.
constexpr size_t kMaxStreamBuffered = size_t{1} << 20;
// An error reply's body is only quoted in the error: a small cap is plenty.
constexpr size_t kMaxStreamErrorBody = size_t{1} << 20;

// One watch stream (HttpTransport::OpenStream). httplib's client pushes a
// reply body through a callback until the exchange ends, while HttpStream
// is pulled line by line; so the exchange runs on a reader thread of the
// stream's own, which hands the body's bytes over in incoming_, and
// ReadLine cuts lines out of its own pending_ without the lock. Each event
// costs the reader's wake-up on the socket and the consumer's on the
// condition variable; cpprest, used for watches before, carried each one
// across several of its 40 asio/pplx pool threads (issue 16).
//
// Inactivity: the client's socket waits are bounded by the stream timeout
// (HeadBoundStream), so no byte for that long fails the exchange, reported
// as kTimeout. Cancel() marks the stream and shuts the socket down through
// the client's SocketTap, which ends the exchange at any stage (connect,
// TLS, head, body, a reader waiting for room). The destructor cancels and
// joins the reader.
//
// Thread-safety: ReadLine (and AwaitHead before it) on one thread;
// Cancel() from any thread. mu_ guards the state shared with the reader.
class HttplibStream final : public HttpStream {
 public:
  HttplibStream(PooledClient pc, httplib::Request req, std::chrono::milliseconds timeout, std::string server)
      : pc_(std::move(pc)), req_(std::move(req)), timeout_(timeout), server_(std::move(server)) {
    req_.response_handler = [this](const httplib::Response& res) { return OnHead(res); };
    req_.content_receiver = [this](const char* data, size_t n, uint64_t, uint64_t) { return OnBody(data, n); };
    reader_ = std::thread([this] { Run(); });
  }
  ~HttplibStream() override {
    Cancel();
    reader_.join();
  }
  HttplibStream(const HttplibStream&) = delete;
  HttplibStream& operator=(const HttplibStream&) = delete;

  // Waits for the reply's head. Ok for a 2xx reply (stream it with
  // ReadLine); the error for any other reply, built by StatusFromHttp from
  // its body, or for an exchange that failed before a head came.
  Status AwaitHead() {
    std::unique_lock<std::mutex> l(mu_);
    cv_.wait(l, [&] { return head_ || done_; });
    if (!head_) return end_.ok() ? UnavailableError(server_ + ": the reply ended before its head") : end_;
    if (status_ >= 200 && status_ < 300) return Status::Ok();
    cv_.wait(l, [&] { return done_; });
    if (error_body_too_large_) return StatusFromHttp(status_, server_ + ": " + BodyTooLarge(kMaxStreamErrorBody));
    if (!end_.ok()) return end_;
    return StatusFromHttp(status_, error_body_);
  }

  int status() const override { return status_; }
  const HttpHeaders& headers() const override { return headers_; }

  Result<std::optional<std::string>> ReadLine() override {
    for (;;) {
      if (cancelled_flag_.load(std::memory_order_acquire)) return Cancelled();
      if (eof_) return std::optional<std::string>();
      const size_t nl = pending_.find('\n', scanned_);
      if (nl != std::string::npos) {
        size_t end = nl;
        if (end > start_ && pending_[end - 1] == '\r') --end;
        std::optional<std::string> line(std::in_place, pending_, start_, end - start_);
        start_ = scanned_ = nl + 1;
        return line;
      }
      scanned_ = pending_.size();
      if (pending_.size() - start_ > kMaxStreamLineBytes) {
        return Status(StatusCode::kUnavailable,
                      server_ + ": stream line longer than the limit of " + std::to_string(kMaxStreamLineBytes) +
                          " bytes",
                      "ServiceUnavailable");
      }
      std::unique_lock<std::mutex> l(mu_);
      cv_.wait(l, [&] { return !incoming_.empty() || done_ || cancelled_; });
      if (cancelled_) return Cancelled();
      if (!incoming_.empty()) {
        // Taken whole: the lines already returned are dropped first.
        if (start_ == pending_.size()) {
          pending_.clear();
          pending_.swap(incoming_);
        } else {
          pending_.erase(0, start_);
          pending_.append(incoming_);
          incoming_.clear();
        }
        scanned_ -= start_;
        start_ = 0;
        l.unlock();
        room_.notify_one();
        continue;
      }
      // The exchange is over and every byte is taken.
      if (!end_.ok()) return end_;
      eof_ = true;
      if (start_ == pending_.size()) return std::optional<std::string>();
      std::string line = pending_.substr(start_);  // a last line without '\n'
      if (line.back() == '\r') line.pop_back();
      return std::optional<std::string>(std::move(line));
    }
  }

  void Cancel() override {
    {
      std::lock_guard<std::mutex> l(mu_);
      cancelled_ = true;
    }
    cancelled_flag_.store(true, std::memory_order_release);
    cv_.notify_all();
    room_.notify_all();
    pc_.tap->Fire(Abort::kCancelled);
  }

 private:
  static Status Cancelled() { return Status(StatusCode::kCancelled, "stream cancelled", "Cancelled"); }

  // The reader thread: the whole exchange.
  void Run() {
    httplib::Response res;
    httplib::Error err = httplib::Error::Success;
    bool ok = false;
    Status end = Status::Ok();
    last_progress_ = Now();
    try {
      SigpipeBlock no_sigpipe;
      ok = pc_.client->send(req_, res, err);
      if (!ok) end = ExchangeError(server_, err, req_.method, timeout_, Now() - last_progress_);
    } catch (const std::exception& e) {
      end = UnavailableError(server_ + ": " + e.what());
    } catch (...) {
      end = InternalError(server_ + ": unknown exception from cpp-httplib");
    }
    {
      std::lock_guard<std::mutex> l(mu_);
      if (cancelled_) end = Cancelled();
      end_ = std::move(end);
      done_ = true;
    }
    cv_.notify_all();
  }

  // Reader thread: the reply's head (of the final reply, after any 1xx).
  bool OnHead(const httplib::Response& res) {
    last_progress_ = Now();
    HttpHeaders headers;
    for (const auto& [k, v] : res.headers) headers.emplace_back(k, v);
    {
      std::lock_guard<std::mutex> l(mu_);
      status_ = res.status;
      headers_ = std::move(headers);
      head_ = true;
    }
    cv_.notify_all();
    return true;
  }

  // Reader thread: body bytes; false ends the exchange.
  bool OnBody(const char* data, size_t n) {
    last_progress_ = Now();
    std::unique_lock<std::mutex> l(mu_);
    if (status_ < 200 || status_ >= 300) {
      if (n > kMaxStreamErrorBody - error_body_.size()) {
        error_body_too_large_ = true;
        return false;
      }
      error_body_.append(data, n);
      return true;
    }
    room_.wait(l, [&] { return incoming_.size() < kMaxStreamBuffered || cancelled_; });
    if (cancelled_) return false;
    const bool was_empty = incoming_.empty();
    incoming_.append(data, n);
    l.unlock();
    if (was_empty) cv_.notify_one();  // otherwise the consumer has been told already
    return true;
  }

  PooledClient pc_;
  httplib::Request req_;
  const std::chrono::milliseconds timeout_;
  const std::string server_;
  Clock::time_point last_progress_{};  // reader thread only

  std::mutex mu_;
  std::condition_variable cv_;    // the consumer waits: head, bytes, end, cancel
  std::condition_variable room_;  // the reader waits: room in incoming_, cancel
  bool head_ = false;
  int status_ = 0;       // written once before head_ is set, then read-only
  HttpHeaders headers_;  // likewise
  std::string error_body_;  // a non-2xx reply's body
  bool error_body_too_large_ = false;
  std::string incoming_;  // body bytes not yet taken by ReadLine
  bool done_ = false;
  Status end_ = Status::Ok();  // how the exchange ended (ok: the server ended the body)
  bool cancelled_ = false;
  std::atomic<bool> cancelled_flag_{false};  // cancelled_, read without the lock

  // ReadLine's own.
  std::string pending_;  // pending_[start_, ...) is not returned yet
  size_t start_ = 0;
  size_t scanned_ = 0;  // pending_[start_, scanned_) holds no '\n'
  bool eof_ = false;

  std::thread reader_;  // last: started once everything above is built
};

class HttplibTransport final : public HttpTransport {
 public:
  HttplibTransport(TransportConfig config, ServerUrl url)
      : config_(std::move(config)),
        url_(std::move(url)),
        max_body_bytes_(config_.max_body_bytes > 0 ? config_.max_body_bytes : kDefaultMaxBodyBytes) {
    host_ = url_.host;
    if (host_.size() >= 2 && host_.front() == '[' && host_.back() == ']') host_ = host_.substr(1, host_.size() - 2);
    in6_addr a6;
    in_addr a4;
    host_is_ip_ = inet_pton(AF_INET, host_.c_str(), &a4) == 1 || inet_pton(AF_INET6, host_.c_str(), &a6) == 1;
    if (url_.https()) {
      if (!config_.ca_pem.empty() && !config_.insecure_skip_tls_verify) {
        ca_store_.reset(X509_STORE_new());
        for (auto& c : ReadCertificates(config_.ca_pem)) X509_STORE_add_cert(ca_store_.get(), c.get());
        ERR_clear_error();  // a duplicate certificate is not an error
      }
      if (!config_.client_cert_pem.empty()) {
        client_chain_ = ReadCertificates(config_.client_cert_pem);
        std::unique_ptr<BIO, BioFree> bio(
            BIO_new_mem_buf(config_.client_key_pem.data(), static_cast<int>(config_.client_key_pem.size())));
        if (bio) client_key_.reset(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
        ERR_clear_error();
      }
    }
  }

  ~HttplibTransport() override {
    // Idle clients first (their sockets close); the timer is joined last.
    std::lock_guard<std::mutex> l(mu_);
    idle_.clear();
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

  // What one exchange did, beyond its result.
  struct Outcome {
    Result<HttpResponse> result = InternalError("unset");
    bool reusable = false;  // the client may go back to the pool
    bool retry = false;     // nothing was processed: retry on a new connection
  };

  std::chrono::milliseconds Timeout(const HttpRequest& r) const {
    return r.timeout.count() > 0 ? r.timeout : config_.timeout;
  }

  // A new client (no connection yet) for `timeout`; nullopt when OpenSSL
  // cannot make a context.
  std::optional<PooledClient> NewClient(std::chrono::milliseconds timeout) const {
    std::unique_ptr<httplib::ClientImpl> c;
    if (url_.https()) {
      auto s = std::make_unique<BoundedSslClient>(host_, url_.port, timeout);
      SSL_CTX* ctx = s->ssl_context();
      if (ctx == nullptr) return std::nullopt;
      s->enable_server_certificate_verification(false);  // verified by OpenSSL itself, below
      if (!config_.insecure_skip_tls_verify) {
        SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nullptr);
        if (ca_store_) {
          SSL_CTX_set1_cert_store(ctx, ca_store_.get());  // replaces the system store
        } else {
          SSL_CTX_set_default_verify_paths(ctx);
        }
        X509_VERIFY_PARAM* param = SSL_CTX_get0_param(ctx);
        if (host_is_ip_) {
          X509_VERIFY_PARAM_set1_ip_asc(param, host_.c_str());
        } else {
          X509_VERIFY_PARAM_set1_host(param, host_.c_str(), host_.size());
        }
      }
      if (!client_chain_.empty() && client_key_) {
        SSL_CTX_use_certificate(ctx, client_chain_[0].get());
        for (size_t i = 1; i < client_chain_.size(); ++i) SSL_CTX_add1_chain_cert(ctx, client_chain_[i].get());
        SSL_CTX_use_PrivateKey(ctx, client_key_.get());
      }
      ERR_clear_error();
      c = std::move(s);
    } else {
      c = std::make_unique<BoundedPlainClient>(host_, url_.port, timeout);
    }
    auto tap = std::make_shared<SocketTap>();
    c->set_socket_options([tap](int sock) { tap->Set(sock); });  // every new socket, before connect
    c->set_keep_alive(true);
    c->set_tcp_nodelay(true);  // header and body are separate writes: no Nagle delay
    c->set_url_encode(false);
    c->set_decompress(false);
    c->set_follow_location(false);
    c->set_connection_timeout(timeout);
    c->set_read_timeout(timeout);
    c->set_write_timeout(timeout);
    return PooledClient{std::move(c), std::move(tap)};
  }

  // An idle client for `timeout` whose connection is still usable, or a new
  // one. `reused`: it holds an open connection from an earlier request.
  std::optional<PooledClient> Checkout(std::chrono::milliseconds timeout, bool* reused) {
    for (;;) {
      std::optional<PooledClient> c;
      {
        std::lock_guard<std::mutex> l(mu_);
        auto it = idle_.find(timeout.count());
        if (it != idle_.end() && !it->second.empty()) {
          c = std::move(it->second.back());  // the most recently used: warmest
          it->second.pop_back();
          --idle_count_;
        }
      }
      if (!c) break;
      if (Now() - c->idle_since > kMaxIdleTime) {
        HPAD_VLOG(3) << config_.server << ": closing a connection idle for over " << kMaxIdleTime.count() << "s";
        continue;  // closed as c goes out of scope
      }
      if (c->client->is_socket_open() == 0) {
        *reused = false;
        return c;
      }
      // A connection idle in the pool must have nothing to read: EOF, a
      // TLS close_notify or anything unsolicited means the server is done
      // with it (or broke the protocol).
      pollfd p{c->client->socket(), POLLIN, 0};
      if (poll(&p, 1, 0) == 0) {
        *reused = true;
        c->tap->Set(c->client->socket());  // no socket_options call for it
        return c;
      }
      HPAD_VLOG(3) << config_.server << ": dropping a pooled connection the server closed";
    }
    *reused = false;
    return NewClient(timeout);
  }

  void Return(std::chrono::milliseconds timeout, PooledClient c) {
    std::vector<PooledClient> expired;  // closed outside the lock, with c if it is not kept
    {
      std::lock_guard<std::mutex> l(mu_);
      const auto now = Now();
      // The pool hands out its most recent connection first: the oldest
      // ones would sit idle for ever, so they are swept here.
      for (auto& [ms, list] : idle_) {
        auto keep = std::stable_partition(list.begin(), list.end(),
                                   [&](const PooledClient& p) { return now - p.idle_since <= kMaxIdleTime; });
        for (auto it = keep; it != list.end(); ++it) expired.push_back(std::move(*it));
        idle_count_ -= static_cast<size_t>(list.end() - keep);
        list.erase(keep, list.end());
      }
      c.idle_since = now;
      if (idle_count_ < kMaxIdleClients) {
        idle_[timeout.count()].push_back(std::move(c));
        ++idle_count_;
        return;
      }
    }
  }

  Result<HttpResponse> SendOnce(const HttpRequest& r) {
    if (r.cancel && r.cancel->cancelled())
      return Status(StatusCode::kCancelled, config_.server + ": request cancelled before it was sent", "Cancelled");
    if (!ValidRequestTarget(url_.path_prefix + r.path_and_query))
      return InvalidError("bad request path \"" + r.path_and_query + "\"");
    const auto timeout = Timeout(r);
    // time_point::max(): no hard deadline.
    const Clock::time_point hard_deadline =
        r.hard_timeout.count() > 0 ? Now() + r.hard_timeout : Clock::time_point::max();
    try {
      bool reused = false;
      std::optional<PooledClient> c = Checkout(timeout, &reused);
      if (!c) return UnavailableError(config_.server + ": cannot create a TLS context: " + TakeOpenSslError());
      Outcome out = Exchange(*c, r, timeout, hard_deadline, reused);
      if (out.reusable) {
        Return(timeout, std::move(*c));
        return std::move(out.result);
      }
      c.reset();
      if (!out.retry) return std::move(out.result);
      HPAD_VLOG(2) << r.method << " " << r.path_and_query << ": " << out.result.status().message()
                   << "; retrying once on a new connection";
      c = NewClient(timeout);
      if (!c) return UnavailableError(config_.server + ": cannot create a TLS context: " + TakeOpenSslError());
      out = Exchange(*c, r, timeout, hard_deadline, false);
      if (out.reusable) Return(timeout, std::move(*c));
      return std::move(out.result);
    } catch (const std::exception& e) {
      return UnavailableError(config_.server + ": " + e.what());
    } catch (...) {
      return InternalError(config_.server + ": unknown exception from cpp-httplib");
    }
  }

  // The httplib request for `r`: the path behind the server's prefix,
  // User-Agent, Accept, the caller's headers, the bearer token, the body.
  // Fails on a header or token that would break the request's head.
  Result<httplib::Request> BuildRequest(const HttpRequest& r) const {
    httplib::Request req;
    req.method = r.method;
    req.path = url_.path_prefix + r.path_and_query;
    req.headers.emplace("User-Agent", config_.user_agent);
    req.headers.emplace("Accept", "application/json");
    for (const auto& [k, v] : r.headers) {
      if (!ValidHeaderText(k) || !ValidHeaderText(v) || k.empty()) return InvalidError("bad request header \"" + k + "\"");
      req.headers.erase(k);
      req.headers.emplace(k, v);
    }
    if (config_.token_source) {
      auto token = config_.token_source->Token();
      if (!token.ok()) return token.status().WithContext("getting bearer token");
      if (!token->empty()) {
        if (!ValidHeaderText(*token)) return InvalidError("bearer token contains a line break");
        req.headers.erase("Authorization");
        req.headers.emplace("Authorization", "Bearer " + *token);
      }
    }
    if (!r.body.empty() || r.method == "POST" || r.method == "PUT" || r.method == "PATCH") {
      req.body = r.body;  // httplib adds Content-Length
      req.headers.erase("Content-Type");
      req.headers.emplace("Content-Type", r.content_type.empty() ? "application/json" : r.content_type);
    }
    return req;
  }

  // One exchange on `pc`. Must not throw past the point where callbacks are
  // registered without unregistering them (RAII below).
  Outcome Exchange(PooledClient& pc, const HttpRequest& r, std::chrono::milliseconds timeout,
                   Clock::time_point hard_deadline, bool reused) {
    Outcome out;
    auto built = BuildRequest(r);
    if (!built.ok()) {
      out.result = built.status();
      return out;
    }
    httplib::Request& req = *built;

    // Reply: headers first (a Content-Length over the limit aborts before
    // any body byte), then the body streamed into one string, aborted once
    // it passes the limit.
    const auto start = Now();
    auto last_progress = start;
    bool got_headers = false;
    bool too_large = false;
    std::string body;
    req.response_handler = [&](const httplib::Response& res) {
      got_headers = true;
      last_progress = Now();
      if (auto cl = ParseContentLength(res)) {
        if (*cl > max_body_bytes_) {
          too_large = true;
          return false;
        }
        body.reserve(static_cast<size_t>(*cl));
      }
      return true;
    };
    req.content_receiver = [&](const char* data, size_t n, uint64_t, uint64_t) {
      last_progress = Now();
      if (n > max_body_bytes_ - std::min(body.size(), max_body_bytes_)) {
        too_large = true;
        return false;
      }
      body.append(data, n);
      return true;
    };

    // Deadlines and cancellation abort the exchange through its SocketTap.
    const auto timeout_deadline = start + timeout;
    Abort deadline_reason = Abort::kTimeout;
    auto deadline = timeout_deadline;
    if (hard_deadline <= timeout_deadline) {
      deadline = hard_deadline;
      deadline_reason = Abort::kHardDeadline;
      if (start >= hard_deadline) {
        out.result = DeadlineError(r);
        return out;
      }
    }
    std::shared_ptr<SocketTap> tap = pc.tap;
    // Unregisters both callbacks however this block is left; after that
    // neither runs nor will run.
    struct Unregister {
      DeadlineTimer& timer;
      const std::shared_ptr<CancelScope>& scope;
      uint64_t timer_handle = 0, scope_handle = 0;
      ~Unregister() {
        if (timer_handle != 0) timer.Remove(timer_handle);
        if (scope && scope_handle != 0) scope->Remove(scope_handle);
      }
    };
    httplib::Response res;
    httplib::Error err = httplib::Error::Success;
    bool ok;
    {
      Unregister unregister{timer_, r.cancel};
      unregister.timer_handle = timer_.Add(deadline, [tap, deadline_reason] { tap->Fire(deadline_reason); });
      if (r.cancel) unregister.scope_handle = r.cancel->OnCancel([tap] { tap->Fire(Abort::kCancelled); });
      SigpipeBlock no_sigpipe;
      ok = pc.client->send(req, res, err);
    }
    // The callbacks are gone: the reason is final; our descriptor is closed.
    const Abort aborted = tap->reason();
    tap->Reset();

    switch (aborted) {
      case Abort::kCancelled:
        out.result = Status(StatusCode::kCancelled, config_.server + ": " + r.method + " request cancelled", "Cancelled");
        return out;
      case Abort::kHardDeadline:
        out.result = DeadlineError(r);
        return out;
      case Abort::kTimeout:
        out.result = Status(StatusCode::kTimeout,
                            config_.server + ": " + r.method + " request timed out: no complete reply within " +
                                std::to_string(timeout.count()) + "ms",
                            "Timeout");
        return out;
      case Abort::kNone:
        break;
    }
    if (too_large) {
      out.result = UnavailableError(config_.server + ": " + BodyTooLarge(max_body_bytes_));
      return out;
    }
    if (!ok) {
      out.result = ExchangeError(config_.server, err, r.method, timeout, Now() - last_progress);
      const bool timed_out = out.result.status().code() == StatusCode::kTimeout;
      out.retry = !timed_out && (err == httplib::Error::Write ||
                                 (reused && !got_headers && err == httplib::Error::Read &&
                                  (r.method == "GET" || r.method == "HEAD")));
      return out;
    }
    ERR_clear_error();
    HttpResponse resp;
    resp.status = res.status;
    for (const auto& [k, v] : res.headers) resp.headers.emplace_back(k, v);
    resp.body = std::move(body);
    out.result = std::move(resp);
    out.reusable = true;
    return out;
  }

  // A stream on a client of its own (never pooled: the connection ends
  // with the stream).
  Result<std::unique_ptr<HttpStream>> OpenOnce(const HttpRequest& r) {
    if (!ValidRequestTarget(url_.path_prefix + r.path_and_query))
      return InvalidError("bad request path \"" + r.path_and_query + "\"");
    auto req = BuildRequest(r);
    if (!req.ok()) return req.status();
    const auto timeout = r.timeout.count() > 0 ? r.timeout : std::chrono::milliseconds(kDefaultStreamTimeout);
    try {
      std::optional<PooledClient> c = NewClient(timeout);
      if (!c) return UnavailableError(config_.server + ": cannot create a TLS context: " + TakeOpenSslError());
      c->client->set_keep_alive(false);
      auto stream = std::make_unique<HttplibStream>(std::move(*c), std::move(*req), timeout, config_.server);
      if (Status s = stream->AwaitHead(); !s.ok()) return s;
      return std::unique_ptr<HttpStream>(std::move(stream));
    } catch (const std::exception& e) {
      return UnavailableError(config_.server + ": " + e.what());
    }
  }

  Status DeadlineError(const HttpRequest& r) const {
    return Status(StatusCode::kTimeout,
                  config_.server + ": " + r.method + " request aborted: no complete reply within " +
                      std::to_string(r.hard_timeout.count()) + "ms",
                  "Timeout");
  }

  const TransportConfig config_;
  const ServerUrl url_;
  const size_t max_body_bytes_;
  std::string host_;  // url_.host without IPv6 brackets
  bool host_is_ip_ = false;
  std::unique_ptr<X509_STORE, StoreFree> ca_store_;  // null: system trust store
  std::vector<X509Ptr> client_chain_;
  std::unique_ptr<EVP_PKEY, KeyFree> client_key_;
  std::mutex mu_;  // guards idle_, idle_count_
  std::map<int64_t, std::vector<PooledClient>> idle_;  // by timeout in ms
  size_t idle_count_ = 0;
  DeadlineTimer timer_;  // last: destroyed (joined) first
};

}  // namespace

Result<std::unique_ptr<HttpTransport>> NewHttpTransport(TransportConfig config) {
  if (config.timeout.count() <= 0) config.timeout = std::chrono::seconds(30);
  auto url = CheckTransportConfig(config);
  if (!url.ok()) return url.status();
  return std::unique_ptr<HttpTransport>(std::make_unique<HttplibTransport>(std::move(config), std::move(*url)));
}

}  // namespace hpad::k8s
