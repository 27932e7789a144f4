// Reading /proc: the processes and threads there are, and what they say about themselves.
// Every function copes with the process vanishing meanwhile (empty or nullopt, never an error).
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

namespace ksc::tracer {

std::vector<pid_t> list_processes();         // numeric entries of /proc
std::vector<pid_t> list_threads(pid_t pid);  // /proc/PID/task

// The fields of /proc/TID/status we use.
struct ProcStatus {
    pid_t tgid = 0;
    pid_t ppid = 0;
    pid_t tracer_pid = 0;
    uid_t uid = 0;  // real uid
    uid_t euid = 0;
    std::uint64_t cap_eff = 0;
    std::string name;
    char state = '?';  // R, S, D, T, t, Z, X, ...
};
std::optional<ProcStatus> read_status(pid_t tid);

std::string read_comm(pid_t tid);  // without the newline; "" when gone
std::string read_exe(pid_t pid);   // readlink of /proc/PID/exe; "" when unreadable
bool cgroup_mentions(pid_t pid, const std::string& id);
// Contents of a small file, "" on failure.
std::string read_small_file(const char* path);
// A kernel thread (PF_KTHREAD in /proc/PID/stat): never a target.
bool is_kernel_thread(pid_t pid);
// Does /proc/PID/task/TID exist (TID is a thread of PID)?
bool is_thread_of(pid_t pid, pid_t tid);

}  // namespace ksc::tracer
