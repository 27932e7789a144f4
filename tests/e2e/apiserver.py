#!/usr/bin/env python3
"""Starts the API-server double: HTTPS on 127.0.0.1, pods as podman containers.

    tests/e2e/apiserver.py --port 0 --state-dir /tmp/double [--pod pod.json ...]

prints the server's URL on its first line of stdout once it serves, and writes into the state dir:
  kubeconfig         admin by client certificate (user "admin", group "system:masters")
  kubeconfig-exec    the same cluster, a bearer token from an exec credential plugin
  kubeconfig-token   the same cluster, a static bearer token
  server.json        url, pid, the tokens and the paths above
See tests/e2e/README.md for the switches.
"""
import argparse
import json
import os
import signal
import subprocess
import sys
import threading
import time
import secrets

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from apidouble import hostile, podman  # noqa: E402
from apidouble.certs import Pki  # noqa: E402
from apidouble.runtime import Runtime, new_instance_id  # noqa: E402
from apidouble.server import Config, make_server  # noqa: E402
from apidouble.store import Store  # noqa: E402

EXEC_PLUGIN = os.path.join(HERE, "exec-credential.py")


def parse_deny(text):
    """VERB:RESOURCE[/SUBRESOURCE][@USER][#NAMESPACE], e.g. patch:pods/ephemeralcontainers."""
    rule = {}
    if "#" in text:
        text, rule["namespace"] = text.split("#", 1)
    if "@" in text:
        text, rule["user"] = text.split("@", 1)
    verb, _, resource = text.partition(":")
    resource, _, sub = resource.partition("/")
    rule.update({"verb": verb or "*", "resource": resource or "*", "subresource": sub})
    return rule


def write_kubeconfigs(state_dir, url, pki, admin_cert, tokens):
    cluster = {"name": "apidouble", "cluster": {"server": url, "certificate-authority": pki.ca_cert}}

    def kubeconfig(user):
        return {"apiVersion": "v1", "kind": "Config", "clusters": [cluster],
                "users": [user], "contexts": [{"name": "apidouble", "context": {
                    "cluster": "apidouble", "user": user["name"], "namespace": "default"}}],
                "current-context": "apidouble", "preferences": {}}
    paths = {
        "kubeconfig": kubeconfig({"name": "admin", "user": {
            "client-certificate": admin_cert[0], "client-key": admin_cert[1]}}),
        "kubeconfig-exec": kubeconfig({"name": "exec-user", "user": {"exec": {
            "apiVersion": "client.authentication.k8s.io/v1", "command": sys.executable,
            "args": [EXEC_PLUGIN, "--token", tokens["exec"],
                     "--log", os.path.join(state_dir, "exec-credential.log")],
            "interactiveMode": "Never", "provideClusterInfo": False}}}),
        "kubeconfig-token": kubeconfig({"name": "token-user", "user": {"token": tokens["static"]}}),
        "kubeconfig-exec-v1beta1": kubeconfig({"name": "exec-user", "user": {"exec": {
            "apiVersion": "client.authentication.k8s.io/v1beta1", "command": sys.executable,
            "args": [EXEC_PLUGIN, "--token", tokens["exec"],
                     "--log", os.path.join(state_dir, "exec-credential.log")]}}}),
    }
    out = {}
    for name, obj in paths.items():
        path = os.path.join(state_dir, name)
        with open(path, "w") as f:
            json.dump(obj, f, indent=2)  # JSON is YAML: kubectl reads it as a kubeconfig
        os.chmod(path, 0o600)
        out[name] = path
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--port", type=int, default=0, help="0: any free port")
    ap.add_argument("--state-dir", required=True)
    ap.add_argument("--server-version", default="v1.31.4", help="gitVersion served at /version")
    ap.add_argument("--pod", action="append", default=[],
                    help="a Pod or Deployment (or a List of them) JSON file to run")
    ap.add_argument("--namespace", action="append", default=[],
                    help="NAME[:LEVEL]: create namespace NAME, with Pod Security enforce LEVEL "
                         "(baseline, restricted)")
    ap.add_argument("--deny", action="append", default=[],
                    help="RBAC-deny VERB:RESOURCE[/SUB][@USER][#NAMESPACE] (e.g. patch:pods/ephemeralcontainers)")
    ap.add_argument("--image-pull-failure", action="append", default=[],
                    help="IMAGE whose pull fails (ErrImagePull, ImagePullBackOff); * for all")
    ap.add_argument("--drop-attach-after", type=float, default=0,
                    help="cut every attach/exec connection this many seconds after it opens")
    ap.add_argument("--drop-watch-after", type=float, default=0,
                    help="cut every watch connection this many seconds after it opens")
    ap.add_argument("--ephemeral-containers-disabled", action="store_true",
                    help="pods/ephemeralcontainers answers 404, as on a cluster without the feature")
    ap.add_argument("--hostile", default="", choices=["", *hostile.MODES],
                    help="misbehave on purpose in this way (see apidouble/hostile.py)")
    ap.add_argument("--token", action="append", default=[], help="TOKEN=USER[:GROUP,...] bearer tokens")
    ap.add_argument("--seccomp-root", help="where Localhost seccomp profiles live (default STATE/seccomp)")
    ap.add_argument("--container-id-scheme", default="containerd")
    ap.add_argument("--instance-id", default="",
                    help="the label value io.kubectl-seccomp.apidouble=ID of every container it starts "
                         "(default: a new random one)")
    ap.add_argument("--access-log", help="append one line per request to this file")
    ap.add_argument("--exit-with-parent", action="store_true",
                    help="stop (removing the containers) when the process that started it goes away")
    args = ap.parse_args()

    try:  # the image the README and the tests use; any other local image works as well
        podman.ensure_busybox_image()
    except (OSError, subprocess.SubprocessError) as e:
        print("apiserver.py: warning: cannot build %s: %s" % (podman.BUSYBOX_IMAGE, e), file=sys.stderr)

    state_dir = os.path.abspath(args.state_dir)
    os.makedirs(state_dir, exist_ok=True)
    pki = Pki(os.path.join(state_dir, "pki")).create()
    admin_cert = pki.client("admin", ["system:masters"])

    config = Config(args.server_version)
    tokens = {"static": secrets.token_hex(16), "exec": secrets.token_hex(16)}
    config.tokens[tokens["static"]] = ("token-user", ["system:authenticated"])
    config.tokens[tokens["exec"]] = ("exec-user", ["system:authenticated"])
    for t in args.token:
        token, _, who = t.partition("=")
        user, _, groups = who.partition(":")
        config.tokens[token] = (user, [g for g in groups.split(",") if g] + ["system:authenticated"])
    config.switches["deny"] = [parse_deny(d) for d in args.deny]
    config.switches["imagePullFailure"] = list(args.image_pull_failure)
    config.switches["dropAttachAfterSeconds"] = args.drop_attach_after
    config.switches["dropWatchAfterSeconds"] = args.drop_watch_after
    config.switches["ephemeralContainersDisabled"] = args.ephemeral_containers_disabled
    config.switches["hostile"] = args.hostile

    store = Store()
    store.ensure_namespace("default")
    store.ensure_namespace("kube-system")
    for spec in args.namespace:
        name, _, level = spec.partition(":")
        labels = {"pod-security.kubernetes.io/enforce": level} if level else None
        store.ensure_namespace(name, labels)

    runtime = Runtime(store, state_dir, args.instance_id or new_instance_id(), config.switches,
                      seccomp_root=args.seccomp_root, container_id_scheme=args.container_id_scheme)
    server = make_server(("127.0.0.1", args.port), pki, store, runtime, config)
    if args.access_log:
        server.access_log = open(args.access_log, "a")
    url = "https://127.0.0.1:%d" % server.server_address[1]

    try:
        serve(args, server, store, runtime, pki, admin_cert, tokens, url, state_dir)
    finally:
        store.close()
        left = runtime.cleanup()
        if left:
            print("apiserver.py: error: could not remove containers: %s" % " ".join(left), file=sys.stderr)
        server.server_close()


