#!/usr/bin/env python3
"""The container tests (CTest label `containers`): real podman + runc, real seccomp enforcement.

    container_tests.py images                 build the workload/builder images (fixture)
    container_tests.py harness                the harness itself: PID sharing, seccomp, cleanup
    container_tests.py tracer-image           build the Dockerfile; --version; a launch recording
    container_tests.py workload NAME          issue 6's flow for one workload (see workloads.py)
    container_tests.py check [NAME,...]       issue 13: check --from-start's tracer mode on each workload
    container_tests.py report                 the table of every workload's measurements

Common options: --build-dir DIR (the CMake build tree: caches and results live there),
--plugin PATH (kubectl-seccomp), --source-dir DIR. Each test exits 77 with a reason when what it
needs is missing (podman, the tracer, a verb of the plugin), never passing silently.
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import queue
import re
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import podman_harness as ph  # noqa: E402
from podman_harness import Harness, podman, skip  # noqa: E402

TRACER_IMAGE = "localhost/kubectl-seccomp/seccomp-tracer:latest"
TIMED_ROUNDS = 5  # the exercise is repeated this often where it is timed
X86_64 = "SCMP_ARCH_X86_64"
# Linux capabilities a container gets by default (podman/docker): what moby's rules are read with.
DEFAULT_CAPS = {"CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FSETID", "CAP_FOWNER", "CAP_MKNOD", "CAP_NET_RAW",
                "CAP_SETGID", "CAP_SETUID", "CAP_SETFCAP", "CAP_SETPCAP", "CAP_NET_BIND_SERVICE",
                "CAP_SYS_CHROOT", "CAP_KILL", "CAP_AUDIT_WRITE"}


class Failure(Exception):
    pass


class Pending(Exception):
    """A step that cannot run yet because another part has not landed: a skip with a reason."""


def say(msg: str) -> None:
    print(msg, flush=True)


# --- profiles ---------------------------------------------------------------------------------

def allowed(profile: dict, arch: str = X86_64) -> set[str]:
    """Syscall names a profile allows (SCMP_ACT_ALLOW) on an architecture (native by default)."""
    names: set[str] = set()
    for rule in profile.get("syscalls") or []:
        if rule.get("action") != "SCMP_ACT_ALLOW":
            continue
        inc = rule.get("includes") or {}
        exc = rule.get("excludes") or {}
        if inc.get("caps") and not set(inc["caps"]) <= DEFAULT_CAPS:
            continue
        if exc.get("caps") and set(exc["caps"]) & DEFAULT_CAPS:
            continue
        if inc.get("arches") and "amd64" not in inc["arches"]:
            continue
        if exc.get("arches") and "amd64" in exc["arches"]:
            continue
        names.update(rule.get("names") or [rule.get("name")])
    names.discard(None)
    return names


def without(profile: dict, name: str) -> dict:
    p = copy.deepcopy(profile)
    rules = []
    for rule in p.get("syscalls") or []:
        rule["names"] = [n for n in rule.get("names", []) if n != name]
        if rule["names"]:
            rules.append(rule)
    p["syscalls"] = rules
    return p


def audit_variant(profile: dict) -> dict:
    """The same profile, but what it would refuse is allowed and logged by the kernel."""
    p = copy.deepcopy(profile)
    p["defaultAction"] = "SCMP_ACT_LOG"
    p.pop("defaultErrnoRet", None)
    return p


def write_json(path: Path, data) -> Path:
    path.write_text(json.dumps(data, indent=2) + "\n")
    return path


def syscall_names_by_nr() -> dict[int, str]:
    """x86_64 numbers to names from the project's own table (for the kernel's audit lines)."""
    csv = Path(__file__).resolve().parents[2] / "src" / "proto" / "syscalls.csv"
    table: dict[int, str] = {}
    try:
        header = None
        for line in csv.read_text().splitlines():
            if not line or line.startswith("#"):
                continue
            cols = line.split(",")
            if header is None:
                header = cols
                continue
            nr = cols[header.index("x86_64")]
            if nr.isdigit():
                table[int(nr)] = cols[0]
    except (OSError, ValueError):
        pass
    return table


# --- the kernel's seccomp audit log (SCMP_ACT_LOG) --------------------------------------------

class AuditLog:
    """New `audit: type=1326` lines (seccomp SCMP_ACT_LOG) in the kernel log since mark()."""

    def __init__(self) -> None:
        self.seen: set[str] = set()
        self.usable = self._read() is not None

    @staticmethod
    def _read() -> list[str] | None:
        try:
            proc = subprocess.run(["dmesg"], text=True, capture_output=True, timeout=30)
        except (OSError, subprocess.TimeoutExpired):
            return None
        if proc.returncode != 0:
            return None
        return [ln for ln in proc.stdout.splitlines() if "type=1326" in ln]

    def mark(self) -> None:
        self.seen = set(self._read() or [])

    def new(self) -> list[str]:
        return [ln for ln in (self._read() or []) if ln not in self.seen]


# --- the plugin -------------------------------------------------------------------------------

class Plugin:
    def __init__(self, path: str | None):
        self.path = path
        self.verbs: set[str] = set()
        if path and os.access(path, os.X_OK):
            out = subprocess.run([path, "--help"], text=True, capture_output=True).stdout
            self.verbs = set(re.findall(r"^  (\w+) ", out, re.M))

    def need(self, verb: str) -> None:
        if not self.path or not os.access(self.path, os.X_OK):
            raise Pending(f"kubectl-seccomp is not built ({self.path})")
        if verb not in self.verbs:
            raise Pending(f"kubectl-seccomp has no '{verb}' verb yet (engineer 'profiles' lands it)")

    def run(self, *args: str) -> str:
        proc = subprocess.run([self.path, *args], text=True, capture_output=True, timeout=120)
        if proc.returncode != 0:
            raise Failure(f"kubectl-seccomp {' '.join(args)} exited with {proc.returncode}: "
                          f"{proc.stderr.strip()[-1500:]}")
        if proc.stderr.strip():
            say(f"    (kubectl-seccomp {args[0]}: {proc.stderr.strip()[-600:]})")
        return proc.stdout

    def convert(self, stream: Path, out: Path, *extra: str) -> dict:
        self.need("convert")
        self.run("convert", str(stream), "--output-file", str(out), *extra)
        return json.loads(out.read_text())

    def merge(self, a: Path, b: Path, out: Path) -> dict:
        self.need("merge")
        self.run("merge", str(a), str(b), "--output-file", str(out))
        return json.loads(out.read_text())


# --- the tracer in a container ----------------------------------------------------------------

def require_tracer_image() -> None:
    if not ph.image_exists(TRACER_IMAGE):
        skip(f"the tracer image {TRACER_IMAGE} was not built (see test containers_tracer_image)")


def stream_events(path: Path) -> list[dict]:
    events = []
    for line in path.read_text(errors="replace").splitlines():
        line = line.strip()
        if line.startswith("{"):
            try:
                events.append(json.loads(line))
            except json.JSONDecodeError:
                pass
    return events


def stream_syscalls(events: list[dict]) -> set[str]:
    return {e.get("name") or f"#{e.get('nr')}" for e in events if e.get("type") == "syscall"}


def process_states(root: int) -> str:
    """pid, state (t: stopped by the tracer), TracerPid, wchan and name of `root` and its
    descendants, read from the host's /proc."""
    children: dict[int, list[int]] = {}
    info: dict[int, str] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            fields = dict(line.split(":\t", 1) for line in Path(f"/proc/{entry}/status").read_text().splitlines()
                          if ":\t" in line)
            wchan = Path(f"/proc/{entry}/wchan").read_text()
        except OSError:
            continue
        pid = int(entry)
        children.setdefault(int(fields.get("PPid", "0")), []).append(pid)
        info[pid] = (f"{pid} ppid={fields.get('PPid', '?').strip()} {fields.get('State', '?').strip()} "
                     f"tracer={fields.get('TracerPid', '?').strip()} wchan={wchan or '-'} {fields.get('Name', '').strip()}")
    lines, todo = [], [root] if root else []
    while todo:
        pid = todo.pop()
        if pid in info:
            lines.append("    " + info[pid])
        todo.extend(children.get(pid, []))
    return "\n".join(lines) or "    (none found)"


