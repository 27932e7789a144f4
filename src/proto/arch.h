// Architectures, keyed by their AUDIT_ARCH_* value as the kernel reports it in
// PTRACE_GET_SYSCALL_INFO and seccomp_data.arch, printed as libseccomp's SCMP_ARCH_* names.
//
// x32 shares AUDIT_ARCH_X86_64 with x86_64; the kernel tells them apart by bit 30 of the syscall
// number (__X32_SYSCALL_BIT). Like libseccomp, we give x32 its own key so that tables, profiles
// and streams can name it; its numbers are stored without the x32 bit.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

namespace ksc {

enum class Arch : std::uint32_t {
    X86_64 = 0xC000003E,   // AUDIT_ARCH_X86_64
    X86 = 0x40000003,      // AUDIT_ARCH_I386
    X32 = 0x4000003E,      // libseccomp's SCMP_ARCH_X32 (EM_X86_64, little endian, not 64-bit)
    AARCH64 = 0xC00000B7,  // AUDIT_ARCH_AARCH64
    ARM = 0x40000028,      // AUDIT_ARCH_ARM
};

inline constexpr std::uint32_t kX32SyscallBit = 0x40000000;

// All architectures we know, in a stable order (used for sorting output).
std::span<const Arch> all_arches();

inline constexpr unsigned kArchCount = 5;
// The architecture's place in all_arches(), 0..kArchCount-1, for tables and bit sets per
// architecture (the tracer's counters, the argument table's `arches` bits); kArchCount for a
// value that is none of ours. Inline: the tracer asks it at every stop.
constexpr unsigned arch_index(Arch arch) {
    switch (arch) {
        case Arch::X86_64:
            return 0;
        case Arch::X86:
            return 1;
        case Arch::X32:
            return 2;
        case Arch::AARCH64:
            return 3;
        case Arch::ARM:
            return 4;
    }
    return kArchCount;
}

// "SCMP_ARCH_X86_64" etc.
std::string_view arch_name(Arch arch);
// Accepts "SCMP_ARCH_X86_64" and the short forms libseccomp/Docker also use ("x86_64", "amd64",
// "x86", "i386", "x32", "aarch64", "arm64", "arm").
std::optional<Arch> arch_from_name(std::string_view name);
std::optional<Arch> arch_from_audit(std::uint32_t audit_arch);

// The architecture a syscall really belongs to, given the AUDIT_ARCH value and the raw syscall
// number the kernel reported: x86_64 numbers with the x32 bit are x32 calls. `nr` is updated to
// the number without the x32 bit.
std::optional<Arch> classify_syscall(std::uint32_t audit_arch, std::uint64_t& nr);

// The architectures whose programs can run on a kernel of `native` (the compat ones): for
// x86_64, x86 and x32; for aarch64, arm.
std::span<const Arch> compat_arches(Arch native);

// The architecture this binary was compiled for.
Arch native_arch();

}  // namespace ksc
