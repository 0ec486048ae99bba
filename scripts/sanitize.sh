#!/usr/bin/env bash
# Sanitizer passes of the suite (run by hand for now; CI does not run them yet:
# issue 10 keeps wiring them into .ci/run within its 45-minute budget open).
#   scripts/sanitize.sh asan   ASan + UBSan build (build-asan/): the unit
#                              suites and the process (integration) tests.
#   scripts/sanitize.sh tsan   TSan build (build-tsan/): the concurrency
#                              tests - work queue, informer, leader election,
#                              event recorder, object store, the controller's
#                              worker pool and the daemon's HTTP server.
# Extra arguments go to ctest. A sanitizer report fails the test that caused it.
#   --build-only   configure and build, run no test (e.g. under a build lock:
#                  flock /tmp/hpad-build.lock scripts/sanitize.sh tsan --build-only)
#   --test-only    run the tests of an existing build, build nothing
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
kind=${1:?usage: scripts/sanitize.sh asan|tsan [--build-only|--test-only] [ctest args]}
shift
step=all
case "${1:-}" in
  --build-only) step=build; shift ;;
  --test-only) step=test; shift ;;
esac
[ "$step" = test ] || "$top/scripts/install-deps.sh"
case "$kind" in
  asan)
    build=${HPAD_ASAN_BUILD_DIR:-$top/build-asan}
    flags=(-DHPAD_SANITIZE=ON)
    targets=(k8sclient_tests controller_core_tests controller_tests daemon_tests sim_apiserver_tests sim_tests integration_tests hpad hpad-sim)
    # Benchmarks and the fuzz label are not sanitizer work; the bench smoke runs in test.sh.
    select=(-LE "bench|fuzz")
    export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:strict_string_checks=1
    export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
    ;;
  tsan)
    build=${HPAD_TSAN_BUILD_DIR:-$top/build-tsan}
    flags=(-DHPAD_TSAN=ON -DHPAD_BUILD_BENCH=OFF)
    targets=(k8sclient_tests controller_tests)
    # Concurrency tests only: the transport tests run cpprestsdk (Boost.Asio,
    # not instrumented), which TSan cannot judge. CancelScope,
    # RequestDeadlineScope and WriteFence have transport-free tests of their own.
    select=(-R "^k8sclient: ?.*(work queue|informer|leader election|event recorder|recording event|object store|token bucket|fake api)|^k8sclient: ?(CancelScope|RequestDeadlineScope|WriteFence) |^controller: ?")
    export TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1
    ;;
  *) echo "unknown sanitizer pass: $kind" >&2; exit 2 ;;
esac
# -O1: sanitizer builds compile and run fast enough for CI at that level.
if [ "$step" != test ]; then
  cmake -S "$top" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g1 -DNDEBUG" \
    -DHPAD_WERROR=ON "${flags[@]}" >/dev/null
  cmake --build "$build" -j2 --target "${targets[@]}"
fi
[ "$step" != build ] || exit 0
cd "$build"
# --no-tests=error: a selection that matches nothing is a failure, not a pass.
ctest --output-on-failure --no-tests=error -j2 "${select[@]}" "$@"
