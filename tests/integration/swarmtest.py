"""A small harness for swarm integration tests: real node executables on free loopback ports.

Python 3 standard library only. Everything a test starts is owned by a Mesh, which tears it all
down (also when the test fails) and then reports what went wrong at teardown: a node that exited
with an unexpected status, or a node whose log holds a sanitizer report (builds made with
-DSWARM_SANITIZE=ON print "ERROR: AddressSanitizer" / "runtime error:" and exit non-zero).

Typical use in a unittest.TestCase:

    mesh = swarmtest.Mesh(self)            # registers mesh.close() with addCleanup
    ns = mesh.node("NS")
    gw = mesh.node("Gateway", bootstrap=[ns.entry("NS")])
    mesh.wait_until(lambda: gw.peer_by_port(ns.port), "gateway to list NS")
    status, body, headers = gw.get("/peers")

Environment:
    SWARM_BUILD_DIR       build tree holding ns-node/ns-node, gateway-node/gateway-node, vp-node/vp-node
    SWARM_TEST_LOG_LEVEL  LOG_LEVEL given to nodes (default: debug)
    SWARM_TEST_BIND_HOST  BIND_HOST given to nodes (default: 127.0.0.1)
    SWARM_TEST_KEEP       if set, the temporary directories (logs, data dirs) are kept
"""

import atexit
import ctypes
import http.client
import http.server
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

# ------------------------------------------------------------------------------------------ setup

NODE_EXECUTABLES = {
    "NS": os.path.join("ns-node", "ns-node"),
    "Gateway": os.path.join("gateway-node", "gateway-node"),
    "VP": os.path.join("vp-node", "vp-node"),
}

# Nodes listen on loopback only.
LOOPBACK_BIND = os.environ.get("SWARM_TEST_BIND_HOST", "127.0.0.1")
LOG_LEVEL = os.environ.get("SWARM_TEST_LOG_LEVEL", "debug")

DEFAULT_TIMEOUT = 15.0   # seconds a condition may take to become true
POLL_INTERVAL = 0.05     # seconds between two looks at it
STOP_TIMEOUT = 15.0      # seconds a node gets to exit after SIGTERM (sanitizer builds are slower)

# Settings a node reads; none is inherited from the caller's environment.
SWARM_ENV_VARS = ("PORT", "BOOTSTRAP_PEERS", "MAX_PEERS", "NODE_ID", "DATA_DIR", "LOG_LEVEL",
                  "P2P_ENABLE_TLS", "MAX_BODY_BYTES", "BIND_HOST", "ADVERTISE_HOST", "PEX_INTERVAL_MS",
                  "PING_INTERVAL_MS", "MAX_FAILURES", "PEER_INACTIVE_MS", "SEEN_CACHE_SIZE",
                  "SEEN_CACHE_TTL_MS", "MAX_HOPS", "SPAM_WINDOW_MS", "SPAM_MAX_MESSAGES", "SEND_QUEUE_MAX",
                  "REPUTATION_BAN_THRESHOLD", "REPUTATION_BAN_MS", "REPUTATION_DECAY_PER_HOUR",
                  "REPUTATION_WEIGHTS")

SANITIZER_PATTERNS = (
    re.compile(r"ERROR: AddressSanitizer"),
    re.compile(r"ERROR: LeakSanitizer"),
    re.compile(r"ERROR: \w*Sanitizer"),
    re.compile(r"runtime error:"),
    re.compile(r"SUMMARY: \w*Sanitizer"),
)


def build_dir():
    d = os.environ.get("SWARM_BUILD_DIR")
    if not d:
        here = os.path.dirname(os.path.abspath(__file__))
        d = os.path.join(here, "..", "..", "build")
    return os.path.abspath(d)


def executable(node_type):
    """Path of the executable for a node type ("NS", "Gateway", "VP")."""
    try:
        rel = NODE_EXECUTABLES[node_type]
    except KeyError:
        raise ValueError("unknown node type %r (known: %s)" % (node_type, ", ".join(NODE_EXECUTABLES)))
    path = os.path.join(build_dir(), rel)
    if not os.access(path, os.X_OK):
        raise FileNotFoundError("node executable not found: %s (set SWARM_BUILD_DIR)" % path)
    return path


