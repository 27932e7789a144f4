"""pods/attach and pods/exec over WebSocket: the upgrade, and the attach and exec sessions with
their channels and final status."""
import json
import threading

from . import websocket as ws
from .status import bad_request, method_not_allowed, success_status


class StreamingMixin:
    """Part of server.Handler (self is the request's handler)."""

    # ---- attach and exec
    def _stream(self, ns, name, sub):
        runtime, sessions = self.server.runtime, self.server.sessions
        if self.method not in ("GET", "POST"):
            raise method_not_allowed()
        pod = self._get_pod_or_404(ns, name)
        container = self._container_for(pod)
        upgrade = self.headers.get("Upgrade", "").lower()
        if upgrade != "websocket" or "upgrade" not in self.headers.get("Connection", "").lower():
            raise bad_request("Upgrade request required")
        offered = [p.strip() for p in ",".join(self.headers.get_all("Sec-WebSocket-Protocol") or []).split(",")
                   if p.strip()]
        protocol = ws.choose_protocol(offered)
        if protocol is None:
            raise bad_request("requested protocol(s) are not supported: %s; supports %s"
                              % (offered, ws.SUPPORTED))
        stdin, stdout, stderr, tty = (self.qbool("stdin"), self.qbool("stdout"), self.qbool("stderr"),
                                      self.qbool("tty"))
        command = self.query.get("command", [])
        inst = runtime.instance(ns, name, container)
        if sub == "exec" and not command:
            raise bad_request("you must specify at least 1 command")
        if not (stdin or stdout or stderr):
            raise bad_request("you must specify at least 1 of stdin, stdout, stderr")
        if inst is None or inst.done:
            raise bad_request('container not found ("%s")' % container)
        key = self.headers.get("Sec-WebSocket-Key", "")
        self.send_response(101, "Switching Protocols")
        self.send_header("Upgrade", "websocket")
        self.send_header("Connection", "Upgrade")
        self.send_header("Sec-WebSocket-Accept", ws.accept_key(key))
        if protocol:
            self.send_header("Sec-WebSocket-Protocol", protocol)
        self.end_headers()
        self.wfile.flush()
        self.close_connection = True
        conn = ws.Connection(self.connection, self.rfile, protocol)
        with self.server.config.lock:
            drop_after = float(self.server.config.switches.get("dropAttachAfterSeconds") or 0)
        if sub == "attach":
            stream = AttachSession(conn, inst, stdin, stdout, stderr, tty)
        else:
            stream = ExecSession(conn, inst, command, stdin, stdout, stderr, tty)
        sessions.add(sub, stream.abort)
        timer = None
        if drop_after:
            timer = threading.Timer(drop_after, stream.abort)
            timer.daemon = True
            timer.start()
        try:
            stream.run()
        finally:
            if timer:
                timer.cancel()
            sessions.remove(sub, stream.abort)

class AttachSession:
    """One attach over WebSocket: the container's live output out, stdin in, the status at the end."""

    def __init__(self, conn, inst, stdin, stdout, stderr, tty):
        self.conn, self.inst = conn, inst
        self.stdin, self.stdout, self.stderr, self.tty = stdin, stdout, stderr, tty
        self.ended = threading.Event()

    def output(self, stream, data):
        if self.ended.is_set():
            return
        if stream == "stdout" and not self.stdout:
            return
        if stream == "stderr":
            if not self.stderr:
                return
        try:
            self.conn.send_channel(ws.STDERR if stream == "stderr" else ws.STDOUT, data)
        except ws.Closed:
            pass

    def finished(self, exit_code):
        # The kubelet reports a finished attach as Success whatever the container's exit code.
        if self.ended.is_set():
            return
        send_status(self.conn, None)
        self.ended.set()
        self.conn.close(1000)

    def abort(self):
        self.ended.set()
        self.conn.abort()

    def run(self):
        conn = self.conn
        try:
            conn.send_channel(ws.STDOUT if self.stdout else ws.STDERR if self.stderr else ws.ERROR, b"")
        except ws.Closed:
            return
        if not self.inst.attach(self):
            self.finished(self.inst.exit_code)
            return
        try:
            while not self.ended.is_set():
                channel, data = conn.read_channel()
                if channel == ws.STDIN and self.stdin:
                    self.inst.write_stdin(data)
                elif channel == ws.RESIZE:
                    try:
                        size = json.loads(data)
                        self.inst.resize(int(size.get("Width", 80)), int(size.get("Height", 24)))
                    except (ValueError, TypeError):
                        pass
                elif channel == ws.CLOSE and conn.protocol == ws.V5 and data[:1] == bytes([ws.STDIN]):
                    # A v5 client half-closed its stdin; the container's stdin closes only when it
                    # was declared stdinOnce, as with the kubelet.
                    if self.inst.spec.get("stdinOnce"):
                        self.inst.close_stdin()
        except ws.Closed:
            # The client went away: for a stdinOnce container that is the end of its stdin too.
            if self.stdin and self.inst.spec.get("stdinOnce") and not self.ended.is_set():
                self.inst.close_stdin()
        finally:
            self.inst.detach(self)
            self.ended.set()


