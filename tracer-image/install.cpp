#include "install.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

namespace ksc::tracer {

namespace {

int fail(const std::string& what) {
    std::fprintf(stderr, "seccomp-tracer: --install: %s: %s\n", what.c_str(), std::strerror(errno));
    return 1;
}

}  // namespace

int install_self(const std::string& dir) {
    std::string target = dir + "/seccomp-tracer";
    std::string temp = target + ".tmp";
    int in = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
    if (in < 0) return fail("cannot read /proc/self/exe");
    int out = open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0755);
    if (out < 0) {
        close(in);
        return fail("cannot create " + temp + " (is the directory there and writable?)");
    }
    char buf[65536];
    for (;;) {
        ssize_t n = read(in, buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
            close(in);
            close(out);
            return fail("cannot read /proc/self/exe");
        }
        if (n == 0) break;
        for (ssize_t done = 0; done < n;) {
            ssize_t w = write(out, buf + done, static_cast<std::size_t>(n - done));
            if (w < 0 && errno == EINTR) continue;
            if (w <= 0) {
                close(in);
                close(out);
                unlink(temp.c_str());
                return fail("cannot write " + temp);
            }
            done += w;
        }
    }
    close(in);
    // 0755 whatever the umask: the app container may run as another user.
    if (fchmod(out, 0755) != 0 || close(out) != 0) return fail("cannot finish " + temp);
    // Atomically: an app container that starts early never sees half a binary.
    if (rename(temp.c_str(), target.c_str()) != 0) return fail("cannot rename " + temp + " to " + target);
    std::printf("installed %s\n", target.c_str());
    return 0;
}

}  // namespace ksc::tracer
