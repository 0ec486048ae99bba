// RFC 3339 parsing and formatting (see time_format.h). Pure calendar
// arithmetic with <chrono>; no time zone database and no clock reads.
#include "k8sclient/api/time_format.h"

#include <cctype>
#include <cstdint>
#include <cstdio>

#include "k8sclient/base/text.h"

namespace hpad::k8s {
namespace {

Status TimeError(std::string_view text, const std::string& why) {
  return InvalidError("time \"" + SafeText(text, 64) + "\": " + why + " (want RFC 3339, e.g. 2026-01-01T00:00:00Z)");
}

// Reads exactly `n` digits at *pos.
bool Digits(std::string_view s, size_t* pos, size_t n, int* out) {
  if (*pos + n > s.size()) return false;
  int v = 0;
  for (size_t i = 0; i < n; ++i) {
    char c = s[*pos + i];
    if (!std::isdigit(static_cast<unsigned char>(c))) return false;
    v = v * 10 + (c - '0');
  }
  *pos += n;
  *out = v;
  return true;
}

bool Expect(std::string_view s, size_t* pos, char c) {
  if (*pos >= s.size() || s[*pos] != c) return false;
  ++*pos;
  return true;
}

}  // namespace

Result<Time> ParseRfc3339(std::string_view text) {
  using namespace std::chrono;
  size_t pos = 0;
  int year, month, day, hour, minute, second;
  if (!Digits(text, &pos, 4, &year) || !Expect(text, &pos, '-') || !Digits(text, &pos, 2, &month) ||
      !Expect(text, &pos, '-') || !Digits(text, &pos, 2, &day)) {
    return TimeError(text, "bad date");
  }
  if (pos >= text.size() || (text[pos] != 'T' && text[pos] != 't')) return TimeError(text, "expected 'T'");
  ++pos;
  if (!Digits(text, &pos, 2, &hour) || !Expect(text, &pos, ':') || !Digits(text, &pos, 2, &minute) ||
      !Expect(text, &pos, ':') || !Digits(text, &pos, 2, &second)) {
    return TimeError(text, "bad time of day");
  }
  if (hour > 23 || minute > 59 || second > 59) return TimeError(text, "time of day out of range");
  int64_t frac_ns = 0;
  if (pos < text.size() && text[pos] == '.') {
    ++pos;
    size_t start = pos;
    int64_t scale = 100000000;
    while (pos < text.size() && std::isdigit(static_cast<unsigned char>(text[pos]))) {
      frac_ns += (text[pos] - '0') * scale;  // digits beyond nanoseconds are dropped
      scale /= 10;
      ++pos;
    }
    if (pos == start) return TimeError(text, "empty fraction");
  }
  int offset_minutes = 0;
  if (pos < text.size() && (text[pos] == 'Z' || text[pos] == 'z')) {
    ++pos;
  } else if (pos < text.size() && (text[pos] == '+' || text[pos] == '-')) {
    int sign = text[pos] == '-' ? -1 : 1;
    ++pos;
    int oh, om;
    if (!Digits(text, &pos, 2, &oh) || !Expect(text, &pos, ':') || !Digits(text, &pos, 2, &om) || oh > 23 ||
        om > 59) {
      return TimeError(text, "bad zone offset");
    }
    offset_minutes = sign * (oh * 60 + om);
  } else {
    return TimeError(text, "missing zone (Z or +hh:mm)");
  }
  if (pos != text.size()) return TimeError(text, "trailing text");
  year_month_day ymd{std::chrono::year(year), std::chrono::month(static_cast<unsigned>(month)),
                     std::chrono::day(static_cast<unsigned>(day))};
  if (!ymd.ok()) return TimeError(text, "no such date");
  sys_days days(ymd);
  // Whole seconds first (years 0000-9999 fit int64 seconds easily); Time
  // counts nanoseconds in int64 (years 1677-2262), so a time outside that
  // range is a parse error, never a signed overflow.
  int64_t secs = static_cast<int64_t>(days.time_since_epoch().count()) * 86400 + hour * 3600 + minute * 60 + second -
                 static_cast<int64_t>(offset_minutes) * 60;
  const __int128 total_ns = static_cast<__int128>(secs) * 1000000000 + frac_ns;
  if (total_ns > static_cast<__int128>(Time::duration::max().count()) * (1000000000 / Time::period::den) ||
      total_ns < static_cast<__int128>(Time::duration::min().count()) * (1000000000 / Time::period::den))
    return TimeError(text, "outside the representable range (years 1678-2261)");
  return Time(duration_cast<Time::duration>(nanoseconds(static_cast<int64_t>(total_ns))));
}

namespace {
std::string Format(Time t, bool micro) {
  using namespace std::chrono;
  // floor, not truncation, so times before 1970 print correctly.
  auto secs = floor<seconds>(t);
  auto days = floor<std::chrono::days>(secs);
  year_month_day ymd(days);
  hh_mm_ss<seconds> tod(secs - days);
  char buf[64];
  int n = std::snprintf(buf, sizeof buf, "%04d-%02u-%02uT%02d:%02d:%02d", static_cast<int>(ymd.year()),
                        static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
                        static_cast<int>(tod.hours().count()), static_cast<int>(tod.minutes().count()),
                        static_cast<int>(tod.seconds().count()));
  std::string out(buf, static_cast<size_t>(n));
  if (micro) {
    auto us = duration_cast<microseconds>(t - secs).count();  // floor: t - secs >= 0
    std::snprintf(buf, sizeof buf, ".%06lld", static_cast<long long>(us));
    out += buf;
  }
  return out + "Z";
}
}  // namespace

std::string FormatRfc3339(Time t) { return Format(t, false); }
std::string FormatRfc3339Micro(Time t) { return Format(t, true); }

}  // namespace hpad::k8s
