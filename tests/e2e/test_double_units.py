#!/usr/bin/env python3
"""The double's own pieces, checked against the behaviour the Kubernetes API reference documents:
patch semantics, the ephemeral-container validation and Pod Security wording, WebSocket framing.
No podman, no kubectl."""
import os
import socket
import sys
import threading
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from apidouble import patch, rbac, validation, websocket  # noqa: E402
from apidouble.status import ApiError, rbac_forbidden  # noqa: E402
from apidouble.server import selector  # noqa: E402
import e2e_support  # noqa: E402


def pod_with(ephemeral=None, containers=("app",)):
    pod = {"metadata": {"name": "mypod", "namespace": "default"},
           "spec": {"containers": [validation.default_container({"name": c, "image": "img:1"})
                                   for c in containers]}}
    if ephemeral is not None:
        pod["spec"]["ephemeralContainers"] = [validation.default_container(dict(e)) for e in ephemeral]
    return pod


class StrategicMergePatch(unittest.TestCase):
    def test_ephemeral_containers_merge_by_name_as_kubectl_debug_sends_them(self):
        old = pod_with([{"name": "a", "image": "x:1"}])
        p = {"spec": {"$setElementOrder/ephemeralContainers": [{"name": "a"}, {"name": "b"}],
                      "ephemeralContainers": [{"name": "b", "image": "y:1"}]}}
        new = patch.strategic_merge_patch(old, p)
        self.assertEqual([c["name"] for c in new["spec"]["ephemeralContainers"]], ["a", "b"])
        self.assertEqual(new["spec"]["ephemeralContainers"][0]["image"], "x:1")

    def test_delete_directive_removes_a_list_element(self):
        old = pod_with(containers=("a", "b"))
        new = patch.strategic_merge_patch(old, {"spec": {"containers": [{"name": "a", "$patch": "delete"}]}})
        self.assertEqual([c["name"] for c in new["spec"]["containers"]], ["b"])

    def test_atomic_lists_are_replaced(self):
        old = {"spec": {"containers": [{"name": "a", "command": ["x", "y"]}]}}
        new = patch.strategic_merge_patch(old, {"spec": {"containers": [{"name": "a", "command": ["z"]}]}})
        self.assertEqual(new["spec"]["containers"][0]["command"], ["z"])

    def test_null_deletes_a_key(self):
        new = patch.strategic_merge_patch({"metadata": {"labels": {"a": "1", "b": "2"}}},
                                          {"metadata": {"labels": {"a": None}}})
        self.assertEqual(new["metadata"]["labels"], {"b": "2"})


class JsonPatches(unittest.TestCase):
    def test_merge_patch_replaces_lists_whole(self):
        old = pod_with([{"name": "a", "image": "x:1"}])
        new = patch.json_merge_patch(old, {"spec": {"ephemeralContainers": [{"name": "b", "image": "y"}]}})
        self.assertEqual([c["name"] for c in new["spec"]["ephemeralContainers"]], ["b"])

    def test_json_patch_appends_with_dash(self):
        old = pod_with([{"name": "a", "image": "x:1"}])
        new = patch.json_patch(old, [{"op": "add", "path": "/spec/ephemeralContainers/-",
                                      "value": {"name": "b", "image": "y"}}])
        self.assertEqual([c["name"] for c in new["spec"]["ephemeralContainers"]], ["a", "b"])

    def test_json_patch_test_op_failure_is_an_error(self):
        with self.assertRaises(patch.PatchError):
            patch.json_patch({"a": 1}, [{"op": "test", "path": "/a", "value": 2}])


