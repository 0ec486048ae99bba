// Persisted behaviour history (issue 13): format and ConfigMap shards.
#include "controller/history_store.h"

#include <cstdio>

#include "k8sclient/api/json_parse.h"
#include "k8sclient/base/klog.h"
#include "k8sclient/base/text.h"

namespace hpad::ctrl {
namespace {

const k8s::GroupVersionResource kConfigMaps{"", "v1", "configmaps"};

int64_t Nanos(Time t) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
}
Time FromNanos(int64_t n) {
  return Time(std::chrono::duration_cast<Time::duration>(std::chrono::nanoseconds(n)));
}

Result<int64_t> IntAt(const nlohmann::json& row, size_t i, int64_t lo, int64_t hi) {
  if (!row.is_array() || row.size() <= i || !row[i].is_number_integer()) return InvalidError("not an integer");
  // An unsigned value above int64 range would wrap in get<int64_t>().
  if (row[i].is_number_unsigned() && row[i].get<uint64_t>() > static_cast<uint64_t>(INT64_MAX)) {
    return InvalidError("out of range");
  }
  int64_t v = row[i].get<int64_t>();
  if (v < lo || v > hi) return InvalidError("out of range");
  return v;
}

}  // namespace

int HistoryShardOf(const std::string& key) {
  uint64_t h = 1469598103934665603ULL;
  for (unsigned char c : key) {
    h ^= c;
    h *= 1099511628211ULL;
  }
  return static_cast<int>(h % kHistoryShards);
}

std::string HistoryShardName(int shard) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "hpad-history-%02d", shard);
  return buf;
}

std::string HistoryDataKey(const std::string& key) {
  std::string out = key;
  auto slash = out.find('/');
  if (slash != std::string::npos) out[slash] = '_';
  return out;
}

std::optional<std::string> HpaKeyOfDataKey(const std::string& data_key) {
  auto u = data_key.find('_');
  if (u == std::string::npos || u == 0 || u + 1 == data_key.size()) return std::nullopt;
  if (data_key.find('_', u + 1) != std::string::npos) return std::nullopt;
  return data_key.substr(0, u) + "/" + data_key.substr(u + 1);
}

std::string EncodeHistory(const HpaHistory& history, const std::optional<PendingScaleWrite>& pending) {
  nlohmann::json j = {{"r", nlohmann::json::array()}, {"u", nlohmann::json::array()}, {"d", nlohmann::json::array()}};
  if (pending) j["p"] = {Nanos(pending->at), pending->from, pending->to};
  for (const auto& r : history.recommendations) j["r"].push_back({Nanos(r.timestamp), r.recommendation});
  for (const auto& e : history.scale_up_events) j["u"].push_back({Nanos(e.timestamp), e.replica_change, e.outdated ? 1 : 0});
  for (const auto& e : history.scale_down_events) j["d"].push_back({Nanos(e.timestamp), e.replica_change, e.outdated ? 1 : 0});
  return j.dump();
}

