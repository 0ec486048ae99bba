// Expectation matcher (see expectation.h).
#include "sim/expectation.h"

#include <algorithm>

#include "k8sclient/api/quantity.h"
#include "k8sclient/api/time_format.h"
#include "k8sclient/api/yaml_json.h"
#include "k8sclient/api/json_lenient.h"

namespace hpad::sim {
using k8s::StringOr;
using k8s::ChildOr;
namespace {

std::optional<k8s::Quantity> AsQuantity(const Json& v) {
  std::string text;
  if (v.is_string()) {
    text = v.get<std::string>();
  } else if (v.is_number_integer()) {
    text = std::to_string(v.get<int64_t>());
  } else if (v.is_number_float()) {
    text = v.dump();
  } else {
    return std::nullopt;
  }
  if (text.empty()) return std::nullopt;
  auto q = k8s::Quantity::Parse(text);
  if (!q.ok()) return std::nullopt;
  return *q;
}

// Kuhn's augmenting paths: tries to give want element i a distinct live element.
bool Augment(size_t i, const std::vector<std::vector<bool>>& ok, std::vector<int>& owner, std::vector<bool>& seen) {
  for (size_t j = 0; j < owner.size(); ++j) {
    if (!ok[i][j] || seen[j]) continue;
    seen[j] = true;
    if (owner[j] < 0 || Augment(static_cast<size_t>(owner[j]), ok, owner, seen)) {
      owner[j] = static_cast<int>(i);
      return true;
    }
  }
  return false;
}

bool MatchList(const Json& want, const Json& got, const std::string& path, std::vector<Mismatch>* out) {
  const size_t n = want.size(), m = got.size();
  std::vector<std::vector<bool>> ok(n, std::vector<bool>(m, false));
  for (size_t i = 0; i < n; ++i)
    for (size_t j = 0; j < m; ++j) ok[i][j] = MatchPartial(want[i], got[j], "", nullptr);
  std::vector<int> owner(m, -1);
  std::vector<bool> matched(n, false);
  for (size_t i = 0; i < n; ++i) {
    std::vector<bool> seen(m, false);
    matched[i] = Augment(i, ok, owner, seen);
  }
  // Kuhn's algorithm may re-route earlier elements; recompute who is matched.
  std::fill(matched.begin(), matched.end(), false);
  for (int o : owner)
    if (o >= 0) matched[static_cast<size_t>(o)] = true;
  bool all = std::all_of(matched.begin(), matched.end(), [](bool b) { return b; });
  if (all || !out) return all;
  for (size_t i = 0; i < n; ++i) {
    if (matched[i]) continue;
    std::string ep = k8s::IndexPath(path, i);
    if (m == 0) {
      out->push_back({ep, RenderValue(want[i]), "<absent> (empty list)"});
      continue;
    }
    // Explain against the closest live element (fewest mismatches; an
    // element left over by the matching first).
    std::vector<Mismatch> best;
    bool have = false;
    bool best_free = false;
    for (size_t j = 0; j < m; ++j) {
      std::vector<Mismatch> mm;
      MatchPartial(want[i], got[j], ep, &mm);
      bool free = owner[j] < 0;
      if (!have || mm.size() < best.size() || (mm.size() == best.size() && free && !best_free)) {
        best = std::move(mm);
        have = true;
        best_free = free;
      }
    }
    if (best.empty()) {
      // Its only matches were taken by other wanted elements.
      out->push_back({ep, RenderValue(want[i]), "no distinct element left in " + RenderValue(got)});
    } else {
      out->insert(out->end(), best.begin(), best.end());
    }
  }
  return false;
}

bool IsZeroValue(const Json& v) {
  if (v.is_null()) return true;
  if (v.is_boolean()) return !v.get<bool>();
  if (v.is_number()) return v.get<double>() == 0;
  if (v.is_string() || v.is_array() || v.is_object()) return v.empty();
  return false;
}

std::string ObjectName(const Json& e) {
  std::string kind = StringOr(e, "kind");
  if (kind == "MetricValue") {
    // Named by what it describes and the metric.
    const Json d = ChildOr(e, "describedObject", Json::object());
    const Json m = ChildOr(e, "metric", Json::object());
    std::string out = "MetricValue " + StringOr(m, "name") + " of " + StringOr(d, "kind") + " " +
                      (StringOr(d, "namespace").empty() ? "" : StringOr(d, "namespace") + "/") + StringOr(d, "name");
    if (m.contains("selector")) out += " selector " + m["selector"].dump();
    return out;
  }
  std::string ns, name;
  if (e.contains("metadata") && e["metadata"].is_object()) {
    ns = StringOr(e["metadata"], "namespace");
    name = StringOr(e["metadata"], "name");
  }
  return kind + " " + (ns.empty() ? "" : ns + "/") + name;
}

std::string DescribeEvent(const Json& ev) {
  std::string out = StringOr(ev, "type") + " " + StringOr(ev, "reason");
  if (ev.contains("message") && ev["message"].is_string()) out += " \"" + ev["message"].get<std::string>() + "\"";
  int64_t count = ev.contains("count") && ev["count"].is_number_integer() ? ev["count"].get<int64_t>() : 1;
  if (count != 1) out += " x" + std::to_string(count);
  return out;
}

std::string DescribeEventExpectation(const Json& e) {
  std::string out;
  if (e.contains("type")) out += RenderValue(e["type"]) + " ";
  if (e.contains("reason")) out += RenderValue(e["reason"]);
  if (e.contains("message")) {
    const Json& m = e["message"];
    if (m.is_string()) out += " \"" + m.get<std::string>() + "\"";
    else if (m.is_object() && m.contains("contains")) out += " containing \"" + RenderValue(m["contains"]) + "\"";
  }
  if (e.contains("involvedObject") && e["involvedObject"].is_object()) {
    const Json& io = e["involvedObject"];
    out += " for " + StringOr(io, "kind") + " " + StringOr(io, "namespace") + "/" + StringOr(io, "name");
  }
  if (e.contains("count")) out += " (count >= " + RenderValue(e["count"]) + ")";
  return out;
}

}  // namespace

std::string RenderValue(const Json& v) {
  if (v.is_string()) return v.get<std::string>();
  return v.dump();
}

bool ScalarsEqual(const Json& want, const Json& got) {
  if (want == got) return true;
  if (want.is_number() && got.is_number()) return want.get<double>() == got.get<double>();
  // Quantities by value: both strings, or a number against a string.
  bool candidates = (want.is_string() && got.is_string()) || (want.is_number() && got.is_string()) ||
                    (want.is_string() && got.is_number());
  if (!candidates) return false;
  auto a = AsQuantity(want), b = AsQuantity(got);
  if (a && b) return *a == *b;
  if (!want.is_string() || !got.is_string()) return false;
  // Two more kinds of Kubernetes strings that print one value in several
  // ways, compared by value for the same reason as quantities: Go durations
  // (a PodMetrics `window` is served as "1m0s", a scenario may say "60s")
  // and RFC 3339 times ("2026-01-01T02:00:00+02:00" is
  // "2026-01-01T00:00:00Z").
  const std::string& ws = want.get_ref<const std::string&>();
  const std::string& gs = got.get_ref<const std::string&>();
  auto has_unit = [](const std::string& s) { return s.find_first_of("hmsuµn") != std::string::npos; };
  if (has_unit(ws) && has_unit(gs)) {
    auto da = k8s::ParseGoDuration(ws), db = k8s::ParseGoDuration(gs);
    if (da.ok() && db.ok()) return *da == *db;
  }
  if (ws.find('T') != std::string::npos && gs.find('T') != std::string::npos) {
    auto ta = k8s::ParseRfc3339(ws), tb = k8s::ParseRfc3339(gs);
    if (ta.ok() && tb.ok()) return *ta == *tb;
  }
  return false;
}

bool MatchPartial(const Json& want, const Json& got, const std::string& path, std::vector<Mismatch>* out) {
  if (want.is_object()) {
    if (!got.is_object()) {
      if (out) out->push_back({path, RenderValue(want), got.is_null() ? "<absent>" : RenderValue(got)});
      return false;
    }
    bool all = true;
    for (auto it = want.begin(); it != want.end(); ++it) {
      std::string kp = k8s::JoinPath(path, it.key());
      auto g = got.find(it.key());
      if (g == got.end()) {
        // Wanted null = absent. A wanted zero value (0, false, "", [] or
        // {}) also matches an absent field: the API omits empty fields
        // (Go `omitempty`, e.g. status.currentReplicas: 0).
        if (IsZeroValue(it.value())) continue;
        all = false;
        if (out) out->push_back({kp, RenderValue(it.value()), "<absent>"});
        else return false;
        continue;
      }
      if (!MatchPartial(it.value(), *g, kp, out)) {
        all = false;
        if (!out) return false;
      }
    }
    return all;
  }
  if (want.is_array()) {
    if (!got.is_array()) {
      if (out) out->push_back({path, RenderValue(want), got.is_null() ? "<absent>" : RenderValue(got)});
      return false;
    }
    return MatchList(want, got, path, out);
  }
  if (ScalarsEqual(want, got)) return true;
  if (out) out->push_back({path, RenderValue(want), got.is_null() ? "<absent>" : RenderValue(got)});
  return false;
}

bool IsEventExpectation(const Json& e) {
  std::string av = StringOr(e, "apiVersion");
  return StringOr(e, "kind") == "Event" && (av == "v1" || av == "events.k8s.io/v1");
}

Json StripIdentity(const Json& e) {
  Json rest = e;
  rest.erase("apiVersion");
  rest.erase("kind");
  if (rest.contains("metadata") && rest["metadata"].is_object()) {
    rest["metadata"].erase("name");
    rest["metadata"].erase("namespace");
    if (rest["metadata"].empty()) rest.erase("metadata");
  }
  if (StringOr(e, "kind") == "MetricValue") {
    rest.erase("describedObject");
    if (rest.contains("metric") && rest["metric"].is_object()) {
      rest["metric"].erase("name");
      rest["metric"].erase("selector");
      if (rest["metric"].empty()) rest.erase("metric");
    }
  }
  return rest;
}

bool EventMatches(const Json& e, const Json& ev) {
  if (e.contains("involvedObject") && !MatchPartial(e["involvedObject"], ChildOr(ev, "involvedObject", Json()), "", nullptr))
    return false;
  for (const char* f : {"type", "reason"}) {
    if (e.contains(f) && !MatchPartial(e[f], ChildOr(ev, f, Json()), "", nullptr)) return false;
  }
  if (e.contains("message")) {
    const Json& m = e["message"];
    std::string got = ev.contains("message") && ev["message"].is_string() ? ev["message"].get<std::string>() : "";
    if (m.is_string()) {
      if (got != m.get<std::string>()) return false;
    } else if (m.is_object() && m.contains("contains") && m["contains"].is_string()) {
      if (got.find(m["contains"].get<std::string>()) == std::string::npos) return false;
    } else {
      return false;
    }
  }
  if (e.contains("metadata") && e["metadata"].is_object()) {
    // metadata.namespace/name pick the event when given (names are rarely known).
    const Json md = ChildOr(ev, "metadata", Json::object());
    for (const char* f : {"namespace", "name"}) {
      if (e["metadata"].contains(f) && !MatchPartial(e["metadata"][f], ChildOr(md, f, Json()), "", nullptr))
        return false;
    }
  }
  return true;
}

int64_t CountMatchingEvents(const Json& e, const std::vector<Json>& events) {
  int64_t total = 0;
  for (const auto& ev : events) {
    if (!EventMatches(e, ev)) continue;
    total += ev.contains("count") && ev["count"].is_number_integer() && ev["count"].get<int64_t>() > 0
                 ? ev["count"].get<int64_t>()
                 : 1;
  }
  return total;
}

std::vector<Mismatch> CheckExpect(const Json& e, const LiveView& live) {
  std::vector<Mismatch> out;
  if (IsEventExpectation(e)) {
    int64_t want = e.contains("count") && e["count"].is_number_integer() ? e["count"].get<int64_t>() : 1;
    int64_t got = CountMatchingEvents(e, live.events);
    if (got >= want) return out;
    // Show the events recorded for the same object, so the difference is visible.
    std::string seen;
    for (const auto& ev : live.events) {
      if (e.contains("involvedObject") &&
          !MatchPartial(e["involvedObject"], ChildOr(ev, "involvedObject", Json()), "", nullptr))
        continue;
      if (!seen.empty()) seen += "; ";
      seen += DescribeEvent(ev);
    }
    std::string got_text = got > 0 ? std::to_string(got) + " matching event(s)" : "no matching event";
    if (!seen.empty()) got_text += " (recorded: " + seen + ")";
    else got_text += " (no events recorded for it)";
    out.push_back({"", "Event " + DescribeEventExpectation(e), got_text});
    return out;
  }
  auto obj = live.get(e);
  if (!obj) {
    out.push_back({"", ObjectName(e), "<absent>"});
    return out;
  }
  MatchPartial(StripIdentity(e), *obj, "", &out);
  return out;
}

std::vector<Mismatch> CheckExpectAbsent(const Json& e, const LiveView& live) {
  std::vector<Mismatch> out;
  if (IsEventExpectation(e)) {
    // The Event expectation "matches" when a matching event was recorded,
    // with `count`: at least that many; absent means it does not match.
    int64_t want = e.contains("count") && e["count"].is_number_integer() ? e["count"].get<int64_t>() : 1;
    int64_t got = CountMatchingEvents(e, live.events);
    if (got < want) return out;
    std::string seen;
    for (const auto& ev : live.events) {
      if (!EventMatches(e, ev)) continue;
      if (!seen.empty()) seen += "; ";
      seen += DescribeEvent(ev);
    }
    out.push_back({"", "no Event " + DescribeEventExpectation(e), std::to_string(got) + " recorded: " + seen});
    return out;
  }
  auto obj = live.get(e);
  if (!obj) return out;
  if (MatchPartial(StripIdentity(e), *obj, "", nullptr)) {
    Json rest = StripIdentity(e);
    out.push_back({"", "no " + ObjectName(e) + (rest.empty() ? "" : " matching " + rest.dump()),
                   "a live object that matches"});
  }
  return out;
}

}  // namespace hpad::sim
