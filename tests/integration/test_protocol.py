"""Protocol integration tests: gossip, peer exchange, health checks and reputation between real node
executables (and fake NeuroSwarm-style HTTP peers) on free loopback ports.

What is expected comes from docs/protocol.md and docs/api.md. Intervals are shortened through the
environment (PEX_INTERVAL_MS, PING_INTERVAL_MS, ...) so that a mesh forms, a dead peer is dropped
and a ban expires within seconds. Every wait polls a condition with a deadline; a check that
something does NOT happen either relies on ordering (links deliver in order, so once a later
message has arrived an earlier one that was sent would have too) or watches the condition for a
stated number of protocol intervals.

Run directly (python3 test_protocol.py [-k name]) with SWARM_BUILD_DIR pointing at a build tree, or
through ctest -R integration.test_protocol.
"""

import collections
import http.client
import os
import sys
import threading
import socket
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import swarmtest  # noqa: E402
from swarmtest import Mesh, envelope  # noqa: E402


def _sanitized_build():
    """True when SWARM_BUILD_DIR was configured with -DSWARM_SANITIZE=ON (nodes run slower)."""
    try:
        with open(os.path.join(swarmtest.build_dir(), "CMakeCache.txt")) as f:
            return any(line.strip().upper() in ("SWARM_SANITIZE:BOOL=ON", "SWARM_SANITIZE:BOOL=TRUE")
                       for line in f)
    except OSError:
        return False


SLOW = 3.0 if _sanitized_build() else 1.0
# How long a condition that should come true may take. Generous: a passing run never waits this
# long, and a failing one should say what it waited for rather than fail by chance.
TIMEOUT = 30.0 * SLOW
GOSSIP_KEYS = ("duplicates", "relayed", "hopLimited", "ownEchoes")
MAX_HOPS = 10  # the default; these tests do not set MAX_HOPS


def fast(pex_ms=250, ping_ms=250, **extra):
    """Node settings with short protocol intervals."""
    env = {"PEX_INTERVAL_MS": str(pex_ms), "PING_INTERVAL_MS": str(ping_ms)}
    env.update({k: str(v) for k, v in extra.items()})
    return env


# ==================================================================================== helpers

def messages(node):
    r = node.get("/p2p/messages")
    if r.status != 200 or not isinstance(r.json, dict):
        raise AssertionError("%s GET /p2p/messages answered %r" % (node.name, r))
    return r.json


def reputation(node):
    r = node.get("/reputation")
    if r.status != 200 or not isinstance(r.json, dict):
        raise AssertionError("%s GET /reputation answered %r" % (node.name, r))
    return r.json


def recent_ids(node, msgs=None):
    return [m["id"] for m in (msgs or messages(node))["recent"]]


def gossip_state(node):
    """What gossip changes at a node (and PING/PEX traffic does not)."""
    m = messages(node)
    return (m["delivered"]["NEW_TX"], m["delivered"]["NEW_BLOCK"]) + tuple(m["counters"][k] for k in GOSSIP_KEYS)


def by_port(peers, port):
    return [p for p in peers if p["port"] == port]


def peer_score(node, peer_id):
    """The peer's score as /reputation and /peers show it (they must agree); None if not listed."""
    rep = {p["id"]: p["score"] for p in reputation(node)["peers"]}
    listed = {p["id"]: p["reputation"] for p in node.peers()}
    if peer_id in rep and peer_id in listed and rep[peer_id] != listed[peer_id]:
        # A PING may land between the two requests: look once more before calling it a mismatch.
        rep = {p["id"]: p["score"] for p in reputation(node)["peers"]}
        listed = {p["id"]: p["reputation"] for p in node.peers()}
        if rep.get(peer_id) != listed.get(peer_id):
            raise AssertionError("%s: /reputation says %s for %s, /peers says %s"
                                 % (node.name, rep.get(peer_id), peer_id, listed.get(peer_id)))
    return rep.get(peer_id)


def read_text(path):
    with open(path) as f:
        return f.read()


def neuro_envelope(fake_id, msg_type, payload, **kw):
    """An envelope as a NeuroSwarm node writes it: straight from its origin (hops 0)."""
    return envelope(msg_type, payload, origin=fake_id, **kw)


def neuro_join(tc, node, fake, fake_id, peers=(), sender_type="NS"):
    """The fake peer joins `node` as a NeuroSwarm node does: a PEER_LIST with senderNodeType and
    senderPort, originNodeId its own id, hops 0, no swarm headers."""
    r = node.post("/p2p/message", neuro_envelope(fake_id, "PEER_LIST", {
        "peers": list(peers), "senderNodeType": sender_type, "senderPort": fake.port}))
    tc.assertEqual(r.status, 200, r)
    tc.assertIs(r.json["result"]["processed"], True, r)
    return r


class Watch:
    """Polls a check in a background thread for as long as a test runs and keeps every violation
    (a check returns a message for a violation, None otherwise). Failures to reach a node count
    as nothing: only what nodes answer is judged."""

    def __init__(self, tc, check, interval=0.1):
        self.check = check
        self.interval = interval
        self.violations = []
        self.polls = 0
        self.stop_event = threading.Event()
        self.thread = threading.Thread(target=self._run, name="watch", daemon=True)
        self.thread.start()
        tc.addCleanup(self.stop)

    def _run(self):
        while not self.stop_event.is_set():
            try:
                v = self.check()
                self.polls += 1
                if v:
                    self.violations.append(v)
            except Exception:  # noqa: BLE001 - a node starting or stopping: not a violation
                pass
            self.stop_event.wait(self.interval)

    def stop(self):
        self.stop_event.set()
        self.thread.join(10)


