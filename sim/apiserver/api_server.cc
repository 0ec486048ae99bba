// ApiServer: HTTP routing, auth, CRUD/patch/watch handlers over
// ClusterState, TLS setup and the kubeconfig. The only file that includes
// httplib. See api_server.h and kubectl-compat.md.
#include "sim/apiserver/api_server.h"

#include <httplib.h>
#include <openssl/bio.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <dirent.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <atomic>
#include <cstdlib>
#include <fstream>
#include <mutex>
#include <set>
#include <thread>
#include <unordered_map>

#include "k8sclient/base/strings.h"
#include "k8sclient/cert_authority.h"
#include "k8sclient/api/quantity.h"
#include "k8sclient/api/types/hpa.h"
#include "k8sclient/api/yaml_json.h"
#include "sim/apiserver/api_internal.h"
#include "sim/apiserver/store_util.h"
#include "k8sclient/api/json_lenient.h"

namespace hpad::sim {
using k8s::StringOr;

using api::Query;
using EvType = k8s::WatchEvent::Type;

namespace {

constexpr const char* kJson = "application/json";

std::string RandomToken() {
  unsigned char buf[24];
  if (RAND_bytes(buf, sizeof buf) != 1) return "hpad-sim-token";
  static const char* hex = "0123456789abcdef";
  std::string out;
  for (unsigned char c : buf) {
    out += hex[c >> 4];
    out += hex[c & 15];
  }
  return out;
}

// Shuts down (both directions, without closing: the worker that owns the
// descriptor still closes it) every TCP connection of this process whose
// local port is `port` and that has a peer: the connections a server on
// that port accepted. Returns how many it shut down.
//
// Why by sweeping /proc/self/fd: httplib 0.11 hands no accepted socket to
// the application, and its worker waits up to the keep-alive timeout
// (120 s, set in Start) on an idle connection without looking at stop().
// A shut-down socket turns readable (EOF) at once, so the worker's wait,
// a request read in progress and a response write all end within one
// poll tick.
// Called only after the listener is closed, so no new connection can be
// accepted meanwhile. The one socket that could match and is not ours: an
// outgoing connection of this same process that the kernel gave our port,
// freed a moment ago, as its ephemeral port - possible only when a client
// in this process connects during the sweep (in-process tests; `hpad-sim
// serve` has no clients inside). Accepted: it sees a reset and retries.
size_t ShutdownAcceptedConnections(int port) {
  std::vector<int> fds;
  if (DIR* dir = opendir("/proc/self/fd"); dir != nullptr) {
    const int own = dirfd(dir);
    while (const dirent* e = readdir(dir)) {
      char* end = nullptr;
      long fd = std::strtol(e->d_name, &end, 10);
      if (end == e->d_name || *end != '\0' || fd < 0 || fd > 1 << 24 || fd == own) continue;
      fds.push_back(static_cast<int>(fd));
    }
    closedir(dir);
  }
  size_t n = 0;
  for (int fd : fds) {
    sockaddr_storage local{};
    socklen_t len = sizeof local;
    if (getsockname(fd, reinterpret_cast<sockaddr*>(&local), &len) != 0) continue;  // not a socket
    int local_port = -1;
    if (local.ss_family == AF_INET) local_port = ntohs(reinterpret_cast<const sockaddr_in*>(&local)->sin_port);
    if (local.ss_family == AF_INET6) local_port = ntohs(reinterpret_cast<const sockaddr_in6*>(&local)->sin6_port);
    if (local_port != port) continue;
    sockaddr_storage peer{};
    len = sizeof peer;
    if (getpeername(fd, reinterpret_cast<sockaddr*>(&peer), &len) != 0) continue;  // a listener
    if (::shutdown(fd, SHUT_RDWR) == 0) ++n;
  }
  return n;
}

const char* EventTypeName(EvType t) {
  switch (t) {
    case EvType::kAdded: return "ADDED";
    case EvType::kModified: return "MODIFIED";
    case EvType::kDeleted: return "DELETED";
    case EvType::kBookmark: return "BOOKMARK";
    case EvType::kError: return "ERROR";
  }
  return "ERROR";
}

// A boolean query parameter: Go's ParseBool spellings; absent or anything
// else is false.
bool ParseBoolParam(const std::string& v) {
  auto b = ParseBool(v);
  return b.ok() && *b;
}

Status MakeStatus(int code, const std::string& message, const std::string& reason = {}) {
  StatusCode c = StatusCode::kInternal;
  switch (code) {
    case 400: case 422: c = StatusCode::kInvalid; break;
    case 401: c = StatusCode::kUnauthorized; break;
    case 403: c = StatusCode::kForbidden; break;
    case 404: c = StatusCode::kNotFound; break;
    case 409: c = StatusCode::kConflict; break;
    case 410: c = StatusCode::kGone; break;
    case 429: c = StatusCode::kTooManyRequests; break;
    case 503: c = StatusCode::kUnavailable; break;
    case 504: c = StatusCode::kTimeout; break;
    default: c = code >= 500 ? StatusCode::kInternal : StatusCode::kInvalid;
  }
  return Status(c, message, reason, code);
}

// A parsed resource request path.
struct ResourcePath {
  ResourceInfo info;
  std::string ns;
  std::string name;
  std::string sub;
};

// The served object as the Table printer wants it (v2 field names for HPAs).
Json ForTable(const ResourceInfo& info, const Json& obj) {
  if (info.kind == "HorizontalPodAutoscaler" && info.gvr.version == "v1") return k8s::HpaV1ToV2(obj);
  return obj;
}

bool LoadPem(SSL_CTX& ctx, const std::string& cert_pem, const std::string& key_pem) {
  BIO* cb = BIO_new_mem_buf(cert_pem.data(), static_cast<int>(cert_pem.size()));
  X509* cert = PEM_read_bio_X509(cb, nullptr, nullptr, nullptr);
  BIO_free(cb);
  BIO* kb = BIO_new_mem_buf(key_pem.data(), static_cast<int>(key_pem.size()));
  EVP_PKEY* key = PEM_read_bio_PrivateKey(kb, nullptr, nullptr, nullptr);
  BIO_free(kb);
  bool ok = cert != nullptr && key != nullptr && SSL_CTX_use_certificate(&ctx, cert) == 1 &&
            SSL_CTX_use_PrivateKey(&ctx, key) == 1 && SSL_CTX_check_private_key(&ctx) == 1;
  X509_free(cert);
  EVP_PKEY_free(key);
  SSL_CTX_set_min_proto_version(&ctx, TLS1_2_VERSION);
  SSL_CTX_set_options(&ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_SESSION_RESUMPTION_ON_RENEGOTIATION);
  return ok;
}

}  // namespace

// Stop(): how long answers in progress get before connections are shut
// down, and how often the shutdown sweep repeats until the workers are gone.
constexpr std::chrono::milliseconds kStopGrace{1000};
constexpr std::chrono::milliseconds kStopPoll{20};

// The compact JSON text of stored objects, kept while the object lives.
// Stored objects are immutable shared snapshots, so a list page can copy
// each item's text instead of serialising it again: with 100,000+ pods the
// serialisation was most of the simulator's CPU while hpad listed its caches
// (issue 16), which a real API server does not spend the same way. Entries
// are found by the object's address and checked through a weak_ptr (a new
// object at a freed address is a miss); expired entries are swept when the
// table has doubled since the last sweep. Thread-safe (one mutex; the text
// is made outside it).
class SerializedObjects {
 public:
  void AppendTo(std::string& out, const std::shared_ptr<const Json>& obj) {
    {
      std::lock_guard<std::mutex> l(mu_);
      auto it = entries_.find(obj.get());
      if (it != entries_.end() && it->second.object.lock() == obj) {  // null once expired
        out += *it->second.text;
        return;
      }
    }
    auto text = std::make_shared<std::string>();
    AppendJson(*text, *obj);
    out += *text;
    std::lock_guard<std::mutex> l(mu_);
    entries_[obj.get()] = Entry{obj, std::move(text)};
    if (entries_.size() >= 2 * swept_size_ + 1024) {
      for (auto it = entries_.begin(); it != entries_.end();) {
        if (it->second.object.expired()) {
          it = entries_.erase(it);
        } else {
          ++it;
        }
      }
      swept_size_ = entries_.size();
    }
  }

