// Fault injection decisions (see request_faults.h).
#include "sim/apiserver/request_faults.h"
#include "k8sclient/base/strings.h"

#include "k8sclient/api/quantity.h"
#include "sim/apiserver/store_util.h"

namespace hpad::sim {

bool VerbMatches(const std::string& want, const std::string& got) {
  if (want.empty() || want == got) return true;
  auto modify = [](const std::string& v) { return v == "update" || v == "patch"; };
  return modify(want) && modify(got);
}

bool SubresourceMatches(const std::string& want, const std::string& got) {
  if (want == "*") return true;
  if (want == "-") return got.empty();
  return want == got;
}

Result<ApiFault> ApiFault::Parse(const std::string& text) {
  ApiFault f;
  std::string t = Trim(text);
  if (t == "ok" || t.empty()) return f;
  if (t == "unavailable") {
    f.kind = Kind::kUnavailable;
    return f;
  }
  if (t.rfind("slow:", 0) == 0) {
    auto d = k8s::ParseGoDuration(t.substr(5));
    if (!d.ok()) return InvalidError("fault \"" + text + "\": " + d.status().message());
    f.kind = Kind::kSlow;
    f.delay = std::chrono::duration_cast<std::chrono::milliseconds>(*d);
    return f;
  }
  if (t.rfind("error:", 0) == 0) {
    auto code = ParseInt32(std::string_view(t).substr(6));
    if (!code.ok() || *code < 400 || *code > 599) {
      return InvalidError("fault \"" + text + "\": error code must be an HTTP status 400-599");
    }
    f.kind = Kind::kError;
    f.code = *code;
    return f;
  }
  return InvalidError("fault \"" + text + "\": want ok, unavailable, slow:<duration> or error:<code>");
}

std::string ApiFault::ToString() const {
  switch (kind) {
    case Kind::kOk:
      return "ok";
    case Kind::kUnavailable:
      return "unavailable";
    case Kind::kSlow:
      return "slow:" + k8s::FormatGoDuration(delay);
    case Kind::kError:
      return "error:" + std::to_string(code);
  }
  return "ok";
}

void FaultInjector::Set(FaultSet faults) {
  std::lock_guard<std::mutex> l(mu_);
  faults_ = std::move(faults);
}

FaultSet FaultInjector::Get() const {
  std::lock_guard<std::mutex> l(mu_);
  return faults_;
}

FaultDecision FaultInjector::Decide(const std::string& api, const std::string& verb, const std::string& resource,
                                    const std::string& subresource, const std::string& user_agent) {
  std::lock_guard<std::mutex> l(mu_);
  FaultSet& f = faults_;
  const ApiFault* fault = &f.apiserver;
  if (api == "resourceMetrics") fault = &f.resource_metrics;
  if (api == "customMetrics") fault = &f.custom_metrics;
  if (api == "externalMetrics") fault = &f.external_metrics;
  FaultDecision d;
  switch (fault->kind) {
    case ApiFault::Kind::kOk:
      break;
    case ApiFault::Kind::kUnavailable:
      d.fail_code = 503;
      return d;
    case ApiFault::Kind::kSlow:
      d.delay = fault->delay;
      break;
    case ApiFault::Kind::kError:
      d.fail_code = fault->code;
      return d;
  }
  if (api == "apiserver") {
    for (RequestFaultRule& r : f.apiserver_rules) {
      if (r.count == 0) continue;
      if (!VerbMatches(r.verb, verb)) continue;
      if (!r.resource.empty() && r.resource != resource) continue;
      if (!SubresourceMatches(r.subresource, subresource)) continue;
      if (!r.user_agent.empty() && user_agent.find(r.user_agent) == std::string::npos) continue;
      if (r.count > 0) --r.count;
      // A stall adds to an apiserver-wide slow: both hold the request.
      d.delay += r.delay;
      d.fail_code = r.code;
      break;
    }
  }
  return d;
}

}  // namespace hpad::sim