class ProtocolTest(unittest.TestCase):
    """Shared waits and checks."""

    def setUp(self):
        self.mesh = Mesh(self)

    def wait(self, predicate, what, timeout=TIMEOUT):
        return self.mesh.wait_until(predicate, what, timeout)

    def hold(self, predicate, seconds, what):
        """predicate() must stay true for `seconds` (polled); fails at the first time it is not."""
        deadline = time.monotonic() + seconds
        polls = 0
        while True:
            self.mesh.check_alive()
            v = predicate()
            polls += 1
            if not v:
                self.fail("%s stopped holding after %d polls (%r)" % (what, polls, v))
            if time.monotonic() >= deadline:
                return polls
            time.sleep(0.05)

    def full_mesh(self, nodes):
        """Waits until every node lists every other one, identified (nodeId, nodeType) and active."""
        ids = {n.name: n.node_id() for n in nodes}

        def view(n):
            return {(p["port"], p["nodeType"], p["nodeId"], p["status"]) for p in n.peers()}
        expected = {n.name: {(o.port, o.node_type, ids[o.name], "active") for o in nodes if o is not n}
                    for n in nodes}
        self.wait(lambda: all(view(n) == expected[n.name] for n in nodes),
                  "every node to list the %d others, identified and active" % (len(nodes) - 1))
        return ids

    def wait_everywhere(self, nodes, msg_id, what=None):
        """Until msg_id is in every node's recent deliveries."""
        self.wait(lambda: all(msg_id in recent_ids(n) for n in nodes),
                  what or "message %s to be delivered at all %d nodes" % (msg_id, len(nodes)))

    def wait_quiet(self, nodes, polls=3, interval=0.3):
        """Until no gossip counter (deliveries, duplicates, relays, hop limits, echoes) of any node
        changes over `polls` consecutive looks `interval` apart. Returns the last states."""
        history = collections.deque(maxlen=polls)

        def quiet():
            history.append(tuple(gossip_state(n) for n in nodes))
            if len(history) == polls and len(set(history)) == 1:
                return history[-1]
            time.sleep(interval)
            return None
        return self.wait(quiet, "gossip counters to stop changing over %d polls" % polls)

    def assert_delivered_once(self, nodes, msg_id, origin_id):
        """msg_id is in each node's recent list exactly once, with the right origin."""
        for n in nodes:
            recs = [m for m in messages(n)["recent"] if m["id"] == msg_id]
            self.assertEqual(len(recs), 1, "%s: %s in recent %d times" % (n.name, msg_id, len(recs)))
            self.assertEqual(recs[0]["originNodeId"], origin_id, recs[0])
            self.assertEqual(recs[0]["type"], "NEW_TX", recs[0])

    def broadcast(self, node, payload, msg_type="NEW_TX"):
        r = node.post("/p2p/broadcast", {"type": msg_type, "payload": payload})
        self.assertEqual(r.status, 200, r)
        self.assertIs(r.json["ok"], True, r)
        return r.json


# ==================================================================================== 1. line to mesh

class LineBecomesFullMesh(ProtocolTest):
    """Six nodes of the three types, each bootstrapped only to the one before it."""

    def test_six_nodes_in_a_line_learn_each_other_and_deliver_a_broadcast_once(self):
        types = ("NS", "Gateway", "VP", "NS", "Gateway", "VP")
        env = fast(250, 250)
        nodes = []
        started = time.monotonic()
        for i, t in enumerate(types):
            if i == 0:
                boot = None
            elif i % 2:   # typed entries for some, plain host:port for the others
                boot = [nodes[-1].entry(nodes[-1].node_type)]
            else:
                boot = [nodes[-1].entry()]
            nodes.append(self.mesh.node(t, name="n%d-%s" % (i, t.lower()), bootstrap=boot, env=env))
        max_peers = nodes[0].health()["maxPeers"]
        want = min(max_peers, len(nodes) - 1)
        self.assertEqual(want, 5)
        ids = self.full_mesh(nodes)
        mesh_s = time.monotonic() - started
        for n in nodes:
            self.assertEqual(len(n.peers()), want, n.name)
            self.assertEqual(n.health()["peerCount"], want, n.name)

        b = self.broadcast(nodes[0], {"tx": "line-to-mesh"})
        self.assertEqual(b["sentTo"], 5, b)
        self.wait_everywhere(nodes, b["id"])
        self.wait_quiet(nodes)
        self.assert_delivered_once(nodes, b["id"], ids[nodes[0].name])
        final = {n.name: messages(n) for n in nodes}
        for n in nodes:
            m = final[n.name]
            self.assertEqual(m["delivered"], {"NEW_TX": 1, "NEW_BLOCK": 0}, n.name)
            self.assertEqual(m["counters"]["ownEchoes"], 0, n.name)
            self.assertEqual(m["counters"]["hopLimited"], 0, n.name)
            rec = [x for x in m["recent"] if x["id"] == b["id"]][0]
            if n is nodes[0]:
                self.assertIsNone(rec["from"], rec)
            else:
                self.assertIsNotNone(rec["from"], rec)
        # Every copy sent was received: each one is the first delivery or a duplicate.
        relayed = sum(final[n.name]["counters"]["relayed"] for n in nodes)
        dups = sum(final[n.name]["counters"]["duplicates"] for n in nodes)
        self.assertEqual(relayed, dups + len(nodes) - 1, "copies sent vs received")

        print("\nline-to-mesh report: %d nodes (%s), bootstrapped in a line, PEX/PING 250 ms; full mesh "
              "%.1f s after the first node started" % (len(nodes), ", ".join(types), mesh_s))
        print("  %-12s %5s %9s %10s %7s" % ("node", "peers", "delivered", "duplicates", "relayed"))
        for n in nodes:
            m = final[n.name]
            print("  %-12s %5d %9d %10d %7d" % (n.name, len(n.peers()), m["delivered"]["NEW_TX"],
                                                m["counters"]["duplicates"], m["counters"]["relayed"]))
        print("  total copies sent %d = %d first deliveries + %d duplicates" % (relayed, len(nodes) - 1, dups))
        sys.stdout.flush()


