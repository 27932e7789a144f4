"""The one podman harness of the container and e2e tests (Python 3 standard library only).

It knows how podman runs on these machines (runc, cgroupfs, ulimits that runc accepts), names every
container it makes uniquely, and removes them all when the test ends, however it ends. Usable as a
module (``from podman_harness import Harness``) or from the shell::

    python3 tests/containers/podman_harness.py check    # exit 77 and a reason when podman is unusable
    python3 tests/containers/podman_harness.py images   # KSC_BOOKWORM_IMAGE=... KSC_BUSYBOX_IMAGE=...

Typical use::

    with Harness() as h:
        app = h.run(image, ["nginx", "-g", "daemon off;"], detach=True)
        tracer = h.popen(tracer_image, ["--all"], pid_of=app, caps=["SYS_PTRACE"])
        ...
"""

from __future__ import annotations

import atexit
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Sequence

SKIP = 77  # CTest's SKIP_RETURN_CODE for every container test

HERE = Path(__file__).resolve().parent

# `podman` alone fails on these machines (crun, systemd cgroups): always these global flags.
PODMAN = ["podman", "--runtime", "runc", "--cgroup-manager=cgroupfs"]
# runc refuses podman's default rlimits here; every `run`/`create` carries these.
RUN_LIMITS = ["--ulimit", "nofile=1024:1024", "--ulimit", "nproc=1000:1000"]

BOOKWORM_IMAGE = "localhost/kubectl-seccomp/bookworm:latest"
BUSYBOX_IMAGE = "localhost/kubectl-seccomp/busybox:latest"


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def skip(reason: str) -> "NoReturn":  # type: ignore[name-defined]
    """Ends the test as skipped (CTest SKIP_RETURN_CODE 77), saying why."""
    print(f"SKIP: {reason}", flush=True)
    sys.exit(SKIP)


def podman(*args: str, check: bool = True, capture: bool = True, timeout: float | None = 120,
           input: str | None = None) -> subprocess.CompletedProcess:
    """Runs one podman command with this machine's global flags."""
    cmd = PODMAN + list(args)
    proc = subprocess.run(cmd, input=input, text=True, timeout=timeout,
                          stdout=subprocess.PIPE if capture else None,
                          stderr=subprocess.PIPE if capture else None)
    if check and proc.returncode != 0:
        raise PodmanError(cmd, proc.returncode, proc.stderr or "")
    return proc


class PodmanError(RuntimeError):
    def __init__(self, cmd: Sequence[str], code: int, stderr: str):
        super().__init__(f"{' '.join(cmd)} exited with {code}: {stderr.strip()[-2000:]}")
        self.code = code
        self.stderr = stderr


def usable() -> tuple[bool, str]:
    """Whether podman can run a container here; if not, the reason (for a skip message)."""
    if os.environ.get("KSC_NO_CONTAINERS"):
        return False, "KSC_NO_CONTAINERS is set"
    if not shutil.which("podman"):
        return False, "podman is not installed (apt-get install podman runc)"
    if not shutil.which("runc") and not Path("/usr/sbin/runc").exists():
        return False, "runc is not installed (apt-get install runc)"
    if os.geteuid() != 0:
        return False, "the container tests run podman as root (rootful networking and ptrace)"
    try:
        proc = podman("info", "--format", "{{.Host.OCIRuntime.Name}}", check=False, timeout=60)
    except (OSError, subprocess.TimeoutExpired) as e:
        return False, f"podman info failed: {e}"
    if proc.returncode != 0:
        return False, f"podman info failed: {proc.stderr.strip()[-300:]}"
    return True, ""


def require_podman() -> None:
    ok, reason = usable()
    if not ok:
        skip(reason)


def build_images(cache_dir: str | os.PathLike | None = None) -> dict[str, str]:
    """Runs build-images (idempotent, cheap once done) and returns its KSC_*_IMAGE names."""
    cmd = [str(HERE / "build-images"), "--print-env"]
    if cache_dir:
        cmd += ["--cache-dir", str(cache_dir)]
    proc = subprocess.run(cmd, text=True, stdout=subprocess.PIPE, timeout=1200)
    if proc.returncode != 0:
        raise RuntimeError(f"build-images failed with {proc.returncode} (its messages are above)")
    env = dict(line.split("=", 1) for line in proc.stdout.split() if "=" in line)
    os.environ.update(env)
    return env


def image_exists(name: str) -> bool:
    return podman("image", "exists", name, check=False).returncode == 0


