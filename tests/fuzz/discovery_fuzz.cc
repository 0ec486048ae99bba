// Fuzzes API discovery as DiscoveryRestMapper decodes it (hpa-semantics.md
// T1-T3): the group document (/api APIVersions or /apis/<group> APIGroup,
// preferredVersion first) and each version's APIResourceList, all foreign
// JSON from the API server. The client asks the legacy per-group endpoints
// only (it sends no aggregated-discovery Accept header), so these are the
// discovery documents it decodes.
//
// Input layout: byte 0 picks the (group, kind) looked up; the rest is split
// at NUL bytes into the replies, served in the order the mapper asks for
// paths (reply 0 answers the group document, reply i the i-th resource
// list). A reply that is not JSON answers as a 500 with that body, a missing
// one as 404. Properties: no crash; every error is safe text; every mapping
// names the asked group, a non-empty version and a non-empty resource
// without '/' (it becomes a URL path segment); ParseGroupVersion of every
// reply string splits or fails cleanly.
#include <string>
#include <vector>

#include "k8sclient/api/json_parse.h"
#include "k8sclient/base/clock.h"
#include "k8sclient/discovery.h"
#include "tests/fuzz/fuzz_support.h"

namespace {

using hpad::Result;
using hpad::Status;
using hpad::StatusCode;
using hpad::k8s::Json;

// An ApiClient that answers GetPath from the fuzzed replies; every other
// request is outside discovery and fails.
class ScriptedDiscovery final : public hpad::k8s::ApiClient {
 public:
  explicit ScriptedDiscovery(std::vector<std::string_view> replies) : replies_(std::move(replies)) {}

  Result<Json> Get(const hpad::k8s::ObjectKey&) override { return Unused(); }
  Result<Json> List(const hpad::k8s::GroupVersionResource&, const std::string&, const hpad::k8s::ListOptions&) override {
    return Unused();
  }
  Result<std::unique_ptr<hpad::k8s::WatchStream>> Watch(const hpad::k8s::GroupVersionResource&, const std::string&,
                                                        const hpad::k8s::ListOptions&) override {
    return Unused();
  }
  Result<Json> Create(const hpad::k8s::GroupVersionResource&, const std::string&, const Json&) override { return Unused(); }
  Result<Json> Update(const hpad::k8s::ObjectKey&, const Json&) override { return Unused(); }
  Result<Json> Patch(const hpad::k8s::ObjectKey&, hpad::k8s::PatchType, const std::string&) override { return Unused(); }
  Status Delete(const hpad::k8s::ObjectKey&) override { return Unused(); }

  Result<Json> GetPath(const std::string& path) override {
    if (path.empty() || path[0] != '/') hpad::fuzz::FuzzFail("discovery asked for a path not starting with '/'", path);
    if (next_ >= replies_.size()) return Status(StatusCode::kNotFound, "the server could not find the requested resource");
    std::string_view body = replies_[next_++];
    auto j = hpad::k8s::ParseForeignJson(body, "discovery reply");
    if (!j.ok()) return hpad::k8s::StatusFromHttp(500, std::string(body));
    return *j;
  }

 private:
  static Status Unused() { return Status(StatusCode::kInternal, "not a discovery request"); }
  std::vector<std::string_view> replies_;
  size_t next_ = 0;
};

struct Lookup {
  const char* group;
  const char* kind;
};
constexpr Lookup kLookups[] = {
    {"", "Pod"}, {"", "ReplicationController"}, {"apps", "Deployment"}, {"apps", "StatefulSet"},
    {"example.com", "Widget"}, {"custom.metrics.k8s.io", "MetricValueList"}, {"", ""}, {"a/b", "X"},
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace hpad;
  fuzz::SilenceLogs();
  if (size == 0) return 0;
  const Lookup& lookup = kLookups[data[0] % (sizeof(kLookups) / sizeof(kLookups[0]))];
  std::string_view rest = fuzz::AsText(data + 1, size - 1);
  std::vector<std::string_view> replies;
  while (true) {
    auto nul = rest.find('\0');
    replies.push_back(rest.substr(0, nul));
    if (nul == std::string_view::npos) break;
    rest.remove_prefix(nul + 1);
  }
  for (auto reply : replies) {
    auto gv = k8s::ParseGroupVersion(std::string(reply.substr(0, 256)));
    if (!gv.ok()) fuzz::CheckErrorText(gv.status());
  }

  // The mapping cache's TTL reads this clock; time never moves in one input.
  static const SimulatedClock clock{Time(std::chrono::seconds(1767225600))};
  k8s::DiscoveryRestMapper mapper(std::make_shared<ScriptedDiscovery>(replies), clock);
  auto mappings = mapper.RestMappings(lookup.group, lookup.kind);
  if (!mappings.ok()) {
    fuzz::CheckErrorText(mappings.status());
    return 0;
  }
  if (mappings->empty()) fuzz::FuzzFail("RestMappings succeeded with no mapping", lookup.kind);
  for (const auto& m : *mappings) {
    if (m.gvr.group != lookup.group) fuzz::FuzzFail("mapping of another group", m.gvr.group);
    if (m.gvr.version.empty()) fuzz::FuzzFail("mapping with an empty version", m.gvr.resource);
    if (m.gvr.resource.empty() || m.gvr.resource.find('/') != std::string::npos) {
      fuzz::FuzzFail("mapping resource is not one path segment", m.gvr.resource);
    }
  }
  // A second lookup is answered from the cache and must agree.
  auto again = mapper.RestMappings(lookup.group, lookup.kind);
  if (!again.ok() || again->size() != mappings->size()) fuzz::FuzzFail("cached lookup differs", lookup.kind);
  return 0;
}
