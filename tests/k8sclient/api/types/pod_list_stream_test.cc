// The streaming PodList page decoder against the pod informer's DOM path
// (issue 16): for each page text, PodListPageFromDom (pod_list_reference.h:
// ParseForeignJson, ListAll's metadata and items, PodFromJson per item,
// StoreKeyOf for skipped ones) is the reference, and PodListPageFromText
// must give the same page - every Pod field, the same shared label sets and
// requests from one interner, the same skipped items (key and error text),
// resourceVersion and continue - or the same text-level error. Inputs:
// hand-written pages for each rule the streaming decoder mirrors, then
// seeded random pages (odd types and nulls at every field, duplicate keys,
// unknown fields) and mutations of them (cut, corrupted bytes, bad UTF-8,
// deep nesting).
#include <catch2/catch.hpp>

#include <algorithm>
#include <functional>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "k8sclient/api/json_parse.h"
#include "k8sclient/api/types/pod.h"
#include "tests/k8sclient/api/types/pod_list_reference.h"

using namespace hpad;
using namespace hpad::k8s;
using hpad::k8s::testing::PodListPageFromDom;
using hpad::k8s::testing::SameSharedParts;
using hpad::k8s::testing::ShowPage;

namespace {

// Decodes `text` both ways through one interner; returns the DOM's page
// shown, after checking the streamed one equals it.
std::string ExpectSame(const std::string& text) {
  PodInterner interner;
  PodListPage dom, stream;
  bool dom_text = false, stream_text = false;
  Status ds = PodListPageFromDom(text, "LIST pods reply", &interner, &dom, &dom_text);
  Status ss = PodListPageFromText(text, "LIST pods reply", &interner, &stream, &stream_text);
  INFO("text: " << text.substr(0, 3000));
  CHECK(ShowPage(ss, stream) == ShowPage(ds, dom));
  CHECK(stream_text == dom_text);
  CHECK(SameSharedParts(stream, dom));
  // Without an interner each pod owns its parts; the values are the same.
  PodListPage dom2, stream2;
  Status ds2 = PodListPageFromDom(text, "LIST pods reply", nullptr, &dom2);
  Status ss2 = PodListPageFromText(text, "LIST pods reply", nullptr, &stream2);
  CHECK(ShowPage(ss2, stream2) == ShowPage(ds2, dom2));
  return ShowPage(ds, dom);
}

std::string Page(const std::string& items, const std::string& meta = R"({"resourceVersion":"42"})") {
  return R"({"kind":"PodList","apiVersion":"v1","metadata":)" + meta + R"(,"items":[)" + items + "]}";
}

// ---- random pages, written as text (duplicate keys cannot be built in a DOM)
class Gen {
 public:
  explicit Gen(uint64_t seed, int odd_percent) : rng_(seed), odd_(odd_percent) {}

  bool Chance(int percent) { return std::uniform_int_distribution<int>(0, 99)(rng_) < percent; }
  size_t Below(size_t n) { return std::uniform_int_distribution<size_t>(0, n - 1)(rng_); }
  template <typename T>
  const T& Pick(const std::vector<T>& v) {
    return v[Below(v.size())];
  }

  // A value of any JSON type, for a field expecting something else.
  std::string Odd() {
    static const std::vector<std::string> kOdd = {
        "null", "true", "false", "0", "-7", "3.0", "1.5", "1e300", "18446744073709551615", "-9223372036854775808",
        R"("")", R"("text")", R"("500m")", R"("Always")", R"("Ready")", R"("2026-01-01T00:00:00Z")", "[]",
        R"([1,"a",null])", "{}", R"({"a":1})", R"({"cpu":"1"})", R"("\u00e9\ud83d\ude00")", R"("x\"y\\z")"};
    return Pick(kOdd);
  }
  // `normal` most of the time, else an odd value.
  std::string V(const std::string& normal) { return Chance(odd_) ? Odd() : normal; }
  std::string S(const std::string& s) { return "\"" + s + "\""; }

