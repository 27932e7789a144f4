// A profile compiled with libseccomp as runc translates the OCI seccomp JSON (libcontainer/
// seccomp/patchbpf aside): the default action and its errno, every architecture the profile lists
// added beside the native one, one rule per name (names libseccomp does not know skipped, as runc
// does; rules whose action is the default skipped, as runc does), conditions ANDed in one rule, or
// one rule per condition when an argument index repeats (runc's OR). The result is the BPF program
// the kernel would get: the kernel refuses one of more than kMaxFilterInstructions.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "profile.h"
#include "result.h"

namespace ksc {

// BPF_MAXINSNS: the kernel refuses a seccomp filter longer than this.
inline constexpr std::size_t kMaxFilterInstructions = 4096;

struct CompiledProfile {
    std::size_t instructions = 0;
    std::vector<std::string> skipped;  // "name: why" for what runc would skip too
};

// Errors name the rule libseccomp refused and why.
Result<CompiledProfile> compile_profile(const Profile& profile);

}  // namespace ksc
