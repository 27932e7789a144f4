"""The kubelet of the double: runs each pod's containers as podman containers and reflects their
real state (waiting / running / terminated with exit code, containerID, restarts) into pod status.

A container is one `podman run` client process held by the double, with stdin, stdout and stderr as
pipes (or a pty for tty containers), so attach sessions can come and go like the kubelet's: output
goes to every attached session and to the container's log (CRI log format: one
"<RFC3339Nano> <stream> <F|P> <text>" line per line of output), which `pods/log` reads.
An ephemeral container is `podman run --pid container:<target> ...` with its securityContext
translated to podman flags (--cap-add SYS_PTRACE and the rest).
"""
import datetime
import json
import shutil
import os
import pty
import subprocess
import termios
import fcntl
import struct
import threading
import time
import uuid

from . import podman
from .store import now_rfc3339


def _now_nano():
    t = datetime.datetime.now(datetime.timezone.utc)
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + "%09dZ" % (t.microsecond * 1000)


def _rfc3339_seconds(rfc3339):
    """podman's timestamps ('2024-01-01 12:00:00.123 +0000 UTC' or RFC 3339) to RFC 3339 seconds."""
    if not rfc3339:
        return now_rfc3339()
    s = rfc3339.replace(" ", "T", 1)
    return s[:19] + "Z"


class Instance:
    """One run of one container (a restart is a new instance, as with a real runtime)."""

    def __init__(self, rt, pod_key, spec, kind, index, podman_name, log_path):
        self.rt = rt
        self.pod_key = pod_key
        self.spec = spec
        self.kind = kind  # containers | ephemeralContainers
        self.index = index
        self.podman_name = podman_name
        self.log_path = log_path
        self.term_path = log_path + ".termination"
        self.proc = None
        self.container_id = ""
        self.started_at = None
        self.finished_at = None
        self.exit_code = None
        self.tty_master = None
        self.lock = threading.Condition()
        self.sessions = []
        self.streams_open = 0
        self.done = False
        self.stdin_closed = False

    # ---- output
    def _pump(self, fd_or_file, stream):
        partial = b""
        while True:
            try:
                if isinstance(fd_or_file, int):
                    data = os.read(fd_or_file, 65536)
                else:
                    data = fd_or_file.read1(65536)
            except OSError:
                data = b""
            if not data:
                break
            partial = self._log(stream, partial + data)
            with self.lock:
                sessions = list(self.sessions)
            for s in sessions:
                s.output(stream, data)
        if partial:  # output that did not end with a newline
            self._write_log(stream, [(b"F", partial)])
        with self.lock:
            self.streams_open -= 1
            self.lock.notify_all()

    def _log(self, stream, text):
        """Logs the complete lines of text; returns the unfinished rest, kept for the next read so
        the log holds whole lines as the kubelet's does (a "P" record only for a very long line)."""
        *complete, rest = text.split(b"\n")
        records = [(b"F", line) for line in complete]
        if len(rest) > 16384:
            records.append((b"P", rest))
            rest = b""
        if records:
            self._write_log(stream, records)
        return rest

    def _write_log(self, stream, records):
        with self.lock:
            with open(self.log_path, "ab") as f:
                for tag, line in records:
                    f.write(b"%s %s %s %s\n" % (_now_nano().encode(), stream.encode(), tag, line))
            self.lock.notify_all()

    def write_stdin(self, data):
        try:
            if self.tty_master is not None:
                os.write(self.tty_master, data)
            elif self.proc and self.proc.stdin and not self.stdin_closed:
                self.proc.stdin.write(data)
                self.proc.stdin.flush()
        except (OSError, ValueError):
            pass

    def close_stdin(self):
        with self.lock:
            if self.stdin_closed:
                return
            self.stdin_closed = True
        try:
            if self.tty_master is not None:
                os.write(self.tty_master, b"\x04")
            elif self.proc and self.proc.stdin:
                self.proc.stdin.close()
        except (OSError, ValueError):
            pass

    def resize(self, width, height):
        if self.tty_master is not None:
            try:
                fcntl.ioctl(self.tty_master, termios.TIOCSWINSZ, struct.pack("HHHH", height, width, 0, 0))
            except OSError:
                pass

    def attach(self, session):
        with self.lock:
            if self.done:
                return False
            self.sessions.append(session)
            return True

    def detach(self, session):
        with self.lock:
            if session in self.sessions:
                self.sessions.remove(session)


