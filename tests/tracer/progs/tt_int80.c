// i386 syscalls from a 64-bit program through `int $0x80`: recorded as SCMP_ARCH_X86
// personality (136) and getcpu (318), beside the x86_64 personality (135) it also makes.
// `tt_int80 probe` exits 77 when the kernel cannot run i386 code (IA32 emulation off, e.g.
// `ia32_emulation=false`: `int $0x80` then raises SIGSEGV), so that the tests skip with that reason.
// `tt_int80 64` makes only the x86_64 call, for tests that need a launch but not i386.
#include "tt.h"

#include <signal.h>
#include <sys/wait.h>

static long i386_syscall(long nr, long a, long b, long c) {
    long ret;
    __asm__ volatile("int $0x80"
                     : "=a"(ret)
                     : "a"(nr), "b"(a), "c"(b), "d"(c)
                     : "memory", "r8", "r9", "r10", "r11");
    return ret;
}

// In a child, so that the SIGSEGV of a kernel without IA32 emulation ends only the probe.
static int probe(void) {
    pid_t pid = fork();
    if (pid < 0) {
        printf("fork failed: %s\n", strerror(errno));
        return 1;
    }
    if (pid == 0) _exit(i386_syscall(20 /* getpid */, 0, 0, 0) == (long)getpid() ? 0 : 3);
    int status;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    if (WIFSIGNALED(status)) {
        printf("int $0x80 raised signal %d (%s): IA32 emulation is off in this kernel\n", WTERMSIG(status),
               strsignal(WTERMSIG(status)));
        return 77;
    }
    if (WEXITSTATUS(status) == 3) {
        printf("int $0x80 getpid did not return the pid: no IA32 emulation\n");
        return 77;
    }
    printf("IA32 emulation works\n");
    return 0;
}

int main(int argc, char** argv) {
    if (argc > 1 && strcmp(argv[1], "probe") == 0) return probe();
    int only64 = argc > 1 && strcmp(argv[1], "64") == 0;
    tt_ready();
    long p64 = m_personality();
    if (only64) {
        tt_say("personality x86_64 %lx\n", p64);
        return tt_done(0);
    }
    long p32 = i386_syscall(136, 0xffffffffL, 0, 0);
    long cpu = i386_syscall(318, 0, 0, 0);
    tt_say("personality x86_64 %lx, i386 %lx; i386 getcpu returned %ld\n", p64, p32, cpu);
    return tt_done(0);
}
