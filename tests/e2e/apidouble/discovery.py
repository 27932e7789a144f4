"""Discovery and version answers: the core/v1 and authorization.k8s.io/v1 resource lists, the
/version document, and just enough OpenAPI v3 for kubectl's field validation."""
import re

from . import rbac as rbaclib

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
