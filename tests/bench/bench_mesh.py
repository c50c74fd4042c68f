"""Figures, not asserts: gossip throughput of a real mesh on loopback.

Starts 4 nodes (NS, Gateway, VP, NS) in a full mesh, then:
  reference  - GET /health round trips per second against one node (one client connection):
               what one HTTP exchange costs on this machine in this run;
  gossip     - N NEW_TX broadcast at one node through POST /p2p/broadcast; the time until every
               node has delivered all N gives messages per second through the mesh (each message
               crosses three links and is relayed again by every receiver).
The ratio gossip/reference is what to compare between runs and machines.

    python3 tests/bench/bench_mesh.py [N]        (SWARM_BUILD_DIR defaults to ./build)
"""
import http.client
import json
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))
import swarmtest  # noqa: E402


def main():
    n_msgs = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
    env = {"PEX_INTERVAL_MS": 500, "PING_INTERVAL_MS": 1000, "LOG_LEVEL": "warn",
           "SEEN_CACHE_SIZE": max(1000, 2 * n_msgs), "SPAM_MAX_MESSAGES": 10 * n_msgs}
    with swarmtest.Mesh() as mesh:
        a = mesh.node("NS", env=env)
        nodes = [a] + [mesh.node(t, env=env, bootstrap=[a.entry("NS")]) for t in ("Gateway", "VP", "NS")]
        mesh.wait_until(lambda: all(len(n.peers()) == 3 for n in nodes), "a full mesh of 4")

        conn = http.client.HTTPConnection("127.0.0.1", a.port, timeout=5)
        t0 = time.perf_counter()
        k = 0
        while time.perf_counter() - t0 < 2.0:
            conn.request("GET", "/health")
            conn.getresponse().read()
            k += 1
        ref = k / (time.perf_counter() - t0)

        t0 = time.perf_counter()
        for i in range(n_msgs):
            conn.request("POST", "/p2p/broadcast", body=json.dumps({"type": "NEW_TX", "payload": {"i": i}}),
                         headers={"Content-Type": "application/json"})
            conn.getresponse().read()
        t_sent = time.perf_counter() - t0

        def all_delivered():
            return all(n.get("/p2p/messages").json["delivered"]["NEW_TX"] >= n_msgs for n in nodes)
        mesh.wait_until(all_delivered, "every node to deliver %d messages" % n_msgs, timeout=120)
        t_all = time.perf_counter() - t0
        dups = [n.get("/p2p/messages").json["counters"]["duplicates"] for n in nodes]
        rate = n_msgs / t_all
        print("reference: %.0f HTTP round trips/s (GET /health, one connection)" % ref)
        print("gossip:    %d NEW_TX to 4 nodes in %.2f s (%.2f s to submit) = %.0f msg/s mesh-wide, "
              "%.2f x reference; duplicates dropped per node %s" % (n_msgs, t_all, t_sent, rate, rate / ref, dups))


if __name__ == "__main__":
    main()
