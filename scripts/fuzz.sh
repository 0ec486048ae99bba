#!/bin/bash
# Runs one libFuzzer harness (tests/fuzz/) for a bounded time.
#   scripts/fuzz.sh HARNESS SECONDS [BINARY]
# BINARY defaults to build-fuzz/tests/fuzz/HARNESS (configure that build with
#   CC=clang CXX=clang++ cmake -S . -B build-fuzz -G Ninja -DHPAD_FUZZ=ON -DHPAD_BUILD_BENCH=OFF).
# The committed seed corpus tests/fuzz/corpus/HARNESS is copied to a scratch
# directory so runs never modify the tree; new inputs found go to
# build-fuzz/fuzz-work/HARNESS/corpus, crashes to build-fuzz/fuzz-work/HARNESS/
# (crash-*, leak-*, timeout-*). Copy a crash input into the seed corpus once it
# is fixed, as a regression case. Exit status: 0 when no crash was found.
set -euo pipefail
harness=${1:?usage: fuzz.sh HARNESS SECONDS [BINARY]}
seconds=${2:?usage: fuzz.sh HARNESS SECONDS [BINARY]}
root=$(cd "$(dirname "$0")/.." && pwd)
binary=${3:-$root/build-fuzz/tests/fuzz/$harness}
[ -x "$binary" ] || { echo "fuzz.sh: no harness binary $binary (build the HPAD_FUZZ build first)" >&2; exit 2; }
work=$(dirname "$(dirname "$(dirname "$binary")")")/fuzz-work/$harness
mkdir -p "$work/corpus"
seeds=$root/tests/fuzz/corpus/$harness
[ -d "$seeds" ] && cp -n "$seeds"/* "$work/corpus/" 2>/dev/null || true
cd "$work"
# -rss_limit_mb bounds memory (a 64 MiB reply is the largest legal input);
# -max_len keeps single inputs small enough to mutate quickly; -timeout
# flags any input taking more than 10 s (a hang is a bug too).
exec "$binary" -max_total_time="$seconds" -rss_limit_mb=2048 -max_len=65536 -timeout=10 \
  -print_final_stats=1 -artifact_prefix="$work/" "$work/corpus" "$seeds"
