"""The object store: namespaces and pods, one resourceVersion counter, and the watch event log.

Like etcd behind the real API server, every change gets a new, larger resourceVersion and becomes
an event; a watch from resourceVersion N replays the events after N, and one from a version older
than the retained window gets "410 Gone" (the client must list again).
"""
import copy
import datetime
import threading
import uuid

EVENT_WINDOW = 2000


def now_rfc3339():
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


class TooOld(Exception):
    pass


class Store:
    def __init__(self):
        self.cond = threading.Condition(threading.RLock())
        self.rv = 1000
        self.namespaces = {}
        self.pods = {}
        self.events = []  # (rv, type, kind, object, the object before a MODIFIED)
        self.first_retained_rv = self.rv
        # Bumped by the dropped-connection switch: open watches notice and cut their connection.
        self.drop_generation = 0
        self.closed = False

    # ---- helpers
    def _next_rv(self):
        self.rv += 1
        return str(self.rv)

    def _record(self, etype, kind, obj, prev=None):
        # The previous version lets a watch with a selector turn a MODIFIED into the ADDED or DELETED
        # its client must see when the object starts or stops matching, as the watch cache does.
        self.events.append((int(obj["metadata"]["resourceVersion"]), etype, kind, copy.deepcopy(obj),
                            copy.deepcopy(prev)))
        if len(self.events) > EVENT_WINDOW:
            dropped = self.events[: len(self.events) - EVENT_WINDOW]
            self.events = self.events[len(dropped):]
            self.first_retained_rv = dropped[-1][0]
        self.cond.notify_all()

    def current_rv(self):
        with self.cond:
            return str(self.rv)

    # ---- namespaces
    def ensure_namespace(self, name, labels=None):
        with self.cond:
            ns = self.namespaces.get(name)
            if ns is None:
                ns = {
                    "kind": "Namespace", "apiVersion": "v1",
                    "metadata": {"name": name, "uid": str(uuid.uuid4()),
                                 "creationTimestamp": now_rfc3339(),
                                 "labels": {"kubernetes.io/metadata.name": name}},
                    "spec": {"finalizers": ["kubernetes"]},
                    "status": {"phase": "Active"},
                }
                self.namespaces[name] = ns
            if labels:
                ns["metadata"]["labels"].update(labels)
            ns["metadata"]["resourceVersion"] = self._next_rv()
            return copy.deepcopy(ns)

    def get_namespace(self, name):
        with self.cond:
            ns = self.namespaces.get(name)
            return copy.deepcopy(ns) if ns else None

    # ---- pods
    def get_pod(self, ns, name):
        with self.cond:
            pod = self.pods.get((ns, name))
            return copy.deepcopy(pod) if pod else None

    def list_pods(self, ns=None):
        with self.cond:
            pods = [copy.deepcopy(p) for (n, _), p in sorted(self.pods.items()) if ns is None or n == ns]
            return pods, str(self.rv)

    def add_pod(self, pod):
        with self.cond:
            key = (pod["metadata"]["namespace"], pod["metadata"]["name"])
            if key in self.pods:
                return None
            self.ensure_namespace(key[0])
            pod["metadata"]["resourceVersion"] = self._next_rv()
            self.pods[key] = copy.deepcopy(pod)
            self._record("ADDED", "Pod", pod)
            return copy.deepcopy(pod)

    def update_pod(self, ns, name, mutate, expected_rv=None):
        """Applies mutate(pod) to a copy; stores it with a new resourceVersion if it changed.

        Returns the stored pod, None if the pod does not exist, or raises Conflict."""
        with self.cond:
            cur = self.pods.get((ns, name))
            if cur is None:
                return None
            if expected_rv and expected_rv != cur["metadata"]["resourceVersion"]:
                raise Conflict()
            new = copy.deepcopy(cur)
            mutate(new)
            new["metadata"]["resourceVersion"] = cur["metadata"]["resourceVersion"]
            if new == cur:
                return copy.deepcopy(cur)
            new["metadata"]["resourceVersion"] = self._next_rv()
            self.pods[(ns, name)] = new
            self._record("MODIFIED", "Pod", new, cur)
            return copy.deepcopy(new)

    def delete_pod(self, ns, name):
        with self.cond:
            cur = self.pods.pop((ns, name), None)
            if cur is None:
                return None
            cur["metadata"]["resourceVersion"] = self._next_rv()
            self._record("DELETED", "Pod", cur)
            return copy.deepcopy(cur)

    # ---- watch
    def events_after(self, rv):
        """The events after resourceVersion rv (an int); raises TooOld outside the window."""
        with self.cond:
            if rv < self.first_retained_rv:
                raise TooOld()
            return [e for e in self.events if e[0] > rv]

    def wait(self, rv, generation, timeout):
        """Blocks until there is an event after rv, the drop switch fires, or timeout passes."""
        with self.cond:
            self.cond.wait_for(lambda: self.rv > rv or self.drop_generation != generation
                               or self.closed, timeout)

    def drop_connections(self):
        with self.cond:
            self.drop_generation += 1
            self.cond.notify_all()

    def close(self):
        with self.cond:
            self.closed = True
            self.cond.notify_all()


class Conflict(Exception):
    pass
