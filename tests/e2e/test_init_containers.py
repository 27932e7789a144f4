#!/usr/bin/env python3
"""Init containers and emptyDir volumes in the double, as the kubelet runs them: each init
container to a successful exit before the app containers start, an emptyDir shared between them,
a failing init container keeps the app from starting (and fails a restartPolicy: Never pod).

record --from-start's copy of a pod depends on exactly this (an init container leaves the tracer
in an emptyDir for the app container)."""
import os
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import e2e_support as e2e  # noqa: E402


def pod_with_init(name, init_command, restart_policy="Always"):
    pod = e2e.pod_manifest(name, "cat /shared/note; echo app-started; sleep 300",
                           volumeMounts=[{"name": "shared", "mountPath": "/shared"}])
    pod["spec"]["restartPolicy"] = restart_policy
    pod["spec"]["volumes"] = [{"name": "shared", "emptyDir": {}}]
    pod["spec"]["initContainers"] = [{"name": "prepare", "image": e2e.IMAGE,
                                      "command": ["sh", "-c", init_command],
                                      "securityContext": {"runAsUser": 65532},
                                      "volumeMounts": [{"name": "shared", "mountPath": "/out"}]}]
    return pod


class InitContainers(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.d = e2e.Double(pods=[
            pod_with_init("good", "sleep 1; echo written-by-init > /out/note"),
            pod_with_init("bad", "exit 4", restart_policy="Never"),
        ])

    @classmethod
    def tearDownClass(cls):
        cls.d.stop()

    def test_the_app_starts_after_its_init_container_and_sees_its_emptydir(self):
        pod = self.d.wait_running("good")
        init = next(s for s in pod["status"]["initContainerStatuses"] if s["name"] == "prepare")
        self.assertEqual(init["state"]["terminated"]["exitCode"], 0)
        self.assertTrue(init["ready"])
        cond = {c["type"]: c["status"] for c in pod["status"]["conditions"]}
        self.assertEqual(cond["Initialized"], "True")
        for _ in range(50):
            r = self.d.kubectl("logs", "good", "-c", "app")
            if "app-started" in r.stdout:
                break
            time.sleep(0.2)
        self.assertIn("written-by-init", r.stdout)
        r = self.d.kubectl("logs", "good", "-c", "prepare")
        self.assertEqual(r.returncode, 0, r.stderr)

    def test_a_failed_init_container_keeps_the_app_from_starting(self):
        pod = self.d.wait_for(lambda p: p["status"].get("phase") == "Failed", "phase Failed", name="bad")
        init = pod["status"]["initContainerStatuses"][0]
        self.assertEqual(init["state"]["terminated"]["exitCode"], 4)
        app = pod["status"]["containerStatuses"][0]
        self.assertIn("waiting", app["state"])
        cond = {c["type"]: c["status"] for c in pod["status"]["conditions"]}
        self.assertEqual(cond["Initialized"], "False")


if __name__ == "__main__":
    e2e.require()
    unittest.main()
