#!/usr/bin/env python3
"""seccomp-tracer on real processes.

Each test case runs one small program of progs/ untraced and then under the tracer in one mode
(launch: the seccomp-filter method; nofilter: launch mode with --no-filter; attach: --pid), and
checks two things: the exact syscalls recorded (the programs make rare "marker" syscalls only in
the behaviour under test, so their presence and counts prove it was seen), and that the program
behaved exactly as untraced (its stdout, exit status, signals).

The programs and this driver talk over the program's stdin/stdout (progs/tt.h): "ready PID", "go",
..., "done", "exit", so the driver, not sleeps, decides when things happen.

Usage: tracer_tests.py --list | tracer_tests.py [Class.test_mode ...]
Environment: KSC_TRACER (the seccomp-tracer binary), KSC_TEST_PROGS (the built programs),
KSC_HAVE_M32 (1 when the 32-bit program was built), KSC_TEST_NO_IA32 (1: behave as on a kernel
with IA32 emulation off, whatever this one can do, so that the skips are exercised everywhere).
Exit status 77 when every selected case skipped (CTest SKIP_RETURN_CODE).
"""

import base64
import errno
import fcntl
import json
import os
import resource
import shutil
import struct
import signal
import subprocess
import sys
import tempfile
import termios
import threading
import time
import unittest

TRACER = os.environ.get("KSC_TRACER", "")
PROGS = os.environ.get("KSC_TEST_PROGS", "")

X86_64, X86, X32 = "SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"
# The syscalls the tests look for, by architecture (the kernel's numbers).
NR = {
    X86_64: {"umask": 95, "sysinfo": 99, "geteuid": 107, "getsid": 124, "personality": 135,
             "ustat": 136, "sched_get_priority_max": 146, "sched_get_priority_min": 147,
             "sched_rr_get_interval": 148, "execve": 59, "getcpu": 309, "setgroups": 116,
             "socket": 41, "keyctl": 250, "capset": 126, "prctl": 157},
    X86: {"sysinfo": 116, "personality": 136, "getcpu": 318},
    X32: {"getcpu": 309},
}

LAUNCH, NOFILTER, ATTACH = "launch", "nofilter", "attach"
# Anything that takes well under a second alone may take much longer on this shared 2-core
# machine under ptrace; a timeout is a failure, never a wait that the test relies on.
TIMEOUT = 30.0


def prog(name):
    return os.path.join(PROGS, name)


_ia32_missing = []


def ia32_missing():
    """Why this kernel cannot run i386 code (None when it can). Kernels from 6.7 can switch IA32
    emulation off at boot (ia32_emulation=false): int $0x80 then raises SIGSEGV and 32-bit
    programs fail to exec. KSC_TEST_NO_IA32=1 pretends so on any kernel."""
    if not _ia32_missing:
        if os.environ.get("KSC_TEST_NO_IA32") == "1":
            why = "KSC_TEST_NO_IA32=1: behaving as on a kernel with IA32 emulation off"
        else:
            probe = subprocess.run([prog("tt_int80"), "probe"], capture_output=True, text=True, timeout=TIMEOUT)
            if probe.returncode not in (0, 77):
                raise AssertionError(f"tt_int80 probe failed ({probe.returncode}): {probe.stdout}{probe.stderr}")
            why = probe.stdout.strip() if probe.returncode == 77 else None
        _ia32_missing.append(why)
    return _ia32_missing[0]


def need_ia32(test):
    why = ia32_missing()
    if why:
        test.skipTest(f"needs IA32 emulation: {why}")


def proc_status(pid, field, tid=None):
    path = f"/proc/{pid}/task/{tid}/status" if tid else f"/proc/{pid}/status"
    try:
        with open(path) as f:
            for line in f:
                if line.startswith(field + ":"):
                    return line.split(":", 1)[1].strip()
    except (FileNotFoundError, ProcessLookupError):
        return None
    return None


def tasks(pid):
    try:
        return sorted(int(t) for t in os.listdir(f"/proc/{pid}/task"))
    except FileNotFoundError:
        return []


def task_state(pid, tid):
    s = proc_status(pid, "State", tid)
    return s[0] if s else None


class LineReader:
    """Collects a pipe's lines in a thread; hands them out with timeouts."""

    def __init__(self, pipe, name):
        self.name = name
        self.lines = []
        self.eof = False
        self.pos = 0
        self.cond = threading.Condition()
        self._pipe = pipe
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self):
        for raw in iter(self._pipe.readline, b""):
            self._add(raw.decode(errors="replace").rstrip("\n"))
        with self.cond:
            self.eof = True
            self.cond.notify_all()

    def _add(self, line):
        with self.cond:
            self.lines.append(line)
            self.cond.notify_all()

    def next(self, timeout=TIMEOUT):
        with self.cond:
            if not self.cond.wait_for(lambda: self.pos < len(self.lines) or self.eof, timeout):
                raise AssertionError(f"{self.name}: no line within {timeout:.0f} s; so far: "
                                     f"{self.lines[-10:]}")
            if self.pos >= len(self.lines):
                raise AssertionError(f"{self.name}: ended; so far: {self.lines[-10:]}")
            self.pos += 1
            return self.lines[self.pos - 1]

    def quiet_for(self, seconds):
        """True when no new line arrives within `seconds` (for "it stays stopped")."""
        with self.cond:
            return not self.cond.wait_for(lambda: self.pos < len(self.lines), seconds)

    def rest(self, timeout=TIMEOUT):
        """Every remaining line, up to the end of the pipe."""
        with self.cond:
            if not self.cond.wait_for(lambda: self.eof, timeout):
                raise AssertionError(f"{self.name}: not closed within {timeout:.0f} s")
            out = self.lines[self.pos:]
            self.pos = len(self.lines)
            return out


class Stream(LineReader):
    """The tracer's NDJSON stream, parsed as it arrives."""

    def __init__(self, pipe, name="tracer stream"):
        self.events = []
        self.bad = []
        super().__init__(pipe, name)

    def _add(self, line):
        with self.cond:
            try:
                event = json.loads(line)
                if not isinstance(event, dict) or "type" not in event:
                    raise ValueError("not an object with a type")
                self.events.append(event)
            except ValueError as e:
                self.bad.append(f"{line!r}: {e}")
            self.lines.append(line)
            self.cond.notify_all()

    def of(self, type_):
        with self.cond:
            return [e for e in self.events if e["type"] == type_]

    def wait(self, what, predicate, timeout=TIMEOUT):
        """The first event satisfying `predicate`, waiting for it."""
        found = []

        def check():
            for e in self.events:
                if predicate(e):
                    found.append(e)
                    return True
            return self.eof

        with self.cond:
            self.cond.wait_for(check, timeout)
            if not found:
                raise AssertionError(f"tracer stream: no {what} within {timeout:.0f} s "
                                     f"(ended: {self.eof}); last lines: {self.lines[-8:]}")
            return found[0]

    def wait_until(self, what, condition, timeout=TIMEOUT):
        """Waits until condition() holds, re-checking on each event and every 50 ms."""
        deadline = time.monotonic() + timeout
        while True:
            with self.cond:
                value = condition()
                if value:
                    return value
                left = deadline - time.monotonic()
                if left <= 0 or self.eof:
                    raise AssertionError(f"tracer stream: no {what} within {timeout:.0f} s "
                                         f"(ended: {self.eof}); last lines: {self.lines[-8:]}")
                self.cond.wait(min(left, 0.05))

    def final_summary(self, timeout=TIMEOUT):
        return self.wait("final summary", lambda e: e["type"] == "summary" and e.get("final") is True,
                         timeout)