# ==================================================================================== 2. hop limit

class HopLimitAndReplay(ProtocolTest):
    """A 3-node mesh; envelopes are posted to node A as a NeuroSwarm peer would post them (no swarm
    headers, so A cannot attribute them to either of its two peers and relays to both)."""

    def test_hop_limit_stops_relay_and_replays_are_duplicates(self):
        env = fast(300, 300)
        a = self.mesh.node("NS", name="a", env=env)
        b = self.mesh.node("Gateway", name="b", env=env, bootstrap=[a.entry("NS")])
        c = self.mesh.node("VP", name="c", env=env, bootstrap=[a.entry()])
        nodes = (a, b, c)
        self.full_mesh(nodes)
        a_id_at_b = by_port(b.peers(), a.port)[0]["id"]
        origin = "test-origin-1"

        # At the limit: delivered by A, not relayed.
        at_limit = envelope("NEW_TX", {"n": 1}, origin=origin, msg_id="hop-limit-%d" % time.time_ns(),
                            hops=MAX_HOPS)
        before = messages(a)
        r = a.post("/p2p/message", at_limit)
        self.assertEqual(r.status, 200, r)
        res = r.json["result"]
        self.assertIs(res["processed"], True, r)
        self.assertIs(res["relayed"], False, r)
        self.assertIn("hop limit", res.get("reason", ""), r)
        after = messages(a)
        self.assertEqual(after["delivered"]["NEW_TX"], before["delivered"]["NEW_TX"] + 1)
        self.assertEqual(after["counters"]["hopLimited"], before["counters"]["hopLimited"] + 1)
        self.assertEqual(after["counters"]["relayed"], before["counters"]["relayed"])
        self.assertIn(at_limit["id"], recent_ids(a, after))

        # One hop below the limit: relayed to both peers, which get it at the limit and stop there.
        below = envelope("NEW_TX", {"n": 2}, origin=origin, msg_id="hop-below-%d" % time.time_ns(),
                         hops=MAX_HOPS - 1)
        r = a.post("/p2p/message", below)
        self.assertEqual(r.status, 200, r)
        self.assertIs(r.json["result"]["processed"], True, r)
        self.assertIs(r.json["result"]["relayed"], True, r)
        self.assertNotIn("reason", r.json["result"], r)
        self.wait_everywhere(nodes, below["id"])
        # A's links to B and C carry messages in order: the message at the limit, posted first,
        # would have reached them before this one had A relayed it.
        self.wait_quiet(nodes)
        for n in (b, c):
            m = messages(n)
            self.assertNotIn(at_limit["id"], recent_ids(n, m), "%s got the message A held at the limit" % n.name)
            self.assertEqual(m["delivered"]["NEW_TX"], 1, n.name)
            self.assertEqual(m["counters"]["hopLimited"], 1, n.name)
            self.assertEqual(m["counters"]["relayed"], 0, "%s relayed past the hop limit" % n.name)
            rec = [x for x in m["recent"] if x["id"] == below["id"]][0]
            self.assertEqual(rec["hops"], MAX_HOPS, rec)
            self.assertEqual(rec["originNodeId"], origin, rec)
            if n is b:
                self.assertEqual(rec["from"], a_id_at_b, rec)
        self.assertEqual(messages(a)["counters"]["relayed"], before["counters"]["relayed"] + 2)
        self.assertEqual(sum(messages(n)["counters"]["duplicates"] for n in nodes), 0)

        # Replays: the same ids again, with any hop count, at the node that has them.
        for node, env_, hops in ((a, below, MAX_HOPS - 1), (a, below, 0), (a, at_limit, MAX_HOPS),
                                 (b, below, 3)):
            replay = dict(env_, hops=hops)
            dup_before = messages(node)["counters"]["duplicates"]
            r = node.post("/p2p/message", replay)
            self.assertEqual(r.status, 200, r)
            self.assertIs(r.json["result"]["processed"], False, r)
            self.assertIs(r.json["result"]["relayed"], False, r)
            self.assertEqual(r.json["result"].get("reason"), "duplicate", r)
            self.assertEqual(messages(node)["counters"]["duplicates"], dup_before + 1, node.name)
        self.wait_quiet(nodes)
        for n, delivered in ((a, 2), (b, 1), (c, 1)):
            m = messages(n)
            self.assertEqual(m["delivered"]["NEW_TX"], delivered, "%s counted a replay twice" % n.name)
            seen = collections.Counter(recent_ids(n, m))
            self.assertEqual(max(seen.values()), 1, "%s: %r" % (n.name, seen))
        self.assertEqual(messages(a)["counters"]["relayed"], before["counters"]["relayed"] + 2)
        self.assertEqual(messages(b)["counters"]["relayed"] + messages(c)["counters"]["relayed"], 0)


# ==================================================================================== 3. kill -9

