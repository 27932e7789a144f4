#!/usr/bin/env python3
"""`kubectl seccomp push` and `pull` against a real registry: Debian's docker-registry (CNCF
distribution 2.8, the reference implementation of the OCI distribution spec), over TLS with the
test PKI, its storage in a temporary folder. The double (test_oci_artifacts.py) was written from
the spec by us; this one was not, so it catches what we both misread.

Pinned: a push round-trips byte for byte (whole and chunked, by tag and by digest) and the stored
manifest is the runtimes' format; an artifact in the operator's older format, uploaded here with
plain HTTP calls, pulls; a layer swapped in the registry's own storage is refused; without the CA the
TLS failure says to give --registry-ca-file.

Skips (77) without docker-registry (apt-get install docker-registry) or openssl."""
import hashlib
import json
import os
import shutil
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import e2e_support as e2e  # noqa: E402
from apidouble.certs import Pki  # noqa: E402

RUNTIME_TYPE = "application/vnd.cncf.seccomp-profile.config.v1+json"
SPO_TYPE = "application/vnd.unknown.config.v1+json"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
REGISTRY = shutil.which("docker-registry") or "/usr/bin/docker-registry"

SPO_PROFILE = b"""apiVersion: security-profiles-operator.x-k8s.io/v1beta1
kind: SeccompProfile
metadata:
  name: legacy
spec:
  defaultAction: SCMP_ACT_ERRNO
  architectures:
  - SCMP_ARCH_X86_64
  syscalls:
  - action: SCMP_ACT_ALLOW
    names:
    - exit_group
    - read
    - write
"""


