// Request accounting (see request_log.h).
#include "sim/apiserver/request_log.h"

#include "sim/apiserver/request_faults.h"

namespace hpad::sim {

namespace {

bool IsWriteVerb(const std::string& v) { return v == "create" || v == "update" || v == "patch" || v == "delete"; }

}  // namespace

void RequestLog::Record(RequestRecord record) {
  std::lock_guard<std::mutex> l(mu_);
  record.seq = next_seq_++;
  std::string key = record.verb + " " + record.resource + (record.subresource.empty() ? "" : "/" + record.subresource);
  ++counts_[key];
  if (IsWriteVerb(record.verb)) writes_.push_back(std::move(record));
}

std::vector<RequestRecord> RequestLog::Writes() const {
  std::lock_guard<std::mutex> l(mu_);
  return writes_;
}

int64_t RequestLog::NextSeq() const {
  std::lock_guard<std::mutex> l(mu_);
  return next_seq_;
}

int64_t RequestLog::CountWrites(const std::string& verb, const std::string& resource, const std::string& subresource,
                                const std::string& user_agent_prefix, int64_t since_seq) const {
  std::lock_guard<std::mutex> l(mu_);
  int64_t n = 0;
  for (const RequestRecord& r : writes_) {
    if (r.seq < since_seq) continue;
    if (!VerbMatches(verb, r.verb)) continue;
    if (!resource.empty() && r.resource != resource) continue;
    if (!SubresourceMatches(subresource, r.subresource)) continue;
    if (r.user_agent.compare(0, user_agent_prefix.size(), user_agent_prefix) != 0) continue;
    ++n;
  }
  return n;
}

std::map<std::string, int64_t> RequestLog::Counts() const {
  std::lock_guard<std::mutex> l(mu_);
  return counts_;
}

}  // namespace hpad::sim
