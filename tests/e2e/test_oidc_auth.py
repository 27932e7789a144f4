#!/usr/bin/env python3
"""The oidc auth-provider, against the real kubectl 1.32: the same kubeconfig (one copy each), the
API-server double and the issuer double (oidc_issuer.py). A valid id-token is sent as it is; an
expired one is refreshed at the issuer (the same requests from both), written back to the
kubeconfig (the same tokens in both copies afterwards) and the new one reaches the double; an
answer without id_token, or a user without client-id, fails in one line.

Each run is `kubectl.1.32 --kubeconfig COPY get pod nosuch` and `kubectl-seccomp record nosuch
--kubeconfig COPY`; what matters is the first request's Authorization as the double logged it.
"""
import base64
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import e2e_support as e2e  # noqa: E402
from oidc_issuer import Issuer  # noqa: E402
from test_connection_flags import find_kubectl  # noqa: E402

KUBECTL = find_kubectl()


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def jwt(claims):
    """An unsigned-looking JWT: the clients read only its exp; the double matches it as a token."""
    return ".".join([b64url(b'{"alg":"RS256","typ":"JWT"}'), b64url(json.dumps(claims).encode()),
                     b64url(os.urandom(16))])


VALID = jwt({"iss": "test", "sub": "alice", "exp": int(time.time()) + 3600})
EXPIRED = jwt({"iss": "test", "sub": "alice", "exp": 1000})
REFRESHED = jwt({"iss": "test", "sub": "alice", "exp": int(time.time()) + 7200, "n": 2})


