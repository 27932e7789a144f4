// A 32-bit (i386) program: its syscalls must be recorded as SCMP_ARCH_X86 with i386 numbers
// (sysinfo 116, personality 136), never as the x86_64 calls with those numbers.
#include "tt.h"

int main(void) {
    tt_ready();
    m_sysinfo();
    long p = m_personality();
    tt_say("32-bit: personality %lx\n", p);
    return tt_done(0);
}
