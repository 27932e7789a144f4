#!/usr/bin/env python3
"""The plugin's Kubernetes client (plugin/clients/: kubeconfig, api_client, websocket) against the API-server
double, which was written independently of it: every auth form over real HTTPS, Status messages,
retries on 429/503, watch resuming after a dropped connection, and attach over WebSocket with the
v5 subprotocol and the v4 fallback. Run: KSC_CLIENT_PROBE=build/tests/client/ksc-client-probe
python3 tests/client/test_client.py -v"""
import json
import os
import subprocess
import sys
import threading
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "e2e"))
import e2e_support as e2e  # noqa: E402

PROBE = os.environ.get("KSC_CLIENT_PROBE", "")
PODS = "/api/v1/namespaces/default/pods"
CATTER = {"name": "catter", "image": e2e.IMAGE, "stdin": True, "targetContainerName": "app",
          "command": ["sh", "-c", "while read l; do echo got:$l; done"]}


class Client(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.d = e2e.Double(pods=[e2e.pod_manifest("mypod", "echo app-started; exec sleep 100000")])
        cls.d.wait_running("mypod")
        cls.state = os.path.dirname(cls.d.kubeconfig)

    @classmethod
    def tearDownClass(cls):
        cls.d.stop()

    def probe(self, *args, kubeconfig="kubeconfig", env=None, timeout=60):
        e = dict(os.environ)
        e.update(env or {})
        return subprocess.run([PROBE, "--kubeconfig", os.path.join(self.state, kubeconfig), *args],
                              capture_output=True, text=True, timeout=timeout, env=e)

    def setUp(self):
        self.d.control("config", {"failRequests": [], "deny": [], "dropWatchAfterSeconds": 0})

    def test_every_kubeconfig_user_form_reaches_the_server(self):
        for kc in ("kubeconfig", "kubeconfig-exec", "kubeconfig-token"):
            r = self.probe("version", kubeconfig=kc)
            self.assertEqual(r.returncode, 0, kc + ": " + r.stderr)
            self.assertEqual(r.stdout, "1.31 v1.31.4 namespace=default\n")
        with open(os.path.join(self.state, "exec-credential.log")) as f:
            self.assertTrue(f.read().strip(), "the exec plugin was never run")

    def test_a_missing_pod_is_the_status_message(self):
        r = self.probe("get", PODS + "/nope")
        self.assertEqual(r.returncode, 1)
        self.assertEqual(r.stderr, 'error: pods "nope" not found\n')

    def test_429_and_503_are_retried(self):
        self.d.control("config", {"failRequests": [
            {"method": "GET", "path": "/pods/mypod$", "code": 429, "count": 1},
            {"method": "GET", "path": "/pods/mypod$", "code": 503, "count": 2}]})
        r = self.probe("get", PODS + "/mypod")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(json.loads(r.stdout)["metadata"]["name"], "mypod")

    def test_a_dropped_connection_on_get_is_retried(self):
        self.d.control("config", {"failRequests": [{"method": "GET", "path": "/pods/mypod$", "code": 0,
                                                    "count": 1}]})
        r = self.probe("get", PODS + "/mypod")
        self.assertEqual(r.returncode, 0, r.stderr)

    def test_rbac_refusal_of_the_ephemeral_container_patch_is_shown(self):
        self.d.control("config", {"deny": [{"verb": "patch", "resource": "pods",
                                            "subresource": "ephemeralcontainers"}]})
        r = self.probe("patch", PODS + "/mypod/ephemeralcontainers", "strategic",
                       json.dumps({"spec": {"ephemeralContainers": [dict(CATTER, name="denied")]}}))
        self.assertEqual(r.returncode, 1)
        self.assertIn('cannot patch resource "pods/ephemeralcontainers"', r.stderr)

    def test_validation_errors_name_the_field(self):
        r = self.probe("patch", PODS + "/mypod/ephemeralcontainers", "strategic",
                       json.dumps({"spec": {"ephemeralContainers": [dict(CATTER, name="app")]}}))
        self.assertEqual(r.returncode, 1)
        self.assertRegex(r.stderr, r'spec\.ephemeralContainers\[\d+\]\.name: Duplicate value: "app"')

    def test_a_watch_resumes_after_the_connection_drops(self):
        self.d.control("config", {"dropWatchAfterSeconds": 1})
        p = subprocess.Popen([PROBE, "--kubeconfig", self.d.kubeconfig, "watch",
                              PODS + "?fieldSelector=metadata.name%3Dmypod", "", "2"],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            time.sleep(3)  # the first watch is cut after 1 s; the client reconnects from its version
            status, _ = self.d.request("PATCH", PODS + "/mypod", {"metadata": {"labels": {"touched": "yes"}}},
                                       content_type="application/merge-patch+json")
            self.assertEqual(status, 200)
            out, err = p.communicate(timeout=60)
        finally:
            e2e.stop_process(p)
        self.assertEqual(p.returncode, 0, err)
        types = [l.split()[0] for l in out.splitlines()]
        self.assertEqual(types, ["ADDED", "MODIFIED"])  # nothing replayed, nothing lost

    def attach_catter(self, name, protocols=None):
        r = self.probe("patch", PODS + "/mypod/ephemeralcontainers", "strategic",
                       json.dumps({"spec": {"ephemeralContainers": [dict(CATTER, name=name)]}}))
        self.assertEqual(r.returncode, 0, r.stderr)
        self.d.wait_running("mypod", container=name)
        env = {"KSC_PROBE_PROTOCOLS": protocols} if protocols else None
        return self.probe("attach", PODS + "/mypod/attach?container=%s&stdin=true&stdout=true&stderr=true" % name,
                          "hello\n", "got:hello", env=env)

    def test_attach_over_websocket_v5(self):
        r = self.attach_catter("cat5")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("protocol v5.channel.k8s.io\n", r.stdout)
        self.assertIn("channel 1: got:hello", r.stdout)

    def test_attach_falls_back_to_v4(self):
        r = self.attach_catter("cat4", protocols="v4.channel.k8s.io")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("protocol v4.channel.k8s.io\n", r.stdout)
        self.assertIn("channel 1: got:hello", r.stdout)

    def test_attach_refused_by_rbac_is_the_status_message(self):
        self.d.control("config", {"deny": [{"verb": "create", "resource": "pods", "subresource": "attach"}]})
        r = self.probe("attach", PODS + "/mypod/attach?container=app&stdout=true", "")
        self.assertEqual(r.returncode, 1)
        self.assertIn('cannot create resource "pods/attach"', r.stderr)


if __name__ == "__main__":
    e2e.require(kubectl=False)
    if not PROBE or not os.access(PROBE, os.X_OK):
        print("SKIP: KSC_CLIENT_PROBE does not name the built ksc-client-probe", flush=True)
        sys.exit(e2e.SKIP)
    unittest.main()
