// Streaming decoders of the three metrics list bodies (see metrics.h,
// issue 16): a SAX parser (json_fast_sax.h's scanner, or nlohmann's where
// it gives up; json_stream.h's DecodeText) feeds a small state machine that
// fills the typed structs directly, without building a DOM. A
// PodMetricsList goes into a PodMetricsTable (pod_metrics_table.h) through
// per-item scratch reused across items (an object's members as a sorted,
// last-wins vector instead of a std::map); PodMetricsListFromText is that
// table's ToPodMetrics(), so one decoder serves both.
//
// The DOM decoders (metrics.cc, behind ParseForeignJson) are the reference;
// these give the same value or the same error text for every input:
//  - text-level checks first and in the same order: size limit, nesting
//    pre-scan (JsonNestingExceeds), then syntax. A text the fast scanner
//    does not accept goes through the lexer/parser nlohmann::json::parse
//    uses, so syntax errors carry the same byte offset. Every callback
//    returns true, so the whole text is checked for syntax even after a
//    field error (a syntax error anywhere wins over a field error, as in
//    the DOM path, which parses first);
//  - duplicate keys: the DOM keeps the last value of a key, so a repeated
//    key resets what its earlier value produced, errors included;
//  - error priority: the DOM decoder checks fields in a fixed code order
//    (and map entries in sorted key order), not in document order. Each
//    field keeps its own error slot, and an object's error is chosen from
//    its slots in the DOM decoder's order when the object closes;
//  - absent and null fields are the same (fields::Child), except where the
//    DOM decoder reads a null itself (a null list element, a null label
//    value: errors; a null usage entry: skipped).
// Strings are copied out of the lexer's buffer (moving them would make the
// lexer grow a fresh buffer for every token); no per-item DOM is built.
// The value helpers and the text-level checks are shared with the PodList
// page decoder (pod_list_stream.cc) in json_stream.h.
// Pure and thread-compatible: each call has its own decoder.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <limits>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "k8sclient/api/json_parse.h"
#include "k8sclient/api/quantity.h"
#include "k8sclient/api/time_format.h"
#include "k8sclient/api/types/json_fields.h"
#include "k8sclient/api/types/json_stream.h"
#include "k8sclient/api/types/metrics.h"
#include "k8sclient/api/types/pod_metrics_table.h"
#include "k8sclient/base/text.h"

namespace hpad::k8s {
namespace {

using nlohmann::json;
using fields::FieldError;

enum class ListKind { kPodMetrics, kCustom, kExternal };

using namespace json_stream;

// Roles of the open containers the decoder descends into (others are skipped).
enum class Role : uint8_t {
  kRoot, kItems, kItem,
  kMeta, kLabels, kContainers, kContainer, kUsage,  // PodMetrics
  kDescribed, kMetric,                               // MetricValue
  kMetricLabels,                                     // ExternalMetricValue
};

// Object members the decoder reads; kOther is skipped.
enum class Field : uint8_t {
  kOther, kItems, kMetadata, kTimestamp, kWindow, kContainers, kName, kNamespace, kLabels, kUsage,
  kDescribedObject, kMetric, kMetricName, kWindowSeconds, kValue, kApiVersion, kKind, kMetricLabels, kEntry,
};

struct Frame {
  Role role;
  Field field = Field::kOther;  // objects: the member whose value comes next
  size_t next_index = 0;        // lists: the next element's index
};

// The members of one JSON object read as a std::map would hold them,
// without a node per member: entries are appended in document order (each
// member's value or error), then Settle() sorts them by key and keeps the
// last of each key (the DOM keeps the last of duplicate keys). [0, n) are
// in use; the vector keeps its entries and their strings' capacity, so
// decoding the next item's members allocates nothing.
template <typename V>
struct Members {
  enum class State : uint8_t { kNull, kValue, kError };
  struct Entry {
    std::string key;
    V value{};
    uint32_t seq = 0;
    State state = State::kNull;
    Status error;
  };
  std::vector<Entry> e;
  size_t n = 0;

