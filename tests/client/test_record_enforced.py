#!/usr/bin/env python3
"""The profile `kubectl seccomp record` gives, enforced: a Python HTTP server in the double is
recorded while it serves (real kubectl, exec-credential kubeconfig), its start-up is recorded with
--from-start, both are merged, and a fresh pod started with the merged profile as its `Localhost`
seccomp profile (real enforcement by runc) must answer the same exercise the same way. The same
profile without accept4 must not: proof that the enforcement, and so this test, can fail.
The cases run in order (test_1, test_2, test_3), each on what the one before made.
Run: KSC_BUILD_DIR=build python3 tests/client/test_record_enforced.py -v"""
import hashlib
import http.client
import json
import os
import subprocess
import sys
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "e2e"))
import e2e_support as e2e  # noqa: E402
from apidouble import podman  # noqa: E402
from test_record_from_start import tracer_image  # noqa: E402  (this build's tracer, for --install)

TRACER_IMAGE = e2e.TRACER_IMAGE
APP_IMAGE = "localhost/kubectl-seccomp/bookworm:latest"
PORT = 8080
SERVER = ["python3", "-m", "http.server", "--bind", "0.0.0.0", "--directory", "/", str(PORT)]
# A directory listing, two files and a miss: what a client of this server would ask.
PATHS = ["/", "/etc/os-release", "/usr/share/common-licenses/GPL-3", "/no/such/file"]


def server_pod(name, profile=None):
    spec = {"containers": [{"name": "app", "image": APP_IMAGE, "command": SERVER}], "restartPolicy": "Never"}
    if profile:
        spec["securityContext"] = {"seccompProfile": {"type": "Localhost", "localhostProfile": profile}}
    return {"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": name, "namespace": "default", "labels": {"app": name}}, "spec": spec}



