#!/bin/sh
# `kubectl seccomp trace` with the real seccomp-tracer: the profile of `ls -l /usr` allows execve
# (not `ls -l /`: /tmp's time in it changes while the other tests run beside this one), and exit
# statuses pass through as env(1) has them.
# Usage: trace_real_test.sh PATH/TO/kubectl-seccomp PATH/TO/seccomp-tracer
set -u
KSC=$1
TRACER=$2
[ -x "$TRACER" ] || { echo "SKIP: no seccomp-tracer at $TRACER"; exit 77; }
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
pass() { echo "ok: $*"; }

for mode in "" --no-filter; do
  "$KSC" trace --tracer "$TRACER" $mode --output-file "$TMP/ls.json" -- ls -l /usr >"$TMP/ls.out" 2>"$TMP/err"
  rc=$?
  [ $rc -eq 0 ] || fail "ls $mode: exit $rc: $(cat "$TMP/err")"
  grep -q '"execve"' "$TMP/ls.json" && pass "ls $mode: the profile allows execve" ||
    fail "ls $mode: no execve in $(cat "$TMP/ls.json")"
  # /proc's link count follows the number of processes: leave it out of the comparison.
  ls -l /usr 2>&1 | grep -v ' proc$' >"$TMP/ls.expected"
  grep -v ' proc$' "$TMP/ls.out" | cmp -s - "$TMP/ls.expected" && pass "ls $mode: its output is unchanged" || fail "ls $mode: output differs"

  "$KSC" trace --tracer "$TRACER" $mode -- sh -c 'exit 3' >/dev/null 2>"$TMP/err"
  rc=$?; [ $rc -eq 3 ] && pass "sh -c 'exit 3' $mode: 3" || fail "exit 3 $mode: got $rc: $(cat "$TMP/err")"

  "$KSC" trace --tracer "$TRACER" $mode -- /nonexistent >/dev/null 2>"$TMP/err"
  rc=$?; [ $rc -eq 127 ] && pass "/nonexistent $mode: 127" || fail "/nonexistent $mode: got $rc: $(cat "$TMP/err")"
done

# Found next to kubectl-seccomp when --tracer is not given (the release archive's layout).
if [ "$(dirname "$KSC")" = "$(dirname "$TRACER")" ]; then
  "$KSC" trace -- true >"$TMP/true.json" 2>"$TMP/err" && grep -q '"execve"' "$TMP/true.json" &&
    pass "the tracer next to kubectl-seccomp is found" || fail "no --tracer: $(cat "$TMP/err")"
fi

[ $failures -eq 0 ] || { echo "$failures failed"; exit 1; }
