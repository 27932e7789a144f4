#include "signals.h"

#include <sys/syscall.h>
#include <sys/time.h>
#include <unistd.h>

#include <atomic>

namespace ksc::tracer {

volatile std::sig_atomic_t g_wake = 0;

namespace {

std::atomic<std::uint64_t> g_received{0};
std::atomic<std::uint64_t> g_from_terminal{0};
std::atomic<std::int64_t> g_sender_pid{0};
std::atomic<std::int64_t> g_sender_uid{-1};
pid_t g_main_tid = 0;
sigset_t g_original_mask;
std::uint64_t g_originally_ignored = 0;  // the launched child inherits these ignored, as untraced

constexpr int kStopSignals[] = {SIGINT, SIGTERM, SIGHUP, SIGPIPE};
constexpr int kForwardedSignals[] = {SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH};

void on_signal(int sig, siginfo_t* info, void*) {
    if (sig != SIGALRM) {
        g_received.fetch_or(std::uint64_t{1} << sig, std::memory_order_relaxed);
        if (info && info->si_code == SI_KERNEL)
            g_from_terminal.fetch_or(std::uint64_t{1} << sig, std::memory_order_relaxed);
        if (info && (info->si_code == SI_USER || info->si_code == SI_QUEUE || info->si_code == SI_TKILL)) {
            g_sender_pid.store(info->si_pid, std::memory_order_relaxed);
            g_sender_uid.store(info->si_uid, std::memory_order_relaxed);
        }
    }
    g_wake = 1;
}

void install(int sig) {
    struct sigaction sa {};
    sa.sa_sigaction = on_signal;
    sa.sa_flags = SA_SIGINFO;  // deliberately no SA_RESTART: waitpid must return EINTR
    sigemptyset(&sa.sa_mask);
    struct sigaction old {};
    sigaction(sig, &sa, &old);
    if (old.sa_handler == SIG_IGN) g_originally_ignored |= std::uint64_t{1} << sig;
}

}  // namespace

void install_signal_handlers(bool launch_mode) {
    g_main_tid = static_cast<pid_t>(syscall(SYS_gettid));
    sigprocmask(SIG_SETMASK, nullptr, &g_original_mask);
    for (int sig : kStopSignals) install(sig);
    if (launch_mode)
        for (int sig : kForwardedSignals) install(sig);
    install(SIGALRM);
    sigset_t ours;
    sigemptyset(&ours);
    for (int sig : kStopSignals) sigaddset(&ours, sig);
    for (int sig : kForwardedSignals) sigaddset(&ours, sig);
    sigaddset(&ours, SIGALRM);
    sigprocmask(SIG_UNBLOCK, &ours, nullptr);
}

void start_ticker(int ms) {
    struct itimerval it {};
    it.it_interval.tv_usec = ms * 1000;
    it.it_value.tv_usec = ms * 1000;
    setitimer(ITIMER_REAL, &it, nullptr);
}

ReceivedSignals take_received_signals() {
    return {g_received.exchange(0), g_from_terminal.exchange(0), g_sender_pid.exchange(0),
            g_sender_uid.exchange(-1)};
}

void wake_main_thread() {
    syscall(SYS_tgkill, getpid(), g_main_tid, SIGALRM);
}

void block_all_signals_in_this_thread() {
    sigset_t all;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, nullptr);
}

void restore_signals_for_child() {
    auto restore = [](int sig) { signal(sig, (g_originally_ignored >> sig) & 1 ? SIG_IGN : SIG_DFL); };
    for (int sig : kStopSignals) restore(sig);
    for (int sig : kForwardedSignals) restore(sig);
    restore(SIGALRM);
    sigprocmask(SIG_SETMASK, &g_original_mask, nullptr);
}

}  // namespace ksc::tracer
