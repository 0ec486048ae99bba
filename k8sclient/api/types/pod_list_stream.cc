// Streaming decoder of one PodList page (see PodListPageFromText in pod.h,
// issue 16): a SAX parser (json_fast_sax.h's scanner, or nlohmann's where
// it gives up; json_stream.h's DecodeText) feeds a small state machine that
// fills typed Pods directly (through the PodInterner), without building a
// DOM.
//
// The reference is what the pod informer did with the page's DOM: ListAll
// reads metadata.resourceVersion / metadata.continue (strings only, "" for
// anything else; a page that is not an object or whose metadata is not an
// object has neither), TypedList::AddItems converts each element of `items`
// when it is an array (anything else: no items) with PodFromJson, and a
// pod that fails conversion is skipped under StoreKeyOf's key of its JSON.
// This decoder gives the same for every input, with metrics_stream.cc's
// discipline (json_stream.h):
//  - text-level checks first and in the same order as ParseForeignJson
//    (size limit, nesting pre-scan, syntax at the same byte offset); every
//    callback returns true, so a syntax error anywhere wins;
//  - duplicate keys: the DOM keeps the last value of a key, so a repeated
//    key resets what its earlier value produced, errors included (a
//    repeated `items` drops the pods converted from the earlier one);
//  - error priority: PodFromJson checks fields in a fixed code order (map
//    entries in sorted key order, list elements in index order up to the
//    first bad one), not in document order. Each field keeps its own error
//    slot; a pod's error is the first slot in PodFromJson's order when the
//    pod's object closes;
//  - absent and null are the same (fields::Child), except where PodFromJson
//    reads a null itself: a null label value, list element or pod is an
//    error, a null quantity entry is skipped;
//  - status.conditions: the first condition of type Ready counts; earlier
//    conditions are checked (object, type), later ones are not read at all.
// Strings are copied out of the lexer's buffer (moving them would make the
// lexer grow a fresh buffer for every token). Pure apart from the interner
// (thread-safe); each call has its own decoder.
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "k8sclient/api/types/json_fields.h"
#include "k8sclient/api/types/json_stream.h"
#include "k8sclient/api/types/pod.h"

namespace hpad::k8s {
namespace {

using nlohmann::json;
using namespace json_stream;

// Roles of the open containers the decoder descends into (others are skipped).
enum class Role : uint8_t {
  kRoot, kPageMeta, kItems,
  kItem, kMeta, kLabels,
  kSpec, kContainerList, kContainer, kResources, kQuantities,
  kStatus, kConditions, kCondition,
};

// Object members the decoder reads; kOther is skipped.
enum class Field : uint8_t {
  kOther, kEntry,
  kMetadata, kItems, kResourceVersion, kContinue,         // page
  kSpec, kStatus,                                          // pod
  kName, kNamespace, kLabels, kDeletionTimestamp,          // metadata
  kContainers, kInitContainers, kResources, kOverhead,     // spec
  kRequests,                                               // resources
  kRestartPolicy,                                          // container
  kPhase, kStartTime, kConditions,                         // status
  kType, kCondStatus, kLastTransitionTime,                 // condition
};

struct Frame {
  Role role;
  Field field = Field::kOther;  // objects: the member whose value comes next
  size_t next_index = 0;        // lists: the next element's index
};

// Whose quantity map (requests / overhead) is open.
enum class QuantityOwner : uint8_t { kContainer, kPod, kOverhead };

// One pod's decoding state: the values being filled and one error slot per
// field (Ok = none), in PodFromJson's order.
struct PodState {
  Pod pod;
  Labels labels;
  PodRequests requests;
  // metadata
  Status meta, name, ns, labels_error, deletion;
  std::map<std::string, Status> label_errors;
  // spec
  Status spec, containers, init_containers, pod_resources, overhead;
  // status
  Status status, phase, start_time, conditions;
  bool conditions_done = false;  // the first Ready condition or an error was found