class ExecSession:
    """One exec over WebSocket: `podman exec` in the container, its exit code as the status."""

    def __init__(self, conn, inst, command, stdin, stdout, stderr, tty):
        self.conn, self.inst, self.command = conn, inst, command
        self.stdin, self.stdout, self.stderr, self.tty = stdin, stdout, stderr, tty
        self.proc = None
        self.aborted = False

    def abort(self):
        self.aborted = True
        self.conn.abort()
        if self.proc and self.proc.poll() is None:
            self.proc.kill()

    def run(self):
        import subprocess
        from . import podman
        cmd = podman.base_cmd() + ["exec"] + (["-i"] if self.stdin else []) + \
            (["-t"] if self.tty else []) + [self.inst.podman_name] + self.command
        self.proc = subprocess.Popen(cmd, stdin=subprocess.PIPE if self.stdin else subprocess.DEVNULL,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        try:
            self.conn.send_channel(ws.STDOUT if self.stdout else ws.STDERR if self.stderr else ws.ERROR, b"")
        except ws.Closed:
            self.proc.kill()
            return

        def pump(src, channel, wanted):
            while True:
                data = src.read1(65536)
                if not data:
                    break
                if wanted:
                    try:
                        self.conn.send_channel(channel, data)
                    except ws.Closed:
                        pass
        pumps = [threading.Thread(target=pump, args=(self.proc.stdout, ws.STDOUT, self.stdout), daemon=True),
                 threading.Thread(target=pump, args=(self.proc.stderr, ws.STDERR, self.stderr), daemon=True)]
        for t in pumps:
            t.start()

        def reader():
            try:
                while True:
                    channel, data = self.conn.read_channel()
                    if channel == ws.STDIN and self.stdin and self.proc.stdin:
                        try:
                            self.proc.stdin.write(data)
                            self.proc.stdin.flush()
                        except (OSError, ValueError):
                            pass
                    elif channel == ws.CLOSE and data[:1] == bytes([ws.STDIN]) and self.proc.stdin:
                        try:
                            self.proc.stdin.close()
                        except OSError:
                            pass
            except ws.Closed:
                if self.proc.poll() is None and self.proc.stdin:
                    try:
                        self.proc.stdin.close()
                    except OSError:
                        pass
        threading.Thread(target=reader, daemon=True).start()
        code = self.proc.wait()
        for t in pumps:
            t.join(5)
        if self.aborted:
            return
        send_status(self.conn, None if code == 0 else (code, self.command))
        self.conn.close(1000)


def send_status(conn, failure):
    """Channel 3 at the end of a stream: from v4 on a metav1.Status (Success, or NonZeroExitCode with
    the exit code as a cause); before v4 only a failure's text."""
    if conn.protocol in (ws.V5, ws.V4, ws.V4_BASE64):
        if failure is None:
            status = success_status()
            status.pop("kind")
            status.pop("apiVersion")
        else:
            code, command = failure
            status = {"metadata": {}, "status": "Failure",
                      "message": "command terminated with non-zero exit code: error executing command %s, "
                                 "exit code %d" % ("[" + " ".join(command) + "]", code),
                      "reason": "NonZeroExitCode",
                      "details": {"causes": [{"reason": "ExitCode", "message": str(code)}]}}
        data = json.dumps(status).encode()
    elif failure is not None:
        data = ("command terminated with non-zero exit code: exit code %d" % failure[0]).encode()
    else:
        return
    try:
        conn.send_channel(ws.ERROR, data)
    except ws.Closed:
        pass
