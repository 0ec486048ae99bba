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
// Ownership and thread safety: InstallCrashLogFlush may be called from any
// thread; its handlers run on the crashing thread. The counters are process-wide (like klog),
// held in a map guarded by one internal mutex; every function is safe to call
// from any thread, including during static destruction (the state is never
// destroyed). Loop names come from code, not from input, so the map stays
// small; names are still capped in length and count (kMaxLoops, further
// names count under "other") so a bug cannot grow it without bound.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>

namespace hpad::k8s {

// The batched log (issue 16). klog's default sink does not write each line
// at once: complete lines are appended to an in-memory buffer that reaches
// stderr (fd 2) in one write(2) per batch, so a daemon logging a thousand
// lines a second makes ~10 writes a second, not a thousand. A batch is
// written
//   - at once, with everything before it, when a Warning or Error is logged
//     (the logging call returns after the write: order is kept);
//   - when it passes kLogBatchBytes (by a flusher thread, woken once);
//   - otherwise at most kLogFlushDelay after its first line (the flusher
//     sleeps while the buffer is empty and is woken once per batch, on the
//     empty -> non-empty transition, never per line);
//   - by FlushLog(), at exit() (an atexit handler) and, once
//     InstallCrashLogFlush() ran, on a fatal signal or std::terminate.
// The flusher thread starts with the first line the default sink takes, so
// a process (or a test) that never logs to stderr never starts it. A buffer
// over kMaxLogBufferBytes (fd 2 is a full pipe nobody drains) makes the
// logging caller write it itself, as an unbatched klog caller would block:
// lines are never dropped. After the exit flush, in a fork() child, or if
// the thread cannot be started, each line is written at once, as before.
// The divergence from klog (docs/divergences.md): a line can reach stderr
// up to 100 ms late, and SIGKILL loses at most the last 100 ms of Info
// lines. These declarations live here, not in klog.h, because the flush is
// part of the crash net and klog.h is included nearly everywhere.
inline constexpr size_t kLogBatchBytes = 64 * 1024;
inline constexpr size_t kMaxLogBufferBytes = 1024 * 1024;
inline constexpr std::chrono::milliseconds kLogFlushDelay{100};

// Writes every line logged so far to stderr before returning (a composition
// root calls it before _exit(); exit() and a return from main do it
// themselves). A no-op in a fork() child: the parent writes its lines.
void FlushLog();

// The crash path: writes the buffered lines without blocking on a lock the
// crashed thread may hold (klog.cc says how), then writes each later line
// at once. Uses write(2), poll(2) and nanosleep(2) only.
void FlushLogFromSignalHandler();

// The crash net for the batched log: installs handlers
// for SIGSEGV, SIGBUS, SIGILL, SIGFPE and SIGABRT and a std::terminate
// handler that write the log lines still buffered
// (FlushLogFromSignalHandler) and then hand over to what was installed
// before (the default action: the process dies with the same signal and
// core dump; a test framework's handler still reports). Idempotent. A
// composition root (hpad's main) calls it once at start; libraries never
// do (signal dispositions are the process's). Not covered: SIGKILL (cannot
// be caught) and a stack overflow (no alternate signal stack: the handler
// itself cannot run).
void InstallCrashLogFlush();

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