 private:
  struct Entry {
    std::weak_ptr<const Json> object;
    std::shared_ptr<const std::string> text;
  };
  std::mutex mu_;
  std::unordered_map<const Json*, Entry> entries_;
  size_t swept_size_ = 0;
};

struct ApiServer::Impl {
  ClusterState& state;
  ApiServerOptions opts;
  FaultInjector faults;
  RequestLog requests;
  const Clock* wall;
  std::unique_ptr<httplib::Server> srv;
  std::thread thread;
  std::thread bookmarks;
  int port = 0;
  std::string token;
  std::string ca_pem;
  std::atomic<bool> stopping{false};
  // Requests being answered: from Handle() until httplib has written the
  // whole response (its logger runs then), so Stop's grace covers the
  // write too. Keyed by the Request, which lives for the whole exchange.
  std::mutex answering_mu;
  std::set<const httplib::Request*> answering;
  // Set by the listen thread once httplib has joined its workers.
  std::atomic<bool> listen_returned{false};
  bool started = false;
  std::mutex watchers_mu;
  std::set<std::shared_ptr<Watcher>> watchers;
  SerializedObjects serialized;  // list items' text (see the class)

  Impl(ClusterState& s, ApiServerOptions o) : state(s), opts(std::move(o)) {
    wall = opts.wall_clock != nullptr ? opts.wall_clock : &RealClock::Instance();
    token = opts.token;
    if (token.empty() && opts.tls) token = RandomToken();
  }

  // ---- responses ----
  static void Send(httplib::Response& res, int code, const Json& body) {
    res.status = code;
    // Foreign text (a User-Agent in the request log, a name) may be invalid UTF-8.
    res.set_content(body.dump(-1, ' ', false, Json::error_handler_t::replace), kJson);
  }
  static void SendError(httplib::Response& res, const Status& s, const std::string& name = {},
                        const std::string& group = {}, const std::string& kind = {}) {
    Json body = api::StatusBody(s, name, group, kind);
    Send(res, body["code"].get<int>(), body);
  }
  static void SendNotFoundPath(httplib::Response& res) {
    SendError(res, MakeStatus(404, "the server could not find the requested resource", "NotFound"));
  }

  Time Now() const { return state.clock().Now(); }

  // ---- entry point ----
  void Handle(const httplib::Request& req, httplib::Response& res) {
    {
      std::lock_guard<std::mutex> l(answering_mu);
      answering.insert(&req);
    }
    const MisbehaviorRule* rule = FindMisbehavior(req);
    if (rule != nullptr && !rule->RewritesAnswer()) {
      Misbehave(*rule, res);
      RecordMisbehavior(req, *rule, res.status);
      return;
    }
    std::string verb, resource, sub;
    const Time arrived = wall->Now();
    HandleInner(req, res, &verb, &resource, &sub);
    RequestRecord rec;
    rec.verb = verb;
    rec.resource = resource;
    rec.subresource = sub;
    rec.user_agent = req.get_header_value("User-Agent");
    rec.code = res.status;
    rec.arrived = arrived;
    rec.answered = wall->Now();
    PathObject(req.path, &rec.ns, &rec.name);
    if (sub == "scale" && (verb == "update" || verb == "patch") && res.status / 100 == 2)
      rec.replicas = ScaleReplicas(req.body);
    if (!verb.empty()) requests.Record(std::move(rec));
    if (rule != nullptr) {
      RewriteAnswer(*rule, res);
      RecordMisbehavior(req, *rule, res.status);
    }
  }

  // The namespace and object name of a resource path
  // (.../namespaces/NS/RESOURCE[/NAME[/SUB]]); empty when the path has none.
  static void PathObject(const std::string& path, std::string* ns, std::string* name) {
    std::vector<std::string> seg;
    for (size_t start = 1; start <= path.size();) {
      size_t slash = path.find('/', start);
      if (slash == std::string::npos) slash = path.size();
      seg.push_back(path.substr(start, slash - start));
      start = slash + 1;
    }
    for (size_t i = 0; i + 1 < seg.size(); ++i) {
      if (seg[i] != "namespaces") continue;
      *ns = seg[i + 1];
      if (i + 3 < seg.size()) *name = seg[i + 3];
      return;
    }
  }