  // A member named `key`, with no value yet (kNull).
  Entry& Add(const std::string& key) {
    if (n == e.size()) e.emplace_back();
    Entry& x = e[n];
    x.key.assign(key);
    x.seq = static_cast<uint32_t>(n);
    x.state = State::kNull;
    if (!x.error.ok()) x.error = Status::Ok();
    n++;
    return x;
  }
  Entry& Last() { return e[n - 1]; }
  void Clear() { n = 0; }
  // Key order, the last of each key, null members dropped; returns the
  // error of the first key (in key order) whose last member is one, as
  // FirstError of a map of errors would.
  Status Settle() {
    std::sort(e.begin(), e.begin() + static_cast<std::ptrdiff_t>(n), [](const Entry& a, const Entry& b) {
      const int c = a.key.compare(b.key);
      return c < 0 || (c == 0 && a.seq < b.seq);
    });
    Status first;
    size_t w = 0;
    for (size_t r = 0; r < n; r++) {
      if (r + 1 < n && e[r + 1].key == e[r].key) continue;  // a later member of the same key wins
      if (e[r].state == State::kError) {
        if (first.ok()) first = e[r].error;
        continue;
      }
      if (e[r].state == State::kNull) continue;
      if (w != r) std::swap(e[w], e[r]);
      w++;
    }
    n = w;
    return first;
  }
};

// One container's scratch: its name and its usage members.
struct ContainerScratch {
  std::string name;
  Members<int64_t> usage;
};

// Per-item decoding state: the values being read and one error slot per
// field (Ok = none), chosen from in the DOM decoder's order at the end.
// Reused across items (Reset keeps the capacity), so an item is decoded
// without heap allocation once the scratch has grown; a good item is then
// appended to the table (PodMetricsTableBuilder).
struct PodItem {
  std::string name, ns;
  Members<std::string> labels;
  Time timestamp_value{};
  std::chrono::milliseconds window_value{0};
  std::vector<ContainerScratch> container_list;  // [0, containers_done) are decoded
  size_t containers_done = 0;
  Status meta, timestamp, window, containers;
  Status name_error, ns_error, labels_error;  // inside metadata
  size_t container_index = 0;
  Status container_name, usage;

  ContainerScratch& Current() { return container_list[containers_done]; }
  void Reset() {
    name.clear();
    ns.clear();
    labels.Clear();
    timestamp_value = Time{};
    window_value = std::chrono::milliseconds(0);
    containers_done = 0;
    meta = timestamp = window = containers = Status::Ok();
    name_error = ns_error = labels_error = Status::Ok();
    container_index = 0;
    container_name = usage = Status::Ok();
  }
};

struct CustomItem {
  CustomMetricValue v;
  Status described, api_version, kind, ns, name;
  bool metric_set = false;  // "metric" present and not null: metricName is ignored (v1beta2)
  Status metric;
  std::string name_from_metric;
  Status metric_name;
  std::string name_from_metric_name;
  Status timestamp, window;
  bool value_set = false;
  Status value;
};

struct ExternalItem {
  ExternalMetricValue v;
  Status name, labels;
  std::map<std::string, Status> label_errors;
  Status timestamp, window;
  bool value_set = false;
  Status value;
};

class ListDecoder {
 public:
  ListDecoder(ListKind kind, bool single_item) : kind_(kind), single_item_(single_item) {}

