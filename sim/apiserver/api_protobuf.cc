// Decoder for the Kubernetes protobuf envelope (kubectl-compat 6): the
// 4-byte magic "k8s\0", then a runtime.Unknown {1: TypeMeta{1 apiVersion,
// 2 kind}, 2: raw object, 3: contentEncoding, 4: contentType}. The raw
// object is decoded by a small field-number schema for the two kinds kubectl
// sends as protobuf: autoscaling/v1 HorizontalPodAutoscaler (`kubectl
// autoscale`) and apps/v1 Deployment (`kubectl create deployment`). Fields
// outside the schema are skipped; status is dropped (the server resets it).
#include <cstdint>
#include <string_view>

#include "sim/apiserver/api_internal.h"

namespace hpad::sim::api {

namespace {

enum class T { kString, kInt, kBool, kMessage, kStringMap, kQuantityMap, kStrings, kMessages, kIntOrString, kSkip };

struct Field;
using Schema = std::vector<Field>;
struct Field {
  int number;
  const char* name;
  T type;
  const Schema* schema = nullptr;
};

// Protobuf schemas (generated.proto field numbers of k8s.io/api).
const Schema kObjectMeta = {{1, "name", T::kString},           {2, "generateName", T::kString},
                            {3, "namespace", T::kString},      {5, "uid", T::kString},
                            {6, "resourceVersion", T::kString}, {7, "generation", T::kInt},
                            {11, "labels", T::kStringMap},     {12, "annotations", T::kStringMap},
                            {14, "finalizers", T::kStrings}};
const Schema kCrossRef = {{1, "kind", T::kString}, {2, "name", T::kString}, {3, "apiVersion", T::kString}};
const Schema kHpaV1Spec = {{1, "scaleTargetRef", T::kMessage, &kCrossRef},
                           {2, "minReplicas", T::kInt},
                           {3, "maxReplicas", T::kInt},
                           {4, "targetCPUUtilizationPercentage", T::kInt}};
const Schema kHpaV1 = {{1, "metadata", T::kMessage, &kObjectMeta}, {2, "spec", T::kMessage, &kHpaV1Spec}};

const Schema kSelectorReq = {{1, "key", T::kString}, {2, "operator", T::kString}, {3, "values", T::kStrings}};
const Schema kLabelSelector = {{1, "matchLabels", T::kStringMap}, {2, "matchExpressions", T::kMessages, &kSelectorReq}};
const Schema kContainerPort = {{1, "name", T::kString},
                               {2, "hostPort", T::kInt},
                               {3, "containerPort", T::kInt},
                               {4, "protocol", T::kString},
                               {5, "hostIP", T::kString}};
const Schema kEnvVar = {{1, "name", T::kString}, {2, "value", T::kString}};
const Schema kResources = {{1, "limits", T::kQuantityMap}, {2, "requests", T::kQuantityMap}};
const Schema kContainer = {{1, "name", T::kString},
                           {2, "image", T::kString},
                           {3, "command", T::kStrings},
                           {4, "args", T::kStrings},
                           {5, "workingDir", T::kString},
                           {6, "ports", T::kMessages, &kContainerPort},
                           {7, "env", T::kMessages, &kEnvVar},
                           {8, "resources", T::kMessage, &kResources},
                           {13, "terminationMessagePath", T::kString},
                           {14, "imagePullPolicy", T::kString},
                           {20, "terminationMessagePolicy", T::kString}};
const Schema kPodSpec = {{2, "containers", T::kMessages, &kContainer},
                         {3, "restartPolicy", T::kString},
                         {4, "terminationGracePeriodSeconds", T::kInt},
                         {6, "dnsPolicy", T::kString},
                         {7, "nodeSelector", T::kStringMap},
                         {8, "serviceAccountName", T::kString},
                         {10, "nodeName", T::kString},
                         {19, "schedulerName", T::kString}};
const Schema kPodTemplate = {{1, "metadata", T::kMessage, &kObjectMeta}, {2, "spec", T::kMessage, &kPodSpec}};
const Schema kRollingUpdate = {{1, "maxUnavailable", T::kIntOrString}, {2, "maxSurge", T::kIntOrString}};
const Schema kStrategy = {{1, "type", T::kString}, {2, "rollingUpdate", T::kMessage, &kRollingUpdate}};
const Schema kDeploymentSpec = {{1, "replicas", T::kInt},
                                {2, "selector", T::kMessage, &kLabelSelector},
                                {3, "template", T::kMessage, &kPodTemplate},
                                {4, "strategy", T::kMessage, &kStrategy},
                                {5, "minReadySeconds", T::kInt},
                                {6, "revisionHistoryLimit", T::kInt},
                                {7, "paused", T::kBool},
                                {9, "progressDeadlineSeconds", T::kInt}};
const Schema kDeployment = {{1, "metadata", T::kMessage, &kObjectMeta}, {2, "spec", T::kMessage, &kDeploymentSpec}};

class Reader {
 public:
  explicit Reader(std::string_view data) : d_(data) {}
  bool done() const { return pos_ >= d_.size(); }
  bool Varint(uint64_t* out) {
    uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (pos_ >= d_.size()) return false;
      uint8_t b = static_cast<uint8_t>(d_[pos_++]);
      v |= static_cast<uint64_t>(b & 0x7f) << shift;
      if ((b & 0x80) == 0) {
        *out = v;
        return true;
      }
    }
    return false;
  }
  bool Bytes(std::string_view* out) {
    uint64_t len;
    if (!Varint(&len) || len > d_.size() - pos_) return false;
    *out = d_.substr(pos_, len);
    pos_ += len;
    return true;
  }
  bool Skip(int wire) {
    uint64_t v;
    std::string_view s;
    switch (wire) {
      case 0: return Varint(&v);
      case 1: if (d_.size() - pos_ < 8) return false; pos_ += 8; return true;
      case 2: return Bytes(&s);
      case 5: if (d_.size() - pos_ < 4) return false; pos_ += 4; return true;
      default: return false;
    }
  }

