#!/usr/bin/env python3
"""The double's switches, seen through real kubectl where kubectl can show them: RBAC refusals,
Pod Security admission, image pull failures, injected 429s, dropped connections."""
import http.client
import json
import os
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import e2e_support as e2e  # noqa: E402

APP = "exec sleep 100000"
TRACER_CONTEXT = {"securityContext": {"capabilities": {"drop": ["ALL"], "add": ["SYS_PTRACE"]},
                                      "allowPrivilegeEscalation": False,
                                      "seccompProfile": {"type": "RuntimeDefault"}}}
EPHEMERAL = "/api/v1/namespaces/default/pods/mypod/ephemeralcontainers"


class Refusals(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.d = e2e.Double("--namespace", "psa:baseline", pods=[
            e2e.pod_manifest("mypod", APP),
            e2e.pod_manifest("mypod", APP, namespace="psa"),
            e2e.pod_manifest("echo", "cat", stdin=True),
        ])
        cls.d.wait_running("mypod")
        cls.d.wait_running("mypod", namespace="psa")
        cls.d.wait_running("echo")
        cls.custom = os.path.join(cls.d.dir, "tracer-context.json")
        with open(cls.custom, "w") as f:
            json.dump(TRACER_CONTEXT, f)

    @classmethod
    def tearDownClass(cls):
        cls.d.stop()

    def tearDown(self):
        self.d.control("config", {"deny": [], "imagePullFailure": [], "failRequests": [],
                                  "dropAttachAfterSeconds": 0, "dropWatchAfterSeconds": 0,
                                  "ephemeralContainersDisabled": False})

    def add_ephemeral(self, name, image, **fields):
        c = {"name": name, "image": image, "targetContainerName": "app", "stdin": True}
        c.update(fields)
        return self.d.request("PATCH", EPHEMERAL, {"spec": {"ephemeralContainers": [c]}},
                              content_type="application/strategic-merge-patch+json")

    def test_rbac_denied_patch_of_ephemeralcontainers(self):
        self.d.control("config", {"deny": [{"verb": "patch", "resource": "pods",
                                            "subresource": "ephemeralcontainers"}]})
        r = self.d.kubectl("debug", "mypod", "-i", "--image=" + e2e.IMAGE, "--container=rbac", "--", "true")
        self.assertEqual(r.returncode, 1)
        self.assertIn('Error from server (Forbidden): pods "mypod" is forbidden: User "admin" cannot patch '
                      'resource "pods/ephemeralcontainers" in API group "" in the namespace "default"', r.stderr)
        status, body = self.add_ephemeral("rbac2", e2e.IMAGE)
        self.assertEqual(status, 403)
        self.assertEqual((body["reason"], body["code"], body["details"]),
                         ("Forbidden", 403, {"name": "mypod", "kind": "pods"}))

    def test_auth_can_i_follows_the_deny_switch(self):
        self.d.control("config", {"deny": [{"verb": "patch", "resource": "pods",
                                            "subresource": "ephemeralcontainers"}]})
        r = self.d.kubectl("auth", "can-i", "patch", "pods", "--subresource=ephemeralcontainers")
        self.assertEqual((r.returncode, r.stdout.strip()), (1, "no"), r.stderr)
        r = self.d.kubectl("auth", "can-i", "create", "pods", "--subresource=attach")
        self.assertEqual((r.returncode, r.stdout.strip()), (0, "yes"), r.stderr)

    def test_rbac_denied_attach_names_the_create_verb(self):
        self.d.control("config", {"deny": [{"verb": "create", "resource": "pods", "subresource": "attach",
                                            "user": "admin"}]})
        r = self.d.kubectl("attach", "echo", "-i", input="")
        self.assertEqual(r.returncode, 1)
        self.assertIn('pods "echo" is forbidden: User "admin" cannot create resource "pods/attach" in API group ""'
                      ' in the namespace "default"', r.stderr)

    def test_rbac_denied_list_has_no_name(self):
        self.d.control("config", {"deny": [{"verb": "list", "resource": "pods"}]})
        r = self.d.kubectl("get", "pods")
        self.assertIn('pods is forbidden: User "admin" cannot list resource "pods" in API group "" in the '
                      'namespace "default"', r.stderr)

    def test_pod_security_baseline_refuses_sys_ptrace(self):
        r = self.d.kubectl("debug", "-n", "psa", "mypod", "-i", "--image=" + e2e.IMAGE, "--target=app",
                           "--container=tracer", "--custom=" + self.custom, "--", "true")
        self.assertEqual(r.returncode, 1)
        self.assertIn('Error from server (Forbidden): pods "mypod" is forbidden: violates PodSecurity '
                      '"baseline:latest": non-default capabilities (container "tracer" must not include '
                      '"SYS_PTRACE" in securityContext.capabilities.add)', r.stderr)
        # Without the capability the same namespace lets it in.
        r = self.d.kubectl("debug", "-n", "psa", "mypod", "-i", "--image=" + e2e.IMAGE, "--target=app",
                           "--container=plain", "--", "sh", "-c", "read l; echo admitted", input="go\n")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertTrue(r.stdout.endswith("\nadmitted\n"), r.stdout)

    def test_missing_image_gives_err_image_pull_then_back_off(self):
        status, _ = self.add_ephemeral("pull", "registry.invalid/tracer:1")
        self.assertEqual(status, 200)
        seen = set()
        deadline = time.time() + 30
        while time.time() < deadline and not {"ErrImagePull", "ImagePullBackOff"} <= seen:
            s = e2e.container_status(self.d.pod("mypod"), "pull")
            seen.add(s["state"].get("waiting", {}).get("reason"))
            time.sleep(0.2)
        self.assertTrue({"ErrImagePull", "ImagePullBackOff"} <= seen, seen)
        s = e2e.container_status(self.d.pod("mypod"), "pull")
        self.assertIn("registry.invalid/tracer:1", s["state"]["waiting"]["message"])
        r = self.d.kubectl("logs", "mypod", "-c", "pull")
        self.assertIn('container "pull" in pod "mypod" is waiting to start: trying and failing to pull image',
                      r.stderr)

    def test_kubectl_debug_shows_the_pull_failure_while_it_waits(self):
        self.d.control("config", {"imagePullFailure": [e2e.IMAGE]})
        p = subprocess.Popen(["kubectl", "--kubeconfig", self.d.kubeconfig, "debug", "mypod", "-i",
                              "--image=" + e2e.IMAGE, "--container=pullwait", "--", "true"],
                             stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            line = p.stderr.readline()
            while line and not line.startswith("Warning: container pullwait:"):
                line = p.stderr.readline()
            self.assertIn("pull", line)  # ErrImagePull's or ImagePullBackOff's message
            self.assertIn("container pullwait", line)
        finally:
            e2e.stop_process(p)

    def test_disabled_ephemeral_containers_are_recognised_by_kubectl(self):
        self.d.control("config", {"ephemeralContainersDisabled": True})
        r = self.d.kubectl("debug", "mypod", "-i", "--image=" + e2e.IMAGE, "--container=off", "--", "true")
        self.assertEqual(r.returncode, 1)
        self.assertIn("ephemeral containers are disabled for this cluster", r.stderr)

    def test_injected_429s_are_retried_by_kubectl(self):
        self.d.control("config", {"failRequests": [{"method": "GET", "path": "/pods/mypod$", "code": 429,
                                                    "count": 2}]})
        r = self.d.kubectl("get", "pod", "mypod", "-o", "name")
        self.assertEqual((r.returncode, r.stdout.strip()), (0, "pod/mypod"), r.stderr)
        state = self.d.request("GET", "/_double/state")[1]
        self.assertEqual(state["switches"]["failRequests"][0]["count"], 0)

    def test_injected_503_is_a_status_error(self):
        self.d.control("config", {"failRequests": [{"path": "/pods/echo$", "code": 503, "count": 100}]})
        status, body = self.d.request("GET", "/api/v1/namespaces/default/pods/echo")
        self.assertEqual((status, body["kind"], body["code"]), (503, "Status", 503))

    def test_dropped_attach_ends_without_a_close_frame(self):
        ws = self.d.websocket("/api/v1/namespaces/default/pods/echo/attach?container=app&stdin=true&stdout=true")
        self.assertEqual(ws.status, 101)
        self.assertEqual(ws.frame(), (2, b"\x01"))  # the empty stdout frame: the stream is open
        ws.send_channel(0, b"before-drop\n")
        self.assertEqual(ws.frame(), (2, b"\x01before-drop\n"))
        self.assertEqual(self.d.control("drop", {"what": ["attach"]})["dropped"], 1)
        with self.assertRaises((EOFError, ConnectionError)):
            ws.read_until_close(timeout=10)
        ws.sock.close()
        self.assertEqual(e2e.container_status(self.d.pod("echo"), "app")["restartCount"], 0)
        # The container went on: a new attach talks to the same process.
        again = self.d.websocket("/api/v1/namespaces/default/pods/echo/attach?container=app&stdin=true&stdout=true")
        self.assertEqual(again.frame(), (2, b"\x01"))
        again.send_channel(0, b"after-drop\n")
        self.assertEqual(again.frame(), (2, b"\x01after-drop\n"))
        again.close()

    def test_drop_attach_after_switch_cuts_kubectl_attach(self):
        self.d.control("config", {"dropAttachAfterSeconds": 1})
        p = subprocess.Popen(["kubectl", "--kubeconfig", self.d.kubeconfig, "attach", "echo", "-i"],
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            _, err = p.communicate(timeout=60)  # stdin stays open: only the drop ends it
        finally:
            e2e.stop_process(p)
        self.assertEqual(p.returncode, 1)
        self.assertIn("websocket: close 1006 (abnormal closure)", err)

    def test_dropped_log_follow_ends_the_chunked_stream_abruptly(self):
        conn = http.client.HTTPSConnection(self.d.host, self.d.port, context=self.d.ssl_context(), timeout=30)
        conn.request("GET", "/api/v1/namespaces/default/pods/echo/log?follow=true")
        resp = conn.getresponse()
        self.assertEqual(resp.status, 200)
        time.sleep(0.5)
        self.assertEqual(self.d.control("drop", {"what": ["log"]})["dropped"], 1)
        with self.assertRaises(http.client.IncompleteRead):
            resp.read()
        conn.close()

    def test_dropped_watch_ends_the_chunked_stream_abruptly(self):
        self.d.control("config", {"dropWatchAfterSeconds": 1})
        conn = http.client.HTTPSConnection(self.d.host, self.d.port, context=self.d.ssl_context(), timeout=30)
        conn.request("GET", "/api/v1/namespaces/default/pods?watch=true&fieldSelector=metadata.name%3Dmypod")
        resp = conn.getresponse()
        self.assertEqual(resp.status, 200)
        first = json.loads(resp.readline())
        self.assertEqual((first["type"], first["object"]["metadata"]["name"]), ("ADDED", "mypod"))
        with self.assertRaises(http.client.IncompleteRead):
            resp.read()
        conn.close()


if __name__ == "__main__":
    e2e.require()
    e2e.main()
