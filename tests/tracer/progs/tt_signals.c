// A signal handler runs exactly once per signal: signals sent to self (delivered before kill()
// returns), a blocked standard signal raised twice (merged: once), a blocked realtime signal
// queued three times (three), SIGCHLD of a child, and SIGUSR1 sent from outside while the program
// waits in read() (the driver asks for the count after each), a SIGSEGV from a fault, SIGTRAP
// raised twice and one from an int3 instruction (a tracer must not take those for its own traps).
// Every handler run makes one getcpu: expected getcpu x17.
#include <setjmp.h>
#include <signal.h>
#include <sys/wait.h>

#include "tt.h"

static volatile sig_atomic_t n_usr1, n_usr2, n_rt, n_chld, n_segv, n_trap;
static sigjmp_buf after_fault;
static int* volatile null_pointer;

static void fault_handler(int sig) {
    m_getcpu();
    n_segv++;
    siglongjmp(after_fault, sig);
}

static void trap_handler(int sig) {
    (void)sig;
    m_getcpu();
    n_trap++;
}

static void handler(int sig) {
    m_getcpu();
    if (sig == SIGUSR1)
        n_usr1++;
    else if (sig == SIGUSR2)
        n_usr2++;
    else if (sig == SIGCHLD)
        n_chld++;
    else if (sig == SIGRTMIN)
        n_rt++;
}

int main(void) {
    struct sigaction sa = {0};
    sa.sa_handler = handler;
    sa.sa_flags = SA_RESTART;
    sigemptyset(&sa.sa_mask);
    int sigs[] = {SIGUSR1, SIGUSR2, SIGCHLD, SIGRTMIN};
    for (int i = 0; i < 4; i++) sigaction(sigs[i], &sa, NULL);
    tt_ready();

    for (int i = 0; i < 5; i++) kill(getpid(), SIGUSR1);
    tt_say("sent to self 5, handled %d\n", n_usr1);

    sigset_t set, old;
    sigemptyset(&set);
    sigaddset(&set, SIGUSR2);
    sigaddset(&set, SIGRTMIN);
    sigprocmask(SIG_BLOCK, &set, &old);
    raise(SIGUSR2);
    raise(SIGUSR2);
    union sigval v = {0};
    for (int i = 0; i < 3; i++) sigqueue(getpid(), SIGRTMIN, v);
    sigprocmask(SIG_SETMASK, &old, NULL);
    tt_say("blocked SIGUSR2 x2 handled %d, blocked SIGRTMIN x3 handled %d\n", n_usr2, n_rt);

    pid_t p = fork();
    if (p == 0) _exit(0);
    waitpid(p, NULL, 0);
    tt_say("SIGCHLD handled %d\n", n_chld);

    signal(SIGSEGV, fault_handler);
    if (sigsetjmp(after_fault, 1) == 0) *null_pointer = 1;
    signal(SIGTRAP, trap_handler);
    raise(SIGTRAP);
    raise(SIGTRAP);
    __asm__ volatile("int3");
    tt_say("SIGSEGV handled %d, SIGTRAP handled %d\n", n_segv, n_trap);

    char line[64];
    for (;;) {
        tt_getline(line, sizeof line);
        if (strcmp(line, "count") == 0)
            tt_say("SIGUSR1 handled %d\n", n_usr1);
        else
            break;
    }
    return tt_done(0);
}
