// Selectors over stored objects (see object_filter.h).
#include "sim/apiserver/object_filter.h"
#include "k8sclient/base/strings.h"

#include "sim/apiserver/store_util.h"

namespace hpad::sim {

namespace {

Result<std::vector<FieldTerm>> ParseFieldSelector(const std::string& text) {
  std::vector<FieldTerm> terms;
  for (const std::string& raw : SplitString(text, ',')) {
    std::string t = Trim(raw);
    if (t.empty()) continue;
    FieldTerm term;
    size_t pos;
    if ((pos = t.find("!=")) != std::string::npos) {
      term.negate = true;
      term.path = t.substr(0, pos);
      term.value = t.substr(pos + 2);
    } else if ((pos = t.find("==")) != std::string::npos) {
      term.path = t.substr(0, pos);
      term.value = t.substr(pos + 2);
    } else if ((pos = t.find('=')) != std::string::npos) {
      term.path = t.substr(0, pos);
      term.value = t.substr(pos + 1);
    } else {
      return BadRequest("invalid field selector \"" + text + "\": term \"" + t + "\" has no operator");
    }
    term.path = Trim(term.path);
    term.value = Trim(term.value);
    terms.push_back(std::move(term));
  }
  return terms;
}

std::string FieldValue(const Json& obj, const std::string& path) {
  const Json* cur = JsonPathFind(obj, path);
  if (cur == nullptr || cur->is_null()) return "";
  if (cur->is_string()) return cur->get<std::string>();
  return cur->dump();
}

bool MatchFields(const Json& obj, const std::vector<FieldTerm>& terms) {
  for (const FieldTerm& t : terms) {
    bool eq = FieldValue(obj, t.path) == t.value;
    if (eq == t.negate) return false;
  }
  return true;
}

// A selector reads only its requirements' keys, so only those labels are
// taken from the object (no copy of its whole label map per object).
bool SelectorMatches(const k8s::Selector& sel, const Json& obj) {
  if (sel.Empty()) return true;
  if (sel.IsNothing()) return false;
  const Json* labels = nullptr;
  if (obj.is_object()) {
    auto md = obj.find("metadata");
    if (md != obj.end() && md->is_object()) {
      auto l = md->find("labels");
      if (l != md->end() && l->is_object()) labels = &*l;
    }
  }
  k8s::Labels subset;
  if (labels != nullptr) {
    for (const k8s::LabelSelectorRequirement& r : sel.requirements()) {
      auto v = labels->find(r.key);
      if (v != labels->end() && v->is_string()) subset[r.key] = v->get<std::string>();
    }
  }
  return sel.Matches(subset);
}

}  // namespace

bool Filter::Matches(const Json& obj) const { return SelectorMatches(labels, obj) && MatchFields(obj, fields); }

Result<Filter> MakeFilter(const std::string& label_selector, const std::string& field_selector) {
  Filter f;
  if (!Trim(label_selector).empty()) {
    auto sel = k8s::Selector::Parse(label_selector);
    if (!sel.ok()) return BadRequest("unable to parse labelSelector: " + sel.status().message());
    f.labels = *sel;
  }
  auto fields = ParseFieldSelector(field_selector);
  if (!fields.ok()) return fields.status();
  f.fields = std::move(*fields);
  return f;
}

k8s::Labels LabelsOf(const Json& obj) {
  k8s::Labels out;
  const Json* l = JsonPathFind(obj, "metadata.labels");
  if (l != nullptr && l->is_object()) {
    for (auto it = l->begin(); it != l->end(); ++it)
      if (it.value().is_string()) out[it.key()] = it.value().get<std::string>();
  }
  return out;
}

std::string StrAt(const Json& j, std::initializer_list<const char*> path) {
  const Json* cur = &j;
  for (const char* p : path) {
    if (!cur->is_object()) return "";
    auto it = cur->find(p);
    if (it == cur->end()) return "";
    cur = &*it;
  }
  return cur->is_string() ? cur->get<std::string>() : "";
}

std::string ObjKey(const std::string& ns, const std::string& name) { return ns + "/" + name; }

bool HasPrefix(const std::string& key, const std::string& prefix) {
  return key.compare(0, prefix.size(), prefix) == 0;
}

Status BadRequest(const std::string& m) { return Status(StatusCode::kInvalid, m, "BadRequest", 400); }
Status Invalid(const std::string& m) { return Status(StatusCode::kInvalid, m, "Invalid", 422); }

Result<int64_t> ParseRv(const std::string& rv) {
  if (rv.empty()) return int64_t{0};
  auto v = ParseInt64(rv);
  if (!v.ok() || *v < 0) return BadRequest("invalid resourceVersion \"" + rv + "\"");
  return *v;
}

}  // namespace hpad::sim
