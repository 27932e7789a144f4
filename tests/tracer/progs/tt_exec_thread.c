// exec from a thread that is not the thread-group leader, while two other threads are busy making
// syscalls: the kernel kills the other threads and gives the exec'ing thread the leader's tid.
// Before exec the thread makes sched_get_priority_min; the new image makes sysinfo.
#include <dirent.h>
#include <pthread.h>

#include "tt.h"

static char* self_argv0;
static char leader_pid[32];

static void* busy(void* arg) {
    for (;;) syscall(SYS_getppid);
    return arg;
}

static void* execer(void* arg) {
    m_prio_min();
    char* av[] = {self_argv0, "after-exec", leader_pid, NULL};
    execv("/proc/self/exe", av);
    tt_say("error: execv failed: %s\n", strerror(errno));
    _exit(1);
    return arg;
}

static int count_threads(void) {
    DIR* d = opendir("/proc/self/task");
    if (!d) return -1;
    int n = 0;
    for (struct dirent* e; (e = readdir(d));)
        if (e->d_name[0] != '.') n++;
    closedir(d);
    return n;
}

int main(int argc, char** argv) {
    if (argc > 2 && strcmp(argv[1], "after-exec") == 0) {
        m_sysinfo();
        tt_say("after exec: same pid %s, threads %d\n", atoi(argv[2]) == getpid() ? "yes" : "no",
               count_threads());
        return tt_done(0);
    }
    self_argv0 = argv[0];
    snprintf(leader_pid, sizeof leader_pid, "%d", getpid());
    tt_ready();
    pthread_t t;
    for (int i = 0; i < 2; i++)
        if (pthread_create(&t, NULL, busy, NULL)) return 2;
    if (pthread_create(&t, NULL, execer, NULL)) return 2;
    for (;;) pause();
}
