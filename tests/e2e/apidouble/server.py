"""The HTTPS front: authentication, the switches, and the request dispatch to the endpoints kubectl and
the plugin use.

Endpoints (all JSON unless said): /version, /api, /apis, /api/v1 (discovery), /openapi/v2|v3 (404,
as on a server without them: kubectl copes), namespaces, pods (list, watch, get, create, patch,
update, delete), pods/ephemeralcontainers (get, patch, update), pods/status (get), pods/log,
pods/attach and pods/exec (WebSocket), RBAC (rbac.py), and /_double/ (the test's control endpoint, see README).
The handlers live by concern in cluster.py (namespaces, nodes, apps/v1, access reviews), pods.py (pods and
their subresources but attach/exec), watch.py, streaming.py (attach/exec), control.py and discovery.py.
"""
import http.server
import json
import os
import re
import socket
import socketserver
import ssl
import threading
import time
import urllib.parse
import uuid

from . import apps as appslib
from . import hostile
from . import rbac as rbaclib
from .cluster import ClusterMixin
from .control import ControlMixin
from .discovery import AUTHZ_GROUP, DISCOVERY_AUTHZ_V1, DISCOVERY_V1, OPENAPI_HASH, openapi_doc, version_info
from .pods import PodsMixin, create_pod_fn, delete_pod_fn
from .selectors import selector  # noqa: F401 (apidouble.server.selector: the unit tests import it here)
from .status import ApiError, bad_request, internal_error, rbac_forbidden, too_many_requests, unauthorized
from .store import now_rfc3339
from .streaming import StreamingMixin
from .watch import WatchMixin

POD_PATH = re.compile(r"^/api/v1/namespaces/([^/]+)/pods(?:/([^/]+)(?:/([^/]+))?)?$")
APPS_PATH = re.compile(r"^/apis/apps/v1/(?:namespaces/([^/]+)/(deployments|replicasets)(?:/([^/]+))?|"
                       r"()(deployments|replicasets))$")
NODE_PATH = re.compile(r"^/api/v1/nodes(?:/([^/]+))?$")
NS_PATH = re.compile(r"^/api/v1/namespaces(?:/([^/]+))?$")


class Config:
    def __init__(self, version="v1.31.4"):
        self.version = version
        self.tokens = {}  # token -> (user, [groups])
        self.allow_anonymous = False
        # The switches, all changeable at run time through /_double/config.
        self.switches = {
            "deny": [],               # [{"verb","resource","subresource","user","namespace"}]
            "imagePullFailure": [],   # images whose pull fails ("*": all)
            "failRequests": [],       # [{"method","path","code","count"}]: 429/500/503 injection
            "dropAttachAfterSeconds": 0,  # cut every attach/exec this long after it starts
            "dropWatchAfterSeconds": 0,   # cut every watch this long after it starts
            "ephemeralContainersDisabled": False,  # pods/ephemeralcontainers answers 404
            "nodeLabels": {},  # merged into the node's labels (e.g. kubernetes.io/os: windows)
            "hostile": "",  # a misbehaviour of hostile.MODES, or "" (see apidouble/hostile.py)
            "hostilePath": "",  # only on the paths this regular expression matches ("": all)
            # [{"method","path","text"}]: a `Warning: 299 - "text"` header on matching answers
            "warnings": [],
        }
        # Re-entrant: an answer sent while holding it (the config endpoint's) reads the switches too.
        self.lock = threading.RLock()


class Sessions:
    """Open attach/exec/log/watch streams, so the dropped-connection switch can cut them."""

    def __init__(self):
        self.lock = threading.Lock()
        self.items = {"attach": set(), "exec": set(), "log": set(), "watch": set()}

    def add(self, kind, closer):
        with self.lock:
            self.items[kind].add(closer)

    def remove(self, kind, closer):
        with self.lock:
            self.items[kind].discard(closer)

    def drop(self, kinds):
        with self.lock:
            closers = [c for k in kinds for c in list(self.items.get(k, ()))]
        for c in closers:
            c()
        return len(closers)


class _Handled(Exception):
    """Raised after a response was already sent (an injected failure)."""


