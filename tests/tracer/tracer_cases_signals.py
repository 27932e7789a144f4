"""The tracer's cases on signals, stops and detaching: handlers run once per signal, group stops,
SIGKILL of the tracee or the tracer, detach by stop/SIGTERM/SIGINT/idle/duration, snapshots,
the control channel and progress events. Imported by tracer_tests.py, which runs them.
"""

import os
import signal
import subprocess
import threading
import time

from tracer_harness import (ATTACH, LAUNCH, NOFILTER, NR, TIMEOUT, X86_64, TracerCase, go, modes, proc_status,
                            prog, task_state, tasks)


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
class LaunchTracerKilled(TracerCase):
    """The tracer killed by SIGKILL in launch mode takes its command with it (PTRACE_O_EXITKILL):
    with the filter and no tracer every syscall would fail with ENOSYS."""

    def run_mode(self, mode):
        s = self.session(mode, [prog("tt_detach"), "running"]).start().ready()
        self.counters(s)
        s.tracer.kill()
        s.tracer.wait(TIMEOUT)
        self.wait_for(f"the command {s.pid} gone", lambda: task_state(s.pid, s.pid) in (None, "Z", "X"))


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
