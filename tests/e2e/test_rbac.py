#!/usr/bin/env python3
"""`kubectl seccomp rbac record ...` states the RBAC a recording needs; this checks that it is
enough and that each required part is needed. With the double's permissive binding deleted (RBAC as
on a real cluster, apidouble/rbac.py), the printed Role and RoleBinding are applied with real
`kubectl apply` for a fresh user, and the verb is run as that user through impersonation (the
admin's certificate, `--as USER`): it records. Then, for each required verb of each rule, the same
Role without that verb, for another fresh user: the run fails with one `error:` line naming the
refused permission and the rbac command (a refused delete of the --from-start copy is a warning
once the recording is written). Plain record and --from-start (--command: no registry) verb by
verb; deploy/NAME and -l for what they add; recover with its optional pods/log left out; check
attached and --from-start with the required rules, and --from-start with the optional namespaces
rule too (the app then runs without the CAP_SYS_ADMIN its copy got). kubectl auth can-i sees the
same rules. About 95 s.

Needs podman, kubectl, the built plugin and the tracer image (e2e.TRACER_IMAGE)."""
import copy
import itertools
import json
import os
import subprocess
import sys
import time
import unittest

import yaml

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import e2e_support as e2e  # noqa: E402
from apidouble import podman  # noqa: E402
from test_record_from_start import tracer_image  # noqa: E402

LOOP = "while true; do ls / >/dev/null; sleep 0.5; done"
CAPS = "while read l; do case $l in Cap*) echo $l;; esac; done < /proc/self/status; "
NS = "team"
RECORD_PODS = 6  # one success, then pods get, pods watch, ephemeralcontainers patch, attach create, attach get
_users = itertools.count()


