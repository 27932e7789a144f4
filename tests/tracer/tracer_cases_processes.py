"""The tracer's cases on threads, processes and exec: threads and forks counted exactly, vfork,
exec from a thread, trees that exist before --pid, churn, a leader that exits first; i386 and
x32 calls; failed calls and arguments. Imported by tracer_tests.py, which runs them.
"""

import errno
import fcntl
import os
import subprocess
import sys
import termios

from tracer_harness import (ATTACH, LAUNCH, NOFILTER, NR, TIMEOUT, TRACER, X32, X86, X86_64, Stream,
                            TracerCase, go, modes, need_ia32, need_pid_namespace, proc_status, prog, tasks)


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
