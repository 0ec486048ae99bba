// The discovery-backed REST mapper (see discovery.h).
#include "k8sclient/discovery.h"

#include <iterator>
#include <optional>

#include "k8sclient/base/text.h"

namespace hpad::k8s {
namespace {

Status NoMatch(const std::string& group, const std::string& kind) {
  return Status(StatusCode::kNotFound, "no matches for kind \"" + kind + "\" in group \"" + group + "\"");
}

// obj[key] when obj is an object and the field a string, else "".
std::string StringField(const Json& obj, const char* key) {
  if (!obj.is_object()) return "";
  auto it = obj.find(key);
  return it != obj.end() && it->is_string() ? it->get<std::string>() : "";
}

// Versions of a group, preferred first, from /api or /apis/<group>.
Result<std::vector<std::string>> GroupVersions(ApiClient& client, const std::string& group) {
  if (group.empty()) {
    auto body = client.GetPath("/api");
    if (!body.ok()) return body.status();
    std::vector<std::string> out;
    if (body->is_object() && body->contains("versions") && (*body)["versions"].is_array()) {
      for (const auto& v : (*body)["versions"])
        if (v.is_string()) out.push_back(v.get<std::string>());
    }
    if (out.empty()) out.push_back("v1");
    return out;
  }
  auto body = client.GetPath("/apis/" + group);
  if (!body.ok()) return body.status();
  std::vector<std::string> out;
  std::string preferred;
  if (body->is_object() && body->contains("preferredVersion")) {
    preferred = StringField((*body)["preferredVersion"], "version");
  }
  if (!preferred.empty()) out.push_back(preferred);
  if (body->is_object() && body->contains("versions") && (*body)["versions"].is_array()) {
    for (const auto& v : (*body)["versions"]) {
      std::string ver = StringField(v, "version");
      if (!ver.empty() && ver != preferred) out.push_back(ver);
    }
  }
  return out;
}

}  // namespace

Result<std::pair<std::string, std::string>> ParseGroupVersion(const std::string& api_version) {
  if (api_version.empty() || api_version == "/") return std::pair<std::string, std::string>{"", ""};
  auto first = api_version.find('/');
  if (first == std::string::npos) return std::pair<std::string, std::string>{"", api_version};
  if (api_version.find('/', first + 1) != std::string::npos) {
    // The string is foreign (an HPA's scaleTargetRef.apiVersion, a discovery
    // document): quoted through SafeText so the message is bounded, valid
    // UTF-8 (found by tests/fuzz/discovery_fuzz).
    return Status(StatusCode::kInvalid, "unexpected GroupVersion string: " + SafeText(api_version));
  }
  return std::pair<std::string, std::string>{api_version.substr(0, first), api_version.substr(first + 1)};
}

DiscoveryRestMapper::DiscoveryRestMapper(std::shared_ptr<ApiClient> client, const Clock& clock,
                                         RestMapperOptions options)
    : client_(std::move(client)), clock_(clock), options_(options) {}

Result<std::vector<RestMapping>> DiscoveryRestMapper::RestMappings(const std::string& group, const std::string& kind) {
  const GroupKind key{group, kind};
  std::optional<std::vector<RestMapping>> stale;
  {
    std::lock_guard<std::mutex> l(mu_);
    auto it = cache_.find(key);
    if (it != cache_.end()) {
      if (clock_.MonoNow() - it->second.fetched < options_.ttl) return it->second.mappings;
      stale = it->second.mappings;
    }
  }
  auto found = Discover(group, kind);
  if (!found.ok()) {
    if (found.status().code() == StatusCode::kNotFound) {
      // The server says the kind is gone: forget it (a later lookup asks again).
      std::lock_guard<std::mutex> l(mu_);
      cache_.erase(key);
    } else if (stale) {
      // Discovery failed for another reason (unavailable, garbage): keep
      // using what worked until it answers again.
      return *stale;
    }
    // The built-in workload kinds are known without discovery (the API may be
    // partially unavailable, or a minimal server may not serve discovery).
    if (group == "apps" && (kind == "Deployment" || kind == "StatefulSet" || kind == "ReplicaSet")) {
      std::string plural = kind == "Deployment" ? "deployments" : kind == "StatefulSet" ? "statefulsets" : "replicasets";
      return std::vector<RestMapping>{{GroupVersionResource{"apps", "v1", plural}, true}};
    }
    return found.status();
  }
  std::lock_guard<std::mutex> l(mu_);
  cache_[key] = Entry{*found, clock_.MonoNow()};
  return found;
}

bool DiscoveryRestMapper::ReportNotFound(const std::string& group, const std::string& kind) {
  const GroupKind key{group, kind};
  const MonoTime now = clock_.MonoNow();
  std::lock_guard<std::mutex> l(mu_);
  for (auto it = last_not_found_.begin(); it != last_not_found_.end();) {
    it = now - it->second >= options_.not_found_refresh_interval ? last_not_found_.erase(it) : std::next(it);
  }
  if (last_not_found_.count(key) != 0) return false;  // refreshed recently
  if (cache_.erase(key) == 0) return false;
  last_not_found_[key] = now;
  return true;
}

Result<std::vector<RestMapping>> DiscoveryRestMapper::Discover(const std::string& group, const std::string& kind) {
  auto versions = GroupVersions(*client_, group);
  if (!versions.ok()) {
    if (versions.status().code() == StatusCode::kNotFound) return NoMatch(group, kind);
    return versions.status();
  }
  std::vector<RestMapping> out;
  for (const auto& version : *versions) {
    GroupVersionResource base{group, version, ""};
    auto list = client_->GetPath(base.BasePath());
    if (!list.ok()) continue;
    if (!list->is_object() || !list->contains("resources") || !(*list)["resources"].is_array()) continue;
    const auto& resources = (*list)["resources"];
    for (const auto& r : resources) {
      std::string name = StringField(r, "name");
      if (name.empty() || name.find('/') != std::string::npos || StringField(r, "kind") != kind) continue;
      RestMapping m{GroupVersionResource{group, version, name}, false};
      for (const auto& sub : resources) {
        if (StringField(sub, "name") == name + "/scale") m.has_scale = true;
      }
      out.push_back(m);
      break;
    }
  }
  if (out.empty()) return NoMatch(group, kind);
  return out;
}

}  // namespace hpad::k8s
