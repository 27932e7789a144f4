#!/bin/sh
# An exception that escapes a verb, std::bad_alloc included, is one "error:" line and the verb's
# error code, never an abort: `explain` of a 7 MB profile under a 60 MB address-space limit.
#   tests/out_of_memory.sh build/bin/kubectl-seccomp
set -eu
plugin=$1
command -v prlimit >/dev/null || { echo "SKIP: prlimit (util-linux) is not installed"; exit 77; }
# AddressSanitizer reserves terabytes of address space: no address-space limit can apply there.
if ldd "$plugin" 2>/dev/null | grep -q 'libasan'; then echo "SKIP: built with AddressSanitizer"; exit 77; fi
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
python3 - "$dir/big.json" <<'PY'
import json, sys
rule = {"names": ["read", "write", "openat"] * 20, "action": "SCMP_ACT_ALLOW"}
json.dump({"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [rule] * 12000}, open(sys.argv[1], "w"))
PY
status=0
prlimit --as=60000000 "$plugin" explain "$dir/big.json" >/dev/null 2>"$dir/err" || status=$?
cat "$dir/err"
[ "$status" -eq 1 ] || { echo "FAIL: exit $status, expected 1"; exit 1; }
[ "$(wc -l <"$dir/err")" -eq 1 ] || { echo "FAIL: more than one line on stderr"; exit 1; }
grep -q '^error: out of memory' "$dir/err" || { echo "FAIL: not the out-of-memory line"; exit 1; }
echo "ok"
