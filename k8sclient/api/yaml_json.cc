// yaml-cpp adapter: YAML text -> nlohmann::json (see yaml_json.h).
#include "k8sclient/api/yaml_json.h"

#include "k8sclient/base/text.h"

#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/yaml.h>

#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <set>
#include <sstream>

namespace hpad::k8s {
namespace {

struct ConvertError {
  int line;  // 1-based
  int column;
  std::string message;
};

bool OneOf(const std::string& s, std::initializer_list<const char*> options) {
  for (const char* o : options) {
    if (s == o) return true;
  }
  return false;
}

// YAML 1.1 integers as go-yaml resolves them: decimal, 0x hex, 0o / leading-0
// octal, 0b binary, optional sign, '_' separators. Values beyond int64 fall
// through to float resolution.
bool ResolveInt(const std::string& text, nlohmann::json* out) {
  std::string s;
  for (char c : text) {
    if (c != '_') s += c;
  }
  if (s.empty()) return false;
  size_t pos = 0;
  bool negative = false;
  if (s[0] == '+' || s[0] == '-') {
    negative = s[0] == '-';
    pos = 1;
  }
  if (pos >= s.size()) return false;
  int base = 10;
  if (s.size() - pos > 2 && s[pos] == '0' && (s[pos + 1] == 'x' || s[pos + 1] == 'X')) {
    base = 16;
    pos += 2;
  } else if (s.size() - pos > 2 && s[pos] == '0' && (s[pos + 1] == 'o' || s[pos + 1] == 'O')) {
    base = 8;
    pos += 2;
  } else if (s.size() - pos > 2 && s[pos] == '0' && (s[pos + 1] == 'b' || s[pos + 1] == 'B')) {
    base = 2;
    pos += 2;
  } else if (s.size() - pos > 1 && s[pos] == '0') {
    base = 8;  // YAML 1.1: 0755 is octal (libraries.md §9 edge case)
    pos += 1;
  }
  std::string digits = s.substr(pos);
  if (digits.empty()) return false;
  for (char c : digits) {
    int d;
    if (c >= '0' && c <= '9') {
      d = c - '0';
    } else if (c >= 'a' && c <= 'f') {
      d = c - 'a' + 10;
    } else if (c >= 'A' && c <= 'F') {
      d = c - 'A' + 10;
    } else {
      return false;
    }
    if (d >= base) return false;
  }
  errno = 0;
  char* end = nullptr;
  unsigned long long magnitude = std::strtoull(digits.c_str(), &end, base);
  if (errno == ERANGE || *end != '\0') return false;
  if (negative) {
    if (magnitude > static_cast<unsigned long long>(std::numeric_limits<int64_t>::max()) + 1ULL) return false;
    *out = magnitude == 0 ? int64_t{0} : static_cast<int64_t>(0 - magnitude);
    return true;
  }
  if (magnitude <= static_cast<unsigned long long>(std::numeric_limits<int64_t>::max())) {
    *out = static_cast<int64_t>(magnitude);
  } else {
    *out = static_cast<uint64_t>(magnitude);
  }
  return true;
}

// [-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)? and .inf/.nan.
bool ResolveFloat(const std::string& text, nlohmann::json* out) {
  std::string s;
  for (char c : text) {
    if (c != '_') s += c;
  }
  std::string body = s;
  double sign = 1;
  if (!body.empty() && (body[0] == '+' || body[0] == '-')) {
    sign = body[0] == '-' ? -1 : 1;
    body = body.substr(1);
  }
  if (OneOf(body, {".inf", ".Inf", ".INF"})) {
    *out = sign * std::numeric_limits<double>::infinity();
    return true;
  }
  if (s == ".nan" || s == ".NaN" || s == ".NAN") {
    *out = std::numeric_limits<double>::quiet_NaN();
    return true;
  }
  size_t i = 0;
  size_t int_digits = 0, frac_digits = 0;
  while (i < body.size() && std::isdigit(static_cast<unsigned char>(body[i]))) ++i, ++int_digits;
  if (i < body.size() && body[i] == '.') {
    ++i;
    while (i < body.size() && std::isdigit(static_cast<unsigned char>(body[i]))) ++i, ++frac_digits;
  }
  if (int_digits + frac_digits == 0) return false;
  if (i < body.size() && (body[i] == 'e' || body[i] == 'E')) {
    ++i;
    if (i < body.size() && (body[i] == '+' || body[i] == '-')) ++i;
    size_t exp_digits = 0;
    while (i < body.size() && std::isdigit(static_cast<unsigned char>(body[i]))) ++i, ++exp_digits;
    if (exp_digits == 0) return false;
  }
  if (i != body.size()) return false;
  *out = std::strtod(s.c_str(), nullptr);
  return true;
}

// Resolves a plain (Tag "?") scalar the way go-yaml's YAML 1.1 resolver does.
nlohmann::json ResolvePlain(const std::string& s) {
  if (OneOf(s, {"", "~", "null", "Null", "NULL"})) return nullptr;
  if (OneOf(s, {"true", "True", "TRUE", "yes", "Yes", "YES", "on", "On", "ON"})) return true;
  if (OneOf(s, {"false", "False", "FALSE", "no", "No", "NO", "off", "Off", "OFF"})) return false;
  nlohmann::json out;
  if (ResolveInt(s, &out)) return out;
  if (ResolveFloat(s, &out)) return out;
  return s;
}

class Converter {
 public:
  Converter(YamlDoc* doc, bool want_lines) : doc_(doc), want_lines_(want_lines) {}

