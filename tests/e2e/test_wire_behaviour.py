#!/usr/bin/env python3
"""kubectl's behaviour on the wire, side by side with the real kubectl 1.32: Warning headers printed
on stderr as kubectl prints them (once each), --warnings-as-errors, a refused connection failing at
once in kubectl's words, and retries only where client-go retries (Retry-After), visible at -v=6."""
import os
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import e2e_support as e2e  # noqa: E402
from test_connection_flags import find_kubectl  # noqa: E402

KUBECTL = find_kubectl()


class Wire(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.d = e2e.Double("--namespace", "warned:warn=restricted",
                           pods=[e2e.pod_manifest("mypod", "exec sleep 100000", namespace="warned")])
        cls.d.wait_running("mypod", namespace="warned")
        cls.home = tempfile.mkdtemp(prefix="ksc-home-")

    @classmethod
    def tearDownClass(cls):
        cls.d.stop()
        subprocess.run(["rm", "-rf", cls.home])

    def setUp(self):
        self.d.control("config", {"warnings": [], "failRequests": []})

    def run_both(self, kubectl_args, plugin_args, timeout=60):
        env = dict(os.environ, HOME=self.home)
        k = subprocess.run([KUBECTL, "--kubeconfig", self.d.kubeconfig, *kubectl_args], capture_output=True,
                           text=True, env=env, timeout=timeout, stdin=subprocess.DEVNULL)
        start = time.time()
        p = subprocess.run([os.path.join(e2e.plugin_dir(), "kubectl-seccomp"), *plugin_args,
                            "--kubeconfig", self.d.kubeconfig], capture_output=True, text=True, env=env,
                           timeout=timeout, stdin=subprocess.DEVNULL)
        p.elapsed = time.time() - start
        return k, p

    @staticmethod
    def warnings(stderr):
        return [line for line in stderr.splitlines() if line.startswith("Warning: ")]

    def test_warnings_are_printed_once_each_as_kubectl_prints_them(self):
        self.d.control("config", {"warnings": [
            {"path": "^/version", "text": 'the "old" API is deprecated; use \\new'},
            {"path": "^/version", "text": "second warning"}]})
        k, p = self.run_both(["version"], ["version"])
        self.assertEqual(k.returncode, 0, k.stderr)
        self.assertEqual(p.returncode, 0, p.stderr)
        expected = ['Warning: the "old" API is deprecated; use \\new', "Warning: second warning"]
        self.assertEqual(self.warnings(k.stderr), expected)
        self.assertEqual(self.warnings(p.stderr), expected)

    def test_warnings_as_errors(self):
        self.d.control("config", {"warnings": [{"path": "^/version", "text": "careful"}]})
        k, p = self.run_both(["version", "--warnings-as-errors"], ["version", "--warnings-as-errors"])
        self.assertNotEqual(k.returncode, 0)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("error: 1 warning received", k.stderr)
        self.assertIn("error: 1 warning received", p.stderr)
        self.assertEqual(self.warnings(p.stderr), ["Warning: careful"])
        # Without warnings the flag changes nothing.
        self.d.control("config", {"warnings": []})
        k, p = self.run_both(["version", "--warnings-as-errors"], ["version", "--warnings-as-errors"])
        self.assertEqual((k.returncode, p.returncode), (0, 0), k.stderr + p.stderr)

    def test_pod_security_warn_level_reaches_the_user(self):
        # kubectl debug and the recorder both add an ephemeral container the restricted level
        # would refuse: the namespace only warns, and each shows the admission's warning.
        k, p = self.run_both(["debug", "-n", "warned", "mypod", "--image", e2e.IMAGE, "--", "true"],
                             ["record", "-n", "warned", "mypod", "--timeout", "3s", "--image", "localhost/none:1"])
        prefix = 'Warning: would violate PodSecurity "restricted:latest": '
        kw, pw = self.warnings(k.stderr), self.warnings(p.stderr)
        self.assertEqual(len(kw), 1, k.stderr)
        self.assertTrue(kw[0].startswith(prefix), kw)
        self.assertEqual(len(pw), 1, p.stderr)
        self.assertTrue(pw[0].startswith(prefix), pw)
        self.assertIn("SYS_PTRACE", pw[0])

    def test_a_refused_connection_fails_at_once_in_kubectls_words(self):
        with tempfile.NamedTemporaryFile("w", suffix=".kubeconfig") as kc:
            # A port nothing listens on: bind one, note it, close it.
            import socket
            s = socket.socket()
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
            s.close()
            server = "https://127.0.0.1:%d" % port
            k, p = self.run_both(["get", "pods", "-s", server, "--token", "x"],
                                 ["record", "mypod", "-s", server, "--token", "x"])
            words = "The connection to the server 127.0.0.1:%d was refused - did you specify the right host or port?" % port
            self.assertIn(words, k.stderr)
            self.assertIn(words, p.stderr)
            self.assertLess(p.elapsed, 3, p.stderr)

    def test_retries_only_with_retry_after_and_visible_at_v6(self):
        self.d.control("config", {"failRequests": [{"method": "GET", "path": "^/version", "code": 503,
                                                    "count": 2, "retryAfter": 1}]})
        p = subprocess.run([os.path.join(e2e.plugin_dir(), "kubectl-seccomp"), "version", "-v=6",
                            "--kubeconfig", self.d.kubeconfig], capture_output=True, text=True, timeout=60)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(p.stderr.count("Retry-After 1 s"), 2, p.stderr)
        # Without Retry-After a 503 is the answer, at once.
        self.d.control("config", {"failRequests": [{"method": "GET", "path": "^/version", "code": 503,
                                                    "count": 1}]})
        p = subprocess.run([os.path.join(e2e.plugin_dir(), "kubectl-seccomp"), "version",
                            "--kubeconfig", self.d.kubeconfig], capture_output=True, text=True, timeout=60)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("injected failure (503)", p.stderr)


if __name__ == "__main__":
    e2e.require()
    e2e.require_plugin()
    if KUBECTL is None:
        print("SKIP: kubectl.1.32 is not installed beside kubectl", flush=True)
        sys.exit(e2e.SKIP)
    e2e.main()
