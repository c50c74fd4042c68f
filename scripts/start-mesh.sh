#!/usr/bin/env bash
# Installs what is missing, builds, and starts a typed mesh on loopback: an NS, a Gateway and a
# VP node wired by BOOTSTRAP_PEERS. Waits until every node lists the other two with the right
# type, then prints each node's /peers. Stop it with scripts/stop-mesh.sh.
#
# Environment: NS_PORT (3009), GATEWAY_PORT (8080), VP_PORT (4000), RUN_DIR (./run),
# BIND_HOST (127.0.0.1), MAX_PEERS, LOG_LEVEL, and SKIP_BUILD=1 to use an existing build/.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
ns_port=${NS_PORT:-3009}
gw_port=${GATEWAY_PORT:-8080}
vp_port=${VP_PORT:-4000}
run=${RUN_DIR:-$root/run}
build=${BUILD_DIR:-$root/build}

if [ "${SKIP_BUILD:-0}" != 1 ]; then
    "$root/scripts/install-deps.sh"
    BUILD_DIR=$build "$root/scripts/build.sh"
fi
mkdir -p "$run/logs" "$run/data"

for kind in ns gateway vp; do
    if [ -f "$run/$kind.pid" ] && kill -0 "$(cat "$run/$kind.pid")" 2>/dev/null; then
        echo "start-mesh: a $kind node is already running (pid $(cat "$run/$kind.pid")); run scripts/stop-mesh.sh first" >&2
        exit 1
    fi
done

# The seed's wiring: every node gets the whole typed list; a node skips its own entry.
bootstrap="localhost:$ns_port:NS,localhost:$gw_port:Gateway,localhost:$vp_port:VP"

start() { # kind port
    local kind=$1 port=$2
    PORT=$port BOOTSTRAP_PEERS=$bootstrap DATA_DIR="$run/data/$kind" BIND_HOST=${BIND_HOST:-127.0.0.1} \
        nohup "$build/$kind-node/$kind-node" >"$run/logs/$kind.log" 2>&1 </dev/null &
    echo $! >"$run/$kind.pid"
}
start ns "$ns_port"
start gateway "$gw_port"
start vp "$vp_port"

# Ready when each node lists the other two, typed.
peers_ok() { # port expected-types...
    local port=$1; shift
    curl -sf --max-time 2 "http://127.0.0.1:$port/peers" 2>/dev/null | python3 -c '
import json, sys
want = sorted(sys.argv[1:])
got = sorted(p["nodeType"] for p in json.load(sys.stdin)["peers"])
sys.exit(0 if got == want else 1)' "$@"
}
deadline=$((SECONDS + 30))
until peers_ok "$ns_port" Gateway VP && peers_ok "$gw_port" NS VP && peers_ok "$vp_port" Gateway NS; do
    for kind in ns gateway vp; do
        if ! kill -0 "$(cat "$run/$kind.pid")" 2>/dev/null; then
            echo "start-mesh: the $kind node exited; its log:" >&2
            tail -n 20 "$run/logs/$kind.log" >&2
            "$root/scripts/stop-mesh.sh" >/dev/null 2>&1 || true
            exit 1
        fi
    done
    if [ $SECONDS -ge $deadline ]; then
        echo "start-mesh: nodes did not see each other within 30 s; logs in $run/logs" >&2
        "$root/scripts/stop-mesh.sh" >/dev/null 2>&1 || true
        exit 1
    fi
    sleep 0.2
done

for pair in "NS $ns_port" "Gateway $gw_port" "VP $vp_port"; do
    set -- $pair
    echo "== $1 node, http://localhost:$2/peers"
    curl -s "http://127.0.0.1:$2/peers" | python3 -m json.tool
done
echo "mesh up: NS :$ns_port, Gateway :$gw_port, VP :$vp_port (logs and pids in $run; stop with scripts/stop-mesh.sh)"
