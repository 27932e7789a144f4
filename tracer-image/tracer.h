// The ptrace event loop: seizing processes, following everything they create, counting their
// syscalls, and letting go of them cleanly. Every ptrace pitfall is handled here, in one place
// (strace's src/strace.c is the model); all ptrace calls come from the one thread that runs this.
#pragma once

#include <sys/ptrace.h>
#include <sys/types.h>

#include <csignal>
#include <cstdint>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include "control.h"
#include "denials.h"
#include "options.h"
#include "reporter.h"
#include "syscall_counts.h"
#include "tracee_table.h"

namespace ksc::tracer {

class Tracer {
  public:
    Tracer(const Options& options, SyscallCounts& recording, Reporter& reporter, Control& control);

    stream::Method method() const { return method_; }

    // Attach mode: seizes every thread of `pid` (re-reading /proc/PID/task until no new one
    // appears). On failure an `error` event (a `warning` when not `required`: a descendant, a
    // process a scan found) says why, and false comes back.
    bool attach_process(pid_t pid, bool late, bool required = true);
    // Attach mode with --pid: the children (and theirs) that the traced processes already have.
    // Those they create from now on are attached by the kernel (TRACEFORK and friends).
    void attach_descendants();
    // Attach mode with --all/--container-id: attaches to what /proc shows that we do not trace yet.
    void scan_proc(bool late);

    // Launch mode: starts the command under the tracer. False: it could not (an `error` event
    // said why; exit_status() is 125, 126 or 127).
    bool launch(const std::vector<std::string>& command);

    // Runs until the recording is over and, in launch mode, the command has exited.
    void run();

    // Attach mode: 0 after a clean stop, 1 when nothing could be traced. Launch mode: the
    // command's status; for a command killed by a signal, 128 + signal (see main).
    int exit_status() const { return exit_status_; }
    int child_signal() const { return child_signal_; }
    std::size_t traced_threads() const { return table_.threads(); }

  private:
    // The loop's parts.
    void on_wake();
    void on_status(pid_t tid, int status);
    void on_exit(pid_t tid, int status);
    Tracee& adopt(pid_t tid);
    void on_syscall_stop(pid_t tid, Tracee& t);
    void on_seccomp_stop(pid_t tid, Tracee& t);
    void no_syscall_info();
    // args: the call's six arguments when the stop brought them, else null (read when needed).
    void record(pid_t tid, Tracee& t, std::uint32_t audit_arch, std::uint64_t raw_nr,
                const std::uint64_t* args);
    void record_argument(pid_t tid, Tracee& t, Arch arch, std::uint32_t nr, SyscallStat& s,
                         const std::uint64_t* args);
    // A check (--check-program): attach mode's evaluation at each syscall entry; launch mode's
    // SECCOMP_RET_TRACE stops of the installed program, the exit stops that follow a refused
    // call, and the SIGSYS of an enforced TRAP.
    void check_entry(pid_t tid, Tracee& t, const __ptrace_syscall_info& info);
    void on_check_seccomp_stop(pid_t tid, Tracee& t);
    void refuse(pid_t tid, Tracee& t, const bpf::SeccompData& data, const Verdict& verdict,
                std::uint32_t ret);
    void on_check_exit(pid_t tid);
    void end_with_sigsys(pid_t tid, const Tracee& t);
    Denials::Entry* note_denial(pid_t tid, const Tracee& t, const bpf::SeccompData& data,
                                const Verdict& verdict, bool enforced);
    void on_new_task(pid_t tid, Tracee& t, unsigned event);
    void on_exec(pid_t tid, Tracee& t);
    void resume(pid_t tid, Tracee& t, int sig);
    void detach(pid_t tid, Tracee& t, int sig);

    // Stopping.
    void stop_recording();
    void finish_recording();
    void begin_detach_all();
    bool finished() const;

    void emit_attached(pid_t tid, const Tracee& t, const Process& p);
    void emit_progress();
    void emit_summary(bool final);
    // The error's code (already-traced, yama, eperm) and a message that says what to do.
    std::pair<std::string, std::string> explain_eperm(pid_t pid);
    bool excluded_from_scan(pid_t pid);

    const Options& options_;
    SyscallCounts& recording_;
    Reporter& reporter_;
    Control& control_;
    TraceeTable table_;
    stream::Method method_;
    unsigned long ptrace_options_ = 0;
    __ptrace_request resume_request_;  // PTRACE_SYSCALL or PTRACE_CONT
    pid_t self_;
    bool recording_active_ = true;
    bool detaching_all_ = false;
    bool gave_up_ = false;
    bool warned_no_syscall_info_ = false;
    // Launch mode: the SECCOMP_RET_DATA of a seccomp stop is our filter's (see launch.h).
    bool trust_trace_data_ = true;
    std::int64_t start_ms_;
    std::int64_t detach_deadline_ms_ = 0;
    std::int64_t last_progress_ms_ = 0;
    std::int64_t last_scan_ms_ = 0;
    std::int64_t last_purge_ms_ = 0;
    std::uint64_t events_ = 0;

    // Launch mode.
    pid_t child_ = -1;
    int exec_error_fd_ = -1;
    bool child_exited_ = false;
    bool child_execed_ = false;
    int exit_status_ = 0;
    int child_signal_ = 0;

    // A check.
    Denials denials_;
    bpf::Program check_traced_;  // launch mode: what the child installs (transform_for_trace)
    // A refused call between its seccomp stop and its exit stop (rare: only refusals).
    struct PendingCheck {
        enum Kind : std::uint8_t { SeeReturn, SetErrno, Trap } kind = SeeReturn;
        Denials::Entry* entry = nullptr;  // null when the denial table was full
        long return_value = 0;            // SetErrno: -errno; Trap: the kernel's rolled-back register
        siginfo_t siginfo{};              // Trap: what the SIGSYS carries
    };
    std::unordered_map<pid_t, PendingCheck> pending_checks_;
    std::unordered_map<pid_t, siginfo_t> pending_sigsys_;  // Trap: tgkill'ed, siginfo still to set

    // Threads that ended before their creator's fork/clone event was seen (tid -> when): that
    // event must not bring them back. Forgotten after a while (a creator killed before its event
    // never reports it).
    std::unordered_map<pid_t, std::int64_t> ended_unannounced_;

    // Attach mode with /proc scans.
    std::unordered_set<pid_t> excluded_;  // pids a scan decided not to trace
    std::unordered_set<pid_t> ancestors_;
    bool attached_any_ = false;
};

}  // namespace ksc::tracer