class RecordEnforced(unittest.TestCase):
    made = {}  # what test_1 made, for test_2 and test_3

    @classmethod
    def setUpClass(cls):
        e2e.require_image(APP_IMAGE)
        e2e.require_image(TRACER_IMAGE)
        cls.fromstart_tracer = tracer_image()
        cls.d = e2e.Double(pods=[server_pod("web")])
        cls.exec_kubeconfig = cls.d.info.get("kubeconfig-exec") or \
            os.path.join(os.path.dirname(cls.d.kubeconfig), "kubeconfig-exec")
        cls.out = os.path.join(cls.d.dir, "profiles")
        os.makedirs(cls.out)

    @classmethod
    def tearDownClass(cls):
        cls.d.stop()

    def env(self):
        return dict(os.environ, PATH=e2e.plugin_dir() + os.pathsep + os.environ["PATH"])

    def app_ip(self, pod_name):
        """The app container's bridge address (the double reports 127.0.0.1 as every pod's IP)."""
        pod = self.d.wait_for(lambda p: (e2e.container_status(p, "app") or {}).get("containerID"),
                              "app's container id", name=pod_name)
        cid = e2e.container_status(pod, "app")["containerID"].split("://", 1)[1]
        return podman.podman("inspect", "--format", "{{.NetworkSettings.IPAddress}}", cid).stdout.strip()

    def app_alive(self, pod_name):
        return "terminated" not in (e2e.container_status(self.d.pod(pod_name), "app") or {}).get("state", {})

    def exercise(self, pod_name, timeout=5, ready_within=30):
        """The answers (status, size, digest per path) of the server in pod_name; raises OSError or
        HTTPException when it does not answer."""
        ip = self.app_ip(pod_name)
        deadline = time.time() + ready_within
        while True:
            try:
                c = http.client.HTTPConnection(ip, PORT, timeout=2)
                c.connect()
                c.close()
                break
            except OSError:
                if time.time() > deadline or not self.app_alive(pod_name):
                    raise
                time.sleep(0.2)
        answers = []
        for path in PATHS:
            c = http.client.HTTPConnection(ip, PORT, timeout=timeout)
            try:
                c.request("GET", path)
                r = c.getresponse()
                body = r.read()
            finally:
                c.close()
            answers.append((path, r.status, len(body), hashlib.sha256(body).hexdigest()[:16]))
        return answers

    def kubectl_seccomp(self, *args, timeout=180):
        return subprocess.run(["kubectl", "seccomp", *args, "--kubeconfig", self.exec_kubeconfig],
                              capture_output=True, text=True, timeout=timeout, env=self.env())

    def recorder_running(self, pod_name):
        statuses = self.d.pod(pod_name).get("status", {}).get("ephemeralContainerStatuses", [])
        return any(s["name"].startswith("seccomp-recorder-") and "running" in s.get("state", {})
                   for s in statuses)

    def test_1_record_while_serving_and_from_start_then_merge(self):
        self.d.wait_running("web")
        untraced = self.exercise("web")
        self.assertEqual([a[1] for a in untraced], [200, 200, 200, 404], untraced)

        served = os.path.join(self.out, "served.json")
        proc = subprocess.Popen(
            ["kubectl", "seccomp", "record", "web", "-c", "app", "--image", TRACER_IMAGE, "--duration", "15s",
             "--output-file", served, "--kubeconfig", self.exec_kubeconfig],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=self.env())
        try:
            deadline = time.time() + 90
            while time.time() < deadline and not self.recorder_running("web") and proc.poll() is None:
                time.sleep(0.3)
            time.sleep(1)
            for _ in range(3):  # served while traced: the same answers
                self.assertEqual(self.exercise("web"), untraced)
            _, err = proc.communicate(timeout=120)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.communicate()
        self.assertEqual(proc.returncode, 0, err)
        with open(served) as f:
            served_allowed = e2e.allowed(json.load(f))
        self.assertTrue({"accept", "accept4"} & served_allowed, sorted(served_allowed))

        startup = os.path.join(self.out, "startup.json")
        r = self.kubectl_seccomp("record", "web", "-c", "app", "--from-start", "--image", self.fromstart_tracer,
                                 "--duration", "10s", "--output-file", startup)
        self.assertEqual(r.returncode, 0, r.stderr)
        with open(startup) as f:
            startup_allowed = e2e.allowed(json.load(f))
        for name in ("execve", "socket", "bind", "listen"):
            self.assertIn(name, startup_allowed)

        merged = os.path.join(self.d.info["seccomp_root"], "merged.json")
        r = subprocess.run(["kubectl", "seccomp", "merge", served, startup, "-o", "json", "--output-file", merged],
                           capture_output=True, text=True, timeout=60, env=self.env())
        self.assertEqual(r.returncode, 0, r.stderr)
        with open(merged) as f:
            profile = json.load(f)
        self.assertEqual(profile["defaultAction"], "SCMP_ACT_ERRNO")
        self.assertLessEqual(served_allowed | startup_allowed, e2e.allowed(profile))
        self.made.update(untraced=untraced, profile=profile)

    def test_2_a_fresh_pod_under_the_merged_profile_serves_the_same(self):
        if "profile" not in self.made:
            self.skipTest("test_1 made no profile")
        self.d.control("pods", server_pod("enforced", profile="merged.json"))
        self.d.wait_running("enforced")
        pod = self.d.pod("enforced")
        self.assertEqual(pod["spec"]["securityContext"]["seccompProfile"]["type"], "Localhost")
        for _ in range(2):
            self.assertEqual(self.exercise("enforced"), self.made["untraced"])
        self.assertTrue(self.app_alive("enforced"))

    def test_3_without_accept4_the_same_pod_cannot_serve(self):
        if "profile" not in self.made:
            self.skipTest("test_1 made no profile")
        profile = json.loads(json.dumps(self.made["profile"]))
        self.assertIn("accept4", e2e.allowed(profile))  # python's socket.accept() is accept4
        for rule in profile["syscalls"]:
            rule["names"] = [n for n in rule["names"] if n not in ("accept4", "accept")]
        with open(os.path.join(self.d.info["seccomp_root"], "no-accept.json"), "w") as f:
            json.dump(profile, f)
        self.d.control("pods", server_pod("crippled", profile="no-accept.json"))
        self.d.wait_for(lambda p: any(k in (e2e.container_status(p, "app") or {}).get("state", {})
                                      for k in ("running", "terminated")), "app started", name="crippled")
        with self.assertRaises((OSError, http.client.HTTPException)):
            self.exercise("crippled", timeout=3, ready_within=10)


if __name__ == "__main__":
    e2e.require()
    e2e.require_plugin()
    unittest.main()
