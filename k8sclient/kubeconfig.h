// Client configuration: kubeconfig files (as kubectl reads them) and the
// in-cluster service account, turned into a TransportConfig.
//
// Kubeconfig: several files (KUBECONFIG=a:b:c) are merged like kubectl -
// clusters/users/contexts by name, the first file defining a name wins;
// current-context comes from the first file that sets it; `--context`
// overrides it. Relative paths (certificate-authority, client-certificate,
// client-key, tokenFile, an exec command containing '/') are resolved
// against the directory of the file that defined them. Supported: server
// (with a path prefix), certificate-authority(-data), client-certificate /
// client-key (file and -data), token, tokenFile (re-read when it changes),
// exec credential plugins (client.authentication.k8s.io/v1 and v1beta1;
// cached until status.expirationTimestamp, re-run after a 401 via
// TokenSource::Invalidate), insecure-skip-tls-verify. Basic auth and
// auth-provider are rejected with a clear error.
//
// In-cluster: https://$KUBERNETES_SERVICE_HOST:$KUBERNETES_SERVICE_PORT with
// the service-account token (re-read when the kubelet rotates it, at least
// every minute), ca.crt and namespace from a directory (injectable for tests).
//
// Every error names the file and the field, e.g.
// `/home/me/.kube/config: users[name=alice].user.client-key: open failed: ...`.
// Environment variables are not read here; the composition root passes
// KUBECONFIG / KUBERNETES_SERVICE_* values in (exec plugins do inherit the
// process environment, as with kubectl).
//
// Thread-safety: the loaders are reentrant; the TokenSources they create are
// thread-safe. The Clock must outlive the returned token sources.
#pragma once

#include <chrono>
#include <cstddef>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "k8sclient/base/clock.h"
#include "k8sclient/http_transport.h"
#include "k8sclient/base/status.h"

namespace hpad::k8s {

struct ClientConfig {
  TransportConfig transport;
  std::string ns = "default";  // the context's namespace (in-cluster: the pod's)
  std::string context;         // names, for logs ("" in-cluster)
  std::string cluster;
  std::string user;
  std::string source;          // "kubeconfig /a:/b" or "in-cluster"
};

struct KubeconfigOptions {
  // Files to merge, in priority order. From --kubeconfig (one file, must
  // exist) or KUBECONFIG (SplitKubeconfigPaths; missing files are skipped
  // like kubectl does).
  std::vector<std::string> paths;
  bool missing_files_are_errors = false;
  std::string context;  // --context; "" = current-context
};

// Splits a KUBECONFIG value on ':' dropping empty entries and duplicates.
std::vector<std::string> SplitKubeconfigPaths(const std::string& value);

Result<ClientConfig> LoadKubeconfig(const KubeconfigOptions& options, const Clock& clock);

struct InClusterOptions {
  std::string service_host;  // $KUBERNETES_SERVICE_HOST
  std::string service_port;  // $KUBERNETES_SERVICE_PORT
  std::string dir = "/var/run/secrets/kubernetes.io/serviceaccount";
};

Result<ClientConfig> LoadInClusterConfig(const InClusterOptions& options, const Clock& clock);

// A bearer token read from a file, trimmed; re-read when the file's mtime or
// size changes, when `max_age` has passed on the clock, or after Invalidate().
// If a re-read fails the last good token is kept (the kubelet replaces the
// file atomically, but be robust).
std::shared_ptr<TokenSource> NewFileTokenSource(std::string path, const Clock& clock,
                                                Duration max_age = std::chrono::minutes(1));

// Exec plugin bounds (issue 10): a run past the deadline, or writing more
// than the output limit, has its process group killed and fails with an
// error naming the command.
inline constexpr std::chrono::seconds kDefaultExecTimeout{30};
inline constexpr size_t kMaxExecOutputBytes = size_t{1} << 20;

// An exec credential plugin (kubeconfig users[].user.exec).
struct ExecConfig {
  std::string api_version;  // client.authentication.k8s.io/v1 or /v1beta1
  std::string command;      // resolved path or a name looked up on PATH
  std::vector<std::string> args;
  std::vector<std::pair<std::string, std::string>> env;  // added to the inherited environment
  std::string origin;       // "<file>: users[name=x].user.exec", for errors
  // provideClusterInfo: the ExecCredential spec.cluster object (JSON text)
  // passed in KUBERNETES_EXEC_INFO; "" when the plugin did not ask for it.
  std::string cluster_info_json;
  std::chrono::milliseconds timeout{kDefaultExecTimeout};  // per run; <= 0 means the default
  size_t max_output_bytes = kMaxExecOutputBytes;          // stdout; 0 means the default
};
// Runs the plugin when no unexpired token is cached; the ExecCredential's
// status.expirationTimestamp bounds the cache (none: cached until Invalidate).
// The plugin's output is foreign: decoded with checked types, bounded in
// size and nesting. Callers with a valid cached token never wait for a run.
std::shared_ptr<TokenSource> NewExecTokenSource(ExecConfig config, const Clock& clock);

}  // namespace hpad::k8s
