// Small helpers shared by the simulator's store and API server: string
// splitting, dotted JSON paths ("spec.replicas", ".status.replicas"), and
// the JSON patch flavours the API server accepts (RFC 7386 merge patch,
// Kubernetes strategic merge patch, RFC 6902 JSON patch).
// Pure functions on values; thread-compatible.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "k8sclient/base/status.h"
#include "k8sclient/base/strings.h"  // Trim, AsciiLower (one copy for every layer)

namespace hpad::sim {

std::vector<std::string> SplitString(const std::string& s, char sep);

// Dotted path lookup; a leading '.' is ignored. nullptr when absent.
const nlohmann::json* JsonPathFind(const nlohmann::json& j, const std::string& path);
// Sets the value at a dotted path, creating objects on the way.
void JsonPathSet(nlohmann::json& j, const std::string& path, const nlohmann::json& value);

// Appends j.dump() to `out` without the temporary string (lists written
// item by item from shared stored objects).
void AppendJson(std::string& out, const nlohmann::json& j);

// RFC 7386: objects merge recursively, null deletes, everything else replaces.
nlohmann::json MergePatch(const nlohmann::json& target, const nlohmann::json& patch);
// Strategic merge patch as the API server applies it to the kinds we serve:
// maps merge recursively, the keyed lists of kubectl's built-in schema
// (containers/env/volumes by name, ports by containerPort, conditions by
// type, ...) merge by key, other lists replace; `$patch: delete|replace` honoured, `$setElementOrder/`
// and `$retainKeys` directives dropped.
nlohmann::json StrategicMergePatch(const nlohmann::json& target, const nlohmann::json& patch);
// RFC 6902 (add, remove, replace, move, copy, test). Errors name the op.
Result<nlohmann::json> JsonPatch(const nlohmann::json& target, const nlohmann::json& ops);

}  // namespace hpad::sim
