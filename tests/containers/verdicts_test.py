#!/usr/bin/env python3
"""Our compiled programs against runc's enforcement (issue 13, item 1).

For each profile of verdicts.json (every action, every comparison operator, OR'ed and AND'ed
conditions, the ENOSYS stub), the static verdict_probe runs in a busybox container under
`--security-opt seccomp=PROFILE` (podman + runc) and makes every call of the list in a forked child;
ksc_verdicts (compile_program + bpf::run, the code `kubectl seccomp check` uses) gives our verdict for
each call. They must agree call for call:

    ALLOW, LOG            the call's result without seccomp (the probe run unconfined)
    ERRNO n               errno n (n = 0: success)
    TRACE, NOTIFY         errno ENOSYS (no tracer, no listener)
    TRAP, KILL_*          the child dies of SIGSYS

    verdicts_test.py --tool build/tests/containers/ksc_verdicts --probe build/tests/containers/ksc_verdict_probe

Exits 77 with the reason when podman or runc is missing, or the machine is not x86_64.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import secrets
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from podman_harness import Harness, build_images, require_podman, skip  # noqa: E402

HERE = Path(__file__).resolve().parent
SIGSYS = 31
ENOSYS = 38

KNOWN_ACTIONS = {0x00000000: "KILL_THREAD", 0x80000000: "KILL_PROCESS", 0x00030000: "TRAP",
                 0x00050000: "ERRNO", 0x7fc00000: "NOTIFY", 0x7ff00000: "TRACE", 0x7ffc0000: "LOG",
                 0x7fff0000: "ALLOW"}


def expected(verdict: int, unconfined: str) -> str:
    """The probe's line that our verdict predicts, given the call's line without seccomp."""
    action = KNOWN_ACTIONS.get(verdict & 0xFFFF0000, "KILL_PROCESS")  # the kernel kills for unknown ones
    if action in ("ALLOW", "LOG"):
        return unconfined
    if action == "ERRNO":
        err = min(verdict & 0xFFFF, 4095)
        return "ok" if err == 0 else f"errno {err}"
    if action in ("TRACE", "NOTIFY"):
        return f"errno {ENOSYS}"
    return f"signal {SIGSYS}"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--tool", required=True, help="ksc_verdicts (tests/containers/verdicts_tool.cpp)")
    ap.add_argument("--probe", required=True, help="the static verdict probe (tests/containers/verdict_probe.c)")
    ap.add_argument("--data", default=str(HERE / "verdicts.json"))
    args = ap.parse_args()
    if platform.machine() != "x86_64":
        skip(f"the calls of verdicts.json are x86_64's; this machine is {platform.machine()}")
    require_podman()
    started = time.monotonic()
    data = json.loads(Path(args.data).read_text())
    numbers = data["numbers"]
    calls = [",".join(str(v) for v in [numbers[name], *a]) for name in sorted(numbers) for a in data["args"]]
    # i386 calls (int 0x80): another architecture's numbers, listed by some profiles only. Kernels
    # from 6.7 can switch IA32 emulation off (int 0x80 then raises SIGSEGV); KSC_TEST_NO_IA32=1
    # pretends so.
    ia32 = os.environ.get("KSC_TEST_NO_IA32") != "1" and subprocess.run(
        [args.probe, "x86:20"], capture_output=True, text=True, timeout=30).stdout.strip() == "ok"
    if not ia32:
        print("no IA32 emulation here (or KSC_TEST_NO_IA32=1): x86_64 calls only", flush=True)
    else:
        calls += [f"x86:{data['numbers_x86'][name]}," + ",".join(str(v) for v in a)
                  for name in sorted(data["numbers_x86"]) for a in data["args"]]
    probe = Path(args.probe).resolve()
    images = build_images()
    image = images.get("KSC_BUSYBOX_IMAGE", "localhost/kubectl-seccomp/busybox:latest")
    failures = 0
    with Harness(prefix=f"ksc-verdicts-{os.getpid()}-{secrets.token_hex(3)}") as h:
        work = h.tempdir("verdicts")

        def probe_run(seccomp: str, refused: bool = False) -> list[str]:
            proc = h.run(image, ["/ksc-probe", *calls], hint="probe", seccomp=seccomp, check=False,
                         volumes=[f"{probe}:/ksc-probe:ro"], timeout=120)
            lines = proc.stdout.splitlines()
            if refused:  # we refused to compile it: runc must refuse to start the container
                return [] if proc.returncode != 0 and not lines else lines
            if proc.returncode != 0 or len(lines) != len(calls):
                raise RuntimeError(f"the probe under {seccomp} exited {proc.returncode} after {len(lines)} of "
                                   f"{len(calls)} calls: {(proc.stdout + proc.stderr)[-1500:]}")
            return lines

        baseline = probe_run("unconfined")
        for name, spec in data["profiles"].items():
            profile = {k: v for k, v in spec.items() if k != "comment"}
            # runc before 1.2 gives the ENOSYS stub only the listed architectures; 1.2 and we add the
            # node's own. Listed, the two agree (docs/profiles.md).
            profile.setdefault("architectures", ["SCMP_ARCH_X86_64"])
            profile["syscalls"] = list(spec["syscalls"]) + [{"names": data["base"], "action": "SCMP_ACT_ALLOW"}]
            path = work / f"{name}.json"
            path.write_text(json.dumps(profile, indent=1))
            ours = subprocess.run([args.tool, str(path), *calls], text=True, capture_output=True, timeout=60)
            if ours.returncode != 0:
                if probe_run(str(path), refused=True):
                    print(f"FAILED: {name}: we refuse it ({ours.stderr.strip()}), runc ran it", flush=True)
                    failures += 1
                else:
                    print(f"{name}: refused by both: {ours.stderr.strip()}", flush=True)
                continue
            verdicts = [int(v, 16) for v in ours.stdout.split()]
            real = probe_run(str(path))
            wrong = 0
            for call, verdict, unconfined, got in zip(calls, verdicts, baseline, real):
                want = expected(verdict, unconfined)
                if want != got:
                    wrong += 1
                    if wrong <= 10:
                        print(f"  {name}: call {call}: our verdict 0x{verdict:08x} says '{want}', runc gave '{got}'")
            kinds = sorted({expected(v, u) for v, u in zip(verdicts, baseline)})
            print(f"{name}: {len(calls)} calls, {len(calls) - wrong} agree ({', '.join(kinds)})", flush=True)
            failures += wrong != 0
    print(f"verdicts: {len(data['profiles'])} profiles x {len(calls)} calls in {time.monotonic() - started:.0f}s, "
          f"{failures} profile(s) disagree", flush=True)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
