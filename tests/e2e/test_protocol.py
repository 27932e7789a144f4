#!/usr/bin/env python3
"""The double's wire protocol, read raw, for what kubectl does not show: WebSocket subprotocol
negotiation, the status channel's JSON, v5's stream close, Status objects, watch semantics,
authentication. These are the answers the plugin's own client is written against."""
import http.client
import json
import os
import sys
import time
import unittest
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import e2e_support as e2e  # noqa: E402

POD = "/api/v1/namespaces/default/pods/mypod"
EPHEMERAL = POD + "/ephemeralcontainers"


def qs(**params):
    return "?" + urllib.parse.urlencode(params, doseq=True)


class Protocol(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.d = e2e.Double(pods=[e2e.pod_manifest("mypod", "exec sleep 100000"),
                                 e2e.pod_manifest("once", "cat; echo stdin-closed", stdin=True, stdinOnce=True),
                                 e2e.pod_manifest("tty", "exec sh", stdin=True, tty=True)])
        cls.d.wait_running("mypod")
        cls.d.wait_running("once")
        cls.d.wait_running("tty")

    @classmethod
    def tearDownClass(cls):
        cls.d.stop()

    # ---- WebSocket attach / exec
    def exec_ws(self, command, protocols, **params):
        p = {"container": "app", "stdout": "true", "stderr": "true", "command": command}
        p.update(params)
        return self.d.websocket(POD + "/exec" + qs(**p), protocols)

    def test_v5_is_chosen_when_offered_first_and_exec_status_is_success(self):
        ws = self.exec_ws(["sh", "-c", "echo out; echo err >&2"], ("v5.channel.k8s.io", "v4.channel.k8s.io"))
        self.assertEqual((ws.status, ws.protocol), (101, "v5.channel.k8s.io"))
        out, code = ws.read_until_close()
        self.assertEqual((out[1], out[2], code), (b"out\n", b"err\n", 1000))
        self.assertEqual(json.loads(out[3]), {"metadata": {}, "status": "Success"})

    def test_v4_nonzero_exit_is_a_failure_status_with_the_exit_code(self):
        ws = self.exec_ws(["sh", "-c", "exit 42"], ("v4.channel.k8s.io",))
        self.assertEqual(ws.protocol, "v4.channel.k8s.io")
        out, _ = ws.read_until_close()
        status = json.loads(out[3])
        self.assertEqual((status["status"], status["reason"]), ("Failure", "NonZeroExitCode"))
        self.assertEqual(status["details"]["causes"], [{"reason": "ExitCode", "message": "42"}])

    def test_unsupported_subprotocol_is_refused_before_the_upgrade(self):
        ws = self.exec_ws(["true"], ("v99.channel.k8s.io",))
        self.assertEqual(ws.status, 400)
        body = json.loads(ws.body)
        self.assertEqual((body["kind"], body["reason"]), ("Status", "BadRequest"))
        self.assertIn("requested protocol(s) are not supported", body["message"])

    def test_v5_close_of_stdin_reaches_a_stdin_once_container_as_eof(self):
        ws = self.d.websocket("/api/v1/namespaces/default/pods/once/attach" +
                              qs(container="app", stdin="true", stdout="true"), ("v5.channel.k8s.io",))
        self.assertEqual(ws.status, 101)
        self.assertEqual(ws.frame(), (2, b"\x01"))
        ws.send_channel(0, b"line\n")
        ws.send(bytes([255, 0]))  # v5: the client closed its stdin
        out, code = ws.read_until_close()
        self.assertEqual(out[1], b"line\nstdin-closed\n")
        self.assertEqual(json.loads(out[3])["status"], "Success")
        self.assertEqual(code, 1000)
        pod = self.d.wait_for(lambda p: "terminated" in e2e.container_status(p, "app")["state"]
                              or e2e.container_status(p, "app")["restartCount"] > 0, "once exits", name="once")
        self.assertIn("stdin-closed", self.d.kubectl("logs", "once", "--previous" if
                                                     e2e.container_status(pod, "app")["restartCount"] else "--tail=-1",
                                                     check=True).stdout)

    def test_v4_disconnect_closes_a_stdin_once_containers_stdin(self):
        self.d.control("pods", e2e.pod_manifest("once4", "cat; echo stdin-closed; sleep 1000",
                                                 stdin=True, stdinOnce=True))
        self.d.wait_running("once4")
        ws = self.d.websocket("/api/v1/namespaces/default/pods/once4/attach" +
                              qs(container="app", stdin="true", stdout="true"), ("v4.channel.k8s.io",))
        self.assertEqual(ws.frame(), (2, b"\x01"))
        ws.send_channel(0, b"x\n")
        self.assertEqual(ws.frame(), (2, b"\x01x\n"))
        ws.close()
        deadline = time.time() + 20
        while time.time() < deadline and "stdin-closed" not in self.d.kubectl("logs", "once4").stdout:
            time.sleep(0.3)
        self.assertIn("stdin-closed", self.d.kubectl("logs", "once4").stdout)

    def test_tty_attach_runs_on_a_terminal_and_resizes_it(self):
        ws = self.d.websocket("/api/v1/namespaces/default/pods/tty/attach" +
                              qs(container="app", stdin="true", stdout="true", tty="true"))
        self.assertEqual(ws.status, 101)
        ws.send_channel(4, json.dumps({"Width": 123, "Height": 45}).encode())
        # The new size travels as SIGWINCH through podman to the container's terminal: ask until it
        # shows (or the deadline passes).
        out = b""
        deadline = time.time() + 30
        ws.sock.settimeout(2)
        while b"45 123" not in out and time.time() < deadline:
            ws.send_channel(0, b"stty size\n")
            try:
                while True:
                    op, payload = ws.frame()
                    if op == 2 and payload[:1] == b"\x01":
                        out += payload[1:]
                    if out.endswith(b"# "):  # the prompt: the command is done
                        break
            except OSError:
                pass
        self.assertIn(b"45 123", out)
        ws.close()

    def test_attach_to_a_missing_container_is_a_status_error(self):
        ws = self.d.websocket(POD + "/attach" + qs(container="nope", stdout="true"))
        self.assertEqual(ws.status, 400)
        self.assertEqual(json.loads(ws.body)["message"], "container nope is not valid for pod mypod")

    # ---- ephemeralcontainers and Status objects
    def test_merge_patch_of_ephemeralcontainers_and_its_errors(self):
        pod = self.d.pod("mypod")
        existing = pod["spec"].get("ephemeralContainers", [])
        new = {"name": "mp", "image": e2e.IMAGE, "command": ["true"], "targetContainerName": "app"}
        status, body = self.d.request("PATCH", EPHEMERAL, {"spec": {"ephemeralContainers": existing + [new]}},
                                      content_type="application/merge-patch+json")
        self.assertEqual(status, 200, body)
        self.assertEqual(body["spec"]["ephemeralContainers"][-1]["terminationMessagePolicy"], "File")
        # A merge patch replaces the list: leaving "mp" out is removing it.
        status, body = self.d.request("PATCH", EPHEMERAL, {"spec": {"ephemeralContainers": existing}},
                                      content_type="application/merge-patch+json")
        self.assertEqual(status, 422)
        self.assertEqual(body["reason"], "Invalid")
        self.assertEqual(body["details"]["causes"], [{
            "reason": "FieldValueForbidden", "field": "spec.ephemeralContainers",
            "message": 'Forbidden: existing ephemeral containers "mp" may not be removed\n'}])

    def test_chunked_request_body_is_read(self):
        conn = http.client.HTTPSConnection(self.d.host, self.d.port, context=self.d.ssl_context(), timeout=30)
        body = json.dumps({"metadata": {"labels": {"chunked": "yes"}}}).encode()
        conn.request("PATCH", POD, body=iter([body[:10], body[10:]]), encode_chunked=True,
                     headers={"Content-Type": "application/merge-patch+json", "Transfer-Encoding": "chunked"})
        resp = conn.getresponse()
        pod = json.loads(resp.read())
        conn.close()
        self.assertEqual((resp.status, pod["metadata"]["labels"]["chunked"]), (200, "yes"))

    def test_forbidden_fields_status_object(self):
        status, body = self.d.request("PATCH", EPHEMERAL, {"spec": {"ephemeralContainers": [
            {"name": "withport", "image": e2e.IMAGE, "ports": [{"containerPort": 80}]}]}},
            content_type="application/strategic-merge-patch+json")
        self.assertEqual(status, 422)
        self.assertEqual(body["kind"], "Status")
        self.assertRegex(body["message"], r'^Pod "mypod" is invalid: spec\.ephemeralContainers\[\d+\]\.ports: '
                                          r'Forbidden: cannot be set for an Ephemeral Container$')

    def test_other_pod_changes_through_the_subresource_are_ignored(self):
        status, body = self.d.request("PATCH", EPHEMERAL, {"metadata": {"labels": {"sneaky": "1"}},
                                                           "spec": {"ephemeralContainers": []}},
                                      content_type="application/strategic-merge-patch+json")
        self.assertEqual(status, 200, body)
        self.assertNotIn("sneaky", body["metadata"].get("labels", {}))

    def test_unknown_patch_type_is_415(self):
        status, body = self.d.request("PATCH", EPHEMERAL, {}, content_type="application/yaml")
        self.assertEqual((status, body["reason"]), (415, "UnsupportedMediaType"))

    def test_update_with_a_stale_resource_version_conflicts(self):
        pod = self.d.pod("mypod")
        pod["metadata"]["resourceVersion"] = "1"
        status, body = self.d.request("PUT", EPHEMERAL, pod)
        self.assertEqual((status, body["reason"]), (409, "Conflict"))
        self.assertEqual(body["message"], 'Operation cannot be fulfilled on pods "mypod": the object has been '
                                          'modified; please apply your changes to the latest version and try again')

    def test_missing_pod_is_404_with_details(self):
        status, body = self.d.request("GET", "/api/v1/namespaces/default/pods/nosuch/ephemeralcontainers")
        self.assertEqual((status, body["details"]), (404, {"name": "nosuch", "kind": "pods"}))

    # ---- watch
    def watch_lines(self, path, n, timeout=30):
        conn = http.client.HTTPSConnection(self.d.host, self.d.port, context=self.d.ssl_context(), timeout=timeout)
        conn.request("GET", path)
        resp = conn.getresponse()
        self.assertEqual(resp.status, 200)
        self.assertEqual(resp.getheader("Transfer-Encoding"), "chunked")
        out = [json.loads(resp.readline()) for _ in range(n)]
        conn.close()
        return out

    def test_watch_from_a_resource_version_replays_later_changes(self):
        rv = self.d.pod("mypod")["metadata"]["resourceVersion"]
        self.d.request("PATCH", POD, {"metadata": {"labels": {"step": "1"}}},
                       content_type="application/merge-patch+json")
        events = self.watch_lines("/api/v1/namespaces/default/pods" +
                                  qs(watch="1", resourceVersion=rv, fieldSelector="metadata.name=mypod"), 1)
        self.assertEqual(events[0]["type"], "MODIFIED")
        self.assertEqual(events[0]["object"]["metadata"]["labels"]["step"], "1")
        self.assertGreater(int(events[0]["object"]["metadata"]["resourceVersion"]), int(rv))

    def test_watch_with_a_label_selector_sees_objects_enter_and_leave_it(self):
        rv = self.d.pod("mypod")["metadata"]["resourceVersion"]
        for value in ("in", "out"):
            self.d.request("PATCH", POD, {"metadata": {"labels": {"watched": value}}},
                           content_type="application/merge-patch+json")
        events = self.watch_lines("/api/v1/namespaces/default/pods" +
                                  qs(watch="1", resourceVersion=rv, labelSelector="watched=in"), 2)
        self.assertEqual([e["type"] for e in events], ["ADDED", "DELETED"])
        self.assertEqual(events[1]["object"]["metadata"]["labels"]["watched"], "out")

    def test_watch_from_a_too_old_resource_version_is_a_410_error_event(self):
        events = self.watch_lines("/api/v1/namespaces/default/pods" + qs(watch="1", resourceVersion="1"), 1)
        self.assertEqual(events[0]["type"], "ERROR")
        self.assertEqual((events[0]["object"]["code"], events[0]["object"]["reason"]), (410, "Expired"))

    def test_watch_bookmarks_carry_the_resource_version(self):
        rv = self.d.pod("mypod")["metadata"]["resourceVersion"]
        events = self.watch_lines("/api/v1/namespaces/default/pods" +
                                  qs(watch="1", resourceVersion=rv, allowWatchBookmarks="true",
                                     fieldSelector="metadata.name=nomatch"), 1, timeout=20)
        self.assertEqual(events[0]["type"], "BOOKMARK")
        self.assertGreaterEqual(int(events[0]["object"]["metadata"]["resourceVersion"]), int(rv))

    def test_watch_list_sends_the_initial_state_then_a_marked_bookmark(self):
        events = self.watch_lines("/api/v1/namespaces/default/pods" +
                                  qs(watch="1", sendInitialEvents="true", allowWatchBookmarks="true",
                                     resourceVersionMatch="NotOlderThan", fieldSelector="metadata.name=mypod"), 2)
        self.assertEqual(events[0]["type"], "ADDED")
        self.assertEqual(events[1]["type"], "BOOKMARK")
        self.assertEqual(events[1]["object"]["metadata"]["annotations"], {"k8s.io/initial-events-end": "true"})

    def test_a_command_that_cannot_start_is_a_start_error(self):
        status, _ = self.d.request("PATCH", EPHEMERAL, {"spec": {"ephemeralContainers": [
            {"name": "nocmd", "image": e2e.IMAGE, "command": ["/no/such/program"]}]}},
            content_type="application/strategic-merge-patch+json")
        self.assertEqual(status, 200)
        pod = self.d.wait_for(lambda p: "terminated" in (e2e.container_status(p, "nocmd") or {}).get("state", {}),
                              "nocmd terminated")
        term = e2e.container_status(pod, "nocmd")["state"]["terminated"]
        self.assertEqual(term["reason"], "StartError")
        self.assertIn("/no/such/program", term["message"])

    def test_list_is_a_pod_list_unless_a_table_is_asked_for(self):
        status, body = self.d.request("GET", "/api/v1/namespaces/default/pods")
        self.assertEqual((body["kind"], body["apiVersion"]), ("PodList", "v1"))
        self.assertTrue(body["metadata"]["resourceVersion"])
        status, body = self.d.request("GET", "/api/v1/namespaces/default/pods", headers={
            "Accept": "application/json;as=Table;v=v1;g=meta.k8s.io,application/json"})
        self.assertEqual(body["kind"], "Table")
        self.assertEqual(body["columnDefinitions"][0]["name"], "Name")

    # ---- seccomp
    def test_localhost_seccomp_profile_is_enforced(self):
        profile = {"defaultAction": "SCMP_ACT_ALLOW", "architectures": ["SCMP_ARCH_X86_64"],
                   "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1}]}
        with open(os.path.join(self.d.info["seccomp_root"], "no-mkdir.json"), "w") as f:
            json.dump(profile, f)
        pod = e2e.pod_manifest("confined", "mkdir /tmp/d 2>&1; echo mkdir=$?; touch /tmp/f && echo touch-ok; "
                                           "exec sleep 1000")
        pod["spec"]["securityContext"] = {"seccompProfile": {"type": "Localhost", "localhostProfile": "no-mkdir.json"}}
        self.d.control("pods", pod)
        self.d.wait_running("confined")
        deadline = time.time() + 20
        while time.time() < deadline and "touch-ok" not in self.d.kubectl("logs", "confined").stdout:
            time.sleep(0.2)
        logs = self.d.kubectl("logs", "confined", check=True).stdout
        self.assertIn("Operation not permitted", logs)
        self.assertIn("mkdir=1\ntouch-ok\n", logs)

    def test_missing_localhost_profile_is_a_config_error(self):
        pod = e2e.pod_manifest("noprofile", "true")
        pod["spec"]["containers"][0]["securityContext"] = {
            "seccompProfile": {"type": "Localhost", "localhostProfile": "absent.json"}}
        self.d.control("pods", pod)
        pod = self.d.wait_for(lambda p: e2e.container_status(p, "app")["state"].get("waiting", {}).get("reason")
                              == "CreateContainerConfigError", "CreateContainerConfigError", name="noprofile")
        self.assertIn("absent.json", e2e.container_status(pod, "app")["state"]["waiting"]["message"])

    # ---- version, discovery, authentication
    def test_version_and_discovery(self):
        status, v = self.d.request("GET", "/version")
        self.assertEqual((v["major"], v["minor"], v["gitVersion"]), ("1", "31", "v1.31.4"))
        status, res = self.d.request("GET", "/api/v1")
        names = {r["name"]: r for r in res["resources"]}
        self.assertEqual(names["pods/ephemeralcontainers"]["verbs"], ["get", "patch", "update"])
        self.assertIn("create", names["pods/attach"]["verbs"])

    def test_no_credentials_is_401(self):
        status, body = self.d.request("GET", "/api/v1/namespaces/default/pods", client_cert=False)
        self.assertEqual((status, body["reason"], body["message"]), (401, "Unauthorized", "Unauthorized"))

    def test_bearer_token_authenticates_as_its_user(self):
        self.d.control("config", {"deny": [{"verb": "get", "resource": "pods", "user": "token-user"}]})
        try:
            status, body = self.d.request("GET", POD, client_cert=False, headers={
                "Authorization": "Bearer " + self.d.info["tokens"]["static"]})
            self.assertEqual(status, 403)
            self.assertIn('User "token-user" cannot get resource "pods"', body["message"])
        finally:
            self.d.control("config", {"deny": []})


if __name__ == "__main__":
    e2e.require()
    e2e.main()
