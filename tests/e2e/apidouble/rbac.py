"""RBAC as the API server's RBAC authorizer does it: Roles, ClusterRoles and their bindings, served
under rbac.authorization.k8s.io/v1 (create, get, list, delete, update) and enforced on every
request the double authorizes; SelfSubjectRulesReview from the same rules.

Reference: "Using RBAC Authorization" and "Authorization" (kubernetes.io/docs/reference/access-authn-authz/),
and the rule matching of plugin/pkg/auth/authorizer/rbac (verbs, apiGroups, resources with
"resource/subresource" and "*/subresource", resourceNames; a RoleBinding grants only in its
namespace, a ClusterRoleBinding everywhere).

Bootstrap policy: ClusterRole cluster-admin (everything) bound to group system:masters (the
double's admin certificate), as on a real cluster; and the double's own ClusterRoleBinding
`apidouble:permissive`, which gives cluster-admin to every authenticated (and, with
--allow-anonymous, unauthenticated) user, so that the identities of the tests (token-user, exec-user,
impersonated ones) may do what they did before RBAC. A test of RBAC deletes that binding through the
API and binds what it wants. Not modelled: aggregated ClusterRoles, the escalate/bind checks on
creating roles and bindings, nonResourceURLs (the double authorizes only resource requests).
"""
import copy
import re
import threading
import uuid

from .status import ApiError, FieldError, already_exists, bad_request, invalid, method_not_allowed, not_found
from .store import now_rfc3339

GROUP = "rbac.authorization.k8s.io"
API_GROUP = {"name": GROUP, "versions": [{"groupVersion": GROUP + "/v1", "version": "v1"}],
             "preferredVersion": {"groupVersion": GROUP + "/v1", "version": "v1"}}
_VERBS = ["create", "delete", "get", "list", "patch", "update"]
DISCOVERY_V1 = {
    "kind": "APIResourceList", "apiVersion": "v1", "groupVersion": GROUP + "/v1",
    "resources": [
        {"name": "clusterrolebindings", "singularName": "clusterrolebinding", "namespaced": False,
         "kind": "ClusterRoleBinding", "verbs": _VERBS},
        {"name": "clusterroles", "singularName": "clusterrole", "namespaced": False, "kind": "ClusterRole",
         "verbs": _VERBS},
        {"name": "rolebindings", "singularName": "rolebinding", "namespaced": True, "kind": "RoleBinding",
         "verbs": _VERBS},
        {"name": "roles", "singularName": "role", "namespaced": True, "kind": "Role", "verbs": _VERBS},
    ],
}
OPENAPI_CREATABLE = [("/apis/%s/v1/namespaces/{namespace}/roles" % GROUP, "Role"),
                     ("/apis/%s/v1/namespaces/{namespace}/rolebindings" % GROUP, "RoleBinding"),
                     ("/apis/%s/v1/clusterroles" % GROUP, "ClusterRole"),
                     ("/apis/%s/v1/clusterrolebindings" % GROUP, "ClusterRoleBinding")]
RULES_REVIEW_RESOURCE = {"name": "selfsubjectrulesreviews", "singularName": "selfsubjectrulesreview",
                         "namespaced": False, "kind": "SelfSubjectRulesReview", "verbs": ["create"]}

KINDS = {"roles": "Role", "clusterroles": "ClusterRole", "rolebindings": "RoleBinding",
         "clusterrolebindings": "ClusterRoleBinding"}
PATH = re.compile(r"^/apis/rbac\.authorization\.k8s\.io/v1/(?:namespaces/([^/]+)/(roles|rolebindings)|"
                  r"(clusterroles|clusterrolebindings|roles|rolebindings))(?:/([^/]+))?$")
NAME = re.compile(r"^[a-z0-9]([-a-z0-9.:@]*[a-z0-9])?$")

