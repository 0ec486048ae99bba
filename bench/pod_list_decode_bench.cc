// pod_list_decode_bench: the CPU cost and allocations of decoding one PodList
// page the pod informer's old way against its new way (issue 16: the
// start-up list of 150,000 pods in pages of 500).
//
// The page: `--pods` pods (default 500, the reflector's page size) shaped
// like scale_bench's (bench/scale_bench.cc PodJson: labels app and
// pod-template-hash, an annotation, an ownerReference, one container with
// cpu/memory requests and limits and a port, four conditions, a container
// status), in one namespace per 10 pods. Decoded
//   - DOM:    ParseForeignJson of the page, then PodFromJson per item with a
//             PodInterner (what ApiClient::List + the informer's TypedList did);
//   - stream: PodListPageFromText with a PodInterner (what the pod informer
//             does now through ApiClient::ListRaw).
// Both keep the page's pods until the round ends (as a list keeps them until
// Apply). Printed: microseconds per pod, heap allocations per pod (counted
// by this binary's operator new), and the speed-up.
//
// --stream-only times the streamed path alone (for a profiler).
// Single-threaded; the wall clock (steady_clock) is read only to time the
// loops. A benchmark, not a test: it prints numbers and exits 0 unless its
// own arguments are bad or a decoder fails on its own input.
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <new>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "k8sclient/api/json_parse.h"
#include "k8sclient/api/types/pod.h"

namespace {
std::atomic<uint64_t> g_allocations{0};
}  // namespace

// Counting allocator: every heap allocation of the process goes through here.
// (gcc 12 takes the free() of a replaced operator delete for a mismatch.)
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#endif
void* operator new(std::size_t n) {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(n ? n : 1)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }

namespace {

using namespace hpad;
using nlohmann::json;
using Clock = std::chrono::steady_clock;

std::string Pad(int v, int width) {
  std::string s = std::to_string(v);
  return std::string(width > static_cast<int>(s.size()) ? width - s.size() : 0, '0') + s;
}

// scale_bench's PodJson, for pod `index` of workload index / 10.
json PodJson(int index) {
  const std::string ns = "ns-" + std::to_string(index / 10);
  const std::string name = "app-" + std::to_string(index / 10);
  const std::string pod = name + "-5d9c7b8f6-" + Pad(index, 5);
  const std::string started = "2026-01-01T00:00:00Z", ready_at = "2026-01-01T00:00:05Z";
  json labels = {{"app", name}, {"pod-template-hash", "5d9c7b8f6"}};
  json requests = {{"cpu", "200m"}, {"memory", "256Mi"}};
  json cond = json::array();
  for (const char* type : {"Initialized", "Ready", "ContainersReady", "PodScheduled"})
    cond.push_back({{"type", type}, {"status", "True"},
                    {"lastTransitionTime", std::string(type) == "PodScheduled" ? started : ready_at}});
  return json{
      {"apiVersion", "v1"},
      {"kind", "Pod"},
      {"metadata",
       {{"namespace", ns},
        {"name", pod},
        {"resourceVersion", std::to_string(1000 + index)},
        {"uid", "00000000-0000-4000-9000-" + Pad(index, 12)},
        {"creationTimestamp", started},
        {"labels", labels},
        {"annotations", {{"kubectl.kubernetes.io/restartedAt", started}}},
        {"ownerReferences",
         json::array({{{"apiVersion", "apps/v1"},
                       {"kind", "ReplicaSet"},
                       {"name", name + "-5d9c7b8f6"},
                       {"uid", "00000000-0000-4000-8000-" + Pad(index, 12)},
                       {"controller", true},
                       {"blockOwnerDeletion", true}}})}}},
      {"spec",
       {{"nodeName", "node-" + std::to_string(index % 50)},
        {"restartPolicy", "Always"},
        {"containers",
         json::array({{{"name", "app"},
                       {"image", "registry.example/app:1"},
                       {"ports", json::array({{{"containerPort", 8080}, {"protocol", "TCP"}}})},
                       {"resources", {{"requests", requests}, {"limits", requests}}}}})}}},
      {"status",
       {{"phase", "Running"},
        {"startTime", started},
        {"hostIP", "10.0.0." + std::to_string(index % 50)},
        {"podIP", "10.1." + std::to_string((index / 250) % 250) + "." + std::to_string(index % 250)},
        {"conditions", cond},
        {"containerStatuses",
         json::array({{{"name", "app"},
                       {"ready", true},
                       {"started", true},
                       {"restartCount", 0},
                       {"image", "registry.example/app:1"},
                       {"state", {{"running", {{"startedAt", started}}}}}}})}}}};
}

std::string PageText(int pods) {
  json items = json::array();
  for (int i = 0; i < pods; ++i) items.push_back(PodJson(i));
  return json{{"kind", "PodList"},
              {"apiVersion", "v1"},
              {"metadata", {{"resourceVersion", "123456"}, {"continue", "eyJ2IjoibWV0YS5rOHMuaW8vdjEifQ"}}},
              {"items", items}}
      .dump();
}

struct Cost {
  double us_per_pod;
  double allocs_per_pod;
};

template <typename F>
Cost Measure(int rounds, int pods, F fn) {
  const uint64_t a0 = g_allocations.load();
  const auto start = Clock::now();
  for (int r = 0; r < rounds; ++r) fn();
  const double ns = std::chrono::duration<double, std::nano>(Clock::now() - start).count();
  const double allocs = static_cast<double>(g_allocations.load() - a0);
  return {ns / rounds / pods / 1000, allocs / rounds / pods};
}

}  // namespace

