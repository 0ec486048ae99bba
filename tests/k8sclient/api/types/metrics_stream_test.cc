// The streaming metrics decoders against the DOM ones (issue 16): for each
// input, ParseForeignJson + *FromJson is the reference, and *FromText must
// give the same values or the same error (code and text), with text-level
// errors flagged. Inputs: hand-written cases for each rule the streaming
// decoder must mirror, then deterministic mutations of valid lists (values
// of every JSON type put anywhere, duplicate keys, cut or corrupted text).
#include <catch2/catch.hpp>

#include <random>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "k8sclient/api/json_parse.h"
#include "k8sclient/api/time_format.h"
#include "k8sclient/api/quantity.h"
#include "k8sclient/api/types/json_stream.h"
#include "k8sclient/api/types/metrics.h"
#include "k8sclient/api/types/pod_metrics_table.h"

using namespace hpad;
using namespace hpad::k8s;
using nlohmann::json;

namespace {

std::string Show(const PodMetrics& m) {
  std::ostringstream o;
  o << m.name << "|" << m.ns << "|" << m.timestamp.time_since_epoch().count() << "|" << m.window.count() << "|";
  for (const auto& [k, v] : m.labels) o << k << "=" << v << ",";
  for (const auto& c : m.containers) {
    o << "[" << c.name;
    for (const auto& [k, v] : c.usage_milli) o << " " << k << ":" << v;
    o << "]";
  }
  return o.str();
}
std::string Show(const CustomMetricValue& m) {
  std::ostringstream o;
  const DescribedObject& d = m.described_object;
  o << d.api_version << "|" << d.kind << "|" << d.ns << "|" << d.name << "|" << m.metric_name << "|"
    << m.timestamp.time_since_epoch().count() << "|" << (m.window_seconds ? std::to_string(*m.window_seconds) : "-")
    << "|" << m.value_milli;
  return o.str();
}
std::string Show(const ExternalMetricValue& m) {
  std::ostringstream o;
  o << m.metric_name << "|" << m.timestamp.time_since_epoch().count() << "|"
    << (m.window_seconds ? std::to_string(*m.window_seconds) : "-") << "|" << m.value_milli << "|";
  for (const auto& [k, v] : m.metric_labels) o << k << "=" << v << ",";
  return o.str();
}
template <typename T>
std::string ShowAll(const std::vector<T>& items) {
  std::string s;
  for (const auto& i : items) s += Show(i) + "\n";
  return s;
}

// Compares the two paths on `text`; returns true when it decoded.
template <typename Dom, typename Stream>
bool SameAsDom(const std::string& text, Dom dom, Stream stream) {
  INFO("input: " << text);
  bool text_error = false;
  auto streamed = stream(text, "GET /x reply", &text_error);
  auto parsed = ParseForeignJson(text, "GET /x reply");
  if (!parsed.ok()) {
    REQUIRE_FALSE(streamed.ok());
    CHECK(text_error);
    CHECK(streamed.status().code() == parsed.status().code());
    CHECK(streamed.status().message() == parsed.status().message());
    return false;
  }
  auto decoded = dom(*parsed);
  CHECK_FALSE(text_error);
  REQUIRE(decoded.ok() == streamed.ok());
  if (!decoded.ok()) {
    CHECK(streamed.status().code() == decoded.status().code());
    CHECK(streamed.status().message() == decoded.status().message());
    return false;
  }
  CHECK(ShowAll(*streamed) == ShowAll(*decoded));
  return true;
}

bool SamePodMetrics(const std::string& text) {
  // The list decoder, then the table decoder (issue 16: what MetricsCache
  // keeps) read back with ToPodMetrics(): both must be the DOM's.
  const bool listed = SameAsDom(
      text, [](const json& j) { return PodMetricsListFromJson(j); },
      [](const std::string& t, std::string_view w, bool* e) { return PodMetricsListFromText(t, w, e); });
  const bool tabled = SameAsDom(
      text, [](const json& j) { return PodMetricsListFromJson(j); },
      [](const std::string& t, std::string_view w, bool* e) -> Result<std::vector<PodMetrics>> {
        auto table = PodMetricsTableFromText(t, w, e);
        if (!table.ok()) return table.status();
        return table->ToPodMetrics();
      });
  CHECK(listed == tabled);
  return listed;
}
bool SameMetricValues(const std::string& text) {
  return SameAsDom(
      text, [](const json& j) { return MetricValueListFromJson(j); },
      [](const std::string& t, std::string_view w, bool* e) { return MetricValueListFromText(t, w, e); });
}
bool SameSingleMetricValue(const std::string& text) {
  return SameAsDom(
      text,
      [](const json& j) {
        json list = {{"kind", "MetricValueList"}, {"items", json::array({j})}};
        return MetricValueListFromJson(list);
      },
      [](const std::string& t, std::string_view w, bool* e) { return MetricValueAsListFromText(t, w, e); });
}
bool SameExternal(const std::string& text) {
  return SameAsDom(
      text, [](const json& j) { return ExternalMetricValueListFromJson(j); },
      [](const std::string& t, std::string_view w, bool* e) { return ExternalMetricValueListFromText(t, w, e); });
}

const char* kPodList = R"({"kind": "PodMetricsList", "apiVersion": "metrics.k8s.io/v1beta1", "metadata": {},
  "items": [
    {"metadata": {"name": "web-1", "namespace": "default", "labels": {"app": "web", "tier": "front"},
                  "creationTimestamp": "2026-01-01T00:00:00Z"},
     "timestamp": "2026-01-01T00:00:00Z", "window": "15.01s",
     "containers": [{"name": "app", "usage": {"cpu": "180m", "memory": "64Mi"}},
                    {"name": "proxy", "usage": {"cpu": "1234567n", "memory": null}}]},
    {"metadata": {"name": "web-2", "namespace": "default"}, "timestamp": "2026-01-01T00:00:05+01:00", "window": "1m",
     "containers": []}
  ]})";

