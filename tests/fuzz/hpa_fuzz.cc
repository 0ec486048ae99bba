// Fuzzes typed decoding of HorizontalPodAutoscaler objects: autoscaling/v2
// (HpaFromJson) and the v1 <-> v2 conversions used for v1 clients, whose
// annotations carry JSON of their own.
#include "k8sclient/api/types/hpa.h"
#include "tests/fuzz/typed_fuzz.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace hpad;
  int rc = fuzz::FuzzTyped(
      data, size, [](const nlohmann::json& j) { return k8s::HpaFromJson(j); },
      [](const k8s::Hpa& hpa, const nlohmann::json&) {
        (void)k8s::DumpForeign(k8s::HpaToJson(hpa));
        (void)k8s::DumpForeign(k8s::HpaStatusToJson(hpa.status));
      });
  auto j = k8s::ParseForeignJson(fuzz::AsText(data, size), "fuzz input");
  if (j.ok() && j->is_object()) {
    (void)k8s::DumpForeign(k8s::HpaV1ToV2(*j));
    (void)k8s::DumpForeign(k8s::HpaV2ToV1(*j));
    auto back = k8s::HpaFromJson(k8s::HpaV1ToV2(*j));
    if (!back.ok()) fuzz::CheckErrorText(back.status());
  }
  return rc;
}
