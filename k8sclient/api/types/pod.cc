// Pod JSON -> trimmed Pod (see pod.h). Requests become milli-int64 at once
// (rule 1.7); sidecars (init containers with restartPolicy Always) are
// flagged for RQ1; pod-level requests are kept for RQ2. Labels and requests
// go through the PodInterner when one is given.
#include "k8sclient/api/types/pod.h"

#include <algorithm>
#include <functional>
#include <utility>

#include <nlohmann/json.hpp>

#include "k8sclient/api/types/json_fields.h"

namespace hpad::k8s {

using nlohmann::json;
using namespace fields;

namespace {

// owner[key]: a map of resource name -> quantity, into milli values.
Status ParseQuantityMap(const json& owner, const char* key, const std::string& path,
                        std::map<std::string, int64_t>* out) {
  const json* map = Child(owner, key);
  if (!map) return Status::Ok();
  std::string qp = Join(path, key);
  HPAD_RETURN_IF_ERROR(ExpectObject(*map, qp));
  for (const auto& [name, value] : map->items()) {
    if (value.is_null()) continue;
    auto q = QuantityFromJson(value, qp + "." + name);
    if (!q.ok()) return q.status();
    (*out)[name] = q->MilliValue();
  }
  return Status::Ok();
}

Status ParseRequests(const json& owner, const std::string& path, std::map<std::string, int64_t>* out) {
  const json* resources = Child(owner, "resources");
  if (!resources) return Status::Ok();
  std::string rp = Join(path, "resources");
  HPAD_RETURN_IF_ERROR(ExpectObject(*resources, rp));
  return ParseQuantityMap(*resources, "requests", rp, out);
}

Status ParseContainers(const json& spec, const char* key, const std::string& path, std::vector<PodContainer>* out) {
  const json* list = Child(spec, key);
  if (!list) return Status::Ok();
  std::string lp = Join(path, key);
  if (!list->is_array()) return FieldError(lp, "expected a list, got " + std::string(list->type_name()));
  out->reserve(list->size());
  for (size_t i = 0; i < list->size(); ++i) {
    const json& c = (*list)[i];
    std::string cp = Index(lp, i);
    HPAD_RETURN_IF_ERROR(ExpectObject(c, cp));
    PodContainer pc;
    HPAD_RETURN_IF_ERROR(GetString(c, "name", cp, &pc.name));
    HPAD_RETURN_IF_ERROR(ParseRequests(c, cp, &pc.requests_milli));
    std::string restart_policy;
    HPAD_RETURN_IF_ERROR(GetString(c, "restartPolicy", cp, &restart_policy));
    pc.restart_policy_always = restart_policy == "Always";
    out->push_back(std::move(pc));
  }
  return Status::Ok();
}

void HashCombine(size_t* seed, size_t v) { *seed ^= v + 0x9e3779b97f4a7c15ULL + (*seed << 6) + (*seed >> 2); }

size_t HashOf(const std::string& s) { return std::hash<std::string>{}(s); }

size_t HashOf(const Labels& labels) {
  size_t h = labels.size();
  for (const auto& [k, v] : labels) {
    HashCombine(&h, HashOf(k));
    HashCombine(&h, HashOf(v));
  }
  return h;
}

size_t HashOf(const std::map<std::string, int64_t>& m) {
  size_t h = m.size();
  for (const auto& [k, v] : m) {
    HashCombine(&h, HashOf(k));
    HashCombine(&h, std::hash<int64_t>{}(v));
  }
  return h;
}

size_t HashOf(const std::vector<PodContainer>& cs) {
  size_t h = cs.size();
  for (const auto& c : cs) {
    HashCombine(&h, HashOf(c.name));
    HashCombine(&h, HashOf(c.requests_milli));
    HashCombine(&h, c.restart_policy_always ? 1 : 0);
  }
  return h;
}

size_t HashOf(const PodRequests& r) {
  size_t h = HashOf(r.containers);
  HashCombine(&h, HashOf(r.init_containers));
  HashCombine(&h, HashOf(r.pod_level_requests_milli));
  HashCombine(&h, HashOf(r.overhead_milli));
  return h;
}

}  // namespace

const Labels& Pod::labels() const {
  static const Labels kNone;
  return shared_labels ? *shared_labels : kNone;
}

const PodRequests& Pod::requests() const {
  static const PodRequests kNone;
  return shared_requests ? *shared_requests : kNone;
}

void Pod::SetLabels(Labels labels) {
  shared_labels = labels.empty() ? nullptr : std::make_shared<const Labels>(std::move(labels));
}

void Pod::SetRequests(PodRequests requests) {
  shared_requests = requests.empty() ? nullptr : std::make_shared<const PodRequests>(std::move(requests));
}

template <typename T>
std::shared_ptr<const T> PodInterner::Intern(Table<T>& table, T value, size_t hash) {
  auto [first, last] = table.entries.equal_range(hash);
  for (auto it = first; it != last; ++it) {
    std::shared_ptr<const T> have = it->second.lock();
    if (have && *have == value) return have;
  }
  if (table.entries.size() >= table.sweep_at) {
    std::erase_if(table.entries, [](const auto& e) { return e.second.expired(); });
    table.sweep_at = std::max<size_t>(1024, 2 * table.entries.size());
  }
  auto made = std::make_shared<const T>(std::move(value));
  table.entries.emplace(hash, made);
  return made;
}

std::shared_ptr<const Labels> PodInterner::InternLabels(Labels labels) {
  if (labels.empty()) return nullptr;
  const size_t hash = HashOf(labels);
  std::lock_guard<std::mutex> l(mu_);
  return Intern(labels_, std::move(labels), hash);
}

std::shared_ptr<const PodRequests> PodInterner::InternRequests(PodRequests requests) {
  if (requests.empty()) return nullptr;
  const size_t hash = HashOf(requests);
  std::lock_guard<std::mutex> l(mu_);
  return Intern(requests_, std::move(requests), hash);
}

size_t PodInterner::label_entries() const {
  std::lock_guard<std::mutex> l(mu_);
  return labels_.entries.size();
}

size_t PodInterner::request_entries() const {
  std::lock_guard<std::mutex> l(mu_);
  return requests_.entries.size();
}

Result<Pod> PodFromJson(const json& j, PodInterner* interner) {
  if (!j.is_object()) return FieldError("", "expected a Pod object, got " + std::string(j.type_name()));
  Pod pod;
  Labels labels;
  PodRequests requests;
  if (const json* m = Child(j, "metadata")) {
    const std::string p = "metadata";
    HPAD_RETURN_IF_ERROR(ExpectObject(*m, p));
    HPAD_RETURN_IF_ERROR(GetString(*m, "name", p, &pod.name));
    HPAD_RETURN_IF_ERROR(GetString(*m, "namespace", p, &pod.ns));
    HPAD_RETURN_IF_ERROR(GetStringMap(*m, "labels", p, &labels));
    HPAD_RETURN_IF_ERROR(GetOptTime(*m, "deletionTimestamp", p, &pod.deletion_timestamp));
  }
  if (const json* s = Child(j, "spec")) {
    const std::string p = "spec";
    HPAD_RETURN_IF_ERROR(ExpectObject(*s, p));
    HPAD_RETURN_IF_ERROR(ParseContainers(*s, "containers", p, &requests.containers));
    HPAD_RETURN_IF_ERROR(ParseContainers(*s, "initContainers", p, &requests.init_containers));
    HPAD_RETURN_IF_ERROR(ParseRequests(*s, p, &requests.pod_level_requests_milli));
    HPAD_RETURN_IF_ERROR(ParseQuantityMap(*s, "overhead", p, &requests.overhead_milli));
  }
  if (const json* st = Child(j, "status")) {
    const std::string p = "status";
    HPAD_RETURN_IF_ERROR(ExpectObject(*st, p));
    HPAD_RETURN_IF_ERROR(GetString(*st, "phase", p, &pod.phase));
    HPAD_RETURN_IF_ERROR(GetOptTime(*st, "startTime", p, &pod.start_time));
    if (const json* conds = Child(*st, "conditions")) {
      std::string cp = Join(p, "conditions");
      if (!conds->is_array()) return FieldError(cp, "expected a list, got " + std::string(conds->type_name()));
      // P4: the first Ready condition counts, as upstream's GetPodCondition.
      for (size_t i = 0; i < conds->size() && !pod.ready_status; ++i) {
        const json& c = (*conds)[i];
        std::string ip = Index(cp, i);
        HPAD_RETURN_IF_ERROR(ExpectObject(c, ip));
        std::string type;
        HPAD_RETURN_IF_ERROR(GetString(c, "type", ip, &type));
        if (type != "Ready") continue;
        std::string status;
        HPAD_RETURN_IF_ERROR(GetString(c, "status", ip, &status));
        pod.ready_status = status;
        HPAD_RETURN_IF_ERROR(GetOptTime(c, "lastTransitionTime", ip, &pod.ready_last_transition));
      }
    }
  }
  if (interner) {
    pod.shared_labels = interner->InternLabels(std::move(labels));
    pod.shared_requests = interner->InternRequests(std::move(requests));
  } else {
    pod.SetLabels(std::move(labels));
    pod.SetRequests(std::move(requests));
  }
  return pod;
}

}  // namespace hpad::k8s
