// json_parse: parsing and printing JSON that came from outside hpad.
//
// Every reply body, watch line, exec-plugin output and annotation value is
// hostile (issue 10): it may be huge, nested 300,000 levels deep, or carry
// bytes that are not UTF-8. ParseForeignJson() is the one entry point for
// such text:
//   - a body larger than max_bytes is an error naming the limit;
//   - nesting deeper than kMaxJsonDepth is rejected before nlohmann
//     builds anything (recursive copies, comparisons and dump() of a deep
//     document would overflow the stack): the fast scanner stops at that
//     depth, and an O(n) pre-scan decides whenever the scanner gave up;
//   - malformed JSON and invalid UTF-8 are errors with the byte offset;
//   - no exception escapes.
// DumpForeign() prints a document that may hold foreign strings with
// invalid bytes replaced (nlohmann's dump() throws type_error.316 otherwise)
// and DescribeJson() names a value in an error message without dumping a
// possibly huge object.
//
// All functions are pure and thread-safe.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "k8sclient/base/status.h"

namespace hpad::k8s {

// Deepest accepted nesting of objects and arrays (the root counts as 1).
inline constexpr size_t kMaxJsonDepth = 256;
// Default size limit for a JSON document (an API reply body).
inline constexpr size_t kMaxJsonBytes = size_t{64} << 20;

// True when `text` nests objects/arrays deeper than max_depth (strings and
// escapes are skipped; malformed text is left to the parser).
bool JsonNestingExceeds(std::string_view text, size_t max_depth = kMaxJsonDepth);

// Parses foreign JSON. `what` names the source in errors ("GET /api/v1/pods
// reply"). Errors are kInvalid.
Result<nlohmann::json> ParseForeignJson(std::string_view text, std::string_view what,
                                        size_t max_bytes = kMaxJsonBytes, size_t max_depth = kMaxJsonDepth);

// The DOM of `text` built by the fast scanner (json_fast_sax.h), the value
// nlohmann::json::parse would give; false where the scanner gave up (*out is
// then unspecified) and nlohmann's parser must decide. Never throws
// anything but std::bad_alloc.
bool FastParseJson(std::string_view text, nlohmann::json* out);

// dump() with invalid UTF-8 replaced by U+FFFD; never throws.
std::string DumpForeign(const nlohmann::json& j, int indent = -1);

// A short description of a value for error messages: `null`, `true`, `42`,
// `"text"` (cut to 64 bytes, made safe), `an object`, `a list`.
std::string DescribeJson(const nlohmann::json& j);

}  // namespace hpad::k8s
