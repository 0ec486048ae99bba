// Shared helpers of the libFuzzer harnesses in tests/fuzz/ (issue 10).
//
// Each harness feeds one parser arbitrary bytes and checks properties that
// must hold for every input: no crash, no sanitizer report, error texts are
// valid UTF-8 of bounded size, accepted values survive a round trip. A
// property violation calls FuzzFail(), which aborts so libFuzzer keeps the
// input. Logging is silenced (klog would flood the fuzzer's output).
// Single-threaded, like libFuzzer's driver.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "k8sclient/base/klog.h"
#include "k8sclient/base/status.h"
#include "k8sclient/base/text.h"

namespace hpad::fuzz {

[[noreturn]] inline void FuzzFail(const char* what, std::string_view detail) {
  std::fprintf(stderr, "fuzz property violated: %s: %.*s\n", what, static_cast<int>(detail.size() > 2000 ? 2000 : detail.size()),
               detail.data());
  std::abort();
}

inline void SilenceLogs() {
  static bool done = [] {
    k8s::SetLogSink([](std::string_view) {});
    return true;
  }();
  (void)done;
}

inline std::string_view AsText(const uint8_t* data, size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

// Every error leaving a parser must be printable: valid UTF-8 and short
// enough for an Event or condition message (messages quote at most a few
// excerpts of the input, so 64 KiB is a generous bound).
inline void CheckErrorText(const Status& s) {
  if (s.ok()) return;
  if (!k8s::IsValidUtf8(s.message())) FuzzFail("error message is not valid UTF-8", s.message());
  if (s.message().size() > 64 * 1024) FuzzFail("error message longer than 64 KiB", s.message().substr(0, 200));
}

}  // namespace hpad::fuzz