@dataclass
class Container:
    """A container made by a Harness; `name` is unique to the test run."""

    harness: "Harness"
    name: str
    image: str

    def inspect(self, fmt: str) -> str:
        return podman("inspect", "--format", fmt, self.name).stdout.strip()

    @property
    def ip(self) -> str:
        return self.inspect("{{.NetworkSettings.IPAddress}}")

    @property
    def pid(self) -> int:
        """The host PID of the container's PID 1 (0 when it is not running)."""
        return int(self.inspect("{{.State.Pid}}") or 0)

    def running(self) -> bool:
        proc = podman("inspect", "--format", "{{.State.Running}}", self.name, check=False)
        return proc.returncode == 0 and proc.stdout.strip() == "true"

    def exit_code(self) -> int:
        return int(self.inspect("{{.State.ExitCode}}"))

    def logs(self) -> str:
        proc = podman("logs", self.name, check=False)
        return proc.stdout + proc.stderr

    def exec(self, *cmd: str, check: bool = True, timeout: float = 60) -> subprocess.CompletedProcess:
        return podman("exec", self.name, *cmd, check=check, timeout=timeout)

    def stop(self, timeout: int = 10) -> None:
        podman("stop", "--time", str(timeout), self.name, check=False, timeout=timeout + 60)

    def kill(self, sig: str = "KILL") -> None:
        podman("kill", "--signal", sig, self.name, check=False)

    def wait(self, timeout: float = 60) -> int:
        """Waits for the container to exit; returns its exit code."""
        proc = podman("wait", self.name, timeout=timeout)
        return int(proc.stdout.strip().splitlines()[-1])

    def remove(self) -> None:
        self.harness.remove(self.name)

    def remove_checked(self) -> bool:
        return self.harness.remove(self.name)


