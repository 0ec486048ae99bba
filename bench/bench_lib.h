// bench_lib: what the benchmarks that run the real `hpad` share
// (bench/scale_bench.cc, bench/chaos_soak.cc): the generated HPAs' metric
// mix and manifests, starting and watching hpad processes, reading their
// klog output and /proc numbers, and the small statistics both print.
//
// Ownership and threads: plain functions and values; a LogReader belongs
// to one thread. Benchmarks are composition roots: this code reads the
// wall clock, files and /proc freely.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <iterator>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <nlohmann/json.hpp>

#include "k8sclient/base/clock.h"

namespace hpad::bench {

using Json = nlohmann::json;

// ---------------------------------------------------------------------------
// The generated HPAs

enum class HpaKind { kCpu, kCpuBehavior, kCpuMemory, kPodsMetric, kExternal };

// The metric mix by HPA index modulo 10: 0-6 cpu Utilization 60% (odd
// indexes with a behavior, even ones on the legacy path), 7 cpu + memory
// AverageValue, 8 a Pods custom metric, 9 an External metric.
HpaKind KindOf(int index);

// Number of metrics (and so upstream metrics calls) per kind.
inline int MetricCount(HpaKind k) { return k == HpaKind::kCpuMemory ? 2 : 1; }

constexpr int64_t kCpuRequestMilli = 100;      // 100m
constexpr int kCpuTargetPercent = 60;          // usage 60m is on target
constexpr int64_t kMemoryRequestMi = 512;
constexpr int64_t kMemoryTargetMi = 256;       // AverageValue
constexpr int64_t kPodsMetricTarget = 10;      // requests_per_second per pod
constexpr int64_t kExternalTargetPerPod = 30;  // queue_messages / replicas

struct Target {
  std::string ns;
  std::string name;
  HpaKind kind;
};


// Zero-padded decimal.
std::string Pad(int v, int width);
// The HPA for a target: its kind's metrics (and, for kCpuBehavior, the
// behavior: scaleUp max(2 pods, 50%) per 30 s, scaleDown 10% per 60 s with
// a 120 s window), scaling the Deployment of the same name.
Json HpaJson(const Target& t, int min_replicas, int max_replicas);
// Adds what an upstream-shaped controller sends for one HPA of this kind per
// sync period (keys as RequestLog::Counts names them): one scale GET, one
// metrics call per metric, one status PUT.
void AddUpstreamPerPeriod(HpaKind kind, std::map<std::string, int64_t>* per_period);

// ---------------------------------------------------------------------------
// /proc sampling

struct ProcCpu {
  bool ok = false;
  double seconds = 0;  // utime + stime
};
ProcCpu ReadCpu(pid_t pid);
// A "Name:  1234 kB" line of /proc/<pid>/status, in KiB (-1 if absent).
int64_t ReadStatusKb(pid_t pid, const std::string& name);

// ---------------------------------------------------------------------------
// hpad's log

struct Reconcile {
  Time at;
  bool error = false;
  bool rescale_failed = false;  // the error was "failed to rescale ..." (the scale write failed or timed out)
};

// Incrementally parses hpad's klog lines (see k8sclient/klog.h for the format).
class LogReader {
 public:
  LogReader(std::string path, int year) : path_(std::move(path)), year_(year) {}

