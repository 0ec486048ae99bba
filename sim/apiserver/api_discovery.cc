// Discovery (/version, /api, /apis, per group-version resource lists),
// the OpenAPI v3 index and per-GV documents kubectl's strict apply
// validation needs (kubectl-compat 1, 7), and metav1.Status bodies.
#include <functional>
#include <set>

#include "sim/apiserver/api_internal.h"
#include "sim/apiserver/store_util.h"

namespace hpad::sim::api {

namespace {

const char* const kMetricsGroups[][2] = {
    {"metrics.k8s.io", "v1beta1"}, {"custom.metrics.k8s.io", "v1beta2"}, {"external.metrics.k8s.io", "v1beta1"}};

// group -> versions in registration order (the first is preferred).
std::vector<std::pair<std::string, std::vector<std::string>>> Groups(const ClusterState& state) {
  std::vector<std::pair<std::string, std::vector<std::string>>> out;
  for (const ResourceInfo& r : state.Resources()) {
    if (r.gvr.group.empty()) continue;
    auto it = std::find_if(out.begin(), out.end(), [&](auto& g) { return g.first == r.gvr.group; });
    if (it == out.end()) {
      out.push_back({r.gvr.group, {}});
      it = out.end() - 1;
    }
    if (std::find(it->second.begin(), it->second.end(), r.gvr.version) == it->second.end())
      it->second.push_back(r.gvr.version);
  }
  for (const auto& g : kMetricsGroups) out.push_back({g[0], {g[1]}});
  return out;
}

Json GroupJson(const std::string& name, const std::vector<std::string>& versions) {
  Json vs = Json::array();
  for (const std::string& v : versions) vs.push_back({{"groupVersion", name + "/" + v}, {"version", v}});
  return {{"name", name}, {"versions", vs}, {"preferredVersion", vs[0]}};
}

std::string HashOf(const std::string& s) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%016zX", std::hash<std::string>{}(s + "hpad-sim"));
  return buf;
}

Json MetricsResources(const ClusterState& state, const std::string& group) {
  Json res = Json::array();
  if (group == "metrics.k8s.io") {
    res.push_back({{"name", "nodes"}, {"singularName", ""}, {"namespaced", false}, {"kind", "NodeMetrics"},
                   {"verbs", {"get", "list"}}});
    res.push_back({{"name", "pods"}, {"singularName", ""}, {"namespaced", true}, {"kind", "PodMetrics"},
                   {"verbs", {"get", "list"}}});
  } else if (group == "custom.metrics.k8s.io") {
    std::set<std::string> seen;
    for (const Json& mv : state.ListMetricValues()) {
      const Json* kind = JsonPathFind(mv, "describedObject.kind");
      const Json* metric = JsonPathFind(mv, "metric.name");
      if (kind == nullptr || metric == nullptr || !kind->is_string() || !metric->is_string()) continue;
      std::string k = AsciiLower(kind->get<std::string>());
      std::string plural = k == "namespace" ? "namespaces" : k + "s";
      auto info = state.FindByKindAnyVersion(kind->get<std::string>());
      if (info) plural = info->gvr.group.empty() ? info->gvr.resource : info->gvr.resource + "." + info->gvr.group;
      std::string name = plural + "/" + metric->get<std::string>();
      if (!seen.insert(name).second) continue;
      res.push_back({{"name", name}, {"singularName", ""}, {"namespaced", k != "namespace"},
                     {"kind", "MetricValueList"}, {"verbs", {"get"}}});
    }
  }
  return res;
}

}  // namespace

Json VersionDoc(const std::string& minor) {
  return {{"major", "1"},
          {"minor", minor},
          {"gitVersion", "v1." + minor + ".0-hpad-sim"},
          {"gitCommit", "0000000000000000000000000000000000000000"},
          {"gitTreeState", "clean"},
          {"buildDate", "2026-01-01T00:00:00Z"},
          {"goVersion", "go1.23.0"},
          {"compiler", "gc"},
          {"platform", "linux/amd64"}};
}

