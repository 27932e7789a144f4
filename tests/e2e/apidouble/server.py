"""The HTTPS front: authentication, the switches, and the core/v1 endpoints kubectl and the plugin use.

Endpoints (all JSON unless said): /version, /api, /apis, /api/v1 (discovery), /openapi/v2|v3 (404,
as on a server without them: kubectl copes), namespaces, pods (list, watch, get, create, patch,
update, delete), pods/ephemeralcontainers (get, patch, update), pods/status (get), pods/log,
pods/attach and pods/exec (WebSocket), RBAC (rbac.py), and /_double/ (the test's control endpoint, see README).
"""
import copy
import http.server
import os
import json
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
from . import patch as patchlib
from . import rbac as rbaclib
from . import tables
from . import tokens as token_rotation
from . import validation
from . import websocket as ws
from .runtime import read_log_lines
from .status import (ApiError, FieldError, already_exists, bad_request, conflict, internal_error, invalid,
                     method_not_allowed, not_found, rbac_forbidden, success_status, too_many_requests,
                     unauthorized)
from .store import Conflict, TooOld, now_rfc3339

DISCOVERY_V1 = {
    "kind": "APIResourceList", "groupVersion": "v1",
    "resources": [
        {"name": "namespaces", "singularName": "namespace", "namespaced": False, "kind": "Namespace",
         "verbs": ["create", "delete", "get", "list", "patch", "update", "watch"], "shortNames": ["ns"]},
        {"name": "nodes", "singularName": "node", "namespaced": False, "kind": "Node",
         "verbs": ["get", "list"], "shortNames": ["no"]},
        {"name": "pods", "singularName": "pod", "namespaced": True, "kind": "Pod",
         "verbs": ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"],
         "shortNames": ["po"], "categories": ["all"]},
        {"name": "pods/attach", "singularName": "", "namespaced": True, "kind": "PodAttachOptions",
         "verbs": ["create", "get"]},
        {"name": "pods/ephemeralcontainers", "singularName": "", "namespaced": True, "kind": "Pod",
         "verbs": ["get", "patch", "update"]},
        {"name": "pods/exec", "singularName": "", "namespaced": True, "kind": "PodExecOptions",
         "verbs": ["create", "get"]},
        {"name": "pods/log", "singularName": "", "namespaced": True, "kind": "Pod", "verbs": ["get"]},
        {"name": "pods/status", "singularName": "", "namespaced": True, "kind": "Pod",
         "verbs": ["get", "patch", "update"]},
    ],
}

AUTHZ_GROUP = {"name": "authorization.k8s.io",
               "versions": [{"groupVersion": "authorization.k8s.io/v1", "version": "v1"}],
               "preferredVersion": {"groupVersion": "authorization.k8s.io/v1", "version": "v1"}}
DISCOVERY_AUTHZ_V1 = {
    "kind": "APIResourceList", "apiVersion": "v1", "groupVersion": "authorization.k8s.io/v1",
    "resources": [{"name": "selfsubjectaccessreviews", "singularName": "selfsubjectaccessreview",
                   "namespaced": False, "kind": "SelfSubjectAccessReview", "verbs": ["create"]},
                  rbaclib.RULES_REVIEW_RESOURCE],
}

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


