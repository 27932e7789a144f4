"""apps/v1 Deployments and ReplicaSets, just enough for `record deploy/NAME`: a Deployment created
here gets one ReplicaSet (`<name>-<pod-template-hash>`) and `replicas` pods from its template, each
labelled with `pod-template-hash` and owned by the ReplicaSet, as the controllers make them. The
status (replicas, readyReplicas, availableReplicas) is derived from those pods when read. There is
no controller loop: a deleted pod is not replaced, and updates and scaling are not supported.
"""
import copy
import hashlib
import json
import uuid

from . import tables
from .status import already_exists, invalid, FieldError
from .store import now_rfc3339

DISCOVERY_APPS_V1 = {
    "kind": "APIResourceList", "apiVersion": "v1", "groupVersion": "apps/v1",
    "resources": [
        {"name": "deployments", "singularName": "deployment", "namespaced": True, "kind": "Deployment",
         "verbs": ["create", "delete", "get", "list"], "shortNames": ["deploy"], "categories": ["all"]},
        {"name": "replicasets", "singularName": "replicaset", "namespaced": True, "kind": "ReplicaSet",
         "verbs": ["get", "list"], "shortNames": ["rs"], "categories": ["all"]},
    ],
}
APPS_GROUP = {"name": "apps", "versions": [{"groupVersion": "apps/v1", "version": "v1"}],
              "preferredVersion": {"groupVersion": "apps/v1", "version": "v1"}}

DEPLOYMENT_COLUMNS = [
    {"name": "Name", "type": "string", "format": "name", "priority": 0, "description": "Name"},
    {"name": "Ready", "type": "string", "format": "", "priority": 0, "description": "Number of the pod with ready state"},
    {"name": "Up-to-date", "type": "string", "format": "", "priority": 0, "description": "Total number of non-terminated pods targeted by this deployment that have the desired template spec."},
    {"name": "Available", "type": "string", "format": "", "priority": 0, "description": "Total number of available pods (ready for at least minReadySeconds) targeted by this deployment."},
    {"name": "Age", "type": "string", "format": "", "priority": 0, "description": "CreationTimestamp"},
    {"name": "Containers", "type": "string", "format": "", "priority": 1, "description": "Names of each container in the template."},
    {"name": "Images", "type": "string", "format": "", "priority": 1, "description": "Images referenced by each container in the template."},
    {"name": "Selector", "type": "string", "format": "", "priority": 1, "description": "Label selector for pods."},
]
REPLICASET_COLUMNS = [
    {"name": "Name", "type": "string", "format": "name", "priority": 0, "description": "Name"},
    {"name": "Desired", "type": "integer", "format": "", "priority": 0, "description": "Number of desired pods."},
    {"name": "Current", "type": "integer", "format": "", "priority": 0, "description": "Number of actual replicas."},
    {"name": "Ready", "type": "integer", "format": "", "priority": 0, "description": "Number of ready replicas."},
    {"name": "Age", "type": "string", "format": "", "priority": 0, "description": "CreationTimestamp"},
]


def _is_ready(pod):
    return any(c["type"] == "Ready" and c["status"] == "True" for c in pod.get("status", {}).get("conditions", []))


def _owned(pods, uid):
    return [p for p in pods if any(o.get("uid") == uid for o in p["metadata"].get("ownerReferences", []))]


