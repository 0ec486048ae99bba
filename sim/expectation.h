// Expectation matching (scenario-format.md "Expectations").
//
// A step's `expect`/`expectAbsent` entries are partial objects: the
// identity fields (apiVersion, kind, metadata.namespace, metadata.name) pick
// a live object and every other field given must match:
//  - maps match when every given key matches (a wanted zero value - 0,
//    false, "", [], {} - or null also matches an absent key: the API server
//    omits empty fields);
//  - lists match when each given element matches a *different* live
//    element, in any order (a maximum bipartite matching, so the order of
//    the wanted elements never changes the answer);
//  - strings that are both Kubernetes quantities compare by value ("500m"
//    == "0.5"); a number against a quantity string too; so do two Go
//    durations ("60s" == "1m0s") and two RFC 3339 times (same instant);
//    other scalars exactly.
// Events (v1) match against the recorded events: involvedObject, type,
// reason, message (exact or {contains: ...}) and `count` (at least that many
// recorded).
//
// Everything here is pure: the live objects come in through LiveView, the
// result is a list of mismatches (path, wanted, got). Thread-compatible.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace hpad::sim {

using Json = nlohmann::json;

struct Mismatch {
  std::string path;    // inside the expectation: "status.conditions[1].reason"; "" = the object itself
  std::string wanted;  // rendered value
  std::string got;     // rendered value, "<absent>" when missing
};

// Partial match of `want` against `got`; appends mismatches under `path`.
// Returns true when everything matched.
bool MatchPartial(const Json& want, const Json& got, const std::string& path, std::vector<Mismatch>* out);
// Whether two scalars are equal under the contract's rules (quantities by value).
bool ScalarsEqual(const Json& want, const Json& got);
// Values as printed in mismatches: strings bare, others compact JSON.
std::string RenderValue(const Json& v);

// What the matcher may look at.
struct LiveView {
  // The live object the expectation names (by apiVersion/kind/namespace/name,
  // or a metric object's identity), in the expectation's apiVersion.
  std::function<std::optional<Json>(const Json& expectation)> get;
  // Every recorded event in core v1 form (involvedObject, type, reason,
  // message, count).
  std::vector<Json> events;
};

// Fields that only identify the object (not compared).
Json StripIdentity(const Json& expectation);
bool IsEventExpectation(const Json& expectation);

// `expect` entry: mismatches (empty = held).
std::vector<Mismatch> CheckExpect(const Json& expectation, const LiveView& live);
// `expectAbsent` entry: one mismatch when a live object (or event) matches.
std::vector<Mismatch> CheckExpectAbsent(const Json& expectation, const LiveView& live);

// Event matching, exposed for tests: does one recorded event match the
// expectation's fields (ignoring count)?
bool EventMatches(const Json& expectation, const Json& event);
// The total count of matching events (each event counts its `count`, default 1).
int64_t CountMatchingEvents(const Json& expectation, const std::vector<Json>& events);

}  // namespace hpad::sim
