"""The tracer's --check-program cases (kubectl seccomp check, issue 13): eval, complain and enforce
against the kernel's own filter, no_new_privs, --drop-cap-sys-admin, refused programs, i386
(docs/tracer.md, "Checking a profile"). Imported by tracer_tests.py, which runs them.
"""

import base64
import errno
import os
import resource
import shutil
import signal
import struct
import subprocess

from tracer_harness import (ATTACH, LAUNCH, NOFILTER, NR, TIMEOUT, TRACER, X86, X86_64, TracerCase, go, modes,
                            need_ia32, prog)


AUDIT_X86_64, AUDIT_I386 = 0xC000003E, 0x40000003
RET_ALLOW, RET_ERRNO, RET_TRAP = 0x7FFF0000, 0x00050000, 0x00030000
RET_KILL_THREAD, RET_KILL_PROCESS = 0x00000000, 0x80000000


def refusing(nr, verdict, arch=AUDIT_X86_64):
    """A seccomp program that gives `verdict` to syscall `nr` of `arch` and allows the rest."""
    insns = [(0x20, 0, 0, 4), (0x15, 0, 3, arch),  # ld [arch]; jeq arch, else allow
             (0x20, 0, 0, 0), (0x15, 0, 1, nr),    # ld [nr]; jeq nr, else allow
             (0x06, 0, 0, verdict), (0x06, 0, 0, RET_ALLOW)]
    return b"".join(struct.pack("=HBBI", *i) for i in insns)


class CheckCase(TracerCase):
    """Runs tt_check untraced, under the kernel's own filter (tt_filter_exec) and under the tracer."""

    GETSID = NR[X86_64]["getsid"]

    def setUp(self):
        super().setUp()
        # Killed by SIGSYS dumps core (kernel and tracer alike): not into the build tree.
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))

    def program(self, verdict, nr=None, arch=AUDIT_X86_64):
        raw = refusing(self.GETSID if nr is None else nr, verdict, arch)
        path = os.path.join(self.tmp, f"prog-{len(self.sessions)}")
        with open(path, "wb") as f:
            f.write(raw)
        return path, base64.b64encode(raw).decode()

    def run_to_end(self, mode, argv, tracer_args=(), wrapper=()):
        """Runs argv through the handshake to its end, or its death."""
        s = self.session(mode, argv, tracer_args, wrapper=wrapper).start().ready()
        go(s)
        while True:
            try:
                line = s.app_out.next()
            except AssertionError:
                if s.app_out.eof:
                    break  # it died
                raise
            s.output.append(line)
            if line == "done":
                s.send("exit")
                break
        s.output += s.app_out.rest()
        s.wait_exit()
        return s

    def denials(self, s):
        return s.stream.of("denial")

    def summary_denials(self, s):
        finals = [e for e in s.stream.events if e["type"] == "summary" and e.get("final")]
        self.assertTrue(finals, f"{s.name}: no final summary")
        return finals[-1].get("denials", [])

    def assert_one_getsid_denial(self, s, action, err, enforced, mode):
        d = self.denials(s)
        self.assertEqual(len(d), 1, f"exactly one denial line: {d}")
        d = d[0]
        self.assertEqual((d["arch"], d["nr"], d.get("name"), d["action"], d.get("errno"), d["enforced"]),
                         (X86_64, self.GETSID, "getsid", action, err, enforced))
        # syscall(2) passes the int -1 as a 32-bit value: the register holds 0xffffffff.
        self.assertEqual(d["args"][0] & 0xFFFFFFFF, 0xFFFFFFFF, "getsid(-1)'s first argument")
        self.assertTrue(d.get("exe", "").endswith("/tt_check"), f"the denial's exe: {d}")
        hello = s.stream.events[0]
        self.assertEqual(hello.get("check"), {"mode": mode, "instructions": 6}, f"hello: {hello}")
        sd = self.summary_denials(s)
        self.assertEqual([(x["nr"], x["count"]) for x in sd], [(self.GETSID, 2)], f"summary denials: {sd}")
        # Launch mode: each refused call's stop carried the check filter's data, not the recording
        # filter's (installed first): among equal actions the kernel keeps the newest filter's data.
        final = [e for e in s.stream.events if e["type"] == "summary" and e.get("final")][-1]
        self.assertEqual(final.get("lost", []), [], "lost: a stop's data was not the check filter's")
        return sd[0]


