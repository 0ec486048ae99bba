// Free functions declared in api_client.h: URL building, content types and the
// HTTP status -> StatusCode mapping shared by every ApiClient implementation.
// All functions are pure and thread-safe.
#include "k8sclient/api_client.h"

#include <string_view>
#include <utility>
#include <vector>

#include "k8sclient/api/json_parse.h"
#include "k8sclient/base/text.h"

namespace hpad::k8s {

std::string UrlEncode(const std::string& s) { return PercentEncodeQueryValue(s); }

std::string ObjectKey::Path() const {
  std::string p = gvr.BasePath();
  if (!ns.empty()) p += "/namespaces/" + PercentEncodePathSegment(ns);
  p += "/" + PercentEncodePathSegment(gvr.resource);
  if (!name.empty()) {
    p += "/" + PercentEncodePathSegment(name);
    if (!subresource.empty()) p += "/" + PercentEncodePathSegment(subresource);
  }
  return p;
}

std::string ListOptions::ToQuery(bool watch) const {
  // Keys in alphabetical order, as Go's url.Values.Encode emits them, so the
  // requests we send look like client-go's (and tests can compare strings).
  std::vector<std::pair<std::string, std::string>> kv;
  if (watch && allow_watch_bookmarks) kv.emplace_back("allowWatchBookmarks", "true");
  if (!watch && !continue_token.empty()) kv.emplace_back("continue", continue_token);
  if (!field_selector.empty()) kv.emplace_back("fieldSelector", field_selector);
  if (!label_selector.empty()) kv.emplace_back("labelSelector", label_selector);
  if (!watch && limit > 0) kv.emplace_back("limit", std::to_string(limit));
  if (!resource_version.empty()) kv.emplace_back("resourceVersion", resource_version);
  if (timeout_seconds) kv.emplace_back("timeoutSeconds", std::to_string(*timeout_seconds));
  if (watch) kv.emplace_back("watch", "true");
  std::string q;
  for (const auto& [k, v] : kv) {
    if (!q.empty()) q += '&';
    q += k + "=" + UrlEncode(v);
  }
  return q;
}

const char* PatchContentType(PatchType t) {
  switch (t) {
    case PatchType::kMerge: return "application/merge-patch+json";
    case PatchType::kStrategicMerge: return "application/strategic-merge-patch+json";
    case PatchType::kJsonPatch: return "application/json-patch+json";
  }
  return "application/merge-patch+json";
}

const char* WatchEventTypeName(WatchEvent::Type t) {
  switch (t) {
    case WatchEvent::Type::kAdded: return "ADDED";
    case WatchEvent::Type::kModified: return "MODIFIED";
    case WatchEvent::Type::kDeleted: return "DELETED";
    case WatchEvent::Type::kBookmark: return "BOOKMARK";
    case WatchEvent::Type::kError: return "ERROR";
  }
  return "UNKNOWN";
}

namespace {

// The default reason apimachinery uses for a code when the body carries none
// (k8s.io/apimachinery/pkg/api/errors: NewGenericServerResponse).
const char* DefaultReason(int code) {
  switch (code) {
    case 400: return "BadRequest";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "NotFound";
    case 405: return "MethodNotAllowed";
    case 406: return "NotAcceptable";
    case 408: return "Timeout";
    case 409: return "Conflict";
    case 410: return "Expired";
    case 413: return "RequestEntityTooLarge";
    case 415: return "UnsupportedMediaType";
    case 422: return "Invalid";
    case 429: return "TooManyRequests";
    case 500: return "InternalError";
    case 503: return "ServiceUnavailable";
    case 504: return "Timeout";
    default: return "";
  }
}

StatusCode CodeForHttp(int code) {
  if (code >= 200 && code < 300) return StatusCode::kOk;
  switch (code) {
    case 401: return StatusCode::kUnauthorized;
    case 403: return StatusCode::kForbidden;
    case 404: return StatusCode::kNotFound;
    case 408: return StatusCode::kTimeout;
    case 409: return StatusCode::kConflict;
    case 410: return StatusCode::kGone;
    case 429: return StatusCode::kTooManyRequests;
    case 504: return StatusCode::kTimeout;
    default: break;
  }
  if (code >= 400 && code < 500) return StatusCode::kInvalid;  // 400, 405, 406, 413, 415, 422, ...
  if (code >= 500 && code < 600) return StatusCode::kUnavailable;  // the API server cannot serve us now
  // 1xx/3xx (we never follow redirects: a redirect from an API server is a
  // misconfiguration) and garbage codes.
  return StatusCode::kInternal;
}

// Reasons that refine the code: an apiserver answers 500 with reason
// ServerTimeout / Timeout when its own deadline passed, and 410 can come as
// reason Gone or Expired (both "resourceVersion too old").
StatusCode RefineByReason(StatusCode base, std::string_view reason) {
  if (reason == "Timeout" || reason == "ServerTimeout") return StatusCode::kTimeout;
  if (reason == "Expired" || reason == "Gone") return StatusCode::kGone;
  if (reason == "AlreadyExists" || reason == "Conflict") return StatusCode::kConflict;
  if (reason == "TooManyRequests") return StatusCode::kTooManyRequests;
  return base;
}

// Reads an optional string field of a Status (or of its details/causes);
// a present non-string is an error naming the field. (`kind` is checked by
// the callers, where null is an error: a body saying `"kind": null` is not
// a Status we can trust.)
bool StatusString(const Json& obj, const char* key, const std::string& path, std::string* out, std::string* error) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return true;  // null is absent, as Go's decoder reads it
  if (!it->is_string()) {
    *error = "field \"" + path + key + "\": expected string, got " + DescribeJson(*it);
    return false;
  }
  *out = it->get_ref<const std::string&>();
  return true;
}

// Decodes the reason and message of a metav1.Status object with checked
// types. Returns "" or the decoding error.
std::string DecodeStatusFields(const Json& j, std::string* reason, std::string* message) {
  std::string error;
  if (!StatusString(j, "reason", "", reason, &error)) return error;
  if (!StatusString(j, "message", "", message, &error)) return error;
  auto details = j.find("details");
  if (details == j.end() || details->is_null()) return "";
  if (!details->is_object()) return "field \"details\": expected object, got " + DescribeJson(*details);
  if (message->empty()) {
    std::string kind, name;
    if (!StatusString(*details, "kind", "details.", &kind, &error)) return error;
    if (!StatusString(*details, "name", "details.", &name, &error)) return error;
    *message = kind + " \"" + name + "\"";
  }
  // Causes name the failing fields of a 422; keep them for the user.
  auto causes = details->find("causes");
  if (causes == details->end() || causes->is_null()) return "";
  if (!causes->is_array()) return "field \"details.causes\": expected list, got " + DescribeJson(*causes);
  for (size_t i = 0; i < causes->size(); ++i) {
    const Json& c = (*causes)[i];
    std::string path = "details.causes[" + std::to_string(i) + "].";
    if (!c.is_object()) return "field \"" + path.substr(0, path.size() - 1) + "\": expected object, got " + DescribeJson(c);
    std::string field, cm;
    if (!StatusString(c, "field", path, &field, &error)) return error;
    if (!StatusString(c, "message", path, &cm, &error)) return error;
    if (cm.empty() || message->find(cm) != std::string::npos) continue;
    *message += "; " + (field.empty() ? cm : field + ": " + cm);
    if (message->size() > kDefaultSafeTextBytes) break;  // the rest would be cut anyway
  }
  return "";
}

// The Status for an error reply `code` whose body decoded to the
// metav1.Status `j` (kind already checked by the caller).
Status StatusFromDecoded(int http_code, const Json& j) {
  StatusCode code = CodeForHttp(http_code);
  std::string reason, message;
  std::string error = DecodeStatusFields(j, &reason, &message);
  if (!error.empty()) {
    return Status(code, SafeText("decoding Status from " + std::to_string(http_code) + " reply: " + error),
                  DefaultReason(http_code), http_code);
  }
  if (reason.empty()) reason = DefaultReason(http_code);
  else code = RefineByReason(code, reason);
  if (message.empty()) {
    message = "HTTP " + std::to_string(http_code);
    if (!reason.empty()) message += " " + reason;
  }
  return Status(code, SafeText(message), SafeText(reason, 128), http_code);
}

}  // namespace

