// The kernel's own enforcement, for comparison with the tracer's enforce mode: installs the
// classic-BPF seccomp program in FILE (raw struct sock_filter bytes) and execs CMD. Without
// CAP_SYS_ADMIN the kernel needs no_new_privs first; with it, none is set (as runc does).
// Usage: tt_filter_exec FILE CMD ARGS...
#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stdio.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

int main(int argc, char** argv) {
    static struct sock_filter insns[4096];
    if (argc < 3) return 2;
    int fd = open(argv[1], O_RDONLY);
    ssize_t n = fd < 0 ? -1 : read(fd, insns, sizeof insns);
    if (n <= 0 || n % 8) return 2;
    struct sock_fprog prog = {(unsigned short)(n / 8), insns};
    if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) != 0) {
        if (errno != EACCES || prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 ||
            syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) != 0) {
            perror("tt_filter_exec: seccomp");
            return 2;
        }
    }
    execv(argv[2], argv + 2);
    perror("tt_filter_exec: exec");
    return 127;
}