  // Returns false and fills error_ on failure.
  bool Convert(const YAML::Node& node, const std::string& path, nlohmann::json* out, int line) {
    if (++depth_ > 256) {
      return Fail(node, "nesting too deep");
    }
    if (want_lines_) doc_->line_of_path.emplace(path, line > 0 ? line : node.Mark().line + 1);
    bool ok = ConvertInner(node, path, out);
    --depth_;
    return ok;
  }

  const ConvertError& error() const { return error_; }

 private:
  bool ConvertInner(const YAML::Node& node, const std::string& path, nlohmann::json* out) {
    switch (node.Type()) {
      case YAML::NodeType::Undefined:
      case YAML::NodeType::Null:
        *out = nullptr;
        return true;
      case YAML::NodeType::Scalar:
        return ConvertScalar(node, out);
      case YAML::NodeType::Sequence: {
        *out = nlohmann::json::array();
        size_t i = 0;
        for (const auto& item : node) {
          nlohmann::json child;
          if (!Convert(item, IndexPath(path, i), &child, 0)) return false;
          out->push_back(std::move(child));
          ++i;
        }
        return true;
      }
      case YAML::NodeType::Map: {
        *out = nlohmann::json::object();
        std::vector<YAML::Node> merge_storage;
        for (const auto& kv : node) {
          const YAML::Node& key = kv.first;
          if (!key.IsScalar()) {
            return Fail(key, "mapping keys must be scalars");
          }
          const std::string& k = key.Scalar();
          if (k == "<<" && key.Tag() == "?") {
            merge_storage.push_back(kv.second);
            continue;
          }
          if (out->contains(k)) {
            return Fail(key, "mapping key \"" + k + "\" already defined");
          }
          nlohmann::json child;
          if (!Convert(kv.second, JoinPath(path, k), &child, key.Mark().line + 1)) return false;
          (*out)[k] = std::move(child);
        }
        // YAML merge keys (`<<: *defaults`): explicit keys win, then earlier merges.
        for (const YAML::Node& m : merge_storage) {
          std::vector<YAML::Node> sources;
          if (m.IsMap()) {
            sources.push_back(m);
          } else if (m.IsSequence()) {
            for (const auto& s : m) sources.push_back(s);
          } else {
            return Fail(m, "merge key value must be a mapping or a list of mappings");
          }
          for (const YAML::Node& src : sources) {
            if (!src.IsMap()) return Fail(src, "merge key value must be a mapping or a list of mappings");
            nlohmann::json merged;
            if (!Convert(src, path, &merged, 0)) return false;
            for (auto& [mk, mv] : merged.items()) {
              if (!out->contains(mk)) (*out)[mk] = mv;
            }
          }
        }
        return true;
      }
    }
    *out = nullptr;
    return true;
  }

