#include "input_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/core.h>

#include <cerrno>
#include <cstring>

#include "unique_fd.h"

namespace ksc {

Result<std::string> read_input_file(const std::string& path, std::size_t max_bytes) {
    bool is_stdin = path == "-";
    std::string name = is_stdin ? std::string("<stdin>") : path;
    // stdin is the user's: read, never closed.
    UniqueFd opened(is_stdin ? -1 : ::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    const int fd = is_stdin ? STDIN_FILENO : opened.get();
    if (fd < 0) return make_error(fmt::format("{}: cannot open: {}", name, std::strerror(errno)));
    struct stat st {};
    if (::fstat(fd, &st) == 0) {
        if (S_ISDIR(st.st_mode)) {
            return make_error(fmt::format("{}: is a directory, expected a file", name));
        }
        if (S_ISREG(st.st_mode) && static_cast<std::uint64_t>(st.st_size) > max_bytes) {
            return make_error(fmt::format("{}: too large ({} bytes; at most {} MiB): is this the right file?",
                                          name, st.st_size, max_bytes >> 20));
        }
    }
    std::string data;
    char buf[65536];
    for (;;) {
        ssize_t n = ::read(fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
            return make_error(fmt::format("{}: read failed: {}", name, std::strerror(errno)));
        }
        if (n == 0) break;
        // Pipes have no size: stop as soon as the cap is passed.
        if (data.size() + static_cast<std::size_t>(n) > max_bytes) {
            return make_error(fmt::format("{}: too large (more than {} MiB): is this the right file?", name,
                                          max_bytes >> 20));
        }
        data.append(buf, static_cast<std::size_t>(n));
    }
    if (data.find_first_not_of(" \t\r\n") == std::string::npos)
        return make_error(fmt::format("{}: empty file, expected a seccomp profile or a recording", name));
    return data;
}

}  // namespace ksc
