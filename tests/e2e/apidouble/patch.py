"""The three patch types the API server takes for pods: JSON merge patch (RFC 7386), JSON patch
(RFC 6902) and strategic merge patch (Kubernetes' own: lists of objects merge by a key named in the
Go types' patchMergeKey tags, and $patch / $setElementOrder / $deleteFromPrimitiveList /
$retainKeys directives).
"""
import copy

# patchMergeKey of the Pod's mergeable lists, keyed by the path of field names (list indexes left out).
# Lists not named here are atomic: a patch replaces them whole.
_CONTAINER_LISTS = {"env": "name", "ports": "containerPort", "volumeMounts": "mountPath",
                    "volumeDevices": "devicePath", "resizePolicy": "resourceName"}
MERGE_KEYS = {
    ("spec", "volumes"): "name",
    ("spec", "imagePullSecrets"): "name",
    ("spec", "hostAliases"): "ip",
    ("spec", "resourceClaims"): "name",
    ("spec", "readinessGates"): None,
    ("metadata", "ownerReferences"): "uid",
    ("status", "conditions"): "type",
    ("status", "podIPs"): "ip",
}
for _list in ("containers", "initContainers", "ephemeralContainers"):
    MERGE_KEYS[("spec", _list)] = "name"
    for _field, _key in _CONTAINER_LISTS.items():
        MERGE_KEYS[("spec", _list, _field)] = _key
# Lists of scalars with patchStrategy "merge".
MERGED_SCALAR_LISTS = {("metadata", "finalizers")}


class PatchError(Exception):
    pass


# ---- RFC 7386
def json_merge_patch(target, patch):
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    result = copy.deepcopy(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = json_merge_patch(result.get(key), value)
    return result


# ---- RFC 6902
def _pointer(path):
    if path == "":
        return []
    if not path.startswith("/"):
        raise PatchError("invalid JSON pointer %r" % path)
    return [p.replace("~1", "/").replace("~0", "~") for p in path[1:].split("/")]


def _walk(doc, parts):
    for p in parts:
        if isinstance(doc, list):
            doc = doc[int(p)]
        elif isinstance(doc, dict):
            doc = doc[p]
        else:
            raise KeyError(p)
    return doc


def json_patch(target, operations):
    doc = copy.deepcopy(target)
    if not isinstance(operations, list):
        raise PatchError("json patch must be a list of operations")
    for op in operations:
        try:
            doc = _apply_op(doc, op)
        except (KeyError, IndexError, ValueError, TypeError) as e:
            raise PatchError("the server rejected our request due to an error in our request: %s %s: %s"
                             % (op.get("op"), op.get("path"), e))
    return doc


def _apply_op(doc, op):
    kind = op.get("op")
    parts = _pointer(op.get("path", ""))
    if kind == "test":
        if _walk(doc, parts) != op.get("value"):
            raise ValueError("testing value %s failed" % op.get("path"))
        return doc
    if kind in ("move", "copy"):
        value = copy.deepcopy(_walk(doc, _pointer(op["from"])))
        if kind == "move":
            doc = _apply_op(doc, {"op": "remove", "path": op["from"]})
        return _apply_op(doc, {"op": "add", "path": op["path"], "value": value})
    if not parts:
        if kind in ("add", "replace"):
            return copy.deepcopy(op["value"])
        raise ValueError("cannot remove the root")
    parent = _walk(doc, parts[:-1])
    last = parts[-1]
    if isinstance(parent, list):
        if kind == "add":
            idx = len(parent) if last == "-" else int(last)
            if idx > len(parent):
                raise IndexError("index out of range")
            parent.insert(idx, copy.deepcopy(op["value"]))
        elif kind == "remove":
            del parent[int(last)]
        elif kind == "replace":
            parent[int(last)] = copy.deepcopy(op["value"])
        else:
            raise ValueError("unknown op")
    else:
        if kind == "add":
            parent[last] = copy.deepcopy(op["value"])
        elif kind == "remove":
            del parent[last]
        elif kind == "replace":
            if last not in parent:
                raise KeyError(last)
            parent[last] = copy.deepcopy(op["value"])
        else:
            raise ValueError("unknown op")
    return doc


# ---- strategic merge patch
def strategic_merge_patch(target, patch, path=()):
    if not isinstance(patch, dict):
        raise PatchError("strategic merge patch must be an object")
    return _smp_map(copy.deepcopy(target) if isinstance(target, dict) else {}, patch, path)


def _smp_map(orig, patch, path):
    directive = patch.get("$patch")
    if directive == "replace":
        return {k: v for k, v in copy.deepcopy(patch).items() if k != "$patch"}
    if directive == "delete":
        return None
    if directive is not None:
        raise PatchError("Unknown patch type: %s" % directive)
    retain = patch.get("$retainKeys")
    for key, value in patch.items():
        if key.startswith("$setElementOrder/") or key in ("$retainKeys",):
            continue
        if key.startswith("$deleteFromPrimitiveList/"):
            field = key.split("/", 1)[1]
            if isinstance(orig.get(field), list):
                orig[field] = [v for v in orig[field] if v not in value]
            continue
        sub = path + (key,)
        if value is None:
            orig.pop(key, None)
        elif isinstance(value, dict):
            merged = _smp_map(orig.get(key) if isinstance(orig.get(key), dict) else {}, value, sub)
            if merged is None:
                orig.pop(key, None)
            else:
                orig[key] = merged
        elif isinstance(value, list):
            orig[key] = _smp_list(orig.get(key) if isinstance(orig.get(key), list) else [], value, sub)
        else:
            orig[key] = value
    for key, order in patch.items():
        if key.startswith("$setElementOrder/"):
            field = key.split("/", 1)[1]
            if isinstance(orig.get(field), list):
                orig[field] = _apply_order(orig[field], order, MERGE_KEYS.get(path + (field,)))
    if retain is not None:
        orig = {k: v for k, v in orig.items() if k in retain}
    return orig


def _smp_list(orig, patch, path):
    key = MERGE_KEYS.get(path)
    if path in MERGED_SCALAR_LISTS:
        result = list(orig)
        for v in patch:
            if v not in result:
                result.append(v)
        return result
    if not key:
        if any(isinstance(p, dict) and p.get("$patch") == "replace" for p in patch):
            return [p for p in patch if not (isinstance(p, dict) and "$patch" in p)]
        return copy.deepcopy(patch)
    if any(isinstance(p, dict) and p.get("$patch") == "replace" for p in patch):
        return [copy.deepcopy(p) for p in patch if not (isinstance(p, dict) and "$patch" in p)]
    result = copy.deepcopy(orig)
    for item in patch:
        if not isinstance(item, dict) or key not in item:
            raise PatchError("map: %s does not contain declared merge key: %s" % (item, key))
        idx = next((i for i, o in enumerate(result) if isinstance(o, dict) and o.get(key) == item[key]), None)
        if item.get("$patch") == "delete":
            if idx is not None:
                del result[idx]
            continue
        if idx is None:
            result.append(_smp_map({}, item, path))
        else:
            result[idx] = _smp_map(result[idx], item, path)
    return result


def _apply_order(items, order, key):
    if not key:
        return items
    rank = {o.get(key): i for i, o in enumerate(order) if isinstance(o, dict)}
    ordered = sorted((i for i in items if i.get(key) in rank), key=lambda i: rank[i.get(key)])
    rest = [i for i in items if i.get(key) not in rank]
    return ordered + rest


PATCH_TYPES = {
    "application/json-patch+json": json_patch,
    "application/merge-patch+json": json_merge_patch,
    "application/strategic-merge-patch+json": strategic_merge_patch,
}
