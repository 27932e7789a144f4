#!/usr/bin/env python3
"""What a traced app can do to its recording, run by real kubectl against the API-server double with
the real tracer image:
- an app whose comm holds terminal escape sequences: the live view and the report show them escaped
  (\\x1b), never raw;
- a same-user recorder (--privileges same-user: the app's uid) is not dumpable: the app cannot read its
  /proc files; the app sends it SIGSTOP, SIGTERM or SIGKILL: the recording ends with a warning and no
  profile is written.
Run: KSC_BUILD_DIR=build python3 tests/client/test_record_untrusted_app.py -v"""
import os
import subprocess
import sys
import tempfile
import threading
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "e2e"))
import e2e_support as e2e  # noqa: E402

TRACER_IMAGE = e2e.TRACER_IMAGE
# The shell names itself ESC ] 0 ; pwned BEL ESC [ 2 J (a window title and a clear screen: 15
# bytes, comm's limit), waits for the test's go, then makes syscalls it had not made before.
ESCAPES = ("printf '\\033]0;pwned\\007\\033[2J' > /proc/self/comm; echo app-started; "
           "while [ ! -e /tmp/go ]; do sleep 1; done; "
           "while true; do cd /; umask 022; kill -0 $$; sleep 1; done")
LOOP = "echo app-started; while true; do ls / >/dev/null; cat /etc/hostname >/dev/null; sleep 1; done"
# The recorder's pid, seen from the app's container (they share the PID namespace).
RECORDER_PID = "pidof seccomp-tracer"