  // spec.replicas of a scale write's body, -1 when absent. Only called for
  // writes answered 2xx, whose body the handler has already parsed.
  static int64_t ScaleReplicas(const std::string& body) {
    Json j = Json::parse(body, nullptr, /*allow_exceptions=*/false);
    if (!j.is_object()) return -1;
    auto spec = j.find("spec");
    if (spec == j.end() || !spec->is_object()) return -1;
    auto r = spec->find("replicas");
    if (r == spec->end() || !r->is_number_integer()) return -1;
    return r->get<int64_t>();
  }

  // ---- hostile answers (ApiServerOptions::misbehave, misbehavior.h) ----
  const MisbehaviorRule* FindMisbehavior(const httplib::Request& req) const {
    if (opts.misbehave.empty()) return nullptr;
    // Unauthenticated requests get their 401, not the hostile answer.
    if (opts.tls && req.get_header_value("Authorization") != "Bearer " + token) return nullptr;
    const bool watch = req.has_param("watch") && ParseBoolParam(req.get_param_value("watch"));
    for (const auto& r : opts.misbehave)
      if (r.Matches(req.method, req.path, watch)) return &r;
    return nullptr;
  }

  void RecordMisbehavior(const httplib::Request& req, const MisbehaviorRule& rule, int code) {
    RequestRecord rec;
    rec.verb = "misbehave";
    rec.resource = rule.text;
    rec.user_agent = req.get_header_value("User-Agent");
    rec.code = code;
    requests.Record(std::move(rec));
  }

  // Sleeps `d` of wall time; false when the server is stopping.
  bool WallWait(std::chrono::milliseconds d) {
    wall->WaitUntil(wall->Now() + d, [this] { return stopping.load(); });
    return !stopping;
  }

  void Misbehave(const MisbehaviorRule& rule, httplib::Response& res) {
    res.status = 200;
    switch (rule.kind) {
      case MisbehaviorKind::kErrorText:
        res.status = static_cast<int>(rule.number);
        res.set_content(ErrorTextBody(), "text/plain; charset=utf-8");
        return;
      case MisbehaviorKind::kDeep:
        res.set_content(DeepBody(rule.number), kJson);
        return;
      case MisbehaviorKind::kHuge: {
        // Streamed in 1 MiB pieces: the simulator does not hold the body.
        const std::string head = R"({"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":")";
        const std::string tail = "\"}";
        const size_t padding = static_cast<size_t>(rule.number) << 20;
        const size_t total = head.size() + padding + tail.size();
        res.set_content_provider(total, kJson, [head, tail, padding, total](size_t offset, size_t, httplib::DataSink& sink) {
          std::string piece;
          if (offset < head.size()) {
            piece = head.substr(offset);
          } else if (offset < head.size() + padding) {
            piece.assign(std::min<size_t>(1 << 20, head.size() + padding - offset), 'x');
          } else {
            piece = tail.substr(offset - head.size() - padding);
          }
          (void)total;
          return sink.write(piece.data(), piece.size());
        });
        return;
      }
      case MisbehaviorKind::kReset:
        // Headers announcing a body, then the connection closes.
        res.set_content_provider(1024, kJson, [](size_t, size_t, httplib::DataSink&) { return false; });
        return;
      case MisbehaviorKind::kWatchError: {
        Json status = {{"kind", "Status"}, {"apiVersion", "v1"}, {"metadata", Json::object()},
                       {"status", "Failure"}, {"message", "misbehave: watch error with code " + std::to_string(rule.number)},
                       {"reason", "InternalError"}, {"code", rule.number}};
        const std::string line = Json{{"type", "ERROR"}, {"object", status}}.dump() + "\n";
        res.set_chunked_content_provider("application/json;stream=watch", [line](size_t, httplib::DataSink& sink) {
          sink.write(line.data(), line.size());
          sink.done();
          return true;
        });
        return;
      }
      case MisbehaviorKind::kGone:
        SendError(res, MakeStatus(410, "too old resource version: 1 (1) (hpad-sim --misbehave gone)", "Expired"));
        return;
      default:
        return;
    }
  }

  void RewriteAnswer(const MisbehaviorRule& rule, httplib::Response& res) {
    if (res.content_provider_) return;  // a stream (watch): answered normally
    std::string content_type = res.get_header_value("Content-Type");
    if (content_type.empty()) content_type = kJson;
    switch (rule.kind) {
      case MisbehaviorKind::kWrongTypes:
      case MisbehaviorKind::kNulls:
      case MisbehaviorKind::kNonUtf8:
        res.body = RewriteJsonBody(rule.kind, res.body);
        return;
      case MisbehaviorKind::kTruncated:
        res.body.resize(res.body.size() / 2);
        return;
      case MisbehaviorKind::kCutoff: {
        // Content-Length of the whole body, half of it sent, then the
        // connection closes.
        auto body = std::make_shared<std::string>(std::move(res.body));
        res.body.clear();
        res.headers.erase("Content-Type");
        const size_t half = body->size() / 2;
        res.set_content_provider(body->size(), content_type, [body, half](size_t offset, size_t, httplib::DataSink& sink) {
          if (offset >= half || half == 0) return false;
          return sink.write(body->data() + offset, half - offset);
        });
        return;
      }
      case MisbehaviorKind::kTrickle: {
        auto body = std::make_shared<std::string>(std::move(res.body));
        res.body.clear();
        res.headers.erase("Content-Type");
        const auto interval = rule.interval;
        res.set_content_provider(body->size(), content_type,
                                 [this, body, interval](size_t offset, size_t, httplib::DataSink& sink) {
                                   if (!WallWait(interval)) return false;
                                   const size_t n = std::min<size_t>(16, body->size() - offset);
                                   return sink.write(body->data() + offset, n);
                                 });
        return;
      }
      default:
        return;
    }
  }

