// kubectl-hpad: the kubectl plugin (issue 12). kubectl runs
// `kubectl-hpad explain -n shop web` for `kubectl hpad explain -n shop web`;
// it takes kubectl's usual --kubeconfig, --context and -n flags and is the
// same code as `hpad explain`.
#include <signal.h>

#include <iostream>
#include <string>
#include <vector>

#include "controller/daemon/explain_main.h"

int main(int argc, char** argv) {
  signal(SIGPIPE, SIG_IGN);
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty() || args[0] == "-h" || args[0] == "--help" || args[0] == "help") {
    std::cout << "usage: kubectl hpad explain [-n NAMESPACE] NAME | -n NAMESPACE --all | -A [-o json|yaml] [--compare]\n";
    return args.empty() ? 2 : 0;
  }
  if (args[0] != "explain") {
    std::cerr << "error: unknown command \"" << args[0] << "\" (kubectl hpad explain ...)\n";
    return 2;
  }
  args.erase(args.begin());
  return hpad::ctrl::RunExplain(args, std::cout, std::cerr);
}
