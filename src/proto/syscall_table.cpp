#include "syscall_table.h"

#include <algorithm>

#include "syscall_table_data.h"

namespace ksc {
namespace {

const detail::ArchTable* table_of(Arch arch) {
    for (const auto& table : detail::arch_tables())
        if (table.arch == arch) return &table;
    return nullptr;
}

}  // namespace

std::string_view syscall_table_kernel() {
    return detail::table_kernel();
}

std::span<const SyscallEntry> syscalls(Arch arch) {
    const auto* table = table_of(arch);
    return table ? table->by_number : std::span<const SyscallEntry>{};
}

std::optional<std::string_view> syscall_name(Arch arch, std::uint32_t nr) {
    auto entries = syscalls(arch);
    auto it = std::lower_bound(entries.begin(), entries.end(), nr,
                               [](const SyscallEntry& e, std::uint32_t n) { return e.nr < n; });
    if (it == entries.end() || it->nr != nr) return std::nullopt;
    return it->name;
}

const SyscallEntry* find_syscall(Arch arch, std::string_view name) {
    const auto* table = table_of(arch);
    if (!table) return nullptr;
    auto by_number = table->by_number;
    auto it = std::lower_bound(table->by_name.begin(), table->by_name.end(), name,
                               [&](std::uint16_t i, std::string_view n) { return by_number[i].name < n; });
    if (it == table->by_name.end() || by_number[*it].name != name) return nullptr;
    return &by_number[*it];
}

std::optional<std::uint32_t> syscall_number(Arch arch, std::string_view name) {
    const auto* entry = find_syscall(arch, name);
    if (!entry) return std::nullopt;
    return entry->nr;
}

}  // namespace ksc