  // ---- the nlohmann SAX interface
  bool null() { return Scalar(Val{}); }
  bool boolean(bool b) {
    Val v;
    v.t = Val::T::kBool;
    v.b = b;
    return Scalar(v);
  }
  bool number_integer(int64_t i) {
    Val v;
    v.t = Val::T::kInt;
    v.i = i;
    return Scalar(v);
  }
  bool number_unsigned(uint64_t u) {
    Val v;
    v.t = Val::T::kUint;
    v.u = u;
    return Scalar(v);
  }
  bool number_float(double d, const std::string&) {
    Val v;
    v.t = Val::T::kFloat;
    v.d = d;
    return Scalar(v);
  }
  bool string(std::string& s) {
    Val v;
    v.t = Val::T::kString;
    v.s = &s;
    return Scalar(v);
  }
  bool binary(json::binary_t&) { return Scalar(Val{}); }  // not produced by the JSON parser
  bool start_object(std::size_t) { return Open(Val::T::kObject); }
  bool start_array(std::size_t) { return Open(Val::T::kArray); }
  bool end_object() { return Close(); }
  bool end_array() { return Close(); }
  bool key(std::string& k) {
    if (skip_ > 0) return true;
    Key(stack_.back(), k);
    return true;
  }
  bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception& ex) {
    syntax_error_ = SyntaxErrorText(ex);
    return false;
  }

  const std::optional<std::string>& syntax_error() const { return syntax_error_; }
  // Back to the constructed state (DecodeText, when the fast scanner gave up).
  void Restart() { *this = ListDecoder(kind_, single_item_); }
  // The decoding result once the parse succeeded.
  Status error() const { return root_error_.ok() ? items_error_ : root_error_; }
  PodMetricsTableBuilder table;
  std::vector<CustomMetricValue> custom;
  std::vector<ExternalMetricValue> external;

 private:
  bool Scalar(const Val& v) {
    if (skip_ > 0) return true;
    Place(v);
    return true;
  }
  bool Open(Val::T t) {
    if (skip_ > 0) {
      ++skip_;
      return true;
    }
    Val v;
    v.t = t;
    if (auto role = Place(v)) {
      stack_.push_back(Frame{*role});
    } else {
      skip_ = 1;
    }
    return true;
  }
  bool Close() {
    if (skip_ > 0) {
      --skip_;
      return true;
    }
    Role role = stack_.back().role;
    stack_.pop_back();
    Closed(role);
    return true;
  }

  // ---- paths (built only for error texts)
  std::string ItemPath() const { return Indexed("items", item_index_); }
  std::string ItemField(const char* key) const { return ItemPath() + "." + key; }
  std::string ContainerPath() const { return Indexed(ItemField("containers"), pod_.container_index); }