class RbacOfRecord(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        e2e.require_plugin()
        if not podman.image_exists(e2e.TRACER_IMAGE):
            print("SKIP: the tracer image %s is not built" % e2e.TRACER_IMAGE, flush=True)
            sys.exit(e2e.SKIP)
        # A pod per attempt at plain record: a refused one can leave its recorder running there.
        pods = [e2e.pod_manifest("loop-%d" % i, LOOP, namespace=NS) for i in range(RECORD_PODS)]
        pods.append(e2e.pod_manifest("selected", LOOP, namespace=NS))
        pods[-1]["metadata"]["labels"] = {"role": "selected"}
        pods.append(e2e.pod_manifest("recovered", LOOP, namespace=NS))
        # Prints its capability sets (shell builtins only), then loops.
        pods.append(e2e.pod_manifest("checked", CAPS + LOOP, namespace=NS))
        deploy = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "shop", "namespace": NS},
                  "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "shop"}},
                           "template": {"metadata": {"labels": {"app": "shop"}},
                                        "spec": {"containers": [{"name": "app", "image": e2e.IMAGE,
                                                                 "command": ["sh", "-c", LOOP]}]}}}}
        cls.d = e2e.Double("--namespace", NS + ":privileged", pods=pods + [deploy])
        cls.addClassCleanup(cls.d.stop)
        for p in pods:
            cls.d.wait_running(p["metadata"]["name"], namespace=NS)
        deadline = time.time() + 60
        while time.time() < deadline and not cls.ready("app=shop"):
            time.sleep(0.3)
        # RBAC as on a real cluster: only the admin (system:masters) may do anything.
        cls.d.kubectl("delete", "clusterrolebinding", "apidouble:permissive", check=True)
        cls.env = dict(os.environ, PATH=e2e.plugin_dir() + os.pathsep + os.environ["PATH"])

    @classmethod
    def ready(cls, selector):
        _, pods = cls.d.request("GET", "/api/v1/namespaces/%s/pods?labelSelector=%s" % (NS, selector.replace("=", "%3D")))
        return [p["metadata"]["name"] for p in pods.get("items", [])
                if any(c["type"] == "Ready" and c["status"] == "True" for c in p["status"].get("conditions", []))]

    def plugin(self, *args, timeout=120):
        return subprocess.run(["kubectl", "seccomp", *args, "--kubeconfig", self.d.kubeconfig],
                              capture_output=True, text=True, timeout=timeout, env=self.env,
                              stdin=subprocess.DEVNULL)

    def printed(self, *verb_args, verb="record"):
        """The documents `kubectl seccomp rbac record ...` prints (a fresh user bound), and the
        names of the required rules (the comment over each rule says which)."""
        user = "rbac-user-%d" % next(_users)
        r = self.plugin("rbac", "--user", user, "--name", user, "--required-only", verb, *verb_args)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertNotIn("# optional:", r.stdout)
        full = self.plugin("rbac", verb, *verb_args)
        self.assertEqual(full.returncode, 0, full.stderr)
        return user, list(yaml.safe_load_all(r.stdout)), full.stdout

    def bind(self, docs):
        text = yaml.safe_dump_all(docs)
        r = self.d.kubectl("apply", "-f", "-", input=text)
        self.assertEqual(r.returncode, 0, r.stderr)

    def run_as(self, user, *verb_args):
        return self.plugin("record", *verb_args, "--as", user, "--image", e2e.TRACER_IMAGE, "-o", "json",
                           "--duration", "2s")

    def check_each_verb_is_needed(self, docs, args_for, succeeds_without=(), only=None):
        """args_for(n): the verb's arguments for the n-th attempt; only: the (resource, verb) pairs
        to take away (all when None)."""
        role = docs[0]
        attempt = itertools.count(1)
        for i, rule in enumerate(role["rules"]):
            for verb in rule["verbs"]:
                if only is not None and (rule["resources"][0], verb) not in only:
                    continue
                with self.subTest(resource=rule["resources"][0], verb=verb):
                    user = "rbac-user-%d" % next(_users)
                    cut = copy.deepcopy(docs)
                    cut[0]["rules"][i]["verbs"].remove(verb)
                    if not cut[0]["rules"][i]["verbs"]:
                        del cut[0]["rules"][i]
                    for d in cut:
                        d["metadata"]["name"] = user
                    cut[1]["roleRef"]["name"] = user
                    cut[1]["subjects"][0]["name"] = user
                    self.bind(cut)
                    verb_args = args_for(next(attempt))
                    r = self.run_as(user, *verb_args)
                    resource = rule["resources"][0]
                    refusal = 'User "%s" cannot %s resource "%s" in API group "%s"' % (
                        user, verb, resource, rule["apiGroups"][0])
                    if (resource, verb) in succeeds_without:
                        self.assertEqual(r.returncode, 0, r.stderr)
                        self.assertIn("warning: could not delete pod", r.stderr)
                        self.assertIn(refusal, r.stderr)
                        continue
                    self.assertNotEqual(r.returncode, 0, r.stderr)
                    errors = [line for line in r.stderr.splitlines() if line.startswith("error:")]
                    self.assertEqual(len(errors), 1, r.stderr)
                    self.assertIn(refusal, errors[0])
                    self.assertIn("; `kubectl seccomp rbac record %s " % " ".join(verb_args), errors[0])
                    self.assertTrue(errors[0].endswith("` prints the RBAC it needs"), errors[0])

    def test_record_pod_needs_exactly_the_printed_rules(self):
        args = ("loop-0", "-n", NS)
        user, docs, full = self.printed(*args)
        self.assertEqual([d["kind"] for d in docs], ["Role", "RoleBinding"])
        self.assertEqual(docs[0]["metadata"]["namespace"], NS)
        self.assertIn('# optional: without it the recorder\'s protocol is not checked', full)
        self.bind(docs)
        # kubectl's own view of that user (SelfSubjectAccessReview, SelfSubjectRulesReview).
        can = self.d.kubectl("auth", "can-i", "patch", "pods", "--subresource=ephemeralcontainers", "-n", NS,
                             "--as", user)
        self.assertEqual(can.stdout.strip(), "yes", can.stderr)
        can = self.d.kubectl("auth", "can-i", "get", "pods", "--subresource=log", "-n", NS, "--as", user)
        self.assertEqual(can.stdout.strip(), "no", can.stderr)
        listed = self.d.kubectl("auth", "can-i", "--list", "-n", NS, "--as", user)
        self.assertIn("pods/ephemeralcontainers", listed.stdout)
        r = self.run_as(user, *args)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn('"defaultAction": "SCMP_ACT_ERRNO"', r.stdout)
        self.check_each_verb_is_needed(docs, lambda n: ("loop-%d" % n, "-n", NS))

    def test_record_from_start_needs_exactly_the_printed_rules(self):
        args = ("loop-0", "-n", NS, "--from-start", "--command", "true")
        user, docs, full = self.printed(*args)
        self.assertNotIn("nodes", full)  # --command: the image's config is never read
        self.bind(docs)
        r = self.run_as(user, *args)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.check_each_verb_is_needed(docs, lambda n: args, succeeds_without={("pods", "delete")})

    def test_record_deploy_and_selector_need_exactly_the_printed_rules(self):
        args = ("deploy/shop", "-n", NS)
        user, docs, _ = self.printed(*args)
        self.bind(docs)
        r = self.run_as(user, *args)
        self.assertEqual(r.returncode, 0, r.stderr)
        # What deploy/NAME adds to plain record (refused before any recorder is added).
        self.check_each_verb_is_needed(docs, lambda n: args, only={
            ("deployments", "get"), ("replicasets", "list"), ("pods", "list")})
        args = ("-l", "role=selected", "-n", NS)
        user, docs, _ = self.printed(*args)
        self.bind(docs)
        r = self.run_as(user, *args)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.check_each_verb_is_needed(docs, lambda n: args, only={("pods", "list")})

    def check_as(self, user, *verb_args):
        r = self.plugin("check", *verb_args, "--as", user, "--image", self.tracer, "-o", "json")
        self.assertIn(r.returncode, (0, 1), r.stderr)  # 1: runtime/default refused something
        return json.loads(r.stdout)

    def test_check_needs_the_printed_rules_and_reads_the_namespace_only_if_it_may(self):
        """check attached and --from-start with the required rules alone: both check (the copy, its
        namespace unread, runs as at the restricted level, and the report says so). With the optional
        rules too (namespaces and nodes in a ClusterRole), the copy of a pod of this privileged
        namespace gets CAP_SYS_ADMIN for the tracer only: the app runs without it."""
        self.tracer = tracer_image()  # this build's tracer: it checks (stream protocol 1.2)
        attach = ("checked", "-n", NS, "--profile", "runtime/default", "--duration", "2s")
        user, docs, full = self.printed(*attach, verb="check")
        self.assertIn('resources: ["nodes"]', full)
        self.assertNotIn("namespaces", full)
        self.bind(docs)
        self.assertEqual(self.check_as(user, *attach)["mode"], "eval")
        start = ("checked", "-n", NS, "--profile", "runtime/default", "--from-start", "--command", "true",
                 "--keep", "--duration", "3s")
        user, docs, full = self.printed(*start, verb="check")
        self.assertIn('resources: ["namespaces"]', full)
        self.bind(docs)
        report = self.check_as(user, *start)
        self.assertTrue(any("get on namespaces" in c for c in report["caveats"]), report["caveats"])
        # Every rule, the ClusterRole and its binding too.
        user = "rbac-user-%d" % next(_users)
        r = self.plugin("rbac", "--user", user, "--name", user, "check", *start)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.bind(list(yaml.safe_load_all(r.stdout)))
        report = self.check_as(user, *start)
        self.assertEqual([c for c in report["caveats"] if "namespace" in c or "no_new_privs" in c], [],
                         "the namespace was read: no RuntimeDefault, no no_new_privs")
        copy_name = report["target"].split("/")[0]
        _, pod = self.d.request("GET", "/api/v1/namespaces/%s/pods/%s" % (NS, copy_name))
        app = [c for c in pod["spec"]["containers"] if c["name"] == "app"][0]
        self.assertEqual(app["securityContext"]["capabilities"]["add"], ["SYS_ADMIN"])
        self.assertIn("--drop-cap-sys-admin", app["args"])
        logs = self.d.kubectl("logs", copy_name, "-c", "app", "-n", NS).stdout
        sets = dict(line.split(":") for line in logs.splitlines() if line.startswith("Cap"))
        self.assertEqual(sorted(sets), ["CapAmb", "CapBnd", "CapEff", "CapInh", "CapPrm"], logs)
        for name in ("CapBnd", "CapPrm", "CapEff"):
            self.assertFalse(int(sets[name].strip(), 16) & (1 << 21), "%s holds CAP_SYS_ADMIN: %s" % (name, logs))
        self.assertTrue(int(sets["CapEff"].strip(), 16), logs)  # the others are still there

    def test_recover_needs_the_pod_and_reads_the_log_only_if_allowed(self):
        r = self.plugin("record", "recovered", "-n", NS, "--image", e2e.TRACER_IMAGE, "--duration", "1s")
        self.assertEqual(r.returncode, 0, r.stderr)
        user, docs, full = self.printed("recovered", "-n", NS, verb="recover")
        self.assertIn("# optional: without it only the termination message is read", full)
        self.bind(docs)
        self.d.wait_for(lambda p: all("terminated" in s["state"] for s in p["status"].get("ephemeralContainerStatuses", [])),
                        "the recorder ends", name="recovered", namespace=NS)
        r = self.plugin("recover", "recovered", "-n", NS, "--as", user, "-o", "json")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("the recorder's log could not be read", r.stderr)  # pods/log is optional
        self.assertIn('"defaultAction": "SCMP_ACT_ERRNO"', r.stdout)
        r = self.plugin("recover", "recovered", "-n", NS, "--as", "nobody")
        self.assertEqual(r.returncode, 1)
        self.assertEqual(r.stderr.strip(),
                         'error: pods "recovered" is forbidden: User "nobody" cannot get resource "pods" in API group '
                         '"" in the namespace "team"; `kubectl seccomp rbac recover recovered -n team --as nobody '
                         '--kubeconfig %s` prints the RBAC it needs' % self.d.kubeconfig)

    def test_impersonation_needs_impersonate_as_rbac_grants_it(self):
        kc = os.path.join(os.path.dirname(self.d.kubeconfig), "kubeconfig-token")  # token-user
        r = self.d.kubectl("get", "pods", "-n", NS, "--as", "alice", kubeconfig=kc)
        self.assertEqual(r.returncode, 1)
        self.assertIn('users "alice" is forbidden: User "token-user" cannot impersonate resource "users" in API group '
                      '"" at the cluster scope', r.stderr)
        self.bind([{"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
                    "metadata": {"name": "impersonate-alice"},
                    "rules": [{"apiGroups": [""], "resources": ["users"], "verbs": ["impersonate"],
                               "resourceNames": ["alice"]}]},
                   {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
                    "metadata": {"name": "impersonate-alice"},
                    "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole",
                                "name": "impersonate-alice"},
                    "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": "token-user"}]}])
        r = self.d.kubectl("get", "pods", "-n", NS, "--as", "alice", kubeconfig=kc)
        self.assertIn('User "alice" cannot list resource "pods"', r.stderr)  # alice herself may not list
        r = self.d.kubectl("get", "pods", "-n", NS, "--as", "bob", kubeconfig=kc)
        self.assertIn('User "token-user" cannot impersonate resource "users"', r.stderr)  # resourceNames


if __name__ == "__main__":
    e2e.main()