class Recording:
    """`kubectl seccomp record` running in the background; its stderr collected as it comes."""

    def __init__(self, double, *args):
        env = dict(os.environ, PATH=e2e.plugin_dir() + os.pathsep + os.environ["PATH"])
        self.p = subprocess.Popen(["kubectl", "seccomp", "record", "--image", TRACER_IMAGE, *args,
                                   "--kubeconfig", double.kubeconfig],
                                  stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
        self.err = b""
        self.out = b""
        self.lock = threading.Lock()
        self.threads = [threading.Thread(target=self._read, args=(self.p.stderr, "err"), daemon=True),
                        threading.Thread(target=self._read, args=(self.p.stdout, "out"), daemon=True)]
        for t in self.threads:
            t.start()

    def _read(self, f, which):
        for chunk in iter(lambda: f.read1(4096), b""):
            with self.lock:
                setattr(self, which, getattr(self, which) + chunk)

    def wait_for_stderr(self, text, timeout=120):
        deadline = time.time() + timeout
        while time.time() < deadline:
            with self.lock:
                if text.encode() in self.err:
                    return
            if self.p.poll() is not None:
                break
            time.sleep(0.2)
        raise AssertionError("no %r on the plugin's stderr:\n%s" % (text, self.err.decode("utf-8", "replace")))

    def wait(self, timeout=120):
        try:
            self.p.wait(timeout)
        finally:
            e2e.stop_process(self.p)
            for t in self.threads:
                t.join(5)
        return self.p.returncode


class UntrustedApp(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        escapes = e2e.pod_manifest("escapes", ESCAPES)
        pods = [escapes]
        for name in ("stopped", "terminated", "killed"):
            pod = e2e.pod_manifest(name, LOOP)
            pod["spec"]["securityContext"] = {"runAsUser": 1000, "runAsGroup": 1000}
            pods.append(pod)
        for p in pods:
            p["spec"]["restartPolicy"] = "Never"
        cls.d = e2e.Double(pods=pods)
        for p in pods:
            cls.d.wait_running(p["metadata"]["name"])
        cls.tmp = tempfile.mkdtemp(prefix="ksc-untrusted-")

    @classmethod
    def tearDownClass(cls):
        cls.d.stop()
        for f in os.listdir(cls.tmp):
            os.unlink(os.path.join(cls.tmp, f))
        os.rmdir(cls.tmp)

    def app(self, pod, script, check=True):
        """Runs `script` in the app's container, as the app's user (kubectl exec)."""
        return self.d.kubectl("exec", pod, "-c", "app", "--", "sh", "-c", script, check=check)

    def test_an_escape_sequence_in_comm_reaches_no_terminal_raw(self):
        rec = Recording(self.d, "escapes", "--duration", "8s", "-o", "report", "-v=1")
        rec.wait_for_stderr("recording")
        self.app("escapes", "touch /tmp/go")
        self.assertEqual(rec.wait(), 0, rec.err.decode("utf-8", "replace"))
        err, out = rec.err.decode("utf-8", "replace"), rec.out.decode("utf-8", "replace")
        self.assertNotIn("\x1b", err)
        self.assertNotIn("\x07", err)
        self.assertNotIn("\x1b", out)
        # The live view's new syscalls (cd, umask, kill: made after the go) name the shell by its comm.
        self.assertIn("\\x1b]0;pwned\\x07\\x1b[2J", err)
        self.assertIn("\\x1b]0;pwned\\x07\\x1b[2J", out)  # the report's "first seen by"

    def recorder_pid(self, pod):
        deadline = time.time() + 60
        while time.time() < deadline:
            r = self.app(pod, RECORDER_PID, check=False)
            if r.returncode == 0 and r.stdout.strip():
                return r.stdout.split()[0]
            time.sleep(0.5)
        self.fail("no seccomp-tracer process seen from pod %s's app container" % pod)

    def test_a_same_user_recorder_stopped_by_the_app_ends_the_recording_with_no_profile(self):
        out = os.path.join(self.tmp, "stopped.json")
        rec = Recording(self.d, "stopped", "--privileges", "same-user", "--duration", "5m", "--output-file", out)
        try:
            rec.wait_for_stderr("recording")
            self.assertEqual(self.app("stopped", "id -u").stdout.strip(), "1000")
            pid = self.recorder_pid("stopped")
            # Not dumpable: the app's uid may not read the recorder's /proc files (it may its own).
            self.app("stopped", "cat /proc/$$/environ >/dev/null")
            environ = self.app("stopped", "cat /proc/%s/environ" % pid, check=False)
            self.assertNotEqual(environ.returncode, 0, "the app read the recorder's environ")
            self.app("stopped", "kill -STOP %s" % pid)
            status = rec.wait(timeout=90)
        finally:
            e2e.stop_process(rec.p)
            # A stopped tracer holds the app at its next traced syscall: let both go.
            self.app("stopped", "kill -KILL $(%s)" % RECORDER_PID, check=False)
        err = rec.err.decode("utf-8", "replace")
        self.assertNotEqual(status, 0, err)
        self.assertIn("has not answered ping", err)
        self.assertIn("no profile written", err)
        self.assertFalse(os.path.exists(out), err)

    def test_a_same_user_recorder_terminated_by_the_app_ends_the_recording_with_no_profile(self):
        out = os.path.join(self.tmp, "terminated.json")
        rec = Recording(self.d, "terminated", "--privileges", "same-user", "--duration", "5m", "--output-file", out)
        try:
            rec.wait_for_stderr("recording")
            pid = self.recorder_pid("terminated")
            self.app("terminated", "kill -TERM %s" % pid)
            status = rec.wait(timeout=90)
        finally:
            e2e.stop_process(rec.p)
        err = rec.err.decode("utf-8", "replace")
        self.assertNotEqual(status, 0, err)
        self.assertIn("stopped by SIGTERM from pid", err)
        self.assertIn("(uid 1000)", err)
        self.assertIn("no profile written", err)
        self.assertFalse(os.path.exists(out), err)

    def test_a_same_user_recorder_killed_by_the_app_ends_the_recording_with_no_profile(self):
        out = os.path.join(self.tmp, "killed.json")
        rec = Recording(self.d, "killed", "--privileges", "same-user", "--duration", "5m", "--output-file", out)
        try:
            rec.wait_for_stderr("recording")
            pid = self.recorder_pid("killed")
            self.app("killed", "kill -KILL %s" % pid)
            status = rec.wait(timeout=120)
        finally:
            e2e.stop_process(rec.p)
        err = rec.err.decode("utf-8", "replace")
        self.assertNotEqual(status, 0, err)
        self.assertIn("was killed by signal 9", err)
        self.assertIn("no profile written", err)
        self.assertFalse(os.path.exists(out), err)


if __name__ == "__main__":
    e2e.require()
    e2e.require_plugin()
    e2e.require_image(TRACER_IMAGE)
    unittest.main()