class Session:
    """One run of a program: untraced, or under the tracer in one mode."""

    def __init__(self, test, mode, argv, tracer_args=(), name=None, wrapper=()):
        self.test = test
        self.wrapper = list(wrapper)  # runs the tracer (launch mode), e.g. in a new PID namespace
        self.mode = mode
        self.argv = list(argv)
        self.tracer_args = list(tracer_args)
        self.name = name or f"{os.path.basename(self.argv[0])} {mode}"
        self.app = self.tracer = self.stream = self.ctl = None
        self.pid = None
        self.output = []  # the program's stdout after its "ready" line
        self.app_status = None
        self.tracer_status = None
        self.summary = None
        self.errfile = os.path.join(test.tmp, f"stderr-{len(test.sessions)}-{mode}")
        test.sessions.append(self)

    @property
    def traced(self):
        return self.mode != "untraced"

    @property
    def launched(self):
        return self.mode in (LAUNCH, NOFILTER)

    def start(self):
        err = open(self.errfile, "wb")
        if not self.launched:
            self.app = subprocess.Popen(self.argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                        stderr=err)
            self.app_in = self.app.stdin
            self.app_out = LineReader(self.app.stdout, f"{self.name}: program stdout")
        else:
            out_r, out_w = os.pipe()
            ctl_r, ctl_w = os.pipe()
            cmd = self.wrapper + [TRACER, "--output", f"fd:{out_w}", "--control", f"fd:{ctl_r}"]
            if self.mode == NOFILTER:
                cmd.append("--no-filter")
            cmd += self.tracer_args + ["--"] + self.argv
            self.tracer = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                           stderr=err, pass_fds=(out_w, ctl_r))
            os.close(out_w)
            os.close(ctl_r)
            self.stream = Stream(os.fdopen(out_r, "rb"), f"{self.name}: tracer stream")
            self.ctl = os.fdopen(ctl_w, "wb", buffering=0)
            self.app_in = self.tracer.stdin
            self.app_out = LineReader(self.tracer.stdout, f"{self.name}: program stdout")
        err.close()
        return self

    def ready(self):
        line = self.app_out.next()
        self.test.assertTrue(line.startswith("ready "), f"{self.name}: expected 'ready PID', got {line!r}")
        self.pid = int(line.split()[1])
        if self.mode == ATTACH:
            self.attach()
        return self

    def attach(self, extra_args=()):
        cmd = [TRACER, "--pid", str(self.pid)] + self.tracer_args + list(extra_args)
        with open(self.errfile + "-tracer", "wb") as err:
            self.tracer = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=err)
        self.stream = Stream(self.tracer.stdout, f"{self.name}: tracer stream")
        self.ctl = self.tracer.stdin
        self.wait_attached(self.pid)

    def wait_attached(self, pid):
        """Until every thread of pid has been announced as attached."""

        def all_attached():
            seen = {e.get("tid") for e in self.stream.events
                    if e["type"] == "attached" and e.get("pid") == pid}
            # A zombie thread (an exited leader) cannot be traced: leave it out.
            now = {t for t in tasks(pid) if task_state(pid, t) not in ("Z", "X", None)}
            return now and now <= seen

        self.stream.wait_until(f"'attached' event for every thread of {pid} ({tasks(pid)})",
                               all_attached)

    def send(self, line):
        self.app_in.write(line.encode() + b"\n")
        self.app_in.flush()

    def line(self, timeout=TIMEOUT):
        line = self.app_out.next(timeout)
        self.output.append(line)
        return line

    def expect(self, want):
        got = self.line()
        self.test.assertEqual(got, want, f"{self.name}: program output")

    def command(self, cmd):
        """A command to the tracer; False when it is no longer reading them."""
        try:
            self.ctl.write(cmd.encode() + b"\n")
            self.ctl.flush()
            return True
        except BrokenPipeError:
            return False

    def stop(self):
        self.test.assertTrue(self.command("stop"), f"{self.name}: the tracer closed its control input")
        self.summary = self.stream.final_summary()
        return self.summary

    def finish(self):
        """The standard ending: 'done'; stop the tracer; 'exit'; everything exits."""
        self.expect("done")
        if self.traced:
            self.stop()
        self.send("exit")
        self.output += self.app_out.rest()
        self.wait_exit()
        return self

    def wait_exit(self):
        if self.app:
            self.app_status = self.app.wait(TIMEOUT)
        if self.tracer:
            self.tracer_status = self.tracer.wait(TIMEOUT)
            if self.launched:
                self.app_status = self.tracer_status
            self.stream.rest()

    def kill(self):
        if self.launched and self.pid and self.tracer and self.tracer.poll() is None:
            # Launch mode kills its command when it dies (PTRACE_O_EXITKILL); do not rely on it.
            try:
                if os.readlink(f"/proc/{self.pid}/exe").startswith(PROGS):
                    os.kill(self.pid, signal.SIGKILL)
            except OSError:
                pass
        for p in (self.app, self.tracer):
            if p and p.poll() is None:
                p.kill()
                try:
                    p.wait(5)
                except subprocess.TimeoutExpired:
                    pass

    # What the stream says.
    def syscall_events(self):
        return self.stream.of("syscall")

    def seen(self):
        return {(e.get("arch"), e.get("nr")) for e in self.syscall_events()}

    def counts(self, summary=None):
        summary = summary or self.summary
        return {(s.get("arch"), s.get("nr")): s.get("count") for s in summary.get("syscalls", [])}

    def diagnostics(self):
        out = []
        for path in (self.errfile, self.errfile + "-tracer"):
            if os.path.exists(path):
                with open(path, errors="replace") as f:
                    text = f.read()
                if text.strip():
                    out.append(f"--- {self.name}: {os.path.basename(path)}\n{text[-3000:]}")
        if self.stream and self.stream.lines:
            lines = self.stream.lines
            shown = lines[:3] + ["..."] + lines[-12:] if len(lines) > 15 else lines
            out.append(f"--- {self.name}: stream ({len(lines)} lines)\n" + "\n".join(l[:300] for l in shown))
        return "\n".join(out)


def modes(*which):
    """Adds test_<mode> for each mode, each calling self.run_mode(mode)."""

    def add(cls):
        for m in which:
            def case(self, m=m):
                self.run_mode(m)
            case.__name__ = f"test_{m}"
            case.__doc__ = f"{cls.__doc__.strip().splitlines()[0]} ({m} mode)"
            setattr(cls, case.__name__, case)
        return cls

    return add