class AttachedTracer:
    """seccomp-tracer in its own container sharing the app's PID namespace, with SYS_PTRACE only:
    what the kubelet makes of kubectl-seccomp's ephemeral container."""

    def __init__(self, h: Harness, app: ph.Container, out: Path, tracer_bin: Path | None = None):
        self.out = out
        self.lines: "queue.Queue[str | None]" = queue.Queue()
        self.all: list[str] = []
        image, opts = TRACER_IMAGE, {}
        if tracer_bin is not None:
            # This tree's static tracer in the app's own image, not the shared tracer image.
            image = app.image
            opts = {"volumes": [f"{tracer_bin}:/ksc-local/seccomp-tracer:ro"],
                    "entrypoint": "/ksc-local/seccomp-tracer"}
        self.container, self.proc = h.popen(
            image, ["--all", "--summary-file", "/dev/null"], hint="tracer", pid_of=app,
            drop_all_caps=True, caps=["SYS_PTRACE"], stderr=subprocess.PIPE, **opts)
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()
        self.err: list[str] = []
        threading.Thread(target=lambda: self.err.extend(self.proc.stderr), daemon=True).start()
        # As the plugin does: a ping every few seconds keeps the tracer from its idle timeout.
        self.stopping = threading.Event()
        threading.Thread(target=self._ping, daemon=True).start()

    def _ping(self) -> None:
        while not self.stopping.wait(5):
            try:
                self.send("ping")
            except Failure:
                return

    def _read(self) -> None:
        for line in self.proc.stdout:
            self.all.append(line)
            self.lines.put(line)
        self.lines.put(None)

    def send(self, cmd: str) -> None:
        try:
            self.proc.stdin.write(cmd + "\n")
            self.proc.stdin.flush()
        except (BrokenPipeError, OSError) as e:
            raise Failure(f"the tracer's stdin is closed ({e}); stderr: {''.join(self.err)[-800:]}")

    def wait_for(self, type_: str, timeout: float) -> dict:
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise Failure(f"no '{type_}' from the attached tracer within {timeout}s; "
                              f"stderr: {''.join(self.err)[-800:]}")
            try:
                line = self.lines.get(timeout=left)
            except queue.Empty:
                continue
            if line is None:
                raise Failure(f"the attached tracer ended before a '{type_}' "
                              f"(exit {self.proc.wait()}); stderr: {''.join(self.err)[-800:]}")
            try:
                ev = json.loads(line)
            except json.JSONDecodeError:
                continue
            if ev.get("type") in ("error",):
                say(f"    tracer error: {ev.get('message')}")
            if ev.get("type") == type_:
                return ev

    def stop(self, timeout: float = 30) -> int:
        self.stopping.set()
        self.send("stop")
        try:
            code = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            raise Failure(f"the attached tracer did not exit within {timeout}s of 'stop'")
        self.reader.join(timeout=10)
        self.out.write_text("".join(self.all))
        return code