  void ResetMeta() {
    pod.name.clear();
    pod.ns.clear();
    pod.deletion_timestamp.reset();
    labels.clear();
    meta = name = ns = labels_error = deletion = Status::Ok();
    label_errors.clear();
  }
  void ResetSpec() {
    requests = PodRequests{};
    spec = containers = init_containers = pod_resources = overhead = Status::Ok();
  }
  void ResetStatus() {
    pod.phase.clear();
    pod.start_time.reset();
    pod.ready_status.reset();
    pod.ready_last_transition.reset();
    status = phase = start_time = conditions = Status::Ok();
    conditions_done = false;
  }
  Status Error() const {
    return FirstError(meta, name, ns, labels_error, deletion, spec, containers, init_containers, pod_resources,
                      overhead, status, phase, start_time, conditions);
  }
};

// The open container of spec.containers / spec.initContainers.
struct ContainerState {
  bool init = false;
  size_t index = 0;
  PodContainer c;
  std::string restart_policy;
  Status name, resources, requests, restart;  // resources: not an object; requests: its requests
};

// The open condition of status.conditions.
struct ConditionState {
  size_t index = 0;
  std::string type, status;
  std::optional<Time> last_transition;
  Status type_error, status_error, time_error;
};

class PageDecoder {
 public:
  PageDecoder(PodInterner* interner, PodListPage* page) : interner_(interner), page_(page) {}

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
  // Back to the constructed state, the page emptied (DecodeText, when the
  // fast scanner gave up).
  void Restart() {
    *page_ = PodListPage{};
    *this = PageDecoder(interner_, page_);
  }
  // Page-level outcomes are never errors (the reflector reads what it can).
  Status error() const { return Status::Ok(); }

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
  std::string ContainerPath() const {
    return Indexed(container_.init ? "spec.initContainers" : "spec.containers", container_.index);
  }
  std::string QuantityPath() const {
    switch (quantity_owner_) {
      case QuantityOwner::kContainer:
        return ContainerPath() + ".resources.requests";
      case QuantityOwner::kPod:
        return "spec.resources.requests";
      case QuantityOwner::kOverhead:
        break;
    }
    return "spec.overhead";
  }
  std::string ConditionPath() const { return Indexed("status.conditions", cond_.index); }