  // Reads whatever was appended since the last call.
  void Poll() {
    std::ifstream f(path_, std::ios::binary);
    if (!f) return;
    f.seekg(static_cast<std::streamoff>(offset_));
    std::string chunk((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
    offset_ += chunk.size();
    partial_ += chunk;
    size_t start = 0;
    for (size_t nl; (nl = partial_.find('\n', start)) != std::string::npos; start = nl + 1) {
      Line(std::string_view(partial_).substr(start, nl - start));
    }
    partial_.erase(0, start);
  }

  const std::unordered_map<std::string, std::vector<Reconcile>>& by_key() const { return by_key_; }
  int64_t error_lines() const { return error_lines_; }
  int64_t warning_lines() const { return warning_lines_; }
  int64_t reconcile_errors() const { return reconcile_errors_; }
  const std::vector<std::string>& first_errors() const { return first_errors_; }
  // From the leader-election lines: the identity ("" until logged), whether
  // the process logged "leaderelection lost", when it became leader.
  const std::string& identity() const { return identity_; }
  bool lease_lost() const { return lease_lost_; }
  const std::optional<Time>& became_leader() const { return became_leader_; }

 private:
  void Line(std::string_view l) {
    if (l.size() < 30) return;
    const char sev = l[0];
    if (sev != 'I' && sev != 'W' && sev != 'E') return;
    auto bracket = l.find("] ");
    if (bracket == std::string_view::npos) return;
    std::string_view msg = l.substr(bracket + 2);
    if (sev == 'E') {
      error_lines_++;
      if (first_errors_.size() < 5) first_errors_.emplace_back(l);
    } else if (sev == 'W') {
      warning_lines_++;
    }
    // The replica's leader-election identity (its User-Agent carries it too).
    constexpr std::string_view kElection = "leader election: ";
    constexpr std::string_view kAttempt = " attempting to acquire lease";
    if (identity_.empty() && msg.substr(0, kElection.size()) == kElection) {
      auto at = msg.find(kAttempt);
      if (at != std::string_view::npos) identity_ = std::string(msg.substr(kElection.size(), at - kElection.size()));
    }
    constexpr std::string_view kLost = "leaderelection lost";
    if (msg.substr(0, kLost.size()) == kLost) lease_lost_ = true;
    constexpr std::string_view kBecame = "became leader of lease";
    if (!became_leader_ && msg.substr(0, kBecame.size()) == kBecame) became_leader_ = ParseTime(l.substr(1));
    constexpr std::string_view kPrefix = "reconciled HPA ";
    if (msg.substr(0, kPrefix.size()) != kPrefix) return;
    std::string_view rest = msg.substr(kPrefix.size());
    auto end = rest.find_first_of(": ");
    if (end == std::string_view::npos) return;
    std::string key(rest.substr(0, end));
    if (rest.find(" (deleted)") == end) return;
    auto t = ParseTime(l.substr(1));
    if (!t) return;
    Reconcile r{*t, false};
    auto e = rest.find(", error ");
    if (e != std::string_view::npos && rest.substr(e + 8, 4) != "none") {
      r.error = true;
      r.rescale_failed = rest.find("failed to rescale", e) != std::string_view::npos;
      reconcile_errors_++;
      if (first_errors_.size() < 5) first_errors_.emplace_back(l);
    }
    by_key_[key].push_back(r);
  }

  // "mmdd hh:mm:ss.uuuuuu" (UTC) in the benchmark's year.
  std::optional<Time> ParseTime(std::string_view s) const {
    if (s.size() < 20) return std::nullopt;
    auto num = [&](size_t pos, size_t len) { return std::atoi(std::string(s.substr(pos, len)).c_str()); };
    std::tm tm{};
    tm.tm_year = year_ - 1900;
    tm.tm_mon = num(0, 2) - 1;
    tm.tm_mday = num(2, 2);
    tm.tm_hour = num(5, 2);
    tm.tm_min = num(8, 2);
    tm.tm_sec = num(11, 2);
    const int micros = num(14, 6);
    time_t secs = timegm(&tm);
    return Time(std::chrono::seconds(secs)) + std::chrono::microseconds(micros);
  }

  std::string path_;
  int year_;
  size_t offset_ = 0;
  std::string partial_;
  std::unordered_map<std::string, std::vector<Reconcile>> by_key_;
  int64_t error_lines_ = 0;
  int64_t warning_lines_ = 0;
  int64_t reconcile_errors_ = 0;
  std::vector<std::string> first_errors_;
  std::string identity_;
  bool lease_lost_ = false;
  std::optional<Time> became_leader_;
};

// ---------------------------------------------------------------------------
// hpad processes

// $HPAD_BINARY_DIR/hpad, else ../controller/hpad next to this binary.
std::string DefaultHpadPath(const char* argv0);
// vfork + exec with stdout/stderr to log_path (truncated), stdin /dev/null,
// in its own process group. The pid, or -1.
pid_t StartHpad(const std::string& path, const std::vector<std::string>& args, const std::string& log_path);
// Non-blocking: the exit status if the child has exited (128 + signal when
// killed by one).
std::optional<int> ExitStatus(pid_t pid);

// ---------------------------------------------------------------------------
// Results

// Nearest rank; 0 for an empty sample.
double Percentile(std::vector<double> v, double p);
std::string Fixed(double v, int digits);

}  // namespace hpad::bench
