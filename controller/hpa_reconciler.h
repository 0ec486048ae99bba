// HpaReconciler: one pass of the HPA controller for one HPA key
// (hpa-semantics.md R1-R14) and the per-HPA history (H1/H2). Reconcile reads
// top to bottom as upstream's reconcileAutoscaler does:
//   read   the HPA (informer store), its scale (ScaleClient) and pods;
//   fetch  one MetricResult per metric (MetricsClient + the pure calculator);
//   decide DecideScale (controller/core/decide_scale.h): desired count,
//          reason, conditions and events as values;
//   write  the scale, then the status (`status` subresource of
//          autoscaling/v2) and the events (k8s::EventRecorder).
// Every write failure is logged, counted in the report and the Monitor, and
// fails the reconcile with upstream's error text.
//
// Ownership: every collaborator is borrowed and must outlive the reconciler
// (the wiring owns them). The reconciler owns the histories.
// Thread-safety: Reconcile may run concurrently for different keys (the work
// queue guarantees one worker per key, Q1); history_mu_ guards history_ (the
// map, and an entry's contents: only its key's worker changes an entry, under
// history_mu_, since the history flusher copies entries from another
// thread; the worker reads its own entry without it), the selector registry
// is internally locked. The observer and the Monitor are called on the
// reconciling thread.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <shared_mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "controller/annotations.h"
#include "controller/core/decide_scale.h"
#include "controller/core/pause.h"
#include "controller/feature_gates.h"
#include "controller/history_store.h"
#include "controller/metrics_client.h"
#include "controller/monitor.h"
#include "controller/core/normalization.h"
#include "controller/core/replica_calculator.h"
#include "controller/core/selector_registry.h"
#include "controller/scale_client.h"
#include "controller/trace_keeper.h"
#include "k8sclient/api_client.h"
#include "k8sclient/base/clock.h"
#include "k8sclient/event_recorder.h"
#include "k8sclient/api/label_selector.h"
#include "k8sclient/object_store.h"
#include "k8sclient/api/types/hpa.h"
#include "k8sclient/api/types/pod.h"

namespace hpad::ctrl {

// The involvedObject of the reconciler's events.
k8s::EventObjectRef EventRefFor(const k8s::Hpa& hpa);

struct ReconcilerOptions {
  double tolerance = 0.1;  // --horizontal-pod-autoscaler-tolerance
  ReadinessTuning readiness;
  Duration downscale_stabilization = std::chrono::minutes(5);
  // Feature gates (13.3); defaults from the one gate table (feature_gates.h).
  bool configurable_tolerance = GateDefault(Gate::kHPAConfigurableTolerance);
  bool scale_to_zero = GateDefault(Gate::kHPAScaleToZero);
  bool generation = GateDefault(Gate::kHPAGeneration);
  bool optimized_selector_store = GateDefault(Gate::kHPAOptimizedSelectorStore);
  bool pod_level_resources = GateDefault(Gate::kPodLevelResources);
  // Issue 12: keep the last DecisionTrace of every HPA (TraceFor/Traces).
  bool keep_traces = false;
  // Issue 16: of those, how many of the most recent keep their pod tables
  // (besides failed and asked-about HPAs; see trace_keeper.h).
  size_t trace_pod_tables = TraceKeeper::kDefaultRecentPodTables;
  // Issue 12 shadow mode / `hpad explain`: decide as usual but write
  // nothing - no scale, no status, no events. A rescale counts as done (the
  // history records it, B10) so the decisions follow the controller in charge.
  bool dry_run = false;

  DecideOptions Decide() const { return DecideOptions{scale_to_zero, downscale_stabilization}; }
};

// Per-metric observation for 15.3/15.4.
struct MetricObservation {
  std::string metric_type;  // spec type string
  ActionLabel action = ActionLabel::kNone;
  ErrorLabel error = ErrorLabel::kNone;
  Duration duration{};
};

// What one reconcile did, for logs, the scenario runner's timeline and tests
// (the Monitor gets the same labels).
struct ReconcileReport {
  std::string key;
  Time time{};
  bool deleted = false;           // R1: HPA gone
  bool reached_status = false;    // R13 reached (desired gauge, 15.5)
  std::vector<k8s::MetricSpec> metric_specs;
  std::vector<k8s::MetricStatus> metric_statuses;
  int32_t current_replicas = 0;
  int32_t desired_replicas = 0;
  std::string reason;       // rescale reason text (R8, R6 b/c), "" if none
  std::string error;        // "" when the reconcile succeeded
  ActionLabel action = ActionLabel::kNone;   // 15.1
  ErrorLabel error_label = ErrorLabel::kNone;
  // Status writes that failed on a path that already fails with another
  // error (R7, W2, T1-T5): upstream's utilruntime.HandleError.
  std::vector<std::string> write_errors;
  Duration duration{};
  std::vector<MetricObservation> metrics;
};
using ReconcileObserver = std::function<void(const ReconcileReport&)>;

struct ReconcileResult {
  bool deleted = false;  // no requeue (Q2 applies only to existing HPAs)
  Status error;          // R14, for logging and metrics only
};

class HpaReconciler {
 public:
  // Everything borrowed must outlive the reconciler. `clock` is only used to
  // measure durations; decisions use `now`.
  HpaReconciler(ReconcilerOptions options, const k8s::ObjectStore<k8s::Hpa>& hpas,
                const k8s::ObjectStore<k8s::Pod>& pods, MetricsClient& metrics, ScaleClient& scales,
                k8s::ApiClient& api, k8s::EventRecorder& events, SelectorRegistry& selectors, Monitor& monitor,
                const Clock& clock);

