// i386 syscalls from a 64-bit program through `int $0x80`: recorded as SCMP_ARCH_X86
// personality (136) and getcpu (318), beside the x86_64 personality (135) it also makes.
#include "tt.h"

static long i386_syscall(long nr, long a, long b, long c) {
    long ret;
    __asm__ volatile("int $0x80"
                     : "=a"(ret)
                     : "a"(nr), "b"(a), "c"(b), "d"(c)
                     : "memory", "r8", "r9", "r10", "r11");
    return ret;
}

int main(void) {
    tt_ready();
    long p64 = m_personality();
    long p32 = i386_syscall(136, 0xffffffffL, 0, 0);
    long cpu = i386_syscall(318, 0, 0, 0);
    tt_say("personality x86_64 %lx, i386 %lx; i386 getcpu returned %ld\n", p64, p32, cpu);
    return tt_done(0);
}
