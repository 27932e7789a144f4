#!/usr/bin/env python3
"""The double removes every container it started when it stops, and a test's Double.stop removes
what a killed double left. Pinned because a pod's first container once outlived a passing run:
the others share its network namespace, and podman refuses to remove it before them.
Run: python3 tests/e2e/test_double_cleanup.py -v"""
import os
import signal
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import e2e_support as e2e  # noqa: E402
from apidouble import podman  # noqa: E402

LOOP = "while true; do sleep 1; done"


def two_container_pod():
    pod = e2e.pod_manifest("two", LOOP)
    pod["spec"]["containers"].append(dict(pod["spec"]["containers"][0], name="side"))
    return pod


def containers_of(d):
    r = podman.podman("ps", "-a", "--format", "{{.Names}}", "--filter",
                      "label=io.kubectl-seccomp.apidouble=" + d.instance, check=False)
    return r.stdout.split()


class Cleanup(unittest.TestCase):
    def start(self):
        d = e2e.Double(pods=[two_container_pod()])
        self.addCleanup(d.stop)
        d.wait_running("two", container="app")
        d.wait_running("two", container="side")
        self.assertEqual(len(containers_of(d)), 2)
        return d

    def test_stopping_the_double_removes_a_pods_containers_sharing_a_namespace(self):
        d = self.start()
        d.proc.send_signal(signal.SIGTERM)
        d.proc.wait(60)
        self.assertEqual(containers_of(d), [])

    def test_a_killed_doubles_containers_go_with_the_test(self):
        d = self.start()
        d.proc.kill()
        d.proc.wait(60)
        self.assertEqual(len(containers_of(d)), 2)  # nobody removed them yet
        d.stop()
        self.assertEqual(containers_of(d), [])

    def test_deleting_a_pod_removes_all_its_containers(self):
        d = self.start()
        status, _ = d.request("DELETE", "/api/v1/namespaces/default/pods/two")
        self.assertEqual(status, 200)
        deadline = time.time() + 30  # deletion is asynchronous, as in Kubernetes
        while d.pod("two") is not None and time.time() < deadline:
            time.sleep(0.2)
        self.assertIsNone(d.pod("two"))
        self.assertEqual(containers_of(d), [])


if __name__ == "__main__":
    e2e.require(kubectl=False)
    e2e.main()
