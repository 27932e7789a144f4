// The syscall tables: names and numbers per architecture, current to the kernel version below.
// Single source of truth: src/proto/syscalls.csv (see tools/update-syscalls), compiled into
// syscall_table_data.cpp. Numbers are as the kernel numbers them for that architecture; x32
// numbers are stored without the x32 bit (see arch.h).
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

#include "arch.h"

namespace ksc {

struct SyscallEntry {
    std::string_view name;
    std::uint32_t nr;
    // The kernel version whose table first gave it this number on this architecture, e.g. "6.6";
    // never older than the architecture itself (x32 "3.4", aarch64 "3.7"), and "3.0" means "3.0
    // or older" (see docs/syscall-tables.md).
    std::string_view since;
};

// The kernel version the tables are current to, e.g. "6.18".
std::string_view syscall_table_kernel();

// Every syscall of `arch`, sorted by number.
std::span<const SyscallEntry> syscalls(Arch arch);

std::optional<std::string_view> syscall_name(Arch arch, std::uint32_t nr);
std::optional<std::uint32_t> syscall_number(Arch arch, std::string_view name);
const SyscallEntry* find_syscall(Arch arch, std::string_view name);

}  // namespace ksc
