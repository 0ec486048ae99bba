// Scenario: a scenario file (../shared/spec/scenario-format.md) loaded,
// validated and typed.
//
// Loading never runs anything: it parses the YAML, checks every key against
// the contract and returns either a Scenario or the full list of problems,
// each naming the file, the path inside it (`steps[2].expect[0].status`) and
// what is wrong, so `hpad-sim validate`/`run` can print them all and exit 2.
// Kubernetes objects stay JSON (unknown fields survive), everything the
// simulator itself interprets (durations, quantities, faults, workloads) is
// parsed into typed fields here, once. Plain values; thread-compatible.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "k8sclient/base/clock.h"
#include "sim/apiserver/cluster_state.h"
#include "sim/apiserver/request_faults.h"

namespace hpad::sim {

using Json = nlohmann::json;

// One problem in a scenario file.
struct ScenarioError {
  std::string file;
  std::string path;  // "steps[2].expect[0].status"; "" for the whole document
  std::string problem;
  int line = 0;      // 1-based source line when known
  // "file:line: path: problem"
  std::string ToString() const;
};

// {kind, namespace, name} (+ apiVersion when given) naming an object.
struct ObjectRef {
  std::string api_version;  // may be empty: derived from kind where unambiguous
  std::string kind;
  std::string ns;
  std::string name;
};

// One load entry: from `at` on, the given keys take these totals. Values in
// milli-units of the quantity (cpu "150m" -> 150, memory "1Mi" ->
// 1048576000, custom "300" -> 300000).
struct LoadEntry {
  std::chrono::nanoseconds at{0};
  std::map<std::string, int64_t> milli;
};

struct WorkloadSpec {
  ObjectRef target;
  // podTemplate: requests as written ("200m"); absent -> target's spec.template.
  bool has_pod_template = false;
  std::optional<std::string> cpu_request;
  std::optional<std::string> memory_request;
  std::chrono::nanoseconds startup_delay{0};
  std::chrono::nanoseconds readiness_delay{0};
  // idle usage per running pod in milli-units ("cpu", "memory").
  std::map<std::string, int64_t> idle_milli;
  std::vector<LoadEntry> load;
};

// A step's `faults:`; only the APIs named change (the others keep their
// setting). Types are the cluster store's (cluster_state.h).
struct StepFaults {
  std::optional<ApiFault> resource_metrics;
  std::optional<ApiFault> custom_metrics;
  std::optional<ApiFault> external_metrics;
  // apiserver: either the scalar form (apiserver, rules empty) or the list
  // form (apiserver kOk, rules).
  std::optional<ApiFault> apiserver;
  std::vector<RequestFaultRule> apiserver_rules;
  bool Empty() const {
    return !resource_metrics && !custom_metrics && !external_metrics && !apiserver;
  }
};

// expectWrites entry: writes by the controller since the previous step.
struct WriteExpectation {
  std::string verb;         // create update patch delete ("" = any write)
  std::string resource;     // "" = any
  std::optional<std::string> subresource;  // nullopt = any
  std::optional<int64_t> min;
  std::optional<int64_t> max;
  std::optional<int64_t> count;  // exact
};

struct Step {
  std::chrono::nanoseconds at{0};
  std::vector<Json> apply;
  // {apiVersion?, kind, namespace, name} or a metric object's identity
  // fields; what ClusterState::DeleteObject takes.
  std::vector<Json> del;
  StepFaults faults;
  bool restart_controller = false;
  std::vector<Json> expect;
  std::vector<Json> expect_absent;
  std::vector<WriteExpectation> expect_writes;
};

struct Scenario {
  std::string file;
  std::string name;
  std::string description;
  Time start{};
  std::chrono::nanoseconds metric_resolution = std::chrono::seconds(15);
  std::map<std::string, std::string> controller_flags;  // values as text
  std::vector<Json> objects;                            // `kind: List` unpacked
  std::vector<WorkloadSpec> workloads;
  std::vector<Step> steps;

  // The controller's sync period from `controller:` (default 15s).
  std::chrono::nanoseconds SyncPeriod() const;
};

struct LoadedScenario {
  std::optional<Scenario> scenario;  // set only when errors is empty
  std::vector<ScenarioError> errors;
  bool ok() const { return errors.empty() && scenario.has_value(); }
};

// Reads and validates a file.
LoadedScenario LoadScenarioFile(const std::string& path);
// Validates YAML text; `file` is used in messages only.
LoadedScenario ParseScenarioYaml(const std::string& file, const std::string& text);
// Validates an already-parsed document.
LoadedScenario ParseScenarioJson(const std::string& file, const Json& doc);

// The default `start` of the contract.
Time DefaultScenarioStart();

// How a scenario entry (object, expectation, delete) names one object of a kind.
enum class KindIdentity {
  kName,             // metadata.name (delete entries: name or metadata.name)
  kDescribedObject,  // MetricValue: describedObject + metric, no metadata.name
  kInvolvedObject,   // Event: expected by involvedObject (or metadata.name)
};

// One supported kind: API group/version and resource plural
// ("Deployment" -> {"apps/v1", "deployments"}), and the per-kind rules the
// validator applies (one table row instead of kind comparisons in each check).
struct KindInfo {
  std::string api_version{};
  std::string kind{};
  std::string resource{};
  bool namespaced = true;
  KindIdentity identity = KindIdentity::kName;
  // May appear in `objects:` / `apply:` (Events and Leases are written by
  // the controller, not by scenarios; they may be expected).
  bool loadable = true;
  // A workload target without a CRD (has a /scale subresource).
  bool scalable = false;
};
// nullopt when unknown.
std::optional<KindInfo> BuiltinKind(const std::string& api_version, const std::string& kind);
// By kind alone (for workload targets and delete entries without apiVersion).
std::optional<KindInfo> BuiltinKindByName(const std::string& kind);

}  // namespace hpad::sim
