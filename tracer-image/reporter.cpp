#include "reporter.h"

#include <fcntl.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "clock.h"
#include "printable.h"
#include "unique_fd.h"
#include "version.h"

namespace ksc::tracer {

double Reporter::seconds() const {
    return static_cast<double>(now_ms() - start_ms_) / 1000.0;
}

std::string Reporter::hello_line(stream::Mode mode, stream::Method method,
                                 std::optional<stream::CheckInfo> check) {
    stream::Hello hello;
    hello.tracer_version = kVersion;
    utsname u{};
    if (uname(&u) == 0) hello.kernel = u.release;
    hello.native_arch = native_arch();
    hello.mode = mode;
    hello.method = method;
    hello.pid = getpid();
    hello.check = std::move(check);
    return stream::encode(hello);
}

void Reporter::warning(const std::string& code, const std::string& message) {
    if (quiet_) return;
    emit(stream::Message{false, message, code});
}

void Reporter::error(const std::string& code, const std::string& message) {
    if (mirror_errors_) std::fprintf(stderr, "seccomp-tracer: %s\n", ksc::printable(message).c_str());
    emit(stream::Message{true, message, code});
}

void Reporter::write_summary_file(const std::string& path, bool given, const SyscallCounts& recording) {
    if (path.empty()) return;
    std::string text = encode_compact_summary(recording.seen(), recording.arg_values());
    // The default, /dev/termination-log, is a file the kubelet provides: never create it (as root on
    // a host, that would litter /dev), and say nothing when it is not there.
    UniqueFd fd(open(path.c_str(), O_WRONLY | O_TRUNC | O_CLOEXEC | (given ? O_CREAT : 0), 0644));
    if (!fd) {
        if (given)
            warning("summary-file", "cannot write the summary file " + path + ": " + std::strerror(errno));
        return;
    }
    const char* p = text.data();
    std::size_t left = text.size();
    while (left > 0) {
        ssize_t n = write(fd.get(), p, left);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        p += n;
        left -= static_cast<std::size_t>(n);
    }
}

}  // namespace ksc::tracer
