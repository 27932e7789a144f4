// The thread-group leader exits (pthread_exit) while another thread goes on: the process lives on
// with a zombie leader, which the tracer must cope with (at attach, and while tracing). The other
// thread says "ready" once the leader is a zombie, runs the handshake, makes getcpu, and ends the
// process with exit status 4.
#include <pthread.h>
#include <time.h>

#include "tt.h"

static pid_t leader;

static char leader_state(void) {
    char path[64], buf[512];
    snprintf(path, sizeof path, "/proc/self/task/%d/stat", leader);
    FILE* f = fopen(path, "r");
    if (!f) return '?';
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = 0;
    char* paren = strrchr(buf, ')');
    return paren && paren[1] ? paren[2] : '?';
}

static void* worker(void* arg) {
    while (leader_state() != 'Z') {
        struct timespec ts = {0, 1000000};
        nanosleep(&ts, NULL);
    }
    tt_ready();
    m_getcpu();
    tt_say("worker: leader gone, still running\n");
    tt_say("done\n");
    tt_expect("exit");
    exit(4);
    return arg;
}

int main(void) {
    pthread_t t;
    leader = getpid();
    if (pthread_create(&t, NULL, worker, NULL)) return 2;
    pthread_exit(NULL);
}
