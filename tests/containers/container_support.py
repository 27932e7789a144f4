"""What the container tests share: profiles read and edited, the kernel's audit log, the plugin's
verbs, the tracer's event stream, and a tracer attached in a second container.

The flows (recording_flows.py, check_flow.py) and the entry point (container_tests.py) import it.
"""

from __future__ import annotations

import copy
import json
import os
import queue
import re
import subprocess
import threading
import time
from pathlib import Path

import podman_harness as ph
from podman_harness import Harness, skip

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


def workloads_module():
    import workloads
    return workloads
