// The generated tables behind syscall_table.h (syscall_table_data.cpp, made by
// tools/update-syscalls from src/proto/syscalls.csv). Only syscall_table.cpp and its tests use this.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>

#include "syscall_table.h"

namespace ksc::detail {

struct ArchTable {
    Arch arch;
    std::span<const SyscallEntry> by_number;  // sorted by number
    std::span<const std::uint16_t> by_name;   // indices into by_number, sorted by name
};

std::string_view table_kernel();
std::span<const ArchTable> arch_tables();

}  // namespace ksc::detail
