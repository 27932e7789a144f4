// 1,000 short-lived processes, forked 50 at a time, each making one sysinfo and exiting at once
// with its own status; every tenth also leaves an orphan grandchild that makes one getcpu.
// None may be missed: the summary must count exactly 1000 sysinfo and 100 getcpu.
#include <sys/wait.h>

#include "tt.h"

enum { kChildren = 1000, kBatch = 50 };

int main(void) {
    int orphans[2];
    if (pipe(orphans)) return 2;
    tt_ready();
    int exited_right = 0;
    for (int base = 0; base < kChildren; base += kBatch) {
        pid_t pids[kBatch];
        for (int j = 0; j < kBatch; j++) {
            int i = base + j;
            pids[j] = fork();
            if (pids[j] < 0) return 3;
            if (pids[j] == 0) {
                m_sysinfo();
                if (i % 10 == 0 && fork() == 0) {
                    m_getcpu();
                    if (write(orphans[1], "o", 1) != 1) _exit(1);
                    _exit(0);
                }
                _exit(i % 200);
            }
        }
        for (int j = 0; j < kBatch; j++) {
            int st;
            if (waitpid(pids[j], &st, 0) != pids[j]) return 4;
            if (WIFEXITED(st) && WEXITSTATUS(st) == (base + j) % 200) exited_right++;
        }
    }
    close(orphans[1]);
    int orphans_seen = 0;
    char c;
    for (;;) {
        ssize_t r = read(orphans[0], &c, 1);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) break;
        orphans_seen++;
    }
    tt_say("children %d, exited with their own status %d, orphans %d\n", kChildren, exited_right,
           orphans_seen);
    return tt_done(0);
}