class Handler(http.server.BaseHTTPRequestHandler):
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

    # ---- namespaces
    def _namespaces(self, name):
        store = self.server.store
        if self.method != "GET":
            raise method_not_allowed()
        if name is None:
            self.authorize("list", "namespaces")
            with store.cond:
                items = [copy.deepcopy(n) for _, n in sorted(store.namespaces.items())]
            for i in items:
                i.pop("kind", None)
                i.pop("apiVersion", None)
            return self.send_json(200, {"kind": "NamespaceList", "apiVersion": "v1",
                                        "metadata": {"resourceVersion": store.current_rv()}, "items": items})
        self.authorize("get", "namespaces", name=name)
        ns = store.get_namespace(name)
        if ns is None:
            raise not_found("namespaces", name)
        return self.send_json(200, ns)

    # ---- authorization.k8s.io/v1
    def _access_review(self):
        """SelfSubjectAccessReview (what `kubectl auth can-i` asks): the deny switch and RBAC decide."""
        if self.method != "POST":
            raise method_not_allowed()
        review = self.json_body()
        if not isinstance(review, dict):
            raise bad_request("the body of the request was not a SelfSubjectAccessReview")
        attrs = (review.get("spec") or {}).get("resourceAttributes") or {}
        allowed = True
        try:
            self.authorize(attrs.get("verb", ""), attrs.get("resource", ""), attrs.get("subresource", ""),
                           attrs.get("namespace", ""), attrs.get("name", ""), attrs.get("group", ""))
        except ApiError:
            allowed = False  # as from RBAC: no rule allows it, no reason given
        status = {"allowed": allowed}
        review.update({"kind": "SelfSubjectAccessReview", "apiVersion": "authorization.k8s.io/v1",
                       "metadata": {"creationTimestamp": None}, "status": status})
        return self.send_json(201, review)

    # ---- nodes
    def _nodes(self, name):
        if self.method != "GET":
            raise method_not_allowed()
        node = self.server.node()
        if name is None:
            self.authorize("list", "nodes")
            rv = self.server.store.current_rv()
            nodes = [node] if selector(self.q("fieldSelector"), self.q("labelSelector"))(node) else []
            if self._wants_table():
                return self.send_json(200, tables.node_table(nodes, rv, self.q("includeObject", "Metadata")))
            for n in nodes:
                n.pop("kind")
                n.pop("apiVersion")
            return self.send_json(200, {"kind": "NodeList", "apiVersion": "v1",
                                        "metadata": {"resourceVersion": rv}, "items": nodes})
        self.authorize("get", "nodes", name=name)
        if name != node["metadata"]["name"]:
            raise not_found("nodes", name)
        if self._wants_table():
            return self.send_json(200, tables.node_table([node], node["metadata"]["resourceVersion"],
                                                         self.q("includeObject", "Metadata")))
        return self.send_json(200, node)

    # ---- apps/v1
    def _apps(self, m):
        # APPS_PATH's two forms put the resource in group 2 (namespaced) or 5 (all namespaces).
        resource = m.group(2) or m.group(5)
        ns = m.group(1)
        name = m.group(3)
        kind = "Deployment" if resource == "deployments" else "ReplicaSet"
        apps = self.server.apps
        if name is None:
            if self.method == "POST" and kind == "Deployment" and ns:
                self.authorize("create", resource, namespace=ns, group="apps")
                obj = apps.create_deployment(ns, self.json_body(), self.server.create_pod)
                return self.send_json(201, obj)
            if self.method != "GET":
                raise method_not_allowed()
            self.authorize("list", resource, namespace=ns or "", group="apps")
            match = selector("", self.q("labelSelector"))
            objs = [o for o in apps.list(kind, ns) if match(o)]
            rv = self.server.store.current_rv()
            if self._wants_table():
                return self.send_json(200, appslib.table(kind, objs, rv, self.q("includeObject", "Metadata")))
            for o in objs:
                o.pop("kind", None)
                o.pop("apiVersion", None)
            return self.send_json(200, {"kind": kind + "List", "apiVersion": "apps/v1",
                                        "metadata": {"resourceVersion": rv}, "items": objs})
        if self.method == "GET":
            self.authorize("get", resource, namespace=ns, name=name, group="apps")
            obj = apps.get(kind, ns, name)
            if obj is None:
                raise not_found(resource + ".apps", name)
            if self._wants_table():
                return self.send_json(200, appslib.table(kind, [obj], obj["metadata"]["resourceVersion"],
                                                         self.q("includeObject", "Metadata")))
            return self.send_json(200, obj)
        if self.method == "DELETE":
            self.authorize("delete", resource, namespace=ns, name=name, group="apps")
            self._drain_body()
            obj = apps.delete(kind, ns, name, self.server.delete_pod)
            if obj is None:
                raise not_found(resource + ".apps", name)
            return self.send_json(200, obj)
        raise method_not_allowed()

    # ---- pods
    def _wants_table(self):
        return "as=Table" in self.headers.get("Accept", "")

    def _pods_collection(self, ns):
        store = self.server.store
        if self.method == "POST" and ns is not None:
            self.authorize("create", "pods", namespace=ns)
            pod = self.json_body()
            if self.q("fieldValidation") == "Strict" and isinstance(pod, dict):
                unknown = validation.unknown_pod_fields(pod)
                if unknown:
                    raise bad_request('Pod in version "v1" cannot be handled as a Pod: strict decoding error: '
                                      + ", ".join('unknown field "%s"' % f for f in unknown))
            return self.send_json(201, self.server.create_pod(ns, pod))
        if self.method != "GET":
            raise method_not_allowed()
        watching = self.qbool("watch")
        self.authorize("watch" if watching else "list", "pods", namespace=ns or "")
        match = selector(self.q("fieldSelector"), self.q("labelSelector"))
        if watching:
            return self._watch(ns, match)
        pods, rv = store.list_pods(ns)
        pods = [p for p in pods if match(p)]
        if self._wants_table():
            return self.send_json(200, tables.pod_table(pods, rv, self.q("includeObject", "Metadata")))
        for p in pods:
            p.pop("kind", None)
            p.pop("apiVersion", None)
        return self.send_json(200, {"kind": "PodList", "apiVersion": "v1",
                                    "metadata": {"resourceVersion": rv}, "items": pods})

    def _watch(self, ns, match):
        store, sessions = self.server.store, self.server.sessions
        table = self._wants_table()
        include = self.q("includeObject", "Metadata")
        rv_param = self.q("resourceVersion")
        bookmarks = self.qbool("allowWatchBookmarks")
        timeout = float(self.q("timeoutSeconds") or 1800)
        with self.server.config.lock:
            drop_after = float(self.server.config.switches.get("dropWatchAfterSeconds") or 0)
        self.start_chunked("application/json")
        first = [True]

        def emit(etype, obj):
            if table and etype in ("ADDED", "MODIFIED", "DELETED"):
                obj = tables.pod_table([obj], obj["metadata"]["resourceVersion"], include, with_columns=first[0])
                first[0] = False
            self.chunk(json.dumps({"type": etype, "object": obj}).encode() + b"\n")

        initial_events = self.qbool("sendInitialEvents")
        # What to send first is taken under the store's lock; it is written after, so a client that
        # reads slowly never holds up the store.
        initial, too_old = [], None
        with store.cond:
            generation = store.drop_generation
            if rv_param in ("", "0") or initial_events:
                pods, rv = store.list_pods(ns)
                initial = [("ADDED", p) for p in pods if match(p)]
                position = int(rv)
                if initial_events and bookmarks:
                    # The watch-list protocol: a bookmark marks the end of the initial state.
                    initial.append(("BOOKMARK", {"kind": "Pod", "apiVersion": "v1", "metadata": {
                        "resourceVersion": rv, "annotations": {"k8s.io/initial-events-end": "true"}}}))
            else:
                try:
                    position = int(rv_param)
                    store.events_after(position)
                except (TooOld, ValueError):
                    too_old = store.first_retained_rv
        if too_old is not None:
            emit("ERROR", {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                           "message": "too old resource version: %s (%d)" % (rv_param, too_old),
                           "reason": "Expired", "code": 410})
            self.end_chunked()
            return
        for etype, obj in initial:
            emit(etype, obj)
        dropped = threading.Event()

        def closer():
            dropped.set()
            store.drop_connections()
        sessions.add("watch", closer)
        started = time.time()
        last_bookmark = time.time()
        try:
            while not store.closed:
                left = timeout - (time.time() - started)
                if left <= 0:
                    break
                if drop_after and time.time() - started >= drop_after:
                    dropped.set()
                if dropped.is_set() or store.drop_generation != generation:
                    self.abort_connection()
                    return
                try:
                    events = store.events_after(position)
                except TooOld:
                    break
                for erv, etype, kind, obj, prev in events:
                    position = erv
                    if kind != "Pod" or (ns and obj["metadata"]["namespace"] != ns):
                        continue
                    now = match(obj)
                    if etype == "MODIFIED" and prev is not None and match(prev) != now:
                        etype = "ADDED" if now else "DELETED"
                    elif not now:
                        continue
                    emit(etype, copy.deepcopy(obj))
                if bookmarks and time.time() - last_bookmark > 5:
                    last_bookmark = time.time()
                    emit("BOOKMARK", {"kind": "Pod", "apiVersion": "v1",
                                      "metadata": {"resourceVersion": str(position)}})
                store.wait(position, generation, min(left, 1.0, drop_after or 1.0))
            self.end_chunked()
        except OSError:
            self.close_connection = True
        finally:
            sessions.remove("watch", closer)

    def _get_pod_or_404(self, ns, name):
        pod = self.server.store.get_pod(ns, name)
        if pod is None:
            raise not_found("pods", name)
        return pod

    def _pod(self, ns, name, sub):
        if sub == "":
            return self._pod_main(ns, name)
        if sub == "ephemeralcontainers":
            with self.server.config.lock:
                disabled = self.server.config.switches.get("ephemeralContainersDisabled")
            if disabled:  # a cluster without the subresource: 404 with no name in the details
                raise ApiError(404, "NotFound", "the server could not find the requested resource", {})
            return self._pod_ephemeral(ns, name)
        if sub == "status":
            if self.method != "GET":
                raise method_not_allowed()
            self.authorize("get", "pods", "status", ns, name)
            return self.send_json(200, self._get_pod_or_404(ns, name))
        if sub == "log":
            self.authorize("get", "pods", "log", ns, name)
            return self._logs(ns, name)
        if sub in ("attach", "exec"):
            # The upgrade is a GET (verb get); AuthorizePodWebsocketUpgradeCreatePermission adds "create".
            self.authorize("get", "pods", sub, ns, name)
            self.authorize("create", "pods", sub, ns, name)
            return self._stream(ns, name, sub)
        raise ApiError(404, "NotFound", "the server could not find the requested resource")

    def _pod_main(self, ns, name):
        store = self.server.store
        if self.method == "GET":
            self.authorize("get", "pods", "", ns, name)
            pod = self._get_pod_or_404(ns, name)
            if self._wants_table():
                return self.send_json(200, tables.pod_table([pod], pod["metadata"]["resourceVersion"],
                                                            self.q("includeObject", "Metadata")))
            return self.send_json(200, pod)
        if self.method == "DELETE":
            self.authorize("delete", "pods", "", ns, name)
            pod = self._get_pod_or_404(ns, name)
            self._drain_body()
            return self.send_json(200, self.server.delete_pod(ns, name) or pod)
        if self.method in ("PATCH", "PUT"):
            verb = "patch" if self.method == "PATCH" else "update"
            self.authorize(verb, "pods", "", ns, name)
            new_body = self._patched_body_fn()

            def mutate(pod):
                old = copy.deepcopy(pod)
                new = new_body(pod)
                validation.default_pod(new, ns, old["spec"].get("nodeName"))
                check_pod_update(old, new)
                pod.clear()
                pod.update(new)
                pod["status"] = old["status"]
                pod["metadata"].update({k: old["metadata"][k] for k in
                                        ("uid", "creationTimestamp", "namespace", "name") if k in old["metadata"]})
            return self.send_json(200, self._update(ns, name, mutate))
        raise method_not_allowed()

    def _patched_body_fn(self):
        """A function old_pod -> new_pod for this PATCH or PUT request."""
        if self.method == "PUT":
            body = self.json_body()
            if not isinstance(body, dict):
                raise bad_request("the body of the request was not a Pod")
            self._expected_rv = body.get("metadata", {}).get("resourceVersion")
            return lambda old: copy.deepcopy(body)
        ctype = self.headers.get("Content-Type", "").split(";")[0].strip()
        apply = patchlib.PATCH_TYPES.get(ctype)
        if apply is None:
            self._drain_body()
            raise ApiError(415, "UnsupportedMediaType",
                           "the body of the request was in an unknown format - accepted media types include: "
                           "application/json-patch+json, application/merge-patch+json, "
                           "application/apply-patch+yaml, application/strategic-merge-patch+json")
        body = self.json_body()
        self._expected_rv = None

        def fn(old):
            try:
                return apply(old, body)
            except patchlib.PatchError as e:
                raise ApiError(422 if ctype == "application/json-patch+json" else 400,
                               "Invalid" if ctype == "application/json-patch+json" else "BadRequest", str(e))
        return fn

    def _update(self, ns, name, mutate):
        store = self.server.store
        try:
            pod = store.update_pod(ns, name, mutate, expected_rv=getattr(self, "_expected_rv", None))
        except Conflict:
            raise conflict("pods", name)
        if pod is None:
            raise not_found("pods", name)
        return pod

    def _pod_ephemeral(self, ns, name):
        store, runtime = self.server.store, self.server.runtime
        if self.method == "GET":
            self.authorize("get", "pods", "ephemeralcontainers", ns, name)
            return self.send_json(200, self._get_pod_or_404(ns, name))
        if self.method not in ("PATCH", "PUT"):
            raise method_not_allowed()
        verb = "patch" if self.method == "PATCH" else "update"
        self.authorize(verb, "pods", "ephemeralcontainers", ns, name)
        new_body = self._patched_body_fn()
        added = []

        def mutate(pod):
            old = copy.deepcopy(pod)
            new = new_body(copy.deepcopy(pod))
            if not isinstance(new, dict):
                raise bad_request("the patched object is not a Pod")
            # Only spec.ephemeralContainers may change through this subresource; the rest of the
            # request is ignored (the registry's dropNonEphemeralContainerUpdates).
            ecs = (new.get("spec") or {}).get("ephemeralContainers") or []
            ecs = [validation.default_container(copy.deepcopy(c)) for c in ecs if isinstance(c, dict)]
            candidate = copy.deepcopy(old)
            candidate["spec"]["ephemeralContainers"] = ecs
            if not ecs:
                candidate["spec"].pop("ephemeralContainers", None)
            validation.validate_ephemeral_update(old, candidate)
            validation.pod_security_check(store.get_namespace(ns), candidate)
            for text in validation.pod_security_warnings(store.get_namespace(ns), candidate):
                self.warn(text)
            old_names = {c["name"] for c in old["spec"].get("ephemeralContainers") or []}
            added[:] = [c["name"] for c in ecs if c["name"] not in old_names]
            pod["spec"] = candidate["spec"]
            statuses = pod["status"].setdefault("ephemeralContainerStatuses", [])
            for c in ecs:
                if c["name"] in added:
                    statuses.append({"name": c["name"], "image": c["image"], "imageID": "",
                                     "ready": False, "restartCount": 0,
                                     "lastState": {}, "state": {"waiting": {"reason": "PodInitializing"}}})
        pod = self._update(ns, name, mutate)
        for c in added:
            runtime.start_ephemeral(ns, name, c)
        return self.send_json(200, pod)

    # ---- logs
    def _container_for(self, pod, allow_ephemeral=True):
        name = self.q("container")
        spec = pod["spec"]
        regular = [c["name"] for c in spec.get("containers", [])]
        init = [c["name"] for c in spec.get("initContainers", [])]
        eph = [c["name"] for c in spec.get("ephemeralContainers", [])]
        if not name:
            default = pod["metadata"].get("annotations", {}).get("kubectl.kubernetes.io/default-container")
            if default in regular:
                return default
            if len(regular) == 1:
                return regular[0]
            msg = "a container name must be specified for pod %s, choose one of: [%s]" % (
                pod["metadata"]["name"], " ".join(regular))
            if init:
                msg += " or one of the init containers: [%s]" % " ".join(init)
            if eph:
                msg += " or one of the ephemeral containers: [%s]" % " ".join(eph)
            raise bad_request(msg)
        if name in regular or name in init or (allow_ephemeral and name in eph):
            return name
        raise bad_request("container %s is not valid for pod %s" % (name, pod["metadata"]["name"]))

    def _logs(self, ns, name):
        if self.method != "GET":
            raise method_not_allowed()
        runtime, sessions = self.server.runtime, self.server.sessions
        pod = self._get_pod_or_404(ns, name)
        container = self._container_for(pod)
        previous = self.qbool("previous")
        inst = runtime.instance(ns, name, container, previous=previous)
        if inst is None:
            if previous:
                raise bad_request('previous terminated container "%s" in pod "%s" not found' % (container, name))
            statuses = pod["status"].get("containerStatuses", []) + pod["status"].get("ephemeralContainerStatuses", [])
            waiting = next((s["state"].get("waiting", {}) for s in statuses if s["name"] == container), {})
            reason = waiting.get("reason", "ContainerCreating")
            if reason in ("ErrImagePull", "ImagePullBackOff"):
                reason = "trying and failing to pull image"
            raise bad_request('container "%s" in pod "%s" is waiting to start: %s' % (container, name, reason))
        timestamps = self.qbool("timestamps")
        since = self.q("sinceTime") or None
        if self.q("sinceSeconds"):
            since = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - int(self.q("sinceSeconds"))))
        tail = int(self.q("tailLines")) if self.q("tailLines") else None
        limit = int(self.q("limitBytes")) if self.q("limitBytes") else None
        if not self.qbool("follow") or previous:
            text = "".join(read_log_lines(inst.log_path, tail=tail, timestamps=timestamps, since=since)).encode()
            if limit is not None:
                text = text[:limit]
            return self.send_text(200, text)
        self.start_chunked("text/plain")
        dropped = threading.Event()
        closer = dropped.set
        sessions.add("log", closer)
        try:
            lines = read_log_lines(inst.log_path, tail=tail, timestamps=timestamps, since=since)
            sent = len(read_log_lines(inst.log_path))
            for line in lines:
                self.chunk(line.encode())
            while not dropped.is_set():
                with inst.lock:
                    done = inst.done and inst.streams_open <= 0
                    inst.lock.wait(0.5)
                all_lines = read_log_lines(inst.log_path, timestamps=timestamps)
                for line in all_lines[sent:]:
                    self.chunk(line.encode())
                sent = len(all_lines)
                if done:
                    break
            if dropped.is_set():
                self.abort_connection()
                return
            self.end_chunked()
        except OSError:
            self.close_connection = True
        finally:
            sessions.remove("log", closer)

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

    # ---- control endpoint
    def _control(self, what):
        cfg, store = self.server.config, self.server.store
        if what == "state" and self.method == "GET":
            with cfg.lock:
                return self.send_json(200, {"switches": cfg.switches, "version": cfg.version,
                                            "redirectTargetConnections": self.server.redirect_target.connections})
        if self.method != "POST":
            raise method_not_allowed()
        body = self.json_body() or {}
        if what == "config":
            with cfg.lock:
                for k, v in body.items():
                    if k not in cfg.switches:
                        raise bad_request("unknown switch %r (known: %s)" % (k, ", ".join(sorted(cfg.switches))))
                    if k == "hostile" and v and v not in hostile.MODES:
                        raise bad_request("unknown hostile mode %r (known: %s)" % (v, ", ".join(hostile.MODES)))
                    cfg.switches[k] = v
                return self.send_json(200, {"switches": cfg.switches})
        if what == "tokens":
            return self.send_json(200, token_rotation.apply(cfg, body))
        if what == "drop":
            kinds = body.get("what") or ["attach", "exec", "log", "watch"]
            n = self.server.sessions.drop(kinds)
            return self.send_json(200, {"dropped": n})
        if what == "namespaces":
            return self.send_json(200, store.ensure_namespace(body["name"], body.get("labels")))
        if what == "deployments":
            ns = body.get("metadata", {}).get("namespace", "default")
            return self.send_json(201, self.server.apps.create_deployment(ns, body, self.server.create_pod))
        if what == "pods":
            ns = body.get("metadata", {}).get("namespace", "default")
            return self.send_json(201, self.server.create_pod(ns, body))
        raise ApiError(404, "NotFound", "unknown control endpoint /_double/%s" % what)


