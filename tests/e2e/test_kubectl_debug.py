#!/usr/bin/env python3
"""`kubectl debug` against the double: the strongest independent check of the path the plugin
takes (GET the pod, strategic-merge PATCH of pods/ephemeralcontainers, watch until the container
runs, attach over WebSocket v5), and of what the double does with it in podman (the ephemeral
container shares the target's PID namespace and gets the capabilities its spec asks for)."""
import json
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import e2e_support as e2e  # noqa: E402

APP = "echo app-started; exec sleep 100000"
# The tracer's securityContext from docs/design.md, as kubectl debug --custom applies it.
TRACER_CONTEXT = {"securityContext": {"capabilities": {"drop": ["ALL"], "add": ["SYS_PTRACE"]},
                                      "allowPrivilegeEscalation": False, "readOnlyRootFilesystem": True,
                                      "seccompProfile": {"type": "RuntimeDefault"}}}
CAP_SYS_PTRACE = 1 << 19


class KubectlDebug(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.d = e2e.Double(pods=[e2e.pod_manifest("mypod", APP)])
        cls.d.wait_running("mypod")
        cls.custom = os.path.join(cls.d.dir, "tracer-context.json")
        with open(cls.custom, "w") as f:
            json.dump(TRACER_CONTEXT, f)

    @classmethod
    def tearDownClass(cls):
        cls.d.stop()

    # Output is only seen once the attach is in place (an attach does not replay), so every command
    # that prints first reads a line: kubectl sends it only when attached.
    def debug(self, *args, input=None, name):
        return self.d.kubectl("debug", "mypod", "-i", "--image=" + e2e.IMAGE, "--target=app",
                              "--container=" + name, *args, input=input, timeout=120)

    def test_debug_attaches_with_stdin_stdout_stderr_and_sees_the_targets_processes(self):
        r = self.debug("--", "sh", "-c", "read l; echo got:$l; ps -o pid,args; echo to-stderr >&2",
                       input="hello\n", name="dbg-ps")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertNotIn("falling back to streaming logs", r.stderr)  # the WebSocket attach worked
        self.assertIn("got:hello\n", r.stdout)
        self.assertIn("to-stderr", r.stderr)
        # PID 1 of the shared namespace is the app's process: --pid container:<target> is in place.
        first = next(l for l in r.stdout.splitlines() if l.split()[:1] == ["1"])
        self.assertIn("sleep 100000", first)

    def test_debug_it_runs_the_container_on_a_terminal(self):
        # Without a terminal of its own kubectl attaches without one ("Unable to use a TTY"), but the
        # container it asked for (tty: true) runs on a pty all the same, as on a node.
        r = self.d.kubectl("debug", "mypod", "-it", "--image=" + e2e.IMAGE, "--target=app", "--container=dbg-tty",
                           "--", "sh", "-c", "read l; echo got:$l; tty", input="go\n", timeout=120)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("got:go\n/dev/pts/", r.stdout)
        spec = next(c for c in self.d.pod("mypod")["spec"]["ephemeralContainers"] if c["name"] == "dbg-tty")
        self.assertEqual((spec["tty"], spec["stdin"]), (True, True))

    def test_finished_ephemeral_container_reports_its_exit_code(self):
        r = self.debug("--", "sh", "-c", "exit 5", name="dbg-exit")
        self.assertEqual(r.returncode, 0, r.stderr)  # attach ends with Success, as with the kubelet
        pod = self.d.wait_for(
            lambda p: "terminated" in (e2e.container_status(p, "dbg-exit") or {}).get("state", {}),
            "dbg-exit terminated")
        term = e2e.container_status(pod, "dbg-exit")["state"]["terminated"]
        self.assertEqual((term["exitCode"], term["reason"]), (5, "Error"))
        self.assertTrue(term["containerID"].startswith("containerd://"))
        spec = next(c for c in pod["spec"]["ephemeralContainers"] if c["name"] == "dbg-exit")
        self.assertEqual(spec["targetContainerName"], "app")
        self.assertEqual(spec["terminationMessagePath"], "/dev/termination-log")

    def test_tracer_security_context_becomes_the_containers_capabilities(self):
        r = self.debug("--custom=" + self.custom, "--",
                       "sh", "-c", "read l; grep CapEff /proc/self/status; touch /x 2>&1; echo done",
                       input="go\n", name="dbg-caps")
        self.assertEqual(r.returncode, 0, r.stderr)
        cap_eff = int(next(l for l in r.stdout.splitlines() if l.startswith("CapEff")).split()[1], 16)
        self.assertEqual(cap_eff, CAP_SYS_PTRACE)  # drop ALL, add SYS_PTRACE: nothing else
        self.assertIn("Read-only file system", r.stdout)

    def test_termination_message_of_a_read_only_non_root_container_reaches_the_status(self):
        # The tracer's last word (its compact summary) travels this way when the stream is lost.
        custom = os.path.join(self.d.dir, "nonroot.json")
        with open(custom, "w") as f:
            json.dump({"securityContext": dict(TRACER_CONTEXT["securityContext"], runAsUser=65534,
                                               runAsNonRoot=True)}, f)
        r = self.debug("--custom=" + custom, "--", "sh", "-c",
                       "read l; id -u; printf 'x86_64:AAE=' > /dev/termination-log", input="go\n", name="dbg-term")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertTrue(r.stdout.endswith("65534\n"), r.stdout)
        pod = self.d.wait_for(
            lambda p: "terminated" in (e2e.container_status(p, "dbg-term") or {}).get("state", {}),
            "dbg-term terminated")
        term = e2e.container_status(pod, "dbg-term")["state"]["terminated"]
        self.assertEqual((term["exitCode"], term.get("message")), (0, "x86_64:AAE="))

    def test_duplicate_name_is_refused_with_the_api_servers_message(self):
        r = self.debug("--", "true", name="app")
        self.assertEqual(r.returncode, 1)
        # The index is the new container's place in the list: earlier tests added some.
        self.assertRegex(r.stderr, r'The Pod "mypod" is invalid: spec\.ephemeralContainers\[\d+\]\.name: '
                                   r'Duplicate value: "app"')

    def test_missing_target_is_refused(self):
        r = self.d.kubectl("debug", "mypod", "-i", "--image=" + e2e.IMAGE, "--target=nope",
                           "--container=dbg-nope", "--", "true")
        self.assertEqual(r.returncode, 1)
        self.assertRegex(r.stderr, r'The Pod "mypod" is invalid: spec\.ephemeralContainers\[\d+\]\.'
                                   r'targetContainerName: Not found: "nope"')

    def test_ephemeral_container_logs_are_kept(self):
        r = self.debug("--", "sh", "-c", "echo kept-in-log", name="dbg-log")
        self.assertEqual(r.returncode, 0, r.stderr)
        logs = self.d.kubectl("logs", "mypod", "-c", "dbg-log", check=True)
        self.assertEqual(logs.stdout, "kept-in-log\n")


if __name__ == "__main__":
    e2e.require()
    e2e.main()
