// The argument-rules probe (issue 14): run in a workload's container twice, without seccomp and under
// the workload's argument-level profile, it tries calls the workloads never make with those
// arguments, and the families they do (AF_INET, AF_INET6). One line per call: "NAME ok" or "NAME errno N".
// Static, raw syscalls where libc could substitute another call, so that what is judged is exactly these
// calls.
#define _GNU_SOURCE
#include <errno.h>
#include <linux/netlink.h>
#include <sched.h>
#include <stdio.h>
#include <sys/personality.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

static void report(const char* name, long r) {
    char buf[128];
    int n = r < 0 ? snprintf(buf, sizeof buf, "%s errno %d\n", name, errno)
                  : snprintf(buf, sizeof buf, "%s ok\n", name);
    if (write(1, buf, n) != n) _exit(3);
}

int main(void) {
    long fd = syscall(SYS_socket, AF_INET, SOCK_STREAM, 0);
    report("socket(AF_INET)", fd);
    if (fd >= 0) close((int)fd);
    fd = syscall(SYS_socket, AF_INET6, SOCK_STREAM, 0);
    report("socket(AF_INET6)", fd);
    if (fd >= 0) close((int)fd);
    fd = syscall(SYS_socket, AF_NETLINK, SOCK_RAW, NETLINK_AUDIT);
    report("socket(AF_NETLINK,NETLINK_AUDIT)", fd);
    if (fd >= 0) close((int)fd);
    report("personality(READ_IMPLIES_EXEC)", syscall(SYS_personality, READ_IMPLIES_EXEC));
    // Last: a new user namespace would change what the calls after it may do.
    report("unshare(CLONE_NEWUSER)", syscall(SYS_unshare, CLONE_NEWUSER));
    return 0;
}