class EphemeralValidation(unittest.TestCase):
    def check(self, old, new):
        try:
            validation.validate_ephemeral_update(old, new)
        except ApiError as e:
            return e
        return None

    def test_a_valid_addition_passes(self):
        self.assertIsNone(self.check(pod_with(), pod_with([{"name": "dbg", "image": "t:1",
                                                            "targetContainerName": "app"}])))

    def test_forbidden_fields_are_named_in_go_struct_order(self):
        e = self.check(pod_with(), pod_with([{"name": "dbg", "image": "t:1", "resources": {"limits": {"cpu": "1"}},
                                              "ports": [{"containerPort": 80}], "readinessProbe": {"exec": {}}}]))
        self.assertEqual(e.code, 422)
        self.assertEqual(e.message, 'Pod "mypod" is invalid: ['
                         'spec.ephemeralContainers[0].ports: Forbidden: cannot be set for an Ephemeral Container, '
                         'spec.ephemeralContainers[0].resources: Forbidden: cannot be set for an Ephemeral Container, '
                         'spec.ephemeralContainers[0].readinessProbe: Forbidden: cannot be set for an Ephemeral Container]')
        self.assertEqual(e.details["causes"][0],
                         {"reason": "FieldValueForbidden", "message": "Forbidden: cannot be set for an Ephemeral Container",
                          "field": "spec.ephemeralContainers[0].ports"})

    def test_name_must_be_unique_across_all_containers(self):
        e = self.check(pod_with(), pod_with([{"name": "app", "image": "t:1"}]))
        self.assertEqual(e.message, 'Pod "mypod" is invalid: spec.ephemeralContainers[0].name: Duplicate value: "app"')

    def test_target_container_must_exist(self):
        e = self.check(pod_with(), pod_with([{"name": "dbg", "image": "t:1", "targetContainerName": "nope"}]))
        self.assertEqual(e.message,
                         'Pod "mypod" is invalid: spec.ephemeralContainers[0].targetContainerName: Not found: "nope"')

    def test_existing_ones_cannot_be_removed(self):
        e = self.check(pod_with([{"name": "dbg", "image": "t:1"}]), pod_with([]))
        self.assertEqual(e.message, 'Pod "mypod" is invalid: spec.ephemeralContainers: Forbidden: '
                         'existing ephemeral containers "dbg" may not be removed\n')

    def test_existing_ones_cannot_be_changed(self):
        e = self.check(pod_with([{"name": "dbg", "image": "t:1"}]), pod_with([{"name": "dbg", "image": "t:2"}]))
        self.assertTrue(e.message.startswith('Pod "mypod" is invalid: spec.ephemeralContainers: Forbidden: '
                                             'existing ephemeral containers "dbg" may not be changed\n'), e.message)


class PodSecurity(unittest.TestCase):
    tracer = {"name": "rec", "image": "t:1", "targetContainerName": "app",
              "securityContext": {"capabilities": {"drop": ["ALL"], "add": ["SYS_PTRACE"]},
                                  "allowPrivilegeEscalation": False, "seccompProfile": {"type": "RuntimeDefault"}}}

    def ns(self, level):
        return {"metadata": {"labels": {"pod-security.kubernetes.io/enforce": level}}}

    def test_baseline_refuses_sys_ptrace_with_the_admission_wording(self):
        with self.assertRaises(ApiError) as cm:
            validation.pod_security_check(self.ns("baseline"), pod_with([self.tracer]))
        self.assertEqual(cm.exception.code, 403)
        self.assertEqual(cm.exception.message,
                         'pods "mypod" is forbidden: violates PodSecurity "baseline:latest": non-default capabilities '
                         '(container "rec" must not include "SYS_PTRACE" in securityContext.capabilities.add)')

    def test_privileged_namespaces_allow_it(self):
        validation.pod_security_check(self.ns("privileged"), pod_with([self.tracer]))
        validation.pod_security_check(None, pod_with([self.tracer]))

    def test_restricted_lists_every_failed_check(self):
        with self.assertRaises(ApiError) as cm:
            validation.pod_security_check(self.ns("restricted"), pod_with([self.tracer]))
        msg = cm.exception.message
        self.assertIn('violates PodSecurity "restricted:latest": non-default capabilities', msg)
        self.assertIn('unrestricted capabilities (container "app" must set securityContext.capabilities.drop=["ALL"]; '
                      'container "rec" must not include "SYS_PTRACE" in securityContext.capabilities.add)', msg)
        self.assertIn('runAsNonRoot != true (pod or containers "app", "rec" must set securityContext.runAsNonRoot=true)', msg)


class Selectors(unittest.TestCase):
    pod = {"metadata": {"name": "a", "namespace": "ns", "labels": {"app": "web", "tier": "1"}},
           "spec": {"nodeName": "n"}, "status": {"phase": "Running"}}

    def test_field_and_label_selectors(self):
        self.assertTrue(selector("metadata.name=a", "")(self.pod))
        self.assertFalse(selector("metadata.name!=a", "")(self.pod))
        self.assertTrue(selector("", "app=web,tier in (1,2),!gone")(self.pod))
        self.assertFalse(selector("", "app notin (web)")(self.pod))


class LauncherFlags(unittest.TestCase):
    def test_deny_flag_forms(self):
        sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
        import apiserver
        self.assertEqual(apiserver.parse_deny("patch:pods/ephemeralcontainers"),
                         {"verb": "patch", "resource": "pods", "subresource": "ephemeralcontainers"})
        self.assertEqual(apiserver.parse_deny("create:pods/attach@alice#prod"),
                         {"verb": "create", "resource": "pods", "subresource": "attach", "user": "alice",
                          "namespace": "prod"})
        self.assertEqual(apiserver.parse_deny("get:pods"), {"verb": "get", "resource": "pods", "subresource": ""})