# --- tests ------------------------------------------------------------------------------------

def test_images(args) -> int:
    ph.require_podman()
    # A new run's measurements start here: the report must not show an older run's rows.
    for old in (Path(args.build_dir) / "containers-results").glob("*.json"):
        old.unlink()
    t0 = time.monotonic()
    env = ph.build_images(Path(args.build_dir) / "containers-cache")
    for k, v in env.items():
        say(f"{k}={v}")
    say(f"images ready in {time.monotonic() - t0:.1f}s")
    return 0


def test_harness(args) -> int:
    """The harness does what the other tests rely on."""
    ph.require_podman()
    if not ph.image_exists(ph.BUSYBOX_IMAGE):
        skip(f"{ph.BUSYBOX_IMAGE} missing (test containers_images builds it)")
    bb = ph.BUSYBOX_IMAGE
    with Harness() as h:
        # A detached app, a second container in its PID namespace sees it as PID 1.
        app = h.run(bb, ["sleep", "300"], hint="app", detach=True)
        h.wait_running(app)
        seen = h.run(bb, ["cat", "/proc/1/cmdline"], pid_of=app, drop_all_caps=True,
                     caps=["SYS_PTRACE"]).stdout
        if seen.replace("\0", " ").strip() != "sleep 300":
            raise Failure(f"--pid container: did not share the PID namespace: /proc/1/cmdline={seen!r}")
        caps = h.run(bb, ["grep", "CapEff", "/proc/self/status"], drop_all_caps=True,
                     caps=["SYS_PTRACE"]).stdout.split()[-1]
        if int(caps, 16) != 1 << 19:  # CAP_SYS_PTRACE alone
            raise Failure(f"--cap-drop ALL --cap-add SYS_PTRACE gave CapEff {caps}")
        # A seccomp profile is enforced: mkdir refused with EPERM, the rest allowed. (Not a call
        # runc itself makes after installing the filter, as getppid is: runc would fail instead.)
        d = h.tempdir("prof")
        prof = write_json(d / "p.json", {"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [
            {"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1}]})
        out = h.run(bb, ["sh", "-c", "grep Seccomp: /proc/self/status; mkdir /tmp/x 2>&1; echo rc=$?"],
                    seccomp=prof).stdout
        if "Seccomp:\t2" not in out:
            raise Failure(f"--security-opt seccomp= did not install a filter: {out!r}")
        if "Operation not permitted" not in out or "rc=1" not in out:
            raise Failure(f"mkdir was not refused with EPERM under the profile: {out!r}")
        ok = h.run(bb, ["sh", "-c", "mkdir /tmp/x && echo made"]).stdout
        if ok != "made\n":
            raise Failure(f"mkdir failed without the profile: {ok!r}")
        # Removing an app also removes what joined its PID namespace (podman refuses otherwise).
        app2 = h.run(bb, ["sleep", "300"], hint="app2", detach=True)
        joined = h.run(bb, ["sleep", "300"], hint="joined", detach=True, pid_of=app2)
        if not app2.remove_checked():
            raise Failure(f"could not remove {app2.name} with {joined.name} in its PID namespace")
        names = list(h._names) + [app2.name, joined.name]
    left = podman("ps", "-a", "--format", "{{.Names}}").stdout.split()
    if set(names) & set(left):
        raise Failure(f"the harness left containers behind: {set(names) & set(left)}")
    say("harness: PID sharing, capabilities, seccomp enforcement and cleanup work")
    return 0


def test_tracer_image(args) -> int:
    """Builds the Dockerfile offline, checks the image, records a static program in it."""
    ph.require_podman()
    if not args.have_tracer:
        skip("no seccomp-tracer target in this tree yet (engineer 'tracer' lands it)")
    src = Path(args.source_dir)
    t0 = time.monotonic()
    proc = subprocess.run([str(src / "tracer-image" / "build-image")], text=True, capture_output=True,
                          timeout=1500)
    if proc.returncode != 0:
        raise Failure(f"tracer-image/build-image failed ({proc.returncode}):\n{proc.stderr[-4000:]}")
    image = proc.stdout.strip().splitlines()[-1]
    say(f"built {image} in {time.monotonic() - t0:.1f}s")
    sizes = re.findall(r"seccomp-tracer: (\d+) bytes stripped", proc.stderr)
    if sizes:
        say(f"seccomp-tracer stripped: {int(sizes[-1])} bytes")

    # The image: only the tracer (and its licence), the labels, the entrypoint.
    info = json.loads(podman("image", "inspect", image).stdout)[0]
    labels = info.get("Labels") or info.get("Config", {}).get("Labels") or {}
    version = re.search(r"project\(kubectl-seccomp VERSION ([0-9.]+)",
                        (src / "CMakeLists.txt").read_text()).group(1)
    want = {"org.opencontainers.image.version": version}
    for key in ("org.opencontainers.image.source", "org.opencontainers.image.description"):
        if not labels.get(key):
            raise Failure(f"label {key} missing: {labels}")
    for k, v in want.items():
        if labels.get(k) != v:
            raise Failure(f"label {k} is {labels.get(k)!r}, want {v!r} (project VERSION)")
    dockerfile_default = re.search(r"^ARG VERSION=(\S+)", (src / "Dockerfile").read_text(), re.M)
    if not dockerfile_default or dockerfile_default.group(1) != version:
        raise Failure(f"the Dockerfile's default VERSION differs from CMakeLists.txt's {version}")
    ep = info.get("Config", {}).get("Entrypoint")
    if ep != ["/seccomp-tracer"]:
        raise Failure(f"entrypoint is {ep}, want ['/seccomp-tracer']")
    size = int(info.get("Size", 0))
    say(f"image size {size} bytes (the Dockerfile refuses a tracer over 1.5 MiB)")
    if size > 1.6 * 1024 * 1024:
        raise Failure(f"the image is {size} bytes: more than the tracer and its licence")

    with Harness() as h:
        out = h.run(image, ["--version"], check=False)
        say(f"--version: {out.stdout.strip()} (exit {out.returncode})")
        if out.returncode != 0 or not out.stdout.strip():
            raise Failure(f"--version failed: {out.stdout}{out.stderr}")

        # Launch mode inside the image, on a static program brought in by a bind mount.
        busybox = "/bin/busybox"
        d = h.tempdir("launch")
        rec = h.run(image, ["--output", "/out/s.ndjson", "--summary-file", "/out/summary", "--",
                            "/busybox", "sh", "-c", "echo hello from busybox; ls / >/dev/null; exit 3"],
                    volumes=[f"{busybox}:/busybox:ro", f"{d}:/out"], check=False)
        if rec.returncode != 3 or rec.stdout != "hello from busybox\n":
            raise Failure(f"the traced program's output or status changed: exit {rec.returncode}, "
                          f"stdout {rec.stdout!r}, stderr {rec.stderr[-1000:]!r}")
        events = stream_events(d / "s.ndjson")
        types = {e.get("type") for e in events}
        names = stream_syscalls(events)
        for want_name in ("execve", "write", "exit_group"):
            if want_name not in names:
                raise Failure(f"launch recording misses {want_name}: {sorted(names)}")
        if "hello" not in types:
            raise Failure(f"no hello in the stream: {types}")
        say(f"launch recording of static busybox: {len(names)} syscalls, events {sorted(types)}")
        summary = (d / "summary").read_text() if (d / "summary").exists() else ""
        if summary and not summary.startswith("ksc1 "):
            raise Failure(f"summary file is not the compact form: {summary[:200]!r}")
    return 0


# --- the workload flow (issue 6) ---------------------------------------------------------------

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


def workloads_module():
    import workloads
    return workloads


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


def test_workload(args) -> int:
    import workloads
    w = workloads.ALL.get(args.name)
    if w is None:
        say(f"unknown workload {args.name}; known: {', '.join(workloads.ALL)}")
        return 2
    return Flow(args, w).run()


def test_args(args) -> int:
    import workloads
    w = workloads.ALL.get(args.name)
    if w is None:
        say(f"unknown workload {args.name}; known: {', '.join(workloads.ALL)}")
        return 2
    return ArgsFlow(args, w).run()


def test_check(args) -> int:
    """Issue 13 item 7: every workload (or those named, comma-separated) under CheckFlow."""
    import workloads
    names = args.name.split(",") if args.name else list(workloads.ALL)
    unknown = [n for n in names if n not in workloads.ALL]
    if unknown:
        say(f"unknown workload {unknown}; known: {', '.join(workloads.ALL)}")
        return 2
    t0 = time.monotonic()
    codes = {}
    for n in names:
        try:
            codes[n] = CheckFlow(args, workloads.ALL[n]).run()
        except SystemExit as e:  # skip() of one workload (podman or its image missing)
            if e.code != 77:
                raise
            codes[n] = 77
    say(f"check: {codes} in {time.monotonic() - t0:.0f}s")
    if any(c not in (0, 77) for c in codes.values()):
        return 1
    if all(c == 77 for c in codes.values()):
        skip("every workload was skipped")
    return 0


def test_report(args) -> int:
    d = Path(args.build_dir) / "containers-results"
    rows = [json.loads(p.read_text()) for p in sorted(d.glob("*.json"))] if d.is_dir() else []
    for row in rows:  # the argument-rules column: from the args tests, when they ran
        a = d / "args" / f"{row['workload']}.json"
        if a.exists():
            row["arg_rules"] = json.loads(a.read_text()).get("arg_rules", "-")
    if not rows:
        skip("no workload results (the workload tests were skipped or not run)")
    print_table(rows)
    md = Path(args.build_dir) / "containers-report.md"
    lines = []
    for r in rows:
        if r.get("attach_only"):
            lines.append(f"- {r['workload']}: only the attach recording contributed "
                         f"{' '.join(r['attach_only'])}")
        if r.get("attach_alone"):
            lines.append(f"- {r['workload']}: under the attach profile alone the app {r['attach_alone']}")
        for f in r.get("failures", []):
            lines.append(f"- {r['workload']}: FAILED {f}")
        for p in r.get("pending", []):
            lines.append(f"- {r['workload']}: pending {p}")
    say("\n".join(lines))
    md.write_text("\n".join(lines) + "\n")
    return 0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("test", choices=["images", "harness", "tracer-image", "workload", "args", "check", "report"])
    ap.add_argument("name", nargs="?")
    ap.add_argument("--build-dir", default="build")
    ap.add_argument("--source-dir", default=str(Path(__file__).resolve().parents[2]))
    ap.add_argument("--plugin")
    ap.add_argument("--moby", default=str(Path(__file__).resolve().parents[3] / "shared" / "profiles" /
                                          "moby" / "default.json"))
    ap.add_argument("--have-tracer", type=int, default=1)
    ap.add_argument("--tracer-bin", help="this tree's static seccomp-tracer (the args tests)")
    ap.add_argument("--args-probe", help="the static argument probe (tests/containers/args_probe.c)")
    ap.add_argument("--verdicts-tool", help="ksc_verdicts: compiles a profile as check does (the check test)")
    args = ap.parse_args()
    try:
        return {"images": test_images, "harness": test_harness, "tracer-image": test_tracer_image,
                "workload": test_workload, "args": test_args, "check": test_check,
                "report": test_report}[args.test](args)
    except Failure as e:
        say(f"FAILED: {e}")
        return 1


if __name__ == "__main__":
    sys.exit(main())