  ReconcileResult Reconcile(const std::string& key, Time now);

  void SetObserver(ReconcileObserver observer) { observer_ = std::move(observer); }
  // H1: for tests and introspection.
  bool HasHistory(const std::string& key) const;
  HpaHistory HistoryFor(const std::string& key) const;
  void DropHistory(const std::string& key);
  // Issue 13 (--persist-history, controller/history_store.h): histories read
  // back before the first reconcile; the keys whose history a rescale
  // changed or whose HPA is gone since the last call (the scale events to
  // write soon); every history (the windows, written at shutdown/hand-over).
  // Issue 15: `pending` (HistoryStore::Load) - scale writes a previous
  // leader wrote events ahead of without seeing their outcome - are settled
  // like this replica's own (HasUnconfirmedRescale) at each HPA's first reconcile.
  void RestoreHistories(std::map<std::string, HpaHistory> histories,
                        std::map<std::string, PendingScaleWrite> pending = {});
  std::set<std::string> TakeChangedHistories();
  std::map<std::string, HpaHistory> AllHistories() const;
  // Issue 15 (--persist-history): the write-ahead of a scale event. When set,
  // a rescale of an HPA with a behavior first hands the history with the
  // rescale's B10 event, and the write it stands for (`pending`), to
  // `writer` (HistoryStore::SaveOne) and writes the scale only once that
  // succeeded, so a successor that takes over after this replica died or
  // froze mid-rescale counts the event (B5/B6/B9), or removes it when its
  // fresh read shows the write was not applied. A failure blocks the
  // rescale (W2 path, retried next period) unless the store refused for a
  // reason retrying cannot fix (403/404/422): then the rescale goes ahead
  // without it, as with --persist-history=false, and the refusal is logged.
  // Set before the first Reconcile (not synchronised).
  using ScaleEventWriter =
      std::function<Status(const std::string& key, const HpaHistory& history, const PendingScaleWrite& pending)>;
  void SetScaleEventWriter(ScaleEventWriter writer) { scale_event_writer_ = std::move(writer); }
  // Issue 15: true while `key` has a rescale whose scale write failed in a
  // way that may still have been applied (ScaleWriteMayHaveApplied), or a
  // pending write restored from the store. Its B10 event is kept
  // (conservatively: rate limits count it) until the next reconcile reads
  // the scale fresh: still the count it was written over -> not applied, the
  // event is removed; any other count -> it stays.
  bool HasUnconfirmedRescale(const std::string& key) const;
  // Issue 12 (keep_traces): the last trace of `key`, null when none. Its
  // pod tables are bounded (issue 16, trace_keeper.h): a trace without them
  // has pod_tables_omitted set.
  std::shared_ptr<const DecisionTrace> TraceFor(const std::string& key) const;
  // Every kept trace, in key order, without pod tables and conditions (the
  // /debug/hpas listing: TraceSummary reads neither).
  std::vector<std::shared_ptr<const DecisionTrace>> Traces() const;
  // A person asked about `key` (/debug/hpas/<ns>/<name>): keep its pod
  // tables from its next reconcile on. A hint to the trace store only, so
  // callable on a const reconciler (the debug endpoint's view).
  void AskPodTables(const std::string& key) const { traces_.Ask(key); }