def node_env(extra=None):
    """The environment for a node: the caller's, less every swarm setting, plus `extra`.
    A value of None in extra removes the variable."""
    env = {k: v for k, v in os.environ.items() if k not in SWARM_ENV_VARS}
    for k, v in (extra or {}).items():
        if v is None:
            env.pop(k, None)
        else:
            env[k] = str(v)
    return env


_libc = None


def _die_with_parent():
    """preexec_fn: the child gets SIGKILL if the test process dies (even by SIGKILL), so a killed
    test run never leaves nodes behind. Linux only; harmless elsewhere."""
    global _libc
    try:
        if _libc is None:
            _libc = ctypes.CDLL(None, use_errno=True)
        _libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except Exception:
        pass


# ------------------------------------------------------------------------------------------ ports

_handed_out = set()
_ports_lock = threading.Lock()


def free_port():
    """A TCP port that is free on 127.0.0.1 now (the OS picks it), never the same one twice in this
    process. Nothing listens on it afterwards: it also serves as an unreachable peer address."""
    with _ports_lock:
        for _ in range(100):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            try:
                s.bind(("127.0.0.1", 0))
                port = s.getsockname()[1]
            finally:
                s.close()
            if port not in _handed_out and port not in (3009, 8080, 4000):
                _handed_out.add(port)
                return port
    raise RuntimeError("could not find a free port")


# ------------------------------------------------------------------------------------------ waiting

class WaitTimeout(AssertionError):
    pass


def wait_until(predicate, timeout=DEFAULT_TIMEOUT, what="condition", interval=POLL_INTERVAL,
               details=None):
    """Calls predicate() until it returns something truthy, and returns that. Exceptions it raises
    count as "not yet" (a node not listening yet, ...), except AssertionError, which ends the
    wait at once. On timeout raises WaitTimeout naming `what`, the last value or exception, and
    whatever details() returns."""
    deadline = time.monotonic() + timeout
    last, last_exc = None, None
    while True:
        try:
            last = predicate()
            last_exc = None
            if last:
                return last
        except AssertionError:
            raise
        except Exception as e:  # noqa: BLE001 - any failure means "not yet"
            last_exc = e
        if time.monotonic() >= deadline:
            break
        time.sleep(interval)
    msg = "timed out after %.1fs waiting for %s" % (timeout, what)
    if last_exc is not None:
        msg += "; last error: %r" % (last_exc,)
    else:
        msg += "; last value: %s" % (_short(last),)
    if details is not None:
        try:
            extra = details()
        except Exception as e:  # noqa: BLE001
            extra = "(details failed: %r)" % (e,)
        if extra:
            msg += "\n" + extra
    raise WaitTimeout(msg)


def _short(v, limit=600):
    s = repr(v)
    return s if len(s) <= limit else s[:limit] + "...(%d chars)" % len(s)


# ------------------------------------------------------------------------------------------ HTTP

class Response(tuple):
    """(status, json_or_None, headers) with the raw body in .body. headers: lower-cased names."""

    def __new__(cls, status, data, headers, body):
        r = super().__new__(cls, (status, data, headers))
        r.body = body
        return r

    status = property(lambda self: self[0])
    json = property(lambda self: self[1])
    headers = property(lambda self: self[2])

    def __repr__(self):
        return "Response(status=%r, json=%s, body=%s)" % (self[0], _short(self[1], 300),
                                                          _short(self.body, 300))


def _encode_body(body):
    if body is None:
        return None
    if isinstance(body, (bytes, bytearray)):
        return bytes(body)
    if isinstance(body, str):
        return body.encode()
    return json.dumps(body).encode()


