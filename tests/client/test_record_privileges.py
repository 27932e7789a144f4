#!/usr/bin/env python3
"""`kubectl seccomp record --privileges auto` (the default) run by real kubectl against the API-server
double with the real tracer image: a non-root app gets a same-user recorder (its uid, no capability);
when that one is refused ptrace (the app holds a capability the recorder lacks), a second recorder with
SYS_PTRACE is added and records; a root app gets SYS_PTRACE at once; in a restricted namespace the
same-user recorder is admitted where SYS_PTRACE is not.
Run: KSC_BUILD_DIR=build python3 tests/client/test_record_privileges.py -v"""
import json
import os
import subprocess
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "e2e"))
import e2e_support as e2e  # noqa: E402

TRACER_IMAGE = e2e.TRACER_IMAGE
LOOP = "echo app-started; while true; do ls / >/dev/null; cat /etc/hostname >/dev/null; sleep 1; done"
RESTRICTED = {"runAsUser": 1000, "runAsGroup": 1000, "runAsNonRoot": True, "allowPrivilegeEscalation": False,
              "capabilities": {"drop": ["ALL"]}, "seccompProfile": {"type": "RuntimeDefault"}}


class RecordPrivileges(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        nonroot = e2e.pod_manifest("nonroot", LOOP)
        nonroot["spec"]["securityContext"] = {"runAsUser": 1000, "runAsGroup": 1000}  # the pod's, inherited
        # podman gives a non-root user its added capabilities (ambient): a tracer without them gets EPERM.
        capable = e2e.pod_manifest("capable", LOOP, securityContext={
            "runAsUser": 1000, "capabilities": {"add": ["NET_BIND_SERVICE"]}})
        root = e2e.pod_manifest("root", LOOP)
        locked = e2e.pod_manifest("locked", LOOP, namespace="locked", securityContext=RESTRICTED)
        pods = [nonroot, capable, root, locked]
        for p in pods:
            p["spec"]["restartPolicy"] = "Never"
        cls.d = e2e.Double("--namespace", "locked:restricted", pods=pods)
        for p in pods:
            cls.d.wait_running(p["metadata"]["name"], namespace=p["metadata"]["namespace"])

    @classmethod
    def tearDownClass(cls):
        cls.d.stop()

    def record(self, *args, timeout=180):
        env = dict(os.environ, PATH=e2e.plugin_dir() + os.pathsep + os.environ["PATH"])
        return subprocess.run(["kubectl", "seccomp", "record", "--image", TRACER_IMAGE, *args,
                               "--kubeconfig", self.d.kubeconfig],
                              capture_output=True, text=True, timeout=timeout, env=env)

    def recorders(self, pod, namespace="default"):
        p = self.d.pod(pod, namespace=namespace)
        return [c for c in p["spec"].get("ephemeralContainers", []) if c["name"].startswith("seccomp-recorder-")]

    def assert_profile(self, r):
        self.assertEqual(r.returncode, 0, r.stderr)
        profile = json.loads(r.stdout)
        allowed = e2e.allowed(profile)
        for name in ("execve", "getdents64", "openat", "wait4"):
            self.assertIn(name, allowed, r.stderr)

    def test_a_non_root_app_gets_a_same_user_recorder(self):
        r = self.record("nonroot", "--duration", "4s", "-o", "json")
        self.assert_profile(r)
        recs = self.recorders("nonroot")
        self.assertEqual(len(recs), 1, r.stderr)
        sc = recs[0]["securityContext"]
        self.assertEqual(sc["capabilities"], {"drop": ["ALL"]})
        self.assertEqual((sc["runAsUser"], sc["runAsGroup"], sc["runAsNonRoot"]), (1000, 1000, True))
        self.assertIn("same-user, uid 1000 and no capability", r.stderr)

    def test_eperm_as_the_apps_user_adds_a_recorder_with_sys_ptrace(self):
        r = self.record("capable", "--duration", "4s", "-o", "json")
        self.assert_profile(r)
        recs = self.recorders("capable")
        self.assertEqual(len(recs), 2, r.stderr)
        first, second = (c["securityContext"] for c in recs)
        self.assertEqual(first["capabilities"], {"drop": ["ALL"]})
        self.assertEqual(first["runAsUser"], 1000)
        self.assertEqual(second["capabilities"], {"drop": ["ALL"], "add": ["SYS_PTRACE"]})
        self.assertNotIn("runAsUser", second)
        self.assertIn("was refused ptrace", r.stderr)
        self.assertIn("SYS_PTRACE, as the app's uid was refused ptrace", r.stderr)

    def test_a_root_app_gets_sys_ptrace_at_once(self):
        r = self.record("root", "--duration", "4s", "-o", "json")
        self.assert_profile(r)
        recs = self.recorders("root")
        self.assertEqual(len(recs), 1, r.stderr)
        self.assertEqual(recs[0]["securityContext"]["capabilities"], {"drop": ["ALL"], "add": ["SYS_PTRACE"]})
        self.assertIn("sets no runAsUser (its uid is unknown)", r.stderr)

    def test_restricted_namespace_admits_the_same_user_recorder(self):
        r = self.record("locked", "-n", "locked", "--duration", "4s", "-o", "json")
        self.assert_profile(r)
        recs = self.recorders("locked", namespace="locked")
        self.assertEqual(len(recs), 1, r.stderr)
        self.assertEqual(recs[0]["securityContext"]["runAsUser"], 1000)

    def test_ptrace_asked_for_is_sys_ptrace_even_for_a_non_root_app(self):
        r = self.record("nonroot", "--privileges", "ptrace", "--duration", "3s", "-o", "json")
        self.assert_profile(r)
        sc = self.recorders("nonroot")[-1]["securityContext"]
        self.assertEqual(sc["capabilities"], {"drop": ["ALL"], "add": ["SYS_PTRACE"]})
        self.assertIn("SYS_PTRACE (--privileges ptrace)", r.stderr)


if __name__ == "__main__":
    e2e.require()
    e2e.require_plugin()
    e2e.require_image(TRACER_IMAGE)
    unittest.main()
