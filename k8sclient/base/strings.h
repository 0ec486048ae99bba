// Small string helpers shared by every layer, so each is written (and
// tested) once: whitespace trimming, ASCII case folding, standard base64
// (RFC 4648), Go's boolean spellings, and checked integer parsing (the whole text must be the number, in range, or the
// result is an error naming the text - never an exception, never a wrap).
//
// Pure functions on values: no state, thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "k8sclient/base/status.h"

namespace hpad {

// Removes leading and trailing ASCII whitespace (space, \t, \r, \n, \f, \v).
std::string_view TrimView(std::string_view s);
std::string Trim(std::string_view s);

// ASCII-only case folding (protocol tokens, header names, hostnames); bytes
// >= 0x80 are left alone, so UTF-8 text passes through unchanged.
std::string AsciiLower(std::string_view s);
bool EqualsIgnoreAsciiCase(std::string_view a, std::string_view b);

// Standard base64 with padding.
std::string Base64Encode(std::string_view in);
// Standard base64; padding optional, ASCII whitespace ignored (as kubeconfig
// *-data fields are often wrapped). kInvalid on any other character, data
// after padding, or a truncated group.
Result<std::string> Base64Decode(std::string_view text);

// Decimal integers as Go's strconv.ParseInt(s, 10, bits): an optional sign
// ('+' or '-'; unsigned: none), then digits only, within the type's range.
Result<int64_t> ParseInt64(std::string_view text);
Result<int32_t> ParseInt32(std::string_view text);
Result<uint64_t> ParseUint64(std::string_view text);

// Go's strconv.ParseBool: 1 t T TRUE true True / 0 f F FALSE false False,
// nothing else (no trimming, no other casing). kInvalid names the text.
Result<bool> ParseBool(std::string_view text);

}  // namespace hpad
