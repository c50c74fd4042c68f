#!/usr/bin/env bash
# Installs what is missing, builds, and runs every test: first a plain build, then the same
# suite built with AddressSanitizer and UndefinedBehaviorSanitizer.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/install-deps.sh"

run_suite() { # build-dir cmake-args...
    local dir=$1; shift
    echo "== build $dir $*"
    BUILD_DIR=$dir BUILD_TYPE=Debug "$root/scripts/build.sh" "$@"
    echo "== test $dir"
    (cd "$root/$dir" && ctest --output-on-failure -j2 --timeout 600)
}
run_suite build-test -DSWARM_WERROR=ON
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
run_suite build-asan -DSWARM_WERROR=ON -DSWARM_SANITIZE=ON
echo "== fuzz the decoders and the API (libFuzzer, ${FUZZ_SECONDS:-15}s each)"
"$root/scripts/fuzz.sh" "${FUZZ_SECONDS:-15}"
