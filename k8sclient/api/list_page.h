// ListPage<T>: one page of a list reply decoded straight from its text into
// typed objects (issue 16: the pod informer decodes PodList pages without a
// DOM, see PodListPageFromText in types/pod.h and Informer's page decoder
// in informer.h).
//
// It carries what the reflector and informer read from a DOM page: the
// converted items in list order, the items whose conversion failed (with
// the key and error the informer logs when it skips them), and the page's
// metadata.resourceVersion and metadata.continue ("" when absent or not a
// string, as the reflector reads them from a DOM page). A plain value type;
// the decoder that fills it owns it until handing it over.
#pragma once

#include <string>
#include <vector>

#include "k8sclient/base/status.h"

namespace hpad::k8s {

template <typename T>
struct ListPage {
  struct Skipped {
    std::string key;  // "ns/name" as StoreKeyOf reads the item's JSON; "" when it has none
    Status error;     // the converter's error
  };
  std::vector<T> items;
  std::vector<Skipped> skipped;
  std::string resource_version;
  std::string continue_token;
};

}  // namespace hpad::k8s