class Apps:
    def __init__(self, store):
        self.store = store
        self.objects = {}  # (kind, ns, name) -> object

    def create_deployment(self, ns, dep, create_pod):
        dep = copy.deepcopy(dep)
        meta = dep.setdefault("metadata", {})
        name = meta.get("name", "")
        spec = dep.get("spec") or {}
        template = spec.get("template") or {}
        selector = (spec.get("selector") or {}).get("matchLabels") or {}
        labels = (template.get("metadata") or {}).get("labels") or {}
        errors = []
        if not name:
            errors.append(FieldError("Required", "metadata.name", detail="name or generateName is required"))
        if not selector:
            errors.append(FieldError("Required", "spec.selector"))
        elif any(labels.get(k) != v for k, v in selector.items()):
            errors.append(FieldError("Invalid", "spec.template.metadata.labels", labels,
                                     "`selector` does not match template `labels`"))
        if errors:
            raise invalid("Deployment", name, errors)
        if ("Deployment", ns, name) in self.objects:
            raise already_exists("deployments.apps", name)
        replicas = spec.get("replicas", 1)
        spec["replicas"] = replicas
        template_hash = hashlib.sha256(json.dumps(template, sort_keys=True).encode()).hexdigest()[:10]
        template_hash = "".join(c if c not in "aeiou" else "b" for c in template_hash)
        meta.update({"namespace": ns, "uid": str(uuid.uuid4()), "creationTimestamp": now_rfc3339(),
                     "generation": 1, "annotations": {"deployment.kubernetes.io/revision": "1"}})
        dep.update({"kind": "Deployment", "apiVersion": "apps/v1"})
        spec.setdefault("strategy", {"type": "RollingUpdate",
                                     "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"}})
        rs_name = "%s-%s" % (name, template_hash)
        rs_labels = dict(labels, **{"pod-template-hash": template_hash})
        rs = {"kind": "ReplicaSet", "apiVersion": "apps/v1",
              "metadata": {"name": rs_name, "namespace": ns, "uid": str(uuid.uuid4()),
                           "creationTimestamp": meta["creationTimestamp"], "labels": rs_labels, "generation": 1,
                           "ownerReferences": [{"apiVersion": "apps/v1", "kind": "Deployment", "name": name,
                                                "uid": meta["uid"], "controller": True,
                                                "blockOwnerDeletion": True}]},
              "spec": {"replicas": replicas,
                       "selector": {"matchLabels": dict(selector, **{"pod-template-hash": template_hash})},
                       "template": dict(copy.deepcopy(template), metadata=dict(
                           copy.deepcopy(template.get("metadata") or {}), labels=rs_labels))}}
        self.objects[("Deployment", ns, name)] = dep
        self.objects[("ReplicaSet", ns, rs_name)] = rs
        for _ in range(replicas):
            pod = {"apiVersion": "v1", "kind": "Pod",
                   "metadata": dict(copy.deepcopy(template.get("metadata") or {}),
                                    name="%s-%s" % (rs_name, uuid.uuid4().hex[:5]), namespace=ns,
                                    labels=dict(rs_labels),
                                    ownerReferences=[{"apiVersion": "apps/v1", "kind": "ReplicaSet",
                                                      "name": rs_name, "uid": rs["metadata"]["uid"],
                                                      "controller": True, "blockOwnerDeletion": True}]),
                   "spec": copy.deepcopy(template.get("spec") or {})}
            create_pod(ns, pod)
        return self.get("Deployment", ns, name)

    def get(self, kind, ns, name):
        obj = self.objects.get((kind, ns, name))
        if obj is None:
            return None
        return self._with_status(copy.deepcopy(obj))

    def list(self, kind, ns):
        return [self._with_status(copy.deepcopy(o)) for (k, n, _), o in sorted(self.objects.items())
                if k == kind and (ns is None or n == ns)]

    def delete(self, kind, ns, name, delete_pod):
        obj = self.objects.pop((kind, ns, name), None)
        if obj is None:
            return None
        if kind == "Deployment":
            for key, rs in list(self.objects.items()):
                if key[0] == "ReplicaSet" and any(o["uid"] == obj["metadata"]["uid"]
                                                  for o in rs["metadata"].get("ownerReferences", [])):
                    self.delete("ReplicaSet", ns, key[2], delete_pod)
        else:
            pods, _ = self.store.list_pods(ns)
            for p in _owned(pods, obj["metadata"]["uid"]):
                delete_pod(ns, p["metadata"]["name"])
        return obj

    def _with_status(self, obj):
        pods, rv = self.store.list_pods(obj["metadata"]["namespace"])
        obj["metadata"]["resourceVersion"] = rv
        if obj["kind"] == "ReplicaSet":
            mine = _owned(pods, obj["metadata"]["uid"])
        else:
            rs_uids = {o["metadata"]["uid"] for (k, n, _), o in self.objects.items()
                       if k == "ReplicaSet" and any(r["uid"] == obj["metadata"]["uid"]
                                                    for r in o["metadata"].get("ownerReferences", []))}
            mine = [p for p in pods if any(o.get("uid") in rs_uids for o in p["metadata"].get("ownerReferences", []))]
        ready = sum(1 for p in mine if _is_ready(p))
        status = {"observedGeneration": 1, "replicas": len(mine), "readyReplicas": ready,
                  "availableReplicas": ready}
        if obj["kind"] == "Deployment":
            status["updatedReplicas"] = len(mine)
            if len(mine) - ready:
                status["unavailableReplicas"] = len(mine) - ready
            available = ready >= obj["spec"]["replicas"]
            status["conditions"] = [{"type": "Available", "status": "True" if available else "False",
                                     "reason": "MinimumReplicasAvailable" if available else "MinimumReplicasUnavailable",
                                     "message": "Deployment has minimum availability." if available else
                                     "Deployment does not have minimum availability.",
                                     "lastUpdateTime": obj["metadata"]["creationTimestamp"],
                                     "lastTransitionTime": obj["metadata"]["creationTimestamp"]}]
        else:
            status["fullyLabeledReplicas"] = len(mine)
        for k in ("readyReplicas", "availableReplicas"):
            if not status[k]:
                del status[k]
        obj["status"] = status
        return obj


def table(kind, objs, rv, include_object):
    rows = []
    for o in objs:
        st = o.get("status", {})
        age = tables.age(o["metadata"].get("creationTimestamp"))
        if kind == "Deployment":
            containers = o["spec"]["template"]["spec"].get("containers", [])
            sel = ",".join("%s=%s" % kv for kv in sorted(o["spec"]["selector"].get("matchLabels", {}).items()))
            cells = [o["metadata"]["name"], "%d/%d" % (st.get("readyReplicas", 0), o["spec"]["replicas"]),
                     st.get("updatedReplicas", 0), st.get("availableReplicas", 0), age,
                     ",".join(c["name"] for c in containers), ",".join(c.get("image", "") for c in containers), sel]
        else:
            cells = [o["metadata"]["name"], o["spec"]["replicas"], st.get("replicas", 0),
                     st.get("readyReplicas", 0), age]
        row = {"cells": cells}
        if include_object == "Object":
            row["object"] = o
        elif include_object != "None":
            row["object"] = {"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1", "metadata": o["metadata"]}
        rows.append(row)
    return {"kind": "Table", "apiVersion": "meta.k8s.io/v1", "metadata": {"resourceVersion": rv},
            "columnDefinitions": DEPLOYMENT_COLUMNS if kind == "Deployment" else REPLICASET_COLUMNS, "rows": rows}

