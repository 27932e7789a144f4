#include "install.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "unique_fd.h"

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
    UniqueFd in(open("/proc/self/exe", O_RDONLY | O_CLOEXEC));
    if (!in) return fail("cannot read /proc/self/exe");
    UniqueFd out(open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0755));
    if (!out) return fail("cannot create " + temp + " (is the directory there and writable?)");
    char buf[65536];
    for (;;) {
        ssize_t n = read(in.get(), buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return fail("cannot read /proc/self/exe");
        if (n == 0) break;
        for (ssize_t done = 0; done < n;) {
            ssize_t w = write(out.get(), buf + done, static_cast<std::size_t>(n - done));
            if (w < 0 && errno == EINTR) continue;
            if (w <= 0) {
                int err = errno;
                unlink(temp.c_str());
                errno = err;
                return fail("cannot write " + temp);
            }
            done += w;
        }
    }
    in.reset();
    // 0755 whatever the umask: the app container may run as another user. close() is checked:
    // a write the file system deferred can fail there.
    if (fchmod(out.get(), 0755) != 0 || close(out.release()) != 0) return fail("cannot finish " + temp);
    // Atomically: an app container that starts early never sees half a binary.
    if (rename(temp.c_str(), target.c_str()) != 0) return fail("cannot rename " + temp + " to " + target);
    std::printf("installed %s\n", target.c_str());
    return 0;
}

}  // namespace ksc::tracer
