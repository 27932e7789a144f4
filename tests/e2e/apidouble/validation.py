"""Pod defaulting, the ephemeralcontainers update validation and Pod Security admission.

Wording follows pkg/apis/core/validation (validateEphemeralContainers, ValidatePodEphemeralContainersUpdate)
and k8s.io/pod-security-admission/policy (the baseline and restricted checks that bear on a tracer
container: capabilities, privileged, allowPrivilegeEscalation, runAsNonRoot, seccompProfile, hostPID).
"""
import json
import re

from .status import FieldError, forbidden, invalid

# EphemeralContainerCommon fields the API accepts; every other one set is "Forbidden: cannot be set
# for an Ephemeral Container" (the API server checks an allow list, so new fields are refused too).
ALLOWED_EPHEMERAL_FIELDS = {
    "name", "image", "command", "args", "workingDir", "env", "envFrom", "volumeMounts",
    "volumeDevices", "terminationMessagePath", "terminationMessagePolicy", "imagePullPolicy",
    "securityContext", "stdin", "stdinOnce", "tty", "targetContainerName",
}
# Fields the Container type has; an unknown key is dropped by the decoder, not reported here.
CONTAINER_FIELDS = ALLOWED_EPHEMERAL_FIELDS | {
    "ports", "resources", "resizePolicy", "restartPolicy", "lifecycle", "livenessProbe",
    "readinessProbe", "startupProbe",
}
DNS1123_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")


def default_container(c):
    c.setdefault("terminationMessagePath", "/dev/termination-log")
    c.setdefault("terminationMessagePolicy", "File")
    if "imagePullPolicy" not in c:
        image = c.get("image", "")
        tagged = ":" in image.rsplit("/", 1)[-1] or "@" in image
        c["imagePullPolicy"] = "IfNotPresent" if tagged and not image.endswith(":latest") else "Always"
    return c


def default_pod(pod, namespace, node_name):
    meta = pod.setdefault("metadata", {})
    meta.setdefault("namespace", namespace)
    spec = pod.setdefault("spec", {})
    spec.setdefault("restartPolicy", "Always")
    spec.setdefault("terminationGracePeriodSeconds", 30)
    spec.setdefault("dnsPolicy", "ClusterFirst")
    spec.setdefault("schedulerName", "default-scheduler")
    spec.setdefault("securityContext", {})
    spec.setdefault("serviceAccountName", "default")
    spec.setdefault("enableServiceLinks", True)
    spec.setdefault("preemptionPolicy", "PreemptLowerPriority")
    spec.setdefault("priority", 0)
    spec["nodeName"] = spec.get("nodeName") or node_name
    for c in spec.get("containers", []) + spec.get("initContainers", []):
        default_container(c)
        c.setdefault("resources", {})
    for c in spec.get("ephemeralContainers", []):
        default_container(c)
    pod["kind"] = "Pod"
    pod["apiVersion"] = "v1"
    return pod


POD_SPEC_FIELDS = {
    "activeDeadlineSeconds", "affinity", "automountServiceAccountToken", "containers", "dnsConfig",
    "dnsPolicy", "enableServiceLinks", "ephemeralContainers", "hostAliases", "hostIPC", "hostNetwork",
    "hostPID", "hostUsers", "hostname", "imagePullSecrets", "initContainers", "nodeName", "nodeSelector",
    "os", "overhead", "preemptionPolicy", "priority", "priorityClassName", "readinessGates",
    "resourceClaims", "resources", "restartPolicy", "runtimeClassName", "schedulerName", "schedulingGates",
    "securityContext", "serviceAccount", "serviceAccountName", "setHostnameAsFQDN",
    "shareProcessNamespace", "subdomain", "terminationGracePeriodSeconds", "tolerations",
    "topologySpreadConstraints", "volumes",
}


def unknown_pod_fields(pod):
    """The fields fieldValidation=Strict refuses (the top of the Pod, its spec and containers)."""
    unknown = ["%s" % k for k in pod if k not in ("apiVersion", "kind", "metadata", "spec", "status")]
    spec = pod.get("spec") or {}
    unknown += ["spec." + k for k in spec if k not in POD_SPEC_FIELDS]
    for list_name in ("containers", "initContainers"):
        for i, c in enumerate(spec.get(list_name) or []):
            unknown += ["spec.%s[%d].%s" % (list_name, i, k) for k in c if k not in CONTAINER_FIELDS
                        or k == "targetContainerName"]
    return unknown


def validate_new_pod(pod):
    errors = []
    name = pod.get("metadata", {}).get("name", "")
    if not name:
        errors.append(FieldError("Required", "metadata.name", detail="name or generateName is required"))
    containers = pod.get("spec", {}).get("containers") or []
    if not containers:
        errors.append(FieldError("Required", "spec.containers"))
    seen = set()
    for i, c in enumerate(containers):
        errors += _container_common(c, "spec.containers[%d]" % i)
        if c.get("name") in seen:
            errors.append(FieldError("Duplicate", "spec.containers[%d].name" % i, c.get("name")))
        seen.add(c.get("name"))
    if pod.get("spec", {}).get("ephemeralContainers"):
        errors.append(FieldError("Forbidden", "spec.ephemeralContainers",
                                 detail="cannot be set on create"))
    if errors:
        raise invalid("Pod", name, errors)


