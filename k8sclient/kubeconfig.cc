// Kubeconfig and in-cluster loading (see kubeconfig.h). Reference behaviour:
// k8s.io/client-go/tools/clientcmd (loader.go merge rules, validation.go
// messages) and plugin/pkg/client/auth/exec (ExecCredential protocol).
#include "k8sclient/kubeconfig.h"

#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <signal.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <set>
#include <sstream>

#include <nlohmann/json.hpp>

#include "k8sclient/api/json_parse.h"
#include "k8sclient/api/quantity.h"
#include "k8sclient/api/time_format.h"
#include "k8sclient/base/strings.h"
#include "k8sclient/base/text.h"
#include "k8sclient/cert_authority.h"
#include "k8sclient/api/yaml_json.h"

extern char** environ;

namespace hpad::k8s {

namespace {

using Json = nlohmann::json;
namespace fs = std::filesystem;

// ---------------------------------------------------------------- helpers

Status FieldError(const std::string& file, const std::string& field, const std::string& what) {
  return InvalidError(file + ": " + field + ": " + what);
}

// Kubeconfig files, certificates and tokens are small; a path naming a huge
// or endless file (a FIFO, /dev/zero) must not become an allocation spree.
constexpr size_t kMaxConfigFileBytes = size_t{16} << 20;

Result<std::string> ReadWholeFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return InvalidError("cannot read " + path + ": " + std::strerror(errno));
  std::string out;
  char buf[65536];
  while (in) {
    in.read(buf, sizeof buf);
    out.append(buf, static_cast<size_t>(in.gcount()));
    if (out.size() > kMaxConfigFileBytes)
      return InvalidError("cannot read " + path + ": larger than the limit of " + std::to_string(kMaxConfigFileBytes) +
                          " bytes");
  }
  if (in.bad()) return InvalidError("cannot read " + path);
  return out;
}

// One kubeconfig entry (a cluster, user or context) and where it came from.
struct Entry {
  Json value;         // the inner object ("cluster", "user", "context")
  std::string file;   // absolute-ish path of the defining file
  std::string field;  // "clusters[name=x].cluster"
};

struct Merged {
  std::map<std::string, Entry> clusters, users, contexts;
  std::string current_context;
  std::string current_context_file;
  std::vector<std::string> files;  // files actually read
};

// Reads `list_key` (clusters/users/contexts) of one file into `into`, first
// definition of a name winning (clientcmd's merge: earlier files win).
Status MergeList(const Json& doc, const std::string& file, const std::string& list_key, const std::string& item_key,
                 std::map<std::string, Entry>& into) {
  auto it = doc.find(list_key);
  if (it == doc.end() || it->is_null()) return Status::Ok();
  if (!it->is_array()) return FieldError(file, list_key, "must be a list");
  std::set<std::string> seen_here;
  for (size_t i = 0; i < it->size(); ++i) {
    const Json& item = (*it)[i];
    std::string at = list_key + "[" + std::to_string(i) + "]";
    if (!item.is_object()) return FieldError(file, at, "must be a mapping");
    auto name = item.find("name");
    if (name == item.end() || !name->is_string() || name->get<std::string>().empty())
      return FieldError(file, at + ".name", "missing or not a string");
    std::string n = name->get<std::string>();
    std::string field = list_key + "[name=" + n + "]." + item_key;
    auto found = item.find(item_key);
    Json value = found == item.end() || found->is_null() ? Json::object() : *found;
    if (!value.is_object()) return FieldError(file, field, "must be a mapping");
    if (!seen_here.insert(n).second) return FieldError(file, list_key + "[name=" + n + "]", "defined twice");
    into.emplace(n, Entry{std::move(value), file, field});  // emplace keeps the first
  }
  return Status::Ok();
}

Result<std::string> OptString(const Entry& e, const std::string& key) {
  auto it = e.value.find(key);
  if (it == e.value.end() || it->is_null()) return std::string();
  if (!it->is_string()) return FieldError(e.file, e.field + "." + key, "must be a string");
  return it->get<std::string>();
}

Result<bool> OptBool(const Entry& e, const std::string& key) {
  auto it = e.value.find(key);
  if (it == e.value.end() || it->is_null()) return false;
  if (!it->is_boolean()) return FieldError(e.file, e.field + "." + key, "must be true or false");
  return it->get<bool>();
}

std::string ResolvePath(const std::string& file, const std::string& p) {
  if (p.empty() || fs::path(p).is_absolute()) return p;
  return (fs::path(file).parent_path() / p).lexically_normal().string();
}

// The contents of `<key>` (a file path) or `<key>-data` (base64): exactly one
// may be given (clientcmd validation: "... are both specified").
Result<std::string> FileOrData(const Entry& e, const std::string& file_key, const std::string& data_key) {
  auto path = OptString(e, file_key);
  if (!path.ok()) return path.status();
  auto data = OptString(e, data_key);
  if (!data.ok()) return data.status();
  if (!path->empty() && !data->empty())
    return FieldError(e.file, e.field, data_key + " and " + file_key + " are both specified; use one");
  if (!data->empty()) {
    auto decoded = Base64Decode(*data);
    if (!decoded.ok()) return FieldError(e.file, e.field + "." + data_key, decoded.status().message());
    return *decoded;
  }
  if (!path->empty()) {
    std::string resolved = ResolvePath(e.file, *path);
    auto content = ReadWholeFile(resolved);
    if (!content.ok()) return FieldError(e.file, e.field + "." + file_key, content.status().message());
    return *content;
  }
  return std::string();
}

Result<ExecConfig> ParseExec(const Entry& user) {
  const Json& x = user.value["exec"];
  std::string field = user.field + ".exec";
  if (!x.is_object()) return FieldError(user.file, field, "must be a mapping");
  Entry e{x, user.file, field};
  ExecConfig c;
  c.origin = user.file + ": " + field;
  auto api = OptString(e, "apiVersion");
  if (!api.ok()) return api.status();
  if (*api != "client.authentication.k8s.io/v1" && *api != "client.authentication.k8s.io/v1beta1")
    return FieldError(user.file, field + ".apiVersion",
                      api->empty() ? "missing (want client.authentication.k8s.io/v1)"
                                   : "unsupported \"" + *api + "\" (want client.authentication.k8s.io/v1)");
  c.api_version = *api;
  auto cmd = OptString(e, "command");
  if (!cmd.ok()) return cmd.status();
  if (cmd->empty()) return FieldError(user.file, field + ".command", "missing");
  // Like client-go: a command with a path separator is relative to the
  // kubeconfig's directory; a bare name is looked up on PATH.
  c.command = cmd->find('/') != std::string::npos ? ResolvePath(user.file, *cmd) : *cmd;
  if (x.contains("args") && !x["args"].is_null()) {
    if (!x["args"].is_array()) return FieldError(user.file, field + ".args", "must be a list of strings");
    for (size_t i = 0; i < x["args"].size(); ++i) {
      if (!x["args"][i].is_string())
        return FieldError(user.file, field + ".args[" + std::to_string(i) + "]", "must be a string");
      c.args.push_back(x["args"][i].get<std::string>());
    }
  }
  if (x.contains("env") && !x["env"].is_null()) {
    if (!x["env"].is_array()) return FieldError(user.file, field + ".env", "must be a list of {name, value}");
    for (size_t i = 0; i < x["env"].size(); ++i) {
      const Json& kv = x["env"][i];
      std::string at = field + ".env[" + std::to_string(i) + "]";
      if (!kv.is_object() || !kv.contains("name") || !kv["name"].is_string() || kv["name"].get<std::string>().empty())
        return FieldError(user.file, at + ".name", "missing or not a string");
      if (kv.contains("value") && !kv["value"].is_null() && !kv["value"].is_string())
        return FieldError(user.file, at + ".value", "must be a string");
      auto value = kv.find("value");
      c.env.emplace_back(kv["name"].get<std::string>(),
                         value != kv.end() && value->is_string() ? value->get<std::string>() : std::string());
    }
  }
  auto mode = OptString(e, "interactiveMode");
  if (!mode.ok()) return mode.status();
  if (*mode == "Always")
    return FieldError(user.file, field + ".interactiveMode", "\"Always\" needs a terminal; hpad runs unattended");
  if (!mode->empty() && *mode != "Never" && *mode != "IfAvailable")
    return FieldError(user.file, field + ".interactiveMode", "must be Never, IfAvailable or Always");
  return c;
}

// ------------------------------------------------------------ token sources

class FileTokenSource final : public TokenSource {
 public:
  FileTokenSource(std::string path, const Clock& clock, Duration max_age)
      : path_(std::move(path)), clock_(clock), max_age_(max_age) {}

