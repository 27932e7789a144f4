// The program `check` and `record --baseline` hand the tracer: the profile compiled as runc compiles
// it (profile_compile.h), refused in one line when it could not be loaded, and the tracer's flags
// that carry it (docs/check.md).
#pragma once

#include <string>
#include <vector>

#include "check_report.h"
#include "common_flags.h"
#include "profile.h"
#include "recording.h"
#include "seccomp_bpf.h"

namespace ksc::cli {

// Throws UserError naming `path`: SCMP_ACT_NOTIFY (no listener), a rule libseccomp refuses, more
// than the kernel's 4,096 instructions.
// `goarch`: the node's architecture as Go names it (its kubernetes.io/arch label); empty: this
// machine's. The program checks the architecture first, as runc's does, so it must be the node's.
bpf::Program compile_for_check(const Profile& profile, const std::string& path,
                               const std::string& goarch = "");

// The architecture of the node the pod runs on (its kubernetes.io/arch label), as Go names it;
// empty when it cannot be known (deploy/NAME is not placed; an unreadable pod or node): this
// machine's is assumed then. The copy of --from-start is scheduled anew: the same in a cluster of
// one architecture.
std::string node_goarch(const CommonFlags& common, const std::string& target);

// --check-program BASE64 --check-mode MODE (eval, complain, enforce); launch mode (complain,
// enforce) also --check-only: no recording filter, only the refused calls stop the app.
std::vector<std::string> tracer_check_args(const bpf::Program& program, const std::string& mode);

// The verdicts of an app that ended before its stream was read: the refused calls its tracer's
// termination message lists (with --check-only, only those), each judged by the program with
// zero arguments (the arguments are not known). Unnamed process, count 1 (at least once), time
// unknown (first_t -1), start-up unknown.
std::vector<CheckDenial> denials_from_syscalls(const Recording& recording, const bpf::Program& program);

}  // namespace ksc::cli
