#include "output.h"

#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>

namespace ksc::tracer {

namespace {

Result<int> parse_fd(const std::string& spec) {
    std::string digits = spec.substr(3);
    if (digits.empty() || digits.size() > 6 || digits.find_first_not_of("0123456789") != std::string::npos)
        return make_error("bad fd in '" + spec + "': use fd:N");
    int fd = std::stoi(digits);
    if (fcntl(fd, F_GETFD) < 0) return make_error("'" + spec + "': fd " + digits + " is not open");
    return fd;
}

}  // namespace

Output::~Output() {
    bool idle = flush(kExitFlushTimeout);
    {
        std::lock_guard lock(mutex_);
        closing_ = true;
    }
    wake_.notify_all();
    // A writer still blocked on a reader that never reads again is left to the process's exit
    // (main() leaves with _exit() then, before this).
    if (writer_.joinable()) {
        if (idle)
            writer_.join();
        else
            writer_.detach();
    }
    if (listen_) {
        listen_.reset();
        unlink(socket_path_.c_str());
    }
}

Status Output::open(const std::string& spec, bool cloexec) {
    if (spec.empty() || spec == "-") {
        fds_.push_back(STDOUT_FILENO);
        start_writer();
        return Ok{};
    }
    if (spec.starts_with("fd:")) {
        auto fd = parse_fd(spec);
        if (!fd) return fd.error();
        if (cloexec && *fd > 2) fcntl(*fd, F_SETFD, FD_CLOEXEC);
        fds_.push_back(*fd);
        start_writer();
        return Ok{};
    }
    if (spec.starts_with("unix:")) {
        socket_path_ = spec.substr(5);
        sockaddr_un addr{};
        addr.sun_family = AF_UNIX;
        if (socket_path_.empty() || socket_path_.size() >= sizeof addr.sun_path)
            return make_error("bad socket path in '" + spec + "': use unix:PATH (at most 107 bytes)");
        std::memcpy(addr.sun_path, socket_path_.data(), socket_path_.size());
        UniqueFd fd(socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
        if (!fd) return make_error(std::string("cannot create a unix socket: ") + std::strerror(errno));
        unlink(socket_path_.c_str());  // a stale socket from an earlier run
        if (bind(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) < 0 || listen(fd.get(), 4) < 0)
            return make_error("cannot listen on " + socket_path_ + ": " + std::strerror(errno) +
                              " (is the directory writable?)");
        listen_ = std::move(fd);
        return Ok{};
    }
    file_.reset(
        ::open(spec.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | (cloexec ? O_CLOEXEC : 0), 0644));
    if (!file_) return make_error("cannot open " + spec + " for the stream: " + std::strerror(errno));
    fds_.push_back(file_.get());
    return Ok{};
}

bool Output::add_client(int fd, const std::string& first_line) {
    std::lock_guard lock(mutex_);
    std::string line = first_line + "\n";
    if (!write_all(fd, line.data(), line.size(), true)) {
        close(fd);
        return false;
    }
    fds_.push_back(fd);
    return true;
}

void Output::remove_client(int fd) {
    std::lock_guard lock(mutex_);
    auto it = std::find(fds_.begin(), fds_.end(), fd);
    if (it != fds_.end()) fds_.erase(it);
    close(fd);
}

bool Output::write_all(int fd, const char* data, std::size_t size, bool socket) {
    while (size > 0) {
        // A socket client that stops reading is dropped rather than allowed to stall the tracer
        // (and with it the traced app): MSG_DONTWAIT. MSG_NOSIGNAL: its going away is no SIGPIPE.
        ssize_t n = socket ? send(fd, data, size, MSG_DONTWAIT | MSG_NOSIGNAL) : write(fd, data, size);
        if (n < 0) {
            if (errno == EINTR) continue;
            return false;
        }
        data += n;
        size -= static_cast<std::size_t>(n);
    }
    return true;
}

void Output::start_writer() {
    // A regular file never blocks: written at once. Anything else (a pipe, a terminal, a socket
    // passed as an fd) may, as long as its reader does not read: through the writer thread.
    struct stat st {};
    if (fstat(fds_.back(), &st) == 0 && S_ISREG(st.st_mode)) return;
    async_ = true;
    if (const char* env = std::getenv("SECCOMP_TRACER_QUEUE_BYTES")) {
        char* end = nullptr;
        unsigned long long n = std::strtoull(env, &end, 10);
        if (end != env && *end == '\0' && n >= 1024 && n <= kMaxQueuedBytes) max_queued_bytes_ = n;
    }
    // With every signal blocked, so that process-directed signals (the ticker's SIGALRM, SIGTERM)
    // reach the main thread and interrupt its waitpid, and a reader gone is EPIPE, not SIGPIPE.
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, &old);
    writer_ = std::thread([this] { writer_loop(); });
    pthread_sigmask(SIG_SETMASK, &old, nullptr);
}

void Output::writer_loop() {
    std::unique_lock lock(mutex_);
    for (;;) {
        wake_.wait(lock, [&] { return !queue_.empty() || closing_; });
        if (queue_.empty()) return;  // closing, and all written
        std::string line = std::move(queue_.front());
        queue_.pop_front();
        queued_bytes_ -= line.size();
        writing_ = true;
        // Once the reader reads again: say how many lines it missed, after those it has.
        std::string note;
        if (dropped_ > 0 && queue_.empty()) {
            stream::Message m{
                false,
                std::to_string(dropped_) +
                    " stream lines were dropped while the reader did not read (the summary holds "
                    "every syscall)",
                "stream-dropped"};
            note = stream::encode(m) + "\n";
            dropped_ = 0;
        }
        int fd = fds_.empty() ? -1 : fds_.front();
        lock.unlock();
        bool ok = fd >= 0 && write_all(fd, line.data(), line.size(), false) &&
                  (note.empty() || write_all(fd, note.data(), note.size(), false));
        lock.lock();
        writing_ = false;
        if (!ok) {
            broken_.store(true, std::memory_order_relaxed);
            queue_.clear();
            queued_bytes_ = 0;
        }
        if (queue_.empty()) drained_.notify_all();
        if (!ok) {
            // Nothing more can be written; lines queued later are discarded by write_line.
            return;
        }
    }
}

bool Output::flush(std::chrono::milliseconds timeout) {
    std::unique_lock lock(mutex_);
    if (!async_) return true;
    return drained_.wait_for(lock, timeout, [&] { return (queue_.empty() && !writing_) || broken(); });
}

void Output::write_line(std::string line, bool keep) {
    line.push_back('\n');
    std::lock_guard lock(mutex_);
    if (async_) {
        if (broken()) return;
        if (!keep && queued_bytes_ + line.size() > max_queued_bytes_) {
            ++dropped_;
            dropped_total_.fetch_add(1, std::memory_order_relaxed);
            return;
        }
        queued_bytes_ += line.size();
        queue_.push_back(std::move(line));
        wake_.notify_one();
        return;
    }
    for (std::size_t i = 0; i < fds_.size();) {
        if (write_all(fds_[i], line.data(), line.size(), serving())) {
            ++i;
            continue;
        }
        if (!serving()) {
            broken_ = true;
            return;
        }
        // A socket client that went away or stalled: shut it down so that the control thread,
        // which owns its fd, notices and closes it.
        shutdown(fds_[i], SHUT_RDWR);
        fds_.erase(fds_.begin() + static_cast<std::ptrdiff_t>(i));
    }
}

}  // namespace ksc::tracer