  // A value at the current position. Scalars are consumed here; for a
  // container, returns the role to descend with, or nullopt to skip it.
  std::optional<Role> Place(const Val& v) {
    if (stack_.empty()) {
      if (single_item_) return PlaceItem(v, 0);
      if (v.t == Val::T::kObject) return Role::kRoot;
      const char* what = kind_ == ListKind::kPodMetrics ? "PodMetricsList"
                         : kind_ == ListKind::kCustom   ? "MetricValueList"
                                                        : "ExternalMetricValueList";
      root_error_ = FieldError("", std::string("expected a ") + what + " object, got " + TypeName(v));
      return std::nullopt;
    }
    Frame& f = stack_.back();
    switch (f.role) {
      case Role::kRoot:
        if (f.field != Field::kItems || v.null()) return std::nullopt;
        if (v.t == Val::T::kArray) return Role::kItems;
        items_error_ = FieldError("items", "expected a list, got " + TypeName(v));
        return std::nullopt;
      case Role::kItems: {
        size_t index = f.next_index++;
        if (!items_error_.ok()) return std::nullopt;  // the DOM decoder stopped at the first bad item
        return PlaceItem(v, index);
      }
      case Role::kItem:
        if (kind_ == ListKind::kPodMetrics) return PlacePodField(f.field, v);
        if (kind_ == ListKind::kCustom) return PlaceCustomField(f.field, v);
        return PlaceExternalField(f.field, v);
      case Role::kMeta:
        return PlaceMetaField(f.field, v);
      case Role::kLabels: {
        auto& entry = pod_.labels.Last();
        if (v.t == Val::T::kString) {
          entry.state = Members<std::string>::State::kValue;
          entry.value.assign(*v.s);
        } else {
          entry.state = Members<std::string>::State::kError;
          entry.error = FieldError(ItemField("metadata") + ".labels." + entry.key, "expected a string, got " + Describe(v));
        }
        return std::nullopt;
      }
      case Role::kMetricLabels:
        PlaceStringEntry(v, ItemField("metricLabels"), &ext_.v.metric_labels, &ext_.label_errors);
        return std::nullopt;
      case Role::kContainers: {
        size_t index = f.next_index++;
        if (!pod_.containers.ok()) return std::nullopt;
        pod_.container_index = index;
        if (v.t != Val::T::kObject) {
          pod_.containers = FieldError(ContainerPath(), "expected an object, got " + TypeName(v));
          return std::nullopt;
        }
        if (pod_.containers_done == pod_.container_list.size()) pod_.container_list.emplace_back();
        pod_.Current().name.clear();
        pod_.Current().usage.Clear();
        pod_.container_name = pod_.usage = Status::Ok();
        return Role::kContainer;
      }
      case Role::kContainer:
        if (f.field == Field::kName) {
          if (!v.null()) pod_.container_name = StringValue(v, [&] { return ContainerPath() + ".name"; }, &pod_.Current().name);
        } else if (f.field == Field::kUsage && !v.null()) {
          if (v.t == Val::T::kObject) return Role::kUsage;
          pod_.usage = FieldError(ContainerPath() + ".usage", "expected an object, got " + TypeName(v));
        }
        return std::nullopt;
      case Role::kUsage: {
        if (v.null()) return std::nullopt;  // the DOM decoder skips null usage entries (kNull)
        auto& entry = pod_.Current().usage.Last();
        Status s = MilliValue(v, [&] { return ContainerPath() + ".usage." + entry.key; }, &entry.value);
        if (s.ok()) {
          entry.state = Members<int64_t>::State::kValue;
        } else {
          entry.state = Members<int64_t>::State::kError;
          entry.error = std::move(s);
        }
        return std::nullopt;
      }
      case Role::kDescribed: {
        auto path = [&](const char* key) { return [this, key] { return ItemField("describedObject") + "." + key; }; };
        if (v.null()) return std::nullopt;
        DescribedObject& d = custom_.v.described_object;
        switch (f.field) {
          case Field::kApiVersion: custom_.api_version = StringValue(v, path("apiVersion"), &d.api_version); break;
          case Field::kKind: custom_.kind = StringValue(v, path("kind"), &d.kind); break;
          case Field::kNamespace: custom_.ns = StringValue(v, path("namespace"), &d.ns); break;
          case Field::kName: custom_.name = StringValue(v, path("name"), &d.name); break;
          default: break;
        }
        return std::nullopt;
      }
      case Role::kMetric:
        if (f.field == Field::kName && !v.null())
          custom_.metric = StringValue(v, [&] { return ItemField("metric") + ".name"; }, &custom_.name_from_metric);
        return std::nullopt;
    }
    return std::nullopt;
  }

  std::optional<Role> PlaceItem(const Val& v, size_t index) {
    item_index_ = index;
    if (v.t != Val::T::kObject) {
      items_error_ = FieldError(ItemPath(), "expected an object, got " + TypeName(v));
      return std::nullopt;
    }
    switch (kind_) {
      case ListKind::kPodMetrics: pod_.Reset(); break;
      case ListKind::kCustom: custom_ = CustomItem{}; break;
      case ListKind::kExternal: ext_ = ExternalItem{}; break;
    }
    return Role::kItem;
  }

  // fields::GetStringMap's entries: a string, or an error at path.<key>.
  void PlaceStringEntry(const Val& v, std::string path, std::map<std::string, std::string>* values,
                        std::map<std::string, Status>* errors) {
    if (v.t == Val::T::kString) {
      (*values)[entry_key_].assign(*v.s);
    } else {
      (*errors)[entry_key_] = FieldError(path + "." + entry_key_, "expected a string, got " + Describe(v));
    }
  }

