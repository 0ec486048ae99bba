// The differential check of FastSaxParse (k8sclient/api/json_fast_sax.h)
// against nlohmann::json::sax_parse, shared by the unit test and the
// json_fast_sax_fuzz harness: both parsers drive a recorder that writes each
// callback as a line, and the scanner's contract is checked on one text.
// Header-only test support; thread-compatible.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "k8sclient/api/json_fast_sax.h"
#include "k8sclient/api/json_parse.h"

namespace hpad::k8s::testing {

// Records every SAX callback; the `stop_at`-th callback (1-based) returns
// false, as a handler that stops the parse would.
struct SaxRecorder {
  std::vector<std::string> events;
  size_t stop_at = std::numeric_limits<size_t>::max();

  bool Add(std::string e) {
    events.push_back(std::move(e));
    return events.size() != stop_at;
  }
  bool null() { return Add("null"); }
  bool boolean(bool b) { return Add(b ? "true" : "false"); }
  bool number_integer(int64_t i) { return Add("int " + std::to_string(i)); }
  bool number_unsigned(uint64_t u) { return Add("uint " + std::to_string(u)); }
  bool number_float(double, const std::string& text) { return Add("float " + text); }
  bool string(std::string& s) { return Add("string " + s); }
  bool binary(nlohmann::json::binary_t&) { return Add("binary"); }
  bool start_object(size_t n) { return Add("{ " + std::to_string(n)); }
  bool key(std::string& k) { return Add("key " + k); }
  bool end_object() { return Add("}"); }
  bool start_array(size_t n) { return Add("[ " + std::to_string(n)); }
  bool end_array() { return Add("]"); }
  bool parse_error(size_t, const std::string&, const nlohmann::detail::exception&) { return false; }
};

struct FastSaxVerdict {
  bool fast_accepted = false;
  bool reference_accepted = false;
  std::string violation;  // empty: the contract holds for this text
};

// The contract: the scanner accepts only what sax_parse accepts, with the
// same callbacks; where it gives up, it has delivered a prefix of
// sax_parse's callbacks. An accepted text's DOM (FastParseJson) equals
// nlohmann::json::parse's.
inline FastSaxVerdict CheckFastSax(std::string_view text, size_t stop_at = std::numeric_limits<size_t>::max()) {
  FastSaxVerdict v;
  SaxRecorder reference, fast;
  reference.stop_at = fast.stop_at = stop_at;
  try {
    v.reference_accepted = nlohmann::json::sax_parse(text.begin(), text.end(), &reference);
  } catch (const std::exception&) {
    v.reference_accepted = false;
  }
  v.fast_accepted = FastSaxParse(text, &fast);
  auto dump = [](const std::vector<std::string>& e) {
    std::string s;
    for (const auto& x : e) s += "  " + x + "\n";
    return s;
  };
  if (v.fast_accepted && !v.reference_accepted) {
    v.violation = "the fast scanner accepted a text nlohmann rejects";
  } else if (v.fast_accepted && fast.events != reference.events) {
    v.violation = "different callbacks:\nfast\n" + dump(fast.events) + "nlohmann\n" + dump(reference.events);
  } else if (!v.fast_accepted && (fast.events.size() > reference.events.size() ||
                                  !std::equal(fast.events.begin(), fast.events.end(), reference.events.begin()))) {
    v.violation = "gave up after callbacks nlohmann does not make:\nfast\n" + dump(fast.events) + "nlohmann\n" +
                  dump(reference.events);
  }
  if (v.violation.empty() && v.fast_accepted && stop_at == std::numeric_limits<size_t>::max()) {
    nlohmann::json dom;
    if (!FastParseJson(text, &dom)) {
      v.violation = "FastParseJson gave up on a text FastSaxParse accepts";
    } else if (dom != nlohmann::json::parse(text.begin(), text.end())) {
      v.violation = "FastParseJson built a different DOM";
    }
  }
  return v;
}

}  // namespace hpad::k8s::testing
