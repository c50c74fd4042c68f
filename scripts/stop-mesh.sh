#!/usr/bin/env bash
# Stops the nodes started by scripts/start-mesh.sh (SIGTERM, then SIGKILL after 5 s).
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
run=${RUN_DIR:-$root/run}
for kind in ns gateway vp; do
    pidfile=$run/$kind.pid
    [ -f "$pidfile" ] || continue
    pid=$(cat "$pidfile")
    if kill -0 "$pid" 2>/dev/null; then
        kill -TERM "$pid"
        for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -0 "$pid" 2>/dev/null && kill -KILL "$pid"
        echo "stopped $kind node (pid $pid)"
    fi
    rm -f "$pidfile"
done
