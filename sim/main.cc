// hpad-sim: the composition root of the simulator.
//
//   hpad-sim run FILE... [--output text|json] [--plot FILE.svg] [-v]
//   hpad-sim validate FILE...
//   hpad-sim serve FILE [--port N] [--kubeconfig-out PATH] [--no-tls]
//
// Exit status: 0 when every scenario passed (run) / is valid (validate) /
// the server stopped cleanly (serve); 1 when an expectation failed or the
// run broke; 2 when a scenario is invalid (nothing runs then); 3 (serve)
// when the server did not stop within 30 s of SIGINT/SIGTERM and the
// process left without waiting (a bug: open client connections are closed
// after a 1 s grace and never hold it).
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <fstream>
#include <future>
#include <iostream>
#include <thread>

#include <CLI/CLI.hpp>

#include "k8sclient/base/version.h"
#include "k8sclient/base/clock.h"
#include "sim/apiserver/api_server.h"
#include "sim/apiserver/cluster_state.h"
#include "sim/plot.h"
#include "sim/runner.h"
#include "sim/scenario.h"
#include "sim/workload.h"
#include "k8sclient/api/json_lenient.h"

namespace {
using hpad::k8s::StringOr;

// serve: the last-resort bound on stopping (see the end of Serve) and the
// exit status that says it was hit.
constexpr std::chrono::seconds kStopTimeout{30};
constexpr int kExitStopTimedOut = 3;

using hpad::sim::LoadedScenario;
using hpad::sim::Scenario;

// Loads and validates every file; prints every problem. Empty on any error.
std::vector<Scenario> LoadAll(const std::vector<std::string>& files) {
  std::vector<Scenario> out;
  bool bad = false;
  for (const auto& f : files) {
    LoadedScenario l = hpad::sim::LoadScenarioFile(f);
    if (l.ok()) {
      for (auto& e : hpad::sim::ValidateControllerFlags(*l.scenario)) l.errors.push_back(e);
    }
    if (!l.errors.empty()) {
      bad = true;
      for (const auto& e : l.errors) std::cerr << "error: " << e.ToString() << "\n";
      continue;
    }
    out.push_back(std::move(*l.scenario));
  }
  if (bad) out.clear();
  return out;
}

int Validate(const std::vector<std::string>& files) {
  auto scenarios = LoadAll(files);
  if (scenarios.empty()) return 2;
  for (const auto& s : scenarios) std::cout << "valid: " << s.file << " (" << s.name << ")\n";
  return 0;
}

int RunScenarios(const std::vector<std::string>& files, const std::string& output, const std::string& plot,
                 bool verbose) {
  auto scenarios = LoadAll(files);
  if (scenarios.empty()) return 2;
  bool all = true;
  nlohmann::json docs = nlohmann::json::array();
  for (size_t i = 0; i < scenarios.size(); ++i) {
    hpad::sim::RunOptions opts;
    opts.verbose = verbose;
    hpad::sim::ScenarioRunner runner(scenarios[i], opts);
    hpad::sim::RunResult r = runner.Run();
    all = all && r.passed;
    if (output == "json") {
      docs.push_back(hpad::sim::ToJson(r));
    } else {
      std::cout << hpad::sim::FormatText(r, verbose) << std::flush;
    }
    if (!plot.empty()) {
      std::string path = plot;
      if (scenarios.size() > 1) {
        // One plot per scenario: FILE.svg -> FILE-<name>.svg
        auto dot = path.rfind(".svg");
        path = (dot == std::string::npos ? path : path.substr(0, dot)) + "-" + r.name + ".svg";
      }
      std::ofstream out(path);
      out << hpad::sim::PlotSvg(r);
      if (!out) std::cerr << "error: cannot write plot " << path << "\n";
    }
  }
  if (output == "json") {
    nlohmann::json doc = {{"passed", all}, {"scenarios", docs}};
    std::cout << doc.dump(2) << "\n";
  } else if (scenarios.size() > 1) {
    std::cout << (all ? "ALL PASSED" : "SOME FAILED") << " (" << scenarios.size() << " scenarios)\n";
  }
  return all ? 0 : 1;
}

// serve: the scenario's cluster in real time until SIGINT/SIGTERM.
int Serve(const std::string& file, int port, const std::string& kubeconfig_out, bool no_tls,
          const std::vector<std::string>& misbehave, const std::string& request_log) {
  auto scenarios = LoadAll({file});
  if (scenarios.empty()) return 2;
  const Scenario& sc = scenarios[0];

  // Block the signals in every thread; one thread waits for them.
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);

