// Where hpad finds its API server, in kube-controller-manager / kubectl order:
//   1. --kubeconfig FILE (must exist)
//   2. $KUBECONFIG (colon-separated, merged like kubectl; missing files skipped)
//   3. the in-cluster service account ($KUBERNETES_SERVICE_HOST/_PORT set)
//   4. ~/.kube/config (if it exists)
// --context picks a kubeconfig context; --master overrides the server URL
// (and alone, with no credentials found, is used as a bare server URL).
// The environment is passed in, not read, so the order is testable.
// Reentrant; no shared state.
#pragma once

#include <string>

#include "controller/daemon/flags.h"
#include "k8sclient/base/clock.h"
#include "k8sclient/kubeconfig.h"
#include "k8sclient/base/status.h"

namespace hpad::ctrl {

struct DaemonEnvironment {
  std::string kubeconfig;            // $KUBECONFIG
  std::string home;                  // $HOME
  std::string service_host;          // $KUBERNETES_SERVICE_HOST
  std::string service_port;          // $KUBERNETES_SERVICE_PORT
  std::string service_account_dir = "/var/run/secrets/kubernetes.io/serviceaccount";

  static DaemonEnvironment FromProcess();  // composition roots only
};

// The resolved configuration; `source` in the result says which rule won
// ("--kubeconfig /x", "$KUBECONFIG /a:/b", "in-cluster service account",
// "~/.kube/config /home/u/.kube/config", "--master only").
Result<k8s::ClientConfig> ResolveClientConfig(const DaemonOptions& options, const DaemonEnvironment& env,
                                              const Clock& clock);

// One log-safe line describing `config` (server, context, cluster, user,
// which credentials are used; never the credentials themselves).
std::string DescribeClientConfig(const k8s::ClientConfig& config);

}  // namespace hpad::ctrl