Json ApiVersionsDoc() {
  return {{"kind", "APIVersions"},
          {"versions", {"v1"}},
          {"serverAddressByClientCIDRs", {{{"clientCIDR", "0.0.0.0/0"}, {"serverAddress", "127.0.0.1:6443"}}}}};
}

Json ApiGroupListDoc(const ClusterState& state) {
  Json groups = Json::array();
  for (const auto& [name, versions] : Groups(state)) groups.push_back(GroupJson(name, versions));
  return {{"kind", "APIGroupList"}, {"apiVersion", "v1"}, {"groups", groups}};
}

std::optional<Json> ApiGroupDoc(const ClusterState& state, const std::string& group) {
  for (const auto& [name, versions] : Groups(state)) {
    if (name != group) continue;
    Json g = GroupJson(name, versions);
    g["kind"] = "APIGroup";
    g["apiVersion"] = "v1";
    return g;
  }
  return std::nullopt;
}

std::optional<Json> ApiResourceListDoc(const ClusterState& state, const std::string& group,
                                       const std::string& version) {
  std::string gv = group.empty() ? version : group + "/" + version;
  Json res = Json::array();
  bool found = false;
  if (IsMetricsGroup(group)) {
    for (const auto& g : kMetricsGroups)
      if (group == g[0] && version == g[1]) found = true;
    if (!found) return std::nullopt;
    res = MetricsResources(state, group);
  }
  for (const ResourceInfo& r : state.Resources()) {
    if (r.gvr.group != group || r.gvr.version != version) continue;
    found = true;
    Json j = {{"name", r.gvr.resource}, {"singularName", r.singular}, {"namespaced", r.namespaced},
              {"kind", r.kind},         {"verbs", r.verbs}};
    if (!r.short_names.empty()) j["shortNames"] = r.short_names;
    if (!r.categories.empty()) j["categories"] = r.categories;
    j["storageVersionHash"] = HashOf(r.storage_group + "/" + r.storage_resource).substr(0, 11);
    res.push_back(j);
    if (r.has_status)
      res.push_back({{"name", r.gvr.resource + "/status"}, {"singularName", ""}, {"namespaced", r.namespaced},
                     {"kind", r.kind}, {"verbs", {"get", "patch", "update"}}});
    if (r.has_scale)
      res.push_back({{"name", r.gvr.resource + "/scale"}, {"singularName", ""}, {"namespaced", r.namespaced},
                     {"group", "autoscaling"}, {"version", "v1"}, {"kind", "Scale"},
                     {"verbs", {"get", "patch", "update"}}});
  }
  if (!found) return std::nullopt;
  return Json{{"kind", "APIResourceList"}, {"apiVersion", "v1"}, {"groupVersion", gv}, {"resources", res}};
}

Json OpenApiV3Root(const ClusterState& state) {
  Json paths = Json::object();
  auto add = [&](const std::string& key) {
    paths[key] = {{"serverRelativeURL", "/openapi/v3/" + key + "?hash=" + HashOf(key)}};
  };
  add("api/v1");
  for (const auto& [name, versions] : Groups(state)) {
    if (IsMetricsGroup(name)) continue;
    for (const std::string& v : versions) add("apis/" + name + "/" + v);
  }
  return {{"paths", paths}};
}