@dataclass
class Harness:
    """Makes containers with unique names and removes every one of them on exit."""

    prefix: str = field(default_factory=lambda: f"ksc-{os.getpid()}-{secrets.token_hex(3)}")
    keep: bool = field(default_factory=lambda: bool(os.environ.get("KSC_KEEP_CONTAINERS")))
    _names: list[str] = field(default_factory=list)
    _depends_on: dict[str, str] = field(default_factory=dict)  # name -> container it joined
    _procs: list[subprocess.Popen] = field(default_factory=list)
    _tmpdirs: list[str] = field(default_factory=list)
    _count: int = 0

    def __post_init__(self) -> None:
        atexit.register(self.cleanup)
        # A test killed by CTest's timeout (SIGTERM) still removes its containers.
        for sig in (signal.SIGTERM, signal.SIGHUP):
            if signal.getsignal(sig) in (signal.SIG_DFL, None):
                signal.signal(sig, _exit_on_signal)

    def __enter__(self) -> "Harness":
        return self

    def __exit__(self, *exc) -> None:
        self.cleanup()

    def unique_name(self, hint: str = "c") -> str:
        self._count += 1
        return f"{self.prefix}-{hint}-{self._count}"

    def _register(self, hint: str, opts: dict) -> str:
        name = self.unique_name(hint)
        self._names.append(name)
        for key in ("pid_of", "network_of"):
            if opts.get(key) is not None:
                self._depends_on[name] = _name(opts[key])
        return name

    def tempdir(self, hint: str = "ksc") -> Path:
        """A host directory removed at cleanup; world-writable so any container user can write."""
        d = tempfile.mkdtemp(prefix=f"{self.prefix}-{hint}-")
        os.chmod(d, 0o777)
        self._tmpdirs.append(d)
        return Path(d)

    def run_args(self, image: str, cmd: Sequence[str] = (), *, name: str, detach: bool = False,
                 interactive: bool = False, rm: bool = False, pid_of: Container | str | None = None,
                 network_of: Container | str | None = None, caps: Iterable[str] = (),
                 drop_all_caps: bool = False, seccomp: str | os.PathLike | None = None,
                 volumes: Iterable[str] = (), mounts: Iterable[str] = (),
                 entrypoint: str | None = None, env: dict[str, str] | None = None,
                 user: str | None = None, read_only: bool = False,
                 extra: Sequence[str] = ()) -> list[str]:
        """The full `podman run` command line for these options."""
        args = PODMAN + ["run", *RUN_LIMITS, "--name", name]
        if detach:
            args.append("--detach")
        if interactive:
            args.append("--interactive")
        if rm:
            args.append("--rm")
        if pid_of is not None:
            args += ["--pid", f"container:{_name(pid_of)}"]
        if network_of is not None:
            args += ["--network", f"container:{_name(network_of)}"]
        if drop_all_caps:
            args += ["--cap-drop", "ALL"]
        for cap in caps:
            args += ["--cap-add", cap]
        if seccomp is not None:
            args += ["--security-opt", f"seccomp={seccomp}"]
        for v in volumes:
            args += ["--volume", v]
        for m in mounts:
            args += ["--mount", m]
        if entrypoint is not None:
            args += ["--entrypoint", entrypoint]
        for k, v in (env or {}).items():
            args += ["--env", f"{k}={v}"]
        if user is not None:
            args += ["--user", user]
        if read_only:
            args.append("--read-only")
        args += list(extra)
        args.append(image)
        args += list(cmd)
        return args

    def run(self, image: str, cmd: Sequence[str] = (), *, hint: str = "c", check: bool = True,
            timeout: float | None = 300, input: str | None = None, **opts) -> Container | subprocess.CompletedProcess:
        """`podman run`: with detach=True returns a Container, else the finished process
        (stdout, stderr, returncode) of a container that is then removed."""
        name = self._register(hint, opts)
        args = self.run_args(image, cmd, name=name, **opts)
        proc = subprocess.run(args, input=input, text=True, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, timeout=timeout)
        if opts.get("detach"):
            if proc.returncode != 0:
                raise PodmanError(args, proc.returncode, proc.stderr)
            return Container(self, name, image)
        self.remove(name)
        if check and proc.returncode != 0:
            raise PodmanError(args, proc.returncode, proc.stdout + proc.stderr)
        return proc

    def popen(self, image: str, cmd: Sequence[str] = (), *, hint: str = "c", stdin=subprocess.PIPE,
              stdout=subprocess.PIPE, stderr=None, **opts) -> tuple[Container, subprocess.Popen]:
        """`podman run --interactive` in the foreground, its stdin/stdout as pipes: a container
        one talks to (the tracer in attach mode: commands in, stream out)."""
        name = self._register(hint, opts)
        args = self.run_args(image, cmd, name=name, interactive=True, **opts)
        proc = subprocess.Popen(args, stdin=stdin, stdout=stdout, stderr=stderr, text=True, bufsize=1)
        self._procs.append(proc)
        return Container(self, name, image), proc

    def wait_running(self, c: Container, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if c.running():
                return
            time.sleep(0.1)
        raise TimeoutError(f"container {c.name} did not start within {timeout}s: {c.logs()[-1000:]}")

    def remove(self, name: str) -> bool:
        """Removes a container, and first those that share its namespaces (`--pid container:`),
        which podman would otherwise refuse it for. A failure keeps the name for cleanup()."""
        for other in [n for n in self._names if n != name and self._depends_on.get(n) == name]:
            self.remove(other)
        proc = podman("rm", "--force", "--time", "0", name, check=False, timeout=120)
        gone = proc.returncode == 0 or "no such container" in (proc.stderr or "").lower()
        if gone and name in self._names:
            self._names.remove(name)
            self._depends_on.pop(name, None)
        elif not gone:
            log(f"podman rm {name} failed: {(proc.stderr or '').strip()[-300:]}")
        return gone

    def cleanup(self) -> None:
        for proc in self._procs:
            if proc.poll() is None:
                proc.kill()
                try:
                    proc.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    pass
        self._procs.clear()
        if self.keep:
            if self._names:
                log(f"KSC_KEEP_CONTAINERS: left {' '.join(self._names)}")
            return
        # Newest first: a container that joined another's namespaces goes before that one.
        for name in reversed(list(self._names)):
            if name in self._names:
                self.remove(name)
        for d in self._tmpdirs:
            shutil.rmtree(d, ignore_errors=True)
        self._tmpdirs.clear()


def _name(c: Container | str) -> str:
    return c.name if isinstance(c, Container) else c


def _exit_on_signal(signum, _frame) -> None:
    sys.exit(128 + signum)  # runs atexit, hence Harness.cleanup


def main(argv: list[str]) -> int:
    if len(argv) < 2 or argv[1] in ("-h", "--help"):
        print(__doc__)
        return 0
    if argv[1] == "check":
        ok, reason = usable()
        if not ok:
            print(f"SKIP: {reason}")
            return SKIP
        print("podman usable: " + " ".join(PODMAN + ["run", *RUN_LIMITS]))
        return 0
    if argv[1] == "images":
        require_podman()
        for k, v in build_images(argv[2] if len(argv) > 2 else None).items():
            print(f"{k}={v}")
        return 0
    if argv[1] == "flags":  # for shell scripts: PODMAN=($(podman_harness.py flags))
        print(" ".join(PODMAN))
        print(" ".join(RUN_LIMITS))
        return 0
    print(f"unknown command {argv[1]} (check, images, flags)", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
