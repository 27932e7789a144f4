// SIGSTOP/SIGCONT group stop: a thread answers "ping" with "pong" while another sleeps in a loop.
// After SIGSTOP the program must stay stopped (no pong) until SIGCONT, then go on; its SIGCONT
// handler (one sysinfo) runs exactly once.
#include <pthread.h>
#include <signal.h>
#include <time.h>

#include "tt.h"

static volatile sig_atomic_t conts;

static void on_cont(int sig) {
    (void)sig;
    m_sysinfo();
    conts++;
}

static void* sleeper(void* arg) {
    for (;;) {
        struct timespec ts = {0, 2000000};
        nanosleep(&ts, NULL);
    }
    return arg;
}

static void* answerer(void* arg) {
    char line[64];
    for (;;) {
        tt_getline(line, sizeof line);
        if (strcmp(line, "ping") == 0)
            tt_say("pong\n");
        else
            break;
    }
    tt_say("SIGCONT handled %d\n", conts);
    return arg;
}

int main(void) {
    struct sigaction sa = {0};
    sa.sa_handler = on_cont;
    sa.sa_flags = SA_RESTART;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGCONT, &sa, NULL);
    pthread_t t;
    if (pthread_create(&t, NULL, sleeper, NULL)) return 2;
    tt_ready();
    if (pthread_create(&t, NULL, answerer, NULL)) return 2;
    pthread_join(t, NULL);
    return tt_done(0);
}
