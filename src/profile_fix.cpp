#include "profile_fix.h"

#include <fmt/core.h>

#include <algorithm>
#include <set>

#include "errno_names.h"
#include "profile_merge.h"
#include "recording.h"

namespace ksc {
namespace {

constexpr int kEPERM = 1;
constexpr int kENOSYS = 38;

// The errno `record` would refuse the call with: the app always got EPERM or ENOSYS.
std::optional<int> recorded_refusal(const CheckDenial& d) {
    RecordedSyscall sc;
    sc.count = d.count;
    for (const auto& [name, n] : d.seen_errors)
        if (auto e = errno_from_name(name)) sc.errors[*e] += n;
    auto err = sc.only_errno();
    if (err && (*err == kEPERM || *err == kENOSYS)) return err;
    return std::nullopt;
}

}  // namespace

FixedProfile fix_profile(const Profile& checked, const std::vector<CheckDenial>& denials) {
    FixedProfile out;
    Recording rec;
    rec.returns_seen = true;
    std::set<std::string> plain;
    // Argument rules for syscalls the profile filters by argument. The denials' profiles say
    // nothing of the calls they do not name: their default is the least permissive action, which
    // the union never keeps over the profile's (a default-allow profile's errno rules stay).
    Profile narrow;
    narrow.default_action = Action::KillProcess;
    for (const auto& d : denials) {
        if (d.by_rule) {
            if (d.counted)
                out.notes.push_back(fmt::format(
                    "{}: refused by the profile's own rule ({}): kept; remove that rule to allow it", d.name,
                    d.errno_value ? errno_name(*d.errno_value).value_or("errno")
                                  : std::string_view("errno")));
            continue;
        }
        if (d.name.empty()) {
            out.notes.push_back(
                fmt::format("{} syscall #{}: not in our syscall table, so it cannot be named "
                            "in a profile: left out",
                            arch_name(d.arch), d.nr));
            continue;
        }
        auto deciding = deciding_args(checked, d.name);
        if (!deciding.empty()) {
            SyscallRule rule;
            rule.names = {d.name};
            auto err = recorded_refusal(d);
            rule.action = err ? Action::Errno : Action::Allow;
            if (err) rule.errno_ret = static_cast<std::uint32_t>(*err);
            std::string values;
            for (std::uint32_t i : deciding) {
                rule.args.push_back(ArgRule{i, d.args[i], 0, ArgOp::EqualTo});
                values += fmt::format("{}arg{}={:#x}", values.empty() ? "" : ", ", i, d.args[i]);
            }
            ++out.added;
            if (std::find(narrow.syscalls.begin(), narrow.syscalls.end(), rule) == narrow.syscalls.end())
                narrow.syscalls.push_back(std::move(rule));
            out.notes.push_back(
                fmt::format("{}: {} for {} only (the profile's rules for it test these "
                            "arguments; other values stay as the profile says)",
                            d.name, err ? "refused with its errno" : "allowed", values));
            continue;
        }
        auto& sc = rec.syscalls[{d.arch, d.nr}];
        sc.arch = d.arch;
        sc.nr = d.nr;
        sc.name = d.name;
        sc.count += std::max<std::uint64_t>(d.count, 1);
        for (const auto& [name, n] : d.seen_errors)
            if (auto e = errno_from_name(name)) sc.errors[*e] += n;
        plain.insert(d.name);
        ++out.added;
        if (!rec.native_arch) rec.native_arch = d.arch;
    }
    RecordOptions options;
    options.base = BaseSet::None;
    options.args = ArgsMode::None;
    Profile added = profile_from_recording(rec, options);
    // Only the denied calls: record's other rules (libc's probed syscalls) would change what the
    // profile says about calls the check never saw.
    for (auto& rule : added.syscalls)
        std::erase_if(rule.names, [&](const std::string& n) { return !plain.contains(n); });
    std::erase_if(added.syscalls, [](const SyscallRule& r) { return r.names.empty(); });
    added.default_action = Action::KillProcess;
    added.default_errno_ret.reset();
    if (plain.empty()) added.architectures.clear();
    std::vector<Profile> inputs{checked, added, narrow};
    std::vector<std::string> labels{"the profile", "the denials", "the denials"};
    out.profile = merge_profiles(inputs, labels, nullptr);
    return out;
}

}  // namespace ksc
