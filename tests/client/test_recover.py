#!/usr/bin/env python3
"""`kubectl seccomp recover` run by real kubectl against the API-server double, with the real tracer
image as the recorder: a recording whose client was killed is recovered from the recorder's log; a
finished one from its log, else (the log refused) from its termination message; `record` points at
`recover` when the pod has an earlier recorder that ended.
Run: KSC_BUILD_DIR=build python3 tests/client/test_recover.py -v"""
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



class Recover(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        pods = [e2e.pod_manifest("done", LOOP), e2e.pod_manifest("killed", LOOP), e2e.pod_manifest("bare", LOOP)]
        for p in pods:
            p["spec"]["restartPolicy"] = "Never"
        cls.d = e2e.Double(pods=pods)
        for p in pods:
            cls.d.wait_running(p["metadata"]["name"])
        cls.kubeconfig = os.path.join(os.path.dirname(cls.d.kubeconfig), "kubeconfig-exec")

    @classmethod
    def tearDownClass(cls):
        cls.d.stop()

    def setUp(self):
        self.d.control("config", {"failRequests": []})

    def env(self):
        return dict(os.environ, PATH=e2e.plugin_dir() + os.pathsep + os.environ["PATH"])

    def cmd(self, verb, *args):
        # kubectl takes no flags before a plugin's name: --kubeconfig goes after it, to the plugin.
        extra = ("--image", TRACER_IMAGE) if verb == "record" else ()
        return ["kubectl", "seccomp", verb, *extra, *args, "--kubeconfig", self.kubeconfig]

    def run_verb(self, verb, *args, timeout=120):
        return subprocess.run(self.cmd(verb, *args), capture_output=True, text=True, timeout=timeout, env=self.env())

    def recorders(self, pod):
        return [c["name"] for c in self.d.pod(pod)["spec"].get("ephemeralContainers", [])
                if c["name"].startswith("seccomp-recorder-")]

    def test_a_finished_recording_from_its_log_then_from_its_termination_message(self):
        r = self.run_verb("record", "done", "--duration", "4s", "-o", "json")
        self.assertEqual(r.returncode, 0, r.stderr)
        recorded = e2e.allowed(r.stdout)
        name = self.recorders("done")[-1]
        self.d.wait_for(lambda p: "terminated" in (e2e.container_status(p, name) or {}).get("state", {}),
                        "the recorder ends after stop", name="done")

        r = self.run_verb("recover", "done", "-o", "json")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(e2e.allowed(r.stdout), recorded)  # the log has every event and the final summary
        self.assertIn("from recorder %s: its log" % name, r.stderr)
        self.assertNotIn("may be missing", r.stderr)

        # The log refused (every try): the termination message, names only, and said so.
        self.d.control("config", {"failRequests": [{"method": "GET", "path": "/log", "code": 500, "count": 100}]})
        r = self.run_verb("recover", "done", "--recorder", name, "-o", "json")
        self.assertEqual(r.returncode, 0, r.stderr)
        got = e2e.allowed(r.stdout)
        for syscall in ("execve", "getdents64", "openat", "wait4"):
            self.assertIn(syscall, got)
        self.assertIn("termination message", r.stderr)
        self.assertIn("log could not be read", r.stderr)

        # A second record points at recover for the recorder that ended.
        self.d.control("config", {"failRequests": []})
        r = self.run_verb("record", "done", "--duration", "2s", "-o", "json")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("kubectl seccomp recover done --recorder %s" % name, r.stderr)

    def test_a_killed_record_is_recovered_from_the_log_of_its_still_running_recorder(self):
        p = subprocess.Popen(self.cmd("record", "killed", "--output-file", os.path.join(self.d.dir, "never.json")),
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=self.env(),
                             start_new_session=True)
        try:
            deadline = time.time() + 90
            while time.time() < deadline and not any(
                    "running" in (e2e.container_status(self.d.pod("killed"), n) or {}).get("state", {})
                    for n in self.recorders("killed")):
                time.sleep(0.5)
            time.sleep(4)  # a few rounds of the app's loop
        finally:
            os.killpg(p.pid, signal.SIGKILL)
            p.communicate(timeout=30)
        out = os.path.join(self.d.dir, "recovered.json")
        r = self.run_verb("recover", "killed", "-c", "app", "--output-file", out)
        self.assertEqual(r.returncode, 0, r.stderr)
        with open(out) as f:
            got = e2e.allowed(f.read())
        for syscall in ("execve", "getdents64", "openat"):
            self.assertIn(syscall, got)
        self.assertIn("still running", r.stderr)
        self.assertFalse(os.path.exists(os.path.join(self.d.dir, "never.json")))

    def test_no_recorder_or_an_unknown_one_is_refused(self):
        r = self.run_verb("recover", "bare")
        self.assertEqual(r.returncode, 1)
        self.assertIn("has no seccomp-recorder-* container", r.stderr)
        r = self.run_verb("recover", "bare", "--recorder", "seccomp-recorder-zzzzz")
        self.assertEqual(r.returncode, 1)
        self.assertIn('no ephemeral container "seccomp-recorder-zzzzz"', r.stderr)


if __name__ == "__main__":
    e2e.require()
    e2e.require_plugin()
    e2e.require_image(TRACER_IMAGE)
    unittest.main()
