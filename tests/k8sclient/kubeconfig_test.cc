// Kubeconfig merging, contexts, credentials (token, tokenFile, exec plugin)
// and in-cluster config, all from files written to a temp dir. Exec plugins
// are small shell scripts; expiry is checked on a SimulatedClock.
#include <sys/stat.h>

#include <fstream>
#include <thread>

#include <catch2/catch.hpp>

#include "k8sclient/base/text.h"
#include "k8sclient/base/strings.h"
#include "k8sclient/kubeconfig.h"
#include "tests/k8sclient/tls_fixture.h"

namespace hpad::k8s {
namespace {

using testing::TempDir;
using testing::TestPki;

const TestPki& Pki() {
  static const TestPki pki = TestPki::Make();
  return pki;
}

std::string B64(const std::string& s) {
  static const char kA[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  size_t i = 0;
  for (; i + 2 < s.size(); i += 3) {
    uint32_t v = (uint8_t(s[i]) << 16) | (uint8_t(s[i + 1]) << 8) | uint8_t(s[i + 2]);
    for (int k = 3; k >= 0; --k) out.push_back(kA[(v >> (6 * k)) & 63]);
  }
  size_t rest = s.size() - i;
  if (rest > 0) {
    uint32_t v = uint8_t(s[i]) << 16;
    if (rest == 2) v |= uint8_t(s[i + 1]) << 8;
    out.push_back(kA[(v >> 18) & 63]);
    out.push_back(kA[(v >> 12) & 63]);
    out += rest == 2 ? std::string(1, kA[(v >> 6) & 63]) + "=" : "==";
  }
  return out;
}

Result<ClientConfig> Load(const std::vector<std::string>& paths, const Clock& clock, const std::string& context = "") {
  KubeconfigOptions o;
  o.paths = paths;
  o.context = context;
  return LoadKubeconfig(o, clock);
}

std::string WriteScript(const TempDir& dir, const std::string& name, const std::string& body) {
  std::string p = dir.Write(name, "#!/bin/sh\n" + body);
  chmod(p.c_str(), 0755);
  return p;
}

}  // namespace

TEST_CASE("Base64Decode", "[kubeconfig]") {
  CHECK(*Base64Decode("aGVsbG8=") == "hello");
  CHECK(*Base64Decode("aGVsbG8") == "hello");  // padding optional
  CHECK(*Base64Decode("aGVs\nbG8h") == "hello!");
  CHECK(*Base64Decode("") == "");
  CHECK_FALSE(Base64Decode("aGVs*G8=").ok());
  CHECK_FALSE(Base64Decode("aGVsbG8=x").ok());
  CHECK(*Base64Decode(B64(Pki().ca.cert_pem())) == Pki().ca.cert_pem());
}

TEST_CASE("SplitKubeconfigPaths drops empties and duplicates", "[kubeconfig]") {
  CHECK(SplitKubeconfigPaths("/a:/b::/a:/c") == std::vector<std::string>{"/a", "/b", "/c"});
  CHECK(SplitKubeconfigPaths("").empty());
}

TEST_CASE("kubeconfig files merge like kubectl: first wins per name, first current-context", "[kubeconfig]") {
  TempDir dir;
  SimulatedClock clock(Time{});
  std::string a = dir.Write("a.yaml", R"(
apiVersion: v1
kind: Config
clusters:
- name: prod
  cluster:
    server: https://prod-from-a.example:6443/k8s/prefix
    insecure-skip-tls-verify: true
contexts:
- name: prod
  context: {cluster: prod, user: alice, namespace: team-a}
users:
- name: alice
  user:
    token: token-from-a
)");
  std::string b = dir.Write("b.yaml", R"(
current-context: dev
clusters:
- name: prod
  cluster: {server: https://prod-from-b.example}
- name: dev
  cluster: {server: "http://127.0.0.1:8080"}
contexts:
- name: dev
  context: {cluster: dev, user: bob}
- name: prod
  context: {cluster: dev, user: bob}
users:
- name: alice
  user: {token: token-from-b}
- name: bob
  user: {token: token-from-b-bob}
)");
  std::string c = dir.Write("c.yaml", "current-context: prod\n");

  SECTION("current-context comes from the first file that sets it (b), entries from the first definer") {
    auto cfg = Load({a, b, c}, clock);
    REQUIRE(cfg.ok());
    CHECK(cfg->context == "dev");
    CHECK(cfg->transport.server == "http://127.0.0.1:8080");
    CHECK(cfg->ns == "default");
    CHECK(*cfg->transport.token_source->Token() == "token-from-b-bob");
  }
  SECTION("--context overrides; cluster prod and user alice come from a (first wins)") {
    auto cfg = Load({a, b, c}, clock, "prod");
    REQUIRE(cfg.ok());
    CHECK(cfg->transport.server == "https://prod-from-a.example:6443/k8s/prefix");
    CHECK(cfg->transport.insecure_skip_tls_verify);
    CHECK(cfg->ns == "team-a");
    CHECK(cfg->user == "alice");
    CHECK(*cfg->transport.token_source->Token() == "token-from-a");
  }
  SECTION("order matters: with c first, its current-context wins") {
    auto cfg = Load({c, b, a}, clock);
    REQUIRE(cfg.ok());
    CHECK(cfg->context == "prod");
    // contexts[prod] is now b's (b comes before a): cluster dev, user bob.
    CHECK(cfg->transport.server == "http://127.0.0.1:8080");
  }
  SECTION("missing KUBECONFIG entries are skipped, unless the file was given explicitly") {
    auto cfg = Load({(dir.path() / "nope.yaml").string(), b}, clock);
    REQUIRE(cfg.ok());
    KubeconfigOptions o;
    o.paths = {(dir.path() / "nope.yaml").string()};
    o.missing_files_are_errors = true;
    auto err = LoadKubeconfig(o, clock);
    REQUIRE_FALSE(err.ok());
    CHECK_THAT(err.status().message(), Catch::Contains("nope.yaml"));
  }
  SECTION("unknown --context names the files") {
    auto cfg = Load({a, b}, clock, "staging");
    REQUIRE_FALSE(cfg.ok());
    CHECK_THAT(cfg.status().message(), Catch::Contains("--context") && Catch::Contains("staging") &&
                                           Catch::Contains("a.yaml"));
  }
}

TEST_CASE("certificates from files (relative to the kubeconfig) and from -data", "[kubeconfig]") {
  TempDir dir;
  SimulatedClock clock(Time{});
  dir.Write("certs/ca.crt", Pki().ca.cert_pem());
  dir.Write("certs/client.crt", Pki().client.cert_pem);
  dir.Write("certs/client.key", Pki().client.key_pem);
  SECTION("relative file paths resolve against the kubeconfig's directory") {
    std::string kc = dir.Write("sub/../config", R"(
current-context: c
clusters: [{name: k, cluster: {server: "https://127.0.0.1:6443", certificate-authority: certs/ca.crt}}]
users: [{name: u, user: {client-certificate: certs/client.crt, client-key: certs/client.key}}]
contexts: [{name: c, context: {cluster: k, user: u}}]
)");
    auto cfg = Load({kc}, clock);
    INFO(cfg.status().ToString());
    REQUIRE(cfg.ok());
    CHECK(cfg->transport.ca_pem == Pki().ca.cert_pem());
    CHECK(cfg->transport.client_cert_pem == Pki().client.cert_pem);
    CHECK(cfg->transport.client_key_pem == Pki().client.key_pem);
    CHECK(cfg->transport.token_source == nullptr);
  }
  SECTION("-data fields are base64") {
    std::string kc = dir.Write("config", "current-context: c\nclusters: [{name: k, cluster: {server: \"https://h\", "
                                         "certificate-authority-data: " +
                                             B64(Pki().ca.cert_pem()) +
                                             "}}]\nusers: [{name: u, user: {client-certificate-data: " +
                                             B64(Pki().client.cert_pem) +
                                             ", client-key-data: " + B64(Pki().client.key_pem) +
                                             "}}]\ncontexts: [{name: c, context: {cluster: k, user: u}}]\n");
    auto cfg = Load({kc}, clock);
    REQUIRE(cfg.ok());
    CHECK(cfg->transport.ca_pem == Pki().ca.cert_pem());
    CHECK(cfg->transport.client_key_pem == Pki().client.key_pem);
  }
}

TEST_CASE("kubeconfig errors name the file and the field", "[kubeconfig][errors]") {
  TempDir dir;
  SimulatedClock clock(Time{});
  struct Case {
    const char* name;
    std::string yaml;
    std::vector<std::string> want;  // substrings of the message
  };
  const std::string ctx = "current-context: c\ncontexts: [{name: c, context: {cluster: k, user: u}}]\n";
  std::vector<Case> cases = {
      {"missing server", ctx + "clusters: [{name: k, cluster: {}}]\nusers: [{name: u, user: {}}]\n",
       {"clusters[name=k].cluster.server", "missing"}},
      {"bad server URL", ctx + "clusters: [{name: k, cluster: {server: \"ftp://x\"}}]\nusers: [{name: u, user: {}}]\n",
       {"clusters[name=k].cluster.server", "ftp://x"}},
      {"bad base64 CA",
       ctx + "clusters: [{name: k, cluster: {server: \"https://h\", certificate-authority-data: \"!!\"}}]\n"
             "users: [{name: u, user: {}}]\n",
       {"clusters[name=k].cluster.certificate-authority-data", "base64"}},
      {"CA data is not PEM",
       ctx + "clusters: [{name: k, cluster: {server: \"https://h\", certificate-authority-data: aGVsbG8=}}]\n"
             "users: [{name: u, user: {}}]\n",
       {"clusters[name=k].cluster.certificate-authority-data", "PEM"}},
      {"missing CA file",
       ctx + "clusters: [{name: k, cluster: {server: \"https://h\", certificate-authority: nope.crt}}]\n"
             "users: [{name: u, user: {}}]\n",
       {"clusters[name=k].cluster.certificate-authority", "nope.crt"}},
      {"CA file and data",
       ctx + "clusters: [{name: k, cluster: {server: \"https://h\", certificate-authority: a, "
             "certificate-authority-data: aGVsbG8=}}]\nusers: [{name: u, user: {}}]\n",
       {"clusters[name=k].cluster", "both specified"}},
      {"cert without key",
       ctx + "clusters: [{name: k, cluster: {server: \"https://h\"}}]\n"
             "users: [{name: u, user: {client-certificate-data: " +
           B64(Pki().client.cert_pem) + "}}]\n",
       {"users[name=u].user.client-key", "together"}},
      {"context names an unknown cluster", ctx + "clusters: []\nusers: [{name: u, user: {}}]\n",
       {"contexts[name=c].context.cluster", "\"k\""}},
      {"context names an unknown user", ctx + "clusters: [{name: k, cluster: {server: \"https://h\"}}]\n",
       {"contexts[name=c].context.user", "\"u\""}},
      {"unknown current-context", "current-context: zz\n", {"current-context", "zz"}},
      {"clusters not a list", "clusters: {a: b}\n", {"clusters", "list"}},
      {"basic auth", ctx + "clusters: [{name: k, cluster: {server: \"https://h\"}}]\n"
                           "users: [{name: u, user: {username: x, password: y}}]\n",
       {"users[name=u].user.username", "not supported"}},
      {"exec without apiVersion", ctx + "clusters: [{name: k, cluster: {server: \"https://h\"}}]\n"
                                        "users: [{name: u, user: {exec: {command: x}}}]\n",
       {"users[name=u].user.exec.apiVersion"}},
      {"exec without command",
       ctx + "clusters: [{name: k, cluster: {server: \"https://h\"}}]\n"
             "users: [{name: u, user: {exec: {apiVersion: client.authentication.k8s.io/v1}}}]\n",
       {"users[name=u].user.exec.command", "missing"}},
      {"missing tokenFile", ctx + "clusters: [{name: k, cluster: {server: \"https://h\"}}]\n"
                                  "users: [{name: u, user: {tokenFile: no-such-token}}]\n",
       {"users[name=u].user.tokenFile", "no-such-token"}},
      {"YAML syntax error", "clusters: [\n", {"bad.yaml"}},
  };
  for (const Case& c : cases) {
    std::string path = dir.Write("bad.yaml", c.yaml);
    auto cfg = Load({path}, clock);
    INFO(c.name << ": " << cfg.status().ToString());
    REQUIRE_FALSE(cfg.ok());
    CHECK(cfg.status().code() == StatusCode::kInvalid);
    CHECK_THAT(cfg.status().message(), Catch::Contains(path) || Catch::Contains("current-context"));
    for (const auto& w : c.want) CHECK_THAT(cfg.status().message(), Catch::Contains(w));
  }
}

TEST_CASE("tokenFile is re-read when it changes and at least every minute", "[kubeconfig][token]") {
  TempDir dir;
  SimulatedClock clock(Time{} + std::chrono::hours(100));
  std::string tok = dir.Write("tok", "first\n");
  std::string kc = dir.Write("config", R"(
current-context: c
clusters: [{name: k, cluster: {server: "https://h"}}]
users: [{name: u, user: {tokenFile: tok}}]
contexts: [{name: c, context: {cluster: k, user: u}}]
)");
  auto cfg = Load({kc}, clock);
  REQUIRE(cfg.ok());
  auto& ts = *cfg->transport.token_source;
  CHECK(*ts.Token() == "first");  // trimmed
  dir.Write("tok", "second-longer");  // size changes: noticed at once
  CHECK(*ts.Token() == "second-longer");

  // A file source with a stat that cannot see the change (same size, same
  // mtime second is possible on coarse filesystems) is still re-read after
  // max_age on the clock.
  auto fts = NewFileTokenSource(tok, clock, std::chrono::minutes(1));
  CHECK(*fts->Token() == "second-longer");
  struct stat before {};
  stat(tok.c_str(), &before);
  dir.Write("tok", "third-xlonger");  // same length as before
  timespec times[2] = {before.st_mtim, before.st_mtim};
  utimensat(AT_FDCWD, tok.c_str(), times, 0);  // and the same mtime
  CHECK(*fts->Token() == "second-longer");    // cached: nothing observable changed
  clock.Advance(std::chrono::seconds(61));
  CHECK(*fts->Token() == "third-xlonger");
  dir.Write("tok", "fourth-xlong!");
  utimensat(AT_FDCWD, tok.c_str(), times, 0);
  fts->Invalidate();  // a 401 forces a re-read too
  CHECK(*fts->Token() == "fourth-xlong!");
  // A vanished file keeps the last good token.
  std::filesystem::remove(tok);
  clock.Advance(std::chrono::minutes(5));
  CHECK(*fts->Token() == "fourth-xlong!");
}

TEST_CASE("exec credential plugin: args, env, cache until expiry, re-run on invalidation", "[kubeconfig][exec]") {
  TempDir dir;
  // 2030-01-01T00:00:00Z
  SimulatedClock clock(std::chrono::system_clock::from_time_t(1893456000));
  // The plugin counts its runs in a file and echoes args/env into the token.
  WriteScript(dir, "bin/plugin.sh", R"(
dir=$(dirname "$0")
n=$(cat "$dir/count" 2>/dev/null || echo 0)
n=$((n+1))
echo $n > "$dir/count"
case "$KUBERNETES_EXEC_INFO" in *'"interactive":false'*) ;; *) echo "bad exec info" >&2; exit 3;; esac
# Run n's credential expires at minute 10*n.
printf '{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{"token":"%s-%s-%s","expirationTimestamp":"2030-01-01T00:%02d:00Z"}}' "$1" "$PLUGIN_GREETING" "$n" $((n*10))
)");
  std::string kc = dir.Write("config", R"(
current-context: c
clusters: [{name: k, cluster: {server: "https://h"}}]
users:
- name: u
  user:
    exec:
      apiVersion: client.authentication.k8s.io/v1
      command: ./bin/plugin.sh
      args: [arg1]
      env: [{name: PLUGIN_GREETING, value: hi}]
      interactiveMode: Never
contexts: [{name: c, context: {cluster: k, user: u}}]
)");
  auto cfg = Load({kc}, clock);
  INFO(cfg.status().ToString());
  REQUIRE(cfg.ok());
  auto& ts = *cfg->transport.token_source;
  auto t1 = ts.Token();
  INFO(t1.status().ToString());
  REQUIRE(t1.ok());
  CHECK(*t1 == "arg1-hi-1");
  clock.Advance(std::chrono::minutes(9));
  CHECK(*ts.Token() == "arg1-hi-1");  // cached until expirationTimestamp
  clock.Advance(std::chrono::minutes(1));
  CHECK(*ts.Token() == "arg1-hi-2");  // expired: re-run (valid until 00:20)
  clock.Advance(std::chrono::minutes(9));
  CHECK(*ts.Token() == "arg1-hi-2");
  ts.Invalidate();  // what the transport does after a 401
  CHECK(*ts.Token() == "arg1-hi-3");
}

TEST_CASE("exec plugin failures name the kubeconfig field and carry stderr", "[kubeconfig][exec]") {
  TempDir dir;
  SimulatedClock clock(Time{});
  struct Case {
    const char* name;
    std::string script;
    std::string want;
  };
  std::vector<Case> cases = {
      {"non-zero exit", "echo 'login required' >&2; exit 2", "exited with code 2: login required"},
      {"not JSON", "echo hello", "not a JSON ExecCredential"},
      {"wrong apiVersion",
       R"(echo '{"apiVersion":"client.authentication.k8s.io/v1beta1","kind":"ExecCredential","status":{"token":"x"}}')",
       "apiVersion"},
      {"no token", R"(echo '{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{}}')",
       "status.token"},
  };
  for (const Case& c : cases) {
    WriteScript(dir, "p.sh", c.script + "\n");
    std::string kc = dir.Write("config", R"(
current-context: c
clusters: [{name: k, cluster: {server: "https://h"}}]
users: [{name: u, user: {exec: {apiVersion: client.authentication.k8s.io/v1, command: ./p.sh}}}]
contexts: [{name: c, context: {cluster: k, user: u}}]
)");
    auto cfg = Load({kc}, clock);
    REQUIRE(cfg.ok());
    auto t = cfg->transport.token_source->Token();
    INFO(c.name << ": " << t.status().ToString());
    REQUIRE_FALSE(t.ok());
    CHECK(t.status().code() == StatusCode::kUnauthorized);
    CHECK_THAT(t.status().message(), Catch::Contains(kc) && Catch::Contains("users[name=u].user.exec") &&
                                         Catch::Contains(c.want));
  }
  // A command that does not exist.
  std::string kc = dir.Write("config2", R"(
current-context: c
clusters: [{name: k, cluster: {server: "https://h"}}]
users: [{name: u, user: {exec: {apiVersion: client.authentication.k8s.io/v1, command: hpad-no-such-plugin-xyz}}}]
contexts: [{name: c, context: {cluster: k, user: u}}]
)");
  auto cfg = Load({kc}, clock);
  REQUIRE(cfg.ok());
  auto t = cfg->transport.token_source->Token();
  REQUIRE_FALSE(t.ok());
  CHECK_THAT(t.status().message(), Catch::Contains("hpad-no-such-plugin-xyz"));
}

TEST_CASE("in-cluster config from an injectable service-account directory", "[kubeconfig][incluster]") {
  TempDir dir;
  SimulatedClock clock(Time{});
  InClusterOptions o;
  o.dir = dir.path().string();
  o.service_host = "10.96.0.1";
  o.service_port = "443";

  SECTION("complete directory") {
    dir.Write("token", "sa-token-1\n");
    dir.Write("ca.crt", Pki().ca.cert_pem());
    dir.Write("namespace", "kube-system");
    auto cfg = LoadInClusterConfig(o, clock);
    REQUIRE(cfg.ok());
    CHECK(cfg->transport.server == "https://10.96.0.1:443");
    CHECK(cfg->transport.ca_pem == Pki().ca.cert_pem());
    CHECK(cfg->ns == "kube-system");
    CHECK(*cfg->transport.token_source->Token() == "sa-token-1");
    // The kubelet rotates the projected token: picked up (here: size change).
    dir.Write("token", "sa-token-22\n");
    CHECK(*cfg->transport.token_source->Token() == "sa-token-22");
  }
  SECTION("IPv6 service host") {
    dir.Write("token", "t");
    dir.Write("ca.crt", Pki().ca.cert_pem());
    o.service_host = "fd00::1";
    auto cfg = LoadInClusterConfig(o, clock);
    REQUIRE(cfg.ok());
    CHECK(cfg->transport.server == "https://[fd00::1]:443");
    CHECK(cfg->ns == "default");  // no namespace file
  }
  SECTION("errors name the file") {
    auto no_env = o;
    no_env.service_host.clear();
    CHECK_THAT(LoadInClusterConfig(no_env, clock).status().message(), Catch::Contains("KUBERNETES_SERVICE_HOST"));
    auto r = LoadInClusterConfig(o, clock);
    REQUIRE_FALSE(r.ok());
    CHECK_THAT(r.status().message(), Catch::Contains((dir.path() / "token").string()));
    dir.Write("token", "t");
    dir.Write("ca.crt", "garbage");
    r = LoadInClusterConfig(o, clock);
    REQUIRE_FALSE(r.ok());
    CHECK_THAT(r.status().message(), Catch::Contains((dir.path() / "ca.crt").string()));
  }
}

}  // namespace hpad::k8s

