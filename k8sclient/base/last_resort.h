// last_resort: the net under every long-lived loop (issue 10, item 1).
//
// A loop that must never die (HPA workers, informers, the event recorder, the
// leader elector, HTTP handlers, token refresh) wraps each round in
//
//   try { ... } catch (const std::exception& e) { RecordUnexpectedError("hpa-worker", e.what()); }
//               catch (...) { RecordUnexpectedError("hpa-worker", "unknown exception"); }
//
// and carries on. RecordUnexpectedError writes one `E` log line naming the
// loop and the error (the error text is made safe with SafeText(), so foreign
// bytes in an exception message cannot corrupt the log) and counts the error
// per loop. The daemon's /metrics exports the counts as
// `hpad_unexpected_errors_total{loop=...}` from UnexpectedErrorCounts().
// This is the net, not the fix: every count is a bug to find.
//
// Ownership and thread safety: the counters are process-wide (like klog),
// held in a map guarded by one internal mutex; every function is safe to call
// from any thread, including during static destruction (the state is never
// destroyed). Loop names come from code, not from input, so the map stays
// small; names are still capped in length and count (kMaxLoops, further
// names count under "other") so a bug cannot grow it without bound.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>

namespace hpad::k8s {

// Distinct loop names tracked; later names are counted under "other".
inline constexpr size_t kMaxUnexpectedErrorLoops = 64;
// Loop names and error texts in the log line are cut to these many bytes.
inline constexpr size_t kMaxLoopNameBytes = 64;
inline constexpr size_t kMaxUnexpectedErrorTextBytes = 1024;

// Logs "unexpected error in loop <loop>: <what>" at severity E and counts it.
void RecordUnexpectedError(std::string_view loop, std::string_view what);

// A snapshot of the counts per loop name (only loops that saw an error).
std::map<std::string, uint64_t> UnexpectedErrorCounts();

// The count for one loop (0 when none); for tests and health checks.
uint64_t UnexpectedErrorCount(std::string_view loop);

}  // namespace hpad::k8s
