#include "profile_diff.h"

#include <fmt/core.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <iterator>
#include <map>
#include <set>

#include "profile_args.h"
#include "syscall_table.h"

namespace ksc {
namespace {

bool is_plain(const SyscallRule& r) {
    return r.args.empty() && r.includes.empty() && r.excludes.empty();
}

std::map<std::string, Verdict> plain_verdicts(const Profile& p) {
    std::map<std::string, Verdict> out;
    for (const auto& r : p.syscalls) {
        if (!is_plain(r)) continue;
        for (const auto& n : r.names) {
            auto [it, fresh] = out.try_emplace(n, rule_verdict(r));
            if (!fresh) it->second = more_permissive(it->second, rule_verdict(r));
        }
    }
    return out;
}

// A profile with no architectures gets the machine's own from the runtime.
std::vector<std::string> arches_of(const Profile& p) {
    if (!p.architectures.empty()) return p.architectures;
    return {std::string(arch_name(native_arch()))};
}

std::string op_text(ArgOp op) {
    switch (op) {
        case ArgOp::NotEqual:
            return "!=";
        case ArgOp::LessThan:
            return "<";
        case ArgOp::LessEqual:
            return "<=";
        case ArgOp::EqualTo:
            return "==";
        case ArgOp::GreaterEqual:
            return ">=";
        case ArgOp::GreaterThan:
            return ">";
        case ArgOp::MaskedEqual:
            return "&";
    }
    return "?";
}

std::string filter_text(const Filter& f) {
    std::vector<std::string> parts;
    if (!f.caps.empty()) parts.push_back(fmt::format("caps {}", fmt::join(f.caps, "+")));
    if (!f.arches.empty()) parts.push_back(fmt::format("arches {}", fmt::join(f.arches, "|")));
    if (!f.min_kernel.empty()) parts.push_back(fmt::format("kernel >= {}", f.min_kernel));
    return fmt::format("{}", fmt::join(parts, ", "));
}

ChangeKind classify(const Verdict& o, const Verdict& n) {
    if (permissiveness(n.action) > permissiveness(o.action)) return ChangeKind::Added;
    if (permissiveness(n.action) < permissiveness(o.action)) return ChangeKind::Removed;
    return ChangeKind::Changed;
}

}  // namespace

std::string rule_text(const SyscallRule& r, const std::string& name) {
    std::string s = fmt::format("{}: {}", name, verdict_text(rule_verdict(r)));
    std::vector<std::string> conds;
    for (const auto& a : r.args) {
        if (a.op == ArgOp::MaskedEqual)
            conds.push_back(fmt::format("arg{} & {:#x} == {:#x}", a.index, a.value, a.value_two));
        else
            conds.push_back(fmt::format("arg{} {} {}", a.index, op_text(a.op), a.value));
    }
    if (!conds.empty()) s += fmt::format(" if {}", fmt::join(conds, " and "));
    if (!r.includes.empty()) s += fmt::format(" when {}", filter_text(r.includes));
    if (!r.excludes.empty()) s += fmt::format(" unless {}", filter_text(r.excludes));
    return s;
}

bool ProfileDiff::same() const {
    return old_default == new_default && arches_added.empty() && arches_removed.empty() && arches.empty() &&
           rules.empty() && settings.empty();
}

bool ProfileDiff::lets_more_through() const {
    if (permissiveness(new_default.action) > permissiveness(old_default.action)) return true;
    if (!arches_added.empty()) return true;
    for (const auto& a : arches)
        for (const auto& c : a.changes)
            if (c.kind == ChangeKind::Added) return true;
    for (const auto& r : rules)
        if (r.added) return true;
    return false;
}

bool ProfileDiff::lets_less_through() const {
    if (permissiveness(new_default.action) < permissiveness(old_default.action)) return true;
    if (!arches_removed.empty()) return true;
    for (const auto& a : arches)
        for (const auto& c : a.changes)
            if (c.kind == ChangeKind::Removed) return true;
    for (const auto& r : rules)
        if (!r.added) return true;
    return false;
}

namespace {

// The conditional rules: argument values of our argument rules (profile_args.h) told apart
// value by value, and every other rule as its text, added or removed.
void diff_rules(ProfileDiff& d, const Profile& o, const Profile& n, const ArgumentView& oargs,
                const ArgumentView& nargs, const std::map<std::string, Verdict>& ov,
                const std::map<std::string, Verdict>& nv) {
    auto ours = [](const SyscallRule& r) {
        const ArgSpec* spec = r.names.size() == 1 ? arg_spec_any(r.names[0]) : nullptr;
        return spec && argument_rule_value(*spec, r);
    };
    std::set<std::string> orules, nrules;
    for (const auto& r : o.syscalls)
        if (!is_plain(r) && !ours(r))
            for (const auto& name : r.names) orules.insert(rule_text(r, name));
    for (const auto& r : n.syscalls)
        if (!is_plain(r) && !ours(r))
            for (const auto& name : r.names) nrules.insert(rule_text(r, name));
    std::set<std::string> arg_names;
    for (const auto& [k, v] : oargs.values) arg_names.insert(k);
    for (const auto& [k, v] : nargs.values) arg_names.insert(k);
    for (const auto& name : arg_names) {
        const ArgSpec& spec = *arg_spec_any(name);
        auto values_text = [&](const std::set<ArgValue>& vs) {
            std::vector<std::string> t;
            for (auto v : vs) t.push_back(arg_value_name(spec, v));
            return fmt::format("{}", fmt::join(t, ", "));
        };
        auto whole = [&](const std::map<std::string, Verdict>& plain) {
            auto it = plain.find(name);
            return it != plain.end() &&
                   (it->second.action == Action::Allow || it->second.action == Action::Log);
        };
        auto oi = oargs.values.find(name);
        auto ni = nargs.values.find(name);
        if (oi != oargs.values.end() && ni != nargs.values.end()) {
            std::set<ArgValue> added, removed;
            std::set_difference(ni->second.begin(), ni->second.end(), oi->second.begin(), oi->second.end(),
                                std::inserter(added, added.end()));
            std::set_difference(oi->second.begin(), oi->second.end(), ni->second.begin(), ni->second.end(),
                                std::inserter(removed, removed.end()));
            for (const auto& t : describe_added_values(spec, oi->second, added))
                d.rules.push_back({true, name + ": " + t});
            for (auto v : removed) d.rules.push_back({false, name + ": -" + arg_value_name(spec, v)});
        } else if (ni != nargs.values.end()) {
            if (whole(ov))
                d.rules.push_back(
                    {false, fmt::format("{}: now only {} (was any value)", name, values_text(ni->second))});
            else
                for (const auto& t : describe_added_values(spec, {}, ni->second))
                    d.rules.push_back({true, name + ": " + t});
        } else {
            if (whole(nv))
                d.rules.push_back(
                    {true, fmt::format("{}: any value now (was only {})", name, values_text(oi->second))});
            else
                d.rules.push_back(
                    {false, fmt::format("{}: refused now (was {})", name, values_text(oi->second))});
        }
    }
    for (const auto& t : orules)
        if (!nrules.contains(t)) d.rules.push_back({false, t});
    for (const auto& t : nrules)
        if (!orules.contains(t)) d.rules.push_back({true, t});
}

// The settings beside the rules: flags and the seccomp agent listener.
void diff_settings(ProfileDiff& d, const Profile& o, const Profile& n) {
    if (o.flags != n.flags)
        d.settings.push_back(
            fmt::format("flags: [{}] -> [{}]", fmt::join(o.flags, ", "), fmt::join(n.flags, ", ")));
    if (o.listener_path != n.listener_path)
        d.settings.push_back(fmt::format("listenerPath: \"{}\" -> \"{}\"", o.listener_path, n.listener_path));
    if (o.listener_metadata != n.listener_metadata)
        d.settings.push_back(
            fmt::format("listenerMetadata: \"{}\" -> \"{}\"", o.listener_metadata, n.listener_metadata));
}

}  // namespace

ProfileDiff diff_profiles(const Profile& o, const Profile& n) {
    ProfileDiff d;
    d.old_default = default_verdict(o);
    d.new_default = default_verdict(n);
    auto oa = arches_of(o), na = arches_of(n);
    for (const auto& a : na)
        if (std::find(oa.begin(), oa.end(), a) == oa.end()) d.arches_added.push_back(a);
    for (const auto& a : oa)
        if (std::find(na.begin(), na.end(), a) == na.end()) d.arches_removed.push_back(a);

    auto ov = plain_verdicts(o), nv = plain_verdicts(n);
    // Syscalls with argument rules of ours (profile_args.h) in either profile are told apart by
    // their values below, not as whole-syscall changes.
    ArgumentView oargs = argument_view(o), nargs = argument_view(n);
    auto has_args = [&](const std::string& name) {
        return oargs.values.contains(name) || nargs.values.contains(name);
    };
    std::set<std::string> names;
    for (const auto& [k, v] : ov)
        if (!has_args(k)) names.insert(k);
    for (const auto& [k, v] : nv)
        if (!has_args(k)) names.insert(k);
    // Per architecture either profile applies to; a name that is no syscall there is no change.
    std::vector<std::string> all = oa;
    for (const auto& a : na)
        if (std::find(all.begin(), all.end(), a) == all.end()) all.push_back(a);
    for (const auto& arch : all) {
        auto known = arch_from_name(arch);
        bool have_table = known && !syscalls(*known).empty();
        std::vector<SyscallChange> changes;
        for (const auto& name : names) {
            if (have_table && !find_syscall(*known, name)) continue;
            auto oi = ov.find(name);
            auto ni = nv.find(name);
            Verdict ve = oi != ov.end() ? oi->second : d.old_default;
            Verdict vn = ni != nv.end() ? ni->second : d.new_default;
            if (ve == vn) continue;
            changes.push_back({name, classify(ve, vn), ve, vn});
        }
        std::stable_sort(changes.begin(), changes.end(), [](const SyscallChange& a, const SyscallChange& b) {
            return std::pair(static_cast<int>(a.kind), a.name) < std::pair(static_cast<int>(b.kind), b.name);
        });
        if (changes.empty()) continue;
        auto same = std::find_if(d.arches.begin(), d.arches.end(),
                                 [&](const ArchDiff& ad) { return ad.changes == changes; });
        if (same != d.arches.end())
            same->arches.push_back(arch);
        else
            d.arches.push_back({{arch}, std::move(changes)});
    }

    diff_rules(d, o, n, oargs, nargs, ov, nv);
    diff_settings(d, o, n);
    return d;
}

}  // namespace ksc
