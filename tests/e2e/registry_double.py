#!/usr/bin/env python3
"""A registry double: an OCI distribution (registry v2) server over HTTPS, with the token challenge.

Python's standard library only, written from the distribution spec and Docker's token-auth spec,
not from the plugin's client. It serves a few fixed images that cover what a client meets:

  library/app:1        an OCI image manifest (Entrypoint, Cmd, WorkingDir, User)
  library/multi:1      an OCI index: linux/amd64, linux/arm64/v8, linux/arm/v7, and an attestation
  library/dlist:1      a Docker manifest list (schema 2) with the same platforms
  library/noconfig:1   an image whose config has no "config" object
  private/app:1        pull needs user "puller", password "s3cret" at the token service
  basic/app:1          the registry itself asks for Basic auth (no token service)
  huge/app:1           a 5 MiB manifest (clients must refuse to read it whole)
  library/schema1:1    a schema 1 manifest
  tampered/config:1    its config blob's bytes are not what its digest says (a swapped blob)
  tampered/index:1     an index whose amd64 manifest, fetched by digest, is not what the digest says

Every /v2/ request needs `Authorization: Bearer T` where T came from /token for that repository
(scope repository:NAME:pull to read, repository:NAME:pull,push to write); without one it answers
401 with `WWW-Authenticate: Bearer realm="https://HOST/token",service="registry-double",scope="..."`
naming the actions the request needs. Anyone gets pull (but for private/); push is granted only to
user "puller" with password "s3cret" (Basic at the token service), or to the holder of the refresh
token "refresh-for-puller" (POST /token, grant_type=refresh_token: the OAuth2 form). Blobs are served through a 307
redirect to /storage/, as registries backed by object storage do.

The push side, from the OCI distribution spec: POST /v2/NAME/blobs/uploads/ opens an upload (202,
Location, Range 0-0) or, with ?digest=, takes the whole blob at once (201); PATCH appends a chunk
whose Content-Range must start where the upload stands (416 otherwise); PUT ?digest= closes it,
checking the digest (400 DIGEST_INVALID); GET on an upload says its Range (204); HEAD on a blob
answers its size and digest. PUT /v2/NAME/manifests/REF stores a manifest (201, Location,
Docker-Content-Digest) if its Content-Type is a manifest type and agrees with its mediaType, every
blob it names is there (400 MANIFEST_BLOB_UNKNOWN) and, when REF is a digest, the body hashes to it.
Pushed blobs are seen only in the repositories they were pushed or mounted (?mount=&from=) to. DELETE
cancels an upload. `server.fail` makes chosen requests fail (503 and the like).
`Images.artifact()` seeds an artifact (the tests' older-format profiles); `serve(tls=False)` serves
plain HTTP (a local registry without TLS).

  registry_double.py --state-dir DIR [--port 0]            serve; prints the URL; writes DIR/registry.json
  registry_double.py --state-dir DIR -- CMD ARGS...         serve while CMD runs, with KSC_REGISTRY_DOUBLE=DIR/registry.json
                                                            in its environment; exits with its status
                                                            (77 when openssl is missing)
"""
import argparse
import base64
import hashlib
import http.server
import json
import os
import re
import secrets
import shutil
import socketserver
import ssl
import subprocess
import sys
import threading
import urllib.parse
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
DOCKER_CONFIG = "application/vnd.docker.container.image.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"

USER, PASSWORD = "puller", "s3cret"
# What `docker login` to an OAuth2 registry keeps as "identitytoken": exchanged at POST /token.
REFRESH_TOKEN = "refresh-for-puller"
MANIFEST_TYPES = (OCI_MANIFEST, OCI_INDEX, DOCKER_MANIFEST, DOCKER_LIST)
MAX_MANIFEST = 4 << 20


def digest(data):
    return "sha256:" + hashlib.sha256(data).hexdigest()