 private:
  std::string_view d_;
  size_t pos_ = 0;
};

Status Malformed(const std::string& what) {
  return Status(StatusCode::kInvalid, "malformed protobuf body: " + what, "BadRequest", 400);
}

// {1: key, 2: value}; the value is a string or a Quantity message {1: string}.
Status DecodeMapEntry(std::string_view data, bool quantity, std::string* key, std::string* value) {
  Reader r(data);
  while (!r.done()) {
    uint64_t tag;
    if (!r.Varint(&tag)) return Malformed("map entry tag");
    int num = static_cast<int>(tag >> 3), wire = static_cast<int>(tag & 7);
    if (wire != 2) {
      if (!r.Skip(wire)) return Malformed("map entry");
      continue;
    }
    std::string_view s;
    if (!r.Bytes(&s)) return Malformed("map entry bytes");
    if (num == 1) {
      *key = std::string(s);
    } else if (num == 2) {
      if (!quantity) {
        *value = std::string(s);
      } else {
        Reader q(s);
        while (!q.done()) {
          uint64_t t;
          std::string_view qs;
          if (!q.Varint(&t)) return Malformed("quantity");
          if ((t & 7) == 2 && (t >> 3) == 1) {
            if (!q.Bytes(&qs)) return Malformed("quantity");
            *value = std::string(qs);
          } else if (!q.Skip(static_cast<int>(t & 7))) {
            return Malformed("quantity");
          }
        }
      }
    }
  }
  return Status::Ok();
}

Result<Json> DecodeMessage(std::string_view data, const Schema& schema, int depth);

Result<Json> DecodeIntOrString(std::string_view data) {
  Reader r(data);
  int64_t type = 0, ival = 0;
  std::string sval;
  while (!r.done()) {
    uint64_t tag, v;
    if (!r.Varint(&tag)) return Malformed("IntOrString");
    int num = static_cast<int>(tag >> 3), wire = static_cast<int>(tag & 7);
    if (wire == 0) {
      if (!r.Varint(&v)) return Malformed("IntOrString");
      if (num == 1) type = static_cast<int64_t>(v);
      if (num == 2) ival = static_cast<int32_t>(v);
    } else if (wire == 2 && num == 3) {
      std::string_view s;
      if (!r.Bytes(&s)) return Malformed("IntOrString");
      sval = std::string(s);
    } else if (!r.Skip(wire)) {
      return Malformed("IntOrString");
    }
  }
  if (type == 1) return Json(sval);
  return Json(ival);
}

Result<Json> DecodeMessage(std::string_view data, const Schema& schema, int depth) {
  if (depth > 20) return Malformed("nesting too deep");
  Json out = Json::object();
  Reader r(data);
  while (!r.done()) {
    uint64_t tag;
    if (!r.Varint(&tag)) return Malformed("tag");
    int num = static_cast<int>(tag >> 3), wire = static_cast<int>(tag & 7);
    const Field* f = nullptr;
    for (const Field& x : schema)
      if (x.number == num) f = &x;
    if (f == nullptr) {
      if (!r.Skip(wire)) return Malformed("field " + std::to_string(num));
      continue;
    }
    if (wire == 0) {
      uint64_t v;
      if (!r.Varint(&v)) return Malformed(f->name);
      if (f->type == T::kBool) out[f->name] = v != 0;
      else out[f->name] = static_cast<int64_t>(v);  // int32 negatives arrive sign-extended
      continue;
    }
    if (wire != 2) {
      if (!r.Skip(wire)) return Malformed(f->name);
      continue;
    }
    std::string_view s;
    if (!r.Bytes(&s)) return Malformed(f->name);
    switch (f->type) {
      case T::kString:
        out[f->name] = std::string(s);
        break;
      case T::kStrings:
        out[f->name].push_back(std::string(s));
        break;
      case T::kStringMap:
      case T::kQuantityMap: {
        std::string k, v;
        Status st = DecodeMapEntry(s, f->type == T::kQuantityMap, &k, &v);
        if (!st.ok()) return st;
        out[f->name][k] = v;
        break;
      }
      case T::kMessage: {
        auto m = DecodeMessage(s, *f->schema, depth + 1);
        if (!m.ok()) return m.status();
        out[f->name] = std::move(*m);
        break;
      }
      case T::kMessages: {
        auto m = DecodeMessage(s, *f->schema, depth + 1);
        if (!m.ok()) return m.status();
        out[f->name].push_back(std::move(*m));
        break;
      }
      case T::kIntOrString: {
        auto m = DecodeIntOrString(s);
        if (!m.ok()) return m.status();
        out[f->name] = std::move(*m);
        break;
      }
      default:
        break;
    }
  }
  return out;
}

}  // namespace

