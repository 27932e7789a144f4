// The union of profiles: recordings of several replicas or test runs, a SeccompProfile and its
// base. Whatever any input lets through, the result lets through; where the inputs name one
// syscall with different actions, the more permissive wins and a warning names it.
#pragma once

#include <span>
#include <string>
#include <vector>

#include "profile.h"

namespace ksc {

// `labels[i]` names profiles[i] in warnings (a file name). The result is normalised.
Profile merge_profiles(std::span<const Profile> profiles, std::span<const std::string> labels,
                       std::vector<std::string>* warnings);

// What a plain rule (no args, no conditions) makes of a syscall: an action and, for ERRNO and
// TRACE, its errno. Used by merge and diff.
struct Verdict {
    Action action = Action::Errno;
    std::uint32_t errno_ret = 0;  // 0 unless the action takes one
    bool operator==(const Verdict&) const = default;
};
std::string verdict_text(const Verdict& v);  // "SCMP_ACT_ERRNO(ENOSYS)"
Verdict default_verdict(const Profile& profile);
Verdict rule_verdict(const SyscallRule& rule);
// Of two verdicts, the one a union keeps: the more permissive action; for one action with two
// errnos, ENOSYS (the refusal libc falls back from), else the first.
const Verdict& more_permissive(const Verdict& a, const Verdict& b);

}  // namespace ksc
