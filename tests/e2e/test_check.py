#!/usr/bin/env python3
"""`kubectl seccomp check` through real kubectl against the double, whose pods are real podman
containers (docs/check.md, issue 13 item 7). A Python program that binds sockets is recorded from its
first syscall; its own profile checks clean (exit 0); with bind removed, the attached check and the
from-start check in complain mode report exactly bind (exit 1); enforce makes the app fail as runc's
enforcement of the same profile does (exit 1 at its first bind, EPERM); the fixed profile
--output-file writes checks clean; a refusal by the profile's own errno rule is reported apart and
exit 0 (--strict: 1), and neither the fixed profile nor --baseline allows it; a NOTIFY profile and
a missing one are one line and exit 2; in a namespace whose Pod Security level is baseline the copy runs under RuntimeDefault and the report
says what that left unchecked; `record --from-start --baseline` of the profile without bind adds
exactly bind; a profile recorded by attaching, checked from the start, names the start-up calls it
lacks.

Needs podman, kubectl, the built plugin and a static seccomp-tracer (put into a FROM scratch image as
test_record_from_start.py does), and the local bookworm image (tests/containers/build-images)."""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import e2e_support as e2e  # noqa: E402
from apidouble import podman  # noqa: E402
from test_record_from_start import APP_IMAGE, tracer_image  # noqa: E402

# Binds a socket N times (argv[1]), 0.2 s apart, then says so and exits.
BINDER = ("import socket, sys, time\n"
          "for i in range(int(sys.argv[1])):\n"
          "    s = socket.socket(); s.bind(('127.0.0.1', 0)); s.close(); time.sleep(0.2)\n"
          "print('bound', flush=True)\n")


def pod(name, count, namespace="default"):
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": namespace},
            "spec": {"containers": [{"name": "app", "image": APP_IMAGE,
                                     "command": ["python3", "-c", BINDER, str(count)]}]}}


