#!/usr/bin/env bash
# Configures and builds swarm into a build directory (default: build/). Extra args go to cmake.
#   scripts/build.sh                 # build/
#   BUILD_DIR=build-asan scripts/build.sh -DSWARM_SANITIZE=ON
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD_DIR:-$root/build}
case "$build" in /*) ;; *) build=$root/$build ;; esac
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE="${BUILD_TYPE:-RelWithDebInfo}" "$@" >/dev/null
cmake --build "$build" -j"$(nproc)" -- --no-print-directory >/dev/null
