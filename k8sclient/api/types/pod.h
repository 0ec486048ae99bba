// Pod, trimmed to what autoscaling needs (architecture.md step 1), and the
// interner that lets pods of one template share their labels and requests.
//
// Memory (issue 16): the pod cache holds every pod of the cluster (150,000
// at Kubernetes' largest supported size), so a Pod keeps only what the
// controller reads - name, namespace, phase, the Ready condition, start and
// deletion times - plus two shared, immutable parts: its label set and its
// requests (containers, init containers, pod-level requests, overhead).
// Pods stamped from one template carry equal ones; PodFromJson with a
// PodInterner hands them one shared copy instead of a std::map and a
// container vector each (~1.3 KB -> ~0.55 KB per cached pod in
// bench/cache_memory_bench, index entries included).
//
// A Pod is immutable once cached (shared as shared_ptr<const Pod>); its
// shared parts are never modified after construction, so they are safe to
// read from any thread. PodInterner is thread-safe (one mutex).
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "k8sclient/api/json_parse.h"
#include "k8sclient/api/label_selector.h"
#include "k8sclient/api/list_page.h"
#include "k8sclient/base/clock.h"
#include "k8sclient/base/status.h"

namespace hpad::k8s {

struct PodContainer {
  std::string name;
  // milli values of requests by resource name ("cpu", "memory"); absent = no request.
  std::map<std::string, int64_t> requests_milli;
  bool restart_policy_always = false;  // init containers: sidecar (RQ1)
  bool operator==(const PodContainer&) const = default;
};

// What a pod's spec requests (RQ1, RQ2): shared by the pods with equal ones.
// (Members default-initialised so designated initialisers may name a subset.)
struct PodRequests {
  std::vector<PodContainer> containers{};
  std::vector<PodContainer> init_containers{};
  std::map<std::string, int64_t> pod_level_requests_milli{};  // RQ2: spec.resources.requests
  std::map<std::string, int64_t> overhead_milli{};            // RQ2: spec.overhead
  bool operator==(const PodRequests&) const = default;
  bool empty() const {
    return containers.empty() && init_containers.empty() && pod_level_requests_milli.empty() &&
           overhead_milli.empty();
  }
};

struct Pod {
  std::string name;
  std::string ns;
  std::string phase;  // Pending, Running, Succeeded, Failed, Unknown
  std::optional<Time> deletion_timestamp;
  std::optional<Time> start_time;
  // The first Ready condition (as upstream's GetPodCondition): status
  // "True"/"False"/"Unknown"; absent when there is none.
  std::optional<std::string> ready_status;
  std::optional<Time> ready_last_transition;
  // Shared parts; null = none (no labels / an empty spec).
  std::shared_ptr<const Labels> shared_labels;
  std::shared_ptr<const PodRequests> shared_requests;

  const Labels& labels() const;
  const PodRequests& requests() const;
  // For pods built by hand (tests, benchmarks): an unshared copy.
  void SetLabels(Labels labels);
  void SetRequests(PodRequests requests);
};

// Hands out one shared copy per distinct label set / PodRequests. Entries
// are weak: a value lives as long as some pod holds it, and expired entries
// are swept whenever the table has doubled since the last sweep (amortised
// O(1) per call). Thread-safe; owned by whoever converts pods (the pod
// informer's converter in controller/wiring.cc).
class PodInterner {
 public:
  // nullptr for an empty set (Pod::labels() reads it as empty).
  std::shared_ptr<const Labels> InternLabels(Labels labels);
  std::shared_ptr<const PodRequests> InternRequests(PodRequests requests);
  // Entries held, expired ones included until the next sweep (for tests).
  size_t label_entries() const;
  size_t request_entries() const;

 private:
  template <typename T>
  struct Table {
    std::unordered_multimap<size_t, std::weak_ptr<const T>> entries;
    size_t sweep_at = 1024;
  };
  template <typename T>
  static std::shared_ptr<const T> Intern(Table<T>& table, T value, size_t hash);

  mutable std::mutex mu_;
  Table<Labels> labels_;
  Table<PodRequests> requests_;
};

// Pod JSON -> Pod. With an interner, the label set and requests are shared
// with the other pods converted through it; without, each pod owns its own.
Result<Pod> PodFromJson(const nlohmann::json& j, PodInterner* interner = nullptr);

// One page of a PodList reply decoded from its text without a DOM (issue
// 16: the pod informer's list pages, pod_list_stream.cc). The result is
// what the informer's DOM path makes of the same page: ParseForeignJson's
// errors (same texts and codes; *text_error set) for text that does not
// parse, else the page's metadata.resourceVersion and metadata.continue as
// the reflector reads them (strings only, "" otherwise), and each element
// of `items` (when an array) converted as PodFromJson(item, interner) does,
// or skipped under the key StoreKeyOf reads from its JSON with
// PodFromJson's error. A page that is not an object, or whose items are not
// a list, has no items; nothing about a page is an error once it parses.
// `page` is overwritten (left empty on error). Pure apart from the interner.
using PodListPage = ListPage<Pod>;
Status PodListPageFromText(std::string_view text, std::string_view what, PodInterner* interner, PodListPage* page,
                           bool* text_error = nullptr, size_t max_bytes = kMaxJsonBytes);

}  // namespace hpad::k8s