Result<HpaHistory> DecodeHistory(const std::string& text, std::optional<PendingScaleWrite>* pending) {
  if (pending) *pending = std::nullopt;
  if (text.size() > kMaxHistoryEntryBytes) return InvalidError("history entry too large");
  auto parsed = k8s::ParseForeignJson(text, "history entry", kMaxHistoryEntryBytes, 8);
  if (!parsed.ok()) return parsed.status();
  const nlohmann::json& j = *parsed;
  if (!j.is_object()) return InvalidError("history entry is not an object");
  HpaHistory h;
  constexpr int64_t kInt32Max = 2147483647;
  auto list = [&](const char* name) -> Result<const nlohmann::json*> {
    auto it = j.find(name);
    if (it == j.end()) return static_cast<const nlohmann::json*>(nullptr);
    if (!it->is_array()) return InvalidError(std::string("field ") + name + " is not a list");
    if (it->size() > kMaxHistoryEntriesPerList) return InvalidError(std::string("field ") + name + " too long");
    return &*it;
  };
  auto r = list("r");
  if (!r.ok()) return r.status();
  if (*r) {
    for (const auto& row : **r) {
      auto t = IntAt(row, 0, INT64_MIN, INT64_MAX);
      auto n = IntAt(row, 1, 0, kInt32Max);
      if (!t.ok() || !n.ok()) return InvalidError("malformed recommendation in field r");
      h.recommendations.push_back({static_cast<int32_t>(*n), FromNanos(*t)});
    }
  }
  for (const char* name : {"u", "d"}) {
    auto l = list(name);
    if (!l.ok()) return l.status();
    if (!*l) continue;
    for (const auto& row : **l) {
      auto t = IntAt(row, 0, INT64_MIN, INT64_MAX);
      auto n = IntAt(row, 1, 0, kInt32Max);
      auto o = IntAt(row, 2, 0, 1);
      if (!t.ok() || !n.ok() || !o.ok()) return InvalidError(std::string("malformed scale event in field ") + name);
      (name[0] == 'u' ? h.scale_up_events : h.scale_down_events)
          .push_back({static_cast<int32_t>(*n), FromNanos(*t), *o == 1});
    }
  }
  if (auto p = j.find("p"); p != j.end()) {
    auto t = IntAt(*p, 0, INT64_MIN, INT64_MAX);
    auto from = IntAt(*p, 1, 0, kInt32Max);
    auto to = IntAt(*p, 2, 0, kInt32Max);
    if (!t.ok() || !from.ok() || !to.ok() || p->size() != 3) return InvalidError("malformed pending scale write in field p");
    if (pending) *pending = PendingScaleWrite{static_cast<int32_t>(*from), static_cast<int32_t>(*to), FromNanos(*t)};
  }
  return h;
}

Result<std::map<std::string, HpaHistory>> HistoryStore::Load(const std::set<std::string>& live_keys,
                                                             std::map<std::string, PendingScaleWrite>* pending) {
  std::lock_guard<std::mutex> l(mu_);
  std::map<std::string, HpaHistory> out;
  if (pending) pending->clear();
  for (int shard = 0; shard < kHistoryShards; shard++) {
    entries_[shard].clear();
    resource_version_[shard].clear();
    dirty_[shard] = false;
    const std::string name = HistoryShardName(shard);
    auto got = api_.Get(k8s::ObjectKey{kConfigMaps, ns_, name, ""});
    if (!got.ok()) {
      if (got.status().code() == StatusCode::kNotFound) continue;
      return Status(got.status().code(), "reading history ConfigMap " + ns_ + "/" + name + ": " + got.status().message());
    }
    const nlohmann::json& cm = *got;
    if (cm.contains("metadata") && cm["metadata"].is_object() && cm["metadata"].contains("resourceVersion") &&
        cm["metadata"]["resourceVersion"].is_string()) {
      resource_version_[shard] = cm["metadata"]["resourceVersion"].get<std::string>();
    }
    const nlohmann::json data = cm.contains("data") && cm["data"].is_object() ? cm["data"] : nlohmann::json::object();
    auto format = data.find("format");
    if (format == data.end() || !format->is_string() || format->get<std::string>() != kHistoryFormat) {
      HPAD_LOG(Warning) << "history ConfigMap " << ns_ << "/" << name << " is not in format " << kHistoryFormat
                        << ": ignored (it is rewritten at the next save of its shard)";
      dirty_[shard] = true;
      continue;
    }
    for (const auto& [data_key, value] : data.items()) {
      if (data_key == "format") continue;
      auto key = HpaKeyOfDataKey(data_key);
      if (!key || !value.is_string() || HistoryShardOf(*key) != shard) {
        HPAD_LOG(Warning) << "history ConfigMap " << ns_ << "/" << name << ": entry " << k8s::SafeText(data_key, 256)
                          << " is not an HPA entry of this shard: dropped";
        dirty_[shard] = true;
        continue;
      }
      if (live_keys.count(*key) == 0) {
        dirty_[shard] = true;  // a deleted HPA's entry
        continue;
      }
      std::optional<PendingScaleWrite> p;
      auto h = DecodeHistory(value.get<std::string>(), &p);
      if (!h.ok()) {
        HPAD_LOG(Warning) << "history ConfigMap " << ns_ << "/" << name << ": entry " << k8s::SafeText(data_key, 256) << ": "
                          << h.status().message() << ": dropped";
        dirty_[shard] = true;
        continue;
      }
      entries_[shard][data_key] = value.get<std::string>();
      out[*key] = std::move(*h);
      if (p && pending) (*pending)[*key] = *p;
    }
  }
  return out;
}

