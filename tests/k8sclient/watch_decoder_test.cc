// WatchEventDecoder: newline-delimited watch events split at every possible
// chunk boundary, bookmarks, ERROR events (410 -> kGone), malformed input.
#include <catch2/catch.hpp>

#include "k8sclient/watch_decoder.h"

namespace hpad::k8s {

namespace {
const std::string kStream =
    R"({"type":"ADDED","object":{"kind":"Pod","metadata":{"name":"a","resourceVersion":"10"}}})"
    "\n"
    R"({"type":"MODIFIED","object":{"kind":"Pod","metadata":{"name":"a","resourceVersion":"11"},"status":{"phase":"Running ✓"}}})"
    "\r\n"
    "\n"  // keep-alive blank line
    R"({"type":"BOOKMARK","object":{"kind":"Pod","metadata":{"resourceVersion":"15","annotations":{"k8s.io/initial-events-end":"true"}}}})"
    "\n"
    R"({"type":"DELETED","object":{"kind":"Pod","metadata":{"name":"a","resourceVersion":"16"}}})"
    "\n"
    R"J({"type":"ERROR","object":{"kind":"Status","apiVersion":"v1","status":"Failure","message":"too old resource version: 10 (16)","reason":"Expired","code":410}})J"
    "\n";

std::vector<WatchEvent> DrainOk(WatchEventDecoder& d) {
  std::vector<WatchEvent> out;
  while (auto r = d.Next()) {
    REQUIRE(r->ok());
    out.push_back(**r);
  }
  return out;
}

void CheckFullStream(const std::vector<WatchEvent>& evs) {
  REQUIRE(evs.size() == 5);
  CHECK(evs[0].type == WatchEvent::Type::kAdded);
  CHECK(evs[0].object["metadata"]["resourceVersion"] == "10");
  CHECK(evs[1].type == WatchEvent::Type::kModified);
  CHECK(evs[1].object["status"]["phase"] == "Running ✓");  // multi-byte UTF-8 split safely
  CHECK(evs[2].type == WatchEvent::Type::kBookmark);
  CHECK(evs[2].object["metadata"]["resourceVersion"] == "15");
  CHECK(evs[3].type == WatchEvent::Type::kDeleted);
  CHECK(evs[4].type == WatchEvent::Type::kError);
  Status s = StatusFromWatchError(evs[4]);
  CHECK(s.code() == StatusCode::kGone);  // the reflector relists
  CHECK(s.reason() == "Expired");
  CHECK(s.message() == "too old resource version: 10 (16)");
}
}  // namespace

TEST_CASE("watch decoder: whole stream in one chunk", "[watch_decoder]") {
  WatchEventDecoder d;
  d.Feed(kStream);
  CheckFullStream(DrainOk(d));
  CHECK(d.pending_bytes() == 0);
}

TEST_CASE("watch decoder: every split point of the stream into two chunks", "[watch_decoder]") {
  for (size_t cut = 0; cut <= kStream.size(); ++cut) {
    INFO("cut at " << cut);
    WatchEventDecoder d;
    std::vector<WatchEvent> evs;
    d.Feed(std::string_view(kStream).substr(0, cut));
    for (auto& e : DrainOk(d)) evs.push_back(e);
    d.Feed(std::string_view(kStream).substr(cut));
    for (auto& e : DrainOk(d)) evs.push_back(e);
    d.Finish();
    CHECK_FALSE(d.Next().has_value());
    CheckFullStream(evs);
  }
}

TEST_CASE("watch decoder: byte-at-a-time chunks, events appear only when their line completes", "[watch_decoder]") {
  WatchEventDecoder d;
  std::vector<WatchEvent> evs;
  size_t first_newline = kStream.find('\n');
  for (size_t i = 0; i < kStream.size(); ++i) {
    d.Feed(std::string_view(&kStream[i], 1));
    auto got = DrainOk(d);
    if (i < first_newline) CHECK(got.empty());
    for (auto& e : got) evs.push_back(e);
  }
  CheckFullStream(evs);
}

TEST_CASE("watch decoder: malformed lines are errors, good lines around them still decode", "[watch_decoder]") {
  struct Case {
    const char* name;
    std::string line;
    std::string want;
  };
  std::vector<Case> cases = {
      {"not JSON", "{oops", "not a JSON object"},
      {"array", "[1,2]", "not a JSON object"},
      {"no type", R"({"object":{}})", "without \"type\""},
      {"unknown type", R"({"type":"RENAMED","object":{}})", "unknown event type \"RENAMED\""},
      {"no object", R"({"type":"ADDED"})", "ADDED event without an object"},
  };
  for (const Case& c : cases) {
    INFO(c.name);
    WatchEventDecoder d;
    d.Feed(R"({"type":"ADDED","object":{"metadata":{"name":"x"}}})"
           "\n" +
           c.line + "\n" + R"({"type":"DELETED","object":{"metadata":{"name":"x"}}})" + "\n");
    auto a = d.Next();
    REQUIRE(a);
    REQUIRE(a->ok());
    auto bad = d.Next();
    REQUIRE(bad);
    REQUIRE_FALSE(bad->ok());
    CHECK(bad->status().code() == StatusCode::kInvalid);
    CHECK_THAT(bad->status().message(), Catch::Contains(c.want));
    auto b = d.Next();
    REQUIRE(b);
    REQUIRE(b->ok());
    CHECK((*b)->type == WatchEvent::Type::kDeleted);
  }
}

TEST_CASE("watch decoder: end of stream", "[watch_decoder]") {
  SECTION("a complete final line without newline is accepted") {
    WatchEventDecoder d;
    d.Feed(R"({"type":"ADDED","object":{}})");
    CHECK_FALSE(d.Next().has_value());
    d.Finish();
    auto e = d.Next();
    REQUIRE(e);
    REQUIRE(e->ok());
  }
  SECTION("a truncated event is an error") {
    WatchEventDecoder d;
    d.Feed(R"({"type":"ADDED","obj)");
    d.Finish();
    auto e = d.Next();
    REQUIRE(e);
    REQUIRE_FALSE(e->ok());
    CHECK_THAT(e->status().message(), Catch::Contains("ended mid-event"));
  }
}

TEST_CASE("StatusFromWatchError maps the Status code", "[watch_decoder]") {
  auto ev = [](Json o) { return WatchEvent{WatchEvent::Type::kError, std::move(o)}; };
  CHECK(StatusFromWatchError(ev({{"kind", "Status"}, {"code", 410}, {"reason", "Gone"}})).code() == StatusCode::kGone);
  CHECK(StatusFromWatchError(ev({{"code", 500}, {"message", "x"}})).code() == StatusCode::kUnavailable);
  CHECK(StatusFromWatchError(ev({{"code", 403}, {"reason", "Forbidden"}})).code() == StatusCode::kForbidden);
  CHECK(StatusFromWatchError(ev({{"kind", "Pod"}})).code() == StatusCode::kInternal);
  CHECK(StatusFromWatchError(ev({{"code", 200}})).code() == StatusCode::kInternal);
}

}  // namespace hpad::k8s