const char* kCustomList = R"({"kind": "MetricValueList", "apiVersion": "custom.metrics.k8s.io/v1beta2",
  "items": [
    {"describedObject": {"kind": "Pod", "namespace": "default", "name": "web-1", "apiVersion": "/v1"},
     "metric": {"name": "rps", "selector": null}, "timestamp": "2026-01-01T00:00:00Z", "windowSeconds": 60,
     "value": "1500m"},
    {"describedObject": {"kind": "Ingress", "namespace": "default", "name": "main", "apiVersion": "networking.k8s.io/v1"},
     "metricName": "hits", "timestamp": "2026-01-01T00:00:00Z", "value": 20}
  ]})";

const char* kExternalList = R"({"kind": "ExternalMetricValueList", "apiVersion": "external.metrics.k8s.io/v1beta1",
  "items": [
    {"metricName": "queue_depth", "metricLabels": {"queue": "jobs", "zone": "a"}, "timestamp": "2026-01-01T00:00:00Z",
     "window": 30, "value": "12"},
    {"metricName": "queue_depth", "timestamp": "2026-01-01T00:00:01Z", "value": 2.5}
  ]})";

// Values of every JSON type and the strings the fields parse.
const std::vector<std::string> kPalette = {
    "null", "true", "false", "0", "-3", "7", "60", "1.5", "3.0", "-0.0", "1e300", "18446744073709551615",
    "9223372036854775808", "-9223372036854775808", "1e400", R"("")", R"("x")", R"("100m")", R"(" 5 ")",
    R"("1.5Gi")", R"("99999999999999999999999")", R"("2026-01-01T00:00:00Z")", R"("2026-13-01T00:00:00Z")",
    R"("15s")", R"("30")", R"("-1m")", "[]", "{}", "[1]", "[null]", R"({"a": 1})", R"({"a": "b"})",
    R"({"name": "n"})", R"({"cpu": "1"})", R"([{"name": "c", "usage": {"cpu": 5}}])",
    R"("\u00e9\ud83d\ude00")", R"("a\"b")"};

const std::vector<std::string> kKeys = {
    "items", "metadata", "name", "namespace", "labels", "timestamp", "window", "containers", "usage", "cpu",
    "memory", "describedObject", "metric", "metricName", "windowSeconds", "value", "apiVersion", "kind",
    "metricLabels", "app", "zone"};

