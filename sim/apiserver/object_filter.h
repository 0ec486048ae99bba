// Label and field selectors over stored objects, as the API server applies
// them to lists and watches (and the metrics store to PodMetrics lists), plus
// the small JSON readers and error constructors the store's units share.
// Pure functions on values; thread-compatible (a compiled Filter is
// read-only after MakeFilter and may be shared between threads).
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "k8sclient/api/label_selector.h"
#include "k8sclient/base/status.h"

namespace hpad::sim {

using Json = nlohmann::json;

// A field selector term: "path=value", "path==value" or "path!=value" on
// any dotted path (metadata.name, involvedObject.uid, ...).
struct FieldTerm {
  std::string path;
  std::string value;
  bool negate = false;
};

// A compiled label + field filter.
struct Filter {
  k8s::Selector labels;
  std::vector<FieldTerm> fields;
  bool MatchesAll() const { return labels.Empty() && fields.empty(); }
  bool Matches(const Json& obj) const;
};

// 400 BadRequest for a selector that does not parse.
Result<Filter> MakeFilter(const std::string& label_selector, const std::string& field_selector);

// metadata.labels as a label set (non-string values skipped).
k8s::Labels LabelsOf(const Json& obj);

// The string at a path of object keys; "" when absent or not a string.
std::string StrAt(const Json& j, std::initializer_list<const char*> path);

// "ns/name": the key objects and metrics are kept under (sorted, so a
// namespace is one key range).
std::string ObjKey(const std::string& ns, const std::string& name);
bool HasPrefix(const std::string& key, const std::string& prefix);

// metav1.Status-shaped errors with the HTTP code the API server answers.
Status BadRequest(const std::string& message);  // 400
Status Invalid(const std::string& message);     // 422

// A resourceVersion or continue-token revision: "" is 0; otherwise a
// non-negative decimal integer (400 otherwise).
Result<int64_t> ParseRv(const std::string& rv);

}  // namespace hpad::sim
