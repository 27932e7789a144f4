#include "syscall_args.h"

#include "syscall_table.h"

namespace ksc {
namespace detail {
extern const ArgSpec kArgSpecs[];
extern const std::size_t kArgSpecCount;
}  // namespace detail

std::span<const ArgSpec> arg_specs() {
    return {detail::kArgSpecs, detail::kArgSpecCount};
}

unsigned arch_bit(Arch arch) {
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
    return 31;
}

const ArgSpec* arg_spec(Arch arch, std::string_view name) {
    for (const auto& s : arg_specs())
        if (s.syscall == name && (s.arches & (1u << arch_bit(arch)))) return &s;
    return nullptr;
}

const ArgSpec* arg_spec(Arch arch, std::uint32_t nr) {
    auto name = syscall_name(arch, nr);
    return name ? arg_spec(arch, *name) : nullptr;
}

const ArgSpec* arg_spec_any(std::string_view name) {
    for (const auto& s : arg_specs())
        if (s.syscall == name) return &s;
    return nullptr;
}

}  // namespace ksc
