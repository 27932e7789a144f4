"""Hostile modes: the double misbehaves on purpose, one way per mode, so that the e2e tests can check
that every verb that talks to the cluster ends in time, with one line that names the problem, in
bounded memory and without a retry storm (tests/e2e/test_hostile_server.py).

Switched on at start (--hostile MODE) or at run time (POST /_double/config {"hostile": MODE}); the
switch hostilePath (a regular expression) limits it to the paths it matches.
The control endpoint /_double/ always answers normally. Modes, and the requests they apply to:

  deep-json        every API request: 200 with 3,000,000 nested "["
  huge-json        every API request: 200 with one valid JSON object of 100 MiB
  huge-body        every API request: 200 announcing 1 GiB of body, sent until the client hangs up
  wrong-length     every API request: 200 whose Content-Length promises more than is sent
  bad-length       every API request: 200 with "Content-Length: abc"
  trickle          every API request: 200 with a valid body sent one byte a second
  redirect         every API request: 307 to another host (127.0.0.2), which counts connections
  watch-silent     watches only: 200 and then nothing, ever
  ws-bad-length    attach/exec only: the upgrade refused with "Content-Length: abc"
  ws-broken-frame  attach/exec only: a correct upgrade, then a frame with a reserved opcode
  ws-huge-frame    attach/exec only: a correct upgrade, then a frame announcing 2^40 bytes
  ws-bad-close     attach/exec only: a correct upgrade, then a close frame with a 1-byte payload
"""
import re
import socket
import struct
import threading
import time

from . import websocket as ws

MODES = ("deep-json", "huge-json", "huge-body", "wrong-length", "bad-length", "trickle", "redirect",
         "watch-silent", "ws-bad-length", "ws-broken-frame", "ws-huge-frame", "ws-bad-close")


class RedirectTarget:
    """The "other host" of the redirect mode: a TCP listener on 127.0.0.2 that only counts the
    connections it gets (a client that followed the redirect with the user's credentials)."""

    def __init__(self):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.2", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.connections = 0
        self.lock = threading.Lock()
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            with self.lock:
                self.connections += 1
            conn.close()


def applies(mode, path_pattern, handler):
    """Whether `mode` answers this request (the others are served normally). `path_pattern`, a
    regular expression, limits it to the paths it matches (e.g. not /version, so that a verb gets
    as far as its pods)."""
    if not mode or handler.url_path.startswith("/_double/"):
        return False
    if path_pattern and not re.search(path_pattern, handler.url_path):
        return False
    sub = handler.url_path.rsplit("/", 1)[-1]
    if mode.startswith("ws-"):
        return sub in ("attach", "exec")
    if mode == "watch-silent":
        return handler.q("watch").lower() in ("1", "true")
    return True


def _head(handler, code, headers):
    handler.send_response(code)
    for k, v in headers:
        handler.send_header(k, v)
    handler.end_headers()
    handler.wfile.flush()


def _send_until_hung_up(handler, chunk, total):
    sent = 0
    while sent < total:
        handler.wfile.write(chunk)
        sent += len(chunk)


def answer(handler, mode, redirect_target):
    """Answers the request as `mode` says; the connection is closed afterwards."""
    handler.close_connection = True
    handler._drain_body()
    try:
        _answer(handler, mode, redirect_target)
    except (BrokenPipeError, ConnectionResetError, OSError):
        pass  # the client gave up: that is what these modes are for


def _answer(handler, mode, redirect_target):
    json_type = ("Content-Type", "application/json")
    if mode == "deep-json":
        body = b"[" * 3000000
        _head(handler, 200, [json_type, ("Content-Length", str(len(body)))])
        handler.wfile.write(body)
    elif mode == "huge-json":
        item = b'{"metadata":{"name":"x"}},'
        n = (100 << 20) // len(item)
        head, tail = b'{"kind":"PodList","items":[', b'{}]}'
        _head(handler, 200, [json_type, ("Content-Length", str(len(head) + n * len(item) + len(tail)))])
        handler.wfile.write(head)
        _send_until_hung_up(handler, item * 4096, n * len(item))
        handler.wfile.write(tail)
    elif mode == "huge-body":
        _head(handler, 200, [json_type, ("Content-Length", str(1 << 30))])
        _send_until_hung_up(handler, b" " * (1 << 20), 1 << 30)
    elif mode == "wrong-length":
        _head(handler, 200, [json_type, ("Content-Length", "100000")])
        handler.wfile.write(b'{"kind":')
        handler.wfile.flush()
        handler.abort_connection()
    elif mode == "bad-length":
        _head(handler, 200, [json_type, ("Content-Length", "abc")])
        handler.wfile.write(b'{"kind":"Status"}')
    elif mode == "trickle":
        body = b'{"kind":"Status","apiVersion":"v1","status":"Success","major":"1","minor":"31"}' * 100
        _head(handler, 200, [json_type, ("Content-Length", str(len(body)))])
        for i in range(len(body)):
            handler.wfile.write(body[i:i + 1])
            handler.wfile.flush()
            time.sleep(1)
    elif mode == "redirect":
        location = "https://127.0.0.2:%d%s" % (redirect_target.port, handler.path)
        _head(handler, 307, [("Location", location), ("Content-Length", "0")])
    elif mode == "watch-silent":
        _head(handler, 200, [json_type, ("Transfer-Encoding", "chunked")])
        handler.connection.settimeout(None)
        while handler.connection.recv(1):  # until the client hangs up
            pass
    elif mode == "ws-bad-length":
        _head(handler, 403, [json_type, ("Content-Length", "abc")])
        handler.wfile.write(b'{"kind":"Status","message":"no"}')
    elif mode.startswith("ws-"):
        key = handler.headers.get("Sec-WebSocket-Key", "")
        offered = [p.strip() for p in ",".join(handler.headers.get_all("Sec-WebSocket-Protocol") or []).split(",")
                   if p.strip()]
        _head(handler, 101, [("Upgrade", "websocket"), ("Connection", "Upgrade"),
                             ("Sec-WebSocket-Accept", ws.accept_key(key)),
                             ("Sec-WebSocket-Protocol", ws.choose_protocol(offered) or ws.V5)])
        if mode == "ws-broken-frame":
            frame = bytes([0x83, 1]) + b"x"  # opcode 3 is reserved
        elif mode == "ws-huge-frame":
            frame = bytes([0x82, 127]) + struct.pack(">Q", 1 << 40)
        else:  # ws-bad-close: a close payload is empty or at least 2 bytes (the code)
            frame = bytes([0x88, 1]) + b"\x03"
        handler.wfile.write(frame)
        handler.wfile.flush()
        handler.connection.settimeout(30)
        try:
            while handler.connection.recv(4096):  # until the client hangs up (or 30 s)
                pass
        except OSError:
            pass