  Result<std::string> Token() override {
    std::lock_guard<std::mutex> l(mu_);
    Time now = clock_.Now();
    struct stat st {};
    bool stat_ok = ::stat(path_.c_str(), &st) == 0;
    bool changed = stat_ok && (st.st_mtim.tv_sec != mtime_.tv_sec || st.st_mtim.tv_nsec != mtime_.tv_nsec ||
                               st.st_size != size_);
    if (!loaded_ || stale_ || changed || now - read_at_ >= max_age_) {
      auto content = ReadWholeFile(path_);
      if (content.ok()) {
        token_ = Trim(*content);
        loaded_ = true;
        stale_ = false;
        read_at_ = now;
        if (stat_ok) {
          mtime_ = st.st_mtim;
          size_ = st.st_size;
        }
      } else if (!loaded_) {
        return Status(StatusCode::kUnauthorized, "reading token file: " + content.status().message());
      }
      // else keep the last good token; retry on the next call.
    }
    return token_;
  }

  void Invalidate() override {
    std::lock_guard<std::mutex> l(mu_);
    stale_ = true;
  }

 private:
  const std::string path_;
  const Clock& clock_;
  const Duration max_age_;
  std::mutex mu_;
  std::string token_;
  bool loaded_ = false;
  bool stale_ = false;
  Time read_at_{};
  struct timespec mtime_ {};
  off_t size_ = -1;
};

struct ProcessResult {
  int exit_code = -1;
  std::string out, err;
};

struct ProcessLimits {
  std::chrono::milliseconds timeout{kDefaultExecTimeout};
  size_t max_stdout_bytes = kMaxExecOutputBytes;
  size_t max_stderr_bytes = 64 * 1024;  // only quoted in errors; the rest is read and dropped
};

// Runs argv with `env` in a process group of its own, collecting stdout and
// stderr (poll, so neither pipe can fill up and deadlock the child). Past
// the deadline, or when stdout exceeds its limit, the whole group is killed
// (a plugin's children too) and the error names the command and the limit.
Result<ProcessResult> RunProcess(const std::vector<std::string>& argv, const std::vector<std::string>& env,
                                 const ProcessLimits& limits) {
  int out_pipe[2], err_pipe[2];
  if (pipe2(out_pipe, O_CLOEXEC) != 0) return InternalError(std::string("pipe: ") + std::strerror(errno));
  if (pipe2(err_pipe, O_CLOEXEC) != 0) {
    close(out_pipe[0]);
    close(out_pipe[1]);
    return InternalError(std::string("pipe: ") + std::strerror(errno));
  }
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);  // never interactive
  posix_spawn_file_actions_adddup2(&fa, out_pipe[1], 1);
  posix_spawn_file_actions_adddup2(&fa, err_pipe[1], 2);
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP);
  posix_spawnattr_setpgroup(&attr, 0);  // a new group led by the child: killable as a whole
  std::vector<char*> cargv, cenv;
  for (const auto& a : argv) cargv.push_back(const_cast<char*>(a.c_str()));
  cargv.push_back(nullptr);
  for (const auto& e : env) cenv.push_back(const_cast<char*>(e.c_str()));
  cenv.push_back(nullptr);
  pid_t pid = 0;
  int rc = posix_spawnp(&pid, argv[0].c_str(), &fa, &attr, cargv.data(), cenv.data());
  posix_spawn_file_actions_destroy(&fa);
  posix_spawnattr_destroy(&attr);
  close(out_pipe[1]);
  close(err_pipe[1]);
  if (rc != 0) {
    close(out_pipe[0]);
    close(err_pipe[0]);
    return InvalidError("cannot run \"" + argv[0] + "\": " + std::strerror(rc));
  }
  ProcessResult r;
  pollfd fds[2] = {{out_pipe[0], POLLIN, 0}, {err_pipe[0], POLLIN, 0}};
  std::string* sinks[2] = {&r.out, &r.err};
  const size_t caps[2] = {limits.max_stdout_bytes, limits.max_stderr_bytes};
  int open_fds = 2;
  char buf[4096];
  // The deadline is physical time for a child process, not controller time:
  // poll() waits in real time, so the real clock measures it even where the
  // controller runs on an injected (simulated) clock.
  const RealClock& real = RealClock::Instance();
  const MonoTime deadline = AddSaturating(real.MonoNow(), limits.timeout);
  std::string failure;  // set when the group is killed
  while (open_fds > 0 && failure.empty()) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - real.MonoNow());
    if (left.count() <= 0) {
      failure = "timed out after " + FormatGoDuration(limits.timeout);
      break;
    }
    int ready = poll(fds, 2, static_cast<int>(std::min<int64_t>(left.count(), 60000)));
    if (ready < 0) {
      if (errno == EINTR) continue;
      break;
    }
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || fds[i].revents == 0) continue;
      ssize_t n = read(fds[i].fd, buf, sizeof buf);
      if (n > 0) {
        size_t room = caps[i] - std::min(caps[i], sinks[i]->size());
        sinks[i]->append(buf, std::min(room, static_cast<size_t>(n)));
        if (i == 0 && static_cast<size_t>(n) > room) {
          failure = "output exceeds the limit of " + std::to_string(caps[0]) + " bytes";
          break;
        }
      } else if (n == 0 || errno != EINTR) {
        close(fds[i].fd);
        fds[i].fd = -1;
        --open_fds;
      }
    }
  }
  if (!failure.empty()) ::kill(-pid, SIGKILL);
  for (auto& f : fds)
    if (f.fd >= 0) close(f.fd);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (!failure.empty()) return Status(StatusCode::kTimeout, "plugin \"" + argv[0] + "\" " + failure + "; killed");
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + (WIFSIGNALED(status) ? WTERMSIG(status) : 0);
  return r;
}

