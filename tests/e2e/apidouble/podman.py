"""How this machine runs podman, and the local test image.

A thin adapter with the same idea as the container tests' shared harness (tests/containers/): when
tests/containers/podman_harness.py exists it is used; until then the same flags live here.
"""
import os
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
_CONTAINERS_DIR = os.path.normpath(os.path.join(HERE, "..", "..", "containers"))

# No registry is reachable: every image the tests use is built here from a static busybox.
BUSYBOX_IMAGE = "localhost/ksc-e2e-busybox:2"
BUSYBOX_APPLETS = ["sh", "cat", "echo", "sleep", "ps", "ls", "id", "grep", "head", "tail", "wc",
                   "true", "false", "kill", "env", "printf", "sed", "seq", "date", "mkdir", "rm",
                   "touch", "test", "[", "stty", "tr", "uname"]

_harness = None
if os.path.exists(os.path.join(_CONTAINERS_DIR, "podman_harness.py")):
    sys.path.insert(0, _CONTAINERS_DIR)
    try:
        import podman_harness as _harness  # noqa: E402
    except Exception:  # a harness that does not import yet must not break the double
        _harness = None
    finally:
        sys.path.remove(_CONTAINERS_DIR)


def base_cmd():
    """The podman command prefix with this machine's global flags."""
    if _harness is not None and hasattr(_harness, "PODMAN"):
        return list(_harness.PODMAN)
    return ["podman", "--runtime", "runc", "--cgroup-manager=cgroupfs"]


def run_flags():
    """Flags every `podman run` needs here."""
    if _harness is not None and hasattr(_harness, "RUN_LIMITS"):
        return list(_harness.RUN_LIMITS)
    return ["--ulimit", "nofile=1024:1024", "--ulimit", "nproc=1000:1000"]


def podman(*args, check=True, capture=True, timeout=120):
    return subprocess.run(base_cmd() + list(args), check=check, timeout=timeout,
                          stdout=subprocess.PIPE if capture else None,
                          stderr=subprocess.PIPE if capture else None, text=True)


def remove_containers(names, grace=0):
    """Removes containers (names or ids) by force, with the containers that share a namespace of
    one of them (`--network container:`, `--pid container:`): without --depend podman refuses to
    remove a pod's first container while the others use its namespaces, and leaves it running."""
    if names:
        podman("rm", "-f", "-t", str(grace), "--depend", *names, check=False)


def remove_labelled(label):
    """Removes every container with this label (KEY=VALUE) and returns the names of those that are
    still there after a second attempt (podman busy with other tests, say): empty when all went."""
    left = []
    for _ in range(2):
        r = podman("ps", "-a", "--format", "{{.Names}}", "--filter", "label=" + label, check=False)
        left = r.stdout.split()
        if not left:
            return []
        remove_containers(left)
    r = podman("ps", "-a", "--format", "{{.Names}}", "--filter", "label=" + label, check=False)
    return r.stdout.split()


def usable():
    """(True, "") when podman can run a container here, else (False, why)."""
    if _harness is not None and hasattr(_harness, "usable"):
        ok, why = _harness.usable()
        if not ok:
            return False, why
    if shutil.which("podman") is None:
        return False, "podman is not installed"
    try:
        ensure_busybox_image()
        r = podman("run", "--rm", *run_flags(), BUSYBOX_IMAGE, "true", check=False, timeout=60)
    except (subprocess.SubprocessError, OSError) as e:
        return False, "podman does not work here: %s" % e
    if r.returncode != 0:
        return False, "podman cannot run a container here: %s" % r.stderr.strip()[-300:]
    return True, ""


def image_exists(image):
    return podman("image", "exists", image, check=False, timeout=30).returncode == 0


def ensure_busybox_image():
    """Builds BUSYBOX_IMAGE from the host's static busybox unless it exists."""
    if image_exists(BUSYBOX_IMAGE):
        return BUSYBOX_IMAGE
    busybox = shutil.which("busybox")
    if busybox is None:
        raise OSError("busybox is not installed (apt-get install busybox-static)")
    with tempfile.TemporaryDirectory() as root:
        os.makedirs(os.path.join(root, "bin"))
        for d in ("proc", "sys", "dev", "etc", "tmp"):
            os.makedirs(os.path.join(root, d))
        shutil.copy(busybox, os.path.join(root, "bin", "busybox"))
        for applet in BUSYBOX_APPLETS:
            os.symlink("busybox", os.path.join(root, "bin", applet))
        with open(os.path.join(root, "etc", "passwd"), "w") as f:
            f.write("root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/sh\n")
        tar = os.path.join(root, "..", os.path.basename(root) + ".tar")
        subprocess.run(["tar", "-C", root, "-cf", tar, "."], check=True)
        try:
            podman("import", "--change", 'CMD ["/bin/sh"]', "--change", "ENV PATH=/bin",
                   tar, BUSYBOX_IMAGE)
        finally:
            os.unlink(tar)
    return BUSYBOX_IMAGE
