#!/usr/bin/env python3
"""Tab completion through the real kubectl: `kubectl __complete seccomp ...` runs
kubectl_complete-seccomp from PATH (beside the built plugin) and prints cobra's format."""
import os
import shutil
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import e2e_support as e2e  # noqa: E402
from test_connection_flags import find_kubectl  # noqa: E402

KUBECTL = find_kubectl()
DEPLOY = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "shop", "namespace": "default"},
          "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "shop"}},
                   "template": {"metadata": {"labels": {"app": "shop"}},
                                "spec": {"containers": [{"name": "app", "image": e2e.IMAGE,
                                                         "command": ["sleep", "100000"]}]}}}}


class Completion(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        web = e2e.pod_manifest("web", "exec sleep 100000")
        web["spec"]["containers"].append({"name": "sidecar", "image": e2e.IMAGE, "command": ["sleep", "100000"]})
        cls.d = e2e.Double(pods=[web, DEPLOY])
        cls.d.wait_running("web")

    @classmethod
    def tearDownClass(cls):
        cls.d.stop()

    def complete(self, *words, kubeconfig=None):
        env = dict(os.environ, PATH=e2e.plugin_dir() + os.pathsep + os.environ["PATH"],
                   KUBECONFIG=kubeconfig or self.d.kubeconfig)
        start = time.time()
        r = subprocess.run([KUBECTL, "__complete", "seccomp", *words], capture_output=True, text=True,
                           env=env, timeout=60, stdin=subprocess.DEVNULL)
        self.assertEqual(r.returncode, 0, r.stderr)
        lines = r.stdout.splitlines()
        self.assertTrue(lines and lines[-1].startswith(":"), r.stdout)
        return lines[:-1], lines[-1], time.time() - start

    def test_verbs_flags_and_values(self):
        self.assertEqual(self.complete("rec")[0], ["record", "recover"])
        self.assertIn("--privileges", self.complete("record", "--pri")[0])
        self.assertEqual(self.complete("record", "--privileges", "")[0], ["auto", "same-user", "ptrace"])
        self.assertEqual(self.complete("record", "--image-pull-policy", "")[0], ["Always", "IfNotPresent", "Never"])
        self.assertEqual(self.complete("record", "-o", "")[0], ["json", "yaml", "report"])
        self.assertEqual(self.complete("record", "--base", "")[0], ["runc", "crun", "both", "none"])
        self.assertIn("--as-group", self.complete("record", "--as")[0])
        self.assertNotIn("--pod", self.complete("record", "--")[0])
        # check: its own flags and values; --profile is a file (cobra's default directive, :0).
        self.assertIn("--from-start", self.complete("check", "--fr")[0])
        self.assertEqual(self.complete("check", "--mode", "")[0], ["complain", "enforce"])
        self.assertEqual(self.complete("check", "-o", "")[0], ["report", "json"])
        self.assertEqual(self.complete("check", "--profile", "")[1], ":0")
        # rbac completes its own flags, the verbs that need RBAC, then as that verb does.
        self.assertEqual(self.complete("rbac", "")[0], ["record", "recover", "check"])
        self.assertIn("--required-only", self.complete("rbac", "--req")[0])
        self.assertIn("--from-start", self.complete("rbac", "--user", "alice", "record", "--from")[0])
        self.assertIn("web", self.complete("rbac", "record", "")[0])
        self.assertEqual(self.complete("completion", "")[0], ["install"])

    def test_from_the_cluster(self):
        names, directive, _ = self.complete("record", "")
        self.assertIn("web", names)
        self.assertIn("deploy/", names)
        self.assertEqual(directive, ":4")
        self.assertEqual(self.complete("record", "deploy/")[0], ["deploy/shop"])
        self.assertIn("web", self.complete("check", "")[0])
        self.assertEqual(self.complete("record", "web", "-c", "")[0], ["app", "sidecar"])
        self.assertIn("kube-system", self.complete("record", "-n", "")[0])
        self.assertEqual(self.complete("record", "--context", "")[0], ["apidouble"])

    def test_silent_and_quick_when_the_cluster_is_not_there(self):
        kc = os.path.join(self.d.dir, "refused.kubeconfig")
        with open(self.d.kubeconfig) as f:
            text = f.read().replace(self.d.url, "https://127.0.0.1:9")
        with open(kc, "w") as f:
            f.write(text)
        names, directive, elapsed = self.complete("record", "", kubeconfig=kc)
        self.assertEqual(names, ["deploy/"])
        self.assertLess(elapsed, 10)

    def test_completion_install_puts_it_beside_the_plugin_on_path(self):
        # As krew lays it out: only the plugin linked into a bin directory on PATH.
        root = tempfile.mkdtemp(prefix="ksc-completion-")
        self.addCleanup(shutil.rmtree, root, True)
        bin_dir = os.path.join(root, "bin")
        os.mkdir(bin_dir)
        os.symlink(os.path.join(e2e.plugin_dir(), "kubectl-seccomp"), os.path.join(bin_dir, "kubectl-seccomp"))
        path = bin_dir + os.pathsep + os.path.dirname(KUBECTL) + os.pathsep + "/usr/bin:/bin"
        env = dict(os.environ, PATH=path, KUBECONFIG=self.d.kubeconfig)
        before = subprocess.run([KUBECTL, "__complete", "seccomp", "rec"], capture_output=True, text=True, env=env,
                                timeout=60, stdin=subprocess.DEVNULL)
        self.assertNotIn("record", before.stdout)  # kubectl finds no kubectl_complete-seccomp yet
        for expected in ("linked %s/kubectl_complete-seccomp -> kubectl-seccomp" % bin_dir, "already there"):
            r = subprocess.run([KUBECTL, "seccomp", "completion", "install"], capture_output=True, text=True,
                               env=env, timeout=60, stdin=subprocess.DEVNULL)
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertIn(expected, r.stdout)
            self.assertEqual(r.stdout.count("\n"), 1, r.stdout)
        after = subprocess.run([KUBECTL, "__complete", "seccomp", "rec"], capture_output=True, text=True, env=env,
                               timeout=60, stdin=subprocess.DEVNULL)
        self.assertEqual(after.stdout.splitlines()[:-1], ["record", "recover"], after.stderr)
        pods = subprocess.run([KUBECTL, "__complete", "seccomp", "record", ""], capture_output=True, text=True,
                              env=env, timeout=60, stdin=subprocess.DEVNULL)
        self.assertIn("web", pods.stdout.splitlines())
        # Someone else's file there is left alone.
        os.unlink(os.path.join(bin_dir, "kubectl_complete-seccomp"))
        with open(os.path.join(bin_dir, "kubectl_complete-seccomp"), "w") as f:
            f.write("#!/bin/sh\necho mine\n")
        r = subprocess.run([KUBECTL, "seccomp", "completion", "install"], capture_output=True, text=True,
                           env=env, timeout=60, stdin=subprocess.DEVNULL)
        self.assertEqual(r.returncode, 1)
        self.assertIn("is not kubectl-seccomp's: remove it, or give --dir", r.stderr)


if __name__ == "__main__":
    e2e.require()
    e2e.require_plugin()
    if KUBECTL is None:
        print("SKIP: kubectl.1.32 is not installed beside kubectl", flush=True)
        sys.exit(e2e.SKIP)
    e2e.main()
