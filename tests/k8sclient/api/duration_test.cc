// Go durations (metav1.Duration, PodMetrics window, scenario times) and
// RFC 3339 timestamps (metav1.Time, metav1.MicroTime).
#include <catch2/catch.hpp>

#include "k8sclient/api/quantity.h"
#include "k8sclient/api/time_format.h"

using hpad::k8s::FormatGoDuration;
using hpad::k8s::FormatRfc3339;
using hpad::k8s::FormatRfc3339Micro;
using hpad::k8s::ParseGoDuration;
using hpad::k8s::ParseRfc3339;
using namespace std::chrono_literals;

TEST_CASE("go duration parse", "[duration]") {
  struct Case {
    const char* text;
    std::chrono::nanoseconds want;
  };
  const Case cases[] = {
      {"0", 0ns},
      {"0s", 0ns},
      {"90s", 90s},
      {"5m", 5min},
      {"1h30m", 90min},
      {"250ms", 250ms},
      {"1.5s", 1500ms},
      {"15.01s", 15010ms},
      {".5s", 500ms},
      {"1.s", 1s},
      {"-2s", -2s},
      {"+2s", 2s},
      {"1h2m3s4ms5us6ns", 1h + 2min + 3s + 4ms + 5us + 6ns},
      {"3\xC2\xB5s", 3us},
      {"3\xCE\xBCs", 3us},
      {"0.5h", 30min},
      {"2562047h47m16.854775807s", std::chrono::nanoseconds(std::numeric_limits<int64_t>::max())},
      {"-2562047h47m16.854775808s", std::chrono::nanoseconds(std::numeric_limits<int64_t>::min())},
  };
  for (const auto& c : cases) {
    INFO(c.text);
    auto d = ParseGoDuration(c.text);
    REQUIRE(d.ok());
    CHECK(d->count() == c.want.count());
  }
}

TEST_CASE("go duration errors name the text", "[duration]") {
  struct Case {
    const char* text;
    const char* message;
  };
  const Case cases[] = {
      {"", "time: invalid duration \"\""},
      {"5", "time: missing unit in duration \"5\""},
      {"5x", "time: unknown unit \"x\" in duration \"5x\""},
      {"s", "time: invalid duration \"s\""},
      {".s", "time: invalid duration \".s\""},
      {"-", "time: invalid duration \"-\""},
      {"1h-5m", "time: unknown unit \"h-\" in duration \"1h-5m\""},
      {"2562047h47m16.854775808s", "time: invalid duration \"2562047h47m16.854775808s\""},
      {"9999999999999999999h", "time: invalid duration \"9999999999999999999h\""},
  };
  for (const auto& c : cases) {
    INFO(c.text);
    auto d = ParseGoDuration(c.text);
    REQUIRE_FALSE(d.ok());
    CHECK(d.status().message() == c.message);
  }
}

TEST_CASE("go duration format as Go's Duration.String", "[duration]") {
  struct Case {
    std::chrono::nanoseconds d;
    const char* want;
  };
  const Case cases[] = {
      {0ns, "0s"},
      {1ns, "1ns"},
      {1500ns, "1.5\xC2\xB5s"},
      {250ms, "250ms"},
      {1500ms, "1.5s"},
      {90s, "1m30s"},
      {5min, "5m0s"},
      {1h, "1h0m0s"},
      {1h + 30min + 15s + 10ms, "1h30m15.01s"},
      {-90s, "-1m30s"},
      {15010ms, "15.01s"},
      {std::chrono::nanoseconds(std::numeric_limits<int64_t>::min()), "-2562047h47m16.854775808s"},
  };
  for (const auto& c : cases) {
    INFO(c.want);
    CHECK(FormatGoDuration(c.d) == c.want);
    auto back = ParseGoDuration(c.want);
    REQUIRE(back.ok());
    CHECK(back->count() == c.d.count());
  }
}

TEST_CASE("rfc3339 parse with fractions and offsets", "[time]") {
  auto base = ParseRfc3339("2026-01-01T00:00:00Z");
  REQUIRE(base.ok());
  CHECK(std::chrono::duration_cast<std::chrono::seconds>(base->time_since_epoch()).count() == 1767225600);

  struct Case {
    const char* text;
    std::chrono::nanoseconds after_base;
  };
  const Case cases[] = {
      {"2026-01-01T00:00:00.5Z", 500ms},
      {"2026-01-01T00:00:01.123456Z", 1s + 123456us},
      {"2026-01-01T00:00:01.123456789Z", 1s + 123456789ns},
      {"2026-01-01T00:00:01.1234567891Z", 1s + 123456789ns},  // beyond nanoseconds: dropped
      {"2026-01-01T01:00:00+01:00", 0ns},
      {"2025-12-31T19:30:00-04:30", 0ns},
      {"2026-01-01t00:00:00z", 0ns},
      {"2026-03-01T00:00:00Z", 59 * 24h},
  };
  for (const auto& c : cases) {
    INFO(c.text);
    auto t = ParseRfc3339(c.text);
    REQUIRE(t.ok());
    CHECK((*t - *base).count() == c.after_base.count());
  }
  CHECK(FormatRfc3339(*ParseRfc3339("1970-01-01T00:00:00Z")) == "1970-01-01T00:00:00Z");
  CHECK(FormatRfc3339(*ParseRfc3339("2024-02-29T23:59:59Z")) == "2024-02-29T23:59:59Z");
}

TEST_CASE("rfc3339 errors name the text", "[time]") {
  for (const char* bad : {"", "2026-01-01", "2026-01-01T00:00:00", "2026-13-01T00:00:00Z", "2026-02-30T00:00:00Z",
                          "2026-01-01T24:00:00Z", "2026-01-01T00:00:00.Z", "2026-01-01T00:00:00Zjunk",
                          "2026-01-01 00:00:00Z", "2026-01-01T00:00:00+0100"}) {
    INFO(bad);
    auto t = ParseRfc3339(bad);
    REQUIRE_FALSE(t.ok());
    CHECK(t.status().message().find(std::string("\"") + bad + "\"") != std::string::npos);
  }
}

TEST_CASE("rfc3339 format seconds and micro", "[time]") {
  auto t = *ParseRfc3339("2026-05-06T07:08:09.987654321Z");
  CHECK(FormatRfc3339(t) == "2026-05-06T07:08:09Z");  // truncated, as metav1.Time
  CHECK(FormatRfc3339Micro(t) == "2026-05-06T07:08:09.987654Z");
  CHECK(FormatRfc3339Micro(*ParseRfc3339("2026-05-06T07:08:09Z")) == "2026-05-06T07:08:09.000000Z");
  auto before_epoch = *ParseRfc3339("1969-12-31T23:59:59.5Z");
  CHECK(FormatRfc3339(before_epoch) == "1969-12-31T23:59:59Z");
  CHECK(FormatRfc3339Micro(before_epoch) == "1969-12-31T23:59:59.500000Z");
  auto round_trip = ParseRfc3339(FormatRfc3339Micro(t));
  REQUIRE(round_trip.ok());
  CHECK(std::chrono::duration_cast<std::chrono::microseconds>(t - *round_trip).count() == 0);
}