def check_pod_update(old, new):
    """ValidatePodUpdate: only images, activeDeadlineSeconds, tolerations (additions) and
    terminationGracePeriodSeconds may change in a pod's spec; labels and annotations may change."""
    a, b = copy.deepcopy(old["spec"]), copy.deepcopy(new["spec"])
    for spec in (a, b):
        for c in spec.get("containers", []) + spec.get("initContainers", []):
            c.pop("image", None)
        for k in ("activeDeadlineSeconds", "tolerations", "terminationGracePeriodSeconds"):
            spec.pop(k, None)
    if a != b:
        raise invalid("Pod", old["metadata"]["name"], [FieldError(
            "Forbidden", "spec",
            detail="pod updates may not change fields other than `spec.containers[*].image`,"
                   "`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` "
                   "(only additions to existing tolerations),`spec.terminationGracePeriodSeconds` "
                   "(allow it to be set to 1 if it was previously negative)\n")])


OPENAPI_HASH = "apidouble1"


def openapi_doc(group, version, creatable):
    """Just enough OpenAPI v3 for kubectl create/apply to see that the server does field validation
    (a fieldValidation parameter on the create operation), so it sends fieldValidation=Strict and
    validates nothing itself. No schemas: the double has none."""
    paths = {}
    params = [{"name": name, "in": "query", "schema": {"type": "string", "uniqueItems": True}}
              for name in ("dryRun", "fieldManager", "fieldValidation", "pretty")]
    for path, kind in creatable:
        gvk = {"group": group, "version": version, "kind": kind}
        paths[path] = {"post": {"operationId": "create" + kind, "x-kubernetes-action": "post",
                                "x-kubernetes-group-version-kind": gvk, "parameters": params,
                                "responses": {"201": {"description": "Created"}}}}
        # kubectl's QueryParamVerifierV3 looks at the PATCH operation of the kind.
        paths[path + "/{name}"] = {"patch": {"operationId": "patch" + kind, "x-kubernetes-action": "patch",
                                             "x-kubernetes-group-version-kind": gvk, "parameters": params,
                                             "responses": {"200": {"description": "OK"}}}}
    return {"openapi": "3.0.0", "info": {"title": "Kubernetes", "version": "v1.31.4"}, "paths": paths,
            "components": {"schemas": {}}}


