#include "launch.h"

#include <fcntl.h>
#include <linux/audit.h>
#include <linux/capability.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <variant>

#include "signals.h"
#include "unique_fd.h"

namespace ksc::tracer {

namespace {

// Marks, in the exec error pipe, that the filter (not the exec) failed.
constexpr int kFilterFailed = -1;
// ... or that the check's filter (--check-program) did.
constexpr int kCheckFilterFailed = -2;
// ... or that removing CAP_SYS_ADMIN (--drop-cap-sys-admin) did.
constexpr int kCapDropFailed = -3;

bool is_executable_file(const std::string& path) {
    struct stat st;
    return stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode) && access(path.c_str(), X_OK) == 0;
}

// Resolved before the fork, so that the child makes exactly one execve (execvp would try, and so
// record, one per PATH entry), and "not found" needs no child at all.
std::string find_program(const std::string& name) {
    if (name.find('/') != std::string::npos) return name;
    const char* path_env = std::getenv("PATH");
    std::string path = path_env && *path_env ? path_env : "/usr/local/bin:/usr/bin:/bin";
    std::string first_existing;
    std::size_t start = 0;
    while (start <= path.size()) {
        std::size_t end = path.find(':', start);
        if (end == std::string::npos) end = path.size();
        std::string dir = path.substr(start, end - start);
        if (dir.empty()) dir.assign(1, '.');
        std::string candidate = dir + "/" + name;
        if (is_executable_file(candidate)) return candidate;
        if (first_existing.empty() && access(candidate.c_str(), F_OK) == 0) first_existing = candidate;
        start = end + 1;
    }
    return first_existing;  // exists but cannot run: exec says why (126)
}

// --drop-cap-sys-admin, before the filters: CAP_SYS_ADMIN leaves the bounding, ambient and
// inheritable sets and stays effective, for the seccomp() call that needs it. The exec then
// computes the app's permitted and effective sets from those (root: bounding | inheritable;
// others: ambient and file capabilities within the bounding set), so the app never holds it, and
// no call of this set-up passes through the check's filter. Async-signal-safe: raw syscalls only.
bool drop_cap_sys_admin(bool bounding) {
    if (bounding && prctl(PR_CAPBSET_DROP, CAP_SYS_ADMIN, 0, 0, 0) != 0) return false;
    if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_LOWER, CAP_SYS_ADMIN, 0, 0) != 0 && errno != EINVAL)
        return false;  // EINVAL: a kernel without ambient capabilities (before 4.3)
    __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
    __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3] = {};
    if (syscall(SYS_capget, &header, data) != 0) return false;
    data[CAP_TO_INDEX(CAP_SYS_ADMIN)].inheritable &= ~CAP_TO_MASK(CAP_SYS_ADMIN);
    return syscall(SYS_capset, &header, data) == 0;
}

[[noreturn]] void child_main(int go_fd, int err_fd, const char* path, char* const* argv, bool filter,
                             const CheckFilter& check) {
    // Between fork and exec: async-signal-safe calls only, no allocation, no throwing.
    restore_signals_for_child();
    char byte;
    while (read(go_fd, &byte, 1) < 0 && errno == EINTR) {
    }
    close(go_fd);
    // Without a check, the recording filter always comes with no_new_privs; with one, only where
    // the tracer found it needed (CheckFilter), so that the app runs as the pod would run it.
    bool nnp = check.program ? check.no_new_privs : filter;
    sock_fprog prog = seccomp_trace_program();
    int failed = 0;
    if (check.drop_cap_sys_admin && !drop_cap_sys_admin(check.drop_bounding))
        failed = kCapDropFailed;
    else if ((nnp && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) ||
             (filter && syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) != 0))
        failed = kFilterFailed;
    else if (check.program && syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, check.program) != 0)
        failed = kCheckFilterFailed;
    if (failed) {
        int report[2] = {failed, errno};
        (void)!write(err_fd, report, sizeof report);
        _exit(kExitTracerFailed);
    }
    execv(path, argv);
    int report[2] = {0, errno};
    (void)!write(err_fd, report, sizeof report);
    _exit(errno == ENOENT || errno == ENOTDIR ? kExitNotFound : kExitCannotRun);
}

}  // namespace