  // A value at the current position. Scalars are consumed here; for a
  // container, returns the role to descend with, or nullopt to skip it.
  std::optional<Role> Place(const Val& v) {
    if (stack_.empty()) return v.t == Val::T::kObject ? std::optional<Role>(Role::kRoot) : std::nullopt;
    Frame& f = stack_.back();
    switch (f.role) {
      case Role::kRoot:
        if (f.field == Field::kMetadata && v.t == Val::T::kObject) return Role::kPageMeta;
        if (f.field == Field::kItems && v.t == Val::T::kArray) return Role::kItems;
        return std::nullopt;
      case Role::kPageMeta:
        if (v.t == Val::T::kString) {
          if (f.field == Field::kResourceVersion) page_->resource_version.assign(*v.s);
          if (f.field == Field::kContinue) page_->continue_token.assign(*v.s);
        }
        return std::nullopt;
      case Role::kItems:
        f.next_index++;
        if (v.t != Val::T::kObject) {
          page_->skipped.push_back({"", FieldError("", "expected a Pod object, got " + TypeName(v))});
          return std::nullopt;
        }
        pod_ = PodState{};
        return Role::kItem;
      case Role::kItem:
        return PlacePodField(f.field, v);
      case Role::kMeta:
        return PlaceMetaField(f.field, v);
      case Role::kLabels:
        if (v.t == Val::T::kString) {
          pod_.labels[entry_key_].assign(*v.s);
        } else {
          pod_.label_errors[entry_key_] =
              FieldError("metadata.labels." + entry_key_, "expected a string, got " + Describe(v));
        }
        return std::nullopt;
      case Role::kSpec:
        return PlaceSpecField(f.field, v);
      case Role::kContainerList: {
        const size_t index = f.next_index++;
        Status& slot = container_.init ? pod_.init_containers : pod_.containers;
        if (!slot.ok()) return std::nullopt;  // PodFromJson stopped at the first bad container
        container_.index = index;
        if (v.t != Val::T::kObject) {
          slot = FieldError(ContainerPath(), "expected an object, got " + TypeName(v));
          return std::nullopt;
        }
        const bool init = container_.init;
        container_ = ContainerState{};
        container_.init = init;
        container_.index = index;
        return Role::kContainer;
      }
      case Role::kContainer:
        if (v.null()) return std::nullopt;
        if (f.field == Field::kName) {
          container_.name = StringValue(v, [&] { return ContainerPath() + ".name"; }, &container_.c.name);
        } else if (f.field == Field::kRestartPolicy) {
          container_.restart =
              StringValue(v, [&] { return ContainerPath() + ".restartPolicy"; }, &container_.restart_policy);
        } else if (f.field == Field::kResources) {
          if (v.t == Val::T::kObject) {
            resources_owner_ = QuantityOwner::kContainer;
            return Role::kResources;
          }
          container_.resources = FieldError(ContainerPath() + ".resources", "expected an object, got " + TypeName(v));
        }
        return std::nullopt;
      case Role::kResources: {
        if (f.field != Field::kRequests || v.null()) return std::nullopt;
        Status& slot = resources_owner_ == QuantityOwner::kContainer ? container_.requests : pod_.pod_resources;
        quantity_owner_ = resources_owner_;
        if (v.t == Val::T::kObject) return BeginQuantities();
        slot = FieldError(QuantityPath(), "expected an object, got " + TypeName(v));
        return std::nullopt;
      }
      case Role::kQuantities: {
        if (v.null()) return std::nullopt;  // PodFromJson skips null entries
        int64_t milli = 0;
        Status s = MilliValue(v, [&] { return QuantityPath() + "." + entry_key_; }, &milli);
        if (s.ok()) {
          (*quantity_target_)[entry_key_] = milli;
        } else {
          quantity_errors_[entry_key_] = std::move(s);
        }
        return std::nullopt;
      }
      case Role::kStatus:
        return PlaceStatusField(f.field, v);
      case Role::kConditions: {
        const size_t index = f.next_index++;
        if (pod_.conditions_done) return std::nullopt;  // PodFromJson stopped here
        cond_ = ConditionState{};
        cond_.index = index;
        if (v.t != Val::T::kObject) {
          pod_.conditions = FieldError(ConditionPath(), "expected an object, got " + TypeName(v));
          pod_.conditions_done = true;
          return std::nullopt;
        }
        return Role::kCondition;
      }
      case Role::kCondition:
        if (v.null()) return std::nullopt;
        if (f.field == Field::kType) {
          cond_.type_error = StringValue(v, [&] { return ConditionPath() + ".type"; }, &cond_.type);
        } else if (f.field == Field::kCondStatus) {
          cond_.status_error = StringValue(v, [&] { return ConditionPath() + ".status"; }, &cond_.status);
        } else if (f.field == Field::kLastTransitionTime) {
          Time t{};
          cond_.time_error = TimeValue(v, [&] { return ConditionPath() + ".lastTransitionTime"; }, &t);
          if (cond_.time_error.ok()) cond_.last_transition = t;
        }
        return std::nullopt;
    }
    return std::nullopt;
  }

  std::optional<Role> BeginQuantities() {
    switch (quantity_owner_) {
      case QuantityOwner::kContainer:
        quantity_target_ = &container_.c.requests_milli;
        break;
      case QuantityOwner::kPod:
        quantity_target_ = &pod_.requests.pod_level_requests_milli;
        break;
      case QuantityOwner::kOverhead:
        quantity_target_ = &pod_.requests.overhead_milli;
        break;
    }
    quantity_errors_.clear();
    return Role::kQuantities;
  }

  std::optional<Role> PlacePodField(Field field, const Val& v) {
    if (v.null()) return std::nullopt;
    const bool object = v.t == Val::T::kObject;
    switch (field) {
      case Field::kMetadata:
        if (object) return Role::kMeta;
        pod_.meta = FieldError("metadata", "expected an object, got " + TypeName(v));
        break;
      case Field::kSpec:
        if (object) return Role::kSpec;
        pod_.spec = FieldError("spec", "expected an object, got " + TypeName(v));
        break;
      case Field::kStatus:
        if (object) return Role::kStatus;
        pod_.status = FieldError("status", "expected an object, got " + TypeName(v));
        break;
      default:
        break;
    }
    return std::nullopt;
  }