 private:
  // One reconcile's working state, in the order the stages fill it.
  struct Working {
    std::string key;
    Time now{};
    Time started{};
    // The informer's snapshot as read (R1), shared, never copied or changed:
    // its status is the original that W4 compares against.
    std::shared_ptr<const k8s::Hpa> hpa;
    k8s::HpaStatus status;             // the working status (R1's deep copy is of this part only); written by W3
    std::string reference;             // "<kind>/<ns>/<name>" for error texts
    HpadAnnotations annotations;       // hpad.io/* (issue 13), parsed once per reconcile
    ReconcileReport report;
    std::shared_ptr<DecisionTrace> trace;  // keep_traces only
  };
  // What the metrics need beyond the HPA (section 9).
  struct MetricContext {
    const std::string& ns;
    int32_t current_replicas = 0;
    int32_t status_replicas = 0;
    Tolerances tolerances;
    const k8s::Selector& selector;
    const PodList& pods;
    Time now{};
    PodTable* pod_table = nullptr;  // set per metric when tracing
  };

  HpaHistory& History(const std::string& key);
  // From the scale read (R2) to the end. Sets *rerun (and returns nothing
  // meaningful) when a cached read's scale write got 409 (issue 11 item 9).
  ReconcileResult ReconcileTarget(Working& w, bool fresh_read, bool* rerun);
  ReconcileResult Finish(Working& w, Status error, bool spec_error);
  // Issue 13: the write stage of a paused HPA (no rescale except the one to
  // hpad.io/paused-replicas; status as usual). `scratch` is a copy of the
  // history, so a paused period leaves the real one untouched.
  ReconcileResult FinishFailedRescale(Working& w, int32_t current, const ScaleDecision& decision, const Status& up);
  ReconcileResult FinishPaused(Working& w, const ScaleReadResult& scale, int32_t current, const ScaleDecision& decision,
                               const PauseDecision& pause, HpaHistory& scratch, bool fresh_read, bool* rerun);
  // Fetch.
  MetricsFetch FetchMetrics(Working& w, const k8s::Scale& scale, int32_t current, Tolerances tolerances);
  MetricResult ComputeReplicasForMetric(const MetricContext& ctx, const k8s::MetricSpec& spec);
  MetricResult ComputeResource(const MetricContext& ctx, const std::string& resource, const std::string& container,
                               const k8s::MetricTarget& target, bool container_form);
  MetricResult ComputePods(const MetricContext& ctx, const k8s::PodsMetricSource& src);
  MetricResult ComputeObject(const MetricContext& ctx, const k8s::ObjectMetricSource& src);
  MetricResult ComputeExternal(const MetricContext& ctx, const k8s::ExternalMetricSource& src);
  // Write.
  void Emit(const Working& w, const std::vector<ControllerEvent>& events);
  Status UpdateStatusIfNeeded(Working& w);
  // A status write on a path that fails anyway: logged and reported.
  void UpdateStatusOnFailurePath(Working& w);
  // Issue 15: the write-ahead of `ahead` (the history with the rescale's
  // event) through SetScaleEventWriter's writer; sets *written when it is in
  // the store. A non-ok result blocks the rescale.
  Status WriteScaleEventAhead(const Working& w, const HpaHistory& ahead, const PendingScaleWrite& pending,
                              bool* written);
  // Issue 15: settles `key`'s unconfirmed rescale against a fresh read.
  void ResolveUnconfirmedRescale(const std::string& key, int32_t spec_replicas);
  void MarkHistoryChanged(const std::string& key);
  Tolerances TolerancesFor(const k8s::Hpa& hpa) const;
  std::optional<int64_t> ObservedGeneration(const k8s::Hpa& hpa) const;

  ReconcilerOptions options_;
  const k8s::ObjectStore<k8s::Hpa>& hpas_;
  const k8s::ObjectStore<k8s::Pod>& pods_;
  MetricsClient& metrics_;
  ScaleClient& scales_;
  k8s::ApiClient& api_;
  k8s::EventRecorder& events_;
  SelectorRegistry& selectors_;
  Monitor& monitor_;
  const Clock& clock_;
  ReconcileObserver observer_;

  mutable std::mutex history_mu_;
  // guarded by history_mu_; node-stable (references survive inserts, as
  // in a std::map); hashed: found once or twice per reconcile (issue 16)
  std::unordered_map<std::string, HpaHistory> history_;
  std::set<std::string> changed_histories_;     // guarded by history_mu_ (issue 13)
  mutable TraceKeeper traces_;  // thread-safe by itself; mutable for AskPodTables
  // Issue 15: rescales whose write's outcome is unknown (HasUnconfirmedRescale).
  std::map<std::string, PendingScaleWrite> unconfirmed_;  // guarded by history_mu_
  ScaleEventWriter scale_event_writer_;                    // set before the first Reconcile
};

}  // namespace hpad::ctrl
