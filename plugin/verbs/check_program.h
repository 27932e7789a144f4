// The program `check` and `record --baseline` hand the tracer: the profile compiled as runc compiles
// it (profile_compile.h), refused in one line when it could not be loaded, and the tracer's flags
// that carry it (docs/check.md).
#pragma once

#include <string>
#include <vector>

#include "profile.h"
#include "seccomp_bpf.h"

namespace ksc::cli {

// Throws UserError naming `path`: SCMP_ACT_NOTIFY (no listener), a rule libseccomp refuses, more
// than the kernel's 4,096 instructions.
bpf::Program compile_for_check(const Profile& profile, const std::string& path);

// --check-program BASE64 --check-mode MODE (eval, complain, enforce).
std::vector<std::string> tracer_check_args(const bpf::Program& program, const std::string& mode);

}  // namespace ksc::cli
