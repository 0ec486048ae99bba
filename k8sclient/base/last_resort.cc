// The last-resort error counter (see last_resort.h).
#include "k8sclient/base/last_resort.h"

#include <mutex>

#include "k8sclient/base/klog.h"
#include "k8sclient/base/text.h"

namespace hpad::k8s {
namespace {

struct UnexpectedErrors {
  std::mutex mu;
  std::map<std::string, uint64_t, std::less<>> counts;  // guarded by mu
};

UnexpectedErrors& State() {
  static UnexpectedErrors* state = new UnexpectedErrors();  // never destroyed: loops may run during exit
  return *state;
}

}  // namespace

void RecordUnexpectedError(std::string_view loop, std::string_view what) {
  std::string loop_name = SafeText(loop, kMaxLoopNameBytes);
  if (loop_name.empty()) loop_name = "unnamed";
  HPAD_LOG(Error) << "unexpected error in loop " << loop_name << ": "
                  << SafeText(what, kMaxUnexpectedErrorTextBytes);
  auto& st = State();
  std::lock_guard<std::mutex> l(st.mu);
  auto it = st.counts.find(loop_name);
  if (it == st.counts.end()) {
    if (st.counts.size() >= kMaxUnexpectedErrorLoops) loop_name = "other";
    it = st.counts.try_emplace(std::move(loop_name), 0).first;
  }
  if (it->second != UINT64_MAX) ++it->second;
}

std::map<std::string, uint64_t> UnexpectedErrorCounts() {
  auto& st = State();
  std::lock_guard<std::mutex> l(st.mu);
  return {st.counts.begin(), st.counts.end()};
}

uint64_t UnexpectedErrorCount(std::string_view loop) {
  auto& st = State();
  std::lock_guard<std::mutex> l(st.mu);
  auto it = st.counts.find(loop);
  return it == st.counts.end() ? 0 : it->second;
}

}  // namespace hpad::k8s