  Json RequestLogJson() const {
    Json counts = Json::object();
    for (const auto& [key, n] : requests.Counts()) counts[key] = n;
    Json writes = Json::array();
    for (const auto& w : requests.Writes()) {
      writes.push_back({{"seq", w.seq}, {"verb", w.verb}, {"resource", w.resource}, {"subresource", w.subresource},
                        {"userAgent", w.user_agent}, {"code", w.code}});
    }
    return {{"counts", counts}, {"writes", writes}};
  }

  void HandleInner(const httplib::Request& req, httplib::Response& res, std::string* verb, std::string* resource,
                   std::string* sub) {
    std::vector<std::string> seg;
    for (const std::string& s : SplitString(req.path, '/'))
      if (!s.empty()) seg.push_back(s);
    Query q;
    for (const auto& [k, v] : req.params)
      if (q.count(k) == 0) q[k] = v;

    bool open_path = seg.size() == 1 && (seg[0] == "version" || seg[0] == "healthz" || seg[0] == "readyz" ||
                                         seg[0] == "livez");
    if (opts.tls && !open_path) {
      // Over HTTPS every client sends its bearer token (kubectl-compat 0).
      if (req.get_header_value("Authorization") != "Bearer " + token) {
        SendError(res, MakeStatus(401, "Unauthorized", "Unauthorized"));
        return;
      }
    }
    const std::string& method = req.method;
    if (seg.empty()) {
      Send(res, 200, {{"paths", {"/api", "/api/v1", "/apis", "/healthz", "/openapi/v3", "/version"}}});
      return;
    }
    if (open_path) {
      if (seg[0] == "version") Send(res, 200, api::VersionDoc(opts.version_minor));
      else res.set_content("ok", "text/plain");
      return;
    }
    if (seg[0] == "openapi") {
      if (seg.size() == 2 && seg[1] == "v3") return Send(res, 200, api::OpenApiV3Root(state));
      if (seg.size() > 2 && seg[1] == "v3") {
        std::string gv;
        for (size_t i = 2; i < seg.size(); ++i) gv += (i > 2 ? "/" : "") + seg[i];
        auto doc = api::OpenApiV3Doc(state, gv);
        if (doc) return Send(res, 200, *doc);
      }
      return SendNotFoundPath(res);
    }
    if (seg.size() == 2 && seg[0] == "hpad-sim" && seg[1] == "requests" && method == "GET") {
      return Send(res, 200, RequestLogJson());
    }
    if (seg[0] == "api") {
      if (seg.size() == 1) return Send(res, 200, api::ApiVersionsDoc());
      if (seg[1] != "v1") return SendNotFoundPath(res);
      if (seg.size() == 2) return SendDoc(res, api::ApiResourceListDoc(state, "", "v1"));
      return HandleResource(req, res, q, "", "v1", {seg.begin() + 2, seg.end()}, verb, resource, sub);
    }
    if (seg[0] == "apis") {
      if (seg.size() == 1) return Send(res, 200, api::ApiGroupListDoc(state));
      if (seg.size() == 2) return SendDoc(res, api::ApiGroupDoc(state, seg[1]));
      if (seg.size() == 3) return SendDoc(res, api::ApiResourceListDoc(state, seg[1], seg[2]));
      if (api::IsMetricsGroup(seg[1])) return HandleMetrics(req, res, q, seg, verb, resource);
      return HandleResource(req, res, q, seg[1], seg[2], {seg.begin() + 3, seg.end()}, verb, resource, sub);
    }
    (void)method;
    SendNotFoundPath(res);
  }

  void SendDoc(httplib::Response& res, const std::optional<Json>& doc) {
    if (doc) Send(res, 200, *doc);
    else SendNotFoundPath(res);
  }

  // Applies a fault decision; true when the request was answered by it.
  bool ApplyFault(const httplib::Request& req, httplib::Response& res, const std::string& api, const std::string& verb,
                  const std::string& resource, const std::string& sub) {
    FaultDecision d = faults.Decide(api, verb, resource, sub, req.get_header_value("User-Agent"));
    if (d.delay.count() > 0 && opts.slow_in_virtual_time) {
      // See ApiServerOptions::slow_in_virtual_time: no wall-clock wait; a
      // request slower than the client's timeout fails as it would time out.
      if (d.delay >= opts.slow_timeout && d.fail_code == 0) {
        SendError(res, MakeStatus(504,
                                  "the server was unable to return a response in the time allotted, but may still be "
                                  "processing the request (scenario faults: " + api + " slow:" +
                                      k8s::FormatGoDuration(d.delay) + ", client timeout " +
                                      k8s::FormatGoDuration(opts.slow_timeout) + ")",
                                  "Timeout"));
        return true;
      }
    } else if (d.delay.count() > 0) {
      Time until = wall->Now() + d.delay;
      wall->WaitUntil(until, [this] { return stopping.load(); });
    }
    if (d.fail_code != 0) {
      std::string msg = d.fail_code == 503 ? "the server is currently unable to handle the request"
                                           : "injected fault (scenario faults: " + api + ")";
      SendError(res, MakeStatus(d.fail_code, msg));
      return true;
    }
    return false;
  }

  void HandleMetrics(const httplib::Request& req, httplib::Response& res, const Query& q,
                     const std::vector<std::string>& seg, std::string* verb, std::string* resource) {
    const std::string& group = seg[1];
    *verb = seg.size() >= 4 && (seg.back() == "pods" || seg.back() == "nodes") ? "list" : "get";
    *resource = group;
    if (req.method != "GET") {
      return SendError(res, MakeStatus(405, "the server does not allow this method on the requested resource",
                                       "MethodNotAllowed"));
    }
    const char* api = group == "metrics.k8s.io" ? "resourceMetrics"
                      : group == "custom.metrics.k8s.io" ? "customMetrics" : "externalMetrics";
    if (ApplyFault(req, res, api, *verb, group, "")) return;
    auto out = api::ServeMetricsSerialized(state, group, {seg.begin() + 3, seg.end()}, q);
    if (!out.ok()) return SendError(res, out.status());
    res.status = 200;
    res.set_content(*out, kJson);
  }

