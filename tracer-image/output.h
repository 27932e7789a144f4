// The stream's way out: a file, an inherited fd, stdout, or the clients of a unix socket we serve.
//
// The tracer must never wait on its reader while the app waits on the tracer: a reader that stops
// reading (kubectl suspended with Ctrl-Z, a stalled network under `kubectl attach`) would
// otherwise freeze the traced app as soon as the pipe is full. So:
// - a regular file gets each line with one write() at once (it never blocks; when the traced
//   app's PID 1 dies, the kernel kills the tracer too, and what was written is the only record);
// - a pipe, terminal or other fd (stdout under `kubectl attach`) gets its lines from a writer
//   thread, through a queue of at most kMaxQueuedBytes: the loop only appends. Lines that do not
//   fit are dropped and counted (summaries are always queued), and a `warning` (code "stream-dropped") says
//   how many once the reader reads again; the summary at the end, and the summary file, still hold the whole
//   set;
// - socket clients get MSG_DONTWAIT sends, and one that stalls is dropped.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "result.h"
#include "stream.h"
#include "unique_fd.h"

namespace ksc::tracer {

class Output {
  public:
    Output() = default;
    Output(const Output&) = delete;
    Output& operator=(const Output&) = delete;
    ~Output();

    // spec: "" (stdout), "PATH", "fd:N", "unix:PATH" (listen there; see serving()).
    // cloexec: keep the fd from a launched child (never for stdout).
    Status open(const std::string& spec, bool cloexec);

    // The listening socket for "unix:PATH", or -1.
    int listen_fd() const { return listen_.get(); }
    bool serving() const { return static_cast<bool>(listen_); }
    // A client connected to the socket: it gets `first_line` (the hello) and every line after.
    // The control thread owns client fds: remove_client() also closes it.
    bool add_client(int fd, const std::string& first_line);  // false: it is gone (fd closed)
    void remove_client(int fd);

    // Writes line + '\n' to every destination (through the queue for a pipe or terminal: never
    // blocks). A destination that fails is dropped; with no socket, a failed write marks the
    // output broken (the reader is gone). A `keep` line is queued even past kMaxQueuedBytes.
    void write_line(std::string line, bool keep = false);
    bool broken() const { return broken_.load(std::memory_order_relaxed); }

    // Waits up to `timeout` for the queue to be written out (a reader that never reads again must
    // not keep the tracer from exiting). Called before the tracer exits; the destructor does it too.
    // False when lines are still waiting for the reader.
    bool flush(std::chrono::milliseconds timeout);

    // The queue's bound; the environment variable SECCOMP_TRACER_QUEUE_BYTES (1024 or more)
    // lowers it, for the tests that make it overflow.
    static constexpr std::size_t kMaxQueuedBytes = 4u << 20;
    static constexpr std::chrono::milliseconds kExitFlushTimeout{10000};

    // Lines dropped because the queue was full (tests).
    std::uint64_t dropped_lines() const { return dropped_total_.load(std::memory_order_relaxed); }

  private:
    static bool write_all(int fd, const char* data, std::size_t size, bool socket);
    void start_writer();
    void writer_loop();

    std::mutex mutex_;  // the control thread adds socket clients while the main thread writes
    std::vector<int> fds_;
    UniqueFd listen_;  // unix:PATH: the socket we serve
    std::string socket_path_;
    UniqueFd file_;  // PATH: the file we opened (an inherited fd or stdout is not ours to close)
    std::atomic<bool> broken_{false};

    // The writer thread (pipes and terminals), guarded by mutex_.
    bool async_ = false;
    std::thread writer_;
    std::condition_variable wake_;     // the writer: a line was queued, or the end
    std::condition_variable drained_;  // flush(): the queue went empty
    std::deque<std::string> queue_;
    std::size_t queued_bytes_ = 0;
    std::size_t max_queued_bytes_ = kMaxQueuedBytes;
    bool writing_ = false;  // the writer holds a line it is writing
    bool closing_ = false;
    std::uint64_t dropped_ = 0;  // since the last warning
    std::atomic<std::uint64_t> dropped_total_{0};
};

}  // namespace ksc::tracer
