// WatchEventDecoder: turns the body of a Kubernetes watch response
// (newline-delimited JSON `{"type": ..., "object": ...}`, sent in arbitrary
// chunks) into WatchEvents.
//
// Feed() accepts bytes as they arrive - a chunk may end mid-line or hold
// several lines - and Next() pops decoded events in order. DecodeWatchLine()
// is the same for one complete line. BOOKMARK events carry an object with
// only metadata.resourceVersion; ERROR events carry a metav1.Status, which
// StatusFromWatchError() maps like an HTTP error (code 410 -> kGone, so the
// reflector relists).
//
// Input is foreign (issue 10): a line longer than kMaxWatchLineBytes is an
// error naming the limit (the decoder never buffers more than that and skips
// the rest of such a line), JSON nesting is capped (json_parse.h), and every
// error text is made safe (base/text.h).
//
// Pure; a decoder instance is not thread-safe (one per stream).
#pragma once

#include <deque>
#include <optional>
#include <string>
#include <string_view>

#include "k8sclient/api_client.h"
#include "k8sclient/base/status.h"

namespace hpad::k8s {

// Longest accepted watch event line (one object, newline-delimited).
inline constexpr size_t kMaxWatchLineBytes = size_t{4} << 20;

// Decodes one line. Blank lines (keep-alives) give nullopt; malformed JSON, a
// missing/unknown `type` or a non-object `object` are kInvalid.
Result<std::optional<WatchEvent>> DecodeWatchLine(std::string_view line);

// The error an ERROR event reports (kInternal if the object is not a Status).
Status StatusFromWatchError(const WatchEvent& event);

class WatchEventDecoder {
 public:
  // Appends bytes; every complete line is decoded and queued.
  void Feed(std::string_view bytes);
  // The next decoded event or decode error, nullopt when none is queued.
  std::optional<Result<WatchEvent>> Next();
  // End of stream: a final line without '\n' is decoded (servers always end
  // lines, but be lenient), anything else buffered is an error.
  void Finish();
  // Bytes buffered after the last newline.
  size_t pending_bytes() const { return partial_.size(); }

 private:
  void DecodeAndQueue(std::string_view line);

  std::string partial_;  // bytes after the last newline, at most kMaxWatchLineBytes
  bool skipping_ = false;  // dropping the rest of an over-long line
  std::deque<Result<WatchEvent>> ready_;
};

}  // namespace hpad::k8s
