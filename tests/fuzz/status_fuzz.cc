// Fuzzes error-reply decoding: the first two bytes pick an HTTP code, the
// rest is the body (issue 10: `500 {"kind": null}` and non-UTF-8 plain text
// once aborted hpad). The Status must be non-OK with a valid UTF-8 message
// that can be put into a JSON condition (dump() must not throw).
#include <nlohmann/json.hpp>

#include "k8sclient/api/json_parse.h"
#include "k8sclient/api_client.h"
#include "tests/fuzz/fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace hpad;
  fuzz::SilenceLogs();
  if (size < 2) return 0;
  int code = 300 + (data[0] << 8 | data[1]) % 400;  // 300..699: every error class and garbage codes
  std::string body(fuzz::AsText(data + 2, size - 2));
  Status s = k8s::StatusFromHttp(code, body);
  if (s.ok()) fuzz::FuzzFail("error reply mapped to OK", body);
  fuzz::CheckErrorText(s);
  if (!k8s::IsValidUtf8(s.reason())) fuzz::FuzzFail("reason is not valid UTF-8", s.reason());
  nlohmann::json condition = {{"message", s.message()}, {"reason", s.reason()}};
  (void)condition.dump();  // throws (and the fuzzer reports it) on invalid UTF-8
  auto parsed = k8s::ParseForeignJson(body, "fuzz");
  if (parsed.ok()) {
    Status o = k8s::StatusFromStatusObject(code, *parsed);
    if (o.ok()) fuzz::FuzzFail("status object mapped to OK", body);
    fuzz::CheckErrorText(o);
  }
  return 0;
}