// One random change to the text of a valid list.
std::string Mutate(const std::string& text, std::mt19937& rng) {
  auto pick = [&](size_t n) { return std::uniform_int_distribution<size_t>(0, n - 1)(rng); };
  std::string out = text;
  switch (pick(6)) {
    case 0: {  // a value of another type at a random member
      auto j = json::parse(text);
      std::vector<json*> nodes;
      std::vector<json*> todo = {&j};
      while (!todo.empty()) {
        json* n = todo.back();
        todo.pop_back();
        nodes.push_back(n);
        if (n->is_structured())
          for (auto& c : *n) todo.push_back(&c);
      }
      json value = json::parse(kPalette[pick(kPalette.size())], nullptr, false);  // 1e400 is no DOM value
      *nodes[pick(nodes.size())] = value.is_discarded() ? json() : value;
      return j.dump();
    }
    case 1: {  // an extra member (often a duplicate key) at the start of an object
      std::vector<size_t> opens;
      for (size_t i = 0; i < text.size(); ++i)
        if (text[i] == '{') opens.push_back(i);
      if (opens.empty()) return text + " ";
      size_t at = opens[pick(opens.size())] + 1;
      std::string member = "\"" + kKeys[pick(kKeys.size())] + "\": " + kPalette[pick(kPalette.size())];
      bool empty_object = text.find_first_not_of(" \n", at) != std::string::npos && text[text.find_first_not_of(" \n", at)] == '}';
      out.insert(at, empty_object ? member : member + ",");
      return out;
    }
    case 2: {  // the same, at the end of an object (a later duplicate wins)
      std::vector<size_t> closes;
      for (size_t i = 0; i < text.size(); ++i)
        if (text[i] == '}') closes.push_back(i);
      if (closes.empty()) return " " + text;
      size_t at = closes[pick(closes.size())];
      std::string member = "\"" + kKeys[pick(kKeys.size())] + "\": " + kPalette[pick(kPalette.size())];
      size_t prev = text.find_last_not_of(" \n", at - 1);
      out.insert(at, text[prev] == '{' ? member : "," + member);
      return out;
    }
    case 3:  // cut
      return text.substr(0, pick(text.size()));
    case 4: {  // a corrupted byte
      const char bytes[] = {'"', ',', '}', ']', '{', '[', ':', 'x', '\\', '\xff', '\x01', '0'};
      out[pick(out.size())] = bytes[pick(sizeof bytes)];
      return out;
    }
    default: {  // two changes
      std::string once = Mutate(text, rng);
      auto probe = json::parse(once, nullptr, false);
      return probe.is_discarded() ? once : Mutate(probe.dump(1), rng);
    }
  }
}

}  // namespace

TEST_CASE("streamed PodMetricsList equals the DOM decoding", "[metrics-types][metrics-stream]") {
  CHECK(SamePodMetrics(kPodList));
  auto r = PodMetricsListFromText(kPodList, "t");
  REQUIRE(r.ok());
  REQUIRE(r->size() == 2);
  CHECK((*r)[0].name == "web-1");
  CHECK((*r)[0].labels.at("tier") == "front");
  CHECK((*r)[0].containers[0].usage_milli.at("memory") == 67108864000);
  CHECK((*r)[0].containers[1].usage_milli.count("memory") == 0);  // null usage entries are skipped
  CHECK(FormatRfc3339((*r)[1].timestamp) == "2025-12-31T23:00:05Z");

  const char* cases[] = {
      "null", "[]", "5", R"("x")", "{}", R"({"items": null})", R"({"items": {}})", R"({"items": [null]})",
      R"({"items": [5, {"metadata": 3}]})",
      // field errors come in the DOM decoder's order, not the document's
      R"({"items": [{"containers": 5, "window": 7, "timestamp": 3, "metadata": {"labels": 1, "name": 2}}]})",
      R"({"items": [{"metadata": {"labels": {"b": 1, "a": null}}}]})",
      R"({"items": [{"containers": [{"usage": {"memory": "x", "cpu": "y"}, "name": 5}]}]})",
      R"({"items": [{"containers": [{"usage": {"cpu": {}}}, 7]}]})",
      R"({"items": [{"containers": [{"name": "a", "usage": {"cpu": 1.5}}, {"name": "b", "usage": {"cpu": 1e30}}]}]})",
      // duplicate keys: the last one counts, its earlier value's errors are gone
      R"({"items": [{"timestamp": 5, "timestamp": "2026-01-01T00:00:00Z"}]})",
      R"({"items": [{"timestamp": "2026-01-01T00:00:00Z", "timestamp": null}]})",
      R"({"items": 5, "items": [{"metadata": {"name": "a", "name": "b"}}]})",
      R"({"items": [{"metadata": {"name": "a"}}], "items": [{"metadata": 5}]})",
      R"({"items": [{"containers": [{"usage": {"cpu": "x", "cpu": "5"}}]}]})",
      R"({"items": [{"containers": [{"usage": {"cpu": "5", "cpu": null}, "usage": {"memory": "1Ki"}}]}]})",
      // syntax errors win over field errors anywhere before them
      R"({"items": [{"metadata": 5}], "x": })", R"({"items": [{"window": "1x"}]} x)", "",
      R"({"items": [{"containers": [{"usage": {"cpu": 1e400}}]}]})", "{\"items\": [{\"metadata\": {\"name\": \"\xff\"}}]}",
      // unknown members of any shape are skipped
      R"({"items": [{"extra": {"deep": [[[{"containers": 5}]]]}, "metadata": {"name": "n", "uid": [1, {"a": null}]}}]})",
  };
  for (const char* c : cases) SamePodMetrics(c);
  SamePodMetrics(std::string(300, '[') + std::string(300, ']'));
  SamePodMetrics("{\"items\": " + std::string(250, '[') + std::string(250, ']') + "}");
}

