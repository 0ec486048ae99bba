// PodMetricsTable: a metrics.k8s.io PodMetricsList held in flat arrays
// (issue 16). At 150,000 pods a period, decoding into k8s::PodMetrics (a
// vector of containers, each with a std::map of usages, and a label map per
// pod) and then compacting those into MetricsCache's arrays was a third of
// hpad's CPU; the streaming decoder (PodMetricsTableFromText,
// metrics_stream.cc) now fills this table directly and MetricsCache keeps it
// as it is, adding only its label indexes.
//
// Layout: per item its name's end in one `names` buffer, its containers'
// end, its namespace (a string id), its label set (an index into the
// distinct label sets, kNone without labels), timestamp and window; per
// container its name (a string id) and its usages' end; per usage a
// resource (a string id) and the milli value. Item i's ranges are
// [end[i-1], end[i]) (0 for the first). Namespaces, container names and
// resource names are interned per table (`String(id)`, `Find`); usages of a
// container are in resource-name order (the order of the std::map they
// replace), label sets are deduplicated. ToPodMetrics() gives back exactly
// the k8s::PodMetrics the table was built from.
//
// Positions are 32-bit (kNone reserved): a table that would need more gives
// an error from the builder, never a wrapped offset. A list served within
// the 64 MiB reply bound cannot come near that.
//
// PodMetricsTableBuilder builds one (the decoder and FromPodMetrics use it).
// Plain values; a built table is immutable and safe to read from any
// number of threads.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "k8sclient/api/label_selector.h"
#include "k8sclient/api/types/metrics.h"
#include "k8sclient/base/clock.h"
#include "k8sclient/base/status.h"

namespace hpad::k8s {

class PodMetricsTable {
 public:
  static constexpr uint32_t kNone = UINT32_MAX;

  // Converts items (saturating nothing: an item too many for 32-bit
  // positions is an error "the list is too large to cache").
  static Result<PodMetricsTable> FromPodMetrics(const std::vector<PodMetrics>& items);

  size_t size() const { return items_.size(); }
  bool empty() const { return items_.empty(); }

  std::string_view NameOf(uint32_t i) const {
    const uint32_t begin = i == 0 ? 0 : items_[i - 1].name_end;
    return std::string_view(names_).substr(begin, items_[i].name_end - begin);
  }
  const std::string& NamespaceOf(uint32_t i) const { return strings_[items_[i].ns]; }
  Time TimestampOf(uint32_t i) const { return Time(Time::duration(items_[i].timestamp)); }
  std::chrono::milliseconds WindowOf(uint32_t i) const { return std::chrono::milliseconds(items_[i].window_ms); }
  // The item's metadata.labels (an empty set for kNone or an index out of range).
  const Labels& LabelsOf(uint32_t i) const;
  uint32_t LabelSetOf(uint32_t i) const { return items_[i].label_set; }
  size_t label_set_count() const { return label_sets_.size(); }
  const Labels& label_set(uint32_t set) const { return label_sets_[set]; }

  // Containers of item i: [ContainersBegin(i), ContainersEnd(i)).
  uint32_t ContainersBegin(uint32_t i) const { return i == 0 ? 0 : items_[i - 1].container_end; }
  uint32_t ContainersEnd(uint32_t i) const { return items_[i].container_end; }
  uint32_t ContainerName(uint32_t c) const { return containers_[c].name; }  // a string id
  // Usages of container c: [UsagesBegin(c), UsagesEnd(c)), in resource-name order.
  uint32_t UsagesBegin(uint32_t c) const { return c == 0 ? 0 : containers_[c - 1].usage_end; }
  uint32_t UsagesEnd(uint32_t c) const { return containers_[c].usage_end; }
  uint32_t UsageResource(uint32_t u) const { return usage_resource_[u]; }  // a string id
  int64_t UsageValue(uint32_t u) const { return usage_value_[u]; }

  const std::string& String(uint32_t id) const { return strings_[id]; }
  size_t string_count() const { return strings_.size(); }
  // The id of `s` among the interned strings, kNone if absent.
  uint32_t Find(std::string_view s) const;

  // The items as k8s::PodMetrics, in table order.
  std::vector<PodMetrics> ToPodMetrics() const;

 private:
  friend class PodMetricsTableBuilder;
  struct Item {
    uint32_t name_end = 0;       // into names_
    uint32_t container_end = 0;  // into containers_
    uint32_t ns = kNone;         // id in strings_
    uint32_t label_set = kNone;  // index into label_sets_, kNone if no labels
    int64_t timestamp = 0;       // Time::duration ticks
    int64_t window_ms = 0;
  };
  struct Container {
    uint32_t name = kNone;   // id in strings_
    uint32_t usage_end = 0;  // into usage_resource_ / usage_value_
  };
  std::vector<Item> items_;
  std::string names_;
  std::vector<Container> containers_;
  std::vector<uint32_t> usage_resource_;
  std::vector<int64_t> usage_value_;
  std::vector<std::string> strings_;      // interned namespaces, container and resource names
  std::vector<uint32_t> strings_sorted_;  // ids ordered by their string, for Find
  std::vector<Labels> label_sets_;        // distinct non-empty label sets
};

// Builds a PodMetricsTable item by item: AddUsage for each usage of a
// container (in resource-name order, each resource once), EndContainer,
// then EndItem after the item's containers. Interning and label-set
// deduplication use hash lookups kept by the builder, so adding an item
// allocates nothing once the arrays have grown (new distinct strings and
// label sets aside). Not thread-safe; one builder per table.
class PodMetricsTableBuilder {
 public:
  // Forgets everything added (a later "items" key replaces the list).
  void Clear();

