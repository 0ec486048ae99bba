// REST mapping and scale subresource access (T1-T5, W1).
#include "controller/scale_client.h"

#include "controller/metrics_client.h"
#include "k8sclient/base/klog.h"

namespace hpad::ctrl {
namespace {

Status NoMatch(const std::string& group, const std::string& kind) {
  return Status(StatusCode::kNotFound, "no matches for kind \"" + kind + "\" in group \"" + group + "\"");
}

// Versions of a group, preferred first, from /api or /apis/<group>.
Result<std::vector<std::string>> GroupVersions(k8s::ApiClient& client, const std::string& group) {
  if (group.empty()) {
    auto body = client.GetPath("/api");
    if (!body.ok()) return body.status();
    std::vector<std::string> out;
    if (body->contains("versions") && (*body)["versions"].is_array()) {
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
  if (body->contains("preferredVersion") && (*body)["preferredVersion"].is_object()) {
    preferred = (*body)["preferredVersion"].value("version", "");
  }
  if (!preferred.empty()) out.push_back(preferred);
  if (body->contains("versions") && (*body)["versions"].is_array()) {
    for (const auto& v : (*body)["versions"]) {
      std::string ver = v.is_object() ? v.value("version", "") : "";
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
    return Status(StatusCode::kInvalid, "unexpected GroupVersion string: " + api_version);
  }
  return std::pair<std::string, std::string>{api_version.substr(0, first), api_version.substr(first + 1)};
}

DiscoveryRestMapper::DiscoveryRestMapper(std::shared_ptr<k8s::ApiClient> client) : client_(std::move(client)) {}

Result<std::vector<RestMapping>> DiscoveryRestMapper::RestMappings(const std::string& group, const std::string& kind) {
  {
    std::lock_guard<std::mutex> l(mu_);
    auto it = cache_.find({group, kind});
    if (it != cache_.end()) return it->second;
  }
  auto found = Discover(group, kind);
  if (!found.ok()) {
    // The built-in workload kinds are known without discovery (the API may be
    // partially unavailable, or a minimal server may not serve discovery).
    if (group == "apps" && (kind == "Deployment" || kind == "StatefulSet" || kind == "ReplicaSet")) {
      std::string plural = kind == "Deployment" ? "deployments" : kind == "StatefulSet" ? "statefulsets" : "replicasets";
      return std::vector<RestMapping>{{k8s::GroupVersionResource{"apps", "v1", plural}, true}};
    }
    return found.status();
  }
  std::lock_guard<std::mutex> l(mu_);
  cache_[{group, kind}] = *found;
  return found;
}

Result<std::vector<RestMapping>> DiscoveryRestMapper::Discover(const std::string& group, const std::string& kind) {
  auto versions = GroupVersions(*client_, group);
  if (!versions.ok()) {
    if (versions.status().code() == StatusCode::kNotFound) return NoMatch(group, kind);
    return versions.status();
  }
  std::vector<RestMapping> out;
  for (const auto& version : *versions) {
    k8s::GroupVersionResource base{group, version, ""};
    auto list = client_->GetPath(base.BasePath());
    if (!list.ok()) continue;
    if (!list->contains("resources") || !(*list)["resources"].is_array()) continue;
    const auto& resources = (*list)["resources"];
    for (const auto& r : resources) {
      std::string name = r.value("name", "");
      if (name.empty() || name.find('/') != std::string::npos || r.value("kind", "") != kind) continue;
      RestMapping m{k8s::GroupVersionResource{group, version, name}, false};
      for (const auto& sub : resources) {
        if (sub.value("name", "") == name + "/scale") m.has_scale = true;
      }
      out.push_back(m);
      break;
    }
  }
  if (out.empty()) return NoMatch(group, kind);
  return out;
}

Result<std::string> DiscoveryRestMapper::ResourceFor(const std::string& group, const std::string& kind) {
  auto m = RestMappings(group, kind);
  if (m.ok() && !m->empty()) return m->front().gvr.resource;
  return GuessPluralResource(kind);
}

RestScaleClient::RestScaleClient(std::shared_ptr<k8s::ApiClient> client, std::shared_ptr<RestMapper> mapper)
    : client_(std::move(client)), mapper_(std::move(mapper)) {}

Result<ScaleReadResult> RestScaleClient::GetScale(const std::string& ns, const k8s::CrossVersionObjectReference& ref) {
  auto gv = ParseGroupVersion(ref.api_version);  // T1
  if (!gv.ok()) return gv.status();
  auto mappings = mapper_->RestMappings(gv->first, ref.kind);  // T2
  if (!mappings.ok()) return mappings.status();
  if (mappings->empty()) return Status(StatusCode::kNotFound, "unrecognized resource");
  Status first_error;
  for (const auto& m : *mappings) {  // T3: first success wins, else the first error
    k8s::ObjectKey key{m.gvr, ns, ref.name, "scale"};
    auto body = client_->Get(key);
    if (!body.ok()) {
      if (first_error.ok()) first_error = body.status();
      continue;
    }
    auto scale = k8s::ScaleFromJson(*body);
    if (!scale.ok()) {
      if (first_error.ok()) first_error = scale.status();
      continue;
    }
    return ScaleReadResult{std::move(scale).value(), m.gvr};
  }
  return first_error;
}

Status RestScaleClient::UpdateScale(const std::string& ns, const ScaleReadResult& read, int32_t replicas) {
  k8s::ObjectKey key{read.gvr, ns, read.scale.name, "scale"};
  k8s::Scale scale = read.scale;
  Status last;
  // W1: 5 attempts; a conflict re-reads the scale before the next try. The
  // upstream 10 ms jittered backoff between attempts is not reproduced: the
  // re-GET is what resolves the conflict, and no wall clock is read here.
  // A failed re-read is logged and the last scale object kept for the next
  // attempt (upstream RetryOnConflict around Get+Update); after 5 attempts
  // the conflict itself is returned.
  for (int attempt = 0; attempt < 5; attempt++) {
    if (attempt > 0) {
      auto fresh = client_->Get(key);
      Result<k8s::Scale> parsed = fresh.ok() ? k8s::ScaleFromJson(*fresh) : Result<k8s::Scale>(fresh.status());
      if (parsed.ok()) {
        scale = std::move(parsed).value();
      } else {
        HPAD_LOG(Error) << "re-reading the scale of " << read.gvr.resource << " " << ns << "/" << read.scale.name
                        << " after a conflict: " << parsed.status().message();
      }
    }
    scale.spec_replicas = replicas;
    auto res = client_->Update(key, k8s::ScaleToJson(scale));
    if (res.ok()) return Status::Ok();
    last = res.status();
    if (last.code() != StatusCode::kConflict) return last;
  }
  return last;
}

}  // namespace hpad::ctrl
