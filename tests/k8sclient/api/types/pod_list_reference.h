// The DOM reference of PodListPageFromText (issue 16), shared by the
// differential unit tests (pod_list_stream_test.cc) and the fuzz harness
// (tests/fuzz/pod_list_stream_fuzz.cc): what the pod informer's DOM path
// makes of one page's text - RestApiClient::Do's ParseForeignJson, then
// Reflector::ListAll's reading of metadata.resourceVersion /
// metadata.continue and `items`, then Informer's TypedList converting each
// item with PodFromJson and skipping a failure under StoreKeyOf(item) - and
// a full text form of a page (every Pod field, the skipped items' keys and
// errors) to compare the two paths with. Header-only, pure.
#pragma once

#include <sstream>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "k8sclient/api/json_parse.h"
#include "k8sclient/api/types/pod.h"
#include "k8sclient/object_store.h"

namespace hpad::k8s::testing {

// ListAll's StringMember.
inline std::string PageStringMember(const nlohmann::json& obj, const char* key) {
  if (!obj.is_object()) return "";
  auto it = obj.find(key);
  return it != obj.end() && it->is_string() ? it->get<std::string>() : std::string();
}

inline Status PodListPageFromDom(std::string_view text, std::string_view what, PodInterner* interner,
                                 PodListPage* page, bool* text_error = nullptr) {
  *page = PodListPage{};
  if (text_error) *text_error = false;
  auto parsed = ParseForeignJson(text, what);
  if (!parsed.ok()) {
    if (text_error) *text_error = true;
    return parsed.status();
  }
  nlohmann::json& p = *parsed;
  auto meta = p.find("metadata");
  if (meta != p.end() && meta->is_object()) {
    page->resource_version = PageStringMember(*meta, "resourceVersion");
    page->continue_token = PageStringMember(*meta, "continue");
  }
  auto items = p.find("items");
  if (items != p.end() && items->is_array()) {
    for (auto& item : *items) {
      Result<Pod> r = PodFromJson(item, interner);
      if (r.ok()) {
        page->items.push_back(std::move(r).value());
      } else {
        page->skipped.push_back({StoreKeyOf(item), r.status()});
      }
    }
  }
  return Status::Ok();
}

inline std::string ShowTime(const std::optional<Time>& t) {
  return t ? std::to_string(t->time_since_epoch().count()) : std::string("-");
}

inline std::string ShowPod(const Pod& p) {
  std::ostringstream o;
  o << p.ns << "/" << p.name << " phase=" << p.phase << " del=" << ShowTime(p.deletion_timestamp)
    << " start=" << ShowTime(p.start_time) << " ready=" << (p.ready_status ? "\"" + *p.ready_status + "\"" : "-")
    << " ltt=" << ShowTime(p.ready_last_transition) << " labels{";
  for (const auto& [k, v] : p.labels()) o << k << "=" << v << ",";
  o << "}" << (p.shared_labels ? "" : "(none)") << " requests{";
  auto show_map = [&o](const std::map<std::string, int64_t>& m) {
    for (const auto& [k, v] : m) o << k << ":" << v << ",";
  };
  const PodRequests& r = p.requests();
  for (const auto* list : {&r.containers, &r.init_containers}) {
    o << "[";
    for (const auto& c : *list) {
      o << "(" << c.name << (c.restart_policy_always ? " Always " : " ");
      show_map(c.requests_milli);
      o << ")";
    }
    o << "]";
  }
  o << " pod:";
  show_map(r.pod_level_requests_milli);
  o << " overhead:";
  show_map(r.overhead_milli);
  o << "}" << (p.shared_requests ? "" : "(none)");
  return o.str();
}

inline std::string ShowPage(const Status& s, const PodListPage& page) {
  if (!s.ok()) return "error " + std::to_string(static_cast<int>(s.code())) + ": " + s.ToString();
  std::string out = "rv=" + page.resource_version + " continue=" + page.continue_token + "\n";
  for (const auto& p : page.items) out += "pod " + ShowPod(p) + "\n";
  for (const auto& sk : page.skipped) out += "skipped " + sk.key + ": " + sk.error.ToString() + "\n";
  return out;
}

// The same shared parts, pod by pod (both pages decoded through one
// interner, both alive): interning gives both paths the same objects.
inline bool SameSharedParts(const PodListPage& a, const PodListPage& b) {
  if (a.items.size() != b.items.size()) return false;
  for (size_t i = 0; i < a.items.size(); ++i) {
    if (a.items[i].shared_labels != b.items[i].shared_labels) return false;
    if (a.items[i].shared_requests != b.items[i].shared_requests) return false;
  }
  return true;
}

}  // namespace hpad::k8s::testing