  bool ConvertScalar(const YAML::Node& node, nlohmann::json* out) {
    const std::string& tag = node.Tag();
    const std::string& s = node.Scalar();
    if (tag == "?") {
      *out = ResolvePlain(s);
      return true;
    }
    static const std::string kCore = "tag:yaml.org,2002:";
    if (tag.rfind(kCore, 0) == 0) {
      std::string t = tag.substr(kCore.size());
      if (t == "str" || t == "binary" || t == "timestamp") {
        *out = s;
        return true;
      }
      if (t == "null") {
        *out = nullptr;
        return true;
      }
      nlohmann::json v = ResolvePlain(s);
      if (t == "bool" && v.is_boolean()) {
        *out = v;
        return true;
      }
      if (t == "int" && v.is_number_integer()) {
        *out = v;
        return true;
      }
      if (t == "float" && v.is_number()) {
        *out = v.get<double>();
        return true;
      }
      return Fail(node, "cannot decode \"" + s + "\" as !!" + t);
    }
    // "!" (quoted) and application tags: the text as is.
    *out = s;
    return true;
  }

  bool Fail(const YAML::Node& node, std::string message) {
    YAML::Mark m = node.Mark();
    error_ = ConvertError{m.line + 1, m.column + 1, std::move(message)};
    return false;
  }

  YamlDoc* doc_;
  bool want_lines_;
  int depth_ = 0;
  ConvertError error_{0, 0, ""};
};

Status LocatedError(const std::string& source, int line, int column, const std::string& message) {
  std::string where = source.empty() ? "<yaml>" : source;
  if (line > 0) {
    where += ":" + std::to_string(line);
    if (column > 0) where += ":" + std::to_string(column);
  }
  // yaml-cpp's messages quote the offending input byte ("unknown escape
  // character: \xff"): SafeText keeps the error valid, bounded UTF-8 (found
  // by tests/fuzz/scenario_fuzz).
  return InvalidError(SafeText(where + ": " + message));
}

// Records where each document starts; builds nothing.
class DocumentStartRecorder : public YAML::EventHandler {
 public:
  void OnDocumentStart(const YAML::Mark& mark) override { start = mark; }
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark&, YAML::anchor_t) override {}
  void OnAlias(const YAML::Mark&, YAML::anchor_t) override {}
  void OnScalar(const YAML::Mark&, const std::string&, YAML::anchor_t, const std::string&) override {}
  void OnSequenceStart(const YAML::Mark&, const std::string&, YAML::anchor_t, YAML::EmitterStyle::value) override {}
  void OnSequenceEnd() override {}
  void OnMapStart(const YAML::Mark&, const std::string&, YAML::anchor_t, YAML::EmitterStyle::value) override {}
  void OnMapEnd() override {}

