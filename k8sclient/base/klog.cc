// klog-style logging (see klog.h).
#include "k8sclient/base/klog.h"

#include <sys/syscall.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <cctype>
#include <cstdio>
#include <ctime>
#include <iostream>
#include <mutex>
#include <utility>

namespace hpad::k8s {
namespace {

struct LogState {
  std::atomic<const Clock*> clock{nullptr};
  std::atomic<int> verbosity{0};
  std::mutex sink_mu;
  LogSink sink;  // guarded by sink_mu; empty = stderr
};

LogState& State() {
  static LogState* state = new LogState();  // never destroyed: logging may run during exit
  return *state;
}

char SeverityChar(LogSeverity s) {
  switch (s) {
    case LogSeverity::kInfo:
      return 'I';
    case LogSeverity::kWarning:
      return 'W';
    case LogSeverity::kError:
      return 'E';
  }
  return '?';
}

std::string_view Basename(std::string_view file) {
  auto slash = file.rfind('/');
  return slash == std::string_view::npos ? file : file.substr(slash + 1);
}

bool IsWordChar(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_'; }

bool StartsWithNoCase(std::string_view text, size_t pos, std::string_view prefix) {
  if (pos + prefix.size() > text.size()) return false;
  for (size_t i = 0; i < prefix.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(text[pos + i])) != prefix[i]) return false;
  }
  return true;
}

constexpr std::string_view kRedacted = "<redacted>";

// Keys whose values are credentials. Longest first so "client-key-data" is
// not shadowed by a shorter key sharing its start.
// bearer-token/bearer_token/bearertoken: client-go's rest.Config BearerToken
// as Go's %+v prints it; client-secret: OIDC auth-provider config.
constexpr std::array<std::string_view, 16> kSecretKeys = {
    "certificate-authority-data", "client-certificate-data", "client-key-data", "client-secret", "client_secret",
    "refresh-token", "access-token", "access_token", "bearer-token", "bearer_token", "bearertoken", "id-token",
    "password", "secret", "token", "x-api-key"};

// Header names whose whole value is a credential, with or without a scheme
// word in front ("Authorization: abc", "Authorization: Negotiate abc").
constexpr std::array<std::string_view, 2> kAuthorizationHeaders = {"proxy-authorization", "authorization"};

bool IsBlank(char c) { return c == ' ' || c == '\t'; }

// Where a credential token that starts at `p` ends: whitespace, a quote, a
// comma or a closing bracket/semicolon (none can be part of a token68 or a
// JWT, so stopping there hides the whole token and keeps the prose).
size_t TokenEnd(std::string_view text, size_t p) {
  auto ends = [](char c) {
    return std::isspace(static_cast<unsigned char>(c)) || c == '"' || c == '\'' || c == ',' || c == ')' || c == ']' ||
           c == '}' || c == ';';
  };
  while (p < text.size() && !ends(text[p])) ++p;
  return p;
}

// At `i` (a word start): "<authorization header>[\"'] [:=] [\"'][Scheme ]token".
// Returns the bounds of the token to hide (begin == end: no match).
std::pair<size_t, size_t> AuthorizationHeaderValue(std::string_view text, size_t i) {
  for (std::string_view header : kAuthorizationHeaders) {
    if (!StartsWithNoCase(text, i, header)) continue;
    size_t p = i + header.size();
    if (p < text.size() && IsWordChar(text[p])) continue;
    if (p < text.size() && (text[p] == '"' || text[p] == '\'')) ++p;
    while (p < text.size() && IsBlank(text[p])) ++p;
    if (p >= text.size() || (text[p] != ':' && text[p] != '=')) continue;
    ++p;
    while (p < text.size() && IsBlank(text[p])) ++p;
    if (p < text.size() && (text[p] == '"' || text[p] == '\'')) ++p;
    // A scheme word (letters, then blanks, then more) stays readable.
    size_t word = p;
    while (word < text.size() && std::isalpha(static_cast<unsigned char>(text[word]))) ++word;
    if (word > p && word < text.size() && IsBlank(text[word])) {
      size_t after = word;
      while (after < text.size() && IsBlank(text[after])) ++after;
      if (TokenEnd(text, after) > after) p = after;
    }
    return {p, TokenEnd(text, p)};
  }
  return {0, 0};
}

}  // namespace

void SetLogClock(const Clock* clock) { State().clock.store(clock); }
void SetLogVerbosity(int verbosity) { State().verbosity.store(verbosity); }
int LogVerbosity() { return State().verbosity.load(std::memory_order_relaxed); }