  std::optional<Role> PlaceMetaField(Field field, const Val& v) {
    if (v.null()) return std::nullopt;
    switch (field) {
      case Field::kName:
        pod_.name = StringValue(v, [] { return std::string("metadata.name"); }, &pod_.pod.name);
        break;
      case Field::kNamespace:
        pod_.ns = StringValue(v, [] { return std::string("metadata.namespace"); }, &pod_.pod.ns);
        break;
      case Field::kLabels:
        if (v.t == Val::T::kObject) return Role::kLabels;
        pod_.labels_error = FieldError("metadata.labels", "expected an object, got " + Describe(v));
        break;
      case Field::kDeletionTimestamp: {
        Time t{};
        pod_.deletion = TimeValue(v, [] { return std::string("metadata.deletionTimestamp"); }, &t);
        if (pod_.deletion.ok()) pod_.pod.deletion_timestamp = t;
        break;
      }
      default:
        break;
    }
    return std::nullopt;
  }

  std::optional<Role> PlaceSpecField(Field field, const Val& v) {
    if (v.null()) return std::nullopt;
    switch (field) {
      case Field::kContainers:
      case Field::kInitContainers: {
        const bool init = field == Field::kInitContainers;
        if (v.t == Val::T::kArray) {
          container_.init = init;
          return Role::kContainerList;
        }
        (init ? pod_.init_containers : pod_.containers) =
            FieldError(init ? "spec.initContainers" : "spec.containers", "expected a list, got " + TypeName(v));
        break;
      }
      case Field::kResources:
        if (v.t == Val::T::kObject) {
          resources_owner_ = QuantityOwner::kPod;
          return Role::kResources;
        }
        pod_.pod_resources = FieldError("spec.resources", "expected an object, got " + TypeName(v));
        break;
      case Field::kOverhead:
        quantity_owner_ = QuantityOwner::kOverhead;
        if (v.t == Val::T::kObject) return BeginQuantities();
        pod_.overhead = FieldError("spec.overhead", "expected an object, got " + TypeName(v));
        break;
      default:
        break;
    }
    return std::nullopt;
  }

