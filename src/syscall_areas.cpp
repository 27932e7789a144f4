#include "syscall_areas.h"

#include <array>
#include <utility>

namespace ksc {
namespace {

constexpr std::array<std::string_view, 15> kAreas{
    "files",        "file metadata", "network",      "processes and threads", "memory",
    "signals",      "time and timers", "waiting for events", "IPC and synchronisation",
    "identity and privileges", "namespaces and mounts", "system administration",
    "debugging and tracing", "system information", "other",
};

// Exact names first; then prefixes (first match wins).
constexpr std::pair<std::string_view, std::string_view> kExact[] = {
    {"read", "files"}, {"write", "files"}, {"open", "files"}, {"openat", "files"}, {"openat2", "files"},
    {"close", "files"}, {"close_range", "files"}, {"creat", "files"}, {"lseek", "files"}, {"_llseek", "files"},
    {"pread64", "files"}, {"pwrite64", "files"}, {"readv", "files"}, {"writev", "files"}, {"preadv", "files"},
    {"pwritev", "files"}, {"preadv2", "files"}, {"pwritev2", "files"}, {"dup", "files"}, {"dup2", "files"},
    {"dup3", "files"}, {"fcntl", "files"}, {"fcntl64", "files"}, {"ioctl", "files"}, {"flock", "files"},
    {"fsync", "files"}, {"fdatasync", "files"}, {"sync", "files"}, {"syncfs", "files"}, {"sync_file_range", "files"},
    {"sync_file_range2", "files"}, {"arm_sync_file_range", "files"}, {"truncate", "files"}, {"ftruncate", "files"},
    {"truncate64", "files"}, {"ftruncate64", "files"}, {"fallocate", "files"}, {"fadvise64", "files"},
    {"fadvise64_64", "files"}, {"arm_fadvise64_64", "files"}, {"readahead", "files"}, {"sendfile", "files"},
    {"sendfile64", "files"}, {"splice", "files"}, {"tee", "files"}, {"vmsplice", "files"}, {"copy_file_range", "files"},
    {"getdents", "files"}, {"getdents64", "files"}, {"readdir", "files"}, {"mkdir", "files"}, {"mkdirat", "files"},
    {"rmdir", "files"}, {"unlink", "files"}, {"unlinkat", "files"}, {"rename", "files"}, {"renameat", "files"},
    {"renameat2", "files"}, {"link", "files"}, {"linkat", "files"}, {"symlink", "files"}, {"symlinkat", "files"},
    {"readlink", "files"}, {"readlinkat", "files"}, {"mknod", "files"}, {"mknodat", "files"}, {"chdir", "files"},
    {"fchdir", "files"}, {"getcwd", "files"}, {"chroot", "namespaces and mounts"}, {"umask", "files"},
    {"name_to_handle_at", "files"}, {"open_by_handle_at", "files"}, {"memfd_create", "files"},
    {"inotify_init", "files"}, {"inotify_init1", "files"}, {"inotify_add_watch", "files"}, {"inotify_rm_watch", "files"},
    {"fanotify_init", "files"}, {"fanotify_mark", "files"}, {"io_setup", "files"}, {"io_destroy", "files"},
    {"io_submit", "files"}, {"io_cancel", "files"}, {"io_getevents", "files"}, {"io_pgetevents", "files"},
    {"io_pgetevents_time64", "files"}, {"io_uring_setup", "files"}, {"io_uring_enter", "files"},
    {"io_uring_register", "files"}, {"cachestat", "files"}, {"pipe", "IPC and synchronisation"},
    {"pipe2", "IPC and synchronisation"},
    {"access", "file metadata"}, {"faccessat", "file metadata"}, {"faccessat2", "file metadata"},
    {"chmod", "file metadata"}, {"fchmod", "file metadata"}, {"fchmodat", "file metadata"}, {"fchmodat2", "file metadata"},
    {"chown", "file metadata"}, {"fchown", "file metadata"}, {"lchown", "file metadata"}, {"fchownat", "file metadata"},
    {"chown32", "file metadata"}, {"fchown32", "file metadata"}, {"lchown32", "file metadata"},
    {"utime", "file metadata"}, {"utimes", "file metadata"}, {"futimesat", "file metadata"},
    {"utimensat", "file metadata"}, {"utimensat_time64", "file metadata"}, {"statx", "file metadata"},
    {"newfstatat", "file metadata"}, {"statfs", "file metadata"}, {"fstatfs", "file metadata"},
    {"statfs64", "file metadata"}, {"fstatfs64", "file metadata"}, {"ustat", "file metadata"},
    {"socket", "network"}, {"socketpair", "network"}, {"socketcall", "network"}, {"bind", "network"},
    {"connect", "network"}, {"listen", "network"}, {"accept", "network"}, {"accept4", "network"},
    {"getsockname", "network"}, {"getpeername", "network"}, {"sendto", "network"}, {"recvfrom", "network"},
    {"sendmsg", "network"}, {"recvmsg", "network"}, {"sendmmsg", "network"}, {"recvmmsg", "network"},
    {"recvmmsg_time64", "network"}, {"send", "network"}, {"recv", "network"}, {"shutdown", "network"},
    {"setsockopt", "network"}, {"getsockopt", "network"},
    {"clone", "processes and threads"}, {"clone3", "processes and threads"}, {"fork", "processes and threads"},
    {"vfork", "processes and threads"}, {"execve", "processes and threads"}, {"execveat", "processes and threads"},
    {"exit", "processes and threads"}, {"exit_group", "processes and threads"}, {"wait4", "processes and threads"},
    {"waitid", "processes and threads"}, {"waitpid", "processes and threads"}, {"gettid", "processes and threads"},
    {"getpid", "processes and threads"}, {"getppid", "processes and threads"}, {"getpgid", "processes and threads"},
    {"setpgid", "processes and threads"}, {"getpgrp", "processes and threads"}, {"getsid", "processes and threads"},
    {"setsid", "processes and threads"}, {"set_tid_address", "processes and threads"},
    {"set_robust_list", "processes and threads"}, {"get_robust_list", "processes and threads"},
    {"rseq", "processes and threads"}, {"arch_prctl", "processes and threads"},
    {"set_thread_area", "processes and threads"}, {"get_thread_area", "processes and threads"},
    {"set_tls", "processes and threads"}, {"prlimit64", "processes and threads"}, {"getrlimit", "processes and threads"},
    {"setrlimit", "processes and threads"}, {"ugetrlimit", "processes and threads"}, {"getrusage", "processes and threads"},
    {"times", "processes and threads"}, {"getpriority", "processes and threads"}, {"setpriority", "processes and threads"},
    {"nice", "processes and threads"}, {"personality", "processes and threads"}, {"pidfd_open", "processes and threads"},
    {"pidfd_getfd", "debugging and tracing"}, {"pidfd_send_signal", "signals"}, {"getcpu", "processes and threads"},
    {"ioprio_get", "processes and threads"}, {"ioprio_set", "processes and threads"},
    {"brk", "memory"}, {"mmap", "memory"}, {"mmap2", "memory"}, {"munmap", "memory"}, {"mremap", "memory"},
    {"mprotect", "memory"}, {"madvise", "memory"}, {"mincore", "memory"}, {"msync", "memory"}, {"mlock", "memory"},
    {"mlock2", "memory"}, {"munlock", "memory"}, {"mlockall", "memory"}, {"munlockall", "memory"},
    {"remap_file_pages", "memory"}, {"membarrier", "memory"}, {"memfd_secret", "memory"}, {"mseal", "memory"},
    {"map_shadow_stack", "memory"}, {"process_madvise", "memory"}, {"process_mrelease", "memory"},
    {"mbind", "memory"}, {"get_mempolicy", "memory"}, {"set_mempolicy", "memory"}, {"set_mempolicy_home_node", "memory"},
    {"migrate_pages", "memory"}, {"move_pages", "memory"}, {"userfaultfd", "memory"}, {"cacheflush", "memory"},
    {"kill", "signals"}, {"tkill", "signals"}, {"tgkill", "signals"}, {"pause", "signals"}, {"alarm", "time and timers"},
    {"signalfd", "signals"}, {"signalfd4", "signals"}, {"sigaltstack", "signals"}, {"restart_syscall", "signals"},
    {"nanosleep", "time and timers"}, {"gettimeofday", "time and timers"}, {"settimeofday", "system administration"},
    {"time", "time and timers"}, {"stime", "system administration"}, {"adjtimex", "time and timers"},
    {"getitimer", "time and timers"}, {"setitimer", "time and timers"},
    {"poll", "waiting for events"}, {"ppoll", "waiting for events"}, {"ppoll_time64", "waiting for events"},
    {"select", "waiting for events"}, {"_newselect", "waiting for events"}, {"pselect6", "waiting for events"},
    {"pselect6_time64", "waiting for events"}, {"eventfd", "waiting for events"}, {"eventfd2", "waiting for events"},
    {"futex", "IPC and synchronisation"}, {"futex_time64", "IPC and synchronisation"},
    {"futex_waitv", "IPC and synchronisation"}, {"futex_wait", "IPC and synchronisation"},
    {"futex_wake", "IPC and synchronisation"}, {"futex_requeue", "IPC and synchronisation"},
    {"ipc", "IPC and synchronisation"}, {"sched_yield", "processes and threads"},
    {"capget", "identity and privileges"}, {"capset", "identity and privileges"}, {"prctl", "identity and privileges"},
    {"seccomp", "identity and privileges"}, {"getgroups", "identity and privileges"},
    {"setgroups", "identity and privileges"}, {"getgroups32", "identity and privileges"},
    {"setgroups32", "identity and privileges"}, {"landlock_create_ruleset", "identity and privileges"},
    {"landlock_add_rule", "identity and privileges"}, {"landlock_restrict_self", "identity and privileges"},
    {"keyctl", "identity and privileges"}, {"add_key", "identity and privileges"},
    {"request_key", "identity and privileges"},
    {"mount", "namespaces and mounts"}, {"umount", "namespaces and mounts"}, {"umount2", "namespaces and mounts"},
    {"pivot_root", "namespaces and mounts"}, {"unshare", "namespaces and mounts"}, {"setns", "namespaces and mounts"},
    {"open_tree", "namespaces and mounts"}, {"move_mount", "namespaces and mounts"}, {"fsopen", "namespaces and mounts"},
    {"fsconfig", "namespaces and mounts"}, {"fsmount", "namespaces and mounts"}, {"fspick", "namespaces and mounts"},
    {"mount_setattr", "namespaces and mounts"}, {"statmount", "namespaces and mounts"},
    {"listmount", "namespaces and mounts"},
    {"reboot", "system administration"}, {"sethostname", "system administration"},
    {"setdomainname", "system administration"}, {"swapon", "system administration"}, {"swapoff", "system administration"},
    {"acct", "system administration"}, {"init_module", "system administration"},
    {"finit_module", "system administration"}, {"delete_module", "system administration"},
    {"kexec_load", "system administration"}, {"kexec_file_load", "system administration"},
    {"iopl", "system administration"}, {"ioperm", "system administration"}, {"syslog", "system administration"},
    {"quotactl", "system administration"}, {"quotactl_fd", "system administration"}, {"bpf", "system administration"},
    {"perf_event_open", "debugging and tracing"}, {"vhangup", "system administration"},
    {"nfsservctl", "system administration"}, {"lookup_dcookie", "debugging and tracing"},
    {"ptrace", "debugging and tracing"}, {"process_vm_readv", "debugging and tracing"},
    {"process_vm_writev", "debugging and tracing"}, {"kcmp", "debugging and tracing"},
    {"uname", "system information"}, {"sysinfo", "system information"}, {"getrandom", "system information"},
    {"sysfs", "system information"}, {"olduname", "system information"}, {"oldolduname", "system information"},
};

constexpr std::pair<std::string_view, std::string_view> kPrefix[] = {
    {"stat", "file metadata"}, {"lstat", "file metadata"}, {"fstat", "file metadata"},
    {"getxattr", "file metadata"}, {"setxattr", "file metadata"}, {"listxattr", "file metadata"},
    {"removexattr", "file metadata"}, {"lgetxattr", "file metadata"}, {"fgetxattr", "file metadata"},
    {"lsetxattr", "file metadata"}, {"fsetxattr", "file metadata"}, {"llistxattr", "file metadata"},
    {"flistxattr", "file metadata"}, {"lremovexattr", "file metadata"}, {"fremovexattr", "file metadata"},
    {"epoll_", "waiting for events"}, {"rt_sig", "signals"}, {"sig", "signals"}, {"clock_", "time and timers"},
    {"timer_", "time and timers"}, {"timerfd_", "time and timers"}, {"sched_", "processes and threads"},
    {"msg", "IPC and synchronisation"}, {"sem", "IPC and synchronisation"}, {"shm", "IPC and synchronisation"},
    {"mq_", "IPC and synchronisation"}, {"setres", "identity and privileges"}, {"getres", "identity and privileges"},
    {"setre", "identity and privileges"}, {"setfs", "identity and privileges"}, {"setuid", "identity and privileges"},
    {"setgid", "identity and privileges"}, {"getuid", "identity and privileges"}, {"getgid", "identity and privileges"},
    {"geteuid", "identity and privileges"}, {"getegid", "identity and privileges"}, {"lsm_", "identity and privileges"},
    {"pkey_", "memory"}, {"s390_", "system administration"}, {"riscv_", "processes and threads"},
};

}  // namespace

std::span<const std::string_view> syscall_area_names() { return kAreas; }

std::string_view syscall_area(std::string_view name) {
    for (const auto& [n, area] : kExact)
        if (n == name) return area;
    for (const auto& [p, area] : kPrefix)
        if (name.substr(0, p.size()) == p) return area;
    return "other";
}

}  // namespace ksc
