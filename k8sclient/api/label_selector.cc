// Label selectors (see label_selector.h). The string parser follows
// k8s.io/apimachinery/pkg/labels/selector.go: a small lexer (identifiers and
// the operators = == != ! in notin ( ) , > <) and a recursive-descent parser;
// requirements are validated as NewRequirement does (qualified-name keys,
// label values, non-empty sets for in/notin) and sorted by key.
#include "k8sclient/api/label_selector.h"

#include "k8sclient/api/json_parse.h"
#include "k8sclient/base/text.h"

#include <algorithm>
#include <cctype>
#include <charconv>

#include <nlohmann/json.hpp>

namespace hpad::k8s {
namespace {

using Op = LabelSelectorRequirement::Op;

// ---- validation (k8s.io/apimachinery/pkg/util/validation) ----

bool IsAlnum(char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0; }

// ([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9], at most 63 characters.
bool IsValidName(std::string_view s) {
  if (s.empty() || s.size() > 63) return false;
  if (!IsAlnum(s.front()) || !IsAlnum(s.back())) return false;
  for (char c : s) {
    if (!IsAlnum(c) && c != '-' && c != '_' && c != '.') return false;
  }
  return true;
}

// DNS-1123 subdomain: lowercase labels joined by dots, at most 253 characters.
bool IsDnsSubdomain(std::string_view s) {
  if (s.empty() || s.size() > 253) return false;
  size_t start = 0;
  while (start <= s.size()) {
    size_t dot = s.find('.', start);
    std::string_view label = s.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start);
    if (label.empty()) return false;
    auto ok = [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); };
    if (!ok(label.front()) || !ok(label.back())) return false;
    for (char c : label) {
      if (!ok(c) && c != '-') return false;
    }
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  return true;
}

std::string ValidateKey(std::string_view key) {
  size_t slash = key.find('/');
  std::string_view name = key;
  if (slash != std::string_view::npos) {
    std::string_view prefix = key.substr(0, slash);
    name = key.substr(slash + 1);
    if (!IsDnsSubdomain(prefix)) {
      return "invalid label key \"" + SafeText(key, 64) + "\": prefix must be a DNS-1123 subdomain";
    }
  }
  if (!IsValidName(name)) {
    return "invalid label key \"" + SafeText(key, 64) +
           "\": name part must be 1-63 alphanumeric characters, '-', '_' or '.', starting and ending with an "
           "alphanumeric character";
  }
  return "";
}

std::string ValidateValue(std::string_view value) {
  if (value.empty() || IsValidName(value)) return "";
  return "invalid label value \"" + SafeText(value, 64) +
         "\": must be 63 characters or less, alphanumeric, '-', '_' or '.', starting and ending with an "
         "alphanumeric character";
}

bool ParseInt64(std::string_view s, int64_t* out) {
  if (s.empty()) return false;
  const char* begin = s.data();
  if (*begin == '+') ++begin;
  auto [ptr, ec] = std::from_chars(begin, s.data() + s.size(), *out);
  return ec == std::errc() && ptr == s.data() + s.size();
}

// Builds and validates a requirement (Go's NewRequirement). Returns "" or the error.
std::string MakeRequirement(std::string key, Op op, std::vector<std::string> values, LabelSelectorRequirement* out) {
  if (std::string err = ValidateKey(key); !err.empty()) return err;
  switch (op) {
    case Op::kIn:
    case Op::kNotIn:
      if (values.empty()) return "for 'in', 'notin' operators, values set can't be empty";
      break;
    case Op::kEquals:
    case Op::kNotEquals:
      if (values.size() != 1) return "exact-match compatibility requires one single value";
      break;
    case Op::kExists:
    case Op::kDoesNotExist:
      if (!values.empty()) return "values set must be empty for exists and does not exist";
      break;
    case Op::kGreaterThan:
    case Op::kLessThan: {
      int64_t ignored;
      if (values.size() != 1 || !ParseInt64(values[0], &ignored)) {
        return "for 'Gt', 'Lt' operators, the value must be an integer";
      }
      break;
    }
  }
  for (const auto& v : values) {
    if (std::string err = ValidateValue(v); !err.empty()) return err;
  }
  std::sort(values.begin(), values.end());
  values.erase(std::unique(values.begin(), values.end()), values.end());
  *out = LabelSelectorRequirement{std::move(key), op, std::move(values)};
  return "";
}

void SortByKey(std::vector<LabelSelectorRequirement>* reqs) {
  std::stable_sort(reqs->begin(), reqs->end(),
                   [](const LabelSelectorRequirement& a, const LabelSelectorRequirement& b) { return a.key < b.key; });
}

// ---- lexer / parser for the string form ----

enum class Tok { kEnd, kIdentifier, kEquals, kDoubleEquals, kNotEquals, kNot, kIn, kNotIn, kOpen, kClose, kComma, kGt, kLt };

struct Token {
  Tok tok;
  std::string text;
  size_t pos;
};

bool IsSpecial(char c) {
  return c == '!' || c == '=' || c == '(' || c == ')' || c == ',' || c == '>' || c == '<';
}

std::vector<Token> Lex(std::string_view s) {
  std::vector<Token> out;
  size_t i = 0;
  while (true) {
    while (i < s.size() && std::isspace(static_cast<unsigned char>(s[i]))) ++i;
    if (i >= s.size()) {
      out.push_back({Tok::kEnd, "", i});
      return out;
    }
    size_t start = i;
    char c = s[i];
    if (IsSpecial(c)) {
      if (c == '!' && i + 1 < s.size() && s[i + 1] == '=') {
        out.push_back({Tok::kNotEquals, "!=", start});
        i += 2;
      } else if (c == '=' && i + 1 < s.size() && s[i + 1] == '=') {
        out.push_back({Tok::kDoubleEquals, "==", start});
        i += 2;
      } else {
        static const std::pair<char, Tok> kSingle[] = {{'!', Tok::kNot},   {'=', Tok::kEquals}, {'(', Tok::kOpen},
                                                        {')', Tok::kClose}, {',', Tok::kComma},  {'>', Tok::kGt},
                                                        {'<', Tok::kLt}};
        for (const auto& [ch, t] : kSingle) {
          if (ch == c) out.push_back({t, std::string(1, c), start});
        }
        ++i;
      }
      continue;
    }
    while (i < s.size() && !std::isspace(static_cast<unsigned char>(s[i])) && !IsSpecial(s[i])) ++i;
    std::string word(s.substr(start, i - start));
    // "in"/"notin" are operators only where an operator is expected; the
    // parser turns them back into identifiers in value position.
    Tok t = word == "in" ? Tok::kIn : (word == "notin" ? Tok::kNotIn : Tok::kIdentifier);
    out.push_back({t, word, start});
  }
}

class Parser {
 public:
  explicit Parser(std::string_view text) : text_(text), toks_(Lex(text)) {}

