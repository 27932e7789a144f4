// What the runtimes' security-profiles merger (CRI-O applies it to a profile pulled as an OCI
// artifact) refuses, checked before `kubectl seccomp push` so that a profile that would be refused
// on the node is refused here, in one line naming the rule. The caps bound the BPF program the
// merger builds from a profile it did not write.
#pragma once

#include <cstddef>
#include <string>

#include "profile.h"
#include "result.h"

namespace ksc {

inline constexpr std::size_t kMaxEntriesPerSyscall = 128;    // rules naming one syscall
inline constexpr std::size_t kMaxClausesPerSyscall = 256;    // argument conditions over those rules
inline constexpr std::size_t kMaxClausesPerProfile = 16384;  // over every syscall of the profile
// The operator warns above this size, without refusing: runtimes may be configured lower.
inline constexpr std::size_t kProfileWarnBytes = 1 << 20;

// Ok, or the first rule the profile breaks: "RULE: what, where; what to do". A rule without
// argument conditions counts as one clause for each syscall it names.
Status check_runtime_limits(const Profile& profile);

}  // namespace ksc
