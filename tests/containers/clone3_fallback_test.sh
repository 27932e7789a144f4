#!/bin/bash
# A profile we write keeps glibc's clone3 -> clone fallback working: a threaded program recorded
# while clone3 was refused with ENOSYS (as RuntimeDefault does) runs under the profile `convert`
# makes, under real enforcement; the same profile refusing clone3 with the default EPERM breaks
# pthread_create, which is why the rule matters.
#   tests/containers/clone3_fallback_test.sh path/to/kubectl-seccomp
# Exit 77 (skipped) when podman cannot run containers here.
set -euo pipefail
plugin=${1:?usage: clone3_fallback_test.sh KUBECTL_SECCOMP}
here=$(cd "$(dirname "$0")" && pwd)
python3 "$here/podman_harness.py" check || exit $?
command -v strace >/dev/null || { echo "strace not installed"; exit 77; }

work=$(mktemp -d)
image=localhost/kubectl-seccomp/clone3-fallback:test
trap 'rm -rf "$work"; podman --runtime runc --cgroup-manager=cgroupfs rmi -f "$image" >/dev/null 2>&1 || true' EXIT

cat >"$work/thread.c" <<'C'
#include <pthread.h>
#include <stdio.h>
#include <string.h>
static void* run(void* arg) { return arg; }
int main(void) {
    pthread_t t;
    int err = pthread_create(&t, NULL, run, NULL);
    if (err != 0) { printf("pthread_create failed: %s\n", strerror(err)); return 1; }
    pthread_join(t, NULL);
    printf("thread ok\n");
    return 0;
}
C
gcc -O2 -static -pthread -o "$work/thread" "$work/thread.c"
printf 'FROM scratch\nCOPY thread /thread\nENTRYPOINT ["/thread"]\n' >"$work/Containerfile"
"$here/ksc-podman" build -q -t "$image" "$work" >/dev/null

# What the program calls (strace), as a recording in which clone3 was refused with ENOSYS.
strace -f -qq -o "$work/trace" "$work/thread" >/dev/null
python3 - "$work/trace" >"$work/rec.ndjson" <<'PY'
import json, re, sys
nrs = {}
for line in open('/usr/include/x86_64-linux-gnu/asm/unistd_64.h'):
    m = re.match(r'#define __NR_(\w+) (\d+)', line)
    if m: nrs[m.group(1)] = int(m.group(2))
names = set()
for line in open(sys.argv[1]):
    m = re.match(r'\d+\s+(\w+)\(', line)
    if m and m.group(1) in nrs: names.add(m.group(1))
# Recorded under a clone3 refusal, the tracer sees clone3 fail and then glibc's fallback, clone.
names.add('clone3')
names.add('clone')
print(json.dumps({"type": "hello", "protocol": "1.0", "tracer": "test", "kernel": "", "arch": "SCMP_ARCH_X86_64",
                  "mode": "launch", "method": "ptrace", "pid": 1}))
calls = []
for n in sorted(names):
    print(json.dumps({"type": "syscall", "t": 0, "arch": "SCMP_ARCH_X86_64", "nr": nrs[n], "name": n, "pid": 2, "comm": "thread"}))
    calls.append({"arch": "SCMP_ARCH_X86_64", "nr": nrs[n], "name": n, "count": 1,
                  "errors": {"ENOSYS": 1} if n == "clone3" else {}})
print(json.dumps({"type": "summary", "t": 1, "final": True, "returns_seen": True, "threads_seen": 2,
                  "processes_seen": 1, "syscalls": calls, "lost": []}))
PY
"$plugin" convert "$work/rec.ndjson" --base runc --output-file "$work/profile.json"
python3 - "$work/profile.json" <<'PY'
import json, sys
p = json.load(open(sys.argv[1]))
rules = [r for r in p["syscalls"] if "clone3" in r["names"]]
assert rules and rules[0]["action"] == "SCMP_ACT_ERRNO" and rules[0].get("errnoRet") == 38, rules
PY
echo "profile refuses clone3 with ENOSYS"
out=$("$here/ksc-podman" run --rm --security-opt seccomp="$work/profile.json" "$image")
[ "$out" = "thread ok" ] || { echo "FAIL: under the written profile: $out" >&2; exit 1; }
echo "  the program's thread started (glibc fell back to clone)"

# The same profile with clone3 left to the default EPERM: glibc does not fall back.
python3 - "$work/profile.json" "$work/eperm.json" <<'PY'
import json, sys
p = json.load(open(sys.argv[1]))
for r in p["syscalls"]:
    r["names"] = [n for n in r["names"] if n != "clone3"]
p["syscalls"] = [r for r in p["syscalls"] if r["names"]]
json.dump(p, open(sys.argv[2], "w"))
PY
if out=$("$here/ksc-podman" run --rm --security-opt seccomp="$work/eperm.json" "$image" 2>&1); then
  echo "FAIL: pthread_create worked with clone3 refused by EPERM: the test proves nothing ($out)" >&2
  exit 1
fi
echo "  with EPERM instead: $out"