class WebSocketFraming(unittest.TestCase):
    def pair(self, protocol="v5.channel.k8s.io"):
        a, b = socket.socketpair()
        self.addCleanup(a.close)
        self.addCleanup(b.close)
        f = a.makefile("rb")
        self.addCleanup(f.close)
        return websocket.Connection(a, f, protocol), b
        return websocket.Connection(a, a.makefile("rb"), protocol), b

    def masked(self, opcode, payload, fin=True):
        mask = b"\x01\x02\x03\x04"
        head = bytes([(0x80 if fin else 0) | opcode, 0x80 | len(payload)])
        return head + mask + bytes(x ^ mask[i % 4] for i, x in enumerate(payload))

    def test_accept_key_matches_rfc6455_example(self):
        self.assertEqual(websocket.accept_key("dGhlIHNhbXBsZSBub25jZQ=="), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=")

    def test_fragmented_message_is_reassembled_and_pings_answered(self):
        conn, peer = self.pair()
        peer.sendall(self.masked(2, b"\x00he", fin=False) + self.masked(9, b"p") + self.masked(0, b"llo"))
        self.assertEqual(conn.read_channel(), (0, b"hello"))
        self.assertEqual(peer.recv(16), b"\x8a\x01p")

    def test_unmasked_client_frame_closes_with_protocol_error(self):
        conn, peer = self.pair()
        peer.sendall(b"\x82\x02\x00a")
        with self.assertRaises(websocket.Closed):
            conn.read_channel()
        frame = peer.recv(64)
        self.assertEqual((frame[0], frame[2:4]), (0x88, b"\x03\xea"))  # close, 1002

    def test_server_frames_carry_the_channel_byte_and_long_lengths(self):
        conn, peer = self.pair()
        threading.Thread(target=conn.send_channel, args=(1, b"x" * 300)).start()
        data = b""
        while len(data) < 4 + 301:
            data += peer.recv(4096)
        self.assertEqual(data[:5], b"\x82\x7e\x01\x2d\x01")

    def test_base64_protocol_uses_ascii_channel_and_text_frames(self):
        conn, peer = self.pair("v4.base64.channel.k8s.io")
        conn.send_channel(1, b"hi")
        self.assertEqual(peer.recv(16), b"\x81\x05" + b"1aGk=")

    def test_protocol_choice_follows_the_clients_order(self):
        self.assertEqual(websocket.choose_protocol(["v5.channel.k8s.io", "v4.channel.k8s.io"]), "v5.channel.k8s.io")
        self.assertEqual(websocket.choose_protocol(["bogus", "v4.channel.k8s.io"]), "v4.channel.k8s.io")
        self.assertIsNone(websocket.choose_protocol(["bogus"]))


class Rbac(unittest.TestCase):
    """The authorizer of apidouble/rbac.py, against the rule semantics of "Using RBAC Authorization"."""

    def strict(self):
        r = rbac.Rbac(permissive=False)
        r._put("roles", "shop", {"kind": "Role", "metadata": {"name": "rec"}, "rules": [
            {"apiGroups": [""], "resources": ["pods"], "verbs": ["get", "watch"]},
            {"apiGroups": [""], "resources": ["pods/ephemeralcontainers"], "verbs": ["patch"]},
            {"apiGroups": [""], "resources": ["*/attach"], "verbs": ["get", "create"]},
            {"apiGroups": ["apps"], "resources": ["deployments"], "verbs": ["get"], "resourceNames": ["web"]}]})
        r._put("rolebindings", "shop", {"kind": "RoleBinding", "metadata": {"name": "rec"},
                                        "roleRef": {"apiGroup": rbac.GROUP, "kind": "Role", "name": "rec"},
                                        "subjects": [{"kind": "User", "name": "alice"}]})
        r._put("clusterroles", "", {"kind": "ClusterRole", "metadata": {"name": "node-reader"},
                                    "rules": [{"apiGroups": [""], "resources": ["nodes"], "verbs": ["get"]}]})
        r._put("clusterrolebindings", "", r.binding("ClusterRoleBinding", "nodes", "node-reader",
                                                    [{"kind": "Group", "name": "devs"}]))
        return r

    def test_system_masters_is_cluster_admin_and_others_get_nothing_without_the_permissive_binding(self):
        r = rbac.Rbac(permissive=False)
        self.assertTrue(r.allows("admin", ["system:masters"], "delete", "apps", "deployments", "", "x", "y"))
        self.assertTrue(r.allows("admin", ["system:masters"], "impersonate", "", "users", "", "", "bob"))
        self.assertFalse(r.allows("bob", ["system:authenticated"], "get", "", "pods", "", "default", "p"))

    def test_the_permissive_binding_keeps_the_tests_identities_working(self):
        r = rbac.Rbac()
        self.assertTrue(r.allows("token-user", ["system:authenticated"], "create", "", "pods", "exec", "ns", "p"))

    def test_a_role_grants_its_verbs_and_subresources_in_its_namespace_only(self):
        r = self.strict()
        u = ("alice", ["system:authenticated"])
        self.assertTrue(r.allows(*u, "get", "", "pods", "", "shop", "p"))
        self.assertFalse(r.allows(*u, "list", "", "pods", "", "shop"))
        self.assertFalse(r.allows(*u, "get", "", "pods", "", "other", "p"))
        self.assertFalse(r.allows(*u, "get", "", "pods", "log", "shop", "p"))  # pods does not cover pods/log
        self.assertTrue(r.allows(*u, "patch", "", "pods", "ephemeralcontainers", "shop", "p"))
        self.assertFalse(r.allows(*u, "update", "", "pods", "ephemeralcontainers", "shop", "p"))
        self.assertTrue(r.allows(*u, "create", "", "pods", "attach", "shop", "p"))  # */attach
        self.assertFalse(r.allows(*u, "create", "", "pods", "exec", "shop", "p"))
        self.assertFalse(r.allows(*u, "get", "apps", "pods", "", "shop", "p"))  # another API group

    def test_resource_names_and_cluster_role_bindings(self):
        r = self.strict()
        self.assertTrue(r.allows("alice", [], "get", "apps", "deployments", "", "shop", "web"))
        self.assertFalse(r.allows("alice", [], "get", "apps", "deployments", "", "shop", "db"))
        self.assertTrue(r.allows("carol", ["devs"], "get", "", "nodes", "", "", "n1"))
        self.assertTrue(r.allows("carol", ["devs"], "get", "", "nodes", "", "any-ns", "n1"))
        self.assertFalse(r.allows("alice", [], "get", "", "nodes", "", "", "n1"))

    def test_a_binding_to_a_missing_role_grants_nothing_and_service_accounts_match_by_user_name(self):
        r = rbac.Rbac(permissive=False)
        r._put("rolebindings", "ns", {"kind": "RoleBinding", "metadata": {"name": "b"},
                                      "roleRef": {"apiGroup": rbac.GROUP, "kind": "Role", "name": "gone"},
                                      "subjects": [{"kind": "User", "name": "alice"}]})
        self.assertFalse(r.allows("alice", [], "get", "", "pods", "", "ns", "p"))
        r._put("rolebindings", "ns", r.binding("RoleBinding", "sa", "cluster-admin",
                                               [{"kind": "ServiceAccount", "name": "rec"}], "ns"))
        self.assertTrue(r.allows("system:serviceaccount:ns:rec", [], "get", "", "pods", "", "ns", "p"))
        self.assertFalse(r.allows("system:serviceaccount:other:rec", [], "get", "", "pods", "", "ns", "p"))

    def test_rules_review_lists_the_rules_that_apply_in_the_namespace(self):
        review = self.strict().rules_review("alice", [], "shop")
        self.assertFalse(review["incomplete"])
        self.assertIn({"verbs": ["patch"], "apiGroups": [""], "resources": ["pods/ephemeralcontainers"]},
                      review["resourceRules"])
        self.assertEqual(self.strict().rules_review("alice", [], "other")["resourceRules"], [])

    def test_validation_words_a_bad_binding_as_the_api_server(self):
        with self.assertRaises(ApiError) as e:
            rbac.validate("RoleBinding", {"metadata": {"name": "b"}, "roleRef": {"kind": "Secret", "name": "x",
                                                                                  "apiGroup": rbac.GROUP}}, "ns")
        self.assertEqual(e.exception.code, 422)
        self.assertIn('roleRef.kind: Unsupported value: "Secret"', e.exception.message)
        with self.assertRaises(ApiError):
            rbac.validate("Role", {"metadata": {"name": "r"}, "rules": [{"resources": ["pods"], "apiGroups": [""]}]},
                          "ns")

    def test_the_refusal_is_worded_as_the_rbac_authorizer_words_it(self):
        self.assertEqual(rbac_forbidden("alice", "create", "pods", "ephemeralcontainers", "shop", "web").message,
                         'pods "web" is forbidden: User "alice" cannot create resource "pods/ephemeralcontainers" '
                         'in API group "" in the namespace "shop"')
        self.assertEqual(rbac_forbidden("alice", "get", "nodes", "", "", "n1").message,
                         'nodes "n1" is forbidden: User "alice" cannot get resource "nodes" in API group "" '
                         'at the cluster scope')
        self.assertEqual(rbac_forbidden("alice", "get", "deployments", "", "shop", "web", "apps").message,
                         'deployments.apps "web" is forbidden: User "alice" cannot get resource "deployments" '
                         'in API group "apps" in the namespace "shop"')


if __name__ == "__main__":
    e2e_support.main()
