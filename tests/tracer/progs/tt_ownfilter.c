// A program that stacks a seccomp filter of its own returning SECCOMP_RET_TRACE, with data that
// looks like the launch filter's packing of another call (x86_64 nr 999), for getsid. In launch
// mode the newest filter's data wins: the tracer must not believe it, and record getsid (7 times).
// Untraced (and under a tracer without PTRACE_O_TRACESECCOMP) getsid fails with ENOSYS: the output
// does not show it.
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <sys/prctl.h>

#include "tt.h"

int main(void) {
    tt_ready();
    struct sock_filter f[] = {
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_getsid, 0, 1),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_TRACE | (1u << 13) | 999),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
    };
    struct sock_fprog prog = {sizeof f / sizeof f[0], f};
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 ||
        syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) != 0) {
        tt_say("cannot install the filter\n");
        return tt_done(1);
    }
    for (int i = 0; i < 7; i++) m_getsid();
    tt_say("made 7 getsid calls\n");
    return tt_done(0);
}