class TracerCase(unittest.TestCase):
    def setUp(self):
        self.assertTrue(TRACER and os.access(TRACER, os.X_OK),
                        f"the tracer binary KSC_TRACER={TRACER!r} does not exist or is not executable "
                        "(build the seccomp-tracer target)")
        self.assertTrue(PROGS and os.path.isdir(PROGS), f"KSC_TEST_PROGS={PROGS!r} is not a directory")
        self.tmp = tempfile.mkdtemp(prefix="ksc-tracer-test-")
        self.sessions = []
        self.addCleanup(self._cleanup)

    def _cleanup(self):
        for s in self.sessions:
            s.kill()
        for s in self.sessions:
            d = s.diagnostics()
            if d:
                print(d, file=sys.stderr)
        shutil.rmtree(self.tmp, ignore_errors=True)

    def session(self, mode, argv, tracer_args=(), name=None, wrapper=()):
        return Session(self, mode, argv, tracer_args, name, wrapper)

    def run_behaviour(self, mode, argv, interact, counts=None, absent=(), tracer_args=()):
        """Runs argv untraced and then traced in `mode` with the same interaction; checks that
        the output and exit status are the same and that the stream holds `counts` exactly."""
        base = self.session("untraced", argv).start().ready()
        interact(base)
        base.finish()
        s = self.session(mode, argv, tracer_args).start().ready()
        interact(s)
        s.finish()
        self.assertEqual(s.output, base.output, "the traced program's output differs from untraced")
        self.assertEqual(s.app_status, base.app_status,
                         "the traced program's exit status differs from untraced")
        if mode == ATTACH:
            self.assertEqual(s.tracer_status, 0, "the tracer's exit status after 'stop'")
        self.check_stream(s)
        self.assert_counts(s, counts or {})
        self.assert_absent(s, absent)
        self.assertEqual(s.summary.get("lost", []), [], "nothing is lost from these programs")
        return s

    # Checks on the stream.
    def check_stream(self, s):
        """What every stream must satisfy: NDJSON, hello first, each syscall pair announced once,
        and the final summary naming exactly the pairs announced."""
        self.assertEqual(s.stream.bad, [], "lines of the stream that are not JSON objects with a type")
        self.assertTrue(s.stream.events, "the stream is empty")
        hello = s.stream.events[0]
        self.assertEqual(hello["type"], "hello", "the stream's first line")
        self.assertEqual(hello.get("mode"), "attach" if s.mode == ATTACH else "launch", f"hello's mode: {hello}")
        self.assertEqual(hello.get("method"), "seccomp" if s.mode == LAUNCH else "ptrace", f"hello's method: {hello}")
        pairs = [(e.get("arch"), e.get("nr")) for e in s.syscall_events()]
        dups = sorted({p for p in pairs if pairs.count(p) > 1})
        self.assertEqual(dups, [], "syscall events are first-seen pairs: these came more than once")
        for e in s.syscall_events():
            self.assertIn(e.get("arch"), (X86_64, X86, X32), f"arch of {e}")
        finals = [i for i, e in enumerate(s.stream.events) if e["type"] == "summary" and e.get("final")]
        if finals:
            after = [e for e in s.stream.events[finals[0]:] if e["type"] == "syscall"]
            self.assertEqual(after, [], "'stop' ends the recording: syscall events after the final summary")
        if s.summary is not None:
            self.assertEqual(set(s.counts()), set(pairs),
                             "the final summary's syscalls are not those announced one by one")
            zero = [k for k, v in s.counts().items() if not v]
            self.assertEqual(zero, [], "summary entries with no count")
        if s.launched:
            self.assertIn((X86_64, NR[X86_64]["execve"]), set(pairs),
                          "launch mode records from the first syscall, execve included")

    def assert_counts(self, s, counts):
        """counts: {(arch, name): n}; each must have been announced, with its name, and the final
        summary must count exactly n calls."""
        by_pair = {(e.get("arch"), e.get("nr")): e for e in s.syscall_events()}
        summary_counts = s.counts() if s.summary is not None else None
        for (arch, name), n in counts.items():
            nr = NR[arch][name]
            e = by_pair.get((arch, nr))
            self.assertIsNotNone(e, f"{name} ({arch} {nr}) was never announced; announced: "
                                    f"{sorted(by_pair)}")
            self.assertEqual(e.get("name"), name, f"the name of {arch} {nr}")
            if n is not None:
                self.assertIsNotNone(summary_counts, "no final summary")
                self.assertEqual(summary_counts.get((arch, nr)), n,
                                 f"the summary's count of {name} ({arch} {nr})")

    def assert_absent(self, s, absent):
        seen = s.seen()
        for arch, name in absent:
            self.assertNotIn((arch, NR[arch][name]), seen, f"{arch} {name} was recorded, but never made")

    def wait_for(self, what, condition, timeout=TIMEOUT):
        deadline = time.monotonic() + timeout
        while not condition():
            if time.monotonic() > deadline:
                self.fail(f"not within {timeout:.0f} s: {what}")
            time.sleep(0.02)

    def counters(self, s):
        s.send("count")
        line = s.line()
        self.assertTrue(line.startswith("count "), f"{s.name}: expected 'count A B', got {line!r}")
        return tuple(int(x) for x in line.split()[1:])

    def assert_progress(self, s):
        first = self.counters(s)
        self.wait_for("the program makes progress", lambda: all(
            b > a for a, b in zip(first, self.counters(s))))

    def assert_detached_and_ends(self, s):
        self.assert_untraced(s.pid)
        for tid in tasks(s.pid):
            self.assertNotEqual(task_state(s.pid, tid), "t", f"thread {tid} left in a tracing stop")
        s.send("exit")
        s.expect("bye")
        self.assertEqual(s.app.wait(TIMEOUT), 0, "the program's exit status")
        self.assertNotIn("error: read returned EINTR", s.output, "a syscall failed with EINTR")

    def stop_and_wait(self, s):
        s.stop()
        self.assertEqual(s.tracer.wait(TIMEOUT), 0, "the tracer's exit status after 'stop'")
        s.stream.rest()
        self.check_stream(s)
        left = {e.get("tid") for e in s.stream.of("exited") if e.get("pid") == s.pid}
        attached = {e.get("tid") for e in s.stream.of("attached") if e.get("pid") == s.pid}
        alive = {t for t in set(tasks(s.pid)) & attached if task_state(s.pid, t) not in (None, "Z", "X")}
        self.assertEqual(alive - left, set(), "threads alive after 'stop' without an 'exited' event "
                         "(detached: true)")
        detached = {e.get("tid") for e in s.stream.of("exited") if e.get("pid") == s.pid and e.get("detached")}
        if s.pid in attached:
            self.assertIn(s.pid, detached, "the leader's 'exited' event says detached: true")

    def assert_untraced(self, pid):
        for tid in tasks(pid):
            tracer = proc_status(pid, "TracerPid", tid)
            if tracer is not None:  # None: the thread has just ended
                self.assertEqual(tracer, "0", f"thread {tid} of {pid} is still traced")


def go(s):
    s.send("go")


