// A process tree that exists before the attach: two children, one with a grandchild, all waiting
// on a pipe. `--pid PARENT` must trace them all: after "go" each of the three makes one sysinfo
// and exits with its own status.
#include <sys/wait.h>

#include "tt.h"

static int gate[2], up[2];

static void wait_gate(void) {
    if (write(up[1], "u", 1) != 1) _exit(1);
    char c;
    while (read(gate[0], &c, 1) < 0 && errno == EINTR) {
    }
}

int main(void) {
    if (pipe(gate) || pipe(up)) return 2;
    pid_t kids[2];
    for (int i = 0; i < 2; i++) {
        kids[i] = fork();
        if (kids[i] == 0) {
            pid_t grandchild = -1;
            if (i == 1 && (grandchild = fork()) == 0) {
                wait_gate();
                m_sysinfo();
                _exit(30);
            }
            wait_gate();
            m_sysinfo();
            int st = 0;
            if (grandchild > 0) waitpid(grandchild, &st, 0);
            _exit(20 + i + (grandchild > 0 && WIFEXITED(st) ? WEXITSTATUS(st) : 0));
        }
    }
    // Ready only once the whole tree exists, so that an attach sees all of it.
    for (int n = 0; n < 3;) {
        char c;
        ssize_t r = read(up[0], &c, 1);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) return 3;
        n++;
    }
    tt_say("ready %d\n", getpid());
    tt_expect("go");
    if (write(gate[1], "xxx", 3) != 3) return 2;
    for (int i = 0; i < 2; i++) {
        int st = 0;
        waitpid(kids[i], &st, 0);
        tt_say("child %d exit %d\n", i, WIFEXITED(st) ? WEXITSTATUS(st) : -1);
    }
    return tt_done(0);
}
