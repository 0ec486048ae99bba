// core/v1 Event, as the event recorder creates and aggregates it (repeats
// bump `count` and `lastTimestamp`, as client-go does) and as `kubectl
// describe` reads it. FromJson keeps the object in `raw`; ToJson starts from
// raw so unknown fields survive an update. Plain value.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "k8sclient/base/clock.h"
#include "k8sclient/base/status.h"
#include "k8sclient/api/types/object_meta.h"

namespace hpad::k8s {

// core/v1 ObjectReference (the event's involvedObject).
struct ObjectReference {
  std::string kind;
  std::string ns;
  std::string name;
  std::string uid;
  std::string api_version;
  std::string resource_version;
  std::string field_path;
};

struct Event {
  ObjectMeta metadata;
  ObjectReference involved_object;
  std::string reason;
  std::string message;
  std::string type;  // "Normal" or "Warning"
  int32_t count = 0;
  std::optional<Time> first_timestamp;
  std::optional<Time> last_timestamp;
  std::optional<Time> event_time;  // metav1.MicroTime, written with microseconds
  std::string source_component;    // source.component
  std::string source_host;         // source.host
  std::string reporting_component;
  std::string reporting_instance;
  std::string action;
  nlohmann::json raw;
};

// Errors name the field path ("involvedObject.name: expected a string ...").
Result<Event> EventFromJson(const nlohmann::json& j);
// apiVersion v1, kind Event; empty strings and unset times are omitted.
nlohmann::json EventToJson(const Event& e);

}  // namespace hpad::k8s