void SetLogSink(LogSink sink) {
  auto& st = State();
  std::lock_guard<std::mutex> l(st.sink_mu);
  st.sink = std::move(sink);
}

std::string FormatLogLine(LogSeverity severity, Time when, long thread_id, std::string_view file, int line,
                          std::string_view message) {
  auto since_epoch = when.time_since_epoch();
  auto secs = std::chrono::duration_cast<std::chrono::seconds>(since_epoch);
  auto micros = std::chrono::duration_cast<std::chrono::microseconds>(since_epoch - secs).count();
  if (micros < 0) {  // pre-epoch times: keep the fraction positive
    secs -= std::chrono::seconds(1);
    micros += 1000000;
  }
  std::time_t tt = static_cast<std::time_t>(secs.count());
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char head[64];
  std::snprintf(head, sizeof(head), "%c%02d%02d %02d:%02d:%02d.%06lld %7ld ", SeverityChar(severity), tm.tm_mon + 1,
                tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<long long>(micros), thread_id);
  std::string out(head);
  out.append(Basename(file));
  out.push_back(':');
  out.append(std::to_string(line));
  out.append("] ");
  out.append(message);
  return out;
}

std::string RedactSecrets(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  size_t i = 0;
  while (i < text.size()) {
    // Authorization schemes: "Bearer abc", "Basic abc".
    bool at_word_start = i == 0 || !IsWordChar(text[i - 1]);
    if (at_word_start) {
      // "Authorization: [Scheme ]token": the header names the credential.
      if (auto [begin, end] = AuthorizationHeaderValue(text, i); end > begin) {
        out.append(text.substr(i, begin - i));
        out.append(kRedacted);
        i = end;
        continue;
      }
      size_t scheme_len = 0;
      if (StartsWithNoCase(text, i, "bearer") && i + 6 < text.size() && IsBlank(text[i + 6])) scheme_len = 7;
      if (StartsWithNoCase(text, i, "basic") && i + 5 < text.size() && IsBlank(text[i + 5])) scheme_len = 6;
      if (scheme_len) {
        size_t v = i + scheme_len;
        while (v < text.size() && IsBlank(text[v])) ++v;
        const size_t end = TokenEnd(text, v);
        if (end > v) {
          out.append(text.substr(i, v - i));
          out.append(kRedacted);
          i = end;
          continue;
        }
      }
      // key: value / key=value / "key": "value"
      bool matched = false;
      for (std::string_view key : kSecretKeys) {
        if (!StartsWithNoCase(text, i, key)) continue;
        size_t p = i + key.size();
        if (p < text.size() && IsWordChar(text[p])) continue;  // "tokenFile" is not "token"
        if (p < text.size() && (text[p] == '"' || text[p] == '\'')) ++p;
        while (p < text.size() && text[p] == ' ') ++p;
        if (p >= text.size() || (text[p] != ':' && text[p] != '=')) continue;
        ++p;
        while (p < text.size() && text[p] == ' ') ++p;
        char quote = 0;
        if (p < text.size() && (text[p] == '"' || text[p] == '\'')) quote = text[p++];
        size_t end = p;
        if (quote) {
          while (end < text.size() && text[end] != quote) {
            if (text[end] == '\\' && end + 1 < text.size()) ++end;
            ++end;
          }
        } else {
          while (end < text.size() && !std::isspace(static_cast<unsigned char>(text[end])) && text[end] != ',' &&
                 text[end] != '}' && text[end] != ';' && text[end] != '&')
            ++end;
        }
        if (end == p) continue;  // empty value: nothing to hide
        out.append(text.substr(i, p - i));
        out.append(kRedacted);
        i = end;
        matched = true;
        break;
      }
      if (matched) continue;
    }
    out.push_back(text[i]);
    ++i;
  }
  return out;
}

LogMessage::~LogMessage() {
  auto& st = State();
  const Clock* clock = st.clock.load();
  Time now = clock ? clock->Now() : Time{};
  static thread_local long tid = static_cast<long>(::syscall(SYS_gettid));
  std::string line = FormatLogLine(severity_, now, tid, file_, line_, RedactSecrets(stream_.str()));
  std::lock_guard<std::mutex> l(st.sink_mu);
  if (st.sink) {
    st.sink(line);
  } else {
    line.push_back('\n');
    std::fwrite(line.data(), 1, line.size(), stderr);
    std::fflush(stderr);
  }
}

}  // namespace hpad::k8s
