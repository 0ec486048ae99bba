// Fuzzes typed decoding of custom.metrics.k8s.io MetricValueList replies.
#include "k8sclient/api/types/metrics.h"
#include "tests/fuzz/typed_fuzz.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace hpad;
  return fuzz::FuzzTyped(
      data, size, [](const nlohmann::json& j) { return k8s::MetricValueListFromJson(j); },
      [](const auto&, const nlohmann::json&) {});
}
