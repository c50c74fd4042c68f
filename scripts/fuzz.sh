#!/usr/bin/env bash
# Builds the libFuzzer targets with clang (plus ASan/UBSan) and runs each for SECONDS (default 30).
# A crash, a sanitizer report or an abort() in a target's own checks fails the run.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
seconds=${SECONDS_PER_TARGET:-${1:-30}}
build=$root/build-fuzz
CC=clang BUILD_DIR=$build BUILD_TYPE=Debug "$root/scripts/build.sh" -DSWARM_FUZZ=ON -DSWARM_SANITIZE=ON
corpus=$build/corpus
mkdir -p "$corpus/wire" "$corpus/api"
# Seeds: real envelopes, so the fuzzer starts from the shapes peers send.
printf '%s' '{"id":"ns-1-1795400000000-abcdefghi","type":"NEW_TX","payload":{"tx":"a"},"originNodeId":"ns-1","timestamp":"2026-11-23T10:00:00.000Z","hops":3}' >"$corpus/wire/tx"
printf '%s' '{"id":"ns-1-1-a","type":"PEER_LIST","payload":{"peers":[{"host":"127.0.0.1","port":8080,"nodeType":"Gateway","nodeId":"gw-1"}],"senderNodeType":"NS","senderPort":3009,"senderNodeId":"ns-1","hello":true,"keepers":2},"originNodeId":"ns-1","hops":0}' >"$corpus/wire/peerlist"
cp "$corpus/wire/tx" "$corpus/api/tx"
printf '\001%s' '{"host":"127.0.0.1","port":4001,"nodeType":"VP"}' >"$corpus/api/add"
for t in wire api; do
    echo "== fuzz_$t for ${seconds}s"
    "$build/tests/fuzz_$t" -max_total_time="$seconds" -max_len=4096 -print_final_stats=1 "$corpus/$t" 2>&1 | tail -n 4
done