def version_info(git_version):
    m = re.match(r"v(\d+)\.(\d+)", git_version)
    major, minor = (m.group(1), m.group(2)) if m else ("1", "31")
    return {"major": major, "minor": minor, "emulationMajor": major, "emulationMinor": minor,
            "gitVersion": git_version, "gitCommit": "0000000000000000000000000000000000000000",
            "gitTreeState": "clean", "buildDate": "2024-12-10T11:43:21Z", "goVersion": "go1.22.9",
            "compiler": "gc", "platform": "linux/amd64"}


def selector(field_sel, label_sel):
    """A predicate for fieldSelector (metadata.name, metadata.namespace, spec.nodeName, status.phase;
    = == !=) and labelSelector (k=v, k==v, k!=v, k, !k, k in (a,b), k notin (a,b))."""
    tests = []
    for term in filter(None, (t.strip() for t in field_sel.split(","))):
        m = re.match(r"^([\w.]+)\s*(==|!=|=)\s*(.*)$", term)
        if not m:
            raise bad_request('invalid field selector: "%s"' % term)
        path, op, value = m.groups()
        if path not in ("metadata.name", "metadata.namespace", "spec.nodeName", "status.phase",
                        "spec.restartPolicy", "spec.schedulerName", "spec.serviceAccountName", "status.podIP"):
            raise bad_request('"%s" is not a known field selector: only "metadata.name", "metadata.namespace"' % path)

        def ftest(pod, path=path, op=op, value=value):
            obj = pod
            for part in path.split("."):
                obj = (obj or {}).get(part)
            return (str(obj or "") == value) == (op != "!=")
        tests.append(ftest)
    for term in _split_labels(label_sel):
        m = re.match(r"^([\w./-]+)\s+(in|notin)\s+\((.*)\)$", term)
        if m:
            key, op, values = m.group(1), m.group(2), {v.strip() for v in m.group(3).split(",")}
            tests.append(lambda p, k=key, op=op, vs=values:
                         (p["metadata"].get("labels", {}).get(k) in vs) == (op == "in"))
            continue
        m = re.match(r"^([\w./-]+)\s*(==|!=|=)\s*([\w./-]*)$", term)
        if m:
            key, op, value = m.groups()
            tests.append(lambda p, k=key, op=op, v=value:
                         (p["metadata"].get("labels", {}).get(k) == v) == (op != "!="))
            continue
        if term.startswith("!"):
            tests.append(lambda p, k=term[1:]: k not in p["metadata"].get("labels", {}))
        else:
            tests.append(lambda p, k=term: k in p["metadata"].get("labels", {}))
    return lambda pod: all(t(pod) for t in tests)


