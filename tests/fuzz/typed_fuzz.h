// The body of the typed-decoding harnesses (hpa, pod, scale, metrics lists):
// parse the input as foreign JSON, decode it, and when decoding succeeds
// print it back (dump() must not throw). Errors must be safe text.
#pragma once

#include "k8sclient/api/json_parse.h"
#include "tests/fuzz/fuzz_support.h"

namespace hpad::fuzz {

template <typename Decode, typename OnValue>
int FuzzTyped(const uint8_t* data, size_t size, Decode decode, OnValue on_value) {
  SilenceLogs();
  auto j = k8s::ParseForeignJson(AsText(data, size), "fuzz input");
  if (!j.ok()) {
    CheckErrorText(j.status());
    return 0;
  }
  auto v = decode(*j);
  if (!v.ok()) {
    CheckErrorText(v.status());
    return 0;
  }
  on_value(*v, *j);
  return 0;
}

}  // namespace hpad::fuzz
