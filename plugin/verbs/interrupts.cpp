#include "interrupts.h"

#include <csignal>

namespace ksc::cli {
namespace {

volatile std::sig_atomic_t g_interrupts = 0;
void on_interrupt(int) {
    g_interrupts = g_interrupts + 1;
}

}  // namespace

void install_interrupt_handlers() {
    struct sigaction sa {};
    sigemptyset(&sa.sa_mask);
    sa.sa_handler = on_interrupt;
    ::sigaction(SIGINT, &sa, nullptr);
    ::sigaction(SIGTERM, &sa, nullptr);
    ::signal(SIGPIPE, SIG_IGN);
}

int interrupts() {
    return g_interrupts;
}

}  // namespace ksc::cli
