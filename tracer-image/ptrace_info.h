// What tracer.cpp and tracer_check.cpp (the Tracer's check part) share about reading
// struct __ptrace_syscall_info.
#pragma once

#include <cstdint>

namespace ksc::tracer {

// The struct's args are __u64 in the kernel's header and __uint64_t in glibc's: copy, not cast.
template <class U>
void copy_args(const U (&in)[6], std::uint64_t (&out)[6]) {
    for (int i = 0; i < 6; ++i) out[i] = in[i];
}

}  // namespace ksc::tracer