namespace hpad::k8s {
namespace {

// A kubeconfig whose user runs ./p.sh, with the plugin's bounds set.
std::shared_ptr<TokenSource> ExecSource(const TempDir& dir, const std::string& script, std::chrono::milliseconds timeout,
                                        size_t max_output, const Clock& clock) {
  std::string p = WriteScript(dir, "p.sh", script + "\n");
  ExecConfig c;
  c.api_version = "client.authentication.k8s.io/v1";
  c.command = p;
  c.origin = "test: users[name=u].user.exec";
  c.timeout = timeout;
  c.max_output_bytes = max_output;
  return NewExecTokenSource(std::move(c), clock);
}

}  // namespace

TEST_CASE("exec plugin: a hung plugin is killed with its process group at the deadline", "[kubeconfig][exec][hostile]") {
  TempDir dir;
  SimulatedClock clock(Time{});
  std::string pidfile = (dir.path() / "child.pid").string();
  // The plugin starts a child that would outlive it, then hangs.
  auto src = ExecSource(dir, "sleep 60 & echo $! > " + pidfile + "; sleep 60", std::chrono::milliseconds(300),
                        kMaxExecOutputBytes, clock);
  auto start = std::chrono::steady_clock::now();
  auto t = src->Token();
  auto took = std::chrono::steady_clock::now() - start;
  REQUIRE_FALSE(t.ok());
  CHECK(t.status().code() == StatusCode::kUnauthorized);
  CHECK_THAT(t.status().message(), Catch::Contains("p.sh") && Catch::Contains("timed out after 300ms") &&
                                       Catch::Contains("killed"));
  CHECK(took < std::chrono::seconds(10));
  std::ifstream in(pidfile);
  pid_t child = 0;
  in >> child;
  REQUIRE(child > 0);
  // The grandchild was in the plugin's group: it is gone (or a zombie being
  // reaped by init) shortly after.
  bool gone = false;
  for (int i = 0; i < 200 && !gone; ++i) {
    std::ifstream stat("/proc/" + std::to_string(child) + "/stat");
    std::string pid_s, comm, state;
    gone = !(stat >> pid_s >> comm >> state) || state == "Z";
    if (!gone) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  CHECK(gone);
}

TEST_CASE("exec plugin: output over the limit is an error naming the limit", "[kubeconfig][exec][hostile]") {
  TempDir dir;
  SimulatedClock clock(Time{});
  auto src = ExecSource(dir, "head -c 100000 /dev/zero | tr '\\0' x; sleep 60", std::chrono::seconds(20), 4096, clock);
  auto t = src->Token();
  REQUIRE_FALSE(t.ok());
  CHECK_THAT(t.status().message(), Catch::Contains("output exceeds the limit of 4096 bytes"));
}

TEST_CASE("exec plugin: output with wrong types is a clear error, not an abort", "[kubeconfig][exec][hostile]") {
  TempDir dir;
  SimulatedClock clock(Time{});
  struct Case {
    std::string out;
    std::string want;
  };
  for (const Case& c : std::vector<Case>{
           {R"({"kind": null})", "kind \"\""},
           {R"({"kind": 5})", "kind must be a string, got 5"},
           {R"({"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1","status":{"token":7}})",
            "status.token must be a string, got 7"},
           {R"({"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1","status":[]})",
            "status must be an object"},
           {std::string(1000, '[') + std::string(1000, ']'), "nested deeper than the limit"},
       }) {
    auto src = ExecSource(dir, "cat <<'EOF'\n" + c.out + "\nEOF", std::chrono::seconds(20), kMaxExecOutputBytes, clock);
    auto t = src->Token();
    INFO(c.out);
    REQUIRE_FALSE(t.ok());
    CHECK_THAT(t.status().message(), Catch::Contains(c.want));
  }
}

}  // namespace hpad::k8s

namespace hpad::k8s {

TEST_CASE("kubeconfig errors quoting invalid bytes are valid UTF-8 (kubeconfig_fuzz regression)", "[kubeconfig][hostile]") {
  testing::TempDir dir;
  SimulatedClock clock(Time{});
  std::string kc = dir.Write("config", std::string("apiVersion: v1\nclusters:\n- name: k\n  cluster: \"\\\xE8\xE8\"\n"));
  KubeconfigOptions o;
  o.paths = {kc};
  auto cfg = LoadKubeconfig(o, clock);
  REQUIRE_FALSE(cfg.ok());
  CHECK(IsValidUtf8(cfg.status().message()));
}

}  // namespace hpad::k8s
