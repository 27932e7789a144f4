#include "profile_args.h"

namespace ksc {
namespace {

constexpr std::uint64_t kLow32 = 0xffffffff;

ArgRule masked(std::uint32_t index, std::uint64_t mask, std::uint64_t value) {
    ArgRule a;
    a.index = index;
    a.op = ArgOp::MaskedEqual;
    a.value = mask;  // OCI's SCMP_CMP_MASKED_EQ: `value` is the mask, `valueTwo` the result
    a.value_two = value;
    return a;
}

std::string_view namespace_kind(std::uint32_t bit) {
    switch (bit) {
        case 0x80:
            return "time";
        case 0x20000:
            return "mount";
        case 0x2000000:
            return "cgroup";
        case 0x4000000:
            return "UTS";
        case 0x8000000:
            return "IPC";
        case 0x10000000:
            return "user";
        case 0x20000000:
            return "PID";
        case 0x40000000:
            return "network";
    }
    return "other";
}

}  // namespace

std::string_view args_mode_name(ArgsMode mode) {
    return mode == ArgsMode::Curated ? "curated" : "none";
}

std::optional<ArgsMode> args_mode_from_name(std::string_view name) {
    if (name == "curated") return ArgsMode::Curated;
    if (name == "none") return ArgsMode::None;
    return std::nullopt;
}

std::vector<SyscallRule> argument_rules(std::string_view name, const ArgSpec& spec,
                                        const std::set<ArgValue>& values, Action action) {
    std::vector<SyscallRule> rules;
    for (ArgValue v : values) {
        SyscallRule r;
        r.names = {std::string(name)};
        r.action = action;
        r.args.push_back(masked(spec.index, spec.kind == ArgKind::Flags ? spec.mask : kLow32, arg_first(v)));
        if (arg_has_second(spec, v)) r.args.push_back(masked(spec.also_index, kLow32, arg_second(v)));
        rules.push_back(std::move(r));
    }
    return rules;
}

std::optional<ArgValue> argument_rule_value(const ArgSpec& spec, const SyscallRule& rule) {
    if (rule.names.size() != 1 || rule.names[0] != spec.syscall || rule.args.empty() ||
        rule.args.size() > 2 || !rule.includes.empty() || !rule.excludes.empty())
        return std::nullopt;
    const ArgRule& a = rule.args[0];
    std::uint64_t mask = spec.kind == ArgKind::Flags ? spec.mask : kLow32;
    // Only our own form: SCMP_CMP_EQ compares the whole register, which is another rule (a
    // hand-written `arg0 == 1` does not match 0x100000001), and diff shows it as written.
    if (a.index != spec.index || a.op != ArgOp::MaskedEqual || a.value != mask || a.value_two > kLow32)
        return std::nullopt;
    ArgValue v = a.value_two;
    if (rule.args.size() == 2) {
        const ArgRule& b = rule.args[1];
        if (!arg_has_second(spec, v) || b.index != spec.also_index || b.op != ArgOp::MaskedEqual ||
            b.value != kLow32 || b.value_two > kLow32)
            return std::nullopt;
        v |= b.value_two << 32;
    } else if (arg_has_second(spec, v)) {
        return std::nullopt;  // AF_NETLINK with any protocol: not a value of ours
    }
    return v;
}

ArgumentView argument_view(const Profile& profile) {
    ArgumentView view;
    for (const auto& rule : profile.syscalls) {
        if (rule.names.size() != 1) continue;
        const ArgSpec* spec = arg_spec_any(rule.names[0]);
        if (!spec) continue;
        auto v = argument_rule_value(*spec, rule);
        if (!v) continue;
        view.values[rule.names[0]].insert(*v);
        view.action[rule.names[0]] = rule.action;
    }
    return view;
}

std::vector<std::string> describe_added_values(const ArgSpec& spec, const std::set<ArgValue>& before,
                                               const std::set<ArgValue>& added) {
    std::vector<std::string> out;
    for (ArgValue v : added) out.push_back("+" + arg_value_name(spec, v));
    if (spec.kind == ArgKind::Flags) {
        std::uint32_t had = 0, has = 0;
        for (ArgValue v : before) had |= arg_first(v);
        for (ArgValue v : added) has |= arg_first(v);
        std::string_view verb = spec.syscall == "unshare" ? "unshare into new" : "create";
        for (std::uint32_t bit = 1; bit != 0; bit <<= 1)
            if ((has & bit) && !(had & bit))
                out.push_back("may now " + std::string(verb) + " " + std::string(namespace_kind(bit)) +
                              " namespaces");
    }
    return out;
}

}  // namespace ksc
