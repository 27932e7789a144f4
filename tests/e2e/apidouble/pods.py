"""The handler's pod endpoints: the collection (list, create), one pod (get, patch, update,
delete), pods/status, pods/ephemeralcontainers, pods/log; and creating and deleting a pod."""
import copy
import threading
import time
import uuid

from . import patch as patchlib
from . import tables
from . import validation
from .runtime import read_log_lines
from .selectors import selector
from .status import (ApiError, FieldError, already_exists, bad_request, conflict, invalid, method_not_allowed,
                     not_found)
from .store import Conflict, now_rfc3339


class PodsMixin:
    """Part of server.Handler (self is the request's handler)."""

    # ---- pods
    def _wants_table(self):
        return "as=Table" in self.headers.get("Accept", "")

    def _pods_collection(self, ns):
        store = self.server.store
        if self.method == "POST" and ns is not None:
            self.authorize("create", "pods", namespace=ns)
            pod = self.json_body()
            if self.q("fieldValidation") == "Strict" and isinstance(pod, dict):
                unknown = validation.unknown_pod_fields(pod)
                if unknown:
                    raise bad_request('Pod in version "v1" cannot be handled as a Pod: strict decoding error: '
                                      + ", ".join('unknown field "%s"' % f for f in unknown))
            return self.send_json(201, self.server.create_pod(ns, pod))
        if self.method != "GET":
            raise method_not_allowed()
        watching = self.qbool("watch")
        self.authorize("watch" if watching else "list", "pods", namespace=ns or "")
        match = selector(self.q("fieldSelector"), self.q("labelSelector"))
        if watching:
            return self._watch(ns, match)
        pods, rv = store.list_pods(ns)
        pods = [p for p in pods if match(p)]
        if self._wants_table():
            return self.send_json(200, tables.pod_table(pods, rv, self.q("includeObject", "Metadata")))
        for p in pods:
            p.pop("kind", None)
            p.pop("apiVersion", None)
        return self.send_json(200, {"kind": "PodList", "apiVersion": "v1",
                                    "metadata": {"resourceVersion": rv}, "items": pods})

    def _get_pod_or_404(self, ns, name):
        pod = self.server.store.get_pod(ns, name)
        if pod is None:
            raise not_found("pods", name)
        return pod

    def _pod(self, ns, name, sub):
        if sub == "":
            return self._pod_main(ns, name)
        if sub == "ephemeralcontainers":
            with self.server.config.lock:
                disabled = self.server.config.switches.get("ephemeralContainersDisabled")
            if disabled:  # a cluster without the subresource: 404 with no name in the details
                raise ApiError(404, "NotFound", "the server could not find the requested resource", {})
            return self._pod_ephemeral(ns, name)
        if sub == "status":
            if self.method != "GET":
                raise method_not_allowed()
            self.authorize("get", "pods", "status", ns, name)
            return self.send_json(200, self._get_pod_or_404(ns, name))
        if sub == "log":
            self.authorize("get", "pods", "log", ns, name)
            return self._logs(ns, name)
        if sub in ("attach", "exec"):
            # The upgrade is a GET (verb get); AuthorizePodWebsocketUpgradeCreatePermission adds "create".
            self.authorize("get", "pods", sub, ns, name)
            self.authorize("create", "pods", sub, ns, name)
            return self._stream(ns, name, sub)
        raise ApiError(404, "NotFound", "the server could not find the requested resource")

    def _pod_main(self, ns, name):
        store = self.server.store
        if self.method == "GET":
            self.authorize("get", "pods", "", ns, name)
            pod = self._get_pod_or_404(ns, name)
            if self._wants_table():
                return self.send_json(200, tables.pod_table([pod], pod["metadata"]["resourceVersion"],
                                                            self.q("includeObject", "Metadata")))
            return self.send_json(200, pod)
        if self.method == "DELETE":
            self.authorize("delete", "pods", "", ns, name)
            pod = self._get_pod_or_404(ns, name)
            self._drain_body()
            return self.send_json(200, self.server.delete_pod(ns, name) or pod)
        if self.method in ("PATCH", "PUT"):
            verb = "patch" if self.method == "PATCH" else "update"
            self.authorize(verb, "pods", "", ns, name)
            new_body = self._patched_body_fn()

            def mutate(pod):
                old = copy.deepcopy(pod)
                new = new_body(pod)
                validation.default_pod(new, ns, old["spec"].get("nodeName"))
                check_pod_update(old, new)
                pod.clear()
                pod.update(new)
                pod["status"] = old["status"]
                pod["metadata"].update({k: old["metadata"][k] for k in
                                        ("uid", "creationTimestamp", "namespace", "name") if k in old["metadata"]})
            return self.send_json(200, self._update(ns, name, mutate))
        raise method_not_allowed()

    def _patched_body_fn(self):
        """A function old_pod -> new_pod for this PATCH or PUT request."""
        if self.method == "PUT":
            body = self.json_body()
            if not isinstance(body, dict):
                raise bad_request("the body of the request was not a Pod")
            self._expected_rv = body.get("metadata", {}).get("resourceVersion")
            return lambda old: copy.deepcopy(body)
        ctype = self.headers.get("Content-Type", "").split(";")[0].strip()
        apply = patchlib.PATCH_TYPES.get(ctype)
        if apply is None:
            self._drain_body()
            raise ApiError(415, "UnsupportedMediaType",
                           "the body of the request was in an unknown format - accepted media types include: "
                           "application/json-patch+json, application/merge-patch+json, "
                           "application/apply-patch+yaml, application/strategic-merge-patch+json")
        body = self.json_body()
        self._expected_rv = None

        def fn(old):
            try:
                return apply(old, body)
            except patchlib.PatchError as e:
                raise ApiError(422 if ctype == "application/json-patch+json" else 400,
                               "Invalid" if ctype == "application/json-patch+json" else "BadRequest", str(e))
        return fn

    def _update(self, ns, name, mutate):
        store = self.server.store
        try:
            pod = store.update_pod(ns, name, mutate, expected_rv=getattr(self, "_expected_rv", None))
        except Conflict:
            raise conflict("pods", name)
        if pod is None:
            raise not_found("pods", name)
        return pod

    def _pod_ephemeral(self, ns, name):
        store, runtime = self.server.store, self.server.runtime
        if self.method == "GET":
            self.authorize("get", "pods", "ephemeralcontainers", ns, name)
            return self.send_json(200, self._get_pod_or_404(ns, name))
        if self.method not in ("PATCH", "PUT"):
            raise method_not_allowed()
        verb = "patch" if self.method == "PATCH" else "update"
        self.authorize(verb, "pods", "ephemeralcontainers", ns, name)
        new_body = self._patched_body_fn()
        added = []

        def mutate(pod):
            old = copy.deepcopy(pod)
            new = new_body(copy.deepcopy(pod))
            if not isinstance(new, dict):
                raise bad_request("the patched object is not a Pod")
            # Only spec.ephemeralContainers may change through this subresource; the rest of the
            # request is ignored (the registry's dropNonEphemeralContainerUpdates).
            ecs = (new.get("spec") or {}).get("ephemeralContainers") or []
            ecs = [validation.default_container(copy.deepcopy(c)) for c in ecs if isinstance(c, dict)]
            candidate = copy.deepcopy(old)
            candidate["spec"]["ephemeralContainers"] = ecs
            if not ecs:
                candidate["spec"].pop("ephemeralContainers", None)
            validation.validate_ephemeral_update(old, candidate)
            validation.pod_security_check(store.get_namespace(ns), candidate)
            for text in validation.pod_security_warnings(store.get_namespace(ns), candidate):
                self.warn(text)
            old_names = {c["name"] for c in old["spec"].get("ephemeralContainers") or []}
            added[:] = [c["name"] for c in ecs if c["name"] not in old_names]
            pod["spec"] = candidate["spec"]
            statuses = pod["status"].setdefault("ephemeralContainerStatuses", [])
            for c in ecs:
                if c["name"] in added:
                    statuses.append({"name": c["name"], "image": c["image"], "imageID": "",
                                     "ready": False, "restartCount": 0,
                                     "lastState": {}, "state": {"waiting": {"reason": "PodInitializing"}}})
        pod = self._update(ns, name, mutate)
        for c in added:
            runtime.start_ephemeral(ns, name, c)
        return self.send_json(200, pod)

    # ---- logs
    def _container_for(self, pod, allow_ephemeral=True):
        name = self.q("container")
        spec = pod["spec"]
        regular = [c["name"] for c in spec.get("containers", [])]
        init = [c["name"] for c in spec.get("initContainers", [])]
        eph = [c["name"] for c in spec.get("ephemeralContainers", [])]
        if not name:
            default = pod["metadata"].get("annotations", {}).get("kubectl.kubernetes.io/default-container")
            if default in regular:
                return default
            if len(regular) == 1:
                return regular[0]
            msg = "a container name must be specified for pod %s, choose one of: [%s]" % (
                pod["metadata"]["name"], " ".join(regular))
            if init:
                msg += " or one of the init containers: [%s]" % " ".join(init)
            if eph:
                msg += " or one of the ephemeral containers: [%s]" % " ".join(eph)
            raise bad_request(msg)
        if name in regular or name in init or (allow_ephemeral and name in eph):
            return name
        raise bad_request("container %s is not valid for pod %s" % (name, pod["metadata"]["name"]))

    def _logs(self, ns, name):
        if self.method != "GET":
            raise method_not_allowed()
        runtime, sessions = self.server.runtime, self.server.sessions
        pod = self._get_pod_or_404(ns, name)
        container = self._container_for(pod)
        previous = self.qbool("previous")
        inst = runtime.instance(ns, name, container, previous=previous)
        if inst is None:
            if previous:
                raise bad_request('previous terminated container "%s" in pod "%s" not found' % (container, name))
            statuses = pod["status"].get("containerStatuses", []) + pod["status"].get("ephemeralContainerStatuses", [])
            waiting = next((s["state"].get("waiting", {}) for s in statuses if s["name"] == container), {})
            reason = waiting.get("reason", "ContainerCreating")
            if reason in ("ErrImagePull", "ImagePullBackOff"):
                reason = "trying and failing to pull image"
            raise bad_request('container "%s" in pod "%s" is waiting to start: %s' % (container, name, reason))
        timestamps = self.qbool("timestamps")
        since = self.q("sinceTime") or None
        if self.q("sinceSeconds"):
            since = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - int(self.q("sinceSeconds"))))
        tail = int(self.q("tailLines")) if self.q("tailLines") else None
        limit = int(self.q("limitBytes")) if self.q("limitBytes") else None
        if not self.qbool("follow") or previous:
            text = "".join(read_log_lines(inst.log_path, tail=tail, timestamps=timestamps, since=since)).encode()
            if limit is not None:
                text = text[:limit]
            return self.send_text(200, text)
        self.start_chunked("text/plain")
        dropped = threading.Event()
        closer = dropped.set
        sessions.add("log", closer)
        try:
            lines = read_log_lines(inst.log_path, tail=tail, timestamps=timestamps, since=since)
            sent = len(read_log_lines(inst.log_path))
            for line in lines:
                self.chunk(line.encode())
            while not dropped.is_set():
                with inst.lock:
                    done = inst.done and inst.streams_open <= 0
                    inst.lock.wait(0.5)
                all_lines = read_log_lines(inst.log_path, timestamps=timestamps)
                for line in all_lines[sent:]:
                    self.chunk(line.encode())
                sent = len(all_lines)
                if done:
                    break
            if dropped.is_set():
                self.abort_connection()
                return
            self.end_chunked()
        except OSError:
            self.close_connection = True
        finally:
            sessions.remove("log", closer)

