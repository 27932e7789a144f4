// The two register writes a tracer needs to refuse a syscall as seccomp would (enforce mode of
// a check): at the syscall's seccomp stop, the number -1 skips it; at its exit stop, the return
// value becomes what the kernel would have returned. x86_64 (and its i386/x32 tracees) and
// aarch64 (and its arm tracees).
#pragma once

#include <sys/types.h>

#include <cstdint>

namespace ksc::tracer {

// At a seccomp or syscall-entry stop: the call the kernel will run (-1: none, the call is skipped).
bool set_syscall_nr(pid_t tid, long nr);
// At a syscall-exit stop: the value the program gets back (-errno for an error).
bool set_return_value(pid_t tid, long value);

}  // namespace ksc::tracer
