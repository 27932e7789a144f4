#!/usr/bin/env python3
"""The container tests (CTest label `containers`): real podman + runc, real seccomp enforcement.

    container_tests.py images                 build the workload/builder images (fixture)
    container_tests.py harness                the harness itself: PID sharing, seccomp, cleanup
    container_tests.py tracer-image           build the Dockerfile; --version; a launch recording
    container_tests.py workload NAME          issue 6's flow for one workload (see workloads.py)
    container_tests.py check [NAME,...]       issue 13: check --from-start's tracer mode on each workload
    container_tests.py report                 the table of every workload's measurements

Common options: --build-dir DIR (the CMake build tree: caches and results live there),
--plugin PATH (kubectl-seccomp), --source-dir DIR. Each test exits 77 with a reason when what it
needs is missing (podman, the tracer, a verb of the plugin), never passing silently.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import podman_harness as ph  # noqa: E402
from check_flow import CheckFlow  # noqa: E402
from container_support import Failure, say, stream_events, stream_syscalls, write_json  # noqa: E402
from podman_harness import Harness, podman, skip  # noqa: E402
from recording_flows import ArgsFlow, Flow, print_table  # noqa: E402


# --- tests ------------------------------------------------------------------------------------

def test_images(args) -> int:
    ph.require_podman()
    # A new run's measurements start here: the report must not show an older run's rows.
    for old in (Path(args.build_dir) / "containers-results").glob("*.json"):
        old.unlink()
    t0 = time.monotonic()
    env = ph.build_images(Path(args.build_dir) / "containers-cache")
    for k, v in env.items():
        say(f"{k}={v}")
    say(f"images ready in {time.monotonic() - t0:.1f}s")
    return 0


def test_harness(args) -> int:
    """The harness does what the other tests rely on."""
    ph.require_podman()
    if not ph.image_exists(ph.BUSYBOX_IMAGE):
        skip(f"{ph.BUSYBOX_IMAGE} missing (test containers_images builds it)")
    bb = ph.BUSYBOX_IMAGE
    with Harness() as h:
        # A detached app, a second container in its PID namespace sees it as PID 1.
        app = h.run(bb, ["sleep", "300"], hint="app", detach=True)
        h.wait_running(app)
        seen = h.run(bb, ["cat", "/proc/1/cmdline"], pid_of=app, drop_all_caps=True,
                     caps=["SYS_PTRACE"]).stdout
        if seen.replace("\0", " ").strip() != "sleep 300":
            raise Failure(f"--pid container: did not share the PID namespace: /proc/1/cmdline={seen!r}")
        caps = h.run(bb, ["grep", "CapEff", "/proc/self/status"], drop_all_caps=True,
                     caps=["SYS_PTRACE"]).stdout.split()[-1]
        if int(caps, 16) != 1 << 19:  # CAP_SYS_PTRACE alone
            raise Failure(f"--cap-drop ALL --cap-add SYS_PTRACE gave CapEff {caps}")
        # A seccomp profile is enforced: mkdir refused with EPERM, the rest allowed. (Not a call
        # runc itself makes after installing the filter, as getppid is: runc would fail instead.)
        d = h.tempdir("prof")
        prof = write_json(d / "p.json", {"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [
            {"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1}]})
        out = h.run(bb, ["sh", "-c", "grep Seccomp: /proc/self/status; mkdir /tmp/x 2>&1; echo rc=$?"],
                    seccomp=prof).stdout
        if "Seccomp:\t2" not in out:
            raise Failure(f"--security-opt seccomp= did not install a filter: {out!r}")
        if "Operation not permitted" not in out or "rc=1" not in out:
            raise Failure(f"mkdir was not refused with EPERM under the profile: {out!r}")
        ok = h.run(bb, ["sh", "-c", "mkdir /tmp/x && echo made"]).stdout
        if ok != "made\n":
            raise Failure(f"mkdir failed without the profile: {ok!r}")
        # Removing an app also removes what joined its PID namespace (podman refuses otherwise).
        app2 = h.run(bb, ["sleep", "300"], hint="app2", detach=True)
        joined = h.run(bb, ["sleep", "300"], hint="joined", detach=True, pid_of=app2)
        if not app2.remove_checked():
            raise Failure(f"could not remove {app2.name} with {joined.name} in its PID namespace")
        names = list(h._names) + [app2.name, joined.name]
    left = podman("ps", "-a", "--format", "{{.Names}}").stdout.split()
    if set(names) & set(left):
        raise Failure(f"the harness left containers behind: {set(names) & set(left)}")
    say("harness: PID sharing, capabilities, seccomp enforcement and cleanup work")
    return 0


def test_tracer_image(args) -> int:
    """Builds the Dockerfile offline, checks the image, records a static program in it."""
    ph.require_podman()
    if not args.have_tracer:
        skip("no seccomp-tracer target in this tree yet (engineer 'tracer' lands it)")
    src = Path(args.source_dir)
    t0 = time.monotonic()
    proc = subprocess.run([str(src / "tracer-image" / "build-image")], text=True, capture_output=True,
                          timeout=1500)
    if proc.returncode != 0:
        raise Failure(f"tracer-image/build-image failed ({proc.returncode}):\n{proc.stderr[-4000:]}")
    image = proc.stdout.strip().splitlines()[-1]
    say(f"built {image} in {time.monotonic() - t0:.1f}s")
    sizes = re.findall(r"seccomp-tracer: (\d+) bytes stripped", proc.stderr)
    if sizes:
        say(f"seccomp-tracer stripped: {int(sizes[-1])} bytes")

    # The image: only the tracer (and its licence), the labels, the entrypoint.
    info = json.loads(podman("image", "inspect", image).stdout)[0]
    labels = info.get("Labels") or info.get("Config", {}).get("Labels") or {}
    version = re.search(r"project\(kubectl-seccomp VERSION ([0-9.]+)",
                        (src / "CMakeLists.txt").read_text()).group(1)
    want = {"org.opencontainers.image.version": version}
    for key in ("org.opencontainers.image.source", "org.opencontainers.image.description"):
        if not labels.get(key):
            raise Failure(f"label {key} missing: {labels}")
    for k, v in want.items():
        if labels.get(k) != v:
            raise Failure(f"label {k} is {labels.get(k)!r}, want {v!r} (project VERSION)")
    dockerfile_default = re.search(r"^ARG VERSION=(\S+)", (src / "Dockerfile").read_text(), re.M)
    if not dockerfile_default or dockerfile_default.group(1) != version:
        raise Failure(f"the Dockerfile's default VERSION differs from CMakeLists.txt's {version}")
    ep = info.get("Config", {}).get("Entrypoint")
    if ep != ["/seccomp-tracer"]:
        raise Failure(f"entrypoint is {ep}, want ['/seccomp-tracer']")
    size = int(info.get("Size", 0))
    say(f"image size {size} bytes (the Dockerfile refuses a tracer over 1.5 MiB)")
    if size > 1.6 * 1024 * 1024:
        raise Failure(f"the image is {size} bytes: more than the tracer and its licence")

    with Harness() as h:
        out = h.run(image, ["--version"], check=False)
        say(f"--version: {out.stdout.strip()} (exit {out.returncode})")
        if out.returncode != 0 or not out.stdout.strip():
            raise Failure(f"--version failed: {out.stdout}{out.stderr}")

        # Launch mode inside the image, on a static program brought in by a bind mount.
        busybox = "/bin/busybox"
        d = h.tempdir("launch")
        rec = h.run(image, ["--output", "/out/s.ndjson", "--summary-file", "/out/summary", "--",
                            "/busybox", "sh", "-c", "echo hello from busybox; ls / >/dev/null; exit 3"],
                    volumes=[f"{busybox}:/busybox:ro", f"{d}:/out"], check=False)
        if rec.returncode != 3 or rec.stdout != "hello from busybox\n":
            raise Failure(f"the traced program's output or status changed: exit {rec.returncode}, "
                          f"stdout {rec.stdout!r}, stderr {rec.stderr[-1000:]!r}")
        events = stream_events(d / "s.ndjson")
        types = {e.get("type") for e in events}
        names = stream_syscalls(events)
        for want_name in ("execve", "write", "exit_group"):
            if want_name not in names:
                raise Failure(f"launch recording misses {want_name}: {sorted(names)}")
        if "hello" not in types:
            raise Failure(f"no hello in the stream: {types}")
        say(f"launch recording of static busybox: {len(names)} syscalls, events {sorted(types)}")
        summary = (d / "summary").read_text() if (d / "summary").exists() else ""
        if summary and not summary.startswith("ksc1 "):
            raise Failure(f"summary file is not the compact form: {summary[:200]!r}")
    return 0


def test_workload(args) -> int:
    import workloads
    w = workloads.ALL.get(args.name)
    if w is None:
        say(f"unknown workload {args.name}; known: {', '.join(workloads.ALL)}")
        return 2
    return Flow(args, w).run()


def test_args(args) -> int:
    import workloads
    w = workloads.ALL.get(args.name)
    if w is None:
        say(f"unknown workload {args.name}; known: {', '.join(workloads.ALL)}")
        return 2
    return ArgsFlow(args, w).run()


def test_check(args) -> int:
    """Issue 13 item 7: every workload (or those named, comma-separated) under CheckFlow."""
    import workloads
    names = args.name.split(",") if args.name else list(workloads.ALL)
    unknown = [n for n in names if n not in workloads.ALL]
    if unknown:
        say(f"unknown workload {unknown}; known: {', '.join(workloads.ALL)}")
        return 2
    t0 = time.monotonic()
    codes = {}
    for n in names:
        try:
            codes[n] = CheckFlow(args, workloads.ALL[n]).run()
        except SystemExit as e:  # skip() of one workload (podman or its image missing)
            if e.code != 77:
                raise
            codes[n] = 77
    say(f"check: {codes} in {time.monotonic() - t0:.0f}s")
    if any(c not in (0, 77) for c in codes.values()):
        return 1
    if all(c == 77 for c in codes.values()):
        skip("every workload was skipped")
    return 0


def test_report(args) -> int:
    d = Path(args.build_dir) / "containers-results"
    rows = [json.loads(p.read_text()) for p in sorted(d.glob("*.json"))] if d.is_dir() else []
    for row in rows:  # the argument-rules column: from the args tests, when they ran
        a = d / "args" / f"{row['workload']}.json"
        if a.exists():
            row["arg_rules"] = json.loads(a.read_text()).get("arg_rules", "-")
    if not rows:
        skip("no workload results (the workload tests were skipped or not run)")
    print_table(rows)
    md = Path(args.build_dir) / "containers-report.md"
    lines = []
    for r in rows:
        if r.get("attach_only"):
            lines.append(f"- {r['workload']}: only the attach recording contributed "
                         f"{' '.join(r['attach_only'])}")
        if r.get("attach_alone"):
            lines.append(f"- {r['workload']}: under the attach profile alone the app {r['attach_alone']}")
        for f in r.get("failures", []):
            lines.append(f"- {r['workload']}: FAILED {f}")
        for p in r.get("pending", []):
            lines.append(f"- {r['workload']}: pending {p}")
    say("\n".join(lines))
    md.write_text("\n".join(lines) + "\n")
    return 0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("test", choices=["images", "harness", "tracer-image", "workload", "args", "check", "report"])
    ap.add_argument("name", nargs="?")
    ap.add_argument("--build-dir", default="build")
    ap.add_argument("--source-dir", default=str(Path(__file__).resolve().parents[2]))
    ap.add_argument("--plugin")
    ap.add_argument("--moby", default=str(Path(__file__).resolve().parents[3] / "shared" / "profiles" /
                                          "moby" / "default.json"))
    ap.add_argument("--have-tracer", type=int, default=1)
    ap.add_argument("--tracer-bin", help="this tree's static seccomp-tracer (the args tests)")
    ap.add_argument("--args-probe", help="the static argument probe (tests/containers/args_probe.c)")
    ap.add_argument("--verdicts-tool", help="ksc_verdicts: compiles a profile as check does (the check test)")
    args = ap.parse_args()
    try:
        return {"images": test_images, "harness": test_harness, "tracer-image": test_tracer_image,
                "workload": test_workload, "args": test_args, "check": test_check,
                "report": test_report}[args.test](args)
    except Failure as e:
        say(f"FAILED: {e}")
        return 1


if __name__ == "__main__":
    sys.exit(main())