  // An object from members: some left out, some repeated with another
  // value before or after, unknown ones added, order shuffled at times.
  std::string Obj(std::vector<std::pair<std::string, std::string>> members) {
    std::vector<std::pair<std::string, std::string>> out;
    for (auto& m : members) {
      if (Chance(8)) continue;
      if (Chance(5)) out.emplace_back(m.first, Odd());  // an earlier duplicate, overridden
      out.push_back(m);
      if (Chance(4)) out.emplace_back(m.first, Odd());  // a later duplicate, which wins
    }
    if (Chance(20)) out.emplace_back("unknown" + std::to_string(Below(3)), Chance(50) ? Odd() : R"({"deep":[{"x":1}]})");
    if (Chance(15)) std::shuffle(out.begin(), out.end(), rng_);
    std::string s = "{";
    for (size_t i = 0; i < out.size(); ++i) s += (i ? "," : "") + S(out[i].first) + ":" + out[i].second;
    return s + "}";
  }
  std::string List(size_t max, const std::function<std::string()>& element) {
    std::string s = "[";
    const size_t n = Below(max + 1);
    for (size_t i = 0; i < n; ++i) s += (i ? "," : "") + (Chance(odd_ / 2) ? Odd() : element());
    return s + "]";
  }

  std::string Time() {
    static const std::vector<std::string> kTimes = {
        R"("2026-01-01T00:00:00Z")", R"("2026-03-04T05:06:07.123456Z")", R"("2026-01-01T00:00:00+02:00")",
        R"("garbage")", R"("")", R"("2026-13-01T00:00:00Z")"};
    return V(Chance(80) ? kTimes[Below(2)] : Pick(kTimes));
  }
  std::string Quantity() {
    static const std::vector<std::string> kQ = {R"("100m")", R"("1Gi")", R"("250m")", R"("2")", "0.5", "2",
                                                R"(" 100m ")", R"("1e3")", R"("bad")", R"("-1")",
                                                R"("9999999999999999999")", "null", "1e400"};
    return V(Chance(80) ? kQ[Below(3)] : Pick(kQ));
  }
  std::string QuantityMap() {
    std::vector<std::pair<std::string, std::string>> m;
    for (const char* r : {"cpu", "memory", "ephemeral-storage", "nvidia.com/gpu"})
      if (Chance(60)) m.emplace_back(r, Quantity());
    return V(Obj(m));
  }
  std::string Container(int i, bool init) {
    std::vector<std::pair<std::string, std::string>> m = {
        {"name", V(S((init ? "init-" : "c-") + std::to_string(i)))},
        {"image", S("registry/app:1")},
        {"resources", V(Obj({{"requests", QuantityMap()}, {"limits", QuantityMap()}}))}};
    if (Chance(60)) m.emplace_back("restartPolicy", V(S(Chance(70) ? "Always" : "OnFailure")));
    return Obj(m);
  }
  std::string Condition() {
    static const std::vector<std::string> kTypes = {"Ready", "Ready", "PodScheduled", "ContainersReady",
                                                    "Initialized"};
    return Obj({{"type", V(S(Pick(kTypes)))},
                {"status", V(S(Chance(70) ? "True" : Chance(50) ? "False" : "Unknown"))},
                {"lastTransitionTime", Time()},
                {"reason", S("r")}});
  }
  std::string Labels(int i) {
    std::vector<std::pair<std::string, std::string>> m = {{"app", V(S("web-" + std::to_string(i % 4)))},
                                                          {"pod-template-hash", V(S("7d9f8b6c5"))}};
    if (Chance(40)) m.emplace_back("tier", V(S("frontend")));
    if (Chance(5)) m.emplace_back("empty", S(""));
    return V(Obj(m));
  }
  std::string Pod(int i) {
    static const std::vector<std::string> kPhases = {"Running", "Pending", "Succeeded", "Failed", "Unknown"};
    std::vector<std::pair<std::string, std::string>> meta = {
        {"name", V(S("pod-" + std::to_string(i)))},
        {"namespace", V(S("ns-" + std::to_string(i % 3)))},
        {"uid", S("uid-" + std::to_string(i))},
        {"resourceVersion", S(std::to_string(1000 + i))},
        {"labels", Labels(i)}};
    if (Chance(15)) meta.emplace_back("deletionTimestamp", Time());
    std::vector<std::pair<std::string, std::string>> spec = {
        {"containers", V(List(3, [&] { return Container(static_cast<int>(Below(3)), false); }))},
        {"nodeName", S("node-1")}};
    if (Chance(40)) spec.emplace_back("initContainers", V(List(2, [&] { return Container(static_cast<int>(Below(2)), true); })));
    if (Chance(20)) spec.emplace_back("resources", V(Obj({{"requests", QuantityMap()}, {"limits", QuantityMap()}})));
    if (Chance(20)) spec.emplace_back("overhead", QuantityMap());
    std::vector<std::pair<std::string, std::string>> status = {
        {"phase", V(S(Pick(kPhases)))},
        {"startTime", Time()},
        {"conditions", V(List(4, [&] { return Condition(); }))},
        {"podIP", S("10.0.0.1")}};
    return V(Obj({{"apiVersion", S("v1")},
                  {"kind", S("Pod")},
                  {"metadata", V(Obj(meta))},
                  {"spec", V(Obj(spec))},
                  {"status", V(Obj(status))}}));
  }
  std::string PageText() {
    std::vector<std::pair<std::string, std::string>> meta = {{"resourceVersion", V(S(std::to_string(Below(100000))))}};
    if (Chance(50)) meta.emplace_back("continue", V(S("token-" + std::to_string(Below(9)))));
    if (Chance(30)) meta.emplace_back("remainingItemCount", std::to_string(Below(500)));
    std::string items = "[";
    const size_t n = Below(8);
    for (size_t i = 0; i < n; ++i) items += (i ? "," : "") + Pod(static_cast<int>(i));
    items += "]";
    std::string page = Obj({{"kind", S("PodList")}, {"apiVersion", S("v1")}, {"metadata", V(Obj(meta))},
                            {"items", V(items)}});
    return Chance(3) ? Odd() : page;
  }
  // Text-level damage: cut, a byte changed, bad UTF-8, deep nesting.
  std::string Damage(std::string text) {
    switch (Below(5)) {
      case 0:
        return text.substr(0, Below(text.size() + 1));
      case 1:
        if (!text.empty()) text[Below(text.size())] = static_cast<char>(Below(256));
        return text;
      case 2: {
        size_t q = text.find('"', Below(text.size() + 1));
        if (q != std::string::npos) text.insert(q + 1, Chance(50) ? "\xff" : "\xc3(");
        return text;
      }
      case 3: {
        const size_t depth = Chance(50) ? 260 : 200;
        size_t at = text.find("\"status\":");
        std::string deep = std::string(depth, '[') + std::string(depth, ']');
        if (at == std::string::npos) return deep;
        return text.insert(at + 9, deep + ",\"x\":");  // may or may not stay valid JSON
      }
      default:
        return text + (Chance(50) ? " " : "x");
    }
  }

