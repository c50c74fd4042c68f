"""A developer adds a node type: scripts/new-node-type.sh scaffolds it in a copy of the tree, the
copy builds, and the new node joins a mesh and is found by ?type=."""

import os
import shutil
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import swarmtest  # noqa: E402

SOURCE = os.path.abspath(os.environ.get("SWARM_SOURCE_DIR",
                                        os.path.join(os.path.dirname(__file__), "..", "..")))
SKIP = shutil.ignore_patterns(".git", "build*", "run", "data", "__pycache__")


class NewNodeType(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="swarm-newtype-")
        cls.tree = os.path.join(cls.tmp, "tree")
        shutil.copytree(SOURCE, cls.tree, ignore=SKIP)
        cls.script = os.path.join(cls.tree, "scripts", "new-node-type.sh")

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def scaffold(self, *args):
        return subprocess.run([self.script, *args], capture_output=True, text=True, timeout=30)

    def test_scaffold_build_join(self):
        r = self.scaffold("Validator", "5000")
        self.assertEqual(r.returncode, 0, r.stderr)
        main_c = os.path.join(self.tree, "validator-node", "main.c")
        with open(main_c) as f:
            text = f.read()
        self.assertIn('.name = "Validator"', text)
        self.assertIn(".default_port = 5000", text)

        # Scaffolding the same type again is refused; the first scaffold is left alone.
        again = self.scaffold("Validator", "5001")
        self.assertEqual(again.returncode, 1)
        self.assertIn("already exists", again.stderr)

        build = os.path.join(self.tmp, "build")
        subprocess.run(["cmake", "-S", self.tree, "-B", build, "-DSWARM_TESTS=OFF",
                        "-DCMAKE_BUILD_TYPE=Debug"], check=True, capture_output=True, timeout=300)
        b = subprocess.run(["cmake", "--build", build, "-j2", "--target", "validator-node", "ns-node"],
                           capture_output=True, text=True, timeout=600)
        self.assertEqual(b.returncode, 0, b.stdout[-3000:] + b.stderr[-3000:])
        validator = os.path.join(build, "validator-node", "validator-node")
        ns_bin = os.path.join(build, "ns-node", "ns-node")

        helptext = subprocess.run([validator, "--help"], capture_output=True, text=True, timeout=30)
        self.assertEqual(helptext.returncode, 0)
        self.assertIn("default port for Validator: 5000", helptext.stdout)

        mesh = swarmtest.Mesh(self)
        ns = mesh.node("NS", command=[ns_bin])
        val = mesh.node("Validator", command=[validator], bootstrap=[ns.entry("NS")])
        self.assertEqual(val.health()["nodeType"], "Validator")

        def listed():
            r = ns.get("/peers?type=Validator")
            return r.status == 200 and [p for p in r.json["peers"] if p["port"] == val.port]
        mesh.wait_until(listed, "the NS node to list the Validator under ?type=Validator")
        r = ns.get("/peers?type=Validator")
        self.assertEqual(r.json["filter"], "Validator")
        self.assertEqual([p["nodeType"] for p in r.json["peers"]], ["Validator"])
        mesh.wait_until(lambda: [p for p in val.get("/peers").json["peers"]
                                 if p["port"] == ns.port and p["nodeType"] == "NS"],
                        "the Validator to list the NS node")

    def test_bad_arguments(self):
        for args in (["validator", "5000x"], ["Bad Name", "5000"], ["9lives", "5000"], ["Ok", "0"],
                     ["Ok", "70000"], ["OnlyOne"]):
            r = self.scaffold(*args)
            self.assertEqual(r.returncode, 2, "%s: %s" % (args, r.stderr))
            self.assertTrue(r.stderr.strip(), args)
        self.assertFalse(os.path.exists(os.path.join(self.tree, "ok-node")))


if __name__ == "__main__":
    unittest.main(verbosity=2)
