#include "profile.h"

#include <algorithm>
#include <array>
#include <map>
#include <set>
#include <tuple>

#include "base_sets.h"
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

Profile profile_from_recording(const Recording& rec, const RecordOptions& options) {
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

    if (!allowed.empty()) {
        SyscallRule rule;
        rule.action = Action::Allow;
        rule.names.assign(allowed.begin(), allowed.end());
        profile.syscalls.push_back(std::move(rule));
    }
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
    normalise(profile);
    return profile;
}

}  // namespace ksc