@modes(LAUNCH, NOFILTER, ATTACH)
class Threads(TracerCase):
    """Threads created during tracing, threads of threads and threads that existed before the
    attach are all traced."""

    def run_mode(self, mode):
        def interact(s):
            go(s)
            s.line()

        s = self.run_behaviour(mode, [prog("tt_threads")], interact, counts={
            (X86_64, "sched_get_priority_max"): 3, (X86_64, "getsid"): 8,
            (X86_64, "getcpu"): 16, (X86_64, "personality"): 16})
        tids = {e.get("tid") for e in s.stream.of("attached") if e.get("pid") == s.pid}
        self.assertEqual(len(tids), 44, "threads announced by 'attached' (1 + 3 + 8 + 16 + 16)")
        self.assertEqual(len(s.stream.of("attached")), 44, "'attached' events: one per thread")


@modes(LAUNCH, NOFILTER, ATTACH)
class ShortLivedProcesses(TracerCase):
    """1,000 short-lived processes (and 100 orphaned grandchildren): none is missed."""

    def run_mode(self, mode):
        def interact(s):
            go(s)
            s.line(timeout=120)

        s = self.run_behaviour(mode, [prog("tt_forks")], interact,
                               counts={(X86_64, "sysinfo"): 1000, (X86_64, "getcpu"): 100})
        pids = {e.get("pid") for e in s.stream.of("attached")} - {s.pid}
        self.assertEqual(len(pids), 1100, "processes announced by 'attached' besides the program")
        self.assertEqual(len(s.stream.of("attached")), 1101, "'attached' events: one per process")
        exited = {e.get("pid") for e in s.stream.of("exited")}
        self.assertEqual(pids - exited, set(), "processes that exited without an 'exited' event")


@modes(ATTACH, "overflow")
class StalledReader(TracerCase):
    """A reader that stops reading the stream (kubectl suspended, a stalled attach) must not stall
    the app: 1,000 short-lived processes (over 2,000 'attached'/'exited' lines) finish while
    nobody reads the tracer's stdout, a pipe shrunk to one page; once it is read again, every line
    arrives and the summary counts every call. overflow: the tracer's queue is cut to 16 KiB
    (SECCOMP_TRACER_QUEUE_BYTES), so lines are dropped: a stream-dropped warning says so, and the
    final summary still counts every call."""

    def run_mode(self, mode):
        overflow = mode == "overflow"
        s = self.session("untraced", [prog("tt_forks")], name="tt_forks attach, stalled reader").start()
        s.mode = ATTACH
        line = s.app_out.next()
        self.assertTrue(line.startswith("ready "), f"expected 'ready PID', got {line!r}")
        s.pid = int(line.split()[1])
        out_r, out_w = os.pipe()
        fcntl.fcntl(out_w, 1031, 4096)  # F_SETPIPE_SZ: one page, full after ~25 lines
        with open(s.errfile + "-tracer", "wb") as err:
            env = dict(os.environ, SECCOMP_TRACER_QUEUE_BYTES="16384") if overflow else None
            s.tracer = subprocess.Popen([TRACER, "--pid", str(s.pid)], stdin=subprocess.PIPE, stdout=out_w,
                                        stderr=err, env=env)
        os.close(out_w)
        s.ctl = s.tracer.stdin
        self.wait_for("the program is traced", lambda: proc_status(s.pid, "TracerPid") not in ("0", None))
        go(s)
        # Nobody reads the stream: the program must finish all the same.
        done = s.line(timeout=60)
        self.assertTrue(done.startswith("children 1000"), f"the program's result: {done!r}")
        s.expect("done")
        queued = int.from_bytes(fcntl.ioctl(out_r, termios.FIONREAD, b"\0" * 4), sys.byteorder)
        self.assertGreater(queued, 4096 - 512, "the stream's pipe is not even full: the test proves nothing")
        s.stream = Stream(os.fdopen(out_r, "rb"), f"{s.name}: tracer stream")
        s.stop()
        s.send("exit")
        s.output += s.app_out.rest()
        s.wait_exit()
        self.assertEqual(s.tracer_status, 0, "the tracer's exit status after 'stop'")
        self.assertEqual(s.stream.bad, [], "lines of the stream that are not JSON objects with a type")
        if not overflow:  # (with lines dropped, their syscall events may be among them)
            self.assert_counts(s, {(X86_64, "sysinfo"): 1000, (X86_64, "getcpu"): 100})
        counts = s.counts()
        self.assertEqual((counts.get((X86_64, NR[X86_64]["sysinfo"])), counts.get((X86_64, NR[X86_64]["getcpu"]))),
                         (1000, 100), "the final summary's counts")
        dropped = [e for e in s.stream.events if e.get("code") == "stream-dropped"]
        if not overflow:
            self.check_stream(s)
            self.assertEqual(len(s.stream.of("attached")), 1101, "'attached' events: one per process")
            self.assertEqual(dropped, [], "lines dropped, though far fewer than the queue holds")
        else:
            self.assertTrue(dropped, "no stream-dropped warning, though the queue was far too small")
            self.assertLess(len(s.stream.of("attached")), 1101, "'attached' events: some must have been dropped")


@modes(LAUNCH, NOFILTER, ATTACH)
class SummaryTotals(TracerCase):
    """The summary's threads_seen and processes_seen count each thread and process once: 44
    threads in one process (tt_threads), 1,101 processes (tt_forks)."""

    def run_mode(self, mode):
        def one_line(s):
            go(s)
            s.line(timeout=120)

        s = self.run_behaviour(mode, [prog("tt_threads")], one_line)
        self.assertEqual((s.summary.get("threads_seen"), s.summary.get("processes_seen")), (44, 1),
                         "tt_threads: the summary's (threads_seen, processes_seen)")
        s = self.run_behaviour(mode, [prog("tt_forks")], one_line)
        self.assertEqual((s.summary.get("threads_seen"), s.summary.get("processes_seen")), (1101, 1101),
                         "tt_forks: the summary's (threads_seen, processes_seen)")


@modes(LAUNCH, NOFILTER, ATTACH)
class Vfork(TracerCase):
    """vfork children (exec'ing and _exit'ing) and their parent are traced; exit statuses kept."""

    def run_mode(self, mode):
        def interact(s):
            go(s)
            for _ in range(4):
                s.line()

        self.run_behaviour(mode, [prog("tt_vfork")], interact, counts={
            (X86_64, "getsid"): 4, (X86_64, "sysinfo"): 3, (X86_64, "getcpu"): 4,
            (X86_64, "execve"): None})


@modes(LAUNCH, NOFILTER, ATTACH)
class CgiChurn(TracerCase):
    """A CGI server's per-request churn (tt_cgi: vfork + exec read through a pipe, a fork | fork +
    exec pipeline, an orphan outliving its parent, zombies left to the reaper) in 4 workers at once:
    every request finishes within the timeout, and every exec'd child is seen."""

    def run_mode(self, mode):
        workers, requests = 4, 40

        def interact(s):
            go(s)
            s.line(timeout=120)

        s = self.run_behaviour(mode, [prog("tt_cgi"), str(workers), str(requests)], interact, counts={
            (X86_64, "getcpu"): workers * requests, (X86_64, "getsid"): workers * requests,
            (X86_64, "sched_get_priority_max"): workers * requests})
        self.assertEqual(s.output[:1], [f"requests {workers * requests}"], "requests served")


