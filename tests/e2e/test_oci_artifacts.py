#!/usr/bin/env python3
"""`kubectl seccomp push` and `pull` against the registry double (registry_double.py): profiles as OCI
artifacts in the runtimes' format, and the Security Profiles Operator's older format.

What is pinned: a pushed profile pulls back byte for byte and is in the runtimes' format (artifactType
and config media type application/vnd.cncf.seccomp-profile.config.v1+json, config `{}`, one layer);
chunked uploads; the token challenge (push needs credentials from a Docker config file or a
credential helper); each variant of the older format pulls (platforms merged or chosen); a swapped
layer and a manifest that is not what its digest says are refused; plain HTTP only with
--insecure-registry; push refuses what the runtimes' merger would; a podman container started with
the pulled profile enforces it.

Needs openssl and the built plugin; the last test needs podman (it skips without)."""
import base64
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import e2e_support as e2e  # noqa: E402
import registry_double  # noqa: E402
from apidouble import podman  # noqa: E402

RUNTIME_TYPE = "application/vnd.cncf.seccomp-profile.config.v1+json"
SPO_TYPE = "application/vnd.unknown.config.v1+json"
EMPTY_TYPE = "application/vnd.oci.empty.v1+json"
TAR_LAYER = "application/vnd.oci.image.layer.v1.tar"

# Refuses mkdir/mkdirat with EPERM and allows the rest: enough to see enforcement in a container.
NO_MKDIR = {"defaultAction": "SCMP_ACT_ALLOW", "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_AARCH64"],
            "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1}]}


def spo_yaml(name, names, arch="SCMP_ARCH_X86_64"):
    return ("apiVersion: security-profiles-operator.x-k8s.io/v1beta1\nkind: SeccompProfile\n"
            "metadata:\n  name: %s\nspec:\n  defaultAction: SCMP_ACT_ERRNO\n  architectures:\n  - %s\n"
            "  syscalls:\n  - action: SCMP_ACT_ALLOW\n    names:\n%s" %
            (name, arch, "".join("    - %s\n" % n for n in names))).encode()


def sha256(data):
    return "sha256:" + hashlib.sha256(data).hexdigest()