TEST_CASE("streamed MetricValueList equals the DOM decoding", "[metrics-types][metrics-stream]") {
  CHECK(SameMetricValues(kCustomList));
  const char* cases[] = {
      R"({"items": [{"value": "1"}]})", R"({"items": [{}]})", R"({"items": [{"value": null}]})",
      R"({"items": [{"metric": 5, "metricName": 7, "value": "x"}]})",
      R"({"items": [{"metric": null, "metricName": 7}]})",
      R"({"items": [{"metric": {"name": 5}, "metricName": "ok", "value": "1"}]})",
      R"({"items": [{"metricName": 7, "metric": {"name": "m"}, "value": "1"}]})",
      R"({"items": [{"describedObject": {"name": 1, "kind": 2}, "value": "1"}]})",
      R"({"items": [{"describedObject": [], "value": "1"}]})",
      R"({"items": [{"windowSeconds": 18446744073709551615, "value": "1"}]})",
      R"({"items": [{"windowSeconds": 9223372036854775807, "value": "1"}]})",
      R"({"items": [{"windowSeconds": 30.0, "value": "1"}]})", R"({"items": [{"windowSeconds": 30.5, "value": "1"}]})",
      R"({"items": [{"windowSeconds": "30", "value": "1"}]})", R"({"items": [{"windowSeconds": -1e300, "value": "1"}]})",
      R"({"items": [{"value": "  250m\n"}]})", R"({"items": [{"value": 1e-12}]})", R"({"items": [{"value": -7}]})",
      R"({"items": [{"value": "1", "value": null}]})", R"({"items": [{"value": true}]})",
  };
  for (const char* c : cases) SameMetricValues(c);
}

TEST_CASE("a lone MetricValue streams as the one item of a list", "[metrics-types][metrics-stream]") {
  const char* cases[] = {
      R"({"describedObject": {"kind": "Service", "name": "s"}, "metricName": "m", "value": "3"})",
      R"({"metricName": "m"})", "[]", "null", "5", R"({"value": {}})", R"({"items": []})",
  };
  for (const char* c : cases) SameSingleMetricValue(c);
}

TEST_CASE("streamed ExternalMetricValueList equals the DOM decoding", "[metrics-types][metrics-stream]") {
  CHECK(SameExternal(kExternalList));
  const char* cases[] = {
      R"({"items": [{"metricLabels": [], "value": "1"}]})", R"({"items": [{"metricLabels": "x", "value": "1"}]})",
      R"({"items": [{"metricLabels": {"z": 1, "a": "ok", "b": null}, "value": "1"}]})",
      R"({"items": [{"metricLabels": {"a": 1, "a": "fine"}, "value": "1"}]})",
      R"({"items": [{"window": 1.25, "value": "1"}]})", R"({"items": [{"metricName": 3, "window": "x"}]})",
      R"({"items": [{"value": "1"}, {"value": "2Ki"}, {}]})",
  };
  for (const char* c : cases) SameExternal(c);
}

