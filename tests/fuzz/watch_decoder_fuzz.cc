// Fuzzes the watch stream decoder with chunk boundaries chosen by the input:
// the first byte seeds the chunk sizes, the rest is the stream. Feeding the
// stream in chunks must give the same events and errors as feeding it at
// once; every ERROR event maps to a non-OK Status with a safe message.
#include <vector>

#include "k8sclient/api/json_parse.h"
#include "k8sclient/watch_decoder.h"
#include "tests/fuzz/fuzz_support.h"

namespace {

using hpad::Result;
using hpad::k8s::WatchEvent;
using hpad::k8s::WatchEventDecoder;

std::vector<std::string> Drain(WatchEventDecoder* d) {
  std::vector<std::string> out;
  while (auto r = d->Next()) {
    if (!r->ok()) {
      hpad::fuzz::CheckErrorText(r->status());
      out.push_back("error: " + r->status().message());
      continue;
    }
    const WatchEvent& ev = **r;
    if (ev.type == WatchEvent::Type::kError) {
      hpad::Status s = hpad::k8s::StatusFromWatchError(ev);
      if (s.ok()) hpad::fuzz::FuzzFail("ERROR event mapped to OK", "");
      hpad::fuzz::CheckErrorText(s);
    }
    out.push_back(std::string(hpad::k8s::WatchEventTypeName(ev.type)) + " " + hpad::k8s::DumpForeign(ev.object));
  }
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace hpad;
  fuzz::SilenceLogs();
  if (size == 0) return 0;
  unsigned seed = data[0];
  std::string_view stream = fuzz::AsText(data + 1, size - 1);

  WatchEventDecoder whole;
  whole.Feed(stream);
  std::vector<std::string> expected = Drain(&whole);
  whole.Finish();
  for (auto& e : Drain(&whole)) expected.push_back(std::move(e));

  WatchEventDecoder chunked;
  std::vector<std::string> got;
  size_t pos = 0;
  while (pos < stream.size()) {
    seed = seed * 1103515245u + 12345u;
    size_t n = 1 + (seed >> 16) % 17;
    chunked.Feed(stream.substr(pos, n));
    pos += std::min(n, stream.size() - pos);
    for (auto& e : Drain(&chunked)) got.push_back(std::move(e));
  }
  chunked.Finish();
  for (auto& e : Drain(&chunked)) got.push_back(std::move(e));
  if (got != expected) fuzz::FuzzFail("chunked decoding differs from whole decoding", stream);
  return 0;
}
