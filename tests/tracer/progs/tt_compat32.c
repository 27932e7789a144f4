// A 32-bit (i386) program: its syscalls must be recorded as SCMP_ARCH_X86 with i386 numbers
// (sysinfo 116, personality 136), never as the x86_64 calls with those numbers.
// `tt_compat32 probe` only exits 0: where the kernel cannot exec it (IA32 emulation off) the
// exec itself fails with ENOEXEC, and the tests skip with that reason.
#include "tt.h"

int main(int argc, char** argv) {
    if (argc > 1 && strcmp(argv[1], "probe") == 0) return 0;
    tt_ready();
    m_sysinfo();
    long p = m_personality();
    tt_say("32-bit: personality %lx\n", p);
    return tt_done(0);
}
