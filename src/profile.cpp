#include "profile.h"

#include <algorithm>
#include <array>
#include <map>
#include <set>
#include <tuple>

#include <fmt/core.h>

#include "base_sets.h"
#include "profile_args.h"
#include "profile_compile.h"
#include "syscall_table.h"

namespace ksc {
namespace {

struct ActionInfo {
    Action action;
    std::string_view name;
    int permissiveness;
};

constexpr std::array<ActionInfo, 9> kActions{{
    {Action::Kill, "SCMP_ACT_KILL", 0},
    {Action::KillProcess, "SCMP_ACT_KILL_PROCESS", 0},
    {Action::KillThread, "SCMP_ACT_KILL_THREAD", 0},
    {Action::Trap, "SCMP_ACT_TRAP", 1},
    {Action::Errno, "SCMP_ACT_ERRNO", 2},
    {Action::Trace, "SCMP_ACT_TRACE", 3},
    {Action::Notify, "SCMP_ACT_NOTIFY", 4},
    {Action::Log, "SCMP_ACT_LOG", 5},
    {Action::Allow, "SCMP_ACT_ALLOW", 6},
}};

constexpr std::array<std::pair<ArgOp, std::string_view>, 7> kOps{{
    {ArgOp::NotEqual, "SCMP_CMP_NE"},
    {ArgOp::LessThan, "SCMP_CMP_LT"},
    {ArgOp::LessEqual, "SCMP_CMP_LE"},
    {ArgOp::EqualTo, "SCMP_CMP_EQ"},
    {ArgOp::GreaterEqual, "SCMP_CMP_GE"},
    {ArgOp::GreaterThan, "SCMP_CMP_GT"},
    {ArgOp::MaskedEqual, "SCMP_CMP_MASKED_EQ"},
}};

// The OCI runtime spec's list (its Linux seccomp section), which is libseccomp's.
constexpr std::array<std::string_view, 22> kScmpArches{
    "SCMP_ARCH_X86",     "SCMP_ARCH_X86_64",   "SCMP_ARCH_X32",         "SCMP_ARCH_ARM",
    "SCMP_ARCH_AARCH64", "SCMP_ARCH_MIPS",     "SCMP_ARCH_MIPS64",      "SCMP_ARCH_MIPS64N32",
    "SCMP_ARCH_MIPSEL",  "SCMP_ARCH_MIPSEL64", "SCMP_ARCH_MIPSEL64N32", "SCMP_ARCH_PPC",
    "SCMP_ARCH_PPC64",   "SCMP_ARCH_PPC64LE",  "SCMP_ARCH_S390",        "SCMP_ARCH_S390X",
    "SCMP_ARCH_PARISC",  "SCMP_ARCH_PARISC64", "SCMP_ARCH_RISCV64",     "SCMP_ARCH_LOONGARCH64",
    "SCMP_ARCH_M68K",    "SCMP_ARCH_SH",
};

constexpr std::array<std::string_view, 4> kFilterFlags{
    "SECCOMP_FILTER_FLAG_TSYNC",
    "SECCOMP_FILTER_FLAG_LOG",
    "SECCOMP_FILTER_FLAG_SPEC_ALLOW",
    "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV",
};

// Called first, with a fallback when they fail with ENOSYS (and only then):
constexpr std::array<std::string_view, 35> kProbed{
    "clone3",        // glibc >= 2.34 pthread_create, posix_spawn -> clone
    "faccessat2",    // glibc >= 2.33 faccessat() with flags -> fstatat emulation
    "openat2",       // runc, systemd, newer tools -> openat
    "statx",         // glibc >= 2.33 stat family on 32-bit arches -> fstatat64; coreutils
    "close_range",   // glibc >= 2.34 closefrom() -> /proc/self/fd scan
    "epoll_pwait2",  // libuv, Go -> epoll_pwait
    "fchmodat2",     // glibc >= 2.39 fchmodat(AT_SYMLINK_NOFOLLOW) -> O_PATH emulation
    "futex_waitv",   // Wine, Proton -> futex
    "pidfd_open",    // Go >= 1.23 os.StartProcess, systemd -> plain pids
    "pidfd_send_signal",
    "copy_file_range",  // coreutils cp -> read/write
    "getrandom",        // glibc 2.36 arc4random -> /dev/urandom
    "rseq",             // glibc >= 2.35 registers it at thread start; any failure disables it
    "io_uring_setup",   // libuv >= 1.45 -> epoll and a thread pool
    "landlock_create_ruleset",
    "memfd_secret",
    "mseal",
    "map_shadow_stack",
    "cachestat",
    // glibc on 32-bit arches calls the 64-bit-time variant first (y2038) and falls back.
    "clock_gettime64",
    "clock_settime64",
    "clock_adjtime64",
    "clock_getres_time64",
    "clock_nanosleep_time64",
    "timer_gettime64",
    "timer_settime64",
    "timerfd_gettime64",
    "timerfd_settime64",
    "utimensat_time64",
    "pselect6_time64",
    "ppoll_time64",
    "recvmmsg_time64",
    "rt_sigtimedwait_time64",
    "futex_time64",
    "sched_rr_get_interval_time64",
};

constexpr int kEPERM = 1;
constexpr int kENOSYS = 38;

const ActionInfo& info(Action a) {
    for (const auto& i : kActions)
        if (i.action == a) return i;
    return kActions[0];
}

// Rule order for normalised profiles: most permissive first, then errno.
int action_rank(Action a) {
    return 10 - permissiveness(a);
}

bool is_plain(const SyscallRule& r) {
    return r.args.empty() && r.includes.empty() && r.excludes.empty() && r.comment.empty();
}

std::uint32_t effective_errno(const SyscallRule& r) {
    return action_takes_errno(r.action) ? r.errno_ret.value_or(kDefaultErrno) : 0;
}

}  // namespace

std::string_view action_name(Action action) {
    return info(action).name;
}

std::optional<Action> action_from_name(std::string_view name) {
    for (const auto& i : kActions)
        if (i.name == name) return i.action;
    return std::nullopt;
}

int permissiveness(Action action) {
    return info(action).permissiveness;
}

bool action_takes_errno(Action action) {
    return action == Action::Errno || action == Action::Trace;
}

std::string_view arg_op_name(ArgOp op) {
    for (const auto& [o, n] : kOps)
        if (o == op) return n;
    return "SCMP_CMP_EQ";
}

std::optional<ArgOp> arg_op_from_name(std::string_view name) {
    for (const auto& [o, n] : kOps)
        if (n == name) return o;
    return std::nullopt;
}

bool is_known_scmp_arch(std::string_view name) {
    return std::find(kScmpArches.begin(), kScmpArches.end(), name) != kScmpArches.end();
}

bool is_known_filter_flag(std::string_view name) {
    return std::find(kFilterFlags.begin(), kFilterFlags.end(), name) != kFilterFlags.end();
}

std::span<const std::string_view> probed_syscalls() {
    return kProbed;
}

std::optional<BaseSet> base_set_from_name(std::string_view name) {
    if (name == "none") return BaseSet::None;
    if (name == "runc") return BaseSet::Runc;
    if (name == "crun") return BaseSet::Crun;
    if (name == "both") return BaseSet::Both;
    return std::nullopt;
}

void normalise(Profile& profile) {
    std::map<std::tuple<int, std::uint32_t, Action>, std::set<std::string>> plain;
    std::vector<SyscallRule> conditional;
    for (auto& rule : profile.syscalls) {
        if (is_plain(rule)) {
            auto& names = plain[{action_rank(rule.action), effective_errno(rule), rule.action}];
            names.insert(rule.names.begin(), rule.names.end());
        } else {
            std::sort(rule.names.begin(), rule.names.end());
            rule.names.erase(std::unique(rule.names.begin(), rule.names.end()), rule.names.end());
            if (action_takes_errno(rule.action) && !rule.errno_ret) rule.errno_ret = kDefaultErrno;
            conditional.push_back(std::move(rule));
        }
    }
    std::stable_sort(conditional.begin(), conditional.end(), [](const SyscallRule& a, const SyscallRule& b) {
        return std::tuple(action_rank(a.action), effective_errno(a), a.names) <
               std::tuple(action_rank(b.action), effective_errno(b), b.names);
    });
    profile.syscalls.clear();
    for (auto& [key, names] : plain) {
        if (names.empty()) continue;
        SyscallRule rule;
        rule.action = std::get<2>(key);
        if (action_takes_errno(rule.action)) rule.errno_ret = std::get<1>(key);
        rule.names.assign(names.begin(), names.end());
        profile.syscalls.push_back(std::move(rule));
    }
    for (auto& rule : conditional) profile.syscalls.push_back(std::move(rule));
}

namespace {

// Argument rules for a recording (ArgsMode::Curated): name -> values, and the names to be allowed
// whole with the reason, for the report.
struct ArgPlan {
    std::map<std::string, std::set<ArgValue>> values;
    std::map<std::string, std::string> whole;
};

ArgPlan plan_arguments(const Recording& rec, const RecordOptions& options,
                       const std::set<std::string>& allowed, const std::vector<Arch>& arches) {
    ArgPlan plan;
    for (const auto& [key, sc] : rec.syscalls) {
        if (sc.name.empty() || !allowed.contains(sc.name) || !arg_spec_any(sc.name)) continue;
        const ArgSpec* spec = arg_spec(sc.arch, sc.name);
        if (!spec)
            plan.whole.try_emplace(sc.name,
                                   fmt::format("its arguments are not recorded on {}", arch_name(sc.arch)));
        else if (!rec.args_recorded)
            plan.whole.try_emplace(sc.name,
                                   "the tracer recorded no argument values (a tracer before protocol 1.1)");
        else if (sc.arg_overflow)
            plan.whole.try_emplace(sc.name, fmt::format("more than {} distinct values", kMaxArgValues));
        else if (sc.arg_values.empty())
            plan.whole.try_emplace(sc.name,
                                   "no argument value was recorded (not readable, or cut from the summary)");
        else
            plan.values[sc.name].insert(sc.arg_values.begin(), sc.arg_values.end());
    }
    // clone3's flags are behind a pointer: it is refused with ENOSYS and libc falls back to clone.
    // A recorded clone3 then needs clone, with what libc's fallback passes for threads and
    // processes: no namespace flags.
    bool clone3_used = std::any_of(rec.syscalls.begin(), rec.syscalls.end(), [](const auto& kv) {
        return kv.second.name == "clone3" && !kv.second.only_errno();
    });
    if (clone3_used && !plan.whole.contains("clone")) plan.values["clone"].insert(0);
    // The runtime's base set runs inside the same filter: its values join the app's, and a syscall
    // whose base-set values are not measured stays whole.
    for (auto name : base_set_names(options.base)) {
        std::string n(name);
        if (!arg_spec_any(n) ||
            !std::any_of(arches.begin(), arches.end(), [&](Arch a) { return find_syscall(a, n) != nullptr; }))
            continue;
        auto base = base_set_arg_values(options.base, n);
        if (!base)
            plan.whole.try_emplace(n, "the runtime's base set calls it with values not measured");
        else
            plan.values[n].insert(base->begin(), base->end());
    }
    for (const auto& [name, why] : plan.whole) plan.values.erase(name);
    return plan;
}

void add_argument_rules(Profile& profile, const ArgPlan& plan) {
    for (const auto& [name, values] : plan.values) {
        const ArgSpec* spec = arg_spec_any(name);
        for (auto& rule : argument_rules(name, *spec, values)) profile.syscalls.push_back(std::move(rule));
    }
}

}  // namespace

Profile profile_from_recording(const Recording& rec, const RecordOptions& options,
                               std::vector<std::string>* notes) {
    Profile profile;
    profile.default_action = Action::Errno;
    profile.default_errno_ret = kEPERM;

    // The runtime's own syscalls run on the native arch, so it is always listed; compat arches
    // only when the app used them.
    Arch native = rec.native_arch.value_or(native_arch());
    std::vector<Arch> arches{native};
    for (Arch a : rec.arches())
        if (a != native) arches.push_back(a);
    for (Arch a : arches) profile.architectures.emplace_back(arch_name(a));

    auto on_some_arch = [&](std::string_view name) {
        return std::any_of(arches.begin(), arches.end(),
                           [&](Arch a) { return find_syscall(a, name) != nullptr; });
    };

    std::set<std::string> allowed;
    std::map<std::string, int> refused;  // name -> errno the app saw
    for (const auto& [key, sc] : rec.syscalls) {
        if (sc.name.empty()) continue;  // unknown number: reported by the caller, never named
        auto err = rec.returns_seen ? sc.only_errno() : std::nullopt;
        if (err && (*err == kEPERM || *err == kENOSYS) && !options.include_denied) {
            // Seen on two arches with two errnos: keep the first (ENOSYS sorts after EPERM and
            // is the one libc falls back from, so prefer it).
            auto [it, inserted] = refused.try_emplace(sc.name, *err);
            if (!inserted && *err == kENOSYS) it->second = kENOSYS;
        } else {
            allowed.insert(sc.name);
        }
    }
    for (auto name : base_set_names(options.base))
        if (on_some_arch(name)) allowed.emplace(name);
    // Allowed anywhere wins: two rules for one name with different actions are refused by libseccomp.
    for (const auto& name : allowed) refused.erase(name);
    for (auto name : probed_syscalls()) {
        std::string n(name);
        if (!allowed.contains(n) && !refused.contains(n) && on_some_arch(name)) refused.emplace(n, kENOSYS);
    }

    ArgPlan plan;
    bool curated = options.args == ArgsMode::Curated;
    if (curated) {
        plan = plan_arguments(rec, options, allowed, arches);
        for (const auto& [name, values] : plan.values) allowed.erase(name);
        if (on_some_arch("clone3")) {
            allowed.erase("clone3");
            refused["clone3"] = kENOSYS;
        }
    }
    auto add_allowed = [&](const std::set<std::string>& names) {
        if (names.empty()) return;
        SyscallRule rule;
        rule.action = Action::Allow;
        rule.names.assign(names.begin(), names.end());
        profile.syscalls.push_back(std::move(rule));
    };
    add_allowed(allowed);
    std::map<int, std::vector<std::string>> by_errno;
    for (const auto& [name, err] : refused) by_errno[err].push_back(name);
    for (auto& [err, names] : by_errno) {
        // EPERM is what the default action answers already; a rule repeating the default is
        // redundant, and libseccomp refuses one ("action matches the default").
        if (err == kEPERM) continue;
        SyscallRule rule;
        rule.action = Action::Errno;
        rule.errno_ret = static_cast<std::uint32_t>(err);
        rule.names = std::move(names);
        profile.syscalls.push_back(std::move(rule));
    }
    if (curated) {
        // The kernel refuses a filter of more than 4,096 instructions: while the compiled profile is
        // longer, the syscall with the most values is allowed whole.
        for (;;) {
            Profile candidate = profile;
            add_argument_rules(candidate, plan);
            normalise(candidate);
            auto compiled = compile_profile(candidate);
            if (!compiled) {
                if (notes)
                    notes->push_back("the profile could not be compiled to check its size: " +
                                     compiled.error().message);
            }
            if (!compiled || compiled->instructions <= options.max_instructions || plan.values.empty()) {
                profile = std::move(candidate);
                break;
            }
            auto most = std::max_element(
                plan.values.begin(), plan.values.end(),
                [](const auto& a, const auto& b) { return a.second.size() < b.second.size(); });
            plan.whole[most->first] =
                fmt::format("{} values; the filter was {} instructions, more than the kernel's {}",
                            most->second.size(), compiled->instructions, kMaxFilterInstructions);
            std::string name = most->first;
            plan.values.erase(most);
            for (auto& rule : profile.syscalls)
                if (rule.action == Action::Allow && rule.args.empty()) rule.names.push_back(name);
            if (std::none_of(profile.syscalls.begin(), profile.syscalls.end(), [](const SyscallRule& r) {
                    return r.action == Action::Allow && r.args.empty();
                }))
                add_allowed({name});
        }
        if (notes)
            for (const auto& [name, why] : plan.whole) notes->push_back(name + ": allowed whole: " + why);
    }
    normalise(profile);
    return profile;
}

}  // namespace ksc