class CheckAttach(CheckCase):
    """Attach check (eval): the program is run over each syscall entry; exactly the refused call is
    reported, the app is unaffected, and the recording goes on as without a check."""

    def test_attach(self):
        _, b64 = self.program(RET_ERRNO | errno.EPERM)
        base = self.run_to_end("untraced", [prog("tt_check")])
        s = self.session(ATTACH, [prog("tt_check")], ["--check-program", b64]).start().ready()
        go(s)
        for _ in range(4):
            s.line()
        s.finish()
        self.assertEqual(s.output, base.output, "the app under an attach check behaves as untraced")
        self.assertIn("getsid -1 ESRCH", s.output)
        self.check_stream(s)
        self.assert_counts(s, {(X86_64, "getsid"): 2})
        self.assert_one_getsid_denial(s, "SCMP_ACT_ERRNO", errno.EPERM, False, "eval")


@modes(LAUNCH, NOFILTER)
class CheckComplain(CheckCase):
    """From-start check, complain: the refused call runs; the denial says which, and the summary
    what the app got back (the errno of its unfiltered run)."""

    def run_mode(self, mode):
        _, b64 = self.program(RET_ERRNO | errno.EPERM)
        base = self.run_to_end("untraced", [prog("tt_check")])
        s = self.run_to_end(mode, [prog("tt_check")], ["--check-program", b64])
        self.assertEqual(s.output, base.output, "the app in complain mode behaves as unfiltered")
        self.assertEqual(s.app_status, base.app_status)
        self.check_stream(s)
        d = self.assert_one_getsid_denial(s, "SCMP_ACT_ERRNO", errno.EPERM, False, "complain")
        self.assertEqual(d.get("seen_errors"), {"ESRCH": 2}, "what the app got back when the call ran")
        self.assertEqual(s.stream.of("warning"), [], "root has CAP_SYS_ADMIN: no no_new_privs warning")


@modes(LAUNCH, NOFILTER)
class CheckEnforce(CheckCase):
    """From-start check, enforce: the app gets exactly what the kernel's own filter gives it:
    the errno; SIGSYS with SYS_SECCOMP siginfo and the rolled-back register (TRAP); death by
    SIGSYS (TRAP unhandled, KILL_THREAD, KILL_PROCESS)."""

    def compare(self, mode, verdict, argv_tail=(), dies=False):
        path, b64 = self.program(verdict)
        argv = [prog("tt_check")] + list(argv_tail)
        kernel = self.run_to_end("untraced", [prog("tt_filter_exec"), path] + argv)
        s = self.run_to_end(mode, argv, ["--check-program", b64, "--check-mode", "enforce"])
        self.assertEqual(s.output, kernel.output, "enforce mode's app output is the kernel filter's")
        self.assertEqual(s.app_status, kernel.app_status, "enforce mode's app status is the kernel filter's")
        if dies:
            self.assertEqual(kernel.app_status, -signal.SIGSYS, f"the kernel's kill: {kernel.output}")
            ex = [e for e in s.stream.of("exited") if e.get("pid") == s.pid and e.get("tid") == s.pid]
            self.assertEqual([e.get("signal") for e in ex], [signal.SIGSYS], f"exited events: {ex}")
        self.check_stream(s)
        return s, kernel

    def run_mode(self, mode):
        base = self.run_to_end("untraced", [prog("tt_check")])
        with self.subTest("errno"):
            s, kernel = self.compare(mode, RET_ERRNO | errno.EACCES)
            self.assertIn("getsid -1 EACCES", s.output)
            self.assertNotEqual(s.output, base.output)
            self.assert_one_getsid_denial(s, "SCMP_ACT_ERRNO", errno.EACCES, True, "enforce")
        with self.subTest("trap with a handler"):
            s, kernel = self.compare(mode, RET_TRAP | 42, ["handler"])
            self.assertIn(f"sigsys code 1 errno 42 syscall {self.GETSID} arch c000003e addr set rax {self.GETSID}",
                          s.output)
            self.assert_one_getsid_denial(s, "SCMP_ACT_TRAP", None, True, "enforce")
        with self.subTest("trap unhandled"):
            self.compare(mode, RET_TRAP, dies=True)
        with self.subTest("trap with SIGSYS blocked: the documented difference"):
            path, b64 = self.program(RET_TRAP)
            argv = [prog("tt_check"), "blocked"]
            kernel = self.run_to_end("untraced", [prog("tt_filter_exec"), path] + argv)
            self.assertEqual(kernel.app_status, -signal.SIGSYS, "the kernel forces its SIGSYS")
            s = self.run_to_end(mode, argv, ["--check-program", b64, "--check-mode", "enforce"])
            self.assertEqual(s.output, kernel.output, "the app stops at the same call")
            self.assertEqual(s.app_status, -signal.SIGKILL, "a tracer cannot force SIGSYS: SIGKILL instead")
            self.assertEqual([w.get("code") for w in s.stream.of("warning")], ["sigsys-handled"])
        with self.subTest("kill_thread"):
            s, _ = self.compare(mode, RET_KILL_THREAD, dies=True)
            self.assertEqual(self.denials(s)[0]["action"], "SCMP_ACT_KILL_THREAD")
        with self.subTest("kill_process"):
            s, _ = self.compare(mode, RET_KILL_PROCESS, dies=True)
            self.assertEqual(self.denials(s)[0]["action"], "SCMP_ACT_KILL_PROCESS")