  std::optional<Role> PlaceStatusField(Field field, const Val& v) {
    if (v.null()) return std::nullopt;
    switch (field) {
      case Field::kPhase:
        pod_.phase = StringValue(v, [] { return std::string("status.phase"); }, &pod_.pod.phase);
        break;
      case Field::kStartTime: {
        Time t{};
        pod_.start_time = TimeValue(v, [] { return std::string("status.startTime"); }, &t);
        if (pod_.start_time.ok()) pod_.pod.start_time = t;
        break;
      }
      case Field::kConditions:
        if (v.t == Val::T::kArray) return Role::kConditions;
        pod_.conditions = FieldError("status.conditions", "expected a list, got " + TypeName(v));
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
        f.field = k == "metadata" ? Field::kMetadata : k == "items" ? Field::kItems : Field::kOther;
        if (f.field == Field::kMetadata) {
          page_->resource_version.clear();
          page_->continue_token.clear();
        } else if (f.field == Field::kItems) {
          page_->items.clear();
          page_->skipped.clear();
        }
        return;
      case Role::kPageMeta:
        f.field = k == "resourceVersion" ? Field::kResourceVersion : k == "continue" ? Field::kContinue : Field::kOther;
        if (f.field == Field::kResourceVersion) page_->resource_version.clear();
        if (f.field == Field::kContinue) page_->continue_token.clear();
        return;
      case Role::kItem:
        f.field = k == "metadata" ? Field::kMetadata : k == "spec" ? Field::kSpec : k == "status" ? Field::kStatus
                                                                                                  : Field::kOther;
        if (f.field == Field::kMetadata) pod_.ResetMeta();
        if (f.field == Field::kSpec) pod_.ResetSpec();
        if (f.field == Field::kStatus) pod_.ResetStatus();
        return;
      case Role::kMeta:
        f.field = k == "name"                ? Field::kName
                  : k == "namespace"         ? Field::kNamespace
                  : k == "labels"            ? Field::kLabels
                  : k == "deletionTimestamp" ? Field::kDeletionTimestamp
                                             : Field::kOther;
        switch (f.field) {
          case Field::kName:
            pod_.pod.name.clear();
            pod_.name = Status::Ok();
            break;
          case Field::kNamespace:
            pod_.pod.ns.clear();
            pod_.ns = Status::Ok();
            break;
          case Field::kLabels:
            pod_.labels.clear();
            pod_.labels_error = Status::Ok();
            pod_.label_errors.clear();
            break;
          case Field::kDeletionTimestamp:
            pod_.pod.deletion_timestamp.reset();
            pod_.deletion = Status::Ok();
            break;
          default:
            break;
        }
        return;
      case Role::kSpec:
        f.field = k == "containers"       ? Field::kContainers
                  : k == "initContainers" ? Field::kInitContainers
                  : k == "resources"      ? Field::kResources
                  : k == "overhead"       ? Field::kOverhead
                                          : Field::kOther;
        switch (f.field) {
          case Field::kContainers:
            pod_.requests.containers.clear();
            pod_.containers = Status::Ok();
            break;
          case Field::kInitContainers:
            pod_.requests.init_containers.clear();
            pod_.init_containers = Status::Ok();
            break;
          case Field::kResources:
            pod_.requests.pod_level_requests_milli.clear();
            pod_.pod_resources = Status::Ok();
            break;
          case Field::kOverhead:
            pod_.requests.overhead_milli.clear();
            pod_.overhead = Status::Ok();
            break;
          default:
            break;
        }
        return;
      case Role::kContainer:
        f.field = k == "name"            ? Field::kName
                  : k == "resources"     ? Field::kResources
                  : k == "restartPolicy" ? Field::kRestartPolicy
                                         : Field::kOther;
        if (f.field == Field::kName) {
          container_.c.name.clear();
          container_.name = Status::Ok();
        } else if (f.field == Field::kResources) {
          container_.c.requests_milli.clear();
          container_.resources = container_.requests = Status::Ok();
        } else if (f.field == Field::kRestartPolicy) {
          container_.restart_policy.clear();
          container_.restart = Status::Ok();
        }
        return;
      case Role::kResources:
        f.field = k == "requests" ? Field::kRequests : Field::kOther;
        if (f.field == Field::kRequests) {
          if (resources_owner_ == QuantityOwner::kContainer) {
            container_.c.requests_milli.clear();
            container_.requests = Status::Ok();
          } else {
            pod_.requests.pod_level_requests_milli.clear();
            pod_.pod_resources = Status::Ok();
          }
        }
        return;
      case Role::kStatus:
        f.field = k == "phase"        ? Field::kPhase
                  : k == "startTime"  ? Field::kStartTime
                  : k == "conditions" ? Field::kConditions
                                      : Field::kOther;
        if (f.field == Field::kPhase) {
          pod_.pod.phase.clear();
          pod_.phase = Status::Ok();
        } else if (f.field == Field::kStartTime) {
          pod_.pod.start_time.reset();
          pod_.start_time = Status::Ok();
        } else if (f.field == Field::kConditions) {
          pod_.pod.ready_status.reset();
          pod_.pod.ready_last_transition.reset();
          pod_.conditions = Status::Ok();
          pod_.conditions_done = false;
        }
        return;
      case Role::kCondition:
        f.field = k == "type"                 ? Field::kType
                  : k == "status"             ? Field::kCondStatus
                  : k == "lastTransitionTime" ? Field::kLastTransitionTime
                                              : Field::kOther;
        if (f.field == Field::kType) {
          cond_.type.clear();
          cond_.type_error = Status::Ok();
        } else if (f.field == Field::kCondStatus) {
          cond_.status.clear();
          cond_.status_error = Status::Ok();
        } else if (f.field == Field::kLastTransitionTime) {
          cond_.last_transition.reset();
          cond_.time_error = Status::Ok();
        }
        return;
      case Role::kLabels:
      case Role::kQuantities:
        f.field = Field::kEntry;
        entry_key_.assign(k);  // reuses entry_key_'s capacity
        if (f.role == Role::kLabels) {
          pod_.labels.erase(entry_key_);
          pod_.label_errors.erase(entry_key_);
        } else {
          quantity_target_->erase(entry_key_);
          quantity_errors_.erase(entry_key_);
        }
        return;
      case Role::kItems:
      case Role::kContainerList:
      case Role::kConditions:
        return;  // lists have no keys
    }
  }

