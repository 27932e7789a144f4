#!/usr/bin/env python3
"""`kubectl seccomp record` run by real kubectl (found on PATH, as a user's is) against the
API-server double, with the real tracer image as the recorder: the profile, the recorder's spec,
the ways a recording ends (--duration, Ctrl-C, the app exiting) and the clear refusals.
Run: KSC_BUILD_DIR=build python3 tests/client/test_record.py -v"""
import json
import os
import signal
import subprocess
import sys
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "e2e"))
import e2e_support as e2e  # noqa: E402

TRACER_IMAGE = e2e.TRACER_IMAGE
LOOP = "echo app-started; while true; do ls / >/dev/null; cat /etc/hostname >/dev/null; sleep 1; done"


class Record(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        pods = [e2e.pod_manifest("loop1", LOOP), e2e.pod_manifest("loop2", LOOP), e2e.pod_manifest("loop3", LOOP),
                e2e.pod_manifest("locked", LOOP, namespace="locked")]
        two = e2e.pod_manifest("two", LOOP)
        two["spec"]["containers"].append(dict(two["spec"]["containers"][0], name="side"))
        pods.append(two)
        for p in pods:
            p["spec"]["restartPolicy"] = "Never"
            p["spec"]["containers"][0].pop("restartPolicy", None)
        cls.d = e2e.Double("--namespace", "locked:baseline", pods=pods)
        for p in pods:
            cls.d.wait_running(p["metadata"]["name"], namespace=p["metadata"]["namespace"])
        cls.exec_kubeconfig = os.path.join(os.path.dirname(cls.d.kubeconfig), "kubeconfig-exec")

    @classmethod
    def tearDownClass(cls):
        cls.d.stop()

    def setUp(self):
        self.d.control("config", {"deny": [], "imagePullFailure": []})

    def record_cmd(self, *args, kubeconfig=None):
        # kubectl takes no flags before a plugin's name: --kubeconfig goes after it, to the plugin.
        return ["kubectl", "seccomp", "record", "--image", TRACER_IMAGE, *args,
                "--kubeconfig", kubeconfig or self.exec_kubeconfig]

    def env(self):
        return dict(os.environ, PATH=e2e.plugin_dir() + os.pathsep + os.environ["PATH"])

    def record(self, *args, timeout=120):
        return subprocess.run(self.record_cmd(*args), capture_output=True, text=True, timeout=timeout,
                              env=self.env())

    def test_duration_ends_the_recording_with_a_profile_of_what_the_app_did(self):
        r = self.record("loop1", "--duration", "4s", "-o", "json")
        self.assertEqual(r.returncode, 0, r.stderr)
        profile = json.loads(r.stdout)
        allowed = e2e.allowed(profile)
        for name in ("execve", "getdents64", "openat", "wait4"):  # ls, cat and sh's loop
            self.assertIn(name, allowed)
        self.assertEqual(profile["defaultAction"], "SCMP_ACT_ERRNO")
        self.assertIn("start-up is not in this profile", r.stderr)
        # The recorder was added as docs/design.md specifies, and has ended.
        pod = self.d.pod("loop1")
        spec = [c for c in pod["spec"]["ephemeralContainers"] if c["name"].startswith("seccomp-recorder-")][-1]
        sc = spec["securityContext"]
        self.assertEqual(sc["capabilities"], {"drop": ["ALL"], "add": ["SYS_PTRACE"]})
        self.assertEqual((sc["allowPrivilegeEscalation"], sc["readOnlyRootFilesystem"]), (False, True))
        self.assertEqual(sc["seccompProfile"], {"type": "RuntimeDefault"})
        self.assertEqual((spec["targetContainerName"], spec["stdin"], spec["tty"]), ("app", True, False))
        self.d.wait_for(lambda p: "terminated" in (e2e.container_status(p, spec["name"]) or {}).get("state", {}),
                        "the recorder ends after stop", name="loop1")

    def test_one_ctrl_c_stops_and_writes_the_profile(self):
        out = os.path.join(self.d.dir, "ctrl-c.json")
        p = subprocess.Popen(self.record_cmd("loop2", "--output-file", out, kubeconfig=self.d.kubeconfig),
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=self.env())
        try:
            deadline = time.time() + 60
            while time.time() < deadline and "recorder" not in self.recorders_running("loop2"):
                time.sleep(0.5)
            time.sleep(3)
            p.send_signal(signal.SIGINT)
            _, err = p.communicate(timeout=60)
        finally:
            e2e.stop_process(p)
        self.assertEqual(p.returncode, 0, err)
        with open(out) as f:
            self.assertIn("getdents64", f.read())

    def recorders_running(self, pod):
        p = self.d.pod(pod)
        names = [s["name"] for s in p.get("status", {}).get("ephemeralContainerStatuses", [])
                 if "running" in s.get("state", {})]
        return "recorder" if any(n.startswith("seccomp-recorder-") for n in names) else ""

    def test_the_apps_exit_ends_the_recording_and_keeps_what_was_seen(self):
        short = e2e.pod_manifest("short", "echo hi; sleep 8; ls /; exit 0")
        short["spec"]["restartPolicy"] = "Never"
        self.d.control("pods", short)
        self.d.wait_running("short")
        r = self.record("short", "-o", "report", timeout=180)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("getdents64", r.stdout)  # the `ls /` just before the app exited
        self.assertIn("the app's container app ended", r.stderr)

    def test_a_missing_pod_is_named(self):
        r = self.record("nope")
        self.assertEqual(r.returncode, 1)
        self.assertIn('pods "nope" not found', r.stderr)

    def test_a_missing_container_lists_those_there_are(self):
        r = self.record("two", "-c", "db")
        self.assertEqual(r.returncode, 1)
        self.assertIn('pod two has no container "db": its containers are app, side', r.stderr)
        r = self.record("two")
        self.assertEqual(r.returncode, 1)
        self.assertIn("-c NAME", r.stderr)

    def test_rbac_refusal_names_the_command_that_prints_the_rbac_needed(self):
        self.d.control("config", {"deny": [{"verb": "patch", "resource": "pods",
                                            "subresource": "ephemeralcontainers"}]})
        r = self.record("loop3", "--duration", "2s")
        self.assertEqual(r.returncode, 1)
        self.assertEqual(len(r.stderr.strip().splitlines()), 1, r.stderr)
        self.assertIn('cannot patch resource "pods/ephemeralcontainers"', r.stderr)
        self.assertIn("; `kubectl seccomp rbac record --image %s loop3 --duration 2s --kubeconfig " % TRACER_IMAGE,
                      r.stderr)
        self.assertTrue(r.stderr.strip().endswith("` prints the RBAC it needs"), r.stderr)

    def test_pod_security_refusal_offers_same_user(self):
        r = self.record("locked", "-n", "locked", "--duration", "2s")
        self.assertEqual(r.returncode, 1)
        self.assertIn("violates PodSecurity", r.stderr)
        self.assertIn("--privileges same-user", r.stderr)

    def test_image_pull_failure_points_at_image(self):
        self.d.control("config", {"imagePullFailure": [TRACER_IMAGE]})
        r = self.record("loop3", "--duration", "2s", "--timeout", "60s")
        self.assertEqual(r.returncode, 1)
        self.assertIn("ImagePull", r.stderr)
        self.assertIn("--image", r.stderr)


if __name__ == "__main__":
    e2e.require()
    e2e.require_plugin()
    e2e.require_image(TRACER_IMAGE)
    unittest.main()