def _container_common(c, path):
    errors = []
    n = c.get("name", "")
    if not n:
        errors.append(FieldError("Required", path + ".name"))
    elif not DNS1123_LABEL.match(n) or len(n) > 63:
        errors.append(FieldError("Invalid", path + ".name", n,
                                 "a lowercase RFC 1123 label must consist of lower case alphanumeric "
                                 "characters or '-', and must start and end with an alphanumeric "
                                 "character (e.g. 'my-name',  or '123-abc', regex used for validation "
                                 "is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')"))
    if not c.get("image"):
        errors.append(FieldError("Required", path + ".image"))
    policy = c.get("imagePullPolicy")
    if policy not in ("Always", "IfNotPresent", "Never"):
        errors.append(FieldError("NotSupported", path + ".imagePullPolicy", policy,
                                 'supported values: "Always", "IfNotPresent", "Never"'))
    if c.get("terminationMessagePolicy") not in ("File", "FallbackToLogsOnError"):
        errors.append(FieldError("NotSupported", path + ".terminationMessagePolicy",
                                 c.get("terminationMessagePolicy"),
                                 'supported values: "File", "FallbackToLogsOnError"'))
    return errors


def _is_set(value):
    return value not in (None, "", [], {}, False, 0)


def validate_ephemeral_update(old_pod, new_pod):
    """ValidatePodEphemeralContainersUpdate: raises the 422 Invalid Status, or returns None."""
    name = old_pod["metadata"]["name"]
    spec = new_pod.get("spec", {})
    errors = []
    ecs = spec.get("ephemeralContainers") or []
    all_names = {c.get("name") for c in spec.get("containers", []) + spec.get("initContainers", [])}
    other_names = set(all_names)
    for i, ec in enumerate(ecs):
        path = "spec.ephemeralContainers[%d]" % i
        errors += _container_common(ec, path)
        if ec.get("name") in all_names:
            errors.append(FieldError("Duplicate", path + ".name", ec.get("name")))
        else:
            all_names.add(ec.get("name"))
        target = ec.get("targetContainerName", "")
        if target and target not in other_names:
            errors.append(FieldError("NotFound", path + ".targetContainerName", target))
        for field in sorted(CONTAINER_FIELDS - ALLOWED_EPHEMERAL_FIELDS, key=_field_order):
            if _is_set(ec.get(field)):
                errors.append(FieldError("Forbidden", path + "." + field,
                                         detail="cannot be set for an Ephemeral Container"))
        for j, vm in enumerate(ec.get("volumeMounts") or []):
            for sub in ("subPath", "subPathExpr"):
                if vm.get(sub):
                    errors.append(FieldError("Forbidden", "%s.volumeMounts[%d].%s" % (path, j, sub),
                                             detail="cannot be set for an Ephemeral Container"))
    new_by_name = {c.get("name"): c for c in ecs}
    for old in old_pod.get("spec", {}).get("ephemeralContainers") or []:
        new = new_by_name.get(old["name"])
        if new is None:
            errors.append(FieldError("Forbidden", "spec.ephemeralContainers",
                                     detail='existing ephemeral containers "%s" may not be removed\n'
                                     % old["name"]))
        elif json.dumps(new, sort_keys=True) != json.dumps(old, sort_keys=True):
            errors.append(FieldError("Forbidden", "spec.ephemeralContainers",
                                     detail='existing ephemeral containers "%s" may not be changed\n%s'
                                     % (old["name"], _diff(old, new))))
    if errors:
        raise invalid("Pod", name, errors)


def _field_order(field):
    # Go validates struct fields in declaration order; this is the Container struct's order.
    order = ["ports", "resources", "resizePolicy", "restartPolicy", "livenessProbe",
             "readinessProbe", "startupProbe", "lifecycle"]
    return order.index(field) if field in order else len(order)


def _diff(old, new):
    lines = []
    for key in sorted(set(old) | set(new)):
        if old.get(key) != new.get(key):
            lines.append("  %s: %s -> %s" % (key, json.dumps(old.get(key)), json.dumps(new.get(key))))
    return "\n".join(lines)


# ---- Pod Security admission
BASELINE_CAPABILITIES = {"AUDIT_WRITE", "CHOWN", "DAC_OVERRIDE", "FOWNER", "FSETID", "KILL", "MKNOD",
                         "NET_BIND_SERVICE", "SETFCAP", "SETGID", "SETPCAP", "SETUID", "SYS_CHROOT"}


def _containers(spec):
    return (spec.get("initContainers") or []) + (spec.get("containers") or []) + \
        (spec.get("ephemeralContainers") or [])