@modes(LAUNCH, NOFILTER)
class CgiChurnPid1(TracerCase):
    """tt_cgi with the tracer as PID 1 (launch mode in a container): it is also the reaper of the
    orphans and zombies, and no request may hang."""

    def run_mode(self, mode):
        need_pid_namespace(self)
        s = self.session(mode, [prog("tt_cgi"), "4", "40"],
                         wrapper=["unshare", "--pid", "--fork", "--mount-proc", "--kill-child"])
        s.start().ready()
        go(s)
        self.assertEqual(s.line(timeout=120), "requests 160", "requests served")
        s.finish()
        self.assertEqual(s.app_status, 0, "tt_cgi's exit status")


@modes(LAUNCH, NOFILTER, ATTACH)
class ExecFromThread(TracerCase):
    """exec from a non-leader thread while other threads make syscalls: the new image is traced."""

    def run_mode(self, mode):
        def interact(s):
            go(s)
            s.line()

        self.run_behaviour(mode, [prog("tt_exec_thread")], interact, counts={
            (X86_64, "sched_get_priority_min"): 1, (X86_64, "sysinfo"): 1, (X86_64, "execve"): None})


@modes(LAUNCH, NOFILTER, ATTACH)
class SignalHandlers(TracerCase):
    """A signal handler runs exactly once per signal (self-sent, blocked, queued, SIGCHLD, external,
    SIGSEGV from a fault, SIGTRAP raised and from int3)."""

    def run_mode(self, mode):
        def interact(s):
            go(s)
            for _ in range(4):
                s.line()
            for k in range(1, 4):
                os.kill(s.pid, signal.SIGUSR1)
                s.send("count")
                s.expect(f"SIGUSR1 handled {5 + k}")
            s.send("end")

        self.run_behaviour(mode, [prog("tt_signals")], interact, counts={(X86_64, "getcpu"): 17})


@modes(LAUNCH, NOFILTER, ATTACH)
class GroupStop(TracerCase):
    """SIGSTOP stops the program until SIGCONT (group stop), then it goes on; its SIGCONT handler
    runs once."""

    def run_mode(self, mode):
        def interact(s):
            go(s)
            s.send("ping")
            s.expect("pong")
            os.kill(s.pid, signal.SIGSTOP)

            # Under ptrace a thread at a syscall stop is in state "t" too, for as long as the tracer
            # takes to resume it (long on a loaded machine): the group stop is the one that lasts.
            def all_stopped():
                return all(task_state(s.pid, t) in ("T", "t") for t in tasks(s.pid))

            def stopped_for(seconds):
                until = time.monotonic() + seconds
                while time.monotonic() < until:
                    if not all_stopped():
                        return False
                    time.sleep(0.01)
                return True

            self.wait_for(f"every thread of {s.pid} stopped for 0.3 s", lambda: stopped_for(0.3))
            s.send("ping")
            self.assertTrue(s.app_out.quiet_for(0.7),
                            f"{s.name}: the program answered while it should be stopped by SIGSTOP")
            os.kill(s.pid, signal.SIGCONT)
            s.expect("pong")
            s.send("ping")
            s.expect("pong")
            s.send("end")
            s.line()

        self.run_behaviour(mode, [prog("tt_groupstop")], interact, counts={(X86_64, "sysinfo"): 1})


@modes(LAUNCH, NOFILTER, ATTACH)
class KillTracee(TracerCase):
    """A tracee killed by SIGKILL dies as untraced; the tracer notices and ends cleanly."""

    def run_mode(self, mode):
        base = self.session("untraced", [prog("tt_sigkill")]).start().ready()
        go(base)
        base.expect("running")
        os.kill(base.pid, signal.SIGKILL)
        self.assertEqual(base.app.wait(TIMEOUT), -signal.SIGKILL)

        s = self.session(mode, [prog("tt_sigkill")]).start().ready()
        go(s)
        s.expect("running")
        os.kill(s.pid, signal.SIGKILL)
        if mode == ATTACH:
            self.assertEqual(s.app.wait(TIMEOUT), -signal.SIGKILL, "the program's status")
            s.stream.wait("'exited' for the killed program",
                          lambda e: e["type"] == "exited" and e.get("pid") == s.pid)
            s.command("stop")  # it may already have ended, having nothing left to trace
            self.assertEqual(s.tracer.wait(TIMEOUT), 0, "the tracer's exit status")
        else:
            status = s.tracer.wait(TIMEOUT)
            self.assertIn(status, (-signal.SIGKILL, 128 + signal.SIGKILL),
                          "launch mode exits as its child did (killed by SIGKILL, or 137)")
        s.stream.rest()
        killed = [e for e in s.stream.of("exited") if e.get("pid") == s.pid and e.get("tid") == s.pid]
        self.assertTrue(killed, "no 'exited' event for the killed program's leader")
        self.assertEqual(killed[-1].get("signal"), signal.SIGKILL, f"the 'exited' event: {killed[-1]}")
        self.check_stream(s)
        self.assert_counts(s, {(X86_64, "sysinfo"): None})


@modes(LAUNCH, NOFILTER, ATTACH)
class Compat32BitProgram(TracerCase):
    """A 32-bit (i386) program: its syscalls are recorded as SCMP_ARCH_X86 with i386 numbers."""

    def run_mode(self, mode):
        if os.environ.get("KSC_HAVE_M32") != "1":
            self.skipTest("no 32-bit toolchain (gcc-multilib): tt_compat32 was not built")
        need_ia32(self)
        try:
            subprocess.run([prog("tt_compat32"), "probe"], check=True, timeout=TIMEOUT)
        except OSError as e:
            if e.errno != errno.ENOEXEC:
                raise
            self.skipTest(f"this kernel cannot exec 32-bit programs (IA32 emulation off): {e}")

        def interact(s):
            go(s)
            s.line()

        self.run_behaviour(mode, [prog("tt_compat32")], interact,
                           counts={(X86, "sysinfo"): 1, (X86, "personality"): 1},
                           absent=[(X86_64, "setgroups"), (X86_64, "ustat")])


@modes(LAUNCH, NOFILTER, ATTACH)
class I386SyscallsFrom64Bit(TracerCase):
    """i386 syscalls through int $0x80 in a 64-bit program are recorded as SCMP_ARCH_X86."""

    def run_mode(self, mode):
        need_ia32(self)

        def interact(s):
            go(s)
            s.line()

        self.run_behaviour(mode, [prog("tt_int80")], interact,
                           counts={(X86, "personality"): 1, (X86, "getcpu"): 1, (X86_64, "personality"): 1},
                           absent=[(X86_64, "ustat")])


@modes(LAUNCH)
class OwnTraceFilter(TracerCase):
    """A program's own SECCOMP_RET_TRACE filter, stacked after the launch filter, overrides its
    SECCOMP_RET_DATA: the tracer stops trusting that data at the program's first prctl/seccomp
    and still records what was really called."""

    def run_mode(self, mode):
        def interact(s):
            go(s)
            s.line()

        s = self.run_behaviour(mode, [prog("tt_ownfilter")], interact, counts={(X86_64, "getsid"): 7})
        self.assertNotIn((X86_64, 999), s.counts(), "the program's SECCOMP_RET_DATA was taken for a syscall")