TEST_CASE("size limit and nesting limit give ParseForeignJson's texts", "[metrics-types][metrics-stream]") {
  bool text_error = false;
  auto big = PodMetricsListFromText(R"({"items": []})", "GET /p reply", &text_error, 5);
  REQUIRE_FALSE(big.ok());
  CHECK(text_error);
  CHECK(big.status().message() == "GET /p reply: 13 bytes exceed the limit of 5 bytes");
  auto dom = ParseForeignJson(R"({"items": []})", "GET /p reply", 5);
  CHECK(dom.status().message() == big.status().message());
  std::string deep = std::string(1000, '[') + std::string(1000, ']');
  auto d = ExternalMetricValueListFromText(deep, "GET /p reply", &text_error);
  REQUIRE_FALSE(d.ok());
  CHECK(text_error);
  CHECK(d.status().message() == ParseForeignJson(deep, "GET /p reply").status().message());
}

TEST_CASE("mutated metrics lists decode the same streamed and through the DOM", "[metrics-types][metrics-stream]") {
  // Deterministic: the same inputs on every run (a failure names its input).
  std::mt19937 rng(16);
  int decoded = 0;
  for (int i = 0; i < 1500; ++i) {
    decoded += SamePodMetrics(Mutate(kPodList, rng));
    decoded += SameMetricValues(Mutate(kCustomList, rng));
    decoded += SameExternal(Mutate(kExternalList, rng));
    std::string single = Mutate(json::parse(kCustomList)["items"][0].dump(), rng);
    decoded += SameSingleMetricValue(single);
  }
  // Mutations keep a good share valid, so values (not only errors) are compared.
  CHECK(decoded > 500);
}

namespace {

// A random PodMetricsList as a server could send it: label sets shared by
// some items and not others, containers with usages in any order, and (when
// `hostile`) duplicate keys at every level, nulls, values of the wrong type
// and huge numbers, written as text so duplicates survive.
std::string RandomPodList(std::mt19937& rng, bool hostile) {
  auto pick = [&](size_t n) { return std::uniform_int_distribution<size_t>(0, n - 1)(rng); };
  auto chance = [&](int percent) { return static_cast<int>(pick(100)) < percent; };
  const std::vector<std::string> names = {"a", "web-0", "web-1", "", "x\u00e9", "db"};
  const std::vector<std::string> spaces = {"default", "team-a", ""};
  const std::vector<std::string> keys = {"app", "tier", "zone", "a", "b", ""};
  const std::vector<std::string> values = {"web", "db", "", "front", "1"};
  const std::vector<std::string> resources = {"cpu", "memory", "gpu", "Cpu", "ephemeral-storage"};
  const std::vector<std::string> quantities = {"\"100m\"", "\"1Gi\"", "\"0\"", "\"1234567n\"", "\"64Mi\"", "5",
                                               "1.5", "\" 7 \""};
  const std::vector<std::string> bad = {"null", "1e30", "\"x\"", "{}", "[]", "true", "\"99999999999999999999999\"",
                                        "18446744073709551615", "-9223372036854775808", "\"1e400\""};
  auto str = [](const std::string& v) { return json(v).dump(); };
  auto value_or_bad = [&](const std::string& good) { return hostile && chance(4) ? bad[pick(bad.size())] : good; };
  auto member = [&](const std::string& k, const std::string& v) {
    std::string m = str(k) + ": " + v;
    if (hostile && chance(5)) m = str(k) + ": " + bad[pick(bad.size())] + ", " + m;  // an earlier duplicate
    if (hostile && chance(3)) m += ", " + str(k) + ": " + bad[pick(bad.size())];     // a later one wins
    return m;
  };
  std::string items;
  const size_t count = pick(8);
  for (size_t i = 0; i < count; i++) {
    std::string labels;
    const size_t nl = chance(30) ? 0 : pick(4);
    for (size_t l = 0; l < nl; l++) {
      if (!labels.empty()) labels += ", ";
      labels += member(keys[pick(keys.size())], value_or_bad(str(values[pick(values.size())])));
    }
    std::string meta = member("name", value_or_bad(str(names[pick(names.size())]))) + ", " +
                       member("namespace", value_or_bad(str(spaces[pick(spaces.size())])));
    if (!chance(20)) meta += ", " + member("labels", "{" + labels + "}");
    std::string containers;
    const size_t nc = pick(4);
    for (size_t c = 0; c < nc; c++) {
      std::string usage;
      const size_t nu = pick(4);
      for (size_t u = 0; u < nu; u++) {
        if (!usage.empty()) usage += ", ";
        usage += member(resources[pick(resources.size())], value_or_bad(quantities[pick(quantities.size())]));
      }
      if (!containers.empty()) containers += ", ";
      containers += "{" + member("name", value_or_bad(str(names[pick(names.size())]))) + ", " +
                    member("usage", "{" + usage + "}") + "}";
    }
    std::string item = "{" + member("metadata", "{" + meta + "}") + ", " +
                       member("timestamp", value_or_bad("\"2026-01-01T00:00:0" + std::to_string(pick(10)) + "Z\"")) +
                       ", " + member("window", value_or_bad(chance(50) ? "\"15s\"" : "\"1m0.5s\"")) + ", " +
                       member("containers", "[" + containers + "]") + "}";
    if (!items.empty()) items += ", ";
    items += item;
  }
  return "{\"kind\": \"PodMetricsList\", " + member("items", "[" + items + "]") + "}";
}

}  // namespace