  // A container closed: fold its slots into its parent's, in PodFromJson's order.
  void Closed(Role role) {
    switch (role) {
      case Role::kRoot:
      case Role::kPageMeta:
      case Role::kItems:
      case Role::kMeta:
      case Role::kSpec:
      case Role::kStatus:
      case Role::kResources:
      case Role::kContainerList:
      case Role::kConditions:
        return;
      case Role::kLabels:
        pod_.labels_error = FirstError(pod_.label_errors);
        return;
      case Role::kQuantities: {
        Status s = FirstError(quantity_errors_);
        switch (quantity_owner_) {
          case QuantityOwner::kContainer:
            container_.requests = std::move(s);
            break;
          case QuantityOwner::kPod:
            pod_.pod_resources = std::move(s);
            break;
          case QuantityOwner::kOverhead:
            pod_.overhead = std::move(s);
            break;
        }
        return;
      }
      case Role::kContainer: {
        Status s = FirstError(container_.name, container_.resources, container_.requests, container_.restart);
        if (!s.ok()) {
          (container_.init ? pod_.init_containers : pod_.containers) = std::move(s);
          return;
        }
        container_.c.restart_policy_always = container_.restart_policy == "Always";
        (container_.init ? pod_.requests.init_containers : pod_.requests.containers).push_back(std::move(container_.c));
        return;
      }
      case Role::kCondition:
        // PodFromJson: object, type, then (Ready only) status and lastTransitionTime.
        if (!cond_.type_error.ok()) {
          pod_.conditions = cond_.type_error;
        } else if (cond_.type != "Ready") {
          return;
        } else if (!cond_.status_error.ok()) {
          pod_.conditions = cond_.status_error;
        } else if (!cond_.time_error.ok()) {
          pod_.conditions = cond_.time_error;
        } else {
          pod_.pod.ready_status = std::move(cond_.status);
          pod_.pod.ready_last_transition = cond_.last_transition;
        }
        pod_.conditions_done = true;
        return;
      case Role::kItem:
        FinishPod();
        return;
    }
  }

  void FinishPod() {
    Status s = pod_.Error();
    if (!s.ok()) {
      // StoreKeyOf's key of the item's JSON: metadata.namespace / name when
      // strings, which is what pod.ns / pod.name hold then (and "" else).
      std::string key = pod_.pod.ns.empty() ? std::move(pod_.pod.name) : pod_.pod.ns + "/" + pod_.pod.name;
      page_->skipped.push_back({std::move(key), std::move(s)});
      return;
    }
    Pod& pod = pod_.pod;
    if (interner_) {
      pod.shared_labels = interner_->InternLabels(std::move(pod_.labels));
      pod.shared_requests = interner_->InternRequests(std::move(pod_.requests));
    } else {
      pod.SetLabels(std::move(pod_.labels));
      pod.SetRequests(std::move(pod_.requests));
    }
    page_->items.push_back(std::move(pod));
  }

  PodInterner* interner_;  // not const: Restart assigns a fresh decoder
  PodListPage* page_;
  std::vector<Frame> stack_;
  size_t skip_ = 0;  // > 0: inside a skipped container (its nesting depth)
  std::string entry_key_;
  PodState pod_;
  ContainerState container_;
  ConditionState cond_;
  QuantityOwner resources_owner_ = QuantityOwner::kPod;  // whose `resources` object is open
  QuantityOwner quantity_owner_ = QuantityOwner::kPod;   // whose quantity map is open
  std::map<std::string, int64_t>* quantity_target_ = nullptr;
  std::map<std::string, Status> quantity_errors_;
  std::optional<std::string> syntax_error_;
};

}  // namespace

Status PodListPageFromText(std::string_view text, std::string_view what, PodInterner* interner, PodListPage* page,
                           bool* text_error, size_t max_bytes) {
  *page = PodListPage{};
  PageDecoder d(interner, page);
  Status s = DecodeText(d, text, what, max_bytes, text_error);
  if (!s.ok()) *page = PodListPage{};
  return s;
}

}  // namespace hpad::k8s
