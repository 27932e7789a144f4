"""Shared by the e2e test scripts: start the double, run kubectl against it, talk to it directly.

Each test script is a unittest module that CTest runs on its own; `python3 tests/e2e/test_X.py -v`
runs it by hand. Exit status 77 (CTest's SKIP_RETURN_CODE) when podman or kubectl is missing.
"""
import atexit
import base64
import http.client
import json
import os
import shutil
import signal
import socket
import ssl
import struct
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from apidouble import podman  # noqa: E402

IMAGE = podman.BUSYBOX_IMAGE
# The tracer image as tracer-image/build-image makes it; KSC_TRACER_IMAGE names another (e.g. one
# made FROM scratch from a worktree's own static tracer, without rebuilding the shared one).
TRACER_IMAGE = os.environ.get("KSC_TRACER_IMAGE", "localhost/kubectl-seccomp/seccomp-tracer:latest")
SKIP = 77


def require(kubectl=True, podman_needed=True):
    """Exits with 77 (skipped) when what the tests need is missing here."""
    if kubectl and shutil.which(os.environ.get("KUBECTL", "kubectl")) is None:
        print("SKIP: kubectl is not installed", flush=True)
        sys.exit(SKIP)
    if shutil.which("openssl") is None:
        print("SKIP: openssl is not installed", flush=True)
        sys.exit(SKIP)
    if podman_needed:
        ok, why = podman.usable()
        if not ok:
            print("SKIP: " + why, flush=True)
            sys.exit(SKIP)


def plugin_dir():
    """The directory holding the built kubectl-seccomp (CTest passes KSC_BUILD_DIR), or None."""
    candidates = []
    if os.environ.get("KSC_BUILD_DIR"):
        candidates.append(os.path.join(os.environ["KSC_BUILD_DIR"], "bin"))
    candidates.append(os.path.join(HERE, "..", "..", "build", "bin"))
    for c in candidates:
        if os.access(os.path.join(c, "kubectl-seccomp"), os.X_OK):
            return os.path.abspath(c)
    return None


def require_plugin():
    """Exits 77 unless kubectl-seccomp is built (Double.kubectl then finds it on PATH)."""
    if plugin_dir() is None:
        print("SKIP: kubectl-seccomp is not built (set KSC_BUILD_DIR)", flush=True)
        sys.exit(SKIP)


def require_image(image):
    """Exits 77 unless podman's local store has image (e.g. the tracer image, which
    tracer-image/build-image makes as localhost/kubectl-seccomp/seccomp-tracer:latest)."""
    if not podman.image_exists(image):
        hint = " (tracer-image/build-image)" if image == TRACER_IMAGE else ""
        print("SKIP: image %s is not built%s" % (image, hint), flush=True)
        sys.exit(SKIP)


def allowed(profile):
    """The syscall names an OCI profile (a dict, or its JSON text) allows."""
    if isinstance(profile, str):
        profile = json.loads(profile)
    return {n for rule in profile["syscalls"] if rule["action"] == "SCMP_ACT_ALLOW" for n in rule["names"]}


def pod_manifest(name, command, container="app", namespace="default", **container_fields):
    c = {"name": container, "image": IMAGE, "command": ["sh", "-c", command]}
    c.update(container_fields)
    return {"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": name, "namespace": namespace, "labels": {"app": name}},
            "spec": {"containers": [c]}}


