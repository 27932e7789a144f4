#!/usr/bin/env python3
"""`kubectl seccomp record` of several containers at once, run by real kubectl against the
API-server double with the real tracer image: deploy/NAME (one Ready replica, --replicas N|all),
-l SELECTOR, --all-containers; one recorder per (pod, container), each with its own stream, stopped
together, merged into one profile.
Run: KSC_BUILD_DIR=build python3 tests/client/test_record_many.py -v"""
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
LS_LOOP = "echo app-started; while true; do ls / >/dev/null; sleep 1; done"
# A different syscall in the side container: what only it does must reach the merged profile.
MKDIR_LOOP = "while true; do mkdir /tmp/d; rmdir /tmp/d; sleep 1; done"



class RecordMany(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        two = e2e.pod_manifest("two", LS_LOOP)
        two["spec"]["containers"].append({"name": "side", "image": e2e.IMAGE, "command": ["sh", "-c", MKDIR_LOOP]})
        two["metadata"]["labels"] = {"app": "pair"}
        # app runs as uid 1000, side gives no uid: --privileges same-user can add a recorder for app
        # and must then refuse side, with app's recorder already in the pod.
        mixed = e2e.pod_manifest("mixed", LS_LOOP, securityContext={"runAsUser": 1000, "runAsGroup": 1000})
        mixed["spec"]["containers"].append({"name": "side", "image": e2e.IMAGE, "command": ["sh", "-c", LS_LOOP]})
        cls.d = e2e.Double(pods=[two, mixed])
        cls.d.control("deployments", {
            "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web", "namespace": "default"},
            "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "web"}},
                     "template": {"metadata": {"labels": {"app": "web"}},
                                  "spec": {"containers": [{"name": "app", "image": e2e.IMAGE,
                                                           "command": ["sh", "-c", LS_LOOP]}]}}}})
        cls.d.wait_running("two")
        cls.d.wait_running("mixed")
        deadline = time.time() + 90
        while time.time() < deadline and len(cls.ready("app=web")) < 2:
            time.sleep(0.5)
        if len(cls.ready("app=web")) < 2:
            raise AssertionError("the Deployment's two pods did not become Ready")
        cls.kubeconfig = os.path.join(os.path.dirname(cls.d.kubeconfig), "kubeconfig-exec")

    @classmethod
    def tearDownClass(cls):
        cls.d.stop()

    @classmethod
    def ready(cls, selector):
        _, pods = cls.d.request("GET", "/api/v1/namespaces/default/pods?labelSelector=" + selector.replace("=", "%3D"))
        return [p["metadata"]["name"] for p in pods.get("items", [])
                if any(c["type"] == "Ready" and c["status"] == "True" for c in p["status"].get("conditions", []))]

    def record(self, *args, timeout=180):
        cmd = ["kubectl", "seccomp", "record", "--image", TRACER_IMAGE, *args, "--kubeconfig", self.kubeconfig]
        env = dict(os.environ, PATH=e2e.plugin_dir() + os.pathsep + os.environ["PATH"])
        return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env)

    def recorder_targets(self, pod):
        return [c.get("targetContainerName") for c in self.d.pod(pod)["spec"].get("ephemeralContainers", [])
                if c["name"].startswith("seccomp-recorder-")]

    def web_recorders(self):
        return {p: len(self.recorder_targets(p)) for p in self.ready("app=web")}

    def test_deploy_records_one_ready_replica_by_default(self):
        before = self.web_recorders()
        r = self.record("deploy/web", "--duration", "4s", "-o", "json")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("getdents64", e2e.allowed(r.stdout))
        after = self.web_recorders()
        self.assertEqual(sum(after.values()) - sum(before.values()), 1, (before, after))

    def test_deploy_all_replicas_are_recorded_together_and_merged(self):
        before = self.web_recorders()
        r = self.record("deployments/web", "--replicas", "all", "--duration", "5s", "-o", "json")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("getdents64", e2e.allowed(r.stdout))
        self.assertIn("recording 2 containers at once", r.stderr)
        self.assertIn("merged into one profile", r.stderr)
        after = self.web_recorders()
        for pod in after:
            self.assertEqual(after[pod] - before.get(pod, 0), 1, (before, after))

    def test_all_containers_of_the_pods_a_selector_picks_are_merged(self):
        r = self.record("-l", "app=pair", "--all-containers", "--duration", "5s", "-o", "json")
        self.assertEqual(r.returncode, 0, r.stderr)
        got = e2e.allowed(r.stdout)
        self.assertIn("getdents64", got)  # app's ls
        self.assertTrue({"mkdir", "mkdirat"} & got and {"rmdir", "unlinkat"} & got, got)  # side's only
        self.assertEqual(sorted(self.recorder_targets("two")[-2:]), ["app", "side"])

    def test_one_ctrl_c_stops_every_recorder_and_writes_the_merged_profile(self):
        out = os.path.join(self.d.dir, "ctrl-c.json")
        before = self.web_recorders()
        cmd = ["kubectl", "seccomp", "record", "--image", TRACER_IMAGE, "deploy/web", "--replicas", "all",
               "--output-file", out, "--kubeconfig", self.kubeconfig]
        env = dict(os.environ, PATH=e2e.plugin_dir() + os.pathsep + os.environ["PATH"])
        p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
        try:
            deadline = time.time() + 90
            while time.time() < deadline and p.poll() is None and not all(
                    self.running_recorders(pod) > 0 for pod in self.web_recorders()):
                time.sleep(0.5)
            time.sleep(3)
            p.send_signal(signal.SIGINT)
            _, err = p.communicate(timeout=90)
        finally:
            e2e.stop_process(p)
        self.assertEqual(p.returncode, 0, err)
        with open(out) as f:
            self.assertIn("getdents64", e2e.allowed(f.read()))
        self.assertEqual(err.count("waiting for the recorder's summary"), 2, err)
        after = self.web_recorders()
        self.assertEqual(sum(after.values()) - sum(before.values()), 2, (before, after))
        for pod in after:  # each recorder got its stop and ended
            self.d.wait_for(lambda o: self.running_recorders(pod, o) == 0, "the recorders end", name=pod)

    def running_recorders(self, pod, obj=None):
        obj = obj or self.d.pod(pod)
        return sum(1 for s in obj["status"].get("ephemeralContainerStatuses", [])
                   if s["name"].startswith("seccomp-recorder-") and "running" in s.get("state", {}))

    def test_a_refusal_after_some_recorders_were_added_stops_them_at_once(self):
        started = time.time()
        r = self.record("mixed", "--all-containers", "--privileges", "same-user", "--duration", "30s")
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertIn("--privileges same-user needs the container's uid", r.stderr)
        self.assertIn("record failed: stopped 1 recorder(s) already added", r.stderr)
        self.assertEqual(self.recorder_targets("mixed"), ["app"])
        # Stopped by us, not by its 60 s idle timeout.
        self.d.wait_for(lambda o: any(s["name"].startswith("seccomp-recorder-") and "terminated" in s.get("state", {})
                                      for s in o["status"].get("ephemeralContainerStatuses", [])),
                        "the added recorder ends", name="mixed", timeout=40)
        self.assertLess(time.time() - started, 55)

    def test_clear_refusals(self):
        r = self.record("deploy/nope", "--duration", "2s")
        self.assertEqual(r.returncode, 1)
        self.assertIn('deployments.apps "nope" not found', r.stderr)
        r = self.record("-l", "app=none", "--duration", "2s")
        self.assertEqual(r.returncode, 1)
        self.assertIn("selector app=none has no Ready pod", r.stderr)
        r = self.record("statefulset/db")
        self.assertEqual(r.returncode, 1)
        self.assertIn("record takes POD, deploy/NAME or -l SELECTOR", r.stderr)
        r = self.record("deploy/web", "--replicas", "0")
        self.assertEqual(r.returncode, 1)
        self.assertIn("--replicas takes a count", r.stderr)


if __name__ == "__main__":
    e2e.require()
    e2e.require_plugin()
    e2e.require_image(TRACER_IMAGE)
    unittest.main()
