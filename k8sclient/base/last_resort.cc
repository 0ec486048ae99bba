// The last-resort error counter (see last_resort.h).
#include "k8sclient/base/last_resort.h"

#include <signal.h>

#include <array>
#include <exception>
#include <mutex>

#include "k8sclient/base/klog.h"
#include "k8sclient/base/text.h"

namespace hpad::k8s {
namespace {

struct UnexpectedErrors {
  std::mutex mu;
  std::map<std::string, uint64_t, std::less<>> counts;  // guarded by mu
};

UnexpectedErrors& State() {
  static UnexpectedErrors* state = new UnexpectedErrors();  // never destroyed: loops may run during exit
  return *state;
}

// The dispositions InstallCrashLogFlush replaced, restored by the handler
// before it re-raises. Written once, before the handlers are installed.
constexpr std::array<int, 5> kFatalSignals = {SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT};
std::array<struct sigaction, kFatalSignals.size()> previous_actions{};
std::terminate_handler previous_terminate = nullptr;

// Async-signal-safe: FlushLogFromSignalHandler (klog.cc says how), then
// sigaction and raise. The signal is blocked while this runs (no
// SA_NODEFER), so the re-raise is delivered on return, to the previous
// disposition: the default action ends the process with this signal, as if
// no handler had run. A fault re-raised from here does not re-execute the
// faulting instruction first.
void CrashSignalHandler(int sig) {
  FlushLogFromSignalHandler();
  for (size_t i = 0; i < kFatalSignals.size(); ++i) {
    if (kFatalSignals[i] == sig) ::sigaction(sig, &previous_actions[i], nullptr);
  }
  ::raise(sig);
}

// std::terminate (an exception escaped a thread, a noexcept function threw):
// flush, then the previous handler (libstdc++'s prints the exception and
// aborts; the SIGABRT handler then finds nothing left to write).
[[noreturn]] void CrashTerminateHandler() {
  FlushLogFromSignalHandler();
  if (previous_terminate) previous_terminate();
  std::abort();
}

}  // namespace

void InstallCrashLogFlush() {
  static std::once_flag once;
  std::call_once(once, [] {
    for (size_t i = 0; i < kFatalSignals.size(); ++i) {
      struct sigaction action {};
      action.sa_handler = CrashSignalHandler;
      sigemptyset(&action.sa_mask);
      action.sa_flags = SA_ONSTACK;  // uses an alternate stack where a thread has one
      ::sigaction(kFatalSignals[i], &action, &previous_actions[i]);
    }
    previous_terminate = std::set_terminate(CrashTerminateHandler);
  });
}

void RecordUnexpectedError(std::string_view loop, std::string_view what) {
  std::string loop_name = SafeText(loop, kMaxLoopNameBytes);
  if (loop_name.empty()) loop_name = "unnamed";
  HPAD_LOG(Error) << "unexpected error in loop " << loop_name << ": "
                  << SafeText(what, kMaxUnexpectedErrorTextBytes);
  auto& st = State();
  std::lock_guard<std::mutex> l(st.mu);
  auto it = st.counts.find(loop_name);
  if (it == st.counts.end()) {
    if (st.counts.size() >= kMaxUnexpectedErrorLoops) loop_name = "other";
    it = st.counts.try_emplace(std::move(loop_name), 0).first;
  }
  if (it->second != UINT64_MAX) ++it->second;
}

std::map<std::string, uint64_t> UnexpectedErrorCounts() {
  auto& st = State();
  std::lock_guard<std::mutex> l(st.mu);
  return {st.counts.begin(), st.counts.end()};
}

uint64_t UnexpectedErrorCount(std::string_view loop) {
  auto& st = State();
  std::lock_guard<std::mutex> l(st.mu);
  auto it = st.counts.find(loop);
  return it == st.counts.end() ? 0 : it->second;
}

}  // namespace hpad::k8s
