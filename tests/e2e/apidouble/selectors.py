"""fieldSelector and labelSelector, as predicates on an object."""
import re

from .status import bad_request


def selector(field_sel, label_sel):
    """A predicate for fieldSelector (metadata.name, metadata.namespace, spec.nodeName, status.phase;
    = == !=) and labelSelector (k=v, k==v, k!=v, k, !k, k in (a,b), k notin (a,b))."""
    tests = []
    for term in filter(None, (t.strip() for t in field_sel.split(","))):
        m = re.match(r"^([\w.]+)\s*(==|!=|=)\s*(.*)$", term)
        if not m:
            raise bad_request('invalid field selector: "%s"' % term)
        path, op, value = m.groups()
        if path not in ("metadata.name", "metadata.namespace", "spec.nodeName", "status.phase",
                        "spec.restartPolicy", "spec.schedulerName", "spec.serviceAccountName", "status.podIP"):
            raise bad_request('"%s" is not a known field selector: only "metadata.name", "metadata.namespace"' % path)

        def ftest(pod, path=path, op=op, value=value):
            obj = pod
            for part in path.split("."):
                obj = (obj or {}).get(part)
            return (str(obj or "") == value) == (op != "!=")
        tests.append(ftest)
    for term in _split_labels(label_sel):
        m = re.match(r"^([\w./-]+)\s+(in|notin)\s+\((.*)\)$", term)
        if m:
            key, op, values = m.group(1), m.group(2), {v.strip() for v in m.group(3).split(",")}
            tests.append(lambda p, k=key, op=op, vs=values:
                         (p["metadata"].get("labels", {}).get(k) in vs) == (op == "in"))
            continue
        m = re.match(r"^([\w./-]+)\s*(==|!=|=)\s*([\w./-]*)$", term)
        if m:
            key, op, value = m.groups()
            tests.append(lambda p, k=key, op=op, v=value:
                         (p["metadata"].get("labels", {}).get(k) == v) == (op != "!="))
            continue
        if term.startswith("!"):
            tests.append(lambda p, k=term[1:]: k not in p["metadata"].get("labels", {}))
        else:
            tests.append(lambda p, k=term: k in p["metadata"].get("labels", {}))
    return lambda pod: all(t(pod) for t in tests)


def _split_labels(sel):
    terms, depth, cur = [], 0, ""
    for ch in sel:
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        if ch == "," and depth == 0:
            terms.append(cur.strip())
            cur = ""
        else:
            cur += ch
    if cur.strip():
        terms.append(cur.strip())
    return terms
