// Scale subresource access (T1-T5, W1).
#include "controller/scale_client.h"

#include "k8sclient/base/klog.h"
#include "k8sclient/write_fence.h"

namespace hpad::ctrl {
RestScaleClient::RestScaleClient(std::shared_ptr<k8s::ApiClient> client, std::shared_ptr<k8s::RestMapper> mapper)
    : client_(std::move(client)), mapper_(std::move(mapper)) {}

Result<ScaleReadResult> RestScaleClient::GetScale(const std::string& ns, const k8s::CrossVersionObjectReference& ref) {
  auto gv = k8s::ParseGroupVersion(ref.api_version);  // T1
  if (!gv.ok()) return gv.status();
  auto mappings = mapper_->RestMappings(gv->first, ref.kind);  // T2
  if (!mappings.ok()) return mappings.status();
  auto read = ReadScale(ns, ref, *mappings);
  // A 404 may mean the mapping is stale (a CRD dropped the version we
  // cached; issue 10 item 7): drop it (rate-limited by the mapper) and try
  // once more with a fresh mapping if that differs.
  if (!read.ok() && read.status().code() == StatusCode::kNotFound && mapper_->ReportNotFound(gv->first, ref.kind)) {
    auto fresh = mapper_->RestMappings(gv->first, ref.kind);
    if (!fresh.ok()) return fresh.status();
    bool changed = fresh->size() != mappings->size();
    for (size_t i = 0; !changed && i < fresh->size(); ++i) changed = !((*fresh)[i].gvr == (*mappings)[i].gvr);
    if (changed) return ReadScale(ns, ref, *fresh);
  }
  return read;
}

Result<ScaleReadResult> RestScaleClient::ReadScale(const std::string& ns, const k8s::CrossVersionObjectReference& ref,
                                                   const std::vector<k8s::RestMapping>& mappings) {
  if (mappings.empty()) return Status(StatusCode::kNotFound, "unrecognized resource");
  Status first_error;
  for (const auto& m : mappings) {  // T3: first success wins, else the first error
    k8s::ObjectKey key{m.gvr, ns, ref.name, "scale"};
    auto body = client_->Get(key);
    if (!body.ok()) {
      if (first_error.ok()) first_error = body.status();
      continue;
    }
    auto scale = k8s::ScaleFromJson(*body);
    if (!scale.ok()) {
      if (first_error.ok()) first_error = scale.status();
      continue;
    }
    return ScaleReadResult{std::move(scale).value(), m.gvr};
  }
  return first_error;
}

bool ScaleWriteMayHaveApplied(const Status& failed) {
  if (failed.ok()) return true;
  if (failed.reason() == k8s::kLeaseNotHeldReason) return false;  // refused before sending
  if (failed.http_code() >= 400 && failed.http_code() < 500) return false;
  switch (failed.code()) {
    case StatusCode::kConflict:
    case StatusCode::kNotFound:
    case StatusCode::kGone:
    case StatusCode::kForbidden:
    case StatusCode::kUnauthorized:
    case StatusCode::kInvalid:
    case StatusCode::kTooManyRequests:
      return false;  // answers: the server refused the write
    default:
      return true;  // kUnavailable, kTimeout, kCancelled, kInternal: maybe sent, maybe applied
  }
}

Status RestScaleClient::UpdateScale(const std::string& ns, const ScaleReadResult& read, int32_t replicas) {
  k8s::ObjectKey key{read.gvr, ns, read.scale.name, "scale"};
  k8s::Scale scale = read.scale;
  Status last;
  // W1: 5 attempts; a conflict re-reads the scale before the next try. The
  // upstream 10 ms jittered backoff between attempts is not reproduced: the
  // re-GET is what resolves the conflict, and no wall clock is read here.
  // A failed re-read is logged and the last scale object kept for the next
  // attempt (upstream RetryOnConflict around Get+Update); after 5 attempts
  // the conflict itself is returned.
  for (int attempt = 0; attempt < 5; attempt++) {
    if (attempt > 0) {
      auto fresh = client_->Get(key);
      Result<k8s::Scale> parsed = fresh.ok() ? k8s::ScaleFromJson(*fresh) : Result<k8s::Scale>(fresh.status());
      if (parsed.ok()) {
        scale = std::move(parsed).value();
      } else {
        HPAD_LOG(Error) << "re-reading the scale of " << read.gvr.resource << " " << ns << "/" << read.scale.name
                        << " after a conflict: " << parsed.status().message();
      }
    }
    scale.spec_replicas = replicas;
    auto res = client_->Update(key, k8s::ScaleToJson(scale));
    if (res.ok()) return Status::Ok();
    last = res.status();
    if (last.code() != StatusCode::kConflict) return last;
  }
  return last;
}

Status RestScaleClient::TryUpdateScale(const std::string& ns, const ScaleReadResult& read, int32_t replicas) {
  k8s::Scale scale = read.scale;
  scale.spec_replicas = replicas;
  auto res = client_->Update(k8s::ObjectKey{read.gvr, ns, read.scale.name, "scale"}, k8s::ScaleToJson(scale));
  return res.ok() ? Status::Ok() : res.status();
}

}  // namespace hpad::ctrl
