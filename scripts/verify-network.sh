#!/usr/bin/env bash
# Checks a running mesh: every node healthy, every node seeing the others (or a full table), and
# every node having received the same messages. With --broadcast, first sends a NEW_TX from the
# first node and waits until every node has it.
#
#   scripts/verify-network.sh                        # the mesh of scripts/start-mesh.sh
#   scripts/verify-network.sh --broadcast 7000 7001 127.0.0.1:7002
# Exit status 0 when every check passes, 1 otherwise.
set -euo pipefail
exec python3 - "$@" <<'PY'
import json, sys, time, urllib.request

args = sys.argv[1:]
broadcast = "--broadcast" in args
targets = [a for a in args if a != "--broadcast"] or ["3009", "8080", "4000"]
nodes = [t if ":" in t else "127.0.0.1:" + t for t in targets]

def get(node, path, body=None):
    req = urllib.request.Request("http://%s%s" % (node, path), method="POST" if body else "GET",
                                 data=json.dumps(body).encode() if body else None,
                                 headers={"content-type": "application/json"})
    with urllib.request.urlopen(req, timeout=5) as r:
        return json.load(r)

failures = []
def check(ok, what):
    print(("  ok    " if ok else "  FAIL  ") + what)
    if not ok:
        failures.append(what)

ports = {}
for n in nodes:
    try:
        h = get(n, "/health")
        check(h.get("status") == "ok", "%s is healthy (%s %s)" % (n, h.get("nodeType"), h.get("nodeId")))
        ports[n] = h.get("port")
    except Exception as e:
        check(False, "%s answers /health (%s)" % (n, e))
if failures:
    sys.exit(1)

for n in nodes:
    d = get(n, "/peers")
    seen = {p["port"] for p in d["peers"] if p.get("status") != "unreachable"}
    want = {ports[m] for m in nodes if m != n}
    missing = sorted(want - seen)
    full = d["count"] >= d["node"]["maxPeers"]
    check(not missing or full, "%s sees %d peers%s" % (n, d["count"],
          "" if not missing else (" (table full; not listed: %s)" % missing if full else ", missing %s" % missing)))

if broadcast:
    r = get(nodes[0], "/p2p/broadcast", {"type": "NEW_TX", "payload": {"verify": time.time()}})
    deadline = time.time() + 15
    pending = set(nodes)
    while pending and time.time() < deadline:
        for n in list(pending):
            if any(m["id"] == r["id"] for m in get(n, "/p2p/messages")["recent"]):
                pending.discard(n)
        time.sleep(0.1)
    check(not pending, "broadcast %s reached every node%s" % (r["id"], "" if not pending else ", not %s" % sorted(pending)))

msgs = {n: get(n, "/p2p/messages") for n in nodes}
for n, m in msgs.items():
    print("  %-22s NEW_TX %-6d NEW_BLOCK %d" % (n, m["delivered"]["NEW_TX"], m["delivered"]["NEW_BLOCK"]))
check(len({json.dumps(m["delivered"], sort_keys=True) for m in msgs.values()}) == 1,
      "every node received the same number of messages")
# The same messages, by id: each node lists its last 32, so ids are compared while every node has
# received no more than that; past it the counts above are what can be compared.
ids = {n: sorted(r["id"] for r in m["recent"]) for n, m in msgs.items()}
if all(sum(m["delivered"].values()) <= len(ids[n]) for n, m in msgs.items()):
    check(len({tuple(v) for v in ids.values()}) == 1, "every node received the same messages (by id)")
else:
    print("  note  more than 32 messages per node: compared by count only")
print("verify-network: %s" % ("all checks passed" if not failures else "%d check(s) failed" % len(failures)))
sys.exit(1 if failures else 0)
PY
