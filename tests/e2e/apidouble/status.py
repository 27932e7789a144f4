"""metav1.Status objects as the API server sends them, and field errors as apimachinery words them.

Reference: the Status kind (kubernetes.io/docs/reference/kubernetes-api/common-definitions/status/),
apimachinery's api/errors (NewNotFound, NewForbidden, NewInvalid, NewConflict) and
util/validation/field (the "<path>: <type>: <detail>" wording of each error type).
"""
import json


class ApiError(Exception):
    """Raised by handlers; the server turns it into a Status response."""

    def __init__(self, code, reason, message, details=None):
        super().__init__(message)
        self.code = code
        self.reason = reason
        self.message = message
        self.details = details

    def status(self):
        return status_object(self.code, self.reason, self.message, self.details)


def status_object(code, reason, message, details=None):
    s = {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
         "message": message, "reason": reason}
    if details is not None:
        s["details"] = details
    s["code"] = code
    return s


def success_status():
    return {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success"}


def not_found(resource, name):
    return ApiError(404, "NotFound", '%s "%s" not found' % (resource, name),
                    {"name": name, "kind": resource})


def already_exists(resource, name):
    return ApiError(409, "AlreadyExists", '%s "%s" already exists' % (resource, name),
                    {"name": name, "kind": resource})


def conflict(resource, name):
    return ApiError(409, "Conflict",
                    'Operation cannot be fulfilled on %s "%s": the object has been modified; '
                    'please apply your changes to the latest version and try again' % (resource, name),
                    {"name": name, "kind": resource})


def forbidden(resource, name, why):
    """NewForbidden: 'pods "x" is forbidden: why' ('pods is forbidden: why' without a name)."""
    subject = '%s "%s"' % (resource, name) if name else resource
    details = {"kind": resource}
    if name:
        details = {"name": name, "kind": resource}
    return ApiError(403, "Forbidden", "%s is forbidden: %s" % (subject, why), details)


def rbac_forbidden(user, verb, resource, subresource, namespace, name, group=""):
    full = resource + ("/" + subresource if subresource else "")
    why = 'User "%s" cannot %s resource "%s" in API group "%s"' % (user, verb, full, group)
    why += ' in the namespace "%s"' % namespace if namespace else " at the cluster scope"
    return forbidden(resource + ("." + group if group else ""), name, why)


def unauthorized():
    return ApiError(401, "Unauthorized", "Unauthorized")


def bad_request(message):
    return ApiError(400, "BadRequest", message)


def method_not_allowed():
    return ApiError(405, "MethodNotAllowed", "the server does not allow this method on the requested resource")


def internal_error(message):
    return ApiError(500, "InternalError", "Internal error occurred: " + message,
                    {"causes": [{"message": message}]})


def service_unavailable(message):
    return ApiError(503, "ServiceUnavailable", message)


def too_many_requests():
    return ApiError(429, "TooManyRequests", "Too many requests, please try again later.",
                    {"retryAfterSeconds": 1})


class FieldError:
    """One util/validation/field error."""

    _TYPES = {
        "NotFound": ("FieldValueNotFound", "Not found"),
        "Required": ("FieldValueRequired", "Required value"),
        "Duplicate": ("FieldValueDuplicate", "Duplicate value"),
        "Invalid": ("FieldValueInvalid", "Invalid value"),
        "NotSupported": ("FieldValueNotSupported", "Unsupported value"),
        "Forbidden": ("FieldValueForbidden", "Forbidden"),
    }

    def __init__(self, kind, field, value=None, detail=""):
        self.kind, self.field, self.value, self.detail = kind, field, value, detail

    def body(self):
        """The message without the field path, as in a Status cause."""
        _, words = self._TYPES[self.kind]
        if self.kind in ("Required", "Forbidden"):
            return words + (": " + self.detail if self.detail else "")
        value = json.dumps(self.value) if isinstance(self.value, (str, int, bool)) else str(self.value)
        text = "%s: %s" % (words, value)
        if self.detail:
            text += ": " + self.detail
        return text

    def __str__(self):
        return "%s: %s" % (self.field, self.body())

    def cause(self):
        return {"reason": self._TYPES[self.kind][0], "message": self.body(), "field": self.field}


def invalid(kind, name, errors):
    """NewInvalid: 'Pod "x" is invalid: <error>' or 'Pod "x" is invalid: [<e1>, <e2>]'."""
    if len(errors) == 1:
        text = str(errors[0])
    else:
        text = "[" + ", ".join(str(e) for e in errors) + "]"
    return ApiError(422, "Invalid", '%s "%s" is invalid: %s' % (kind, name, text),
                    {"name": name, "kind": kind, "causes": [e.cause() for e in errors]})