int main(int argc, char** argv) {
  int pods = 500;
  int rounds = 40;
  bool stream_only = false;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--quick") == 0) {
      pods = 50;
      rounds = 3;
    } else if (std::strcmp(argv[i], "--pods") == 0 && i + 1 < argc) {
      pods = std::atoi(argv[++i]);
    } else if (std::strcmp(argv[i], "--rounds") == 0 && i + 1 < argc) {
      rounds = std::atoi(argv[++i]);
    } else if (std::strcmp(argv[i], "--stream-only") == 0) {
      stream_only = true;
    } else {
      std::fprintf(stderr, "usage: pod_list_decode_bench [--quick] [--pods N] [--rounds N] [--stream-only]\n");
      return 2;
    }
  }
  if (pods <= 0 || rounds <= 0) {
    std::fprintf(stderr, "pod_list_decode_bench: --pods and --rounds must be positive\n");
    return 2;
  }
  const std::string text = PageText(pods);
  k8s::PodInterner interner;
  bool failed = false;
  size_t decoded = 0;
  auto dom = [&] {
    auto page = k8s::ParseForeignJson(text, "bench");
    if (!page.ok()) {
      failed = true;
      return;
    }
    std::vector<k8s::Pod> out;
    auto& items = (*page)["items"];
    out.reserve(items.size());
    for (auto& item : items) {
      auto p = k8s::PodFromJson(item, &interner);
      if (!p.ok()) {
        failed = true;
        continue;
      }
      out.push_back(std::move(p).value());
      item = json();  // as TypedList: each item's JSON released once converted
    }
    decoded += out.size();
  };
  auto stream = [&] {
    k8s::PodListPage page;
    if (!k8s::PodListPageFromText(text, "bench", &interner, &page).ok() || !page.skipped.empty()) failed = true;
    decoded += page.items.size();
  };
  if (stream_only) {
    const Cost s = Measure(rounds, pods, stream);
    std::printf("stream: %.3f us/pod, %.1f allocs/pod\n", s.us_per_pod, s.allocs_per_pod);
    return failed || decoded == 0 ? 1 : 0;
  }
  dom(), stream();  // warm-up (and the interner's entries)
  const Cost d = Measure(rounds, pods, dom);
  const Cost s = Measure(rounds, pods, stream);
  std::printf("pod_list_decode_bench: %d pods per page (%zu bytes, %.0f bytes/pod), %d rounds\n", pods, text.size(),
              static_cast<double>(text.size()) / pods, rounds);
  std::printf("%-8s %10s %12s\n", "path", "us/pod", "allocs/pod");
  std::printf("%-8s %10.3f %12.1f\n", "DOM", d.us_per_pod, d.allocs_per_pod);
  std::printf("%-8s %10.3f %12.1f\n", "stream", s.us_per_pod, s.allocs_per_pod);
  std::printf("speed-up %.2fx, allocations %.2fx fewer\n", d.us_per_pod / s.us_per_pod,
              d.allocs_per_pod / s.allocs_per_pod);
  if (failed || decoded == 0) {
    std::fprintf(stderr, "pod_list_decode_bench: a decoder failed on the bench page\n");
    return 1;
  }
  return 0;
}
