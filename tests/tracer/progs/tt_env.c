// What a launched program inherits must be what it would have inherited untraced: open file
// descriptors, blocked and ignored signals, umask, working directory, environment, process group
// and session, resource limits. It prints them (umask is read with the umask syscall: the marker).
#include <dirent.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include "tt.h"

extern char** environ;

static void status_field(const char* name) {
    FILE* f = fopen("/proc/self/status", "r");
    char line[256];
    size_t len = strlen(name);
    while (f && fgets(line, sizeof line, f))
        if (strncmp(line, name, len) == 0 && line[len] == ':') tt_say("%s", line);
    if (f) fclose(f);
}

int main(void) {
    DIR* d = opendir("/proc/self/fd");
    int self_fd = d ? dirfd(d) : -1;
    tt_say("open fds:");
    for (struct dirent* e; d && (e = readdir(d));)
        if (e->d_name[0] != '.' && atoi(e->d_name) != self_fd) tt_say(" %s", e->d_name);
    tt_say("\n");
    if (d) closedir(d);
    status_field("SigBlk");
    status_field("SigIgn");
    mode_t m = umask(022);
    tt_say("umask %03o\n", m);
    char cwd[4096];
    tt_say("cwd %s\n", getcwd(cwd, sizeof cwd) ? cwd : "?");
    unsigned long h = 5381;
    int n = 0;
    for (char** e = environ; *e; e++, n++)
        for (const char* c = *e; *c; c++) h = h * 33 + (unsigned char)*c;
    tt_say("environment: %d variables, hash %lx\n", n, h);
    tt_say("same process group as parent: %s\n", getpgid(0) == getpgid(getppid()) ? "yes" : "no");
    tt_say("same session as parent: %s\n", getsid(0) == getsid(getppid()) ? "yes" : "no");
    struct rlimit rl;
    getrlimit(RLIMIT_NOFILE, &rl);
    tt_say("RLIMIT_NOFILE %lu %lu\n", (unsigned long)rl.rlim_cur, (unsigned long)rl.rlim_max);
    getrlimit(RLIMIT_CORE, &rl);
    tt_say("RLIMIT_CORE %lu %lu\n", (unsigned long)rl.rlim_cur, (unsigned long)rl.rlim_max);
    return 0;
}
