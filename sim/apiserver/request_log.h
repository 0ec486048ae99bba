// RequestLog: the simulated API server's accounting of the requests it
// answered - every write kept (verb, resource, subresource, User-Agent,
// code, object, wall times of arrival and answer, the replica count of a
// scale write) for the scenario's `expectWrites` and the chaos soak's
// invariants (who wrote what, when), and totals by "verb
// resource[/subresource]" for benchmarks.
//
// Threads: thread-safe; mu_ guards next_seq_, writes_ and counts_.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "k8sclient/base/clock.h"

namespace hpad::sim {

// One request as seen by the API server (for expectWrites and benchmarks).
struct RequestRecord {
  int64_t seq = 0;
  std::string verb;         // get list watch create update patch delete
  std::string resource;     // plural ("horizontalpodautoscalers"), or the metrics API path
  std::string subresource;  // "", "status", "scale"
  std::string user_agent;
  int code = 0;             // HTTP status answered
  std::string ns = {};      // the path's namespace ("" when none)
  std::string name = {};    // the path's object name ("" for collections and creates)
  // Scale writes answered 2xx: spec.replicas of the request body (-1 otherwise).
  int64_t replicas = -1;
  Time arrived{};           // wall time the request arrived (before any fault delay)
  Time answered{};          // wall time its answer was ready (watches: the stream's start)
};

class RequestLog {
 public:
  // Records one answered request (its seq is assigned here).
  void Record(RequestRecord record);
  // The seq the next request will get (take it as "since" at a step boundary).
  int64_t NextSeq() const;
  // Writes (verb create/update/patch/delete, update and patch matching each
  // other; "" = any write verb; failed requests count too) on
  // resource/subresource ("" resource = any; subresource "*" = any, "" = the
  // main resource only) with a User-Agent starting with user_agent_prefix,
  // recorded with seq >= since_seq.
  int64_t CountWrites(const std::string& verb, const std::string& resource, const std::string& subresource,
                      const std::string& user_agent_prefix, int64_t since_seq) const;
  // Totals by "verb resource[/subresource]" since start.
  std::map<std::string, int64_t> Counts() const;
  // Every recorded write, oldest first (GET /hpad-sim/requests, and
  // hpad-sim serve --request-log).
  std::vector<RequestRecord> Writes() const;

 private:
  mutable std::mutex mu_;
  int64_t next_seq_ = 1;                  // guarded by mu_
  std::vector<RequestRecord> writes_;     // guarded by mu_
  std::map<std::string, int64_t> counts_;  // guarded by mu_
};

}  // namespace hpad::sim
