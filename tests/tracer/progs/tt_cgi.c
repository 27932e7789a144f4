// A CGI server's process churn, the pattern busybox httpd + a shell CGI makes per request (a
// request once hung under the tracer): `tt_cgi WORKERS REQUESTS`, after "go", WORKERS processes
// each serve REQUESTS requests, one forked handler per request, which
//   1. vforks a child that execs a leaf (getcpu) and reads its output through a pipe;
//   2. runs a pipeline: a forked writer | a forked reader that execs "cat" (getsid);
//   3. leaves an orphan: a child forks a grandchild and exits at once; the grandchild execs
//      "orphan" (sched_get_priority_max) and ends after its parent; EOF on a pipe says when;
//   4. leaves zombies to the reaper: a child forks and vforks children that exit, and exits
//      without waiting for them.
// Every request must finish: a tracee left stopped hangs it (the driver's timeout catches that).
// Prints "requests N" (the number served) and the usual "done".
#include <sys/wait.h>

#include "tt.h"

static char* self;

static void exec_role(const char* role) {
    execl(self, self, role, (char*)0);
    _exit(120);
}

static void drain(int fd) {
    char buf[256];
    while (read(fd, buf, sizeof buf) > 0) {
    }
}

static void reap(pid_t pid) {
    while (waitpid(pid, NULL, 0) < 0 && errno == EINTR) {
    }
}

static void one_request(void) {
    int p[2];
    // 1. vfork + exec, output read through a pipe.
    if (pipe(p)) _exit(3);
    pid_t c = vfork();
    if (c == 0) {
        dup2(p[1], 1);
        close(p[0]);
        close(p[1]);
        exec_role("leaf");
    }
    close(p[1]);
    drain(p[0]);
    close(p[0]);
    reap(c);
    // 2. writer | reader.
    if (pipe(p)) _exit(3);
    pid_t a = fork();
    if (a == 0) {
        close(p[0]);
        for (int i = 0; i < 40; i++) dprintf(p[1], "line %d\n", i);
        _exit(0);
    }
    pid_t b = fork();
    if (b == 0) {
        dup2(p[0], 0);
        close(p[0]);
        close(p[1]);
        exec_role("cat");
    }
    close(p[0]);
    close(p[1]);
    reap(a);
    reap(b);
    // 3. An orphan, which holds the pipe's write end until it ends.
    if (pipe(p)) _exit(3);
    pid_t x = fork();
    if (x == 0) {
        close(p[0]);
        if (fork() == 0) exec_role("orphan");
        _exit(0);
    }
    close(p[1]);
    reap(x);
    drain(p[0]);
    close(p[0]);
    // 4. Zombies left to the reaper.
    x = fork();
    if (x == 0) {
        if (fork() == 0) _exit(0);
        if (vfork() == 0) _exit(0);
        _exit(0);
    }
    reap(x);
}

int main(int argc, char** argv) {
    self = argv[0];
    if (argc == 2 && strcmp(argv[1], "leaf") == 0) {
        m_getcpu();
        tt_say("leaf\n");
        return 0;
    }
    if (argc == 2 && strcmp(argv[1], "cat") == 0) {
        m_getsid();
        drain(0);
        return 0;
    }
    if (argc == 2 && strcmp(argv[1], "orphan") == 0) {
        m_prio_max();
        usleep(200);  // outlive the parent, usually
        return 0;
    }
    int workers = argc > 2 ? atoi(argv[1]) : 4;
    int requests = argc > 2 ? atoi(argv[2]) : 40;
    tt_ready();
    // Served requests come back as one byte each on this pipe.
    int served[2];
    if (pipe(served)) return 2;
    for (int w = 0; w < workers; w++) {
        if (fork() == 0) {
            close(served[0]);
            for (int k = 0; k < requests; k++) {
                pid_t h = fork();
                if (h == 0) {
                    one_request();
                    _exit(0);
                }
                int st = 0;
                while (waitpid(h, &st, 0) < 0 && errno == EINTR) {
                }
                if (WIFEXITED(st) && WEXITSTATUS(st) == 0) write(served[1], "r", 1);
            }
            _exit(0);
        }
    }
    close(served[1]);
    long n = 0;
    char buf[256];
    for (ssize_t r; (r = read(served[0], buf, sizeof buf)) != 0;)
        if (r > 0) n += r;
    while (wait(NULL) > 0 || errno == EINTR) {
    }
    tt_say("requests %ld\n", n);
    return tt_done(0);
}
