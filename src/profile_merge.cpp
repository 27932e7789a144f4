#include "profile_merge.h"

#include <fmt/core.h>

#include <algorithm>
#include <map>
#include <optional>

#include "errno_names.h"

namespace ksc {
namespace {

constexpr std::uint32_t kENOSYS = 38;

bool is_plain(const SyscallRule& r) {
    return r.args.empty() && r.includes.empty() && r.excludes.empty();
}

template <class T>
void append_unique(std::vector<T>& to, const std::vector<T>& from) {
    for (const auto& x : from)
        if (std::find(to.begin(), to.end(), x) == to.end()) to.push_back(x);
}

}  // namespace

const Verdict& more_permissive(const Verdict& a, const Verdict& b) {
    if (permissiveness(a.action) != permissiveness(b.action))
        return permissiveness(a.action) > permissiveness(b.action) ? a : b;
    if (a.errno_ret != b.errno_ret && b.errno_ret == kENOSYS) return b;
    return a;
}

std::string verdict_text(const Verdict& v) {
    if (!action_takes_errno(v.action)) return std::string(action_name(v.action));
    auto name = errno_name(static_cast<int>(v.errno_ret));
    return fmt::format("{}({})", action_name(v.action),
                       name ? std::string(*name) : std::to_string(v.errno_ret));
}

Verdict default_verdict(const Profile& p) {
    Verdict v{p.default_action, 0};
    if (action_takes_errno(p.default_action)) v.errno_ret = p.default_errno_ret.value_or(kDefaultErrno);
    return v;
}

Verdict rule_verdict(const SyscallRule& r) {
    Verdict v{r.action, 0};
    if (action_takes_errno(r.action)) v.errno_ret = r.errno_ret.value_or(kDefaultErrno);
    return v;
}

namespace {

// What the merge's steps share: the profiles, their names in warnings, and where warnings go.
struct Merge {
    std::span<const Profile> profiles;
    std::span<const std::string> labels;
    std::vector<std::string>* warnings;

