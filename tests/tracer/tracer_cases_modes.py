"""The tracer's cases on what it attaches to and launches: --all in a PID namespace, --container-id,
other users, several pids, refusals; launch mode (PID 1, exit status, inheritance, stop, --control);
its outputs (summary file, unix:, hello, --version) and a setuid helper. Imported by tracer_tests.py,
which runs them.
"""

import base64
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

from tracer_harness import (ATTACH, LAUNCH, NOFILTER, NR, TIMEOUT, TRACER, X86, X86_64, LineReader, Stream,
                            TracerCase, go, ia32_missing, modes, need_pid_namespace, proc_status, prog)


class LateProcesses(TracerCase):
    """A process that enters the traced PID namespace later (nsenter, like kubectl exec) is
    picked up by --all's /proc re-scan and its syscalls are marked late; the app's own child's
    are not."""

    def test_attach(self):
        need_pid_namespace(self)
        app = self.session("untraced", ["unshare", "--pid", "--fork", "--mount-proc", "--kill-child",
                                        prog("tt_late"), "app"], name="app in its PID namespace")
        app.start()
        app.ready()
        self.assertEqual(app.pid, 1, "the app is PID 1 of its namespace")
        self.wait_for("unshare's child", lambda: child_of(app.app.pid))
        host_pid = child_of(app.app.pid)
        enter = ["nsenter", "-t", str(host_pid), "-p", "-m", "--"]

        # The tracer, inside the namespace, with --all.
        tracer = self.session(ATTACH, [], name="tracer --all")
        tracer.pid = 1
        with open(tracer.errfile + "-tracer", "wb") as err:
            tracer.tracer = subprocess.Popen(enter + [TRACER, "--all"], stdin=subprocess.PIPE,
                                             stdout=subprocess.PIPE, stderr=err)
        tracer.stream = Stream(tracer.tracer.stdout, "tracer --all: stream")
        tracer.ctl = tracer.tracer.stdin
        tracer.stream.wait("'attached' for the app (pid 1)",
                           lambda e: e["type"] == "attached" and e.get("pid") == 1)
        go(app)
        app.expect("app child exit 0")
        app.expect("done")

        late = self.session("untraced", enter + [prog("tt_late"), "late"], name="late process").start()
        late.ready()
        t0 = time.monotonic()
        attached = tracer.stream.wait(f"'attached' for the late process (pid {late.pid})",
                                      lambda e: e["type"] == "attached" and e.get("pid") == late.pid)
        latency = time.monotonic() - t0
        print(f"late process picked up after {latency * 1000:.0f} ms (target: 100 ms)", file=sys.stderr)
        self.assertIs(attached.get("late"), True, f"the late process's 'attached' event: {attached}")
        self.assertLess(latency, 2.0, "the late process was picked up too slowly (target: 100 ms)")
        go(late)
        late.expect("late process done")
        late.expect("done")
        late.send("exit")
        late.wait_exit()
        self.assertEqual(late.app_status, 0)

        summary = tracer.stop()
        self.assertEqual(tracer.tracer.wait(TIMEOUT), 0, "the tracer's exit status after 'stop'")
        tracer.summary = summary
        self.check_stream(tracer)
        self.assert_counts(tracer, {(X86_64, "sched_rr_get_interval"): 1, (X86_64, "sysinfo"): 1})
        events = {e.get("nr"): e for e in tracer.syscall_events() if e.get("arch") == X86_64}
        entries = {s.get("nr"): s for s in summary["syscalls"] if s.get("arch") == X86_64}
        self.assertIs(events[NR[X86_64]["sysinfo"]].get("late"), True, "the late process's sysinfo event")
        self.assertIs(entries[NR[X86_64]["sysinfo"]].get("late_only"), True,
                      "the summary marks sysinfo as made only by a late process")
        self.assertFalse(events[NR[X86_64]["sched_rr_get_interval"]].get("late", False),
                         "the app's child's syscall is not late")
        self.assertFalse(entries[NR[X86_64]["sched_rr_get_interval"]].get("late_only", False),
                         "the app's child's syscall is not late_only")
        app.send("exit")
        app.wait_exit()
        self.assertEqual(app.app_status, 0)


