// metav1.ObjectMeta <-> JSON (see object_meta.h).
#include "k8sclient/api/types/object_meta.h"

#include "k8sclient/api/time_format.h"
#include "k8sclient/api/types/json_fields.h"

namespace hpad::k8s {

using namespace fields;

Result<ObjectMeta> ObjectMetaFromJson(const nlohmann::json& j, const std::string& path) {
  ObjectMeta m;
  if (j.is_null()) return m;
  HPAD_RETURN_IF_ERROR(ExpectObject(j, path));
  HPAD_RETURN_IF_ERROR(GetString(j, "name", path, &m.name));
  HPAD_RETURN_IF_ERROR(GetString(j, "namespace", path, &m.ns));
  HPAD_RETURN_IF_ERROR(GetString(j, "uid", path, &m.uid));
  HPAD_RETURN_IF_ERROR(GetString(j, "resourceVersion", path, &m.resource_version));
  HPAD_RETURN_IF_ERROR(GetInt64(j, "generation", path, &m.generation));
  HPAD_RETURN_IF_ERROR(GetOptTime(j, "creationTimestamp", path, &m.creation_timestamp));
  HPAD_RETURN_IF_ERROR(GetOptTime(j, "deletionTimestamp", path, &m.deletion_timestamp));
  HPAD_RETURN_IF_ERROR(GetStringMap(j, "labels", path, &m.labels));
  HPAD_RETURN_IF_ERROR(GetStringMap(j, "annotations", path, &m.annotations));
  return m;
}

void ObjectMetaToJson(const ObjectMeta& m, nlohmann::json* out) {
  if (!out->is_object()) *out = nlohmann::json::object();
  auto set_or_erase = [&](const char* key, const std::string& v) {
    if (v.empty()) {
      out->erase(key);
    } else {
      (*out)[key] = v;
    }
  };
  set_or_erase("name", m.name);
  set_or_erase("namespace", m.ns);
  set_or_erase("uid", m.uid);
  set_or_erase("resourceVersion", m.resource_version);
  if (m.generation != 0) {
    (*out)["generation"] = m.generation;
  } else {
    out->erase("generation");
  }
  // Keep the raw text when it denotes the same second (it may carry a
  // different but equivalent spelling); otherwise write ours.
  auto set_time = [&](const char* key, const std::optional<Time>& t) {
    if (!t) {
      out->erase(key);
      return;
    }
    std::string ours = FormatRfc3339(*t);
    auto it = out->find(key);
    if (it != out->end() && it->is_string()) {
      auto parsed = ParseRfc3339(it->get<std::string>());
      if (parsed.ok() && FormatRfc3339(*parsed) == ours) return;
    }
    (*out)[key] = ours;
  };
  set_time("creationTimestamp", m.creation_timestamp);
  set_time("deletionTimestamp", m.deletion_timestamp);
  auto set_map = [&](const char* key, const std::map<std::string, std::string>& v) {
    if (v.empty()) {
      out->erase(key);
    } else {
      (*out)[key] = v;
    }
  };
  set_map("labels", m.labels);
  set_map("annotations", m.annotations);
}

}  // namespace hpad::k8s
