#!/usr/bin/env python3
"""A tiny OpenID Connect issuer double for the oidc auth-provider's tests: HTTPS with its own CA,
its discovery document (/.well-known/openid-configuration) and a token endpoint that answers a
refresh_token grant with the tokens the test chose. Every request is recorded (method, path,
Authorization, Content-Type, body), so that what the plugin and kubectl send can be compared.

By hand:  tests/e2e/oidc_issuer.py --dir /tmp/issuer --id-token x.y.z
prints https://127.0.0.1:PORT once it serves; its CA is /tmp/issuer/pki/ca.crt.
"""
import argparse
import http.server
import json
import os
import ssl
import sys
import threading
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from apidouble.certs import Pki  # noqa: E402


class Issuer:
    """Serves on 127.0.0.1 in a thread. `answer` is the token endpoint's JSON answer (a dict,
    changed by the test between runs); `requests` what it received."""

    def __init__(self, directory, answer=None):
        self.pki = Pki(os.path.join(directory, "pki")).create()
        self.ca = self.pki.ca_cert
        self.answer = answer or {}
        self.requests = []
        self.lock = threading.Lock()
        issuer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def record(self, body):
                with issuer.lock:
                    issuer.requests.append({
                        "method": self.command, "path": self.path,
                        "authorization": self.headers.get("Authorization"),
                        "content_type": self.headers.get("Content-Type"),
                        "body": body})

            def reply(self, status, obj):
                data = json.dumps(obj).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self):
                self.record("")
                if self.path == "/.well-known/openid-configuration":
                    self.reply(200, {"issuer": issuer.url, "token_endpoint": issuer.url + "/token",
                                     "response_types_supported": ["code"]})
                else:
                    self.reply(404, {"error": "not_found"})

            def do_POST(self):
                length = min(int(self.headers.get("Content-Length") or 0), 1 << 20)
                body = self.rfile.read(length).decode("utf-8", "replace")
                self.record(body)
                form = urllib.parse.parse_qs(body)
                if self.path != "/token" or form.get("grant_type") != ["refresh_token"]:
                    self.reply(400, {"error": "invalid_request"})
                    return
                with issuer.lock:
                    answer = dict(issuer.answer)
                self.reply(200, answer)

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(self.pki.server_cert, self.pki.server_key)
        self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
        self.url = "https://127.0.0.1:%d" % self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def take_requests(self):
        with self.lock:
            taken, self.requests = self.requests, []
        return taken

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dir", required=True, help="where its CA and certificate go")
    ap.add_argument("--id-token", default="", help="the id_token a refresh answers (none: left out)")
    ap.add_argument("--refresh-token", default="", help="a new refresh_token to answer with")
    args = ap.parse_args()
    answer = {"access_token": "access", "token_type": "Bearer", "expires_in": 3600}
    if args.id_token:
        answer["id_token"] = args.id_token
    if args.refresh_token:
        answer["refresh_token"] = args.refresh_token
    issuer = Issuer(args.dir, answer)
    print(issuer.url, flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        issuer.stop()


if __name__ == "__main__":
    main()
