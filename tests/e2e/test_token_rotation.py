#!/usr/bin/env python3
"""A tokenFile user's token rotates in the middle of a recording, as a projected service-account
token does: the double then refuses the old token (401, `POST /_double/tokens`) and cuts the
attach; the plugin reads the file again after the 401, attaches again with the new token and ends
with a whole recording. (That a 401 on the upgrade itself re-reads the file is pinned by the unit
tests: here a GET of the pod comes first.)"""
import json
import os
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import e2e_support as e2e  # noqa: E402

APP = "while true; do ls / >/dev/null; sleep 0.2; done"


class TokenRotation(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="ksc-rotation-")
        cls.log = os.path.join(cls.tmp, "requests.log")
        cls.d = e2e.Double("--request-log", cls.log, "--token", "tok-a=rotator:system:masters",
                           pods=[e2e.pod_manifest("mypod", APP)])
        cls.d.wait_running("mypod")

    @classmethod
    def tearDownClass(cls):
        cls.d.stop()
        subprocess.run(["rm", "-rf", cls.tmp])

    def requests(self):
        with open(self.log) as f:
            return [json.loads(line) for line in f if line.strip()]

    def test_a_rotated_token_file_is_read_again_mid_recording(self):
        token_file = os.path.join(self.tmp, "token")
        with open(token_file, "w") as f:
            f.write("tok-a\n")
        kubeconfig = os.path.join(self.tmp, "kubeconfig")
        with open(kubeconfig, "w") as f:
            json.dump({"apiVersion": "v1", "kind": "Config", "current-context": "c",
                       "clusters": [{"name": "k", "cluster": {"server": self.d.url,
                                                              "certificate-authority": self.d.info["ca"]}}],
                       "users": [{"name": "rotator", "user": {"tokenFile": token_file}}],
                       "contexts": [{"name": "c", "context": {"cluster": "k", "user": "rotator"}}]}, f)
        out = os.path.join(self.tmp, "profile.json")
        p = subprocess.Popen([os.path.join(e2e.plugin_dir(), "kubectl-seccomp"), "record", "mypod",
                              "--kubeconfig", kubeconfig, "--image", e2e.TRACER_IMAGE, "--timeout", "30s",
                              "--duration", "15s", "--output-file", out],
                             stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                             env=dict(os.environ, HOME=self.tmp))
        try:
            deadline = time.time() + 40
            while time.time() < deadline and not any(r["path"].endswith("/attach") for r in self.requests()):
                time.sleep(0.2)
            self.assertTrue(any(r["path"].endswith("/attach") for r in self.requests()), "never attached")
            time.sleep(1)
            # The rotation: the file first (as the kubelet writes it), then the server's view.
            with open(token_file, "w") as f:
                f.write("tok-b\n")
            self.d.control("tokens", {"tok-b": "rotator:system:masters", "tok-a": None})
            self.assertEqual(self.d.control("drop", {"what": ["attach"]})["dropped"], 1)
            _, err = p.communicate(timeout=90)
        finally:
            e2e.stop_process(p)
        self.assertEqual(p.returncode, 0, err)
        self.assertIn("attaching again", err)
        with open(out) as f:
            names = {n for rule in json.load(f)["syscalls"] for n in rule["names"]}
        self.assertIn("getdents64", names, err)
        seen = [(r["path"], r["authorization"]) for r in self.requests()]
        attaches = [a for path, a in seen if path.endswith("/attach")]
        self.assertEqual(attaches, ["Bearer tok-a", "Bearer tok-b"], err)
        # Once the file had been read again, the old token was never sent again.
        first_b = [a for _, a in seen].index("Bearer tok-b")
        self.assertNotIn("Bearer tok-a", [a for _, a in seen[first_b:]])
        self.assertIn("Bearer tok-a", [a for _, a in seen[:first_b]])


if __name__ == "__main__":
    e2e.require()
    e2e.require_plugin()
    e2e.require_image(e2e.TRACER_IMAGE)
    e2e.main()
