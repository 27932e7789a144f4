#include "tracer_process.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstring>
#include <filesystem>

namespace ksc {
namespace {

std::string errno_text(int err) {
    return std::strerror(err);
}

}  // namespace

Result<std::string> find_tracer(const std::optional<std::string>& flag_path) {
    std::string path;
    if (flag_path) {
        path = *flag_path;
    } else {
        std::error_code ec;
        auto self = std::filesystem::read_symlink("/proc/self/exe", ec);
        if (ec)
            return make_error("cannot find our own binary (/proc/self/exe: " + ec.message() +
                              ") to look for seccomp-tracer beside it: give --tracer PATH");
        path = (self.parent_path() / "seccomp-tracer").string();
    }
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) {
        if (flag_path) return make_error("--tracer " + path + ": " + errno_text(errno));
        return make_error("seccomp-tracer is not next to kubectl-seccomp (looked for " + path +
                          "): install both from the same release archive, or give --tracer PATH");
    }
    if (!S_ISREG(st.st_mode) || ::access(path.c_str(), X_OK) != 0)
        return make_error(path + " is not an executable file: give --tracer PATH to a seccomp-tracer binary");
    return path;
}

Result<TracerProcess> TracerProcess::start(const std::string& tracer,
                                           const std::vector<std::string>& tracer_args,
                                           const std::vector<std::string>& command) {
    auto stream = make_pipe();
    if (!stream) return make_error("cannot create the stream pipe: " + stream.error().message);
    SpawnSpec spec;
    spec.argv.push_back(tracer);
    spec.argv.insert(spec.argv.end(), tracer_args.begin(), tracer_args.end());
    spec.argv.push_back("--output");
    spec.argv.push_back("fd:" + std::to_string(stream->write.get()));
    spec.argv.push_back("--");
    spec.argv.insert(spec.argv.end(), command.begin(), command.end());
    spec.pass_fd = stream->write.get();
    // We ignore SIGPIPE and catch the terminal's signals; the command must get the defaults.
    spec.default_signals = true;
    spec.kill_on_exit = false;
    int exec_errno = 0;
    auto process = Subprocess::spawn(spec, &exec_errno);
    if (!process && exec_errno != 0)
        return make_error("cannot run " + tracer + ": " + errno_text(exec_errno) +
                          ": check the file, or give --tracer PATH");
    if (!process) return make_error("cannot start seccomp-tracer: " + process.error().message);
    stream->write.reset();
    return TracerProcess(std::move(*process), std::move(stream->read));
}

Result<std::string> TracerProcess::read_some(std::chrono::milliseconds timeout) {
    if (!stream_) return std::string();
    pollfd pfd{stream_.get(), POLLIN, 0};
    int ready = ::poll(&pfd, 1, static_cast<int>(std::min<long long>(timeout.count(), INT_MAX)));
    if (ready < 0) {
        if (errno == EINTR) return std::string();
        return make_error("cannot read the tracer's stream: poll: " + errno_text(errno));
    }
    if (ready == 0) return std::string();
    std::string buf(64 * 1024, '\0');
    ssize_t n = ::read(stream_.get(), buf.data(), buf.size());
    if (n < 0) {
        if (errno == EINTR || errno == EAGAIN) return std::string();
        return make_error("cannot read the tracer's stream: " + errno_text(errno));
    }
    if (n == 0) {
        stream_.reset();
        return std::string();
    }
    buf.resize(static_cast<std::size_t>(n));
    return buf;
}

}  // namespace ksc