  // ---- resources ----
  void HandleResource(const httplib::Request& req, httplib::Response& res, const Query& q, const std::string& group,
                      const std::string& version, std::vector<std::string> rest, std::string* verb,
                      std::string* resource, std::string* sub) {
    ResourcePath p;
    if (rest.size() >= 3 && rest[0] == "namespaces" && rest[2] != "status" && rest[2] != "finalize") {
      p.ns = rest[1];
      rest.erase(rest.begin(), rest.begin() + 2);
    }
    if (rest.empty() || rest.size() > 3) return SendNotFoundPath(res);
    auto info = state.FindByGvr({group, version, rest[0]});
    if (!info) return SendNotFoundPath(res);
    p.info = *info;
    if (rest.size() > 1) p.name = rest[1];
    if (rest.size() > 2) p.sub = rest[2];
    if (!p.info.namespaced) p.ns.clear();
    if (!p.sub.empty() && !((p.sub == "status" && p.info.has_status) || (p.sub == "scale" && p.info.has_scale)))
      return SendNotFoundPath(res);
    if (p.info.namespaced && p.ns.empty() && !p.name.empty()) return SendNotFoundPath(res);

    const std::string& m = req.method;
    auto pq = q.find("watch");
    bool watch = pq != q.end() && ParseBoolParam(pq->second);
    if (m == "GET") *verb = p.name.empty() ? (watch ? "watch" : "list") : "get";
    else if (m == "POST") *verb = "create";
    else if (m == "PUT") *verb = "update";
    else if (m == "PATCH") *verb = "patch";
    else if (m == "DELETE") *verb = p.name.empty() ? "deletecollection" : "delete";
    *resource = p.info.gvr.resource;
    *sub = p.sub;
    if (ApplyFault(req, res, "apiserver", *verb, *resource, *sub)) return;

    if (*verb == "get") return DoGet(req, res, p);
    if (*verb == "list") return DoList(req, res, q, p);
    if (*verb == "watch") return DoWatch(req, res, q, p);
    if (*verb == "create") return DoCreate(req, res, q, p);
    if (*verb == "update") return DoUpdate(req, res, p);
    if (*verb == "patch") return DoPatch(req, res, p);
    if (*verb == "delete") return DoDelete(res, p);
    if (*verb == "deletecollection") return DoDeleteCollection(res, q, p);
    SendError(res, MakeStatus(405, "method not allowed", "MethodNotAllowed"));
  }

  void SendObjectError(httplib::Response& res, const Status& s, const ResourcePath& p, const std::string& name) {
    SendError(res, s, name, p.info.gvr.group, p.info.gvr.resource);
  }

  void DoGet(const httplib::Request& req, httplib::Response& res, const ResourcePath& p) {
    Result<Json> obj = p.sub == "scale" ? state.GetScale(p.info.gvr, p.ns, p.name) : state.Get(p.info.gvr, p.ns, p.name);
    if (!obj.ok()) return SendObjectError(res, obj.status(), p, p.name);
    if (p.sub.empty() && api::WantsTable(req.get_header_value("Accept"))) {
      std::string rv = StringOr((*obj)["metadata"], "resourceVersion");
      return Send(res, 200, api::MakeTable(p.info, {ForTable(p.info, *obj)}, rv, "", Now()));
    }
    Send(res, 200, *obj);
  }

  static ListQuery ListQueryFrom(const Query& q) {
    ListQuery lq;
    auto get = [&](const char* k) {
      auto it = q.find(k);
      return it == q.end() ? std::string() : it->second;
    };
    lq.label_selector = get("labelSelector");
    lq.field_selector = get("fieldSelector");
    lq.continue_token = get("continue");
    if (!get("limit").empty()) {
      auto limit = ParseInt64(get("limit"));
      lq.limit = limit.ok() ? *limit : 0;
    }
    return lq;
  }

  void DoList(const httplib::Request& req, httplib::Response& res, const Query& q, const ResourcePath& p) {
    auto list = state.ListShared(p.info.gvr, p.ns, ListQueryFrom(q));
    if (!list.ok()) return SendObjectError(res, list.status(), p, "");
    if (api::WantsTable(req.get_header_value("Accept"))) {
      std::vector<Json> items;
      for (const auto& o : list->items) items.push_back(ForTable(p.info, *o));
      return Send(res, 200, api::MakeTable(p.info, items, list->resource_version, list->continue_token, Now()));
    }
    Json md = {{"resourceVersion", list->resource_version}};
    if (!list->continue_token.empty()) {
      md["continue"] = list->continue_token;
      // Unknown (-1) with a selector: left out, as the real server does.
      if (list->remaining >= 0) md["remainingItemCount"] = list->remaining;
    }
    // The List object written straight from the shared items, byte for byte
    // what dumping {apiVersion, items, kind, metadata} would give (JSON
    // object keys are sorted), without copying the objects into it.
    std::string body = "{\"apiVersion\":" + Json(p.info.ApiVersion()).dump() + ",\"items\":[";
    bool first = true;
    for (const auto& o : list->items) {
      if (!first) body += ',';
      first = false;
      serialized.AppendTo(body, o);
    }
    body += "],\"kind\":" + Json(p.info.list_kind).dump() + ",\"metadata\":" + md.dump() + "}";
    res.status = 200;
    res.set_content(body, kJson);
  }