class CheckOnly(CheckCase):
    """--check-only: no recording filter; the app stops only at the calls the profile refuses, which
    are all the recording holds; complain and enforce work as with the recording filter."""

    def test_launch(self):
        _, b64 = self.program(RET_ERRNO | errno.EACCES)
        base = self.run_to_end("untraced", [prog("tt_check")])
        s = self.run_to_end(LAUNCH, [prog("tt_check")], ["--check-program", b64, "--check-only"])
        self.assertEqual(s.output, base.output, "complain: the app behaves as unfiltered")
        s.summary = self.stream_final(s)
        self.assertEqual(s.counts(), {(X86_64, self.GETSID): 2}, "only the refused calls stopped the app")
        self.assertEqual(s.stream.of("syscall")[0]["nr"], self.GETSID)
        d = self.assert_one_getsid_denial(s, "SCMP_ACT_ERRNO", errno.EACCES, False, "complain")
        self.assertEqual(d.get("seen_errors"), {"ESRCH": 2})
        path, b64 = self.program(RET_ERRNO | errno.EACCES)
        kernel = self.run_to_end("untraced", [prog("tt_filter_exec"), path, prog("tt_check")])
        s = self.run_to_end(LAUNCH, [prog("tt_check")],
                            ["--check-program", b64, "--check-only", "--check-mode", "enforce"])
        self.assertEqual(s.output, kernel.output, "enforce: the kernel filter's errno")
        self.assertIn("getsid -1 EACCES", s.output)

    def stream_final(self, s):
        return [e for e in s.stream.events if e["type"] == "summary" and e.get("final")][-1]


class CheckNoNewPrivs(CheckCase):
    """Without CAP_SYS_ADMIN the tracer must set no_new_privs to install the profile, and says so
    in a warning (setuid programs behave differently); with it, the app runs without it, as
    under runc."""

    def test_launch(self):
        if os.geteuid() != 0 or not shutil.which("setpriv"):
            self.skipTest("needs root and setpriv to drop CAP_SYS_ADMIN")
        _, b64 = self.program(RET_ERRNO | errno.EPERM)
        s = self.run_to_end(LAUNCH, [prog("tt_check")], ["--check-program", b64])
        self.assertIn("nnp 0", s.output)
        drop = ["setpriv", "--inh-caps=-sys_admin", "--bounding-set=-sys_admin", "--"]
        s = self.run_to_end(LAUNCH, [prog("tt_check")], ["--check-program", b64], wrapper=drop)
        self.assertIn("nnp 1", s.output)
        codes = [w.get("code") for w in s.stream.of("warning")]
        self.assertEqual(codes, ["no-new-privs"], f"warnings: {s.stream.of('warning')}")


