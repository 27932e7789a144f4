"""The test's control endpoint /_double/: the switches, tokens, dropped streams, namespaces, and
objects created without authorization."""
from . import hostile
from . import tokens as token_rotation
from .status import ApiError, bad_request, method_not_allowed


class ControlMixin:
    """Part of server.Handler (self is the request's handler)."""

    # ---- control endpoint
    def _control(self, what):
        cfg, store = self.server.config, self.server.store
        if what == "state" and self.method == "GET":
            with cfg.lock:
                return self.send_json(200, {"switches": cfg.switches, "version": cfg.version,
                                            "redirectTargetConnections": self.server.redirect_target.connections})
        if self.method != "POST":
            raise method_not_allowed()
        body = self.json_body() or {}
        if what == "config":
            with cfg.lock:
                for k, v in body.items():
                    if k not in cfg.switches:
                        raise bad_request("unknown switch %r (known: %s)" % (k, ", ".join(sorted(cfg.switches))))
                    if k == "hostile" and v and v not in hostile.MODES:
                        raise bad_request("unknown hostile mode %r (known: %s)" % (v, ", ".join(hostile.MODES)))
                    cfg.switches[k] = v
                return self.send_json(200, {"switches": cfg.switches})
        if what == "tokens":
            return self.send_json(200, token_rotation.apply(cfg, body))
        if what == "drop":
            kinds = body.get("what") or ["attach", "exec", "log", "watch"]
            n = self.server.sessions.drop(kinds)
            return self.send_json(200, {"dropped": n})
        if what == "namespaces":
            return self.send_json(200, store.ensure_namespace(body["name"], body.get("labels")))
        if what == "deployments":
            ns = body.get("metadata", {}).get("namespace", "default")
            return self.send_json(201, self.server.apps.create_deployment(ns, body, self.server.create_pod))
        if what == "pods":
            ns = body.get("metadata", {}).get("namespace", "default")
            return self.send_json(201, self.server.create_pod(ns, body))
        raise ApiError(404, "NotFound", "unknown control endpoint /_double/%s" % what)
