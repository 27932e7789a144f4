#!/usr/bin/env python3
"""Every verb that talks to the cluster, against each of the double's hostile modes
(apidouble/hostile.py): it must end in time (--request-timeout, or the verb's own --timeout), with
exactly one `error:` line on stderr and the documented error code (1), in bounded memory, without
a retry storm, and never follow a redirect to another host.
Run: KSC_BUILD_DIR=build python3 tests/e2e/test_hostile_server.py -v"""
import os
import subprocess
import sys
import threading
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import e2e_support as e2e  # noqa: E402

REQUEST_TIMEOUT = 5  # seconds, given to every verb as --request-timeout
RECORD_TIMEOUT = 20  # seconds, record --timeout (the recorder's start, watched)
MAX_RSS_MIB = 300
# One request and its retries (ClientOptions.max_retries = 5), with a few more for the verbs that
# get further before the answer that fails them.
MAX_REQUESTS = 12
LOOP = "while true; do sleep 1; done"

EVERY_REQUEST = ["deep-json", "huge-json", "huge-body", "wrong-length", "bad-length", "trickle", "redirect"]
WEBSOCKET = ["ws-bad-length", "ws-broken-frame", "ws-huge-frame", "ws-bad-close"]
# What the warning says when record carries on after a broken stream (its recording then comes
# from the recorder's log).
RECOVERED_AFTER = {"ws-broken-frame": "unknown WebSocket opcode 3",
                   "ws-huge-frame": "over our limit", "ws-bad-close": "close"}


def plugin():
    return os.path.join(e2e.plugin_dir(), "kubectl-seccomp")


