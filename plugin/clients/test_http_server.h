// For tests only: a tiny plain-HTTP server on 127.0.0.1 that hands each request to a handler on
// its own thread, one request per connection. Enough to pin the client's retries, Status
// messages, watch reconnects and the WebSocket handshake without a cluster.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace ksc::testing {

struct HttpRequest {
    std::string method;
    std::string target;                          // path and query
    std::map<std::string, std::string> headers;  // names lower-cased
    std::string body;
};

inline bool send_all(int fd, const std::string& data) {
    std::size_t off = 0;
    while (off < data.size()) {
        ssize_t n = ::send(fd, data.data() + off, data.size() - off, MSG_NOSIGNAL);
        if (n <= 0) return false;
        off += static_cast<std::size_t>(n);
    }
    return true;
}

inline std::string http_response(int status, const std::string& body, const std::string& extra_headers = "") {
    return "HTTP/1.1 " + std::to_string(status) +
           " X\r\nContent-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) +
           "\r\nConnection: close\r\n" + extra_headers + "\r\n" + body;
}

class TestHttpServer {
  public:
    // The handler gets the connection (to write anything, or keep it for a WebSocket) and the
    // request; the connection is closed when it returns.
    using Handler = std::function<void(int fd, const HttpRequest&)>;

    explicit TestHttpServer(Handler handler) : handler_(std::move(handler)) {
        listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        sockaddr_in addr{};
        addr.sin_family = AF_INET;
        addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        ::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
        ::listen(listen_fd_, 16);
        socklen_t len = sizeof addr;
        ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
        port_ = ntohs(addr.sin_port);
        thread_ = std::thread([this] { serve(); });
    }
    ~TestHttpServer() {
        stop_ = true;
        thread_.join();
        for (auto& t : workers_) t.join();
        ::close(listen_fd_);
    }

    std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
    int requests() const { return requests_; }

  private:
    void serve() {
        while (!stop_) {
            pollfd p{listen_fd_, POLLIN, 0};
            if (::poll(&p, 1, 50) <= 0) continue;
            int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
            if (fd < 0) continue;
            std::lock_guard lock(mutex_);
            workers_.emplace_back([this, fd] {
                HttpRequest req;
                if (read_request(fd, req)) {
                    ++requests_;
                    handler_(fd, req);
                }
                ::close(fd);
            });
        }
    }

    static bool read_request(int fd, HttpRequest& req) {
        std::string data;
        char buf[4096];
        std::size_t header_end;
        while ((header_end = data.find("\r\n\r\n")) == std::string::npos) {
            ssize_t n = ::recv(fd, buf, sizeof buf, 0);
            if (n <= 0) return false;
            data.append(buf, static_cast<std::size_t>(n));
        }
        std::string head = data.substr(0, header_end);
        std::string rest = data.substr(header_end + 4);
        auto line_end = head.find("\r\n");
        std::string first = head.substr(0, line_end);
        auto sp1 = first.find(' ');
        auto sp2 = first.find(' ', sp1 + 1);
        req.method = first.substr(0, sp1);
        req.target = first.substr(sp1 + 1, sp2 - sp1 - 1);
        std::size_t pos = line_end + 2;
        while (pos < head.size() && line_end != std::string::npos) {
            auto end = head.find("\r\n", pos);
            std::string line = head.substr(pos, end == std::string::npos ? std::string::npos : end - pos);
            auto colon = line.find(':');
            if (colon != std::string::npos) {
                std::string name = line.substr(0, colon);
                for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
                std::string value = line.substr(colon + 1);
                while (!value.empty() && value.front() == ' ') value.erase(0, 1);
                req.headers[name] = value;
            }
            if (end == std::string::npos) break;
            pos = end + 2;
        }
        std::size_t length =
            req.headers.count("content-length") ? std::stoul(req.headers["content-length"]) : 0;
        while (rest.size() < length) {
            ssize_t n = ::recv(fd, buf, sizeof buf, 0);
            if (n <= 0) return false;
            rest.append(buf, static_cast<std::size_t>(n));
        }
        req.body = rest;
        return true;
    }

    Handler handler_;
    int listen_fd_ = -1;
    int port_ = 0;
    std::atomic<bool> stop_{false};
    std::atomic<int> requests_{0};
    std::thread thread_;
    std::mutex mutex_;
    std::vector<std::thread> workers_;
};

}  // namespace ksc::testing