class Images:
    """Manifests by (repo, reference) and blobs by digest, built once."""

    def __init__(self):
        self.manifests = {}  # (repo, ref) -> (media type, bytes)
        self.blobs = {}
        # Pushed blobs belong to the repositories they were pushed (or mounted) to, as in a real
        # registry; the fixed images' blobs are visible everywhere.
        self.links = {}  # digest -> set of repos

    def visible(self, repo, d):
        return d in self.blobs and (d not in self.links or repo in self.links[d])

    def blob(self, obj):
        data = json.dumps(obj).encode()
        d = digest(data)
        self.blobs[d] = data
        return d, len(data)

    def manifest(self, repo, tag, media_type, obj):
        data = json.dumps(obj, indent=1).encode()
        d = digest(data)
        self.manifests[(repo, d)] = (media_type, data)
        if tag:
            self.manifests[(repo, tag)] = (media_type, data)
        return d, len(data)

    def raw_blob(self, data, repo=None):
        d = digest(data)
        self.blobs[d] = data
        if repo and d in self.links:  # already pushed somewhere: now in this repository too
            self.links[d].add(repo)
        return d, len(data)

    def artifact(self, repo, tag, config_media_type, config_bytes, layers, artifact_type=None, annotations=None):
        """An OCI image manifest for an artifact; layers are (media type, bytes, title or None, platform or
        None) tuples. Returns (digest, size) of the manifest."""
        cd, cl = self.raw_blob(config_bytes, repo)
        m = {"schemaVersion": 2, "mediaType": OCI_MANIFEST}
        if artifact_type:
            m["artifactType"] = artifact_type
        m["config"] = {"mediaType": config_media_type, "digest": cd, "size": cl}
        m["layers"] = []
        for media_type, data, title, platform in layers:
            ld, ll = self.raw_blob(data, repo)
            desc = {"mediaType": media_type, "digest": ld, "size": ll}
            if title:
                desc["annotations"] = {"org.opencontainers.image.title": title}
            if platform:
                os_, arch = platform.split("/")[:2]
                desc["platform"] = {"os": os_, "architecture": arch}
            m["layers"].append(desc)
        if annotations:
            m["annotations"] = annotations
        return self.manifest(repo, tag, OCI_MANIFEST, m)

    def image(self, repo, tag, config, arch="amd64", variant=None, docker=False):
        cfg = {"architecture": arch, "os": "linux", "rootfs": {"type": "layers", "diff_ids": []}}
        if config is not None:
            cfg["config"] = config
        if variant:
            cfg["variant"] = variant
        cd, cl = self.blob(cfg)
        mt = DOCKER_MANIFEST if docker else OCI_MANIFEST
        m = {"schemaVersion": 2, "mediaType": mt,
             "config": {"mediaType": DOCKER_CONFIG if docker else OCI_CONFIG, "digest": cd, "size": cl},
             "layers": []}
        return self.manifest(repo, tag, mt, m)

    def index(self, repo, tag, docker=False):
        entries = []
        for arch, variant in (("amd64", None), ("arm64", "v8"), ("arm", "v7")):
            d, n = self.image(repo, None, {"Entrypoint": ["/bin/" + arch], "Cmd": ["--variant", variant or ""]},
                              arch, variant, docker)
            p = {"os": "linux", "architecture": arch}
            if variant:
                p["variant"] = variant
            entries.append({"mediaType": DOCKER_MANIFEST if docker else OCI_MANIFEST, "digest": d, "size": n,
                            "platform": p})
        if not docker:  # buildx's provenance attestation: platform unknown/unknown
            d, n = self.image(repo, None, None, "unknown")
            entries.append({"mediaType": OCI_MANIFEST, "digest": d, "size": n,
                            "platform": {"os": "unknown", "architecture": "unknown"},
                            "annotations": {"vnd.docker.reference.type": "attestation-manifest"}})
        mt = DOCKER_LIST if docker else OCI_INDEX
        return self.manifest(repo, tag, mt, {"schemaVersion": 2, "mediaType": mt, "manifests": entries})