class CrashedNodeLeavesAndComesBack(ProtocolTest):
    """Four nodes; one is killed with SIGKILL, dropped by the others after MAX_FAILURES missed PINGs,
    then restarted from its DATA_DIR (same port, no BOOTSTRAP_PEERS) and taken back."""

    MAX_FAILURES = 3
    PING_MS = 200
    # A PEX-learned peer that sends no PEER_LIST for three PEX rounds is also let go ("it does not
    # keep us"), which peersRemoved does not count: PEX is kept slow enough for the health check
    # (MAX_FAILURES PING rounds, 0.6 s) to come first by far.
    PEX_MS = 1000

    def test_sigkilled_node_is_removed_then_rejoins_from_its_saved_peers(self):
        env = fast(self.PEX_MS, self.PING_MS, MAX_FAILURES=self.MAX_FAILURES)
        types = ("NS", "Gateway", "VP", "NS")
        nodes = []
        for i, t in enumerate(types):
            nodes.append(self.mesh.node(t, name="k%d-%s" % (i, t.lower()), env=env,
                                        bootstrap=[nodes[-1].entry()] if nodes else None))
        ids = self.full_mesh(nodes)
        victim = nodes[1]  # the bootstrap peer of nodes[2]
        others = [n for n in nodes if n is not victim]
        victim_id = ids[victim.name]
        # Let peers.json catch up with the full table (it is written at most every 0.5 s).
        peers_json = os.path.join(victim.data_dir, "peers.json")
        self.wait(lambda: all(str(o.port) in read_text(peers_json) for o in others),
                  "the victim's peers.json to hold its three peers")
        removed_before = {n.name: messages(n)["counters"]["peersRemoved"] for n in others}

        victim.kill()
        killed_at = time.monotonic()
        dropped = {}

        def all_dropped():
            for n in others:
                if n.name not in dropped and not by_port(n.peers(), victim.port):
                    dropped[n.name] = time.monotonic() - killed_at
            return len(dropped) == len(others)
        # MAX_FAILURES rounds of PING, one more for the first one to be missed, and slack.
        bound = (self.MAX_FAILURES + 2) * self.PING_MS / 1000.0 + 4.0 * SLOW
        self.wait(all_dropped, "every other node to drop the killed node", timeout=bound)
        for n in others:
            why = [line for line in n.log_text().splitlines()
                   if "Removed peer: 127.0.0.1:%d " % victim.port in line]
            self.assertGreater(messages(n)["counters"]["peersRemoved"], removed_before[n.name],
                               "%s dropped the killed node, but not as unhealthy: %r" % (n.name, why))
        print("\nkill -9: dropped by %s" % ", ".join("%s after %.2f s" % kv for kv in sorted(dropped.items())))

        # Back on the same port and data dir, without bootstrap peers: it knows its peers from
        # peers.json and contacts them itself.
        restart_env = {k: v for k, v in victim.env.items() if k != "BOOTSTRAP_PEERS"}
        victim.start(port=victim.port, env=restart_env)
        self.assertNotIn("BOOTSTRAP_PEERS", victim.effective_env)
        self.assertEqual(victim.node_id(), victim_id)
        self.full_mesh(nodes)

        delivered_before = {n.name: messages(n)["delivered"]["NEW_TX"] for n in others}
        b = self.broadcast(victim, {"tx": "after restart"})
        self.assertEqual(b["sentTo"], 3, b)
        self.wait_everywhere(nodes, b["id"])
        self.wait_quiet(nodes)
        self.assert_delivered_once(nodes, b["id"], victim_id)
        self.assertEqual(messages(victim)["delivered"]["NEW_TX"], 1)
        for n in others:
            self.assertEqual(messages(n)["delivered"]["NEW_TX"], delivered_before[n.name] + 1, n.name)


# ==================================================================================== 4. hostile peer

