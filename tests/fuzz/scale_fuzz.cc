// Fuzzes typed decoding of autoscaling/v1 Scale objects and their printing.
#include "k8sclient/api/types/scale.h"
#include "tests/fuzz/typed_fuzz.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace hpad;
  return fuzz::FuzzTyped(
      data, size, [](const nlohmann::json& j) { return k8s::ScaleFromJson(j); },
      [](const k8s::Scale& s, const nlohmann::json&) { (void)k8s::DumpForeign(k8s::ScaleToJson(s)); });
}
