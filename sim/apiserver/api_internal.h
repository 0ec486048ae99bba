// Internal pieces of the simulator's API server, split by topic so each
// translation unit stays small: Tables (api_tables.cc), discovery and
// OpenAPI (api_discovery.cc), the metrics APIs (api_metrics.cc) and the
// protobuf envelope decoder (api_protobuf.cc). No httplib here; only
// api_server.cc speaks HTTP. Pure functions over ClusterState reads;
// thread-safe as the ClusterState is.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "k8sclient/base/clock.h"
#include "k8sclient/base/status.h"
#include "sim/apiserver/cluster_state.h"

namespace hpad::sim::api {

using Query = std::map<std::string, std::string>;

// ---- Tables (kubectl get) ----
// True when Accept asks for meta.k8s.io Tables (`as=Table`).
bool WantsTable(const std::string& accept);
Json TableColumns(const ResourceInfo& info);
// One row: cells + rows[].object (PartialObjectMetadata). `obj` in the served version.
Json TableRow(const ResourceInfo& info, const Json& obj, Time now);
Json MakeTable(const ResourceInfo& info, const std::vector<Json>& items, const std::string& resource_version,
               const std::string& continue_token, Time now, bool with_columns = true);
// kubectl's duration.HumanDuration ("5m", "0s", "3m20s", "2d4h").
std::string HumanDuration(std::chrono::seconds d);

// ---- Discovery and OpenAPI ----
Json VersionDoc(const std::string& minor);
Json ApiVersionsDoc();
Json ApiGroupListDoc(const ClusterState& state);
std::optional<Json> ApiGroupDoc(const ClusterState& state, const std::string& group);
std::optional<Json> ApiResourceListDoc(const ClusterState& state, const std::string& group, const std::string& version);
Json OpenApiV3Root(const ClusterState& state);
// gv_path: "api/v1" or "apis/<group>/<version>".
std::optional<Json> OpenApiV3Doc(const ClusterState& state, const std::string& gv_path);

// ---- Metrics APIs ----
// Group "metrics.k8s.io", "custom.metrics.k8s.io" or "external.metrics.k8s.io";
// segments: the path after /apis/<group>/<version>/. Errors carry HTTP codes.
Result<Json> ServeMetrics(const ClusterState& state, const std::string& group, const std::vector<std::string>& segments,
                          const Query& query);
bool IsMetricsGroup(const std::string& group);
// ServeMetrics' answer serialized (what dump() gives); PodMetrics lists are
// written straight from the stored items, without copying them.
Result<std::string> ServeMetricsSerialized(const ClusterState& state, const std::string& group,
                                           const std::vector<std::string>& segments, const Query& query);

// ---- Protobuf ----
// Decodes a `k8s\0` + runtime.Unknown body (kubectl-compat 6) into JSON.
// Supports autoscaling/v1 HorizontalPodAutoscaler and apps/v1 Deployment.
Result<Json> DecodeProtobufObject(const std::string& body);

// ---- Errors ----
// metav1.Status body for an error (kubectl-compat 0).
Json StatusBody(const Status& s, const std::string& name = {}, const std::string& group = {},
                const std::string& kind = {});
int HttpCodeOf(const Status& s);

}  // namespace hpad::sim::api
