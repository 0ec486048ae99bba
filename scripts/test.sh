#!/usr/bin/env bash
# Installs missing packages (scripts/packages.txt), configures, builds
# everything (-j2) and runs the whole test suite with ctest.
# The README's test command. Usage: scripts/test.sh [extra ctest args]
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
build=${HPAD_BUILD_DIR:-$top/build}
"$top/scripts/install-deps.sh"
cmake -S "$top" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DHPAD_WERROR=ON >/dev/null
cmake --build "$build" -j2
cd "$build"
# No retries: a test that fails once is a defect (a race in the test or the
# code) to fix at the root.
ctest --output-on-failure -j2 "$@"
