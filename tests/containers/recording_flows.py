"""The recording flows of the container tests: issue 6's per-workload flow (Flow: untraced, launch,
attach, merge, enforce, one syscall removed) and issue 14's argument rules (ArgsFlow).

container_tests.py runs them (`workload NAME`, `args NAME`); check_flow.py builds on Flow.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import time
from pathlib import Path

import podman_harness as ph
from container_support import (TIMED_ROUNDS, TRACER_IMAGE, AttachedTracer, AuditLog, Failure, Pending, Plugin,
                               allowed, audit_variant, process_states, require_tracer_image, say,
                               stream_events, stream_syscalls, syscall_names_by_nr, without, write_json)
from podman_harness import Harness, skip


class Flow:
    def __init__(self, args, workload):
        self.args = args
        self.w = workload
        self.plugin = Plugin(args.plugin)
        self.results_dir = Path(args.build_dir).resolve() / "containers-results"
        self.results_dir.mkdir(parents=True, exist_ok=True)
        self.failures: list[str] = []
        self.pending: list[str] = []
        self.result: dict = {"workload": workload.name}
        self.h = Harness()
        # Streams and profiles stay in the build tree for a look after the test.
        self.dir = self.results_dir / workload.name
        shutil.rmtree(self.dir, ignore_errors=True)
        self.dir.mkdir()
        os.chmod(self.dir, 0o777)
        self.audit = AuditLog()

    # Each step: its failure is recorded and the steps that do not depend on it go on.
    def step(self, title: str, fn, *a):
        say(f"-- {self.w.name}: {title}")
        try:
            return fn(*a)
        except Pending as e:
            say(f"   PENDING: {e}")
            self.pending.append(f"{title}: {e}")
        except (Failure, ph.PodmanError, TimeoutError, subprocess.TimeoutExpired) as e:
            say(f"   FAILED: {e}")
            self.failures.append(f"{title}: {e}")
        except Exception as e:  # an exercise error where none is expected is a failure too
            say(f"   FAILED: {type(e).__name__}: {e}")
            self.failures.append(f"{title}: {type(e).__name__}: {e}")
        return None

    def start_app(self, hint: str, *, launch_out: Path | None = None, seccomp: Path | str | None = None,
                  tracer_bin: Path | None = None, tracer_args: tuple[str, ...] = ()):
        w = self.w
        opts: dict = {"volumes": list(w.volumes)}
        cmd = list(w.command)
        if launch_out is not None:
            if tracer_bin is not None:
                # This tree's static tracer, not the shared image another helper may rebuild.
                opts["volumes"].append(f"{tracer_bin}:/ksc-local/seccomp-tracer:ro")
                opts["entrypoint"] = "/ksc-local/seccomp-tracer"
            else:
                opts["mounts"] = [f"type=image,src={TRACER_IMAGE},dst=/ksc"]
                opts["entrypoint"] = "/ksc/seccomp-tracer"
            opts["volumes"].append(f"{launch_out.parent}:/out")
            cmd = ["--output", f"/out/{launch_out.name}", "--summary-file", "/dev/null", *tracer_args, "--",
                   *cmd]
        if seccomp is not None:
            opts["seccomp"] = str(seccomp)
        app = self.h.run(w.image, cmd, hint=hint, detach=True, **opts)
        try:
            # A stopped container has no address: the one it had at start is kept.
            w.wait_ready(app.ip, timeout=60, alive=app.running)
        except Exception as e:
            raise Failure(f"{e}; container logs: {app.logs()[-1500:]}")
        return app

    def exercise(self, app, timeout: float = 30, repeat: int = 1) -> tuple[list, float]:
        """The exercise, `repeat` times for a time long enough to measure; every round's answers
        must be the first's."""
        t0 = time.monotonic()
        try:
            answers = self.w.exercise(app.ip, timeout)
            for i in range(1, repeat):
                again = self.w.exercise(app.ip, timeout)
                if again != answers:
                    raise Failure(f"round {i + 1} of the exercise answered differently from round 1")
        except Exception:
            # A request that hangs under a tracer: which process waits, and on what, says why.
            say("   the app's processes when the exercise failed:\n" + process_states(app.pid))
            raise
        return answers, time.monotonic() - t0

    def bench(self, app, key: str) -> None:
        """The workload's load test from a client container in the app's network namespace;
        requests per second into result[key]."""
        if not self.w.bench:
            return
        cmd, n = self.w.bench
        script = f"s=$(date +%s%N); {cmd} >/dev/null || exit $?; e=$(date +%s%N); echo $(( (e - s) / 1000 ))"
        proc = self.h.run(ph.BOOKWORM_IMAGE, ["bash", "-c", script], hint="bench", network_of=app,
                          check=False, timeout=600)
        if proc.returncode != 0:
            raise Failure(f"the load test failed ({proc.returncode}): {(proc.stdout + proc.stderr)[-600:]}")
        us = int(proc.stdout.split()[-1])
        self.result[key] = n / (us / 1e6)
        say(f"   load test: {n} requests in {us / 1e6:.2f}s, {self.result[key]:.0f}/s")

    def same_answers(self, what: str, answers: list) -> None:
        if answers != self.reference:
            diff = [(i, a, b) for i, (a, b) in enumerate(zip(answers, self.reference)) if a != b][:3]
            raise Failure(f"{what}: answers differ from the untraced run (first: {diff}; "
                          f"{len(answers)} vs {len(self.reference)} answers)")

    def stop_launch(self, app) -> None:
        """SIGTERM to the tracer (PID 1), which forwards it to the app and exits after it."""
        app.stop(timeout=15)
        code = app.exit_code()
        logs = app.logs()
        if "error" in logs.lower() and "seccomp-tracer" in logs:
            say(f"    tracer said: {logs[-800:]}")
        say(f"    launch container exited {code}")

    def untraced(self) -> None:
        app = self.start_app("untraced")
        self.exercise(app)  # warm-up: first-request effects stay out of the timing
        self.reference, t = self.exercise(app, repeat=TIMED_ROUNDS)
        self.result["t_untraced"] = t
        say(f"   {len(self.reference)} answers in {t:.2f}s")
        self.bench(app, "rps_untraced")
        app.remove()

    def launch(self, startup_only: bool) -> None:
        name = "startup" if startup_only else "launch"
        out = self.dir / f"{name}.ndjson"
        app = self.start_app(name, launch_out=out)
        if not startup_only:
            answers, t = self.exercise(app, repeat=TIMED_ROUNDS)
            self.result["t_launch"] = t
            say(f"   exercise traced (launch) in {t:.2f}s")
            self.same_answers("traced by launch mode", answers)
            self.bench(app, "rps_launch")
        else:
            time.sleep(0.5)  # start-up is done when it listens; let its last steps settle
        self.stop_launch(app)
        app.remove()
        events = stream_events(out)
        names = stream_syscalls(events)
        say(f"   stream: {len(events)} events, {len(names)} syscalls")
        if not names:
            raise Failure(f"the launch-mode stream has no syscall events: {out.read_text()[:1000]!r}")
        for ev in events:
            if ev.get("type") in ("error", "warning"):
                say(f"    tracer {ev['type']}: {ev.get('message')}")
        profile = self.plugin.convert(out, self.dir / f"{name}.json")
        self.result[f"profile_{name}"] = len(allowed(profile))
        setattr(self, f"{name}_profile", profile)
        if not startup_only:
            # The runtime here is runc: its base set alone must be enough (the default adds crun's).
            self.launch_runc_profile = self.plugin.convert(out, self.dir / "launch_runc.json",
                                                           "--base", "runc")

    def attach(self) -> None:
        out = self.dir / "attach.ndjson"
        app = self.start_app("attach")
        tracer = AttachedTracer(self.h, app, out)
        tracer.wait_for("hello", 30)
        tracer.send("snapshot")
        tracer.wait_for("summary", 30)
        answers, t = self.exercise(app, repeat=TIMED_ROUNDS)
        self.result["t_attach"] = t
        say(f"   exercise traced (attach) in {t:.2f}s")
        self.same_answers("traced by attach mode", answers)
        self.bench(app, "rps_attach")
        code = tracer.stop()
        if code != 0:
            raise Failure(f"the attached tracer exited {code}: {''.join(tracer.err)[-800:]}")
        if not app.running():
            raise Failure("the app stopped running when the tracer detached")
        # The app runs on untraced after the detach.
        answers, _ = self.exercise(app)
        self.same_answers("after the tracer detached", answers)
        app.remove()
        events = stream_events(out)
        names = stream_syscalls(events)
        say(f"   stream: {len(events)} events, {len(names)} syscalls")
        for ev in events:
            if ev.get("type") in ("error", "warning"):
                say(f"    tracer {ev['type']}: {ev.get('message')}")
        self.attach_profile = self.plugin.convert(out, self.dir / "attach.json")
        self.result["profile_attach"] = len(allowed(self.attach_profile))

    def merge(self) -> None:
        if not hasattr(self, "attach_profile") or not hasattr(self, "startup_profile"):
            raise Pending("needs both the attach and the start-up profiles")
        self.merged_profile = self.plugin.merge(self.dir / "attach.json", self.dir / "startup.json",
                                                self.dir / "merged.json")
        only = sorted(allowed(self.attach_profile) - allowed(self.startup_profile))
        self.result["profile_merged"] = len(allowed(self.merged_profile))
        self.result["attach_only"] = only
        say(f"   only the attach recording contributed ({len(only)}): {' '.join(only)}")

    def enforce(self, which: str, audit: bool = True) -> None:
        profile = getattr(self, f"{which}_profile", None)
        if profile is None:
            raise Pending(f"no {which} profile")
        path = self.dir / f"{which}.json"
        app = self.start_app(f"enforce-{which}", seccomp=path)
        answers, t = self.exercise(app)
        self.same_answers(f"under the {which} profile", answers)
        if not app.running():
            raise Failure(f"the app exited under the {which} profile: {app.logs()[-800:]}")
        app.remove()
        say(f"   same {len(answers)} answers under real enforcement ({t:.2f}s)")
        if not audit:
            return
        # Nothing refused: the same profile with SCMP_ACT_LOG as its default action, so what it
        # would have refused is let through and named in the kernel log.
        if not self.audit.usable:
            say("   (the kernel log is not readable here: the refused-nothing check is skipped)")
            return
        self.audit.mark()
        apath = write_json(self.dir / f"{which}-audit.json", audit_variant(profile))
        app = self.start_app(f"audit-{which}", seccomp=apath)
        self.exercise(app)
        app.stop(timeout=5)
        app.remove()
        time.sleep(0.2)
        lines = self.audit.new()
        if lines:
            table = syscall_names_by_nr()
            calls: set[str] = set()
            for ln in lines:
                m = re.search(r"syscall=(\d+)", ln)
                c = re.search(r'comm="([^"]*)"', ln)
                calls.add(f"{table.get(int(m.group(1)), m.group(1)) if m else '?'} by "
                          f"{c.group(1) if c else '?'}")
            raise Failure(f"the {which} profile would refuse: {', '.join(sorted(calls))}")
        say(f"   nothing refused (kernel audit log, SCMP_ACT_LOG default)")

    def attach_alone(self) -> None:
        """What attach mode cannot see, shown: its profile alone, without the start-up recording.
        Informational: an app whose start-up needs nothing more may well run under it."""
        if getattr(self, "attach_profile", None) is None:
            raise Pending("no attach profile")
        missing = sorted(allowed(getattr(self, "startup_profile", {}) or {}) - allowed(self.attach_profile))
        try:
            app = self.start_app("attach-alone", seccomp=self.dir / "attach.json")
            answers, _ = self.exercise(app, timeout=5)
            verdict = "runs" if answers == self.reference else "answers differ"
            app.remove()
        except Exception as e:
            verdict = f"fails ({type(e).__name__})"
        self.result["attach_alone"] = verdict
        say(f"   the attach profile alone: the app {verdict}; start-up syscalls it lacks "
            f"({len(missing)}): {' '.join(missing)}")

    def minus_one(self) -> None:
        profile = getattr(self, "merged_profile", None) or getattr(self, "launch_profile", None)
        if profile is None:
            raise Pending("no profile to remove a syscall from")
        have = allowed(profile)
        startup = allowed(getattr(self, "startup_profile", {}) or {})
        candidates = [n for n in self.w.needed if n in have and n not in startup] or \
                     [n for n in self.w.needed if n in have]
        if not candidates:
            raise Failure(f"none of {self.w.needed} is in the profile: cannot pick one to remove")
        name = candidates[0]
        self.result["removed"] = name
        path = write_json(self.dir / f"minus-{name}.json", without(profile, name))
        try:
            app = self.start_app(f"minus-{name}", seccomp=path)
        except Failure as e:
            say(f"   without {name}, the app does not even start: {str(e)[:300]}")
            return
        try:
            answers, _ = self.exercise(app, timeout=5)
        except Exception as e:
            say(f"   without {name}, the app fails as it must: {type(e).__name__}: {str(e)[:300]}")
            app.remove()
            return
        if answers == self.reference:
            raise Failure(f"without {name} the app still gave the same answers: the test cannot fail")
        say(f"   without {name}, the app's answers change, as they must")
        app.remove()

    def run(self) -> int:
        ph.require_podman()
        require_tracer_image()
        if not ph.image_exists(self.w.image):
            skip(f"{self.w.image} missing (test containers_images builds it)")
        try:
            self.step("untraced", self.untraced)
            if not hasattr(self, "reference"):
                return self.finish()
            self.step("launch mode, the whole exercise", self.launch, False)
            self.step("launch mode, start-up only", self.launch, True)
            self.step("attach mode", self.attach)
            self.step("merge attach + start-up", self.merge)
            self.step("enforce the launch profile", self.enforce, "launch")
            self.step("enforce the merged attach + start-up profile", self.enforce, "merged")
            self.step("enforce the launch profile with runc's base set only", self.enforce,
                      "launch_runc", False)
            self.step("the attach profile alone", self.attach_alone)
            self.step("one needed syscall removed", self.minus_one)
        finally:
            self.h.cleanup()
        return self.finish()

    def finish(self) -> int:
        self.result["moby"] = len(allowed(json.loads(Path(self.args.moby).read_text())))
        self.result["failures"] = self.failures
        self.result["pending"] = self.pending
        write_json(self.results_dir / f"{self.w.name}.json", self.result)
        print_table([self.result])
        if self.failures:
            say(f"FAILED ({len(self.failures)}):\n  " + "\n  ".join(self.failures))
            return 1
        if self.pending:
            skip("steps pending on parts not landed yet: " + "; ".join(self.pending))
        return 0


