#include "base_sets.h"

#include <algorithm>
#include <array>

namespace ksc {
namespace {

// Security Profiles Operator, examples/baseprofile-runc.yaml (kubernetes-sigs/security-profiles-
// operator at a2e4c4bd, Apache-2.0): runc v1.4.2, recorded by SPO.
// Measured here for Debian 12's runc 1.1.5 (strace -f of `runc run` on a one-syscall program, three
// runs alike; docs/profiles.md): after prctl(PR_SET_SECCOMP) its init thread calls close,
// epoll_ctl, execve, fstatfs, futex, getdents64, getpid, openat, prctl, rt_sigreturn and write:
// all in this list. The rest covers the Go runtime's scheduling (nanosleep, sched_yield, tgkill,
// sigaltstack, mmap, ...) that varies from run to run. tests/containers/base_set_test.sh proves
// the list enough, and needed, under real enforcement.
constexpr std::array<std::string_view, 40> kRunc{
    "arch_prctl", "brk",         "capget",       "capset",      "chdir",           "close",   "close_range",
    "epoll_ctl",  "epoll_pwait", "execve",       "exit_group",  "faccessat2",      "fcntl",   "fstat",
    "fstatfs",    "futex",       "getcwd",       "getdents64",  "getpid",          "getppid", "getuid",
    "mmap",       "mprotect",    "nanosleep",    "newfstatat",  "openat",          "openat2", "prctl",
    "read",       "recvfrom",    "rt_sigreturn", "sched_yield", "set_tid_address", "setgid",  "setgroups",
    "setuid",     "sigaltstack", "statx",        "tgkill",      "write",
};

// Security Profiles Operator, examples/baseprofile-crun.yaml (same commit): crun v1.26, 53 calls,
// less the 14 that set the container up before crun installs the filter: chmod, chown, fchown,
// mkdirat, mknodat, mount, pivot_root, setns, sethostname, setsid, symlinkat, umask, umount2,
// unshare. SPO recorded crun's whole set-up; measured here for Debian 12's crun 1.8.1 (strace -f of
// `crun run` on a one-syscall program; podman's own config and noNewPrivileges true and false, as
// root and as uid 1000; docs/profiles.md), those 14 come only before seccomp(SET_MODE_FILTER),
// in the container's init or in crun's parent, and after it only capset, close, execve, prctl,
// rt_sigaction, rt_sigprocmask, setresgid, setresuid and write, all kept here. The other calls of
// SPO's list are kept for newer crun versions. tests/containers/base_set_test.sh crun proves the
// list enough, and needed, under real enforcement by crun.
constexpr std::array<std::string_view, 39> kCrun{
    "access",       "arch_prctl",     "brk",
    "capset",       "chdir",          "close",
    "close_range",  "dup2",           "execve",
    "exit_group",   "fchdir",         "fstat",
    "fstatfs",      "getcwd",         "getegid",
    "geteuid",      "getgid",         "getuid",
    "ioctl",        "lseek",          "mmap",
    "mprotect",     "nanosleep",      "newfstatat",
    "openat",       "openat2",        "prctl",
    "pselect6",     "read",           "readlink",
    "rt_sigaction", "rt_sigprocmask", "set_tid_address",
    "setgroups",    "setresgid",      "setresuid",
    "statfs",       "statx",          "write",
};

// The argument values (syscall_args.h) each runtime passes to the argument table's syscalls of its
// list after installing the filter, measured for Debian 12's runc 1.1.5 and crun 1.8.1 with
// `strace -f -e trace=seccomp,prctl,fcntl,ioctl,arch_prctl,execve RUNTIME run` of the one-syscall
// container (a bundle whose linux.seccomp is `convert --base RUNTIME` of its recording), with
// noNewPrivileges false (podman's default) and true, three runs each alike (docs/profiles.md):
// - runc: prctl(PR_CAPBSET_DROP), prctl(PR_SET_KEEPCAPS), prctl(PR_CAP_AMBIENT), fcntl(F_SETFD)
//   (noNewPrivileges false; with true, only execve); no ioctl, no arch_prctl;
// - crun: prctl(PR_CAPBSET_DROP), prctl(PR_SET_KEEPCAPS), prctl(PR_CAP_AMBIENT) (false; with
//   true, only execve); no ioctl, fcntl or arch_prctl.
// A list's syscall with no measured value gets no rule of its own: the app's values decide.
struct BaseArgValues {
    std::string_view runtime;
    std::string_view syscall;
    std::array<std::uint64_t, 3> values;
    std::size_t count;
};
constexpr std::array<BaseArgValues, 6> kBaseArgValues{{
    {"runc", "prctl", {24, 8, 47}, 3},  // PR_CAPBSET_DROP, PR_SET_KEEPCAPS, PR_CAP_AMBIENT
    {"runc", "fcntl", {2, 0, 0}, 1},    // F_SETFD
    {"runc", "arch_prctl", {}, 0},
    {"crun", "prctl", {24, 8, 47}, 3},
    {"crun", "ioctl", {}, 0},
    {"crun", "arch_prctl", {}, 0},
}};

constexpr std::array<RuntimeBaseSet, 2> kSets{{
    {"runc", "SPO examples/baseprofile-runc.yaml (runc v1.4.2)", kRunc},
    {"crun",
     "SPO examples/baseprofile-crun.yaml (crun v1.26) less crun's pre-filter set-up, measured with crun "
     "1.8.1",
     kCrun},
}};

}  // namespace

std::span<const RuntimeBaseSet> runtime_base_sets() {
    return kSets;
}

std::optional<std::set<std::uint64_t>> base_set_arg_values(BaseSet base, std::string_view name) {
    std::set<std::uint64_t> out;
    for (const auto& set : kSets) {
        bool wanted = base == BaseSet::Both || (base == BaseSet::Runc && set.runtime == "runc") ||
                      (base == BaseSet::Crun && set.runtime == "crun");
        if (!wanted || std::find(set.names.begin(), set.names.end(), name) == set.names.end()) continue;
        auto it = std::find_if(kBaseArgValues.begin(), kBaseArgValues.end(), [&](const BaseArgValues& b) {
            return b.runtime == set.runtime && b.syscall == name;
        });
        if (it == kBaseArgValues.end()) return std::nullopt;  // not measured: allowed whole
        out.insert(it->values.begin(), it->values.begin() + static_cast<std::ptrdiff_t>(it->count));
    }
    return out;
}

std::vector<std::string_view> base_set_names(BaseSet base) {
    std::vector<std::string_view> out;
    for (const auto& set : kSets) {
        bool wanted = base == BaseSet::Both || (base == BaseSet::Runc && set.runtime == "runc") ||
                      (base == BaseSet::Crun && set.runtime == "crun");
        if (wanted) out.insert(out.end(), set.names.begin(), set.names.end());
    }
    std::sort(out.begin(), out.end());
    out.erase(std::unique(out.begin(), out.end()), out.end());
    return out;
}

}  // namespace ksc
