// The compact summary the tracer writes to its summary file (default /dev/termination-log), to
// fit the kubelet's 4 KiB termination message: per architecture, a base64 bitmap of the syscall
// numbers seen. Format (one line):
//   ksc1 SCMP_ARCH_X86_64=<base64> SCMP_ARCH_X86=<base64>
// Bit n of the bitmap (byte n/8, bit n%8, least significant first) is set when syscall n was seen.
// Then, in the room the bitmaps leave under 4 KiB, the argument values of argument-table syscalls
// (protocol 1.1, syscall_args.h), smallest sets first, one item each:
//   @SCMP_ARCH_X86_64:41=2,a,10.9
// values in hex, a second argument after a dot (AF_NETLINK's protocol). A syscall in the bitmap
// without such an item has no values here (more than kMaxArgValues, or no room): it is allowed whole.
// Decoders before 1.1 refuse the items; the plugin and the tracer image are versioned together.
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <string_view>

#include "arch.h"
#include "result.h"

namespace ksc {

using SyscallSet = std::map<Arch, std::set<std::uint32_t>>;
// (arch, nr) -> argument values (ArgValue, syscall_args.h).
using ArgValueMap = std::map<std::pair<Arch, std::uint32_t>, std::set<std::uint64_t>>;

inline constexpr std::size_t kTerminationMessageLimit = 4096;
// Syscall numbers above this are not representable in the compact form (none exist today).
inline constexpr std::uint32_t kCompactMaxNr = 4095;

std::string encode_compact_summary(const SyscallSet& seen, const ArgValueMap& values = {});
Result<SyscallSet> decode_compact_summary(std::string_view text);
// The argument values of a compact summary (empty for one without).
Result<ArgValueMap> decode_compact_arg_values(std::string_view text);

}  // namespace ksc
