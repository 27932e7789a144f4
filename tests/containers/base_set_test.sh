#!/bin/bash
# The runtime base set is enough, and needed: a container whose program makes one syscall
# (exit_group) starts under real seccomp enforcement by RUNTIME (runc or crun) with the profile
# `convert --base RUNTIME` makes from a recording of just that syscall, and does not start with
# `--base none`.
#   tests/containers/base_set_test.sh path/to/kubectl-seccomp [runc|crun]
# Exit 77 (skipped) when podman cannot run containers here, or crun is not installed.
set -euo pipefail
plugin=${1:?usage: base_set_test.sh KUBECTL_SECCOMP [runc|crun]}
runtime=${2:-runc}
here=$(cd "$(dirname "$0")" && pwd)
python3 "$here/podman_harness.py" check || exit $?
if [ "$runtime" = crun ] && ! command -v crun >/dev/null; then
  echo "SKIP: crun is not installed (apt-get install crun)"; exit 77
fi
export KSC_PODMAN_RUNTIME=$runtime
echo "runtime: $($runtime --version | head -n 1)"

work=$(mktemp -d)
image=localhost/kubectl-seccomp/exit-only:base-set-test
trap 'rm -rf "$work"; podman --runtime runc --cgroup-manager=cgroupfs rmi -f "$image" >/dev/null 2>&1 || true' EXIT

# A program that makes exactly one syscall: exit_group(0).
cat >"$work/exit.S" <<'ASM'
.globl _start
_start:
    mov $231, %eax
    xor %edi, %edi
    syscall
ASM
gcc -nostdlib -static -o "$work/exit" "$work/exit.S"
printf 'FROM scratch\nCOPY exit /exit\nENTRYPOINT ["/exit"]\n' >"$work/Containerfile"
"$here/ksc-podman" build -q -t "$image" "$work" >/dev/null

# What the tracer would have recorded of it in launch mode (execve, then exit_group).
cat >"$work/rec.ndjson" <<'NDJSON'
{"type":"hello","protocol":"1.0","tracer":"test","kernel":"","arch":"SCMP_ARCH_X86_64","mode":"launch","method":"seccomp","pid":1}
{"type":"syscall","t":0,"arch":"SCMP_ARCH_X86_64","nr":59,"name":"execve","pid":2,"comm":"exit"}
{"type":"syscall","t":0,"arch":"SCMP_ARCH_X86_64","nr":231,"name":"exit_group","pid":2,"comm":"exit"}
NDJSON
"$plugin" convert "$work/rec.ndjson" --base "$runtime" --output-file "$work/base.json"
"$plugin" convert "$work/rec.ndjson" --base none --output-file "$work/none.json"
# The same with argument rules: the base set's table syscalls (prctl, fcntl, ...) then allow only
# the values the runtime was measured to pass after installing the filter (src/base_sets.cpp).
"$plugin" convert "$work/rec.ndjson" --base "$runtime" --args curated --output-file "$work/args.json"

echo "with the $runtime base set:"
"$here/ksc-podman" run --rm --security-opt seccomp="$work/base.json" "$image"
echo "  started and exited 0"
echo "with the $runtime base set's argument rules (--args curated):"
"$here/ksc-podman" run --rm --security-opt seccomp="$work/args.json" "$image"
echo "  started and exited 0"
echo "without it:"
if "$here/ksc-podman" run --rm --security-opt seccomp="$work/none.json" "$image" 2>"$work/err"; then
  echo "  FAIL: the container started with only its own syscalls: the base set test proves nothing" >&2
  exit 1
fi
echo "  refused, as expected: $(tail -n 1 "$work/err")"
