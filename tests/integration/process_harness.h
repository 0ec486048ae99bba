// Child processes for the integration tests (the real hpad and hpad-sim):
// a Process with its output captured in a file and killed (SIGKILL) on
// destruction, polling with a deadline (never a fixed sleep as the thing
// under test), temporary directories and free loopback ports.
//
// Threads: a Process is used from the test's thread only.
#pragma once

#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <functional>
#include <regex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace hpad::testing {

namespace fs = std::filesystem;
using SteadyClock = std::chrono::steady_clock;

namespace fs = std::filesystem;


inline std::string ReadFile(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Polls `cond` every 50 ms until it holds or `timeout` passes.
inline bool Eventually(const std::function<bool()>& cond, std::chrono::milliseconds timeout) {
  auto deadline = SteadyClock::now() + timeout;
  while (SteadyClock::now() < deadline) {
    if (cond()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return cond();
}

// A child process with stdout+stderr captured in a file; killed on destruction.
class Process {
 public:
  Process(const std::string& name, std::vector<std::string> argv, const fs::path& dir)
      : log_(dir / (name + ".log")) {
    // Everything the child needs is prepared before fork(): only
    // async-signal-safe calls happen between fork and exec.
    std::vector<char*> args;
    for (auto& a : argv) args.push_back(a.data());
    args.push_back(nullptr);
    const std::string log_path = log_.string();
    pid_ = fork();
    REQUIRE(pid_ >= 0);
    if (pid_ == 0) {
      int fd = open(log_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      dup2(fd, 1);
      dup2(fd, 2);
      setpgid(0, 0);
      execv(args[0], args.data());
      _exit(127);
    }
  }
  ~Process() {
    if (pid_ > 0 && !exited_) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
  }
  void Signal(int sig) { kill(pid_, sig); }
  pid_t pid() const { return pid_; }
  // True while the process has not exited (reaps it when it has).
  bool Running() {
    if (exited_) return false;
    int st = 0;
    if (waitpid(pid_, &st, WNOHANG) == pid_) {
      exited_ = true;
      status_ = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
    }
    return !exited_;
  }
  // Peak resident set size (VmHWM in /proc/<pid>/status) in KiB; -1 when unreadable.
  int64_t PeakRssKiB() const {
    std::ifstream in("/proc/" + std::to_string(pid_) + "/status");
    std::string line;
    while (std::getline(in, line)) {
      if (line.rfind("VmHWM:", 0) == 0) return std::stoll(line.substr(6));
    }
    return -1;
  }
  // Exit status (or 128+signal) once exited within `timeout`, else -1.
  int WaitExit(std::chrono::milliseconds timeout) {
    if (exited_) return status_;
    Eventually(
        [&] {
          int st = 0;
          if (waitpid(pid_, &st, WNOHANG) == pid_) {
            exited_ = true;
            status_ = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
          }
          return exited_;
        },
        timeout);
    return exited_ ? status_ : -1;
  }
  std::string Log() const { return ReadFile(log_); }
  // The first capture group of `re` in the log, once it appears.
  std::string WaitForLog(const std::string& re, std::chrono::milliseconds timeout = std::chrono::seconds(10)) const {
    std::regex r(re);
    std::smatch m;
    std::string found;
    Eventually(
        [&] {
          std::string text = Log();
          if (!std::regex_search(text, m, r)) return false;
          found = m.size() > 1 ? m[1].str() : m[0].str();
          return true;
        },
        timeout);
    return found;
  }

 private:
  fs::path log_;
  pid_t pid_ = -1;
  bool exited_ = false;
  int status_ = -1;
};

inline fs::path TempDir(const std::string& name) {
  auto d = fs::temp_directory_path() / ("hpad-daemon-test-" + name + "-" + std::to_string(getpid()));
  fs::remove_all(d);
  fs::create_directories(d);
  return d;
}

// A free loopback port (bound and released; the sim takes it right after).
inline int FreePort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = 0;
  bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a));
  socklen_t len = sizeof(a);
  getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  close(fd);
  return ntohs(a.sin_port);
}

}  // namespace hpad::testing
