// Misbehavior: a hostile API server for tests (issue 10 "A hostile API
// server"). `hpad-sim serve --misbehave '[get|watch ]PATH=KIND[:ARG]'` makes
// requests to PATH answer badly instead of (or on top of) the normal answer,
// so the real hpad can be run against wrong types, broken bytes, huge and
// deep bodies, slow and cut connections and odd watch errors. A test-only
// flag: it is not part of the scenario contract (scenario-format.md), and
// scenario files cannot ask for it.
//
// This unit holds the pure parts: parsing a rule, matching a request, and
// the body rewrites. The HTTP side (streaming, cutting connections) is in
// api_server.cc, the only file that speaks httplib.
//
// Thread-safety: rules are immutable after parsing; every function is pure.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "k8sclient/base/status.h"

namespace hpad::sim {

enum class MisbehaviorKind {
  kWrongTypes,  // the normal JSON answer with every scalar of the wrong type
  kNulls,       // the normal JSON answer with every scalar null
  kNonUtf8,     // the normal JSON answer with invalid UTF-8 in every string
  kErrorText,   // ARG (default 503) with a plain-text, non-ASCII, non-UTF-8 body
  kTruncated,   // the first half of the normal answer, as a complete reply
  kCutoff,      // the normal answer's headers and half its body, then the connection closes
  kDeep,        // a JSON body nested ARG levels deep (default 300000)
  kHuge,        // a valid JSON body of ARG MiB (default 64) plus its envelope
  kTrickle,     // the normal answer, 16 bytes every ARG (default 1s)
  kReset,       // headers, then the connection closes before any body byte
  kWatchError,  // watch: 200, one ERROR event with code ARG (default 999), end
  kGone,        // watch: 410 Gone (every watch; LISTs still work: a 410 storm)
};

struct MisbehaviorRule {
  std::string verb;  // "" (any request), "get" (GET, not a watch) or "watch"
  std::string path;  // exact request path, or a prefix when written with a trailing '*'
  bool prefix = false;
  MisbehaviorKind kind = MisbehaviorKind::kWrongTypes;
  int64_t number = 0;                       // kErrorText code, kDeep levels, kHuge MiB, kWatchError code
  std::chrono::milliseconds interval{0};    // kTrickle
  std::string text;                         // the rule as given (logs, request log)

  // `[get|watch ]PATH=KIND[:ARG]`. Errors name the text and what is wrong.
  static Result<MisbehaviorRule> Parse(const std::string& text);
  bool Matches(const std::string& method, const std::string& path, bool watch) const;
  // Rewrites of the normal answer (kWrongTypes, kNulls, kNonUtf8, kTruncated,
  // kCutoff, kTrickle) versus replacements of it (the others).
  bool RewritesAnswer() const;
  // Watch-only kinds (a non-watch request matching the path is answered normally).
  bool WatchOnly() const { return kind == MisbehaviorKind::kWatchError || kind == MisbehaviorKind::kGone; }
};

// The kinds, for help text: "wrongtypes, nulls, ...".
std::string MisbehaviorKindsHelp();

// kWrongTypes / kNulls / kNonUtf8 applied to a JSON body; a body that is not
// JSON is returned unchanged.
std::string RewriteJsonBody(MisbehaviorKind kind, const std::string& body);
// kDeep: {"kind":"Status",...,"details":[[[...]]]} with `levels` brackets.
std::string DeepBody(int64_t levels);
// kErrorText: a few hundred bytes of plain text with non-ASCII characters,
// invalid UTF-8 and a control character.
std::string ErrorTextBody();

}  // namespace hpad::sim
