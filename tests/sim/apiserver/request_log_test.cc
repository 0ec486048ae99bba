// RequestLog: expectWrites' counting and the benchmarks' totals.
#include <catch2/catch.hpp>

#include "sim/apiserver/request_log.h"

namespace hpad::sim {
namespace {

TEST_CASE("RequestLog counts writes by verb, resource, subresource, agent and seq", "[request_log]") {
  RequestLog log;
  int64_t since = log.NextSeq();
  log.Record({0, "get", "horizontalpodautoscalers", "", "hpad/0.1", 200});
  log.Record({0, "update", "horizontalpodautoscalers", "status", "hpad/0.1", 200});
  log.Record({0, "update", "horizontalpodautoscalers", "status", "kubectl/v1.32", 200});
  log.Record({0, "patch", "deployments", "scale", "hpad/0.1", 200});
  CHECK(log.CountWrites("update", "horizontalpodautoscalers", "status", "hpad", since) == 1);
  CHECK(log.CountWrites("patch", "horizontalpodautoscalers", "status", "hpad", since) == 1);
  CHECK(log.CountWrites("update", "deployments", "scale", "hpad", since) == 1);
  CHECK(log.CountWrites("create", "deployments", "scale", "hpad", since) == 0);
  CHECK(log.CountWrites("update", "horizontalpodautoscalers", "status", "", since) == 2);
  CHECK(log.CountWrites("", "", "*", "hpad", since) == 2);
  CHECK(log.CountWrites("", "", "", "hpad", since) == 0);  // main resource only
  CHECK(log.CountWrites("", "", "*", "", log.NextSeq()) == 0);
  CHECK(log.NextSeq() == since + 4);
  CHECK(log.Counts()["update horizontalpodautoscalers/status"] == 2);
  CHECK(log.Counts()["get horizontalpodautoscalers"] == 1);
}

}  // namespace
}  // namespace hpad::sim
