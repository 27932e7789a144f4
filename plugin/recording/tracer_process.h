// The local seccomp-tracer in launch mode, as `kubectl seccomp trace` runs it: a child process
// whose stream comes back over a pipe of its own (`--output fd:N`), so the traced command keeps
// the user's stdin, stdout and stderr. The plugin never includes ptrace code: all of that is the
// tracer's.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "result.h"

namespace ksc {

// The tracer to run: --tracer PATH if given (it must be an executable file), else
// `seccomp-tracer` in the directory of the running kubectl-seccomp (/proc/self/exe).
// The error says where we looked and what to do.
Result<std::string> find_tracer(const std::optional<std::string>& flag_path);

// How a child ended, as waitpid(2) reported it.
struct ChildExit {
    std::optional<int> code;    // exited with this status
    std::optional<int> signal;  // killed by this signal
    // What a shell would report: the code, or 128 + signal.
    int shell_status() const { return code ? *code : 128 + signal.value_or(0); }
};

class TracerProcess {
  public:
    // Starts `tracer tracer_args... --output fd:N -- command...`. The stream's write end is the
    // only descriptor we add; everything else the child inherits is the user's.
    static Result<TracerProcess> start(const std::string& tracer, const std::vector<std::string>& tracer_args,
                                       const std::vector<std::string>& command);

    TracerProcess(TracerProcess&& other) noexcept;
    TracerProcess& operator=(TracerProcess&&) = delete;
    TracerProcess(const TracerProcess&) = delete;
    ~TracerProcess();

    pid_t pid() const { return pid_; }

    // Waits up to `timeout` for stream data or the tracer's exit. Returns the bytes read (possibly
    // none); an empty result with stream_ended() means EOF. A signal arriving returns early.
    Result<std::string> read_some(std::chrono::milliseconds timeout);
    bool stream_ended() const { return stream_fd_ < 0; }

    // Reaps the tracer if it has exited (without blocking), or blocks until it does.
    std::optional<ChildExit> try_wait();
    ChildExit wait();
    std::optional<ChildExit> exit_status() const { return exit_; }

    void kill(int signal) const;

  private:
    TracerProcess(pid_t pid, int stream_fd) : pid_(pid), stream_fd_(stream_fd) {}
    void close_stream();

    pid_t pid_ = -1;
    int stream_fd_ = -1;
    std::optional<ChildExit> exit_;
};

}  // namespace ksc
