// The compact summary the tracer writes to its summary file (default /dev/termination-log), to
// fit the kubelet's 4 KiB termination message: per architecture, a base64 bitmap of the syscall
// numbers seen. Format (one line):
//   ksc1 SCMP_ARCH_X86_64=<base64> SCMP_ARCH_X86=<base64>
// Bit n of the bitmap (byte n/8, bit n%8, least significant first) is set when syscall n was seen.
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

inline constexpr std::size_t kTerminationMessageLimit = 4096;
// Syscall numbers above this are not representable in the compact form (none exist today).
inline constexpr std::uint32_t kCompactMaxNr = 4095;

std::string encode_compact_summary(const SyscallSet& seen);
Result<SyscallSet> decode_compact_summary(std::string_view text);

}  // namespace ksc