  std::optional<Role> PlacePodField(Field field, const Val& v) {
    if (v.null()) return std::nullopt;
    switch (field) {
      case Field::kMetadata:
        if (v.t == Val::T::kObject) return Role::kMeta;
        pod_.meta = FieldError(ItemField("metadata"), "expected an object, got " + TypeName(v));
        break;
      case Field::kTimestamp:
        pod_.timestamp = TimeValue(v, [&] { return ItemField("timestamp"); }, &pod_.timestamp_value);
        break;
      case Field::kWindow:
        pod_.window = DurationValue(v, [&] { return ItemField("window"); }, &pod_.window_value);
        break;
      case Field::kContainers:
        if (v.t == Val::T::kArray) return Role::kContainers;
        pod_.containers = FieldError(ItemField("containers"), "expected a list, got " + TypeName(v));
        break;
      default:
        break;
    }
    return std::nullopt;
  }

  std::optional<Role> PlaceMetaField(Field field, const Val& v) {
    if (v.null()) return std::nullopt;
    auto path = [&](const char* key) { return [this, key] { return ItemField("metadata") + "." + key; }; };
    switch (field) {
      case Field::kName: pod_.name_error = StringValue(v, path("name"), &pod_.name); break;
      case Field::kNamespace: pod_.ns_error = StringValue(v, path("namespace"), &pod_.ns); break;
      case Field::kLabels:
        if (v.t == Val::T::kObject) return Role::kLabels;
        pod_.labels_error = FieldError(path("labels")(), "expected an object, got " + Describe(v));
        break;
      default:
        break;
    }
    return std::nullopt;
  }

  std::optional<Role> PlaceCustomField(Field field, const Val& v) {
    if (v.null()) return std::nullopt;
    switch (field) {
      case Field::kDescribedObject:
        if (v.t == Val::T::kObject) return Role::kDescribed;
        custom_.described = FieldError(ItemField("describedObject"), "expected an object, got " + TypeName(v));
        break;
      case Field::kMetric:
        custom_.metric_set = true;
        if (v.t == Val::T::kObject) return Role::kMetric;
        custom_.metric = FieldError(ItemField("metric"), "expected an object, got " + TypeName(v));
        break;
      case Field::kMetricName:
        custom_.metric_name = StringValue(v, [&] { return ItemField("metricName"); }, &custom_.name_from_metric_name);
        break;
      case Field::kTimestamp:
        custom_.timestamp = TimeValue(v, [&] { return ItemField("timestamp"); }, &custom_.v.timestamp);
        break;
      case Field::kWindowSeconds: {
        int64_t w = 0;
        custom_.window = Int64Value(v, [&] { return ItemField("windowSeconds"); }, &w);
        if (custom_.window.ok()) custom_.v.window_seconds = w;
        break;
      }
      case Field::kValue:
        custom_.value_set = true;
        custom_.value = MilliValue(v, [&] { return ItemField("value"); }, &custom_.v.value_milli);
        break;
      default:
        break;
    }
    return std::nullopt;
  }

  std::optional<Role> PlaceExternalField(Field field, const Val& v) {
    if (v.null()) return std::nullopt;
    switch (field) {
      case Field::kMetricName:
        ext_.name = StringValue(v, [&] { return ItemField("metricName"); }, &ext_.v.metric_name);
        break;
      case Field::kMetricLabels:
        if (v.t == Val::T::kObject) return Role::kMetricLabels;
        ext_.labels = FieldError(ItemField("metricLabels"), "expected an object, got " + Describe(v));
        break;
      case Field::kTimestamp:
        ext_.timestamp = TimeValue(v, [&] { return ItemField("timestamp"); }, &ext_.v.timestamp);
        break;
      case Field::kWindow: {
        int64_t w = 0;
        ext_.window = Int64Value(v, [&] { return ItemField("window"); }, &w);
        if (ext_.window.ok()) ext_.v.window_seconds = w;
        break;
      }
      case Field::kValue:
        ext_.value_set = true;
        ext_.value = MilliValue(v, [&] { return ItemField("value"); }, &ext_.v.value_milli);
        break;
      default:
        break;
    }
    return std::nullopt;
  }