class Runtime:
    def __init__(self, store, state_dir, instance_id, switches, seccomp_root=None,
                 container_id_scheme="containerd"):
        self.store = store
        self.state_dir = state_dir
        self.instance_id = instance_id
        self.switches = switches
        self.seccomp_root = seccomp_root or os.path.join(state_dir, "seccomp")
        self.scheme = container_id_scheme
        self.lock = threading.RLock()
        self.instances = {}  # (ns, pod, container) -> [Instance, ...]
        self.deleting = set()
        self.logs_dir = os.path.join(state_dir, "logs")
        os.makedirs(self.logs_dir, exist_ok=True)
        os.makedirs(self.seccomp_root, exist_ok=True)
        self.node_name = "apidouble-node"
        self.host_ip = "127.0.0.1"

    # ---- public
    def start_pod(self, pod):
        key = (pod["metadata"]["namespace"], pod["metadata"]["name"])
        self._set_pod_status(key)
        threading.Thread(target=self._start_pod, args=(key,), daemon=True).start()

    def start_ephemeral(self, ns, name, ec_name):
        key = (ns, name)
        threading.Thread(target=self._start_container, args=(key, "ephemeralContainers", ec_name),
                         daemon=True).start()

    def delete_pod(self, ns, name):
        key = (ns, name)
        with self.lock:
            self.deleting.add(key)
            names = [i.podman_name for (n, p, _), insts in self.instances.items() if (n, p) == key
                     for i in insts]
        podman.remove_containers(names, grace=1)
        shutil.rmtree(os.path.join(self.state_dir, "volumes", ns, name), ignore_errors=True)

    def instance(self, ns, name, container, previous=False):
        with self.lock:
            insts = self.instances.get((ns, name, container)) or []
            if previous:
                return insts[-2] if len(insts) >= 2 else None
            return insts[-1] if insts else None

    def cleanup(self):
        """Removes every container this double started; returns the names of any it could not."""
        return podman.remove_labelled("io.kubectl-seccomp.apidouble=" + self.instance_id)

    # ---- pods
    def _start_pod(self, key):
        pod = self.store.get_pod(*key)
        if pod is None:
            return
        # Init containers one after another, each to a successful exit, as the kubelet runs them.
        for c in pod["spec"].get("initContainers") or []:
            if not self._run_init_container(key, c["name"]):
                return
        for c in pod["spec"].get("containers", []):
            self._start_container(key, "containers", c["name"])

    def _run_init_container(self, key, name):
        self._start_container(key, "initContainers", name)
        inst = self.instance(key[0], key[1], name)
        if inst is None or inst.proc is None:
            return False  # waiting for its image, or a configuration error (in its status)
        with inst.lock:
            inst.lock.wait_for(lambda: inst.done or key in self.deleting)
        return inst.done and inst.exit_code == 0 and key not in self.deleting

    def volume_dir(self, key, volume):
        """The host directory of a pod's emptyDir volume (made on first use, writable by any uid)."""
        path = os.path.join(self.state_dir, "volumes", key[0], key[1], volume)
        if not os.path.isdir(path):
            os.makedirs(path, exist_ok=True)
            os.chmod(path, 0o777)  # as the kubelet makes an emptyDir
        return path

    def _container_spec(self, key, kind, name):
        pod = self.store.get_pod(*key)
        if pod is None:
            return None, None
        for c in pod["spec"].get(kind) or []:
            if c["name"] == name:
                return pod, c
        return pod, None

    def _start_container(self, key, kind, name, restart_count=0):
        pod, spec = self._container_spec(key, kind, name)
        if spec is None or key in self.deleting or self.store.closed:
            return  # a restart after the double began to stop would outlive its cleanup
        image = spec["image"]
        failing = self.switches.get("imagePullFailure") or []
        missing = not podman.image_exists(image)
        if missing or any(f == "*" or f == image for f in failing):
            self._image_pull_loop(key, kind, spec, never=(spec.get("imagePullPolicy") == "Never"))
            return
        config_error = self._config_error(pod, spec)
        if config_error:
            self._set_state(key, kind, name, {"waiting": {"reason": "CreateContainerConfigError",
                                                         "message": config_error}})
            return
        ns, pod_name = key
        with self.lock:
            n = len(self.instances.get((ns, pod_name, name), []))
            podman_name = "ksc-ad-%s-%s-%s-%s-%d" % (self.instance_id, ns, pod_name, name, n)
            log_path = os.path.join(self.logs_dir, "%s_%s_%s_%d.log" % (ns, pod_name, name, n))
            inst = Instance(self, key, spec, kind, n, podman_name, log_path)
            self.instances.setdefault((ns, pod_name, name), []).append(inst)
        open(inst.log_path, "wb").close()
        open(inst.term_path, "wb").close()
        # As the kubelet does: whatever user the container runs as may write its termination message.
        os.chmod(inst.term_path, 0o666)
        cmd = self._run_command(pod, spec, kind, inst)
        cidfile = os.path.join(self.state_dir, podman_name + ".cid")
        cmd.insert(cmd.index("run") + 1, "--cidfile=" + cidfile)
        if spec.get("tty"):
            master, slave = pty.openpty()
            inst.tty_master = master
            inst.resize(80, 24)
            # The pty must be podman's controlling terminal: a resize reaches podman (and through it
            # the container's own terminal) as SIGWINCH only then.
            inst.proc = subprocess.Popen(cmd, stdin=slave, stdout=slave, stderr=slave,
                                         start_new_session=True, close_fds=True,
                                         preexec_fn=lambda: fcntl.ioctl(0, termios.TIOCSCTTY, 0))
            os.close(slave)
            inst.streams_open = 1
            threading.Thread(target=inst._pump, args=(master, "stdout"), daemon=True).start()
        else:
            inst.proc = subprocess.Popen(cmd, stdin=subprocess.PIPE if spec.get("stdin") else subprocess.DEVNULL,
                                         stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                         start_new_session=True)
            inst.streams_open = 2
            threading.Thread(target=inst._pump, args=(inst.proc.stdout, "stdout"), daemon=True).start()
            threading.Thread(target=inst._pump, args=(inst.proc.stderr, "stderr"), daemon=True).start()
        self._wait_running(key, inst, restart_count)
        threading.Thread(target=self._wait_exit, args=(key, inst, restart_count, cidfile), daemon=True).start()

    def _config_error(self, pod, spec):
        sc = spec.get("securityContext") or {}
        psc = pod["spec"].get("securityContext") or {}
        non_root = sc.get("runAsNonRoot", psc.get("runAsNonRoot"))
        user = sc.get("runAsUser", psc.get("runAsUser"))
        if non_root and (user is None or user == 0):
            if user == 0:
                return "container's runAsUser breaks non-root policy (pod: \"%s_%s(%s)\", container: %s)" % (
                    pod["metadata"]["name"], pod["metadata"]["namespace"], pod["metadata"]["uid"], spec["name"])
            return "container has runAsNonRoot and image will run as root (pod: \"%s_%s(%s)\", container: %s)" % (
                pod["metadata"]["name"], pod["metadata"]["namespace"], pod["metadata"]["uid"], spec["name"])
        profile = (sc.get("seccompProfile") or psc.get("seccompProfile") or {})
        if profile.get("type") == "Localhost":
            path = os.path.join(self.seccomp_root, profile.get("localhostProfile", ""))
            if not os.path.isfile(path):
                return "failed to create containerd container: cannot load seccomp profile \"%s\": " \
                       "open %s: no such file or directory" % (path, path)
        return None

    def _image_pull_loop(self, key, kind, spec, never=False):
        image = spec["image"]
        if never:
            self._set_state(key, kind, spec["name"], {"waiting": {
                "reason": "ErrImageNeverPull",
                "message": 'Container image "%s" is not present with pull policy of Never' % image}})
            return
        ref = image if "/" in image.split(":")[0] else "docker.io/library/" + image
        if ":" not in ref.rsplit("/", 1)[-1] and "@" not in ref:
            ref += ":latest"
        err = {"waiting": {"reason": "ErrImagePull",
                           "message": 'rpc error: code = NotFound desc = failed to pull and unpack image '
                                      '"%s": failed to resolve reference "%s": %s: not found' % (ref, ref, ref)}}
        backoff = {"waiting": {"reason": "ImagePullBackOff",
                               "message": 'Back-off pulling image "%s"' % image}}
        # The kubelet alternates: a pull attempt fails (ErrImagePull), then it backs off.
        state, delay = err, 1.0
        while not self.store.closed and key not in self.deleting:
            if self._set_state(key, kind, spec["name"], state) is None:
                return
            time.sleep(delay)
            if state is err:
                state = backoff
            else:
                state, delay = err, min(delay * 2, 8.0)

    def _run_command(self, pod, spec, kind, inst):
        ns, pod_name = inst.pod_key
        cmd = podman.base_cmd() + ["run", "--name", inst.podman_name,
                                   "--label", "io.kubectl-seccomp.apidouble=" + self.instance_id,
                                   "--label", "io.kubernetes.pod.namespace=" + ns,
                                   "--label", "io.kubernetes.pod.name=" + pod_name,
                                   "--label", "io.kubernetes.container.name=" + spec["name"],
                                   "--pull", "never", "--log-driver", "none",
                                   "--hostname", pod_name] + podman.run_flags()
        if spec.get("stdin"):
            cmd.append("-i")
        if spec.get("tty"):
            cmd.append("-t")
        first = self._first_container(inst.pod_key)
        pspec = pod["spec"]
        if pspec.get("hostNetwork"):
            cmd += ["--network", "host"]
        elif first and first.podman_name != inst.podman_name:
            cmd += ["--network", "container:" + first.podman_name]
        if pspec.get("hostPID"):
            cmd += ["--pid", "host"]
        elif kind == "ephemeralContainers" and spec.get("targetContainerName"):
            target = self.instance(ns, pod_name, spec["targetContainerName"])
            if target:
                cmd += ["--pid", "container:" + target.podman_name]
        elif pspec.get("shareProcessNamespace") and first and first.podman_name != inst.podman_name:
            cmd += ["--pid", "container:" + first.podman_name]
        sc = spec.get("securityContext") or {}
        psc = pspec.get("securityContext") or {}
        caps = sc.get("capabilities") or {}
        for c in caps.get("drop") or []:
            cmd += ["--cap-drop", c]
        for c in caps.get("add") or []:
            cmd += ["--cap-add", c]
        if sc.get("privileged"):
            cmd.append("--privileged")
        user = sc.get("runAsUser", psc.get("runAsUser"))
        group = sc.get("runAsGroup", psc.get("runAsGroup"))
        if user is not None:
            cmd += ["--user", "%d:%d" % (user, group if group is not None else user)]
        elif group is not None:
            cmd += ["--user", "0:%d" % group]
        if sc.get("readOnlyRootFilesystem"):
            cmd.append("--read-only")
        if sc.get("allowPrivilegeEscalation") is False:
            cmd += ["--security-opt", "no-new-privileges"]
        profile = sc.get("seccompProfile") or psc.get("seccompProfile") or {}
        if profile.get("type") == "Unconfined":
            cmd += ["--security-opt", "seccomp=unconfined"]
        elif profile.get("type") == "Localhost":
            cmd += ["--security-opt", "seccomp=" + os.path.join(self.seccomp_root, profile["localhostProfile"])]
        for e in spec.get("env") or []:
            value = e.get("value", "")
            ref = ((e.get("valueFrom") or {}).get("fieldRef") or {}).get("fieldPath")
            if ref:
                value = {"metadata.name": pod_name, "metadata.namespace": ns,
                         "metadata.uid": pod["metadata"].get("uid", ""),
                         "spec.nodeName": self.node_name, "status.hostIP": self.host_ip,
                         "status.podIP": self.host_ip}.get(ref, "")
            cmd += ["-e", "%s=%s" % (e["name"], value)]
        if spec.get("workingDir"):
            cmd += ["-w", spec["workingDir"]]
        cmd += ["-v", "%s:%s" % (inst.term_path, spec.get("terminationMessagePath", "/dev/termination-log"))]
        volumes = {v.get("name"): v for v in pspec.get("volumes") or []}
        for vm in spec.get("volumeMounts") or []:
            vol = volumes.get(vm.get("name")) or {}
            if "emptyDir" in vol:  # the only volume type the double has
                cmd += ["-v", "%s:%s%s" % (self.volume_dir(inst.pod_key, vm["name"]), vm["mountPath"],
                                           ":ro" if vm.get("readOnly") else "")]
        if spec.get("command"):
            cmd += ["--entrypoint", json.dumps(spec["command"])]
        cmd.append(spec["image"])
        cmd += spec.get("args") or []
        return cmd

    def _first_container(self, key):
        pod = self.store.get_pod(*key)
        if not pod or not pod["spec"].get("containers"):
            return None
        return self.instance(key[0], key[1], pod["spec"]["containers"][0]["name"])

    def _inspect(self, name):
        r = podman.podman("inspect", "--type", "container", name, check=False, timeout=30)
        if r.returncode != 0:
            return None
        try:
            return json.loads(r.stdout)[0]
        except (ValueError, IndexError):
            return None

    def _wait_running(self, key, inst, restart_count):
        deadline = time.time() + 60
        while time.time() < deadline:
            info = self._inspect(inst.podman_name)
            state = (info or {}).get("State", {})
            if info and (state.get("Running") or state.get("Status") in ("exited", "stopped")):
                inst.container_id = info.get("Id", "")
                inst.started_at = _rfc3339_seconds(state.get("StartedAt"))
                if state.get("Running"):
                    self._set_state(key, inst.kind, inst.spec["name"],
                                    {"running": {"startedAt": inst.started_at}},
                                    inst=inst, restart_count=restart_count, image_id=info.get("Image", ""))
                return
            if inst.proc.poll() is not None and (info is None or state.get("Status") == "created"):
                return  # it never started (podman said why on its stderr)
            time.sleep(0.1)

    def _wait_exit(self, key, inst, restart_count, cidfile):
        inst.proc.wait()
        with inst.lock:
            inst.lock.wait_for(lambda: inst.streams_open <= 0, 5)
        info = self._inspect(inst.podman_name) or {}
        state = info.get("State", {})
        inst.container_id = inst.container_id or info.get("Id", "")
        inst.exit_code = state.get("ExitCode", inst.proc.returncode)
        if not info:
            inst.exit_code = 137 if inst.proc.returncode in (None, -9) else inst.proc.returncode
        inst.finished_at = _rfc3339_seconds(state.get("FinishedAt")) if state.get("FinishedAt", "").startswith("2") \
            else now_rfc3339()
        with inst.lock:
            inst.done = True
            sessions = list(inst.sessions)
            inst.lock.notify_all()
        if inst.tty_master is not None:
            try:
                os.close(inst.tty_master)
            except OSError:
                pass
        try:
            os.unlink(cidfile)
        except OSError:
            pass
        message = ""
        try:
            with open(inst.term_path, "rb") as f:
                message = f.read(4096).decode("utf-8", "replace")
        except OSError:
            pass
        if not message and inst.exit_code != 0 and \
                inst.spec.get("terminationMessagePolicy") == "FallbackToLogsOnError":
            message = "".join(read_log_lines(inst.log_path, tail=80))[-2048:]
        terminated = {"exitCode": inst.exit_code,
                      "reason": "Completed" if inst.exit_code == 0 else "Error",
                      "startedAt": inst.started_at or inst.finished_at,
                      "finishedAt": inst.finished_at,
                      "containerID": "%s://%s" % (self.scheme, inst.container_id)}
        if state.get("Status") == "created" or state.get("Error"):
            # The runtime could not start it (no such executable, ...): podman's own error line is
            # the last thing on the container's stderr. The kubelet reports exit code 128 then.
            errors = [l for l in read_log_lines(inst.log_path) if l.startswith("Error: ")]
            terminated.update(reason="StartError", exitCode=128)
            inst.exit_code = 128
            message = message or state.get("Error") or (errors[-1][len("Error: "):].strip() if errors else
                                                        "the container could not be started")
        elif inst.exit_code == 137 and state.get("OOMKilled"):
            terminated["reason"] = "OOMKilled"
        if message:
            terminated["message"] = message
        for s in sessions:
            s.finished(inst.exit_code)
        if key in self.deleting or self.store.closed:
            return
        pod = self.store.get_pod(*key)
        if pod is None:
            return
        policy = pod["spec"].get("restartPolicy", "Always")
        restart = inst.kind == "containers" and (policy == "Always" or (policy == "OnFailure" and inst.exit_code != 0))
        self._set_state(key, inst.kind, inst.spec["name"], {"terminated": terminated}, inst=inst,
                        restart_count=restart_count)
        if restart:
            delay = min(10.0, 1.0 * (2 ** restart_count))
            self._set_state(key, inst.kind, inst.spec["name"], {"waiting": {
                "reason": "CrashLoopBackOff",
                "message": "back-off %ds restarting failed container=%s pod=%s_%s(%s)" % (
                    delay, inst.spec["name"], key[1], key[0], pod["metadata"]["uid"])}},
                last_state={"terminated": terminated}, restart_count=restart_count, inst=inst)
            time.sleep(delay)
            if key in self.deleting:
                return
            self._start_container(key, inst.kind, inst.spec["name"], restart_count=restart_count + 1)

    # ---- status
    def _set_state(self, key, kind, name, state, inst=None, restart_count=None, image_id="", last_state=None):
        status_field = {"containers": "containerStatuses", "initContainers": "initContainerStatuses",
                        "ephemeralContainers": "ephemeralContainerStatuses"}[kind]

        def mutate(pod):
            spec = next((c for c in pod["spec"].get(kind) or [] if c["name"] == name), None)
            if spec is None:
                return
            statuses = pod["status"].setdefault(status_field, [])
            cur = next((s for s in statuses if s["name"] == name), None)
            if cur is None:
                cur = {"name": name, "image": spec["image"], "imageID": "", "ready": False,
                       "restartCount": 0, "started": False, "lastState": {}, "state": {}}
                statuses.append(cur)
                if kind == "containers":
                    order = [c["name"] for c in pod["spec"]["containers"]]
                    statuses.sort(key=lambda s: order.index(s["name"]) if s["name"] in order else 99)
            if last_state is not None:
                cur["lastState"] = last_state
            elif "running" in state and "terminated" in cur.get("state", {}):
                cur["lastState"] = cur["state"]
            cur["state"] = state
            if restart_count is not None:
                cur["restartCount"] = restart_count
            if inst is not None and inst.container_id:
                cur["containerID"] = "%s://%s" % (self.scheme, inst.container_id)
            if image_id:
                cur["imageID"] = "sha256:" + image_id if ":" not in image_id else image_id
            running = "running" in state
            cur["started"] = running
            if kind == "containers":
                cur["ready"] = running
            elif kind == "initContainers":
                cur["ready"] = state.get("terminated", {}).get("exitCode") == 0
            else:
                cur.pop("ready", None)
                cur.pop("started", None)
                cur["ready"] = False
            _update_phase(pod)

        return self.store.update_pod(key[0], key[1], mutate)

    def _set_pod_status(self, key):
        def mutate(pod):
            st = pod.setdefault("status", {})
            st.setdefault("phase", "Pending")
            st.setdefault("hostIP", self.host_ip)
            st.setdefault("hostIPs", [{"ip": self.host_ip}])
            st.setdefault("podIP", self.host_ip)
            st.setdefault("podIPs", [{"ip": self.host_ip}])
            st.setdefault("startTime", now_rfc3339())
            st.setdefault("qosClass", "BestEffort")
            st.setdefault("containerStatuses", [
                {"name": c["name"], "image": c["image"], "imageID": "", "ready": False, "restartCount": 0,
                 "started": False, "lastState": {}, "state": {"waiting": {"reason": "ContainerCreating"}}}
                for c in pod["spec"].get("containers", [])])
            if pod["spec"].get("initContainers"):
                st.setdefault("initContainerStatuses", [
                    {"name": c["name"], "image": c["image"], "imageID": "", "ready": False, "restartCount": 0,
                     "started": False, "lastState": {}, "state": {"waiting": {"reason": "PodInitializing"}}}
                    for c in pod["spec"]["initContainers"]])
                for cs in st["containerStatuses"]:
                    cs["state"] = {"waiting": {"reason": "PodInitializing"}}
            _update_phase(pod)
        self.store.update_pod(key[0], key[1], mutate)


