#include "arch.h"

#include <array>

namespace ksc {
namespace {

struct ArchInfo {
    Arch arch;
    std::string_view name;
    std::array<std::string_view, 3> aliases;
};

constexpr std::array<ArchInfo, 5> kArches{{
    {Arch::X86_64, "SCMP_ARCH_X86_64", {"x86_64", "amd64", ""}},
    {Arch::X86, "SCMP_ARCH_X86", {"x86", "i386", "386"}},
    {Arch::X32, "SCMP_ARCH_X32", {"x32", "", ""}},
    {Arch::AARCH64, "SCMP_ARCH_AARCH64", {"aarch64", "arm64", ""}},
    {Arch::ARM, "SCMP_ARCH_ARM", {"arm", "", ""}},
}};

constexpr std::array<Arch, kArchCount> kAll{Arch::X86_64, Arch::X86, Arch::X32, Arch::AARCH64, Arch::ARM};
constexpr std::array<Arch, 2> kX86Compat{Arch::X86, Arch::X32};
constexpr std::array<Arch, 1> kArmCompat{Arch::ARM};

}  // namespace

std::span<const Arch> all_arches() {
    return kAll;
}

std::string_view arch_name(Arch arch) {
    for (const auto& info : kArches)
        if (info.arch == arch) return info.name;
    return "SCMP_ARCH_UNKNOWN";
}

std::optional<Arch> arch_from_name(std::string_view name) {
    for (const auto& info : kArches) {
        if (name == info.name) return info.arch;
        for (auto alias : info.aliases)
            if (!alias.empty() && name == alias) return info.arch;
    }
    return std::nullopt;
}

std::optional<Arch> arch_from_audit(std::uint32_t audit_arch) {
    for (const auto& info : kArches)
        if (static_cast<std::uint32_t>(info.arch) == audit_arch) return info.arch;
    return std::nullopt;
}

std::optional<Arch> classify_syscall(std::uint32_t audit_arch, std::uint64_t& nr) {
    auto arch = arch_from_audit(audit_arch);
    if (arch == Arch::X86_64 && (nr & kX32SyscallBit) && nr != static_cast<std::uint64_t>(-1)) {
        nr &= ~static_cast<std::uint64_t>(kX32SyscallBit);
        return Arch::X32;
    }
    return arch;
}

std::span<const Arch> compat_arches(Arch native) {
    switch (native) {
        case Arch::X86_64:
            return kX86Compat;
        case Arch::AARCH64:
            return kArmCompat;
        default:
            return {};
    }
}

Arch native_arch() {
#if defined(__x86_64__) && defined(__ILP32__)
    return Arch::X32;
#elif defined(__x86_64__)
    return Arch::X86_64;
#elif defined(__i386__)
    return Arch::X86;
#elif defined(__aarch64__)
    return Arch::AARCH64;
#elif defined(__arm__)
    return Arch::ARM;
#else
#error "unsupported architecture"
#endif
}

}  // namespace ksc
