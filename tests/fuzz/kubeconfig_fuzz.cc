// Fuzzes kubeconfig loading: the input is written to a private temporary
// file and loaded like --kubeconfig. Exec plugins are never run (loading
// only records them). Inputs naming device files are skipped: a kubeconfig
// may point certificate-authority at any path, and reading /dev/stdin or a
// tty would block the fuzzer rather than exercise the parser.
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <string>

#include "k8sclient/kubeconfig.h"
#include "tests/fuzz/fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace hpad;
  fuzz::SilenceLogs();
  std::string_view text = fuzz::AsText(data, size);
  if (text.find("/dev") != std::string_view::npos || text.find("/proc") != std::string_view::npos) return 0;
  static const std::string path = "/tmp/hpad-kubeconfig-fuzz-" + std::to_string(::getpid()) + ".yaml";
  {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(text.data(), static_cast<std::streamsize>(text.size()));
  }
  SimulatedClock clock(Time{});
  k8s::KubeconfigOptions opts;
  opts.paths = {path};
  opts.missing_files_are_errors = true;
  auto cfg = k8s::LoadKubeconfig(opts, clock);
  if (!cfg.ok()) fuzz::CheckErrorText(cfg.status());
  return 0;
}
