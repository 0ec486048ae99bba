#!/bin/bash
# ctest entry: serves conformance example 01 with `hpad-sim serve`, runs the
# real `hpad` daemon against it, and drives the cluster with stock kubectl and
# the Debian python client through ../shared/tools/kubectl-smoke.sh.
# Usage: kubectl_smoke.sh BUILD_DIR SHARED_DIR
set -u
build=$1 shared=$2
work=$(mktemp -d)
cleanup() {
  [ -n "${hpad_pid:-}" ] && kill "$hpad_pid" 2>/dev/null
  [ -n "${sim_pid:-}" ] && kill "$sim_pid" 2>/dev/null
  wait 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT
"$build/sim/hpad-sim" serve "$shared/conformance/examples/01-cpu-scale-up.yaml" --port 0 \
  --kubeconfig-out "$work/kubeconfig" >"$work/sim.log" 2>&1 &
sim_pid=$!
for _ in $(seq 100); do [ -s "$work/kubeconfig" ] && break; sleep 0.1; done
[ -s "$work/kubeconfig" ] || { echo "hpad-sim serve wrote no kubeconfig"; cat "$work/sim.log"; exit 1; }
# Sync period 10 s: the script's apply_update pipes `kubectl get -o yaml`
# (with its resourceVersion) into `kubectl apply`, which conflicts if hpad
# writes smoke-web's status in between. smoke-web is reconciled at once when
# `autoscale` creates it (Q3) and then only one period later, so with 10 s
# the status change caused by the `scale` step lands after apply_update
# (with 1 s it landed inside that window on a loaded machine).
"$build/controller/hpad" --kubeconfig "$work/kubeconfig" --leader-elect=false --port=0 \
  --horizontal-pod-autoscaler-sync-period=10s >"$work/hpad.log" 2>&1 &
hpad_pid=$!
# describe_hpa needs the conditions hpad writes: wait for the first status.
for _ in $(seq 150); do
  kubectl --kubeconfig "$work/kubeconfig" --cache-dir "$work/cache" get hpa frontend \
    -o jsonpath='{.status.conditions[0].type}' 2>/dev/null | grep -q AbleToScale && break
  sleep 0.2
done
bash "$shared/tools/kubectl-smoke.sh" "$work/kubeconfig"
rc=$?
if [ $rc != 0 ]; then echo "--- hpad log"; tail -20 "$work/hpad.log"; echo "--- sim log"; tail -20 "$work/sim.log"; fi
exit $rc
