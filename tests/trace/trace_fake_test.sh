#!/bin/sh
# `kubectl seccomp trace`'s side of the pipe, against fake-tracer (no ptrace needed): the stream is
# read, the command keeps its stdin/stdout, exit statuses pass through, failures are 125, and
# Ctrl-C twice leaves with 130. Usage: trace_fake_test.sh PATH/TO/kubectl-seccomp
set -u
KSC=$1
HERE=$(cd "$(dirname "$0")" && pwd)
FAKE=$HERE/fake-tracer
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
pass() { echo "ok: $*"; }

# The command's stdout stays its own; the profile follows it on stdout; exit 0.
"$KSC" trace --tracer "$FAKE" -- echo from-the-command >"$TMP/out" 2>"$TMP/err"
rc=$?
[ $rc -eq 0 ] || fail "echo: exit $rc, want 0"
head -n1 "$TMP/out" | grep -qx from-the-command || fail "echo: the command's output is not first on stdout"
grep -q '"defaultAction"' "$TMP/out" || fail "echo: no profile on stdout"
grep -q 'a warning from the fake tracer' "$TMP/err" || fail "echo: the tracer's warning is not on stderr"
[ $failures -eq 0 ] && pass "profile on stdout after the command's own output"

# The command's stdin is the user's.
out=$(echo piped-in | "$KSC" trace --tracer "$FAKE" --output-file "$TMP/p.json" -- cat 2>/dev/null)
[ "$out" = piped-in ] && pass "stdin reaches the command" || fail "stdin: got '$out'"
grep -q '"defaultAction"' "$TMP/p.json" && pass "--output-file gets the profile" || fail "--output-file is empty"

"$KSC" trace --tracer "$FAKE" -- sh -c 'exit 3' >/dev/null 2>&1
rc=$?; [ $rc -eq 3 ] && pass "the command's exit status 3 is ours" || fail "exit 3: got $rc"

"$KSC" trace --tracer "$FAKE" -- /nonexistent >"$TMP/out" 2>"$TMP/err"
rc=$?; [ $rc -eq 127 ] && pass "a command not found is 127" || fail "/nonexistent: got $rc"
[ -s "$TMP/out" ] && fail "/nonexistent: a profile was written for a command that never ran"

FAKE_TRACER_MODE=badproto "$KSC" trace --tracer "$FAKE" -- true >/dev/null 2>"$TMP/err"
rc=$?; [ $rc -eq 125 ] && grep -q 'same release' "$TMP/err" && pass "another protocol major is refused (125)" ||
  fail "badproto: got $rc: $(cat "$TMP/err")"

FAKE_TRACER_MODE=silent "$KSC" trace --tracer "$FAKE" -- true >/dev/null 2>"$TMP/err"
rc=$?; [ $rc -eq 125 ] && grep -q 'without writing its stream' "$TMP/err" && pass "a tracer with no stream is 125" ||
  fail "silent: got $rc: $(cat "$TMP/err")"

FAKE_TRACER_MODE=nosummary "$KSC" trace --tracer "$FAKE" -- true >"$TMP/out" 2>"$TMP/err"
rc=$?; [ $rc -eq 125 ] && grep -q 'final summary' "$TMP/err" && grep -q defaultAction "$TMP/out" &&
  pass "a cut stream still gives the profile, and 125" || fail "nosummary: got $rc: $(cat "$TMP/err")"

"$KSC" trace --tracer "$TMP/missing" -- true >/dev/null 2>"$TMP/err"
rc=$?; [ $rc -eq 125 ] && grep -q -- '--tracer' "$TMP/err" && pass "a missing tracer is 125" || fail "missing: got $rc"

"$KSC" trace --tracer "$FAKE" 2>/dev/null; rc=$?
[ $rc -eq 125 ] && pass "no command is 125" || fail "no command: got $rc"

# One Ctrl-C: we wait for the command (the tracer is still recording it); two: 130 at once.
"$KSC" trace --tracer "$FAKE" -- sh -c 'sleep 1; exit 4' >/dev/null 2>&1 &
pid=$!
sleep 0.5; kill -INT $pid
wait $pid; rc=$?
[ $rc -eq 4 ] && pass "one SIGINT waits for the command" || fail "one SIGINT: got $rc, want 4"

"$KSC" trace --tracer "$FAKE" -- sleep 5 >/dev/null 2>&1 &
pid=$!
sleep 0.5; kill -INT $pid; sleep 0.2; kill -INT $pid
start=$(date +%s)
wait $pid; rc=$?
[ $rc -eq 130 ] && [ $(( $(date +%s) - start )) -lt 3 ] && pass "two SIGINTs leave at once with 130" ||
  fail "two SIGINTs: got $rc"

[ $failures -eq 0 ] || { echo "$failures failed"; exit 1; }
