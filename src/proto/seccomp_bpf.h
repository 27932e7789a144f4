// Classic-BPF seccomp programs: validated, run and rewritten as the kernel does, with no kernel
// headers (the plugin builds on any host). The plugin compiles a profile to a program
// (src/profile_compile.h) and sends it to the tracer, which runs it over each syscall stop's
// seccomp_data (attach check) or installs a rewritten copy of it (from-start check). Both sides
// link this file; it stays small (the tracer image is bounded at 1.5 MiB).
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "result.h"

namespace ksc::bpf {

// struct sock_filter, laid out as the kernel's (8 bytes, native byte order).
struct Instruction {
    std::uint16_t code = 0;
    std::uint8_t jt = 0;
    std::uint8_t jf = 0;
    std::uint32_t k = 0;
};
static_assert(sizeof(Instruction) == 8);

using Program = std::vector<Instruction>;

// Classic-BPF opcodes (linux/filter.h, linux/bpf_common.h): every one a seccomp filter may use.
namespace op {
enum : std::uint16_t {
    kLdWAbs = 0x20,   // A = seccomp_data[k]
    kLdWLen = 0x80,   // A = sizeof(seccomp_data)
    kLdxWLen = 0x81,  // X = sizeof(seccomp_data)
    kLdImm = 0x00,    // A = k
    kLdxImm = 0x01,   // X = k
    kLdMem = 0x60,    // A = M[k]
    kLdxMem = 0x61,   // X = M[k]
    kSt = 0x02,       // M[k] = A
    kStx = 0x03,      // M[k] = X
    kAluAddK = 0x04,
    kAluAddX = 0x0c,
    kAluSubK = 0x14,
    kAluSubX = 0x1c,
    kAluMulK = 0x24,
    kAluMulX = 0x2c,
    kAluDivK = 0x34,
    kAluDivX = 0x3c,
    kAluOrK = 0x44,
    kAluOrX = 0x4c,
    kAluAndK = 0x54,
    kAluAndX = 0x5c,
    kAluLshK = 0x64,
    kAluLshX = 0x6c,
    kAluRshK = 0x74,
    kAluRshX = 0x7c,
    kAluNeg = 0x84,
    kAluXorK = 0xa4,
    kAluXorX = 0xac,
    kJa = 0x05,
    kJeqK = 0x15,
    kJeqX = 0x1d,
    kJgtK = 0x25,
    kJgtX = 0x2d,
    kJgeK = 0x35,
    kJgeX = 0x3d,
    kJsetK = 0x45,
    kJsetX = 0x4d,
    kRetK = 0x06,
    kRetA = 0x16,
    kTax = 0x07,
    kTxa = 0x87,
};
}  // namespace op

// BPF_MAXINSNS: the kernel refuses a seccomp filter longer than this.
inline constexpr std::size_t kMaxInstructions = 4096;

// struct seccomp_data: what a seccomp filter sees of a syscall.
struct SeccompData {
    std::int32_t nr = 0;     // the raw number (x32 calls with their 0x40000000 bit)
    std::uint32_t arch = 0;  // AUDIT_ARCH_*
    std::uint64_t instruction_pointer = 0;
    std::uint64_t args[6] = {};
};

// SECCOMP_RET_* action values (the high 16 bits of a return value; the low 16 are its data).
inline constexpr std::uint32_t kRetKillProcess = 0x80000000U;
inline constexpr std::uint32_t kRetKillThread = 0x00000000U;
inline constexpr std::uint32_t kRetTrap = 0x00030000U;
inline constexpr std::uint32_t kRetErrno = 0x00050000U;
inline constexpr std::uint32_t kRetUserNotif = 0x7fc00000U;
inline constexpr std::uint32_t kRetTrace = 0x7ff00000U;
inline constexpr std::uint32_t kRetLog = 0x7ffc0000U;
inline constexpr std::uint32_t kRetAllow = 0x7fff0000U;
inline constexpr std::uint32_t kRetActionFull = 0xffff0000U;
inline constexpr std::uint32_t kRetData = 0x0000ffffU;

// The kernel's checks of a seccomp filter (seccomp_check_filter and bpf_check_classic): seccomp's
// opcodes only (no MOD, no byte or half-word loads), loads only of aligned words inside
// seccomp_data, no division by a constant zero nor shift by 32 or more, memory cells M[0..15]
// read only after a store on every path to the read, jumps forward and inside the program, the
// last instruction a return, 1 to kMaxInstructions instructions. The error names the instruction
// and what is wrong with it.
Status validate(std::span<const Instruction> program);

// The verdict (a SECCOMP_RET_* value with its data) of a validated program for one call, as the
// kernel computes it. Undefined for a program validate() refused.
std::uint32_t run(std::span<const Instruction> program, const SeccompData& data);

// The action the kernel takes for a verdict: its SECCOMP_RET_ACTION_FULL bits, or kRetKillProcess
// for an action no kernel knows (the kernel kills the process for those).
std::uint32_t verdict_action(std::uint32_t verdict);
// The errno an ERRNO verdict sets: its data, clamped to 4095 (MAX_ERRNO) as the kernel does.
std::uint16_t verdict_errno(std::uint32_t verdict);

// The program as bytes (native byte order, as the tracer reads it) and back; base64 of these
// bytes is how the plugin hands a program to the tracer (`--check-program`).
std::string pack(std::span<const Instruction> program);
Result<Program> unpack(std::string_view bytes);  // validated

// A verdict the tracer stops at instead of the original: every return other than ALLOW and LOG
// becomes SECCOMP_RET_TRACE whose 16-bit data carries the original action and errno, so that the
// kernel evaluates every call and the tracer wakes only for the calls the profile refuses.
// A program that returns SECCOMP_RET_TRACE or USER_NOTIF itself is refused (no listener). Each
// RET A becomes a jump to a tail appended to the program that rewrites the verdict at run time
// (a computed TRACE or USER_NOTIF becomes ERRNO ENOSYS, what the kernel answers with no tracer
// or listener). A program that divides by X is refused: a zero X ends it with KILL_THREAD in the
// kernel, which no TRACE would report (libseccomp never writes a division).
Result<Program> transform_for_trace(std::span<const Instruction> program);

// What a SECCOMP_RET_TRACE data value written by transform_for_trace() stood for: the original
// SECCOMP_RET_* action and, for ERRNO, its errno (0..4095; for TRAP, the si_errno of its SIGSYS).
// The encoding: bits 12..15 the action (0 KILL_THREAD, 3 TRAP, 5 ERRNO, 8 KILL_PROCESS; any other
// value decodes as KILL_PROCESS), bits 0..11 the errno, clamped to 4095.
struct OriginalVerdict {
    std::uint32_t action = kRetAllow;
    std::uint16_t errno_value = 0;
};
OriginalVerdict decode_trace_data(std::uint16_t data);
std::uint16_t encode_trace_data(std::uint32_t action, std::uint16_t errno_value);

// "SCMP_ACT_ERRNO" etc. for an action value (the OCI name), "SCMP_ACT_KILL_THREAD" for 0.
std::string_view action_name(std::uint32_t action);

}  // namespace ksc::bpf