  void DoWatch(const httplib::Request& req, httplib::Response& res, const Query& q, const ResourcePath& p) {
    auto get = [&](const char* k) {
      auto it = q.find(k);
      return it == q.end() ? std::string() : it->second;
    };
    WatchOptions wo;
    wo.ns = p.ns;
    wo.label_selector = get("labelSelector");
    wo.field_selector = get("fieldSelector");
    wo.resource_version = get("resourceVersion");
    wo.allow_bookmarks = ParseBoolParam(get("allowWatchBookmarks"));
    Time deadline = Time::max();
    if (!get("timeoutSeconds").empty()) {
      auto seconds = ParseInt64(get("timeoutSeconds"));
      if (!seconds.ok()) return SendError(res, MakeStatus(400, "invalid timeoutSeconds", "BadRequest"));
      // Hostile sizes: past ~100 years the watch simply has no deadline
      // (seconds -> nanoseconds would overflow).
      constexpr int64_t kMaxSeconds = int64_t{100} * 365 * 24 * 3600;
      deadline = *seconds > kMaxSeconds ? Time::max() : wall->Now() + std::chrono::seconds(*seconds);
    }
    bool table = api::WantsTable(req.get_header_value("Accept"));
    auto w = state.Watch(p.info.gvr, wo);
    std::shared_ptr<Watcher> watcher;
    std::string first_line;
    if (!w.ok()) {
      if (w.status().code() != StatusCode::kGone) return SendObjectError(res, w.status(), p, "");
      // As the real server: 200, then one ERROR event carrying the 410 Status.
      first_line = Json{{"type", "ERROR"}, {"object", api::StatusBody(w.status())}}.dump() + "\n";
    } else {
      watcher = std::shared_ptr<Watcher>(std::move(*w));
      std::lock_guard<std::mutex> l(watchers_mu);
      if (stopping) watcher->Close();
      watchers.insert(watcher);
    }
    ResourceInfo info = p.info;
    // The content type is deliberately not exactly "application/json":
    // httplib would gzip that for clients sending Accept-Encoding (Go does),
    // and its gzip stream buffers events instead of flushing each line.
    // Clients parse only the media type (client-go mime.ParseMediaType).
    res.set_chunked_content_provider(
        "application/json;stream=watch",
        [this, watcher, table, info, deadline, first_line, first = true](size_t, httplib::DataSink& sink) mutable {
          if (first && !first_line.empty()) {
            first = false;
            sink.write(first_line.data(), first_line.size());
            sink.done();
            return true;
          }
          first = false;
          while (true) {
            if (stopping || watcher == nullptr) {
              sink.done();
              return true;
            }
            Time now = wall->Now();
            if (now >= deadline) {
              sink.done();
              return true;
            }
            auto wait = std::chrono::milliseconds(500);
            if (deadline != Time::max())
              wait = std::min(wait, std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now) +
                                        std::chrono::milliseconds(1));
            k8s::WatchEvent ev;
            EvType type = EvType::kError;
            std::shared_ptr<const std::string> text;
            // JSON events take the object already serialized (once per
            // event and version, shared by every watcher); Tables build their own.
            Watcher::Next r = table ? watcher->Wait(wait, &ev) : watcher->WaitSerialized(wait, &type, &text);
            if (r == Watcher::Next::kClosed) {
              sink.done();
              return true;
            }
            if (r == Watcher::Next::kTimeout) {
              if (!sink.is_writable()) return false;
              continue;
            }
            if (!table) {
              // What dumping {type, object} gives (keys sorted: object first).
              std::string line;
              line.reserve(text->size() + 40);
              line += "{\"object\":";
              line += *text;
              line += ",\"type\":\"";
              line += EventTypeName(type);
              line += "\"}\n";
              return sink.write(line.data(), line.size());
            }
            Json obj;
            if (table && ev.type != EvType::kBookmark) {
              std::string rv = StringOr(ev.object["metadata"], "resourceVersion");
              obj = api::MakeTable(info, {ForTable(info, ev.object)}, rv, "", Now());
            } else {
              obj = std::move(ev.object);
            }
            std::string line = Json{{"type", EventTypeName(ev.type)}, {"object", obj}}.dump() + "\n";
            return sink.write(line.data(), line.size());
          }
        },
        [this, watcher](bool) {
          if (watcher == nullptr) return;
          watcher->Close();
          std::lock_guard<std::mutex> l(watchers_mu);
          watchers.erase(watcher);
        });
  }

  Result<Json> DecodeBody(const httplib::Request& req) {
    std::string ct = AsciiLower(req.get_header_value("Content-Type"));
    if (ct.find("protobuf") != std::string::npos) return api::DecodeProtobufObject(req.body);
    try {
      return Json::parse(req.body);
    } catch (const std::exception& e) {
      if (ct.find("yaml") != std::string::npos) {
        auto y = k8s::YamlToJson(req.body, "request body");
        if (y.ok()) return *y;
      }
      return MakeStatus(400, std::string("the body of the request is not valid JSON: ") + e.what(), "BadRequest");
    }
  }

  void DoCreate(const httplib::Request& req, httplib::Response& res, const Query& q, const ResourcePath& p) {
    if (!p.name.empty()) return SendError(res, MakeStatus(405, "the server does not allow this method on the requested resource", "MethodNotAllowed"));
    auto body = DecodeBody(req);
    if (!body.ok()) return SendObjectError(res, body.status(), p, "");
    Json obj = std::move(*body);
    if (!obj.is_object()) return SendError(res, MakeStatus(400, "the body of the request was not a JSON object", "BadRequest"));
    // As the real server's PrepareForCreate: status is reset for kinds whose
    // status a controller owns (HPA, apps); pods keep theirs (the simulator is their kubelet).
    if (p.info.has_status && p.info.kind != "Pod" && p.info.kind != "Namespace") obj.erase("status");
    if (q.count("dryRun") != 0) return Send(res, 201, obj);
    auto created = state.Create(p.info.gvr, p.ns, obj);
    if (!created.ok()) return SendObjectError(res, created.status(), p, StringOr(obj["metadata"], "name"));
    Send(res, 201, *created);
  }

  Result<Json> Write(const ResourcePath& p, const Json& obj) {
    if (p.sub == "scale") return state.UpdateScale(p.info.gvr, p.ns, p.name, obj);
    if (p.sub == "status") return state.UpdateStatus(p.info.gvr, p.ns, obj);
    return state.Update(p.info.gvr, p.ns, obj);
  }

  void DoUpdate(const httplib::Request& req, httplib::Response& res, const ResourcePath& p) {
    auto body = DecodeBody(req);
    if (!body.ok()) return SendObjectError(res, body.status(), p, p.name);
    Json obj = std::move(*body);
    if (!obj.is_object()) return SendError(res, MakeStatus(400, "the body of the request was not a JSON object", "BadRequest"));
    std::string body_name = StringOr(obj["metadata"], "name");
    if (!body_name.empty() && body_name != p.name)
      return SendObjectError(res, MakeStatus(400, "the name of the object (" + body_name +
                                                      ") does not match the name on the URL (" + p.name + ")", "BadRequest"),
                             p, p.name);
    obj["metadata"]["name"] = p.name;
    auto out = Write(p, obj);
    if (!out.ok()) return SendObjectError(res, out.status(), p, p.name);
    Send(res, 200, *out);
  }

  void DoPatch(const httplib::Request& req, httplib::Response& res, const ResourcePath& p) {
    std::string ct = AsciiLower(req.get_header_value("Content-Type"));
    ct = Trim(ct.substr(0, ct.find(';')));
    bool apply = ct == "application/apply-patch+yaml";
    auto body = DecodeBody(req);
    if (!body.ok()) return SendObjectError(res, body.status(), p, p.name);
    const Json& patch = *body;
    bool patch_has_rv = patch.is_object() && JsonPathFind(patch, "metadata.resourceVersion") != nullptr;
    // The real server retries a patch internally when its base went stale;
    // so do we, unless the patch itself pins a resourceVersion.
    for (int attempt = 0; attempt < 5; ++attempt) {
      Result<Json> cur = p.sub == "scale" ? state.GetScale(p.info.gvr, p.ns, p.name) : state.Get(p.info.gvr, p.ns, p.name);
      if (!cur.ok()) {
        if (apply && cur.status().code() == StatusCode::kNotFound && p.sub.empty()) {
          // Server-side apply of a new object creates it.
          Json obj = patch;
          obj["metadata"]["name"] = p.name;
          auto created = state.Create(p.info.gvr, p.ns, obj);
          if (!created.ok()) return SendObjectError(res, created.status(), p, p.name);
          return Send(res, 201, *created);
        }
        return SendObjectError(res, cur.status(), p, p.name);
      }
      Json patched;
      if (ct == "application/merge-patch+json" || apply || ct == "application/json") {
        patched = MergePatch(*cur, patch);
      } else if (ct == "application/strategic-merge-patch+json") {
        patched = StrategicMergePatch(*cur, patch);
      } else if (ct == "application/json-patch+json") {
        auto r = JsonPatch(*cur, patch);
        if (!r.ok()) return SendObjectError(res, r.status(), p, p.name);
        patched = std::move(*r);
      } else {
        return SendError(res, MakeStatus(415, "the body of the request was in an unknown format - accepted media types "
                                              "include: application/json-patch+json, application/merge-patch+json, "
                                              "application/strategic-merge-patch+json, application/apply-patch+yaml",
                                         "UnsupportedMediaType"));
      }
      if (!patched.is_object()) return SendError(res, MakeStatus(400, "patch did not produce an object", "BadRequest"));
      if (!patch_has_rv) patched["metadata"]["resourceVersion"] = StringOr((*cur)["metadata"], "resourceVersion");
      patched["metadata"]["name"] = p.name;
      auto out = Write(p, patched);
      if (!out.ok()) {
        if (out.status().code() == StatusCode::kConflict && !patch_has_rv && out.status().reason() == "Conflict") continue;
        return SendObjectError(res, out.status(), p, p.name);
      }
      return Send(res, 200, *out);
    }
    SendObjectError(res, MakeStatus(409, "patch kept conflicting with concurrent writes", "Conflict"), p, p.name);
  }

  void DoDelete(httplib::Response& res, const ResourcePath& p) {
    auto out = state.Delete(p.info.gvr, p.ns, p.name);
    if (!out.ok()) return SendObjectError(res, out.status(), p, p.name);
    Json details = {{"name", p.name}, {"group", p.info.gvr.group}, {"kind", p.info.gvr.resource},
                    {"uid", StringOr((*out)["metadata"], "uid")}};
    Send(res, 200, {{"kind", "Status"}, {"apiVersion", "v1"}, {"metadata", Json::object()}, {"status", "Success"},
                    {"details", details}});
  }

  void DoDeleteCollection(httplib::Response& res, const Query& q, const ResourcePath& p) {
    ListQuery lq = ListQueryFrom(q);
    lq.limit = 0;
    auto list = state.List(p.info.gvr, p.ns, lq);
    if (!list.ok()) return SendObjectError(res, list.status(), p, "");
    Json out = {{"kind", p.info.list_kind}, {"apiVersion", p.info.ApiVersion()},
                {"metadata", {{"resourceVersion", list->resource_version}}}, {"items", Json::array()}};
    for (const Json& o : list->items) {
      auto d = state.Delete(p.info.gvr, StringOr(o["metadata"], "namespace"), StringOr(o["metadata"], "name"));
      if (d.ok()) out["items"].push_back(*d);
    }
    Send(res, 200, out);
  }

  // ---- lifecycle ----
  Result<int> Start() {
    if (started) return port;
    if (opts.tls) {
      auto ca = k8s::CertAuthority::Create("hpad-sim-ca", wall->Now());
      if (!ca.ok()) return ca.status().WithContext("creating the CA");
      auto serving = ca->IssueServingCert({"localhost"}, {"127.0.0.1", "::1"});
      if (!serving.ok()) return serving.status().WithContext("issuing the serving certificate");
      ca_pem = ca->cert_pem();
      std::string cert = serving->cert_pem, key = serving->key_pem;
      srv = std::make_unique<httplib::SSLServer>([cert, key](SSL_CTX& ctx) { return LoadPem(ctx, cert, key); });
    } else {
      srv = std::make_unique<httplib::Server>();
    }
    if (!srv->is_valid()) return InternalError("the HTTP server could not be set up (TLS context)");
    size_t threads = static_cast<size_t>(std::max(4, opts.threads));
    srv->new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
    // Keep-alive like a real API server (Go's net/http: no request limit,
    // idle connections kept for minutes): clients pool connections (cpprest
    // drops idle ones after 30-60 s, Go's after 90 s), and a server that
    // closes them first - httplib's default is 5 s - makes the next request
    // on a pooled connection fail while being written (issue 7: "Failed to
    // write request body" on status PUTs). 120 s outlasts those pools. An
    // idle connection holds one of the pool's threads; Stop() waits until
    // the clients have gone (they close their connections when they exit).
    srv->set_keep_alive_max_count(1000000);
    srv->set_keep_alive_timeout(120);
    // Responses are written in pieces (headers, body chunks): without
    // TCP_NODELAY, Nagle + the client's delayed ACK add ~40 ms per request.
    srv->set_tcp_nodelay(true);
    srv->set_payload_max_length(64 << 20);
    auto handler = [this](const httplib::Request& req, httplib::Response& res) { Handle(req, res); };
    srv->Get(".*", handler);
    srv->Post(".*", handler);
    srv->Put(".*", handler);
    srv->Patch(".*", handler);
    srv->Delete(".*", handler);
    // Called once the response is written (or its body failed): the end of
    // an answer for Stop's grace. A response whose headers could not be
    // written is never logged; the grace's bound covers that one.
    srv->set_logger([this](const httplib::Request& req, const httplib::Response&) {
      std::lock_guard<std::mutex> l(answering_mu);
      answering.erase(&req);
    });
    srv->set_exception_handler([](const httplib::Request&, httplib::Response& res, std::exception_ptr ep) {
      std::string what = "unknown";
      try {
        std::rethrow_exception(ep);
      } catch (const std::exception& e) {
        what = e.what();
      } catch (...) {
      }
      SendError(res, MakeStatus(500, "internal error: " + what, "InternalError"));
    });
    if (opts.port == 0) {
      port = srv->bind_to_any_port(opts.bind_address);
      if (port <= 0) return UnavailableError("cannot bind " + opts.bind_address);
    } else {
      if (!srv->bind_to_port(opts.bind_address, opts.port))
        return UnavailableError("cannot bind " + opts.bind_address + ":" + std::to_string(opts.port));
      port = opts.port;
    }
    listen_returned = false;
    thread = std::thread([this] {
      srv->listen_after_bind();
      listen_returned = true;
    });
    if (opts.bookmark_interval.count() > 0) {
      bookmarks = std::thread([this] {
        while (!stopping) {
          wall->WaitUntil(wall->Now() + opts.bookmark_interval, [this] { return stopping.load(); });
          if (!stopping) state.BroadcastBookmarks();
        }
      });
    }
    started = true;
    return port;
  }

  size_t DropWatches() {
    std::lock_guard<std::mutex> l(watchers_mu);
    for (auto& w : watchers) w->Close();
    return watchers.size();
  }

  void Stop() {
    if (!started) return;
    stopping = true;
    {
      std::lock_guard<std::mutex> l(watchers_mu);
      for (auto& w : watchers) w->Close();
    }
    wall->Notify();
    // Closes the listener: no new connection from here on. httplib's listen
    // thread then joins its workers, and a worker keeps its connection
    // while the client keeps it open (keep-alive, 120 s idle).
    srv->stop();
    // A short grace for what is being answered: handlers finish (slow:
    // faults wake on `stopping`), their responses are written and closed
    // watch streams write their final chunk, so a client gets whole answers...
    const RealClock& real = RealClock::Instance();
    const MonoTime grace_end = real.MonoNow() + kStopGrace;
    auto idle = [this] {
      std::scoped_lock l(watchers_mu, answering_mu);
      return answering.empty() && watchers.empty();
    };
    while (!idle() && real.MonoNow() < grace_end) real.WaitUntil(real.MonoNow() + kStopPoll, [] { return false; });
    // ...then every accepted connection is shut down, idle keep-alive ones
    // included, until the workers are gone: a client holding a connection
    // open cannot hold the server (issue 15; `hpad-sim serve` on SIGTERM).
    while (!listen_returned.load()) {
      ShutdownAcceptedConnections(port);
      real.WaitUntil(real.MonoNow() + kStopPoll, [this] { return listen_returned.load(); });
    }
    if (thread.joinable()) thread.join();
    if (bookmarks.joinable()) bookmarks.join();
    started = false;
  }
};