  // A member name: selects the field and forgets what an earlier member of
  // the same name produced (the DOM keeps the last of duplicate keys).
  void Key(Frame& f, std::string& k) {
    switch (f.role) {
      case Role::kRoot:
        f.field = k == "items" ? Field::kItems : Field::kOther;
        if (f.field == Field::kItems) {
          items_error_ = Status::Ok();
          if (kind_ == ListKind::kPodMetrics) table.Clear();
          custom.clear();
          external.clear();
        }
        return;
      case Role::kItem:
        if (kind_ == ListKind::kPodMetrics) {
          f.field = k == "metadata"     ? Field::kMetadata
                    : k == "timestamp"  ? Field::kTimestamp
                    : k == "window"     ? Field::kWindow
                    : k == "containers" ? Field::kContainers
                                        : Field::kOther;
          ResetPodField(f.field);
        } else if (kind_ == ListKind::kCustom) {
          f.field = k == "describedObject" ? Field::kDescribedObject
                    : k == "metric"        ? Field::kMetric
                    : k == "metricName"    ? Field::kMetricName
                    : k == "timestamp"     ? Field::kTimestamp
                    : k == "windowSeconds" ? Field::kWindowSeconds
                    : k == "value"         ? Field::kValue
                                           : Field::kOther;
          ResetCustomField(f.field);
        } else {
          f.field = k == "metricName"     ? Field::kMetricName
                    : k == "metricLabels" ? Field::kMetricLabels
                    : k == "timestamp"    ? Field::kTimestamp
                    : k == "window"       ? Field::kWindow
                    : k == "value"        ? Field::kValue
                                          : Field::kOther;
          ResetExternalField(f.field);
        }
        return;
      case Role::kMeta:
        f.field = k == "name" ? Field::kName : k == "namespace" ? Field::kNamespace : k == "labels" ? Field::kLabels : Field::kOther;
        if (f.field == Field::kName) {
          pod_.name.clear();
          pod_.name_error = Status::Ok();
        } else if (f.field == Field::kNamespace) {
          pod_.ns.clear();
          pod_.ns_error = Status::Ok();
        } else if (f.field == Field::kLabels) {
          pod_.labels.Clear();
          pod_.labels_error = Status::Ok();
        }
        return;
      case Role::kContainer:
        f.field = k == "name" ? Field::kName : k == "usage" ? Field::kUsage : Field::kOther;
        if (f.field == Field::kName) {
          pod_.Current().name.clear();
          pod_.container_name = Status::Ok();
        } else if (f.field == Field::kUsage) {
          pod_.Current().usage.Clear();
          pod_.usage = Status::Ok();
        }
        return;
      case Role::kDescribed: {
        DescribedObject& d = custom_.v.described_object;
        f.field = Field::kOther;
        if (k == "apiVersion") {
          f.field = Field::kApiVersion;
          d.api_version.clear();
          custom_.api_version = Status::Ok();
        } else if (k == "kind") {
          f.field = Field::kKind;
          d.kind.clear();
          custom_.kind = Status::Ok();
        } else if (k == "namespace") {
          f.field = Field::kNamespace;
          d.ns.clear();
          custom_.ns = Status::Ok();
        } else if (k == "name") {
          f.field = Field::kName;
          d.name.clear();
          custom_.name = Status::Ok();
        }
        return;
      }
      case Role::kMetric:
        f.field = k == "name" ? Field::kName : Field::kOther;
        if (f.field == Field::kName) {
          custom_.name_from_metric.clear();
          custom_.metric = Status::Ok();
        }
        return;
      case Role::kLabels:
      case Role::kUsage:
      case Role::kMetricLabels:
        f.field = Field::kEntry;
        if (f.role == Role::kLabels) {
          pod_.labels.Add(k);  // Settle keeps the last member of a key
        } else if (f.role == Role::kUsage) {
          pod_.Current().usage.Add(k);
        } else {
          entry_key_.assign(k);  // reuses entry_key_'s capacity
          ext_.v.metric_labels.erase(entry_key_);
          ext_.label_errors.erase(entry_key_);
        }
        return;
      case Role::kItems:
      case Role::kContainers:
        return;  // lists have no keys
    }
  }