  Result<Selector> Parse(std::vector<LabelSelectorRequirement>* reqs) {
    if (Peek().tok == Tok::kEnd) return Selector();
    while (true) {
      const Token& t = Peek();
      if (!IsIdentifierish(t) && t.tok != Tok::kNot) {
        return Error(t, "expected: !, identifier, or 'end of string'");
      }
      LabelSelectorRequirement r;
      if (Status s = ParseRequirement(&r); !s.ok()) return s;
      reqs->push_back(std::move(r));
      const Token& next = Peek();
      if (next.tok == Tok::kEnd) break;
      if (next.tok != Tok::kComma) return Error(next, "expected: ',' or 'end of string'");
      Next();
      const Token& after = Peek();
      if (!IsIdentifierish(after) && after.tok != Tok::kNot) {
        return Error(after, "expected: identifier or '!' after ','");
      }
    }
    return Selector();  // caller fills requirements
  }

 private:
  // In value and key position, "in"/"notin" are plain words.
  static bool IsIdentifierish(const Token& t) {
    return t.tok == Tok::kIdentifier || t.tok == Tok::kIn || t.tok == Tok::kNotIn;
  }

  const Token& Peek() const { return toks_[i_]; }
  const Token& Next() {
    const Token& t = toks_[i_];
    if (i_ + 1 < toks_.size()) ++i_;
    return t;
  }

  Status Error(const Token& t, const std::string& expected) const {
    std::string found = t.tok == Tok::kEnd ? "end of string" : t.text;
    return InvalidError("unable to parse label selector \"" + SafeText(text_, 256) + "\": at position " +
                        std::to_string(t.pos) + ": found '" + SafeText(found, 64) + "', " + expected);
  }
  Status RequirementError(size_t pos, const std::string& why) const {
    return InvalidError("unable to parse label selector \"" + SafeText(text_, 256) + "\": at position " +
                        std::to_string(pos) + ": " + SafeText(why, 512));
  }

