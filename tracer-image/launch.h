// Launch mode's child: started so that the tracer holds it before it runs a single instruction
// of the command, and (by default) under a one-instruction seccomp filter that returns
// SECCOMP_RET_TRACE for every syscall, so that each syscall costs one stop instead of two.
#pragma once

#include <linux/filter.h>
#include <sys/types.h>

#include <cstdint>
#include <string>
#include <variant>
#include <vector>

#include "result.h"

namespace ksc::tracer {

// The launch filter's SECCOMP_RET_DATA: bits 13-15 the architecture (one of these codes; 0: not
// packed, ask PTRACE_GET_SYSCALL_INFO), bit 12 the x32 bit (0x40000000) of the number, bits 0-11 the
// rest of the number. Every (AUDIT_ARCH, number) the tracer can name fits; anything else is data 0.
inline constexpr unsigned kTraceDataArchShift = 13;
inline constexpr unsigned kTraceDataX86_64 = 1, kTraceDataI386 = 2, kTraceDataAarch64 = 3, kTraceDataArm = 4;
inline constexpr unsigned kTraceDataX32Bit = 1u << 12;
inline constexpr unsigned kTraceDataNrLimit = 1u << 12;

// The classic BPF program of the launch filter (every call traced, the data packed as above).
sock_fprog seccomp_trace_program();

// The (AUDIT_ARCH, raw number) packed into `data`, or false when it holds none.
inline bool unpack_trace_data(unsigned long data, std::uint32_t& audit_arch, std::uint64_t& raw_nr) {
    static constexpr std::uint32_t kArches[] = {0, 0xC000003E, 0x40000003, 0xC00000B7, 0x40000028};
    unsigned code = (data >> kTraceDataArchShift) & 7;
    if (code == 0 || code > 4) return false;
    audit_arch = kArches[code];
    raw_nr = (data & (kTraceDataNrLimit - 1)) | ((data & kTraceDataX32Bit) ? 0x40000000u : 0u);
    return true;
}

struct LaunchedChild {
    pid_t pid = -1;
    int exec_error_fd = -1;  // gets the errno if the exec fails; end of file when it succeeded
};

// Launch mode's statuses, as env(1) has them: the command's own, or one of these.
inline constexpr int kExitTracerFailed = 125;
inline constexpr int kExitCannotRun = 126;
inline constexpr int kExitNotFound = 127;

struct LaunchError {
    int exit_status;  // kExitTracerFailed, kExitCannotRun or kExitNotFound
    std::string message;
};

// A check's filter (--check-mode complain|enforce): the profile's program as
// bpf::transform_for_trace rewrote it, installed after the recording filter so that, among two
// SECCOMP_RET_TRACE verdicts, its data is the one the tracer gets (the kernel keeps the most
// recently installed filter's data among equal actions). `no_new_privs`: set it first (without
// CAP_SYS_ADMIN the kernel refuses a filter otherwise).
struct CheckFilter {
    const sock_fprog* program = nullptr;  // null: no check
    bool no_new_privs = true;
    // --drop-cap-sys-admin: the child removes CAP_SYS_ADMIN from its bounding (when
    // `drop_bounding`: that needs CAP_SETPCAP), ambient and inheritable sets before the filters,
    // so that its exec gives the app no CAP_SYS_ADMIN (the plugin added it for the filter only).
    bool drop_cap_sys_admin = false;
    bool drop_bounding = true;
};

// Finds the program (PATH search, like execvp), forks, seizes the child with `ptrace_options`
// and lets it install the filter (when `filter`), the check's filter (when given) and exec. In
// no-filter mode the child is also interrupted, so that its first stop lets us resume it with
// PTRACE_SYSCALL.
std::variant<LaunchedChild, LaunchError> start_child(const std::vector<std::string>& command, bool filter,
                                                     unsigned long ptrace_options, CheckFilter check = {});

// After the child ended without exec'ing: why (from the exec error pipe).
LaunchError exec_failure(int exec_error_fd, const std::string& program);

}  // namespace ksc::tracer