class OidcAuth(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="ksc-oidc-")
        cls.log = os.path.join(cls.tmp, "requests.log")
        cls.double = e2e.Double("--request-log", cls.log, "--token", VALID + "=alice",
                                "--token", REFRESHED + "=alice")
        cls.issuer = Issuer(os.path.join(cls.tmp, "issuer"))

    @classmethod
    def tearDownClass(cls):
        cls.issuer.stop()
        cls.double.stop()
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def kubeconfig(self, name, config):
        path = os.path.join(self.tmp, name)
        with open(path, "w") as f:
            json.dump({
                "apiVersion": "v1", "kind": "Config", "current-context": "oidc",
                "clusters": [{"name": "main", "cluster": {"server": self.double.url,
                                                          "certificate-authority": self.double.info["ca"]}}],
                "users": [{"name": "alice", "user": {"auth-provider": {"name": "oidc", "config": config}}}],
                "contexts": [{"name": "oidc", "context": {"cluster": "main", "user": "alice"}}],
            }, f)
        os.chmod(path, 0o600)
        return path

    def config(self, id_token, **extra):
        c = {"idp-issuer-url": self.issuer.url + "/", "client-id": "kube cli", "client-secret": "s3cret",
             "id-token": id_token, "refresh-token": "refresh-1",
             "idp-certificate-authority": self.issuer.ca}
        c.update(extra)
        return {k: v for k, v in c.items() if v is not None}

    def run_one(self, argv):
        home = tempfile.mkdtemp(prefix="home-", dir=self.tmp)
        with open(self.log, "w"):
            pass
        self.issuer.take_requests()
        r = subprocess.run(argv, capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL,
                           env={"PATH": os.environ.get("PATH", ""), "HOME": home})
        with open(self.log) as f:
            entries = [json.loads(line) for line in f if line.strip()]
        return r, entries[0]["authorization"] if entries else None, self.issuer.take_requests()

    def both(self, config):
        """Runs kubectl and the plugin, each on its own copy of the same kubeconfig."""
        k_config = self.kubeconfig("kubectl-" + self.id().rsplit(".", 1)[1], config)
        p_config = self.kubeconfig("plugin-" + self.id().rsplit(".", 1)[1], config)
        plugin = os.path.join(e2e.plugin_dir(), "kubectl-seccomp")
        k = self.run_one([KUBECTL, "--kubeconfig", k_config, "get", "pod", "nosuch"])
        p = self.run_one([plugin, "record", "nosuch", "--kubeconfig", p_config])
        return k, p, k_config, p_config

    def tokens_in(self, path):
        """The user's auth-provider config as kubectl itself reads the file back."""
        out = subprocess.run([KUBECTL, "config", "view", "--raw", "-o", "json", "--kubeconfig", path],
                             capture_output=True, text=True, check=True).stdout
        return json.loads(out)["users"][0]["user"]["auth-provider"]["config"]

    def test_a_valid_id_token_is_sent_as_it_is(self):
        (k, k_auth, k_issuer), (p, p_auth, p_issuer), _, _ = self.both(self.config(VALID))
        self.assertEqual(k_auth, "Bearer " + VALID, k.stderr)
        self.assertEqual(p_auth, k_auth, p.stderr)
        self.assertEqual(k_issuer, [])
        self.assertEqual(p_issuer, [])

    def test_an_expired_id_token_is_refreshed_and_written_back_as_kubectl_does(self):
        self.issuer.answer = {"access_token": "access", "token_type": "Bearer", "expires_in": 3600,
                              "id_token": REFRESHED, "refresh_token": "refresh-2"}
        (k, k_auth, k_issuer), (p, p_auth, p_issuer), k_config, p_config = self.both(self.config(EXPIRED))
        what = "kubectl: %s\nplugin: %s" % (k.stderr, p.stderr)
        self.assertEqual(k_auth, "Bearer " + REFRESHED, what)
        self.assertEqual(p_auth, k_auth, what)
        self.assertEqual([r["path"] for r in k_issuer], ["/.well-known/openid-configuration", "/token"], what)
        self.assertEqual(p_issuer, k_issuer, what)  # same method, path, Authorization, Content-Type, body
        self.assertEqual(self.tokens_in(p_config), self.tokens_in(k_config))
        self.assertEqual(self.tokens_in(p_config)["id-token"], REFRESHED)
        self.assertEqual(self.tokens_in(p_config)["refresh-token"], "refresh-2")
        self.assertEqual(os.stat(p_config).st_mode & 0o777, 0o600)
        # The refreshed token is valid now: the next run asks the issuer nothing.
        plugin = os.path.join(e2e.plugin_dir(), "kubectl-seccomp")
        _, again, asked = self.run_one([plugin, "record", "nosuch", "--kubeconfig", p_config])
        self.assertEqual(again, "Bearer " + REFRESHED)
        self.assertEqual(asked, [])

    def test_the_issuer_ca_as_data(self):
        self.issuer.answer = {"access_token": "access", "id_token": REFRESHED}
        with open(self.issuer.ca, "rb") as f:
            data = base64.b64encode(f.read()).decode()
        (k, k_auth, _), (p, p_auth, _), _, _ = self.both(
            self.config(None, **{"idp-certificate-authority": None, "idp-certificate-authority-data": data}))
        self.assertEqual(k_auth, "Bearer " + REFRESHED, k.stderr)
        self.assertEqual(p_auth, k_auth, p.stderr)

    def test_an_answer_without_id_token_fails_in_one_line(self):
        self.issuer.answer = {"access_token": "access", "token_type": "Bearer"}
        config = self.config(EXPIRED)
        (k, k_auth, _), (p, p_auth, _), _, p_config = self.both(config)
        self.assertIsNone(k_auth)
        self.assertIsNone(p_auth)
        self.assertIn("did not contain an id_token", k.stderr)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("no id_token", p.stderr)
        self.assertEqual(len(p.stderr.strip().splitlines()), 1, p.stderr)
        self.assertEqual(self.tokens_in(p_config)["id-token"], EXPIRED)

    def test_a_user_without_client_id_fails_in_one_line(self):
        (k, k_auth, _), (p, p_auth, _), _, _ = self.both(self.config(VALID, **{"client-id": None}))
        self.assertIsNone(k_auth)
        self.assertIsNone(p_auth)
        self.assertIn("Must provide client-id", k.stderr)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("must provide client-id", p.stderr)
        self.assertEqual(len(p.stderr.strip().splitlines()), 1, p.stderr)


if __name__ == "__main__":
    e2e.require(podman_needed=False)
    e2e.require_plugin()
    if KUBECTL is None:
        print("SKIP: kubectl.1.32 is not installed beside kubectl", flush=True)
        sys.exit(e2e.SKIP)
    e2e.main()
