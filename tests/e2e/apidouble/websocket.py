"""The server side of RFC 6455 and the Kubernetes channel sub-protocols for attach and exec.

channel.k8s.io family: every binary message starts with a channel byte: 0 stdin, 1 stdout, 2 stderr,
3 error/status (from v4 on, a JSON metav1.Status), 4 resize ({"Width":W,"Height":H}). v5 adds a
client-to-server message on channel 255 whose one data byte names a stream the client has closed
(half-close, e.g. its stdin reached EOF). The base64 variants carry the channel as an ASCII digit and
base64 data in text messages.
"""
import base64
import hashlib
import socket
import struct
import threading

GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
V5 = "v5.channel.k8s.io"
V4 = "v4.channel.k8s.io"
V4_BASE64 = "v4.base64.channel.k8s.io"
V1 = "channel.k8s.io"
V1_BASE64 = "base64.channel.k8s.io"
SUPPORTED = [V5, V4, V4_BASE64, "v3.channel.k8s.io", "v2.channel.k8s.io", V1, V1_BASE64]

OP_CONT, OP_TEXT, OP_BINARY, OP_CLOSE, OP_PING, OP_PONG = 0, 1, 2, 8, 9, 10
STDIN, STDOUT, STDERR, ERROR, RESIZE, CLOSE = 0, 1, 2, 3, 4, 255


def accept_key(key):
    return base64.b64encode(hashlib.sha1((key + GUID).encode()).digest()).decode()


def choose_protocol(offered):
    """The first offered protocol we support, in the client's order; "" when the client offered
    none (the plain protocol), None when nothing offered is supported."""
    if not offered:
        return ""
    for p in offered:
        if p in SUPPORTED:
            return p
    return None


class Closed(Exception):
    pass


class Connection:
    """A WebSocket connection over an (already upgraded) socket; thread-safe sends."""

    def __init__(self, sock, rfile, protocol):
        self.sock = sock
        self.rfile = rfile
        self.protocol = protocol
        self.base64 = "base64" in protocol
        self.send_lock = threading.Lock()
        self.closed = False

    # ---- frames
    def _read_exact(self, n):
        data = self.rfile.read(n)
        if data is None or len(data) < n:
            raise Closed()
        return data

    def read_frame(self):
        b1, b2 = self._read_exact(2)
        fin, opcode = b1 & 0x80, b1 & 0x0F
        masked, length = b2 & 0x80, b2 & 0x7F
        if length == 126:
            length = struct.unpack(">H", self._read_exact(2))[0]
        elif length == 127:
            length = struct.unpack(">Q", self._read_exact(8))[0]
        mask = self._read_exact(4) if masked else None
        payload = self._read_exact(length) if length else b""
        if mask:
            payload = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        return bool(fin), opcode, payload, bool(masked)

    def read_message(self):
        """Returns (opcode, payload) of the next data message, answering pings on the way;
        raises Closed when the peer closed or the connection dropped."""
        parts, first_op = [], None
        while True:
            fin, opcode, payload, masked = self.read_frame()
            if not masked:
                self.close(1002, "client frames must be masked")
                raise Closed()
            if opcode == OP_PING:
                self.send_frame(OP_PONG, payload)
                continue
            if opcode == OP_PONG:
                continue
            if opcode == OP_CLOSE:
                code = struct.unpack(">H", payload[:2])[0] if len(payload) >= 2 else 1005
                self.close(code if code != 1005 else 1000)
                raise Closed()
            if opcode in (OP_TEXT, OP_BINARY):
                first_op, parts = opcode, [payload]
            elif opcode == OP_CONT and first_op is not None:
                parts.append(payload)
            else:
                self.close(1002, "protocol error")
                raise Closed()
            if fin:
                return first_op, b"".join(parts)

    def send_frame(self, opcode, payload=b""):
        header = bytearray([0x80 | opcode])
        n = len(payload)
        if n < 126:
            header.append(n)
        elif n < 65536:
            header.append(126)
            header += struct.pack(">H", n)
        else:
            header.append(127)
            header += struct.pack(">Q", n)
        with self.send_lock:
            if self.closed and opcode != OP_CLOSE:
                raise Closed()
            try:
                self.sock.sendall(bytes(header) + payload)
            except OSError:
                self.closed = True
                raise Closed()

    def close(self, code=1000, reason=""):
        try:
            with self.send_lock:
                if self.closed:
                    return
            self.send_frame(OP_CLOSE, struct.pack(">H", code) + reason.encode())
        except Closed:
            pass
        finally:
            self.closed = True

    def abort(self):
        """Drops the TCP connection without a close frame (the dropped-connection switch)."""
        self.closed = True
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    # ---- channels
    def send_channel(self, channel, data):
        if self.base64:
            self.send_frame(OP_TEXT, str(channel).encode() + base64.b64encode(data))
        else:
            self.send_frame(OP_BINARY, bytes([channel]) + data)

    def read_channel(self):
        """Returns (channel, data) of the next message."""
        while True:
            opcode, payload = self.read_message()
            if not payload:
                continue
            if self.base64:
                channel = payload[0] - ord("0")
                try:
                    return channel, base64.b64decode(payload[1:])
                except ValueError:
                    continue
            return payload[0], payload[1:]
