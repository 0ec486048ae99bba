// Differential fuzzing of the fast JSON scanner (k8sclient/api/json_fast_sax.h,
// issue 16) against nlohmann's own parser, the reference: for every input
// the scanner may accept only what nlohmann::json::sax_parse accepts, with
// the same callbacks and the same DOM, and where it gives up it must have
// made only callbacks nlohmann makes too (tests/k8sclient/api/fast_sax_check.h).
// The first input byte also picks a callback at which the handler stops
// the parse (0: none), so early stops are covered.
#include <cstddef>
#include <cstdint>
#include <limits>
#include <string_view>

#include "tests/fuzz/fuzz_support.h"
#include "tests/k8sclient/api/fast_sax_check.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace hpad;
  fuzz::SilenceLogs();
  if (size == 0) return 0;
  const size_t stop_at = data[0] < 32 ? data[0] : std::numeric_limits<size_t>::max();
  const std::string_view text = fuzz::AsText(data + 1, size - 1);
  if (k8s::JsonNestingExceeds(text, k8s::kMaxJsonDepth)) return 0;  // callers reject such texts (json_parse.h)
  auto verdict = k8s::testing::CheckFastSax(text, stop_at == 0 ? std::numeric_limits<size_t>::max() : stop_at);
  if (!verdict.violation.empty()) fuzz::FuzzFail("fast scanner contract", verdict.violation);
  return 0;
}
