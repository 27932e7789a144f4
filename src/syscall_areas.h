// What a syscall is for, in a few words a reader of `explain` knows: files, network, processes,
// memory, ... One area per name (the main one), the same on every architecture.
#pragma once

#include <span>
#include <string_view>

namespace ksc {

// In the order explain prints them; "other" last.
std::span<const std::string_view> syscall_area_names();
std::string_view syscall_area(std::string_view syscall_name);

}  // namespace ksc
