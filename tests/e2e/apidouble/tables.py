"""Server-side printing: the meta.k8s.io/v1 Table that `kubectl get` asks for (Accept: ...;as=Table),
with the pod columns of the API server's printers (NAME READY STATUS RESTARTS AGE, and the -o wide ones).
"""
import datetime

POD_COLUMNS = [
    {"name": "Name", "type": "string", "format": "name", "priority": 0,
     "description": "Name must be unique within a namespace."},
    {"name": "Ready", "type": "string", "format": "", "priority": 0,
     "description": "The aggregate readiness state of this pod for accepting traffic."},
    {"name": "Status", "type": "string", "format": "", "priority": 0,
     "description": "The aggregate status of the containers in this pod."},
    {"name": "Restarts", "type": "string", "format": "", "priority": 0,
     "description": "The number of times the containers in this pod have been restarted and when the last container in this pod has restarted."},
    {"name": "Age", "type": "string", "format": "", "priority": 0,
     "description": "CreationTimestamp is a timestamp representing the server time when this object was created."},
    {"name": "IP", "type": "string", "format": "", "priority": 1,
     "description": "podIP is the IP address allocated to the pod."},
    {"name": "Node", "type": "string", "format": "", "priority": 1,
     "description": "NodeName indicates in which node this pod is scheduled."},
    {"name": "Nominated Node", "type": "string", "format": "", "priority": 1,
     "description": "nominatedNodeName is set only when this pod preempts other pods on the node."},
    {"name": "Readiness Gates", "type": "string", "format": "", "priority": 1,
     "description": "If specified, all readiness gates will be evaluated for pod readiness."},
]


def _parse(ts):
    return datetime.datetime.strptime(ts, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=datetime.timezone.utc)


def human_duration(seconds):
    """apimachinery's duration.HumanDuration."""
    s = int(seconds)
    if s < 0:
        return "<invalid>"
    if s < 120:
        return "%ds" % s
    m = s // 60
    if m < 10:
        return "%dm%ds" % (m, s % 60) if s % 60 else "%dm" % m
    if m < 180:
        return "%dm" % m
    h = s // 3600
    if h < 8:
        return "%dh%dm" % (h, m % 60) if m % 60 else "%dh" % h
    if h < 48:
        return "%dh" % h
    if h < 24 * 8:
        return "%dd%dh" % (h // 24, h % 24) if h % 24 else "%dd" % (h // 24)
    if h < 24 * 365 * 2:
        return "%dd" % (h // 24)
    return "%dy" % (h // 24 // 365)


def age(ts):
    if not ts:
        return "<unknown>"
    return human_duration((datetime.datetime.now(datetime.timezone.utc) - _parse(ts)).total_seconds())


def pod_status_reason(pod):
    st = pod.get("status", {})
    reason = st.get("reason") or st.get("phase", "Pending")
    restarts, ready, total, running = 0, 0, len(pod["spec"].get("containers", [])), False
    last_restart = None
    for cs in reversed(st.get("containerStatuses", [])):
        restarts += cs.get("restartCount", 0)
        term = cs.get("lastState", {}).get("terminated")
        if term and term.get("finishedAt") and (last_restart is None or term["finishedAt"] > last_restart):
            last_restart = term["finishedAt"]
        state = cs.get("state", {})
        if state.get("waiting", {}).get("reason"):
            reason = state["waiting"]["reason"]
        elif "terminated" in state:
            t = state["terminated"]
            reason = t.get("reason") or ("Signal:%d" % t["signal"] if t.get("signal") else
                                         "ExitCode:%d" % t.get("exitCode", 0))
        elif "running" in state and cs.get("ready"):
            running = True
            ready += 1
    if reason == "Completed" and running:
        reason = "Running"
    if pod["metadata"].get("deletionTimestamp"):
        reason = "Terminating"
    restarts_text = str(restarts)
    if restarts and last_restart:
        restarts_text = "%d (%s ago)" % (restarts, age(last_restart))
    return "%d/%d" % (ready, total), reason, restarts_text


def pod_row(pod, include_object):
    ready, reason, restarts = pod_status_reason(pod)
    gates = pod["spec"].get("readinessGates")
    cells = [pod["metadata"]["name"], ready, reason, restarts, age(pod["metadata"].get("creationTimestamp")),
             pod.get("status", {}).get("podIP") or "<none>", pod["spec"].get("nodeName") or "<none>",
             pod.get("status", {}).get("nominatedNodeName") or "<none>",
             "%d/%d" % (0, len(gates)) if gates else "<none>"]
    row = {"cells": cells}
    if include_object == "Object":
        row["object"] = pod
    elif include_object != "None":
        row["object"] = {"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1",
                         "metadata": pod["metadata"]}
    return row


def pod_table(pods, resource_version, include_object="Metadata", with_columns=True):
    table = {"kind": "Table", "apiVersion": "meta.k8s.io/v1",
             "metadata": {"resourceVersion": resource_version},
             "columnDefinitions": POD_COLUMNS if with_columns else None,
             "rows": [pod_row(p, include_object) for p in pods]}
    if not with_columns:
        del table["columnDefinitions"]
    return table


NODE_COLUMNS = [
    {"name": "Name", "type": "string", "format": "name", "priority": 0, "description": "Name"},
    {"name": "Status", "type": "string", "format": "", "priority": 0, "description": "The status of the node"},
    {"name": "Roles", "type": "string", "format": "", "priority": 0, "description": "The roles of the node"},
    {"name": "Age", "type": "string", "format": "", "priority": 0, "description": "CreationTimestamp"},
    {"name": "Version", "type": "string", "format": "", "priority": 0, "description": "Kubelet Version"},
]


def node_table(nodes, resource_version, include_object="Metadata"):
    rows = []
    for n in nodes:
        ready = next((c["status"] for c in n["status"]["conditions"] if c["type"] == "Ready"), "Unknown")
        row = {"cells": [n["metadata"]["name"], "Ready" if ready == "True" else "NotReady", "<none>",
                         age(n["metadata"]["creationTimestamp"]), n["status"]["nodeInfo"]["kubeletVersion"]]}
        if include_object != "None":
            row["object"] = n if include_object == "Object" else {
                "kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1", "metadata": n["metadata"]}
        rows.append(row)
    return {"kind": "Table", "apiVersion": "meta.k8s.io/v1", "metadata": {"resourceVersion": resource_version},
            "columnDefinitions": NODE_COLUMNS, "rows": rows}