  hpad::RealClock& clock = hpad::RealClock::Instance();
  hpad::sim::ClusterState state(clock);
  for (int pass = 0; pass < 2; ++pass) {  // CRDs first
    for (const auto& o : sc.objects) {
      if ((StringOr(o, "kind") == "CustomResourceDefinition") != (pass == 0)) continue;
      auto r = state.Apply(o);
      if (!r.ok()) {
        std::cerr << "error: loading " << StringOr(o, "kind") << ": " << r.status().message() << "\n";
        return 1;
      }
    }
  }
  const hpad::Time start = clock.Now();
  hpad::sim::WorkloadSimulator workloads(state, sc.workloads, start, sc.metric_resolution);
  if (auto s = workloads.Initialize(start); !s.ok() || !(s = workloads.SampleIfDue(start)).ok()) {
    std::cerr << "error: workloads: " << s.message() << "\n";
    return 1;
  }
  hpad::sim::ApiServerOptions so;
  so.port = port;
  so.tls = !no_tls;
  for (const auto& text : misbehave) {
    auto rule = hpad::sim::MisbehaviorRule::Parse(text);
    if (!rule.ok()) {
      std::cerr << "error: " << rule.status().message() << "\n";
      return 2;
    }
    std::cout << "misbehaving (test only): " << rule->text << "\n";
    so.misbehave.push_back(std::move(rule).value());
  }
  hpad::sim::ApiServer server(state, so);
  auto bound = server.Start();
  if (!bound.ok()) {
    std::cerr << "error: starting the API server: " << bound.status().message() << "\n";
    return 1;
  }
  if (!kubeconfig_out.empty()) {
    if (auto s = server.WriteKubeconfig(kubeconfig_out); !s.ok()) {
      std::cerr << "error: " << s.message() << "\n";
      return 1;
    }
  }
  std::cout << "hpad-sim " << hpad::Version() << " serving scenario " << sc.name << " at " << server.url() << "\n";
  if (!kubeconfig_out.empty()) std::cout << "kubeconfig: " << kubeconfig_out << "\n";
  std::cout << "stop with Ctrl-C" << std::endl;

  std::atomic<bool> stop{false};
  std::thread signals([&] {
    int sig = 0;
    sigwait(&set, &sig);
    stop = true;
    clock.Notify();
  });