  Status ParseRequirement(LabelSelectorRequirement* out) {
    size_t start = Peek().pos;
    Op op;
    std::string key;
    std::vector<std::string> values;
    if (Peek().tok == Tok::kNot) {
      Next();
      const Token& k = Next();
      if (!IsIdentifierish(k)) return Error(k, "expected: identifier after '!'");
      key = k.text;
      op = Op::kDoesNotExist;
    } else {
      key = Next().text;
      const Token& t = Peek();
      if (t.tok == Tok::kEnd || t.tok == Tok::kComma) {
        op = Op::kExists;
      } else {
        const Token& o = Next();
        switch (o.tok) {
          case Tok::kEquals:
          case Tok::kDoubleEquals: op = Op::kEquals; break;
          case Tok::kNotEquals: op = Op::kNotEquals; break;
          case Tok::kIn: op = Op::kIn; break;
          case Tok::kNotIn: op = Op::kNotIn; break;
          case Tok::kGt: op = Op::kGreaterThan; break;
          case Tok::kLt: op = Op::kLessThan; break;
          default: return Error(o, "expected: one of =, ==, !=, in, notin, >, <");
        }
        if (op == Op::kIn || op == Op::kNotIn) {
          if (Status s = ParseValueSet(&values); !s.ok()) return s;
        } else {
          const Token& v = Peek();
          if (v.tok == Tok::kEnd || v.tok == Tok::kComma) {
            values.push_back("");  // `a=` selects an empty value
          } else if (IsIdentifierish(v)) {
            values.push_back(Next().text);
          } else {
            return Error(v, "expected: identifier");
          }
        }
      }
    }
    std::string err = MakeRequirement(std::move(key), op, std::move(values), out);
    if (!err.empty()) return RequirementError(start, err);
    return Status::Ok();
  }

  // "(" [value] {"," [value]} ")"; empty entries are the empty value, as in Go.
  Status ParseValueSet(std::vector<std::string>* values) {
    const Token& open = Next();
    if (open.tok != Tok::kOpen) return Error(open, "expected: '('");
    bool expect_value = true;
    while (true) {
      const Token& t = Next();
      if (IsIdentifierish(t)) {
        if (!expect_value) return Error(t, "expected: ',' or ')'");
        values->push_back(t.text);
        expect_value = false;
      } else if (t.tok == Tok::kComma) {
        if (expect_value) values->push_back("");
        expect_value = true;
      } else if (t.tok == Tok::kClose) {
        if (expect_value) values->push_back("");  // "()" and ",)" mean the empty value
        return Status::Ok();
      } else {
        return Error(t, "expected: ',', ')' or identifier");
      }
    }
  }

  std::string_view text_;
  std::vector<Token> toks_;
  size_t i_ = 0;
};

const char* OpString(Op op) {
  switch (op) {
    case Op::kEquals: return "=";
    case Op::kNotEquals: return "!=";
    case Op::kIn: return " in ";
    case Op::kNotIn: return " notin ";
    case Op::kGreaterThan: return ">";
    case Op::kLessThan: return "<";
    case Op::kExists:
    case Op::kDoesNotExist: return "";
  }
  return "";
}

}  // namespace

Selector Selector::Nothing() {
  Selector s;
  s.nothing_ = true;
  return s;
}

Selector Selector::FromLabels(const Labels& labels) {
  Selector s;
  for (const auto& [k, v] : labels) {
    s.requirements_.push_back(LabelSelectorRequirement{k, Op::kEquals, {v}});
  }
  return s;  // std::map iteration is already sorted by key
}

Result<Selector> Selector::Parse(std::string_view text) {
  Parser p(text);
  std::vector<LabelSelectorRequirement> reqs;
  auto r = p.Parse(&reqs);
  if (!r.ok()) return r.status();
  Selector s;
  s.requirements_ = std::move(reqs);
  SortByKey(&s.requirements_);
  return s;
}