class ContainerId(TracerCase):
    """--container-id ID traces only the processes whose /proc/PID/cgroup names the container
    (here a cgroup named after a made-up ID), not the others of the PID namespace."""

    def test_attach(self):
        need_pid_namespace(self)
        base = "/sys/fs/cgroup/pids"
        if not os.path.isdir(base) or not os.access(base, os.W_OK):
            self.skipTest(f"no writable cgroup v1 pids hierarchy at {base}")
        cid = os.urandom(32).hex()
        cgroup = os.path.join(base, f"ksc-tracer-test-{cid}")
        os.mkdir(cgroup)

        def remove_cgroup():
            for s in self.sessions:
                s.kill()
            self.wait_for("the test cgroup empty", lambda: not open(os.path.join(cgroup, "cgroup.procs")).read())
            os.rmdir(cgroup)

        self.addCleanup(remove_cgroup)

        # PID 1 of the namespace stands for the pause process: not in the container.
        other = self.session("untraced", ["unshare", "--pid", "--fork", "--mount-proc", "--kill-child",
                                          prog("tt_detach"), "sleeping"], name="not in the container")
        other.start()
        other.pid = int(other.app_out.next().split()[1])
        self.wait_for("unshare's child", lambda: child_of(other.app.pid))
        ns_init = child_of(other.app.pid)
        enter = ["nsenter", "-t", str(ns_init), "-p", "-m", "--"]
        # Use up PID 2 first: the case of PID 2 is AllInNamespace's.
        subprocess.run(enter + ["true"], check=True)

        app = self.session("untraced", enter + [prog("tt_late"), "app"], name="the container's app").start()
        app.ready()
        self.wait_for("nsenter's child", lambda: child_of(app.app.pid))
        with open(os.path.join(cgroup, "cgroup.procs"), "w") as f:
            f.write(str(child_of(app.app.pid)))

        tracer = self.session(ATTACH, [], name="tracer --container-id")
        with open(tracer.errfile + "-tracer", "wb") as err:
            tracer.tracer = subprocess.Popen(enter + [TRACER, "--container-id", cid], stdin=subprocess.PIPE,
                                             stdout=subprocess.PIPE, stderr=err)
        tracer.stream = Stream(tracer.tracer.stdout, "tracer --container-id: stream")
        tracer.ctl = tracer.tracer.stdin
        tracer.stream.wait(f"'attached' for the app (pid {app.pid})",
                           lambda e: e["type"] == "attached" and e.get("pid") == app.pid)
        other.send("count")  # sysinfo, outside the container
        self.assertTrue(other.line().startswith("count "))
        go(app)
        app.expect("app child exit 0")
        app.expect("done")
        tracer.stop()
        self.assertEqual(tracer.tracer.wait(TIMEOUT), 0, "the tracer's exit status after 'stop'")
        tracer.stream.rest()
        self.check_stream(tracer)
        self.assert_counts(tracer, {(X86_64, "sched_rr_get_interval"): 1})
        self.assert_absent(tracer, [(X86_64, "sysinfo")])
        pids = {e.get("pid") for e in tracer.stream.of("attached")}
        self.assertNotIn(other.pid, pids, "the process outside the container was traced")
        app.send("exit")
        app.wait_exit()
        self.assertEqual(app.app_status, 0)
        other.send("exit")
        other.expect("bye")