std::optional<Json> OpenApiV3Doc(const ClusterState& state, const std::string& gv_path) {
  std::string group, version;
  std::vector<std::string> parts = SplitString(gv_path, '/');
  if (parts.size() == 2 && parts[0] == "api") {
    version = parts[1];
  } else if (parts.size() == 3 && parts[0] == "apis") {
    group = parts[1];
    version = parts[2];
  } else {
    return std::nullopt;
  }
  Json paths = Json::object();
  bool found = false;
  // kubectl's QueryParamVerifier looks for a PATCH operation tagged with the
  // GVK that declares a `fieldValidation` query parameter (kubectl-compat 7).
  Json params = Json::array({{{"name", "fieldValidation"}, {"in", "query"}, {"schema", {{"type", "string"}}},
                              {"uniqueItems", true}},
                             {{"name", "fieldManager"}, {"in", "query"}, {"schema", {{"type", "string"}}},
                              {"uniqueItems", true}},
                             {{"name", "dryRun"}, {"in", "query"}, {"schema", {{"type", "string"}}},
                              {"uniqueItems", true}}});
  for (const ResourceInfo& r : state.Resources()) {
    if (r.gvr.group != group || r.gvr.version != version) continue;
    found = true;
    Json gvk = {{"group", group}, {"version", version}, {"kind", r.kind}};
    std::string base = "/" + gv_path + (r.namespaced ? "/namespaces/{namespace}/" : "/") + r.gvr.resource;
    auto op = [&](const char* action) {
      return Json{{"x-kubernetes-group-version-kind", gvk}, {"x-kubernetes-action", action}, {"parameters", params},
                  {"responses", {{"200", {{"description", "OK"}}}}}};
    };
    paths[base] = {{"post", op("post")}};
    paths[base + "/{name}"] = {{"patch", op("patch")}, {"put", op("put")}};
    if (r.has_status) paths[base + "/{name}/status"] = {{"patch", op("patch")}};
  }
  if (!found) return std::nullopt;
  return Json{{"openapi", "3.0.0"},
              {"info", {{"title", "Kubernetes"}, {"version", "v1.32.0"}}},
              {"paths", paths},
              {"components", {{"schemas", Json::object()}}}};
}

bool IsMetricsGroup(const std::string& group) {
  for (const auto& g : kMetricsGroups)
    if (group == g[0]) return true;
  return false;
}

int HttpCodeOf(const Status& s) {
  if (s.http_code() != 0) return s.http_code();
  switch (s.code()) {
    case StatusCode::kOk: return 200;
    case StatusCode::kNotFound: return 404;
    case StatusCode::kConflict: return 409;
    case StatusCode::kGone: return 410;
    case StatusCode::kUnauthorized: return 401;
    case StatusCode::kForbidden: return 403;
    case StatusCode::kUnavailable: return 503;
    case StatusCode::kTimeout: return 504;
    case StatusCode::kInvalid: return s.reason() == "BadRequest" ? 400 : 422;
    case StatusCode::kTooManyRequests: return 429;
    case StatusCode::kCancelled: return 503;
    case StatusCode::kInternal: return 500;
  }
  return 500;
}

Json StatusBody(const Status& s, const std::string& name, const std::string& group, const std::string& kind) {
  int code = HttpCodeOf(s);
  std::string reason = s.reason();
  if (reason.empty()) {
    switch (code) {
      case 400: reason = "BadRequest"; break;
      case 401: reason = "Unauthorized"; break;
      case 403: reason = "Forbidden"; break;
      case 404: reason = "NotFound"; break;
      case 405: reason = "MethodNotAllowed"; break;
      case 409: reason = "Conflict"; break;
      case 410: reason = "Expired"; break;
      case 415: reason = "UnsupportedMediaType"; break;
      case 422: reason = "Invalid"; break;
      case 429: reason = "TooManyRequests"; break;
      case 503: reason = "ServiceUnavailable"; break;
      case 504: reason = "Timeout"; break;
      default: reason = code >= 500 ? "InternalError" : "BadRequest";
    }
  }
  Json body = {{"kind", "Status"}, {"apiVersion", "v1"}, {"metadata", Json::object()}, {"status", "Failure"},
               {"message", s.message()}, {"reason", reason}, {"code", code}};
  Json details = Json::object();
  if (!name.empty()) details["name"] = name;
  if (!group.empty()) details["group"] = group;
  if (!kind.empty()) details["kind"] = kind;
  if (!details.empty()) body["details"] = details;
  return body;
}

}  // namespace hpad::sim::api
