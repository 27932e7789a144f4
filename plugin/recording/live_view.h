// The live view of `record` on stderr: one updating line on a terminal ("recording web-0/app: 1m05s,
// 42 syscalls, ..."), plain lines otherwise; messages print above it.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <string>

#include "stream.h"

namespace ksc {
// "would refuse socket (x86_64) with SCMP_ACT_ERRNO(EPERM): curl (/usr/bin/curl) [pid 12]"
std::string denial_line(const stream::Denial& d);
}  // namespace ksc

namespace ksc::cli {

// 59s, 4m05s, 1h02m03s.
std::string format_elapsed(std::chrono::steady_clock::duration d);

class LiveView {
  public:
    using Clock = std::chrono::steady_clock;
    // `activity` starts the line: "recording", or "checking" for `check`.
    LiveView(bool terminal, std::string what, std::string activity = "recording")
        : terminal_(terminal), what_(std::move(what)), activity_(std::move(activity)) {}

    void new_syscall(const stream::Syscall& sc);
    // Syscalls seen before we attached arrive in the snapshot's summary, not as events.
    void set_total(std::uint64_t n) { syscalls_ = std::max(syscalls_, n); }
    void progress(const stream::Progress& p);
    // check: a call the profile would refuse, one line above the view.
    void denial(const stream::Denial& d);
    void tick() { redraw(false); }
    void message(const std::string& line);
    void clear();

  private:
    void redraw(bool force);

    bool terminal_;
    std::string what_;
    std::string activity_;
    Clock::time_point start_ = Clock::now();
    Clock::time_point last_draw_{};
    Clock::time_point last_new_ = Clock::now();
    std::string last_name_;
    std::uint64_t syscalls_ = 0, threads_ = 0, processes_ = 0;
    bool drawn_ = false;
};

}  // namespace ksc::cli
