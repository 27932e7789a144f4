#include "control.h"

#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <map>

#include "clock.h"
#include "signals.h"

namespace ksc::tracer {

Status Control::start(const std::string& control_spec, bool cloexec, Output* server, std::string hello_line) {
    server_ = server;
    hello_line_ = std::move(hello_line);
    last_command_ms_ = now_ms();
    if (control_spec == "-") {
        control_fd_ = STDIN_FILENO;
    } else if (control_spec.starts_with("fd:")) {
        std::string digits = control_spec.substr(3);
        if (digits.empty() || digits.size() > 6 ||
            digits.find_first_not_of("0123456789") != std::string::npos)
            return make_error("bad fd in '" + control_spec + "': use fd:N");
        control_fd_ = std::stoi(digits);
        if (fcntl(control_fd_, F_GETFD) < 0)
            return make_error("'" + control_spec + "': fd " + digits + " is not open");
        if (cloexec && control_fd_ > 2) fcntl(control_fd_, F_SETFD, FD_CLOEXEC);
    } else if (!control_spec.empty()) {
        // O_RDWR on a FIFO: opening never blocks and a writer closing is not the end of it.
        control_fd_ = open(control_spec.c_str(), O_RDWR | O_CLOEXEC);
        if (control_fd_ < 0) control_fd_ = open(control_spec.c_str(), O_RDONLY | O_CLOEXEC);
        if (control_fd_ < 0)
            return make_error("cannot open " + control_spec + " for commands: " + std::strerror(errno));
    }
    has_channel_ = control_fd_ >= 0 || server_;
    if (!has_channel_) return Ok{};

    // The helper starts with every signal blocked, so process-directed signals reach the main thread.
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, &old);
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, 64 * 1024);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    pthread_t thread;
    int err = pthread_create(&thread, &attr, &Control::thread_main, this);
    pthread_attr_destroy(&attr);
    pthread_sigmask(SIG_SETMASK, &old, nullptr);
    if (err) return make_error(std::string("cannot start the control thread: ") + std::strerror(err));
    return Ok{};
}

void* Control::thread_main(void* self) {
    static_cast<Control*>(self)->run();
    return nullptr;
}

void Control::on_line(const std::string& line) {
    auto command = stream::parse_command(line);
    if (!command) return;  // unknown commands are ignored, like unknown stream types
    last_command_ms_ = now_ms();
    switch (*command) {
        case stream::Command::Stop:
            stop_ = true;
            break;
        case stream::Command::Snapshot:
            ++snapshots_;
            break;
        case stream::Command::Ping:
            ++pings_;
            break;
    }
    wake_main_thread();
}

void Control::run() {
    std::map<int, stream::LineSplitter> readers;  // fd -> its partial line
    if (control_fd_ >= 0) readers[control_fd_];
    std::vector<pollfd> fds;
    char buf[4096];
    for (;;) {
        fds.clear();
        if (server_) fds.push_back({server_->listen_fd(), POLLIN, 0});
        for (auto& [fd, splitter] : readers) fds.push_back({fd, POLLIN, 0});
        if (fds.empty()) return;  // stdin closed and no socket: only the idle timeout is left
        if (poll(fds.data(), fds.size(), -1) < 0) {
            if (errno == EINTR) continue;
            return;
        }
        for (const auto& p : fds) {
            if (!p.revents) continue;
            if (server_ && p.fd == server_->listen_fd()) {
                int client = accept4(p.fd, nullptr, nullptr, SOCK_CLOEXEC);
                if (client >= 0 && server_->add_client(client, hello_line_)) {
                    readers[client];
                    // A new client counts as contact: it is about to send its commands.
                    last_command_ms_ = now_ms();
                }
                continue;
            }
            ssize_t n = read(p.fd, buf, sizeof buf);
            if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
            if (n <= 0) {
                // End of input is not a stop: `kubectl attach` drops and re-attaches. The idle
                // timeout ends a tracer nobody talks to.
                readers.erase(p.fd);
                if (server_) server_->remove_client(p.fd);
                continue;
            }
            for (const auto& line : readers[p.fd].feed(std::string_view(buf, static_cast<std::size_t>(n))))
                on_line(line);
        }
    }
}

}  // namespace ksc::tracer