Result<Json> DecodeProtobufObject(const std::string& body) {
  static const std::string kMagic("k8s\0", 4);
  if (body.size() < 4 || body.compare(0, 4, kMagic) != 0) return Malformed("missing the k8s\\0 prefix");
  Reader r(std::string_view(body).substr(4));
  std::string api_version, kind;
  std::string_view raw;
  while (!r.done()) {
    uint64_t tag;
    if (!r.Varint(&tag)) return Malformed("envelope");
    int num = static_cast<int>(tag >> 3), wire = static_cast<int>(tag & 7);
    if (wire != 2) {
      if (!r.Skip(wire)) return Malformed("envelope");
      continue;
    }
    std::string_view s;
    if (!r.Bytes(&s)) return Malformed("envelope");
    if (num == 1) {
      Reader tm(s);
      while (!tm.done()) {
        uint64_t t;
        std::string_view v;
        if (!tm.Varint(&t) || (t & 7) != 2 || !tm.Bytes(&v)) return Malformed("TypeMeta");
        if ((t >> 3) == 1) api_version = std::string(v);
        if ((t >> 3) == 2) kind = std::string(v);
      }
    } else if (num == 2) {
      raw = s;
    }
  }
  const Schema* schema = nullptr;
  if (api_version == "autoscaling/v1" && kind == "HorizontalPodAutoscaler") schema = &kHpaV1;
  if (api_version == "apps/v1" && kind == "Deployment") schema = &kDeployment;
  if (schema == nullptr)
    return Status(StatusCode::kInvalid, "protobuf bodies are supported for autoscaling/v1 HorizontalPodAutoscaler and "
                  "apps/v1 Deployment only (got " + api_version + " " + kind + "); send JSON",
                  "UnsupportedMediaType", 415);
  auto obj = DecodeMessage(raw, *schema, 0);
  if (!obj.ok()) return obj.status();
  Json out = std::move(*obj);
  out["apiVersion"] = api_version;
  out["kind"] = kind;
  return out;
}

}  // namespace hpad::sim::api
