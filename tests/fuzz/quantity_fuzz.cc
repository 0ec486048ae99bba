// Fuzzes Quantity::Parse and the arithmetic on accepted values (issue 10,
// item 5): no UB (UBSan aborts), canonical text re-parses to the same value.
#include "k8sclient/api/quantity.h"
#include "tests/fuzz/fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace hpad;
  fuzz::SilenceLogs();
  std::string_view text = fuzz::AsText(data, size);
  auto q = k8s::Quantity::Parse(text);
  if (!q.ok()) {
    fuzz::CheckErrorText(q.status());
    return 0;
  }
  (void)q->MilliValue();
  (void)q->Value();
  (void)q->AsDouble();
  std::string canonical = q->ToString();
  auto again = k8s::Quantity::Parse(canonical);
  if (!again.ok()) fuzz::FuzzFail("canonical text does not parse", canonical);
  if (again->Compare(*q) != 0) fuzz::FuzzFail("canonical text changes the value", canonical);
  if (again->ToString() != canonical) fuzz::FuzzFail("canonical text is not stable", canonical);
  (void)k8s::Quantity::FromMilli(q->MilliValue()).ToString();
  (void)k8s::Quantity::FromInt(q->Value(), k8s::Quantity::Format::kBinarySI).ToString();
  return 0;
}
