// Fuzzes typed decoding of metrics.k8s.io PodMetricsList replies.
#include "k8sclient/api/types/metrics.h"
#include "tests/fuzz/typed_fuzz.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace hpad;
  return fuzz::FuzzTyped(
      data, size, [](const nlohmann::json& j) { return k8s::PodMetricsListFromJson(j); },
      [](const auto&, const nlohmann::json&) {});
}