TEST_CASE("PodMetricsTable from text equals the DOM decoding on random and damaged lists (issue 16)",
          "[metrics-types][metrics-stream][pod-metrics-table]") {
  std::mt19937 rng(1616);
  int decoded = 0, failed = 0;
  for (int i = 0; i < 3000; ++i) {
    const std::string text = RandomPodList(rng, i % 2 == 1);
    const bool ok = SamePodMetrics(text);
    decoded += ok;
    failed += !ok;
    if (i % 3 == 0) SamePodMetrics(Mutate(text, rng));
  }
  // Both outcomes are exercised: values and error texts.
  CHECK(decoded > 1000);
  CHECK(failed > 300);
  for (const char* c : {R"({"items": []})", R"({"items": [{}]})", R"({"items": [{}, {"metadata": {}}]})",
                        R"({"items": [{"metadata": {"labels": {}}}]})",
                        R"({"items": [{"metadata": {"labels": {"a": "1", "a": 5}}}]})",
                        R"({"items": [{"metadata": {"labels": {"a": 5, "a": "1"}}}]})",
                        R"({"items": [{"metadata": {"labels": {"a": "1"}, "labels": null}}]})",
                        R"({"items": [{"containers": [{"name": "c", "usage": {"cpu": "1", "cpu": "2"}}]}]})",
                        R"({"items": [{"containers": [{"name": "c"}], "containers": [{"name": "d"}]}]})",
                        R"({"items": [{"metadata": {"name": "a"}}], "items": [{"metadata": {"name": "b"}}]})"}) {
    SamePodMetrics(c);
  }
}

TEST_CASE("PodMetricsTable: interned strings, shared label sets, the usages in key order (issue 16)",
          "[metrics-types][pod-metrics-table]") {
  auto table = PodMetricsTableFromText(R"({"items": [
    {"metadata": {"name": "a", "namespace": "ns", "labels": {"tier": "x", "app": "web"}}, "window": "30s",
     "timestamp": "2026-01-01T00:00:00Z",
     "containers": [{"name": "app", "usage": {"memory": "1Ki", "cpu": "5m"}}, {"name": "side", "usage": {}}]},
    {"metadata": {"name": "bb", "namespace": "ns", "labels": {"app": "web", "tier": "x"}},
     "containers": [{"name": "app", "usage": {"cpu": "7"}}]},
    {"metadata": {"name": "c", "namespace": "other"}}]})",
                                       "t");
  REQUIRE(table.ok());
  REQUIRE(table->size() == 3);
  CHECK(table->NameOf(0) == "a");
  CHECK(table->NameOf(1) == "bb");
  CHECK(table->NameOf(2) == "c");
  CHECK(table->NamespaceOf(1) == "ns");
  CHECK(table->NamespaceOf(2) == "other");
  CHECK(table->WindowOf(0) == std::chrono::seconds(30));
  CHECK(FormatRfc3339(table->TimestampOf(0)) == "2026-01-01T00:00:00Z");
  // One label set for both orders of the same labels; none for the third.
  CHECK(table->label_set_count() == 1);
  CHECK(table->LabelSetOf(0) == table->LabelSetOf(1));
  CHECK(table->LabelSetOf(2) == PodMetricsTable::kNone);
  CHECK(table->LabelsOf(1) == Labels{{"app", "web"}, {"tier", "x"}});
  CHECK(table->LabelsOf(2).empty());
  CHECK(table->LabelsOf(99).empty());
  // Usages in resource-name order, resource names interned once.
  REQUIRE(table->ContainersEnd(0) - table->ContainersBegin(0) == 2);
  const uint32_t c0 = table->ContainersBegin(0);
  REQUIRE(table->UsagesEnd(c0) - table->UsagesBegin(c0) == 2);
  CHECK(table->String(table->UsageResource(table->UsagesBegin(c0))) == "cpu");
  CHECK(table->UsageValue(table->UsagesBegin(c0)) == 5);
  CHECK(table->String(table->UsageResource(table->UsagesBegin(c0) + 1)) == "memory");
  CHECK(table->UsagesEnd(c0 + 1) == table->UsagesBegin(c0 + 1));
  CHECK(table->Find("cpu") == table->UsageResource(table->UsagesBegin(c0)));
  CHECK(table->Find("app") == table->ContainerName(c0));
  CHECK(table->ContainerName(table->ContainersBegin(1)) == table->ContainerName(c0));
  CHECK(table->Find("nothing") == PodMetricsTable::kNone);
  CHECK(table->Find("") == PodMetricsTable::kNone);
  CHECK(table->string_count() == 6);  // ns, other, app, side, cpu, memory
  // FromPodMetrics builds the same table from the structs.
  auto items = table->ToPodMetrics();
  auto again = PodMetricsTable::FromPodMetrics(items);
  REQUIRE(again.ok());
  CHECK(ShowAll(again->ToPodMetrics()) == ShowAll(items));
  CHECK(again->label_set_count() == 1);
  CHECK(again->string_count() == table->string_count());
  auto empty = PodMetricsTable::FromPodMetrics({});
  REQUIRE(empty.ok());
  CHECK(empty->empty());
  CHECK(empty->Find("cpu") == PodMetricsTable::kNone);
}

