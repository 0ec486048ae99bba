// text: making foreign text safe to leave hpad, and encoding text into URLs.
//
// Foreign text (reply bodies, metric names, exception messages carrying
// either) reaches log lines, Events, HPA conditions and JSON bodies we send
// back to the API server. nlohmann::json::dump() throws on invalid UTF-8 and
// an unbounded body can be megabytes, so every such text passes SafeText()
// first (issue 10, item 3):
//   - credentials are redacted with klog's RedactSecrets() (same rules as log
//     lines, so callers need not do it themselves);
//   - the result is valid UTF-8: each byte that does not start a well-formed
//     sequence (stray continuation bytes, overlong forms, surrogates, code
//     points above U+10FFFF, truncated sequences) becomes U+FFFD;
//   - control characters (C0, DEL, C1) are dropped, except tab, CR and LF,
//     which become one space each so a message stays on one line; terminal
//     escape sequences (ESC or C1 CSI/OSC/DCS...) are dropped whole, with
//     their parameters and string payloads;
//   - the result is at most max_bytes bytes, cut at a code-point boundary;
//     a cut text ends in "..." (counted in max_bytes).
//
// The percent-encoders build URL paths and queries from names, metric names
// and label selectors that may contain '/', '?', '#', '%', spaces or any byte
// (issue 10, item 8): everything except RFC 3986 unreserved characters
// (A-Z a-z 0-9 - . _ ~) is written as %XX.
//
// All functions are pure and thread-safe (no shared state).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace hpad::k8s {

// Default byte limit for messages built from foreign text (condition and
// Event messages; Kubernetes caps an Event note at 1 KiB).
inline constexpr size_t kDefaultSafeTextBytes = 1024;

// See above. max_bytes < 3 still cuts, without the "..." marker.
std::string SafeText(std::string_view text, size_t max_bytes = kDefaultSafeTextBytes);

// Valid UTF-8 (the same rules SafeText enforces), for tests and fuzzers.
bool IsValidUtf8(std::string_view text);

// Percent-encodes one path segment: '/' is encoded too, so a name can never
// add a segment. An empty input stays empty (callers reject empty names).
std::string PercentEncodePathSegment(std::string_view segment);

// Percent-encodes a query parameter name or value (space is %20, '+' is %2B,
// '&' and '=' are encoded).
std::string PercentEncodeQueryValue(std::string_view value);

}  // namespace hpad::k8s
