#!/bin/bash
# Developer helper: build targets in the shared build dir, one build at a time
# (several sessions share 2 cores). Usage: scripts/locked-build.sh [target...]
set -e
top=$(cd "$(dirname "$0")/.." && pwd)
build=${HPAD_BUILD_DIR:-$top/build}
args=()
for t in "$@"; do args+=(--target "$t"); done
exec flock /tmp/hpad-build.lock bash -c "
  [ -f '$build/build.ninja' ] || cmake -S '$top' -B '$build' -G Ninja >/dev/null
  cmake --build '$build' -j2 ${args[*]}"
