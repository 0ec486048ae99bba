// The last-resort error counter (k8sclient/base/last_resort.h).
#include <catch2/catch.hpp>

#include <string>
#include <thread>
#include <vector>

#include "k8sclient/base/klog.h"
#include "k8sclient/base/last_resort.h"
#include "k8sclient/base/text.h"

namespace hpad::k8s {
namespace {

TEST_CASE("last_resort: logs an E line naming loop and error, and counts per loop", "[last_resort]") {
  std::vector<std::string> lines;
  SetLogSink([&](std::string_view line) { lines.emplace_back(line); });
  uint64_t before = UnexpectedErrorCount("test-loop-a");
  RecordUnexpectedError("test-loop-a", "boom \xFF token: s3cr3t");
  SetLogSink(nullptr);
  REQUIRE(lines.size() == 1);
  CHECK(lines[0].rfind("E", 0) == 0);
  CHECK(lines[0].find("unexpected error in loop test-loop-a: boom \xEF\xBF\xBD token: <redacted>") !=
        std::string::npos);
  CHECK(IsValidUtf8(lines[0]));
  CHECK(UnexpectedErrorCount("test-loop-a") == before + 1);
  CHECK(UnexpectedErrorCounts().at("test-loop-a") == before + 1);
  CHECK(UnexpectedErrorCount("test-loop-never") == 0);
}

TEST_CASE("last_resort: counting is thread-safe", "[last_resort]") {
  SetLogSink([](std::string_view) {});
  uint64_t before = UnexpectedErrorCount("test-loop-threads");
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([] {
      for (int i = 0; i < 250; ++i) RecordUnexpectedError("test-loop-threads", "x");
    });
  }
  for (auto& th : threads) th.join();
  SetLogSink(nullptr);
  CHECK(UnexpectedErrorCount("test-loop-threads") == before + 1000);
}

}  // namespace
}  // namespace hpad::k8s
