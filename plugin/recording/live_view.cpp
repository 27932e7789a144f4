#include "live_view.h"

#include <fmt/core.h>

#include "arch.h"
#include "errno_names.h"
#include "printable.h"

namespace ksc {

std::string denial_line(const stream::Denial& d) {
    std::string verdict = d.action;
    if (d.errno_value) {
        auto n = errno_name(*d.errno_value);
        verdict += "(" + (n ? std::string(*n) : std::to_string(*d.errno_value)) + ")";
    }
    return printable(fmt::format("{} {}{} with {}: {}{} [pid {}]", d.enforced ? "refused" : "would refuse",
                                 d.name.empty() ? "#" + std::to_string(d.nr) : d.name,
                                 d.arch == native_arch() ? "" : " (" + std::string(arch_name(d.arch)) + ")",
                                 verdict, d.comm, d.exe.empty() ? "" : " (" + d.exe + ")", d.pid));
}

}  // namespace ksc

namespace ksc::cli {

using namespace std::chrono_literals;

void LiveView::denial(const stream::Denial& d) {
    message(denial_line(d));
}

std::string format_elapsed(std::chrono::steady_clock::duration d) {
    auto s = std::chrono::duration_cast<std::chrono::seconds>(d).count();
    if (s < 60) return fmt::format("{}s", s);
    if (s < 3600) return fmt::format("{}m{:02}s", s / 60, s % 60);
    return fmt::format("{}h{:02}m{:02}s", s / 3600, (s / 60) % 60, s % 60);
}

void LiveView::new_syscall(const stream::Syscall& sc) {
    last_new_ = Clock::now();
    last_name_ = sc.name.empty() ? std::to_string(sc.nr) : sc.name;
    ++syscalls_;
    if (!terminal_)
        fmt::print(stderr, "new syscall: {}{} ({}[{}])\n", printable(last_name_),
                   sc.arch == native_arch() ? "" : " (" + std::string(arch_name(sc.arch)) + ")",
                   printable(sc.comm), sc.pid);
    else
        redraw(true);
}

void LiveView::progress(const stream::Progress& p) {
    threads_ = p.threads;
    processes_ = p.processes;
    redraw(false);
}

void LiveView::message(const std::string& line) {
    clear();
    fmt::print(stderr, "{}\n", printable(line));
    redraw(true);
}

void LiveView::clear() {
    if (terminal_ && drawn_) fmt::print(stderr, "\r\033[K");
    drawn_ = false;
}

void LiveView::redraw(bool force) {
    auto now = Clock::now();
    if (!force && now - last_draw_ < (terminal_ ? 1s : 30s)) return;
    last_draw_ = now;
    std::string since =
        syscalls_ == 0 ? ""
                       : fmt::format(", last new: {} {} ago", last_name_, format_elapsed(now - last_new_));
    std::string line =
        printable(fmt::format("{} {}: {}, {} syscalls, {} threads in {} processes{}", activity_, what_,
                              format_elapsed(now - start_), syscalls_, threads_, processes_, since));
    if (terminal_) {
        fmt::print(stderr, "\r\033[K{}", line);
        drawn_ = true;
    } else {
        fmt::print(stderr, "{}\n", line);
    }
}

}  // namespace ksc::cli
