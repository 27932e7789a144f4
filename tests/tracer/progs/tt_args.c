// Argument values (issue 14): socket families (AF_INET three times, AF_UNIX, AF_NETLINK with
// NETLINK_ROUTE and NETLINK_AUDIT), personality(0xffffffff) and personality(-1) (one value: the
// low 32 bits), a fork (clone without namespace flags), unshare(CLONE_NEWUTS) in a child (recorded
// whether or not it is allowed), and keyctl with 130 distinct invalid operations (more than the
// tracer keeps: keyctl must go whole). Each call's result is printed, so the traced run must say
// the same as the untraced one.
#include "tt.h"  // first: it defines _GNU_SOURCE

#include <linux/netlink.h>
#include <sched.h>
#include <sys/socket.h>
#include <sys/wait.h>

static int try_socket(int domain, int type, int protocol) {
    int fd = socket(domain, type, protocol);
    if (fd >= 0) close(fd);
    return fd >= 0;
}

int main(void) {
    tt_ready();
    int inet = 0;
    for (int i = 0; i < 3; i++) inet += try_socket(AF_INET, SOCK_STREAM, 0);
    int unix_ok = try_socket(AF_UNIX, SOCK_DGRAM, 0);
    int route = try_socket(AF_NETLINK, SOCK_RAW, NETLINK_ROUTE);
    int audit = try_socket(AF_NETLINK, SOCK_RAW, NETLINK_AUDIT);
    long p1 = syscall(SYS_personality, 0xffffffffUL);
    long p2 = syscall(SYS_personality, -1L);
    pid_t child = fork();
    if (child == 0) {
        int r = unshare(CLONE_NEWUTS);
        _exit(r == 0 ? 0 : 1);
    }
    int status = 0;
    waitpid(child, &status, 0);
    int invalid = 0;
    for (long op = 1000; op < 1130; op++) invalid += syscall(SYS_keyctl, op, 0, 0, 0, 0) < 0;
    tt_say("inet %d unix %d route %d audit %d personality %d child %d keyctl %d\n", inet, unix_ok, route,
           audit, p1 == p2, WIFEXITED(status), invalid);
    return tt_done(0);
}