def _update_phase(pod):
    st = pod["status"]
    statuses = st.get("containerStatuses", [])
    n = len(pod["spec"].get("containers", []))
    running = [s for s in statuses if "running" in s.get("state", {})]
    terminated = [s for s in statuses if "terminated" in s.get("state", {})]
    policy = pod["spec"].get("restartPolicy", "Always")
    inits = st.get("initContainerStatuses") or []
    initialized = all(s.get("state", {}).get("terminated", {}).get("exitCode") == 0 for s in inits)
    init_failed = any(s.get("state", {}).get("terminated", {}).get("exitCode", 0) != 0 for s in inits)
    if init_failed and policy == "Never":
        st["phase"] = "Failed"
    elif len(terminated) == n and n and policy != "Always" and \
            all(policy == "Never" or s["state"]["terminated"]["exitCode"] == 0 for s in terminated):
        st["phase"] = "Succeeded" if all(s["state"]["terminated"]["exitCode"] == 0 for s in terminated) else "Failed"
    elif running or (statuses and any(s.get("restartCount", 0) > 0 or s.get("lastState") for s in statuses)):
        st["phase"] = "Running"
    else:
        st["phase"] = st.get("phase", "Pending") if st.get("phase") in ("Running",) else "Pending"
    ready = n > 0 and len(running) == n
    ts = now_rfc3339()

    def cond(ctype, value):
        conds = st.setdefault("conditions", [])
        c = next((c for c in conds if c["type"] == ctype), None)
        v = "True" if value else "False"
        if c is None:
            conds.append({"type": ctype, "status": v, "lastProbeTime": None, "lastTransitionTime": ts})
        elif c["status"] != v:
            c["status"], c["lastTransitionTime"] = v, ts
    cond("PodReadyToStartContainers", True)
    cond("Initialized", initialized)
    cond("Ready", ready)
    cond("ContainersReady", ready)
    cond("PodScheduled", True)


def read_log_lines(path, tail=None, timestamps=False, since=None):
    """The container log as text lines (with their newline), from the CRI log format; since is an
    RFC 3339 time (lines at or after it)."""
    out = []
    try:
        with open(path, "rb") as f:
            pending = b""
            for raw in f:
                parsed = parse_log_line(raw)
                if parsed is None:
                    continue
                ts, _stream, tag, text = parsed
                if tag == "P":
                    pending += text
                    continue
                line = pending + text + b"\n"
                pending = b""
                if since and ts.decode()[:19] < since[:19]:
                    continue
                out.append(((ts + b" ") if timestamps else b"") + line)
    except OSError:
        return []
    if tail is not None:
        out = out[-tail:] if tail > 0 else []
    return [l.decode("utf-8", "replace") for l in out]


def parse_log_line(raw):
    parts = raw.rstrip(b"\n").split(b" ", 3)
    if len(parts) < 3:
        return None
    if len(parts) == 3:
        parts.append(b"")
    return parts[0], parts[1], parts[2].decode(), parts[3]


def new_instance_id():
    return uuid.uuid4().hex[:6]

