// A profile compiled with libseccomp as runc translates the OCI seccomp JSON: the default action
// and its errno (EPERM when none is given), every architecture the profile lists added beside the
// node's own, one rule per name (names libseccomp does not know skipped, as runc does; rules whose
// action is the default skipped, as runc does), conditions ANDed in one rule, or one rule per
// condition when an argument index repeats (runc's OR), libseccomp's binary tree past 32 names
// (runc 1.2 and later), and runc's -ENOSYS stub in front (enosys_stub.h). The result is the BPF
// program the kernel would get: the kernel refuses one of more than kMaxFilterInstructions.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "arch.h"
#include "profile.h"
#include "profile_eval.h"
#include "result.h"
#include "seccomp_bpf.h"

namespace ksc {

// BPF_MAXINSNS: the kernel refuses a seccomp filter longer than this.
inline constexpr std::size_t kMaxFilterInstructions = bpf::kMaxInstructions;

struct CompiledProfile {
    std::size_t instructions = 0;      // program.size()
    std::vector<std::string> skipped;  // "name: why" for what runc would skip too
    bpf::Program program;              // the ENOSYS stub, then libseccomp's filter
    std::size_t stub_instructions = 0;
};

// Compiled for a node of architecture `node` (libseccomp's native architecture is replaced by
// it; syscall names are resolved on this machine's). Docker conditions (includes/excludes) are
// not evaluated here. Errors name the rule libseccomp refused and why.
Result<CompiledProfile> compile_profile(const Profile& profile, Arch node = native_arch());

// The program runc would load for this profile on a node described by `node` (default: this
// machine's architecture, Docker's default capabilities, a new kernel): Docker conditions
// evaluated for it, then compiled as above and validated. Refused in one line: SCMP_ACT_NOTIFY
// (no listener), and a program of more than 4,096 instructions (the kernel would refuse it).
Result<bpf::Program> compile_program(const Profile& profile, const std::optional<DockerContext>& node = {});

}  // namespace ksc
