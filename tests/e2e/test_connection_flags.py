#!/usr/bin/env python3
"""kubectl's connection flags: the plugin and the real kubectl 1.32, given the same flags and the same
kubeconfig, must reach the API-server double the same way (server, TLS name, client certificate,
Authorization, Impersonate-* headers, namespace, Accept-Encoding), or both refuse to start.

Each case runs `kubectl.1.32 FLAGS get pod nosuch` and `kubectl-seccomp record nosuch FLAGS` in a
fresh HOME and compares the first GET of that pod as the double's --request-log saw it.
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import e2e_support as e2e  # noqa: E402


def find_kubectl(version="1.32"):
    """The real kubectl client of that version, installed beside the `kubectl` dispatcher."""
    name = "kubectl." + version
    if os.environ.get("KSC_KUBECTL_" + version.replace(".", "_")):
        return os.environ["KSC_KUBECTL_" + version.replace(".", "_")]
    found = shutil.which(name)
    if found:
        return found
    dispatcher = shutil.which("kubectl")
    if dispatcher:
        beside = os.path.join(os.path.dirname(os.path.realpath(dispatcher)), name)
        if os.access(beside, os.X_OK):
            return beside
    return None


KUBECTL = find_kubectl()
FIELDS = ("path", "authorization", "client_cert", "host", "sni", "impersonate", "accept_encoding")


class ConnectionFlags(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="ksc-flags-")
        cls.log = os.path.join(cls.tmp, "requests.log")
        cls.double = e2e.Double("--request-log", cls.log, "--token", "tok-bob=bob:devs",
                                "--token", "tok-file=carol")
        info = cls.double.info
        cls.url = cls.double.url
        cls.ca = info["ca"]
        cls.bob = cls.double_pki_client("bob")
        token_file = os.path.join(cls.tmp, "token")
        with open(token_file, "w") as f:
            f.write("tok-file\n")
        cluster = {"server": cls.url, "certificate-authority": cls.ca}
        cls.kubeconfig = cls.write("config", {
            "apiVersion": "v1", "kind": "Config", "current-context": "admin",
            "clusters": [
                {"name": "main", "cluster": cluster},
                {"name": "named", "cluster": dict(cluster, **{"tls-server-name": "localhost"})},
                {"name": "wrong", "cluster": {"server": "https://127.0.0.1:9", "certificate-authority": cls.ca}},
            ],
            "users": [
                {"name": "admin", "user": {"client-certificate": info["admin_cert"],
                                           "client-key": info["admin_key"]}},
                {"name": "tok", "user": {"token": "tok-bob"}},
                {"name": "tokfile", "user": {"token": "tok-bob", "tokenFile": token_file}},
                {"name": "imp", "user": {"client-certificate": info["admin_cert"],
                                         "client-key": info["admin_key"], "as": "alice",
                                         "as-groups": ["g1", "g,2"], "as-uid": "1001",
                                         "as-user-extra": {"scopes": ["view", "edit"],
                                                           "example.org/team": ["blue"]}}},
                {"name": "basic", "user": {"username": "u", "password": "p"}},
            ],
            "contexts": [
                {"name": "admin", "context": {"cluster": "main", "user": "admin", "namespace": "ns1"}},
                {"name": "tok", "context": {"cluster": "main", "user": "tok"}},
                {"name": "wrong", "context": {"cluster": "wrong", "user": "admin"}},
                {"name": "named", "context": {"cluster": "named", "user": "admin"}},
                {"name": "anon", "context": {"cluster": "main"}},
            ],
        })
        # A second file for KUBECONFIG merging: its current-context and its "admin" context lose
        # to the first file's; its own context is added.
        cls.second = cls.write("second", {
            "apiVersion": "v1", "kind": "Config", "current-context": "extra",
            "clusters": [{"name": "main", "cluster": {"server": "https://127.0.0.1:9"}}],
            "users": [{"name": "admin", "user": {"token": "tok-bob"}}],
            "contexts": [{"name": "extra", "context": {"cluster": "main", "user": "tok", "namespace": "ns2"}},
                         {"name": "admin", "context": {"cluster": "wrong", "user": "tok"}}],
        })

    @classmethod
    def double_pki_client(cls, user):
        """A client certificate for `user`, signed by the double's CA."""
        pki = os.path.join(cls.double.dir, "state", "pki")
        key, csr, crt = (os.path.join(cls.tmp, user + ext) for ext in (".key", ".csr", ".crt"))
        subprocess.run(["openssl", "req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=" + user,
                        "-keyout", key, "-out", csr], check=True, capture_output=True)
        subprocess.run(["openssl", "x509", "-req", "-in", csr, "-CA", os.path.join(pki, "ca.crt"),
                        "-CAkey", os.path.join(pki, "ca.key"), "-set_serial", "77", "-days", "1",
                        "-out", crt], check=True, capture_output=True)
        return crt, key

    @classmethod
    def write(cls, name, obj):
        path = os.path.join(cls.tmp, name)
        with open(path, "w") as f:
            json.dump(obj, f)
        return path

    @classmethod
    def tearDownClass(cls):
        cls.double.stop()
        shutil.rmtree(cls.tmp, ignore_errors=True)

    # ---- running both
    def run_one(self, argv, env_extra):
        home = tempfile.mkdtemp(prefix="home-", dir=self.tmp)
        env = {"PATH": os.environ.get("PATH", ""), "HOME": home, "KUBECONFIG": self.kubeconfig}
        env.update(env_extra)
        env = {k: v for k, v in env.items() if v is not None}
        with open(self.log, "w"):
            pass
        r = subprocess.run(argv, capture_output=True, text=True, env=env, timeout=60,
                           stdin=subprocess.DEVNULL)
        with open(self.log) as f:
            entries = [json.loads(line) for line in f if line.strip()]
        # Who the first request came as (every request carries the same), and where the pod was
        # looked for (kubectl stops before that when its discovery is refused).
        seen = {k: entries[0][k] for k in FIELDS if k != "path"} if entries else None
        pod = [e["path"] for e in entries if e["path"].endswith("/pods/nosuch")]
        return r, seen, pod[0] if pod else None

    def compare(self, flags, env=None, words=None):
        env = env or {}
        plugin = os.path.join(e2e.plugin_dir(), "kubectl-seccomp")
        k, k_seen, k_path = self.run_one([KUBECTL, *flags, "get", "pod", "nosuch"], env)
        p, p_seen, p_path = self.run_one([plugin, "record", "nosuch", *flags], env)
        what = "flags %s env %s\nkubectl: %s%s\nplugin: %s%s" % (flags, env, k.stdout, k.stderr,
                                                                p.stdout, p.stderr)
        self.assertEqual(k_seen, p_seen, what)
        if k_path and p_path:
            self.assertEqual(k_path, p_path, what)
        if k_seen:
            k_seen["path"] = k_path or p_path
        if k_seen is None:
            self.assertNotEqual(k.returncode, 0, what)
            self.assertNotEqual(p.returncode, 0, what)
        if words:
            self.assertIn(words, k.stderr, what)
            self.assertIn(words, p.stderr, what)
        return k_seen

    # ---- the cases
    def test_kubeconfig_alone(self):
        seen = self.compare([])
        self.assertEqual(seen["path"], "/api/v1/namespaces/ns1/pods/nosuch")
        self.assertEqual(seen["client_cert"], "admin")
        self.assertEqual(seen["accept_encoding"], "gzip")

    def test_namespace_and_context(self):
        self.compare(["-n", "other"])
        self.compare(["--namespace=other", "--context", "tok"])
        self.compare(["--context=named"])

    def test_cluster_and_user(self):
        self.assertEqual(self.compare(["--user", "tok"])["authorization"], "Bearer tok-bob")
        self.compare(["--context", "wrong", "--cluster", "main"])
        self.compare(["--context", "anon", "--user", "admin"])
        self.compare(["--user", "nobody"], words='auth info "nobody" does not exist')
        self.compare(["--cluster", "nobody"], words='no server found for cluster "nobody"')
        self.compare(["--context", "nobody"], words="context was not found for specified context: nobody")

    def test_server_and_token(self):
        self.compare(["--context", "wrong", "-s", self.url])
        self.compare(["--context", "wrong", "--server=" + self.url, "--token", "tok-bob"])
        self.assertEqual(self.compare(["--context", "anon", "--token", "tok-bob"])["authorization"],
                         "Bearer tok-bob")
        # No kubeconfig anywhere: the flags alone.
        nothing = {"KUBECONFIG": os.path.join(self.tmp, "none")}
        self.compare(["-s", self.url, "--token", "tok-bob", "--certificate-authority", self.ca], env=nothing)
        self.compare(["-s", self.url, "--token", "tok-bob", "--insecure-skip-tls-verify"], env=nothing)
        self.compare(["-s", self.url, "--token", "tok-bob"], env=nothing)  # no CA: both fail
        # No CA anywhere in the configuration: the system's, where Go looks (SSL_CERT_FILE, SSL_CERT_DIR).
        self.compare(["-s", self.url, "--token", "tok-bob"], env=dict(nothing, SSL_CERT_FILE=self.ca))
        ca_dir = os.path.join(self.tmp, "ca-dir")
        os.makedirs(ca_dir, exist_ok=True)
        shutil.copy(self.ca, os.path.join(ca_dir, "double.pem"))
        seen = self.compare(["-s", self.url, "--token", "tok-bob"],
                            env=dict(nothing, SSL_CERT_FILE=os.path.join(self.tmp, "none.pem"), SSL_CERT_DIR=ca_dir))
        self.assertEqual(seen["authorization"], "Bearer tok-bob")

    def test_tls_flags(self):
        self.compare(["--insecure-skip-tls-verify"])  # drops the kubeconfig's CA
        self.compare(["--insecure-skip-tls-verify=true", "--certificate-authority", self.ca],
                     words="specifying a root certificates file with the insecure flag is not allowed")
        self.compare(["--certificate-authority", self.ca])
        self.compare(["--certificate-authority", self.bob[0]])  # the wrong CA: both fail
        self.assertEqual(self.compare(["--tls-server-name", "localhost"])["sni"], "localhost")
        self.compare(["--tls-server-name", "not-in-the-cert"])
        self.compare(["--context", "named", "-s", self.url])  # --server drops the kubeconfig's name
        self.compare(["--context", "anon", "--client-certificate", self.bob[0], "--client-key", self.bob[1]])
        self.compare(["--client-certificate", self.bob[0], "--client-key", self.bob[1]])

    def test_credentials(self):
        self.assertEqual(self.compare(["--user", "tokfile"])["authorization"], "Bearer tok-file")
        self.compare(["--user", "tokfile", "--token", "other"])
        self.compare(["--user", "basic"])
        self.compare(["--context", "anon", "--username", "u", "--password", "p"])
        self.compare(["--user", "tok", "--username", "u", "--password", "p"],
                     words="more than one authentication method found for tok")
        self.compare(["--disable-compression"])
        self.compare(["--disable-compression=false"])

    def test_impersonation(self):
        seen = self.compare(["--as", "alice", "--as-group", "g1", "--as-group", "g,2", "--as-uid", "1001"])
        self.assertEqual(seen["impersonate"]["impersonate-group"], ["g,2", "g1"])
        seen = self.compare(["--user", "imp"])
        self.assertIn("impersonate-extra-scopes", seen["impersonate"])
        self.compare(["--user", "imp", "--as", "bob"])
        self.compare(["--user", "imp", "--as-group", "only"])
        self.compare(["--as=alice", "--as-group=g1"])
        self.compare(["--as-group", "g1"],
                     words="requesting uid, groups or user-extra for admin without impersonating a user")
        self.compare(["--as-uid", "7"])

    def test_kubeconfig_merging(self):
        merged = {"KUBECONFIG": self.kubeconfig + os.pathsep + self.second}
        self.compare([], env=merged)
        self.compare(["--context", "extra"], env=merged)
        reversed_ = {"KUBECONFIG": self.second + os.pathsep + self.kubeconfig}
        self.compare(["--context", "admin"], env=reversed_)
        # Its context names a user that is not in this file: kubectl asks for a username on stdin,
        # which is not a terminal here, so both refuse.
        self.compare(["--kubeconfig", self.second, "--context", "extra", "-s", self.url,
                      "--certificate-authority", self.ca])
        self.compare(["--kubeconfig", self.second, "--context", "extra", "-s", self.url,
                      "--certificate-authority", self.ca, "--user", "admin"])
        self.compare(["--kubeconfig", os.path.join(self.tmp, "missing")])


if __name__ == "__main__":
    e2e.require(podman_needed=False)
    e2e.require_plugin()
    if KUBECTL is None:
        print("SKIP: kubectl.1.32 is not installed beside kubectl", flush=True)
        sys.exit(e2e.SKIP)
    e2e.main()