// A string field of the plugin's output; absent or null is "", another type
// an error naming the field.
Result<std::string> PluginString(const Json& obj, const char* key, const char* path) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return std::string();
  // "<path> must be", not "<path>: ...": a "token: x" text would be redacted.
  if (!it->is_string()) return InvalidError(std::string(path) + " must be a string, got " + DescribeJson(*it));
  return it->get<std::string>();
}

class ExecTokenSource final : public TokenSource {
 public:
  ExecTokenSource(ExecConfig config, const Clock& clock) : config_(std::move(config)), clock_(clock) {}

  Result<std::string> Token() override {
    if (auto cached = Cached()) return *cached;
    // One plugin run at a time: concurrent requests that need a new token
    // wait for it instead of starting several. Requests holding a valid
    // cached token never wait here (Cached() takes only mu_), so a hung
    // plugin (bounded by its deadline) stalls only what needs it.
    std::lock_guard<std::mutex> run(run_mu_);
    if (auto cached = Cached()) return *cached;
    auto cred = Run();
    if (!cred.ok()) return cred.status();
    std::lock_guard<std::mutex> l(mu_);
    cached_ = cred->token;
    expiry_ = cred->expiry;
    return cred->token;
  }

  void Invalidate() override {
    std::lock_guard<std::mutex> l(mu_);
    cached_.reset();
    expiry_.reset();
  }

