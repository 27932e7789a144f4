// A program a checked profile refuses a call of: getsid(-1), twice (untraced it fails with ESRCH).
// Prints whether it runs with no_new_privs, what each call returned, and, with "handler", what its
// SIGSYS handler received (the kernel's SYS_SECCOMP siginfo, and the return register the kernel
// rolled back; with "blocked", SIGSYS is blocked), so that the tracer's enforce mode is compared with the
// kernel's filter line by line. With "caps" it prints its capability sets (--drop-cap-sys-admin).
#include "tt.h"

#include <signal.h>
#include <sys/prctl.h>
#include <ucontext.h>

static void on_sigsys(int sig, siginfo_t* si, void* ctx) {
    ucontext_t* uc = ctx;
    (void)sig;
#if defined(__x86_64__)
    long long ret = uc->uc_mcontext.gregs[REG_RAX];
#elif defined(__aarch64__)
    long long ret = uc->uc_mcontext.regs[0];
#else
    long long ret = 0;
#endif
    tt_say("sigsys code %d errno %d syscall %d arch %x addr %s rax %lld\n", si->si_code, si->si_errno,
           si->si_syscall, si->si_arch, si->si_call_addr ? "set" : "null", ret);
}

int main(int argc, char** argv) {
    if (argc > 1 && strcmp(argv[1], "handler") == 0) {
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_sigaction = on_sigsys;
        sa.sa_flags = SA_SIGINFO;
        sigaction(SIGSYS, &sa, NULL);
    }
    if (argc > 1 && strcmp(argv[1], "blocked") == 0) {
        sigset_t set;
        sigemptyset(&set);
        sigaddset(&set, SIGSYS);
        sigprocmask(SIG_BLOCK, &set, NULL);
    }
    tt_ready();
    tt_say("nnp %d\n", prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0));
    if (argc > 1 && strcmp(argv[1], "caps") == 0) {
        // The capability sets as the kernel shows them (CapBnd, CapPrm, CapEff, CapInh, CapAmb).
        FILE* f = fopen("/proc/self/status", "r");
        char line[256];
        while (f && fgets(line, sizeof line, f))
            if (strncmp(line, "Cap", 3) == 0) tt_say("%s", line);
        if (f) fclose(f);
    }
    for (int i = 0; i < 2; i++) {
        errno = 0;
        long r = syscall(SYS_getsid, -1);
        tt_say("getsid %ld %s\n", r, r < 0 ? strerrorname_np(errno) : "-");
    }
    tt_say("after\n");
    return tt_done(0);
}
