// Version conversion and write defaulting of the simulator's object store.
//
// Each resource has one storage version; served versions convert on the way
// in (ToStorage) and out (ConvertOut): autoscaling/v1 HPAs with
// k8s::HpaV1ToV2 / HpaV2ToV1, events.k8s.io/v1 Events field by field from
// core/v1, autoscaling/v2beta2 and CRD versions by relabelling apiVersion and
// kind. Defaulting is what the API server does on every write (13.1 D1-D3 for
// HPAs, spec.replicas 1 for apps kinds).
// Pure functions on values; thread-compatible.
#pragma once

#include <memory>

#include <nlohmann/json.hpp>

#include "sim/apiserver/resource_registry.h"

namespace hpad::sim {

enum class Conversion { kNone, kHpaV1, kEventsV1 };

// How a served version converts to and from its storage.
Conversion ConversionFor(const ResourceInfo& info);

// Storage -> served form of `info`'s version.
Json ConvertOut(Conversion c, const ResourceInfo& info, const Json& storage);
// The served form of a stored object, shared with the store when it is
// already in that form (the storage version itself: no copy).
std::shared_ptr<const Json> SharedServed(Conversion c, const ResourceInfo& info,
                                         const std::shared_ptr<const Json>& storage);
// Served -> storage form; `storage_row` is the storage version's row (null:
// keep info's apiVersion and kind).
Json ToStorage(const ResourceInfo& info, const ResourceInfo* storage_row, const Json& served);

// API server defaulting on every write of `info`'s storage, in place.
void DefaultOnWrite(const ResourceInfo& info, Json& obj);

// HPA API defaulting for autoscaling/v2 objects (13.1 D1-D3), in place.
void DefaultHpaV2(Json& hpa);

}  // namespace hpad::sim