  void ResetPodField(Field field) {
    switch (field) {
      case Field::kMetadata:
        pod_.name.clear();
        pod_.ns.clear();
        pod_.labels.Clear();
        pod_.meta = pod_.name_error = pod_.ns_error = pod_.labels_error = Status::Ok();
        break;
      case Field::kTimestamp:
        pod_.timestamp_value = Time{};
        pod_.timestamp = Status::Ok();
        break;
      case Field::kWindow:
        pod_.window_value = std::chrono::milliseconds(0);
        pod_.window = Status::Ok();
        break;
      case Field::kContainers:
        pod_.containers_done = 0;
        pod_.containers = Status::Ok();
        break;
      default:
        break;
    }
  }

  void ResetCustomField(Field field) {
    switch (field) {
      case Field::kDescribedObject:
        custom_.v.described_object = DescribedObject{};
        custom_.described = custom_.api_version = custom_.kind = custom_.ns = custom_.name = Status::Ok();
        break;
      case Field::kMetric:
        custom_.metric_set = false;
        custom_.metric = Status::Ok();
        custom_.name_from_metric.clear();
        break;
      case Field::kMetricName:
        custom_.metric_name = Status::Ok();
        custom_.name_from_metric_name.clear();
        break;
      case Field::kTimestamp:
        custom_.v.timestamp = Time{};
        custom_.timestamp = Status::Ok();
        break;
      case Field::kWindowSeconds:
        custom_.v.window_seconds.reset();
        custom_.window = Status::Ok();
        break;
      case Field::kValue:
        custom_.value_set = false;
        custom_.value = Status::Ok();
        custom_.v.value_milli = 0;
        break;
      default:
        break;
    }
  }

  void ResetExternalField(Field field) {
    switch (field) {
      case Field::kMetricName:
        ext_.v.metric_name.clear();
        ext_.name = Status::Ok();
        break;
      case Field::kMetricLabels:
        ext_.v.metric_labels.clear();
        ext_.labels = Status::Ok();
        ext_.label_errors.clear();
        break;
      case Field::kTimestamp:
        ext_.v.timestamp = Time{};
        ext_.timestamp = Status::Ok();
        break;
      case Field::kWindow:
        ext_.v.window_seconds.reset();
        ext_.window = Status::Ok();
        break;
      case Field::kValue:
        ext_.value_set = false;
        ext_.value = Status::Ok();
        ext_.v.value_milli = 0;
        break;
      default:
        break;
    }
  }

  // A container closed: fold its slots into its parent's, in the DOM
  // decoder's order.
  void Closed(Role role) {
    switch (role) {
      case Role::kRoot:
      case Role::kItems:
      case Role::kContainers:
      case Role::kMetric:
        return;
      case Role::kMeta:
        pod_.meta = FirstError(pod_.name_error, pod_.ns_error, pod_.labels_error);
        return;
      case Role::kLabels:
        pod_.labels_error = pod_.labels.Settle();
        return;
      case Role::kMetricLabels:
        ext_.labels = FirstError(ext_.label_errors);
        return;
      case Role::kUsage:
        pod_.usage = pod_.Current().usage.Settle();
        return;
      case Role::kContainer: {
        Status s = FirstError(pod_.container_name, pod_.usage);
        if (!s.ok()) {
          pod_.containers = std::move(s);
        } else {
          pod_.containers_done++;
        }
        return;
      }
      case Role::kDescribed:
        custom_.described = FirstError(custom_.api_version, custom_.kind, custom_.ns, custom_.name);
        return;
      case Role::kItem:
        FinishItem();
        return;
    }
  }

