// The generated name table behind arg_value_name() (tools/update-syscall-args).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace ksc::detail {

struct ArgName {
    std::string_view group;
    std::uint32_t value;
    std::string_view name;
};

// Sorted by group, then value.
extern const ArgName kArgNames[];
extern const std::size_t kArgNameCount;

}  // namespace ksc::detail
