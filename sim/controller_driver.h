// ControllerDriver: the scenario runner's way to drive the real controller on
// virtual time (scenario-format.md "Running"). It builds the controller with
// ctrl::ControllerWiring (work queue off: informer events queue nothing) and
// calls its public per-key reconcile at the instants the runner chooses:
//   SyncAllNow():  relist HPAs and pods, empty the metrics cache, reconcile
//                  every known HPA and every HPA deleted since the last pass
//                  (so its history is dropped, R1), in sorted key order for
//                  determinism, then flush the events;
//   SyncKeysNow(): the same for `keys` only (HPAs just created or whose spec
//                  changed, Q3/Q4), so every other HPA keeps its periodic
//                  schedule;
//   Shutdown():    as on SIGTERM: writes every history, windows included
//                  (issue 13, --persist-history), once; the destructor does
//                  it if Shutdown() was not called.
// Start() reads the persisted histories after the first list, before the
// first reconcile, as the daemon does; so a restart (scenario
// `restartController: true`: Shutdown(), destroy, new driver, Start())
// keeps what the old controller stored in the cluster.
//
// Ownership: owns the wiring; borrows the Monitor and Clock (must outlive
// it) and shares the ApiClient. Not thread-safe: one thread drives it;
// deleted_mu_ guards deleted_keys_ against the informer's handler.
#pragma once

#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "controller/wiring.h"

namespace hpad::sim {

class ControllerDriver {
 public:
  ControllerDriver(ctrl::ControllerOptions options, std::shared_ptr<k8s::ApiClient> client, ctrl::Monitor& monitor,
                   const Clock& clock);
  ~ControllerDriver();
  ControllerDriver(const ControllerDriver&) = delete;
  ControllerDriver& operator=(const ControllerDriver&) = delete;

  // Lists HPAs and pods once.
  Status Start();
  Status SyncAllNow();
  // `with_deleted`: also the HPAs deleted since the last pass (a periodic
  // pass of HPAs with their own hpad.io/sync-period, issue 13).
  Status SyncKeysNow(const std::vector<std::string>& keys, bool with_deleted = false);
  void SetObserver(ctrl::ReconcileObserver observer);
  // The graceful stop's writes (no-op when persistence is off or already
  // shut down). The driver must not be synced afterwards.
  Status Shutdown();

 private:
  Status SyncNow(const std::vector<std::string>* only, bool with_deleted);

  const Clock& clock_;
  bool shut_down_ = false;
  std::mutex deleted_mu_;
  std::set<std::string> deleted_keys_;  // guarded by deleted_mu_
  ctrl::ControllerWiring wiring_;       // last: its informer handlers use deleted_keys_
};

}  // namespace hpad::sim