class Check(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        e2e.require_image(APP_IMAGE)
        cls.tracer = tracer_image()
        # brief: ends by itself (the from-start runs end with it); loop: runs on (attach).
        # shop: Pod Security baseline (no Unconfined, no added capability).
        cls.d = e2e.Double("--namespace", "shop:baseline",
                           pods=[pod("brief", 3), pod("loop", 100000), pod("brief", 3, "shop")])
        cls.addClassCleanup(cls.d.stop)
        cls.d.wait_running("loop")
        cls.out = tempfile.mkdtemp(prefix="ksc-check-")
        cls.addClassCleanup(shutil.rmtree, cls.out, True)
        # The workload's own profile, recorded from its first syscall.
        cls.profile = cls.path("brief.json")
        r = cls.plugin("record", "brief", "-c", "app", "--from-start", "--output-file", cls.profile)
        assert r.returncode == 0, r.stderr
        with open(cls.profile) as f:
            prof = json.load(f)
        # The same profile without bind, which the app needs.
        for rule in prof["syscalls"]:
            rule["names"] = [n for n in rule["names"] if n != "bind"]
        cls.no_bind = cls.path("no-bind.json")
        with open(cls.no_bind, "w") as f:
            json.dump(prof, f)

    @classmethod
    def path(cls, name):
        return os.path.join(cls.out, name)

    @classmethod
    def plugin(cls, *args, timeout=150):
        env = dict(os.environ, PATH=e2e.plugin_dir() + os.pathsep + os.environ["PATH"])
        started = time.time()
        r = subprocess.run(["kubectl", "seccomp", *args, "--kubeconfig", cls.d.kubeconfig, "--image", cls.tracer],
                           capture_output=True, text=True, env=env, timeout=timeout)
        if os.environ.get("KSC_E2E_SHOW"):
            print("%s: %.1fs rc=%d\n%s" % (args[:2], time.time() - started, r.returncode, r.stderr), file=sys.stderr)
        return r

    def check(self, target, profile, *extra):
        r = self.plugin("check", target, "-c", "app", "--profile", profile, "-o", "json", *extra)
        self.assertIn(r.returncode, (0, 1), r.stderr)
        return r.returncode, json.loads(r.stdout), r.stderr

    def denied(self, report):
        return sorted({d.get("name", "#%d" % d["nr"]) for d in report["denials"]})

    def test_1_the_workloads_own_profile_checks_clean_from_the_start(self):
        rc, report, err = self.check("brief", self.profile, "--from-start")
        self.assertEqual(rc, 0, err)
        self.assertEqual(report["denials"], [])
        self.assertEqual(report["mode"], "complain")
        self.assertEqual(report["app"]["exitCode"], 0)

    def test_2_attached_the_check_names_exactly_the_removed_syscall(self):
        rc, report, err = self.check("loop", self.no_bind, "--duration", "3s")
        self.assertEqual(rc, 1, err)
        self.assertEqual(report["mode"], "eval")
        self.assertEqual(self.denied(report), ["bind"])
        d = report["denials"][0]
        self.assertEqual((d["action"], d["errnoName"], d["comm"]), ("SCMP_ACT_ERRNO", "EPERM", "python3"))
        self.assertGreaterEqual(d["count"], 2)
        # The app was not changed: it binds on.
        r = self.d.kubectl("logs", "loop", "-c", "app")
        self.assertNotIn("PermissionError", r.stdout + r.stderr)

    def test_3_complain_names_it_the_app_works_and_the_fixed_profile_checks_clean(self):
        fixed = self.path("fixed.json")
        rc, report, err = self.check("brief", self.no_bind, "--from-start", "--output-file", fixed)
        self.assertEqual(rc, 1, err)
        self.assertEqual(self.denied(report), ["bind"])
        d = report["denials"][0]
        if report["complete"]:
            self.assertEqual(d["count"], 3)
        else:  # the stream ended before the tracer's final summary (a loaded machine): the report
            # says its counts are lower bounds, and so they must be
            self.assertIn(d["count"], (1, 2, 3))
        self.assertNotIn("seenErrors", d)  # the calls went on and succeeded
        self.assertEqual(report["app"]["exitCode"], 0)
        with open(fixed) as f:
            allowed = {n for rule in json.load(f)["syscalls"] if rule["action"] == "SCMP_ACT_ALLOW"
                       for n in rule["names"]}
        self.assertIn("bind", allowed)
        rc, report, err = self.check("brief", fixed, "--from-start")
        self.assertEqual((rc, report["denials"]), (0, []), err)

    def test_4_enforce_makes_the_app_fail_as_runc_would(self):
        rc, report, err = self.check("brief", self.no_bind, "--from-start", "--mode", "enforce")
        self.assertEqual(rc, 1, err)
        # bind first, refused once: the app stopped there. What its error path calls next is refused
        # too (as under runc: the profile never saw that path). The app fails at once, often before
        # the stream is read: the refused calls then come from the tracer's termination message.
        first = report["denials"][0]
        self.assertEqual((first["name"], first["count"], first["errnoName"]), ("bind", 1, "EPERM"))
        self.assertEqual(report["app"]["exitCode"], 1)
        # runc (podman) enforcing the same profile: the same exit, at the same call, with the same errno.
        run = podman.base_cmd() + ["run", "--rm", "--network", "host", "--pull", "never", "--security-opt",
                                   "seccomp=" + self.no_bind] + podman.run_flags() + \
            [APP_IMAGE, "python3", "-c", BINDER, "3"]
        r = subprocess.run(run, capture_output=True, text=True, timeout=60)
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertIn('line 3, in <module>\nPermissionError: [Errno 1]', r.stderr)  # the bind line

    def test_5_what_cannot_be_checked_is_one_line_and_exit_2(self):
        with open(self.profile) as f:
            prof = json.load(f)
        prof["syscalls"].append({"names": ["bind"], "action": "SCMP_ACT_NOTIFY"})
        notify = self.path("notify.json")
        with open(notify, "w") as f:
            json.dump(prof, f)
        for profile, words in ((notify, "SCMP_ACT_NOTIFY"), (self.path("missing.json"), "missing.json")):
            r = self.plugin("check", "loop", "-c", "app", "--profile", profile)
            self.assertEqual(r.returncode, 2, r.stderr)
            self.assertEqual(len(r.stderr.strip().splitlines()), 1, r.stderr)
            self.assertIn(words, r.stderr)


    def test_6_record_with_a_baseline_adds_only_what_the_baseline_lacks(self):
        grown = self.path("grown.json")
        r = self.plugin("record", "brief", "-c", "app", "--from-start", "--baseline", self.no_bind,
                        "--output-file", grown)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("calls inside the baseline are never seen", r.stderr)
        with open(self.no_bind) as f:
            base = json.load(f)
        with open(grown) as f:
            prof = json.load(f)
        allowed = {n for rule in prof["syscalls"] if rule["action"] == "SCMP_ACT_ALLOW" for n in rule["names"]}
        base_allowed = {n for rule in base["syscalls"] if rule["action"] == "SCMP_ACT_ALLOW" for n in rule["names"]}
        self.assertEqual(allowed - base_allowed, {"bind"})
        self.assertLessEqual(base_allowed, allowed)

    def test_7_a_profile_recorded_by_attaching_lacks_the_start_up_which_from_start_names(self):
        attached = self.path("attached.json")
        r = self.plugin("record", "loop", "-c", "app", "--duration", "2s", "--output-file", attached)
        self.assertEqual(r.returncode, 0, r.stderr)
        rc, report, err = self.check("brief", attached, "--from-start")
        self.assertEqual(rc, 1, err)
        names = self.denied(report)
        # What libc and python do only while they start (files and memory are in the runtime's base
        # set, which record adds), never bind.
        self.assertTrue({"arch_prctl", "set_robust_list", "getrandom", "prlimit64", "sysinfo"} & set(names), names)
        self.assertNotIn("bind", names)
        self.assertEqual({d["when"] for d in report["denials"]}, {"start-up"})

    def test_8_where_pod_security_refuses_unconfined_the_copy_says_what_was_not_checked(self):
        rc, report, err = self.check("brief", self.profile, "--from-start", "-n", "shop")
        self.assertEqual((rc, report["denials"]), (0, []), err)
        caveats = " ".join(report["caveats"])
        self.assertIn("calls RuntimeDefault refuses were not checked", caveats)
        self.assertIn("setuid and file-capability programs behaved differently", caveats)
        self.assertIn("Pod Security level is baseline", caveats)

    def test_9_a_refusal_by_the_profiles_own_errno_rule_is_its_answer_not_a_denial(self):
        # As convert refuses clone3 with ENOSYS on purpose: bind refused by a rule of its own.
        with open(self.no_bind) as f:
            prof = json.load(f)
        prof["syscalls"].append({"names": ["bind"], "action": "SCMP_ACT_ERRNO", "errnoRet": 38})
        ruled, fixed = self.path("bind-enosys.json"), self.path("bind-enosys-fixed.json")
        with open(ruled, "w") as f:
            json.dump(prof, f)
        rc, report, err = self.check("brief", ruled, "--from-start", "--output-file", fixed)
        self.assertEqual((rc, report["denials"]), (0, []), err)
        self.assertEqual([(d["name"], d["errno"], d["byRule"]) for d in report["refusedByRule"]], [("bind", 38, True)])
        with open(fixed) as f:
            kept = [r for r in json.load(f)["syscalls"] if "bind" in r["names"]]
        self.assertEqual([(r["action"], r.get("errnoRet")) for r in kept], [("SCMP_ACT_ERRNO", 38)])
        rc, report, err = self.check("brief", ruled, "--from-start", "--strict")
        self.assertEqual(rc, 1, err)
        self.assertEqual([(d["name"], d["byRule"]) for d in report["denials"]], [("bind", True)])
        # record --baseline: the baseline's own rule stays, bind is not added.
        grown = self.path("bind-enosys-grown.json")
        r = self.plugin("record", "brief", "-c", "app", "--from-start", "--baseline", ruled, "--output-file", grown)
        self.assertEqual(r.returncode, 0, r.stderr)
        with open(grown) as f:
            kept = [r for r in json.load(f)["syscalls"] if "bind" in r["names"]]
        self.assertEqual([(r["action"], r.get("errnoRet")) for r in kept], [("SCMP_ACT_ERRNO", 38)])
        self.assertIn("plus 0 new calls", r.stderr)


if __name__ == "__main__":
    e2e.require()
    e2e.require_plugin()
    unittest.main()
