// Counts SIGRTMIN: realtime signals queue, one delivery each, so the count tells exactly whether a
// tracer lost or duplicated any of those sent while it attached and detached. Two threads, one
// spinning in syscalls, so that stops of every kind are under way when the signals arrive.
// Answers "count" with the number handled; ends on "exit" with "bye".
#include <pthread.h>
#include <signal.h>

#include "tt.h"

static volatile long handled;

static void handler(int sig) {
    (void)sig;
    __atomic_add_fetch(&handled, 1, __ATOMIC_SEQ_CST);
}

static void* spin(void* arg) {
    for (;;) syscall(SYS_getppid);
    return arg;
}

int main(void) {
    struct sigaction sa = {0};
    sa.sa_handler = handler;
    sa.sa_flags = SA_RESTART;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGRTMIN, &sa, NULL);
    pthread_t t;
    if (pthread_create(&t, NULL, spin, NULL)) return 2;
    tt_say("ready %d\n", getpid());
    char line[64];
    for (;;) {
        tt_getline(line, sizeof line);
        if (strcmp(line, "count") == 0) {
            tt_say("handled %ld\n", handled);
        } else {
            tt_say("bye\n");
            return 0;
        }
    }
}