def _split_labels(sel):
    terms, depth, cur = [], 0, ""
    for ch in sel:
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        if ch == "," and depth == 0:
            terms.append(cur.strip())
            cur = ""
        else:
            cur += ch
    if cur.strip():
        terms.append(cur.strip())
    return terms


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


def create_pod_fn(server):
    def create_pod(ns, pod):
        if not isinstance(pod, dict):
            raise bad_request("the body of the request was not a Pod")
        pod = copy.deepcopy(pod)
        meta = pod.setdefault("metadata", {})
        if meta.get("namespace") and meta["namespace"] != ns:
            raise bad_request("the namespace of the provided object does not match the namespace sent on the request")
        if not meta.get("name") and meta.get("generateName"):
            meta["name"] = meta["generateName"] + uuid.uuid4().hex[:5]
        validation.default_pod(pod, ns, server.runtime.node_name)
        validation.validate_new_pod(pod)
        validation.pod_security_check(server.store.get_namespace(ns), pod)
        meta["uid"] = str(uuid.uuid4())
        meta["creationTimestamp"] = now_rfc3339()
        pod.pop("status", None)
        pod["status"] = {"phase": "Pending", "qosClass": "BestEffort"}
        stored = server.store.add_pod(pod)
        if stored is None:
            raise already_exists("pods", meta["name"])
        server.runtime.start_pod(stored)
        return server.store.get_pod(ns, meta["name"])
    return create_pod


def delete_pod_fn(server):
    def delete_pod(ns, name):
        store = server.store

        def mark(pod):
            pod["metadata"]["deletionTimestamp"] = now_rfc3339()
            pod["metadata"]["deletionGracePeriodSeconds"] = pod["spec"].get("terminationGracePeriodSeconds", 30)
        pod = store.update_pod(ns, name, mark)

        def finish():
            server.runtime.delete_pod(ns, name)
            store.delete_pod(ns, name)
        threading.Thread(target=finish, daemon=True).start()
        return pod
    return delete_pod


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

