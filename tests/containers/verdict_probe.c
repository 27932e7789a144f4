// The verdict probe (issue 13): run in a container under a seccomp profile, it makes each call of
// its arguments ("NR,A0,A1,A2,A3,A4,A5", numbers in C notation; "x86:NR,..." an i386 call through
// int 0x80) in a forked child, so that a killing verdict ends only that child, and prints one line
// per call: "ok", "errno N" or "signal N". tests/containers/verdicts_test.py compares the lines with the
// verdicts of our compiled program. Static, raw syscalls: the call judged is exactly the one asked.
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

// An i386 call from this x86_64 program: the compat entry, seccomp_data.arch AUDIT_ARCH_I386,
// 32-bit arguments. The sixth goes in ebp, saved around the call (built with -mno-red-zone).
static long call_i386(const unsigned long long* v) {
    unsigned int r = (unsigned int)v[0];
    __asm__ volatile("push %%rbp\n\tmov %k[a5], %%ebp\n\tint $0x80\n\tpop %%rbp"
                     : "+a"(r)
                     : "b"((unsigned int)v[1]), "c"((unsigned int)v[2]), "d"((unsigned int)v[3]),
                       "S"((unsigned int)v[4]), "D"((unsigned int)v[5]), [a5] "r"((unsigned int)v[6])
                     : "memory", "cc");
    int ret = (int)r;
    if (ret < 0 && ret > -4096) {
        errno = -ret;
        return -1;
    }
    return ret;
}

static void say(const char* text) {
    size_t n = 0;
    while (text[n]) n++;
    if (write(1, text, n) != (ssize_t)n) _exit(3);
}

int main(int argc, char** argv) {
    for (int i = 1; i < argc; i++) {
        unsigned long long v[7] = {0};
        char* p = argv[i];
        int i386 = strncmp(p, "x86:", 4) == 0;
        if (i386) p += 4;
        for (int k = 0; k < 7 && *p; k++) {
            v[k] = strtoull(p, &p, 0);
            if (*p == ',') p++;
        }
        int fds[2];
        if (pipe(fds) != 0) return 2;
        pid_t child = fork();
        if (child < 0) return 2;
        if (child == 0) {
            close(fds[0]);
            errno = 0;
            long r = i386 ? call_i386(v) : syscall((long)v[0], v[1], v[2], v[3], v[4], v[5], v[6]);
            int e[2] = {r < 0 ? 1 : 0, errno};
            if (write(fds[1], e, sizeof e) != sizeof e) _exit(3);
            _exit(0);
        }
        close(fds[1]);
        int e[2] = {0, 0};
        ssize_t n = read(fds[0], e, sizeof e);
        close(fds[0]);
        int status = 0;
        if (waitpid(child, &status, 0) != child) return 2;
        char line[64];
        if (WIFSIGNALED(status))
            snprintf(line, sizeof line, "signal %d\n", WTERMSIG(status));
        else if (n != (ssize_t)sizeof e)
            snprintf(line, sizeof line, "lost\n");
        else if (e[0])
            snprintf(line, sizeof line, "errno %d\n", e[1]);
        else
            snprintf(line, sizeof line, "ok\n");
        say(line);
    }
    return 0;
}
