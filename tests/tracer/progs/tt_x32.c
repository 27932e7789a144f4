// x32 syscalls (number | 0x40000000) from a 64-bit program: recorded as SCMP_ARCH_X32, getcpu 309.
// `tt_x32 probe` exits 77 when the kernel has no x32 ABI (CONFIG_X86_X32_ABI off or
// syscall.x32=n), so that the test can skip with that reason.
#include "tt.h"

#define X32_BIT 0x40000000L

int main(int argc, char** argv) {
    long r = syscall(X32_BIT | 39 /* getpid */);
    if (argc > 1 && strcmp(argv[1], "probe") == 0) {
        if (r < 0) {
            printf("x32 getpid failed: %s\n", strerror(errno));
            return 77;
        }
        printf("x32 supported\n");
        return 0;
    }
    tt_ready();
    long cpu = syscall(X32_BIT | 309, NULL, NULL, NULL);
    tt_say("x32 getcpu returned %ld\n", cpu);
    return tt_done(0);
}
