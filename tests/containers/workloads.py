"""The real programs the container tests record, each with the exercise a functional test would run.

An exercise talks to the app from the host over the container's bridge address and returns its
answers: a list of plain values that must come out the same untraced, traced and under the
recorded profile. Anything that varies from run to run (dates, ids, timings) is left out of them.
"""

from __future__ import annotations

import hashlib
import http.client
import socket
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from podman_harness import BOOKWORM_IMAGE, BUSYBOX_IMAGE, HERE

Answers = list


class ExerciseError(RuntimeError):
    """The app did not answer as it should (refused, reset, timed out, wrong reply)."""


@dataclass
class Workload:
    name: str
    image: str
    command: list[str]
    port: int
    exercise: Callable[[str, float], Answers]  # (ip, timeout per request) -> answers
    # Syscalls the exercise needs but start-up does not, most telling first: the one removed from
    # the profile to prove the app then fails (the first one the profile has).
    needed: list[str]
    volumes: tuple[str, ...] = ()
    # A load test, run in a client container in the app's network namespace (so 127.0.0.1 is the
    # app): (shell command, number of requests it makes). Its rate shows the tracing overhead
    # that the exercise, bound by its Python client, hides.
    bench: tuple[str, int] | None = None
    # Log files inside the container, beside its stdout and stderr (where nginx writes its errors).
    log_files: tuple[str, ...] = ()

    def wait_ready(self, ip: str, timeout: float = 30, alive: Callable[[], bool] | None = None) -> None:
        """Waits until the app accepts connections on its port; gives up at once when `alive`
        says the app's container has exited (an app that cannot start under a profile)."""
        deadline = time.monotonic() + timeout
        last: Exception | None = None
        next_check = time.monotonic() + 0.5
        while time.monotonic() < deadline:
            try:
                with socket.create_connection((ip, self.port), timeout=1):
                    return
            except OSError as e:
                last = e
                time.sleep(0.1)
            if alive is not None and time.monotonic() >= next_check:
                if not alive():
                    raise ExerciseError(f"{self.name} exited before it listened on port {self.port}")
                next_check = time.monotonic() + 0.5
        raise ExerciseError(f"{self.name} did not listen on {ip}:{self.port} within {timeout}s: {last}")


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()[:16]


def _http(ip: str, port: int, method: str, path: str, timeout: float,
          headers: dict[str, str] | None = None, conn: http.client.HTTPConnection | None = None):
    own = conn is None
    c = conn or http.client.HTTPConnection(ip, port, timeout=timeout)
    try:
        c.request(method, path, headers=headers or {})
        r = c.getresponse()
        body = r.read()
        return [method, path, r.status, len(body), _digest(body)]
    except (OSError, http.client.HTTPException) as e:
        raise ExerciseError(f"{method} {path}: {type(e).__name__}: {e}") from e
    finally:
        if own:
            c.close()


# --- nginx: static files, keep-alive, ranges, errors -------------------------------------------

def nginx_exercise(ip: str, timeout: float) -> Answers:
    answers = []
    for i in range(40):  # one connection per request: accept, sendfile, close
        answers.append(_http(ip, 80, "GET", "/" if i % 2 else "/index.nginx-debian.html", timeout))
    conn = http.client.HTTPConnection(ip, 80, timeout=timeout)
    for _ in range(40):  # keep-alive
        answers.append(_http(ip, 80, "GET", "/", timeout, conn=conn))
    conn.close()
    answers.append(_http(ip, 80, "HEAD", "/", timeout))
    answers.append(_http(ip, 80, "GET", "/", timeout, headers={"Range": "bytes=10-99"}))
    answers.append(_http(ip, 80, "GET", "/no/such/file", timeout))
    answers.append(_http(ip, 80, "POST", "/", timeout))
    return answers


NGINX = Workload(
    name="nginx", image=BOOKWORM_IMAGE, command=["nginx", "-g", "daemon off;"], port=80,
    exercise=nginx_exercise, needed=["sendfile", "accept4", "writev", "recvfrom"],
    bench=("curl -sf -Z --parallel-max 8 'http://127.0.0.1/?[1-4000]'", 4000),
    log_files=("/var/log/nginx/error.log",))


# --- redis: commands, pipelining, a forked background save ------------------------------------

class _Resp:
    """Just enough of the Redis protocol (RESP2) for the exercise."""

    def __init__(self, ip: str, port: int, timeout: float):
        try:
            self.sock = socket.create_connection((ip, port), timeout=timeout)
        except OSError as e:
            raise ExerciseError(f"redis connect: {e}") from e
        self.buf = b""

    def close(self) -> None:
        self.sock.close()

    def send(self, *cmds: tuple) -> None:
        out = b""
        for cmd in cmds:
            out += b"*%d\r\n" % len(cmd)
            for arg in cmd:
                a = arg if isinstance(arg, bytes) else str(arg).encode()
                out += b"$%d\r\n%s\r\n" % (len(a), a)
        try:
            self.sock.sendall(out)
        except OSError as e:
            raise ExerciseError(f"redis send: {e}") from e

    def _line(self) -> bytes:
        while b"\r\n" not in self.buf:
            self._more()
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line

    def _more(self) -> None:
        try:
            data = self.sock.recv(65536)
        except OSError as e:
            raise ExerciseError(f"redis recv: {e}") from e
        if not data:
            raise ExerciseError("redis closed the connection")
        self.buf += data

    def reply(self):
        line = self._line()
        kind, rest = line[:1], line[1:]
        if kind == b"+":
            return rest.decode()
        if kind == b"-":
            return "ERR:" + rest.decode()
        if kind == b":":
            return int(rest)
        if kind == b"$":
            n = int(rest)
            if n < 0:
                return None
            while len(self.buf) < n + 2:
                self._more()
            data, self.buf = self.buf[:n], self.buf[n + 2:]
            return data.decode(errors="replace")
        if kind == b"*":
            return [self.reply() for _ in range(int(rest))]
        raise ExerciseError(f"redis: unexpected reply {line[:80]!r}")

    def call(self, *cmd):
        self.send(cmd)
        return self.reply()


