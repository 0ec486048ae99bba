// The fast JSON scanner (k8sclient/api/json_fast_sax.h) against nlohmann's
// parser: it accepts exactly the texts it is meant to take over, with the
// same callbacks and DOM, gives up on everything else, and the decoders
// behind it (DecodeText: PodMetricsList, PodList pages) give the same
// result when it gives up half-way as when it does not start.
#include <catch2/catch.hpp>

#include <cstdint>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "k8sclient/api/json_fast_sax.h"
#include "k8sclient/api/json_parse.h"
#include "k8sclient/api/types/metrics.h"
#include "k8sclient/api/types/pod.h"
#include "k8sclient/api/types/pod_metrics_table.h"
#include "tests/k8sclient/api/fast_sax_check.h"

namespace hpad::k8s {
namespace {

using testing::CheckFastSax;

std::string Nested(size_t depth) { return std::string(depth, '[') + std::string(depth, ']'); }

TEST_CASE("json_fast_sax: takes the texts API servers send, with nlohmann's callbacks and DOM", "[json_fast_sax]") {
  const std::vector<std::string> texts = {
      "{}",
      "[]",
      " \t\r\n{ \"a\" : 1 } \n",
      R"({"a":[1,-2,true,false,null,"x",[],{}],"b":{"c":{"d":[[]]}}})",
      R"("a\"b\\c\/d\b\f\n\r\t")",
      R"("\u0041\u00e9\u20AC\ud83d\ude00 and \u003c\u003e\u0026")",
      R"("\u0000")",
      "\"caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80 \xED\x9F\xBF \xEE\x80\x80 \xF4\x8F\xBF\xBF \x7F\"",
      "0",
      "-0",
      "999999999999999999",
      "-999999999999999999",
      R"({"a":1,"a":2})",
      R"({"kind":"PodMetricsList","apiVersion":"metrics.k8s.io/v1beta1","metadata":{},"items":[{"metadata":)"
      R"({"name":"web-1","namespace":"default","labels":{"app":"web"}},"timestamp":"2026-12-06T10:00:00Z",)"
      R"("window":"30s","containers":[{"name":"php","usage":{"cpu":"250m","memory":"52428Ki"}}]}]})",
      Nested(256),
  };
  for (const auto& text : texts) {
    INFO(text);
    auto v = CheckFastSax(text);
    CHECK(v.violation == "");
    CHECK(v.fast_accepted);
  }
}

TEST_CASE("json_fast_sax: gives up where nlohmann must decide (floats, long integers, NUL, depth, BOM)", "[json_fast_sax]") {
  const std::vector<std::string> valid_for_nlohmann = {
      "1.5", "[1e3]", "-2E-2", "1234567890123456789", "-1234567890123456789", "18446744073709551616",
      std::string("[1]\0trailing", 12), Nested(kFastSaxMaxDepth + 1), Nested(kFastSaxMaxDepth + 2),
      "\xEF\xBB\xBF{}",  // nlohmann skips a UTF-8 byte order mark
  };
  for (const auto& text : valid_for_nlohmann) {
    INFO(text.substr(0, 40));
    auto v = CheckFastSax(text);
    CHECK(v.violation == "");
    CHECK(v.reference_accepted);
    CHECK_FALSE(v.fast_accepted);
  }
}

TEST_CASE("json_fast_sax: rejects every malformed text nlohmann rejects", "[json_fast_sax]") {
  const std::vector<std::string> invalid = {
      "", " ", "{", "}", "[", "[1,]", R"({"a":1,})", R"({"a"})", R"({"a" 1})", "{1:2}", "01", "[01]", "-", "-x",
      "tru", "nul", "fals", "truex", "\"abc", "\"a\x01\"", R"("\x")", R"("\u12")", R"("\u12G4")", R"("\ud800")",
      R"("\ud800\u0041")", R"("\udc00")", R"("\ud800\")", "\"\xC0\x80\"", "\"\xC1\xBF\"", "\"\xE0\x80\x80\"",
      "\"\xED\xA0\x80\"", "\"\xF0\x80\x80\x80\"", "\"\xF4\x90\x80\x80\"", "\"\xF5\x80\x80\x80\"", "\"\xE2\x82\"",
      "\"\x80\"", "[1 2]", "{} {}", "[}", "{]", "[\"a\":1]", R"({"a":1 "b":2})", "1 x",
      std::string("[\0]", 3), "[-]", "[1,,2]", "[,1]", "{,}", R"({"a":})",
  };
  for (const auto& text : invalid) {
    INFO(text);
    auto v = CheckFastSax(text);
    CHECK(v.violation == "");
    CHECK_FALSE(v.reference_accepted);
    CHECK_FALSE(v.fast_accepted);
  }
}

TEST_CASE("json_fast_sax: a handler that stops the parse hands the text to nlohmann", "[json_fast_sax]") {
  const std::string text = R"({"a":[1,"x",{"b":null}],"c":true})";
  for (size_t stop = 1; stop <= 12; stop++) {
    INFO("stop at callback " << stop);
    auto v = CheckFastSax(text, stop);
    CHECK(v.violation == "");
    CHECK_FALSE(v.fast_accepted);
  }
}

// Random texts near JSON: fragments glued together, so most are malformed
// in some place and many are valid. The contract must hold on each.
TEST_CASE("json_fast_sax: keeps the contract on 30,000 random near-JSON texts", "[json_fast_sax]") {
  const std::vector<std::string> pieces = {
      "{", "}", "[", "]", ",", ":", " ", "\n", "\"k\"", "\"v\\n\"", "\"\\u00e9\"", "\"\\ud83d\\ude00\"", "\"\xC3\xA9\"",
      "\"\xC3\"", "0", "-1", "12", "1.5", "1e2", "true", "false", "null", "\"", "\\", "x", "\"\\ud800\"", "00",
      std::string("\0", 1), "123456789012345678", "1234567890123456789"};
  std::mt19937 rng(20261206);
  size_t accepted = 0, fast = 0;
  for (int i = 0; i < 30000; i++) {
    std::string text;
    const int n = 1 + static_cast<int>(rng() % 12);
    for (int k = 0; k < n; k++) text += pieces[rng() % pieces.size()];
    auto v = CheckFastSax(text);
    INFO(text);
    REQUIRE(v.violation == "");
    accepted += v.reference_accepted;
    fast += v.fast_accepted;
  }
  // The mix exercises both sides of the contract.
  CHECK(accepted > 1000);
  CHECK(fast > 500);
}

// Three copies of `item`, "NAME" in each replaced by its index, with
// `extra` inserted as the first member of the second one.
std::string ThreeItems(const std::string& item, const std::string& extra) {
  std::string items;
  for (int i = 0; i < 3; i++) {
    std::string it = item;
    it.replace(it.find("NAME"), 4, std::to_string(i));
    if (i == 1) it.insert(1, extra);
    items += (i ? "," : "") + it;
  }
  return items;
}

// DecodeText runs the scanner first and reruns nlohmann on a fresh decoder
// where it gives up: a float after the items (the scanner has already
// delivered some) must give what nlohmann alone gives: no item twice, none
// lost to the first attempt's open containers.
TEST_CASE("json_fast_sax: decoders give the same result when the scanner gives up half-way", "[json_fast_sax]") {
  const std::string item =
      R"({"metadata":{"name":"web-NAME","namespace":"default"},"timestamp":"2026-12-06T10:00:00Z",)"
      R"("window":"30s","containers":[{"name":"php","usage":{"cpu":"250m"}}]})";
  auto list = [&](const std::string& extra, const std::string& tail) {
    return R"({"kind":"PodMetricsList","items":[)" + ThreeItems(item, extra) + "]" + tail + "}";
  };
  const std::vector<std::pair<std::string, std::string>> metrics_cases = {
      {"", ""}, {R"("extra":1.5,)", ""}, {"", R"(,"extra":1.5)"}};
  for (const auto& [extra, tail] : metrics_cases) {
    INFO("extra " << extra << " tail " << tail);
    auto table = PodMetricsTableFromText(list(extra, tail), "reply");
    REQUIRE(table.ok());
    auto pods = table->ToPodMetrics();
    REQUIRE(pods.size() == 3);
    CHECK(pods[2].name == "web-2");
    REQUIRE(pods[2].containers.size() == 1);
    const auto& usage = pods[2].containers[0].usage_milli;
    auto cpu = usage.find("cpu");
    REQUIRE(cpu != usage.end());
    CHECK(cpu->second == 250);
  }

  const std::string pod =
      R"({"metadata":{"name":"web-NAME","namespace":"default","resourceVersion":"7"},"spec":{"containers":)"
      R"([{"name":"php","resources":{"requests":{"cpu":"200m"}}}]},"status":{"phase":"Running"}})";
  auto page_text = [&](const std::string& extra, const std::string& tail) {
    return R"({"kind":"PodList","metadata":{"resourceVersion":"9"},"items":[)" + ThreeItems(pod, extra) + "]" + tail +
           "}";
  };
  const std::vector<std::pair<std::string, std::string>> page_cases = {
      {"", ""}, {R"("extra":2.5e1,)", ""}, {"", R"(,"extra":2.5e1)"}};
  for (const auto& [extra, tail] : page_cases) {
    INFO("extra " << extra << " tail " << tail);
    PodInterner interner;
    PodListPage page;
    REQUIRE(PodListPageFromText(page_text(extra, tail), "page", &interner, &page).ok());
    REQUIRE(page.items.size() == 3);
    CHECK(page.items[2].name == "web-2");
    CHECK(page.resource_version == "9");
  }
}

}  // namespace
}  // namespace hpad::k8s
