#include "regs.h"

#include <elf.h>
#include <sys/ptrace.h>
#include <sys/uio.h>
#include <sys/user.h>

#include <cstddef>

namespace ksc::tracer {

#if defined(__x86_64__)

// One PTRACE_POKEUSER each: orig_rax is the number the kernel dispatches on, rax the return
// value. The same 64-bit layout serves i386 and x32 tracees.
bool set_syscall_nr(pid_t tid, long nr) {
    return ptrace(PTRACE_POKEUSER, tid, offsetof(user_regs_struct, orig_rax), nr) == 0;
}

bool set_return_value(pid_t tid, long value) {
    return ptrace(PTRACE_POKEUSER, tid, offsetof(user_regs_struct, rax), value) == 0;
}

#elif defined(__aarch64__)

// The number has its own register set (NT_ARM_SYSTEM_CALL); the return value is x0 (r0 for arm
// tracees, whose registers the kernel maps onto the same set).
bool set_syscall_nr(pid_t tid, long nr) {
    int value = static_cast<int>(nr);
    iovec io{&value, sizeof value};
    return ptrace(PTRACE_SETREGSET, tid, NT_ARM_SYSTEM_CALL, &io) == 0;
}

bool set_return_value(pid_t tid, long value) {
    user_regs_struct regs;
    iovec io{&regs, sizeof regs};
    if (ptrace(PTRACE_GETREGSET, tid, NT_PRSTATUS, &io) != 0) return false;
    regs.regs[0] = static_cast<unsigned long long>(value);
    return ptrace(PTRACE_SETREGSET, tid, NT_PRSTATUS, &io) == 0;
}

#else
#error "seccomp-tracer: set_syscall_nr and set_return_value need this architecture's registers"
#endif

}  // namespace ksc::tracer