  void FinishItem() {
    switch (kind_) {
      case ListKind::kPodMetrics: {
        Status s = FirstError(pod_.meta, pod_.timestamp, pod_.window, pod_.containers);
        if (!s.ok()) {
          items_error_ = std::move(s);
          return;
        }
        for (size_t c = 0; c < pod_.containers_done; c++) {
          const ContainerScratch& cs = pod_.container_list[c];
          for (size_t u = 0; u < cs.usage.n; u++) table.AddUsage(cs.usage.e[u].key, cs.usage.e[u].value);
          table.EndContainer(cs.name);
        }
        const auto& labels = pod_.labels;
        table.EndItem(
            pod_.name, pod_.ns, pod_.timestamp_value, pod_.window_value, labels.n,
            [&](size_t k) -> const std::string& { return labels.e[k].key; },
            [&](size_t k) -> const std::string& { return labels.e[k].value; });
        return;
      }
      case ListKind::kCustom: {
        CustomItem& c = custom_;
        const Status& name = c.metric_set ? c.metric : c.metric_name;
        Status value = c.value_set ? c.value : FieldError(ItemField("value"), "missing value");
        Status s = FirstError(c.described, name, c.timestamp, c.window, value);
        if (!s.ok()) {
          items_error_ = std::move(s);
          return;
        }
        c.v.metric_name = std::move(c.metric_set ? c.name_from_metric : c.name_from_metric_name);
        custom.push_back(std::move(c.v));
        return;
      }
      case ListKind::kExternal: {
        Status value = ext_.value_set ? ext_.value : FieldError(ItemField("value"), "missing value");
        Status s = FirstError(ext_.name, ext_.labels, ext_.timestamp, ext_.window, value);
        if (!s.ok()) {
          items_error_ = std::move(s);
        } else {
          external.push_back(std::move(ext_.v));
        }
        return;
      }
    }
  }

  ListKind kind_;  // not const: Restart assigns a fresh decoder
  bool single_item_;
  std::vector<Frame> stack_;
  size_t skip_ = 0;  // > 0: inside a skipped container (its nesting depth)
  std::string entry_key_;
  size_t item_index_ = 0;
  PodItem pod_;
  CustomItem custom_;
  ExternalItem ext_;
  Status root_error_;
  Status items_error_;
  std::optional<std::string> syntax_error_;
};

static_assert(kMetricsListMaxBytes == kMaxJsonBytes, "the stream decoders take ParseForeignJson's limit");

}  // namespace

Result<PodMetricsTable> PodMetricsTableFromText(std::string_view text, std::string_view what, bool* text_error,
                                                size_t max_bytes) {
  ListDecoder d(ListKind::kPodMetrics, false);
  HPAD_RETURN_IF_ERROR(DecodeText(d, text, what, max_bytes, text_error));
  return d.table.Finish();
}

Result<std::vector<PodMetrics>> PodMetricsListFromText(std::string_view text, std::string_view what,
                                                       bool* text_error, size_t max_bytes) {
  // One decoder: the table, then its items as structs.
  auto table = PodMetricsTableFromText(text, what, text_error, max_bytes);
  if (!table.ok()) return table.status();
  return table->ToPodMetrics();
}

Result<std::vector<CustomMetricValue>> MetricValueListFromText(std::string_view text, std::string_view what,
                                                               bool* text_error, size_t max_bytes) {
  ListDecoder d(ListKind::kCustom, false);
  HPAD_RETURN_IF_ERROR(DecodeText(d, text, what, max_bytes, text_error));
  return std::move(d.custom);
}

Result<std::vector<CustomMetricValue>> MetricValueAsListFromText(std::string_view text, std::string_view what,
                                                                 bool* text_error, size_t max_bytes) {
  ListDecoder d(ListKind::kCustom, true);
  HPAD_RETURN_IF_ERROR(DecodeText(d, text, what, max_bytes, text_error));
  return std::move(d.custom);
}

Result<std::vector<ExternalMetricValue>> ExternalMetricValueListFromText(std::string_view text,
                                                                         std::string_view what, bool* text_error,
                                                                         size_t max_bytes) {
  ListDecoder d(ListKind::kExternal, false);
  HPAD_RETURN_IF_ERROR(DecodeText(d, text, what, max_bytes, text_error));
  return std::move(d.external);
}

}  // namespace hpad::k8s
