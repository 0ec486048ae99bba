#include "k8sclient/cancel_scope.h"

#include <utility>
#include <vector>

namespace hpad::k8s {

namespace {
thread_local std::optional<MonoTime> tls_request_deadline;
}  // namespace

void CancelScope::Cancel() {
  std::lock_guard<std::mutex> run(run_mu_);
  std::map<uint64_t, std::function<void()>> callbacks;
  {
    std::lock_guard<std::mutex> l(mu_);
    if (cancelled_) return;
    cancelled_ = true;
    callbacks.swap(callbacks_);
  }
  for (auto& [id, fn] : callbacks) {
    try {
      fn();
    } catch (...) {
      // A callback only aborts a request; its failure must not stop the rest.
    }
  }
}

bool CancelScope::cancelled() const {
  std::lock_guard<std::mutex> l(mu_);
  return cancelled_;
}

uint64_t CancelScope::OnCancel(std::function<void()> on_cancel) {
  {
    std::lock_guard<std::mutex> l(mu_);
    if (!cancelled_) {
      uint64_t id = next_++;
      callbacks_.emplace(id, std::move(on_cancel));
      return id;
    }
  }
  try {
    on_cancel();
  } catch (...) {
  }
  return 0;
}

void CancelScope::Remove(uint64_t handle) {
  if (handle == 0) return;
  {
    std::lock_guard<std::mutex> l(mu_);
    if (callbacks_.erase(handle) > 0) return;
  }
  // Taken by Cancel(): wait until it has finished running callbacks.
  std::lock_guard<std::mutex> run(run_mu_);
}

RequestDeadlineScope::RequestDeadlineScope(MonoTime deadline) : previous_(tls_request_deadline) {
  if (!tls_request_deadline || deadline < *tls_request_deadline) tls_request_deadline = deadline;
}

RequestDeadlineScope::~RequestDeadlineScope() { tls_request_deadline = previous_; }

std::optional<MonoTime> CurrentRequestDeadline() { return tls_request_deadline; }

}  // namespace hpad::k8s
