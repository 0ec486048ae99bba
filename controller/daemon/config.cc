// Client configuration precedence for the daemon (see daemon_config.h).
#include "controller/daemon/config.h"

#include <cstdlib>
#include <filesystem>

namespace hpad::ctrl {
namespace {

std::string Env(const char* name) {
  const char* v = std::getenv(name);
  return v ? v : "";
}

}  // namespace

DaemonEnvironment DaemonEnvironment::FromProcess() {
  DaemonEnvironment env;
  env.kubeconfig = Env("KUBECONFIG");
  env.home = Env("HOME");
  env.service_host = Env("KUBERNETES_SERVICE_HOST");
  env.service_port = Env("KUBERNETES_SERVICE_PORT");
  return env;
}

Result<k8s::ClientConfig> ResolveClientConfig(const DaemonOptions& options, const DaemonEnvironment& env,
                                              const Clock& clock) {
  auto finish = [&](Result<k8s::ClientConfig> r, const std::string& source) -> Result<k8s::ClientConfig> {
    if (!r.ok()) return r.status().WithContext("loading client configuration from " + source);
    r->source = source;
    if (!options.master.empty()) r->transport.server = options.master;  // --master wins over the file
    return r;
  };

  if (!options.kubeconfig.empty()) {
    k8s::KubeconfigOptions ko;
    ko.paths = {options.kubeconfig};
    ko.missing_files_are_errors = true;
    ko.context = options.context;
    return finish(k8s::LoadKubeconfig(ko, clock), "--kubeconfig " + options.kubeconfig);
  }
  auto env_paths = k8s::SplitKubeconfigPaths(env.kubeconfig);
  if (!env_paths.empty()) {
    k8s::KubeconfigOptions ko;
    ko.paths = env_paths;
    ko.context = options.context;
    return finish(k8s::LoadKubeconfig(ko, clock), "$KUBECONFIG " + env.kubeconfig);
  }
  if (!env.service_host.empty() && !env.service_port.empty()) {
    k8s::InClusterOptions io;
    io.service_host = env.service_host;
    io.service_port = env.service_port;
    io.dir = env.service_account_dir;
    return finish(k8s::LoadInClusterConfig(io, clock), "in-cluster service account");
  }
  if (!env.home.empty()) {
    std::string path = env.home + "/.kube/config";
    std::error_code ec;
    if (std::filesystem::exists(path, ec)) {
      k8s::KubeconfigOptions ko;
      ko.paths = {path};
      ko.missing_files_are_errors = true;
      ko.context = options.context;
      return finish(k8s::LoadKubeconfig(ko, clock), "~/.kube/config " + path);
    }
  }
  if (!options.master.empty()) {
    k8s::ClientConfig c;
    c.transport.server = options.master;
    c.source = "--master only";
    return c;
  }
  return InvalidError(
      "no client configuration: give --kubeconfig or --master, set $KUBECONFIG, run in a pod with a service "
      "account, or create ~/.kube/config");
}

std::string DescribeClientConfig(const k8s::ClientConfig& c) {
  std::string out = "server " + c.transport.server + " (from " + c.source + ")";
  if (!c.context.empty()) out += ", context " + c.context;
  if (!c.cluster.empty()) out += ", cluster " + c.cluster;
  if (!c.user.empty()) out += ", user " + c.user;
  std::vector<std::string> creds;
  if (!c.transport.client_cert_pem.empty()) creds.push_back("client certificate");
  if (c.transport.token_source) creds.push_back("token credentials");
  if (!c.transport.ca_pem.empty()) creds.push_back("custom CA");
  if (c.transport.insecure_skip_tls_verify) creds.push_back("INSECURE: TLS verification disabled");
  if (!creds.empty()) {
    out += ", using";
    for (size_t i = 0; i < creds.size(); ++i) out += (i ? ", " : " ") + creds[i];
  }
  return out;
}

}  // namespace hpad::ctrl
