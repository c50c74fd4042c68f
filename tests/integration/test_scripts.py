"""The operator's scripts: start-mesh.sh brings up a typed mesh on the ports it is given,
verify-network.sh checks it (and fails on a broken one), stop-mesh.sh takes it down."""

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import swarmtest  # noqa: E402

SOURCE = os.path.abspath(os.environ.get("SWARM_SOURCE_DIR",
                                        os.path.join(os.path.dirname(__file__), "..", "..")))


def script(name):
    return os.path.join(SOURCE, "scripts", name)


class MeshScripts(unittest.TestCase):
    def setUp(self):
        self.run_dir = tempfile.mkdtemp(prefix="swarm-scripts-")
        self.ports = {"NS_PORT": swarmtest.free_port(), "GATEWAY_PORT": swarmtest.free_port(),
                      "VP_PORT": swarmtest.free_port()}
        self.env = dict(os.environ, RUN_DIR=self.run_dir, BUILD_DIR=swarmtest.build_dir(), SKIP_BUILD="1",
                        **{k: str(v) for k, v in self.ports.items()})
        self.addCleanup(self.cleanup)

    def cleanup(self):
        subprocess.run([script("stop-mesh.sh")], env=self.env, capture_output=True, timeout=60)
        for kind in ("ns", "gateway", "vp"):  # in case stop-mesh itself is what broke
            try:
                with open(os.path.join(self.run_dir, kind + ".pid")) as f:
                    os.kill(int(f.read()), signal.SIGKILL)
            except (OSError, ValueError):
                pass
        shutil.rmtree(self.run_dir, ignore_errors=True)

    def pids(self):
        out = {}
        for kind in ("ns", "gateway", "vp"):
            path = os.path.join(self.run_dir, kind + ".pid")
            if os.path.exists(path):
                with open(path) as f:
                    out[kind] = int(f.read())
        return out

    def test_start_verify_stop(self):
        r = subprocess.run([script("start-mesh.sh")], env=self.env, capture_output=True, text=True, timeout=120)
        self.assertEqual(r.returncode, 0, r.stdout[-2000:] + r.stderr[-2000:])
        self.assertIn("mesh up", r.stdout)
        for port in self.ports.values():
            self.assertIn("http://localhost:%d/peers" % port, r.stdout)
        pids = self.pids()
        self.assertEqual(sorted(pids), ["gateway", "ns", "vp"])
        ns = self.ports["NS_PORT"]
        gw = swarmtest.http_get(ns, "/peers?type=Gateway").json
        self.assertEqual([p["port"] for p in gw["peers"]], [self.ports["GATEWAY_PORT"]])

        ports = [str(p) for p in self.ports.values()]
        v = subprocess.run([script("verify-network.sh"), "--broadcast"] + ports, capture_output=True,
                           text=True, timeout=60)
        self.assertEqual(v.returncode, 0, v.stdout + v.stderr)
        self.assertIn("all checks passed", v.stdout)
        self.assertIn("reached every node", v.stdout)

        # A second start while it runs is refused, and leaves the running mesh alone.
        again = subprocess.run([script("start-mesh.sh")], env=self.env, capture_output=True, text=True, timeout=60)
        self.assertEqual(again.returncode, 1)
        self.assertIn("already running", again.stderr)
        self.assertEqual(self.pids(), pids)

        # One node gone: verify-network says so and fails.
        os.kill(pids["vp"], signal.SIGKILL)
        def vp_gone():
            try:
                return swarmtest.http_get(self.ports["VP_PORT"], "/health", timeout=1).status != 200
            except OSError:
                return True
        swarmtest.wait_until(vp_gone, 10, "the VP node to stop answering")
        bad = subprocess.run([script("verify-network.sh")] + ports, capture_output=True, text=True, timeout=60)
        self.assertEqual(bad.returncode, 1, bad.stdout)
        self.assertIn("FAIL", bad.stdout)

        s = subprocess.run([script("stop-mesh.sh")], env=self.env, capture_output=True, text=True, timeout=60)
        self.assertEqual(s.returncode, 0, s.stderr)
        for kind in ("ns", "gateway"):
            deadline = time.time() + 10
            while time.time() < deadline:
                try:
                    os.kill(pids[kind], 0)
                except OSError:
                    break
                time.sleep(0.1)
            else:
                self.fail("%s still running after stop-mesh.sh" % kind)
        self.assertEqual(self.pids(), {})


if __name__ == "__main__":
    unittest.main(verbosity=2)