// The filter: SECCOMP_RET_TRACE for every call, with the call's architecture and number packed into
// SECCOMP_RET_DATA (see launch.h), so that the tracer learns them with PTRACE_GETEVENTMSG. What does
// not fit gets data 0: the tracer then asks PTRACE_GET_SYSCALL_INFO.
const sock_filter kTraceInsns[] = {
    /*  0 */ BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, arch)),
    /*  1 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 0, 2),
    /*  2 */ BPF_STMT(BPF_LDX | BPF_IMM, kTraceDataX86_64 << kTraceDataArchShift),
    /*  3 */ BPF_STMT(BPF_JMP | BPF_JA, 8),  // -> 12
    /*  4 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_I386, 0, 2),
    /*  5 */ BPF_STMT(BPF_LDX | BPF_IMM, kTraceDataI386 << kTraceDataArchShift),
    /*  6 */ BPF_STMT(BPF_JMP | BPF_JA, 5),  // -> 12
    /*  7 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_AARCH64, 0, 2),
    /*  8 */ BPF_STMT(BPF_LDX | BPF_IMM, kTraceDataAarch64 << kTraceDataArchShift),
    /*  9 */ BPF_STMT(BPF_JMP | BPF_JA, 2),                               // -> 12
    /* 10 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_ARM, 0, 11),  // else -> 22
    /* 11 */ BPF_STMT(BPF_LDX | BPF_IMM, kTraceDataArm << kTraceDataArchShift),
    /* 12 */ BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, nr)),
    /* 13 */ BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, 0x40000000, 0, 4),  // else -> 18
    /* 14 */ BPF_STMT(BPF_ALU | BPF_AND | BPF_K, ~0x40000000u),
    /* 15 */ BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, kTraceDataNrLimit, 6, 0),  // -> 22
    /* 16 */ BPF_STMT(BPF_ALU | BPF_OR | BPF_K, kTraceDataX32Bit),
    /* 17 */ BPF_STMT(BPF_JMP | BPF_JA, 1),                                 // -> 19
    /* 18 */ BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, kTraceDataNrLimit, 3, 0),  // -> 22
    /* 19 */ BPF_STMT(BPF_ALU | BPF_OR | BPF_X, 0),
    /* 20 */ BPF_STMT(BPF_ALU | BPF_OR | BPF_K, SECCOMP_RET_TRACE),
    /* 21 */ BPF_STMT(BPF_RET | BPF_A, 0),
    /* 22 */ BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_TRACE),
};

sock_fprog seccomp_trace_program() {
    // The kernel copies the program and never writes to it.
    return {static_cast<unsigned short>(sizeof kTraceInsns / sizeof kTraceInsns[0]),
            const_cast<sock_filter*>(kTraceInsns)};
}

std::variant<LaunchedChild, LaunchError> start_child(const std::vector<std::string>& command, bool filter,
                                                     unsigned long ptrace_options, CheckFilter check) {
    std::string path = find_program(command[0]);
    if (path.empty())
        return LaunchError{kExitNotFound, command[0] + ": command not found (check the name and PATH)"};
    std::vector<char*> argv;
    for (const auto& arg : command) argv.push_back(const_cast<char*>(arg.c_str()));
    argv.push_back(nullptr);

    // The child waits on `go` until it is seized; `err` brings back why its exec failed.
    auto go = make_pipe();
    if (!go) return LaunchError{kExitTracerFailed, "cannot create a " + go.error().message};
    auto err = make_pipe();
    if (!err) return LaunchError{kExitTracerFailed, "cannot create a " + err.error().message};
    pid_t pid = fork();
    if (pid < 0) return LaunchError{kExitTracerFailed, std::string("cannot fork: ") + std::strerror(errno)};
    if (pid == 0) {
        // Never returns: the descriptors' owners are not destroyed here, so close what is not ours.
        close(go->write.get());
        close(err->read.get());
        child_main(go->read.get(), err->write.get(), path.c_str(), argv.data(), filter, check);
    }
    go->read.reset();
    err->write.reset();
    // The child waits on the pipe: seizing it now, before it can exec, records the command from
    // its execve on.
    if (ptrace(PTRACE_SEIZE, pid, 0, ptrace_options) != 0) {
        int e = errno;
        kill(pid, SIGKILL);
        return LaunchError{kExitTracerFailed,
                           std::string("cannot trace the command (PTRACE_SEIZE: ") + std::strerror(e) +
                               "): is the tracer itself traced or refused ptrace by a seccomp "
                               "profile?"};
    }
    if (!filter) ptrace(PTRACE_INTERRUPT, pid, 0, 0);  // (a check's filter alone changes nothing here)
    go->write.reset();                                 // the child goes on
    return LaunchedChild{pid, err->read.release()};
}

LaunchError exec_failure(int exec_error_fd, const std::string& program) {
    int report[2] = {0, 0};
    ssize_t n = read(exec_error_fd, report, sizeof report);
    if (n != sizeof report) return LaunchError{kExitTracerFailed, program + " ended before it could be run"};
    if (report[0] == kCheckFilterFailed)
        return LaunchError{kExitTracerFailed,
                           std::string("cannot install the checked profile's filter: ") +
                               std::strerror(report[1]) +
                               (report[1] == EACCES ? " (needs CAP_SYS_ADMIN or no_new_privs)"
                                                    : " (the kernel refused the program)")};
    if (report[0] == kCapDropFailed)
        return LaunchError{kExitTracerFailed, std::string("cannot remove CAP_SYS_ADMIN before running ") +
                                                  program + ": " + std::strerror(report[1]) +
                                                  " (run the tracer without --drop-cap-sys-admin)"};
    if (report[0] == kFilterFailed)
        return LaunchError{kExitTracerFailed, std::string("cannot install the seccomp filter: ") +
                                                  std::strerror(report[1]) + " (use --no-filter)"};
    int e = report[1];
    if (e == ENOENT || e == ENOTDIR) return LaunchError{kExitNotFound, program + ": " + std::strerror(e)};
    return LaunchError{kExitCannotRun, "cannot run " + program + ": " + std::strerror(e)};
}

}  // namespace ksc::tracer