Result<Selector> Selector::FromJson(const nlohmann::json& j) {
  if (j.is_null()) return Nothing();
  if (!j.is_object()) return InvalidError("label selector must be an object, got " + DescribeJson(j));
  Selector s;
  if (auto it = j.find("matchLabels"); it != j.end() && !it->is_null()) {
    if (!it->is_object()) return InvalidError("matchLabels must be an object, got " + DescribeJson(*it));
    for (const auto& [k, v] : it->items()) {
      if (!v.is_string()) return InvalidError("matchLabels." + k + " must be a string, got " + DescribeJson(v));
      LabelSelectorRequirement r;
      std::string err = MakeRequirement(k, Op::kEquals, {v.get<std::string>()}, &r);
      if (!err.empty()) return InvalidError("matchLabels: " + err);
      s.requirements_.push_back(std::move(r));
    }
  }
  if (auto it = j.find("matchExpressions"); it != j.end() && !it->is_null()) {
    if (!it->is_array()) return InvalidError("matchExpressions must be a list, got " + DescribeJson(*it));
    for (size_t i = 0; i < it->size(); ++i) {
      const auto& e = (*it)[i];
      std::string where = "matchExpressions[" + std::to_string(i) + "]";
      if (!e.is_object()) return InvalidError(where + " must be an object");
      auto key = e.find("key");
      auto oper = e.find("operator");
      if (key == e.end() || !key->is_string()) return InvalidError(where + ".key: must be a string");
      if (oper == e.end() || !oper->is_string()) return InvalidError(where + ".operator: must be a string");
      Op op;
      std::string o = oper->get<std::string>();
      if (o == "In") {
        op = Op::kIn;
      } else if (o == "NotIn") {
        op = Op::kNotIn;
      } else if (o == "Exists") {
        op = Op::kExists;
      } else if (o == "DoesNotExist") {
        op = Op::kDoesNotExist;
      } else {
        return InvalidError(where + ".operator: \"" + o + "\" is not a valid label selector operator");
      }
      std::vector<std::string> values;
      if (auto v = e.find("values"); v != e.end() && !v->is_null()) {
        if (!v->is_array()) return InvalidError(where + ".values: must be a list");
        for (const auto& x : *v) {
          if (!x.is_string()) return InvalidError(where + ".values: must be strings, got " + DescribeJson(x));
          values.push_back(x.get<std::string>());
        }
      }
      LabelSelectorRequirement r;
      std::string err = MakeRequirement(key->get<std::string>(), op, std::move(values), &r);
      if (!err.empty()) return InvalidError(where + ": " + err);
      s.requirements_.push_back(std::move(r));
    }
  }
  SortByKey(&s.requirements_);
  return s;
}

bool Selector::Matches(const Labels& labels) const {
  if (nothing_) return false;
  for (const auto& r : requirements_) {
    auto it = labels.find(r.key);
    bool has = it != labels.end();
    auto in_values = [&] { return has && std::binary_search(r.values.begin(), r.values.end(), it->second); };
    switch (r.op) {
      case Op::kIn:
      case Op::kEquals:
        if (!in_values()) return false;
        break;
      case Op::kNotIn:
      case Op::kNotEquals:
        if (in_values()) return false;
        break;
      case Op::kExists:
        if (!has) return false;
        break;
      case Op::kDoesNotExist:
        if (has) return false;
        break;
      case Op::kGreaterThan:
      case Op::kLessThan: {
        int64_t have, want;
        if (!has || !ParseInt64(it->second, &have) || r.values.size() != 1 || !ParseInt64(r.values[0], &want)) {
          return false;
        }
        if (r.op == Op::kGreaterThan ? !(have > want) : !(have < want)) return false;
        break;
      }
    }
  }
  return true;
}

std::string Selector::ToString() const {
  std::string out;
  for (const auto& r : requirements_) {
    if (!out.empty()) out += ',';
    if (r.op == Op::kDoesNotExist) out += '!';
    out += r.key;
    if (r.op == Op::kExists || r.op == Op::kDoesNotExist) continue;
    out += OpString(r.op);
    if (r.op == Op::kIn || r.op == Op::kNotIn) {
      out += '(';
      for (size_t i = 0; i < r.values.size(); ++i) {
        if (i) out += ',';
        out += r.values[i];
      }
      out += ')';
    } else if (!r.values.empty()) {
      out += r.values[0];
    }
  }
  return out;
}

}  // namespace hpad::k8s
