// Thread churn: threads that are born and die all the time, some while the tracer attaches or
// detaches (threads that exit while stopped, new ones during the /proc/PID/task re-scan).
// `tt_churn count N`: after "go", N short threads, eight at a time, each making one getcpu.
// `tt_churn forever`: a thread keeps starting short threads (each makes getcpu) until "exit";
// "count" answers with how many have run.
#include <pthread.h>

#include "tt.h"

static volatile long finished;

static void* short_lived(void* arg) {
    m_getcpu();
    __atomic_add_fetch(&finished, 1, __ATOMIC_SEQ_CST);
    return arg;
}

static void batch(int n) {
    pthread_t t[8];
    for (int i = 0; i < n; i++)
        if (pthread_create(&t[i], NULL, short_lived, NULL)) _exit(2);
    for (int i = 0; i < n; i++) pthread_join(t[i], NULL);
}

static void* spawner(void* arg) {
    for (;;) batch(8);
    return arg;
}

int main(int argc, char** argv) {
    if (argc > 2 && strcmp(argv[1], "count") == 0) {
        int n = atoi(argv[2]);
        tt_ready();
        for (int done = 0; done < n; done += 8) batch(n - done < 8 ? n - done : 8);
        tt_say("threads run %ld\n", finished);
        return tt_done(0);
    }
    pthread_t t;
    if (pthread_create(&t, NULL, spawner, NULL)) return 2;
    tt_say("ready %d\n", getpid());
    char line[64];
    for (;;) {
        tt_getline(line, sizeof line);
        if (strcmp(line, "count") == 0) {
            m_sysinfo();
            tt_say("count %ld\n", finished);
        } else {
            tt_say("bye\n");
            return 0;
        }
    }
}