Status HistoryStore::Save(const std::map<std::string, std::optional<HpaHistory>>& histories) {
  std::lock_guard<std::mutex> l(mu_);
  for (const auto& [key, history] : histories) {
    const int shard = HistoryShardOf(key);
    const std::string data_key = HistoryDataKey(key);
    auto& entries = entries_[shard];
    if (!history) {
      if (entries.erase(data_key) > 0) dirty_[shard] = true;
      continue;
    }
    std::string encoded = EncodeHistory(*history);
    auto it = entries.find(data_key);
    if (it != entries.end() && it->second == encoded) continue;  // steady state: no write
    entries[data_key] = std::move(encoded);
    dirty_[shard] = true;
  }
  Status first;
  for (int shard = 0; shard < kHistoryShards; shard++) {
    if (!dirty_[shard]) continue;
    Status s = WriteShard(shard);
    if (s.ok()) dirty_[shard] = false;
    else if (first.ok()) first = s;
  }
  return first;
}

Status HistoryStore::SaveOne(const std::string& key, const HpaHistory& history,
                             const std::optional<PendingScaleWrite>& pending) {
  std::lock_guard<std::mutex> l(mu_);
  const int shard = HistoryShardOf(key);
  const std::string data_key = HistoryDataKey(key);
  auto& entries = entries_[shard];
  std::string encoded = EncodeHistory(history, pending);
  auto it = entries.find(data_key);
  if (it != entries.end() && it->second == encoded && !dirty_[shard]) return Status::Ok();  // already stored
  std::optional<std::string> before;
  if (it != entries.end()) before = it->second;
  entries[data_key] = std::move(encoded);
  Status s = WriteShard(shard);
  if (s.ok()) {
    dirty_[shard] = false;
    return s;
  }
  if (before) entries[data_key] = std::move(*before);
  else entries.erase(data_key);
  dirty_[shard] = true;
  return s;
}

Status HistoryStore::WriteShard(int shard) {
  const std::string name = HistoryShardName(shard);
  nlohmann::json data = {{"format", kHistoryFormat}};
  for (const auto& [k, v] : entries_[shard]) data[k] = v;
  nlohmann::json cm = {{"apiVersion", "v1"},
                       {"kind", "ConfigMap"},
                       {"metadata", {{"name", name}, {"namespace", ns_}, {"labels", {{"app.kubernetes.io/managed-by", "hpad"}}}}},
                       {"data", data}};
  for (int attempt = 0; attempt < 2; attempt++) {
    writes_++;
    if (!resource_version_[shard].empty()) cm["metadata"]["resourceVersion"] = resource_version_[shard];
    Result<nlohmann::json> res = resource_version_[shard].empty()
                                     ? api_.Create(kConfigMaps, ns_, cm)
                                     : api_.Update(k8s::ObjectKey{kConfigMaps, ns_, name, ""}, cm);
    if (res.ok()) {
      const nlohmann::json& md = (*res)["metadata"];
      resource_version_[shard] = md.is_object() && md.contains("resourceVersion") && md["resourceVersion"].is_string()
                                     ? md["resourceVersion"].get<std::string>()
                                     : "";
      return Status::Ok();
    }
    const StatusCode code = res.status().code();
    if (code != StatusCode::kConflict && code != StatusCode::kNotFound) {
      return Status(code, "writing history ConfigMap " + ns_ + "/" + name + ": " + res.status().message());
    }
    // Someone else wrote it (a former leader): this leader's view wins; take
    // the current resourceVersion and write again.
    auto got = api_.Get(k8s::ObjectKey{kConfigMaps, ns_, name, ""});
    resource_version_[shard] = got.ok() && (*got)["metadata"].is_object() &&
                                       (*got)["metadata"].contains("resourceVersion") &&
                                       (*got)["metadata"]["resourceVersion"].is_string()
                                   ? (*got)["metadata"]["resourceVersion"].get<std::string>()
                                   : "";
  }
  return Status(StatusCode::kConflict, "writing history ConfigMap " + ns_ + "/" + name + ": conflict twice");
}

size_t HistoryStore::Writes() const {
  std::lock_guard<std::mutex> l(mu_);
  return writes_;
}

}  // namespace hpad::ctrl
