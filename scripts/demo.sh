#!/usr/bin/env bash
# Installs hpad's build dependencies (Debian 12), builds hpad and hpad-sim,
# and runs the php-apache walkthrough on the simulator in virtual time.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
build=${HPAD_BUILD_DIR:-$top/build}
"$top/scripts/install-deps.sh"
cmake -S "$top" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$build" -j2 --target hpad hpad-sim
exec "$build/sim/hpad-sim" run "$top/examples/php-apache/scenario.yaml" --plot "$build/php-apache.svg" "$@"