def http_request(port, method, path, body=None, headers=None, host="127.0.0.1", timeout=5.0,
                 conn=None):
    """One HTTP request. body: dict/list (sent as JSON), str, bytes or None. Returns a Response.
    With conn (an http.client.HTTPConnection) the request goes over that connection, which stays
    open; otherwise a new connection is made and closed."""
    data = _encode_body(body)
    hdrs = {}
    if data is not None:
        hdrs["Content-Type"] = "application/json"
    hdrs.update(headers or {})
    own = conn is None
    c = conn or http.client.HTTPConnection(host, port, timeout=timeout)
    try:
        c.request(method, path, body=data, headers=hdrs)
        r = c.getresponse()
        raw = r.read()
        hd = {k.lower(): v for k, v in r.getheaders()}
        status = r.status
    finally:
        if own:
            c.close()
    parsed = None
    if raw:
        try:
            parsed = json.loads(raw)
        except ValueError:
            parsed = None
    return Response(status, parsed, hd, raw)


def http_get(port, path, **kw):
    return http_request(port, "GET", path, **kw)


def http_post(port, path, body=None, **kw):
    return http_request(port, "POST", path, body=body, **kw)


def http_delete(port, path, **kw):
    return http_request(port, "DELETE", path, **kw)


def envelope(msg_type, payload, origin="test-client", msg_id=None, hops=0, timestamp=None):
    """A message envelope as NeuroSwarm nodes write it."""
    now_ms = int(time.time() * 1000)
    return {
        "id": msg_id or "%s-%d-abcdefghi" % (origin, now_ms),
        "type": msg_type,
        "payload": payload,
        "originNodeId": origin,
        "timestamp": timestamp or time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(now_ms / 1000))
        + ".%03dZ" % (now_ms % 1000),
        "hops": hops,
    }


# ------------------------------------------------------------------------------------------ a node

class NodeDied(AssertionError):
    pass