Status StatusFromHttp(int http_code, const std::string& body) {
  StatusCode code = CodeForHttp(http_code);
  if (code == StatusCode::kOk) return Status::Ok();

  // A metav1.Status body (kind: Status) carries reason/message/details; other
  // bodies (proxies, load balancers, metrics adapters) are quoted, shortened
  // and made safe: they may hold any bytes.
  auto parsed = ParseForeignJson(body, "error reply");
  if (parsed.ok() && parsed->is_object()) {
    const Json& j = *parsed;
    auto kind = j.find("kind");
    if (kind != j.end()) {
      if (!kind->is_string()) {
        return Status(code,
                      "decoding Status from " + std::to_string(http_code) +
                          " reply: field \"kind\": expected string, got " + DescribeJson(*kind),
                      DefaultReason(http_code), http_code);
      }
      if (kind->get_ref<const std::string&>() == "Status") return StatusFromDecoded(http_code, j);
    }
  }
  std::string reason = DefaultReason(http_code);
  std::string message = "HTTP " + std::to_string(http_code);
  if (!reason.empty()) message += " " + reason;
  std::string_view trimmed = body;
  while (!trimmed.empty() && (trimmed.back() == '\n' || trimmed.back() == '\r' || trimmed.back() == ' '))
    trimmed.remove_suffix(1);
  if (!trimmed.empty()) message += ": " + SafeText(trimmed, 256);
  return Status(code, std::move(message), std::move(reason), http_code);
}

Status StatusFromStatusObject(int http_code, const Json& status) {
  if (CodeForHttp(http_code) == StatusCode::kOk) return Status::Ok();
  if (!status.is_object()) {
    return Status(CodeForHttp(http_code),
                  "decoding Status from " + std::to_string(http_code) + " reply: expected object, got " +
                      DescribeJson(status),
                  DefaultReason(http_code), http_code);
  }
  auto kind = status.find("kind");
  if (kind != status.end() && !kind->is_string()) {
    return Status(CodeForHttp(http_code),
                  "decoding Status from " + std::to_string(http_code) +
                      " reply: field \"kind\": expected string, got " + DescribeJson(*kind),
                  DefaultReason(http_code), http_code);
  }
  return StatusFromDecoded(http_code, status);
}

}  // namespace hpad::k8s