TEST_CASE("PodMetricsTable: many distinct label sets are kept apart (issue 16)",
          "[metrics-types][pod-metrics-table]") {
  // 2,000 distinct sets, each item's set read back as it was given.
  std::vector<PodMetrics> items;
  for (int i = 0; i < 2000; i++) {
    PodMetrics pm;
    pm.name = "p" + std::to_string(i);
    pm.ns = "ns";
    pm.labels = {{"app", "a" + std::to_string(i % 700)}, {"k", std::to_string(i % 3)}};
    items.push_back(pm);
  }
  auto table = PodMetricsTable::FromPodMetrics(items);
  REQUIRE(table.ok());
  CHECK(table->label_set_count() == 2000);  // (i % 700, i % 3) repeats only after 2100 items
  for (uint32_t i = 0; i < items.size(); i++) CHECK(table->LabelsOf(i) == items[i].labels);
  CHECK(ShowAll(table->ToPodMetrics()) == ShowAll(items));
}

TEST_CASE("the quantity shortcut of the stream decoders equals Quantity::Parse (issue 16)",
          "[metrics-types][metrics-stream]") {
  std::mt19937 rng(7);
  auto pick = [&](size_t n) { return std::uniform_int_distribution<size_t>(0, n - 1)(rng); };
  const std::vector<std::string> suffixes = {"", "n", "u", "m", "k", "M", "G", "T", "Ki", "Mi", "Gi", "Ti", "K",
                                             "i", "e3", "mm", " ", ".5", "Kib", "E"};
  int fast = 0;
  for (int i = 0; i < 20000; i++) {
    std::string digits;
    const size_t len = 1 + pick(20);
    for (size_t d = 0; d < len; d++) digits += static_cast<char>('0' + pick(10));
    if (pick(4) == 0) digits = std::to_string(pick(2000));  // short ones, "0" included
    const std::string text = digits + suffixes[pick(suffixes.size())];
    INFO("quantity: " << text);
    int64_t milli = 0;
    if (!json_stream::FastMilli(text, &milli)) continue;
    fast++;
    auto q = Quantity::Parse(text);
    REQUIRE(q.ok());
    CHECK(q->MilliValue() == milli);
  }
  CHECK(fast > 5000);  // the shortcut is taken for the common forms
  for (const char* common : {"250m", "1234567n", "52428Ki", "3", "0", "1Gi", "999999999999999999n", "15u"}) {
    int64_t milli = 0;
    INFO(common);
    REQUIRE(json_stream::FastMilli(common, &milli));
    CHECK(Quantity::Parse(common)->MilliValue() == milli);
  }
  for (const char* other : {"", "-1", "+1", "01", "1.5", "1e3", "m", "Ki", "1K", "9223372036854775807", "1Ti"}) {
    int64_t milli = 0;
    INFO(other);
    CHECK_FALSE(json_stream::FastMilli(other, &milli));
  }
}
