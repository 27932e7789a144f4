// The stream's way out: a file, an inherited fd, stdout, or the clients of a unix socket we serve.
// Every line goes out with one write() at once (no buffering): when the traced app's PID 1 dies,
// the kernel kills the tracer too, and what was written is the only record.
#pragma once

#include <mutex>
#include <string>
#include <vector>

#include "result.h"
#include "stream.h"

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
    int listen_fd() const { return listen_fd_; }
    bool serving() const { return listen_fd_ >= 0; }
    // A client connected to the socket: it gets `first_line` (the hello) and every line after.
    // The control thread owns client fds: remove_client() also closes it.
    bool add_client(int fd, const std::string& first_line);  // false: it is gone (fd closed)
    void remove_client(int fd);

    // Writes line + '\n' to every destination. A destination that fails is dropped; with no socket,
    // a failed write marks the output broken (the reader is gone).
    void write_line(std::string line);
    bool broken() const { return broken_; }

private:
    static bool write_all(int fd, const char* data, std::size_t size, bool socket);

    std::mutex mutex_;  // the control thread adds socket clients while the main thread writes
    std::vector<int> fds_;
    int listen_fd_ = -1;
    std::string socket_path_;
    bool owns_fd_ = false;
    bool broken_ = false;
};

}  // namespace ksc::tracer
