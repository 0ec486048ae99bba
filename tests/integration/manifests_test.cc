// The deploy files: every manifest parses, the Deployment is locked down
// (non-root, read-only root, no privilege escalation, no capabilities,
// seccomp RuntimeDefault, probes, requests/limits), RBAC is least privilege,
// and the flags they pass are flags hpad accepts. The Helm chart cannot be
// rendered here (no helm binary on Debian 12), so its values and Chart.yaml
// are parsed and its templates are checked for the same fixed settings.
#include <yaml-cpp/yaml.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "controller/daemon/flags.h"

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
        bool ok = r == "horizontalpodautoscalers/status" || (r.size() > 6 && r.substr(r.size() - 6) == "/scale") ||
                  r == "events" || r == "leases";
        INFO("write verb " << v << " on " << r);
        CHECK(ok);
      }
    }
  }
}

// True if some rule grants `verb` on group/resource.
bool Grants(const YAML::Node& rules, const std::string& group, const std::string& resource, const std::string& verb) {
  for (const auto& rule : rules) {
    auto groups = Strings(rule["apiGroups"]);
    auto resources = Strings(rule["resources"]);
    if (!Contains(Strings(rule["verbs"]), verb)) continue;
    if (!Contains(groups, group) && !Contains(groups, "*")) continue;
    if (Contains(resources, resource)) return true;
  }
  return false;
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
  // What the controller does (architecture.md "One reconcile").
  for (const char* v : {"get", "list", "watch"}) CHECK(Grants(rules, "autoscaling", "horizontalpodautoscalers", v));
  CHECK(Grants(rules, "autoscaling", "horizontalpodautoscalers/status", "update"));
  CHECK_FALSE(Grants(rules, "autoscaling", "horizontalpodautoscalers", "update"));  // status only
  for (const char* v : {"get", "update", "patch"}) {
    CHECK(Grants(rules, "apps", "deployments/scale", v));
    CHECK(Grants(rules, "example.com", "*/scale", v));  // CRDs with a scale subresource
  }
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

TEST_CASE("Dockerfile: builds like CI, runs as a numeric non-root user", "[manifests][docker]") {
  const std::string docker = ReadFile(fs::path(HPAD_SOURCE_DIR) / "Dockerfile");
  REQUIRE(!docker.empty());
  CHECK(docker.find("FROM debian:12 AS build") != std::string::npos);
  CHECK(docker.find("FROM debian:12-slim") != std::string::npos);
  CHECK(docker.find("ENTRYPOINT [\"hpad\"]") != std::string::npos);
  // The last USER is numeric and not root, and matches the manifests' runAsUser.
  auto user = docker.rfind("\nUSER ");
  REQUIRE(user != std::string::npos);
  std::string uid = docker.substr(user + 6, docker.find_first_of(":\n", user + 6) - user - 6);
  REQUIRE(!uid.empty());
  CHECK(uid.find_first_not_of("0123456789") == std::string::npos);
  CHECK(uid != "0");
  auto dep = OfKind(LoadManifests(), "Deployment");
  REQUIRE(dep.size() == 1);
  CHECK(dep[0]["spec"]["template"]["spec"]["securityContext"]["runAsUser"].as<std::string>() == uid);
}

}  // namespace
}  // namespace hpad::ctrl