 private:
  struct Credential {
    std::string token;
    std::optional<Time> expiry;
  };

  std::optional<std::string> Cached() {
    std::lock_guard<std::mutex> l(mu_);
    if (cached_ && (!expiry_ || clock_.Now() < *expiry_)) return cached_;
    return std::nullopt;
  }

  Status Fail(const std::string& what) const {
    return Status(StatusCode::kUnauthorized, SafeText(config_.origin + ": " + what), "Unauthorized");
  }

  Result<Credential> Run() {
    std::vector<std::string> argv{config_.command};
    argv.insert(argv.end(), config_.args.begin(), config_.args.end());
    // Inherited environment, then the plugin's env entries (which win), then
    // KUBERNETES_EXEC_INFO as client-go sets it.
    std::map<std::string, std::string> envmap;
    for (char** e = environ; e && *e; ++e) {
      std::string kv = *e;
      size_t eq = kv.find('=');
      if (eq != std::string::npos) envmap[kv.substr(0, eq)] = kv.substr(eq + 1);
    }
    for (const auto& [k, v] : config_.env) envmap[k] = v;
    Json info = {{"apiVersion", config_.api_version},
                 {"kind", "ExecCredential"},
                 {"spec", {{"interactive", false}}}};
    if (!config_.cluster_info_json.empty()) {
      auto cluster = ParseForeignJson(config_.cluster_info_json, "cluster info");
      if (cluster.ok()) info["spec"]["cluster"] = std::move(*cluster);
    }
    envmap["KUBERNETES_EXEC_INFO"] = DumpForeign(info);
    std::vector<std::string> env;
    for (const auto& [k, v] : envmap) env.push_back(k + "=" + v);

    ProcessLimits limits;
    if (config_.timeout.count() > 0) limits.timeout = config_.timeout;
    if (config_.max_output_bytes > 0) limits.max_stdout_bytes = config_.max_output_bytes;
    auto pr = RunProcess(argv, env, limits);
    if (!pr.ok()) return Fail(pr.status().message());
    if (pr->exit_code != 0) {
      std::string err = SafeText(Trim(pr->err), 500);
      return Fail("plugin \"" + config_.command + "\" exited with code " + std::to_string(pr->exit_code) +
                  (err.empty() ? "" : ": " + err));
    }
    const std::string plugin = "plugin \"" + config_.command + "\" output";
    auto parsed = ParseForeignJson(pr->out, plugin, limits.max_stdout_bytes);
    if (!parsed.ok()) return Fail(plugin + " is not a JSON ExecCredential: " + parsed.status().message());
    const Json& cred = *parsed;
    if (!cred.is_object()) return Fail(plugin + " is not a JSON ExecCredential");
    auto kind = PluginString(cred, "kind", "kind");
    if (!kind.ok()) return Fail(plugin + ": " + kind.status().message());
    if (*kind != "ExecCredential") return Fail(plugin + " has kind \"" + *kind + "\", want ExecCredential");
    auto api = PluginString(cred, "apiVersion", "apiVersion");
    if (!api.ok()) return Fail(plugin + ": " + api.status().message());
    if (*api != config_.api_version)
      return Fail(plugin + " has apiVersion \"" + *api + "\", want " + config_.api_version);
    auto st = cred.find("status");
    if (st == cred.end() || st->is_null()) return Fail(plugin + ": status.token is missing");
    if (!st->is_object()) return Fail(plugin + ": status must be an object");
    const Json& status = *st;
    auto token = PluginString(status, "token", "status.token");
    if (!token.ok()) return Fail(plugin + ": " + token.status().message());
    if (token->empty()) {
      if (status.contains("clientCertificateData"))
        return Fail("plugin returned a client certificate; hpad supports token credentials only");
      return Fail(plugin + ": status.token is missing");
    }
    Credential out;
    out.token = std::move(*token);
    auto exp = status.find("expirationTimestamp");
    if (exp != status.end() && !exp->is_null()) {
      if (!exp->is_string()) return Fail(plugin + ": bad status.expirationTimestamp");
      auto t = ParseRfc3339(exp->get<std::string>());
      if (!t.ok()) return Fail(plugin + ": status.expirationTimestamp: " + t.status().message());
      out.expiry = *t;
    }
    return out;
  }

