// Where hpad finds its API server: --kubeconfig, $KUBECONFIG, in-cluster,
// ~/.kube/config, --master (controller/daemon_config.h); and the startup
// description never carries credentials.
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <unistd.h>

#include "controller/daemon/config.h"
#include "k8sclient/cert_authority.h"
#include "k8sclient/base/klog.h"

namespace hpad::ctrl {
namespace {

namespace fs = std::filesystem;

struct Dirs {
  fs::path root;
  Dirs() {
    root = fs::temp_directory_path() / ("hpad-config-test-" + std::to_string(getpid()));
    fs::remove_all(root);
    fs::create_directories(root / "home/.kube");
    fs::create_directories(root / "sa");
  }
  ~Dirs() { fs::remove_all(root); }
  std::string Kubeconfig(const std::string& name, const std::string& server) {
    auto p = root / name;
    std::ofstream(p) << "apiVersion: v1\nkind: Config\ncurrent-context: c\n"
                     << "clusters:\n- name: k\n  cluster:\n    server: " << server << "\n"
                     << "contexts:\n- name: c\n  context:\n    cluster: k\n    user: u\n"
                     << "- name: other\n  context:\n    cluster: k\n    user: u\n"
                     << "users:\n- name: u\n  user:\n    token: top-secret-token\n";
    return p.string();
  }
};

TEST_CASE("daemon config: precedence --kubeconfig, $KUBECONFIG, in-cluster, ~/.kube/config", "[daemon][config]") {
  SimulatedClock clock(Time{} + std::chrono::hours(24 * 365 * 56));
  Dirs d;
  const std::string flag_file = d.Kubeconfig("flag.yaml", "https://flag:6443");
  const std::string env_file = d.Kubeconfig("env.yaml", "https://env:6443");
  d.Kubeconfig("home/.kube/config", "https://home:6443");
  auto ca = k8s::CertAuthority::Create("test-ca", clock.Now());
  REQUIRE(ca.ok());
  std::ofstream(d.root / "sa/token") << "sa-token\n";
  std::ofstream(d.root / "sa/ca.crt") << ca->cert_pem();
  std::ofstream(d.root / "sa/namespace") << "hpad-system\n";

  DaemonEnvironment env;
  env.kubeconfig = env_file;
  env.home = (d.root / "home").string();
  env.service_host = "10.0.0.1";
  env.service_port = "443";
  env.service_account_dir = (d.root / "sa").string();
  DaemonOptions o;

  o.kubeconfig = flag_file;
  auto r = ResolveClientConfig(o, env, clock);
  REQUIRE(r.ok());
  CHECK(r->transport.server == "https://flag:6443");
  CHECK(r->source == "--kubeconfig " + flag_file);

  o.kubeconfig.clear();
  r = ResolveClientConfig(o, env, clock);
  REQUIRE(r.ok());
  CHECK(r->transport.server == "https://env:6443");
  CHECK(r->source.rfind("$KUBECONFIG", 0) == 0);

  env.kubeconfig.clear();
  r = ResolveClientConfig(o, env, clock);
  REQUIRE(r.ok());
  CHECK(r->transport.server == "https://10.0.0.1:443");
  CHECK(r->source == "in-cluster service account");
  CHECK(r->ns == "hpad-system");

  env.service_host.clear();
  r = ResolveClientConfig(o, env, clock);
  REQUIRE(r.ok());
  CHECK(r->transport.server == "https://home:6443");
  CHECK(r->source.rfind("~/.kube/config", 0) == 0);

  // --master overrides the server of whatever config won; --context picks one.
  o.master = "https://override:8443";
  o.context = "other";
  r = ResolveClientConfig(o, env, clock);
  REQUIRE(r.ok());
  CHECK(r->transport.server == "https://override:8443");
  CHECK(r->context == "other");

  // Nothing found: --master alone, else an error saying what to do.
  env.home = (d.root / "nowhere").string();
  r = ResolveClientConfig(o, env, clock);
  REQUIRE(r.ok());
  CHECK(r->source == "--master only");
  o.master.clear();
  r = ResolveClientConfig(o, env, clock);
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().message().find("--kubeconfig") != std::string::npos);
}

TEST_CASE("daemon config: errors name the source, the description hides credentials", "[daemon][config]") {
  SimulatedClock clock(Time{} + std::chrono::hours(24 * 365 * 56));
  Dirs d;
  DaemonEnvironment env;
  DaemonOptions o;
  o.kubeconfig = (d.root / "missing.yaml").string();
  auto r = ResolveClientConfig(o, env, clock);
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().message().find("missing.yaml") != std::string::npos);

  // In-cluster without a token file names the file.
  env.service_host = "10.0.0.1";
  env.service_port = "443";
  env.service_account_dir = (d.root / "sa").string();
  o.kubeconfig.clear();
  r = ResolveClientConfig(o, env, clock);
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().message().find("in-cluster") != std::string::npos);
  CHECK(r.status().message().find("token") != std::string::npos);

  o.kubeconfig = d.Kubeconfig("ok.yaml", "https://ok:6443");
  r = ResolveClientConfig(o, env, clock);
  REQUIRE(r.ok());
  std::string text = DescribeClientConfig(*r);
  CHECK(text.find("https://ok:6443") != std::string::npos);
  CHECK(text.find("token credentials") != std::string::npos);
  CHECK(text.find("top-secret-token") == std::string::npos);
  CHECK(k8s::RedactSecrets(text) == text);  // nothing in it looks like a secret either
}

}  // namespace
}  // namespace hpad::ctrl
