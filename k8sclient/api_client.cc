// Free functions declared in api_client.h: URL building, content types and the
// HTTP status -> StatusCode mapping shared by every ApiClient implementation.
// All functions are pure and thread-safe.
#include "k8sclient/api_client.h"

#include <string_view>
#include <utility>
#include <vector>

namespace hpad::k8s {

std::string UrlEncode(const std::string& s) {
  static const char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(s.size());
  for (unsigned char c : s) {
    // RFC 3986 unreserved characters pass through; everything else (including
    // '=' ',' '!' '(' ')' ' ' used by selectors) is %XX like Go's url.QueryEscape,
    // except that a space becomes %20 rather than '+' (both decode the same).
    bool unreserved = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                      c == '-' || c == '.' || c == '_' || c == '~';
    if (unreserved) {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 0xF]);
    }
  }
  return out;
}

std::string ObjectKey::Path() const {
  std::string p = gvr.BasePath();
  if (!ns.empty()) p += "/namespaces/" + UrlEncode(ns);
  p += "/" + gvr.resource;
  if (!name.empty()) {
    p += "/" + UrlEncode(name);
    if (!subresource.empty()) p += "/" + subresource;
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

std::string Truncate(const std::string& s, size_t n) {
  if (s.size() <= n) return s;
  return s.substr(0, n) + "...";
}

}  // namespace

Status StatusFromHttp(int http_code, const std::string& body) {
  StatusCode code = CodeForHttp(http_code);
  if (code == StatusCode::kOk) return Status::Ok();

  std::string reason;
  std::string message;
  // A metav1.Status body (kind: Status) carries reason/message/details; other
  // bodies (proxies, load balancers) are quoted verbatim, shortened.
  Json j = Json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (j.is_object() && j.value("kind", "") == "Status") {
    if (j.contains("reason") && j["reason"].is_string()) reason = j["reason"].get<std::string>();
    if (j.contains("message") && j["message"].is_string()) message = j["message"].get<std::string>();
    if (message.empty() && j.contains("details") && j["details"].is_object()) {
      const Json& d = j["details"];
      message = d.value("kind", "") + " \"" + d.value("name", "") + "\"";
    }
    // Causes name the failing fields of a 422; keep them for the user.
    if (j.contains("details") && j["details"].is_object() && j["details"].contains("causes") &&
        j["details"]["causes"].is_array()) {
      for (const Json& c : j["details"]["causes"]) {
        if (!c.is_object()) continue;
        std::string field = c.value("field", "");
        std::string cm = c.value("message", "");
        if (cm.empty() || message.find(cm) != std::string::npos) continue;
        message += "; " + (field.empty() ? cm : field + ": " + cm);
      }
    }
  }
  if (reason.empty()) reason = DefaultReason(http_code);
  else code = RefineByReason(code, reason);
  if (message.empty()) {
    message = "HTTP " + std::to_string(http_code);
    if (!reason.empty()) message += " " + reason;
    std::string trimmed = body;
    while (!trimmed.empty() && (trimmed.back() == '\n' || trimmed.back() == '\r' || trimmed.back() == ' '))
      trimmed.pop_back();
    if (!trimmed.empty()) message += ": " + Truncate(trimmed, 256);
  }
  return Status(code, std::move(message), std::move(reason), http_code);
}

}  // namespace hpad::k8s
