// Argument rules: how the argument table (syscall_args.h) turns recorded values into profile rules
// and how such rules read back (merge, diff, explain). One value, one rule, as runc and crun apply
// them: several rules for one syscall are ORed; the conditions of one rule (socket's family and
// netlink protocol) are ANDed. Every condition is SCMP_CMP_MASKED_EQ on the low 32 bits (or on the
// spec's flag mask): seccomp compares the whole register, the kernel reads an int.
#pragma once

#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "profile.h"
#include "syscall_args.h"

namespace ksc {

// The SeccompProfile annotation that says which --args mode wrote a recorded profile (OCI JSON has no
// place for it: `diff` tells the modes apart by the rules themselves).
inline constexpr std::string_view kArgsAnnotation = "kubectl-seccomp.io/args";

std::string_view args_mode_name(ArgsMode mode);  // "curated", "none"
std::optional<ArgsMode> args_mode_from_name(std::string_view name);

// The rules (action `action`) that allow `name` with exactly these values.
std::vector<SyscallRule> argument_rules(std::string_view name, const ArgSpec& spec,
                                        const std::set<ArgValue>& values, Action action = Action::Allow);

// The value a rule allows, when it is one argument_rules() wrote for `spec` (one name, our
// conditions and nothing else); nullopt for any other rule.
std::optional<ArgValue> argument_rule_value(const ArgSpec& spec, const SyscallRule& rule);

// For one profile: per syscall name with argument rules that argument_rule_value() reads, the
// values and the action; `whole` names the syscalls that also have or only have a plain rule.
struct ArgumentView {
    std::map<std::string, std::set<ArgValue>> values;  // name -> values of its argument rules
    std::map<std::string, Action> action;              // name -> the argument rules' action
};
ArgumentView argument_view(const Profile& profile);

// What newly allowed values mean, for `diff`: "+AF_NETLINK/NETLINK_AUDIT" per value, and for
// namespace flags not allowed before, "may now create user namespaces".
std::vector<std::string> describe_added_values(const ArgSpec& spec, const std::set<ArgValue>& before,
                                               const std::set<ArgValue>& added);

}  // namespace ksc
