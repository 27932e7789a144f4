// The threads we trace and the processes they belong to. Per-thread state is kept small (16 bytes
// plus the map's node): 1,000 threads must fit in a few hundred KiB.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <unordered_map>

#include "syscall_counts.h"

namespace ksc::tracer {

enum TraceeFlag : std::uint8_t {
    kLate = 1,       // its process was found by a /proc re-scan, not created by a traced one
    kDetaching = 2,  // detach at its next stop (an INTERRUPT was sent, or it is new during a stop)
    kPreExec = 4,    // the launched child before its execve: its own set-up is not the program's
    kExiting = 8,    // past PTRACE_EVENT_EXIT: it will not stop again
    kAdopted = 16,   // stopped before its creator's fork/clone event came: that event is still due
};

struct Tracee {
    pid_t tgid = 0;
    std::uint8_t flags = 0;
    SyscallStat* in_syscall = nullptr;  // between syscall entry and exit (method ptrace)
};

struct Process {
    std::string comm;
    std::string exe;
    std::uint32_t threads = 0;
    bool late = false;
};

class TraceeTable {
  public:
    Tracee* find(pid_t tid) {
        // Stops mostly come from the thread that stopped last (one busy thread): skip the hash.
        if (tid == last_tid_) return last_;
        auto it = threads_.find(tid);
        if (it == threads_.end()) return nullptr;
        last_tid_ = tid;
        return last_ = &it->second;
    }
    Process* process(pid_t tgid) {
        auto it = processes_.find(tgid);
        return it == processes_.end() ? nullptr : &it->second;
    }
    // Adds the thread (and its process, if new: `proto` gives comm/exe). References to other
    // entries stay valid (unordered_map never moves its nodes).
    Tracee& add(pid_t tid, pid_t tgid, std::uint8_t flags, const Process& proto, bool* new_process = nullptr);
    // Removes the thread, and its process when it was the last thread.
    void remove(pid_t tid);

    std::size_t threads() const { return threads_.size(); }
    std::size_t processes() const { return processes_.size(); }
    bool empty() const { return threads_.empty(); }
    std::uint64_t threads_seen() const { return threads_seen_; }
    std::uint64_t processes_seen() const { return processes_seen_; }

    template <class F>
    void for_each(F&& f) {
        for (auto& [tid, tracee] : threads_) f(tid, tracee);
    }

  private:
    std::unordered_map<pid_t, Tracee> threads_;
    pid_t last_tid_ = 0;  // find()'s last hit (0: none); remove() forgets it
    Tracee* last_ = nullptr;
    std::unordered_map<pid_t, Process> processes_;
    std::uint64_t threads_seen_ = 0;
    std::uint64_t processes_seen_ = 0;
};

}  // namespace ksc::tracer
