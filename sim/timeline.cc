// Text and JSON renderings of a scenario run.
#include "sim/timeline.h"

#include <algorithm>
#include <set>
#include <sstream>

namespace hpad::sim {

std::string FormatOffset(std::chrono::nanoseconds d) {
  using namespace std::chrono;
  // Whole seconds as "45s", "5m0s", "1h2m3s" (Go style); sub-second as ms.
  int64_t ms = duration_cast<milliseconds>(d).count();
  if (ms % 1000 != 0) return std::to_string(ms) + "ms";
  int64_t s = ms / 1000;
  std::string out;
  if (s >= 3600) {
    out += std::to_string(s / 3600) + "h";
    s %= 3600;
    out += std::to_string(s / 60) + "m";
    s %= 60;
  } else if (s >= 60) {
    out += std::to_string(s / 60) + "m";
    s %= 60;
  }
  return out + std::to_string(s) + "s";
}

std::string Failure::ToString() const {
  std::string out = "step at=" + FormatOffset(step_at) + " " + where;
  if (!path.empty()) out += " " + path;
  return out + ": wanted " + wanted + ", got " + got;
}

std::string FormatRow(const TimelineRow& row) {
  std::ostringstream o;
  std::string t = "t=" + FormatOffset(row.offset);
  o << t << std::string(t.size() < 9 ? 9 - t.size() : 1, ' ') << row.hpa;
  for (const auto& m : row.metrics) o << "  " << m.name << " " << m.current << "/" << m.target;
  o << "  replicas " << row.current_replicas << " -> " << row.desired_replicas;
  if (!row.reasons.empty()) {
    o << "  [";
    for (size_t i = 0; i < row.reasons.size(); ++i) o << (i ? " " : "") << row.reasons[i];
    o << "]";
  }
  for (const auto& e : row.events) o << "\n" << std::string(11, ' ') << "event " << e;
  return o.str();
}

std::string FormatText(const RunResult& r, bool verbose) {
  std::ostringstream o;
  o << "=== " << r.name << " (" << r.file << ")\n";
  // Notes and rows merged by time; at one instant the notes (step changes)
  // come first, as they happen first.
  size_t n = 0;
  for (const auto& row : r.timeline) {
    while (n < r.notes.size() && r.notes[n].first <= row.offset) {
      o << "t=" << FormatOffset(r.notes[n].first) << "  -- " << r.notes[n].second << "\n";
      ++n;
    }
    o << FormatRow(row) << "\n";
  }
  for (; n < r.notes.size(); ++n) o << "t=" << FormatOffset(r.notes[n].first) << "  -- " << r.notes[n].second << "\n";
  if (!r.error.empty()) o << "ERROR " << r.error << "\n";
  if (r.passed) {
    o << "PASS " << r.name << " (" << r.steps_checked << " steps, " << r.expectations_checked << " expectations";
  } else {
    std::set<std::pair<int64_t, std::string>> failed;  // distinct expectations
    for (const auto& f : r.failures) failed.insert({f.step_at.count(), f.where});
    o << "FAIL " << r.name << " (" << failed.size() << " of " << r.expectations_checked << " expectations failed, "
      << r.failures.size() << " mismatches";
  }
  if (verbose) o << ", " << static_cast<int64_t>(r.wall_seconds * 1000) << " ms";
  o << ")\n";
  for (const auto& f : r.failures) o << "  " << f.ToString() << "\n";
  return o.str();
}

nlohmann::json ToJson(const RunResult& r) {
  using nlohmann::json;
  json rows = json::array();
  for (const auto& row : r.timeline) {
    json metrics = json::array();
    for (const auto& m : row.metrics) {
      json jm = {{"name", m.name}, {"current", m.current}, {"target", m.target}};
      if (m.current_value) jm["currentValue"] = *m.current_value;
      if (m.target_value) jm["targetValue"] = *m.target_value;
      metrics.push_back(jm);
    }
    json jr = {{"t", FormatOffset(row.offset)},
               {"seconds", std::chrono::duration<double>(row.offset).count()},
               {"hpa", row.hpa},
               {"metrics", metrics},
               {"currentReplicas", row.current_replicas},
               {"desiredReplicas", row.desired_replicas},
               {"reasons", row.reasons},
               {"events", row.events}};
    if (row.spec_replicas >= 0) jr["targetReplicas"] = row.spec_replicas;
    rows.push_back(jr);
  }
  json failures = json::array();
  for (const auto& f : r.failures) {
    failures.push_back({{"step", FormatOffset(f.step_at)},
                        {"where", f.where},
                        {"path", f.path},
                        {"wanted", f.wanted},
                        {"got", f.got},
                        {"text", f.ToString()}});
  }
  json notes = json::array();
  for (const auto& [t, text] : r.notes) notes.push_back({{"t", FormatOffset(t)}, {"note", text}});
  json out = {{"name", r.name},
              {"file", r.file},
              {"result", r.passed ? "PASS" : "FAIL"},
              {"passed", r.passed},
              {"steps", r.steps_checked},
              {"expectations", r.expectations_checked},
              {"timeline", rows},
              {"notes", notes},
              {"failures", failures}};
  if (!r.error.empty()) out["error"] = r.error;
  return out;
}

}  // namespace hpad::sim
