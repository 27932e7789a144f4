#include "seccomp_bpf.h"

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <optional>

namespace ksc::bpf {
namespace {

using namespace op;

constexpr std::uint32_t kSeccompDataSize = 64;  // sizeof(struct seccomp_data)
constexpr std::uint32_t kMemWords = 16;         // BPF_MEMWORDS
constexpr std::uint16_t kMaxErrno = 4095;       // MAX_ERRNO: the kernel clamps ERRNO data to it

bool is_conditional_jump(std::uint16_t code) {
    switch (code) {
        case kJeqK:
        case kJeqX:
        case kJgtK:
        case kJgtX:
        case kJgeK:
        case kJgeX:
        case kJsetK:
        case kJsetX:
            return true;
        default:
            return false;
    }
}

bool is_allowed_code(std::uint16_t code) {
    switch (code) {
        case kLdWAbs:
        case kLdWLen:
        case kLdxWLen:
        case kLdImm:
        case kLdxImm:
        case kLdMem:
        case kLdxMem:
        case kSt:
        case kStx:
        case kAluAddK:
        case kAluAddX:
        case kAluSubK:
        case kAluSubX:
        case kAluMulK:
        case kAluMulX:
        case kAluDivK:
        case kAluDivX:
        case kAluOrK:
        case kAluOrX:
        case kAluAndK:
        case kAluAndX:
        case kAluLshK:
        case kAluLshX:
        case kAluRshK:
        case kAluRshX:
        case kAluNeg:
        case kAluXorK:
        case kAluXorX:
        case kJa:
        case kRetK:
        case kRetA:
        case kTax:
        case kTxa:
            return true;
        default:
            return is_conditional_jump(code);
    }
}

std::string at(std::size_t pc, const Instruction& insn, const char* what) {
    char code[8];
    std::snprintf(code, sizeof code, "0x%02x", static_cast<unsigned>(insn.code));
    return "seccomp program instruction " + std::to_string(pc) + " (code " + code + ", k " +
           std::to_string(insn.k) + "): " + what;
}

// check_load_and_stores() of net/core/filter.c: every M[k] a load reads was stored on every path
// to it. A jump's targets keep only the cells valid on every path reaching them; the instruction
// after a jump starts with all cells valid, as in the kernel (only a jump target reaches it).
Status check_memory(std::span<const Instruction> program) {
    std::vector<std::uint16_t> masks(program.size(), 0xffff);
    std::uint16_t valid = 0;
    for (std::size_t pc = 0; pc < program.size(); ++pc) {
        const Instruction& insn = program[pc];
        valid &= masks[pc];
        switch (insn.code) {
            case kSt:
            case kStx:
                valid |= static_cast<std::uint16_t>(1U << insn.k);
                break;
            case kLdMem:
            case kLdxMem:
                if (!(valid & (1U << insn.k)))
                    return make_error(at(pc, insn, "reads a memory cell not written on every path to it"));
                break;
            case kJa:
                masks[pc + 1 + insn.k] &= valid;
                valid = 0xffff;
                break;
            default:
                if (is_conditional_jump(insn.code)) {
                    masks[pc + 1 + insn.jt] &= valid;
                    masks[pc + 1 + insn.jf] &= valid;
                    valid = 0xffff;
                }
                break;
        }
    }
    return Ok{};
}

// The data of a TRACE verdict written by transform_for_trace(): bits 12..15 the original action
// (see encode_trace_data), bits 0..11 its data (the errno of ERRNO, si_errno of TRAP).
std::uint16_t action_code(std::uint32_t action) {
    switch (action) {
        case kRetKillThread:
            return 0;
        case kRetTrap:
            return 3;
        case kRetErrno:
            return 5;
        default:
            return 8;  // KILL_PROCESS, and what the kernel does with an unknown action
    }
}

// The ALU instructions, A op K or A op X: the new A, or nothing for another instruction. A
// division by an X of 0 is the caller's (it ends the program).
std::optional<std::uint32_t> alu(std::uint16_t code, std::uint32_t a, std::uint32_t x, std::uint32_t k) {
    switch (code) {
        case kAluAddK:
            return a + k;
        case kAluAddX:
            return a + x;
        case kAluSubK:
            return a - k;
        case kAluSubX:
            return a - x;
        case kAluMulK:
            return a * k;
        case kAluMulX:
            return a * x;
        case kAluDivK:
            return a / k;
        case kAluDivX:
            return a / x;
        case kAluOrK:
            return a | k;
        case kAluOrX:
            return a | x;
        case kAluAndK:
            return a & k;
        case kAluAndX:
            return a & x;
        case kAluLshK:
            return a << k;
        case kAluLshX:
            return a << (x & 31);  // eBPF's 32-bit shift by a register uses its low 5 bits
        case kAluRshK:
            return a >> k;
        case kAluRshX:
            return a >> (x & 31);
        case kAluNeg:
            return 0U - a;
        case kAluXorK:
            return a ^ k;
        case kAluXorX:
            return a ^ x;
        default:
            return std::nullopt;
    }
}

// The conditional jumps: whether the condition holds (jt is taken), or nothing for another
// instruction.
std::optional<bool> jump_condition(std::uint16_t code, std::uint32_t a, std::uint32_t x, std::uint32_t k) {
    switch (code) {
        case kJeqK:
            return a == k;
        case kJeqX:
            return a == x;
        case kJgtK:
            return a > k;
        case kJgtX:
            return a > x;
        case kJgeK:
            return a >= k;
        case kJgeX:
            return a >= x;
        case kJsetK:
            return (a & k) != 0;
        case kJsetX:
            return (a & x) != 0;
        default:
            return std::nullopt;
    }
}

}  // namespace

Status validate(std::span<const Instruction> program) {
    if (program.empty())
        return make_error("the seccomp program is empty; a filter needs at least one return");
    if (program.size() > kMaxInstructions)
        return make_error("the seccomp program has " + std::to_string(program.size()) +
                          " instructions; the kernel refuses more than " + std::to_string(kMaxInstructions));
    const std::size_t size = program.size();
    for (std::size_t pc = 0; pc < size; ++pc) {
        const Instruction& insn = program[pc];
        if (!is_allowed_code(insn.code)) return make_error(at(pc, insn, "not an opcode seccomp allows"));
        switch (insn.code) {
            case kLdWAbs:
                if (insn.k >= kSeccompDataSize || insn.k % 4 != 0)
                    return make_error(at(pc, insn, "loads outside seccomp_data or an unaligned word"));
                break;
            case kAluDivK:
                if (insn.k == 0) return make_error(at(pc, insn, "divides by a constant zero"));
                break;
            case kAluLshK:
            case kAluRshK:
                if (insn.k >= 32) return make_error(at(pc, insn, "shifts by 32 or more"));
                break;
            case kLdMem:
            case kLdxMem:
            case kSt:
            case kStx:
                if (insn.k >= kMemWords) return make_error(at(pc, insn, "names a memory cell past M[15]"));
                break;
            case kJa:
                if (insn.k >= size - pc - 1) return make_error(at(pc, insn, "jumps past the program's end"));
                break;
            default:
                if (is_conditional_jump(insn.code) && (pc + insn.jt + 1 >= size || pc + insn.jf + 1 >= size))
                    return make_error(at(pc, insn, "jumps past the program's end"));
                break;
        }
    }
    const Instruction& last = program[size - 1];
    if (last.code != kRetK && last.code != kRetA)
        return make_error(at(size - 1, last, "the last instruction is not a return"));
    return check_memory(program);
}

std::uint32_t run(std::span<const Instruction> program, const SeccompData& data) {
    unsigned char bytes[kSeccompDataSize];
    std::memcpy(bytes, &data.nr, 4);
    std::memcpy(bytes + 4, &data.arch, 4);
    std::memcpy(bytes + 8, &data.instruction_pointer, 8);
    std::memcpy(bytes + 16, data.args, 48);
    std::uint32_t a = 0;
    std::uint32_t x = 0;
    std::uint32_t mem[kMemWords] = {};
    for (std::size_t pc = 0; pc < program.size(); ++pc) {
        const Instruction& insn = program[pc];
        const std::uint32_t k = insn.k;
        // The kernel's translation of classic BPF ends the program with 0 (KILL_THREAD).
        if (insn.code == kAluDivX && x == 0) return 0;
        if (auto value = alu(insn.code, a, x, k)) {
            a = *value;
            continue;
        }
        if (auto taken = jump_condition(insn.code, a, x, k)) {
            pc += *taken ? insn.jt : insn.jf;
            continue;
        }
        switch (insn.code) {
            case kLdWAbs:
                std::memcpy(&a, bytes + k, 4);  // native byte order, as the kernel reads the struct
                break;
            case kLdWLen:
                a = kSeccompDataSize;
                break;
            case kLdxWLen:
                x = kSeccompDataSize;
                break;
            case kLdImm:
                a = k;
                break;
            case kLdxImm:
                x = k;
                break;
            case kLdMem:
                a = mem[k];
                break;
            case kLdxMem:
                x = mem[k];
                break;
            case kSt:
                mem[k] = a;
                break;
            case kStx:
                mem[k] = x;
                break;
            case kJa:
                pc += k;
                break;
            case kRetK:
                return k;
            case kRetA:
                return a;
            case kTax:
                x = a;
                break;
            case kTxa:
                a = x;
                break;
            default:
                return kRetKillProcess;  // unreachable for a validated program
        }
    }
    return kRetKillProcess;  // unreachable: a validated program ends with a return
}

std::uint32_t verdict_action(std::uint32_t verdict) {
    std::uint32_t action = verdict & kRetActionFull;
    switch (action) {
        case kRetKillThread:
        case kRetTrap:
        case kRetErrno:
        case kRetUserNotif:
        case kRetTrace:
        case kRetLog:
        case kRetAllow:
            return action;
        default:
            return kRetKillProcess;
    }
}

std::uint16_t verdict_errno(std::uint32_t verdict) {
    return static_cast<std::uint16_t>(std::min<std::uint32_t>(verdict & kRetData, kMaxErrno));
}

std::string pack(std::span<const Instruction> program) {
    std::string bytes(program.size() * sizeof(Instruction), '\0');
    if (!program.empty()) std::memcpy(bytes.data(), program.data(), bytes.size());
    return bytes;
}

Result<Program> unpack(std::string_view bytes) {
    if (bytes.size() % sizeof(Instruction) != 0)
        return make_error("a seccomp program of " + std::to_string(bytes.size()) +
                          " bytes is not a whole number of 8-byte instructions");
    if (bytes.size() > kMaxInstructions * sizeof(Instruction))
        return make_error("the seccomp program has " + std::to_string(bytes.size() / sizeof(Instruction)) +
                          " instructions; the kernel refuses more than " + std::to_string(kMaxInstructions));
    Program program(bytes.size() / sizeof(Instruction));
    if (!program.empty()) std::memcpy(program.data(), bytes.data(), bytes.size());
    if (auto valid = validate(program); !valid) return valid.error();
    return program;
}

// Encoding of the 16-bit data of the TRACE verdicts transform_for_trace() writes:
//   bits 12..15: the original action: 0 KILL_THREAD, 3 TRAP, 5 ERRNO (their SECCOMP_RET_* value
//                >> 16), 8 KILL_PROCESS (0x8000 >> 12); decode reads any other value as
//                KILL_PROCESS, which is what the kernel does with an action it does not know;
//   bits 0..11:  the original data, at most 4095: the errno of ERRNO (the kernel clamps it to
//                4095 too), the si_errno of TRAP (larger TRAP data are clamped; libseccomp and
//                runc write 0); 0 for the kills.
std::uint16_t encode_trace_data(std::uint32_t action, std::uint16_t errno_value) {
    std::uint32_t known = verdict_action(action);
    std::uint16_t value = known == kRetErrno || known == kRetTrap ? std::min(errno_value, kMaxErrno) : 0;
    return static_cast<std::uint16_t>(action_code(known) << 12 | value);
}

OriginalVerdict decode_trace_data(std::uint16_t data) {
    OriginalVerdict verdict;
    std::uint16_t value = data & 0x0fff;
    switch (data >> 12) {
        case 0:
            verdict.action = kRetKillThread;
            break;
        case 3:
            verdict.action = kRetTrap;
            verdict.errno_value = value;
            break;
        case 5:
            verdict.action = kRetErrno;
            verdict.errno_value = value;
            break;
        default:
            verdict.action = kRetKillProcess;
            break;
    }
    return verdict;
}

Result<Program> transform_for_trace(std::span<const Instruction> program) {
    if (auto valid = validate(program); !valid) return valid.error();
    Program out(program.begin(), program.end());
    bool returns_a = false;
    for (std::size_t pc = 0; pc < out.size(); ++pc) {
        Instruction& insn = out[pc];
        if (insn.code == kAluDivX)  // its zero divisor would end the program with KILL_THREAD, untraced
            return make_error(
                at(pc, insn, "divides by X, which the tracer's copy cannot guard against zero"));
        if (insn.code == kRetA) {
            returns_a = true;
            continue;
        }
        if (insn.code != kRetK) continue;
        std::uint32_t action = verdict_action(insn.k);
        if (action == kRetAllow || action == kRetLog) continue;
        if (action == kRetTrace || action == kRetUserNotif)
            return make_error(at(pc, insn,
                                 action == kRetTrace
                                     ? "returns SCMP_ACT_TRACE; a checked profile cannot use it"
                                     : "returns SCMP_ACT_NOTIFY; no listener can answer it"));
        insn.k = kRetTrace | encode_trace_data(action, static_cast<std::uint16_t>(insn.k & kRetData));
    }
    if (!returns_a) return out;

    // A verdict computed at run time: each RET A jumps to one tail appended to the program that
    // rewrites A as above. TRACE and USER_NOTIF computed at run time become ERRNO ENOSYS, what the
    // kernel answers when no tracer or listener is attached.
    const std::uint32_t tail = static_cast<std::uint32_t>(out.size());
    for (std::size_t pc = 0; pc < out.size(); ++pc)
        if (out[pc].code == kRetA)
            out[pc] = Instruction{kJa, 0, 0, static_cast<std::uint32_t>(tail - pc - 1)};
    const auto trace = [](std::uint32_t action, std::uint16_t value) {
        return Instruction{kRetK, 0, 0, kRetTrace | encode_trace_data(action, value)};
    };
    constexpr std::uint16_t kEnosys = 38;
    const Instruction tail_code[] = {
        /*  0 */ {kTax, 0, 0, 0},
        /*  1 */ {kAluAndK, 0, 0, kRetActionFull},
        /*  2 */ {kJeqK, 9, 0, kRetAllow},       // -> 12
        /*  3 */ {kJeqK, 8, 0, kRetLog},         // -> 12
        /*  4 */ {kJeqK, 9, 0, kRetErrno},       // -> 14
        /*  5 */ {kJeqK, 14, 0, kRetTrap},       // -> 20
        /*  6 */ {kJeqK, 3, 0, kRetKillThread},  // -> 10
        /*  7 */ {kJeqK, 3, 0, kRetTrace},       // -> 11
        /*  8 */ {kJeqK, 2, 0, kRetUserNotif},   // -> 11
        /*  9 */ trace(kRetKillProcess, 0),      // KILL_PROCESS and unknown actions
        /* 10 */ trace(kRetKillThread, 0),
        /* 11 */ trace(kRetErrno, kEnosys),
        /* 12 */ {kTxa, 0, 0, 0},
        /* 13 */ {kRetA, 0, 0, 0},
        /* 14 */ {kTxa, 0, 0, 0},
        /* 15 */ {kAluAndK, 0, 0, kRetData},
        /* 16 */ {kJgtK, 0, 1, kMaxErrno},
        /* 17 */ {kLdImm, 0, 0, kMaxErrno},
        /* 18 */ {kAluOrK, 0, 0, kRetTrace | encode_trace_data(kRetErrno, 0)},
        /* 19 */ {kRetA, 0, 0, 0},
        /* 20 */ {kTxa, 0, 0, 0},
        /* 21 */ {kAluAndK, 0, 0, kRetData},
        /* 22 */ {kJgtK, 0, 1, kMaxErrno},
        /* 23 */ {kLdImm, 0, 0, kMaxErrno},
        /* 24 */ {kAluOrK, 0, 0, kRetTrace | encode_trace_data(kRetTrap, 0)},
        /* 25 */ {kRetA, 0, 0, 0},
    };
    out.insert(out.end(), std::begin(tail_code), std::end(tail_code));
    if (out.size() > kMaxInstructions)
        return make_error("the seccomp program rewritten for the tracer has " + std::to_string(out.size()) +
                          " instructions; the kernel refuses more than " + std::to_string(kMaxInstructions));
    return out;
}

std::string_view action_name(std::uint32_t action) {
    switch (verdict_action(action)) {
        case kRetKillThread:
            return "SCMP_ACT_KILL_THREAD";
        case kRetTrap:
            return "SCMP_ACT_TRAP";
        case kRetErrno:
            return "SCMP_ACT_ERRNO";
        case kRetUserNotif:
            return "SCMP_ACT_NOTIFY";
        case kRetTrace:
            return "SCMP_ACT_TRACE";
        case kRetLog:
            return "SCMP_ACT_LOG";
        case kRetAllow:
            return "SCMP_ACT_ALLOW";
        default:
            return "SCMP_ACT_KILL_PROCESS";
    }
}

}  // namespace ksc::bpf
