// Fuzzes typed decoding of Pod objects.
#include "k8sclient/api/types/pod.h"
#include "tests/fuzz/typed_fuzz.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace hpad;
  return fuzz::FuzzTyped(
      data, size, [](const nlohmann::json& j) { return k8s::PodFromJson(j); },
      [](const k8s::Pod&, const nlohmann::json&) {});
}
