// Test fixture: a loopback HTTP(S) server (cpp-httplib) with a CA, serving
// and client certificates made at test time by k8sclient's CertAuthority.
//
// Usage: build a TestPki once, make a LoopbackServer (plain, TLS, or mTLS),
// register handlers on server(), Start(), then point a transport at url().
// Port 0: the kernel picks a free port. The destructor stops the server and
// joins its thread. Handlers run on httplib's worker threads.
#pragma once

#include <httplib.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <thread>

#include "k8sclient/cert_authority.h"
#include "k8sclient/base/clock.h"

namespace hpad::k8s::testing {

// A fresh private directory under the system temp dir, removed on destruction.
class TempDir {
 public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "hpad-test-XXXXXX").string();
    char* p = mkdtemp(tmpl.data());
    if (p == nullptr) std::abort();
    path_ = p;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::filesystem::path& path() const { return path_; }
  // Writes `content` to path()/name and returns the full path.
  std::string Write(const std::string& name, const std::string& content) const {
    auto p = path_ / name;
    std::filesystem::create_directories(p.parent_path());
    std::ofstream(p, std::ios::binary | std::ios::trunc) << content;
    return p.string();
  }

 private:
  std::filesystem::path path_;
};

struct TestPki {
  CertAuthority ca;
  IssuedCert server;  // localhost + 127.0.0.1
  IssuedCert client;  // CN=hpa-controller, O=system:masters

  // TLS peers check validity against the wall clock, so the test PKI is
  // issued at the real time (the only reason this fixture reads it).
  static TestPki Make(const std::string& ca_name = "hpad-test-ca") {
    auto ca = CertAuthority::Create(ca_name, RealClock::Instance().Now());
    if (!ca.ok()) std::abort();
    auto server = ca->IssueServingCert({"localhost"}, {"127.0.0.1"});
    auto client = ca->IssueClientCert("hpa-controller", {"system:masters"});
    if (!server.ok() || !client.ok()) std::abort();
    return TestPki{*ca, *server, *client};
  }
};

enum class ServerMode { kPlain, kTls, kMutualTls };

class LoopbackServer {
 public:
  LoopbackServer(ServerMode mode, const TestPki& pki) : mode_(mode) {
    if (mode == ServerMode::kPlain) {
      server_ = std::make_unique<httplib::Server>();
    } else {
      std::string cert = dir_.Write("server.crt", pki.server.cert_pem);
      std::string key = dir_.Write("server.key", pki.server.key_pem);
      std::string ca = dir_.Write("ca.crt", pki.ca.cert_pem());
      server_ = std::make_unique<httplib::SSLServer>(cert.c_str(), key.c_str(),
                                                     mode == ServerMode::kMutualTls ? ca.c_str() : nullptr);
    }
  }
  ~LoopbackServer() { Stop(); }

  httplib::Server& server() { return *server_; }

  void Start() {
    port_ = server_->bind_to_any_port("127.0.0.1");
    if (port_ <= 0) std::abort();
    thread_ = std::thread([this] { server_->listen_after_bind(); });
    // Wait (bounded) for the accept loop; listen_after_bind sets is_running.
    for (int i = 0; i < 2000 && !server_->is_running(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  void Stop() {
    if (thread_.joinable()) {
      server_->stop();
      thread_.join();
    }
  }

  int port() const { return port_; }
  std::string url(const std::string& host = "127.0.0.1") const {
    return std::string(mode_ == ServerMode::kPlain ? "http" : "https") + "://" + host + ":" + std::to_string(port_);
  }

  // CN of the client certificate presented on `req`'s connection, "" if none.
  static std::string PeerCommonName(const httplib::Request& req) {
    if (req.ssl == nullptr) return "";
    X509* cert = SSL_get1_peer_certificate(req.ssl);
    if (cert == nullptr) return "";
    char buf[256] = {0};
    X509_NAME_get_text_by_NID(X509_get_subject_name(cert), NID_commonName, buf, sizeof buf);
    X509_free(cert);
    return buf;
  }

 private:
  ServerMode mode_;
  TempDir dir_;
  std::unique_ptr<httplib::Server> server_;
  std::thread thread_;
  int port_ = 0;
};

}  // namespace hpad::k8s::testing
