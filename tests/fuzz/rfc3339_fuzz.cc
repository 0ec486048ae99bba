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
  auto truncated = std::chrono::time_point_cast<std::chrono::microseconds>(*t);
  if (std::chrono::time_point_cast<std::chrono::microseconds>(*again) != truncated)
    fuzz::FuzzFail("printed time changes the value", micro);
  (void)k8s::FormatRfc3339(*t);
  return 0;
}