class Double:
    """One API-server double in a temporary state dir."""

    def __init__(self, *args, pods=()):
        self.dir = tempfile.mkdtemp(prefix="apidouble-")
        pod_files = []
        for i, pod in enumerate(pods):
            path = os.path.join(self.dir, "pod%d.json" % i)
            with open(path, "w") as f:
                json.dump(pod, f)
            pod_files += ["--pod", path]
        self.log = open(os.path.join(self.dir, "double.log"), "w")
        self.stopped = False
        # Chosen here, not by the double, so that its containers can be found even if it dies
        # before telling.
        self.instance = "t" + os.urandom(4).hex()
        # However the test ends (a failed setUpClass skips tearDownClass), the double and its
        # containers go.
        atexit.register(self.stop)
        self.proc = subprocess.Popen(
            [sys.executable, os.path.join(HERE, "apiserver.py"), "--port", "0", "--state-dir",
             os.path.join(self.dir, "state"), "--access-log", os.path.join(self.dir, "access.log"),
             "--exit-with-parent", "--instance-id", self.instance,
             *pod_files, *args],
            stdout=subprocess.PIPE, stderr=self.log, text=True)
        self.info = {}
        self.url = self.proc.stdout.readline().strip()
        if not self.url.startswith("https://"):
            self.stop()
            raise RuntimeError("the double did not start: see %s" % self.log.name)
        with open(os.path.join(self.dir, "state", "server.json")) as f:
            self.info = json.load(f)
        self.kubeconfig = self.info["kubeconfig"]
        host, port = urllib.parse.urlsplit(self.url).netloc.rsplit(":", 1)
        self.host, self.port = host, int(port)

    def stop(self):
        if self.stopped:
            return
        self.stopped = True
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()
        self.proc.stdout.close()
        # Whatever the double could not remove (it was killed) goes here; what even that leaves
        # fails the test rather than running on after it.
        left = podman.remove_labelled("io.kubectl-seccomp.apidouble=" + self.instance)
        if os.environ.get("KSC_E2E_KEEP"):
            print("kept", self.dir, file=sys.stderr)
        else:
            shutil.rmtree(self.dir, ignore_errors=True)
        if left:
            raise AssertionError("containers of the double still there after the test: " + " ".join(left))

    # ---- kubectl
    def kubectl(self, *args, kubeconfig=None, input=None, timeout=90, check=False):
        cmd = [os.environ.get("KUBECTL", "kubectl"), "--kubeconfig", kubeconfig or self.kubeconfig, *args]
        env = dict(os.environ)
        if plugin_dir():  # `kubectl seccomp ...` finds the plugin on PATH, as a user's kubectl does
            env["PATH"] = plugin_dir() + os.pathsep + env.get("PATH", "")
        # Without input, stdin is /dev/null rather than whatever the test runner has (CI has none).
        stdin = {"stdin": subprocess.DEVNULL} if input is None else {"input": input}
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env, **stdin)
        if check and r.returncode != 0:
            raise AssertionError("%s failed (%d):\n%s%s" % (" ".join(cmd), r.returncode, r.stdout, r.stderr))
        return r

    # ---- direct HTTP
    def ssl_context(self, client_cert=True):
        ctx = ssl.create_default_context(cafile=self.info["ca"])
        if client_cert:
            ctx.load_cert_chain(self.info["admin_cert"], self.info["admin_key"])
        return ctx

    def request(self, method, path, body=None, content_type="application/json", headers=None,
                client_cert=True):
        conn = http.client.HTTPSConnection(self.host, self.port, context=self.ssl_context(client_cert),
                                           timeout=60)
        h = dict(headers or {})
        data = None
        if body is not None:
            data = body if isinstance(body, bytes) else json.dumps(body).encode()
            h["Content-Type"] = content_type
        conn.request(method, path, body=data, headers=h)
        resp = conn.getresponse()
        raw = resp.read()
        conn.close()
        try:
            return resp.status, json.loads(raw) if raw else None
        except ValueError:
            return resp.status, raw.decode("utf-8", "replace")

    def control(self, what, body=None):
        status, obj = self.request("POST", "/_double/" + what, body or {})
        if status >= 300:
            raise AssertionError("control %s: %s %s" % (what, status, obj))
        return obj

    def pod(self, name, namespace="default"):
        status, obj = self.request("GET", "/api/v1/namespaces/%s/pods/%s" % (namespace, name))
        return obj if status == 200 else None

    def wait_for(self, predicate, what, timeout=60, name="mypod", namespace="default"):
        deadline = time.time() + timeout
        pod = None
        while time.time() < deadline:
            pod = self.pod(name, namespace)
            if pod is not None and predicate(pod):
                return pod
            time.sleep(0.2)
        raise AssertionError("timed out waiting for %s; pod: %s" % (what, json.dumps(pod, indent=1)))

    def wait_running(self, name="mypod", namespace="default", container=None):
        def running(pod):
            statuses = pod["status"].get("containerStatuses", []) + \
                pod["status"].get("ephemeralContainerStatuses", [])
            return any("running" in s["state"] for s in statuses if container in (None, s["name"]))
        return self.wait_for(running, "%s running" % (container or name), name=name, namespace=namespace)

    def websocket(self, path, protocols=("v5.channel.k8s.io",)):
        return WsClient(self, path, protocols)


