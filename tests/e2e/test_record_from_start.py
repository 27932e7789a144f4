#!/usr/bin/env python3
"""`kubectl seccomp record POD --from-start` through real kubectl against the double, whose pods are
real podman containers: a Python HTTP server recorded from its first syscall in a copy of its pod
(init container installing the tracer, the app launched under it, the stream carried by an exec),
then started again under the recorded profile with real seccomp enforcement: it must start and
serve. The copy is gone afterwards.

Needs podman, kubectl, the built plugin and a static seccomp-tracer (this build's, put into a
FROM scratch image here: the image needs `--install`), and the local bookworm image
(tests/containers/build-images)."""
import glob
import hashlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import e2e_support as e2e  # noqa: E402
import registry_double  # noqa: E402
from apidouble import podman  # noqa: E402

APP_IMAGE = "localhost/kubectl-seccomp/bookworm:latest"
SERVER = ["python3", "-m", "http.server", "--bind", "127.0.0.1"]


def tracer_image():
    """This build's seccomp-tracer alone in a FROM scratch image, tagged by the binary's hash."""
    tracer = os.path.join(e2e.plugin_dir(), "seccomp-tracer")
    if not os.access(tracer, os.X_OK):
        print("SKIP: seccomp-tracer is not built", flush=True)
        sys.exit(e2e.SKIP)
    if b"interpreter" in subprocess.run(["readelf", "-l", tracer], capture_output=True).stdout:
        print("SKIP: seccomp-tracer is not static (a sanitizer build?)", flush=True)
        sys.exit(e2e.SKIP)
    with open(tracer, "rb") as f:
        tag = hashlib.sha256(f.read()).hexdigest()[:12]
    image = "localhost/ksc-e2e-fromstart-tracer:" + tag
    # One cached image, not one per tracer ever built: older tags go (one still in use by a
    # container is kept: rmi without --force refuses it).
    r = podman.podman("images", "--format", "{{.Repository}}:{{.Tag}}", "localhost/ksc-e2e-fromstart-tracer",
                      check=False)
    for old in r.stdout.split():
        if old != image:
            podman.podman("rmi", old, check=False)
    if not podman.image_exists(image):
        ctx = tempfile.mkdtemp(prefix="ksc-tracer-image-")
        try:
            shutil.copy(tracer, os.path.join(ctx, "seccomp-tracer"))
            with open(os.path.join(ctx, "Containerfile"), "w") as f:
                f.write('FROM scratch\nCOPY seccomp-tracer /seccomp-tracer\nENTRYPOINT ["/seccomp-tracer"]\n')
            podman.podman("build", "--pull=never", "-t", image, ctx, timeout=300)
        finally:
            shutil.rmtree(ctx, ignore_errors=True)
    return image


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class RecordFromStart(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        e2e.require_image(APP_IMAGE)
        cls.tracer = tracer_image()
        pod = {"apiVersion": "v1", "kind": "Pod",
               "metadata": {"name": "web", "namespace": "default", "labels": {"app": "web"}},
               "spec": {"containers": [{"name": "app", "image": APP_IMAGE, "command": SERVER[:3],
                                        "args": SERVER[3:] + ["8080"]}]}}
        # Class cleanups run even when setUpClass fails half-way (tearDownClass would not).
        cls.d = e2e.Double(pods=[pod])
        cls.addClassCleanup(cls.d.stop)
        cls.d.wait_running("web")
        cls.out = tempfile.mkdtemp(prefix="ksc-from-start-")
        cls.addClassCleanup(shutil.rmtree, cls.out, True)
        # A registry that knows the app image's entrypoint (a pod without `command` is resolved
        # there): the local image tagged with the registry's address, as a node would have pulled it.
        cls.registry, cls.registry_info, _ = registry_double.serve(cls.out)
        cls.addClassCleanup(cls.registry.shutdown)
        cls.registry_image = "%s/demo/server:1" % cls.registry_info["host"]
        cls.registry.images.image("demo/server", "1", {"Entrypoint": SERVER[:3], "Cmd": ["8080"], "WorkingDir": "/"})
        # The same config in the local image the double runs (a node pulls what the registry has).
        ctx = os.path.join(cls.out, "server-image")
        os.makedirs(ctx)
        with open(os.path.join(ctx, "Containerfile"), "w") as f:
            f.write("FROM %s\nENTRYPOINT %s\nCMD [\"8080\"]\nWORKDIR /\n" % (APP_IMAGE, json.dumps(SERVER[:3])))
        cls.addClassCleanup(podman.podman, "rmi", cls.registry_image, check=False)
        podman.podman("build", "--pull=never", "-t", cls.registry_image, ctx, timeout=300)

    def copies(self, of="web"):
        status, pods = self.d.request("GET", "/api/v1/namespaces/default/pods")
        return [p for p in pods["items"]
                if (p["metadata"].get("annotations") or {}).get("kubectl-seccomp.io/copy-of") == of]

    def assert_copy_gone(self, of):
        deadline = time.time() + 30
        while self.copies(of) and time.time() < deadline:
            time.sleep(0.3)
        self.assertEqual(self.copies(of), [])

    def record(self, *extra, target="web"):
        profile = os.path.join(self.out, target.replace("/", "-") + ".json")
        env = dict(os.environ, PATH=e2e.plugin_dir() + os.pathsep + os.environ["PATH"])
        proc = subprocess.Popen(
            ["kubectl", "seccomp", "record", target, "-c", "app", "--from-start", "--kubeconfig", self.d.kubeconfig,
             "--image", self.tracer, "--output-file", profile, *extra],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
        return proc, profile

    def test_a_server_recorded_from_start_starts_and_serves_under_its_profile(self):
        proc, profile = self.record()
        try:
            # The copy runs; exercise it (kubectl exec's own processes are not traced: only the server's
            # side of each request is recorded).
            deadline = time.time() + 120
            copy = None
            while time.time() < deadline and copy is None:
                for p in self.copies():
                    if any("running" in s["state"] for s in p["status"].get("containerStatuses", [])):
                        copy = p
                time.sleep(0.3)
            if copy is None:
                proc.kill()
                self.fail("the copy never ran: %s" % proc.communicate()[1])
            self.assertNotIn("labels", copy["metadata"])
            self.assertEqual(copy["spec"]["initContainers"][0]["name"], "seccomp-tracer-install")
            fetch = "import urllib.request as u; print(u.urlopen('http://127.0.0.1:8080/').status)"
            ok = 0
            for _ in range(40):
                r = self.d.kubectl("exec", copy["metadata"]["name"], "-c", "app", "--", "python3", "-c", fetch)
                if r.stdout.strip() == "200":
                    ok += 1
                    if ok >= 3:
                        break
                time.sleep(0.5)
            self.assertGreaterEqual(ok, 3, "the traced server never answered: %s" % r.stderr)
            time.sleep(2)
            proc.send_signal(signal.SIGINT)
            out, err = proc.communicate(timeout=90)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.communicate()
        self.assertEqual(proc.returncode, 0, err)
        self.assertIn("app runs: python3 -m http.server --bind 127.0.0.1 8080 (from the pod spec", err)
        with open(profile) as f:
            prof = json.load(f)
        allowed = {n for rule in prof["syscalls"] if rule["action"] == "SCMP_ACT_ALLOW" for n in rule["names"]}
        # The server's start-up (socket, bind, listen) and its serving (accept).
        for name in ("execve", "socket", "bind", "listen"):
            self.assertIn(name, allowed)
        self.assertTrue({"accept", "accept4"} & allowed, sorted(allowed))
        self.assert_copy_gone("web")

        # The same server, started under the profile with real enforcement, starts and serves.
        port = free_port()
        name = "ksc-e2e-fromstart-%d" % os.getpid()
        run = podman.base_cmd() + ["run", "-d", "--name", name, "--network", "host", "--pull", "never",
                                   "--security-opt", "seccomp=" + profile] + podman.run_flags() + \
            [APP_IMAGE] + SERVER + [str(port)]
        try:
            subprocess.run(run, check=True, capture_output=True, timeout=60)
            body = None
            for _ in range(50):
                try:
                    body = urllib.request.urlopen("http://127.0.0.1:%d/" % port, timeout=2).read()
                    break
                except OSError:
                    time.sleep(0.2)
            logs = podman.podman("logs", name, check=False).stderr
            self.assertIsNotNone(body, "the server did not serve under its profile: %s" % logs)
            self.assertIn(b"Directory listing", body)
        finally:
            podman.podman("rm", "-f", "-t", "0", name, check=False)

        # The enforcement is real: without bind, the same server cannot start.
        for rule in prof["syscalls"]:
            if rule["action"] == "SCMP_ACT_ALLOW":
                rule["names"] = [n for n in rule["names"] if n != "bind"]
        crippled = os.path.join(self.out, "no-bind.json")
        with open(crippled, "w") as f:
            json.dump(prof, f)
        run[run.index("seccomp=" + profile)] = "seccomp=" + crippled
        run.remove("-d")
        try:
            r = subprocess.run(run, capture_output=True, text=True, timeout=60)
        finally:
            podman.remove_containers([name])
        self.assertNotEqual(r.returncode, 0, "the server ran without bind: %s" % r.stderr)
        self.assertIn("PermissionError", r.stderr)

    def test_without_a_command_in_the_spec_the_entrypoint_comes_from_the_registry(self):
        self.d.control("pods", {"apiVersion": "v1", "kind": "Pod",
                                "metadata": {"name": "fromimage", "namespace": "default"},
                                "spec": {"containers": [{"name": "app", "image": self.registry_image,
                                                         "args": ["--bind", "127.0.0.1", "8081"]}]}})
        self.d.wait_running("fromimage")
        proc, profile = self.record("--duration", "8s", "--registry-ca-file", self.registry_info["ca"],
                                    target="fromimage")
        out, err = proc.communicate(timeout=180)
        self.assertEqual(proc.returncode, 0, err)
        # Entrypoint from the image, Cmd replaced by the pod's args, as Kubernetes runs it.
        self.assertIn("app runs: python3 -m http.server --bind 127.0.0.1 8081 (from the image's config (%s)"
                      % self.registry_image, err)
        with open(profile) as f:
            allowed = {n for rule in json.load(f)["syscalls"] if rule["action"] == "SCMP_ACT_ALLOW"
                       for n in rule["names"]}
        for name in ("execve", "socket", "bind", "listen"):
            self.assertIn(name, allowed)
        self.assert_copy_gone("fromimage")

    def test_a_private_image_without_a_pull_secret_is_refused_with_the_way_out(self):
        self.registry.images.image("private/server", "1", {"Entrypoint": SERVER})
        image = "%s/private/server:1" % self.registry_info["host"]
        self.d.control("pods", {"apiVersion": "v1", "kind": "Pod",
                                "metadata": {"name": "private", "namespace": "default"},
                                "spec": {"containers": [{"name": "app", "image": image}]}})
        proc, _ = self.record("--registry-ca-file", self.registry_info["ca"], target="private")
        out, err = proc.communicate(timeout=60)
        self.assertEqual(proc.returncode, 1, err)
        self.assertIn("imagePullSecret", err)
        self.assertIn("--command", err)
        self.assertEqual(self.copies("private"), [])

    def test_a_deployment_is_recorded_from_its_pod_template(self):
        self.d.control("deployments", {
            "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "api", "namespace": "default"},
            "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "api"}},
                     "template": {"metadata": {"labels": {"app": "api"}},
                                  "spec": {"containers": [{"name": "app", "image": APP_IMAGE,
                                                           "command": SERVER + ["8082"]}]}}}})
        proc, profile = self.record("--duration", "6s", target="deploy/api")
        out, err = proc.communicate(timeout=180)
        self.assertEqual(proc.returncode, 0, err)
        self.assertIn("app runs: python3 -m http.server --bind 127.0.0.1 8082 (from the pod spec", err)
        with open(profile) as f:
            allowed = {n for rule in json.load(f)["syscalls"] if rule["action"] == "SCMP_ACT_ALLOW"
                       for n in rule["names"]}
        self.assertIn("bind", allowed)
        self.assert_copy_gone("api")

    def test_the_recording_ends_when_the_app_exits(self):
        script = "import socket, time; s = socket.socket(); s.bind(('127.0.0.1', 0)); time.sleep(4); print('bye')"
        self.d.control("pods", {"apiVersion": "v1", "kind": "Pod",
                                "metadata": {"name": "brief", "namespace": "default"},
                                "spec": {"containers": [{"name": "app", "image": APP_IMAGE,
                                                         "command": ["python3", "-c", script]}]}})
        self.d.wait_running("brief")
        started = time.time()
        proc, profile = self.record(target="brief")  # no --duration, no Ctrl-C
        out, err = proc.communicate(timeout=120)
        self.assertEqual(proc.returncode, 0, err)
        self.assertLess(time.time() - started, 90)
        if os.environ.get("KSC_E2E_SHOW"):
            print(err, file=sys.stderr)
        with open(profile) as f:
            allowed = {n for rule in json.load(f)["syscalls"] if rule["action"] == "SCMP_ACT_ALLOW"
                       for n in rule["names"]}
        # Its last syscalls too: made just before it exited.
        self.assertIn("the app exited", err)
        for name in ("bind", "clock_nanosleep", "exit_group"):
            self.assertIn(name, allowed)
        self.assert_copy_gone("brief")


if __name__ == "__main__":
    e2e.require()
    e2e.require_plugin()
    unittest.main()
