// RFC 3339 timestamps as Kubernetes writes them ("2026-01-01T00:00:00Z",
// with optional fractional seconds and offsets when reading).
#pragma once

#include <string>
#include <string_view>

#include "k8sclient/base/clock.h"
#include "k8sclient/base/status.h"

namespace hpad::k8s {

Result<Time> ParseRfc3339(std::string_view text);
// Seconds precision, UTC, "Z" suffix (metav1.Time).
std::string FormatRfc3339(Time t);
// Microsecond precision (metav1.MicroTime, used by Leases and events.k8s.io).
std::string FormatRfc3339Micro(Time t);

}  // namespace hpad::k8s
