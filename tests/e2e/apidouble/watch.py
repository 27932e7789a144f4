"""The handler's watch of pods: chunked events with resourceVersion semantics, bookmarks, 410
Expired, and the dropped-watch switch."""
import copy
import json
import threading
import time

from . import tables
from .store import TooOld


class WatchMixin:
    """Part of server.Handler (self is the request's handler)."""

    def _watch(self, ns, match):
        store, sessions = self.server.store, self.server.sessions
        table = self._wants_table()
        include = self.q("includeObject", "Metadata")
        rv_param = self.q("resourceVersion")
        bookmarks = self.qbool("allowWatchBookmarks")
        timeout = float(self.q("timeoutSeconds") or 1800)
        with self.server.config.lock:
            drop_after = float(self.server.config.switches.get("dropWatchAfterSeconds") or 0)
        self.start_chunked("application/json")
        first = [True]

        def emit(etype, obj):
            if table and etype in ("ADDED", "MODIFIED", "DELETED"):
                obj = tables.pod_table([obj], obj["metadata"]["resourceVersion"], include, with_columns=first[0])
                first[0] = False
            self.chunk(json.dumps({"type": etype, "object": obj}).encode() + b"\n")

        initial_events = self.qbool("sendInitialEvents")
        # What to send first is taken under the store's lock; it is written after, so a client that
        # reads slowly never holds up the store.
        initial, too_old = [], None
        with store.cond:
            generation = store.drop_generation
            if rv_param in ("", "0") or initial_events:
                pods, rv = store.list_pods(ns)
                initial = [("ADDED", p) for p in pods if match(p)]
                position = int(rv)
                if initial_events and bookmarks:
                    # The watch-list protocol: a bookmark marks the end of the initial state.
                    initial.append(("BOOKMARK", {"kind": "Pod", "apiVersion": "v1", "metadata": {
                        "resourceVersion": rv, "annotations": {"k8s.io/initial-events-end": "true"}}}))
            else:
                try:
                    position = int(rv_param)
                    store.events_after(position)
                except (TooOld, ValueError):
                    too_old = store.first_retained_rv
        if too_old is not None:
            emit("ERROR", {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                           "message": "too old resource version: %s (%d)" % (rv_param, too_old),
                           "reason": "Expired", "code": 410})
            self.end_chunked()
            return
        for etype, obj in initial:
            emit(etype, obj)
        dropped = threading.Event()

        def closer():
            dropped.set()
            store.drop_connections()
        sessions.add("watch", closer)
        started = time.time()
        last_bookmark = time.time()
        try:
            while not store.closed:
                left = timeout - (time.time() - started)
                if left <= 0:
                    break
                if drop_after and time.time() - started >= drop_after:
                    dropped.set()
                if dropped.is_set() or store.drop_generation != generation:
                    self.abort_connection()
                    return
                try:
                    events = store.events_after(position)
                except TooOld:
                    break
                for erv, etype, kind, obj, prev in events:
                    position = erv
                    if kind != "Pod" or (ns and obj["metadata"]["namespace"] != ns):
                        continue
                    now = match(obj)
                    if etype == "MODIFIED" and prev is not None and match(prev) != now:
                        etype = "ADDED" if now else "DELETED"
                    elif not now:
                        continue
                    emit(etype, copy.deepcopy(obj))
                if bookmarks and time.time() - last_bookmark > 5:
                    last_bookmark = time.time()
                    emit("BOOKMARK", {"kind": "Pod", "apiVersion": "v1",
                                      "metadata": {"resourceVersion": str(position)}})
                store.wait(position, generation, min(left, 1.0, drop_after or 1.0))
            self.end_chunked()
        except OSError:
            self.close_connection = True
        finally:
            sessions.remove("watch", closer)
