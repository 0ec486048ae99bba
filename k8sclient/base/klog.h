// klog: klog-style log lines for every hpad component.
//
//   I1123 10:41:55.123456      17 horizontal.cc:42] message
//   ^severity (I/W/E), mmdd hh:mm:ss.uuuuuu (UTC), thread id (width 7, as
//   klog pads its pid), basename:line, "] ", message.
//
// The log is process-wide, like klog: the composition root (a main()) sets
// the clock, the verbosity (`-v N`) and, in tests, a sink; libraries only
// write with HPAD_LOG / HPAD_VLOG. Until SetLogClock() is called lines carry
// the Unix epoch, because library code must not read the wall clock
// (architecture.md "Inject time").
//
// Every message passes through RedactSecrets() before it is written, so a
// bearer token or kubeconfig credential that slips into a message (an error
// body, a dumped config) is masked; callers should still never log them.
//
// Thread safety: all functions are safe to call from any thread; one line is
// written whole (a mutex around the sink). Stderr is batched: klog.cc.
#pragma once

#include <functional>
#include <sstream>
#include <string>
#include <string_view>

#include "k8sclient/base/clock.h"

namespace hpad::k8s {

enum class LogSeverity { kInfo, kWarning, kError };

// Configuration (composition roots and tests).
void SetLogClock(const Clock* clock);  // nullptr: epoch timestamps
void SetLogVerbosity(int verbosity);
int LogVerbosity();
// Receives each complete line without the trailing newline. nullptr restores
// the default sink (stderr, batched; FlushLog() is in last_resort.h).
using LogSink = std::function<void(std::string_view line)>;
void SetLogSink(LogSink sink);

inline bool VLogEnabled(int level) { return LogVerbosity() >= level; }

// The pure formatter behind every line (tested directly).
std::string FormatLogLine(LogSeverity severity, Time when, long thread_id, std::string_view file, int line,
                          std::string_view message);

// Masks credential values: `Bearer <token>`, `Basic <b64>` (a space or tab
// after the scheme), the value of an `Authorization:`/`Proxy-Authorization:`
// header whatever its scheme (or none; the scheme word stays), and the
// values of keys named token, access-token/access_token, bearer-token/
// bearer_token/BearerToken, id-token, password, client-secret/client_secret,
// client-key-data, client-certificate-data, certificate-authority-data,
// refresh-token, secret and x-api-key, in `key: value`, `key=value` and JSON
// `"key": "value"` forms. Everything else is unchanged.
std::string RedactSecrets(std::string_view text);

// One log line being built; written in the destructor.
class LogMessage {
 public:
  LogMessage(LogSeverity severity, const char* file, int line) : severity_(severity), file_(file), line_(line) {}
  ~LogMessage();
  LogMessage(const LogMessage&) = delete;
  LogMessage& operator=(const LogMessage&) = delete;
  std::ostream& stream() { return stream_; }

 private:
  LogSeverity severity_;
  const char* file_;
  int line_;
  std::ostringstream stream_;
};

}  // namespace hpad::k8s

// HPAD_LOG(Info|Warning|Error) << "text";   HPAD_VLOG(2) << "detail";
#define HPAD_LOG(sev) ::hpad::k8s::LogMessage(::hpad::k8s::LogSeverity::k##sev, __FILE__, __LINE__).stream()
// A for-statement (not an if) so `if (x) HPAD_VLOG(2) << ...; else ...` parses
// as written; the message is not even formatted when the level is off.
#define HPAD_VLOG(level) \
  for (bool hpad_vlog_on_ = ::hpad::k8s::VLogEnabled(level); hpad_vlog_on_; hpad_vlog_on_ = false) HPAD_LOG(Info)
