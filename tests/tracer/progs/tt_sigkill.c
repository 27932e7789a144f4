// A tracee killed by SIGKILL while its threads are busy in syscalls: the tracer must notice that
// it is gone (no hang, no error) and, in launch mode, report its death as its own exit status.
#include <pthread.h>
#include <time.h>

#include "tt.h"

static void* busy(void* arg) {
    for (;;) {
        syscall(SYS_getppid);
        struct timespec ts = {0, 100000};
        nanosleep(&ts, NULL);
    }
    return arg;
}

int main(void) {
    tt_ready();
    pthread_t t;
    for (int i = 0; i < 3; i++)
        if (pthread_create(&t, NULL, busy, NULL)) return 2;
    m_sysinfo();
    tt_say("running\n");
    for (;;) pause();
}