class Node:
    """One node process. Each start() writes a fresh log file (stdout and stderr) under workdir;
    stop()/kill() record problems (bad exit status, sanitizer reports) in self.problems, which
    Mesh.close() turns into a test failure."""

    def __init__(self, node_type, workdir, name=None, data_dir=None, command=None):
        self.node_type = node_type
        # command: the program and its first arguments; by default the node type's executable.
        self.command = list(command) if command else [executable(node_type)]
        self.name = name or node_type.lower()
        self.workdir = workdir
        self.data_dir = data_dir or os.path.join(workdir, self.name + "-data")
        self.port = None
        self.env = {}
        self.args = []
        self.proc = None
        self.runs = 0
        self.log_path = None
        self.logs = []          # every run's log file
        self.problems = []      # human-readable failures found at stop/kill/check time
        self.last_exit = None
        self._expect_exit = None

    # --- lifecycle

    def start(self, port=None, env=None, bootstrap=None, args=(), wait=True, timeout=DEFAULT_TIMEOUT):
        """Starts the node. port None picks a free one (and retries with another if it turned out
        taken). bootstrap: a list of "host:port[:type]" entries or a ready string. env: extra
        variables (None removes one). Waits until /health answers unless wait=False."""
        if self.running():
            raise RuntimeError("%s is already running" % self.name)
        if env is not None:
            self.env = dict(env)
        if bootstrap is not None:
            self.env["BOOTSTRAP_PEERS"] = bootstrap if isinstance(bootstrap, str) else ",".join(bootstrap)
        self.args = list(args)
        chosen = port is not None or self.port is not None
        attempts = 1 if chosen else 3
        for attempt in range(attempts):
            if not chosen:
                self.port = free_port()
            elif port is not None:
                self.port = port
            known_problems = len(self.problems)
            self._spawn()
            if not wait:
                return self
            try:
                self.wait_ready(timeout)
                return self
            except NodeDied:
                if chosen or attempt == attempts - 1 or "cannot listen" not in self.log_text():
                    raise
                del self.problems[known_problems:]  # lost a race for the port: try another one
        return self

    def _spawn(self):
        os.makedirs(self.workdir, exist_ok=True)
        self.runs += 1
        self.log_path = os.path.join(self.workdir, "%s.run%d.log" % (self.name, self.runs))
        self.logs.append(self.log_path)
        env = {"PORT": self.port, "DATA_DIR": self.data_dir, "LOG_LEVEL": LOG_LEVEL,
               "BIND_HOST": LOOPBACK_BIND}
        env.update(self.env)
        self.effective_env = node_env(env)
        with open(self.log_path, "wb") as log:
            self.proc = subprocess.Popen(self.command + self.args, env=self.effective_env,
                                         stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                         cwd=self.workdir, preexec_fn=_die_with_parent)
        self._expect_exit = None
        _registry.add(self)

    def wait_ready(self, timeout=DEFAULT_TIMEOUT):
        def ready():
            self.assert_alive()
            r = http_get(self.port, "/health", timeout=2)
            return r.status == 200
        wait_until(ready, timeout, "%s to answer /health on port %s" % (self.name, self.port),
                   details=self.log_tail)

    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def assert_alive(self):
        """Raises NodeDied (with the log tail) if the process has exited."""
        if self.proc is not None and self.proc.poll() is not None:
            pid, rc = self.proc.pid, self.proc.returncode
            self._reap(expected=False)
            raise NodeDied("%s (pid %d) exited unexpectedly with status %s\n%s"
                           % (self.name, pid, rc, self.log_tail()))
        if self.proc is None:
            raise NodeDied("%s is not running" % self.name)

    def stop(self, timeout=STOP_TIMEOUT, expect=0):
        """SIGTERM (unless it has already exited) and wait; the exit status must be `expect`
        (0: a clean stop). Returns it. Records a problem (and kills the node) if it does not exit
        in time."""
        if self.proc is None:
            return self.last_exit
        self._expect_exit = expect
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.problems.append("%s did not exit within %.0fs of SIGTERM (killed)" % (self.name, timeout))
                self.proc.kill()
                self.proc.wait()
        return self._reap(expected=True)

    def kill(self):
        """SIGKILL: a crash, as far as the node can tell. No exit status to check."""
        if self.proc is None:
            return self.last_exit
        if self.proc.poll() is None:
            self._expect_exit = -signal.SIGKILL
            self.proc.kill()
            self.proc.wait()
        return self._reap(expected=True)

    def restart(self, env=None, bootstrap=None, args=None, wait=True, **kw):
        """Clean stop (exit 0 checked) and start again on the same port and data dir, with the same
        settings unless env (replaces them all: env={} drops BOOTSTRAP_PEERS too) or bootstrap."""
        self.stop()
        if env is None:
            env = self.env
        return self.start(port=self.port, env=env, bootstrap=bootstrap,
                          args=self.args if args is None else args, wait=wait, **kw)

    def _reap(self, expected=True):
        """Checks a finished run: exit status and sanitizer reports. Returns the exit status."""
        if self.proc is None:
            return self.last_exit
        rc = self.proc.wait()
        exp = self._expect_exit
        if not expected or exp is None:
            self.problems.append("%s (run %d) exited by itself with status %s" % (self.name, self.runs, rc))
        elif rc != exp:
            self.problems.append("%s (run %d) exited with status %s, expected %s"
                                 % (self.name, self.runs, rc, exp))
        reports = self.sanitizer_reports()
        if reports:
            self.problems.append("%s (run %d) sanitizer report in %s:\n%s"
                                 % (self.name, self.runs, self.log_path, "\n".join(reports)))
        self.last_exit = rc
        self.proc = None
        _registry.discard(self)
        return rc

    # --- logs

    def log_text(self, path=None):
        try:
            with open(path or self.log_path, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except (OSError, TypeError):
            return ""

    def log_tail(self, lines=40):
        text = self.log_text()
        tail = text.splitlines()[-lines:]
        return "--- %s log (%s), last %d lines ---\n%s" % (self.name, self.log_path, len(tail), "\n".join(tail))

    def sanitizer_reports(self):
        """Lines of this run's log that look like a sanitizer report (with some context)."""
        lines = self.log_text().splitlines()
        for i, line in enumerate(lines):
            if any(p.search(line) for p in SANITIZER_PATTERNS):
                return lines[max(0, i - 2): i + 40]
        return []

    # --- HTTP

    def request(self, method, path, body=None, headers=None, timeout=5.0, conn=None):
        try:
            return http_request(self.port, method, path, body=body, headers=headers, timeout=timeout,
                                conn=conn)
        except (OSError, http.client.HTTPException):
            if self.proc is not None and self.proc.poll() is not None:
                self.assert_alive()  # raises with the log: more useful than "connection refused"
            raise

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def post(self, path, body=None, **kw):
        return self.request("POST", path, body=body, **kw)

    def delete(self, path, **kw):
        return self.request("DELETE", path, **kw)

    def health(self):
        r = self.get("/health")
        if r.status != 200:
            raise AssertionError("%s /health answered %r" % (self.name, r))
        return r.json

    def peers(self, node_type=None):
        """The peers list of GET /peers (optionally ?type=)."""
        path = "/peers" if node_type is None else "/peers?type=" + node_type
        r = self.get(path)
        if r.status != 200 or not isinstance(r.json, dict):
            raise AssertionError("%s GET %s answered %r" % (self.name, path, r))
        return r.json["peers"]

    def peer_by_port(self, port, host="127.0.0.1"):
        for p in self.peers():
            if p.get("port") == port and p.get("host") == host:
                return p
        return None

    def node_id(self):
        return self.health()["nodeId"]

    def entry(self, node_type=None, host="127.0.0.1"):
        """This node as a BOOTSTRAP_PEERS entry: "127.0.0.1:port[:type]"."""
        return "%s:%d" % (host, self.port) + (":" + node_type if node_type else "")

    def __repr__(self):
        return "<Node %s %s port=%s pid=%s>" % (self.name, self.node_type, self.port,
                                                self.proc.pid if self.proc else None)


class _Registry:
    """Every running node of this process, killed at exit whatever happened."""

    def __init__(self):
        self.nodes = set()
        self.lock = threading.Lock()

    def add(self, n):
        with self.lock:
            self.nodes.add(n)

    def discard(self, n):
        with self.lock:
            self.nodes.discard(n)

    def kill_all(self):
        with self.lock:
            nodes = list(self.nodes)
        for n in nodes:
            try:
                if n.proc is not None and n.proc.poll() is None:
                    n.proc.kill()
                    n.proc.wait(5)
            except Exception:  # noqa: BLE001
                pass


_registry = _Registry()
atexit.register(_registry.kill_all)


# ------------------------------------------------------------------------------------------ fake peer

class FakePeer:
    """A NeuroSwarm-style HTTP-only peer: answers POST /p2p/message with 200
    {"ok":true,"result":{"processed":true}} (no node identity) and records every request
    (method, path, headers, raw body, parsed JSON). Listens on 127.0.0.1:<free port>."""

    def __init__(self, reply=None, status=200):
        self.reply = reply if reply is not None else {"ok": True, "result": {"processed": True}}
        self.status = status
        self.received = []
        self.lock = threading.Lock()
        self.cond = threading.Condition(self.lock)
        fake = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _handle(self):
                n = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(n) if n else b""
                try:
                    parsed = json.loads(raw) if raw else None
                except ValueError:
                    parsed = None
                rec = {"method": self.command, "path": self.path,
                       "headers": {k.lower(): v for k, v in self.headers.items()},
                       "body": raw, "json": parsed, "client": self.client_address}
                with fake.cond:
                    fake.received.append(rec)
                    fake.cond.notify_all()
                if self.command == "POST" and self.path == "/p2p/message":
                    status, body = fake.status, json.dumps(fake.reply).encode()
                else:
                    status, body = 404, b'{"error":"not found"}'
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.send_header("Connection", "close")
                self.end_headers()
                self.wfile.write(body)
                self.close_connection = True

            do_POST = do_GET = do_DELETE = do_PUT = _handle

            def log_message(self, *a):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        _handed_out.add(self.port)
        self.thread = threading.Thread(target=self.server.serve_forever, name="fakepeer-%d" % self.port,
                                       daemon=True)
        self.thread.start()

    def messages(self, msg_type=None):
        with self.lock:
            recs = list(self.received)
        out = [r for r in recs if r["path"] == "/p2p/message" and isinstance(r["json"], dict)]
        if msg_type:
            out = [r for r in out if r["json"].get("type") == msg_type]
        return out

    def entry(self, node_type=None):
        return "127.0.0.1:%d" % self.port + (":" + node_type if node_type else "")

    def close(self):
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(5)


# ------------------------------------------------------------------------------------------ the mesh

class Mesh:
    """Owns nodes, fake peers and a temporary directory; close() tears everything down and raises
    AssertionError listing every problem found (bad exit status, sanitizer report). Pass a
    unittest.TestCase to have close() registered with addCleanup."""

    def __init__(self, testcase=None, prefix="swarmtest-"):
        self.tmp = tempfile.mkdtemp(prefix=prefix)
        self.nodes = []
        self.fakes = []
        self.closed = False
        self.testcase = testcase
        if testcase is not None:
            testcase.addCleanup(self.close)

    def node(self, node_type, name=None, port=None, bootstrap=None, env=None, args=(), wait=True,
             data_dir=None, command=None):
        """Creates and starts a node (see Node.start). Names default to type-lowercase, -2, -3..."""
        base = name or node_type.lower()
        name = base
        k = 2
        while any(n.name == name for n in self.nodes):
            name = "%s-%d" % (base, k)
            k += 1
        n = Node(node_type, self.tmp, name=name, data_dir=data_dir, command=command)
        self.nodes.append(n)
        n.start(port=port, env=env or {}, bootstrap=bootstrap, args=args, wait=wait)
        return n

    def fake_peer(self, **kw):
        f = FakePeer(**kw)
        self.fakes.append(f)
        return f

    def path(self, *parts):
        return os.path.join(self.tmp, *parts)

    def check_alive(self):
        """Raises NodeDied if any node that should be running has exited."""
        for n in self.nodes:
            if n.proc is not None:
                n.assert_alive()

    def describe(self):
        return "\n".join(n.log_tail(25) for n in self.nodes if n.log_path)

    def wait_until(self, predicate, what="condition", timeout=DEFAULT_TIMEOUT):
        """wait_until that fails at once when a node dies, and shows the nodes' logs on timeout."""
        def pred():
            self.check_alive()
            return predicate()
        return wait_until(pred, timeout, what, details=self.describe)

    def close(self):
        if self.closed:
            return
        self.closed = True
        problems = []
        try:
            for f in self.fakes:
                try:
                    f.close()
                except Exception as e:  # noqa: BLE001
                    problems.append("fake peer %d: close failed: %r" % (f.port, e))
            for n in self.nodes:
                try:
                    if n.proc is not None:
                        if n.proc.poll() is not None:
                            n._reap(expected=False)
                        else:
                            n.stop()
                except Exception as e:  # noqa: BLE001
                    problems.append("%s: teardown failed: %r" % (n.name, e))
                    try:
                        n.proc.kill()
                    except Exception:  # noqa: BLE001
                        pass
                problems.extend(n.problems)
        finally:
            keep = bool(os.environ.get("SWARM_TEST_KEEP"))
            logs = self.describe() if problems and not keep else ""
            if not keep:
                shutil.rmtree(self.tmp, ignore_errors=True)
        if problems:
            where = "logs kept in %s" % self.tmp if keep else "set SWARM_TEST_KEEP=1 to keep the logs"
            raise AssertionError("problems at teardown (%s):\n" % where + "\n".join(problems)
                                 + ("\n" + logs if logs else ""))

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False


def run_node_once(node_type, env=None, args=(), timeout=20.0, cwd=None):
    """Runs a node executable that is expected to exit by itself (bad settings, --help), with the
    swarm variables of the caller's environment removed. Returns subprocess.CompletedProcess with
    text stdout/stderr. If it does not exit in `timeout`, it is killed and AssertionError raised."""
    try:
        return subprocess.run([executable(node_type)] + list(args), env=node_env(env),
                              stdin=subprocess.DEVNULL, capture_output=True, text=True,
                              timeout=timeout, cwd=cwd, preexec_fn=_die_with_parent)
    except subprocess.TimeoutExpired as e:
        raise AssertionError("%s %s did not exit within %.0fs (env %r); stderr: %s"
                             % (node_type, " ".join(args), timeout, env, e.stderr))


def sanitizer_lines(text):
    """The lines of text that look like a sanitizer report."""
    return [l for l in text.splitlines() if any(p.search(l) for p in SANITIZER_PATTERNS)]


if __name__ == "__main__":
    print("swarmtest: build dir %s" % build_dir(), file=sys.stderr)