def serve(args, server, store, runtime, pki, admin_cert, tokens, url, state_dir):
    """Creates the --pod objects and serves until SIGTERM (or --exit-with-parent)."""
    # Stopping works from here on: serve_forever returns at once if asked before it runs.
    stopping = threading.Event()

    def stop(*_):
        if stopping.is_set():
            return
        stopping.set()
        threading.Thread(target=server.shutdown, daemon=True).start()
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    if args.exit_with_parent:
        parent = os.getppid()

        def watch_parent():
            while not stopping.is_set():
                if os.getppid() != parent:  # reparented: the test that started us was killed
                    stop()
                    return
                time.sleep(1)
        threading.Thread(target=watch_parent, daemon=True).start()

    kubeconfigs = write_kubeconfigs(state_dir, url, pki, admin_cert, tokens)
    for path in args.pod:
        with open(path) as f:
            obj = json.load(f)
        for item in obj.get("items", [obj]) if obj.get("kind") == "List" else [obj]:
            ns = item.get("metadata", {}).get("namespace", "default")
            store.ensure_namespace(ns)
            if item.get("kind") == "Deployment":
                server.apps.create_deployment(ns, item, server.create_pod)
            else:
                server.create_pod(ns, item)

    info = {"url": url, "pid": os.getpid(), "state_dir": state_dir, "seccomp_root": runtime.seccomp_root, "instance": runtime.instance_id, "tokens": tokens, "ca": pki.ca_cert,
            "admin_cert": admin_cert[0], "admin_key": admin_cert[1], **kubeconfigs}
    with open(os.path.join(state_dir, "server.json"), "w") as f:
        json.dump(info, f, indent=2)

    print(url, flush=True)
    server.serve_forever(poll_interval=0.2)


if __name__ == "__main__":
    main()