def build_images():
    im = Images()
    im.image("library/app", "1", {"Entrypoint": ["/usr/bin/app", "--serve"], "Cmd": ["--port", "8080"],
                                  "WorkingDir": "/srv", "User": "1000:1000"})
    im.index("library/multi", "1")
    im.index("library/dlist", "1", docker=True)
    im.image("library/noconfig", "1", None)
    im.image("private/app", "1", {"Cmd": ["/private"]})
    im.image("basic/app", "1", {"Cmd": ["/basic"]}, docker=True)
    im.manifests[("huge/app", "1")] = (OCI_MANIFEST, b'{"pad": "' + b"x" * (5 << 20) + b'"}')
    # Content that does not match its digest: what a cache or a man in the middle might serve.
    _, _ = im.image("tampered/config", "1", {"Cmd": ["/genuine"]})
    cfg_digest = json.loads(im.manifests[("tampered/config", "1")][1])["config"]["digest"]
    im.blobs[cfg_digest] = im.blobs[cfg_digest].replace(b"/genuine", b"/swapped")
    im.index("tampered/index", "1")
    amd64 = [e for e in json.loads(im.manifests[("tampered/index", "1")][1])["manifests"]
             if e["platform"]["architecture"] == "amd64"][0]["digest"]
    mt, data = im.manifests[("tampered/index", amd64)]
    im.manifests[("tampered/index", amd64)] = (mt, data + b"\n")
    im.manifests[("library/schema1", "1")] = ("application/vnd.docker.distribution.manifest.v1+prettyjws",
                                              json.dumps({"schemaVersion": 1, "name": "library/schema1"}).encode())
    return im


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "registry-double"

    def log_message(self, fmt, *args):
        if self.server.verbose:
            sys.stderr.write("registry-double: " + (fmt % args) + "\n")

    def send(self, code, body=b"", content_type="application/json", headers=()):
        self.send_response(code)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Docker-Distribution-API-Version", "registry/2.0")
        for k, v in headers:
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def error(self, code, err, message, headers=()):
        self.send(code, json.dumps({"errors": [{"code": err, "message": message, "detail": None}]}).encode(),
                  headers=headers)

    def do_HEAD(self):
        self.do_GET()

    def record(self, url):
        self.server.requests.append({"method": self.command, "path": url.path, "query": url.query,
                                     "authorization": self.headers.get("Authorization", ""),
                                     "accept": self.headers.get("Accept", ""),
                                     "content_type": self.headers.get("Content-Type", "")})

    def answered_digest(self, d):
        """The digest a write's answer names: `d`, unless `server.misreport` (a count) says to name
        another, as a registry that rewrote the content would."""
        if self.server.misreport > 0:
            self.server.misreport -= 1
            return digest(b"rewritten:" + d.encode())
        return d

    def injected_failure(self):
        """True when `server.fail` (entries {"method", "path" substring, "code", "count"}) says this
        request fails: it is then answered, the way an overloaded registry or its proxy would."""
        for f in self.server.fail:
            if f["count"] > 0 and f["method"] == self.command and f["path"] in self.path:
                f["count"] -= 1
                if self.command in ("POST", "PUT", "PATCH"):
                    self.body()
                self.error(f["code"], "UNAVAILABLE" if f["code"] >= 500 else "DENIED", "injected failure")
                return True
        return False

    def body(self):
        if "chunked" in self.headers.get("Transfer-Encoding", ""):
            data = b""
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    self.rfile.readline()
                    return data
                data += self.rfile.read(size)
                self.rfile.readline()
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def do_GET(self):
        url = urllib.parse.urlsplit(self.path)
        self.record(url)
        if self.injected_failure():
            return
        if url.path == "/token":
            return self.token(urllib.parse.parse_qs(url.query))
        if url.path.startswith("/storage/"):
            d = url.path[len("/storage/"):]
            if d not in self.server.images.blobs:
                return self.error(404, "BLOB_UNKNOWN", "blob unknown to registry")
            # Object storage checks its own signed URL, never the registry's token.
            if self.headers.get("Authorization"):
                return self.send(400, b"<Error>Only one auth mechanism allowed</Error>", "application/xml")
            return self.send(200, self.server.images.blobs[d], "application/octet-stream")
        if not url.path.startswith("/v2/"):
            return self.error(404, "NOT_FOUND", "not found")
        rest = url.path[len("/v2/"):]
        if rest == "":
            return self.challenge("")
        if "/blobs/uploads/" in rest:
            repo, upload = rest.split("/blobs/uploads/", 1)
            if not self.authorized(repo, "push"):
                return self.challenge(repo, "pull,push")
            up = self.server.uploads.get(upload)
            if up is None or up["repo"] != repo:
                return self.error(404, "BLOB_UPLOAD_UNKNOWN", "blob upload unknown to registry")
            return self.send(204, headers=self.upload_headers(repo, upload))
        for kind in ("/manifests/", "/blobs/"):
            if kind in rest:
                repo, ref = rest.rsplit(kind, 1)
                break
        else:
            return self.error(404, "NOT_FOUND", "not found")
        if not self.authorized(repo):
            return self.challenge(repo)
        if kind == "/blobs/":
            if not self.server.images.visible(repo, ref):
                return self.error(404, "BLOB_UNKNOWN", "blob unknown to registry")
            if self.command == "HEAD":
                data = self.server.images.blobs[ref]
                self.send_response(200)
                self.send_header("Content-Type", "application/octet-stream")
                self.send_header("Content-Length", str(len(data)))
                self.send_header("Docker-Content-Digest", ref)
                self.end_headers()
                return
            # Another host name for the same server, as object storage is another host: a client
            # must not carry the registry's Authorization there.
            port = self.server.server_address[1]
            host = "localhost" if self.headers.get("Host", "").startswith("127.") else "127.0.0.1"
            return self.send(307, headers=[("Location", "%s://%s:%d/storage/%s" % (self.server.scheme, host, port, ref))])
        entry = self.server.images.manifests.get((repo, ref))
        if entry is None:
            known = any(r == repo for r, _ in self.server.images.manifests)
            if known:
                return self.error(404, "MANIFEST_UNKNOWN", "manifest unknown")
            return self.error(404, "NAME_UNKNOWN", "repository name not known to registry")
        media_type, data = entry
        accepted = [a.split(";")[0].strip() for a in self.headers.get("Accept", "").split(",")]
        if media_type in MANIFEST_TYPES and media_type not in accepted:
            # A registry falls back to schema 1 for a client that accepts nothing newer; that form
            # is of no use here, so say so instead.
            return self.error(404, "MANIFEST_UNKNOWN", "manifest unknown: no acceptable media type in %r" % accepted)
        self.send(200, data, media_type, headers=[("Docker-Content-Digest", digest(data))])

    def authorized(self, repo, action="pull"):
        auth = self.headers.get("Authorization", "")
        if repo.startswith("basic/"):
            return auth == "Basic " + base64.b64encode(("%s:%s" % (USER, PASSWORD)).encode()).decode()
        if not auth.startswith("Bearer "):
            return False
        scopes = self.server.tokens.get(auth[len("Bearer "):])
        return scopes is not None and action in scopes.get(repo, ())

    def challenge(self, repo, actions="pull"):
        host = self.headers.get("Host")
        if repo.startswith("basic/"):
            value = 'Basic realm="registry-double"'
        else:
            value = 'Bearer realm="%s://%s/token",service="registry-double"' % (self.server.scheme, host)
            if repo:
                value += ',scope="repository:%s:%s"' % (repo, actions)
        self.error(401, "UNAUTHORIZED", "authentication required", headers=[("WWW-Authenticate", value)])

    # The push side (OCI distribution spec, "Push").
    def upload_headers(self, repo, upload):
        size = len(self.server.uploads[upload]["data"])
        return [("Location", "/v2/%s/blobs/uploads/%s" % (repo, upload)), ("Docker-Upload-UUID", upload),
                ("Blob-Upload-Session-ID", upload), ("Range", "0-%d" % max(size - 1, 0))]

    def store_blob(self, repo, data, expected):
        if digest(data) != expected:
            return self.error(400, "DIGEST_INVALID", "provided digest did not match uploaded content")
        if expected not in self.server.images.blobs or expected in self.server.images.links:
            self.server.images.links.setdefault(expected, set()).add(repo)
        self.server.images.blobs[expected] = bytes(data)
        self.send(201, headers=[("Location", "/v2/%s/blobs/%s" % (repo, expected)),
                                ("Docker-Content-Digest", self.answered_digest(expected))])

    def write_target(self):
        """(kind, (repo, ref), query) of a write request, or None when it was answered already (401)."""
        url = urllib.parse.urlsplit(self.path)
        self.record(url)
        if self.injected_failure():
            return None
        rest = url.path[len("/v2/"):] if url.path.startswith("/v2/") else ""
        query = urllib.parse.parse_qs(url.query)
        for kind in ("/blobs/uploads/", "/manifests/"):
            if kind in rest:
                repo, ref = rest.split(kind, 1)
                if not self.authorized(repo, "push"):
                    self.body()
                    self.challenge(repo, "pull,push")
                    return None
                return kind, (repo, ref), query
        return "", ("", ""), query

    def do_POST(self):
        if self.path.split("?")[0] == "/token":
            return self.oauth_token()
        request = self.write_target()
        if request is None:
            return
        kind, target, query = request
        if kind != "/blobs/uploads/" or target[1] != "":
            self.body()
            return self.error(404, "NOT_FOUND", "not found")
        repo = target[0]
        data = self.body()
        if "digest" in query:  # monolithic upload in one POST
            return self.store_blob(repo, data, query["digest"][0])
        if "mount" in query and self.server.images.visible(query.get("from", [""])[0], query["mount"][0]):
            self.server.images.links.setdefault(query["mount"][0], set()).add(repo)
            return self.send(201, headers=[("Location", "/v2/%s/blobs/%s" % (repo, query["mount"][0])),
                                           ("Docker-Content-Digest", query["mount"][0])])
        upload = str(uuid.uuid4())
        self.server.uploads[upload] = {"repo": repo, "data": bytearray(data)}
        self.send(202, headers=self.upload_headers(repo, upload))

    def range_fits(self, up, data):
        """A chunk's Content-Range (when given) must be START-END, in order, as long as the chunk."""
        content_range = self.headers.get("Content-Range")
        if not content_range:
            return True
        m = re.fullmatch(r"([0-9]+)-([0-9]+)", content_range.strip())
        return bool(m) and int(m.group(1)) == len(up["data"]) and \
            int(m.group(2)) - int(m.group(1)) + 1 == len(data)

    def do_DELETE(self):
        """Cancels an upload (a client that gives up SHOULD); deleting content is not served."""
        request = self.write_target()
        if request is None:
            return
        kind, (repo, upload), _ = request
        self.body()
        if kind != "/blobs/uploads/" or self.server.uploads.get(upload, {}).get("repo") != repo:
            return self.error(404, "BLOB_UPLOAD_UNKNOWN", "blob upload unknown to registry")
        del self.server.uploads[upload]
        self.send(204)

    def do_PATCH(self):
        request = self.write_target()
        if request is None:
            return
        kind, target, query = request
        data = self.body()
        if kind != "/blobs/uploads/":
            return self.error(404, "NOT_FOUND", "not found")
        repo, upload = target
        up = self.server.uploads.get(upload)
        if up is None or up["repo"] != repo:
            return self.error(404, "BLOB_UPLOAD_UNKNOWN", "blob upload unknown to registry")
        if not self.range_fits(up, data):
            return self.send(416, headers=self.upload_headers(repo, upload))
        up["data"] += data
        self.send(202, headers=self.upload_headers(repo, upload))

    def do_PUT(self):
        request = self.write_target()
        if request is None:
            return
        kind, target, query = request
        data = self.body()
        if kind == "/blobs/uploads/":
            repo, upload = target
            up = self.server.uploads.get(upload)
            if up is None or up["repo"] != repo:
                return self.error(404, "BLOB_UPLOAD_UNKNOWN", "blob upload unknown to registry")
            if "digest" not in query:
                return self.error(400, "DIGEST_INVALID", "the closing PUT names no digest")
            if not self.range_fits(up, data):
                return self.send(416, headers=self.upload_headers(repo, upload))
            del self.server.uploads[upload]
            return self.store_blob(repo, up["data"] + data, query["digest"][0])
        if kind != "/manifests/":
            return self.error(404, "NOT_FOUND", "not found")
        repo, ref = target
        if len(data) > MAX_MANIFEST:
            return self.error(413, "SIZE_INVALID", "manifest too large")
        content_type = self.headers.get("Content-Type", "").split(";")[0].strip()
        try:
            m = json.loads(data)
        except ValueError:
            return self.error(400, "MANIFEST_INVALID", "manifest invalid: not JSON")
        if content_type not in MANIFEST_TYPES or m.get("mediaType", content_type) != content_type:
            return self.error(400, "MANIFEST_INVALID", "manifest invalid: Content-Type %r, mediaType %r"
                              % (content_type, m.get("mediaType")))
        named = [m.get("config", {}).get("digest")] + [l.get("digest") for l in m.get("layers", [])]
        if content_type in (OCI_INDEX, DOCKER_LIST):
            named = []
        for d in named:
            if not self.server.images.visible(repo, d):
                return self.error(400, "MANIFEST_BLOB_UNKNOWN", "blob unknown to registry: %s" % d)
        d = digest(data)
        if ref.startswith("sha256:") and ref != d:
            return self.error(400, "DIGEST_INVALID", "manifest digest did not match its content")
        self.server.images.manifests[(repo, d)] = (content_type, data)
        if not ref.startswith("sha256:"):
            self.server.images.manifests[(repo, ref)] = (content_type, data)
        self.send(201, headers=[("Location", "/v2/%s/manifests/%s" % (repo, d)),
                                ("Docker-Content-Digest", self.answered_digest(d))])

    def oauth_token(self):
        """The OAuth2 form of the token service (distribution's "oauth" spec): a refresh token for
        an access token, the user's rights."""
        self.record(urllib.parse.urlsplit(self.path))
        form = urllib.parse.parse_qs(self.body().decode())
        if form.get("grant_type") != ["refresh_token"] or form.get("service") != ["registry-double"]:
            return self.send(400, json.dumps({"error": "unsupported_grant_type"}).encode())
        if form.get("refresh_token") != [REFRESH_TOKEN] or not form.get("client_id"):
            return self.send(401, json.dumps({"error": "invalid_grant"}).encode())
        granted = {}
        for scope in form.get("scope", [""])[0].split(" "):
            parts = scope.split(":")
            if len(parts) == 3 and parts[0] == "repository":
                granted.setdefault(parts[1], set()).update(set(parts[2].split(",")) & {"pull", "push"})
        token = secrets.token_hex(16)
        self.server.tokens[token] = granted
        self.send(200, json.dumps({"access_token": token, "expires_in": 300, "scope": ""}).encode())

    def token(self, query):
        if query.get("service") != ["registry-double"]:
            return self.send(400, json.dumps({"details": "service must be registry-double"}).encode())
        auth = self.headers.get("Authorization", "")
        good = "Basic " + base64.b64encode(("%s:%s" % (USER, PASSWORD)).encode()).decode()
        if auth and auth != good:
            return self.send(401, json.dumps({"details": "incorrect username or password"}).encode())
        granted = {}
        for scope in query.get("scope", []):
            parts = scope.split(":")
            if len(parts) != 3 or parts[0] != "repository":
                continue
            actions = set(parts[2].split(",")) & {"pull", "push"}
            # Docker Hub's way: a token is issued, but without the access the caller may not have.
            if auth != good:
                actions.discard("push")
                if parts[1].startswith("private/"):
                    actions.discard("pull")
            if actions:
                granted.setdefault(parts[1], set()).update(actions)
        token = secrets.token_hex(16)
        self.server.tokens[token] = granted
        self.send(200, json.dumps({"token": token, "access_token": token, "expires_in": 300}).encode())


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True