  // Steps apply their changes and faults at their offsets (expectations are
  // for `run`); workloads follow replica changes made by hpad or kubectl.
  size_t next_step = 0;
  hpad::sim::FaultSet faults;
  hpad::Time last = start;  // workload instants up to here are done
  while (!stop) {
    hpad::Time now = clock.Now();
    while (next_step < sc.steps.size() &&
           start + std::chrono::duration_cast<hpad::Time::duration>(sc.steps[next_step].at) <= now) {
      const auto& step = sc.steps[next_step++];
      for (const auto& o : step.apply) {
        auto r = state.Apply(o);
        if (!r.ok()) std::cerr << "step apply: " << r.status().message() << "\n";
      }
      for (const auto& d : step.del) {
        auto s = state.DeleteObject(d);
        if (!s.ok()) std::cerr << "step delete: " << s.message() << "\n";
      }
      if (!step.faults.Empty()) {
        if (step.faults.resource_metrics) faults.resource_metrics = *step.faults.resource_metrics;
        if (step.faults.custom_metrics) faults.custom_metrics = *step.faults.custom_metrics;
        if (step.faults.external_metrics) faults.external_metrics = *step.faults.external_metrics;
        if (step.faults.apiserver) {
          faults.apiserver = *step.faults.apiserver;
          faults.apiserver_rules = step.faults.apiserver_rules;
        }
        server.faults().Set(faults);
      }
    }
    // Real time never lands exactly on an instant: replay every workload
    // instant (pod transition, metric sample) up to now, in order.
    hpad::Status s;
    while (s.ok()) {
      auto n = workloads.NextEventAfter(last);
      if (!n || *n > now) break;
      s = workloads.ApplyTransitions(*n);
      if (s.ok()) s = workloads.SampleIfDue(*n);
      last = *n;
    }
    if (s.ok()) s = workloads.Reconcile(now);
    if (!s.ok()) std::cerr << "workload: " << s.message() << "\n";
    auto next = workloads.NextEventAfter(now);
    hpad::Time deadline = now + std::chrono::milliseconds(500);
    if (next && *next < deadline) deadline = *next;
    clock.WaitUntil(deadline, [&] { return stop.load(); });
  }
  std::cout << "stopping" << std::endl;
  // Stop() closes client connections after a short grace (api_server.h),
  // so a client holding keep-alive connections open - an hpad still
  // running - does not keep us alive. It runs on its own thread only so a
  // bug there (a worker stuck outside any socket call) cannot wedge the
  // process: past kStopTimeout we leave with kExitStopTimedOut, a status a
  // supervisor or test can tell from a clean stop.
  std::promise<void> stopped;
  auto stopped_future = stopped.get_future();
  std::thread stopper([&] {
    server.Stop();
    stopped.set_value();
  });
  if (stopped_future.wait_for(kStopTimeout) != std::future_status::ready) {
    std::cerr << "error: the API server did not stop within " << kStopTimeout.count()
              << " s; exiting without waiting (status " << kExitStopTimedOut << ")" << std::endl;
    std::_Exit(kExitStopTimedOut);
  }
  stopper.join();
  if (!request_log.empty()) {
    // One line per write request answered: "<verb> <resource>[/<sub>] <code> <User-Agent>"
    // (e.g. to prove `hpad explain` and `hpad --dry-run` never write).
    // Written after Stop(): every request answered is in it.
    std::ofstream out(request_log);
    for (const auto& r : server.requests().Writes()) {
      out << r.verb << " " << r.resource << (r.subresource.empty() ? "" : "/" + r.subresource) << " " << r.code
          << " " << r.user_agent << "\n";
    }
    std::cout << "request log: " << request_log << std::endl;
  }
  std::cout << "stopped" << std::endl;
  signals.join();
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"hpad-sim: a fake Kubernetes cluster driven by scenario files, for hpad"};
  app.set_version_flag("--version", std::string("hpad-sim ") + hpad::Version());
  app.require_subcommand(1);

  std::vector<std::string> run_files;
  std::string output = "text";
  std::string plot;
  bool verbose = false;
  CLI::App* run = app.add_subcommand("run", "run scenarios in virtual time against the real controller");
  run->add_option("files", run_files, "scenario files")->required();
  run->add_option("--output,-o", output, "text or json")->check(CLI::IsMember({"text", "json"}));
  run->add_option("--plot", plot, "write an SVG plot of replicas and the first metric");
  run->add_flag("-v,--verbose", verbose, "more detail");

  std::vector<std::string> validate_files;
  CLI::App* validate = app.add_subcommand("validate", "check scenario files without running them");
  validate->add_option("files", validate_files, "scenario files")->required();

  std::string serve_file;
  int port = 0;
  std::string kubeconfig_out;
  bool no_tls = false;
  std::vector<std::string> misbehave;
  std::string request_log;
  CLI::App* serve = app.add_subcommand("serve", "serve a scenario's cluster in real time until SIGINT/SIGTERM");
  serve->add_option("file", serve_file, "scenario file")->required();
  serve->add_option("--port", port, "port on 127.0.0.1 (0: pick a free one)");
  serve->add_option("--kubeconfig-out", kubeconfig_out, "write a kubeconfig for the server here");
  serve->add_flag("--no-tls", no_tls, "plain HTTP instead of HTTPS");
  serve->add_option("--misbehave", misbehave,
                    "TEST ONLY, repeatable: '[get|watch ]PATH=KIND[:ARG]' makes requests to PATH (exact, or a prefix "
                    "ending in '*') answer badly. KIND: wrongtypes, nulls, nonutf8 (the normal JSON answer with "
                    "every scalar of a wrong type / null / with invalid UTF-8 in every string); errortext[:CODE] "
                    "(plain-text non-ASCII, non-UTF-8 body, default 503); truncated (half the body, complete "
                    "reply); cutoff (connection closed mid-body); deep[:LEVELS] (nesting, default 300000); "
                    "huge[:MIB] (default 64); trickle[:INTERVAL] (16 bytes per interval, default 1s); reset "
                    "(closed after the headers); watcherror[:CODE] (watch: one ERROR event, default 999); gone "
                    "(watch: 410, a 410 storm). See docs/hostile-api-server.md")
      ->allow_extra_args(false);
  serve->add_option("--request-log", request_log, "on exit, write every write request (verb, resource, code, User-Agent) here");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  if (*run) return RunScenarios(run_files, output, plot, verbose);
  if (*validate) return Validate(validate_files);
  if (*serve) return Serve(serve_file, port, kubeconfig_out, no_tls, misbehave, request_log);
  return 2;
}