class AllInNamespace(TracerCase):
    """--all in a PID namespace whose PID 1 already has children (PID 2 is the first of them, as
    when a container's entrypoint forks): all of them are traced, none taken for kthreadd."""

    def test_attach(self):
        need_pid_namespace(self)
        app = self.session("untraced", ["unshare", "--pid", "--fork", "--mount-proc", "--kill-child",
                                        prog("tt_tree")], name="tree in its PID namespace").start()
        app.ready()
        self.assertEqual(app.pid, 1)
        self.wait_for("unshare's child", lambda: child_of(app.app.pid))
        ns_init = child_of(app.app.pid)
        tracer = self.session(ATTACH, [], name="tracer --all")
        with open(tracer.errfile + "-tracer", "wb") as err:
            tracer.tracer = subprocess.Popen(["nsenter", "-t", str(ns_init), "-p", "-m", "--", TRACER, "--all"],
                                             stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=err)
        tracer.stream = Stream(tracer.tracer.stdout, "tracer --all: stream")
        tracer.ctl = tracer.tracer.stdin
        want = {1, 2, 3, 4}  # the tree: PID 1, its children 2 and 3, 3's child 4 (or 2's)
        tracer.stream.wait_until(f"'attached' for every process of the namespace {sorted(want)}",
                                 lambda: want <= {e.get("pid") for e in tracer.stream.events
                                                  if e["type"] == "attached"})
        go(app)
        app.line()
        app.line()
        app.expect("done")
        tracer.stop()
        self.assertEqual(tracer.tracer.wait(TIMEOUT), 0)
        tracer.stream.rest()
        self.check_stream(tracer)
        self.assert_counts(tracer, {(X86_64, "sysinfo"): 3})
        app.send("exit")
        app.wait_exit()
        self.assertEqual(app.app_status, 0)


class NonRoot(TracerCase):
    """Without CAP_SYS_PTRACE: a tracer of the target's own uid attaches (what --privileges
    same-user relies on); one of another uid is refused with an 'error' event coded eperm."""

    AS_NOBODY = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--inh-caps=-all",
                 "--bounding-set=-all", "--"]

    def setUp(self):
        super().setUp()
        if os.geteuid() != 0 or not shutil.which("setpriv"):
            self.skipTest("needs root and setpriv to run as another user")

    def attach_as_nobody(self, target):
        s = self.session(ATTACH, target, name="target").start()
        s.pid = int(s.app_out.next().split()[1])
        with open(s.errfile + "-tracer", "wb") as err:
            s.tracer = subprocess.Popen(self.AS_NOBODY + [TRACER, "--pid", str(s.pid)], stdin=subprocess.PIPE,
                                        stdout=subprocess.PIPE, stderr=err)
        s.stream = Stream(s.tracer.stdout, "tracer stream (as nobody)")
        s.ctl = s.tracer.stdin
        return s

    def test_same_user(self):
        s = self.attach_as_nobody(self.AS_NOBODY + [prog("tt_detach"), "sleeping"])
        s.wait_attached(s.pid)
        # Not dumpable (PR_SET_DUMPABLE 0): its /proc files belong to root, not to the uid it shares
        # with the app, which can then neither read them nor ptrace it. The app's own stay its uid's.
        self.assertEqual(os.stat(f"/proc/{s.tracer.pid}/environ").st_uid, 0, "the tracer's /proc files' owner")
        self.assertEqual(os.stat(f"/proc/{s.pid}/environ").st_uid, 65534, "the app's /proc files' owner")
        self.counters(s)
        self.stop_and_wait(s)
        self.assert_counts(s, {(X86_64, "sysinfo"): 1})
        self.assert_detached_and_ends(s)

    def test_other_user_refused(self):
        s = self.attach_as_nobody([prog("tt_detach"), "sleeping"])
        self.assertEqual(s.tracer.wait(TIMEOUT), 1, "the tracer's exit status when refused")
        s.stream.rest()
        errors = s.stream.of("error")
        self.assertTrue(errors, "no 'error' event")
        self.assertEqual(errors[0].get("code"), "eperm", f"{errors[0]}")
        self.counters(s)
        s.send("exit")
        s.expect("bye")


class SeveralPids(TracerCase):
    """--pid A B traces both processes, and detaches both on stop."""

    def test_attach(self):
        a = self.session("untraced", [prog("tt_detach"), "sleeping"], name="first").start()
        b = self.session("untraced", [prog("tt_detach"), "sleeping"], name="second").start()
        for x in (a, b):
            x.ready()
        t = self.session(ATTACH, [], name="tracer --pid A B")
        with open(t.errfile + "-tracer", "wb") as err:
            t.tracer = subprocess.Popen([TRACER, "--pid", str(a.pid), str(b.pid)], stdin=subprocess.PIPE,
                                        stdout=subprocess.PIPE, stderr=err)
        t.stream = Stream(t.tracer.stdout, "tracer stream")
        t.ctl = t.tracer.stdin
        t.pid = a.pid
        t.wait_attached(a.pid)
        t.wait_attached(b.pid)
        for x in (a, b):
            self.counters(x)
        t.stop()
        self.assertEqual(t.tracer.wait(TIMEOUT), 0)
        t.stream.rest()
        self.check_stream(t)
        self.assert_counts(t, {(X86_64, "sysinfo"): 2})
        for x in (a, b):
            self.assert_detached_and_ends(x)