 private:
  std::mt19937_64 rng_;
  int odd_;
};

const char* kGoodPod = R"({"apiVersion":"v1","kind":"Pod",
  "metadata":{"name":"web-1","namespace":"team","uid":"u1","labels":{"app":"web","tier":"fe"},"annotations":{"a":"b"}},
  "spec":{"containers":[{"name":"app","image":"x","resources":{"requests":{"cpu":"250m","memory":"64Mi"},"limits":{"cpu":"1"}}},
                        {"name":"proxy","resources":{"requests":{"cpu":"10m"}}}],
          "initContainers":[{"name":"sidecar","restartPolicy":"Always","resources":{"requests":{"cpu":"50m"}}},
                            {"name":"setup","resources":{"requests":{"cpu":"1"}}}],
          "resources":{"requests":{"cpu":"2"}},"overhead":{"cpu":"5m","memory":"1Mi"}},
  "status":{"phase":"Running","startTime":"2026-01-01T00:00:00Z",
            "conditions":[{"type":"PodScheduled","status":"True"},
                          {"type":"Ready","status":"True","lastTransitionTime":"2026-01-01T00:00:05Z"},
                          {"type":"Ready","status":"False"}]}})";

}  // namespace

TEST_CASE("streamed PodList page equals the DOM path on hand-made pages", "[pod-types][pod-stream]") {
  const std::string good = kGoodPod;
  SECTION("a full pod: labels, containers, sidecars, pod-level requests, overhead, Ready") {
    std::string shown = ExpectSame(Page(good + "," + good));
    CHECK(shown.find("ready=\"True\"") != std::string::npos);
    CHECK(shown.find("(sidecar Always cpu:50,)") != std::string::npos);
    CHECK(shown.find("overhead:cpu:5,memory:1048576000,") != std::string::npos);
    CHECK(shown.find("rv=42 continue=\n") == 0);
  }
  SECTION("the interner shares parts between the paths") {
    PodInterner interner;
    PodListPage a, b;
    REQUIRE(PodListPageFromText(Page(good), "x", &interner, &a).ok());
    REQUIRE(PodListPageFromDom(Page(good), "x", &interner, &b).ok());
    REQUIRE(a.items.size() == 1);
    CHECK(a.items[0].shared_labels != nullptr);
    CHECK(a.items[0].shared_labels == b.items[0].shared_labels);
    CHECK(a.items[0].shared_requests == b.items[0].shared_requests);
  }
  SECTION("page metadata: continue, non-strings, not an object, duplicates") {
    ExpectSame(Page(good, R"({"resourceVersion":"7","continue":"abc"})"));
    ExpectSame(Page(good, R"({"resourceVersion":7,"continue":["abc"]})"));
    ExpectSame(Page(good, R"("meta")"));
    ExpectSame(Page(good, "null"));
    ExpectSame(Page(good, R"({"resourceVersion":"7","continue":"a","resourceVersion":null})"));
    ExpectSame(R"({"metadata":{"resourceVersion":"1","continue":"c"},"items":[],"metadata":5})");
    ExpectSame(R"({"items":[],"metadata":{"continue":"c"},"metadata":{"resourceVersion":"2"}})");
  }
  SECTION("page shapes: not an object, items missing, not a list, null, repeated") {
    for (const char* t : {"[]", "null", "5", R"("s")", "{}", R"({"items":null})", R"({"items":{"a":1}})",
                          R"({"items":"x","metadata":{"resourceVersion":"3"}})", R"({"items":[1,null,"x",[],{}]})"})
      ExpectSame(t);
    ExpectSame(R"({"items":[)" + good + R"(],"items":[{"metadata":{"name":"b","namespace":"n"},"spec":5}]})");
    ExpectSame(R"({"items":[)" + good + R"(],"items":7})");
    ExpectSame(R"([)" + good + "]");
  }
  SECTION("skipped pods: key and error in PodFromJson's order") {
    const std::vector<std::string> pods = {
        R"({"metadata":{"name":"a","namespace":"n","labels":{"z":1,"b":null}},"status":{"phase":5}})",
        R"({"metadata":{"name":"a","namespace":"n","labels":[]},"spec":{"containers":5}})",
        R"({"metadata":{"namespace":"n","name":7},"status":5})",
        R"({"metadata":{"namespace":5,"name":"x"},"spec":{"overhead":{"cpu":"x","a":"1"}}})",
        R"({"status":{"conditions":[{"type":"Ready","status":"True","lastTransitionTime":"bad"}]},"metadata":{"name":"q"}})",
        R"({"status":{"conditions":[{"type":"Other","status":5},{"type":7}]}})",
        R"({"status":{"conditions":[{"type":"Ready","status":"False"},{"type":7},null]}})",
        R"({"status":{"conditions":[null,{"type":"Ready"}]}})",
        R"({"status":{"conditions":[{"type":"Ready","status":"True"}],"conditions":{}}})",
        R"({"spec":{"containers":[{"name":"a"},5,{"name":7}]}})",
        R"({"spec":{"containers":[{"name":"a","resources":{"requests":{"memory":"x","cpu":"y"}}},{"name":7}]}})",
        R"({"spec":{"initContainers":[{"name":"a","restartPolicy":5,"resources":5}]}})",
        R"({"spec":{"containers":[{"name":"a","resources":{"requests":5}}]}})",
        R"({"spec":{"resources":{"requests":{"cpu":null,"memory":"1Gi"},"limits":5}}})",
        R"({"spec":{"resources":[]}})",
        R"({"spec":{"resources":{"requests":{"cpu":"1"},"requests":{"cpu":"x"}}}})",
        R"({"spec":{"resources":{"requests":{"cpu":"x"},"requests":{"cpu":"1"}}}})",
        R"({"metadata":{"deletionTimestamp":"2026-01-01"},"spec":"x"})",
        R"({"metadata":{"deletionTimestamp":5}})",
        R"({"metadata":{"name":"a","name":5}})",
        R"({"metadata":{"name":5,"name":"a"},"status":{"startTime":[]}})",
        R"({"metadata":"m"})",
        R"({"metadata":{"name":"a"},"metadata":{"namespace":"b"},"spec":{"containers":[{"name":1}]}})",
        R"({"spec":{"containers":[{"name":"a","name":null,"restartPolicy":"Always","restartPolicy":null}]}})",
        R"({"metadata":{"labels":{"a":"1","a":2}}})",
        R"({"metadata":{"labels":{"a":2,"a":"1"}},"spec":{"overhead":{"cpu":1.5,"memory":1e400}}})",
        R"({"spec":{"overhead":{"cpu":1e300}}})",
        R"({"spec":{"overhead":{"cpu":-3,"memory":18446744073709551615}}})",
        R"({"spec":null,"status":null,"metadata":null})",
        R"({"metadata":{"labels":{"a":"\u00e9"}},"status":{"phase":"\ud83d\ude00"}})",
    };
    for (const auto& p : pods) ExpectSame(Page(p + "," + good));
    std::string shown = ExpectSame(Page(pods[0]));
    // Labels come first in PodFromJson's order, "b" before "z".
    CHECK(shown.find("skipped n/a: ") != std::string::npos);
    CHECK(shown.find("metadata.labels.b: expected a string, got null") != std::string::npos);
  }
  SECTION("text errors: syntax at the same byte, bad UTF-8, deep nesting, size") {
    ExpectSame(Page(good).substr(0, 300));
    ExpectSame(Page(good) + "}");
    ExpectSame("");
    ExpectSame(R"({"items":[{"metadata":{"name":"a)" "\xff" R"("}}]})");
    ExpectSame(R"({"items":[{"x":)" + std::string(300, '[') + std::string(300, ']') + "}]}");
    ExpectSame(R"({"items":[{"x":)" + std::string(250, '[') + std::string(250, ']') + "}]}");
    PodListPage page;
    bool text_error = false;
    Status s = PodListPageFromText(Page(good), "LIST x reply", nullptr, &page, &text_error, 100);
    auto dom = ParseForeignJson(Page(good), "LIST x reply", 100);
    CHECK(text_error);
    CHECK(s.ToString() == dom.status().ToString());
    CHECK(page.items.empty());
  }
}

TEST_CASE("streamed PodList pages equal the DOM path on random and damaged pages", "[pod-types][pod-stream]") {
  int checked = 0, with_pods = 0, with_skipped = 0, text_errors = 0;
  for (uint64_t seed = 1; seed <= 1500; ++seed) {
    Gen g(seed, seed % 3 == 0 ? 2 : seed % 3 == 1 ? 10 : 25);
    std::string text = g.PageText();
    if (seed % 7 == 0) text = g.Damage(std::move(text));
    INFO("seed " << seed);
    PodListPage dom;
    bool text_error = false;
    (void)PodListPageFromDom(text, "w", nullptr, &dom, &text_error);
    with_pods += !dom.items.empty();
    with_skipped += !dom.skipped.empty();
    text_errors += text_error;
    ExpectSame(text);
    ++checked;
  }
  // The generator reaches every kind of outcome.
  CHECK(checked == 1500);
  CHECK(with_pods > 200);
  CHECK(with_skipped > 300);
  CHECK(text_errors > 50);
}