  const ExecConfig config_;
  const Clock& clock_;
  std::mutex run_mu_;  // serializes plugin runs; never taken while holding mu_
  std::mutex mu_;      // guards cached_ and expiry_
  std::optional<std::string> cached_;
  std::optional<Time> expiry_;
};

}  // namespace

// --------------------------------------------------------------- public API

std::vector<std::string> SplitKubeconfigPaths(const std::string& value) {
  std::vector<std::string> out;
  std::set<std::string> seen;
  std::stringstream ss(value);
  std::string p;
  while (std::getline(ss, p, ':')) {
    if (p.empty() || !seen.insert(p).second) continue;
    out.push_back(p);
  }
  return out;
}

std::shared_ptr<TokenSource> NewFileTokenSource(std::string path, const Clock& clock, Duration max_age) {
  return std::make_shared<FileTokenSource>(std::move(path), clock, max_age);
}

std::shared_ptr<TokenSource> NewExecTokenSource(ExecConfig config, const Clock& clock) {
  return std::make_shared<ExecTokenSource>(std::move(config), clock);
}

namespace {

Result<ClientConfig> LoadKubeconfigUnchecked(const KubeconfigOptions& options, const Clock& clock) {
  if (options.paths.empty()) return InvalidError("kubeconfig: no file given");
  Merged m;
  for (const std::string& path : options.paths) {
    std::error_code ec;
    if (!fs::exists(path, ec)) {
      if (options.missing_files_are_errors) return InvalidError(path + ": kubeconfig file does not exist");
      continue;  // kubectl skips missing KUBECONFIG entries
    }
    auto text = ReadWholeFile(path);
    if (!text.ok()) return text.status();
    auto doc = YamlToJson(*text, path);
    if (!doc.ok()) return doc.status();
    m.files.push_back(path);
    if (doc->is_null()) continue;  // an empty file is an empty config
    if (!doc->is_object()) return InvalidError(path + ": not a kubeconfig (top level must be a mapping)");
    if (Status s = MergeList(*doc, path, "clusters", "cluster", m.clusters); !s.ok()) return s;
    if (Status s = MergeList(*doc, path, "users", "user", m.users); !s.ok()) return s;
    if (Status s = MergeList(*doc, path, "contexts", "context", m.contexts); !s.ok()) return s;
    if (m.current_context.empty() && doc->contains("current-context")) {
      const Json& cc = (*doc)["current-context"];
      if (!cc.is_null() && !cc.is_string()) return FieldError(path, "current-context", "must be a string");
      if (cc.is_string() && !cc.get<std::string>().empty()) {
        m.current_context = cc.get<std::string>();
        m.current_context_file = path;
      }
    }
  }
  std::string files_desc;
  for (const auto& p : options.paths) files_desc += (files_desc.empty() ? "" : ":") + p;
  if (m.files.empty()) return InvalidError("kubeconfig " + files_desc + ": no such file");

  std::string context_name = options.context.empty() ? m.current_context : options.context;
  if (context_name.empty())
    return InvalidError(files_desc + ": current-context is not set and no --context was given");
  auto ctx_it = m.contexts.find(context_name);
  if (ctx_it == m.contexts.end()) {
    if (options.context.empty())
      return FieldError(m.current_context_file, "current-context",
                        "context \"" + context_name + "\" is not defined in " + files_desc);
    return InvalidError("--context: context \"" + context_name + "\" is not defined in " + files_desc);
  }
  const Entry& ctx = ctx_it->second;
  auto cluster_name = OptString(ctx, "cluster");
  if (!cluster_name.ok()) return cluster_name.status();
  auto user_name = OptString(ctx, "user");
  if (!user_name.ok()) return user_name.status();
  auto ns = OptString(ctx, "namespace");
  if (!ns.ok()) return ns.status();
  if (cluster_name->empty()) return FieldError(ctx.file, ctx.field + ".cluster", "missing");
  auto cl_it = m.clusters.find(*cluster_name);
  if (cl_it == m.clusters.end())
    return FieldError(ctx.file, ctx.field + ".cluster", "cluster \"" + *cluster_name + "\" is not defined");

  ClientConfig out;
  out.context = context_name;
  out.cluster = *cluster_name;
  out.user = *user_name;
  if (!ns->empty()) out.ns = *ns;
  out.source = "kubeconfig " + files_desc;

  // --- cluster
  const Entry& cl = cl_it->second;
  auto server = OptString(cl, "server");
  if (!server.ok()) return server.status();
  if (server->empty()) return FieldError(cl.file, cl.field + ".server", "missing");
  if (auto u = ParseServerUrl(*server); !u.ok()) return FieldError(cl.file, cl.field + ".server", u.status().message());
  out.transport.server = *server;
  auto insecure = OptBool(cl, "insecure-skip-tls-verify");
  if (!insecure.ok()) return insecure.status();
  out.transport.insecure_skip_tls_verify = *insecure;
  auto ca = FileOrData(cl, "certificate-authority", "certificate-authority-data");
  if (!ca.ok()) return ca.status();
  if (!ca->empty()) {
    if (*insecure)
      return FieldError(cl.file, cl.field,
                        "certificate-authority and insecure-skip-tls-verify cannot both be set (kubectl refuses too)");
    if (Status s = CheckPemCertificates(*ca); !s.ok())
      return FieldError(cl.file,
                        cl.field + (cl.value.contains("certificate-authority-data") ? ".certificate-authority-data"
                                                                                    : ".certificate-authority"),
                        s.message());
    out.transport.ca_pem = *ca;
  }
  if (auto tsn = OptString(cl, "tls-server-name"); !tsn.ok() || !tsn->empty())
    return tsn.ok() ? FieldError(cl.file, cl.field + ".tls-server-name", "not supported by hpad") : tsn.status();

  // --- user (a context may name no user: anonymous)
  if (user_name->empty()) return out;
  auto us_it = m.users.find(*user_name);
  if (us_it == m.users.end())
    return FieldError(ctx.file, ctx.field + ".user", "user \"" + *user_name + "\" is not defined");
  const Entry& us = us_it->second;
  for (const char* unsupported : {"auth-provider", "username", "password", "as", "as-groups"}) {
    if (us.value.contains(unsupported) && !us.value[unsupported].is_null())
      return FieldError(us.file, us.field + "." + unsupported, "not supported by hpad");
  }
  auto cert = FileOrData(us, "client-certificate", "client-certificate-data");
  if (!cert.ok()) return cert.status();
  auto key = FileOrData(us, "client-key", "client-key-data");
  if (!key.ok()) return key.status();
  if (cert->empty() != key->empty())
    return FieldError(us.file, us.field + (cert->empty() ? ".client-certificate" : ".client-key"),
                      "client-certificate and client-key must be given together");
  if (!cert->empty()) {
    if (Status s = CheckPemCertificates(*cert); !s.ok())
      return FieldError(us.file, us.field + ".client-certificate", s.message());
    if (Status s = CheckPemPrivateKey(*key); !s.ok()) return FieldError(us.file, us.field + ".client-key", s.message());
    out.transport.client_cert_pem = *cert;
    out.transport.client_key_pem = *key;
  }
  auto token = OptString(us, "token");
  if (!token.ok()) return token.status();
  auto token_file = OptString(us, "tokenFile");
  if (!token_file.ok()) return token_file.status();
  if (us.value.contains("exec") && !us.value["exec"].is_null()) {
    // An exec plugin's token takes precedence over static tokens, as in client-go.
    auto exec = ParseExec(us);
    if (!exec.ok()) return exec.status();
    Entry x{us.value["exec"], us.file, us.field + ".exec"};
    auto provide = OptBool(x, "provideClusterInfo");
    if (!provide.ok()) return provide.status();
    if (*provide) {
      Json cluster = {{"server", out.transport.server},
                      {"insecure-skip-tls-verify", out.transport.insecure_skip_tls_verify}};
      if (!out.transport.ca_pem.empty()) cluster["certificate-authority-data"] = Base64Encode(out.transport.ca_pem);
      exec->cluster_info_json = DumpForeign(cluster);
    }
    out.transport.token_source = NewExecTokenSource(std::move(*exec), clock);
  } else if (!token_file->empty()) {
    std::string p = ResolvePath(us.file, *token_file);
    auto content = ReadWholeFile(p);
    if (!content.ok()) return FieldError(us.file, us.field + ".tokenFile", content.status().message());
    out.transport.token_source = NewFileTokenSource(p, clock);
  } else if (!token->empty()) {
    out.transport.token_source = std::make_shared<StaticTokenSource>(*token);
  }
  return out;
}

}  // namespace

