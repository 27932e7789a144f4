#include "launch.h"

#include <linux/seccomp.h>

#include <doctest/doctest.h>

#include "arch.h"

using namespace ksc;
using namespace ksc::tracer;

namespace {

// Runs the launch filter the way the kernel would, for the few instructions it uses: a check that
// the packing round-trips, without installing a filter that could never be removed.
std::uint32_t run_filter(std::uint32_t audit_arch, std::uint32_t nr) {
    sock_fprog prog = seccomp_trace_program();
    std::uint32_t a = 0, x = 0;
    for (unsigned pc = 0; pc < prog.len; ++pc) {
        const sock_filter& i = prog.filter[pc];
        switch (i.code) {
            case BPF_LD | BPF_W | BPF_ABS:
                a = i.k == offsetof(seccomp_data, arch) ? audit_arch : i.k == 0 ? nr : 0xdead;
                break;
            case BPF_LDX | BPF_IMM:
                x = i.k;
                break;
            case BPF_JMP | BPF_JA:
                pc += i.k;
                break;
            case BPF_JMP | BPF_JEQ | BPF_K:
                pc += a == i.k ? i.jt : i.jf;
                break;
            case BPF_JMP | BPF_JGE | BPF_K:
                pc += a >= i.k ? i.jt : i.jf;
                break;
            case BPF_JMP | BPF_JSET | BPF_K:
                pc += (a & i.k) ? i.jt : i.jf;
                break;
            case BPF_ALU | BPF_AND | BPF_K:
                a &= i.k;
                break;
            case BPF_ALU | BPF_OR | BPF_K:
                a |= i.k;
                break;
            case BPF_ALU | BPF_OR | BPF_X:
                a |= x;
                break;
            case BPF_RET | BPF_A:
                return a;
            case BPF_RET | BPF_K:
                return i.k;
            default:
                FAIL("an instruction the test does not know: ", i.code);
                return 0;
        }
    }
    FAIL("the program ran off its end");
    return 0;
}

}  // namespace

TEST_CASE("the launch filter traces every call and packs (arch, nr) losslessly, or asks") {
    const std::uint32_t arches[] = {0xC000003E, 0x40000003, 0xC00000B7, 0x40000028, 0xC00000F3 /* riscv64 */};
    const std::uint32_t nrs[] = {
        0,       1,         39, 110, 435, 1023, 4095, 4096, 0x40000000, 0x40000000 + 547, 0x40000000 + 4096,
        0xf0002, 0xffffffff};
    for (std::uint32_t arch : arches) {
        for (std::uint32_t nr : nrs) {
            CAPTURE(arch);
            CAPTURE(nr);
            std::uint32_t ret = run_filter(arch, nr);
            CHECK((ret & SECCOMP_RET_ACTION_FULL) == SECCOMP_RET_TRACE);
            std::uint32_t got_arch = 0;
            std::uint64_t got_nr = 0;
            bool packed = unpack_trace_data(ret & SECCOMP_RET_DATA, got_arch, got_nr);
            bool fits = arch != 0xC00000F3 && (nr & ~0x40000000u) < 4096;
            CHECK(packed == fits);
            if (packed) {
                CHECK(got_arch == arch);
                CHECK(got_nr == nr);
            }
        }
    }
}
