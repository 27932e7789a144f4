// What changed between two profiles, as the kernel would see it: per architecture, each syscall
// whose action changed (a syscall named in neither gets each profile's default), the argument
// and condition rules, the default action, the architectures and the other settings.
//
// Changes are classed by what they let through: "added" when NEW lets a syscall through further
// than OLD (an ERRNO became ALLOW, or LOG), "removed" when less, "changed" when neither (another
// errno, another kind of kill). `diff --fail-on added` fails a CI job only when a new release
// needs more than the last.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "profile.h"
#include "profile_merge.h"

namespace ksc {

enum class ChangeKind { Added, Removed, Changed };

struct SyscallChange {
    std::string name;
    ChangeKind kind = ChangeKind::Changed;
    Verdict old_verdict;
    Verdict new_verdict;
    bool operator==(const SyscallChange&) const = default;
};

struct ArchDiff {
    std::vector<std::string> arches;  // identical changes on several arches are reported once
    std::vector<SyscallChange> changes;
};

// A rule with arguments or conditions, as one line: "socket: SCMP_ACT_ALLOW if arg0 < 38".
struct RuleChange {
    bool added = false;  // else removed
    std::string text;
};

struct ProfileDiff {
    Verdict old_default;
    Verdict new_default;
    std::vector<std::string> arches_added;
    std::vector<std::string> arches_removed;
    std::vector<ArchDiff> arches;
    std::vector<RuleChange> rules;
    std::vector<std::string> settings;  // "flags: [..] -> [..]", listener changes

    bool same() const;
    // Whether NEW lets anything through further than OLD (or less), anywhere.
    bool lets_more_through() const;
    bool lets_less_through() const;
};

ProfileDiff diff_profiles(const Profile& old_profile, const Profile& new_profile);

// A conditional rule as one line.
std::string rule_text(const SyscallRule& rule, const std::string& name);

}  // namespace ksc
