#include "profile_limits.h"

#include <fmt/core.h>

#include <map>
#include <utility>

namespace ksc {
namespace {

// Two entries conflict when they name one syscall under the same argument conditions (none
// included) and answer differently: which one the kernel applies would depend on rule order.
struct EntryKey {
    std::string name;
    std::vector<ArgRule> args;
    auto operator<=>(const EntryKey&) const = default;
};

std::string verdict_of(const SyscallRule& rule) {
    std::string v(action_name(rule.action));
    if (rule.errno_ret) v += fmt::format("({})", *rule.errno_ret);
    return v;
}

}  // namespace

Status check_runtime_limits(const Profile& profile) {
    if (profile.default_action == Action::Notify)
        return make_error(
            "no SCMP_ACT_NOTIFY: the defaultAction is SCMP_ACT_NOTIFY, which needs a listener the "
            "runtimes do not accept from an artifact; use SCMP_ACT_ERRNO or SCMP_ACT_LOG");
    if (!profile.listener_path.empty() || !profile.listener_metadata.empty())
        return make_error(
            "no listener fields: the profile sets listenerPath or listenerMetadata, which the "
            "runtimes refuse in an artifact; remove them");
    if (profile.default_errno_ret && !action_takes_errno(profile.default_action))
        return make_error(fmt::format(
            "errnoRet only on errno or trace actions: defaultErrnoRet is set with defaultAction {}; "
            "remove it",
            action_name(profile.default_action)));
    std::map<std::string, std::pair<std::size_t, std::size_t>> per_syscall;  // entries, clauses
    std::map<EntryKey, const SyscallRule*> seen;
    std::size_t total_clauses = 0;
    for (std::size_t i = 0; i < profile.syscalls.size(); ++i) {
        const SyscallRule& rule = profile.syscalls[i];
        const std::string first = rule.names.empty() ? "(no name)" : rule.names.front();
        if (rule.action == Action::Notify)
            return make_error(fmt::format(
                "no SCMP_ACT_NOTIFY: syscalls[{}] ({}) uses SCMP_ACT_NOTIFY, which needs a listener "
                "the runtimes do not accept from an artifact; use SCMP_ACT_ERRNO or SCMP_ACT_LOG",
                i, first));
        if (rule.errno_ret && !action_takes_errno(rule.action))
            return make_error(fmt::format(
                "errnoRet only on errno or trace actions: syscalls[{}] ({}) has errnoRet with {}; "
                "remove it",
                i, first, action_name(rule.action)));
        const std::size_t clauses = rule.args.empty() ? 1 : rule.args.size();
        for (const auto& name : rule.names) {
            auto& [entries, name_clauses] = per_syscall[name];
            ++entries;
            name_clauses += clauses;
            total_clauses += clauses;
            if (entries > kMaxEntriesPerSyscall)
                return make_error(
                    fmt::format("at most {} entries per syscall: {} is named by more rules than that; merge "
                                "its rules",
                                kMaxEntriesPerSyscall, name));
            if (name_clauses > kMaxClausesPerSyscall)
                return make_error(
                    fmt::format("at most {} clauses per syscall: the rules for {} have more argument "
                                "conditions than that; simplify them",
                                kMaxClausesPerSyscall, name));
            if (total_clauses > kMaxClausesPerProfile)
                return make_error(
                    fmt::format("at most {} clauses per profile: the profile has more; split or "
                                "simplify it",
                                kMaxClausesPerProfile));
            EntryKey key{name, rule.args};
            auto [it, inserted] = seen.emplace(std::move(key), &rule);
            if (!inserted && (it->second->action != rule.action || it->second->errno_ret != rule.errno_ret))
                return make_error(fmt::format(
                    "no conflicting entries: {} is {} in one rule and {} in syscalls[{}] under the "
                    "same conditions; keep one",
                    name, verdict_of(*it->second), verdict_of(rule), i));
        }
    }
    return Ok{};
}

}  // namespace ksc
