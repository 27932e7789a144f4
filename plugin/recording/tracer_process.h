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
#include "subprocess.h"
#include "unique_fd.h"

namespace ksc {

// The tracer to run: --tracer PATH if given (it must be an executable file), else
// `seccomp-tracer` in the directory of the running kubectl-seccomp (/proc/self/exe).
// The error says where we looked and what to do.
Result<std::string> find_tracer(const std::optional<std::string>& flag_path);

class TracerProcess {
  public:
    // Starts `tracer tracer_args... --output fd:N -- command...`. The stream's write end is the
    // only descriptor we add; everything else the child inherits is the user's.
    static Result<TracerProcess> start(const std::string& tracer, const std::vector<std::string>& tracer_args,
                                       const std::vector<std::string>& command);

    pid_t pid() const { return process_.pid(); }

    // Waits up to `timeout` for stream data or the tracer's exit. Returns the bytes read (possibly
    // none); an empty result with stream_ended() means EOF. A signal arriving returns early.
    Result<std::string> read_some(std::chrono::milliseconds timeout);
    bool stream_ended() const { return !stream_; }

    // Reaps the tracer if it has exited (without blocking), or blocks until it does.
    std::optional<ChildExit> try_wait() { return process_.try_wait(); }
    ChildExit wait() { return process_.wait(); }
    std::optional<ChildExit> exit_status() const { return process_.exit_status(); }

    void kill(int signal) const { process_.kill(signal); }

  private:
    TracerProcess(Subprocess process, UniqueFd stream)
        : process_(std::move(process)), stream_(std::move(stream)) {}

    // A tracer we did not reap is left to finish on its own (it exits when the command does).
    Subprocess process_;
    UniqueFd stream_;
};

}  // namespace ksc