class HostilePeerIsBanned(ProtocolTest):
    """A fake peer that misbehaves at node A of a 3-node mesh loses reputation step by step, is
    banned and kept out on every path, while honest traffic keeps flowing.

    A scores with decay off and healthCheck weighted 0 (the fake answers every PING with 200, which
    would otherwise add a point per round), so every step has an exact expected score."""

    SPAM_MAX = 40        # per peer per window; honest peers send ~14 PING/PEER_LIST per window
    SPAM_WINDOW_MS = 2000

    def setUp(self):
        super().setUp()
        self.env = fast(300, 300, SPAM_MAX_MESSAGES=self.SPAM_MAX, SPAM_WINDOW_MS=self.SPAM_WINDOW_MS,
                        REPUTATION_BAN_MS=600000, REPUTATION_DECAY_PER_HOUR=0,
                        REPUTATION_WEIGHTS="healthCheck=0")

    def test_misbehaving_peer_is_scored_down_banned_and_kept_out(self):
        a = self.mesh.node("NS", name="a", env=self.env)
        b = self.mesh.node("Gateway", name="b", env=self.env, bootstrap=[a.entry("NS")])
        c = self.mesh.node("VP", name="c", env=self.env, bootstrap=[a.entry("NS")])
        honest = (a, b, c)
        ids = self.full_mesh(honest)
        fake = self.mesh.fake_peer()
        fake_id = "neuro-evil-%d" % fake.port
        fake_key = "127.0.0.1:%d" % fake.port
        hdrs = {"X-Swarm-Node-Id": fake_id, "X-Swarm-Port": str(fake.port)}

        def post(body, headers=hdrs):
            return a.post("/p2p/message", body, headers=headers)

        neuro_join(self, a, fake, fake_id)
        p = self.wait(lambda: by_port(a.peers(), fake.port), "A to list the fake peer")[0]
        self.assertEqual((p["id"], p["nodeId"], p["nodeType"]), (fake_key, fake_id, "NS"))
        # B learns of it from A's peer exchange: later, B's PEER_LISTs to A mention it.
        self.wait(lambda: by_port(b.peers(), fake.port), "B to learn of the fake peer from A")
        score = 50 + 2  # initial + peerExchange
        self.assertEqual(peer_score(a, fake_key), score)
        counters = messages(a)["counters"]

        def step(what, expected_score, **deltas):
            nonlocal counters
            got = peer_score(a, fake_key)
            self.assertEqual(got, expected_score, "score after %s" % what)
            now = messages(a)["counters"]
            for k, d in deltas.items():
                self.assertEqual(now[k], counters[k] + d, "%s after %s" % (k, what))
            counters = now

        # Undecodable envelopes: 400, invalidMessage (-5) each.
        for bad in (b"{not json", {"type": "NEW_TX", "payload": {}, "originNodeId": fake_id, "hops": 0}):
            r = post(bad)
            self.assertEqual(r.status, 400, r)
            self.assertIn("Invalid message format", r.json["error"], r)
        score -= 10
        step("two malformed envelopes", score, invalid=2)

        # Unknown types: 400, invalidMessage each, never relayed.
        for t in ("STEAL_KEYS", "new_tx"):
            r = post(neuro_envelope(fake_id, t, {}))
            self.assertEqual(r.status, 400, r)
            self.assertIn("unknown message type", r.json["error"], r)
        score -= 10
        step("two unknown types", score, invalid=2, relayed=0)

        # A valid NEW_TX (+1), then the same id again: a replay by the same peer, spamDetected (-10).
        tx = neuro_envelope(fake_id, "NEW_TX", {"evil": 1}, msg_id="%s-replayed" % fake_id)
        r = post(tx)
        self.assertEqual(r.status, 200, r)
        self.assertIs(r.json["result"]["processed"], True, r)
        score += 1
        step("a valid NEW_TX", score)
        r = post(dict(tx, hops=1))
        self.assertEqual(r.status, 200, r)
        self.assertIs(r.json["result"]["processed"], False, r)
        self.assertEqual(r.json["result"]["reason"], "duplicate: replayed by the same peer", r)
        score -= 10
        step("a replayed id", score, spam=1, duplicates=0)
        self.assertEqual(messages(a)["delivered"]["NEW_TX"], 1)
        self.assertGreaterEqual(score, 20, "the test needs the fake unbanned before the burst")
        self.assertEqual(reputation(a)["bans"], [])

        # A burst of PINGs over SPAM_MAX_MESSAGES per window: 429, spamDetected, below 20: banned.
        statuses = []
        conn = http.client.HTTPConnection("127.0.0.1", a.port, timeout=5)
        try:
            for i in range(3 * self.SPAM_MAX):
                r = a.post("/p2p/message", neuro_envelope(fake_id, "PING", {"timestamp": i},
                                                          msg_id="%s-ping-%d" % (fake_id, i)),
                           headers=hdrs, conn=conn)
                statuses.append(r.status)
                if r.status == 403:
                    break
        finally:
            conn.close()
        # The first message over the rate is refused with 429 and costs 10: 23 - 10 = 13 < 20, so
        # the very next one finds the peer banned.
        self.assertIn(429, statuses, "no 429 in a burst of %d: %r" % (len(statuses), statuses))
        first_429 = statuses.index(429)
        self.assertLessEqual(first_429, self.SPAM_MAX, statuses)
        self.assertEqual(statuses, [200] * first_429 + [429, 403], statuses)
        score -= 10

        # Banned: listed in /reputation bans (by address and by node id), gone from /peers.
        rep = reputation(a)
        bans = {x["id"]: x for x in rep["bans"]}
        self.assertIn(fake_key, bans, rep["bans"])
        self.assertIn(fake_id, bans, rep["bans"])
        self.assertEqual(bans[fake_key]["score"], score, bans)
        self.assertLess(score, rep["config"]["banThreshold"])
        self.assertGreater(bans[fake_key]["remainingMs"], 500000, bans)
        self.assertEqual(rep["stats"]["banned"], 2, rep["stats"])
        self.assertFalse(by_port(a.peers(), fake.port), "a banned peer is still listed")
        self.assertNotIn(fake_key, [x["id"] for x in rep["peers"]])
        self.assertGreaterEqual(messages(a)["counters"]["bans"], 1)
        # The honest peers keep their standing.
        for x in rep["peers"]:
            self.assertGreaterEqual(x["score"], 50, x)

        # Kept out on every path.
        refused = messages(a)["counters"]["refusedBanned"]
        tries = [
            (neuro_envelope(fake_id, "NEW_TX", {"n": 1}, msg_id="%s-after-ban-1" % fake_id), hdrs),
            (neuro_envelope(fake_id, "NEW_TX", {"n": 2}, msg_id="%s-after-ban-2" % fake_id), {}),
            (neuro_envelope(fake_id, "PEER_LIST", {"peers": [], "senderNodeType": "NS",
                                                   "senderPort": fake.port}), {}),
            (b"{still not json", hdrs),
        ]
        for body, h in tries:
            r = post(body, headers=h)
            self.assertEqual(r.status, 403, (r, h))
            self.assertEqual(r.json, {"error": "peer banned"})
        self.assertEqual(messages(a)["counters"]["refusedBanned"], refused + len(tries))
        r = a.post("/peers/add", {"host": "127.0.0.1", "port": fake.port, "nodeType": "NS"})
        self.assertEqual(r.status, 403, r)
        self.assertIs(r.json["ok"], False, r)
        # An honest NeuroSwarm node's PEER_LIST naming it: the honest one is added, the banned one not.
        friend = self.mesh.fake_peer()
        friend_id = "neuro-friend-%d" % friend.port
        neuro_join(self, a, friend, friend_id,
                   peers=[{"host": "127.0.0.1", "port": fake.port, "nodeType": "NS", "nodeId": fake_id}])
        self.assertTrue(by_port(a.peers(), friend.port))
        self.assertFalse(by_port(a.peers(), fake.port))
        self.assertIsNone(peer_score(a, fake_key))

        # Honest traffic flows: a broadcast from C reaches A and B once.
        tx2 = self.broadcast(c, {"tx": "honest"})
        self.wait_everywhere(honest, tx2["id"])
        self.wait_quiet(honest)
        self.assert_delivered_once(honest, tx2["id"], ids[c.name])

        # B still lists the fake (learned before the ban) and names it in every PEER_LIST to A:
        # for ten PEX rounds, A does not take it back (and sends it nothing: no PING, no PEER_LIST).
        def from_a():
            return [m for m in fake.messages() if m["headers"].get("x-swarm-node-id") == ids[a.name]]
        sent_after_ban = len(from_a())
        self.assertTrue(by_port(b.peers(), fake.port), "B should still list the fake peer")
        self.hold(lambda: not by_port(a.peers(), fake.port) and fake_key in
                  {x["id"] for x in reputation(a)["bans"]},
                  10 * 0.3, "the banned peer staying out of A's table")
        self.assertTrue(by_port(b.peers(), fake.port), "B should still list the fake peer")
        self.assertEqual(len(from_a()), sent_after_ban, "A kept sending to the banned peer")
        self.assertNotIn(tx2["id"], [m["json"].get("id") for m in from_a()])
        # The operator's view, with NeuroSwarm's log prefixes.
        log = read_text(a.log_path)
        self.assertIn("[PeerManager] Added peer: %s" % fake_key, log)
        self.assertIn("[Reputation] %s | banned for" % fake_key, log)
        self.assertIn("[PeerManager] Removed peer: %s (banned)" % fake_key, log)

    def test_ban_expires_and_the_peer_is_accepted_again(self):
        ban_ms = 2500
        env = dict(self.env, REPUTATION_BAN_MS=ban_ms)
        a = self.mesh.node("Gateway", name="a", env=env)
        fake = self.mesh.fake_peer()
        fake_id = "neuro-flaky-%d" % fake.port
        fake_key = "127.0.0.1:%d" % fake.port
        hdrs = {"X-Swarm-Node-Id": fake_id, "X-Swarm-Port": str(fake.port)}
        neuro_join(self, a, fake, fake_id)
        self.assertEqual(peer_score(a, fake_key), 52)
        # 52 - 5 * 7 = 17 < 20: the seventh unknown type bans it.
        for i in range(7):
            r = a.post("/p2p/message", neuro_envelope(fake_id, "BOGUS", {}), headers=hdrs)
            self.assertEqual(r.status, 400, (i, r))
            if i < 6:
                self.assertEqual(peer_score(a, fake_key), 52 - 5 * (i + 1))
        banned_at = time.monotonic()
        self.assertFalse(by_port(a.peers(), fake.port))
        bans = {x["id"]: x for x in reputation(a)["bans"]}
        self.assertEqual(set(bans), {fake_key, fake_id})
        self.assertEqual(bans[fake_key]["score"], 17)
        self.assertLessEqual(bans[fake_key]["remainingMs"], ban_ms)
        r = a.post("/p2p/message", neuro_envelope(fake_id, "NEW_TX", {}), headers=hdrs)
        self.assertEqual(r.status, 403, r)
        self.assertEqual(a.post("/peers/add", {"host": "127.0.0.1", "port": fake.port}).status, 403)

        self.wait(lambda: reputation(a)["bans"] == [], "the ban to expire", timeout=ban_ms / 1000.0 + TIMEOUT)
        self.assertGreaterEqual(time.monotonic() - banned_at, ban_ms / 1000.0 - 0.2, "ban lifted early")
        # Back on probation at 30: it may join again (+2 for its PEER_LIST).
        neuro_join(self, a, fake, fake_id)
        p = by_port(a.peers(), fake.port)
        self.assertEqual(len(p), 1, a.peers())
        self.assertEqual(p[0]["reputation"], 32, p)
        r = a.post("/p2p/message", neuro_envelope(fake_id, "NEW_TX", {"ok": 1}), headers=hdrs)
        self.assertEqual(r.status, 200, r)
        self.assertIs(r.json["result"]["processed"], True, r)
        r = a.post("/peers/add", {"host": "127.0.0.1", "port": fake.port})
        self.assertEqual(r.status, 200, r)
        self.assertIn("already known", r.json["message"], r)


