#!/usr/bin/env python3
"""Real kubectl against the double: get, get -o yaml, get -w, logs (-f, --previous), exec, attach,
with client-certificate, exec-credential-plugin and static-token kubeconfigs.

The pods are real podman containers: what kubectl shows must be what podman says."""
import json
import os
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import e2e_support as e2e  # noqa: E402
from apidouble import podman  # noqa: E402

TICKER = "i=0; while true; do echo tick $i; i=$((i+1)); sleep 0.2; done"
# Exits 3 after one line, so the kubelet-like restart loop gives it a previous instance.
CRASHER = "echo run at $(date +%s%N); sleep 0.5; exit 3"


class KubectlBasics(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.d = e2e.Double(pods=[
            e2e.pod_manifest("mypod", TICKER),
            e2e.pod_manifest("crasher", CRASHER),
            e2e.pod_manifest("echo", "cat", stdin=True),
        ])
        for name in ("mypod", "echo"):
            cls.d.wait_running(name)

    @classmethod
    def tearDownClass(cls):
        cls.d.stop()

    def test_get_pods_prints_the_servers_table(self):
        r = self.d.kubectl("get", "pods", check=True)
        lines = r.stdout.splitlines()
        self.assertEqual(lines[0].split(), ["NAME", "READY", "STATUS", "RESTARTS", "AGE"])
        row = next(l.split() for l in lines if l.startswith("mypod "))
        self.assertEqual(row[1:4], ["1/1", "Running", "0"])

    def test_get_pod_yaml_reflects_the_real_container(self):
        r = self.d.kubectl("get", "pod", "mypod", "-o", "json", check=True)
        pod = json.loads(r.stdout)
        status = pod["status"]["containerStatuses"][0]
        self.assertEqual(pod["status"]["phase"], "Running")
        self.assertIn("running", status["state"])
        scheme, _, cid = status["containerID"].partition("://")
        self.assertEqual(scheme, "containerd")
        inspect = json.loads(podman.podman("inspect", cid).stdout)[0]
        self.assertTrue(inspect["State"]["Running"])
        self.assertEqual(inspect["Config"]["Labels"]["io.kubernetes.pod.name"], "mypod")
        y = self.d.kubectl("get", "pod", "mypod", "-o", "yaml", check=True).stdout
        self.assertIn("containerID: containerd://" + cid, y)

    def test_the_pods_node_describes_this_machine(self):
        node = self.d.pod("mypod")["spec"]["nodeName"]
        r = self.d.kubectl("get", "node", node, "--no-headers", check=True)
        self.assertEqual(r.stdout.split()[:2], [node, "Ready"])
        info = json.loads(self.d.kubectl("get", "node", node, "-o", "json", check=True).stdout)["status"]["nodeInfo"]
        self.assertEqual((info["operatingSystem"], info["kernelVersion"]), ("linux", os.uname().release))
        self.d.control("config", {"nodeLabels": {"kubernetes.io/os": "windows"}})
        try:
            r = self.d.kubectl("get", "nodes", "-l", "kubernetes.io/os=windows", "-o", "name", check=True)
            self.assertEqual(r.stdout.split(), ["node/" + node])
            node_obj = json.loads(self.d.kubectl("get", "node", node, "-o", "json", check=True).stdout)
            self.assertEqual(node_obj["status"]["nodeInfo"]["operatingSystem"], "windows")
        finally:
            self.d.control("config", {"nodeLabels": {}})

    def test_exec_credential_plugin_kubeconfig(self):
        log = os.path.join(os.path.dirname(self.d.info["kubeconfig"]), "exec-credential.log")
        r = self.d.kubectl("get", "pods", "-o", "name", kubeconfig=self.d.info["kubeconfig-exec"], check=True)
        self.assertIn("pod/mypod", r.stdout.split())
        with open(log) as f:
            self.assertIn("client.authentication.k8s.io/v1", f.read())

    def test_exec_credential_plugin_v1beta1(self):
        r = self.d.kubectl("get", "pod", "mypod", "-o", "name", kubeconfig=self.d.info["kubeconfig-exec-v1beta1"])
        self.assertEqual((r.returncode, r.stdout.strip()), (0, "pod/mypod"), r.stderr)
        log = os.path.join(os.path.dirname(self.d.info["kubeconfig"]), "exec-credential.log")
        with open(log) as f:
            self.assertIn("client.authentication.k8s.io/v1beta1", f.read())

    def test_static_token_kubeconfig(self):
        r = self.d.kubectl("get", "pod", "mypod", "-o", "name", kubeconfig=self.d.info["kubeconfig-token"], check=True)
        self.assertEqual(r.stdout.strip(), "pod/mypod")

    def test_wrong_token_is_unauthorized(self):
        with open(self.d.info["kubeconfig-token"]) as f:
            cfg = json.load(f)
        cfg["users"][0]["user"]["token"] = "wrong"
        path = os.path.join(self.d.dir, "bad-kubeconfig")
        with open(path, "w") as f:
            json.dump(cfg, f)
        r = self.d.kubectl("get", "pods", kubeconfig=path)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("Unauthorized", r.stderr)

    def test_get_missing_pod_shows_the_not_found_status(self):
        r = self.d.kubectl("get", "pod", "nosuch")
        self.assertEqual(r.returncode, 1)
        self.assertIn('Error from server (NotFound): pods "nosuch" not found', r.stderr)

    def test_logs_show_the_containers_output(self):
        r = self.d.kubectl("logs", "mypod", "--tail=2", check=True)
        lines = r.stdout.splitlines()
        self.assertEqual(len(lines), 2)
        self.assertTrue(all(l.startswith("tick ") for l in lines), lines)

    def test_logs_timestamps_and_since(self):
        r = self.d.kubectl("logs", "mypod", "--timestamps", "--tail=1", check=True)
        ts, text = r.stdout.split(" ", 1)
        self.assertRegex(ts, r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z$")
        self.assertTrue(text.startswith("tick "))
        everything = []
        while len(everything) < 25:  # more than --since's 2 s of ticks (5 a second)
            time.sleep(0.5)
            everything = self.d.kubectl("logs", "mypod", check=True).stdout.splitlines()
        recent = self.d.kubectl("logs", "mypod", "--since=2s", check=True).stdout.splitlines()
        self.assertTrue(0 < len(recent) < len(everything), (len(recent), len(everything)))

    def test_logs_follow_streams_new_lines(self):
        p = subprocess.Popen(["kubectl", "--kubeconfig", self.d.kubeconfig, "logs", "-f", "mypod", "--tail=1"],
                             stdout=subprocess.PIPE, text=True)
        try:
            first = int(p.stdout.readline().split()[1])
            later = int(p.stdout.readline().split()[1])
            self.assertEqual(later, first + 1)
        finally:
            e2e.stop_process(p)

    def test_restarted_container_has_previous_logs_and_restart_count(self):
        pod = self.d.wait_for(lambda p: p["status"]["containerStatuses"][0]["restartCount"] >= 1,
                              "a restart", name="crasher")
        last = pod["status"]["containerStatuses"][0]["lastState"]["terminated"]
        self.assertEqual(last["exitCode"], 3)
        self.assertEqual(last["reason"], "Error")
        prev = self.d.kubectl("logs", "crasher", "--previous", check=True).stdout
        self.assertTrue(prev.startswith("run at "), prev)
        r = self.d.kubectl("get", "pod", "crasher", "-o", "jsonpath={.status.containerStatuses[0].restartCount}")
        self.assertGreaterEqual(int(r.stdout), 1)

    def test_previous_logs_of_a_never_restarted_container_is_an_error(self):
        r = self.d.kubectl("logs", "mypod", "--previous")
        self.assertNotEqual(r.returncode, 0)
        self.assertIn('previous terminated container "app" in pod "mypod" not found', r.stderr)

    def test_exec_returns_the_commands_exit_code(self):
        r = self.d.kubectl("exec", "mypod", "--", "sh", "-c", "echo out; echo err >&2; exit 7")
        self.assertEqual(r.returncode, 7, r.stderr)
        self.assertEqual(r.stdout, "out\n")
        self.assertIn("err", r.stderr)

    def test_exec_passes_stdin(self):
        r = self.d.kubectl("exec", "-i", "mypod", "--", "sh", "-c", "read l; echo got:$l", input="hello\n")
        self.assertEqual((r.returncode, r.stdout), (0, "got:hello\n"), r.stderr)

    def test_attach_sends_stdin_and_receives_output(self):
        p = subprocess.Popen(["kubectl", "--kubeconfig", self.d.kubeconfig, "attach", "-i", "echo"],
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            time.sleep(1.5)  # the attach must be in place before the line goes out
            p.stdin.write("through-attach\n")
            p.stdin.flush()
            self.assertEqual(p.stdout.readline(), "through-attach\n")
        finally:
            e2e.stop_process(p)
        self.assertIn("through-attach", self.d.kubectl("logs", "echo", check=True).stdout)

    def test_create_from_a_file_with_server_side_field_validation(self):
        path = os.path.join(self.d.dir, "created.json")
        with open(path, "w") as f:
            json.dump(e2e.pod_manifest("created", "exec sleep 1000"), f)
        r = self.d.kubectl("create", "-f", path)
        self.assertEqual((r.returncode, r.stdout), (0, "pod/created created\n"), r.stderr)
        self.d.wait_running("created")
        bad = e2e.pod_manifest("typo", "true")
        bad["spec"]["containers"][0]["imagePullPolicyy"] = "Never"
        with open(path, "w") as f:
            json.dump(bad, f)
        r = self.d.kubectl("create", "-f", path)
        self.assertEqual(r.returncode, 1)
        self.assertIn('strict decoding error: unknown field "spec.containers[0].imagePullPolicyy"', r.stderr)

    def test_deployment_has_a_replica_set_and_ready_pods(self):
        self.d.control("deployments", {
            "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"},
            "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "web"}},
                     "template": {"metadata": {"labels": {"app": "web"}},
                                  "spec": {"containers": [{"name": "app", "image": e2e.IMAGE,
                                                           "command": ["sleep", "1000"]}]}}}})
        deadline = time.time() + 60
        row = []
        while time.time() < deadline and row[1:2] != ["2/2"]:
            row = self.d.kubectl("get", "deploy", "web", "--no-headers", check=True).stdout.split()
            time.sleep(0.3)
        self.assertEqual(row[:4], ["web", "2/2", "2", "2"])
        pods = json.loads(self.d.kubectl("get", "pods", "-l", "app=web", "-o", "json", check=True).stdout)["items"]
        self.assertEqual(len(pods), 2)
        rs = self.d.kubectl("get", "rs", "-o", "name", check=True).stdout.split()
        self.assertEqual([p["metadata"]["ownerReferences"][0]["kind"] for p in pods], ["ReplicaSet"] * 2)
        self.assertIn("replicaset.apps/" + pods[0]["metadata"]["ownerReferences"][0]["name"], rs)
        self.assertEqual(self.d.kubectl("delete", "deploy", "web").returncode, 0)
        deadline = time.time() + 60
        while time.time() < deadline and any(self.d.pod(p["metadata"]["name"]) for p in pods):
            time.sleep(0.3)
        self.assertFalse(any(self.d.pod(p["metadata"]["name"]) for p in pods), "the deployment's pods remain")

    def test_watch_reports_changes_until_deletion(self):
        self.d.control("pods", e2e.pod_manifest("short", "sleep 1000"))
        self.d.wait_running("short")
        p = subprocess.Popen(["kubectl", "--kubeconfig", self.d.kubeconfig, "get", "pods", "-w",
                              "--field-selector", "metadata.name=short", "--output-watch-events"],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            first = p.stdout.readline().split()
            self.assertEqual(first[:2], ["EVENT", "NAME"])
            self.assertEqual(p.stdout.readline().split()[:4], ["ADDED", "short", "1/1", "Running"])
            self.d.kubectl("delete", "pod", "short", "--wait=false", check=True)
            events = []
            while "DELETED" not in events:
                line = p.stdout.readline()
                if not line:
                    break
                events.append(line.split()[0])
            self.assertIn("MODIFIED", events)
            self.assertEqual(events[-1], "DELETED")
        finally:
            e2e.stop_process(p)


if __name__ == "__main__":
    e2e.require()
    e2e.main()