CLUSTER_ADMIN_RULES = [{"apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]},
                       {"nonResourceURLs": ["*"], "verbs": ["*"]}]


def rule_allows(rule, verb, group, resource, subresource, name):
    """One PolicyRule against one request (rbac's VerbMatches, APIGroupMatches, ResourceMatches,
    ResourceNameMatches)."""
    verbs = rule.get("verbs") or []
    if "*" not in verbs and verb not in verbs:
        return False
    groups = rule.get("apiGroups") or []
    if "*" not in groups and group not in groups:
        return False
    combined = resource + ("/" + subresource if subresource else "")
    for r in rule.get("resources") or []:
        if r == "*" or r == combined or (subresource and r == "*/" + subresource):
            break
    else:
        return False
    names = rule.get("resourceNames") or []
    return not names or name in names


def subject_matches(subject, user, groups, binding_ns):
    kind = subject.get("kind")
    if kind == "User":
        return subject.get("name") == user
    if kind == "Group":
        return subject.get("name") in groups
    if kind == "ServiceAccount":
        ns = subject.get("namespace") or binding_ns
        return user == "system:serviceaccount:%s:%s" % (ns, subject.get("name"))
    return False


def _meta(obj, namespace, rv):
    meta = obj.setdefault("metadata", {})
    if namespace:
        meta["namespace"] = namespace
    meta.setdefault("uid", str(uuid.uuid4()))
    meta.setdefault("creationTimestamp", now_rfc3339())
    meta["resourceVersion"] = str(rv)
    return obj


def validate(kind, obj, namespace):
    """The API server's validation of what the tests send, in its words (a subset)."""
    errors = []
    name = (obj.get("metadata") or {}).get("name") or ""
    if not name:
        errors.append(FieldError("Required", "metadata.name", detail="name or generateName is required"))
    elif not NAME.match(name) or len(name) > 253:
        errors.append(FieldError("Invalid", "metadata.name", name, "a valid name is required"))
    if kind in ("Role", "ClusterRole"):
        rules = obj.get("rules") or []
        if not isinstance(rules, list):
            raise bad_request("%s in version \"v1\" cannot be handled as a %s: rules must be a list" % (kind, kind))
        for i, r in enumerate(rules):
            where = "rules[%d]" % i
            if not isinstance(r, dict):
                raise bad_request("%s: must be an object" % where)
            if not r.get("verbs"):
                errors.append(FieldError("Required", where + ".verbs", detail="verbs must contain at least one value"))
            if r.get("nonResourceURLs"):
                if kind == "Role":
                    errors.append(FieldError("Invalid", where + ".nonResourceURLs", r["nonResourceURLs"],
                                             "namespaced rules cannot apply to non-resource URLs"))
            elif not r.get("resources") or r.get("apiGroups") is None:
                errors.append(FieldError("Required", where + ".resources" if not r.get("resources")
                                         else where + ".apiGroups",
                                         detail="resource rules must supply at least one api group"
                                         if r.get("resources") else ""))
    else:
        ref = obj.get("roleRef") or {}
        if kind == "ClusterRoleBinding" and ref.get("kind") != "ClusterRole":
            errors.append(FieldError("NotSupported", "roleRef.kind", ref.get("kind", ""),
                                     'supported values: "ClusterRole"'))
        elif ref.get("kind") not in ("Role", "ClusterRole"):
            errors.append(FieldError("NotSupported", "roleRef.kind", ref.get("kind", ""),
                                     'supported values: "Role", "ClusterRole"'))
        if ref.get("apiGroup") != GROUP:
            errors.append(FieldError("NotSupported", "roleRef.apiGroup", ref.get("apiGroup", ""),
                                     'supported values: "%s"' % GROUP))
        if not ref.get("name"):
            errors.append(FieldError("Required", "roleRef.name"))
        for i, s in enumerate(obj.get("subjects") or []):
            if not isinstance(s, dict) or s.get("kind") not in ("User", "Group", "ServiceAccount"):
                errors.append(FieldError("NotSupported", "subjects[%d].kind" % i,
                                         (s or {}).get("kind", "") if isinstance(s, dict) else "",
                                         'supported values: "ServiceAccount", "User", "Group"'))
            elif not s.get("name"):
                errors.append(FieldError("Required", "subjects[%d].name" % i))
    if errors:
        raise invalid(kind, name, errors)


class Rbac:
    """The four kinds of RBAC objects, and the authorizer over them."""

    def __init__(self, permissive=True):
        self.lock = threading.Lock()
        self.rv = 1
        self.objects = {k: {} for k in KINDS}  # resource -> {(namespace, name): obj}
        self._put("clusterroles", "", {"kind": "ClusterRole", "apiVersion": GROUP + "/v1",
                                       "metadata": {"name": "cluster-admin",
                                                    "labels": {"kubernetes.io/bootstrapping": "rbac-defaults"}},
                                       "rules": copy.deepcopy(CLUSTER_ADMIN_RULES)})
        self._put("clusterrolebindings", "", self.binding("ClusterRoleBinding", "cluster-admin", "cluster-admin",
                                                          [{"kind": "Group", "name": "system:masters"}]))
        if permissive:
            self._put("clusterrolebindings", "", self.binding(
                "ClusterRoleBinding", "apidouble:permissive", "cluster-admin",
                [{"kind": "Group", "name": "system:authenticated"},
                 {"kind": "Group", "name": "system:unauthenticated"}]))

    @staticmethod
    def binding(kind, name, cluster_role, subjects, namespace=""):
        meta = {"name": name}
        if namespace:
            meta["namespace"] = namespace
        return {"kind": kind, "apiVersion": GROUP + "/v1", "metadata": meta,
                "roleRef": {"apiGroup": GROUP, "kind": "ClusterRole", "name": cluster_role},
                "subjects": [dict(s, apiGroup=GROUP) if s["kind"] != "ServiceAccount" else s for s in subjects]}

    def _put(self, resource, namespace, obj):
        self.rv += 1
        name = obj["metadata"]["name"]
        self.objects[resource][(namespace, name)] = _meta(obj, namespace, self.rv)
        return obj

    # ---- the authorizer
    def rules_for(self, user, groups, namespace):
        """Every rule that applies to the user in the namespace ("" for cluster-scoped requests)."""
        with self.lock:
            bindings = [("", b) for b in self.objects["clusterrolebindings"].values()]
            if namespace:
                bindings += [(namespace, b) for (ns, _), b in self.objects["rolebindings"].items()
                             if ns == namespace]
            rules = []
            for ns, b in bindings:
                if not any(subject_matches(s, user, groups, ns) for s in b.get("subjects") or []):
                    continue
                ref = b.get("roleRef") or {}
                if ref.get("kind") == "ClusterRole":
                    role = self.objects["clusterroles"].get(("", ref.get("name")))
                else:
                    role = self.objects["roles"].get((ns, ref.get("name")))
                if role is not None:
                    rules += copy.deepcopy(role.get("rules") or [])
            return rules

    def allows(self, user, groups, verb, group, resource, subresource="", namespace="", name=""):
        return any(rule_allows(r, verb, group, resource, subresource, name)
                   for r in self.rules_for(user, groups, namespace) if not r.get("nonResourceURLs"))

    def rules_review(self, user, groups, namespace):
        """SelfSubjectRulesReview's status: the resource and non-resource rules, as the API server
        lists them (incomplete is false: the double has no other authorizer)."""
        resource, nonresource = [], []
        for r in self.rules_for(user, groups, namespace):
            if r.get("nonResourceURLs"):
                nonresource.append({"verbs": r["verbs"], "nonResourceURLs": r["nonResourceURLs"]})
            else:
                out = {"verbs": r["verbs"], "apiGroups": r.get("apiGroups") or [],
                       "resources": r.get("resources") or []}
                if r.get("resourceNames"):
                    out["resourceNames"] = r["resourceNames"]
                resource.append(out)
        return {"resourceRules": resource, "nonResourceRules": nonresource, "incomplete": False}

    # ---- the API
    def serve(self, handler, path):
        """rbac.authorization.k8s.io/v1: discovery and the four kinds. False if the path is not ours."""
        if path == "/apis/" + GROUP:
            handler.send_json(200, dict(API_GROUP, kind="APIGroup", apiVersion="v1"))
            return True
        if path == "/apis/" + GROUP + "/v1":
            handler.send_json(200, DISCOVERY_V1)
            return True
        if path == "/apis/authorization.k8s.io/v1/selfsubjectrulesreviews":
            self._rules_review(handler)
            return True
        m = PATH.match(path)
        if not m:
            return False
        namespace = m.group(1) or ""
        resource = m.group(2) or m.group(3)
        name = m.group(4)
        namespaced = resource in ("roles", "rolebindings")
        if namespaced and not namespace and (name is not None or handler.method != "GET"):
            raise not_found(resource + "." + GROUP, name or "")
        self._serve(handler, resource, namespace, name)
        return True

    def _serve(self, handler, resource, namespace, name):
        kind = KINDS[resource]
        qualified = resource + "." + GROUP
        method = handler.method
        if name is None and method == "GET":
            handler.authorize("list", resource, namespace=namespace, group=GROUP)
            with self.lock:
                items = [copy.deepcopy(o) for (ns, _), o in sorted(self.objects[resource].items())
                         if not namespace or ns == namespace]
                rv = str(self.rv)
            for o in items:
                o.pop("kind", None)
                o.pop("apiVersion", None)
            handler.send_json(200, {"kind": kind + "List", "apiVersion": GROUP + "/v1",
                                    "metadata": {"resourceVersion": rv}, "items": items})
            return
        if name is None and method == "POST":
            handler.authorize("create", resource, namespace=namespace, group=GROUP)
            obj = handler.json_body()
            if not isinstance(obj, dict) or obj.get("kind", kind) != kind:
                raise bad_request("the body of the request was not a %s" % kind)
            validate(kind, obj, namespace)
            obj.update({"kind": kind, "apiVersion": GROUP + "/v1"})
            key = (namespace, obj["metadata"]["name"])
            with self.lock:
                if key in self.objects[resource]:
                    raise already_exists(qualified, key[1])
                self._put(resource, namespace, obj)
                out = copy.deepcopy(obj)
            handler.send_json(201, out)
            return
        if name is None:
            raise method_not_allowed()
        key = (namespace, name)
        if method == "GET":
            handler.authorize("get", resource, namespace=namespace, name=name, group=GROUP)
            with self.lock:
                obj = copy.deepcopy(self.objects[resource].get(key))
            if obj is None:
                raise not_found(qualified, name)
            handler.send_json(200, obj)
        elif method == "DELETE":
            handler.authorize("delete", resource, namespace=namespace, name=name, group=GROUP)
            handler._drain_body()
            with self.lock:
                obj = self.objects[resource].pop(key, None)
                if obj is not None:
                    self.rv += 1
            if obj is None:
                raise not_found(qualified, name)
            handler.send_json(200, {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success",
                                    "details": {"name": name, "group": GROUP, "kind": resource,
                                                "uid": obj["metadata"]["uid"]}})
        elif method in ("PUT", "PATCH"):
            # kubectl apply: GET, then POST when absent or PATCH (strategic merge) when present.
            handler.authorize("update" if method == "PUT" else "patch", resource, namespace=namespace,
                              name=name, group=GROUP)
            change = handler._patched_body_fn()
            with self.lock:
                old = copy.deepcopy(self.objects[resource].get(key))
            if old is None:
                raise not_found(qualified, name)
            obj = change(old)
            if not isinstance(obj, dict) or not isinstance(obj.get("metadata"), dict):
                raise bad_request("the body of the request was not a %s" % kind)
            validate(kind, obj, namespace)
            if obj["metadata"]["name"] != name:
                raise bad_request("the name of the object (%s) does not match the name on the URL (%s)"
                                  % (obj["metadata"]["name"], name))
            obj.update({"kind": kind, "apiVersion": GROUP + "/v1"})
            with self.lock:
                old = self.objects[resource].get(key)
                if old is None:
                    raise not_found(qualified, name)
                obj["metadata"]["uid"] = old["metadata"]["uid"]
                obj["metadata"]["creationTimestamp"] = old["metadata"]["creationTimestamp"]
                self._put(resource, namespace, obj)
                out = copy.deepcopy(obj)
            handler.send_json(200, out)
        else:
            raise method_not_allowed()

    def _rules_review(self, handler):
        if handler.method != "POST":
            raise method_not_allowed()
        review = handler.json_body()
        if not isinstance(review, dict):
            raise bad_request("the body of the request was not a SelfSubjectRulesReview")
        namespace = (review.get("spec") or {}).get("namespace") or ""
        if not namespace:
            raise ApiError(400, "BadRequest", "no namespace on request")
        review.update({"kind": "SelfSubjectRulesReview", "apiVersion": "authorization.k8s.io/v1",
                       "metadata": {"creationTimestamp": None},
                       "status": self.rules_review(handler.user, handler.groups, namespace)})
        handler.send_json(201, review)
