// The target of the detach tests (strace's tests/detach-running, detach-sleeping, detach-stopped
// are the models). `tt_detach running`: two threads spin, one making getppid, one pure CPU; the
// main thread answers "count" with their progress. `tt_detach sleeping`: only the main thread,
// blocked in read(). Both answer "count" and end on "exit" with "bye".
#include <pthread.h>

#include "tt.h"

static volatile long syscalls_made, spins;

static void* syscaller(void* arg) {
    for (;;) {
        syscall(SYS_getppid);
        syscalls_made++;
    }
    return arg;
}

static void* spinner(void* arg) {
    for (;;) spins++;
    return arg;
}

int main(int argc, char** argv) {
    int running = argc > 1 && strcmp(argv[1], "running") == 0;
    if (running) {
        pthread_t t;
        if (pthread_create(&t, NULL, syscaller, NULL)) return 2;
        if (pthread_create(&t, NULL, spinner, NULL)) return 2;
    }
    tt_say("ready %d\n", getpid());
    char line[64];
    for (;;) {
        tt_getline(line, sizeof line);
        if (strcmp(line, "count") == 0) {
            m_sysinfo();
            tt_say("count %ld %ld\n", syscalls_made, spins);
        } else if (strcmp(line, "exit") == 0) {
            tt_say("bye\n");
            return 0;
        } else {
            tt_say("error: unexpected '%s'\n", line);
            return 1;
        }
    }
}
