#include "k8sclient/watch_decoder.h"

namespace hpad::k8s {

namespace {

std::optional<WatchEvent::Type> ParseType(const std::string& s) {
  if (s == "ADDED") return WatchEvent::Type::kAdded;
  if (s == "MODIFIED") return WatchEvent::Type::kModified;
  if (s == "DELETED") return WatchEvent::Type::kDeleted;
  if (s == "BOOKMARK") return WatchEvent::Type::kBookmark;
  if (s == "ERROR") return WatchEvent::Type::kError;
  return std::nullopt;
}

std::string Excerpt(std::string_view line) {
  constexpr size_t kMax = 120;
  if (line.size() <= kMax) return std::string(line);
  return std::string(line.substr(0, kMax)) + "...";
}

}  // namespace

Result<std::optional<WatchEvent>> DecodeWatchLine(std::string_view line) {
  while (!line.empty() && (line.back() == '\r' || line.back() == ' ' || line.back() == '\t')) line.remove_suffix(1);
  while (!line.empty() && (line.front() == ' ' || line.front() == '\t')) line.remove_prefix(1);
  if (line.empty()) return std::optional<WatchEvent>();
  Json j = Json::parse(line.begin(), line.end(), nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object())
    return InvalidError("watch stream: not a JSON object: " + Excerpt(line));
  auto t = j.find("type");
  if (t == j.end() || !t->is_string()) return InvalidError("watch stream: event without \"type\": " + Excerpt(line));
  auto type = ParseType(t->get<std::string>());
  if (!type) return InvalidError("watch stream: unknown event type \"" + t->get<std::string>() + "\"");
  auto o = j.find("object");
  if (o == j.end() || !o->is_object())
    return InvalidError("watch stream: " + t->get<std::string>() + " event without an object");
  WatchEvent ev;
  ev.type = *type;
  ev.object = std::move(*o);
  return std::optional<WatchEvent>(std::move(ev));
}

Status StatusFromWatchError(const WatchEvent& event) {
  const Json& o = event.object;
  if (!o.is_object() || !o.contains("code") || !o["code"].is_number_integer())
    return InternalError("watch ERROR event without a Status: " + Excerpt(o.dump()));
  int code = o["code"].get<int>();
  // Status objects always say kind: Status, but be lenient about a missing kind.
  Json status = o;
  if (!status.contains("kind")) status["kind"] = "Status";
  Status s = StatusFromHttp(code, status.dump());
  if (s.ok()) return InternalError("watch ERROR event with success code " + std::to_string(code));
  return s;
}

void WatchEventDecoder::Feed(std::string_view bytes) {
  size_t start = 0;
  for (;;) {
    size_t nl = bytes.find('\n', start);
    if (nl == std::string_view::npos) break;
    std::string_view piece = bytes.substr(start, nl - start);
    if (partial_.empty()) {
      DecodeAndQueue(piece);
    } else {
      partial_.append(piece);
      std::string line = std::move(partial_);
      partial_.clear();
      DecodeAndQueue(line);
    }
    start = nl + 1;
  }
  partial_.append(bytes.substr(start));
}

void WatchEventDecoder::Finish() {
  if (partial_.empty()) return;
  std::string line = std::move(partial_);
  partial_.clear();
  auto r = DecodeWatchLine(line);
  if (!r.ok()) {
    ready_.push_back(r.status().WithContext("watch stream ended mid-event"));
  } else if (r->has_value()) {
    ready_.push_back(std::move(**r));
  }
}

void WatchEventDecoder::DecodeAndQueue(std::string_view line) {
  auto r = DecodeWatchLine(line);
  if (!r.ok()) {
    ready_.push_back(r.status());
  } else if (r->has_value()) {
    ready_.push_back(std::move(**r));
  }
}

std::optional<Result<WatchEvent>> WatchEventDecoder::Next() {
  if (ready_.empty()) return std::nullopt;
  Result<WatchEvent> r = std::move(ready_.front());
  ready_.pop_front();
  return r;
}

}  // namespace hpad::k8s
