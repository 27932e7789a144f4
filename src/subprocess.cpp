#include "subprocess.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "unique_fd.h"

namespace ksc {
namespace {

ChildExit decode_wait_status(int status) {
    ChildExit exit;
    if (WIFEXITED(status))
        exit.code = WEXITSTATUS(status);
    else if (WIFSIGNALED(status))
        exit.signal = WTERMSIG(status);
    return exit;
}

std::vector<char*> pointers(std::vector<std::string>& strings) {
    std::vector<char*> out;
    for (auto& s : strings) out.push_back(s.data());
    out.push_back(nullptr);
    return out;
}

// In the child, after fork: only syscalls until exec. Never returns.
[[noreturn]] void exec_child(const SpawnSpec& spec, char* const* argv, char* const* envp, int report_fd) {
    if (spec.default_signals) {
        ::signal(SIGPIPE, SIG_DFL);
        sigset_t none;
        sigemptyset(&none);
        ::sigprocmask(SIG_SETMASK, &none, nullptr);
    }
    if (spec.stdout_fd >= 0) ::dup2(spec.stdout_fd, STDOUT_FILENO);
    if (spec.stdin_fd >= 0) ::dup2(spec.stdin_fd, STDIN_FILENO);
    if (spec.stdin_devnull) {
        int devnull = ::open("/dev/null", O_RDONLY);
        if (devnull >= 0) ::dup2(devnull, STDIN_FILENO);
    }
    if (spec.pass_fd < 0 || ::fcntl(spec.pass_fd, F_SETFD, 0) == 0) {
        if (spec.search_path)
            ::execvpe(argv[0], argv, envp ? envp : environ);
        else
            ::execve(argv[0], argv, envp ? envp : environ);
    }
    int err = errno;
    ssize_t ignored = ::write(report_fd, &err, sizeof err);
    (void)ignored;
    ::_exit(127);
}

}  // namespace

Result<Subprocess> Subprocess::spawn(const SpawnSpec& spec, int* exec_errno) {
    if (exec_errno) *exec_errno = 0;
    std::vector<std::string> args = spec.argv;
    std::vector<char*> argv = pointers(args);
    std::vector<std::string> env = spec.env.value_or(std::vector<std::string>{});
    std::vector<char*> envp = pointers(env);
    // The child tells us through this pipe when exec fails; a successful exec closes it.
    auto report = make_pipe();
    if (!report) return report.error();
    pid_t pid = ::fork();
    if (pid < 0) return make_error(std::string("fork: ") + std::strerror(errno));
    if (pid == 0) exec_child(spec, argv.data(), spec.env ? envp.data() : nullptr, report->write.get());
    Subprocess child(pid, spec.kill_on_exit);
    report->write.reset();
    int err = 0;
    ssize_t n;
    do {
        n = ::read(report->read.get(), &err, sizeof err);
    } while (n < 0 && errno == EINTR);
    if (n != static_cast<ssize_t>(sizeof err)) return child;
    child.wait();
    if (exec_errno) *exec_errno = err;
    return make_error(std::strerror(err));
}

Subprocess::Subprocess(Subprocess&& other) noexcept
    : pid_(other.pid_), kill_on_exit_(other.kill_on_exit_), exit_(other.exit_) {
    other.pid_ = -1;
}

Subprocess::~Subprocess() {
    if (pid_ <= 0 || exit_ || !kill_on_exit_) return;
    ::kill(pid_, SIGKILL);
    wait();
}

std::optional<ChildExit> Subprocess::try_wait() {
    if (exit_ || pid_ < 0) return exit_;
    int status;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) exit_ = decode_wait_status(status);
    return exit_;
}

ChildExit Subprocess::wait() {
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

void Subprocess::kill(int signal) const {
    if (pid_ > 0 && !exit_) ::kill(pid_, signal);
}

}  // namespace ksc
