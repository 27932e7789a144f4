// runc's -ENOSYS stub (libcontainer/seccomp/patchbpf): a short program runc puts in front of
// libseccomp's filter when the profile's default action refuses (anything but ALLOW, LOG and
// TRACE). A syscall whose number is above every syscall the profile names, on its architecture,
// gets ERRNO(ENOSYS) instead of the default action, so that libc's fallbacks for syscalls newer
// than the profile work; every other call falls through to the filter.
//
// The stub's shape follows runc 1.2 and later: one section per AUDIT_ARCH value (x86_64 and x32
// share one, told apart by the x32 bit of the number), the node's own architecture always included
// (runc 1.1 only took the profile's list), the s390(x) multiplexer setup(2) answered ENOSYS, long
// jumps where a section lies more than 255 instructions away. runc orders the sections by Go map
// iteration; this orders them by the list given. The order changes no verdict.
#pragma once

#include <cstdint>
#include <vector>

#include "seccomp_bpf.h"

namespace ksc {

struct StubArch {
    std::uint32_t scmp_arch = 0;  // SCMP_ARCH_* token (its AUDIT_ARCH value, but x32's own)
    std::uint32_t last_syscall =
        0;  // the largest number the profile names on it (x32's with its bit); 0: none
};

inline constexpr std::uint32_t kScmpArchX32 = 0x4000003E;
inline constexpr std::uint32_t kAuditArchX86_64 = 0xC000003E;
inline constexpr std::uint32_t kScmpArchS390 = 0x00000016;
inline constexpr std::uint32_t kScmpArchS390X = 0x80000016;

// The stub for these architectures, in this order (duplicates ignored). Its last instruction falls
// through to the filter that follows it.
bpf::Program enosys_stub(const std::vector<StubArch>& arches);

}  // namespace ksc
