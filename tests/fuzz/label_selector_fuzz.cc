// Fuzzes both forms of label selectors: the string form (Selector::Parse)
// and the metav1.LabelSelector JSON form (Selector::FromJson). An accepted
// selector's canonical string must parse back to the same selector.
#include "k8sclient/api/json_parse.h"
#include "k8sclient/api/label_selector.h"
#include "tests/fuzz/fuzz_support.h"

namespace {

void CheckRoundTrip(const hpad::k8s::Selector& sel) {
  using namespace hpad;
  if (sel.IsNothing()) return;
  std::string text = sel.ToString();
  auto again = k8s::Selector::Parse(text);
  if (!again.ok()) fuzz::FuzzFail("canonical selector does not parse", text);
  if (again->ToString() != text) fuzz::FuzzFail("canonical selector is not stable", text);
  k8s::Labels labels;
  for (const auto& r : sel.requirements()) {
    if (!r.values.empty()) labels[r.key] = r.values.front();
  }
  if (sel.Matches(labels) != again->Matches(labels)) fuzz::FuzzFail("re-parsed selector matches differently", text);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace hpad;
  fuzz::SilenceLogs();
  std::string_view text = fuzz::AsText(data, size);
  auto sel = k8s::Selector::Parse(text);
  if (sel.ok()) {
    CheckRoundTrip(*sel);
  } else {
    fuzz::CheckErrorText(sel.status());
  }
  auto j = k8s::ParseForeignJson(text, "fuzz input");
  if (j.ok()) {
    auto js = k8s::Selector::FromJson(*j);
    if (js.ok()) {
      CheckRoundTrip(*js);
    } else {
      fuzz::CheckErrorText(js.status());
    }
  }
  return 0;
}
