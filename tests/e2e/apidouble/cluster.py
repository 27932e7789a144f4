"""The handler's cluster-scoped and apps/v1 endpoints: namespaces, nodes, Deployments and
ReplicaSets, and the SelfSubjectAccessReview of authorization.k8s.io/v1."""
import copy

from . import apps as appslib
from . import tables
from .selectors import selector
from .status import ApiError, bad_request, method_not_allowed, not_found


class ClusterMixin:
    """Part of server.Handler (self is the request's handler)."""

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
