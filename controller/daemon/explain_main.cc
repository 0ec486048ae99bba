// See explain_main.h.
#include "controller/daemon/explain_main.h"

#include <httplib.h>

#include <iomanip>
#include <sstream>

#include "controller/daemon/config.h"
#include "controller/explain.h"
#include "controller/shadow_compare.h"
#include "k8sclient/api/json_parse.h"
#include "k8sclient/base/klog.h"
#include "k8sclient/base/text.h"
#include "k8sclient/base/version.h"
#include "k8sclient/httplib_transport.h"
#include "k8sclient/rest_api_client.h"

namespace hpad::ctrl {
namespace {

constexpr const char* kUsage =
    "usage: hpad explain [-n NAMESPACE] NAME | -n NAMESPACE --all | -A\n"
    "         [-o text|json|yaml] [--compare] [--from URL]\n"
    "         [--kubeconfig FILE] [--context NAME] [--master URL]\n"
    "         [--horizontal-pod-autoscaler-tolerance=0.1 ...] [--feature-gates=...]\n"
    "Computes the HPA decision now, reading only (never writes), and shows why.\n";

struct ExplainArgs {
  std::string name;
  std::string ns;
  bool ns_given = false;
  bool all = false;
  bool all_namespaces = false;
  std::string output = "text";
  bool compare = false;
  std::string from;
  DaemonOptions daemon;
  std::map<std::string, std::string> controller_flags;
};

void YamlInto(const nlohmann::json& j, int indent, std::ostringstream& o, bool in_list_item) {
  const std::string pad(static_cast<size_t>(indent), ' ');
  if (j.is_object()) {
    if (j.empty()) {
      o << " {}\n";
      return;
    }
    bool first = true;
    if (!in_list_item) o << "\n";
    for (auto it = j.begin(); it != j.end(); ++it) {
      o << (first && in_list_item ? "" : pad) << nlohmann::json(it.key()).dump() << ":";
      first = false;
      const auto& v = it.value();
      if ((v.is_object() && !v.empty()) || (v.is_array() && !v.empty())) {
        YamlInto(v, indent + 2, o, false);
      } else {
        YamlInto(v, indent + 2, o, false);
      }
    }
  } else if (j.is_array()) {
    if (j.empty()) {
      o << " []\n";
      return;
    }
    o << "\n";
    for (const auto& v : j) {
      o << pad << "- ";
      if (v.is_object() && !v.empty()) {
        YamlInto(v, indent + 2, o, true);
      } else if (v.is_array() && !v.empty()) {
        o << "\n";
        YamlInto(v, indent + 2, o, false);
      } else {
        std::string scalar = v.is_object() ? "{}" : v.is_array() ? "[]" : v.dump();
        o << scalar << "\n";
      }
    }
  } else {
    o << " " << j.dump() << "\n";
  }
}

// Takes the value of `--flag VALUE` / `--flag=VALUE` / `-n VALUE`.
bool TakeValue(const std::vector<std::string>& args, size_t& i, const std::string& arg, const std::string& flag,
               std::string* value) {
  if (arg == flag) {
    if (i + 1 >= args.size()) return false;
    *value = args[++i];
    return true;
  }
  if (arg.rfind(flag + "=", 0) == 0) {
    *value = arg.substr(flag.size() + 1);
    return true;
  }
  return false;
}

// "" on success, else the usage error.
std::string ParseArgs(const std::vector<std::string>& args, ExplainArgs* a) {
  for (size_t i = 0; i < args.size(); i++) {
    const std::string& arg = args[i];
    std::string v;
    if (TakeValue(args, i, arg, "-n", &v) || TakeValue(args, i, arg, "--namespace", &v)) {
      a->ns = v;
      a->ns_given = true;
    } else if (TakeValue(args, i, arg, "-o", &v) || TakeValue(args, i, arg, "--output", &v)) {
      if (v != "text" && v != "json" && v != "yaml") return "invalid value \"" + v + "\" for -o: text, json or yaml";
      a->output = v;
    } else if (TakeValue(args, i, arg, "--from", &v)) {
      a->from = v;
    } else if (TakeValue(args, i, arg, "--kubeconfig", &v)) {
      a->daemon.kubeconfig = v;
    } else if (TakeValue(args, i, arg, "--context", &v)) {
      a->daemon.context = v;
    } else if (TakeValue(args, i, arg, "--master", &v) || TakeValue(args, i, arg, "--server", &v) ||
               TakeValue(args, i, arg, "-s", &v)) {
      a->daemon.master = v;
    } else if (TakeValue(args, i, arg, "-v", &v) || TakeValue(args, i, arg, "--v", &v)) {
      try {
        a->daemon.verbosity = std::stoi(v);
      } catch (...) {
        return "invalid value \"" + v + "\" for -v";
      }
    } else if (arg == "--all") {
      a->all = true;
    } else if (arg == "-A" || arg == "--all-namespaces") {
      a->all_namespaces = true;
    } else if (arg == "--compare") {
      a->compare = true;
    } else if (arg.rfind("--horizontal-pod-autoscaler-", 0) == 0 || arg.rfind("--feature-gates", 0) == 0) {
      const std::string body = arg.substr(2);
      auto eq = body.find('=');
      if (eq != std::string::npos) {
        a->controller_flags[body.substr(0, eq)] = body.substr(eq + 1);
      } else {
        if (i + 1 >= args.size()) return "flag --" + body + " needs a value";
        a->controller_flags[body] = args[++i];
      }
    } else if (!arg.empty() && arg[0] == '-') {
      return "unknown flag " + arg;
    } else if (a->name.empty()) {
      a->name = arg;
    } else {
      return "unexpected argument \"" + arg + "\" (one HPA name at most)";
    }
  }
  const int modes = (a->name.empty() ? 0 : 1) + (a->all ? 1 : 0) + (a->all_namespaces ? 1 : 0);
  if (modes != 1) return "give exactly one of NAME, --all or -A";
  return "";
}

std::string Pad(const std::string& s, size_t width) {
  return s.size() >= width ? s + " " : s + std::string(width - s.size(), ' ');
}

// The agreement table (--compare).
void PrintCompareTable(const std::vector<ExplainedHpa>& hpas, std::ostream& out) {
  std::vector<std::vector<std::string>> rows;
  rows.push_back({"NAMESPACE", "NAME", "CURRENT", "IN-CHARGE", "HPAD", "AGREE", "DIFFERENCES"});
  size_t agree = 0, compared = 0;
  for (const auto& h : hpas) {
    const DecisionTrace& t = *h.trace;
    std::vector<std::string> row{t.ns, t.name, std::to_string(t.current_replicas)};
    if (!StatusWasWritten(h.written_status)) {
      row.insert(row.end(), {"-", std::to_string(t.desired_replicas), "n/a", "status never written"});
    } else if (h.written_status.current_replicas != t.current_replicas) {
      row.insert(row.end(), {std::to_string(h.written_status.desired_replicas), std::to_string(t.desired_replicas),
                             "n/a",
                             "decided on " + std::to_string(h.written_status.current_replicas) +
                                 " replicas, now " + std::to_string(t.current_replicas) + ": compare after its next sync"});
    } else {
      compared++;
      auto diffs = CompareWithWritten(t, h.written_status);
      std::string text;
      for (const auto& d : diffs) text += (text.empty() ? "" : "; ") + DescribeDisagreement(d);
      if (diffs.empty()) agree++;
      row.insert(row.end(), {std::to_string(h.written_status.desired_replicas), std::to_string(t.desired_replicas),
                             diffs.empty() ? "yes" : "NO", text});
    }
    rows.push_back(std::move(row));
  }
  std::vector<size_t> widths(rows[0].size(), 0);
  for (const auto& r : rows)
    for (size_t c = 0; c + 1 < r.size(); c++) widths[c] = std::max(widths[c], r[c].size() + 2);
  for (const auto& r : rows) {
    std::string line;
    for (size_t c = 0; c < r.size(); c++) line += c + 1 < r.size() ? Pad(r[c], widths[c]) : r[c];
    while (!line.empty() && line.back() == ' ') line.pop_back();
    out << line << "\n";
  }
  out << agree << "/" << compared << " HPAs agree with the controller in charge";
  if (compared < hpas.size()) out << " (" << hpas.size() - compared << " not comparable yet)";
  out << "\n";
}

int Fail(std::ostream& err, const std::string& msg, int code) {
  err << "error: " << msg << "\n";
  return code;
}

// --from: a running hpad's /debug/hpas.
int ExplainFrom(const ExplainArgs& a, std::ostream& out, std::ostream& err) {
  httplib::Client client(a.from);
  client.set_connection_timeout(5, 0);
  client.set_read_timeout(30, 0);
  // The debug endpoint's reply is foreign input like any other: its size and
  // nesting are bounded (json_parse.h limits) and quoted text is made safe.
  auto get = [&](const std::string& path) -> Result<nlohmann::json> {
    std::string body;
    bool too_big = false;
    auto r = client.Get(path.c_str(), [&](const char* data, size_t length) {
      if (length > k8s::kMaxJsonBytes - body.size()) {
        too_big = true;
        return false;
      }
      body.append(data, length);
      return true;
    });
    if (too_big) {
      return Status(StatusCode::kInvalid, a.from + path + ": reply larger than the limit of " +
                                              std::to_string(k8s::kMaxJsonBytes) + " bytes");
    }
    if (!r) return Status(StatusCode::kUnavailable, "cannot reach " + a.from + path + ": " + httplib::to_string(r.error()));
    if (r->status == 404) return Status(StatusCode::kNotFound, a.from + path + ": " + k8s::SafeText(body, 512));
    if (r->status != 200) {
      return Status(StatusCode::kUnavailable, a.from + path + " answered " + std::to_string(r->status));
    }
    auto j = k8s::ParseForeignJson(body, a.from + path);
    if (!j.ok()) return j.status();
    return std::move(*j);
  };
  std::vector<nlohmann::json> traces;
  if (!a.name.empty()) {
    auto j = get("/debug/hpas/" + a.ns + "/" + a.name);
    if (!j.ok()) return Fail(err, j.status().message(), 1);
    traces.push_back(*j);
  } else {
    auto list = get("/debug/hpas");
    if (!list.ok()) return Fail(err, list.status().message(), 1);
    if (!list->contains("items") || !(*list)["items"].is_array()) return Fail(err, a.from + "/debug/hpas has no items", 1);
    const nlohmann::json& items = (*list)["items"];
    for (size_t i = 0; i < items.size(); i++) {
      const nlohmann::json& item = items[i];
      auto text = [&](const char* key) -> std::string {
        const auto it = item.is_object() ? item.find(key) : item.end();
        return it != item.end() && it->is_string() ? it->get<std::string>() : "";
      };
      const std::string ns = text("namespace"), name = text("name");
      if (name.empty()) return Fail(err, a.from + "/debug/hpas: items[" + std::to_string(i) + "].name missing", 1);
      if (!a.all_namespaces && ns != a.ns) continue;
      auto j = get("/debug/hpas/" + k8s::PercentEncodePathSegment(ns) + "/" + k8s::PercentEncodePathSegment(name));
      if (j.ok()) traces.push_back(*j);
    }
  }
  nlohmann::json data = a.name.empty() ? nlohmann::json{{"items", traces}} : traces[0];
  if (a.output == "json") {
    out << data.dump(2) << "\n";
  } else if (a.output == "yaml") {
    out << JsonToYamlText(data);
  } else {
    // The same sections as a local explain, from the trace parsed back with
    // checked access (the endpoint's answer is foreign input).
    for (size_t i = 0; i < traces.size(); i++) {
      auto trace = TraceFromJson(traces[i]);
      if (!trace.ok()) {
        return Fail(err, "trace from " + a.from + " is malformed: " + trace.status().message(), 1);
      }
      if (i > 0) out << "\n";
      out << RenderTraceText(*trace) << "(live trace from " << k8s::SafeText(a.from, 256) << ")\n";
    }
  }
  return 0;
}

}  // namespace

std::string JsonToYamlText(const nlohmann::json& j) {
  std::ostringstream o;
  if (j.is_object() && !j.empty()) {
    for (auto it = j.begin(); it != j.end(); ++it) {
      o << nlohmann::json(it.key()).dump() << ":";
      YamlInto(it.value(), 2, o, false);
    }
  } else {
    YamlInto(j, 0, o, false);
  }
  return o.str();
}

int RunExplain(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  for (const auto& a : args) {
    if (a == "-h" || a == "--help") {
      out << kUsage;
      return 0;
    }
  }
  ExplainArgs a;
  if (std::string usage = ParseArgs(args, &a); !usage.empty()) {
    err << "error: " << usage << "\n" << kUsage;
    return 2;
  }
  RealClock& clock = RealClock::Instance();
  k8s::SetLogClock(&clock);
  k8s::SetLogVerbosity(a.daemon.verbosity);
  auto controller = ParseControllerOptions(a.controller_flags);
  if (!controller.ok()) return Fail(err, controller.status().message(), 2);

  if (!a.from.empty()) {
    if (a.compare) return Fail(err, "--compare reads the cluster; it cannot be combined with --from", 2);
    if (a.ns.empty() && !a.all_namespaces) a.ns = "default";
    return ExplainFrom(a, out, err);
  }

  auto config = ResolveClientConfig(a.daemon, DaemonEnvironment::FromProcess(), clock);
  if (!config.ok()) return Fail(err, config.status().message(), 1);
  if (!a.ns_given) a.ns = config->ns.empty() ? "default" : config->ns;
  config->transport.user_agent = std::string("hpad-explain/") + Version();
  config->transport.timeout = std::chrono::seconds(15);
  auto transport = k8s::NewHttpTransport(config->transport);
  if (!transport.ok()) return Fail(err, "client configuration from " + config->source + ": " + transport.status().message(), 1);
  // One client for every part (ControllerClients::Single), unlike the
  // daemon's per-part clients (issue 16): explain is a one-shot, read-only
  // pass (dry run: no status, scale or event writes) with nothing to keep
  // apart, and its own limit, not --kube-api-qps.
  k8s::RestApiClientOptions client_opts;
  client_opts.qps = 50;
  client_opts.burst = 100;
  auto client = std::make_shared<k8s::RestApiClient>(std::move(transport).value(), clock, std::move(client_opts));

  ExplainRequest request{.ns = a.ns, .name = a.name, .all_namespaces = a.all_namespaces};
  auto explained = ExplainNow(*controller, client, request, clock);
  if (!explained.ok()) return Fail(err, explained.status().message(), 1);

  if (a.compare) {
    PrintCompareTable(*explained, out);
    return 0;
  }
  if (a.output == "text") {
    bool first = true;
    for (const auto& h : *explained) {
      if (!first) out << "\n---\n\n";
      first = false;
      out << RenderTraceText(*h.trace);
    }
    if (explained->empty()) out << "no HorizontalPodAutoscalers found\n";
    return 0;
  }
  nlohmann::json data;
  if (!a.name.empty()) {
    data = TraceToJson(*(*explained)[0].trace);
  } else {
    data = nlohmann::json{{"items", nlohmann::json::array()}};
    for (const auto& h : *explained) data["items"].push_back(TraceToJson(*h.trace));
  }
  out << (a.output == "json" ? data.dump(2) + "\n" : JsonToYamlText(data));
  return 0;
}

}  // namespace hpad::ctrl
