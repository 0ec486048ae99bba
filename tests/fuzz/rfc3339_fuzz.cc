// Fuzzes ParseRfc3339; times outside the representable range must be parse
// errors (issue 10, item 5), and an accepted time prints and re-parses.
#include "k8sclient/api/time_format.h"
#include "tests/fuzz/fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace hpad;
  fuzz::SilenceLogs();
  auto t = k8s::ParseRfc3339(fuzz::AsText(data, size));
  if (!t.ok()) {
    fuzz::CheckErrorText(t.status());
    return 0;
  }
  std::string micro = k8s::FormatRfc3339Micro(*t);
  auto again = k8s::ParseRfc3339(micro);
  if (!again.ok()) fuzz::FuzzFail("printed time does not parse", micro);
  // The printer drops sub-microsecond digits the way Go does: floor within the
  // second. time_point_cast rounds toward zero, i.e. up for times before 1970
  // (corpus/rfc3339_fuzz/crash-pre-1970-sub-microsecond: 1751-...55.1023456Z
  // prints .102345, the harness expected .102346).
  auto truncated = std::chrono::floor<std::chrono::microseconds>(*t);
  if (std::chrono::floor<std::chrono::microseconds>(*again) != truncated)
    fuzz::FuzzFail("printed time changes the value", micro);
  (void)k8s::FormatRfc3339(*t);
  return 0;
}
