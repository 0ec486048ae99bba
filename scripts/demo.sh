#!/usr/bin/env bash
# Installs hpad's build dependencies (Debian 12), builds hpad and hpad-sim,
# and runs the php-apache walkthrough on the simulator in virtual time.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
build=${HPAD_BUILD_DIR:-$top/build}
if ! dpkg-query -W libcpprest-dev >/dev/null 2>&1 || ! dpkg-query -W libcpp-httplib-dev >/dev/null 2>&1; then
  SUDO=; [ "$(id -u)" = 0 ] || SUDO=sudo
  $SUDO apt-get update -q
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
    build-essential cmake ninja-build pkg-config ccache libcpprest-dev libssl-dev libyaml-cpp-dev \
    nlohmann-json3-dev prometheus-cpp-dev catch2 libcli11-dev libspdlog-dev libcpp-httplib-dev
fi
cmake -S "$top" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$build" -j2 --target hpad hpad-sim
exec "$build/sim/hpad-sim" run "$top/examples/php-apache/scenario.yaml" --plot "$build/php-apache.svg" "$@"
