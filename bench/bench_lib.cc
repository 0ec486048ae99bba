// Shared benchmark code (see bench_lib.h).
#include "bench/bench_lib.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <sstream>

namespace hpad::bench {

namespace fs = std::filesystem;

HpaKind KindOf(int index) {
  switch (index % 10) {
    case 7: return HpaKind::kCpuMemory;
    case 8: return HpaKind::kPodsMetric;
    case 9: return HpaKind::kExternal;
    default: return index % 2 ? HpaKind::kCpuBehavior : HpaKind::kCpu;
  }
}

std::string Pad(int v, int width) {
  std::string s = std::to_string(v);
  return std::string(static_cast<size_t>(std::max(0, width - static_cast<int>(s.size()))), '0') + s;
}

Json HpaJson(const Target& t, int min_replicas, int max_replicas) {
  auto cpu = Json{{"type", "Resource"},
                  {"resource", {{"name", "cpu"}, {"target", {{"type", "Utilization"}, {"averageUtilization", kCpuTargetPercent}}}}}};
  Json metrics = Json::array();
  Json spec = {{"scaleTargetRef", {{"apiVersion", "apps/v1"}, {"kind", "Deployment"}, {"name", t.name}}},
               {"minReplicas", min_replicas},
               {"maxReplicas", max_replicas}};
  switch (t.kind) {
    case HpaKind::kCpu:
      metrics.push_back(cpu);
      break;
    case HpaKind::kCpuBehavior:
      metrics.push_back(cpu);
      spec["behavior"] = {
          {"scaleDown",
           {{"stabilizationWindowSeconds", 120},
            {"policies", Json::array({{{"type", "Percent"}, {"value", 10}, {"periodSeconds", 60}}})}}},
          {"scaleUp",
           {{"policies", Json::array({{{"type", "Pods"}, {"value", 2}, {"periodSeconds", 30}},
                                      {{"type", "Percent"}, {"value", 50}, {"periodSeconds", 30}}})},
            {"selectPolicy", "Max"}}}};
      break;
    case HpaKind::kCpuMemory:
      metrics.push_back(cpu);
      metrics.push_back({{"type", "Resource"},
                         {"resource",
                          {{"name", "memory"},
                           {"target", {{"type", "AverageValue"}, {"averageValue", std::to_string(kMemoryTargetMi) + "Mi"}}}}}});
      break;
    case HpaKind::kPodsMetric:
      metrics.push_back({{"type", "Pods"},
                         {"pods",
                          {{"metric", {{"name", "requests_per_second"}}},
                           {"target", {{"type", "AverageValue"}, {"averageValue", std::to_string(kPodsMetricTarget)}}}}}});
      break;
    case HpaKind::kExternal:
      metrics.push_back(
          {{"type", "External"},
           {"external",
            {{"metric", {{"name", "queue_messages"}, {"selector", {{"matchLabels", {{"queue", t.name}}}}}}},
             {"target", {{"type", "AverageValue"}, {"averageValue", std::to_string(kExternalTargetPerPod)}}}}}});
      break;
  }
  spec["metrics"] = metrics;
  return Json{{"apiVersion", "autoscaling/v2"},
              {"kind", "HorizontalPodAutoscaler"},
              {"metadata", {{"namespace", t.ns}, {"name", t.name}}},
              {"spec", spec}};
}

void AddUpstreamPerPeriod(HpaKind kind, std::map<std::string, int64_t>* per_period) {
  auto& c = *per_period;
  c["get deployments/scale"] += 1;
  switch (kind) {
    case HpaKind::kCpu:
    case HpaKind::kCpuBehavior:
    case HpaKind::kCpuMemory:
      c["list metrics.k8s.io"] += MetricCount(kind);
      break;
    case HpaKind::kPodsMetric:
      c["get custom.metrics.k8s.io"] += 1;
      break;
    case HpaKind::kExternal:
      c["get external.metrics.k8s.io"] += 1;
      break;
  }
  c["update horizontalpodautoscalers/status"] += 1;
}

// ---------------------------------------------------------------------------
// /proc sampling

ProcCpu ReadCpu(pid_t pid) {
  std::ifstream f("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  if (!std::getline(f, line)) return {};
  // The command name (field 2) may contain spaces: fields resume after the last ')'.
  auto close = line.rfind(')');
  if (close == std::string::npos) return {};
  std::istringstream rest(line.substr(close + 2));
  std::string field;
  unsigned long long utime = 0, stime = 0;
  // Fields 3.. : state(3) ppid pgrp session tty_nr tpgid flags minflt cminflt majflt cmajflt utime(14) stime(15)
  for (int i = 3; i <= 15 && rest >> field; i++) {
    if (i == 14) utime = std::strtoull(field.c_str(), nullptr, 10);
    if (i == 15) stime = std::strtoull(field.c_str(), nullptr, 10);
  }
  static const double ticks = static_cast<double>(sysconf(_SC_CLK_TCK));
  return ProcCpu{true, static_cast<double>(utime + stime) / ticks};
}

int64_t ReadStatusKb(pid_t pid, const std::string& name) {
  std::ifstream f("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(f, line)) {
    if (line.compare(0, name.size() + 1, name + ":") == 0) return std::strtoll(line.c_str() + name.size() + 1, nullptr, 10);
  }
  return -1;
}

// ---------------------------------------------------------------------------
// hpad's log

// ---------------------------------------------------------------------------
// hpad process

std::string DefaultHpadPath(const char* argv0) {
  if (const char* dir = std::getenv("HPAD_BINARY_DIR"); dir != nullptr && *dir != '\0') {
    return (fs::path(dir) / "hpad").string();
  }
  std::error_code ec;
  fs::path self = fs::read_symlink("/proc/self/exe", ec);
  if (ec) self = fs::absolute(argv0);
  return (self.parent_path().parent_path() / "controller" / "hpad").string();
}

pid_t StartHpad(const std::string& path, const std::vector<std::string>& args, const std::string& log_path) {
  std::vector<std::string> argv_s{path};
  argv_s.insert(argv_s.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& s : argv_s) argv.push_back(s.data());
  argv.push_back(nullptr);
  // Opened before the child exists: the child below may only make system
  // calls (it shares the benchmark's memory until execv).
  const int log_fd = open(log_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  const int null_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
  const std::string exec_failed = "bench: exec " + path + " failed\n";
  // vfork, not fork: fork marks every page of the benchmark (the in-process
  // simulator holds GiBs at 10,000+ HPAs) copy-on-write, and each of the
  // simulator's next writes to a page then takes a page fault - seconds of
  // the simulator's CPU right while hpad lists its caches, which made the
  // measured start-up of hpad slower than hpad itself (issue 16). The
  // child runs only async-signal-safe calls before execv or _exit.
  pid_t pid = vfork();
  if (pid != 0) {  // parent (or -1)
    if (log_fd >= 0) close(log_fd);
    if (null_fd >= 0) close(null_fd);
    return pid;
  }
  // Child: log to the file, no stdin, own process group (a Ctrl-C on the
  // benchmark reaches hpad through the benchmark, not twice).
  setpgid(0, 0);
  // A benchmark that dies leaves no hpad behind.
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (log_fd >= 0) {
    dup2(log_fd, 1);  // dup2 clears O_CLOEXEC on the copy
    dup2(log_fd, 2);
  }
  if (null_fd >= 0) dup2(null_fd, 0);
  execv(path.c_str(), argv.data());
  ssize_t ignored = write(2, exec_failed.data(), exec_failed.size());
  (void)ignored;
  _exit(127);
}

// Non-blocking: the exit status if the child has exited.
std::optional<int> ExitStatus(pid_t pid) {
  int st = 0;
  pid_t r = waitpid(pid, &st, WNOHANG);
  if (r != pid) return std::nullopt;
  if (WIFEXITED(st)) return WEXITSTATUS(st);
  if (WIFSIGNALED(st)) return 128 + WTERMSIG(st);
  return -1;
}

// ---------------------------------------------------------------------------
// Results

double Percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  // Nearest rank.
  size_t rank = static_cast<size_t>(std::ceil(p / 100.0 * static_cast<double>(v.size())));
  rank = std::clamp<size_t>(rank, 1, v.size());
  return v[rank - 1];
}

std::string Fixed(double v, int digits) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%.*f", digits, v);
  return buf;
}

}  // namespace hpad::bench
