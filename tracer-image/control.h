// The commands channel (stop, snapshot, ping), read by a helper thread so that the ptrace loop
// never polls for them: the thread parses each line, records it in atomics and wakes the main
// thread (signals.h). The helper never makes a ptrace call: only the thread that attached may.
// With --output unix:PATH, the same thread accepts the socket's clients and reads their commands.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>

#include "output.h"
#include "result.h"

namespace ksc::tracer {

class Control {
  public:
    // control_spec: "" (none), "-" (stdin), "PATH", "fd:N". server: the output when it serves a
    // socket (else null); hello_line is sent to each client as it connects.
    Status start(const std::string& control_spec, bool cloexec, Output* server, std::string hello_line);

    bool stop_requested() const { return stop_.load(std::memory_order_relaxed); }
    unsigned take_snapshot_requests() { return snapshots_.exchange(0); }
    unsigned take_ping_requests() { return pings_.exchange(0); }
    std::int64_t last_command_ms() const { return last_command_ms_.load(std::memory_order_relaxed); }
    bool has_channel() const { return has_channel_; }

  private:
    static void* thread_main(void* self);
    void run();
    void on_line(const std::string& line);

    int control_fd_ = -1;
    Output* server_ = nullptr;
    std::string hello_line_;
    bool has_channel_ = false;
    std::atomic<bool> stop_{false};
    std::atomic<unsigned> snapshots_{0};
    std::atomic<unsigned> pings_{0};
    std::atomic<std::int64_t> last_command_ms_{0};
};

}  // namespace ksc::tracer