# ==================================================================================== 5. small tables

class SmallPeerTables(ProtocolTest):
    """Eight nodes with MAX_PEERS=3, bootstrapped in a line: no table ever holds more than three
    peers, and broadcasts from both ends still reach all eight once."""

    def test_eight_nodes_max_three_peers_deliver_from_both_ends(self):
        max_peers = 3
        env = fast(300, 300, MAX_PEERS=max_peers)
        types = ("NS", "Gateway", "VP") * 3
        nodes = []

        def over_limit():
            for n in list(nodes):
                r = n.get("/peers", timeout=2)
                if r.status == 200 and (len(r.json["peers"]) > max_peers or r.json["node"]["peerCount"] > max_peers):
                    return "%s lists %d peers: %s" % (n.name, len(r.json["peers"]),
                                                      [p["id"] for p in r.json["peers"]])
            return None
        watch = Watch(self, over_limit, interval=0.05)

        def tables():
            out = {}
            for n in nodes:
                peers = n.peers()
                self.assertLessEqual(len(peers), max_peers, "%s: %r" % (n.name, peers))
                out[n.port] = frozenset(p["port"] for p in peers)
            return out

        for i in range(8):
            nodes.append(self.mesh.node(types[i], name="s%d-%s" % (i, types[i].lower()), env=env,
                                        bootstrap=[nodes[-1].entry()] if nodes else None))

        def reachable_from(t, start):
            seen, todo = {start}, [start]
            while todo:
                for q in t.get(todo.pop(), ()):
                    if q not in seen:
                        seen.add(q)
                        todo.append(q)
            return seen

        ports = {n.port for n in nodes}
        history = collections.deque(maxlen=3)

        def settled():
            # Every node reaches every other along "lists as a peer" edges (what a relay follows),
            # and no table changed over three looks a PEX interval apart.
            t = tables()
            history.append(t)
            ok = (len(history) == 3 and all(h == t for h in history)
                  and all(reachable_from(t, p) == ports for p in ports))
            if not ok:
                time.sleep(0.3)
            return t if ok else None
        started = time.monotonic()
        final_tables = self.wait(settled, "the 8 tables to settle into a strongly connected mesh",
                                 timeout=TIMEOUT * 2)
        settle_s = time.monotonic() - started
        ids = {n.name: n.node_id() for n in nodes}

        ends = (nodes[0], nodes[-1])
        sent = [self.broadcast(n, {"from": n.name}) for n in ends]
        for s in sent:
            self.wait_everywhere(nodes, s["id"])
        self.wait_quiet(nodes)
        for s, origin in zip(sent, ends):
            self.assert_delivered_once(nodes, s["id"], ids[origin.name])
        for n in nodes:
            self.assertEqual(messages(n)["delivered"]["NEW_TX"], 2, n.name)
        tables()
        watch.stop()
        self.assertGreater(watch.polls, 10)
        self.assertEqual(watch.violations, [], "a table held more than %d peers" % max_peers)
        print("\nsmall tables: settled after %.1f s; peers per node %s; %d background polls"
              % (settle_s, [len(final_tables[n.port]) for n in nodes], watch.polls))


