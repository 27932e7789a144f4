// A child process: fork and exec with the descriptors it should have, the exec's failure reported
// back (through a close-on-exec pipe, so that "not found" is told apart from the program's own
// exit 127), wait, and kill on scope exit. Between fork and exec the child runs only syscalls:
// everything it needs is built before fork.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

#include "result.h"

namespace ksc {

// How a child ended, as waitpid(2) reported it.
struct ChildExit {
    std::optional<int> code;    // exited with this status
    std::optional<int> signal;  // killed by this signal
    // What a shell would report: the code, or 128 + signal.
    int shell_status() const { return code ? *code : 128 + signal.value_or(0); }
};

struct SpawnSpec {
    std::vector<std::string> argv;                // argv[0] is the program
    bool search_path = false;                     // look argv[0] up in PATH (execvp)
    std::optional<std::vector<std::string>> env;  // "NAME=value"; none: ours
    int stdout_fd = -1;                           // the child's stdout; -1: ours
    int stdin_fd = -1;                            // the child's stdin; -1: ours (or /dev/null below)
    bool stdin_devnull = false;                   // the child's stdin from /dev/null
    int pass_fd = -1;  // one descriptor the child keeps open under its own number (not close-on-exec)
    // The child gets the default signal dispositions and mask, whatever we caught, ignored or
    // blocked (ignored ones and the mask survive exec).
    bool default_signals = false;
    // The destructor kills (SIGKILL) and reaps a child still running; false leaves it be.
    bool kill_on_exit = true;
};

class Subprocess {
  public:
    // Errors: "pipe: ...", "fork: ..." (then *exec_errno stays 0), or the exec's own failure as
    // its strerror text, with *exec_errno set to its errno.
    static Result<Subprocess> spawn(const SpawnSpec& spec, int* exec_errno = nullptr);

    Subprocess(Subprocess&& other) noexcept;
    Subprocess& operator=(Subprocess&&) = delete;
    Subprocess(const Subprocess&) = delete;
    ~Subprocess();

    pid_t pid() const { return pid_; }
    // Reaps the child if it has exited (without blocking), or blocks until it does.
    std::optional<ChildExit> try_wait();
    ChildExit wait();
    std::optional<ChildExit> exit_status() const { return exit_; }
    void kill(int signal) const;

  private:
    Subprocess(pid_t pid, bool kill_on_exit) : pid_(pid), kill_on_exit_(kill_on_exit) {}

    pid_t pid_ = -1;
    bool kill_on_exit_ = true;
    std::optional<ChildExit> exit_;
};

}  // namespace ksc
