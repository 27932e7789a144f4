// Test helpers for classic-BPF seccomp programs: an assembler of single instructions and a
// generator of random valid programs (the unit tests and the kernel comparison use them). Not
// linked into any binary but the tests.
#pragma once

#include <random>
#include <vector>

#include "seccomp_bpf.h"

namespace ksc::bpf::testing {

using namespace op;

inline Instruction insn(std::uint16_t code, std::uint32_t k = 0) {
    return Instruction{code, 0, 0, k};
}
inline Instruction ld_abs(std::uint32_t offset) {
    return insn(kLdWAbs, offset);
}
inline Instruction ret_k(std::uint32_t verdict) {
    return insn(kRetK, verdict);
}
inline Instruction ret_a() {
    return insn(kRetA);
}
inline Instruction jmp(std::uint16_t code, std::uint8_t jt, std::uint8_t jf, std::uint32_t k) {
    return Instruction{code, jt, jf, k};
}

// A verdict from every kind the kernel distinguishes, with data.
inline std::uint32_t random_verdict(std::mt19937& rng) {
    static const std::uint32_t actions[] = {kRetAllow,       kRetAllow, kRetErrno,     kRetErrno,
                                            kRetErrno,       kRetLog,   kRetTrap,      kRetKillThread,
                                            kRetKillProcess, kRetTrace, kRetUserNotif, 0x00010000U};
    std::uint32_t action = actions[rng() % std::size(actions)];
    std::uint32_t data = rng() % 4 == 0 ? rng() & kRetData : rng() % 200;
    return action | data;
}

// A constant a program compares with or computes from: small numbers, the arguments' typical
// values and random words.
inline std::uint32_t random_constant(std::mt19937& rng) {
    switch (rng() % 4) {
        case 0:
            return rng() % 8;
        case 1:
            return static_cast<std::uint32_t>(1) << (rng() % 32);
        case 2:
            return 0xffffffffU - rng() % 4;
        default:
            return static_cast<std::uint32_t>(rng());
    }
}

// A random program the kernel accepts: every seccomp opcode, jumps forward, memory cells read only
// after they were stored on every path (retried until validate() agrees). With `distinct_errnos`,
// a RET K returns ERRNO with its own position, a RET A mostly ERRNO with A's low 11 bits, so that
// most paths end in a verdict of their own and a wrong step shows.
inline Program random_program(std::mt19937& rng, std::size_t max_length = 40, bool distinct_errnos = false) {
    static const std::uint16_t codes[] = {
        kLdWAbs,  kLdWAbs,  kLdWAbs,  kLdWLen,  kLdxWLen, kLdImm,   kLdxImm,  kLdMem,   kLdxMem,
        kSt,      kStx,     kAluAddK, kAluAddX, kAluSubK, kAluSubX, kAluMulK, kAluMulX, kAluDivK,
        kAluDivX, kAluOrK,  kAluOrX,  kAluAndK, kAluAndX, kAluLshK, kAluLshX, kAluRshK, kAluRshX,
        kAluNeg,  kAluXorK, kAluXorX, kJa,      kJeqK,    kJeqK,    kJeqX,    kJgtK,    kJgtX,
        kJgeK,    kJgeX,    kJsetK,   kJsetX,   kRetK,    kRetA,    kTax,     kTxa};
    for (;;) {
        std::size_t n = 1 + rng() % max_length;
        Program p;
        std::uint16_t stored = 0;
        for (std::size_t pc = 0; pc + 1 < n; ++pc) {
            std::uint16_t code = codes[rng() % std::size(codes)];
            std::size_t room = n - pc - 2;  // instructions a jump may skip
            Instruction i = insn(code, random_constant(rng));
            switch (code) {
                case kLdWAbs:
                    i.k = (rng() % 16) * 4;
                    break;
                case kLdMem:
                case kLdxMem:
                case kSt:
                case kStx:
                    i.k = rng() % 16;
                    if ((code == kLdMem || code == kLdxMem) && stored != 0)
                        while (!(stored & (1U << i.k))) i.k = rng() % 16;
                    if (code == kSt || code == kStx) stored |= static_cast<std::uint16_t>(1U << i.k);
                    break;
                case kAluDivK:
                    if (i.k == 0) i.k = 3;
                    break;
                case kAluLshK:
                case kAluRshK:
                    i.k %= 32;
                    break;
                case kJa:
                    i.k = room == 0
                              ? 0
                              : static_cast<std::uint32_t>(rng() % (std::min<std::size_t>(room, 6) + 1));
                    break;
                case kRetK:
                    i.k = distinct_errnos ? kRetErrno | static_cast<std::uint32_t>(1 + pc)
                                          : random_verdict(rng);
                    break;
                case kRetA:
                    if (distinct_errnos && pc + 3 < n) {
                        p.push_back(insn(kAluAndK, 0x7ff));
                        p.push_back(insn(kAluOrK, kRetErrno));
                        pc += 2;
                    }
                    break;
                default:
                    break;
            }
            if (i.code == kJeqK || i.code == kJeqX || i.code == kJgtK || i.code == kJgtX || i.code == kJgeK ||
                i.code == kJgeX || i.code == kJsetK || i.code == kJsetX) {
                std::size_t most = std::min<std::size_t>(room, 255);
                i.jt = static_cast<std::uint8_t>(rng() % (most + 1));
                i.jf = static_cast<std::uint8_t>(rng() % (most + 1));
            }
            p.push_back(i);
        }
        if (distinct_errnos) {
            p.push_back(insn(kAluAndK, 0x7ff));
            p.push_back(insn(kAluOrK, kRetErrno));
            p.push_back(ret_a());
        } else {
            p.push_back(rng() % 4 == 0 ? ret_a() : ret_k(random_verdict(rng)));
        }
        if (validate(p).ok()) return p;
    }
}

// A call whose arguments often meet the constants random_program() compares with.
inline SeccompData random_call(std::mt19937& rng) {
    SeccompData d;
    d.nr = static_cast<std::int32_t>(rng() % 500);
    d.arch = rng() % 2 ? 0xc000003eU : 0x40000003U;
    d.instruction_pointer = (static_cast<std::uint64_t>(rng()) << 32) | rng();
    for (auto& a : d.args)
        a = (static_cast<std::uint64_t>(random_constant(rng)) << 32) | random_constant(rng);
    return d;
}

}  // namespace ksc::bpf::testing