class OciArtifacts(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        if shutil.which("openssl") is None:
            raise unittest.SkipTest("openssl is not installed")
        if e2e.plugin_dir() is None:
            raise unittest.SkipTest("kubectl-seccomp is not built (set KSC_BUILD_DIR)")
        cls.plugin = os.path.join(e2e.plugin_dir(), "kubectl-seccomp")
        cls.dir = tempfile.mkdtemp(prefix="ksc-oci-")
        cls.srv = None
        try:
            cls.srv, cls.info, _ = registry_double.serve(cls.dir)
            cls.host = cls.info["host"]
            # `docker login` leaves this: the double's user for its host.
            cls.config = os.path.join(cls.dir, "config.json")
            auth = base64.b64encode(("%s:%s" % (cls.info["user"], cls.info["password"])).encode()).decode()
            with open(cls.config, "w") as f:
                json.dump({"auths": {cls.host: {"auth": auth}}}, f)
            cls.empty_config = os.path.join(cls.dir, "empty-config.json")
            with open(cls.empty_config, "w") as f:
                f.write("{}")
            # The profile as `convert` writes OCI JSON: what push puts in the layer.
            src = os.path.join(cls.dir, "no-mkdir-src.json")
            with open(src, "w") as f:
                json.dump(NO_MKDIR, f)
            cls.profile = os.path.join(cls.dir, "no-mkdir.json")
            r = subprocess.run([cls.plugin, "convert", src, "--output-file", cls.profile], capture_output=True, text=True)
            assert r.returncode == 0, r.stderr
        except BaseException:
            cls.tearDownClass()
            raise

    @classmethod
    def tearDownClass(cls):
        if cls.srv is not None:
            cls.srv.shutdown()
            cls.srv.server_close()
        shutil.rmtree(cls.dir, ignore_errors=True)

    def run_plugin(self, *args, config=None, ca=True, env=None):
        cmd = [self.plugin, *args, "--registry-config", config or self.config]
        if ca:
            cmd += ["--registry-ca-file", self.info["ca"]]
        return subprocess.run(cmd, capture_output=True, text=True, timeout=120,
                              env=dict(os.environ, **(env or {})))

    def ref(self, repo_tag):
        return "%s/%s" % (self.host, repo_tag)

    def pull(self, ref, *args, ok=True, **kw):
        out = os.path.join(self.dir, "pulled-%d" % len(os.listdir(self.dir)))
        r = self.run_plugin("pull", ref, "--output-file", out, *args, **kw)
        if ok:
            self.assertEqual(r.returncode, 0, r.stderr)
            with open(out, "rb") as f:
                return f.read(), r.stderr
        self.assertFalse(os.path.exists(out), "a refused pull wrote its output")
        return None, r

    def test_push_then_pull_round_trips_byte_for_byte_in_the_runtimes_format(self):
        before = len(self.srv.requests)
        r = self.run_plugin("push", self.ref("team/no-mkdir:v1"), self.profile)
        self.assertEqual(r.returncode, 0, r.stderr)
        pinned = r.stdout.strip()
        media_type, manifest_bytes = self.srv.images.manifests[("team/no-mkdir", "v1")]
        self.assertEqual(pinned, "%s/team/no-mkdir@%s" % (self.host, sha256(manifest_bytes)))
        self.assertEqual(media_type, "application/vnd.oci.image.manifest.v1+json")
        m = json.loads(manifest_bytes)
        self.assertEqual(m["artifactType"], RUNTIME_TYPE)
        self.assertEqual(m["config"]["mediaType"], RUNTIME_TYPE)
        self.assertEqual(self.srv.images.blobs[m["config"]["digest"]], b"{}")
        self.assertEqual(len(m["layers"]), 1)
        with open(self.profile, "rb") as f:
            original = f.read()
        self.assertEqual(self.srv.images.blobs[m["layers"][0]["digest"]], original)
        # The token challenge was followed: push and pull access asked for at the token service.
        requests = self.srv.requests[before:]
        self.assertTrue(any(q["path"] == "/token" and "pull%2Cpush" in q["query"] for q in requests), requests)
        puts = [q for q in requests if q["method"] == "PUT" and "/manifests/" in q["path"]]
        self.assertTrue(puts and puts[-1]["authorization"].startswith("Bearer "))
        self.assertEqual(puts[-1]["content_type"], "application/vnd.oci.image.manifest.v1+json")

        pulled, err = self.pull(self.ref("team/no-mkdir:v1"))
        self.assertEqual(pulled, original)
        self.assertIn("the runtimes' format", err)
        # By digest too (verified), and anonymously: pull needs no credentials here.
        pulled, _ = self.pull(pinned, config=self.empty_config)
        self.assertEqual(pulled, original)
        # -o yaml: the same profile as a SeccompProfile named after the repository.
        yaml, _ = self.pull(pinned, "-o", "yaml")
        self.assertIn(b"kind: SeccompProfile", yaml)
        self.assertIn(b"name: no-mkdir", yaml)
        # Pushing the same profile again makes the same manifest: nothing new to upload.
        again = self.run_plugin("push", self.ref("team/no-mkdir:v1"), self.profile)
        self.assertEqual(again.stdout.strip(), pinned)

    def test_a_chunked_push_round_trips_too(self):
        before = len(self.srv.requests)
        big = dict(NO_MKDIR, syscalls=NO_MKDIR["syscalls"] + [
            {"names": ["ptrace"], "action": "SCMP_ACT_ERRNO", "errnoRet": 38, "comment": "x" * 3000}])
        src = os.path.join(self.dir, "chunked.json")
        with open(src, "w") as f:
            json.dump(big, f)
        r = self.run_plugin("push", self.ref("team/chunked:1"), src, "--chunk-size", "1000")
        self.assertEqual(r.returncode, 0, r.stderr)
        patches = [q for q in self.srv.requests[before:] if q["method"] == "PATCH"]
        self.assertGreaterEqual(len(patches), 3)
        pulled, _ = self.pull(self.ref("team/chunked:1"))
        self.assertEqual(json.loads(pulled)["syscalls"][-1]["comment"], "x" * 3000)

    def test_a_busy_registry_is_read_again_and_a_failed_upload_cancelled(self):
        r = self.run_plugin("push", self.ref("team/busy:1"), self.profile)
        self.assertEqual(r.returncode, 0, r.stderr)
        # Two 503s on the manifest and on the layer: a pull waits them out.
        self.srv.fail.extend([{"method": "GET", "path": "/v2/team/busy/manifests/", "code": 503, "count": 2},
                              {"method": "GET", "path": "/v2/team/busy/blobs/", "code": 503, "count": 2}])
        pulled, _ = self.pull(self.ref("team/busy:1"), config=self.empty_config)
        with open(self.profile, "rb") as f:
            self.assertEqual(pulled, f.read())
        self.assertEqual([f["count"] for f in self.srv.fail[-2:]], [0, 0])
        # A closing PUT refused: push fails, says so, and cancels the upload (DELETE).
        before = len(self.srv.requests)
        src = os.path.join(self.dir, "cancelled.json")
        with open(src, "w") as f:
            json.dump(dict(NO_MKDIR, defaultAction="SCMP_ACT_LOG"), f)
        self.srv.fail.append({"method": "PUT", "path": "/v2/team/cancel/blobs/uploads/", "code": 500, "count": 1})
        r = self.run_plugin("push", self.ref("team/cancel:1"), src)
        self.assertEqual(r.returncode, 1)
        self.assertIn("failed: HTTP 500 UNAVAILABLE: injected failure", r.stderr)
        deletes = [q for q in self.srv.requests[before:] if q["method"] == "DELETE"]
        self.assertEqual(len(deletes), 1, self.srv.requests[before:])
        self.assertEqual(self.srv.uploads, {})
        self.assertNotIn(("team/cancel", "1"), self.srv.images.manifests)

    def test_push_refuses_a_registry_answering_another_digest(self):
        # A new repository: the first write answered is the config blob's closing PUT.
        self.srv.misreport = 1
        r = self.run_plugin("push", self.ref("team/misreport-blob:1"), self.profile)
        self.srv.misreport = 0
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertIn("the registry stored the blob as", r.stderr)
        self.assertNotIn(("team/misreport-blob", "1"), self.srv.images.manifests)
        # Blobs already there: the only write is the manifest's PUT.
        r = self.run_plugin("push", self.ref("team/misreport-manifest:1"), self.profile)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.srv.misreport = 1
        r = self.run_plugin("push", self.ref("team/misreport-manifest:1"), self.profile)
        self.srv.misreport = 0
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertIn("the registry stored the manifest of", r.stderr)

    def test_a_registry_asking_for_basic_auth_gets_the_configs_user_and_password(self):
        r = self.run_plugin("push", self.ref("basic/profile:1"), self.profile)
        self.assertEqual(r.returncode, 0, r.stderr)
        pulled, _ = self.pull(self.ref("basic/profile:1"))
        with open(self.profile, "rb") as f:
            self.assertEqual(pulled, f.read())
        _, r = self.pull(self.ref("basic/profile:1"), ok=False, config=self.empty_config)
        self.assertIn("needs a user and password", r.stderr)
        self.assertFalse(any(q["path"] == "/token" and "basic%2F" in q["query"] for q in self.srv.requests))

    def test_push_needs_credentials_and_says_how_to_get_them(self):
        r = self.run_plugin("push", self.ref("team/anon:1"), self.profile, config=self.empty_config)
        self.assertEqual(r.returncode, 1)
        self.assertIn("refused push access", r.stderr)
        self.assertIn("log in first", r.stderr)
        self.assertNotIn(("team/anon", "1"), self.srv.images.manifests)

    def test_a_credential_helper_named_by_the_config_supplies_the_login(self):
        bindir = os.path.join(self.dir, "helper-bin")
        os.makedirs(bindir, exist_ok=True)
        helper = os.path.join(bindir, "docker-credential-ksce2e")
        with open(helper, "w") as f:
            f.write('#!/bin/sh\nread server\n[ "$server" = "%s" ] || { echo "credentials not found"; exit 1; }\n'
                    'echo \'{"Username":"%s","Secret":"%s"}\'\n' % (self.host, self.info["user"], self.info["password"]))
        os.chmod(helper, 0o755)
        config = os.path.join(self.dir, "helper-config.json")
        with open(config, "w") as f:
            json.dump({"credHelpers": {self.host: "ksce2e"}}, f)
        r = self.run_plugin("push", self.ref("team/helper:1"), self.profile, "-v=2", config=config,
                            env={"PATH": bindir + os.pathsep + os.environ["PATH"]})
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("credential helper docker-credential-ksce2e", r.stderr)

    def test_an_identity_token_is_exchanged_with_the_oauth2_refresh_grant(self):
        config = os.path.join(self.dir, "identity-config.json")
        with open(config, "w") as f:
            json.dump({"auths": {self.host: {"identitytoken": self.info["refresh_token"]}}}, f)
        before = len(self.srv.requests)
        r = self.run_plugin("push", self.ref("team/oauth:1"), self.profile, config=config)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertTrue(any(q["method"] == "POST" and q["path"] == "/token" for q in self.srv.requests[before:]))
        with open(config, "w") as f:
            json.dump({"auths": {self.host: {"identitytoken": "revoked"}}}, f)
        r = self.run_plugin("push", self.ref("team/oauth:2"), self.profile, config=config)
        self.assertEqual(r.returncode, 1)
        self.assertIn("token service refused", r.stderr)

    def test_push_refuses_what_the_runtimes_merger_would_in_one_line(self):
        cases = [
            ({"defaultAction": "SCMP_ACT_ERRNO",
              "syscalls": [{"names": ["mount"], "action": "SCMP_ACT_NOTIFY"}]}, "no SCMP_ACT_NOTIFY"),
            ({"defaultAction": "SCMP_ACT_ERRNO", "listenerPath": "/run/agent.sock",
              "syscalls": [{"names": ["read"], "action": "SCMP_ACT_ALLOW"}]}, "no listener fields"),
            ({"defaultAction": "SCMP_ACT_ERRNO",
              "syscalls": [{"names": ["read"], "action": "SCMP_ACT_ALLOW", "errnoRet": 1}]},
             "errnoRet only on errno or trace actions"),
            ({"defaultAction": "SCMP_ACT_ERRNO",
              "syscalls": [{"names": ["read"], "action": "SCMP_ACT_ALLOW"},
                           {"names": ["read"], "action": "SCMP_ACT_KILL_PROCESS"}]}, "no conflicting entries"),
            ({"defaultAction": "SCMP_ACT_ERRNO",
              "syscalls": [{"names": ["ioctl"], "action": "SCMP_ACT_ALLOW",
                            "args": [{"index": 1, "value": i, "op": "SCMP_CMP_EQ"}]} for i in range(129)]},
             "at most 128 entries per syscall"),
        ]
        for profile, rule in cases:
            with self.subTest(rule=rule):
                path = os.path.join(self.dir, "refused.json")
                with open(path, "w") as f:
                    json.dump(profile, f)
                before = len(self.srv.requests)
                r = self.run_plugin("push", self.ref("team/refused:1"), path)
                self.assertEqual(r.returncode, 1)
                # One line of refusal (the reader may have warned about the field before it).
                errors = [line for line in r.stderr.splitlines() if line.startswith("error:")]
                self.assertEqual(len(errors), 1, r.stderr)
                self.assertIn("would be refused by the runtimes that pull it, so it is not pushed: " + rule, errors[0])
                self.assertEqual(self.srv.requests[before:], [], "a refused profile reached the registry")

    def test_push_warns_above_one_mebibyte_and_pushes(self):
        big = dict(NO_MKDIR, syscalls=NO_MKDIR["syscalls"] + [
            {"names": ["ptrace"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1, "comment": "y" * (1100 * 1024)}])
        path = os.path.join(self.dir, "big.json")
        with open(path, "w") as f:
            json.dump(big, f)
        r = self.run_plugin("push", self.ref("team/big:1"), path)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("warning: the profile is", r.stderr)
        self.assertIn("above 1 MiB", r.stderr)

    def test_each_variant_of_the_operators_older_format_pulls(self):
        im = self.srv.images
        one = spo_yaml("legacy", ["read", "write", "exit_group"])
        # Recent operator versions: the unknown type as artifactType, an empty config.
        im.artifact("spo/by-artifact-type", "1", EMPTY_TYPE, b"{}", [(TAR_LAYER, one, "profile.yaml", None)],
                    artifact_type=SPO_TYPE)
        # Older ORAS packing: the unknown type as the config's media type.
        im.artifact("spo/by-config-type", "1", SPO_TYPE, b"{}", [(TAR_LAYER, one, "profile.yaml", None)])
        for repo, how in (("spo/by-artifact-type", "as artifactType"), ("spo/by-config-type", "as config media type")):
            with self.subTest(repo=repo):
                pulled, err = self.pull(self.ref(repo + ":1"), config=self.empty_config)
                self.assertIn("older format", err)
                self.assertIn("SeccompProfile YAML layers", err)
                prof = json.loads(pulled)
                self.assertEqual(prof["defaultAction"], "SCMP_ACT_ERRNO")
                self.assertEqual(e2e.allowed(prof), {"read", "write", "exit_group"})
                yaml, _ = self.pull(self.ref(repo + ":1"), "-o", "yaml", config=self.empty_config)
                self.assertIn(b"name: legacy", yaml)
        # Some packers add the profile as OCI JSON, titled profile.json: read by its content.
        im.artifact("spo/json-layer", "1", EMPTY_TYPE, b"{}",
                    [("application/json", json.dumps(NO_MKDIR).encode(), "profile.json", None)], artifact_type=SPO_TYPE)
        pulled, _ = self.pull(self.ref("spo/json-layer:1"), config=self.empty_config)
        self.assertEqual(json.loads(pulled)["syscalls"][0]["names"], ["mkdir", "mkdirat"])
        # One layer per platform: merged by default, one chosen with --platform.
        im.artifact("spo/per-platform", "1", EMPTY_TYPE, b"{}", [
            (TAR_LAYER, spo_yaml("multi", ["read", "arch_prctl"]), "profile-linux-amd64.yaml", None),
            (TAR_LAYER, spo_yaml("multi", ["read", "write"], "SCMP_ARCH_AARCH64"), "profile-linux-arm64.yaml", None),
        ], artifact_type=SPO_TYPE)
        merged, err = self.pull(self.ref("spo/per-platform:1"), config=self.empty_config)
        self.assertIn("merged the profiles of 2 platforms", err)
        merged = json.loads(merged)
        self.assertEqual(e2e.allowed(merged), {"read", "write", "arch_prctl"})
        self.assertEqual(set(merged["architectures"]), {"SCMP_ARCH_X86_64", "SCMP_ARCH_AARCH64"})
        arm, _ = self.pull(self.ref("spo/per-platform:1"), "--platform", "linux/arm64", config=self.empty_config)
        self.assertEqual(e2e.allowed(json.loads(arm)), {"read", "write"})
        _, r = self.pull(self.ref("spo/per-platform:1"), "--platform", "linux/s390x", ok=False,
                         config=self.empty_config)
        self.assertIn("no profile for linux/s390x (it has: linux/amd64, linux/arm64)", r.stderr)

    def test_the_runtimes_format_pulls_whatever_the_layers_media_type(self):
        with open(self.profile, "rb") as f:
            data = f.read()
        # CRI-O's own test artifact: a tar media type on a JSON layer, no title.
        self.srv.images.artifact("crio/profile", "1", RUNTIME_TYPE, b"{}", [(TAR_LAYER, data, None, None)],
                                 artifact_type=RUNTIME_TYPE)
        pulled, err = self.pull(self.ref("crio/profile:1"), config=self.empty_config)
        self.assertEqual(pulled, data)
        self.assertIn("the runtimes' format", err)

    def test_an_index_of_per_platform_artifacts_resolves_to_the_platform_asked_for(self):
        im = self.srv.images
        entries = []
        for arch, call in (("amd64", "arch_prctl"), ("arm64", "openat2")):
            prof = json.dumps({"defaultAction": "SCMP_ACT_ERRNO",
                               "syscalls": [{"names": [call], "action": "SCMP_ACT_ALLOW"}]}).encode()
            d, n = im.artifact("index/profile", None, RUNTIME_TYPE, b"{}", [("application/json", prof, None, None)],
                               artifact_type=RUNTIME_TYPE)
            entries.append({"mediaType": registry_double.OCI_MANIFEST, "digest": d, "size": n,
                            "artifactType": RUNTIME_TYPE, "platform": {"os": "linux", "architecture": arch}})
        im.manifest("index/profile", "1", registry_double.OCI_INDEX,
                    {"schemaVersion": 2, "mediaType": registry_double.OCI_INDEX, "manifests": entries})
        arm, _ = self.pull(self.ref("index/profile:1"), "--platform", "linux/arm64", config=self.empty_config)
        self.assertEqual(e2e.allowed(arm.decode()), {"openat2"})
        amd, _ = self.pull(self.ref("index/profile:1"), "--platform", "linux/amd64", config=self.empty_config)
        self.assertEqual(e2e.allowed(amd.decode()), {"arch_prctl"})
        _, r = self.pull(self.ref("index/profile:1"), "--platform", "linux/riscv64", ok=False, config=self.empty_config)
        self.assertIn("no manifest for linux/riscv64", r.stderr)

    def test_a_swapped_layer_and_a_manifest_not_matching_its_digest_are_refused(self):
        with open(self.profile, "rb") as f:
            data = f.read()
        d, _ = self.srv.images.artifact("tampered/profile", "1", RUNTIME_TYPE, b"{}",
                                        [("application/json", data, "profile.json", None)], artifact_type=RUNTIME_TYPE)
        layer = json.loads(self.srv.images.manifests[("tampered/profile", "1")][1])["layers"][0]["digest"]
        genuine = self.srv.images.blobs[layer]
        self.srv.images.blobs[layer] = genuine.replace(b"SCMP_ACT_ERRNO", b"SCMP_ACT_ALLOW")
        try:
            _, r = self.pull(self.ref("tampered/profile:1"), ok=False, config=self.empty_config)
            self.assertEqual(r.returncode, 1)
            self.assertIn("does not match its digest %s" % layer, r.stderr)
        finally:
            self.srv.images.blobs[layer] = genuine
        # REF@sha256: the manifest served for that digest must hash to it.
        mt, body = self.srv.images.manifests[("tampered/profile", d)]
        self.srv.images.manifests[("tampered/profile", d)] = (mt, body.replace(b"profile.json", b"profile.jsoN"))
        _, r = self.pull(self.ref("tampered/profile@" + d), ok=False, config=self.empty_config)
        self.assertIn("does not match its digest %s" % d, r.stderr)

    def test_plain_http_only_with_insecure_registry(self):
        plain, info, _ = registry_double.serve(os.path.join(self.dir, "plain"), tls=False)
        try:
            config = os.path.join(self.dir, "plain-config.json")
            auth = base64.b64encode(("%s:%s" % (info["user"], info["password"])).encode()).decode()
            with open(config, "w") as f:
                json.dump({"auths": {info["host"]: {"auth": auth}}}, f)
            ref = "%s/local/profile:1" % info["host"]
            r = self.run_plugin("push", ref, self.profile, "--insecure-registry", config=config, ca=False)
            self.assertEqual(r.returncode, 0, r.stderr)
            pulled, _ = self.pull(ref, "--insecure-registry", config=config, ca=False)
            with open(self.profile, "rb") as f:
                self.assertEqual(pulled, f.read())
            _, r = self.pull(ref, ok=False, config=config, ca=False)
            self.assertEqual(r.returncode, 1)
            self.assertTrue(r.stderr.startswith("error: GET https://"), r.stderr)
        finally:
            plain.shutdown()
            plain.server_close()

    def test_a_container_started_with_the_pulled_profile_enforces_it(self):
        ok, why = podman.usable()
        if not ok:
            self.skipTest(why)
        r = self.run_plugin("push", self.ref("team/enforce:1"), self.profile)
        self.assertEqual(r.returncode, 0, r.stderr)
        pulled = os.path.join(self.dir, "enforce.json")
        r = self.run_plugin("pull", r.stdout.strip(), "--output-file", pulled, config=self.empty_config)
        self.assertEqual(r.returncode, 0, r.stderr)
        run = podman.base_cmd() + ["run", "--rm", "--pull", "never", "--network", "none"] + podman.run_flags()
        script = ["/bin/sh", "-c", "mkdir /tmp/made && echo made"]
        free = subprocess.run(run + [podman.BUSYBOX_IMAGE] + script, capture_output=True, text=True, timeout=120)
        self.assertEqual(free.returncode, 0, free.stderr)
        self.assertIn("made", free.stdout)
        confined = subprocess.run(run + ["--security-opt", "seccomp=" + pulled, podman.BUSYBOX_IMAGE] + script,
                                  capture_output=True, text=True, timeout=120)
        self.assertNotEqual(confined.returncode, 0, confined.stdout)
        self.assertIn("Operation not permitted", confined.stderr)
        self.assertNotIn("made", confined.stdout)


if __name__ == "__main__":
    # Skipped as a whole (77) when what every test needs is missing, saying why.
    e2e.require(kubectl=False, podman_needed=False)
    e2e.require_plugin()
    e2e.main()
