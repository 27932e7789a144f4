"""The shared part of the tracer tests (tracer_tests.py runs them): the environment (KSC_TRACER,
KSC_TEST_PROGS, KSC_TEST_NO_IA32 and the IA32 probe), the syscall numbers, the line readers,
a traced Session, the @modes decorator and the TracerCase base class with its checks.
"""

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
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


def need_pid_namespace(test):
    for tool in ("unshare", "nsenter"):
        if not shutil.which(tool):
            test.skipTest(f"{tool} is not installed")
    if os.geteuid() != 0:
        test.skipTest("needs root for a PID namespace")