    std::string label(std::size_t i) const {
        return i < labels.size() ? labels[i] : fmt::format("profile {}", i + 1);
    }
    void warn(std::string w) const {
        if (warnings) warnings->push_back(std::move(w));
    }
};

// The most permissive default action, with a warning for each profile that differs.
Verdict merged_default(const Merge& m) {
    Verdict def = default_verdict(m.profiles[0]);
    for (std::size_t i = 1; i < m.profiles.size(); ++i) {
        Verdict d = default_verdict(m.profiles[i]);
        if (d == def) continue;
        Verdict kept = more_permissive(def, d);
        m.warn(fmt::format("default action: {} in {}, {} in {}: kept {}", verdict_text(def), m.label(0),
                           verdict_text(d), m.label(i), verdict_text(kept)));
        def = kept;
    }
    return def;
}

// Each name's plain verdict: the most permissive over the profiles, a profile that does not name
// it counting with its default; a warning where two profiles name it with different verdicts.
std::map<std::string, Verdict> merged_plain_verdicts(const Merge& m) {
    // Each profile's explicit plain verdict per name (within one profile, the most permissive).
    std::vector<std::map<std::string, Verdict>> explicit_verdicts(m.profiles.size());
    std::map<std::string, std::size_t> first_mention;
    for (std::size_t i = 0; i < m.profiles.size(); ++i) {
        for (const auto& r : m.profiles[i].syscalls) {
            if (!is_plain(r)) continue;
            for (const auto& name : r.names) {
                auto [it, fresh] = explicit_verdicts[i].try_emplace(name, rule_verdict(r));
                if (!fresh) it->second = more_permissive(it->second, rule_verdict(r));
                first_mention.try_emplace(name, i);
            }
        }
    }
    std::map<std::string, Verdict> merged;
    for (const auto& [name, first] : first_mention) {
        std::optional<Verdict> v;
        std::optional<std::pair<Verdict, std::size_t>> first_explicit;
        for (std::size_t i = 0; i < m.profiles.size(); ++i) {
            auto it = explicit_verdicts[i].find(name);
            Verdict here = it != explicit_verdicts[i].end() ? it->second : default_verdict(m.profiles[i]);
            v = v ? more_permissive(*v, here) : here;
            if (it == explicit_verdicts[i].end()) continue;
            if (!first_explicit) {
                first_explicit = {here, i};
            } else if (!(first_explicit->first == here)) {
                Verdict kept = more_permissive(first_explicit->first, here);
                m.warn(fmt::format("{}: {} in {}, {} in {}: kept {}", name,
                                   verdict_text(first_explicit->first), m.label(first_explicit->second),
                                   verdict_text(here), m.label(i), verdict_text(kept)));
            }
        }
        merged[name] = *v;
    }
    return merged;
}

// Architectures and flags (unions), and the seccomp agent listener (the first one given).
void merge_lists_and_listener(const Merge& m, Profile& out) {
    for (const auto& p : m.profiles) {
        append_unique(out.architectures, p.architectures);
        append_unique(out.arch_map, p.arch_map);
        append_unique(out.flags, p.flags);
    }
    for (std::size_t i = 0; i < m.profiles.size(); ++i) {
        const auto& p = m.profiles[i];
        for (auto [field, value] : {std::pair{&out.listener_path, &p.listener_path},
                                    std::pair{&out.listener_metadata, &p.listener_metadata}}) {
            if (value->empty() || *field == *value) continue;
            if (field->empty())
                *field = *value;
            else
                m.warn(fmt::format("{} has another seccomp agent listener (\"{}\"): kept \"{}\"", m.label(i),
                                   *value, *field));
        }
    }
}

// A syscall that keeps argument rules gets no whole-syscall rule of another action beside them
// (libseccomp refuses some such pairs, and they contradict each other): the argument rules
// stay, the other values get the default action.
void drop_plain_beside_arg_rules(const Merge& m, const Verdict& def, std::map<std::string, Verdict>& merged) {
    for (const auto& p : m.profiles)
        for (const auto& r : p.syscalls) {
            if (r.args.empty() || !r.includes.empty() || !r.excludes.empty()) continue;
            for (const auto& name : r.names) {
                auto it = merged.find(name);
                if (it == merged.end() || it->second == def ||
                    permissiveness(it->second.action) >= permissiveness(r.action))
                    continue;
                m.warn(fmt::format(
                    "{}: argument rules ({}) and a whole-syscall {}: kept the argument rules, the "
                    "other values get the default action",
                    name, action_name(r.action), verdict_text(it->second)));
                it->second = def;
            }
        }
}

// The plain rules (one per name whose verdict is not the default), then the conditional ones.
void add_rules(const Merge& m, const Verdict& def, const std::map<std::string, Verdict>& merged,
               Profile& out) {
    for (const auto& [name, v] : merged) {
        if (v == def) continue;
        SyscallRule r;
        r.names = {name};
        r.action = v.action;
        if (action_takes_errno(v.action)) r.errno_ret = v.errno_ret;
        out.syscalls.push_back(std::move(r));
    }
    // Conditional rules (args, includes/excludes) are kept as they are, once each, unless the
    // union already lets their syscalls through unconditionally at least as far.
    std::vector<SyscallRule> conditional;
    for (const auto& p : m.profiles)
        for (const auto& r : p.syscalls) {
            if (is_plain(r)) continue;
            SyscallRule c = r;
            std::erase_if(c.names, [&](const std::string& name) {
                auto it = merged.find(name);
                Verdict plain = it != merged.end() ? it->second : def;
                return permissiveness(plain.action) >= permissiveness(r.action) &&
                       permissiveness(r.action) > permissiveness(def.action);
            });
            if (c.names.empty()) continue;
            if (std::find(conditional.begin(), conditional.end(), c) == conditional.end())
                conditional.push_back(c);
        }
    for (auto& c : conditional) out.syscalls.push_back(std::move(c));
}

}  // namespace

Profile merge_profiles(std::span<const Profile> profiles, std::span<const std::string> labels,
                       std::vector<std::string>* warnings) {
    Profile out;
    if (profiles.empty()) return out;
    Merge m{profiles, labels, warnings};
    Verdict def = merged_default(m);
    out.default_action = def.action;
    if (action_takes_errno(def.action)) out.default_errno_ret = def.errno_ret;
    std::map<std::string, Verdict> merged = merged_plain_verdicts(m);
    merge_lists_and_listener(m, out);
    drop_plain_beside_arg_rules(m, def, merged);
    add_rules(m, def, merged, out);
    normalise(out);
    return out;
}

}  // namespace ksc