# ==================================================================================== 6. NeuroSwarm peer

class NeuroSwarmHttpOnlyPeer(ProtocolTest):
    """A fake NeuroSwarm node (HTTP only, bare 200 replies, no swarm headers) in a 3-node mesh."""

    MAX_FAILURES = 2
    PING_MS = 200
    # PEX rounds (whose 2xx replies are signs of life too) far apart enough for MAX_FAILURES
    # PING rounds to fall between two of them: only PINGs keep the peer while it is watched.
    PEX_MS = 1000

    def test_http_only_peer_is_kept_pinged_and_gossiped_with(self):
        env = fast(self.PEX_MS, self.PING_MS, MAX_FAILURES=self.MAX_FAILURES)
        a = self.mesh.node("NS", name="a", env=env)
        b = self.mesh.node("Gateway", name="b", env=env, bootstrap=[a.entry("NS")])
        c = self.mesh.node("VP", name="c", env=env, bootstrap=[a.entry()])
        swarm = (a, b, c)
        ids = self.full_mesh(swarm)
        removed_before = messages(a)["counters"]["peersRemoved"]
        fake = self.mesh.fake_peer()
        fake_id = "neuro-ns-%d" % fake.port
        neuro_join(self, a, fake, fake_id, sender_type="Gateway")
        p = by_port(a.peers(), fake.port)
        self.assertEqual(len(p), 1, a.peers())
        self.assertEqual((p[0]["nodeType"], p[0]["nodeId"], p[0]["status"]), ("Gateway", fake_id, "active"), p)

        # Pinged by A, the bare 200 counts as PONG: after many PING rounds it is still there.
        def from_a(msg_type):
            return [m for m in fake.messages(msg_type) if m["headers"].get("x-swarm-node-id") == ids[a.name]]
        watch = Watch(self, lambda: None if by_port(a.peers(), fake.port) else "A dropped the fake peer")
        rounds = 5 * self.MAX_FAILURES

        def pinged():
            if watch.violations:
                raise AssertionError(watch.violations[0])
            return len(from_a("PING")) >= rounds
        self.wait(pinged, "the fake to receive %d PINGs from A" % rounds)
        watch.stop()
        self.assertEqual(watch.violations, [], "the fake peer was not kept")
        self.assertGreater(watch.polls, 10)
        self.assertEqual(messages(a)["counters"]["peersRemoved"], removed_before)
        p = by_port(a.peers(), fake.port)
        self.assertEqual((p[0]["status"], p[0]["failures"]), ("active", 0), p)
        ping = from_a("PING")[0]
        self.assertEqual(ping["method"], "POST")
        self.assertEqual(ping["json"]["originNodeId"], ids[a.name])
        self.assertIn("timestamp", ping["json"]["payload"])
        self.assertEqual(ping["headers"].get("x-swarm-port"), str(a.port))
        # A's PEER_LISTs carry NeuroSwarm's senderNodeType and senderPort.
        pl = self.wait(lambda: from_a("PEER_LIST"), "a PEER_LIST from A")[-1]["json"]
        self.assertEqual(pl["payload"]["senderNodeType"], "NS", pl)
        self.assertEqual(pl["payload"]["senderPort"], a.port, pl)
        self.assertEqual(pl["hops"], 0, pl)
        listed = {(x["port"], x.get("nodeType")) for x in pl["payload"]["peers"]}
        self.assertEqual(listed, {(b.port, "Gateway"), (c.port, "VP")}, pl)
        # B and C hear of it from A and take it too (as a NeuroSwarm peer they reach over HTTP).
        for n in (b, c):
            self.wait(lambda n=n: [x for x in by_port(n.peers(), fake.port)
                                   if x["nodeId"] == fake_id and x["status"] == "active"],
                      "%s to learn of the fake peer" % n.name)

        # A broadcast from B reaches the fake exactly once: through A, the node it contacted. B and
        # C only heard of it from A, and a NeuroSwarm node neither relays nor needs their copies.
        tx = self.broadcast(b, {"tx": "to the fake"})
        self.assertEqual(tx["sentTo"], 2, tx)

        def copies():
            return [m for m in fake.messages("NEW_TX") if m["json"]["id"] == tx["id"]]
        self.wait_everywhere(swarm, tx["id"])
        self.wait(lambda: len(copies()) >= 1, "the broadcast to reach the fake")
        self.wait_quiet(swarm)
        # Later traffic from B and C to the fake (PINGs) shows they had their chance to send a copy.
        def sent_by():
            return collections.Counter(m["headers"].get("x-swarm-node-id") for m in fake.messages())
        base = sent_by()
        self.wait(lambda: all(sent_by()[ids[n.name]] >= base[ids[n.name]] + 2 for n in swarm),
                  "two more messages to the fake from each swarm node")
        got = copies()
        self.assertEqual(len(got), 1, "copies of one broadcast at the fake: %r" % got)
        self.assertEqual(got[0]["headers"].get("x-swarm-node-id"), ids[a.name], got)
        self.assertEqual(got[0]["json"]["hops"], 1, got)
        self.assert_delivered_once(swarm, tx["id"], ids[b.name])

        # A NEW_TX from the fake itself (hops 0, no headers: attributed by originNodeId) reaches
        # every swarm node once and never comes back to it.
        own = neuro_envelope(fake_id, "NEW_TX", {"tx": "from NeuroSwarm"},
                             msg_id="%s-%d-ownmessage" % (fake_id, int(time.time() * 1000)))
        r = a.post("/p2p/message", own)
        self.assertEqual(r.status, 200, r)
        self.assertIs(r.json["result"]["processed"], True, r)
        self.assertIs(r.json["result"]["relayed"], True, r)
        self.wait_everywhere(swarm, own["id"])
        self.wait_quiet(swarm)
        self.assert_delivered_once(swarm, own["id"], fake_id)
        rec = [m for m in messages(a)["recent"] if m["id"] == own["id"]][0]
        self.assertEqual(rec["from"], "127.0.0.1:%d" % fake.port, rec)
        for n in swarm:
            self.assertEqual(messages(n)["delivered"]["NEW_TX"], 2, n.name)
        # Each swarm node's later traffic to the fake (PINGs) went out after any relay it made:
        # once two more messages from each have arrived, an echo would have too.
        def sent_by():
            return collections.Counter(m["headers"].get("x-swarm-node-id") for m in fake.messages())
        base = sent_by()
        self.wait(lambda: all(sent_by()[ids[n.name]] >= base[ids[n.name]] + 2 for n in swarm),
                  "two more messages to the fake from each swarm node")
        echoes = [m for m in fake.messages() if m["json"].get("id") == own["id"]]
        self.assertEqual(echoes, [], "the fake's own message was sent back to it")

    def test_peer_answering_500_is_removed_after_max_failures(self):
        # PEX slowed down so that only PINGs go to the peer: each failed one is one failure.
        env = fast(60000, self.PING_MS, MAX_FAILURES=self.MAX_FAILURES)
        a = self.mesh.node("VP", name="a", env=env)
        fake = self.mesh.fake_peer(status=500, reply={"error": "internal"})
        fake_id = "neuro-broken-%d" % fake.port
        neuro_join(self, a, fake, fake_id)
        joined = time.monotonic()
        self.assertEqual(by_port(a.peers(), fake.port)[0]["status"], "active")
        seen = set()

        def gone():
            p = by_port(a.peers(), fake.port)
            if p:
                seen.add((p[0]["status"], p[0]["failures"]))
            return not p
        self.wait(gone, "A to remove the peer that answers 500",
                  timeout=(self.MAX_FAILURES + 3) * self.PING_MS / 1000.0 + 5.0 * SLOW)
        took = time.monotonic() - joined
        pings = fake.messages("PING")
        self.assertGreaterEqual(len(pings), 1)
        self.assertLessEqual(len(pings), self.MAX_FAILURES, "PINGs sent: %d" % len(pings))
        self.assertEqual({m["json"]["type"] for m in fake.messages()}, {"PING"})
        self.assertGreaterEqual(took, 0.8 * (self.MAX_FAILURES - 1) * self.PING_MS / 1000.0,
                                "removed before %d PING rounds" % self.MAX_FAILURES)
        self.assertEqual(messages(a)["counters"]["peersRemoved"], 1)
        # While it was failing it showed as unreachable with a failure count below the limit.
        self.assertIn(("unreachable", 1), seen)



