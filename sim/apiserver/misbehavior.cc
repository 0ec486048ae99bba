// The hostile API server's rules and body rewrites (see misbehavior.h).
#include "sim/apiserver/misbehavior.h"

#include <nlohmann/json.hpp>

#include "k8sclient/api/quantity.h"
#include "k8sclient/base/strings.h"

namespace hpad::sim {
namespace {

using Json = nlohmann::json;

struct KindName {
  const char* name;
  MisbehaviorKind kind;
};
constexpr KindName kKinds[] = {
    {"wrongtypes", MisbehaviorKind::kWrongTypes}, {"nulls", MisbehaviorKind::kNulls},
    {"nonutf8", MisbehaviorKind::kNonUtf8},       {"errortext", MisbehaviorKind::kErrorText},
    {"truncated", MisbehaviorKind::kTruncated},   {"cutoff", MisbehaviorKind::kCutoff},
    {"deep", MisbehaviorKind::kDeep},             {"huge", MisbehaviorKind::kHuge},
    {"trickle", MisbehaviorKind::kTrickle},       {"reset", MisbehaviorKind::kReset},
    {"watcherror", MisbehaviorKind::kWatchError}, {"gone", MisbehaviorKind::kGone},
};

// Marks where invalid bytes go in a dumped body (kNonUtf8): the JSON writer
// cannot emit invalid UTF-8 itself, so strings carry this marker and the
// dumped text has it replaced.
constexpr const char* kBadBytesMarker = "@@hpad-sim-nonutf8@@";
// An overlong encoding, a lone continuation byte, 0xff and a cut 3-byte sequence.
constexpr const char kBadBytes[] = "\xc0\xaf\x80\xff\xe2\x82";

void Rewrite(MisbehaviorKind kind, Json& j) {
  if (j.is_object() || j.is_array()) {
    for (auto& child : j) Rewrite(kind, child);
    return;
  }
  if (j.is_null()) return;
  switch (kind) {
    case MisbehaviorKind::kNulls:
      j = nullptr;
      return;
    case MisbehaviorKind::kWrongTypes:
      if (j.is_string()) j = 42;
      else if (j.is_number()) j = "forty-two";
      else if (j.is_boolean()) j = Json::array({"true"});
      return;
    case MisbehaviorKind::kNonUtf8:
      if (j.is_string()) {
        std::string s = j.get<std::string>();
        j = s.substr(0, s.size() / 2) + kBadBytesMarker + s.substr(s.size() / 2);
      }
      return;
    default:
      return;
  }
}

}  // namespace

Result<MisbehaviorRule> MisbehaviorRule::Parse(const std::string& text) {
  auto fail = [&](const std::string& why) {
    return Status(StatusCode::kInvalid, "--misbehave \"" + text + "\": " + why +
                                            " (want '[get|watch ]PATH=KIND[:ARG]', KIND one of " +
                                            MisbehaviorKindsHelp() + ")");
  };
  MisbehaviorRule r;
  r.text = text;
  std::string rest = text;
  for (const char* verb : {"get ", "watch "}) {
    if (rest.rfind(verb, 0) == 0) {
      r.verb = std::string(verb, std::string(verb).size() - 1);
      rest = rest.substr(std::string(verb).size());
    }
  }
  const size_t eq = rest.rfind('=');
  if (eq == std::string::npos) return fail("no '='");
  r.path = rest.substr(0, eq);
  if (r.path.empty() || r.path[0] != '/') return fail("PATH must start with '/'");
  if (r.path.back() == '*') {
    r.prefix = true;
    r.path.pop_back();
  }
  std::string kind = rest.substr(eq + 1);
  std::string arg;
  if (size_t colon = kind.find(':'); colon != std::string::npos) {
    arg = kind.substr(colon + 1);
    kind = kind.substr(0, colon);
  }
  bool found = false;
  for (const auto& k : kKinds) {
    if (kind == k.name) {
      r.kind = k.kind;
      found = true;
    }
  }
  if (!found) return fail("unknown KIND \"" + kind + "\"");
  auto number = [&](int64_t dflt, int64_t lo, int64_t hi) -> Status {
    if (arg.empty()) {
      r.number = dflt;
      return Status::Ok();
    }
    auto n = ParseInt64(arg);
    if (!n.ok() || *n < lo || *n > hi) {
      return fail("ARG \"" + arg + "\" must be an integer in [" + std::to_string(lo) + ", " + std::to_string(hi) + "]");
    }
    r.number = *n;
    return Status::Ok();
  };
  Status s = Status::Ok();
  switch (r.kind) {
    case MisbehaviorKind::kErrorText: s = number(503, 100, 599); break;
    case MisbehaviorKind::kDeep: s = number(300000, 1, 100000000); break;
    case MisbehaviorKind::kHuge: s = number(64, 1, 4096); break;
    case MisbehaviorKind::kWatchError: s = number(999, INT32_MIN, INT32_MAX); break;
    case MisbehaviorKind::kTrickle: {
      r.interval = std::chrono::seconds(1);
      if (!arg.empty()) {
        auto d = k8s::ParseGoDuration(arg);
        if (!d.ok() || d->count() <= 0) return fail("ARG \"" + arg + "\" must be a positive duration such as 500ms");
        r.interval = std::chrono::duration_cast<std::chrono::milliseconds>(*d);
      }
      break;
    }
    default:
      if (!arg.empty()) return fail("KIND \"" + kind + "\" takes no ARG");
  }
  if (!s.ok()) return s;
  return r;
}

bool MisbehaviorRule::Matches(const std::string& method, const std::string& request_path, bool watch) const {
  if (prefix ? request_path.rfind(path, 0) != 0 : request_path != path) return false;
  if (verb == "get" && (method != "GET" || watch)) return false;
  if (verb == "watch" && (method != "GET" || !watch)) return false;
  if (WatchOnly() && !watch) return false;
  return true;
}

bool MisbehaviorRule::RewritesAnswer() const {
  switch (kind) {
    case MisbehaviorKind::kWrongTypes:
    case MisbehaviorKind::kNulls:
    case MisbehaviorKind::kNonUtf8:
    case MisbehaviorKind::kTruncated:
    case MisbehaviorKind::kCutoff:
    case MisbehaviorKind::kTrickle:
      return true;
    default:
      return false;
  }
}

std::string MisbehaviorKindsHelp() {
  std::string out;
  for (const auto& k : kKinds) out += (out.empty() ? "" : ", ") + std::string(k.name);
  return out;
}

std::string RewriteJsonBody(MisbehaviorKind kind, const std::string& body) {
  Json j = Json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return body;
  Rewrite(kind, j);
  std::string out = j.dump();
  if (kind != MisbehaviorKind::kNonUtf8) return out;
  const std::string marker = kBadBytesMarker;
  for (size_t at = out.find(marker); at != std::string::npos; at = out.find(marker, at)) {
    out.replace(at, marker.size(), kBadBytes);
  }
  return out;
}

std::string DeepBody(int64_t levels) {
  std::string out = R"({"kind":"Status","apiVersion":"v1","status":"Failure","code":500,"details":)";
  out.reserve(out.size() + 2 * static_cast<size_t>(levels) + 2);
  out.append(static_cast<size_t>(levels), '[');
  out.append(static_cast<size_t>(levels), ']');
  out += "}";
  return out;
}

std::string ErrorTextBody() {
  std::string out;
  while (out.size() < 300) {
    out += "Dienst überlastet — réessayez plus tard; 服务暂时不可用 \xff\xfe\xc3\x28 \x1b[31m\x07 ";
  }
  return out + "\n";
}

}  // namespace hpad::sim