PROBE_CALLS = ("socket(AF_INET)", "socket(AF_INET6)", "socket(AF_NETLINK,NETLINK_AUDIT)",
               "personality(READ_IMPLIES_EXEC)", "unshare(CLONE_NEWUSER)")
# The probe's calls by the socket value (argument 0, low 32 bits) they stand for.
PROBE_SOCKET_VALUES = {"socket(AF_INET)": 2, "socket(AF_INET6)": 10}


class ArgsFlow(Flow):
    """Issue 14: the workload recorded in launch mode by this tree's tracer, its profile written with
    --args curated, the whole exercise under it with the same answers (and nothing refused, by the
    kernel's audit log), then the probe in the workload's image without seccomp and under the
    profile: what the workload never did refused by the profile alone."""

    def __init__(self, args, workload):
        super().__init__(args, workload)
        self.results_dir = self.results_dir / "args"
        self.results_dir.mkdir(parents=True, exist_ok=True)
        self.dir = self.results_dir / workload.name
        shutil.rmtree(self.dir, ignore_errors=True)
        self.dir.mkdir()
        os.chmod(self.dir, 0o777)

    def untraced_args(self) -> None:
        app = self.start_app("untraced")
        self.reference, t = self.exercise(app)
        say(f"   {len(self.reference)} answers in {t:.2f}s")
        app.remove()

    def stream_values(self, out: Path, require: bool = True) -> None:
        events = stream_events(out)
        values = [e for e in events if e.get("type") == "argument"]
        say(f"   stream: {len(events)} events, {len(values)} argument values")
        hello = next((e for e in events if e.get("type") == "hello"), {})
        if hello.get("protocol", "1.0") < "1.1":
            raise Failure(f"the tracer speaks stream {hello.get('protocol')}: is --tracer-bin this tree's tracer?")
        if require and not values:
            raise Failure("the stream has no argument values (a launch records at least libc's start-up)")
        self.socket_values = getattr(self, "socket_values", set()) | {
            e.get("value") for e in values if e.get("name") == "socket" and "value2" not in e}

    def record_args(self) -> None:
        out = self.dir / "args.ndjson"
        app = self.start_app("args-launch", launch_out=out, tracer_bin=Path(self.args.tracer_bin).resolve())
        answers, t = self.exercise(app)
        self.same_answers("traced by launch mode", answers)
        self.stop_launch(app)
        app.remove()
        self.stream_values(out)
        self.args_profile = self.plugin.convert(out, self.dir / "args.json", "--args", "curated")
        rules = [r for r in self.args_profile["syscalls"] if r.get("args")]
        by_name: dict[str, int] = {}
        for r in rules:
            for n in r["names"]:
                by_name[n] = by_name.get(n, 0) + 1
        self.result["arg_rules"] = len(rules)
        self.result["arg_rules_by_name"] = by_name
        say(f"   {len(rules)} argument rules: {by_name}")
        report = self.plugin.run("convert", "--args", "curated", "-o", "report", str(out))
        whole = [ln.strip() for ln in report.splitlines() if "allowed whole" in ln]
        self.result["args_whole"] = whole
        for ln in whole:
            say(f"   {ln}")

    def record_attach_startup(self) -> None:
        """attach + start-up: the exercise recorded by an attached tracer, the start-up by a launch
        that stops once the app listens; both converted with --args curated and merged."""
        tracer_bin = Path(self.args.tracer_bin).resolve()
        self.socket_values = set()  # the families these two recordings saw, for the probe
        out = self.dir / "attach.ndjson"
        app = self.start_app("args-attach")
        tracer = AttachedTracer(self.h, app, out, tracer_bin=tracer_bin)
        tracer.wait_for("hello", 30)
        tracer.send("snapshot")
        tracer.wait_for("summary", 30)
        answers, _ = self.exercise(app)
        self.same_answers("traced by attach mode", answers)
        code = tracer.stop()
        if code != 0:
            raise Failure(f"the attached tracer exited {code}: {''.join(tracer.err)[-800:]}")
        app.remove()
        self.stream_values(out, require=False)  # attached after start-up: maybe no table syscall
        sout = self.dir / "startup.ndjson"
        app = self.start_app("args-startup", launch_out=sout, tracer_bin=tracer_bin)
        time.sleep(0.5)
        self.stop_launch(app)
        app.remove()
        self.stream_values(sout)
        self.plugin.convert(out, self.dir / "attach.json", "--args", "curated")
        self.plugin.convert(sout, self.dir / "startup.json", "--args", "curated")
        self.merged_args_profile = self.plugin.merge(self.dir / "attach.json", self.dir / "startup.json",
                                                     self.dir / "merged_args.json")
        rules = [r for r in self.merged_args_profile["syscalls"] if r.get("args")]
        self.result["arg_rules_merged"] = len(rules)
        say(f"   merged attach + start-up profile: {len(rules)} argument rules")

    def probe(self, seccomp: str) -> dict[str, str]:
        proc = self.h.run(self.w.image, [], hint="probe", check=False, seccomp=seccomp,
                          volumes=[f"{Path(self.args.args_probe).resolve()}:/ksc-probe:ro"],
                          entrypoint="/ksc-probe")
        out = {}
        for ln in proc.stdout.splitlines():
            name, _, verdict = ln.partition(" ")
            out[name] = verdict
        if proc.returncode != 0 or set(out) != set(PROBE_CALLS):
            raise Failure(f"the probe under seccomp={seccomp} exited {proc.returncode}: "
                          f"{(proc.stdout + proc.stderr)[-600:]}")
        return out

    def probe_both(self, which: str) -> None:
        profile = getattr(self, f"{which}_profile", None)
        if profile is None:
            raise Pending(f"no {which} profile")
        free = self.probe("unconfined")
        confined = self.probe(str(self.dir / f"{which}.json"))
        errno_name = {1: "EPERM"}
        default_errno = profile.get("defaultErrnoRet", 1)
        self.result[f"probe_{which}"] = {"unconfined": free, "confined": confined}
        used = {c for c, v in PROBE_SOCKET_VALUES.items() if v in getattr(self, "socket_values", set())}
        if not used:
            raise Failure(f"the workload opened neither AF_INET nor AF_INET6 sockets: {self.socket_values}")
        self.result["probe_used"] = sorted(used)
        for call in PROBE_CALLS:
            say(f"   {call}: unconfined {free[call]}, under the profile {confined[call]}"
                f"{' (the workload uses it)' if call in used else ''}")
            if free[call] != "ok":
                raise Failure(f"{call} fails without seccomp ({free[call]}): the probe cannot tell the "
                              f"profile's refusal from the kernel's")
            if call in used:
                if confined[call] != "ok":
                    raise Failure(f"{call}, which the workload uses, fails under its profile: {confined[call]}")
            elif confined[call] != f"errno {default_errno}":
                raise Failure(f"{call} under the profile: {confined[call]}, not the profile's errno "
                              f"{errno_name.get(default_errno, default_errno)}")

    def run(self) -> int:
        ph.require_podman()
        if not self.args.tracer_bin or not Path(self.args.tracer_bin).exists():
            skip("no seccomp-tracer built in this tree (--tracer-bin)")
        if not self.args.args_probe or not Path(self.args.args_probe).exists():
            skip("no argument probe built (--args-probe: a static C program)")
        if not ph.image_exists(self.w.image):
            skip(f"{self.w.image} missing (test containers_images builds it)")
        try:
            self.step("untraced", self.untraced_args)
            if not hasattr(self, "reference"):
                return self.finish()
            self.step("launch mode with this tree's tracer, --args curated", self.record_args)
            self.step("enforce the argument-level launch profile", self.enforce, "args")
            self.step("the probe, unconfined and under the launch profile", self.probe_both, "args")
            self.step("attach + start-up with this tree's tracer, --args curated, merged",
                      self.record_attach_startup)
            self.step("enforce the argument-level attach + start-up profile", self.enforce, "merged_args")
            self.step("the probe, unconfined and under the attach + start-up profile", self.probe_both,
                      "merged_args")
        finally:
            self.h.cleanup()
        return self.finish()