Result<ClientConfig> LoadKubeconfig(const KubeconfigOptions& options, const Clock& clock) {
  // Errors quote the file's text (names, YAML parser messages with the
  // offending bytes): made safe (valid UTF-8, no control characters, secrets
  // redacted) before they reach logs or the exit message. Found by
  // kubeconfig_fuzz (corpus: crash-3abfac62...).
  auto cfg = LoadKubeconfigUnchecked(options, clock);
  if (cfg.ok()) return cfg;
  const Status& s = cfg.status();
  return Status(s.code(), SafeText(s.message(), 4096), s.reason(), s.http_code());
}

Result<ClientConfig> LoadInClusterConfig(const InClusterOptions& options, const Clock& clock) {
  if (options.service_host.empty() || options.service_port.empty())
    return InvalidError(
        "in-cluster config: KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT must be defined (not running in a "
        "pod?)");
  std::string host = options.service_host;
  if (host.find(':') != std::string::npos && host.front() != '[') host = "[" + host + "]";  // IPv6
  ClientConfig out;
  out.source = "in-cluster";
  out.transport.server = "https://" + host + ":" + options.service_port;
  if (auto u = ParseServerUrl(out.transport.server); !u.ok())
    return InvalidError("in-cluster config: KUBERNETES_SERVICE_HOST/PORT: " + u.status().message());
  fs::path dir(options.dir);
  std::string token_path = (dir / "token").string();
  auto token = ReadWholeFile(token_path);
  if (!token.ok()) return InvalidError(token_path + ": service account token: " + token.status().message());
  if (Trim(*token).empty()) return InvalidError(token_path + ": service account token: file is empty");
  out.transport.token_source = NewFileTokenSource(token_path, clock);
  std::string ca_path = (dir / "ca.crt").string();
  auto ca = ReadWholeFile(ca_path);
  if (!ca.ok()) return InvalidError(ca_path + ": cluster CA: " + ca.status().message());
  if (Status s = CheckPemCertificates(*ca); !s.ok()) return InvalidError(ca_path + ": cluster CA: " + s.message());
  out.transport.ca_pem = *ca;
  std::string ns_path = (dir / "namespace").string();
  std::error_code ec;
  if (fs::exists(ns_path, ec)) {
    auto ns = ReadWholeFile(ns_path);
    if (!ns.ok()) return InvalidError(ns_path + ": namespace: " + ns.status().message());
    if (!Trim(*ns).empty()) out.ns = Trim(*ns);
  }
  return out;
}

}  // namespace hpad::k8s
