// The tracer's own signals and its one way to be woken.
//
// The ptrace loop blocks in waitpid() and must add no syscall per stop. Everything else (commands,
// timers, our own SIGINT/SIGTERM, signals to forward) reaches it by setting a flag from a signal
// handler installed WITHOUT SA_RESTART, so that a blocked waitpid() returns EINTR; the loop reads
// the flag (a plain memory read) on every turn. A flag set just before waitpid() is entered is seen
// at the next stop or, on an idle tracee, at the next tick, which bounds the latency.
// Helper threads block every signal, so process-directed signals reach the main (ptrace) thread.
#pragma once

#include <csignal>
#include <cstdint>

namespace ksc::tracer {

// The tick: 100 ms; 50 ms when /proc is re-scanned for late comers, so that fewer short-lived
// ones (exec probes) slip through between two scans. A scan of known pids costs a getdents.
inline constexpr int kTickMs = 100;
inline constexpr int kScanTickMs = 50;

// Non-zero when the main loop has something to look at besides waitpid.
extern volatile std::sig_atomic_t g_wake;

// Installs handlers for SIGINT, SIGTERM, SIGHUP, SIGPIPE (stop requests in attach mode) and, in
// launch mode, the signals forwarded to the child (SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH too), plus
// SIGALRM for the ticker and wake-ups. Saves the original signal mask for the launched child.
void install_signal_handlers(bool launch_mode);

// Starts a periodic SIGALRM every `ms`.
void start_ticker(int ms);

// Signals received since the last call (bit n = signal n), and whether each came from the
// terminal (the kernel already sent it to the whole foreground process group).
struct ReceivedSignals {
    std::uint64_t any = 0;
    std::uint64_t from_terminal = 0;
    // Who sent the last of them (siginfo's si_pid and si_uid; 0 from the kernel): in a same-user
    // recorder the app itself can, and the recording must say so.
    std::int64_t sender_pid = 0;
    std::int64_t sender_uid = -1;
};
ReceivedSignals take_received_signals();

// Wakes the main thread from another thread (interrupts its waitpid).
void wake_main_thread();

// For helper threads: block every signal in the calling thread.
void block_all_signals_in_this_thread();

// In a launched child between fork and exec: default dispositions and the original mask back.
void restore_signals_for_child();

}  // namespace ksc::tracer