# --- the report table ---------------------------------------------------------------------------

def rate(r: dict, key: str) -> str:
    v, base = r.get(key), r.get("rps_untraced")
    if not isinstance(v, (int, float)):
        return "-"
    return f"{v:.0f}/s" + (f" ({base / v:.1f}x)" if key != "rps_untraced" and base else "")


def fmt_t(v) -> str:
    return f"{v:.2f}s" if isinstance(v, (int, float)) else "-"


def print_table(rows: list[dict]) -> None:
    head = ("workload", "launch", "attach", "start-up", "merged", "moby default", "argument rules", "untraced",
            "attach", "launch", "load untraced", "load attach", "load launch", "removed")
    say("\n| " + " | ".join(head) + " |")
    say("|" + "---|" * len(head))
    for r in rows:
        base = r.get("t_untraced")
        def rel(key):
            v = r.get(key)
            if not isinstance(v, (int, float)):
                return "-"
            return fmt_t(v) + (f" ({v / base:.1f}x)" if base else "")
        cells = [r["workload"], r.get("profile_launch", "-"), r.get("profile_attach", "-"),
                 r.get("profile_startup", "-"), r.get("profile_merged", "-"), r.get("moby", "-"),
                 r.get("arg_rules", "-"), fmt_t(base), rel("t_attach"), rel("t_launch"), rate(r, "rps_untraced"),
                 rate(r, "rps_attach"), rate(r, "rps_launch"), r.get("removed", "-")]
        say("| " + " | ".join(str(c) for c in cells) + " |")
    say("(syscalls allowed on x86_64 per profile; argument rules in the --args curated launch profile;\n"
        " the exercise's wall time untraced / traced; the load test's requests per second, with the\n"
        " slowdown against untraced)\n")
