// The plugin's exit codes, as docs/design.md and the README list them. Scripts rely on these.
#pragma once

namespace ksc {

enum ExitStatus : int {
    kExitSuccess = 0,
    kExitFailure = 1,        // any verb's error (diff: the profiles differ)
    kExitDiffError = 2,      // diff: could not compare; check: could not check
    kExitTraceFailed = 125,  // trace: our own failure, like env(1)
    kExitCannotRun = 126,    // trace: the command was found but cannot be run
    kExitNotFound = 127,     // trace: the command was not found
    kExitInterrupted = 130,  // a second Ctrl-C aborted
};

}  // namespace ksc
