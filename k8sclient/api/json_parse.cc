// Parsing and printing foreign JSON (see json_parse.h).
#include "k8sclient/api/json_parse.h"

#include "k8sclient/api/json_fast_sax.h"
#include "k8sclient/base/text.h"

namespace hpad::k8s {

static_assert(kFastSaxMaxDepth == kMaxJsonDepth, "DecodeText relies on the scanner giving up past kMaxJsonDepth");

bool JsonNestingExceeds(std::string_view text, size_t max_depth) {
  size_t depth = 0;
  bool in_string = false;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (in_string) {
      if (c == '\\') {
        ++i;  // the escaped character cannot end the string
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    switch (c) {
      case '"':
        in_string = true;
        break;
      case '{':
      case '[':
        if (++depth > max_depth) return true;
        break;
      case '}':
      case ']':
        if (depth > 0) --depth;
        break;
      default:
        break;
    }
  }
  return false;
}

Result<nlohmann::json> ParseForeignJson(std::string_view text, std::string_view what, size_t max_bytes,
                                        size_t max_depth) {
  const std::string source(what.empty() ? std::string_view("JSON input") : what);
  if (text.size() > max_bytes) {
    return InvalidError(source + ": " + std::to_string(text.size()) + " bytes exceed the limit of " +
                        std::to_string(max_bytes) + " bytes");
  }
  auto too_deep = [&] {
    return InvalidError(source + ": JSON nested deeper than the limit of " + std::to_string(max_depth) + " levels");
  };
  // The fast scanner gives up past kFastSaxMaxDepth, so a text it accepts
  // is within any limit at least that deep: the pre-scan runs only for a
  // smaller limit or once the scanner gave up, and its verdict comes first
  // either way, as when it ran before anything else.
  const bool scanner_checks_depth = max_depth >= kFastSaxMaxDepth;
  if (!scanner_checks_depth && JsonNestingExceeds(text, max_depth)) return too_deep();
  try {
    // The fast scanner builds the DOM for valid texts; where it gives up,
    // nlohmann's parser starts over and words the outcome (json_fast_sax.h).
    nlohmann::json fast;
    if (FastParseJson(text, &fast)) return fast;
    if (scanner_checks_depth && JsonNestingExceeds(text, max_depth)) return too_deep();
    return nlohmann::json::parse(text.begin(), text.end());
  } catch (const nlohmann::json::parse_error& e) {
    return InvalidError(source + ": not valid JSON (at byte " + std::to_string(e.byte) + ")");
  } catch (const std::exception& e) {
    return InvalidError(source + ": not valid JSON: " + SafeText(e.what(), 200));
  }
}

bool FastParseJson(std::string_view text, nlohmann::json* out) {
  nlohmann::detail::json_sax_dom_parser<nlohmann::json> dom(*out, /*allow_exceptions=*/false);
  return FastSaxParse(text, &dom);
}

std::string DumpForeign(const nlohmann::json& j, int indent) {
  return j.dump(indent, ' ', /*ensure_ascii=*/false, nlohmann::json::error_handler_t::replace);
}

std::string DescribeJson(const nlohmann::json& j) {
  switch (j.type()) {
    case nlohmann::json::value_t::object:
      return "an object";
    case nlohmann::json::value_t::array:
      return "a list";
    case nlohmann::json::value_t::string:
      return "\"" + SafeText(j.get_ref<const std::string&>(), 64) + "\"";
    case nlohmann::json::value_t::discarded:
      return "nothing";
    default:
      return SafeText(DumpForeign(j), 64);
  }
}

}  // namespace hpad::k8s