class CheckDropCapSysAdmin(CheckCase):
    """--drop-cap-sys-admin (the plugin passes it when it added CAP_SYS_ADMIN to the copy): the app
    runs without CAP_SYS_ADMIN (bit 21) in its bounding, permitted and effective sets; without the
    flag it keeps it. The tracer's own set-up (prctl, capset) is no denial of the app, even where
    the profile refuses those calls and is enforced. Without CAP_SETPCAP the bounding set keeps it,
    with a warning."""

    SYS_ADMIN = 1 << 21

    def caps(self, s):
        sets = {}
        for line in s.output:
            name, _, value = line.partition(":")
            if name in ("CapBnd", "CapPrm", "CapEff", "CapInh", "CapAmb"):
                sets[name] = int(value.strip(), 16)
        self.assertEqual(len(sets), 5, f"tt_check caps printed its sets: {s.output}")
        return sets

    def test_launch(self):
        if os.geteuid() != 0 or not shutil.which("setpriv"):
            self.skipTest("needs root (CAP_SYS_ADMIN) and setpriv")
        argv = [prog("tt_check"), "caps"]
        _, capset = self.program(RET_ERRNO | errno.EPERM, NR[X86_64]["capset"])
        s = self.run_to_end(LAUNCH, argv, ["--check-program", capset, "--check-mode", "enforce"])
        self.assertTrue(all(self.caps(s)[k] & self.SYS_ADMIN for k in ("CapBnd", "CapPrm", "CapEff")),
                        f"without the flag the app keeps CAP_SYS_ADMIN: {s.output}")
        s = self.run_to_end(LAUNCH, argv,
                            ["--check-program", capset, "--check-mode", "enforce", "--drop-cap-sys-admin"])
        self.assertEqual(s.tracer_status, 0, s.output)
        caps = self.caps(s)
        self.assertEqual([k for k, v in caps.items() if v & self.SYS_ADMIN], [], f"CAP_SYS_ADMIN left: {caps}")
        self.assertNotEqual(caps["CapEff"], 0, "only CAP_SYS_ADMIN is removed")
        self.assertEqual(self.denials(s), [], "the tracer's own capset is no denial")
        self.assertIn("nnp 0", s.output)  # the filter was installed with CAP_SYS_ADMIN
        # A refused prctl: the app's one PR_GET_NO_NEW_PRIVS is the only denial, counted once.
        _, prctl = self.program(RET_ERRNO | errno.EPERM, NR[X86_64]["prctl"])
        for extra in ([], ["--check-only"]):
            s = self.run_to_end(LAUNCH, argv, ["--check-program", prctl, "--drop-cap-sys-admin"] + extra)
            self.assertEqual([(x["nr"], x["count"]) for x in self.summary_denials(s)],
                             [(NR[X86_64]["prctl"], 1)], f"{extra}: {s.stream.of('denial')}")
            self.assertFalse(self.caps(s)["CapEff"] & self.SYS_ADMIN)
        # Without CAP_SETPCAP: the bounding set keeps it, and the tracer says so.
        nosetpcap = ["setpriv", "--inh-caps=-setpcap", "--bounding-set=-setpcap", "--"]
        s = self.run_to_end(LAUNCH, argv, ["--check-program", capset, "--drop-cap-sys-admin"], wrapper=nosetpcap)
        self.assertEqual([w.get("code") for w in s.stream.of("warning")], ["cap-sys-admin-kept"])
        caps = self.caps(s)
        self.assertTrue(caps["CapBnd"] & self.SYS_ADMIN)
        self.assertFalse(caps["CapInh"] & self.SYS_ADMIN)


class CheckRefusedProgram(CheckCase):
    """A program the kernel would refuse, or longer than its 4096 instructions, is refused in one
    line before anything is traced."""

    def test_launch(self):
        bad = base64.b64encode(struct.pack("=HBBI", 0x15, 9, 0, 39) + struct.pack("=HBBI", 0x06, 0, 0, RET_ALLOW))
        big = base64.b64encode(b"".join(struct.pack("=HBBI", 0x06, 0, 0, RET_ALLOW) for _ in range(4097)))
        for args, status, want in (
                (["--output", "/dev/null", "--check-program", bad.decode(), "--", "true"], 125, "refused"),
                (["--output", "/dev/null", "--check-program", big.decode(), "--", "true"], 125,
                 "4097 instructions, more than the kernel's 4096"),
                (["--pid", str(os.getpid()), "--check-program", big.decode()], 1, "4097 instructions")):
            r = subprocess.run([TRACER] + args, capture_output=True, text=True, timeout=TIMEOUT)
            self.assertEqual(r.returncode, status, r.stderr)
            self.assertEqual(r.stdout, "")
            self.assertEqual(len(r.stderr.splitlines()), 1, f"one line: {r.stderr!r}")
            self.assertIn(want, r.stderr)


@modes(LAUNCH, ATTACH)
class CheckOtherArchitecture(CheckCase):
    """A profile refusing i386 personality (int $0x80) is checked per architecture: the i386 call is
    the denial, the x86_64 personality is not."""

    def run_mode(self, mode):
        need_ia32(self)
        _, b64 = self.program(RET_ERRNO | errno.EPERM, NR[X86]["personality"], AUDIT_I386)

        def interact(s):
            go(s)
            s.line()

        s = self.run_behaviour(mode, [prog("tt_int80")], interact,
                               counts={(X86, "personality"): 1, (X86_64, "personality"): 1},
                               tracer_args=["--check-program", b64])
        d = self.denials(s)
        self.assertEqual([(x["arch"], x["nr"], x["action"], x.get("errno")) for x in d],
                         [(X86, NR[X86]["personality"], "SCMP_ACT_ERRNO", errno.EPERM)])