def check_pod_update(old, new):
    """ValidatePodUpdate: only images, activeDeadlineSeconds, tolerations (additions) and
    terminationGracePeriodSeconds may change in a pod's spec; labels and annotations may change."""
    a, b = copy.deepcopy(old["spec"]), copy.deepcopy(new["spec"])
    for spec in (a, b):
        for c in spec.get("containers", []) + spec.get("initContainers", []):
            c.pop("image", None)
        for k in ("activeDeadlineSeconds", "tolerations", "terminationGracePeriodSeconds"):
            spec.pop(k, None)
    if a != b:
        raise invalid("Pod", old["metadata"]["name"], [FieldError(
            "Forbidden", "spec",
            detail="pod updates may not change fields other than `spec.containers[*].image`,"
                   "`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` "
                   "(only additions to existing tolerations),`spec.terminationGracePeriodSeconds` "
                   "(allow it to be set to 1 if it was previously negative)\n")])

def create_pod_fn(server):
    def create_pod(ns, pod):
        if not isinstance(pod, dict):
            raise bad_request("the body of the request was not a Pod")
        pod = copy.deepcopy(pod)
        meta = pod.setdefault("metadata", {})
        if meta.get("namespace") and meta["namespace"] != ns:
            raise bad_request("the namespace of the provided object does not match the namespace sent on the request")
        if not meta.get("name") and meta.get("generateName"):
            meta["name"] = meta["generateName"] + uuid.uuid4().hex[:5]
        validation.default_pod(pod, ns, server.runtime.node_name)
        validation.validate_new_pod(pod)
        validation.pod_security_check(server.store.get_namespace(ns), pod)
        meta["uid"] = str(uuid.uuid4())
        meta["creationTimestamp"] = now_rfc3339()
        pod.pop("status", None)
        pod["status"] = {"phase": "Pending", "qosClass": "BestEffort"}
        stored = server.store.add_pod(pod)
        if stored is None:
            raise already_exists("pods", meta["name"])
        server.runtime.start_pod(stored)
        return server.store.get_pod(ns, meta["name"])
    return create_pod


def delete_pod_fn(server):
    def delete_pod(ns, name):
        store = server.store

        def mark(pod):
            pod["metadata"]["deletionTimestamp"] = now_rfc3339()
            pod["metadata"]["deletionGracePeriodSeconds"] = pod["spec"].get("terminationGracePeriodSeconds", 30)
        pod = store.update_pod(ns, name, mark)

        def finish():
            server.runtime.delete_pod(ns, name)
            store.delete_pod(ns, name)
        threading.Thread(target=finish, daemon=True).start()
        return pod
    return delete_pod