  void AddUsage(const std::string& resource, int64_t milli);
  void EndContainer(const std::string& name);
  // key(k) and value(k) for k in [0, n) give the item's labels, keys sorted
  // and distinct (n = 0: no labels).
  template <typename KeyAt, typename ValueAt>
  void EndItem(std::string_view name, const std::string& ns, Time timestamp, std::chrono::milliseconds window,
               size_t n, KeyAt key, ValueAt value);

  // The table; the builder is left empty. An overflow of the 32-bit
  // positions is kInternal "the list is too large to cache".
  Result<PodMetricsTable> Finish();

 private:
  uint32_t Intern(const std::string& s);
  template <typename KeyAt, typename ValueAt>
  uint32_t LabelSet(size_t n, KeyAt key, ValueAt value);
  void EndItemWith(std::string_view name, uint32_t ns, Time timestamp, std::chrono::milliseconds window,
                   uint32_t label_set);

  PodMetricsTable t_;
  bool overflow_ = false;
  std::unordered_map<std::string, uint32_t> ids_;   // interned string -> id
  std::unordered_map<uint64_t, uint32_t> set_head_;  // label-set hash -> first set with it
  std::vector<uint32_t> set_next_;                   // per set: the next set of the same hash, or kNone
};

// The streaming PodMetricsList decoder (metrics_stream.cc) into a table:
// for every input, the table's ToPodMetrics() is what PodMetricsListFromText
// (and so ParseForeignJson + PodMetricsListFromJson) gives, and its errors
// are theirs, text-level errors flagged in *text_error the same way (see
// metrics.h). One more error, unreachable within the reply bound: a list
// too large for 32-bit positions (kInternal "the list is too large to
// cache", not flagged as a text error).
Result<PodMetricsTable> PodMetricsTableFromText(std::string_view text, std::string_view what,
                                                bool* text_error = nullptr,
                                                size_t max_bytes = kMetricsListMaxBytes);

// ---- template members

template <typename KeyAt, typename ValueAt>
uint32_t PodMetricsTableBuilder::LabelSet(size_t n, KeyAt key, ValueAt value) {
  if (n == 0) return PodMetricsTable::kNone;
  uint64_t h = 1469598103934665603ULL;  // FNV-1a offset basis, mixed per string
  auto mix = [&h](const std::string& s) {
    h ^= std::hash<std::string_view>()(s);
    h *= 1099511628211ULL;
  };
  for (size_t k = 0; k < n; k++) {
    mix(key(k));
    mix(value(k));
  }
  auto same = [&](const Labels& set) {
    if (set.size() != n) return false;
    size_t k = 0;
    for (const auto& [sk, sv] : set) {
      if (sk != key(k) || sv != value(k)) return false;
      k++;
    }
    return true;
  };
  auto [head, added] = set_head_.try_emplace(h, static_cast<uint32_t>(t_.label_sets_.size()));
  if (!added) {
    // Sets of one hash form a chain, walked at most kMaxChain long: hostile
    // labels made to collide cost a duplicate set, not a quadratic walk
    // (sharing sets saves memory; LabelsOf is right either way).
    constexpr int kMaxChain = 8;
    uint32_t last = head->second;
    int walked = 0;
    for (uint32_t s = head->second; s != PodMetricsTable::kNone && walked < kMaxChain; s = set_next_[s], walked++) {
      if (same(t_.label_sets_[s])) return s;
      last = s;
    }
    if (walked < kMaxChain) set_next_[last] = static_cast<uint32_t>(t_.label_sets_.size());
  }
  Labels set;
  for (size_t k = 0; k < n; k++) set.emplace_hint(set.end(), key(k), value(k));
  t_.label_sets_.push_back(std::move(set));
  set_next_.push_back(PodMetricsTable::kNone);
  return static_cast<uint32_t>(t_.label_sets_.size() - 1);
}

template <typename KeyAt, typename ValueAt>
void PodMetricsTableBuilder::EndItem(std::string_view name, const std::string& ns, Time timestamp,
                                     std::chrono::milliseconds window, size_t n, KeyAt key, ValueAt value) {
  if (overflow_) return;
  const uint32_t ns_id = Intern(ns);
  EndItemWith(name, ns_id, timestamp, window, LabelSet(n, key, value));
}

}  // namespace hpad::k8s
