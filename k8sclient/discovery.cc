#include "k8sclient/discovery.h"

#include <algorithm>

namespace hpad::k8s {

bool ResourceMapping::HasSubresource(const std::string& name) const {
  return std::find(subresources.begin(), subresources.end(), name) != subresources.end();
}

std::pair<std::string, std::string> SplitApiVersion(const std::string& api_version) {
  size_t slash = api_version.find('/');
  if (slash == std::string::npos) return {"", api_version};
  return {api_version.substr(0, slash), api_version.substr(slash + 1)};
}

RestMapper::RestMapper(ApiClient& client, const Clock& clock, Duration min_refresh_interval)
    : client_(client), clock_(clock), min_refresh_interval_(min_refresh_interval) {}

namespace {

std::vector<std::string> StringList(const Json& j) {
  std::vector<std::string> out;
  if (!j.is_array()) return out;
  for (const Json& s : j)
    if (s.is_string()) out.push_back(s.get<std::string>());
  return out;
}

// Parses one APIResourceList into mappings (top-level resources with their
// subresources attached), in discovery order.
std::vector<ResourceMapping> ParseResourceList(const Json& list, const std::string& group,
                                               const std::string& version) {
  std::vector<ResourceMapping> out;
  if (!list.is_object() || !list.contains("resources") || !list["resources"].is_array()) return out;
  std::map<std::string, std::vector<std::string>> subs;
  for (const Json& r : list["resources"]) {
    if (!r.is_object() || !r.contains("name") || !r["name"].is_string()) continue;
    std::string name = r["name"].get<std::string>();
    size_t slash = name.find('/');
    if (slash != std::string::npos) {
      subs[name.substr(0, slash)].push_back(name.substr(slash + 1));
      continue;
    }
    ResourceMapping m;
    m.gvr = GroupVersionResource{group, version, name};
    m.kind = r.value("kind", "");
    m.namespaced = r.value("namespaced", false);
    m.verbs = StringList(r.value("verbs", Json::array()));
    if (!m.kind.empty()) out.push_back(std::move(m));
  }
  for (auto& m : out) {
    auto it = subs.find(m.gvr.resource);
    if (it != subs.end()) m.subresources = it->second;
  }
  return out;
}

}  // namespace

Result<RestMapper::Snapshot> RestMapper::Discover() {
  Snapshot snap;
  // Group-versions to read, in preference order within each group.
  std::vector<std::pair<std::string, std::string>> gvs;
  auto core = client_.GetPath("/api");
  if (!core.ok()) return core.status().WithContext("discovery /api");
  for (const std::string& v : StringList(core->value("versions", Json::array()))) gvs.emplace_back("", v);
  snap.groups_seen.push_back("");
  auto groups = client_.GetPath("/apis");
  if (!groups.ok()) return groups.status().WithContext("discovery /apis");
  if (groups->contains("groups") && (*groups)["groups"].is_array()) {
    for (const Json& g : (*groups)["groups"]) {
      if (!g.is_object()) continue;
      std::string name = g.value("name", "");
      if (name.empty()) continue;
      snap.groups_seen.push_back(name);
      std::vector<std::string> versions;
      std::string preferred;
      if (g.contains("preferredVersion") && g["preferredVersion"].is_object())
        preferred = g["preferredVersion"].value("version", "");
      if (!preferred.empty()) versions.push_back(preferred);
      if (g.contains("versions") && g["versions"].is_array()) {
        for (const Json& v : g["versions"]) {
          std::string ver = v.is_object() ? v.value("version", "") : "";
          if (!ver.empty() && std::find(versions.begin(), versions.end(), ver) == versions.end())
            versions.push_back(ver);
        }
      }
      for (const auto& v : versions) gvs.emplace_back(name, v);
    }
  }
  for (const auto& [group, version] : gvs) {
    GroupVersionResource base{group, version, ""};
    auto list = client_.GetPath(base.BasePath());
    if (!list.ok()) {
      // A group-version that vanished between /apis and now is simply gone;
      // anything else (an aggregated API down) may hide the kind we want.
      if (list.status().code() != StatusCode::kNotFound)
        snap.failed_group_versions.push_back(base.GroupVersion() + " (" + list.status().message() + ")");
      continue;
    }
    for (auto& m : ParseResourceList(*list, group, version)) {
      snap.by_group_kind[{group, m.kind}].push_back(std::move(m));
    }
  }
  return snap;
}

Status RestMapper::Refresh() {
  std::lock_guard<std::mutex> r(refresh_mu_);
  auto snap = Discover();
  Time now = clock_.Now();
  std::lock_guard<std::mutex> l(mu_);
  last_refresh_ = now;
  if (!snap.ok()) return snap.status();
  snapshot_ = std::move(*snap);
  return Status::Ok();
}

std::optional<std::vector<ResourceMapping>> RestMapper::Lookup(const std::string& group, const std::string& kind) {
  std::lock_guard<std::mutex> l(mu_);
  if (!snapshot_) return std::nullopt;
  auto it = snapshot_->by_group_kind.find({group, kind});
  if (it == snapshot_->by_group_kind.end() || it->second.empty()) return std::nullopt;
  return it->second;
}

bool RestMapper::RefreshAllowed() {
  std::lock_guard<std::mutex> l(mu_);
  // Refresh on a miss (a CRD may have been added), but not on every miss of
  // a misconfigured HPA: at most once per interval, except when nothing is
  // cached at all.
  return !snapshot_ || !last_refresh_ || clock_.Now() - *last_refresh_ >= min_refresh_interval_;
}

Result<std::vector<ResourceMapping>> RestMapper::MappingsFor(const std::string& group, const std::string& kind) {
  if (auto m = Lookup(group, kind)) return *m;
  if (RefreshAllowed()) {
    if (Status s = Refresh(); !s.ok()) return s;
    if (auto m = Lookup(group, kind)) return *m;
  }
  std::lock_guard<std::mutex> l(mu_);
  std::string where = group.empty() ? "the core group" : "group \"" + group + "\"";
  if (snapshot_ && !snapshot_->failed_group_versions.empty()) {
    std::string failed;
    for (const auto& f : snapshot_->failed_group_versions) failed += (failed.empty() ? "" : ", ") + f;
    return UnavailableError("no mapping for kind \"" + kind + "\" in " + where +
                            " while discovery failed for: " + failed);
  }
  return Status(StatusCode::kNotFound, "no matches for kind \"" + kind + "\" in " + where, "NotFound");
}

Result<ResourceMapping> RestMapper::MappingFor(const std::string& api_version, const std::string& kind) {
  auto [group, version] = SplitApiVersion(api_version);
  for (int pass = 0; pass < 2; ++pass) {
    auto all = MappingsFor(group, kind);
    if (!all.ok()) return all.status();
    for (const auto& m : *all)
      if (m.gvr.version == version) return m;
    // The kind is known but not in this version: a CRD may have gained it.
    if (pass == 0 && RefreshAllowed()) {
      if (Status s = Refresh(); !s.ok()) return s;
    } else {
      break;
    }
  }
  return Status(StatusCode::kNotFound, "no matches for kind \"" + kind + "\" in version \"" + api_version + "\"",
                "NotFound");
}

}  // namespace hpad::k8s
