// Threads that exist before an attach, threads created after it, and threads of threads: every one
// of them must be traced. Each level makes its own marker, so the summary's counts tell exactly
// which threads were seen: sched_get_priority_max x3 (pre-existing), getsid x8 (level 1),
// getcpu x16 (level 2, created by level 1), personality x16 (level 3, created by level 2).
#include <pthread.h>

#include "tt.h"

static int gate[2];

static void* pre_existing(void* arg) {
    char c;
    while (read(gate[0], &c, 1) < 0 && errno == EINTR) {
    }
    m_prio_max();
    return arg;
}

static void* level3(void* arg) {
    m_personality();
    return arg;
}

static void* level2(void* arg) {
    m_getcpu();
    pthread_t t;
    if (pthread_create(&t, NULL, level3, NULL)) _exit(2);
    pthread_join(t, NULL);
    return arg;
}

static void* level1(void* arg) {
    m_getsid();
    pthread_t t[2];
    for (int i = 0; i < 2; i++)
        if (pthread_create(&t[i], NULL, level2, NULL)) _exit(2);
    for (int i = 0; i < 2; i++) pthread_join(t[i], NULL);
    return arg;
}

int main(void) {
    if (pipe(gate)) return 2;
    pthread_t pre[3], l1[8];
    for (int i = 0; i < 3; i++)
        if (pthread_create(&pre[i], NULL, pre_existing, NULL)) return 2;
    tt_ready();
    if (write(gate[1], "xxx", 3) != 3) return 2;
    for (int i = 0; i < 3; i++) pthread_join(pre[i], NULL);
    for (int i = 0; i < 8; i++)
        if (pthread_create(&l1[i], NULL, level1, NULL)) return 2;
    for (int i = 0; i < 8; i++) pthread_join(l1[i], NULL);
    tt_say("threads: pre-existing 3, level1 8, level2 16, level3 16\n");
    return tt_done(0);
}
