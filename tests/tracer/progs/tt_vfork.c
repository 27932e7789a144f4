// vfork: three children that exec this program again (which makes sysinfo and exits 10+i), one
// that _exits(5) without exec. Each vfork child makes getsid; the parent makes getcpu after each
// vfork returns. Expected: getsid x4, sysinfo x3, getcpu x4.
#include <sys/wait.h>

#include "tt.h"

int main(int argc, char** argv) {
    if (argc > 2 && strcmp(argv[1], "child") == 0) {
        m_sysinfo();
        return atoi(argv[2]);
    }
    char* child_argv[3][4] = {
        {argv[0], "child", "10", NULL}, {argv[0], "child", "11", NULL}, {argv[0], "child", "12", NULL}};
    tt_ready();
    for (int i = 0; i < 3; i++) {
        pid_t p = vfork();
        if (p == 0) {
            m_getsid();
            execv("/proc/self/exe", child_argv[i]);
            _exit(127);
        }
        m_getcpu();
        int st = 0;
        waitpid(p, &st, 0);
        tt_say("vfork+exec child %d: exit %d\n", i, WIFEXITED(st) ? WEXITSTATUS(st) : -WTERMSIG(st));
    }
    pid_t p = vfork();
    if (p == 0) {
        m_getsid();
        _exit(5);
    }
    m_getcpu();
    int st = 0;
    waitpid(p, &st, 0);
    tt_say("vfork+_exit child: exit %d\n", WIFEXITED(st) ? WEXITSTATUS(st) : -WTERMSIG(st));
    return tt_done(0);
}