def serve(state_dir, port=0, verbose=False, tls=True):
    os.makedirs(state_dir, exist_ok=True)
    srv = Server(("127.0.0.1", port), Handler)
    srv.images = build_images()
    srv.tokens = {}
    srv.uploads = {}
    srv.fail = []
    srv.misreport = 0
    srv.requests = []
    srv.verbose = verbose
    srv.scheme = "https" if tls else "http"
    ca = None
    if tls:
        from apidouble.certs import Pki
        pki = Pki(os.path.join(state_dir, "registry-pki")).create()
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(pki.server_cert, pki.server_key)
        srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
        ca = pki.ca_cert
    host = "127.0.0.1:%d" % srv.server_address[1]
    info = {"host": host, "url": "%s://%s" % (srv.scheme, host), "ca": ca, "user": USER, "password": PASSWORD,
            "refresh_token": REFRESH_TOKEN}
    path = os.path.join(state_dir, "registry.json")
    with open(path, "w") as f:
        json.dump(info, f)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    return srv, info, path


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--state-dir", required=True)
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("-v", "--verbose", action="store_true")
    ap.add_argument("command", nargs="*")
    args = ap.parse_args()
    if shutil.which("openssl") is None:
        print("SKIP: openssl is not installed", flush=True)
        return 77
    os.makedirs(args.state_dir, exist_ok=True)
    srv, info, path = serve(args.state_dir, args.port, args.verbose)
    if args.command:
        env = dict(os.environ, KSC_REGISTRY_DOUBLE=path)
        rc = subprocess.call(args.command, env=env)
        srv.shutdown()
        return rc
    print(info["url"], flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