class SummaryFile(TracerCase):
    """On a clean stop the summary file holds the compact form (src/proto/compact_summary.h): one line
    'ksc1 ARCH=base64 ...', bit n of an arch's bitmap set when syscall n was seen."""

    @staticmethod
    def decode(text):
        words = text.strip().split(" ")
        assert words[0] == "ksc1", f"the compact summary starts with {words[0]!r}, not 'ksc1'"
        seen = {}
        for w in words[1:]:
            if w.startswith("@"):
                continue  # argument values (protocol 1.1): Arguments checks them
            arch, b64 = w.split("=", 1)
            bits = base64.b64decode(b64)
            seen[arch] = {i for i in range(len(bits) * 8) if bits[i // 8] >> (i % 8) & 1}
        return seen

    def check_file(self, s, path):
        self.assertTrue(os.path.exists(path), "no summary file written")
        with open(path) as f:
            text = f.read()
        self.assertLessEqual(len(text.encode()), 4096, "the kubelet keeps 4 KiB of termination message")
        self.assertEqual(len(text.strip().splitlines()), 1, f"one line: {text!r}")
        seen = self.decode(text)
        want = {}
        for (arch, nr) in s.counts():
            want.setdefault(arch, set()).add(nr)
        self.assertEqual(seen, want, "the compact summary and the final summary disagree")
        return seen

    def test_attach(self):
        path = os.path.join(self.tmp, "termination-log")
        s = self.session(ATTACH, [prog("tt_detach"), "sleeping"], tracer_args=["--summary-file", path])
        s.start().ready()
        self.counters(s)
        self.stop_and_wait(s)
        seen = self.check_file(s, path)
        self.assertIn(NR[X86_64]["sysinfo"], seen.get(X86_64, set()))
        self.assert_detached_and_ends(s)

    def test_launch(self):
        path = os.path.join(self.tmp, "termination-log")
        # With IA32 emulation, two architectures in one summary; without it, x86_64 alone.
        i386 = ia32_missing() is None
        argv = [prog("tt_int80")] if i386 else [prog("tt_int80"), "64"]
        s = self.session(LAUNCH, argv, tracer_args=["--summary-file", path]).start().ready()
        go(s)
        s.line()
        s.finish()
        self.assertEqual(s.app_status, 0)
        seen = self.check_file(s, path)
        if i386:
            self.assertIn(NR[X86]["getcpu"], seen.get(X86, set()))
        else:
            self.assertNotIn(X86, seen, "tt_int80 64 made an i386 call")
        self.assertIn(NR[X86_64]["personality"], seen.get(X86_64, set()))


def child_of(pid):
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            kids = f.read().split()
        return int(kids[0]) if kids else None
    except FileNotFoundError:
        return None


@modes(LAUNCH, NOFILTER)
class Pid1(TracerCase):
    """As PID 1 (launch mode in a container) the tracer forwards SIGTERM, SIGINT, SIGHUP, SIGQUIT,
    SIGUSR1, SIGUSR2 and SIGWINCH to its command, reaps orphans, and exits as the command did."""

    def run_mode(self, mode):
        need_pid_namespace(self)
        s = self.session(mode, [prog("tt_pid1")], wrapper=["unshare", "--pid", "--fork", "--mount-proc", "--kill-child"])
        s.start().ready()
        tracer = child_of(s.tracer.pid)
        self.assertIsNotNone(tracer, "the tracer (unshare's child)")
        go(s)
        s.expect("orphan left")

        def zombies():
            out = []
            for p in os.listdir("/proc"):
                if p.isdigit() and proc_status(int(p), "PPid") == str(tracer) and \
                        (proc_status(int(p), "State") or "").startswith("Z"):
                    out.append(int(p))
            return out

        self.wait_for("PID 1 (the tracer) reaps the orphan", lambda: not zombies())
        for sig in (signal.SIGUSR1, signal.SIGUSR2, signal.SIGWINCH, signal.SIGHUP, signal.SIGQUIT,
                    signal.SIGINT, signal.SIGTERM):
            os.kill(tracer, sig)
            got = s.line(timeout=10)
            self.assertEqual(got, f"got signal {int(sig)}", f"{sig.name} sent to the tracer, forwarded")
        s.wait_exit()
        self.assertEqual(s.app_status, 0, "the tracer exits as its command did")
        s.summary = s.stream.final_summary(0)
        self.check_stream(s)


@modes(LAUNCH, NOFILTER)
class LaunchAfterStop(TracerCase):
    """Launch mode after 'stop': the summary is final, but the command runs on normally (with
    the filter, the tracer must go on passing every stop) and creates threads; the tracer exits
    when it does, with its status."""

    def run_mode(self, mode):
        s = self.session(mode, [prog("tt_churn"), "forever"]).start().ready()
        s.stop()
        self.assertIsNone(s.tracer.poll(), "the tracer left before its command")
        self.assert_progress(s)  # sysinfo for the first time: not recorded any more
        s.send("exit")
        s.expect("bye")
        s.wait_exit()
        self.assertEqual(s.app_status, 0)
        self.check_stream(s)
        self.assert_absent(s, [(X86_64, "sysinfo")])


@modes(LAUNCH, NOFILTER)
class LaunchWithoutControl(TracerCase):
    """Launch mode with no --control (as `kubectl seccomp trace` runs it) never stops for
    --idle-timeout: a syscall made after the timeout is recorded, then the final summary."""

    def run_mode(self, mode):
        out_r, out_w = os.pipe()
        cmd = [TRACER, "--idle-timeout", "1s", "--output", f"fd:{out_w}"]
        cmd += ["--no-filter"] if mode == NOFILTER else []
        s = self.session(mode, [prog("tt_detach"), "sleeping"])
        with open(s.errfile, "wb") as err:
            s.tracer = subprocess.Popen(cmd + ["--", prog("tt_detach"), "sleeping"], stdin=subprocess.PIPE,
                                        stdout=subprocess.PIPE, stderr=err, pass_fds=(out_w,))
        os.close(out_w)
        s.stream = Stream(os.fdopen(out_r, "rb"), "tracer stream")
        s.app_in, s.app_out = s.tracer.stdin, LineReader(s.tracer.stdout, "program stdout")
        s.pid = int(s.app_out.next().split()[1])
        time.sleep(2.5)  # past the idle timeout: what is under test is the passing of time
        self.counters(s)
        s.send("exit")
        s.expect("bye")
        s.wait_exit()
        self.assertEqual(s.app_status, 0)
        s.summary = s.stream.final_summary(0)
        self.check_stream(s)
        self.assert_counts(s, {(X86_64, "sysinfo"): 1})


class AttachRefused(TracerCase):
    """An attach that cannot work ends with status 1 and an 'error' event a human can act on:
    a process already traced by another tracer, a pid that does not exist."""

    def expect_error(self, s):
        try:
            status = s.tracer.wait(TIMEOUT)
        except subprocess.TimeoutExpired:
            self.fail("the tracer did not give up")
        s.stream.rest()
        self.assertEqual(status, 1, "the tracer's exit status when it cannot attach")
        errors = s.stream.of("error")
        self.assertTrue(errors, "no 'error' event")
        self.assertTrue(errors[0].get("message"), f"the error says nothing: {errors[0]}")
        return errors[0]

    def test_already_traced(self):
        if not shutil.which("strace"):
            self.skipTest("needs strace")
        s = self.session(ATTACH, [prog("tt_detach"), "sleeping"]).start()
        s.pid = int(s.app_out.next().split()[1])
        other = subprocess.Popen(["strace", "-qq", "-o", "/dev/null", "-p", str(s.pid)])
        self.addCleanup(lambda: (other.poll() is None and other.kill(), other.wait()))
        self.wait_for("strace attached", lambda: proc_status(s.pid, "TracerPid") == str(other.pid))
        with open(s.errfile + "-tracer", "wb") as err:
            s.tracer = subprocess.Popen([TRACER, "--pid", str(s.pid)], stdin=subprocess.PIPE,
                                        stdout=subprocess.PIPE, stderr=err)
        s.stream = Stream(s.tracer.stdout, "tracer stream")
        error = self.expect_error(s)
        print(f"error event: {error}", file=sys.stderr)
        other.kill()
        other.wait()
        s.send("count")
        self.assertTrue(s.line().startswith("count "))
        s.send("exit")
        s.expect("bye")

    def test_no_such_pid(self):
        gone = subprocess.Popen(["true"])
        gone.wait()
        s = self.session(ATTACH, [], name="tracer --pid (gone)")
        with open(s.errfile + "-tracer", "wb") as err:
            s.tracer = subprocess.Popen([TRACER, "--pid", str(gone.pid)], stdin=subprocess.PIPE,
                                        stdout=subprocess.PIPE, stderr=err)
        s.stream = Stream(s.tracer.stdout, "tracer stream")
        self.expect_error(s)


class UnixSocketOutput(TracerCase):
    """--output unix:PATH serves the stream and takes commands on a socket."""

    def test_attach(self):
        import socket
        path = os.path.join(self.tmp, "tracer.sock")
        s = self.session(ATTACH, [prog("tt_detach"), "sleeping"]).start()
        s.pid = int(s.app_out.next().split()[1])
        with open(s.errfile + "-tracer", "wb") as err:
            s.tracer = subprocess.Popen([TRACER, "--pid", str(s.pid), "--output", f"unix:{path}"],
                                        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=err)
        # A client that connects sees what comes after (hello first), not what came before.
        self.wait_for("the tracer attached", lambda: proc_status(s.pid, "TracerPid") == str(s.tracer.pid))
        self.wait_for("the socket", lambda: os.path.exists(path))
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.addCleanup(sock.close)
        sock.connect(path)
        s.stream = Stream(sock.makefile("rb"), "tracer socket stream")
        s.stream.wait("hello", lambda e: True)
        self.counters(s)
        s.stream.wait("sysinfo announced", lambda e: e["type"] == "syscall" and e.get("nr") == NR[X86_64]["sysinfo"])
        sock.sendall(b"stop\n")
        s.summary = s.stream.final_summary()
        self.assertEqual(s.tracer.wait(TIMEOUT), 0, "the tracer's exit status after 'stop' on the socket")
        self.assertEqual(s.stream.bad, [])
        self.assertEqual(s.stream.events[0]["type"], "hello", "a client's first line")
        self.assertLessEqual(s.seen(), set(s.counts()), "announced pairs missing from the final summary")
        self.assert_counts(s, {(X86_64, "sysinfo"): 1})
        self.assert_detached_and_ends(s)


def run_plain(test, mode, argv, tracer_args=()):
    """Runs a program that needs no handshake to its end; returns the session."""
    s = test.session(mode, argv, tracer_args).start()
    s.app_in.close()
    s.output = s.app_out.rest()
    s.wait_exit()
    return s


@modes(LAUNCH, NOFILTER)
class ExitStatus(TracerCase):
    """Launch mode exits as its command did: exit 3 gives 3, death by SIGTERM gives death by
    SIGTERM (as untraced); the 'exited' event says so too."""

    def run_mode(self, mode):
        for how, n in (("code", 3), ("signal", signal.SIGTERM)):
            argv = [prog("tt_exit"), how, str(int(n))]
            base = run_plain(self, "untraced", argv)
            s = run_plain(self, mode, argv)
            self.assertEqual(s.output, base.output)
            self.assertEqual(s.app_status, base.app_status, f"the tracer's exit status ({how} {n})")
            self.check_stream(s)
            attached = s.stream.of("attached")
            self.assertTrue(attached, "no 'attached' event for the program")
            pid = attached[0].get("pid")
            ex = [e for e in s.stream.of("exited") if e.get("pid") == pid and e.get("tid") == pid]
            self.assertTrue(ex, f"no 'exited' event for the program's leader {pid}")
            key = "code" if how == "code" else "signal"
            self.assertEqual(ex[-1].get(key), int(n), f"the 'exited' event: {ex[-1]}")


@modes(LAUNCH, NOFILTER)
class MissingCommand(TracerCase):
    """Launch mode exits 127 when the command does not exist (like env)."""

    def run_mode(self, mode):
        s = run_plain(self, mode, [os.path.join(self.tmp, "no-such-command")])
        self.assertEqual(s.app_status, 127)


@modes(LAUNCH, NOFILTER)
class Inheritance(TracerCase):
    """A launched program inherits what it would untraced: file descriptors (none of the
    tracer's), signal mask and ignored signals, umask, cwd, environment, process group, limits."""

    def run_mode(self, mode):
        base = run_plain(self, "untraced", [prog("tt_env")])
        s = run_plain(self, mode, [prog("tt_env")])
        self.assertEqual(s.output, base.output)
        self.assertEqual(s.app_status, base.app_status)
        self.check_stream(s)
        self.assert_counts(s, {(X86_64, "umask"): None})


class Hello(TracerCase):
    """The stream's first line is 'hello', saying protocol 1, the mode, and the tracer's pid."""

    def check_hello(self, s, mode):
        hello = s.stream.wait("hello", lambda e: True)
        self.assertEqual(hello["type"], "hello", "the first line")
        self.assertEqual(hello.get("arch"), X86_64, f"hello's native arch: {hello}")
        major = hello.get("protocol_major", str(hello.get("protocol", hello.get("version", ""))).split(".")[0])
        self.assertEqual(str(major), "1", f"the protocol's major version in {hello}")
        self.assertEqual(hello.get("mode"), mode, f"hello's mode: {hello}")
        if "pid" in hello:
            self.assertEqual(hello["pid"], s.tracer.pid, "hello's pid is the tracer's")

    def test_launch(self):
        s = self.session(LAUNCH, [prog("tt_detach"), "sleeping"]).start().ready()
        self.check_hello(s, "launch")
        s.send("exit")
        s.expect("bye")
        s.wait_exit()

    def test_attach(self):
        s = self.session(ATTACH, [prog("tt_detach"), "sleeping"]).start().ready()
        self.check_hello(s, "attach")
        self.stop_and_wait(s)
        self.assert_detached_and_ends(s)


class Version(TracerCase):
    """--version prints a version and exits 0."""

    def test_version(self):
        r = subprocess.run([TRACER, "--version"], capture_output=True, text=True, timeout=TIMEOUT)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertRegex(r.stdout, r"\d+\.\d+\.\d+")


class SetuidHelper(TracerCase):
    """A setuid program: with --no-filter it runs setuid as untraced; the default filter sets
    no_new_privs, so there it runs with the caller's uid (as docs/tracer.md says)."""

    def setuid_id(self):
        if os.geteuid() != 0:
            self.skipTest("needs root to make a setuid binary and switch users")
        if not shutil.which("setpriv") or not os.path.exists("/usr/bin/id"):
            self.skipTest("needs setpriv and /usr/bin/id")
        d = tempfile.mkdtemp(dir=self.tmp)
        os.chmod(self.tmp, 0o755)
        os.chmod(d, 0o755)
        helper = os.path.join(d, "id")
        shutil.copy("/usr/bin/id", helper)
        os.chown(helper, 1, 1)
        os.chmod(helper, 0o4755)
        argv = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--", helper, "-u"]
        base = run_plain(self, "untraced", argv)
        if base.output != ["1"]:
            self.skipTest(f"setuid does not take effect here (nosuid mount?): id -u printed {base.output}")
        return argv, base

    def test_nofilter(self):
        argv, base = self.setuid_id()
        s = run_plain(self, NOFILTER, argv)
        self.assertEqual(s.output, base.output, "euid of the setuid helper under --no-filter")
        self.assertEqual(s.app_status, 0)
        self.check_stream(s)
        self.assert_counts(s, {(X86_64, "geteuid"): None})

    def test_launch(self):
        argv, base = self.setuid_id()
        s = run_plain(self, LAUNCH, argv)
        self.assertEqual(s.output, ["65534"], "no_new_privs: the setuid bit has no effect with the filter")
        self.assertEqual(s.app_status, 0)
        self.check_stream(s)