def sha256(data):
    return "sha256:" + hashlib.sha256(data).hexdigest()


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class RealRegistry(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        if not os.access(REGISTRY, os.X_OK):
            raise unittest.SkipTest("docker-registry is not installed (apt-get install docker-registry)")
        if shutil.which("openssl") is None:
            raise unittest.SkipTest("openssl is not installed")
        if e2e.plugin_dir() is None:
            raise unittest.SkipTest("kubectl-seccomp is not built (set KSC_BUILD_DIR)")
        cls.plugin = os.path.join(e2e.plugin_dir(), "kubectl-seccomp")
        cls.dir = tempfile.mkdtemp(prefix="ksc-real-registry-")
        cls.proc = None
        try:
            cls.pki = Pki(os.path.join(cls.dir, "pki")).create()
            cls.storage = os.path.join(cls.dir, "storage")
            port = free_port()
            cls.host = "127.0.0.1:%d" % port
            config = os.path.join(cls.dir, "config.yml")
            with open(config, "w") as f:
                f.write("version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: %s\n"
                        "  delete:\n    enabled: true\nhttp:\n  addr: %s\n  tls:\n    certificate: %s\n    key: %s\n"
                        % (cls.storage, cls.host, cls.pki.server_cert, cls.pki.server_key))
            cls.log = open(os.path.join(cls.dir, "registry.log"), "w")
            cls.proc = subprocess.Popen([REGISTRY, "serve", config], stdout=cls.log, stderr=subprocess.STDOUT)
            cls.tls = ssl.create_default_context(cafile=cls.pki.ca_cert)
            deadline = time.time() + 30
            while True:
                try:
                    urllib.request.urlopen("https://%s/v2/" % cls.host, context=cls.tls, timeout=2)
                    break
                except OSError:
                    if time.time() > deadline or cls.proc.poll() is not None:
                        raise
                    time.sleep(0.2)
            cls.no_config = os.path.join(cls.dir, "empty-config.json")
            with open(cls.no_config, "w") as f:
                f.write("{}")
            cls.profile = os.path.join(cls.dir, "runtime-default.json")
            r = subprocess.run([cls.plugin, "convert", "runtime/default", "--output-file", cls.profile],
                               capture_output=True, text=True)
            assert r.returncode == 0, r.stderr
        except BaseException:
            cls.tearDownClass()
            raise

    @classmethod
    def tearDownClass(cls):
        if cls.proc is not None:
            cls.proc.terminate()
            try:
                cls.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                cls.proc.kill()
                cls.proc.wait()
            cls.log.close()
        shutil.rmtree(cls.dir, ignore_errors=True)

    def run_plugin(self, *args, ca=True):
        cmd = [self.plugin, *args, "--registry-config", self.no_config]
        if ca:
            cmd += ["--registry-ca-file", self.pki.ca_cert]
        return subprocess.run(cmd, capture_output=True, text=True, timeout=120)

    def http(self, method, path, data=None, headers=None):
        req = urllib.request.Request("https://%s%s" % (self.host, path), data=data, method=method,
                                     headers=headers or {})
        with urllib.request.urlopen(req, context=self.tls, timeout=30) as r:
            return r.status, dict(r.headers), r.read()

    def upload(self, repo, data):
        """POST then PUT, as the spec's monolithic upload (a one-POST upload is optional; 2.8 lacks it)."""
        d = sha256(data)
        status, headers, _ = self.http("POST", "/v2/%s/blobs/uploads/" % repo)
        self.assertEqual(status, 202)
        location = headers["Location"]
        location += ("&" if "?" in location else "?") + "digest=" + d
        if location.startswith("/"):
            location = "https://%s%s" % (self.host, location)
        req = urllib.request.Request(location, data=data, method="PUT",
                                     headers={"Content-Type": "application/octet-stream"})
        with urllib.request.urlopen(req, context=self.tls, timeout=30) as r:
            self.assertEqual(r.status, 201)
        return {"digest": d, "size": len(data)}

    def read(self, path):
        with open(path, "rb") as f:
            return f.read()

    def test_a_push_pulls_back_byte_for_byte_in_the_runtimes_format(self):
        original = self.read(self.profile)
        for repo, extra in (("profiles/whole", []), ("profiles/chunked", ["--chunk-size", "4096"])):
            with self.subTest(repo=repo):
                r = self.run_plugin("push", "%s/%s:v1" % (self.host, repo), self.profile, *extra)
                self.assertEqual(r.returncode, 0, r.stderr)
                pinned = r.stdout.strip()
                _, headers, body = self.http("GET", "/v2/%s/manifests/v1" % repo, headers={"Accept": OCI_MANIFEST})
                self.assertEqual(pinned, "%s/%s@%s" % (self.host, repo, sha256(body)))
                self.assertEqual(headers["Docker-Content-Digest"], sha256(body))
                m = json.loads(body)
                self.assertEqual((m["artifactType"], m["config"]["mediaType"]), (RUNTIME_TYPE, RUNTIME_TYPE))
                self.assertEqual(self.http("GET", "/v2/%s/blobs/%s" % (repo, m["config"]["digest"]))[2], b"{}")
                self.assertEqual(len(m["layers"]), 1)
                for ref in ("%s/%s:v1" % (self.host, repo), pinned):
                    out = os.path.join(self.dir, "pulled.json")
                    r = self.run_plugin("pull", ref, "--output-file", out)
                    self.assertEqual(r.returncode, 0, r.stderr)
                    self.assertEqual(self.read(out), original)
                    self.assertIn("the runtimes' format", r.stderr)

    def test_the_operators_older_format_pulls_from_a_real_registry(self):
        repo = "profiles/legacy"
        config = self.upload(repo, b"{}")
        layer = self.upload(repo, SPO_PROFILE)
        manifest = json.dumps({
            "schemaVersion": 2, "mediaType": OCI_MANIFEST,
            "config": dict(config, mediaType=SPO_TYPE),
            "layers": [dict(layer, mediaType="application/vnd.oci.image.layer.v1.tar",
                            annotations={"org.opencontainers.image.title": "profile.yaml"})]}).encode()
        status, _, _ = self.http("PUT", "/v2/%s/manifests/v1" % repo, manifest, {"Content-Type": OCI_MANIFEST})
        self.assertEqual(status, 201)
        r = self.run_plugin("pull", "%s/%s:v1" % (self.host, repo))
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("older format (config media type application/vnd.unknown.config.v1+json", r.stderr)
        self.assertEqual(e2e.allowed(r.stdout), {"exit_group", "read", "write"})

    def test_a_layer_swapped_in_the_registrys_storage_is_refused(self):
        repo = "profiles/swapped"
        r = self.run_plugin("push", "%s/%s:v1" % (self.host, repo), self.profile)
        self.assertEqual(r.returncode, 0, r.stderr)
        _, _, body = self.http("GET", "/v2/%s/manifests/v1" % repo, headers={"Accept": OCI_MANIFEST})
        layer = json.loads(body)["layers"][0]["digest"]
        hexdigest = layer.split(":")[1]
        path = os.path.join(self.storage, "docker/registry/v2/blobs/sha256", hexdigest[:2], hexdigest, "data")
        genuine = self.read(path)
        try:
            # Same length, one action loosened: what a tampered store would serve.
            with open(path, "wb") as f:
                f.write(genuine.replace(b"SCMP_ACT_ERRNO", b"SCMP_ACT_ALLOW", 1))
            out = os.path.join(self.dir, "swapped.json")
            r = self.run_plugin("pull", "%s/%s:v1" % (self.host, repo), "--output-file", out)
            self.assertEqual(r.returncode, 1, r.stderr)
            self.assertIn("does not match its digest %s" % layer, r.stderr)
            self.assertFalse(os.path.exists(out))
        finally:
            with open(path, "wb") as f:
                f.write(genuine)

    def test_without_the_ca_the_tls_failure_says_what_to_give(self):
        r = self.run_plugin("pull", "%s/profiles/whole:v1" % self.host, ca=False)
        self.assertEqual(r.returncode, 1)
        self.assertIn("--registry-ca-file", r.stderr)


if __name__ == "__main__":
    # Skipped as a whole (77) when what every test needs is missing, saying why.
    if not os.access(REGISTRY, os.X_OK):
        print("SKIP: docker-registry is not installed (apt-get install docker-registry)", flush=True)
        sys.exit(e2e.SKIP)
    e2e.require(kubectl=False, podman_needed=False)
    e2e.require_plugin()
    e2e.main()
