// SafeText and the percent-encoders (k8sclient/base/text.h).
#include <catch2/catch.hpp>

#include <string>

#include "k8sclient/base/text.h"

namespace hpad::k8s {
namespace {

TEST_CASE("text: SafeText keeps ordinary text unchanged", "[text]") {
  CHECK(SafeText("metrics adapter unavailable") == "metrics adapter unavailable");
  CHECK(SafeText("Gr\xC3\xBC\xC3\x9F" "e \xE2\x82\xAC \xF0\x9F\x98\x80") == "Gr\xC3\xBC\xC3\x9F" "e \xE2\x82\xAC \xF0\x9F\x98\x80");
  CHECK(SafeText("") == "");
}

TEST_CASE("text: SafeText replaces each invalid byte with U+FFFD", "[text]") {
  const std::string fffd = "\xEF\xBF\xBD";
  CHECK(SafeText("caf\xE9!") == "caf" + fffd + "!");  // Latin-1 byte
  CHECK(SafeText("\x80") == fffd);                    // stray continuation
  CHECK(SafeText("\xC0\xAF") == fffd + fffd);         // overlong '/'
  CHECK(SafeText("\xED\xA0\x80") == fffd + fffd + fffd);  // surrogate U+D800
  CHECK(SafeText("\xF4\x90\x80\x80") == fffd + fffd + fffd + fffd);  // above U+10FFFF
  CHECK(SafeText("ab\xE2\x82") == "ab" + fffd + fffd);  // truncated sequence
  CHECK(IsValidUtf8(SafeText("\xFF\xFE\xFD")));
}

TEST_CASE("text: SafeText drops control characters and flattens line breaks", "[text]") {
  CHECK(SafeText(std::string("a\0b", 3)) == "ab");
  CHECK(SafeText("a\x1b[31mred\x7f") == "ared");
  CHECK(SafeText("line1\nline2\r\tx") == "line1 line2  x");
  CHECK(SafeText("c1:\xC2\x85.") == "c1:.");  // U+0085 NEL
}

TEST_CASE("text: SafeText drops terminal escape sequences whole", "[text]") {
  CHECK(SafeText("\x1b[2J\x1b[1;31mred\x1b[0m.") == "red.");                     // CSI with parameters
  CHECK(SafeText("x\x1b]8;;http://evil.example\x07link\x1b]8;;\x07y") == "xlinky");  // OSC to BEL
  CHECK(SafeText("x\x1b]0;title\x1b\\y") == "xy");                               // OSC to ST
  CHECK(SafeText("x\x1bPpayload\x1b\\y") == "xy");                               // DCS
  CHECK(SafeText("x\x1b(By") == "xy");                                            // ESC intermediate final
  CHECK(SafeText("x\x1b" "7y") == "xy");                                             // 2-byte ESC
  CHECK(SafeText("x\xC2\x9B" "31my") == "xy");                                       // C1 CSI (U+009B)
  CHECK(SafeText("x\xC2\x9D" "0;t\xC2\x9C" "y") == "xy");                              // C1 OSC to C1 ST
  CHECK(SafeText("x\x1b]unterminated") == "x");                                   // swallowed to the end
  CHECK(SafeText("x\x1b") == "x");                                                // lone ESC at the end
  CHECK(SafeText("x\x1b[12") == "x");                                             // cut CSI
  CHECK(SafeText("x\x1b[\xC3\xA9") == "x\xC3\xA9");  // a non-CSI byte ends the sequence, text stays
}

TEST_CASE("text: SafeText cuts at a code-point boundary with a marker", "[text]") {
  CHECK(SafeText("abcdefghij", 10) == "abcdefghij");
  CHECK(SafeText("abcdefghijk", 10) == "abcdefg...");
  // "\xE2\x82\xAC" (euro) is 3 bytes: never split.
  std::string euros;
  for (int i = 0; i < 10; ++i) euros += "\xE2\x82\xAC";
  std::string cut = SafeText(euros, 10);
  CHECK(cut == "\xE2\x82\xAC\xE2\x82\xAC...");
  CHECK(cut.size() <= 10);
  CHECK(IsValidUtf8(cut));
  CHECK(SafeText("abcdef", 2) == "ab");
  CHECK(SafeText("abcdef", 0) == "");
  // A huge body is cut without scanning all of it into the result.
  std::string big(50u << 20, 'x');
  CHECK(SafeText(big).size() == kDefaultSafeTextBytes);
}

TEST_CASE("text: SafeText redacts secrets like log lines", "[text]") {
  CHECK(SafeText("Authorization: Bearer abc.def") == "Authorization: Bearer <redacted>");
  CHECK(SafeText("{\"token\": \"s3cr3t\"}") == "{\"token\": \"<redacted>\"}");
}

TEST_CASE("text: IsValidUtf8", "[text]") {
  CHECK(IsValidUtf8("plain"));
  CHECK(IsValidUtf8("\xF0\x9F\x98\x80"));
  CHECK_FALSE(IsValidUtf8("\xF0\x9F\x98"));
  CHECK_FALSE(IsValidUtf8("\xE0\x80\x80"));
}

TEST_CASE("text: percent-encoding keeps unreserved characters only", "[text]") {
  CHECK(PercentEncodePathSegment("web-1.x_y~z") == "web-1.x_y~z");
  CHECK(PercentEncodePathSegment("a/b?c#d e%") == "a%2Fb%3Fc%23d%20e%25");
  CHECK(PercentEncodePathSegment("\xC3\xBC") == "%C3%BC");
  CHECK(PercentEncodeQueryValue("app in (a,b),tier!=x") == "app%20in%20%28a%2Cb%29%2Ctier%21%3Dx");
  CHECK(PercentEncodeQueryValue("a+b&c=d") == "a%2Bb%26c%3Dd");
}

}  // namespace
}  // namespace hpad::k8s
