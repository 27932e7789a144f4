#include "interrupts.h"

#include <csignal>

namespace ksc::cli {
namespace {

volatile std::sig_atomic_t g_interrupts = 0;
volatile std::sig_atomic_t g_forward_signal = 0;

void on_interrupt(int) {
    g_interrupts = g_interrupts + 1;
}
void on_forwarded(int sig) {
    g_forward_signal = sig;
}
void on_ignored(int) {}

}  // namespace

void install_interrupt_handlers(InterruptMode mode) {
    struct sigaction sa {};
    sigemptyset(&sa.sa_mask);
    sa.sa_handler = on_interrupt;
    ::sigaction(SIGINT, &sa, nullptr);
    if (mode == InterruptMode::Count) {
        ::sigaction(SIGTERM, &sa, nullptr);
    } else {
        sa.sa_handler = on_forwarded;
        ::sigaction(SIGTERM, &sa, nullptr);
        ::sigaction(SIGHUP, &sa, nullptr);
        sa.sa_handler = on_ignored;
        ::sigaction(SIGQUIT, &sa, nullptr);
    }
    ::signal(SIGPIPE, SIG_IGN);
}

int interrupts() {
    return g_interrupts;
}

int take_forwarded_signal() {
    int sig = g_forward_signal;
    if (sig != 0) g_forward_signal = 0;
    return sig;
}

}  // namespace ksc::cli
