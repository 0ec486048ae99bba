// Differential fuzzing of the streaming PodList page decoder (issue 16):
// every input is decoded by PodListPageFromText and by the pod informer's
// DOM path (tests/k8sclient/api/types/pod_list_reference.h: ParseForeignJson,
// ListAll's metadata and items, PodFromJson per item, StoreKeyOf for the
// skipped ones), both through one PodInterner, and the two must agree: the
// same text-level error (code, text, flagged as such), or the same page -
// every Pod field, the same shared label set and requests objects, the same
// skipped items (key and error), resourceVersion and continue. Error texts
// must be safe.
#include <string>

#include "k8sclient/api/types/pod.h"
#include "tests/fuzz/fuzz_support.h"
#include "tests/k8sclient/api/types/pod_list_reference.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace hpad;
  fuzz::SilenceLogs();
  const std::string_view text = fuzz::AsText(data, size);
  k8s::PodInterner interner;
  k8s::PodListPage dom, stream;
  bool dom_text = false, stream_text = false;
  const Status ds = k8s::testing::PodListPageFromDom(text, "fuzz input", &interner, &dom, &dom_text);
  const Status ss = k8s::PodListPageFromText(text, "fuzz input", &interner, &stream, &stream_text);
  fuzz::CheckErrorText(ss);
  for (const auto& s : stream.skipped) fuzz::CheckErrorText(s.error);
  if (dom_text != stream_text)
    fuzz::FuzzFail("PodList page", std::string("text error flag differs: DOM ") + (dom_text ? "yes" : "no"));
  const std::string d = k8s::testing::ShowPage(ds, dom);
  const std::string s = k8s::testing::ShowPage(ss, stream);
  if (d != s) fuzz::FuzzFail("PodList page", "DOM:\n" + d + "stream:\n" + s);
  if (!k8s::testing::SameSharedParts(dom, stream))
    fuzz::FuzzFail("PodList page", "the paths hold different interned label sets or requests");
  return 0;
}
