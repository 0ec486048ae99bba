// YAML -> JSON conversion with Kubernetes-like scalar typing.
//
// Kubernetes manifests and hpad scenario files are YAML; everything inside
// hpad works on nlohmann::json. This adapter is the one place that calls
// yaml-cpp (its exceptions never escape). Scalar typing follows
// libraries.md §9: only plain (untagged, unquoted) scalars are resolved to
// null / bool / int / float; quoted scalars and `!!str` stay strings. Plain
// `yes/no/on/off` are booleans and `0755` is octal, as go-yaml (YAML 1.1, what
// kubectl uses) reads them. Null documents (e.g. after a trailing `---`) are
// dropped. Duplicate mapping keys are an error (as in go-yaml v3).
//
// Errors are kInvalid and name the source and the 1-based line:
// `scenario.yaml:12:5: illegal map value`.
//
// Pure functions, thread-safe.
#pragma once

#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "k8sclient/base/status.h"

namespace hpad::k8s {

// One YAML document as JSON plus, for error messages, the 1-based source line
// of every path in it. Paths are written as `steps[2].expect[0].status`; the
// root is "". For a mapping entry the line is the line of its key.
struct YamlDoc {
  nlohmann::json json;
  std::map<std::string, int> line_of_path;

  // Line of `path`, or of its nearest recorded ancestor; 0 when unknown.
  int LineOf(const std::string& path) const;
};

// Every non-null document in `text`, in order.
Result<std::vector<nlohmann::json>> YamlToJsonDocuments(const std::string& text,
                                                         const std::string& source_name);
// The same with line numbers.
Result<std::vector<YamlDoc>> YamlToJsonDocumentsWithLines(const std::string& text,
                                                          const std::string& source_name);
// Exactly one document: an error when `text` holds more than one non-null
// document; an empty text gives JSON null.
Result<nlohmann::json> YamlToJson(const std::string& text, const std::string& source_name);
Result<YamlDoc> YamlToJsonWithLines(const std::string& text, const std::string& source_name);

// Joins a child to a path: JoinPath("steps[2]", "expect") == "steps[2].expect".
std::string JoinPath(const std::string& parent, const std::string& key);
// IndexPath("steps", 2) == "steps[2]".
std::string IndexPath(const std::string& parent, size_t index);

}  // namespace hpad::k8s
