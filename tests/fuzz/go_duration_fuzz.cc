// Fuzzes ParseGoDuration; an accepted duration's printed form re-parses to
// the same value.
#include "k8sclient/api/quantity.h"
#include "tests/fuzz/fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace hpad;
  fuzz::SilenceLogs();
  auto d = k8s::ParseGoDuration(fuzz::AsText(data, size));
  if (!d.ok()) {
    fuzz::CheckErrorText(d.status());
    return 0;
  }
  std::string text = k8s::FormatGoDuration(*d);
  auto again = k8s::ParseGoDuration(text);
  if (!again.ok()) fuzz::FuzzFail("printed duration does not parse", text);
  if (*again != *d) fuzz::FuzzFail("printed duration changes the value", text);
  return 0;
}
