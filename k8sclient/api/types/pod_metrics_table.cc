// PodMetricsTable and its builder (see pod_metrics_table.h, issue 16).
#include "k8sclient/api/types/pod_metrics_table.h"

#include <algorithm>
#include <utility>

namespace hpad::k8s {

const Labels& PodMetricsTable::LabelsOf(uint32_t i) const {
  static const Labels kNoLabels;
  const uint32_t set = i < items_.size() ? items_[i].label_set : kNone;
  return set == kNone ? kNoLabels : label_sets_[set];
}

uint32_t PodMetricsTable::Find(std::string_view s) const {
  auto it = std::lower_bound(strings_sorted_.begin(), strings_sorted_.end(), s,
                             [&](uint32_t id, std::string_view v) { return std::string_view(strings_[id]) < v; });
  return it != strings_sorted_.end() && strings_[*it] == s ? *it : kNone;
}

std::vector<PodMetrics> PodMetricsTable::ToPodMetrics() const {
  std::vector<PodMetrics> out(items_.size());
  for (uint32_t i = 0; i < items_.size(); i++) {
    PodMetrics& pm = out[i];
    pm.name = std::string(NameOf(i));
    pm.ns = strings_[items_[i].ns];
    pm.labels = LabelsOf(i);
    pm.timestamp = TimestampOf(i);
    pm.window = WindowOf(i);
    pm.containers.reserve(ContainersEnd(i) - ContainersBegin(i));
    for (uint32_t c = ContainersBegin(i); c < ContainersEnd(i); c++) {
      ContainerMetrics cm;
      cm.name = strings_[containers_[c].name];
      // Usages are in key order: each insert goes at the end.
      for (uint32_t u = UsagesBegin(c); u < UsagesEnd(c); u++)
        cm.usage_milli.emplace_hint(cm.usage_milli.end(), strings_[usage_resource_[u]], usage_value_[u]);
      pm.containers.push_back(std::move(cm));
    }
  }
  return out;
}

Result<PodMetricsTable> PodMetricsTable::FromPodMetrics(const std::vector<PodMetrics>& items) {
  PodMetricsTableBuilder b;
  for (const PodMetrics& pm : items) {
    for (const ContainerMetrics& c : pm.containers) {
      for (const auto& [resource, milli] : c.usage_milli) b.AddUsage(resource, milli);
      b.EndContainer(c.name);
    }
    // The map's iterators, addressed by position: walk them in step.
    auto it = pm.labels.begin();
    size_t at = 0;
    auto seek = [&](size_t k) {
      if (k < at) {
        it = pm.labels.begin();
        at = 0;
      }
      for (; at < k; at++) ++it;
    };
    b.EndItem(
        pm.name, pm.ns, pm.timestamp, pm.window, pm.labels.size(),
        [&](size_t k) -> const std::string& {
          seek(k);
          return it->first;
        },
        [&](size_t k) -> const std::string& {
          seek(k);
          return it->second;
        });
  }
  return b.Finish();
}

void PodMetricsTableBuilder::Clear() {
  t_ = PodMetricsTable();
  overflow_ = false;
  ids_.clear();
  set_head_.clear();
  set_next_.clear();
}

uint32_t PodMetricsTableBuilder::Intern(const std::string& s) {
  auto it = ids_.find(s);
  if (it != ids_.end()) return it->second;
  const auto id = static_cast<uint32_t>(t_.strings_.size());
  t_.strings_.push_back(s);
  ids_.emplace(s, id);
  return id;
}

void PodMetricsTableBuilder::AddUsage(const std::string& resource, int64_t milli) {
  if (overflow_) return;
  if (t_.usage_value_.size() >= PodMetricsTable::kNone - 1) {
    overflow_ = true;
    return;
  }
  t_.usage_resource_.push_back(Intern(resource));
  t_.usage_value_.push_back(milli);
}

void PodMetricsTableBuilder::EndContainer(const std::string& name) {
  if (overflow_) return;
  if (t_.containers_.size() >= PodMetricsTable::kNone - 1) {
    overflow_ = true;
    return;
  }
  t_.containers_.push_back(PodMetricsTable::Container{Intern(name), static_cast<uint32_t>(t_.usage_value_.size())});
}

void PodMetricsTableBuilder::EndItemWith(std::string_view name, uint32_t ns, Time timestamp,
                                         std::chrono::milliseconds window, uint32_t label_set) {
  if (t_.items_.size() >= PodMetricsTable::kNone - 1 || name.size() >= PodMetricsTable::kNone - 1 - t_.names_.size()) {
    overflow_ = true;
    return;
  }
  t_.names_ += name;
  PodMetricsTable::Item item;
  item.name_end = static_cast<uint32_t>(t_.names_.size());
  item.container_end = static_cast<uint32_t>(t_.containers_.size());
  item.ns = ns;
  item.label_set = label_set;
  item.timestamp = timestamp.time_since_epoch().count();
  item.window_ms = window.count();
  t_.items_.push_back(item);
}

Result<PodMetricsTable> PodMetricsTableBuilder::Finish() {
  if (overflow_) {
    Clear();
    return Status(StatusCode::kInternal, "the list is too large to cache");
  }
  PodMetricsTable t = std::move(t_);
  Clear();
  // The table is held for a whole period: no growth slack.
  t.items_.shrink_to_fit();
  t.names_.shrink_to_fit();
  t.containers_.shrink_to_fit();
  t.usage_resource_.shrink_to_fit();
  t.usage_value_.shrink_to_fit();
  t.strings_.shrink_to_fit();
  t.label_sets_.shrink_to_fit();
  t.strings_sorted_.resize(t.strings_.size());
  for (uint32_t id = 0; id < t.strings_.size(); id++) t.strings_sorted_[id] = id;
  std::sort(t.strings_sorted_.begin(), t.strings_sorted_.end(),
            [&](uint32_t a, uint32_t b) { return t.strings_[a] < t.strings_[b]; });
  return t;
}

}  // namespace hpad::k8s