  YAML::Mark start = YAML::Mark::null_mark();
};

// yaml-cpp 0.7's LoadAll never returns (and allocates a null node per turn
// until memory runs out) when a stream holds a token no node can start with
// outside a flow collection, e.g. a stray `,` at the start of a line (`}` and
// `]` are rejected by the scanner): SingleDocParser::HandleNode reports a null
// node without consuming the token, so every following "document" starts at
// the same place (found by tests/fuzz/scenario_fuzz, regression input
// tests/fuzz/corpus/scenario_fuzz/hang-stray-flow-entry.yaml).
// This pass walks the documents with an event handler that builds nothing and
// fails at the first document that starts where the previous one started, so
// LoadAll only runs on streams where every document makes progress. go-yaml
// rejects such input too ("did not find expected node content").
// Throws what yaml-cpp throws; returns OK or the located error.
Status CheckDocumentsProgress(const std::string& text, const std::string& source) {
  std::istringstream in(text);
  YAML::Parser parser(in);
  DocumentStartRecorder recorder;
  bool have_previous = false;
  YAML::Mark previous = YAML::Mark::null_mark();
  while (parser.HandleNextDocument(recorder)) {
    if (have_previous && recorder.start.pos == previous.pos) {
      std::string what = "unexpected content";
      if (recorder.start.pos >= 0 && static_cast<size_t>(recorder.start.pos) < text.size()) {
        what += " '" + SafeText(text.substr(static_cast<size_t>(recorder.start.pos), 1)) + "'";
      }
      return LocatedError(source, recorder.start.line + 1, recorder.start.column + 1,
                          what + ": no YAML node can start here (a stray flow indicator outside [] or {}?)");
    }
    previous = recorder.start;
    have_previous = true;
  }
  return Status::Ok();
}

Result<std::vector<YamlDoc>> Load(const std::string& text, const std::string& source, bool want_lines) {
  std::vector<YAML::Node> nodes;
  try {
    Status progress = CheckDocumentsProgress(text, source);
    if (!progress.ok()) return progress;
    nodes = YAML::LoadAll(text);
  } catch (const YAML::ParserException& e) {
    return LocatedError(source, e.mark.line + 1, e.mark.column + 1, e.msg);
  } catch (const YAML::Exception& e) {
    return LocatedError(source, e.mark.line >= 0 ? e.mark.line + 1 : 0, 0, e.msg);
  } catch (const std::exception& e) {
    return LocatedError(source, 0, 0, e.what());
  }
  std::vector<YamlDoc> docs;
  for (const YAML::Node& node : nodes) {
    if (!node.IsDefined() || node.IsNull()) continue;  // trailing `---` (libraries.md §9)
    YamlDoc doc;
    Converter conv(&doc, want_lines);
    bool ok = false;
    try {
      ok = conv.Convert(node, "", &doc.json, 0);
    } catch (const YAML::Exception& e) {
      return LocatedError(source, e.mark.line >= 0 ? e.mark.line + 1 : 0, 0, e.msg);
    } catch (const std::exception& e) {
      return LocatedError(source, 0, 0, e.what());
    }
    if (!ok) return LocatedError(source, conv.error().line, conv.error().column, conv.error().message);
    docs.push_back(std::move(doc));
  }
  return docs;
}

}  // namespace

int YamlDoc::LineOf(const std::string& path) const {
  std::string p = path;
  for (;;) {
    auto it = line_of_path.find(p);
    if (it != line_of_path.end()) return it->second;
    if (p.empty()) return 0;
    // Strip the last component: "a.b[2]" -> "a.b" -> "a".
    size_t cut = p.find_last_of(".[");
    p = cut == std::string::npos ? std::string() : p.substr(0, cut);
  }
}

std::string JoinPath(const std::string& parent, const std::string& key) {
  return parent.empty() ? key : parent + "." + key;
}

std::string IndexPath(const std::string& parent, size_t index) {
  return parent + "[" + std::to_string(index) + "]";
}

Result<std::vector<YamlDoc>> YamlToJsonDocumentsWithLines(const std::string& text, const std::string& source_name) {
  return Load(text, source_name, true);
}

Result<std::vector<nlohmann::json>> YamlToJsonDocuments(const std::string& text, const std::string& source_name) {
  auto docs = Load(text, source_name, false);
  if (!docs.ok()) return docs.status();
  std::vector<nlohmann::json> out;
  out.reserve(docs->size());
  for (auto& d : *docs) out.push_back(std::move(d.json));
  return out;
}

namespace {
Result<YamlDoc> Single(const std::string& text, const std::string& source_name, bool want_lines) {
  auto docs = Load(text, source_name, want_lines);
  if (!docs.ok()) return docs.status();
  if (docs->empty()) return YamlDoc{};
  if (docs->size() > 1) {
    return InvalidError((source_name.empty() ? std::string("<yaml>") : source_name) +
                        ": expected one YAML document, found " + std::to_string(docs->size()));
  }
  return std::move(docs->front());
}
}  // namespace

Result<YamlDoc> YamlToJsonWithLines(const std::string& text, const std::string& source_name) {
  return Single(text, source_name, true);
}

Result<nlohmann::json> YamlToJson(const std::string& text, const std::string& source_name) {
  auto doc = Single(text, source_name, false);
  if (!doc.ok()) return doc.status();
  return std::move(doc->json);
}

}  // namespace hpad::k8s
