// klog-style logging (see klog.h) and the batched stderr sink (see
// last_resort.h: FlushLog and the crash flush are declared there).
#include "k8sclient/base/klog.h"

#include <poll.h>
#include <pthread.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <cctype>
#include <chrono>
#include <cstdint>
#include <cerrno>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <iostream>
#include <mutex>
#include <thread>
#include <utility>

#include "k8sclient/base/last_resort.h"

namespace hpad::k8s {
namespace {

// How the default sink writes (issue 16).
enum class StderrMode : int {
  kBatched,    // lines collect in `pending`; the flusher thread or a W/E line writes them
  kDirect,     // each line is written at once: after the exit or crash flush, or without a flusher thread
  kForkChild,  // a fork() child: the inherited `pending` is the parent's to write, never ours
};

struct LogState {
  std::atomic<const Clock*> clock{nullptr};
  std::atomic<int> verbosity{0};
  std::mutex sink_mu;
  LogSink sink;  // guarded by sink_mu; empty = the batched stderr sink

  // The batched stderr sink. Lock order: write_mu, then sink_mu. Appending
  // takes sink_mu only, so a logging caller never waits for a write(2)
  // unless it logs a W/E line or the buffer is over kMaxLogBufferBytes.
  std::atomic<StderrMode> mode{StderrMode::kBatched};
  std::string pending;                 // guarded by sink_mu: complete lines, '\n'-terminated, not yet taken
  bool flush_now = false;              // guarded by sink_mu: pending passed kLogBatchBytes, flusher woken
  bool flusher_started = false;        // guarded by sink_mu
  std::condition_variable pending_cv;  // with sink_mu: wakes the flusher (empty -> non-empty, or flush_now)
  // Held from taking `pending` until its bytes are written, so batches
  // reach fd 2 whole and in the order they were logged.
  std::mutex write_mu;
  std::string writing;  // guarded by write_mu: the batch being written (its capacity is reused)
};

void AtForkPrepare();
void AtForkParent();
void AtForkChild();

LogState& State() {
  // Never destroyed: logging may run during exit. The fork handlers come
  // with the state, so every fork() after the first use is covered, whether
  // or not the flusher has started.
  static LogState* state = [] {
    auto* s = new LogState();
    ::pthread_atfork(AtForkPrepare, AtForkParent, AtForkChild);
    return s;
  }();
  return *state;
}

// Writes [data, data + size) to fd 2 whole: a short write continues where
// it stopped, EINTR retries, EAGAIN (a non-blocking fd 2 whose pipe is
// full) waits in poll() for room instead of spinning; any other error (fd 2
// closed, EPIPE) drops the rest - the bytes cannot be delivered and retrying
// would spin. `max_full_waits` bounds the EAGAIN waits (the crash path must
// end; -1: unbounded, like a blocking write). Uses only async-signal-safe
// calls (write, poll).
void WriteStderr(const char* data, size_t size, int max_full_waits) {
  int full_waits = 0;
  while (size > 0) {
    ssize_t n = ::write(STDERR_FILENO, data, size);
    if (n > 0) {
      data += n;
      size -= static_cast<size_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      if (max_full_waits >= 0 && full_waits++ >= max_full_waits) return;
      pollfd pfd{STDERR_FILENO, POLLOUT, 0};
      ::poll(&pfd, 1, 1000);
      continue;
    }
    return;  // n == 0 or a hard error
  }
}

// Takes every pending line and writes it (one write(2) unless short).
void FlushPending(LogState& st) {
  std::lock_guard<std::mutex> w(st.write_mu);
  {
    std::lock_guard<std::mutex> l(st.sink_mu);
    if (st.pending.empty()) return;
    st.writing.swap(st.pending);  // pending keeps the old batch's capacity: no allocation per batch
    st.flush_now = false;
  }
  WriteStderr(st.writing.data(), st.writing.size(), -1);
  st.writing.clear();
}

// The flusher: sleeps while nothing is pending; once a line arrives (one
// notify), waits up to kLogFlushDelay for more - lines logged meanwhile do
// not wake it - and writes the batch. The delay is real time on purpose:
// stderr is read by people and log collectors in real time, whatever clock
// the process injects for its timestamps (a simulation's clock included).
void FlusherLoop() {
  auto& st = State();
  for (;;) {
    try {
      {
        std::unique_lock<std::mutex> l(st.sink_mu);
        st.pending_cv.wait(l, [&] { return !st.pending.empty(); });
        st.pending_cv.wait_for(l, kLogFlushDelay, [&] { return st.flush_now || st.pending.empty(); });
      }
      FlushPending(st);
    } catch (...) {
      // Only a failing lock or wait can throw here. The thread must not end
      // (lines would wait for a W/E line); it cannot log about itself
      // either. Pause so a persistent failure cannot spin.
      ::usleep(static_cast<useconds_t>(std::chrono::microseconds(kLogFlushDelay).count()));
    }
  }
}

// exit(): write what is pending and switch to one write per line, so lines
// logged later in the exit (static destructors, threads still running) are
// not left in a buffer nobody writes.
void FlushAtExit() {
  auto& st = State();
  if (st.mode.load() == StderrMode::kForkChild) return;
  std::lock_guard<std::mutex> w(st.write_mu);
  {
    std::lock_guard<std::mutex> l(st.sink_mu);
    st.writing.swap(st.pending);
    st.mode.store(StderrMode::kDirect);
  }
  WriteStderr(st.writing.data(), st.writing.size(), -1);
  st.writing.clear();
}

// fork(): the child holds a copy of the parent's pending lines, which the
// parent writes; the child writing them too would duplicate them, and it
// has no flusher thread (nor should it start one). So a child writes each
// line at once and never the inherited buffer. (posix_spawn and vfork
// children run no atfork handler; they must not log before exec, as for
// any non-async-signal-safe call.)
// sink_mu is held across the fork: a child forked while another thread (the
// flusher waking up, a thread logging) held it would inherit it locked,
// with nobody left to unlock it, and hang on its first line (CI's TSan
// pass timed out on the fork test once). The child's one thread is the one
// that locked it in prepare, so it may unlock it. write_mu is not taken: a
// child never uses it, and a write(2) stuck on a full stderr pipe must not
// hold up fork.
void AtForkPrepare() { State().sink_mu.lock(); }
void AtForkParent() { State().sink_mu.unlock(); }
void AtForkChild() {
  auto& st = State();
  st.mode.store(StderrMode::kForkChild);
  st.sink_mu.unlock();
}

// Starts the flusher with the first batched line (sink_mu held). Returns
// false when no thread can be started: the caller then writes directly.
bool StartFlusher(LogState& st) {
  st.flusher_started = true;
  std::atexit(FlushAtExit);
  try {
    std::thread(FlusherLoop).detach();  // never joined: it sleeps through exit like any idle thread
  } catch (...) {
    st.mode.store(StderrMode::kDirect);
    return false;
  }
  return true;
}

// Try-locks `mu` for up to ~0.5 s (50 x 10 ms): long enough for another
// thread to finish a write(2) of a batch, short enough that a crash whose
// thread holds the lock still ends. nanosleep is async-signal-safe.
bool TryLockBriefly(std::mutex& mu) {
  for (int i = 0; i < 50; ++i) {
    if (mu.try_lock()) return true;
    timespec pause{0, 10 * 1000 * 1000};
    ::nanosleep(&pause, nullptr);
  }
  return false;
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
    // ASCII only (the prefixes are lowercase ASCII): std::tolower is a
    // locale call per byte.
    char c = text[pos + i];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (c != prefix[i]) return false;
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

// The first letters (either case) of every word the matchers in
// RedactSecrets look for: a word starting with any other byte is copied
// without trying them (issue 16: every -v=2 reconcile line passes here).
constexpr std::array<bool, 256> kCredentialInitials = [] {
  std::array<bool, 256> t{};
  auto mark = [&t](std::string_view word) {
    const auto c = static_cast<unsigned char>(word[0]);
    t[c] = true;
    if (c >= 'a' && c <= 'z') t[c - 'a' + 'A'] = true;
  };
  for (std::string_view w : kSecretKeys) mark(w);
  for (std::string_view w : kAuthorizationHeaders) mark(w);
  mark("bearer");
  mark("basic");
  return t;
}();

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
  // Calendar arithmetic instead of gmtime_r + snprintf: every -v=2
  // reconcile line comes through here, and glibc's gmtime takes the time
  // zone lock and snprintf parses its format each time (issue 16).
  using namespace std::chrono;
  const auto micros_since_epoch = duration_cast<microseconds>(when.time_since_epoch());
  const auto day = floor<days>(micros_since_epoch);  // pre-epoch times: the fraction stays positive
  const year_month_day date{sys_days{day}};
  int64_t in_day = (micros_since_epoch - day).count();  // [0, 86,400,000,000)
  const auto micros = in_day % 1000000;
  in_day /= 1000000;
  char head[64];
  char* p = head;
  auto two = [&p](unsigned v) {
    *p++ = static_cast<char>('0' + v / 10 % 10);
    *p++ = static_cast<char>('0' + v % 10);
  };
  *p++ = SeverityChar(severity);
  two(static_cast<unsigned>(date.month()));
  two(static_cast<unsigned>(date.day()));
  *p++ = ' ';
  two(static_cast<unsigned>(in_day / 3600));
  *p++ = ':';
  two(static_cast<unsigned>(in_day / 60 % 60));
  *p++ = ':';
  two(static_cast<unsigned>(in_day % 60));
  *p++ = '.';
  for (int64_t div = 100000; div > 0; div /= 10) *p++ = static_cast<char>('0' + micros / div % 10);
  // The thread id right-aligned in 7 columns, wider when it needs more.
  char digits[24];
  int n = 0;
  const bool negative = thread_id < 0;
  uint64_t id = negative ? 0 - static_cast<uint64_t>(thread_id) : static_cast<uint64_t>(thread_id);
  do {
    digits[n++] = static_cast<char>('0' + id % 10);
    id /= 10;
  } while (id != 0);
  if (negative) digits[n++] = '-';
  *p++ = ' ';
  for (int pad = 7 - n; pad > 0; --pad) *p++ = ' ';
  while (n > 0) *p++ = digits[--n];
  *p++ = ' ';
  std::string out;
  out.reserve(static_cast<size_t>(p - head) + file.size() + 16 + message.size());
  out.append(head, p);
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
    if (at_word_start && kCredentialInitials[static_cast<unsigned char>(text[i])]) {
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
  std::unique_lock<std::mutex> l(st.sink_mu);
  if (st.sink) {
    st.sink(line);
    return;
  }
  line.push_back('\n');
  StderrMode mode = st.mode.load();
  if (mode == StderrMode::kBatched && !st.flusher_started && !StartFlusher(st)) mode = StderrMode::kDirect;
  if (mode == StderrMode::kForkChild) {
    // No other thread of ours exists to hold write_mu; sink_mu keeps lines whole.
    WriteStderr(line.data(), line.size(), -1);
    return;
  }
  if (mode == StderrMode::kDirect) {
    l.unlock();
    std::lock_guard<std::mutex> w(st.write_mu);  // after any batch being written
    WriteStderr(line.data(), line.size(), -1);
    return;
  }
  const bool was_empty = st.pending.empty();
  st.pending.append(line);
  // A W/E line is written before the call returns, with everything logged
  // before it. So is a buffer over its bound: fd 2 is not being drained,
  // and the caller waits for room as an unbatched klog caller would, rather
  // than losing lines (which would hide exactly what happened while the
  // log reader was stuck) or growing without bound.
  if (severity_ != LogSeverity::kInfo || st.pending.size() >= kMaxLogBufferBytes) {
    l.unlock();
    FlushPending(st);
    return;
  }
  bool wake = was_empty;  // the flusher sleeps until a batch starts...
  if (st.pending.size() >= kLogBatchBytes && !st.flush_now) {
    st.flush_now = true;  // ...and is woken once more when it is big enough to write now
    wake = true;
  }
  l.unlock();
  if (wake) st.pending_cv.notify_one();
}

void FlushLog() {
  auto& st = State();
  if (st.mode.load() == StderrMode::kForkChild) return;
  FlushPending(st);
}

// Runs in a signal handler or std::terminate, maybe on a thread that died
// holding a log mutex, maybe while other threads keep logging. Blocking on
// the mutexes could hang the crash forever; reading `pending` without them
// could read a buffer another thread is reallocating. So: try-lock (never
// blocks; in glibc a plain compare-and-swap, not on POSIX's
// async-signal-safe list but free of internal locks and allocation), with
// brief retries so a flusher in the middle of a write(2) can finish; if the
// locks cannot be had, the buffer is given up - a lost tail beats a hung
// crash. The EAGAIN waits are bounded (a crash must end); a blocking fd 2
// whose pipe stays full still blocks, as any write would. Afterwards lines
// are written at once, so what other threads log while the process dies is
// not left in the buffer.
void FlushLogFromSignalHandler() {
  const int saved_errno = errno;
  auto& st = State();
  if (st.mode.load() != StderrMode::kForkChild && TryLockBriefly(st.write_mu)) {
    if (TryLockBriefly(st.sink_mu)) {
      WriteStderr(st.pending.data(), st.pending.size(), 2);
      st.pending.clear();
      st.mode.store(StderrMode::kDirect);
      st.sink_mu.unlock();
    }
    st.write_mu.unlock();
  }
  errno = saved_errno;
}

}  // namespace hpad::k8s
