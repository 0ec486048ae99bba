// Parsing and validation of the hpad.io/* HPA annotations (issue 13).
#include "controller/annotations.h"

#include <string_view>

#include "k8sclient/api/quantity.h"
#include "k8sclient/base/strings.h"
#include "k8sclient/base/text.h"

namespace hpad::ctrl {
namespace {

// Annotation values are user input: quoted in messages, bounded and cut at a
// code point.
std::string Quoted(const std::string& value) { return "\"" + k8s::SafeText(value, 128) + "\""; }

AnnotationProblem Problem(const char* annotation, const std::string& value, const std::string& why) {
  return AnnotationProblem{annotation, "invalid value " + Quoted(value) + " of annotation " + annotation + ": " + why};
}

const std::string* Find(const std::map<std::string, std::string>& annotations, const char* name) {
  auto it = annotations.find(name);
  return it == annotations.end() ? nullptr : &it->second;
}

std::optional<std::chrono::nanoseconds> ParseSyncPeriod(const std::string& value, std::string* why) {
  auto d = k8s::ParseGoDuration(value);
  if (!d.ok()) {
    *why = d.status().message();
    return std::nullopt;
  }
  if (*d < kMinSyncPeriodAnnotation || *d > kMaxSyncPeriodAnnotation) {
    *why = "must be between 1s and 1h";
    return std::nullopt;
  }
  return *d;
}

}  // namespace

HpadAnnotations ParseHpadAnnotations(const std::map<std::string, std::string>& annotations) {
  HpadAnnotations out;
  if (const std::string* v = Find(annotations, kPausedAnnotation)) {
    if (*v == "true") {
      out.paused = true;
    } else if (*v != "false") {
      out.problems.push_back(Problem(kPausedAnnotation, *v, "must be \"true\" or \"false\"; not paused"));
    }
  }
  if (const std::string* v = Find(annotations, kPausedReplicasAnnotation)) {
    auto n = ParseInt32(*v);
    if (!n.ok() || *n < 0) {
      out.problems.push_back(Problem(kPausedReplicasAnnotation, *v, "must be a non-negative integer; ignored"));
    } else {
      out.paused_replicas = *n;
    }
  }
  if (const std::string* v = Find(annotations, kSyncPeriodAnnotation)) {
    std::string why;
    out.sync_period = ParseSyncPeriod(*v, &why);
    if (!out.sync_period) {
      out.problems.push_back(
          Problem(kSyncPeriodAnnotation, *v, why + "; the controller's sync period applies"));
    }
  }
  return out;
}

std::chrono::nanoseconds SyncPeriodFor(const std::map<std::string, std::string>& annotations,
                                       std::chrono::nanoseconds fallback) {
  const std::string* v = Find(annotations, kSyncPeriodAnnotation);
  if (v == nullptr) return fallback;
  std::string why;
  return ParseSyncPeriod(*v, &why).value_or(fallback);
}

bool HpadAnnotationsChanged(const std::map<std::string, std::string>& before,
                            const std::map<std::string, std::string>& after) {
  const std::string_view prefix = kHpadAnnotationPrefix;
  auto first = [&](const std::map<std::string, std::string>& m) { return m.lower_bound(std::string(prefix)); };
  auto a = first(before);
  auto b = first(after);
  auto in = [&](auto it, const std::map<std::string, std::string>& m) {
    return it != m.end() && std::string_view(it->first).substr(0, prefix.size()) == prefix;
  };
  while (in(a, before) && in(b, after)) {
    if (a->first != b->first || a->second != b->second) return true;
    ++a;
    ++b;
  }
  return in(a, before) != in(b, after);
}

}  // namespace hpad::ctrl
