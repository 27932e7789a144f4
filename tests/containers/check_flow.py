"""The check flow of the container tests (issue 13 item 7): `check --from-start`'s tracer mode on
each workload (CheckFlow). container_tests.py runs it (`check [NAME,...]`).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from pathlib import Path

import podman_harness as ph
from container_support import (AttachedTracer, Failure, Pending, allowed, say, stream_events, without,
                               workloads_module, write_json)
from podman_harness import podman, skip
from recording_flows import Flow


# Error texts an app may log for a refused call (strerror of the errnos seccomp profiles give).
ERRNO_TEXTS = ("Operation not permitted", "Function not implemented", "Permission denied", "Bad system call")


class CheckFlow(Flow):
    """Issue 13 item 7: `check --from-start`'s tracer mode (launch, --check-program ... --check-only)
    on the workload's own profile, recorded here by this tree's tracer: nothing refused and the same
    answers; then the profile without one syscall the exercise needs: complain names exactly that
    syscall with the same answers, and enforce makes the app fail as runc enforcing that profile
    does (same failing request, same errno, same end of the container)."""

    def __init__(self, args, workload):
        super().__init__(args, workload)
        self.results_dir = self.results_dir / "check"
        self.results_dir.mkdir(parents=True, exist_ok=True)
        self.dir = self.results_dir / workload.name
        shutil.rmtree(self.dir, ignore_errors=True)
        self.dir.mkdir()
        os.chmod(self.dir, 0o777)
        self.tracer_bin = Path(args.tracer_bin).resolve()

    def check_args(self, profile: Path, mode: str) -> tuple[str, ...]:
        """What `check --from-start` gives the tracer: the profile compiled as the plugin compiles it."""
        proc = subprocess.run([self.args.verdicts_tool, "--program", str(profile)], text=True,
                              capture_output=True, timeout=60)
        if proc.returncode != 0:
            raise Failure(f"{profile.name} does not compile: {proc.stderr.strip()}")
        return ("--check-program", proc.stdout.strip(), "--check-mode", mode, "--check-only")

    def start_checked(self, hint: str, profile: Path, mode: str, out: Path):
        # seccomp=unconfined: the profile under test is the only filter, as in the copy
        # `check --from-start` makes where Pod Security admits it.
        return self.start_app(hint, launch_out=out, tracer_bin=self.tracer_bin, seccomp="unconfined",
                              tracer_args=self.check_args(profile, mode))

    def denials(self, out: Path, mode: str) -> list[dict]:
        """The stream's denial lines, once it is checked that the tracer did check in `mode`."""
        events = stream_events(out)
        hello = next((e for e in events if e.get("type") == "hello"), {})
        if (hello.get("check") or {}).get("mode") != mode:
            raise Failure(f"the tracer's hello has no check in {mode} mode: {hello}")
        final = [e for e in events if e.get("type") == "summary" and e.get("final")]
        if not final:
            raise Failure(f"the checked stream has no final summary ({len(events)} events)")
        lines = [e for e in events if e.get("type") == "denial"]
        counted = {d.get("name") for d in final[-1].get("denials") or []}
        if counted != {d.get("name") for d in lines}:
            raise Failure(f"denial lines {sorted(d.get('name') for d in lines)} and the summary's "
                          f"{sorted(counted)} differ")
        return lines

    @staticmethod
    def refused_by_rule(profile: dict) -> set[str]:
        """Syscalls the profile refuses by a rule of its own, not by its default action: what
        `convert` writes on purpose (clone3 and newer calls with ENOSYS, so that glibc falls back
        to clone); the app copes with those refusals under runc. The tracer's stream reports them
        too; `kubectl seccomp check` now tells them apart the same way (classify_denials: its
        "refused as the profile's own rules say" section, not counted for the exit code)."""
        return {n for r in profile.get("syscalls") or [] if r.get("action") not in ("SCMP_ACT_ALLOW", "SCMP_ACT_LOG")
                for n in r.get("names") or []}

    def split(self, denied: list[dict], profile: dict) -> tuple[list[str], list[str]]:
        """(refused by the default action, refused by the profile's own rules) by name."""
        ruled = self.refused_by_rule(profile)
        names = sorted({d.get("name") for d in denied})
        return [n for n in names if n not in ruled], [n for n in names if n in ruled]

    def untraced_check(self) -> None:
        app = self.start_app("untraced")
        self.reference, _ = self.exercise(app)
        app.remove()

    def record(self) -> None:
        out = self.dir / "launch.ndjson"
        app = self.start_app("record", launch_out=out, tracer_bin=self.tracer_bin)
        answers, _ = self.exercise(app)
        self.same_answers("traced by launch mode", answers)
        self.stop_launch(app)
        app.remove()
        self.own_profile = self.plugin.convert(out, self.dir / "own.json")
        self.result["profile"] = len(allowed(self.own_profile))
        say(f"   own profile: {self.result['profile']} syscalls")

    def check_own(self) -> None:
        if getattr(self, "own_profile", None) is None:
            raise Pending("no recorded profile")
        out = self.dir / "check-own.ndjson"
        app = self.start_checked("check-own", self.dir / "own.json", "complain", out)
        answers, t = self.exercise(app)
        self.same_answers("checked (complain) with its own profile", answers)
        self.stop_launch(app)
        app.remove()
        default, ruled = self.split(self.denials(out, "complain"), self.own_profile)
        self.result["own_ruled"] = ruled
        if default:
            raise Failure(f"its own profile would refuse: {default}")
        say(f"   same {len(answers)} answers, nothing refused by the default action ({t:.2f}s)"
            + (f"; by the profile's own rules: {' '.join(ruled)}" if ruled else ""))

    def attach_check(self) -> None:
        """A profile recorded by attaching (the start-up missing), checked from the start: complain
        names start-up syscalls it lacks (that the launch recording has), with the same answers."""
        if getattr(self, "own_profile", None) is None:
            raise Pending("no recorded profile")
        out = self.dir / "attach.ndjson"
        app = self.start_app("attach")
        tracer = AttachedTracer(self.h, app, out, tracer_bin=self.tracer_bin)
        tracer.wait_for("hello", 30)
        tracer.send("snapshot")
        tracer.wait_for("summary", 30)
        answers, _ = self.exercise(app)
        self.same_answers("traced by attach mode", answers)
        code = tracer.stop()
        if code != 0:
            raise Failure(f"the attached tracer exited {code}: {''.join(tracer.err)[-800:]}")
        app.remove()
        attach = self.plugin.convert(out, self.dir / "attach.json")
        lacks = allowed(self.own_profile) - allowed(attach)
        cout = self.dir / "check-attach.ndjson"
        app = self.start_checked("check-attach", self.dir / "attach.json", "complain", cout)
        answers, _ = self.exercise(app)
        self.same_answers("checked (complain) with the attach profile", answers)
        self.stop_launch(app)
        app.remove()
        # Its own rules name too what the attach recording never saw of the newer calls (rseq,
        # getrandom: ENOSYS, as runc gives it); and calls in both profiles whose start-up argument
        # values the attach profile lacks (fcntl, ioctl, prctl).
        named, ruled = self.split(self.denials(cout, "complain"), attach)
        self.result["attach_named"] = named + ruled
        say(f"   the attach profile lacks {len(lacks)} of the launch profile's syscalls: {' '.join(sorted(lacks))}\n"
            f"   check --from-start named: {' '.join(named)}; by the profile's own rules (ENOSYS): {' '.join(ruled)}")
        named = named + ruled
        if not set(named) & lacks:
            raise Failure(f"checked from the start, the attach profile named {named}: none of the start-up "
                          f"syscalls it lacks ({sorted(lacks)})")

    def outcome(self, app_or_error) -> dict:
        """How the app fared: the first request that failed, the errno texts in its log, whether
        it still runs, else its exit code."""
        if isinstance(app_or_error, Exception):
            return {"started": False}
        app = app_or_error
        failed = None
        try:
            answers, _ = self.exercise(app, timeout=5)
            if answers != self.reference:
                failed = "answers differ"
        except workloads_module().ExerciseError as e:
            failed = str(e).split(":")[0]  # the request ("GET /x", "redis recv"), not the wording
        time.sleep(0.5)
        running = app.running()
        # The tail only: redis refused accept4 logs the error in a busy loop, megabytes a second
        # (once in a while such a tail came back without it: a second look, longer).
        logs = ""
        for tail in ("200", "5000"):
            proc = podman("logs", "--tail", tail, app.name, check=False, timeout=60)
            logs = proc.stdout + proc.stderr
            if any(t in logs for t in ERRNO_TEXTS):
                break
        if running and self.w.log_files:
            logs += app.exec("tail", "-n", "200", *self.w.log_files, check=False).stdout
        logs = "\n".join(ln for ln in logs.splitlines() if "seccomp-tracer" not in ln)
        self.log_tail = logs[-600:]
        return {"started": True, "failed_request": failed, "running": running,
                "exit": None if running else app.exit_code(),
                "errno_texts": sorted({t for t in ERRNO_TEXTS if t in logs})}

    def minus_one_check(self) -> None:
        if getattr(self, "own_profile", None) is None:
            raise Pending("no recorded profile")
        have = allowed(self.own_profile)
        name = next((n for n in self.w.needed if n in have), None)
        if name is None:
            raise Failure(f"none of {self.w.needed} is in the profile: cannot pick one to remove")
        reduced = without(self.own_profile, name)
        path = write_json(self.dir / f"minus-{name}.json", reduced)
        errno = reduced.get("defaultErrnoRet", 1)
        self.result["removed"] = name

        out = self.dir / "complain.ndjson"
        app = self.start_checked("complain", path, "complain", out)
        answers, _ = self.exercise(app)
        self.same_answers(f"checked (complain) without {name}", answers)
        self.stop_launch(app)
        app.remove()
        denied = self.denials(out, "complain")
        names, ruled = self.split(denied, reduced)
        if names != [name] or any(d.get("enforced") for d in denied):
            raise Failure(f"complain without {name} reported {names} "
                          f"(enforced: {[d.get('enforced') for d in denied]}), want exactly [{name}], not enforced")
        say(f"   complain: exactly {name} reported, same {len(answers)} answers"
            + (f" (and the profile's own rules: {' '.join(ruled)})" if ruled else ""))

        out = self.dir / "enforce.ndjson"
        try:
            app = self.start_checked("enforce", path, "enforce", out)
        except Failure as e:
            app = e
        checked = self.outcome(app)
        if not isinstance(app, Exception):
            self.stop_launch(app)
            app.remove()
        denied = self.denials(out, "enforce")
        names = sorted({d.get("name") for d in denied})
        # Besides the profile's own rules (clone3's ENOSYS, as runc gives it), the app's error path may make calls its recording never saw (nginx's error log reads
        # gettid): refused too, as runc refuses them.
        ruled = self.refused_by_rule(reduced)
        if name not in names or any(not d.get("enforced") or (d.get("name") not in ruled and d.get("errno") != errno)
                                    for d in denied):
            raise Failure(f"enforce without {name}: denials {denied}, want {name} enforced with errno {errno}")
        self.result["enforce_denials"] = names
        say(f"   enforce: refused with errno {errno}: {' '.join(names)}")
        try:
            app = self.start_app("runc", seccomp=path)
        except Failure as e:
            app = e
        runc = self.outcome(app)
        if not isinstance(app, Exception):
            app.remove()
        self.result["enforce"] = {"check": checked, "runc": runc}
        say(f"   enforce (tracer): {checked}\n   runc:             {runc}")
        if checked != runc:
            say(f"   the log's tail under runc: {self.log_tail!r}")
            raise Failure(f"without {name} the app fares differently under the tracer's enforce mode "
                          f"({checked}) and under runc ({runc})")
        if runc.get("started") and not runc.get("failed_request"):
            raise Failure(f"without {name} the app still answers right under runc: the test cannot fail")

    def run(self) -> int:
        ph.require_podman()
        if not self.args.tracer_bin or not self.tracer_bin.exists():
            skip("no seccomp-tracer built in this tree (--tracer-bin)")
        if not self.args.verdicts_tool or not Path(self.args.verdicts_tool).exists():
            skip("no ksc_verdicts built (--verdicts-tool: compiles a profile as check does)")
        if not ph.image_exists(self.w.image):
            skip(f"{self.w.image} missing (test containers_images builds it)")
        try:
            self.step("untraced", self.untraced_check)
            if not hasattr(self, "reference"):
                return self.finish()
            self.step("record its own profile (launch mode, this tree's tracer)", self.record)
            self.step("check its own profile from the start (complain, --check-only)", self.check_own)
            self.step("one needed syscall removed: complain, enforce, runc", self.minus_one_check)
            self.step("a profile recorded by attaching, checked from the start", self.attach_check)
        finally:
            self.h.cleanup()
        return self.finish()

    def finish(self) -> int:
        self.result["failures"] = self.failures
        self.result["pending"] = self.pending
        write_json(self.results_dir / f"{self.w.name}.json", self.result)
        if self.failures:
            say(f"{self.w.name} FAILED ({len(self.failures)}):\n  " + "\n  ".join(self.failures))
            return 1
        if self.pending:
            skip("steps pending: " + "; ".join(self.pending))
        return 0