def redis_exercise(ip: str, timeout: float) -> Answers:
    r = _Resp(ip, 6379, timeout)
    try:
        answers = [r.call("PING"), r.call("FLUSHALL")]
        for i in range(50):
            answers.append(r.call("SET", f"key:{i}", f"value-{i}" * (i + 1)))
            answers.append(_digest(r.call("GET", f"key:{i}").encode()))
        answers += [r.call("INCRBY", "counter", i) for i in range(30)]
        r.send(*[("RPUSH", "list", f"item{i}") for i in range(200)])  # pipelined
        answers.append([r.reply() for _ in range(200)][-1])
        answers.append(_digest(repr(r.call("LRANGE", "list", 0, -1)).encode()))
        answers.append(r.call("HSET", "hash", "a", "1", "b", "2", "c", "3"))
        answers.append(sorted(r.call("HGETALL", "hash")))
        answers.append(r.call("SADD", "set", *range(100)))
        answers.append(r.call("SCARD", "set"))
        answers.append(r.call("EXPIRE", "key:1", 100))
        answers.append(r.call("DBSIZE"))
        # BGSAVE forks a child that writes the dump: the profile must cover that child too.
        answers.append(r.call("BGSAVE"))
        deadline = time.monotonic() + 30
        while True:
            info = r.call("INFO", "persistence")
            if "rdb_bgsave_in_progress:0" in info:
                break
            if time.monotonic() > deadline:
                raise ExerciseError("redis BGSAVE did not finish within 30s")
            time.sleep(0.05)
        status = [ln for ln in info.splitlines() if ln.startswith("rdb_last_bgsave_status:")]
        answers.append(status)
        answers.append(r.call("DEL", *[f"key:{i}" for i in range(50)]))
        return answers
    finally:
        r.close()


REDIS = Workload(
    name="redis", image=BOOKWORM_IMAGE,
    command=["redis-server", "--port", "6379", "--bind", "0.0.0.0", "--protected-mode", "no",
             "--save", "", "--appendonly", "no", "--dir", "/tmp"],
    port=6379, exercise=redis_exercise, needed=["accept4", "accept", "read", "write"],
    bench=("redis-benchmark -h 127.0.0.1 -q -c 8 -n 10000 -t set,get,incr,lpush", 40000))


# --- python3 -m http.server: a thread per request, directory listings -----------------------

PY_DIR = "/usr/lib/python3.11/json"


def python_exercise(ip: str, timeout: float) -> Answers:
    answers = [_http(ip, 8000, "GET", "/", timeout)]
    for i in range(40):
        name = ["__init__.py", "decoder.py", "encoder.py", "scanner.py", "tool.py"][i % 5]
        answers.append(_http(ip, 8000, "GET", f"/{name}", timeout))
    answers.append(_http(ip, 8000, "HEAD", "/decoder.py", timeout))
    answers.append(_http(ip, 8000, "GET", "/missing.txt", timeout))
    answers.append(_http(ip, 8000, "GET", "/__pycache__/", timeout))
    return answers


PYTHON = Workload(
    name="python-http", image=BOOKWORM_IMAGE,
    command=["python3", "-m", "http.server", "8000", "--bind", "0.0.0.0", "--directory", PY_DIR],
    port=8000, exercise=python_exercise, needed=["accept4", "sendfile", "recvfrom", "sendto"],
    bench=("curl -sf -Z --parallel-max 8 'http://127.0.0.1:8000/decoder.py?[1-1000]'", 1000))


# --- busybox httpd with shell CGI: fork and exec in every request ----------------------------

def busybox_exercise(ip: str, timeout: float) -> Answers:
    answers = []
    for i in range(25):
        answers.append(_http(ip, 8080, "GET", f"/cgi-bin/pipeline?{i * 7 + 3}x{i}", timeout))
    answers.append(_http(ip, 8080, "GET", "/index.html", timeout))
    answers.append(_http(ip, 8080, "GET", "/missing", timeout))
    return answers


BUSYBOX = Workload(
    name="busybox-cgi", image=BUSYBOX_IMAGE, command=["httpd", "-f", "-v", "-p", "8080", "-h", "/www"],
    port=8080, exercise=busybox_exercise, needed=["wait4", "pipe", "pipe2", "execve", "accept"],
    volumes=(f"{HERE / 'www'}:/www:ro",),
    bench=("curl -sf -Z --parallel-max 4 'http://127.0.0.1:8080/cgi-bin/pipeline?5x[1-150]'", 150))


ALL = {w.name: w for w in (NGINX, REDIS, PYTHON, BUSYBOX)}
