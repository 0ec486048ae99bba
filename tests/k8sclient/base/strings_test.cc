// Shared string helpers (k8sclient/base/strings.h): trimming, base64 both
// ways (RFC 4648 test vectors), and checked integer parsing at the edges of
// each type's range.
#include <catch2/catch.hpp>

#include "k8sclient/base/strings.h"

using hpad::Base64Decode;
using hpad::Base64Encode;
using hpad::ParseInt32;
using hpad::ParseInt64;
using hpad::ParseUint64;
using hpad::StatusCode;
using hpad::Trim;

TEST_CASE("Trim removes ASCII whitespace at both ends only", "[strings]") {
  CHECK(Trim("  a b \t\r\n") == "a b");
  CHECK(Trim("\f\vx\v") == "x");
  CHECK(Trim("") == "");
  CHECK(Trim(" \n\t ") == "");
  CHECK(Trim("no-space") == "no-space");
  CHECK(Trim("\xc2\xa0x") == "\xc2\xa0x");  // NBSP is not ASCII whitespace
}

TEST_CASE("Base64 follows the RFC 4648 test vectors", "[strings]") {
  const std::vector<std::pair<std::string, std::string>> vectors = {
      {"", ""},           {"f", "Zg=="},         {"fo", "Zm8="},         {"foo", "Zm9v"},
      {"foob", "Zm9vYg=="}, {"fooba", "Zm9vYmE="}, {"foobar", "Zm9vYmFy"},
  };
  for (const auto& [plain, encoded] : vectors) {
    CAPTURE(plain);
    CHECK(Base64Encode(plain) == encoded);
    auto decoded = Base64Decode(encoded);
    REQUIRE(decoded.ok());
    CHECK(*decoded == plain);
  }
  std::string all_bytes;
  for (int i = 0; i < 256; ++i) all_bytes.push_back(static_cast<char>(i));
  auto round = Base64Decode(Base64Encode(all_bytes));
  REQUIRE(round.ok());
  CHECK(*round == all_bytes);
}

TEST_CASE("Base64Decode accepts missing padding and wrapped lines, rejects junk", "[strings]") {
  CHECK(Base64Decode("Zm9vYg").value() == "foob");
  CHECK(Base64Decode("Zm9v\nYmFy\r\n").value() == "foobar");
  CHECK(Base64Decode("Zm9v YmE=").value() == "fooba");

  auto bad_char = Base64Decode("Zm9v*mFy");
  REQUIRE_FALSE(bad_char.ok());
  CHECK(bad_char.status().code() == StatusCode::kInvalid);
  CHECK(bad_char.status().message() == "invalid base64 character '*'");
  CHECK(Base64Decode("Zm9v\xff").status().message() == "invalid base64 byte 255");
  CHECK(Base64Decode("Zg==Zg==").status().message() == "invalid base64: data after padding");
  CHECK(Base64Decode("Z").status().message() == "invalid base64: truncated");
  CHECK(Base64Decode("Zg===").status().message() == "invalid base64: truncated");
}

TEST_CASE("ParseInt64 and friends take the whole text as one decimal number in range", "[strings]") {
  CHECK(ParseInt64("0").value() == 0);
  CHECK(ParseInt64("+42").value() == 42);
  CHECK(ParseInt64("-42").value() == -42);
  CHECK(ParseInt64("9223372036854775807").value() == INT64_MAX);
  CHECK(ParseInt64("-9223372036854775808").value() == INT64_MIN);
  CHECK(ParseInt64("9223372036854775808").status().message() == "integer out of range \"9223372036854775808\"");
  CHECK_FALSE(ParseInt64("-9223372036854775809").ok());
  CHECK(ParseInt32("2147483647").value() == 2147483647);
  CHECK(ParseInt32("-2147483648").value() == INT32_MIN);
  CHECK_FALSE(ParseInt32("2147483648").ok());
  CHECK_FALSE(ParseInt32("-2147483649").ok());
  CHECK(ParseUint64("18446744073709551615").value() == UINT64_MAX);
  CHECK_FALSE(ParseUint64("18446744073709551616").ok());
  CHECK_FALSE(ParseUint64("-1").ok());
  CHECK_FALSE(ParseUint64("+1").ok());

  for (const char* bad : {"", "-", "+", " 1", "1 ", "1.0", "0x10", "1e3", "12a", "--1"}) {
    CAPTURE(bad);
    auto r = ParseInt64(bad);
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().code() == StatusCode::kInvalid);
  }
  // A hostile megabyte of digits: an error, with the text cut in the message.
  auto huge = ParseInt64(std::string(1 << 20, '7'));
  REQUIRE_FALSE(huge.ok());
  CHECK(huge.status().message().size() < 100);
}

TEST_CASE("ParseBool takes exactly Go's strconv.ParseBool spellings", "[strings]") {
  for (const char* t : {"1", "t", "T", "TRUE", "true", "True"}) {
    INFO(t);
    auto b = hpad::ParseBool(t);
    REQUIRE(b.ok());
    CHECK(*b);
  }
  for (const char* f : {"0", "f", "F", "FALSE", "false", "False"}) {
    INFO(f);
    auto b = hpad::ParseBool(f);
    REQUIRE(b.ok());
    CHECK_FALSE(*b);
  }
  for (const char* bad : {"", "tRUE", "yes", " true", "true ", "2", "on"}) {
    INFO(bad);
    auto b = hpad::ParseBool(bad);
    REQUIRE_FALSE(b.ok());
    CHECK(b.status().message() == std::string("invalid boolean \"") + bad + "\"");
  }
}

TEST_CASE("AsciiLower and EqualsIgnoreAsciiCase fold ASCII letters only", "[strings]") {
  CHECK(hpad::AsciiLower("Retry-After: ABC xyz 09") == "retry-after: abc xyz 09");
  CHECK(hpad::AsciiLower("\xC3\x89t\xC3\xA9") == "\xC3\x89t\xC3\xA9");  // "Été": UTF-8 bytes untouched
  CHECK(hpad::EqualsIgnoreAsciiCase("Content-Type", "content-TYPE"));
  CHECK_FALSE(hpad::EqualsIgnoreAsciiCase("Content-Type", "Content-Typ"));
  CHECK_FALSE(hpad::EqualsIgnoreAsciiCase("a[", "A{"));  // '[' and '{' are not a case pair
}
