// The argument table: the syscalls whose arguments are recorded and turned into argument rules
// (docs/syscall-tables.md, "Argument rules"). Single source of truth: src/proto/syscall_args.csv and
// src/syscall_arg_names.csv, compiled by tools/update-syscall-args into syscall_args_data.cpp
// (the specs: the tracer links them) and syscall_arg_names_data.cpp (the names: the plugin only).
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "arch.h"

namespace ksc {

enum class ArgKind {
    Values,  // each recorded value becomes a rule (arg & 0xffffffff) == value
    Flags,   // only the bits of `mask` are recorded; each combination becomes (arg & mask) == it
};

struct ArgSpec {
    std::string_view syscall;
    std::uint32_t arches;  // bit arch_index(a) set when recorded on architecture a
    std::uint8_t index;    // the argument compared, 0..5
    ArgKind kind;
    std::uint32_t mask;  // Values: 0xffffffff (the low 32 bits); Flags: the bits recorded
    // When the value equals also_when, argument also_index is recorded too (socket: the netlink
    // protocol) and ANDed into the rule. kNoAlso when the syscall has none.
    std::uint8_t also_index;
    std::uint32_t also_when;
    std::string_view names;       // name group of the values (syscall_arg_names.csv)
    std::string_view also_names;  // name group of the second argument
    std::string_view keeps_out;   // what an argument rule keeps out, for `explain`
};

inline constexpr std::uint8_t kNoAlso = 0xff;

// The security-profiles merger's cap on entries per syscall (which CRI-O uses for pulled
// profiles): beyond it a syscall's argument values are dropped and it is allowed whole.
inline constexpr std::size_t kMaxArgValues = 128;

// A recorded argument value: the first argument's low 32 bits (masked, for flags) in the low
// half; for a syscall with a second argument (socket's AF_NETLINK protocol), that one's low 32 bits
// in the high half. Whether the high half means anything follows from the low one.
using ArgValue = std::uint64_t;

std::span<const ArgSpec> arg_specs();
// The spec of `name` on `arch`, or null when its arguments are not recorded there.
const ArgSpec* arg_spec(Arch arch, std::string_view name);
// The spec of syscall number `nr` of `arch` (looked up by name in the syscall table).
const ArgSpec* arg_spec(Arch arch, std::uint32_t nr);
// Whether any architecture records `name`'s arguments.
const ArgSpec* arg_spec_any(std::string_view name);

// The value recorded for a call with these arguments.
inline ArgValue arg_value(const ArgSpec& spec, const std::uint64_t* args) {
    std::uint32_t first = static_cast<std::uint32_t>(args[spec.index]) & spec.mask;
    ArgValue v = first;
    if (spec.also_index != kNoAlso && first == spec.also_when)
        v |= ArgValue{static_cast<std::uint32_t>(args[spec.also_index])} << 32;
    return v;
}
inline std::uint32_t arg_first(ArgValue v) {
    return static_cast<std::uint32_t>(v);
}
inline std::uint32_t arg_second(ArgValue v) {
    return static_cast<std::uint32_t>(v >> 32);
}
inline bool arg_has_second(const ArgSpec& spec, ArgValue v) {
    return spec.also_index != kNoAlso && arg_first(v) == spec.also_when;
}

// ---- names (syscall_arg_names_data.cpp; the plugin only) ---------------------------------

// "AF_INET", "AF_NETLINK/NETLINK_AUDIT", "CLONE_NEWUSER|CLONE_NEWNS", "no namespace flags" (a
// flags value of 0), or hex for what has no name.
std::string arg_value_name(const ArgSpec& spec, ArgValue value);
// The inverse, for tests and hand-written inputs: a name as above, or a number (decimal or 0x hex).
std::optional<ArgValue> arg_value_from_name(const ArgSpec& spec, std::string_view text);
// The name of `value` in `group`, if it has one.
std::optional<std::string_view> arg_name(std::string_view group, std::uint32_t value);

}  // namespace ksc