class DoubleServer(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 64

    def __init__(self, address, pki, store, runtime, config):
        self.pki, self.store, self.runtime, self.config = pki, store, runtime, config
        self.sessions = Sessions()
        self.redirect_target = hostile.RedirectTarget()
        super().__init__(address, Handler)
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(pki.server_cert, pki.server_key)
        ctx.load_verify_locations(pki.ca_cert)
        ctx.verify_mode = ssl.CERT_OPTIONAL
        ctx.set_alpn_protocols(["http/1.1"])

        def remember_sni(sslobj, server_name, _ctx):
            sslobj.ksc_server_name = server_name  # what the client asked for: --tls-server-name
        ctx.sni_callback = remember_sni
        self.ssl_context = ctx
        self.request_log = None  # a file: one JSON line per request (who sent it, with what)
        self.request_log_lock = threading.Lock()

    def get_request(self):
        sock, addr = self.socket.accept()
        # The handshake happens in the handler thread, so one slow client does not stall accept().
        return self.ssl_context.wrap_socket(sock, server_side=True, do_handshake_on_connect=False), addr

    def handle_error(self, request, client_address):
        pass  # clients that go away mid-request are normal here


class Handler(ClusterMixin, PodsMixin, WatchMixin, StreamingMixin, ControlMixin,
              http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "apidouble"
    sys_version = ""

    def log_message(self, fmt, *args):
        log = getattr(self.server, "access_log", None)
        if log:
            log.write("%s %s\n" % (time.strftime("%H:%M:%S"), fmt % args))
            log.flush()

    def setup(self):
        super().setup()
        try:
            self.connection.do_handshake()
        except (ssl.SSLError, OSError):
            self.close_connection = True
            raise

    # ---- plumbing
    def do_GET(self):
        self._dispatch("GET")

    def do_POST(self):
        self._dispatch("POST")

    def do_PUT(self):
        self._dispatch("PUT")

    def do_PATCH(self):
        self._dispatch("PATCH")

    def do_DELETE(self):
        self._dispatch("DELETE")

    def _dispatch(self, method):
        self.method = method
        parsed = urllib.parse.urlsplit(self.path)
        self.url_path = parsed.path.rstrip("/") or "/"
        self.query = urllib.parse.parse_qs(parsed.query, keep_blank_values=True)
        self._body = None
        self.warnings = []
        self._log_request()
        try:
            self.user, self.groups = self._authenticate()
            with self.server.config.lock:
                mode = self.server.config.switches.get("hostile", "")
                path_pattern = self.server.config.switches.get("hostilePath", "")
            if hostile.applies(mode, path_pattern, self):
                hostile.answer(self, mode, self.server.redirect_target)
                raise _Handled()
            self._impersonate()
            self._inject_failure()
            self._route()
        except _Handled:
            pass
        except ApiError as e:
            self._drain_body()
            self.send_json(e.code, e.status())
        except (BrokenPipeError, ConnectionResetError, ssl.SSLError):
            self.close_connection = True
        except Exception as e:  # a bug in the double: say so as the API server would
            import traceback
            traceback.print_exc()
            try:
                self.send_json(500, internal_error("apidouble: %r" % e).status())
            except OSError:
                self.close_connection = True

    def q(self, name, default=""):
        return self.query.get(name, [default])[0]

    def qbool(self, name):
        return self.q(name).lower() in ("1", "true", "t", "yes")

    def body(self):
        if self._body is None:
            if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
                parts = []
                while True:
                    size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                    if size == 0:
                        while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                            pass  # trailers
                        break
                    parts.append(self.rfile.read(size))
                    self.rfile.readline()
                self._body = b"".join(parts)
            else:
                n = int(self.headers.get("Content-Length") or 0)
                self._body = self.rfile.read(n) if n else b""
        return self._body

    def _drain_body(self):
        try:
            self.body()
        except OSError:
            pass

    def json_body(self):
        try:
            return json.loads(self.body() or b"null")
        except ValueError as e:
            raise bad_request("the body of the request could not be decoded: %s" % e)

    def warn(self, text):
        """A warning for the client, as the API server sends deprecations and admission warnings."""
        self.warnings.append(text)

    def _send_warnings(self):
        cfg = self.server.config
        with cfg.lock:
            rules = list(cfg.switches["warnings"])
        texts = list(getattr(self, "warnings", []))
        for r in rules:
            if r.get("method") and r["method"].upper() != self.method:
                continue
            if r.get("path") and not re.search(r["path"], self.path):
                continue
            texts.append(r["text"])
        for t in texts:
            self.send_header("Warning", '299 - "%s"' % t.replace("\\", "\\\\").replace('"', '\\"'))

    def send_json(self, code, obj, extra_headers=()):
        data = json.dumps(obj).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Audit-Id", str(uuid.uuid4()))
        for k, v in extra_headers:
            self.send_header(k, v)
        self._send_warnings()
        self.end_headers()
        self.wfile.write(data)

    def send_text(self, code, text, ctype="text/plain; charset=utf-8"):
        data = text.encode() if isinstance(text, str) else text
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def start_chunked(self, ctype):
        self.send_response(200)
        self._send_warnings()
        self.send_header("Content-Type", ctype)
        self.send_header("Transfer-Encoding", "chunked")
        self.send_header("Cache-Control", "no-cache, private")
        self.end_headers()

    def chunk(self, data):
        if data:
            self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
            self.wfile.flush()

    def end_chunked(self):
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()

    def abort_connection(self):
        self.close_connection = True
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def _peer_subject(self):
        try:
            cert = self.connection.getpeercert()
        except (ValueError, AttributeError):
            cert = None
        user, groups = "", []
        for rdn in (cert or {}).get("subject", ()):
            for k, v in rdn:
                if k == "commonName":
                    user = v
                elif k == "organizationName":
                    groups.append(v)
        return user, groups

    def _log_request(self):
        """What reached the server, as the tests compare it between kubectl and the plugin."""
        log = self.server.request_log
        if log is None:
            return
        entry = {
            "method": self.method, "path": self.url_path, "query": self.query,
            "authorization": self.headers.get("Authorization"),
            "client_cert": self._peer_subject()[0] or None,
            "host": self.headers.get("Host"),
            "sni": getattr(self.connection, "ksc_server_name", None),
            "upgrade": self.headers.get("Upgrade"),
            "user_agent": self.headers.get("User-Agent"),
            "accept_encoding": self.headers.get("Accept-Encoding"),
            "impersonate": {k.lower(): sorted(self.headers.get_all(k)) for k in set(self.headers.keys())
                            if k.lower().startswith("impersonate-")},
        }
        with self.server.request_log_lock:
            log.write(json.dumps(entry, sort_keys=True) + "\n")
            log.flush()

    # ---- authentication and the switches
    def _authenticate(self):
        auth = self.headers.get("Authorization", "")
        if auth.startswith("Bearer "):
            entry = self.server.config.tokens.get(auth[7:].strip())
            if entry is None:
                raise unauthorized()
            return entry
        user, groups = self._peer_subject()
        if user:
            return user, groups + ["system:authenticated"]
        if self.url_path in ("/healthz", "/livez", "/readyz", "/version") or self.server.config.allow_anonymous:
            return "system:anonymous", ["system:unauthenticated"]
        raise unauthorized()

    def _impersonate(self):
        """The API server's impersonation filter: the authenticated user must be allowed to
        impersonate each field asked for (verb impersonate on users, groups, uids and userextras);
        the request then runs as the impersonated user alone."""
        h = self.headers
        user = h.get("Impersonate-User")
        groups = h.get_all("Impersonate-Group") or []
        uid = h.get("Impersonate-Uid")
        extra = {}
        for k in set(h.keys()):
            if k.lower().startswith("impersonate-extra-"):
                key = urllib.parse.unquote(k[len("impersonate-extra-"):].lower())
                extra[key] = h.get_all(k)
        self.impersonated_by = None
        if user is None and not groups and uid is None and not extra:
            return
        if not user:
            raise internal_error("requested impersonation of groups, uid or user-extra without "
                                 "impersonating a user")
        self.authorize("impersonate", "users", name=user)
        for g in groups:
            self.authorize("impersonate", "groups", name=g)
        if uid is not None:
            self.authorize("impersonate", "uids", name=uid, group="authentication.k8s.io")
        for key, values in extra.items():
            for v in values:
                self.authorize("impersonate", "userextras", subresource=key, name=v,
                               group="authentication.k8s.io")
        self.impersonated_by = self.user
        self.groups = list(groups)
        if user != "system:anonymous" and "system:authenticated" not in self.groups:
            self.groups.append("system:authenticated")
        self.user = user
        self.extra = extra

    def _inject_failure(self):
        cfg = self.server.config
        with cfg.lock:
            for rule in cfg.switches["failRequests"]:
                if rule.get("count", 1) <= 0:
                    continue
                if rule.get("method") and rule["method"].upper() != self.method:
                    continue
                if rule.get("path") and not re.search(rule["path"], self.path):
                    continue
                rule["count"] = rule.get("count", 1) - 1
                code = int(rule.get("code", 503))
                retry_after = rule.get("retryAfter")
                break
            else:
                return
        if code == 429:
            e = too_many_requests()
            self._drain_body()
            self.send_json(429, e.status(), [("Retry-After", "1")])
            raise _Handled()
        if code == 0:  # drop the connection before answering
            self._drain_body()
            self.abort_connection()
            raise _Handled()
        if retry_after is not None:  # as an API server that is shutting down or overloaded says
            self._drain_body()
            e = ApiError(code, "ServiceUnavailable" if code == 503 else "InternalError",
                         "apidouble: injected failure (%d)" % code)
            self.send_json(code, e.status(), [("Retry-After", str(retry_after))])
            raise _Handled()
        raise ApiError(code, "ServiceUnavailable" if code == 503 else "InternalError",
                       "apidouble: injected failure (%d)" % code)

    def authorize(self, verb, resource, subresource="", namespace="", name="", group=""):
        cfg = self.server.config
        with cfg.lock:
            rules = list(cfg.switches["deny"])
        for r in rules:
            if r.get("verb", "*") not in ("*", verb):
                continue
            if r.get("resource", "*") not in ("*", resource, resource + "." + group):
                continue
            if r.get("subresource", "") not in ("*", subresource):
                continue
            if r.get("user") and r["user"] != self.user:
                continue
            if r.get("namespace") and r["namespace"] != namespace:
                continue
            raise rbac_forbidden(self.user, verb, resource, subresource, namespace, name, group)
        if not self.server.rbac.allows(self.user, self.groups, verb, group, resource, subresource, namespace, name):
            raise rbac_forbidden(self.user, verb, resource, subresource, namespace, name, group)

    # ---- routing
    def _route(self):
        p = self.url_path
        if p == "/version":
            return self.send_json(200, version_info(self.server.config.version))
        if p in ("/healthz", "/livez", "/readyz"):
            return self.send_text(200, "ok")
        if p == "/api":
            host = self.headers.get("Host", "127.0.0.1")
            return self.send_json(200, {"kind": "APIVersions", "versions": ["v1"],
                                        "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0",
                                                                        "serverAddress": host}]})
        if p == "/apis":
            return self.send_json(200, {"kind": "APIGroupList", "apiVersion": "v1",
                                        "groups": [appslib.APPS_GROUP, AUTHZ_GROUP, rbaclib.API_GROUP]})
        if p == "/apis/authorization.k8s.io":
            return self.send_json(200, dict(AUTHZ_GROUP, kind="APIGroup", apiVersion="v1"))
        if p == "/apis/authorization.k8s.io/v1":
            return self.send_json(200, DISCOVERY_AUTHZ_V1)
        if p == "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews":
            return self._access_review()
        if p.startswith("/apis/rbac.authorization.k8s.io") or p.endswith("/selfsubjectrulesreviews"):
            if self.server.rbac.serve(self, p):
                return None
        if p == "/apis/apps":
            return self.send_json(200, dict(appslib.APPS_GROUP, kind="APIGroup", apiVersion="v1"))
        if p == "/apis/apps/v1":
            return self.send_json(200, appslib.DISCOVERY_APPS_V1)
        m = APPS_PATH.match(p)
        if m:
            return self._apps(m)
        if p == "/api/v1":
            return self.send_json(200, DISCOVERY_V1)
        if p == "/openapi/v3":
            return self.send_json(200, {"paths": {
                "api/v1": {"serverRelativeURL": "/openapi/v3/api/v1?hash=" + OPENAPI_HASH},
                "apis/apps/v1": {"serverRelativeURL": "/openapi/v3/apis/apps/v1?hash=" + OPENAPI_HASH},
                "apis/rbac.authorization.k8s.io/v1": {
                    "serverRelativeURL": "/openapi/v3/apis/rbac.authorization.k8s.io/v1?hash=" + OPENAPI_HASH}}})
        if p == "/openapi/v3/api/v1":
            return self.send_json(200, openapi_doc("", "v1", [("/api/v1/namespaces/{namespace}/pods", "Pod")]))
        if p == "/openapi/v3/apis/apps/v1":
            return self.send_json(200, openapi_doc("apps", "v1", [
                ("/apis/apps/v1/namespaces/{namespace}/deployments", "Deployment")]))
        if p == "/openapi/v3/apis/rbac.authorization.k8s.io/v1":
            return self.send_json(200, openapi_doc(rbaclib.GROUP, "v1", rbaclib.OPENAPI_CREATABLE))
        if p.startswith("/_double/"):
            return self._control(p[len("/_double/"):])
        m = NODE_PATH.match(p)
        if m:
            return self._nodes(m.group(1))
        if p == "/api/v1/pods":
            return self._pods_collection(None)
        m = NS_PATH.match(p)
        if m:
            return self._namespaces(m.group(1))
        m = POD_PATH.match(p)
        if m:
            ns, name, sub = m.group(1), m.group(2), m.group(3)
            if name is None:
                return self._pods_collection(ns)
            return self._pod(ns, name, sub or "")
        raise ApiError(404, "NotFound", "the server could not find the requested resource",
                       {"causes": [{"reason": "UnexpectedServerResponse", "message": "404 page not found"}]})


