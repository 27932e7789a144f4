// floor-info MODE CMD ARGS...: a floor plus exactly one read per syscall stop, recording nothing: what
// the least a recorder must ask the kernel (which syscall? which architecture?) costs on top of the
// bare floors in ../shared/bench.
//   ptrace   bare-ptrace (PTRACE_SYSCALL, entry and exit stops) + one PTRACE_GET_SYSCALL_INFO per stop
//   seccomp  seccomp-bare (SECCOMP_RET_TRACE, PTRACE_CONT) + one PTRACE_GET_SYSCALL_INFO per stop
//   msg      seccomp-bare + one PTRACE_GETEVENTMSG per stop (the filter's SECCOMP_RET_DATA), the
//            other way launch mode could learn the number
// Each reads the same 41 bytes of struct __ptrace_syscall_info as the tracer.
#define _GNU_SOURCE
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
int main(int c, char** v) {
    if (c < 3) {
        fprintf(stderr, "usage: floor-info ptrace|seccomp|msg CMD ARGS...\n");
        return 2;
    }
    int filter = strcmp(v[1], "ptrace") != 0, msg = strcmp(v[1], "msg") == 0;
    pid_t p = fork();
    if (p == 0) {
        raise(SIGSTOP);
        if (filter) {
            struct sock_filter f[] = {BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
                                      BPF_STMT(BPF_ALU | BPF_AND | BPF_K, SECCOMP_RET_DATA),
                                      BPF_STMT(BPF_ALU | BPF_OR | BPF_K, SECCOMP_RET_TRACE),
                                      BPF_STMT(BPF_RET | BPF_A, 0)};
            struct sock_fprog prog = {4, f};
            prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
            syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog);
        }
        execvp(v[2], v + 2);
        _exit(127);
    }
    waitpid(p, 0, WSTOPPED);
    long opts = PTRACE_O_TRACECLONE | PTRACE_O_TRACEFORK | PTRACE_O_TRACEVFORK | PTRACE_O_TRACEEXEC |
                PTRACE_O_EXITKILL;
    opts |= filter ? PTRACE_O_TRACESECCOMP : PTRACE_O_TRACESYSGOOD;
    ptrace(PTRACE_SEIZE, p, 0, opts);
    kill(p, SIGCONT);
    int resume = filter ? PTRACE_CONT : PTRACE_SYSCALL;
    if (!filter) ptrace(PTRACE_SYSCALL, p, 0, 0);
    const size_t size = offsetof(struct __ptrace_syscall_info, exit.is_error) + 1;
    long stops = 0, sum = 0;
    int st, live = 1;
    for (;;) {
        pid_t w = waitpid(-1, &st, __WALL);
        if (w < 0) break;
        if (WIFEXITED(st) || WIFSIGNALED(st)) {
            if (w == p) live = 0;
            continue;
        }
        int sig = WSTOPSIG(st), inj = 0;
        if (sig == (SIGTRAP | 0x80) || (st >> 8) == (SIGTRAP | (PTRACE_EVENT_SECCOMP << 8))) {
            stops++;
            if (msg) {
                unsigned long m = 0;
                ptrace(PTRACE_GETEVENTMSG, w, 0, &m);
                sum += m;
            } else {
                struct __ptrace_syscall_info i;
                ptrace(PTRACE_GET_SYSCALL_INFO, w, size, &i);
                sum += i.op;
            }
        } else if (st >> 16)
            ; /* ptrace event */
        else if (sig != SIGTRAP && sig != SIGSTOP)
            inj = sig;
        ptrace(resume, w, 0, inj);
    }
    fprintf(stderr, "floor-info %s: %ld stops (%ld)\n", v[1], stops, sum);
    return filter ? 0 : live;
}