@modes(LAUNCH, NOFILTER, ATTACH)
class X32Syscalls(TracerCase):
    """x32 syscalls (nr | 0x40000000) are recorded as SCMP_ARCH_X32 without the x32 bit."""

    def setUp(self):
        # The kernel decides, tracer or not: skip first.
        probe = subprocess.run([prog("tt_x32"), "probe"], capture_output=True, text=True)
        if probe.returncode == 77:
            self.skipTest(f"this kernel has no x32 ABI (CONFIG_X86_X32_ABI off or syscall.x32=n): "
                          f"{probe.stdout.strip()}")
        self.assertEqual(probe.returncode, 0, probe.stdout + probe.stderr)
        super().setUp()

    def run_mode(self, mode):
        def interact(s):
            go(s)
            s.line()

        self.run_behaviour(mode, [prog("tt_x32")], interact, counts={(X32, "getcpu"): 1})


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


class Detach(TracerCase):
    """On 'stop' (attach mode) the tracer detaches every thread and the program runs on, making
    progress, untraced (strace's detach-running, detach-sleeping, detach-stopped)."""

    def start_attached(self, how, extra=()):
        s = self.session(ATTACH, [prog("tt_detach"), how], tracer_args=extra).start()
        s.ready()
        return s

    def test_running(self):
        s = self.start_attached("running")
        self.assert_progress(s)
        self.stop_and_wait(s)
        self.assert_counts(s, {(X86_64, "sysinfo"): None})
        self.assert_progress(s)
        self.assert_detached_and_ends(s)

    def test_sleeping(self):
        s = self.start_attached("sleeping")
        self.counters(s)
        self.stop_and_wait(s)
        self.assert_counts(s, {(X86_64, "sysinfo"): 1})
        self.counters(s)
        self.assert_detached_and_ends(s)

    def test_stopped(self):
        s = self.session(ATTACH, [prog("tt_detach"), "sleeping"]).start()
        line = s.app_out.next()
        s.pid = int(line.split()[1])
        os.kill(s.pid, signal.SIGSTOP)
        self.wait_for("the program stopped", lambda: task_state(s.pid, s.pid) == "T")
        s.attach()
        self.stop_and_wait(s)
        self.assertEqual(task_state(s.pid, s.pid), "T", "the program no longer stopped after the detach")
        s.send("count")
        self.assertTrue(s.app_out.quiet_for(0.7), "the program runs though stopped by SIGSTOP")
        os.kill(s.pid, signal.SIGCONT)
        line = s.line()
        self.assertTrue(line.startswith("count "), line)
        self.assert_detached_and_ends(s)


class AttachStopped(TracerCase):
    """Attach to a process stopped by SIGSTOP: it stays stopped while traced until SIGCONT, then
    runs traced."""

    def test_attach(self):
        s = self.session(ATTACH, [prog("tt_detach"), "sleeping"]).start()
        s.pid = int(s.app_out.next().split()[1])
        os.kill(s.pid, signal.SIGSTOP)
        self.wait_for("the program stopped", lambda: task_state(s.pid, s.pid) == "T")
        s.attach()
        s.send("count")
        self.assertTrue(s.app_out.quiet_for(0.7), "the program runs though stopped by SIGSTOP")
        os.kill(s.pid, signal.SIGCONT)
        self.assertTrue(s.line().startswith("count "))
        self.stop_and_wait(s)
        self.assert_counts(s, {(X86_64, "sysinfo"): 1})
        self.assert_detached_and_ends(s)


class SignalsDuringAttachAndDetach(TracerCase):
    """Realtime signals sent without pause while the tracer attaches and while it detaches are
    each handled exactly once (a signal caught in a stop must be passed on, once, even by
    PTRACE_DETACH)."""

    def test_attach(self):
        s = self.session(ATTACH, [prog("tt_rtcount")]).start()
        s.pid = int(s.app_out.next().split()[1])
        sent = [0]

        def send(n):
            for _ in range(n):
                os.kill(s.pid, signal.SIGRTMIN)
                sent[0] += 1
                time.sleep(0.0005)

        sender = threading.Thread(target=send, args=(400,))
        sender.start()
        s.attach()
        sender.join()
        sender = threading.Thread(target=send, args=(400,))
        sender.start()
        s.stop()
        sender.join()
        self.assertEqual(s.tracer.wait(TIMEOUT), 0)
        s.stream.rest()
        self.check_stream(s)
        deadline = time.monotonic() + 10
        while True:  # queued signals still pending are handled soon after: ask until all are
            s.send("count")
            handled = int(s.line().split()[1])
            if handled >= sent[0] or time.monotonic() > deadline:
                break
            time.sleep(0.05)
        self.assertEqual(handled, sent[0], "SIGRTMIN sent during attach and detach, handled exactly once each")
        self.assert_detached_and_ends(s)


class TracerKilled(TracerCase):
    """The tracer killed by SIGKILL leaves the attached program running (no PTRACE_O_EXITKILL
    in attach mode)."""

    def test_attach(self):
        s = self.session(ATTACH, [prog("tt_detach"), "running"]).start().ready()
        self.counters(s)
        s.tracer.kill()
        s.tracer.wait(TIMEOUT)
        self.wait_for("the kernel detached the threads",
                      lambda: all(proc_status(s.pid, "TracerPid", t) == "0" for t in tasks(s.pid)))
        self.assertIsNone(s.app.poll(), "the program died with its tracer")
        self.assert_progress(s)
        self.assert_detached_and_ends(s)


class IdleTimeout(TracerCase):
    """--idle-timeout: a tracer nobody talks to stops by itself and the program runs on;
    pings keep it going."""

    def test_attach_nobody_talks(self):
        s = self.session(ATTACH, [prog("tt_detach"), "running"], tracer_args=["--idle-timeout", "1s"])
        s.start().ready()
        t0 = time.monotonic()
        try:
            status = s.tracer.wait(15)
        except subprocess.TimeoutExpired:
            self.fail("the tracer did not stop within 15 s with --idle-timeout 1s and no command")
        took = time.monotonic() - t0
        self.assertGreaterEqual(took, 0.8, "the tracer stopped before its idle timeout")
        self.assertEqual(status, 0, "the tracer's exit status after its idle timeout")
        s.stream.rest()
        self.check_stream(s)
        self.assert_progress(s)
        self.assert_detached_and_ends(s)

    def test_attach_pings_keep_it(self):
        s = self.session(ATTACH, [prog("tt_detach"), "sleeping"], tracer_args=["--idle-timeout", "1s"])
        s.start().ready()
        end = time.monotonic() + 3.0
        while time.monotonic() < end:
            self.assertTrue(s.command("ping"), "the tracer stopped reading commands")
            time.sleep(0.25)
            self.assertIsNone(s.tracer.poll(), "the tracer stopped although pinged every 250 ms")
        self.stop_and_wait(s)
        self.assert_detached_and_ends(s)