ApiServer::ApiServer(ClusterState& state, ApiServerOptions options)
    : impl_(std::make_unique<Impl>(state, std::move(options))) {}

ApiServer::~ApiServer() { Stop(); }

Result<int> ApiServer::Start() { return impl_->Start(); }
void ApiServer::Stop() { impl_->Stop(); }
size_t ApiServer::DropWatches() { return impl_->DropWatches(); }
Result<size_t> ApiServer::WarmListText(const GroupVersionResource& gvr) {
  auto list = impl_->state.ListShared(gvr, "", ListQuery{});
  if (!list.ok()) return list.status();
  std::string scratch;
  for (const auto& o : list->items) {
    scratch.clear();
    impl_->serialized.AppendTo(scratch, o);
  }
  return list->items.size();
}

FaultInjector& ApiServer::faults() { return impl_->faults; }
RequestLog& ApiServer::requests() { return impl_->requests; }
const RequestLog& ApiServer::requests() const { return impl_->requests; }

int ApiServer::port() const { return impl_->port; }

std::string ApiServer::url() const {
  return std::string(impl_->opts.tls ? "https://" : "http://") + impl_->opts.bind_address + ":" +
         std::to_string(impl_->port);
}

const std::string& ApiServer::token() const { return impl_->token; }
const std::string& ApiServer::ca_pem() const { return impl_->ca_pem; }

std::string ApiServer::KubeconfigYaml() const {
  std::string out = "apiVersion: v1\nkind: Config\nclusters:\n- name: hpad-sim\n  cluster:\n    server: " + url() + "\n";
  if (impl_->opts.tls) out += "    certificate-authority-data: " + Base64Encode(impl_->ca_pem) + "\n";
  out += "users:\n- name: hpad-sim\n  user:\n";
  if (!impl_->token.empty()) out += "    token: " + impl_->token + "\n";
  else out += "    {}\n";
  out += "contexts:\n- name: hpad-sim\n  context:\n    cluster: hpad-sim\n    user: hpad-sim\n    namespace: default\n"
         "current-context: hpad-sim\n";
  return out;
}

Status ApiServer::WriteKubeconfig(const std::string& path) const {
  std::ofstream f(path, std::ios::trunc);
  if (!f) return InvalidError("cannot write kubeconfig " + path);
  f << KubeconfigYaml();
  f.close();
  if (!f) return InvalidError("cannot write kubeconfig " + path);
  return Status::Ok();
}

}  // namespace hpad::sim