def make_server(address, pki, store, runtime, config):
    srv = DoubleServer(address, pki, store, runtime, config)
    srv.create_pod = create_pod_fn(srv)
    srv.delete_pod = delete_pod_fn(srv)
    srv.apps = appslib.Apps(store)
    srv.rbac = rbaclib.Rbac()
    started = now_rfc3339()

    def node():
        """The one node every pod runs on: this machine, as the kubelet would describe it."""
        uname = os.uname()
        arch = {"x86_64": "amd64", "aarch64": "arm64"}.get(uname.machine, uname.machine)
        with config.lock:
            extra = dict(config.switches.get("nodeLabels") or {})
        labels = {"kubernetes.io/os": "linux", "kubernetes.io/arch": arch, "beta.kubernetes.io/os": "linux",
                  "beta.kubernetes.io/arch": arch, "kubernetes.io/hostname": runtime.node_name}
        labels.update(extra)
        return {"kind": "Node", "apiVersion": "v1",
                "metadata": {"name": runtime.node_name, "uid": "00000000-0000-0000-0000-0000000000aa",
                             "creationTimestamp": started, "resourceVersion": store.current_rv(),
                             "labels": labels},
                "spec": {},
                "status": {"addresses": [{"type": "InternalIP", "address": runtime.host_ip},
                                         {"type": "Hostname", "address": runtime.node_name}],
                           "conditions": [{"type": "Ready", "status": "True", "reason": "KubeletReady",
                                           "message": "kubelet is posting ready status",
                                           "lastHeartbeatTime": now_rfc3339(), "lastTransitionTime": started}],
                           "nodeInfo": {"architecture": arch, "operatingSystem": labels["kubernetes.io/os"],
                                        "kernelVersion": uname.release, "osImage": "apidouble (podman)",
                                        "containerRuntimeVersion": "containerd://1.7.24",
                                        "kubeletVersion": config.version, "kubeProxyVersion": config.version,
                                        "machineID": "", "systemUUID": "", "bootID": ""}}}
    srv.node = node
    return srv
