// metav1.ObjectMeta, trimmed to what hpad reads, plus JSON helpers shared by
// the typed objects (HPA, Event, Lease). Plain value; pure functions.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "k8sclient/base/clock.h"
#include "k8sclient/base/status.h"

namespace hpad::k8s {

struct ObjectMeta {
  std::string name;
  std::string ns;
  std::string uid;
  std::string resource_version;
  int64_t generation = 0;
  std::optional<Time> creation_timestamp;
  std::optional<Time> deletion_timestamp;
  std::map<std::string, std::string> labels;
  std::map<std::string, std::string> annotations;
};

// `metadata` JSON -> ObjectMeta; errors name `path` (usually "metadata").
Result<ObjectMeta> ObjectMetaFromJson(const nlohmann::json& metadata, const std::string& path = "metadata");
// Writes the modelled fields into `metadata` (an object, typically the raw
// metadata as read) and removes the ones the struct leaves empty; every
// other key is kept.
void ObjectMetaToJson(const ObjectMeta& meta, nlohmann::json* metadata);

}  // namespace hpad::k8s
