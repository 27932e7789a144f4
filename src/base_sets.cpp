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
    "arch_prctl", "brk",         "capget",     "capset",     "chdir",      "close",
    "close_range", "epoll_ctl",  "epoll_pwait", "execve",    "exit_group", "faccessat2",
    "fcntl",      "fstat",       "fstatfs",    "futex",      "getcwd",     "getdents64",
    "getpid",     "getppid",     "getuid",     "mmap",       "mprotect",   "nanosleep",
    "newfstatat", "openat",      "openat2",    "prctl",      "read",       "recvfrom",
    "rt_sigreturn", "sched_yield", "set_tid_address", "setgid", "setgroups", "setuid",
    "sigaltstack", "statx",      "tgkill",     "write",
};

// Security Profiles Operator, examples/baseprofile-crun.yaml (same commit): crun v1.26. Not
// measured here (no crun on Debian 12's test machines); SPO recorded crun's whole container set-up,
// so the list holds calls (mount, pivot_root, unshare, setns, sethostname) that crun makes before
// it installs the filter: an over-approximation, said so in docs/profiles.md.
constexpr std::array<std::string_view, 53> kCrun{
    "access",     "arch_prctl", "brk",        "capset",     "chdir",     "chmod",
    "chown",      "close",      "close_range", "dup2",      "execve",    "exit_group",
    "fchdir",     "fchown",     "fstat",      "fstatfs",    "getcwd",    "getegid",
    "geteuid",    "getgid",     "getuid",     "ioctl",      "lseek",     "mkdirat",
    "mknodat",    "mmap",       "mount",      "mprotect",   "nanosleep", "newfstatat",
    "openat",     "openat2",    "pivot_root", "prctl",      "pselect6",  "read",
    "readlink",   "rt_sigaction", "rt_sigprocmask", "set_tid_address", "setgroups", "sethostname",
    "setns",      "setresgid",  "setresuid",  "setsid",     "statfs",    "statx",
    "symlinkat",  "umask",      "umount2",    "unshare",    "write",
};

constexpr std::array<RuntimeBaseSet, 2> kSets{{
    {"runc", "SPO examples/baseprofile-runc.yaml (runc v1.4.2)", kRunc},
    {"crun", "SPO examples/baseprofile-crun.yaml (crun v1.26)", kCrun},
}};

}  // namespace

std::span<const RuntimeBaseSet> runtime_base_sets() { return kSets; }

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