def stop_process(p):
    """Kills a kubectl started with Popen and closes its pipes."""
    if p.poll() is None:
        p.kill()
    p.wait()
    for f in (p.stdin, p.stdout, p.stderr):
        if f:
            f.close()


def container_status(pod, name):
    for s in pod["status"].get("containerStatuses", []) + pod["status"].get("ephemeralContainerStatuses", []):
        if s["name"] == name:
            return s
    return None


class WsClient:
    """A minimal RFC 6455 client, for the protocol tests (the plugin has its own, in C++)."""

    def __init__(self, double, path, protocols):
        raw = socket.create_connection((double.host, double.port), timeout=30)
        self.sock = double.ssl_context().wrap_socket(raw, server_hostname=double.host)
        key = base64.b64encode(os.urandom(16)).decode()
        lines = ["GET %s HTTP/1.1" % path, "Host: %s:%d" % (double.host, double.port),
                 "Upgrade: websocket", "Connection: Upgrade", "Sec-WebSocket-Key: " + key,
                 "Sec-WebSocket-Version: 13"]
        if protocols:
            lines.append("Sec-WebSocket-Protocol: " + ", ".join(protocols))
        self.sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        self.buf = b""
        while b"\r\n\r\n" not in self.buf:
            chunk = self.sock.recv(4096)
            if not chunk:
                break
            self.buf += chunk
        head, _, self.buf = self.buf.partition(b"\r\n\r\n")
        lines = head.decode().split("\r\n")
        self.status = int(lines[0].split()[1])
        self.headers = {l.split(":", 1)[0].lower(): l.split(":", 1)[1].strip() for l in lines[1:] if ":" in l}
        self.body = b""
        if self.status != 101:
            n = int(self.headers.get("content-length", 0))
            while len(self.buf) < n:
                self.buf += self.sock.recv(4096)
            self.body = self.buf[:n]
        self.protocol = self.headers.get("sec-websocket-protocol", "")

    def _read(self, n):
        while len(self.buf) < n:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise EOFError("connection closed without a close frame")
            self.buf += chunk
        data, self.buf = self.buf[:n], self.buf[n:]
        return data

    def frame(self):
        b1, b2 = self._read(2)
        n = b2 & 0x7F
        if n == 126:
            n = struct.unpack(">H", self._read(2))[0]
        elif n == 127:
            n = struct.unpack(">Q", self._read(8))[0]
        return b1 & 0x0F, self._read(n)

    def send(self, payload, opcode=2):
        mask = os.urandom(4)
        n = len(payload)
        head = bytes([0x80 | opcode])
        if n < 126:
            head += bytes([0x80 | n])
        elif n < 65536:
            head += bytes([0x80 | 126]) + struct.pack(">H", n)
        else:
            head += bytes([0x80 | 127]) + struct.pack(">Q", n)
        self.sock.sendall(head + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload)))

    def send_channel(self, channel, data):
        self.send(bytes([channel]) + data)

    def read_until_close(self, timeout=60):
        """Returns ({channel: bytes}, close_code); raises EOFError if the TCP connection just ended."""
        self.sock.settimeout(timeout)
        out = {}
        while True:
            op, payload = self.frame()
            if op == 8:
                code = struct.unpack(">H", payload[:2])[0] if len(payload) >= 2 else None
                return out, code
            if op == 9:
                self.send(payload, opcode=10)
                continue
            if op == 2 and payload:
                out[payload[0]] = out.get(payload[0], b"") + payload[1:]

    def close(self):
        try:
            self.send(struct.pack(">H", 1000), opcode=8)
        except OSError:
            pass
        self.sock.close()


def main():
    """unittest.main, but a module whose every test skipped exits 77 so CTest shows SKIP."""
    result = unittest.main(exit=False, verbosity=2).result
    if not result.wasSuccessful():
        sys.exit(1)
    if result.testsRun and len(result.skipped) == result.testsRun:
        sys.exit(SKIP)
    sys.exit(0)
