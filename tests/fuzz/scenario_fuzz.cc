// Fuzzes scenario loading (scenario-format.md): the simulator's YAML
// parser and validator (ParseScenarioYaml) on arbitrary text, the path
// `hpad-sim run/serve FILE` takes after reading the file. Scenario files
// are author input, but a validator that crashes or hangs on a typo is a
// defect. Properties: no crash; a rejected scenario has at least one error
// and every error renders as valid UTF-8 of bounded size; an accepted one
// has a scenario. Built against hpad_sim_apiserver and sim/scenario.cc only
// (not the controller).
#include <string>

#include "sim/scenario.h"
#include "tests/fuzz/fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace hpad;
  fuzz::SilenceLogs();
  std::string text(fuzz::AsText(data, size));
  auto loaded = sim::ParseScenarioYaml("fuzz.yaml", text);
  if (loaded.ok()) return 0;
  if (loaded.errors.empty()) fuzz::FuzzFail("scenario rejected without an error", text.substr(0, 200));
  for (const auto& e : loaded.errors) {
    std::string msg = e.ToString();
    if (!k8s::IsValidUtf8(msg)) fuzz::FuzzFail("scenario error is not valid UTF-8", msg);
    if (msg.size() > 64 * 1024) fuzz::FuzzFail("scenario error longer than 64 KiB", msg.substr(0, 200));
  }
  return 0;
}
