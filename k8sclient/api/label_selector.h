// LabelSelector: Kubernetes label selectors in both forms.
//
// The structured form (matchLabels + matchExpressions with In, NotIn,
// Exists, DoesNotExist) as found in specs, and the string form
// (`a=b,c in (d,e),!f`, also `a==b`, `a!=b`, `f`) as found in scale
// subresources and query parameters. A parsed Selector is an immutable value
// and safe to share between threads.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "k8sclient/base/status.h"

namespace hpad::k8s {

using Labels = std::map<std::string, std::string>;

struct LabelSelectorRequirement {
  // kGreaterThan/kLessThan are the string form's `a>5` / `a<5` (integer
  // comparison, as Kubernetes' selection.GreaterThan/LessThan).
  enum class Op { kIn, kNotIn, kExists, kDoesNotExist, kEquals, kNotEquals, kGreaterThan, kLessThan };
  std::string key;
  Op op = Op::kIn;
  std::vector<std::string> values;  // sorted when parsed
  bool operator==(const LabelSelectorRequirement&) const = default;
};

class Selector {
 public:
  // Matches everything (the empty selector).
  Selector() = default;
  static Selector Nothing();  // matches nothing (Go's labels.Nothing())

  // Equality requirements for every label (Go's labels.SelectorFromSet).
  static Selector FromLabels(const Labels& labels);

  // String form (`==` is read as `=`). Errors name the text and position.
  static Result<Selector> Parse(std::string_view text);
  // metav1.LabelSelector JSON ({matchLabels, matchExpressions}); null -> Nothing().
  static Result<Selector> FromJson(const nlohmann::json& label_selector);

  bool Matches(const Labels& labels) const;
  bool Empty() const { return !nothing_ && requirements_.empty(); }
  bool IsNothing() const { return nothing_; }
  // Canonical string form, requirements sorted by key ("app=web,tier in (a,b)").
  // Nothing() renders as "" (as Go's does), so callers must check IsNothing().
  std::string ToString() const;
  const std::vector<LabelSelectorRequirement>& requirements() const { return requirements_; }

  bool operator==(const Selector&) const = default;

 private:
  bool nothing_ = false;
  std::vector<LabelSelectorRequirement> requirements_;
};

// Selector::Matches over a run of label sets that often repeat at one
// address (the pods of one workload share one interned set): a set at the
// address of the previous one gets the previous answer without a match.
// Exact as long as the sets are not changed during the run (interned sets
// never are). One per scan; not thread-safe; holds a reference to the
// selector.
class MatchMemo {
 public:
  explicit MatchMemo(const Selector& selector) : selector_(selector) {}
  bool Matches(const Labels& labels) {
    if (&labels != last_) {
      last_ = &labels;
      matched_ = selector_.Matches(labels);
    }
    return matched_;
  }

 private:
  const Selector& selector_;
  const Labels* last_ = nullptr;
  bool matched_ = false;
};

}  // namespace hpad::k8s