class HostileServer(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.d = e2e.Double(pods=[e2e.pod_manifest("mypod", LOOP)])
        cls.d.wait_running("mypod")
        cls.tracer_image = e2e.podman.image_exists(e2e.TRACER_IMAGE)

    @classmethod
    def tearDownClass(cls):
        cls.d.stop()

    def tearDown(self):
        self.d.control("config", {"hostile": "", "hostilePath": ""})

    def requests_so_far(self):
        with open(os.path.join(self.d.dir, "access.log")) as f:
            return sum(1 for line in f if "/_double/" not in line)

    def run_verb(self, args, bound):
        """Runs the plugin as kubectl would; returns (exit code, stderr lines, seconds, max RSS MiB,
        requests the double saw). wait4 gives this child's own max RSS."""
        before = self.requests_so_far()
        start = time.monotonic()
        p = subprocess.Popen([plugin(), *args, "--kubeconfig", self.d.kubeconfig], stdin=subprocess.DEVNULL,
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        err = []
        reader = threading.Thread(target=lambda: err.append(p.stderr.read()))
        reader.start()
        while True:
            pid, status, usage = os.wait4(p.pid, os.WNOHANG)
            if pid == p.pid:
                break
            if time.monotonic() - start > bound + 30:
                p.kill()
                os.wait4(p.pid, 0)
                p.returncode = -9
                reader.join()
                p.stderr.close()
                self.fail("%s did not end within %d s" % (" ".join(args), bound + 30))
            time.sleep(0.05)
        seconds = time.monotonic() - start
        p.returncode = os.waitstatus_to_exitcode(status)
        reader.join()
        p.stderr.close()
        time.sleep(0.5)  # the access log is written after the answer
        return p.returncode, err[0].decode("utf-8", "replace").splitlines(), seconds, usage.ru_maxrss // 1024, \
            self.requests_so_far() - before

    def check(self, mode, args, bound, path="", recovered=None):
        """`recovered`: the words of the warning with which record may instead carry on (a broken
        attach is attached again, at most 3 times, then the recording is read from the recorder's
        log): then exit 0 is right, with that warning."""
        self.d.control("config", {"hostile": mode, "hostilePath": path})
        code, err, seconds, rss, requests = self.run_verb(args, bound)
        what = "%s under %s%s" % (" ".join(args[:2]), mode, " on " + path if path else "")
        self.assertLess(seconds, bound + 5, "%s took %.1f s: %s" % (what, seconds, err))
        self.assertLess(rss, MAX_RSS_MIB, "%s: max RSS %d MiB" % (what, rss))
        if recovered and code == 0:
            warnings = [line for line in err if line.startswith("warning: ") and recovered in line]
            self.assertTrue(warnings, "%s: exit 0 without a warning naming %r: %s" % (what, recovered, err))
            self.assertLessEqual(sum("attaching again" in line for line in err), 3, err)
            self.assertFalse([line for line in err if line.startswith("error: ")], err)
            print("  %s: %.1f s, max RSS %d MiB, %d requests: recovered after: %s" % (
                what, seconds, rss, requests, warnings[0]), flush=True)
            return warnings[0]
        self.assertEqual(code, 1, "%s: exit %d, stderr: %s" % (what, code, err))
        errors = [line for line in err if line.startswith("error: ")]
        self.assertEqual(len(errors), 1, "%s: stderr: %s" % (what, err))
        self.assertEqual(err[-1], errors[0], "%s: the error is not the last line: %s" % (what, err))
        self.assertLessEqual(requests, MAX_REQUESTS, "%s: %d requests (a retry storm?)" % (what, requests))
        print("  %s: %.1f s, max RSS %d MiB, %d requests: %s" % (what, seconds, rss, requests, errors[0]),
              flush=True)
        return errors[0]

    def verbs(self):
        rt = ["--request-timeout", "%ds" % REQUEST_TIMEOUT]
        return [(["version", *rt], REQUEST_TIMEOUT),
                (["recover", "mypod", *rt], REQUEST_TIMEOUT),
                (["record", "mypod", "--image", e2e.TRACER_IMAGE, "--timeout", "%ds" % RECORD_TIMEOUT,
                  "--duration", "3s", *rt], REQUEST_TIMEOUT),
                (["record", "-l", "app=mypod", "--image", e2e.TRACER_IMAGE, "--timeout", "%ds" % RECORD_TIMEOUT,
                  "--duration", "3s", *rt], REQUEST_TIMEOUT)]

    def test_every_verb_against_every_request_mode(self):
        # Every request, then all but /version (every verb asks it first): the pod, its log, the
        # pod list.
        for path in ("", "^/api/v1/namespaces/"):
            for mode in EVERY_REQUEST:
                for args, bound in self.verbs():
                    if path and args[0] == "version":
                        continue  # it asks /version only
                    with self.subTest(mode=mode, verb=" ".join(args[:2]), path=path):
                        self.check_mode(mode, args, bound, path)

    def check_mode(self, mode, args, bound, path):
        error = self.check(mode, args, bound, path)
        if mode in ("huge-json", "huge-body"):
            self.assertIn("64 MiB", error)
        if mode == "trickle":
            self.assertIn("timed out", error)
        if mode == "redirect":
            self.assertIn("not followed", error)

    def test_a_redirect_to_another_host_is_never_followed(self):
        for path in ("", "^/api/v1/namespaces/"):
            for args, bound in self.verbs():
                if not (path and args[0] == "version"):
                    self.check("redirect", args, bound, path)
        status, state = self.d.request("GET", "/_double/state")
        self.assertEqual(state["redirectTargetConnections"], 0)

    def test_record_against_a_watch_that_never_sends(self):
        args, _ = self.verbs()[2]
        # --timeout for the watch (and 5 s for a server that does not end it at timeoutSeconds),
        # then up to 15 s more to stop the recorder it added (README "record").
        self.check("watch-silent", args, RECORD_TIMEOUT + 20)

    def test_the_websocket_client_against_broken_websockets(self):
        """The plugin's WebSocket client alone (ksc-client-probe attach), which needs no tracer
        image: every broken upgrade, frame or close ends the session with one line saying so."""
        probe = os.path.join(os.environ.get("KSC_BUILD_DIR", ""), "tests", "client", "ksc-client-probe")
        if not os.access(probe, os.X_OK):
            self.skipTest("ksc-client-probe is not built (cmake --build build --target ksc-client-probe)")
        path = "/api/v1/namespaces/default/pods/mypod/attach?container=app&stdin=true&stdout=true"
        expected = {"ws-bad-length": "403", "ws-broken-frame": "opcode", "ws-huge-frame": "limit",
                    "ws-bad-close": "close"}
        for mode in WEBSOCKET:
            with self.subTest(mode=mode):
                self.d.control("config", {"hostile": mode, "hostilePath": ""})
                start = time.monotonic()
                r = subprocess.run([probe, "--kubeconfig", self.d.kubeconfig, "attach", path, "x"],
                                   capture_output=True, text=True, timeout=60)
                seconds = time.monotonic() - start
                ended = [line for line in r.stdout.splitlines() if line.startswith("end: ")] + \
                    [line for line in r.stderr.splitlines() if line.startswith("error: ")]
                print("  probe attach under %s: %.1f s, exit %d: %s" % (mode, seconds, r.returncode, ended),
                      flush=True)
                self.assertEqual(len(ended), 1, "stdout: %s stderr: %s" % (r.stdout, r.stderr))
                self.assertIn(expected[mode], ended[0].lower())
                self.assertLess(seconds, 15)

    def test_record_against_broken_websockets(self):
        if not self.tracer_image:
            self.skipTest("the tracer image %s is not built (tracer-image/build-image)" % e2e.TRACER_IMAGE)
        # A pod each: a recorder the failed attach leaves running makes the next record refuse.
        for mode in WEBSOCKET:
            self.d.control("pods", e2e.pod_manifest(mode, LOOP))
        for mode in WEBSOCKET:
            self.d.wait_running(mode)
            args = ["record", mode] + self.verbs()[2][0][2:]
            with self.subTest(mode=mode):
                self.check(mode, args, RECORD_TIMEOUT + 10, recovered=RECOVERED_AFTER.get(mode))


if __name__ == "__main__":
    e2e.require(kubectl=False)
    e2e.require_plugin()
    e2e.main()
