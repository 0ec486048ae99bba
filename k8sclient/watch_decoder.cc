#include "k8sclient/watch_decoder.h"

#include <algorithm>
#include <limits>

#include "k8sclient/api/json_parse.h"
#include "k8sclient/base/text.h"

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

// A short, safe excerpt of a foreign line for error messages.
std::string Excerpt(std::string_view line) { return SafeText(line, 120); }

std::string TooLong(size_t limit) {
  return "watch stream: event line longer than the limit of " + std::to_string(limit) + " bytes";
}

}  // namespace

Result<std::optional<WatchEvent>> DecodeWatchLine(std::string_view line) {
  while (!line.empty() && (line.back() == '\r' || line.back() == ' ' || line.back() == '\t')) line.remove_suffix(1);
  while (!line.empty() && (line.front() == ' ' || line.front() == '\t')) line.remove_prefix(1);
  if (line.empty()) return std::optional<WatchEvent>();
  if (line.size() > kMaxWatchLineBytes) return InvalidError(TooLong(kMaxWatchLineBytes));
  auto parsed = ParseForeignJson(line, "watch stream", kMaxWatchLineBytes);
  if (!parsed.ok()) {
    return InvalidError("watch stream: not a JSON object (" + parsed.status().message() + "): " + Excerpt(line));
  }
  Json& j = *parsed;
  if (!j.is_object()) return InvalidError("watch stream: not a JSON object: " + Excerpt(line));
  auto t = j.find("type");
  if (t == j.end() || !t->is_string()) return InvalidError("watch stream: event without \"type\": " + Excerpt(line));
  const std::string& type_name = t->get_ref<const std::string&>();
  auto type = ParseType(type_name);
  if (!type) return InvalidError("watch stream: unknown event type \"" + SafeText(type_name, 64) + "\"");
  auto o = j.find("object");
  if (o == j.end() || !o->is_object())
    return InvalidError("watch stream: " + type_name + " event without an object");
  WatchEvent ev;
  ev.type = *type;
  ev.object = std::move(*o);
  return std::optional<WatchEvent>(std::move(ev));
}

Status StatusFromWatchError(const WatchEvent& event) {
  const Json& o = event.object;
  auto code_it = o.is_object() ? o.find("code") : o.end();
  if (!o.is_object() || code_it == o.end() || !code_it->is_number_integer())
    return InternalError("watch ERROR event without a Status: " + Excerpt(DumpForeign(o)));
  // Any integer is accepted by the parser; an HTTP code fits in three digits.
  // (nlohmann stores a parsed non-negative integer as unsigned.)
  int64_t code64 = code_it->is_number_unsigned()
                       ? static_cast<int64_t>(std::min<uint64_t>(code_it->get<uint64_t>(), 1000))
                       : code_it->get<int64_t>();
  if (code64 < 0 || code64 > 999)
    return InternalError("watch ERROR event with impossible code " + DescribeJson(*code_it));
  int code = static_cast<int>(code64);
  // Status objects always say kind: Status, but a missing kind is accepted.
  Status s = StatusFromStatusObject(code, o);
  if (s.ok()) return InternalError("watch ERROR event with success code " + std::to_string(code));
  return s;
}

void WatchEventDecoder::Feed(std::string_view bytes) {
  size_t start = 0;
  for (;;) {
    size_t nl = bytes.find('\n', start);
    if (nl == std::string_view::npos) break;
    std::string_view piece = bytes.substr(start, nl - start);
    if (skipping_) {  // the rest of an over-long line: its error is queued
      skipping_ = false;
    } else if (partial_.empty()) {
      DecodeAndQueue(piece);
    } else {
      partial_.append(piece);
      std::string line = std::move(partial_);
      partial_.clear();
      DecodeAndQueue(line);
    }
    start = nl + 1;
  }
  std::string_view rest = bytes.substr(start);
  if (skipping_) return;
  if (partial_.size() + rest.size() > kMaxWatchLineBytes) {
    // Never buffer an unbounded line: report it once, drop it to its end.
    ready_.push_back(InvalidError(TooLong(kMaxWatchLineBytes)));
    partial_.clear();
    partial_.shrink_to_fit();
    skipping_ = true;
    return;
  }
  partial_.append(rest);
}

void WatchEventDecoder::Finish() {
  skipping_ = false;
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
