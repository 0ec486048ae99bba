// Helpers for the simulator store and API server; see store_util.h.
#include "sim/apiserver/store_util.h"

#include <algorithm>
#include <cctype>
#include "k8sclient/api/json_lenient.h"

namespace hpad::sim {
using k8s::StringOr;
using k8s::ChildOr;

using Json = nlohmann::json;

std::vector<std::string> SplitString(const std::string& s, char sep) {
  std::vector<std::string> out;
  size_t start = 0;
  while (true) {
    size_t pos = s.find(sep, start);
    out.push_back(s.substr(start, pos == std::string::npos ? std::string::npos : pos - start));
    if (pos == std::string::npos) break;
    start = pos + 1;
  }
  return out;
}

const Json* JsonPathFind(const Json& j, const std::string& path) {
  const Json* cur = &j;
  for (const std::string& part : SplitString(path, '.')) {
    if (part.empty()) continue;
    if (!cur->is_object()) return nullptr;
    auto it = cur->find(part);
    if (it == cur->end()) return nullptr;
    cur = &*it;
  }
  return cur;
}

void JsonPathSet(Json& j, const std::string& path, const Json& value) {
  Json* cur = &j;
  for (const std::string& part : SplitString(path, '.')) {
    if (part.empty()) continue;
    if (!cur->is_object()) *cur = Json::object();
    cur = &(*cur)[part];
  }
  *cur = value;
}

void AppendJson(std::string& out, const Json& j) {
  // What Json::dump() does (compact, strict UTF-8), into `out`.
  nlohmann::detail::serializer<Json> s(nlohmann::detail::output_adapter<char, std::string>(out), ' ');
  s.dump(j, false, false, 0);
}

Json MergePatch(const Json& target, const Json& patch) {
  if (!patch.is_object()) return patch;
  Json out = target.is_object() ? target : Json::object();
  for (auto it = patch.begin(); it != patch.end(); ++it) {
    if (it.value().is_null()) {
      out.erase(it.key());
    } else {
      out[it.key()] = MergePatch(out.contains(it.key()) ? out[it.key()] : Json(), it.value());
    }
  }
  return out;
}

namespace {

// patchMergeKey of the list fields kubectl's built-in schema treats as
// keyed, for the kinds we serve; every other list is atomic (replaced whole,
// which is also what kubectl sends for them, e.g. HPA spec.metrics).
std::string MergeKeyFor(const std::string& field) {
  static const std::pair<const char*, const char*> kKeys[] = {
      {"containers", "name"},      {"initContainers", "name"}, {"ephemeralContainers", "name"},
      {"env", "name"},             {"volumes", "name"},        {"volumeMounts", "mountPath"},
      {"ports", "containerPort"},  {"imagePullSecrets", "name"}, {"conditions", "type"},
      {"hostAliases", "ip"},       {"volumeDevices", "devicePath"}};
  for (const auto& [f, k] : kKeys)
    if (field == f) return k;
  return "";
}

Json StrategicList(const std::string& field, const Json& target, const Json& patch) {
  if (!target.is_array() || target.empty()) {
    Json out = Json::array();
    for (const Json& e : patch)
      if (!(e.is_object() && e.contains("$patch"))) out.push_back(e);
    return out;
  }
  std::string key = MergeKeyFor(field);
  bool keyed = !key.empty();
  for (const Json& e : patch) keyed = keyed && e.is_object() && (e.contains(key) || e.contains("$patch"));
  if (!keyed) return patch;  // atomic list: replace
  Json out = target;
  for (const Json& e : patch) {
    std::string directive = StringOr(e, "$patch");
    if (directive == "replace") {
      Json r = Json::array();
      for (const Json& x : patch)
        if (!x.contains("$patch")) r.push_back(x);
      return r;
    }
    auto it = std::find_if(out.begin(), out.end(), [&](const Json& x) { return x.contains(key) && x[key] == e[key]; });
    if (directive == "delete") {
      if (it != out.end()) out.erase(it);
      continue;
    }
    if (it != out.end()) {
      *it = StrategicMergePatch(*it, e);
    } else {
      Json copy = e;
      copy.erase("$patch");
      out.push_back(copy);
    }
  }
  return out;
}

}  // namespace

Json StrategicMergePatch(const Json& target, const Json& patch) {
  if (!patch.is_object()) return patch;
  if (StringOr(patch, "$patch") == "replace") {
    Json r = patch;
    r.erase("$patch");
    return r;
  }
  if (StringOr(patch, "$patch") == "delete") return Json();
  Json out = target.is_object() ? target : Json::object();
  for (auto it = patch.begin(); it != patch.end(); ++it) {
    const std::string& k = it.key();
    if (k.rfind("$setElementOrder/", 0) == 0 || k == "$retainKeys" || k == "$patch") continue;
    if (k.rfind("$deleteFromPrimitiveList/", 0) == 0) {
      std::string field = k.substr(std::string("$deleteFromPrimitiveList/").size());
      if (out.contains(field) && out[field].is_array() && it.value().is_array()) {
        Json kept = Json::array();
        for (const Json& x : out[field])
          if (std::find(it.value().begin(), it.value().end(), x) == it.value().end()) kept.push_back(x);
        out[field] = kept;
      }
      continue;
    }
    const Json& v = it.value();
    if (v.is_null()) {
      out.erase(k);
    } else if (v.is_object()) {
      Json merged = StrategicMergePatch(out.contains(k) ? out[k] : Json(), v);
      if (merged.is_null()) out.erase(k); else out[k] = merged;
    } else if (v.is_array()) {
      out[k] = StrategicList(k, out.contains(k) ? out[k] : Json(), v);
    } else {
      out[k] = v;
    }
  }
  return out;
}

Result<Json> JsonPatch(const Json& target, const Json& ops) {
  if (!ops.is_array()) return InvalidError("json patch: the body must be an array of operations");
  Json doc = target;
  for (size_t i = 0; i < ops.size(); ++i) {
    const Json& op = ops[i];
    std::string name = op.is_object() ? StringOr(op, "op") : "";
    std::string path = op.is_object() ? StringOr(op, "path") : "";
    std::string where = "json patch op " + std::to_string(i) + " (" + name + " " + path + ")";
    try {
      Json::json_pointer ptr(path);
      if (name == "add") {
        if (!op.contains("value")) return InvalidError(where + ": missing value");
        // nlohmann's patch() implements RFC 6902 add (including "-" for append).
        doc = doc.patch(Json::array({op}));
      } else if (name == "remove" || name == "replace" || name == "move" || name == "copy") {
        doc = doc.patch(Json::array({op}));
      } else if (name == "test") {
        if (!doc.contains(ptr) || doc.at(ptr) != ChildOr(op, "value", Json())) {
          return Status(StatusCode::kInvalid, where + ": test failed", "Invalid", 422);
        }
      } else {
        return InvalidError(where + ": unknown op");
      }
    } catch (const std::exception& e) {
      return Status(StatusCode::kInvalid, where + ": " + e.what(), "Invalid", 422);
    }
  }
  return doc;
}

}  // namespace hpad::sim