def _plural(names):
    return ("container " if len(names) == 1 else "containers ") + ", ".join('"%s"' % n for n in names)


def _quoted(values):
    return ", ".join('"%s"' % v for v in values)


def _baseline(spec):
    failures = []
    if spec.get("hostPID") or spec.get("hostIPC") or spec.get("hostNetwork"):
        fields = [f + "=true" for f in ("hostNetwork", "hostPID", "hostIPC") if spec.get(f)]
        failures.append(("host namespaces", ", ".join(fields)))
    privileged = [c["name"] for c in _containers(spec)
                  if (c.get("securityContext") or {}).get("privileged")]
    if privileged:
        failures.append(("privileged", "%s must not set securityContext.privileged=true" % _plural(privileged)))
    bad, caps = [], set()
    for c in _containers(spec):
        added = ((c.get("securityContext") or {}).get("capabilities") or {}).get("add") or []
        extra = [a for a in added if a not in BASELINE_CAPABILITIES]
        if extra:
            bad.append(c["name"])
            caps.update(extra)
    if bad:
        failures.append(("non-default capabilities", "%s must not include %s in securityContext.capabilities.add"
                         % (_plural(bad), _quoted(sorted(caps)))))
    return failures


def _restricted(spec):
    failures = []
    pod_sc = spec.get("securityContext") or {}
    escalation = [c["name"] for c in _containers(spec)
                  if (c.get("securityContext") or {}).get("allowPrivilegeEscalation") is not False]
    if escalation:
        failures.append(("allowPrivilegeEscalation != false",
                         "%s must set securityContext.allowPrivilegeEscalation=false" % _plural(escalation)))
    missing_drop, adding, caps = [], [], set()
    for c in _containers(spec):
        capabilities = (c.get("securityContext") or {}).get("capabilities")
        if not capabilities:
            missing_drop.append(c["name"])
            continue
        if "ALL" not in (capabilities.get("drop") or []):
            missing_drop.append(c["name"])
        extra = [a for a in capabilities.get("add") or [] if a != "NET_BIND_SERVICE"]
        if extra:
            adding.append(c["name"])
            caps.update(extra)
    details = []
    if missing_drop:
        details.append('%s must set securityContext.capabilities.drop=["ALL"]' % _plural(missing_drop))
    if adding:
        details.append("%s must not include %s in securityContext.capabilities.add"
                       % (_plural(adding), _quoted(sorted(caps))))
    if details:
        failures.append(("unrestricted capabilities", "; ".join(details)))
    pod_non_root = pod_sc.get("runAsNonRoot")
    not_non_root = [c["name"] for c in _containers(spec)
                    if (c.get("securityContext") or {}).get("runAsNonRoot",
                                                            pod_non_root) is not True]
    if not_non_root:
        failures.append(("runAsNonRoot != true",
                         "pod or %s must set securityContext.runAsNonRoot=true" % _plural(not_non_root)))
    pod_seccomp = (pod_sc.get("seccompProfile") or {}).get("type")
    no_seccomp = [c["name"] for c in _containers(spec)
                  if ((c.get("securityContext") or {}).get("seccompProfile") or {}).get("type", pod_seccomp)
                  not in ("RuntimeDefault", "Localhost")]
    if no_seccomp:
        failures.append(("seccompProfile", 'pod or %s must set securityContext.seccompProfile.type to '
                         '"RuntimeDefault" or "Localhost"' % _plural(no_seccomp)))
    return failures


def pod_security_check(namespace_obj, pod):
    """Enforces the namespace's pod-security.kubernetes.io/enforce level; raises a 403 Status."""
    labels = (namespace_obj or {}).get("metadata", {}).get("labels", {})
    level = labels.get("pod-security.kubernetes.io/enforce", "privileged")
    version = labels.get("pod-security.kubernetes.io/enforce-version", "latest")
    if level == "privileged":
        return
    spec = pod.get("spec", {})
    failures = _baseline(spec)
    if level == "restricted":
        failures += _restricted(spec)
    if failures:
        detail = ", ".join("%s (%s)" % f for f in failures)
        raise forbidden("pods", pod["metadata"]["name"],
                        'violates PodSecurity "%s:%s": %s' % (level, version, detail))


def pod_security_warnings(namespace_obj, pod):
    """The namespace's pod-security.kubernetes.io/warn level: the texts of the Warning headers the
    admission adds (the request goes through)."""
    labels = (namespace_obj or {}).get("metadata", {}).get("labels", {})
    level = labels.get("pod-security.kubernetes.io/warn", "privileged")
    version = labels.get("pod-security.kubernetes.io/warn-version", "latest")
    if level == "privileged":
        return []
    spec = pod.get("spec", {})
    failures = _baseline(spec)
    if level == "restricted":
        failures += _restricted(spec)
    if not failures:
        return []
    return ['would violate PodSecurity "%s:%s": %s' % (level, version,
                                                       ", ".join("%s (%s)" % f for f in failures))]
