// What the container runtime itself calls between installing the app's seccomp filter and exec'ing
// the entrypoint. A profile recorded from a running app never sees these, yet without them the
// container does not start. Each list says where it comes from.
#pragma once

#include <cstdint>
#include <optional>
#include <set>
#include <span>
#include <string_view>
#include <vector>

#include "profile.h"

namespace ksc {

struct RuntimeBaseSet {
    std::string_view runtime;                 // "runc", "crun"
    std::string_view source;                  // where the list comes from, for `explain` and the docs
    std::span<const std::string_view> names;  // x86_64 names; other arches take those their table has
};

std::span<const RuntimeBaseSet> runtime_base_sets();

// The union of the chosen runtimes' lists, sorted, without duplicates.
std::vector<std::string_view> base_set_names(BaseSet base);

// The argument values (syscall_args.h) the chosen runtimes call `name` with after installing the
// filter, for argument-table syscalls in their lists: nullopt when a chosen runtime's values are
// not measured (the syscall is then allowed whole); an empty set when no chosen runtime calls it.
std::optional<std::set<std::uint64_t>> base_set_arg_values(BaseSet base, std::string_view name);

}  // namespace ksc
