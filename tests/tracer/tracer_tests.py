#!/usr/bin/env python3
"""seccomp-tracer on real processes.

Each test case runs one small program of progs/ untraced and then under the tracer in one mode
(launch: the seccomp-filter method; nofilter: launch mode with --no-filter; attach: --pid), and
checks two things: the exact syscalls recorded (the programs make rare "marker" syscalls only in
the behaviour under test, so their presence and counts prove it was seen), and that the program
behaved exactly as untraced (its stdout, exit status, signals).

The programs and this driver talk over the program's stdin/stdout (progs/tt.h): "ready PID", "go",
..., "done", "exit", so the driver, not sleeps, decides when things happen.

Usage: tracer_tests.py --list | tracer_tests.py [Class.test_mode ...]
Environment: KSC_TRACER (the seccomp-tracer binary), KSC_TEST_PROGS (the built programs),
KSC_HAVE_M32 (1 when the 32-bit program was built), KSC_TEST_NO_IA32 (1: behave as on a kernel
with IA32 emulation off, whatever this one can do, so that the skips are exercised everywhere).
Exit status 77 when every selected case skipped (CTest SKIP_RETURN_CODE).
"""

import sys
import unittest

# The cases, by name (Class.test_mode), in this module's namespace: the shared part is tracer_harness.py.
from tracer_cases_processes import *  # noqa: F401,F403
from tracer_cases_signals import *  # noqa: F401,F403
from tracer_cases_modes import *  # noqa: F401,F403
from tracer_cases_check import *  # noqa: F401,F403


def all_cases(suite):
    for t in suite:
        if isinstance(t, unittest.TestSuite):
            yield from all_cases(t)
        else:
            yield t


def main(argv):
    module = sys.modules[__name__]
    loader = unittest.TestLoader()
    if argv[1:] == ["--list"]:
        for t in all_cases(loader.loadTestsFromModule(module)):
            print(t.id().split(".", 1)[1])
        return 0
    suite = loader.loadTestsFromNames(argv[1:], module) if argv[1:] else loader.loadTestsFromModule(module)
    result = unittest.TextTestRunner(verbosity=2, stream=sys.stdout).run(suite)
    if result.failures or result.errors:
        return 1
    if result.skipped and len(result.skipped) == result.testsRun:
        return 77
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
