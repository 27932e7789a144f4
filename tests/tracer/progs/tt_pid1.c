// The launched command of a tracer that is PID 1 (as in a container): the tracer must forward
// SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2 and SIGWINCH to it (each handler says so
// once), and reap orphans: after "go" it leaves an orphan that exits at once.
#include <signal.h>
#include <sys/wait.h>

#include "tt.h"

static volatile sig_atomic_t got;

static void handler(int sig) {
    got = sig;
}

int main(void) {
    struct sigaction sa = {0};
    sa.sa_handler = handler;
    sa.sa_flags = SA_RESTART;
    sigemptyset(&sa.sa_mask);
    int sigs[] = {SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH};
    // Blocked except inside sigsuspend, so that none arrives between two waits and is missed.
    sigset_t blocked, waiting;
    sigemptyset(&blocked);
    for (unsigned i = 0; i < sizeof sigs / sizeof sigs[0]; i++) {
        sigaction(sigs[i], &sa, NULL);
        sigaddset(&blocked, sigs[i]);
    }
    sigprocmask(SIG_BLOCK, &blocked, &waiting);
    tt_ready();
    pid_t p = fork();
    if (p == 0) {
        if (fork() == 0) _exit(0);  // the orphan, for PID 1 to reap
        _exit(0);
    }
    waitpid(p, NULL, 0);
    tt_say("orphan left\n");
    for (;;) {
        sigsuspend(&waiting);
        int sig = got;
        got = 0;
        tt_say("got signal %d\n", sig);
        if (sig == SIGTERM) return 0;
    }
}