# ==================================================================================== 7. slow peer

class SilentListener:
    """A peer that accepts TCP connections and never says a word: a link to it stays connecting,
    so whatever is sent to it waits in the node's queue for it."""

    def __init__(self):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]
        self.conns = []
        self.stopped = False
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def _accept(self):
        while not self.stopped:
            try:
                c, _ = self.sock.accept()
                self.conns.append(c)
            except OSError:
                return

    def close(self):
        self.stopped = True
        self.sock.close()
        for c in self.conns:
            c.close()


class SlowPeerQueueIsBounded(ProtocolTest):
    """SEND_QUEUE_MAX: a peer that takes nothing costs a bounded queue, a penalty and, at last, its
    place in the table; never memory without bound."""

    def test_overflowing_queue_penalises_and_drops_the_peer(self):
        silent = SilentListener()
        self.addCleanup(silent.close)
        a = self.mesh.node("NS", name="a", env=fast(60000, 60000, SEND_QUEUE_MAX=5, MAX_FAILURES=2,
                                                    REPUTATION_DECAY_PER_HOUR=0))
        r = a.post("/peers/add", {"host": "127.0.0.1", "port": silent.port, "nodeType": "VP"})
        self.assertEqual(r.status, 200, r)
        peer_id = "127.0.0.1:%d" % silent.port
        self.wait(lambda: silent.conns, "the node to dial the silent peer")
        for i in range(40):  # far more than SEND_QUEUE_MAX: each overflow drops the queue
            self.broadcast(a, {"i": i})
            if not by_port(a.peers(), silent.port):
                break
        self.wait(lambda: not by_port(a.peers(), silent.port),
                  "the peer whose queue kept overflowing to be removed")
        log = read_text(a.log_path)
        self.assertIn("[P2P] Send queue to %s full" % peer_id, log)
        self.assertIn("[PeerManager] Removed peer: %s" % peer_id, log)
        self.assertEqual(messages(a)["counters"]["peersRemoved"], 1)
        # messageFailure (-2) for each overflow: the score it is remembered with went down.
        self.assertLessEqual(reputation(a)["stats"]["min"], 46)
        self.assertEqual(a.health()["status"], "ok")


if __name__ == "__main__":
    unittest.main(verbosity=2)
