// The deploy files: every manifest parses, the Deployment is locked down
// (non-root, read-only root, no privilege escalation, no capabilities,
// seccomp RuntimeDefault, probes, requests/limits), RBAC grants exactly the
// requests the code makes (kClusterApiUses), and the flags they pass are
// flags hpad accepts. The Helm chart cannot be rendered here (no helm binary
// on Debian 12), so its values and Chart.yaml are parsed and its templates are
// checked as text: the same fixed settings, the plain manifests' RBAC rules
// and anti-affinity, the guard against several replicas without leader
// election. The image: the Dockerfile's final stage is `scratch` plus the tree
// scripts/runtime-closure.sh lays out, and that script, run on the local
// build/controller/hpad, yields a complete closure. Field types and required
// fields of every plain manifest are checked by ctest manifests_schema
// (tests/manifests/).
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <tuple>
#include <vector>

#include <sys/wait.h>
#include <unistd.h>

#include "tests/sanitizer_build.h"
#include "controller/daemon/flags.h"
#include "controller/history_store.h"

namespace hpad::ctrl {
namespace {

namespace fs = std::filesystem;

const fs::path kManifests = fs::path(HPAD_SOURCE_DIR) / "manifests";
const fs::path kChart = kManifests / "helm" / "hpad";

std::string ReadFile(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// All non-null documents of every manifests/*.yaml, with their file name.
std::vector<std::pair<std::string, YAML::Node>> LoadManifests() {
  std::vector<std::pair<std::string, YAML::Node>> docs;
  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(kManifests))
    if (e.is_regular_file() && e.path().extension() == ".yaml") files.push_back(e.path());
  std::sort(files.begin(), files.end());
  for (const auto& f : files) {
    for (const auto& doc : YAML::LoadAllFromFile(f.string()))
      if (!doc.IsNull()) docs.emplace_back(f.filename().string(), doc);
  }
  return docs;
}

std::vector<YAML::Node> OfKind(const std::vector<std::pair<std::string, YAML::Node>>& docs, const std::string& kind) {
  std::vector<YAML::Node> out;
  for (const auto& [file, d] : docs)
    if (d["kind"].as<std::string>() == kind) out.push_back(d);
  return out;
}

std::vector<std::string> Strings(const YAML::Node& seq) {
  std::vector<std::string> out;
  if (seq && seq.IsSequence())
    for (const auto& n : seq) out.push_back(n.as<std::string>());
  return out;
}

bool Contains(const std::vector<std::string>& v, const std::string& s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

// Verbs hpad may hold; anything else (delete, deletecollection, escalate,
// bind, impersonate, "*") fails the test.
const std::set<std::string> kAllowedVerbs = {"get", "list", "watch", "create", "update", "patch"};

void CheckLeastPrivilege(const YAML::Node& rules, const std::string& what) {
  REQUIRE(rules.IsSequence());
  for (const auto& rule : rules) {
    auto verbs = Strings(rule["verbs"]);
    auto groups = Strings(rule["apiGroups"]);
    auto resources = Strings(rule["resources"]);
    INFO(what << " rule verbs/resources: " << YAML::Dump(rule));
    CHECK_FALSE(verbs.empty());
    for (const auto& v : verbs) CHECK(kAllowedVerbs.count(v) == 1);
    // Never secrets, never every resource of the core or every group.
    CHECK_FALSE(Contains(resources, "secrets"));
    if (Contains(resources, "*")) {
      CHECK_FALSE(Contains(groups, ""));
      CHECK_FALSE(Contains(groups, "*"));
    }
    // Writes are only to subresources hpad owns the content of, events and leases.
    for (const auto& v : verbs) {
      if (v == "get" || v == "list" || v == "watch") continue;
      for (const auto& r : resources) {
        // Issue 13: the history ConfigMaps, only in the namespaced Role.
        const bool namespaced_role = what.find("ClusterRole") == std::string::npos;
        bool ok = r == "horizontalpodautoscalers/status" || (r.size() > 6 && r.substr(r.size() - 6) == "/scale") ||
                  r == "events" || r == "leases" || (namespaced_role && r == "configmaps");
        INFO("write verb " << v << " on " << r);
        CHECK(ok);
      }
    }
  }
}

// True if some rule grants `verb` on group/resource ("pods", "deployments/scale"),
// with the RBAC authorizer's wildcards: group "*", resource "*" (everything,
// subresources too) and "*/sub" (that subresource of every resource).
bool Grants(const YAML::Node& rules, const std::string& group, const std::string& resource, const std::string& verb) {
  const auto slash = resource.find('/');
  const std::string any_with_sub = slash == std::string::npos ? "" : "*" + resource.substr(slash);
  for (const auto& rule : rules) {
    auto groups = Strings(rule["apiGroups"]);
    auto resources = Strings(rule["resources"]);
    if (!Contains(Strings(rule["verbs"]), verb) && !Contains(Strings(rule["verbs"]), "*")) continue;
    if (!Contains(groups, group) && !Contains(groups, "*")) continue;
    if (Contains(resources, resource) || Contains(resources, "*")) return true;
    if (!any_with_sub.empty() && Contains(resources, any_with_sub)) return true;
  }
  return false;
}

// One request hpad makes, and where in the code: the RBAC rules must grant
// every row and nothing else (manifests/README.md "RBAC" is the same table).
struct ApiUse {
  const char* group = "";
  const char* resource = "";
  std::set<std::string> verbs{};
  const char* code_path = "";
};

const std::vector<ApiUse> kClusterApiUses = {
    {.group = "autoscaling", .resource = "horizontalpodautoscalers", .verbs = {"list", "watch"},
     .code_path = "HPA informer (controller/horizontal_controller.cc)"},
    {.group = "autoscaling", .resource = "horizontalpodautoscalers/status", .verbs = {"update"},
     .code_path = "status PUT (controller/hpa_reconciler.cc)"},
    {.group = "*", .resource = "*/scale", .verbs = {"get", "update"},
     .code_path = "scale GET and PUT (controller/scale_client.cc)"},
    {.group = "apps", .resource = "deployments", .verbs = {"list", "watch"},
     .code_path = "scale cache informers (controller/scale_cache.cc)"},
    {.group = "apps", .resource = "replicasets", .verbs = {"list", "watch"}, .code_path = "scale cache informers"},
    {.group = "apps", .resource = "statefulsets", .verbs = {"list", "watch"}, .code_path = "scale cache informers"},
    {.group = "", .resource = "pods", .verbs = {"list", "watch"},
     .code_path = "pod informer (controller/horizontal_controller.cc)"},
    {.group = "metrics.k8s.io", .resource = "pods", .verbs = {"list"},
     .code_path = "resource metrics collection read (controller/metrics_client.cc)"},
    {.group = "custom.metrics.k8s.io", .resource = "*", .verbs = {"get"},
     .code_path = "custom metrics, paths naming an object (controller/metrics_client.cc)"},
    {.group = "external.metrics.k8s.io", .resource = "*", .verbs = {"list"},
     .code_path = "external metrics, collection paths (controller/metrics_client.cc)"},
    {.group = "", .resource = "events", .verbs = {"create", "patch"},
     .code_path = "event POST and count PATCH (k8sclient/event_recorder.cc)"},
};

// The rules' resource grants as (group, resource, verb) triples, expanded
// from their lists (wildcards stay literal): the exact-set comparison below.
std::set<std::tuple<std::string, std::string, std::string>> Triples(const YAML::Node& rules) {
  std::set<std::tuple<std::string, std::string, std::string>> out;
  for (const auto& rule : rules)
    for (const auto& g : Strings(rule["apiGroups"]))
      for (const auto& r : Strings(rule["resources"]))
        for (const auto& v : Strings(rule["verbs"])) out.emplace(g, r, v);
  return out;
}

void CheckContainerSecurity(const YAML::Node& pod_spec) {
  const auto& psc = pod_spec["securityContext"];
  REQUIRE(psc);
  CHECK(psc["runAsNonRoot"].as<bool>());
  CHECK(psc["runAsUser"].as<int>() > 0);  // numeric: the kubelet can verify non-root
  CHECK(psc["seccompProfile"]["type"].as<std::string>() == "RuntimeDefault");
  REQUIRE(pod_spec["containers"].size() == 1);
  const auto& c = pod_spec["containers"][0];
  const auto& sc = c["securityContext"];
  REQUIRE(sc);
  CHECK(sc["runAsNonRoot"].as<bool>());
  CHECK(sc["runAsUser"].as<int>() > 0);
  CHECK(sc["readOnlyRootFilesystem"].as<bool>());
  CHECK_FALSE(sc["allowPrivilegeEscalation"].as<bool>());
  CHECK_FALSE(sc["privileged"].as<bool>());
  CHECK(Strings(sc["capabilities"]["drop"]) == std::vector<std::string>{"ALL"});
  CHECK_FALSE(sc["capabilities"]["add"]);
  CHECK(sc["seccompProfile"]["type"].as<std::string>() == "RuntimeDefault");
  CHECK(c["livenessProbe"]["httpGet"]["path"].as<std::string>() == "/livez");
  CHECK(c["readinessProbe"]["httpGet"]["path"].as<std::string>() == "/readyz");
  for (const char* kind : {"requests", "limits"}) {
    CHECK(c["resources"][kind]["cpu"]);
    CHECK(c["resources"][kind]["memory"]);
  }
  CHECK_FALSE(pod_spec["hostNetwork"]);
  CHECK_FALSE(pod_spec["hostPID"]);
}

TEST_CASE("manifests: every file parses and every object is named and namespaced right", "[manifests]") {
  auto docs = LoadManifests();
  std::set<std::string> kinds;
  for (const auto& [file, d] : docs) {
    INFO(file);
    REQUIRE(d.IsMap());
    CHECK(d["apiVersion"]);
    CHECK(d["metadata"]["name"]);
    std::string kind = d["kind"].as<std::string>();
    kinds.insert(kind);
    bool cluster_scoped = kind == "Namespace" || kind == "ClusterRole" || kind == "ClusterRoleBinding";
    if (cluster_scoped) {
      CHECK_FALSE(d["metadata"]["namespace"]);
    } else {
      CHECK(d["metadata"]["namespace"].as<std::string>() == "hpad-system");
    }
  }
  CHECK(kinds == std::set<std::string>{"Namespace", "ServiceAccount", "ClusterRole", "ClusterRoleBinding", "Role",
                                       "RoleBinding", "Deployment", "Service", "PodDisruptionBudget"});
}

TEST_CASE("manifests: the Deployment is locked down, probed and runs valid flags", "[manifests]") {
  auto docs = LoadManifests();
  auto deps = OfKind(docs, "Deployment");
  REQUIRE(deps.size() == 1);
  const auto& d = deps[0];
  CHECK(d["spec"]["replicas"].as<int>() == 2);
  const auto& pod = d["spec"]["template"];
  CHECK(pod["spec"]["serviceAccountName"].as<std::string>() == "hpad");
  CheckContainerSecurity(pod["spec"]);

  auto args = Strings(pod["spec"]["containers"][0]["args"]);
  CHECK(Contains(args, "--leader-elect=true"));
  auto flags = ParseDaemonFlags(args);
  INFO(flags.output);
  REQUIRE(flags.action == DaemonFlags::Action::kRun);
  CHECK(flags.options.leader_elect);
  CHECK(flags.options.lease_namespace == "hpad-system");
  int port = flags.options.port;
  CHECK(pod["spec"]["containers"][0]["ports"][0]["containerPort"].as<int>() == port);

  // Service and PDB select the pods; the Service targets the metrics port.
  auto pod_labels = pod["metadata"]["labels"];
  auto selects = [&](const YAML::Node& selector) {
    for (const auto& kv : selector)
      if (!pod_labels[kv.first.as<std::string>()] ||
          pod_labels[kv.first.as<std::string>()].as<std::string>() != kv.second.as<std::string>())
        return false;
    return selector.size() > 0;
  };
  CHECK(selects(d["spec"]["selector"]["matchLabels"]));
  auto svc = OfKind(docs, "Service");
  REQUIRE(svc.size() == 1);
  CHECK(selects(svc[0]["spec"]["selector"]));
  CHECK(svc[0]["spec"]["ports"][0]["port"].as<int>() == port);
  CHECK(svc[0]["spec"]["ports"][0]["targetPort"].as<std::string>() == "http-metrics");
  auto pdb = OfKind(docs, "PodDisruptionBudget");
  REQUIRE(pdb.size() == 1);
  CHECK(selects(pdb[0]["spec"]["selector"]["matchLabels"]));
  CHECK(pdb[0]["spec"]["minAvailable"].as<int>() == 1);
}

TEST_CASE("manifests: RBAC grants what the controller needs and nothing more", "[manifests][rbac]") {
  auto docs = LoadManifests();
  auto cr = OfKind(docs, "ClusterRole");
  REQUIRE(cr.size() == 1);
  const auto& rules = cr[0]["rules"];
  CheckLeastPrivilege(rules, "ClusterRole");
  // Exactly the requests the code makes (kClusterApiUses), nothing more.
  std::set<std::tuple<std::string, std::string, std::string>> wanted;
  for (const auto& use : kClusterApiUses) {
    for (const auto& v : use.verbs) {
      INFO(use.code_path << " needs " << v << " on " << use.group << "/" << use.resource);
      CHECK(Grants(rules, use.group, use.resource, v));
      wanted.emplace(use.group, use.resource, v);
    }
  }
  CHECK(Triples(rules) == wanted);
  // Discovery: the only non-resource rule.
  size_t non_resource_rules = 0;
  for (const auto& rule : rules) {
    if (!rule["nonResourceURLs"]) continue;
    ++non_resource_rules;
    CHECK(Strings(rule["nonResourceURLs"]) == std::vector<std::string>{"/api", "/api/*", "/apis", "/apis/*"});
    CHECK(Strings(rule["verbs"]) == std::vector<std::string>{"get"});
  }
  CHECK(non_resource_rules == 1);

  // The same facts through the authorizer's wildcard matching.
  for (const char* v : {"list", "watch"}) CHECK(Grants(rules, "autoscaling", "horizontalpodautoscalers", v));
  CHECK_FALSE(Grants(rules, "autoscaling", "horizontalpodautoscalers", "get"));  // the informer's cache serves reads
  CHECK(Grants(rules, "autoscaling", "horizontalpodautoscalers/status", "update"));
  CHECK_FALSE(Grants(rules, "autoscaling", "horizontalpodautoscalers/status", "patch"));
  CHECK_FALSE(Grants(rules, "autoscaling", "horizontalpodautoscalers", "update"));  // status only
  for (const char* v : {"get", "update"}) {
    CHECK(Grants(rules, "apps", "deployments/scale", v));
    CHECK(Grants(rules, "", "replicationcontrollers/scale", v));
    CHECK(Grants(rules, "example.com", "widgets/scale", v));  // CRDs with a scale subresource
  }
  CHECK_FALSE(Grants(rules, "apps", "deployments/scale", "patch"));
  CHECK_FALSE(Grants(rules, "events.k8s.io", "events", "create"));  // hpad writes core v1 Events only
  CHECK(Grants(rules, "", "events", "patch"));                     // repeats bump count (client-go's logger)
  CHECK_FALSE(Grants(rules, "", "events", "update"));
  CHECK_FALSE(Grants(rules, "metrics.k8s.io", "pods", "get"));
  // --scale-from-cache: watches on the apps/v1 workloads, read-only.
  for (const char* r : {"deployments", "statefulsets", "replicasets"}) {
    CHECK(Grants(rules, "apps", r, "list"));
    CHECK(Grants(rules, "apps", r, "watch"));
    CHECK_FALSE(Grants(rules, "apps", r, "update"));
  }
  CHECK(Grants(rules, "", "pods", "list"));
  CHECK(Grants(rules, "", "pods", "watch"));
  CHECK(Grants(rules, "metrics.k8s.io", "pods", "list"));
  CHECK(Grants(rules, "custom.metrics.k8s.io", "*", "get"));
  CHECK(Grants(rules, "external.metrics.k8s.io", "*", "list"));
  CHECK(Grants(rules, "", "events", "create"));
  CHECK_FALSE(Grants(rules, "coordination.k8s.io", "leases", "update"));  // only namespaced, below

  auto role = OfKind(docs, "Role");
  REQUIRE(role.size() == 1);
  CheckLeastPrivilege(role[0]["rules"], "Role");
  CHECK(role[0]["metadata"]["namespace"].as<std::string>() == "hpad-system");
  for (const char* v : {"get", "create", "update"}) CHECK(Grants(role[0]["rules"], "coordination.k8s.io", "leases", v));
  // Leader election (k8sclient/leader_elector.cc): GET, POST the first time, PUT.
  CHECK(Triples(role[0]["rules"]) == std::set<std::tuple<std::string, std::string, std::string>>{
                                         {"coordination.k8s.io", "leases", "create"},
                                         {"coordination.k8s.io", "leases", "get"},
                                         {"coordination.k8s.io", "leases", "update"},
                                         // --persist-history (issue 13, controller/history_store.cc)
                                         {"", "configmaps", "create"},
                                         {"", "configmaps", "get"},
                                         {"", "configmaps", "update"}});
  // get/update only on hpad's own Lease and its 64 history shards (create
  // cannot be limited by name).
  std::vector<std::string> shards;
  for (int i = 0; i < 64; i++) shards.push_back(HistoryShardName(i));
  for (const auto& rule : role[0]["rules"]) {
    if (Contains(Strings(rule["verbs"]), "create")) continue;
    if (Contains(Strings(rule["resources"]), "configmaps")) {
      CHECK(Strings(rule["resourceNames"]) == shards);
    } else {
      CHECK(Strings(rule["resourceNames"]) == std::vector<std::string>{"hpad"});
    }
  }
  CHECK_FALSE(Grants(rules, "", "configmaps", "get"));  // never cluster-wide

  // Bindings point at those roles and at hpad's ServiceAccount.
  for (const char* kind : {"ClusterRoleBinding", "RoleBinding"}) {
    auto b = OfKind(docs, kind);
    REQUIRE(b.size() == 1);
    CHECK(b[0]["subjects"][0]["name"].as<std::string>() == "hpad");
    CHECK(b[0]["subjects"][0]["namespace"].as<std::string>() == "hpad-system");
  }
  CHECK(OfKind(docs, "ClusterRoleBinding")[0]["roleRef"]["name"].as<std::string>() ==
        cr[0]["metadata"]["name"].as<std::string>());
  CHECK(OfKind(docs, "RoleBinding")[0]["roleRef"]["name"].as<std::string>() ==
        role[0]["metadata"]["name"].as<std::string>());
}

TEST_CASE("helm chart: Chart.yaml and values.yaml parse and default to the manifests' settings", "[manifests][helm]") {
  auto chart = YAML::LoadFile((kChart / "Chart.yaml").string());
  CHECK(chart["apiVersion"].as<std::string>() == "v2");
  CHECK(chart["name"].as<std::string>() == "hpad");
  CHECK(chart["version"]);
  CHECK(chart["appVersion"]);

  auto values = YAML::LoadFile((kChart / "values.yaml").string());
  CHECK(values["replicaCount"].as<int>() == 2);
  CHECK(values["image"]["repository"]);
  CHECK(values["runAsUser"].as<int>() > 0);
  CHECK(values["leaderElection"]["enabled"].as<bool>());
  CHECK_FALSE(values["serviceMonitor"]["enabled"].as<bool>());
  CHECK(values["extraArgs"].IsSequence());
  // The default affinity is the plain Deployment's pod anti-affinity, term for term.
  {
    auto docs = LoadManifests();
    auto dep = OfKind(docs, "Deployment");
    REQUIRE(dep.size() == 1);
    const auto& plain = dep[0]["spec"]["template"]["spec"]["affinity"];
    REQUIRE(plain["podAntiAffinity"]);
    CHECK(YAML::Dump(values["affinity"]) == YAML::Dump(plain));
  }
  for (const char* kind : {"requests", "limits"}) {
    CHECK(values["resources"][kind]["cpu"]);
    CHECK(values["resources"][kind]["memory"]);
  }
  // The flags the template renders (--name=value, the leader election and
  // port lines, then extraArgs) are all flags hpad accepts.
  std::vector<std::string> args;
  for (const auto& kv : values["flags"])
    args.push_back("--" + kv.first.as<std::string>() + "=" + kv.second.as<std::string>());
  const auto& le = values["leaderElection"];
  args.push_back("--leader-elect=" + le["enabled"].as<std::string>());
  args.push_back("--leader-elect-resource-name=" + le["resourceName"].as<std::string>());
  args.push_back("--leader-elect-lease-duration=" + le["leaseDuration"].as<std::string>());
  args.push_back("--leader-elect-renew-deadline=" + le["renewDeadline"].as<std::string>());
  args.push_back("--leader-elect-retry-period=" + le["retryPeriod"].as<std::string>());
  args.push_back("--port=" + values["port"].as<std::string>());
  for (const auto& a : values["extraArgs"]) args.push_back(a.as<std::string>());
  auto flags = ParseDaemonFlags(args);
  INFO(flags.output);
  CHECK(flags.action == DaemonFlags::Action::kRun);
}

TEST_CASE("helm chart: templates carry the fixed security settings and the manifests' RBAC", "[manifests][helm]") {
  std::map<std::string, std::string> templates;
  for (const auto& e : fs::directory_iterator(kChart / "templates"))
    if (e.path().extension() == ".yaml") templates[e.path().filename().string()] = ReadFile(e.path());
  for (const char* name : {"serviceaccount.yaml", "clusterrole.yaml", "clusterrolebinding.yaml", "role.yaml",
                           "rolebinding.yaml", "deployment.yaml", "service.yaml", "pdb.yaml", "servicemonitor.yaml"}) {
    INFO(name);
    REQUIRE(templates.count(name) == 1);
    CHECK(templates[name].find("kind: ") != std::string::npos);
  }
  const std::string& dep = templates["deployment.yaml"];
  for (const char* line : {"runAsNonRoot: true", "readOnlyRootFilesystem: true", "allowPrivilegeEscalation: false",
                           "privileged: false", "drop: [\"ALL\"]", "type: RuntimeDefault", "path: /livez",
                           "path: /readyz", "--leader-elect={{ .Values.leaderElection.enabled }}",
                           "toYaml .Values.resources", "range .Values.extraArgs", "range $name, $value := .Values.flags"}) {
    INFO(line);
    CHECK(dep.find(line) != std::string::npos);
  }
  // Leader election off with several replicas would run several writers:
  // the template refuses to render it, before any object.
  {
    const std::string guard =
        "{{- if and (not .Values.leaderElection.enabled) (gt (int .Values.replicaCount) 1) }}\n{{- fail \"";
    auto at = dep.find(guard);
    CHECK(at != std::string::npos);
    CHECK(at < dep.find("apiVersion:"));
    CHECK(dep.find("leaderElection.enabled=false needs replicaCount <= 1") != std::string::npos);
  }
  // The pod anti-affinity comes from .Values.affinity (default: the plain manifest's, see below).
  CHECK(dep.find("{{- with .Values.affinity }}\n      affinity:\n        {{- toYaml . | nindent 8 }}") !=
        std::string::npos);
  // Security settings are literal, not values an install could turn off.
  CHECK(dep.find("runAsNonRoot: {{") == std::string::npos);
  CHECK(templates["servicemonitor.yaml"].find("{{- if .Values.serviceMonitor.enabled }}") == 0);

  // The ClusterRole and Role rules contain no template actions: parse them
  // and compare with the plain manifests, so the two cannot drift apart.
  auto rules_of = [](const std::string& text) {
    auto start = text.find("rules:");
    auto end = text.find("{{- end }}", start);
    REQUIRE(start != std::string::npos);
    return YAML::Load(text.substr(start, end - start))["rules"];
  };
  auto docs = LoadManifests();
  auto chart_rules = rules_of(templates["clusterrole.yaml"]);
  CheckLeastPrivilege(chart_rules, "chart ClusterRole");
  CHECK(YAML::Dump(chart_rules) == YAML::Dump(OfKind(docs, "ClusterRole")[0]["rules"]));
  // The chart's rules block is a verbatim copy, comments included (they name
  // the code path of each rule), so a reviewer reads one text in both places.
  {
    const std::string plain = ReadFile(kManifests / "clusterrole.yaml");
    const std::string& chart = templates["clusterrole.yaml"];
    auto plain_start = plain.find("rules:");
    auto chart_start = chart.find("rules:");
    REQUIRE(plain_start != std::string::npos);
    REQUIRE(chart_start != std::string::npos);
    CHECK(chart.substr(chart_start, chart.find("{{- end }}", chart_start) - chart_start) ==
          plain.substr(plain_start, plain.find("---", plain_start) - plain_start));
  }
  // The leader-election Role: the same rules once the lease name is the value's default.
  {
    auto values = YAML::LoadFile((kChart / "values.yaml").string());
    std::string role = templates["role.yaml"];
    const std::string action = "{{ .Values.leaderElection.resourceName | quote }}";
    auto at = role.find(action);
    REQUIRE(at != std::string::npos);
    role.replace(at, action.size(), "\"" + values["leaderElection"]["resourceName"].as<std::string>() + "\"");
    auto chart_role_rules = rules_of(role);
    CheckLeastPrivilege(chart_role_rules, "chart Role");
    CHECK(YAML::Dump(chart_role_rules) == YAML::Dump(OfKind(docs, "Role")[0]["rules"]));
    CHECK(templates["role.yaml"].find("{{- if and .Values.rbac.create .Values.leaderElection.enabled }}") == 0);
  }
  for (const auto& [name, text] : templates) {
    INFO(name);
    CHECK(text.find("secrets") == std::string::npos);
    CHECK(text.find("verbs: [\"*\"]") == std::string::npos);
  }
}

}  // namespace
}  // namespace hpad::ctrl

namespace hpad::ctrl {
namespace {

std::set<std::string> Words(const std::string& text) {
  std::set<std::string> out;
  std::istringstream in(text);
  std::string w;
  while (in >> w) out.insert(w);
  return out;
}

TEST_CASE("One package list: CI, scripts and the Dockerfile install scripts/packages.txt", "[manifests][docker]") {
  const fs::path top(HPAD_SOURCE_DIR);
  const std::string docker = ReadFile(top / "Dockerfile");
  const std::string packages = ReadFile(top / "scripts/packages.txt");
  REQUIRE(!docker.empty());
  REQUIRE(!packages.empty());
  // Nobody keeps a list of their own: every installer goes through the file.
  for (const char* script : {".ci/run", "scripts/test.sh", "scripts/demo.sh"}) {
    const std::string text = ReadFile(top / script);
    INFO(script);
    CHECK(text.find("scripts/install-deps.sh") != std::string::npos);
    CHECK(text.find("apt-get install") == std::string::npos);
  }
  const std::string installer = ReadFile(top / "scripts/install-deps.sh");
  CHECK(installer.find("scripts/packages.txt") != std::string::npos);
  CHECK(docker.find("COPY scripts/packages.txt") != std::string::npos);
  CHECK(docker.find("/tmp/packages.txt)") != std::string::npos);
  // The packages the suite itself needs are on the list.
  std::set<std::string> listed;
  std::istringstream in(packages);
  for (std::string line; std::getline(in, line);) {
    line = line.substr(0, line.find('#'));
    for (const auto& w : Words(line)) listed.insert(w);
  }
  for (const char* needed : {"libcpprest-dev", "catch2", "python3-kubernetes", "clang", "libcpp-httplib-dev"}) {
    INFO(needed);
    CHECK(listed.count(needed) == 1);
  }
}

// The text of one stage: from its FROM line to the next FROM (or the end).
std::string Stage(const std::string& docker, const std::string& from_line) {
  auto begin = docker.find("\n" + from_line);
  if (begin == std::string::npos) return "";
  auto end = docker.find("\nFROM ", begin + 1);
  return docker.substr(begin + 1, end == std::string::npos ? std::string::npos : end - begin - 1);
}

// Shell-quoted for the commands below (single quotes; paths here never hold one).
std::string Quoted(const fs::path& p) { return "'" + p.string() + "'"; }

struct CommandResult {
  int exit_code = -1;
  std::string output{};  // stdout and stderr
};

CommandResult Run(const std::string& command) {
  CommandResult r;
  FILE* pipe = popen((command + " 2>&1").c_str(), "r");
  if (pipe == nullptr) return r;
  char buf[4096];
  size_t n = 0;
  while ((n = fread(buf, 1, sizeof buf, pipe)) > 0) r.output.append(buf, n);
  int status = pclose(pipe);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

TEST_CASE("Dockerfile: a scratch runtime with hpad's ldd closure only, as a numeric non-root user",
          "[manifests][docker]") {
  const std::string docker = ReadFile(fs::path(HPAD_SOURCE_DIR) / "Dockerfile");
  REQUIRE(!docker.empty());
  // The build stage's base: debian:12 by default, pinned by digest with --build-arg.
  CHECK(docker.find("\nARG BUILD_IMAGE=debian:12\n") != std::string::npos);
  CHECK(docker.find("\nFROM ${BUILD_IMAGE} AS build\n") != std::string::npos);
  // The rootfs stage lays out the closure with the script the test below runs.
  const std::string rootfs = Stage(docker, "FROM build AS rootfs");
  REQUIRE(!rootfs.empty());
  CHECK(rootfs.find("RUN scripts/runtime-closure.sh build/controller/hpad /rootfs") != std::string::npos);
  // The final stage: nothing but that tree, which holds the loader (PT_INTERP).
  auto last_from = docker.rfind("\nFROM ");
  REQUIRE(last_from != std::string::npos);
  const std::string runtime = docker.substr(last_from + 1);
  INFO(runtime);
  CHECK(runtime.rfind("FROM scratch\n", 0) == 0);
  CHECK(runtime.find("COPY --from=rootfs /rootfs/ /\n") != std::string::npos);
  // No shell to run anything in, no package manager, no other source of files.
  std::istringstream lines(runtime);
  int copies = 0;
  for (std::string line; std::getline(lines, line);) {
    if (line.empty() || line[0] == '#') continue;
    INFO(line);
    CHECK(line.rfind("RUN ", 0) != 0);
    CHECK(line.rfind("ADD ", 0) != 0);
    CHECK(line.rfind("SHELL ", 0) != 0);
    for (const char* word : {"apt", "dpkg", "/bin/sh", "bash", "busybox"}) CHECK(line.find(word) == std::string::npos);
    if (line.rfind("COPY ", 0) == 0) ++copies;
  }
  CHECK(copies == 1);
  CHECK(runtime.find("ENTRYPOINT [\"/usr/local/bin/hpad\"]") != std::string::npos);  // no PATH lookup
  // The last USER is numeric and not root, and matches the manifests' runAsUser.
  auto user = runtime.rfind("\nUSER ");
  REQUIRE(user != std::string::npos);
  std::string uid = runtime.substr(user + 6, runtime.find_first_of(":\n", user + 6) - user - 6);
  REQUIRE(!uid.empty());
  CHECK(uid.find_first_not_of("0123456789") == std::string::npos);
  CHECK(uid != "0");
  auto dep = OfKind(LoadManifests(), "Deployment");
  REQUIRE(dep.size() == 1);
  CHECK(dep[0]["spec"]["template"]["spec"]["securityContext"]["runAsUser"].as<std::string>() == uid);
  CHECK(dep[0]["spec"]["template"]["spec"]["containers"][0]["securityContext"]["readOnlyRootFilesystem"].as<bool>());
}

TEST_CASE("runtime-closure.sh: the image tree holds every library ldd lists for hpad, and hpad runs from it",
          "[manifests][docker]") {
  const fs::path hpad = fs::path(HPAD_BINARY_DIR) / "controller" / "hpad";
  REQUIRE(fs::exists(hpad));
  const fs::path dest = fs::path(HPAD_BINARY_DIR) / ("runtime-closure-test-" + std::to_string(getpid()));
  fs::remove_all(dest);
  struct Cleanup {
    fs::path dir;
    ~Cleanup() {
      std::error_code ec;
      fs::remove_all(dir, ec);
    }
  } cleanup{dest};

  auto made = Run("bash " + Quoted(fs::path(HPAD_SOURCE_DIR) / "scripts" / "runtime-closure.sh") + " " + Quoted(hpad) +
                  " " + Quoted(dest));
  INFO(made.output);
  REQUIRE(made.exit_code == 0);

  // Every absolute path in `ldd hpad` is in the tree, at the same path.
  auto ldd = Run("ldd " + Quoted(hpad));
  REQUIRE(ldd.exit_code == 0);
  std::istringstream in(ldd.output);
  std::vector<std::string> listed;
  for (std::string line; std::getline(in, line);) {
    std::istringstream words(line);
    std::string first, arrow, target;
    words >> first >> arrow >> target;
    if (arrow == "=>" && !target.empty() && target[0] == '/') {
      listed.push_back(target);
    } else if (!first.empty() && first[0] == '/') {
      listed.push_back(first);
    } else {
      CHECK(first == "linux-vdso.so.1");  // the only entry without a file (the kernel maps it)
    }
  }
  CHECK(listed.size() >= 5);  // libc, libstdc++, libssl, libcpprest, the loader at least
  for (const auto& lib : listed) {
    INFO(lib);
    CHECK(fs::is_regular_file(dest / fs::path(lib).relative_path()));
    CHECK(fs::file_size(dest / fs::path(lib).relative_path()) == fs::file_size(fs::canonical(lib)));
  }
  // The loader the kernel starts (PT_INTERP) is there too.
  auto interp = Run("readelf -l " + Quoted(hpad) + " | sed -n 's/.*interpreter: \\(.*\\)]/\\1/p'");
  REQUIRE(interp.exit_code == 0);
  std::string loader = interp.output.substr(0, interp.output.find('\n'));
  REQUIRE(!loader.empty());
  REQUIRE(loader[0] == '/');
  CHECK(std::find(listed.begin(), listed.end(), loader) != listed.end());
  const fs::path copied_loader = dest / fs::path(loader).relative_path();
  REQUIRE(fs::is_regular_file(copied_loader));
  CHECK(fs::is_regular_file(dest / "usr/local/bin/hpad"));
  CHECK(fs::file_size(dest / "etc/ssl/certs/ca-certificates.crt") > 0);

  // The copied loader, searching the tree's library folders first, resolves
  // every library inside the tree (a missing one would resolve to the host's).
  std::set<std::string> dirs;
  for (const auto& lib : listed) dirs.insert((dest / fs::path(lib).relative_path()).parent_path().string());
  std::string library_path;
  for (const auto& d : dirs) library_path += (library_path.empty() ? "" : ":") + d;
  auto resolved = Run(Quoted(copied_loader) + " --inhibit-cache --library-path '" + library_path + "' --list " +
                      Quoted(dest / "usr/local/bin/hpad"));
  INFO(resolved.output);
  REQUIRE(resolved.exit_code == 0);
  std::istringstream res(resolved.output);
  std::set<std::string> resolved_paths;
  for (std::string line; std::getline(res, line);) {
    auto arrow = line.find("=> ");
    if (arrow == std::string::npos) continue;
    std::string target = line.substr(arrow + 3, line.find(' ', arrow + 3) - arrow - 3);
    INFO(line);
    CHECK(target.rfind(dest.string() + "/", 0) == 0);
    resolved_paths.insert(target);
  }
  for (const auto& lib : listed) {
    if (lib == loader) continue;  // the loader is the program here, not a library it resolves
    INFO(lib);
    CHECK(resolved_paths.count((dest / fs::path(lib).relative_path()).string()) == 1);
  }

  // As root (CI), the real proof: the tree alone runs hpad as the image's numeric user.
  // Not for a sanitizer build (scripts/sanitize.sh): its runtime needs /proc,
  // which the bare tree has not, and no image ever ships one.
  const bool sanitized = hpad::testing::kBuiltWithSanitizer ||
                         std::any_of(listed.begin(), listed.end(), [](const std::string& lib) {
                           const std::string name = fs::path(lib).filename().string();
                           return name.rfind("libasan", 0) == 0 || name.rfind("libtsan", 0) == 0 ||
                                  name.rfind("libubsan", 0) == 0;
                         });
  if (sanitized) {
    WARN("sanitizer build: hpad is not run from the tree (its runtime needs /proc)");
  } else if (geteuid() == 0) {
    auto ran = Run("chroot --userspec=65532:65532 " + Quoted(dest) + " /usr/local/bin/hpad --version");
    INFO(ran.output);
    CHECK(ran.exit_code == 0);
    CHECK(ran.output.rfind("hpad ", 0) == 0);
  } else {
    WARN("not root: the chroot run of the closure is left to CI (root) and the Dockerfile's rootfs stage");
  }
}

}  // namespace
}  // namespace hpad::ctrl
