// Processes that enter later. `tt_late app` is the target (PID 1 of its own PID namespace): after
// "go" it forks a child that makes sched_rr_get_interval (part of the tree: not late).
// `tt_late late` is started afterwards with nsenter, outside the traced tree, like `kubectl exec`:
// it makes sysinfo, which must be recorded and marked late.
#include <sys/wait.h>
#include <time.h>

#include "tt.h"

int main(int argc, char** argv) {
    if (argc > 1 && strcmp(argv[1], "late") == 0) {
        tt_ready();
        m_sysinfo();
        tt_say("late process done\n");
        return tt_done(0);
    }
    tt_ready();
    pid_t p = fork();
    if (p == 0) {
        struct timespec ts;
        syscall(SYS_sched_rr_get_interval, 0, &ts);
        _exit(0);
    }
    int st = 0;
    waitpid(p, &st, 0);
    tt_say("app child exit %d\n", WEXITSTATUS(st));
    return tt_done(0);
}
