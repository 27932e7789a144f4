#include "connect.h"

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>

namespace ksc::tracer {

namespace {

bool write_all(int fd, const char* data, std::size_t size) {
    while (size > 0) {
        ssize_t n = write(fd, data, size);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return false;
        data += n;
        size -= static_cast<std::size_t>(n);
    }
    return true;
}

}  // namespace

int run_connect_client(const std::string& spec) {
    std::string path = spec.substr(5);  // after "unix:"
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    if (path.empty() || path.size() >= sizeof addr.sun_path) {
        std::fprintf(stderr, "seccomp-tracer: bad socket path in '%s': use unix:PATH\n", spec.c_str());
        return 1;
    }
    std::memcpy(addr.sun_path, path.data(), path.size());
    int sock = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (sock < 0 || connect(sock, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
        std::fprintf(stderr,
                     "seccomp-tracer: cannot connect to %s: %s (is a recorder running with --output %s?)\n",
                     path.c_str(), std::strerror(errno), spec.c_str());
        return 1;
    }
    signal(SIGPIPE, SIG_IGN);
    bool stdin_open = true;
    char buf[65536];
    for (;;) {
        pollfd fds[2] = {{sock, POLLIN, 0}, {STDIN_FILENO, static_cast<short>(stdin_open ? POLLIN : 0), 0}};
        if (poll(fds, stdin_open ? 2 : 1, -1) < 0) {
            if (errno == EINTR) continue;
            return 1;
        }
        if (fds[0].revents) {
            ssize_t n = read(sock, buf, sizeof buf);
            if (n < 0 && errno == EINTR) continue;
            if (n <= 0) return 0;  // the recorder ended the stream
            if (!write_all(STDOUT_FILENO, buf, static_cast<std::size_t>(n))) return 0;
        }
        if (stdin_open && fds[1].revents) {
            ssize_t n = read(STDIN_FILENO, buf, sizeof buf);
            if (n < 0 && errno == EINTR) continue;
            if (n <= 0) {
                // Our input ended: keep showing the stream; the recorder's idle timeout decides.
                stdin_open = false;
                continue;
            }
            if (!write_all(sock, buf, static_cast<std::size_t>(n))) return 1;
        }
    }
}

}  // namespace ksc::tracer
