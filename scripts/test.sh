#!/usr/bin/env bash
# Configures, builds everything (-j2) and runs the whole test suite with ctest.
# The README's test command. Usage: scripts/test.sh [extra ctest args]
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
build=${HPAD_BUILD_DIR:-$top/build}
cmake -S "$top" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DHPAD_WERROR=ON >/dev/null
cmake --build "$build" -j2
cd "$build"
# A test that fails is run once more before it counts as failed: the process
# tests (daemons, kubectl, leader election) run in parallel on 2 cores and
# can miss a wall-clock deadline under load; a real failure fails twice.
ctest --output-on-failure -j2 --repeat until-pass:2 "$@"
