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

ChildExit decode_wait_status(int status) {
    ChildExit exit;
    if (WIFEXITED(status))
        exit.code = WEXITSTATUS(status);
    else if (WIFSIGNALED(status))
        exit.signal = WTERMSIG(status);
    return exit;
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
    int stream[2];
    if (::pipe2(stream, O_CLOEXEC) != 0)
        return make_error("cannot create the stream pipe: " + errno_text(errno));
    // The child tells us through this pipe when exec fails; a successful exec closes it (CLOEXEC).
    int exec_report[2];
    if (::pipe2(exec_report, O_CLOEXEC) != 0) {
        int err = errno;
        ::close(stream[0]);
        ::close(stream[1]);
        return make_error("cannot create a pipe: " + errno_text(err));
    }

    // Everything the child needs is built before fork: between fork and exec only syscalls run.
    std::vector<std::string> args;
    args.push_back(tracer);
    args.insert(args.end(), tracer_args.begin(), tracer_args.end());
    args.push_back("--output");
    args.push_back("fd:" + std::to_string(stream[1]));
    args.push_back("--");
    args.insert(args.end(), command.begin(), command.end());
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    const int child_fd = stream[1];
    const int report_fd = exec_report[1];

    pid_t pid = ::fork();
    if (pid < 0) {
        int err = errno;
        for (int fd : {stream[0], stream[1], exec_report[0], exec_report[1]}) ::close(fd);
        return make_error("cannot start seccomp-tracer: fork: " + errno_text(err));
    }
    if (pid == 0) {
        // We ignore SIGPIPE and catch the terminal's signals; the command must get the defaults
        // (caught ones reset at exec by themselves, ignored ones do not).
        ::signal(SIGPIPE, SIG_DFL);
        sigset_t none;
        sigemptyset(&none);
        ::sigprocmask(SIG_SETMASK, &none, nullptr);
        ::close(stream[0]);
        ::close(exec_report[0]);
        if (::fcntl(child_fd, F_SETFD, 0) == 0) ::execv(argv[0], argv.data());
        int err = errno;
        ssize_t ignored = ::write(report_fd, &err, sizeof err);
        (void)ignored;
        ::_exit(125);
    }

    ::close(stream[1]);
    ::close(exec_report[1]);
    int exec_errno = 0;
    ssize_t n;
    do {
        n = ::read(exec_report[0], &exec_errno, sizeof exec_errno);
    } while (n < 0 && errno == EINTR);
    ::close(exec_report[0]);
    if (n == static_cast<ssize_t>(sizeof exec_errno)) {
        ::close(stream[0]);
        int status;
        while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
        }
        return make_error("cannot run " + tracer + ": " + errno_text(exec_errno) +
                          ": check the file, or give --tracer PATH");
    }
    return TracerProcess(pid, stream[0]);
}

TracerProcess::TracerProcess(TracerProcess&& other) noexcept
    : pid_(other.pid_), stream_fd_(other.stream_fd_), exit_(other.exit_) {
    other.pid_ = -1;
    other.stream_fd_ = -1;
}

TracerProcess::~TracerProcess() {
    close_stream();
    // A tracer we did not reap is left to finish on its own (it exits when the command does).
}

void TracerProcess::close_stream() {
    if (stream_fd_ >= 0) ::close(stream_fd_);
    stream_fd_ = -1;
}

Result<std::string> TracerProcess::read_some(std::chrono::milliseconds timeout) {
    if (stream_fd_ < 0) return std::string();
    pollfd pfd{stream_fd_, POLLIN, 0};
    int ready = ::poll(&pfd, 1, static_cast<int>(std::min<long long>(timeout.count(), INT_MAX)));
    if (ready < 0) {
        if (errno == EINTR) return std::string();
        return make_error("cannot read the tracer's stream: poll: " + errno_text(errno));
    }
    if (ready == 0) return std::string();
    std::string buf(64 * 1024, '\0');
    ssize_t n = ::read(stream_fd_, buf.data(), buf.size());
    if (n < 0) {
        if (errno == EINTR || errno == EAGAIN) return std::string();
        return make_error("cannot read the tracer's stream: " + errno_text(errno));
    }
    if (n == 0) {
        close_stream();
        return std::string();
    }
    buf.resize(static_cast<std::size_t>(n));
    return buf;
}

std::optional<ChildExit> TracerProcess::try_wait() {
    if (exit_ || pid_ < 0) return exit_;
    int status;
    pid_t r = ::waitpid(pid_, &status, WNOHANG);
    if (r == pid_) exit_ = decode_wait_status(status);
    return exit_;
}

ChildExit TracerProcess::wait() {
    while (!exit_ && pid_ > 0) {
        int status;
        pid_t r = ::waitpid(pid_, &status, 0);
        if (r == pid_)
            exit_ = decode_wait_status(status);
        else if (r < 0 && errno != EINTR)
            exit_ = ChildExit{std::nullopt, std::nullopt};
    }
    return exit_.value_or(ChildExit{});
}

void TracerProcess::kill(int signal) const {
    if (pid_ > 0 && !exit_) ::kill(pid_, signal);
}

}  // namespace ksc
