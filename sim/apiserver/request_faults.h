// Fault injection at the simulated API server's HTTP layer: the scenario's
// `faults:` settings (per API: ok, unavailable, slow:<d>, error:<code>) and
// apiserver request rules (fail matching verb/resource/subresource requests
// with a code, a number of times), decided once per request as it arrives.
// Also the scenario verb/subresource matching that expectWrites shares.
//
// Threads: FaultInjector is thread-safe; mu_ guards faults_ (rules with a
// count are consumed under it, so concurrent requests never both take the
// last one).
#pragma once

#include <chrono>
#include <mutex>
#include <string>
#include <vector>

#include "k8sclient/base/status.h"

namespace hpad::sim {

// One API's fault setting (scenario `faults:` values).
struct ApiFault {
  enum class Kind { kOk, kUnavailable, kSlow, kError };
  Kind kind = Kind::kOk;
  std::chrono::milliseconds delay{0};  // kSlow
  int code = 0;                         // kError: HTTP status code
  // "ok" | "unavailable" | "slow:<duration>" | "error:<code>". Errors name the text.
  static Result<ApiFault> Parse(const std::string& text);
  std::string ToString() const;
};

// An apiserver fault rule: requests matching verb/resource/subresource
// (empty verb/resource = any; verbs "update" and "patch" match each other:
// both are a change of an existing object) and, when `user_agent` is set,
// sent by a client whose User-Agent contains it, fail with `code`, `count`
// times (-1 = always). `delay` stalls a matching request that long first;
// with code 0 it is then answered normally (a stalled, not a failed,
// request). The last two are for programs that drive the server directly
// (bench/chaos_soak stalls one hpad replica's lease requests); scenario
// files cannot set them.
struct RequestFaultRule {
  std::string verb;         // get list watch create update patch delete
  std::string resource;     // plural: "deployments"
  std::string subresource;  // "scale", "status"; "" = the main resource only; "*" = any
  int code = 500;           // 0: no failure (only the delay)
  int count = -1;
  std::string user_agent = {};          // "" = any client; else a substring of the User-Agent
  std::chrono::milliseconds delay{0};   // stall before answering
};

struct FaultSet {
  ApiFault resource_metrics;  // metrics.k8s.io
  ApiFault custom_metrics;    // custom.metrics.k8s.io
  ApiFault external_metrics;  // external.metrics.k8s.io
  ApiFault apiserver;         // every other path
  std::vector<RequestFaultRule> apiserver_rules;
};

// What the API server should do to one request because of faults.
struct FaultDecision {
  std::chrono::milliseconds delay{0};  // sleep this long first (slow:)
  int fail_code = 0;                   // non-zero: answer with this code and a Status body
};

// A scenario's verb (fault rule, expectWrites) against a request's verb.
// "update" (PUT) and "patch" (PATCH) both name a change of an existing
// object: the contract's own example fails the scale write with `verb:
// patch` while the controller writes the scale with PUT (W1), as upstream
// does; which HTTP method a client uses is not what a scenario means.
bool VerbMatches(const std::string& want, const std::string& got);
// "*" matches any subresource; "" (or "-") only the main resource.
bool SubresourceMatches(const std::string& want, const std::string& got);

class FaultInjector {
 public:
  void Set(FaultSet faults);
  FaultSet Get() const;
  // Asked once per request. api: "resourceMetrics", "customMetrics",
  // "externalMetrics" or "apiserver"; a matching apiserver rule with a count
  // is consumed. user_agent: the request's User-Agent header (rules with a
  // user_agent match only requests that carry it).
  FaultDecision Decide(const std::string& api, const std::string& verb, const std::string& resource,
                       const std::string& subresource, const std::string& user_agent = {});

 private:
  mutable std::mutex mu_;
  FaultSet faults_;  // guarded by mu_
};

}  // namespace hpad::sim