class ControlChannel(TracerCase):
    """The control channel in attach mode: an unknown command changes nothing; its end is not a
    stop (kubectl attach may reconnect), the idle timeout still is."""

    def test_unknown_command(self):
        s = self.session(ATTACH, [prog("tt_detach"), "sleeping"]).start().ready()
        self.assertTrue(s.command("no-such-command"))
        self.counters(s)
        s.stream.wait("sysinfo announced", lambda e: e["type"] == "syscall" and e.get("nr") == NR[X86_64]["sysinfo"])
        self.assertIsNone(s.tracer.poll(), "the tracer ended on an unknown command")
        self.stop_and_wait(s)
        self.assert_counts(s, {(X86_64, "sysinfo"): 1})
        self.assert_detached_and_ends(s)

    def test_end_of_input(self):
        s = self.session(ATTACH, [prog("tt_detach"), "sleeping"], tracer_args=["--idle-timeout", "2s"])
        s.start().ready()
        s.ctl.close()
        t0 = time.monotonic()
        self.counters(s)
        s.stream.wait("sysinfo announced after the control input ended",
                      lambda e: e["type"] == "syscall" and e.get("nr") == NR[X86_64]["sysinfo"])
        self.assertIsNone(s.tracer.poll(), "the tracer stopped when its control input ended")
        self.assertEqual(s.tracer.wait(15), 0, "the tracer's exit status after its idle timeout")
        self.assertGreaterEqual(time.monotonic() - t0, 1.5, "stopped before the idle timeout")
        s.stream.rest()
        s.summary = s.stream.final_summary(0)
        self.check_stream(s)
        self.assert_counts(s, {(X86_64, "sysinfo"): 1})
        self.assert_detached_and_ends(s)


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


class Snapshot(TracerCase):
    """'snapshot' prints a summary (not final) and the recording goes on."""

    def test_attach(self):
        s = self.session(ATTACH, [prog("tt_detach"), "sleeping"]).start().ready()
        self.counters(s)
        self.assertTrue(s.command("snapshot"))
        snap = s.stream.wait("snapshot summary", lambda e: e["type"] == "summary")
        self.assertIsNot(snap.get("final"), True, "a snapshot's summary is not final")
        self.assertEqual(s.counts(snap).get((X86_64, NR[X86_64]["sysinfo"])), 1, "sysinfo in the snapshot")
        self.assertIsNone(s.tracer.poll(), "the tracer ended after a snapshot")
        self.counters(s)
        self.stop_and_wait(s)
        self.assert_counts(s, {(X86_64, "sysinfo"): 2})
        self.assert_detached_and_ends(s)


class Duration(TracerCase):
    """--duration: the recording stops by itself (final summary) and the program runs on."""

    def test_attach(self):
        s = self.session(ATTACH, [prog("tt_detach"), "running"], tracer_args=["--duration", "1s"])
        s.start().ready()
        try:
            status = s.tracer.wait(15)
        except subprocess.TimeoutExpired:
            self.fail("the tracer did not stop within 15 s with --duration 1s")
        self.assertEqual(status, 0)
        s.stream.rest()
        s.summary = s.stream.final_summary(0)
        self.check_stream(s)
        self.assert_progress(s)
        self.assert_detached_and_ends(s)


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


def need_pid_namespace(test):
    for tool in ("unshare", "nsenter"):
        if not shutil.which(tool):
            test.skipTest(f"{tool} is not installed")
    if os.geteuid() != 0:
        test.skipTest("needs root for a PID namespace")


@modes(LAUNCH, NOFILTER, ATTACH)
class FailedSyscalls(TracerCase):
    """Where the tracer sees returns (--no-filter, attach) the summary counts failures per errno;
    with the seccomp filter it says that returns are not seen."""

    def run_mode(self, mode):
        def interact(s):
            go(s)
            s.line()

        s = self.run_behaviour(mode, [prog("tt_errno")], interact,
                               counts={(X86_64, "getsid"): 3, (X86_64, "sched_get_priority_max"): 2})
        entries = {e.get("nr"): e for e in s.summary["syscalls"] if e.get("arch") == X86_64}

        def errors(name):
            raw = entries[NR[X86_64][name]].get("errors") or {}
            return {errno.errorcode.get(int(k), k) if str(k).isdigit() else k: v for k, v in raw.items()}

        if mode == LAUNCH:
            self.assertIs(s.summary.get("returns_seen"), False, "the filter method does not see returns")
            self.assertEqual(errors("getsid"), {})
        else:
            self.assertIs(s.summary.get("returns_seen"), True, "the ptrace method sees returns")
            self.assertEqual(errors("getsid"), {"ESRCH": 3}, "getsid(-1) failures by errno")
            self.assertEqual(errors("sched_get_priority_max"), {"EINVAL": 2},
                             "sched_get_priority_max(12345) failures by errno")


@modes(LAUNCH, NOFILTER, ATTACH)
class Arguments(TracerCase):
    """Argument-table syscalls (src/proto/syscall_args.csv): each first-seen value once in an 'argument'
    event and all of them in the summary; -1 and 0xffffffff are one value; the netlink protocol
    rides along with AF_NETLINK; a 129th distinct value sends the syscall whole ('overflow'); the
    compact summary carries the values that did not overflow."""

    AF_UNIX, AF_INET, AF_NETLINK = 1, 2, 16
    NETLINK_ROUTE, NETLINK_AUDIT = 0, 9
    CLONE_NEWUTS = 0x04000000

    def run_mode(self, mode):
        def interact(s):
            go(s)
            s.line()

        path = os.path.join(self.tmp, "termination-log")
        s = self.run_behaviour(mode, [prog("tt_args")], interact, tracer_args=["--summary-file", path])
        events = [e for e in s.stream.of("argument") if e.get("arch") == X86_64]
        by_name = {}
        for e in events:
            by_name.setdefault(e.get("name"), []).append(e)

        def values(name):
            return [(e.get("value"), e.get("value2", 0)) for e in by_name.get(name, []) if not e.get("overflow")]

        socket_values = values("socket")
        self.assertEqual(sorted(socket_values), sorted(set(socket_values)), "each socket value reported once")
        for v in [(self.AF_INET, 0), (self.AF_UNIX, 0), (self.AF_NETLINK, self.NETLINK_AUDIT)]:
            self.assertIn(v, socket_values, f"socket values: {socket_values}")
        # NETLINK_ROUTE is protocol 0: the value has no value2, and is AF_NETLINK's all the same.
        self.assertIn((self.AF_NETLINK, self.NETLINK_ROUTE), socket_values)
        self.assertIn((0xffffffff, 0), values("personality"), "personality(-1) and (0xffffffff)")
        self.assertEqual(values("personality").count((0xffffffff, 0)), 1, "-1 and 0xffffffff are one value")
        self.assertIn((0, 0), values("clone"), "fork: clone without namespace flags")
        self.assertIn((self.CLONE_NEWUTS, 0), values("unshare"))
        keyctl = by_name.get("keyctl", [])
        self.assertEqual(len([e for e in keyctl if not e.get("overflow")]), 128, "the tracer keeps 128 values")
        self.assertEqual(len([e for e in keyctl if e.get("overflow")]), 1, "one overflow event for keyctl")
        entries = {e.get("name"): e for e in s.summary["syscalls"] if e.get("arch") == X86_64}
        self.assertIs(entries["keyctl"].get("values_overflow"), True, f"{entries['keyctl']}")
        self.assertNotIn("values", entries["keyctl"])
        summary_socket = sorted(v if isinstance(v, list) else [v, 0] for v in entries["socket"]["values"])
        self.assertEqual(summary_socket, sorted([list(v) for v in socket_values]), "the summary's socket values")
        with open(path) as f:
            text = f.read()
        self.assertLessEqual(len(text.encode()), 4096)
        items = {w.split("=")[0]: w.split("=")[1] for w in text.split() if w.startswith("@")}
        socket_item = items.get(f"@{X86_64}:{NR[X86_64]['socket']}")
        self.assertIsNotNone(socket_item, f"the compact summary's argument items: {sorted(items)}")
        self.assertIn("10.9", socket_item.split(","), "AF_NETLINK/NETLINK_AUDIT in the compact summary")
        self.assertNotIn(f"@{X86_64}:{NR[X86_64]['keyctl']}", items, "an overflowed syscall has no item")


