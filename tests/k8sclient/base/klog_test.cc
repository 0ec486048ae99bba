// klog-style log lines and credential redaction (k8sclient/klog.h).
#include <catch2/catch.hpp>

#include <mutex>
#include <thread>
#include <vector>

#include "k8sclient/base/klog.h"
#include "k8sclient/api/time_format.h"

namespace hpad::k8s {
namespace {

TEST_CASE("klog: line header matches klog's layout", "[klog]") {
  auto t = ParseRfc3339("2025-11-23T10:41:55.123456Z");
  REQUIRE(t.ok());
  CHECK(FormatLogLine(LogSeverity::kInfo, *t, 1, "/src/controller/horizontal.cc", 42, "message") ==
        "I1123 10:41:55.123456       1 horizontal.cc:42] message");
  CHECK(FormatLogLine(LogSeverity::kWarning, *t, 1234567, "x.cc", 7, "w") ==
        "W1123 10:41:55.123456 1234567 x.cc:7] w");
  CHECK(FormatLogLine(LogSeverity::kError, Time{}, 9, "a/b/c.cc", 1, "") == "E0101 00:00:00.000000       9 c.cc:1] ");
}

TEST_CASE("klog: secrets are redacted, everything else is kept", "[klog]") {
  struct Case {
    const char* in;
    const char* out;
  };
  const Case cases[] = {
      {"Authorization: Bearer abc.def-ghi", "Authorization: Bearer <redacted>"},
      {"auth=\"Basic dXNlcjpwdw==\"", "auth=\"Basic <redacted>\""},
      {"token: s3cr3t", "token: <redacted>"},
      {"{\"token\": \"s3cr3t\", \"kind\": \"x\"}", "{\"token\": \"<redacted>\", \"kind\": \"x\"}"},
      {"client-key-data: LS0tLS1CRUdJTi", "client-key-data: <redacted>"},
      {"client-certificate-data=LS0t certificate-authority-data=LS0x", "client-certificate-data=<redacted> certificate-authority-data=<redacted>"},
      {"password='hunter2' user=bob", "password='<redacted>' user=bob"},
      {"\"access-token\":\"abc\"", "\"access-token\":\"<redacted>\""},
      // Not credentials: file names and words that merely contain a key.
      {"tokenFile: /var/run/secrets/token", "tokenFile: /var/run/secrets/token"},
      {"using token file /var/run/x", "using token file /var/run/x"},
      {"mytoken: 1", "mytoken: 1"},
      {"scaled deployment default/web from 2 to 4", "scaled deployment default/web from 2 to 4"},
      {"token:", "token:"},
  };
  for (const auto& c : cases) {
    INFO(c.in);
    CHECK(RedactSecrets(c.in) == c.out);
  }
}

// Forms that leaked before (issue 14 item "secrets"): a tab after the
// scheme, a header whose value has no scheme or an unknown one, the
// proxy header, client-go's BearerToken field and OIDC's client-secret.
TEST_CASE("klog: Authorization headers and bearer tokens are redacted in every form found", "[klog]") {
  struct Case {
    const char* in;
    const char* out;
  };
  const Case cases[] = {
      {"Authorization: Bearer\tabc.def", "Authorization: Bearer\t<redacted>"},
      {"authorization: bearer abc", "authorization: bearer <redacted>"},
      {"Authorization: abc123", "Authorization: <redacted>"},
      {"Authorization: Negotiate YIIabc==\nnext: line", "Authorization: Negotiate <redacted>\nnext: line"},
      {"Authorization:Bearer abc", "Authorization:Bearer <redacted>"},
      {"{\"Authorization\": \"Token abc\", \"kind\": \"x\"}", "{\"Authorization\": \"Token <redacted>\", \"kind\": \"x\"}"},
      {"Proxy-Authorization: Basic dXNlcjpwdw==", "Proxy-Authorization: Basic <redacted>"},
      {"request failed: GET /apis (Bearer abc.def.ghi) 401", "request failed: GET /apis (Bearer <redacted>) 401"},
      {"config {BearerToken:abc Host:x}", "config {BearerToken:<redacted> Host:x}"},
      {"bearer_token=abc&x=1", "bearer_token=<redacted>&x=1"},
      {"bearer-token: abc", "bearer-token: <redacted>"},
      {"client-secret: abc", "client-secret: <redacted>"},
      {"\"client_secret\":\"abc\"", "\"client_secret\":\"<redacted>\""},
      // Not credentials.
      {"authorization failed for user bob", "authorization failed for user bob"},
      {"Authorization:", "Authorization:"},
  };
  for (const auto& c : cases) {
    INFO(c.in);
    CHECK(RedactSecrets(c.in) == c.out);
  }
}

TEST_CASE("klog: HPAD_LOG writes whole redacted lines to the sink, HPAD_VLOG obeys -v", "[klog]") {
  std::mutex mu;
  std::vector<std::string> lines;
  SetLogSink([&](std::string_view l) {
    std::lock_guard<std::mutex> g(mu);
    lines.emplace_back(l);
  });
  SimulatedClock clock(*ParseRfc3339("2025-01-02T03:04:05Z"));
  SetLogClock(&clock);
  SetLogVerbosity(1);
  int formatted = 0;
  auto count = [&] { return ++formatted; };
  HPAD_LOG(Warning) << "lease lost, token=abc";
  HPAD_VLOG(1) << "shown " << count();
  HPAD_VLOG(2) << "hidden " << count();
  if (formatted == 1) HPAD_VLOG(5) << "x";
  else HPAD_LOG(Error) << "dangling else bound to the wrong if";

  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([] {
      for (int i = 0; i < 50; ++i) HPAD_LOG(Info) << "line " << i;
    });
  for (auto& t : threads) t.join();
  SetLogSink(nullptr);
  SetLogClock(nullptr);
  SetLogVerbosity(0);

  REQUIRE(lines.size() == 2 + 200);
  CHECK(lines[0].rfind("W0102 03:04:05.000000 ", 0) == 0);
  CHECK(lines[0].find("klog_test.cc:") != std::string::npos);
  CHECK(lines[0].find("] lease lost, token=<redacted>") != std::string::npos);
  CHECK(lines[1].find("] shown 1") != std::string::npos);
  CHECK(formatted == 1);  // the level-2 message was never formatted
  for (size_t i = 2; i < lines.size(); ++i) CHECK(lines[i].find("] line ") != std::string::npos);
}

}  // namespace
}  // namespace hpad::k8s
