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

const ArgSpec* arg_spec(Arch arch, std::string_view name) {
    for (const auto& s : arg_specs())
        if (s.syscall == name && (s.arches & (1u << arch_index(arch)))) return &s;
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