class ProgressEvents(TracerCase):
    """'progress' comes every second or so, with the totals."""

    def test_attach(self):
        s = self.session(ATTACH, [prog("tt_detach"), "running"]).start().ready()
        s.stream.wait_until("two 'progress' events", lambda: len(s.stream.of("progress")) >= 2, timeout=10)
        last = s.stream.of("progress")[-1]
        if "threads" in last:
            self.assertEqual(last["threads"], 3, f"threads traced now: {last}")
        if "processes" in last:
            self.assertEqual(last["processes"], 1, f"processes traced now: {last}")
        self.assertGreater(last.get("events", 1), 0, f"{last}")
        self.assertGreaterEqual(last.get("syscalls", 1), 1, f"{last}")
        self.stop_and_wait(s)
        self.assert_detached_and_ends(s)


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


def descendants(pid):
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        for t in tasks(p):
            try:
                with open(f"/proc/{p}/task/{t}/children") as f:
                    kids = [int(k) for k in f.read().split()]
            except FileNotFoundError:
                continue
            out += kids
            todo += kids
    return out


@modes(LAUNCH, NOFILTER, ATTACH)
class ExistingTree(TracerCase):
    """--pid of a parent traces the children and grandchildren it already has; in every mode the
    tree's exit statuses are kept."""

    def run_mode(self, mode):
        def interact(s):
            if s.mode == ATTACH:
                tree = set(descendants(s.pid))
                self.assertEqual(len(tree), 3, "the tree: two children and a grandchild")
                s.stream.wait_until(f"'attached' for every process of the tree {sorted(tree)}", lambda: tree <= {
                    e.get("pid") for e in s.stream.events if e["type"] == "attached"})
            go(s)
            s.line()
            s.line()

        self.run_behaviour(mode, [prog("tt_tree")], interact, counts={(X86_64, "sysinfo"): 3})


@modes(LAUNCH, NOFILTER, ATTACH)
class ThreadChurn(TracerCase):
    """2,000 short-lived threads, eight at a time: each one's syscall is counted, none missed."""

    def run_mode(self, mode):
        def interact(s):
            go(s)
            s.line(timeout=120)

        self.run_behaviour(mode, [prog("tt_churn"), "count", "2000"], interact,
                           counts={(X86_64, "getcpu"): 2000})


class ThreadChurnDetach(TracerCase):
    """Attach to and detach from a process whose threads are born and die all the time: it runs
    on untraced, making progress."""

    def test_attach(self):
        s = self.session(ATTACH, [prog("tt_churn"), "forever"]).start().ready()
        self.assert_progress(s)
        self.stop_and_wait(s)
        self.assert_counts(s, {(X86_64, "getcpu"): None, (X86_64, "sysinfo"): None})
        self.assert_progress(s)
        self.assert_detached_and_ends(s)


@modes(LAUNCH, NOFILTER, ATTACH)
class LeaderExited(TracerCase):
    """The thread-group leader exits first (pthread_exit) and another thread goes on: it is traced
    to the end and the process's exit status is kept."""

    def run_mode(self, mode):
        def interact(s):
            go(s)
            s.line()

        self.run_behaviour(mode, [prog("tt_leader_exit")], interact, counts={(X86_64, "getcpu"): 1})


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
class LaunchTracerKilled(TracerCase):
    """The tracer killed by SIGKILL in launch mode takes its command with it (PTRACE_O_EXITKILL):
    with the filter and no tracer every syscall would fail with ENOSYS."""

    def run_mode(self, mode):
        s = self.session(mode, [prog("tt_detach"), "running"]).start().ready()
        self.counters(s)
        s.tracer.kill()
        s.tracer.wait(TIMEOUT)
        self.wait_for(f"the command {s.pid} gone", lambda: task_state(s.pid, s.pid) in (None, "Z", "X"))


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


class StopSignals(TracerCase):
    """SIGTERM or SIGINT to an attached tracer means 'stop': final summary, every thread
    detached, exit 0, the program runs on; and a 'signal' warning before it names the signal and
    its sender (in a same-user recorder the app could send it: the recording is incomplete)."""

    def stop_by(self, sig):
        s = self.session(ATTACH, [prog("tt_detach"), "running"]).start().ready()
        self.counters(s)
        s.tracer.send_signal(sig)
        s.summary = s.stream.final_summary()
        self.assertEqual(s.tracer.wait(TIMEOUT), 0, f"the tracer's exit status after {sig.name}")
        s.stream.rest()
        self.check_stream(s)
        warnings = [e for e in s.stream.of("warning") if e.get("code") == "signal"]
        self.assertEqual(len(warnings), 1, f"one 'signal' warning: {s.stream.of('warning')}")
        self.assertIn(f"stopped by {sig.name} from pid {os.getpid()} (uid {os.getuid()})", warnings[0]["message"])
        self.assert_counts(s, {(X86_64, "sysinfo"): None})
        self.assert_progress(s)
        self.assert_detached_and_ends(s)

    def test_sigterm(self):
        self.stop_by(signal.SIGTERM)

    def test_sigint(self):
        self.stop_by(signal.SIGINT)


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


# ---- kubectl seccomp check: the tracer's --check-program (docs/tracer.md, "Checking a profile")

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


def all_cases(suite):
    for t in suite:
        if isinstance(t, unittest.TestSuite):
            yield from all_cases(t)
        else:
            yield t


def main(argv):
    module = sys.modules[__name__]
    loader = unittest.TestLoader()
    if argv[1:] == ["--list"]:
        for t in all_cases(loader.loadTestsFromModule(module)):
            print(t.id().split(".", 1)[1])
        return 0
    suite = loader.loadTestsFromNames(argv[1:], module) if argv[1:] else loader.loadTestsFromModule(module)
    result = unittest.TextTestRunner(verbosity=2, stream=sys.stdout).run(suite)
    if result.failures or result.errors:
        return 1
    if result.skipped and len(result.skipped) == result.testsRun:
        return 77
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
